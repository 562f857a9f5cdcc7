// isthmus-ctl: the operator's one-shot CLI to a running isthmus-dataplane.
//
//   isthmus-ctl [--region NAME] status             what the dpif region says about the dataplane
//   isthmus-ctl [--region NAME] ping               a command round trip through the rings
//   isthmus-ctl [--region NAME] counters           the counters the dataplane publishes
//   isthmus-ctl [--region NAME] session add OPTS   create a relay session (SessionCreate)
//   isthmus-ctl [--region NAME] session delete ID  remove one (SessionDelete)
//   isthmus-ctl [--region NAME] session list       every session the dataplane holds
//   isthmus-ctl [--region NAME] session show ID    one session (SessionQuery)
//   isthmus-ctl log-level DAEMON [LEVEL] [--name SHM]  a daemon's log level (log_level.cpp)
//
// Output is key=value lines on stdout. Exit status: 0 done, 1 the dataplane
// is not there, did not answer, or refused (stderr: "error: <result> <detail>"),
// 2 usage error. The session options are parsed in session_args.cpp.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ctl/capture.hpp"
#include "ctl/log_level.hpp"
#include "ctl/session_args.hpp"
#include "isthmus/dpif/client.hpp"

namespace {

constexpr const char* kUsage =
    "usage: isthmus-ctl [--region NAME] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  status               state, pid, generation and heartbeat of the dataplane, ring depths\n"
    "  ping                 send a Ping through the command ring and wait for the Pong\n"
    "  counters             the dataplane's counters (per port: frames, drops by reason)\n"
    "  session add OPTIONS  create a relay session (options below); prints its id, worker\n"
    "                       and bound addresses\n"
    "  session delete ID    delete session ID\n"
    "  session list         every session, one line each (none: no lines)\n"
    "  session show ID      session ID: worker, addresses, packets relayed and dropped\n"
    "  capture -w FILE [--port access|core|both] [--session ID] [--count N] [--seconds N]\n"
    "          [--snaplen N]   frames of the ports (both by default), or of session ID only,\n"
    "                       into a pcapng file (- : standard output) until N frames, N\n"
    "                       seconds or Ctrl-C: frames as received (before decryption) and as\n"
    "                       sent (after encryption or decryption), interfaces \"access\" and\n"
    "                       \"core\", direction in each frame's flags; up to 2016 bytes a frame\n"
    "  log-level DAEMON [LEVEL] [--name SHM]\n"
    "                       the log level and line counters of isthmus-DAEMON (dataplane,\n"
    "                       pcscf or wwsf); with LEVEL (error, warning, notice, info, debug)\n"
    "                       set it first. SHM: the daemon's log_control (default\n"
    "                       /isthmus-DAEMON-log); 1: no such object or daemon not running\n"
    "\n"
    "session add OPTIONS (EP: ADDR:PORT, IPv6 as [ADDR]:PORT; KEY: \"SUITE inline:BASE64\"\n"
    "with BASE64 the master key and salt, RFC 4568):\n"
    "  --id N                  session id, a non-zero number (required)\n"
    "  --access-local EP       the gateway's RTP address on the access (WebRTC) leg (required)\n"
    "  --access-remote EP      the browser's RTP address (default: learned from the first\n"
    "                          authenticated packet)\n"
    "  --access-rtcp-mux       RTP and RTCP on one port (RFC 5761)\n"
    "  --access-rtcp-local EP  RTCP address without rtcp-mux (default: local port + 1)\n"
    "  --access-rtcp-remote EP (default: remote port + 1 when --access-remote is given)\n"
    "  --access-rx-key KEY     SRTP key of packets from the browser (required)\n"
    "  --access-tx-key KEY     SRTP key of packets to the browser (required)\n"
    "  --access-ice-ufrag U --access-ice-pwd P   ICE-lite on the access leg: checks answered,\n"
    "                          the remote is what the browser nominates (not learned from media)\n"
    "  --access-remote-ufrag U the browser's ufrag (checks must say U_local:U)\n"
    "  --access-dtls ROLE --access-fingerprint FP   DTLS-SRTP on the access leg instead of\n"
    "                          SDES keys (needs ICE): ROLE active|passive (our a=setup), FP the\n"
    "                          browser's SHA-256 a=fingerprint (AB:CD:...)\n"
    "  --core-local EP         the gateway's RTP address on the core (IMS) leg (required)\n"
    "  --core-remote EP        the IMS media address (required)\n"
    "  --core-rtcp-mux, --core-rtcp-local EP, --core-rtcp-remote EP   as on the access leg\n"
    "  --core-rx-key KEY, --core-tx-key KEY   both: SRTP; neither: plain RTP\n"
    "  --access-police-kbps N, --core-police-kbps N   police what that leg sends us: N kb/s of\n"
    "                          IP packets (8..10000000), the dataplane's police_burst_ms of\n"
    "                          burst; beyond it dropped (drop_policed). Default: not policed\n"
    "  --access-datachannel    a data channel's session (issue 9): the access leg carries\n"
    "                          SCTP in its DTLS (needs --access-dtls, --access-fingerprint and\n"
    "                          ICE; one port), no --core-* options (with them: SRTP media\n"
    "                          to that core leg and the data channel on one DTLS, a BUNDLE\n"
    "                          transport's DtlsSrtpSctp leg); with --sctp-port N,\n"
    "                          --remote-sctp-port N (a=sctp-port, default 5000),\n"
    "                          --max-message-size N, --peer-max-message-size N (RFC 8841)\n"
    "                          and its MSRP chat toward the IMS with --msrp-setup\n"
    "                          passive|active, --msrp-local ADDR:PORT (our TCP address),\n"
    "                          --msrp-remote ADDR:PORT (active: the UE's), --msrp-session-id\n"
    "                          SID (our URIs'), --msrp-browser-path URI, --msrp-ue-path URI\n"
    "                          (their a=path), --msrp-channel N (a=dcmap; default: the first\n"
    "                          channel with protocol MSRP)\n"
    "  --bundle-transport ID --bundle-pts PT,PT,...   BUNDLE (RFC 8843): this m= line shares\n"
    "                          the access transport of session ID (its own id: it is that\n"
    "                          transport) and its RTP from the browser has these payload\n"
    "                          types (none: \"none\"); a session bundled on another has no\n"
    "                          --access-* options but --access-police-kbps\n"
    "                          (create the transport first, on the same worker)\n"
    "  SUITE: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80,\n"
    "         AES_256_CM_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM (no MKI)\n"
    "\n"
    "  --region NAME   dpif shared-memory region (default /isthmus-dpif)\n"
    "  --help          this text\n"
    "\n"
    "Exit status: 0 done; 1 the dataplane is not running, did not answer or refused\n"
    "(\"error: <result> <detail>\" on stderr); 2 usage error.\n";

// How long a command waits for its Result. A session list streams one
// SessionInfo per session before it, so it gets longer.
constexpr std::chrono::seconds kAnswerTimeout{2};
constexpr std::chrono::seconds kListTimeout{10};

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
        "commands_queued=%u events_queued=%u client_pid=%u capture=%s capture_owner_pid=%u "
        "dtls_fingerprint=%s\n",
        region_name.c_str(), state_name(h.state.load()), h.dataplane_pid.load(),
        static_cast<unsigned long long>(h.dataplane_generation.load()),
        static_cast<unsigned long long>(now > beat ? (now - beat) / 1000000ULL : 0),
        region->commands.size(), region->events.size(), h.client_pid.load(),
        (region->capture.control.seq.load() & 1U) != 0 ? "on" : "off",
        region->capture.control.owner_pid.load(),
        h.dtls_fingerprint[0] != 0
            ? std::string(h.dtls_fingerprint,
                          strnlen(h.dtls_fingerprint, sizeof h.dtls_fingerprint))
                  .c_str()
            : "none");
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

int no_answer(std::chrono::seconds waited) {
    std::fprintf(stderr, "isthmus-ctl: no answer from the dataplane within %lld s\n",
                 static_cast<long long>(waited.count()));
    return 1;
}

// A Result other than Ok: "error: <result_name> <detail>".
int refused(const isthmus::dpif::Event& ev) {
    std::fprintf(stderr, "error: %s\n", isthmus::ctl::format_result_error(ev).c_str());
    return 1;
}

int session_usage_error(const std::string& what) {
    std::fprintf(stderr, "isthmus-ctl: %s\n(isthmus-ctl --help lists the commands and options)\n",
                 what.c_str());
    return 2;
}

int session_add(const std::string& region_name, const isthmus::dpif::Command& cmd) {
    isthmus::dpif::Client client(region_name, monotonic_ns());
    const auto ev = client.call(cmd, kAnswerTimeout);
    if (!ev) return no_answer(kAnswerTimeout);
    if (ev->result != isthmus::dpif::ResultCode::Ok) return refused(*ev);
    std::printf("%s\n", isthmus::ctl::format_session_created(*ev).c_str());
    return 0;
}

int session_delete(const std::string& region_name, uint64_t id) {
    isthmus::dpif::Client client(region_name, monotonic_ns());
    isthmus::dpif::Command cmd{};
    cmd.hdr.type = isthmus::dpif::MsgType::SessionDelete;
    cmd.hdr.session_id = id;
    const auto ev = client.call(cmd, kAnswerTimeout);
    if (!ev) return no_answer(kAnswerTimeout);
    if (ev->result != isthmus::dpif::ResultCode::Ok) return refused(*ev);
    std::printf("id=%llu result=ok\n", static_cast<unsigned long long>(id));
    return 0;
}

// SessionQuery: `id` 0 asks for every session. The dataplane answers one
// SessionInfo per session, then the Result; the SessionInfo events reach us
// through call()'s on_other. Ours are those of this Client's generation (a
// fresh one per run) with result Ok, so a resync report (StaleGeneration) or
// a late answer to an earlier client is not printed.
int session_query(const std::string& region_name, uint64_t id) {
    isthmus::dpif::Client client(region_name, monotonic_ns());
    isthmus::dpif::Command cmd{};
    cmd.hdr.type = isthmus::dpif::MsgType::SessionQuery;
    cmd.hdr.session_id = id;
    const uint64_t generation = client.generation();
    std::vector<isthmus::dpif::Event> infos;
    const auto timeout = id == 0 ? kListTimeout : kAnswerTimeout;
    const auto ev = client.call(cmd, timeout, [&](const isthmus::dpif::Event& e) {
        if (e.hdr.type == isthmus::dpif::MsgType::SessionInfo && e.hdr.generation == generation &&
            e.result == isthmus::dpif::ResultCode::Ok && (id == 0 || e.hdr.session_id == id)) {
            infos.push_back(e);
        }
    });
    if (!ev) return no_answer(timeout);
    if (ev->result != isthmus::dpif::ResultCode::Ok) return refused(*ev);
    for (const isthmus::dpif::Event& info : infos) {
        std::printf("%s\n", isthmus::ctl::format_session_info(info).c_str());
    }
    if (id != 0 && infos.empty()) {
        std::fprintf(stderr, "error: the dataplane answered ok but sent no SessionInfo for %llu\n",
                     static_cast<unsigned long long>(id));
        return 1;
    }
    return 0;
}

// "session add|delete|list|show ...": usage errors (exit 2) are found before
// the region is attached.
int session(const std::string& region_name, const std::vector<std::string>& args) {
    if (args.empty()) return session_usage_error("session: give add, delete, list or show");
    const std::string& verb = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    std::string error;
    if (verb == "add") {
        isthmus::dpif::Command cmd{};
        if (!isthmus::ctl::parse_session_add(rest, cmd, error)) {
            return session_usage_error("session add: " + error);
        }
        return session_add(region_name, cmd);
    }
    if (verb == "list") {
        if (!rest.empty()) return session_usage_error("session list: unexpected '" + rest[0] + "'");
        return session_query(region_name, 0);
    }
    if (verb == "delete" || verb == "show") {
        if (rest.size() != 1)
            return session_usage_error("session " + verb + ": give one session ID");
        uint64_t id = 0;
        if (!isthmus::ctl::parse_session_id(rest[0], id, error)) {
            return session_usage_error("session " + verb + ": " + error);
        }
        return verb == "delete" ? session_delete(region_name, id) : session_query(region_name, id);
    }
    return session_usage_error("session: unknown subcommand '" + verb +
                               "' (add, delete, list or show)");
}

}  // namespace

int main(int argc, char** argv) {
    std::string region = isthmus::dpif::kDefaultRegionName;
    // The command and its arguments. --region and --help may stand anywhere:
    // no option value starts with "--".
    std::vector<std::string> words;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--region") {
            if (i + 1 == argc) {
                std::fprintf(stderr, "isthmus-ctl: --region needs a value\n\n%s", kUsage);
                return 2;
            }
            region = argv[++i];
        } else if (words.empty() && a[0] == '-') {
            std::fprintf(stderr, "isthmus-ctl: unexpected argument '%s'\n\n%s", a.c_str(), kUsage);
            return 2;
        } else {
            words.push_back(a);
        }
    }
    const std::string command = words.empty() ? std::string() : words[0];
    const std::vector<std::string> args(words.empty() ? words.end() : words.begin() + 1,
                                        words.end());
    const bool known =
        command == "status" || command == "ping" || command == "counters" || command == "session";
    if (known && command != "session" && !args.empty()) {
        std::fprintf(stderr, "isthmus-ctl: unexpected argument '%s'\n\n%s", args[0].c_str(),
                     kUsage);
        return 2;
    }
    try {
        if (command == "status") return status(region);
        if (command == "ping") return ping(region);
        if (command == "counters") return counters(region);
        if (command == "session") return session(region, args);
        if (command == "capture") {
            isthmus::ctl::CaptureOptions opt;
            std::string error;
            if (!isthmus::ctl::parse_capture_args(args, opt, error))
                return session_usage_error("capture: " + error);
            return isthmus::ctl::run_capture(region, opt);
        }
        if (command == "log-level") return isthmus::ctl::log_level_command(args);
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
