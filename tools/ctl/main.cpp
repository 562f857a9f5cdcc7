// isthmus-ctl: the operator's one-shot CLI to a running isthmus-dataplane.
//
//   isthmus-ctl [--region NAME] status   what the dpif region says about the dataplane
//   isthmus-ctl [--region NAME] ping     a command round trip through the rings
//   isthmus-ctl [--region NAME] counters the counters the dataplane publishes
//
// Exit status: 0 done, 1 the dataplane is not there or did not answer,
// 2 usage error. Sessions and counters arrive with the dataplane (issue 4).
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "isthmus/dpif/client.hpp"

namespace {

constexpr const char* kUsage =
    "usage: isthmus-ctl [--region NAME] COMMAND\n"
    "\n"
    "Commands:\n"
    "  status   state, pid, generation and heartbeat of the dataplane, ring depths\n"
    "  ping     send a Ping through the command ring and wait for the Pong\n"
    "  counters the dataplane's counters (per port: frames, drops by reason)\n"
    "\n"
    "  --region NAME   dpif shared-memory region (default /isthmus-dpif)\n"
    "  --help          this text\n";

const char* state_name(uint32_t s) {
    switch (static_cast<isthmus::dpif::DataplaneState>(s)) {
        case isthmus::dpif::DataplaneState::Starting:
            return "starting";
        case isthmus::dpif::DataplaneState::Running:
            return "running";
        case isthmus::dpif::DataplaneState::Stopped:
            return "stopped";
    }
    return "unknown";
}

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

int status(const std::string& region_name) {
    const isthmus::dpif::SharedRegion region = isthmus::dpif::SharedRegion::attach(region_name);
    const isthmus::dpif::RegionHeader& h = region->header;
    const uint64_t beat = h.heartbeat_ns.load();
    const uint64_t now = monotonic_ns();
    std::printf(
        "region=%s state=%s pid=%u generation=%llu heartbeat_age_ms=%llu "
        "commands_queued=%u events_queued=%u client_pid=%u\n",
        region_name.c_str(), state_name(h.state.load()), h.dataplane_pid.load(),
        static_cast<unsigned long long>(h.dataplane_generation.load()),
        static_cast<unsigned long long>(now > beat ? (now - beat) / 1000000ULL : 0),
        region->commands.size(), region->events.size(), h.client_pid.load());
    return 0;
}

int counters(const std::string& region_name) {
    const isthmus::dpif::SharedRegion region = isthmus::dpif::SharedRegion::attach(region_name);
    const isthmus::dpif::StatsArea& st = region->stats;
    const uint32_t blocks = std::min(st.blocks.load(), isthmus::dpif::kMaxStatBlocks);
    for (uint32_t b = 0; b < blocks; ++b) {
        const isthmus::dpif::StatBlock& blk = st.block[b];
        std::printf("%.*s=%.*s", static_cast<int>(sizeof blk.kind), blk.kind,
                    static_cast<int>(sizeof blk.name), blk.name);
        const uint32_t n = std::min(blk.counters, isthmus::dpif::kMaxStatCounters);
        for (uint32_t c = 0; c < n; ++c) {
            std::printf(" %.*s=%llu", static_cast<int>(sizeof blk.counter[c].name),
                        blk.counter[c].name,
                        static_cast<unsigned long long>(isthmus::dpif::stat_load(blk.counter[c])));
        }
        std::printf("\n");
    }
    if (blocks == 0) std::printf("no counters published (no ports configured)\n");
    return 0;
}

int ping(const std::string& region_name) {
    isthmus::dpif::Client client(region_name, monotonic_ns());
    isthmus::dpif::Command cmd{};
    cmd.hdr.type = isthmus::dpif::MsgType::Ping;
    const auto t0 = std::chrono::steady_clock::now();
    const auto ev = client.call(cmd, std::chrono::seconds(2));
    if (!ev) {
        std::fprintf(stderr, "isthmus-ctl: no answer from the dataplane within 2 s\n");
        return 1;
    }
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    std::printf("pong from generation %llu in %lld us\n",
                static_cast<unsigned long long>(client.dataplane_generation()),
                static_cast<long long>(us));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string region = isthmus::dpif::kDefaultRegionName;
    std::string command;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--region" && i + 1 < argc) {
            region = argv[++i];
        } else if (command.empty() && a[0] != '-') {
            command = a;
        } else {
            std::fprintf(stderr, "isthmus-ctl: unexpected argument '%s'\n\n%s", a.c_str(), kUsage);
            return 2;
        }
    }
    try {
        if (command == "status") return status(region);
        if (command == "ping") return ping(region);
        if (command == "counters") return counters(region);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "isthmus-ctl: %s\n", e.what());
        return 1;
    }
    std::fprintf(
        stderr, "isthmus-ctl: %s\n\n%s",
        command.empty() ? "no command given" : ("unknown command '" + command + "'").c_str(),
        kUsage);
    return 2;
}
