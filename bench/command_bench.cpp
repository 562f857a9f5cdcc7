// Session programming rate (issue 4: "200k session commands per second
// through the rings").
//
//   build/bench/command_bench [--sessions N] [--dataplane build/dataplane/isthmus-dataplane]
//
// 1. table: SessionTable::create / remove on this thread (what a worker does
//    per command: validation, two SRTP key derivations for an SDES access
//    leg, flow inserts), SDES->RTP sessions and RTP->RTP sessions.
// 2. rings: the whole path — a dpif Client pipelines SessionCreate commands
//    into a running isthmus-dataplane (started here on net_null ports, the
//    worker on its own lcore), the main lcore routes them to the worker, the
//    worker answers; then the same for SessionDelete. Commands per second
//    counts answered commands (all must be Ok).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "isthmus/dpif/client.hpp"
#include "session/session_table.hpp"
#include "srtp/suite.hpp"

namespace {

pid_t g_child = 0;  // the dataplane this bench started, stopped on any exit
void fail_exit() {
    if (g_child > 0) kill(g_child, SIGKILL);
    std::exit(1);
}

using isthmus::dpif::Command;
using isthmus::dpif::Event;
using isthmus::dpif::MsgType;
using isthmus::dpif::ResultCode;

double now_s() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

isthmus::dpif::IpEndpoint ep(uint8_t last, uint16_t port) {
    isthmus::dpif::IpEndpoint e{};
    e.family = 4;
    e.port = port;
    const uint8_t a[4] = {198, 18, 0, last};
    std::memcpy(e.addr, a, 4);
    return e;
}

isthmus::dpif::SrtpKeys keys(uint8_t seed) {
    isthmus::dpif::SrtpKeys k{};
    k.suite = 0;
    k.key_len = 16;
    k.salt_len = 14;
    for (int i = 0; i < 16; ++i)
        k.master_key[i] = static_cast<uint8_t>(seed + i);
    for (int i = 0; i < 14; ++i)
        k.master_salt[i] = static_cast<uint8_t>(seed * 3 + i);
    return k;
}

// Session i: local ports spread over 2..65535 and the two gateway addresses
// (enough distinct endpoints for 500k sessions).
Command create(uint64_t i, bool sdes) {
    Command c{};
    c.hdr.version = isthmus::dpif::kAbiVersion;
    c.hdr.type = MsgType::SessionCreate;
    c.hdr.session_id = i + 1;
    c.hdr.generation = 1;
    const auto port = static_cast<uint16_t>(2 + (i % 32000) * 2);
    const auto host = static_cast<uint8_t>(2 + i / 32000);
    c.access.local = ep(host, port);
    c.access.remote = ep(200, 5000);
    c.access.rtcp_mux = 1;
    c.access.security = sdes ? isthmus::dpif::LegSecurity::Sdes : isthmus::dpif::LegSecurity::Rtp;
    if (sdes) {
        c.access.rx = keys(static_cast<uint8_t>(i));
        c.access.tx = keys(static_cast<uint8_t>(i + 1));
    }
    c.core.local = ep(static_cast<uint8_t>(host + 100), port);
    c.core.remote = ep(201, 6000);
    c.core.rtcp_mux = 1;
    return c;
}

void table_rate(uint32_t n, bool sdes) {
    isthmus::srtp::Engine engine;
    isthmus::session::SessionTable t(engine, {n, 0});
    std::vector<Command> cmds;
    cmds.reserve(n);
    for (uint32_t i = 0; i < n; ++i)
        cmds.push_back(create(i, sdes));
    std::string why;
    double t0 = now_s();
    for (const Command& c : cmds) {
        if (t.create(c, why) != ResultCode::Ok) {
            std::fprintf(stderr, "create failed: %s\n", why.c_str());
            std::exit(1);
        }
    }
    const double create_s = now_s() - t0;
    t0 = now_s();
    for (const Command& c : cmds)
        t.remove(c.hdr.session_id);
    const double remove_s = now_s() - t0;
    std::printf("table  %-9s sessions=%-8u create=%9.0f/s (%.2f us)  delete=%9.0f/s (%.2f us)\n",
                sdes ? "sdes->rtp" : "rtp->rtp", n, n / create_s, create_s * 1e6 / n, n / remove_s,
                remove_s * 1e6 / n);
}

// Pipelines `cmds` through the client; returns seconds until every answer
// arrived. Exits on a failed answer.
double pump(isthmus::dpif::Client& client, std::vector<Command>& cmds) {
    std::size_t sent = 0, answered = 0;
    Event evs[256];
    const double t0 = now_s();
    const double deadline = t0 + 120;
    while (answered < cmds.size()) {
        while (sent < cmds.size() && client.send(cmds[sent]))
            ++sent;
        const std::size_t k = client.poll(std::span(evs));
        for (std::size_t i = 0; i < k; ++i) {
            if (evs[i].hdr.type != MsgType::Result) continue;
            if (evs[i].result != ResultCode::Ok) {
                std::fprintf(stderr, "command %llu: %s %s\n",
                             static_cast<unsigned long long>(evs[i].hdr.session_id),
                             std::string(isthmus::dpif::result_name(evs[i].result)).c_str(),
                             evs[i].detail);
                fail_exit();
            }
            ++answered;
        }
        if (now_s() > deadline) {
            std::fprintf(stderr, "timed out: %zu of %zu answered\n", answered, cmds.size());
            fail_exit();
        }
    }
    return now_s() - t0;
}

void rings_rate(const std::string& dataplane, uint32_t n, bool sdes) {
    const std::string region = "/isthmus-cmdbench-" + std::to_string(getpid());
    const std::string cfg = "/tmp/isthmus-cmdbench-" + std::to_string(getpid()) + ".toml";
    {
        std::ofstream f(cfg);
        f << "[dataplane]\nregion = \"" << region << "\"\n"
          << "eal = [\"-l\", \"0,1\", \"--no-huge\", \"--no-pci\", \"-m\", \"2048\", "
             "\"--no-shconf\", \"--no-telemetry\", \"--log-level\", \"lib.eal:error\", "
             "\"--file-prefix\", \"cmdbench"
          << getpid() << "\"]\nsessions_per_worker = " << n << "\n";
    }
    const pid_t pid = fork();
    if (pid == 0) {
        const int devnull = ::open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(dataplane.c_str(), dataplane.c_str(), "--config", cfg.c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    g_child = pid;
    std::unique_ptr<isthmus::dpif::Client> client;
    for (int i = 0; i < 200 && !client; ++i) {
        try {
            client = std::make_unique<isthmus::dpif::Client>(region,
                                                             static_cast<uint64_t>(now_s() * 1e9));
            if (client->dataplane_state() != isthmus::dpif::DataplaneState::Running) client.reset();
        } catch (const std::exception&) {
        }
        if (!client) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!client) {
        std::fprintf(stderr, "the dataplane did not come up (%s)\n", dataplane.c_str());
        fail_exit();
    }
    std::vector<Command> creates, deletes;
    for (uint32_t i = 0; i < n; ++i) {
        creates.push_back(create(i, sdes));
        Command d{};
        d.hdr.type = MsgType::SessionDelete;
        d.hdr.session_id = i + 1;
        deletes.push_back(d);
    }
    const double c_s = pump(*client, creates);
    const double d_s = pump(*client, deletes);
    std::printf("rings  %-9s sessions=%-8u create=%9.0f/s (%.2f us)  delete=%9.0f/s (%.2f us)\n",
                sdes ? "sdes->rtp" : "rtp->rtp", n, n / c_s, c_s * 1e6 / n, n / d_s, d_s * 1e6 / n);
    client.reset();
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    g_child = 0;
    std::remove(cfg.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    uint32_t n = 100000;
    std::string dataplane = "build/dataplane/isthmus-dataplane";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--sessions" && i + 1 < argc) {
            n = static_cast<uint32_t>(std::stoul(argv[++i]));
        } else if (a == "--dataplane" && i + 1 < argc) {
            dataplane = argv[++i];
        } else {
            std::fprintf(stderr, "usage: command_bench [--sessions N] [--dataplane PATH]\n");
            return 2;
        }
    }
    if (n == 0 || n > 500000) {
        std::fprintf(stderr, "--sessions: 1..500000\n");
        return 2;
    }
    table_rate(n, true);
    table_rate(n, false);
    rings_rate(dataplane, n, true);
    rings_rate(dataplane, n, false);
    return 0;
}
