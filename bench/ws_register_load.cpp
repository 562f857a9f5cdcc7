// ws-register-load: REGISTER transactions per second over SIP over
// WebSocket (RFC 7118), through a proxy (our P-CSCF, or Kamailio as the
// baseline) to a registrar, with the CPU time per transaction of this tool
// and of each process under test (issue 6: at least 20,000 relayed
// REGISTER transactions/s per core over WSS, and CPU per relayed
// transaction within 2x of Kamailio as a stateful proxy in the same run).
// sipp has no WebSocket transport, hence this tool.
//
// --mode call (issue 7): call setups and teardowns per second through the
// same chain to a callee (sipp as a UAS behind the IMS core), each with a
// WebRTC offer, and the CPU per call of each process; see "Calls" below.
//
//   build/bench/ws-register-load --target wss://127.0.0.1:25443
//       --connections 1000 --duration 10 --warmup 2
//       --measure-pid proxy=tree:$(cat /tmp/proxy.pid)
//       --measure-pid registrar=tree:$(cat /tmp/registrar.pid) [--json]
//   (one command line)
//
// Options (defaults in brackets):
//   --target ws://HOST:PORT[/PATH] | wss://HOST:PORT[/PATH]   (required)
//       wss: TLS, any certificate accepted. IPv6 as [::1].
//   --connections N [100]     one WebSocket (subprotocol sip) per user
//   --user-prefix P [user] --first-user F [0]
//                             users P0000, P0001, ... (at least 4 digits)
//   --domain D [ims.example.net] --password S [load-secret] --expires E [600]
//   --outstanding K [1]       REGISTERs in flight per connection (each
//                             with its own Call-ID)
//   --threads T [1]           io_context threads, connections spread evenly
//   --duration S [10] --warmup S [2]   the measured window, and the load run
//                             before it once every connection is registered
//   --measure-pid NAME=PID[,PID...] | NAME=tree:PID   (repeatable) CPU time
//                             (/proc/PID/stat utime + stime) of the pids, or
//                             of PID and all its descendants (Kamailio's
//                             main process and its children), over the window
//   --parse fast|full [fast]  responses through a minimal scan of the status
//                             line, CSeq and challenge (0.2 us for a 200 OK),
//                             or through sip/parser.hpp + validate_response
//                             as the P-CSCF reads them (3.1 us: 15% of this
//                             tool's CPU per transaction, taken from the
//                             processes under test on a shared machine)
//   --connect-concurrency N [64] --setup-timeout S [60]
//   --json                    the report as one JSON object on stdout
//   --mode register|call [register]
//   --callee URI [sip:bob@ims.example.net]   --mode call: whom to call
//   --hold-ms MS [0]          --mode call: from the ACK to the BYE
//   --retry-after             --mode call: a failed INVITE's Retry-After
//                             (up to 60 s) is waited out before the slot
//                             calls again (default: at once)
//   --stagger                 --mode call: each slot's first call waits a
//                             random part of --hold-ms, so that calls start
//                             and end at a steady rate, not in step
//
// What it does: opens the connections (at most --connect-concurrency in
// setup at once); each sends REGISTER for its user (Via SIP/2.0/WS[S]
// <random>.invalid;branch=z9hG4bK..., Contact <sip:user@<random>.invalid;
// transport=ws>, Expires, CSeq counting up), answers 401/407 with the MD5
// digest (RFC 7616; qop=auth with cnonce and nc when offered, else RFC 2617
// without qop) and, after its first 200, its K REGISTERs go back to back:
// each answer sends the next, reusing the nonce with the next nonce count
// and answering a new challenge (stale nonce) when one comes. Each REGISTER
// and its final response is one transaction, 401s included (counted apart).
// A REGISTER unanswered for 5 s is a timeout and its slot goes on.
//
// Report: final responses per second in the window (by completion time),
// by code; timeouts, unmatched and bad responses, WebSocket closes;
// latency p50/p99/p99.9/max (send to final response, log-linear buckets
// within 3.2%); this tool's CPU seconds (getrusage) and each --measure-pid
// target's, with CPU microseconds per transaction (all final responses);
// the machine's CPU time in the window from /proc/stat (busy, softirq, and
// what the measured processes do not account for: softirq work on their
// behalf, and everyone else; on a shared machine that is the noise).
// Exit status 1 when no connection registered or no transaction (call)
// completed.
//
// Calls (--mode call): each connection registers its user as above (one
// REGISTER slot), refreshes the registration at half the time the 200
// grants (its Contact's expires, else Expires, else --expires), then runs K calls
// (--outstanding) back to back, each with its own Call-ID and From tag:
// INVITE to --callee with a Chrome-like WebRTC audio offer
// (UDP/TLS/RTP/SAVPF 111 0 126, ICE ufrag/pwd and one host candidate,
// a=fingerprint:sha-256, setup:actpass, mid, rtcp-mux, BUNDLE; fixed
// values, ws_register_load_call.cpp) and a Contact; 1xx are taken; a 2xx is
// ACKed along its dialog (Contact as the Request-URI, Record-Route reversed
// as Route: the P-CSCF's two entries, RFC 5658, and the core's), and after
// --hold-ms the BYE (CSeq 2) goes the same way; its 2xx counts the call and
// the slot calls again. A non-2xx final is ACKed (hop by hop) and the slot
// calls again; an INVITE or BYE unanswered for 5 s is given up (counted).
// The 2xx's SDP must be a WebRTC answer (a=ice-lite, UDP/TLS/RTP/SAVPF, a
// candidate): those that are not count as bad_sdp (all of them behind a
// proxy that does not rewrite SDP). Responses go through a minimal scan
// (ws_register_load_call.hpp; --parse applies to REGISTER only). When the
// window ends no call starts; those under way end before the connections
// close.
// Report: calls per second (BYE answered 2xx in the window), responses to
// INVITE and to BYE by code, setup latency (INVITE -> 2xx) and teardown
// latency (BYE -> final) percentiles, timeouts, CPU microseconds per call of
// this tool and of each --measure-pid target. bench/call_bench.sh runs it
// through isthmus-pcscf (IMS-ALG and dataplane) and through Kamailio.
//
// Reading the figures: on a shared machine throughput is bounded by the
// CPU of every process on it, so the comparison is CPU microseconds per
// transaction, each process in the same run. bench/register_bench.sh runs
// the whole comparison (isthmus-pcscf and Kamailio as a WebSocket proxy in
// front of the test IMS core, tests/system/ims/kamailio.cfg); its figures
// are in docs/performance.md.
//
// Bench files: ws_register_load_sip.* (REGISTER, digest, response
// summary), ws_register_load_call.* (INVITE/ACK/BYE, the calls of a
// connection), ws_register_load_client.* and ws_register_load_clients.cpp
// (the WebSocket clients, Boost.Beast, and the threads running them;
// ws_register_load_thread.hpp between them),
// ws_register_load_stats.* (counters, histogram, /proc). Kamailio configs
// for the baseline: bench/kamailio/ws-proxy.cfg, ws-call-proxy.cfg (how to
// start them by hand is at their top).
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ws_register_load_client.hpp"
#include "ws_register_load_stats.hpp"

namespace {

using namespace isthmus::bench;
using Clock = std::chrono::steady_clock;

struct Options {
    LoadConfig load;
    std::string target;
    double duration_s = 10;
    double warmup_s = 2;
    double setup_timeout_s = 60;
    std::vector<std::string> measure;
    bool json = false;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(
        stderr,
        "ws-register-load: %s\n"
        "usage: ws-register-load --target ws[s]://HOST:PORT[/PATH] [--connections N]\n"
        "  [--user-prefix P] [--first-user F] [--domain D] [--password S]\n"
        "  [--expires E] [--outstanding K] [--threads T] [--duration S] [--warmup S]\n"
        "  [--measure-pid NAME=PID[,PID...]|NAME=tree:PID]... [--parse full|fast]\n"
        "  [--connect-concurrency N] [--setup-timeout S] [--json]\n"
        "  [--mode register|call] [--callee URI] [--hold-ms MS] [--retry-after] [--stagger]\n",
        why.c_str());
    std::exit(2);
}

uint64_t to_unsigned(const std::string& name, const std::string& v, uint64_t max) {
    std::size_t used = 0;
    uint64_t n = 0;
    try {
        n = std::stoull(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != v.size() || v.empty() || v.front() == '-' || n > max) {
        usage(name + ": not a number up to " + std::to_string(max) + ": " + v);
    }
    return n;
}

double to_seconds(const std::string& name, const std::string& v) {
    std::size_t used = 0;
    double d = -1;
    try {
        d = std::stod(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != v.size() || !(d >= 0)) usage(name + ": not a number of seconds: " + v);
    return d;
}

// ws://HOST:PORT[/PATH], wss://...; HOST may be [IPv6].
void parse_target(const std::string& target, LoadConfig& c) {
    std::string_view rest = target;
    if (rest.starts_with("wss://")) {
        c.tls = true;
        rest.remove_prefix(6);
    } else if (rest.starts_with("ws://")) {
        c.tls = false;
        rest.remove_prefix(5);
    } else {
        usage("--target: ws:// or wss:// expected: " + target);
    }
    const std::size_t slash = rest.find('/');
    c.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    std::string_view authority = rest.substr(0, slash);
    std::size_t colon = std::string_view::npos;
    if (authority.starts_with("[")) {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) usage("--target: unterminated [IPv6]: " + target);
        c.host = std::string(authority.substr(1, close - 1));
        colon = close + 1 < authority.size() && authority[close + 1] == ':'
                    ? close + 1
                    : std::string_view::npos;
    } else {
        colon = authority.rfind(':');
        c.host = std::string(authority.substr(0, colon));
    }
    if (colon == std::string_view::npos || c.host.empty()) {
        usage("--target: HOST:PORT expected: " + target);
    }
    c.port = static_cast<uint16_t>(
        to_unsigned("--target port", std::string(authority.substr(colon + 1)), 65535));
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        std::optional<std::string> inline_value;
        if (const std::size_t eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
            inline_value = a.substr(eq + 1);
            a.resize(eq);
        }
        auto value = [&]() -> std::string {
            if (inline_value) return *inline_value;
            if (i + 1 >= argc) usage(a + " wants a value");
            return argv[++i];
        };
        LoadConfig& c = o.load;
        if (a == "--target") {
            o.target = value();
            parse_target(o.target, c);
        } else if (a == "--connections") {
            c.connections = to_unsigned(a, value(), 1'000'000);
        } else if (a == "--user-prefix") {
            c.user_prefix = value();
        } else if (a == "--first-user") {
            c.first_user = static_cast<uint32_t>(to_unsigned(a, value(), 1'000'000'000));
        } else if (a == "--domain") {
            c.domain = value();
        } else if (a == "--password") {
            c.password = value();
        } else if (a == "--expires") {
            c.expires = static_cast<uint32_t>(to_unsigned(a, value(), 0xffffffffu));
        } else if (a == "--outstanding") {
            c.outstanding = to_unsigned(a, value(), 1024);
        } else if (a == "--threads") {
            c.threads = to_unsigned(a, value(), 256);
        } else if (a == "--connect-concurrency") {
            c.connect_concurrency = to_unsigned(a, value(), 100'000);
        } else if (a == "--parse") {
            const std::string p = value();
            if (p != "full" && p != "fast") usage("--parse: full or fast: " + p);
            c.full_parse = p == "full";
        } else if (a == "--duration") {
            o.duration_s = to_seconds(a, value());
        } else if (a == "--warmup") {
            o.warmup_s = to_seconds(a, value());
        } else if (a == "--setup-timeout") {
            o.setup_timeout_s = to_seconds(a, value());
        } else if (a == "--mode") {
            const std::string m = value();
            if (m != "register" && m != "call") usage("--mode: register or call: " + m);
            c.mode = m == "call" ? Mode::Call : Mode::Register;
        } else if (a == "--callee") {
            c.callee = value();
            if (!c.callee.starts_with("sip:") && !c.callee.starts_with("sips:") &&
                !c.callee.starts_with("tel:")) {
                usage("--callee: a sip:, sips: or tel: URI expected: " + c.callee);
            }
        } else if (a == "--retry-after" && !inline_value) {
            c.retry_after = true;
        } else if (a == "--stagger" && !inline_value) {
            c.stagger = true;
        } else if (a == "--hold-ms") {
            c.hold = std::chrono::milliseconds(to_unsigned(a, value(), 3'600'000));
        } else if (a == "--measure-pid") {
            o.measure.push_back(value());
        } else if (a == "--json" && !inline_value) {
            o.json = true;
        } else if (a == "--help" || a == "-h") {
            usage("SIP REGISTER load over WebSocket");
        } else {
            usage("unknown option " + a);
        }
    }
    if (o.target.empty()) usage("--target is required");
    if (o.load.connections == 0 || o.load.outstanding == 0 || o.load.threads == 0 ||
        o.load.connect_concurrency == 0) {
        usage("--connections, --outstanding, --threads, --connect-concurrency must be > 0");
    }
    if (o.duration_s <= 0) usage("--duration must be > 0");
    return o;
}

void sleep_s(double s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

struct Measured {
    std::string name;
    CpuTimes begin;
    CpuTimes end;
    std::size_t pids = 0;
};

// The report, as text (stderr when --json, else stdout) or JSON (stdout).
void report(const Options& o, const LoadCounters& c, double window_s, double setup_s,
            std::size_t registered, double self_cpu_s, const std::vector<Measured>& measured,
            const MachineCpu& machine) {
    const uint64_t tx = c.transactions();
    const double rate = static_cast<double>(tx) / window_s;
    auto per_tx_us = [&](double cpu_s) {
        return tx == 0 ? 0.0 : cpu_s * 1e6 / static_cast<double>(tx);
    };
    const double p50 = c.latency.quantile(0.5), p99 = c.latency.quantile(0.99),
                 p999 = c.latency.quantile(0.999), pmax = c.latency.quantile(1.0);
    const char* parse = o.load.full_parse ? "full" : "fast";
    double accounted = self_cpu_s;  // CPU seconds of this tool and the --measure-pid targets
    for (const Measured& m : measured)
        accounted += m.end.process_s - m.begin.process_s;
    if (o.json) {
        std::printf(
            "{\"target\": \"%s\", \"connections\": %zu, \"outstanding\": %zu, "
            "\"threads\": %zu, \"parse\": \"%s\", \"setup_s\": %.3f, "
            "\"connected\": %llu, \"connect_failed\": %llu, \"registered\": %zu, "
            "\"closed_before_end\": %llu, "
            "\"warmup_s\": %.3f, \"window_s\": %.3f, \"transactions\": %llu, "
            "\"transactions_per_s\": %.1f",
            o.target.c_str(), o.load.connections, o.load.outstanding, o.load.threads, parse,
            setup_s, static_cast<unsigned long long>(c.connected),
            static_cast<unsigned long long>(c.connect_failed), registered,
            static_cast<unsigned long long>(c.closed_total), o.warmup_s, window_s,
            static_cast<unsigned long long>(tx), rate);
        std::printf(", \"by_status\": {");
        bool first = true;
        for (std::size_t code = 100; code < c.by_status.size(); ++code) {
            if (c.by_status[code] == 0) continue;
            std::printf("%s\"%zu\": %llu", first ? "" : ", ", code,
                        static_cast<unsigned long long>(c.by_status[code]));
            first = false;
        }
        std::printf("}");
#define ISTHMUS_X(member, key, doc) \
    std::printf(", \"%s\": %llu", key, static_cast<unsigned long long>(c.member));
        ISTHMUS_LOAD_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
        std::printf(
            ", \"latency_us\": {\"p50\": %.1f, \"p99\": %.1f, \"p99_9\": %.1f, "
            "\"max\": %.1f}",
            p50, p99, p999, pmax);
        std::printf(
            ", \"cpu\": {\"ws-register-load\": {\"cpu_s\": %.3f, \"us_per_transaction\": "
            "%.2f}",
            self_cpu_s, per_tx_us(self_cpu_s));
        for (const Measured& m : measured) {
            const double cpu = m.end.process_s - m.begin.process_s;
            const double threads = m.end.threads_s - m.begin.threads_s;
            std::printf(
                ", \"%s\": {\"cpu_s\": %.3f, \"threads_cpu_s\": %.3f, "
                "\"us_per_transaction\": %.2f, \"processes\": %zu, \"readable_end\": %zu}",
                m.name.c_str(), cpu, threads, per_tx_us(cpu), m.pids, m.end.processes);
        }
        std::printf(
            "}, \"machine\": {\"cpus_s\": %.3f, \"busy_s\": %.3f, \"softirq_s\": %.3f, "
            "\"unaccounted_s\": %.3f}}\n",
            machine.total_s, machine.busy_s, machine.softirq_s, machine.busy_s - accounted);
    }
    FILE* out = o.json ? stderr : stdout;
    std::fprintf(out,
                 "ws-register-load: %s, %zu connections x %zu outstanding, %zu thread(s), parse "
                 "%s\n",
                 o.target.c_str(), o.load.connections, o.load.outstanding, o.load.threads, parse);
    std::fprintf(out,
                 "setup: %llu connected, %llu failed, %zu registered in %.2f s; %llu closed "
                 "before the end\n",
                 static_cast<unsigned long long>(c.connected),
                 static_cast<unsigned long long>(c.connect_failed), registered, setup_s,
                 static_cast<unsigned long long>(c.closed_total));
    std::fprintf(out, "window: %.2f s after %.1f s warmup: %llu transactions, %.1f/s\n", window_s,
                 o.warmup_s, static_cast<unsigned long long>(tx), rate);
    for (std::size_t code = 100; code < c.by_status.size(); ++code) {
        if (c.by_status[code] == 0) continue;
        std::fprintf(out, "  %zu: %llu (%.1f/s)\n", code,
                     static_cast<unsigned long long>(c.by_status[code]),
                     static_cast<double>(c.by_status[code]) / window_s);
    }
    std::fprintf(out, " ");
#define ISTHMUS_X(member, key, doc) \
    std::fprintf(out, " %s %llu", key, static_cast<unsigned long long>(c.member));
    ISTHMUS_LOAD_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    std::fprintf(out, "\nlatency us: p50 %.1f, p99 %.1f, p99.9 %.1f, max %.1f\n", p50, p99, p999,
                 pmax);
    std::fprintf(out, "cpu: %-18s %7.3f s  %7.2f us/transaction\n", "ws-register-load", self_cpu_s,
                 per_tx_us(self_cpu_s));
    for (const Measured& m : measured) {
        const double cpu = m.end.process_s - m.begin.process_s;
        std::fprintf(
            out, "cpu: %-18s %7.3f s  %7.2f us/transaction  (%zu processes; threads %.3f s)\n",
            m.name.c_str(), cpu, per_tx_us(cpu), m.pids, m.end.threads_s - m.begin.threads_s);
    }
    std::fprintf(out,
                 "machine: %.2f CPU-s in the window, busy %.2f (%.0f%%): the processes above "
                 "%.2f, everything else %.2f (softirq %.2f, other processes)\n",
                 machine.total_s, machine.busy_s,
                 machine.total_s > 0 ? 100 * machine.busy_s / machine.total_s : 0.0, accounted,
                 machine.busy_s - accounted, machine.softirq_s);
}

// --mode call's report, as text (stderr when --json, else stdout) or JSON
// (stdout): calls, responses by code, latencies, CPU per call.
void report_calls(const Options& o, const LoadCounters& c, double window_s, double setup_s,
                  std::size_t registered, std::size_t unfinished, double self_cpu_s,
                  const std::vector<Measured>& measured, const MachineCpu& machine) {
    const uint64_t calls = c.calls;
    const double rate = static_cast<double>(calls) / window_s;
    auto per_call_us = [&](double cpu_s) {
        return calls == 0 ? 0.0 : cpu_s * 1e6 / static_cast<double>(calls);
    };
    double accounted = self_cpu_s;
    for (const Measured& m : measured)
        accounted += m.end.process_s - m.begin.process_s;
    const LatencyHistogram* histograms[] = {&c.latency, &c.teardown};
    const char* const hist_names[] = {"setup_latency_us", "teardown_latency_us"};
    const std::array<uint64_t, 700>* status_maps[] = {&c.by_status, &c.bye_by_status};
    const char* const status_names[] = {"invite_by_status", "bye_by_status"};
    const auto hold_ms = static_cast<long long>(o.load.hold.count());
    if (o.json) {
        std::printf(
            "{\"mode\": \"call\", \"target\": \"%s\", \"callee\": \"%s\", \"connections\": %zu, "
            "\"outstanding\": %zu, \"threads\": %zu, \"hold_ms\": %lld, \"setup_s\": %.3f, "
            "\"connected\": %llu, \"connect_failed\": %llu, \"registered\": %zu, "
            "\"closed_before_end\": %llu, \"warmup_s\": %.3f, \"window_s\": %.3f, "
            "\"calls\": %llu, \"calls_per_s\": %.1f, \"calls_unfinished\": %zu",
            o.target.c_str(), o.load.callee.c_str(), o.load.connections, o.load.outstanding,
            o.load.threads, hold_ms, setup_s, static_cast<unsigned long long>(c.connected),
            static_cast<unsigned long long>(c.connect_failed), registered,
            static_cast<unsigned long long>(c.closed_total), o.warmup_s, window_s,
            static_cast<unsigned long long>(calls), rate, unfinished);
        for (std::size_t h = 0; h < 2; ++h) {
            std::printf(", \"%s\": {", status_names[h]);
            bool first = true;
            for (std::size_t code = 100; code < status_maps[h]->size(); ++code) {
                if ((*status_maps[h])[code] == 0) continue;
                std::printf("%s\"%zu\": %llu", first ? "" : ", ", code,
                            static_cast<unsigned long long>((*status_maps[h])[code]));
                first = false;
            }
            std::printf("}");
        }
#define ISTHMUS_X(member, key, doc) \
    std::printf(", \"%s\": %llu", key, static_cast<unsigned long long>(c.member));
        ISTHMUS_LOAD_COUNTER(ISTHMUS_X)
        ISTHMUS_CALL_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
        for (std::size_t h = 0; h < 2; ++h) {
            const LatencyHistogram& l = *histograms[h];
            std::printf(", \"%s\": {\"p50\": %.1f, \"p99\": %.1f, \"p99_9\": %.1f, \"max\": %.1f}",
                        hist_names[h], l.quantile(0.5), l.quantile(0.99), l.quantile(0.999),
                        l.quantile(1.0));
        }
        std::printf(", \"cpu\": {\"ws-register-load\": {\"cpu_s\": %.3f, \"us_per_call\": %.2f}",
                    self_cpu_s, per_call_us(self_cpu_s));
        for (const Measured& m : measured) {
            const double cpu = m.end.process_s - m.begin.process_s;
            std::printf(
                ", \"%s\": {\"cpu_s\": %.3f, \"threads_cpu_s\": %.3f, \"us_per_call\": %.2f, "
                "\"processes\": %zu, \"readable_end\": %zu}",
                m.name.c_str(), cpu, m.end.threads_s - m.begin.threads_s, per_call_us(cpu), m.pids,
                m.end.processes);
        }
        std::printf(
            "}, \"machine\": {\"cpus_s\": %.3f, \"busy_s\": %.3f, \"softirq_s\": %.3f, "
            "\"unaccounted_s\": %.3f}}\n",
            machine.total_s, machine.busy_s, machine.softirq_s, machine.busy_s - accounted);
    }
    FILE* out = o.json ? stderr : stdout;
    std::fprintf(out,
                 "ws-register-load: calls to %s via %s, %zu connections x %zu outstanding, "
                 "%zu thread(s), hold %lld ms\n",
                 o.load.callee.c_str(), o.target.c_str(), o.load.connections, o.load.outstanding,
                 o.load.threads, hold_ms);
    std::fprintf(out,
                 "setup: %llu connected, %llu failed, %zu registered in %.2f s; %llu closed "
                 "before the end\n",
                 static_cast<unsigned long long>(c.connected),
                 static_cast<unsigned long long>(c.connect_failed), registered, setup_s,
                 static_cast<unsigned long long>(c.closed_total));
    std::fprintf(out,
                 "window: %.2f s after %.1f s warmup: %llu calls set up and torn down, %.1f/s; "
                 "%zu unfinished at the end\n",
                 window_s, o.warmup_s, static_cast<unsigned long long>(calls), rate, unfinished);
    const char* const labels[] = {"INVITE", "BYE"};
    for (std::size_t h = 0; h < 2; ++h) {
        std::fprintf(out, "  %s:", labels[h]);
        for (std::size_t code = 100; code < status_maps[h]->size(); ++code) {
            if ((*status_maps[h])[code] == 0) continue;
            std::fprintf(out, " %zu x %llu", code,
                         static_cast<unsigned long long>((*status_maps[h])[code]));
        }
        std::fprintf(out, "\n");
    }
    std::fprintf(out, " ");
#define ISTHMUS_X(member, key, doc) \
    std::fprintf(out, " %s %llu", key, static_cast<unsigned long long>(c.member));
    ISTHMUS_LOAD_COUNTER(ISTHMUS_X)
    ISTHMUS_CALL_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    std::fprintf(out, "\n");
    const char* const hist_labels[] = {"setup (INVITE -> 200)", "teardown (BYE -> 200)"};
    for (std::size_t h = 0; h < 2; ++h) {
        const LatencyHistogram& l = *histograms[h];
        std::fprintf(out, "%s us: p50 %.1f, p99 %.1f, p99.9 %.1f, max %.1f\n", hist_labels[h],
                     l.quantile(0.5), l.quantile(0.99), l.quantile(0.999), l.quantile(1.0));
    }
    std::fprintf(out, "cpu: %-18s %7.3f s  %8.2f us/call\n", "ws-register-load", self_cpu_s,
                 per_call_us(self_cpu_s));
    for (const Measured& m : measured) {
        const double cpu = m.end.process_s - m.begin.process_s;
        std::fprintf(out, "cpu: %-18s %7.3f s  %8.2f us/call  (%zu processes; threads %.3f s)\n",
                     m.name.c_str(), cpu, per_call_us(cpu), m.pids,
                     m.end.threads_s - m.begin.threads_s);
    }
    std::fprintf(out,
                 "machine: %.2f CPU-s in the window, busy %.2f (%.0f%%): the processes above "
                 "%.2f, everything else %.2f (softirq %.2f, other processes)\n",
                 machine.total_s, machine.busy_s,
                 machine.total_s > 0 ? 100 * machine.busy_s / machine.total_s : 0.0, accounted,
                 machine.busy_s - accounted, machine.softirq_s);
}

int run(const Options& o) {
    std::vector<ProcessCpu> targets;
    for (const std::string& spec : o.measure)
        targets.emplace_back(spec);

    std::atomic<Phase> phase{Phase::Setup};
    LoadClients clients(o.load, phase);
    const Clock::time_point setup_start = Clock::now();
    clients.start();
    const auto setup_deadline = setup_start + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(o.setup_timeout_s));
    while (clients.ready() + clients.failed() < o.load.connections &&
           Clock::now() < setup_deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double setup_s = std::chrono::duration<double>(Clock::now() - setup_start).count();
    const std::size_t registered = clients.ready();
    if (registered == 0) {
        clients.stop();
        std::fprintf(stderr, "ws-register-load: no connection registered (%zu failed)\n",
                     clients.failed());
        if (const std::string unexpected = clients.first_unexpected(); !unexpected.empty()) {
            std::fprintf(stderr, "ws-register-load: first unexpected response:\n%s",
                         unexpected.c_str());
        }
        return 1;
    }
    if (registered < o.load.connections) {
        std::fprintf(stderr, "ws-register-load: %zu of %zu connections registered; going on\n",
                     registered, o.load.connections);
    }

    phase.store(Phase::Warmup);
    sleep_s(o.warmup_s);

    std::vector<Measured> measured;
    for (ProcessCpu& t : targets)
        measured.push_back({t.name(), t.sample(), {}, 0});
    const double self_begin = self_cpu_seconds();
    const MachineCpu machine_begin = machine_cpu();
    const Clock::time_point window_start = Clock::now();
    phase.store(Phase::Measure);
    sleep_s(o.duration_s);
    phase.store(Phase::Done);
    const Clock::time_point window_end = Clock::now();
    const double self_end = self_cpu_seconds();
    const MachineCpu machine_end = machine_cpu();
    for (std::size_t i = 0; i < targets.size(); ++i) {
        measured[i].end = targets[i].sample();
        measured[i].pids = targets[i].pids().size();
    }

    clients.stop();
    const LoadCounters totals = clients.totals();
    const double window_s = std::chrono::duration<double>(window_end - window_start).count();
    const MachineCpu machine{machine_end.busy_s - machine_begin.busy_s,
                             machine_end.total_s - machine_begin.total_s,
                             machine_end.softirq_s - machine_begin.softirq_s};
    const bool calling = o.load.mode == Mode::Call;
    if (calling) {
        report_calls(o, totals, window_s, setup_s, registered, clients.calls_unfinished(),
                     self_end - self_begin, measured, machine);
    } else {
        report(o, totals, window_s, setup_s, registered, self_end - self_begin, measured, machine);
    }
    if (const std::string unexpected = clients.first_unexpected(); !unexpected.empty()) {
        std::fprintf(stderr, "ws-register-load: first unexpected response:\n%s",
                     unexpected.c_str());
    }
    return (calling ? totals.calls : totals.transactions()) == 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ws-register-load: %s\n", e.what());
        return 1;
    }
}
