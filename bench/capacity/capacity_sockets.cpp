// capacity-sockets: issue 12's capacity bench over kernel UDP sockets, with
// rtpengine (userspace forwarding, set up through its ng protocol) as the
// gateway. For each N of --calls it sets up N calls, runs the load of
// socket_load.hpp (50 packets/s per direction per call, SRTP on A, RTP on
// B), tears the calls down and reports a row; then the largest N with loss
// under 0.01 % and p99 under 1 ms, which bound the next N hit, and the same
// load without a gateway (A and B direct) so the latency the kernel path
// and the tool add by themselves is in the report.
//
// bench/capacity/rtpengine.sh runs it in a network namespace of its own
// beside rtpengine (the tool on CPU 0, rtpengine on CPU 1):
//   capacity-sockets --target rtpengine --ng 127.0.0.1:2223 --calls 250,500,1000
//       --seconds 10 --suite aes_cm_80 --gateway-pid PID --json FILE
#include <arpa/inet.h>
#include <srtp2/srtp.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "isthmus_target.hpp"
#include "load_stats.hpp"
#include "rtpengine_ng.hpp"
#include "socket_load.hpp"
#include "srtp_stream.hpp"

namespace isthmus::bench::capacity {
namespace {

constexpr double kPassLoss = 1e-4;    // 0.01 %
constexpr double kPassP99Ns = 1e6;    // 1 ms
constexpr double kSaturated = 0.9;    // of one core
constexpr double kBusyMachine = 0.2;  // cores used by other processes: figures disturbed

struct Options {
    std::string target = "rtpengine";
    sockaddr_in ng{};
    std::vector<uint32_t> calls = {250, 500, 1000, 2000, 4000};
    LoadOptions load;
    SrtpSuite suite = SrtpSuite::aes_cm_128_hmac_sha1_80;
    std::string json;
    in_addr a_address{}, b_address{};
    uint16_t port_base = 40000;
    bool shared_ports = false;  // --ports shared: all A sides on one port, all B sides on one
    std::string interface_a = "a", interface_b = "b";
    double stop_loss = 0.01;  // stop the list once a run loses more than this fraction
    bool baseline = true;
    // --target isthmus: the dataplane's dpif region, its access and core
    // addresses, and the first of its ports the calls use.
    std::string region = "/isthmus";
    in_addr gw_access{}, gw_core{};
    uint16_t gw_port_base = 20000;
};

struct Row {
    std::string target;
    double setup_s = 0;
    LoadResult r;
    std::optional<uint64_t> gateway_counted;  // rtpengine's own count of RTP packets
    bool passed() const {
        return r.totals.loss_ratio() < kPassLoss &&
               static_cast<double>(r.latency.percentile(0.99)) < kPassP99Ns && r.totals.offered > 0;
    }
    double gateway_util() const {
        return r.gateway_send_cpu_s && r.window_s > 0 ? *r.gateway_send_cpu_s / r.window_s : 0;
    }
    double tool_util() const { return r.window_s > 0 ? r.tool_send_cpu_s / r.window_s : 0; }
    // CPU the rest of the machine used over the run (window + drain): other
    // processes and interrupts; a busy machine makes every figure worse.
    double others_cpu_s() const {
        return std::max(0.0, r.machine_busy_s - r.tool_cpu_s - r.gateway_cpu_s.value_or(0));
    }
    double others_cores() const {
        return r.window_s > 0 ? others_cpu_s() / (r.window_s + drain_s) : 0;
    }
    double drain_s = 0;
};

[[noreturn]] void usage(int code) {
    std::fprintf(
        code == 0 ? stdout : stderr,
        "usage: capacity-sockets [--target rtpengine|isthmus|direct] [--ng ADDR:PORT]\n"
        "         [--region NAME --gw-access IP --gw-core IP --gw-port-base PORT] (isthmus)\n"
        "         [--calls N,N,...] [--seconds S] [--warmup S] [--drain S]\n"
        "         [--suite aes_cm_80|aead_aes_128_gcm] [--gateway-pid PID] [--json FILE]\n"
        "         [--a-address IP] [--b-address IP] [--port-base PORT]\n"
        "         [--ports per-call|shared] [--srtp openssl|libsrtp2]\n"
        "         [--direction IFA,IFB|none]\n"
        "         [--stop-loss PERCENT] [--no-baseline]\n"
        "\n"
        "For each N of --calls (default 250,500,1000,2000,4000): N calls set up on the\n"
        "target, SRTP (side A, from --a-address) and RTP (side B, from --b-address) at 50\n"
        "packets/s per direction per call for --seconds (default 10) after --warmup\n"
        "(default 1), every packet checked; stops after a run losing more than\n"
        "--stop-loss %% (default 1). Then the same load without a gateway at the largest\n"
        "N. Local ports: --port-base + call (default 40000) on both addresses\n"
        "(defaults 198.18.0.1 and 198.19.0.1), one socket per call side; with --ports\n"
        "shared, every call's A on --port-base of the A address and every B on that of\n"
        "the B address (two sockets, sendmmsg batches). --direction: rtpengine's logical\n"
        "interfaces for A and B (default a,b). --gateway-pid: CPU seconds of that\n"
        "process (all threads) over each run. --srtp: the tool's SRTP on OpenSSL, checked\n"
        "against libsrtp2 at start (default), or libsrtp2 itself (slow past ~100 calls:\n"
        "its NSS backend costs more per packet the more keys are alive).\n");
    std::exit(code);
}

sockaddr_in parse_endpoint(const std::string& s) {
    const std::size_t colon = s.rfind(':');
    sockaddr_in a{};
    a.sin_family = AF_INET;
    const std::string ip = s.substr(0, colon);
    const long port =
        colon == std::string::npos ? 0 : std::strtol(s.c_str() + colon + 1, nullptr, 10);
    if (colon == std::string::npos || inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1 ||
        port <= 0 || port > 65535) {
        std::fprintf(stderr, "capacity-sockets: not an IPv4 ADDR:PORT: %s\n", s.c_str());
        std::exit(2);
    }
    a.sin_port = htons(static_cast<uint16_t>(port));
    return a;
}

in_addr parse_ip(const std::string& s) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
        std::fprintf(stderr, "capacity-sockets: not an IPv4 address: %s\n", s.c_str());
        std::exit(2);
    }
    return a;
}

double parse_number(const std::string& flag, const std::string& v) {
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0' || d < 0 || !std::isfinite(d)) {
        std::fprintf(stderr, "capacity-sockets: %s wants a non-negative number, not '%s'\n",
                     flag.c_str(), v.c_str());
        std::exit(2);
    }
    return d;
}

Options parse(int argc, char** argv) {
    Options o;
    o.ng = parse_endpoint("127.0.0.1:2223");
    o.a_address = parse_ip("198.18.0.1");
    o.b_address = parse_ip("198.19.0.1");
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") usage(0);
        if (a == "--no-baseline") {
            o.baseline = false;
            continue;
        }
        if (i + 1 >= argc) usage(2);
        const std::string v = argv[++i];
        if (a == "--target") {
            o.target = v;
            if (v != "rtpengine" && v != "direct" && v != "isthmus") usage(2);
        } else if (a == "--ng") {
            o.ng = parse_endpoint(v);
        } else if (a == "--calls") {
            o.calls.clear();
            for (std::size_t at = 0; at <= v.size();) {
                const std::size_t comma = std::min(v.find(',', at), v.size());
                const double n = parse_number(a, v.substr(at, comma - at));
                if (n < 1 || n > 20000) {
                    std::fprintf(stderr, "capacity-sockets: --calls: 1..20000 each\n");
                    std::exit(2);
                }
                o.calls.push_back(static_cast<uint32_t>(n));
                at = comma + 1;
            }
        } else if (a == "--seconds") {
            o.load.seconds = parse_number(a, v);
        } else if (a == "--warmup") {
            o.load.warmup = parse_number(a, v);
        } else if (a == "--drain") {
            o.load.drain = parse_number(a, v);
        } else if (a == "--suite") {
            const std::optional<SrtpSuite> s = parse_suite(v);
            if (!s) usage(2);
            o.suite = *s;
        } else if (a == "--gateway-pid") {
            o.load.gateway_pid = static_cast<pid_t>(parse_number(a, v));
        } else if (a == "--json") {
            o.json = v;
        } else if (a == "--region") {
            o.region = v;
        } else if (a == "--gw-access") {
            o.gw_access = parse_ip(v);
        } else if (a == "--gw-core") {
            o.gw_core = parse_ip(v);
        } else if (a == "--gw-port-base") {
            o.gw_port_base = static_cast<uint16_t>(parse_number(a, v));
        } else if (a == "--a-address") {
            o.a_address = parse_ip(v);
        } else if (a == "--b-address") {
            o.b_address = parse_ip(v);
        } else if (a == "--port-base") {
            o.port_base = static_cast<uint16_t>(parse_number(a, v));
        } else if (a == "--srtp") {
            if (v != "openssl" && v != "libsrtp2") usage(2);
            o.load.libsrtp2 = v == "libsrtp2";
        } else if (a == "--ports") {
            if (v != "per-call" && v != "shared") usage(2);
            o.shared_ports = v == "shared";
        } else if (a == "--direction") {
            const std::size_t comma = v.find(',');
            if (v == "none") {
                o.interface_a.clear();
                o.interface_b.clear();
            } else if (comma != std::string::npos) {
                o.interface_a = v.substr(0, comma);
                o.interface_b = v.substr(comma + 1);
            } else {
                usage(2);
            }
        } else if (a == "--stop-loss") {
            o.stop_loss = parse_number(a, v) / 100;
        } else {
            std::fprintf(stderr, "capacity-sockets: unknown option %s\n", a.c_str());
            usage(2);
        }
    }
    for (const uint32_t n : o.calls)
        if (uint32_t{o.port_base} + n > 65535) {
            std::fprintf(stderr, "capacity-sockets: --port-base %u + %u calls passes 65535\n",
                         o.port_base, n);
            std::exit(2);
        }
    return o;
}

std::vector<CallPlan> make_plans(const Options& o, uint32_t n) {
    std::vector<CallPlan> plans(n);
    for (uint32_t i = 0; i < n; ++i) {
        for (CallSide* side : {&plans[i].a, &plans[i].b}) {
            side->local.sin_family = AF_INET;
            side->local.sin_addr = side == &plans[i].a ? o.a_address : o.b_address;
            side->local.sin_port =
                htons(static_cast<uint16_t>(o.port_base + (o.shared_ports ? 0 : i)));
        }
    }
    return plans;
}

Row run_one(const Options& o, CallTarget& target, uint32_t n, LoadOptions load) {
    Row row;
    row.target = target.name();
    row.drain_s = load.drain;
    std::vector<CallPlan> plans = make_plans(o, n);
    std::fprintf(stderr, "capacity-sockets: %s, %u calls: setting up\n", row.target.c_str(), n);
    const auto t0 = std::chrono::steady_clock::now();
    try {
        target.setup(plans);
    } catch (...) {
        target.teardown(plans);
        throw;
    }
    row.setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "capacity-sockets: %u calls set up in %.2f s; load for %.1f + %.1f s\n", n,
                 row.setup_s, load.warmup, load.seconds);
    auto* isthmus = dynamic_cast<IsthmusTarget*>(&target);
    // (Copied out of the optional: gcc 12 sees an uninitialized read in it.)
    IsthmusTarget::Cycles before{};
    bool have_before = false;
    if (isthmus != nullptr) {
        if (const auto c = isthmus->cycles()) {
            before = *c;
            have_before = true;
        }
    }
    try {
        SocketLoad socket_load(plans, load);
        row.r = socket_load.run();
    } catch (...) {
        target.teardown(plans);
        throw;
    }
    if (isthmus != nullptr) {
        // The dataplane polls a whole core whatever it relays: its cost is
        // its workers' busy share of the run (warm-up, window and drain
        // carry the same load), as CPU seconds over the window (+ drain).
        const std::optional<IsthmusTarget::Cycles> after = isthmus->cycles();
        if (have_before && after && after->tsc > before.tsc) {
            const double busy = static_cast<double>(after->busy - before.busy) /
                                static_cast<double>(after->tsc - before.tsc);
            row.r.gateway_cpu_s = busy * (row.r.window_s + load.drain);
            row.r.gateway_send_cpu_s = busy * row.r.window_s;
        }
    }
    target.teardown(plans);
    if (auto* rtpe = dynamic_cast<RtpengineTarget*>(&target))
        row.gateway_counted = rtpe->rtp_packets_counted();
    return row;
}

std::string ms(uint64_t ns) {
    return format_ns(static_cast<double>(ns));
}

// The inside of a JSON string.
std::string json_escape(std::string_view in) {
    std::string out;
    for (const char c : in) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(c));
            out += b;
        } else {
            out += c;
        }
    }
    return out;
}

void print_row(const Row& w) {
    const LoadResult& r = w.r;
    const StreamTotals& t = r.totals;
    char gw[96] = "-", per_m[32] = "-";
    if (r.gateway_cpu_s) {
        std::snprintf(gw, sizeof gw, "%.2f (%.0f %%)", *r.gateway_cpu_s, 100 * w.gateway_util());
        if (t.delivered > 0)
            std::snprintf(per_m, sizeof per_m, "%.2f",
                          *r.gateway_cpu_s / static_cast<double>(t.delivered) * 1e6);
    }
    std::printf(
        "| %s | %u | %llu | %llu | %.4f | %llu | %llu | %llu | %s | %s | %s | %s / %s | %.2f (%.0f "
        "%%) | %s / %s | %s | %s | %.2f | %llu / %llu | %s |\n",
        w.target.c_str(), r.calls, static_cast<unsigned long long>(t.offered),
        static_cast<unsigned long long>(t.delivered), 100 * t.loss_ratio(),
        static_cast<unsigned long long>(t.reordered), static_cast<unsigned long long>(t.duplicates),
        static_cast<unsigned long long>(t.bad), ms(r.latency.percentile(0.5)).c_str(),
        ms(r.latency.percentile(0.99)).c_str(), ms(r.latency.percentile(0.999)).c_str(),
        format_ns(t.jitter_mean_ns).c_str(), format_ns(t.jitter_max_ns).c_str(), r.tool_cpu_s,
        100 * w.tool_util(), ms(r.lag.percentile(0.99)).c_str(), ms(r.lag.max()).c_str(), gw, per_m,
        w.others_cpu_s(), static_cast<unsigned long long>(r.tool_socket_drops),
        static_cast<unsigned long long>(r.other_socket_drops), w.passed() ? "yes" : "no");
}

void print_header() {
    std::printf(
        "| gateway | calls | offered | delivered | loss %% | reordered | dup | bad | p50 | p99 | "
        "p99.9 | jitter mean / max | tool CPU s (core) | tool lag p99 / max | gateway CPU s "
        "(core) | gateway CPU s / Mpkt | others' CPU s | socket drops tool / other | pass |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

void json_row(std::FILE* f, const Row& w) {
    const LoadResult& r = w.r;
    const StreamTotals& t = r.totals;
    auto opt = [](const std::optional<double>& v) {
        return v ? std::to_string(*v) : std::string("null");
    };
    std::fprintf(
        f,
        "{\"gateway\": \"%s\", \"calls\": %u, \"setup_s\": %.3f, \"window_s\": %.3f, "
        "\"offered\": %llu, \"delivered\": %llu, \"lost\": %llu, \"loss_percent\": %.6f, "
        "\"reordered\": %llu, \"duplicates\": %llu, \"late\": %llu, \"bad\": %llu, "
        "\"bad_srtp\": %llu, \"bad_rtp\": %llu, \"send_errors\": %llu, \"srtp_errors\": %llu, "
        "\"latency_ns\": {\"p50\": %llu, \"p99\": %llu, \"p999\": %llu, \"max\": %llu, "
        "\"mean\": %.0f, \"samples\": %llu}, \"jitter_ns\": {\"mean\": %.0f, \"max\": %.0f}, "
        "\"tool\": {\"cpu_s\": %.3f, \"send_window_cpu_s\": %.3f, \"core_fraction\": %.3f, "
        "\"lag_p99_ns\": %llu, \"lag_max_ns\": %llu, \"socket_drops\": %llu}, "
        "\"gateway_cpu\": {\"cpu_s\": %s, \"send_window_cpu_s\": %s, \"core_fraction\": %.3f, "
        "\"cpu_s_per_million_packets\": %s}, \"other_socket_drops\": %llu, "
        "\"gateway_counted_rtp_packets\": %s, \"warmup_sent\": %llu, \"sockets\": %u, "
        "\"machine_busy_s\": %.3f, \"others_cpu_s\": %.3f, \"kernel_rx_timestamps\": %llu, "
        "\"passed\": %s}",
        w.target.c_str(), r.calls, w.setup_s, r.window_s,
        static_cast<unsigned long long>(t.offered), static_cast<unsigned long long>(t.delivered),
        static_cast<unsigned long long>(t.lost()), 100 * t.loss_ratio(),
        static_cast<unsigned long long>(t.reordered), static_cast<unsigned long long>(t.duplicates),
        static_cast<unsigned long long>(t.late), static_cast<unsigned long long>(t.bad),
        static_cast<unsigned long long>(r.bad_srtp), static_cast<unsigned long long>(r.bad_rtp),
        static_cast<unsigned long long>(r.send_errors),
        static_cast<unsigned long long>(r.srtp_errors),
        static_cast<unsigned long long>(r.latency.percentile(0.5)),
        static_cast<unsigned long long>(r.latency.percentile(0.99)),
        static_cast<unsigned long long>(r.latency.percentile(0.999)),
        static_cast<unsigned long long>(r.latency.max()), r.latency.mean(),
        static_cast<unsigned long long>(r.latency.count()), t.jitter_mean_ns, t.jitter_max_ns,
        r.tool_cpu_s, r.tool_send_cpu_s, w.tool_util(),
        static_cast<unsigned long long>(r.lag.percentile(0.99)),
        static_cast<unsigned long long>(r.lag.max()),
        static_cast<unsigned long long>(r.tool_socket_drops), opt(r.gateway_cpu_s).c_str(),
        opt(r.gateway_send_cpu_s).c_str(), w.gateway_util(),
        r.gateway_cpu_s && t.delivered > 0
            ? std::to_string(*r.gateway_cpu_s / static_cast<double>(t.delivered) * 1e6).c_str()
            : "null",
        static_cast<unsigned long long>(r.other_socket_drops),
        w.gateway_counted ? std::to_string(*w.gateway_counted).c_str() : "null",
        static_cast<unsigned long long>(r.warmup_sent), r.sockets, r.machine_busy_s,
        w.others_cpu_s(), static_cast<unsigned long long>(r.kernel_timestamps),
        w.passed() ? "true" : "false");
}

// Which bound a failing run hit.
std::string bound_of(const Row& w) {
    std::string why;
    if (w.gateway_util() >= kSaturated) {
        char b[96];
        std::snprintf(b, sizeof b, "gateway CPU saturated (%.0f %% of one core)",
                      100 * w.gateway_util());
        why = b;
    }
    if (w.tool_util() >= kSaturated ||
        static_cast<double>(w.r.lag.percentile(0.99)) >= kPassP99Ns) {
        char b[128];
        std::snprintf(b, sizeof b, "load tool behind (%.0f %% of its core, schedule lag p99 %s)",
                      100 * w.tool_util(), ms(w.r.lag.percentile(0.99)).c_str());
        why += (why.empty() ? "" : "; ") + std::string(b);
    }
    if (const double others = w.others_cores(); others > kBusyMachine) {
        char b[160];
        std::snprintf(b, sizeof b,
                      "other processes used %.2f cores of the machine meanwhile (both CPUs are "
                      "shared with them)",
                      others);
        why += (why.empty() ? "" : "; ") + std::string(b);
    }
    if (why.empty()) {
        char b[160];
        std::snprintf(b, sizeof b,
                      "neither saturated (gateway %.0f %%, tool %.0f %% of a core; socket drops "
                      "tool %llu, other %llu)",
                      100 * w.gateway_util(), 100 * w.tool_util(),
                      static_cast<unsigned long long>(w.r.tool_socket_drops),
                      static_cast<unsigned long long>(w.r.other_socket_drops));
        why = b;
    }
    return why;
}

int run(const Options& o) {
    if (const srtp_err_status_t err = srtp_init(); err != srtp_err_status_ok) {
        std::fprintf(stderr, "capacity-sockets: srtp_init failed (%d)\n", static_cast<int>(err));
        return 1;
    }
    // Every call is two sockets here (and four on rtpengine).
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);  // wake within 1 us of the schedule, not 50
    srtp_self_test(o.suite);                    // the tool's SRTP against libsrtp2, both ways

    std::unique_ptr<CallTarget> target;
    if (o.target == "rtpengine") {
        RtpengineOptions ro;
        ro.ng = o.ng;
        ro.suite = o.suite;
        ro.interface_a = o.interface_a;
        ro.interface_b = o.interface_b;
        target = std::make_unique<RtpengineTarget>(ro);
    } else if (o.target == "isthmus") {
        target = std::make_unique<IsthmusTarget>(o.region, o.gw_access, o.gw_core, o.gw_port_base,
                                                 o.suite);
    } else {
        target = std::make_unique<DirectTarget>(o.suite);
    }

    std::vector<Row> rows, baselines;
    std::string failure;  // a run that could not be made: the list ends there
    for (const uint32_t n : o.calls) {
        try {
            rows.push_back(run_one(o, *target, n, o.load));
        } catch (const std::exception& e) {
            failure = std::to_string(n) + " calls on " + target->name() + ": " + e.what();
            std::fprintf(stderr, "capacity-sockets: %s\n", failure.c_str());
            break;
        }
        const Row& w = rows.back();
        std::fprintf(stderr,
                     "capacity-sockets: %u calls: loss %.4f %%, p99 %s, gateway %.0f %%, tool %.0f "
                     "%% of a core\n",
                     n, 100 * w.r.totals.loss_ratio(), ms(w.r.latency.percentile(0.99)).c_str(),
                     100 * w.gateway_util(), 100 * w.tool_util());
        if (w.r.totals.loss_ratio() > o.stop_loss) {
            std::fprintf(stderr, "capacity-sockets: loss over %.2f %%: stopping the list here\n",
                         100 * o.stop_loss);
            break;
        }
    }
    const Row* best = nullptr;
    for (const Row& w : rows)
        if (w.passed() && (best == nullptr || w.r.calls > best->r.calls)) best = &w;
    uint32_t largest = 0;
    for (const Row& w : rows)
        largest = std::max(largest, w.r.calls);
    if (o.baseline && o.target != "direct" && largest > 0) {
        DirectTarget direct(o.suite);
        LoadOptions load = o.load;
        load.gateway_pid = 0;
        try {
            baselines.push_back(run_one(o, direct, largest, load));
            if (best != nullptr && best->r.calls != largest)
                baselines.push_back(run_one(o, direct, best->r.calls, load));
        } catch (const std::exception& e) {
            failure += (failure.empty() ? "" : "; ") + std::string("baseline: ") + e.what();
            std::fprintf(stderr, "capacity-sockets: baseline: %s\n", e.what());
        }
    }

    const SrtpSuiteInfo& suite = suite_info(o.suite);
    std::printf(
        "\n### %s, %s on side A, %.0f s per run (+%.1f s warm-up), 50 packets/s per "
        "direction per call, %s\n\n",
        target->name().c_str(), suite.sdes_name, o.load.seconds, o.load.warmup,
        o.shared_ports ? "two shared tool sockets (sendmmsg)" : "one tool socket per call side");
    print_header();
    for (const Row& w : rows)
        print_row(w);
    for (const Row& w : baselines)
        print_row(w);
    std::string verdict;
    if (best == nullptr)
        verdict = "no N passed (loss < 0.01 % and p99 < 1 ms)";
    else
        verdict = "largest N with loss < 0.01 % and p99 < 1 ms: " + std::to_string(best->r.calls);
    std::string bound;
    const Row* failing = nullptr;
    for (const Row& w : rows)
        if (!w.passed() && (best == nullptr || w.r.calls > best->r.calls) &&
            (failing == nullptr || w.r.calls < failing->r.calls))
            failing = &w;
    if (failing == nullptr)
        bound = "none up to the largest N tried (" + std::to_string(largest) + ")";
    else
        bound = "at " + std::to_string(failing->r.calls) + " calls: " + bound_of(*failing);
    std::printf("\n%s; bound: %s.\n", verdict.c_str(), bound.c_str());
    if (!failure.empty()) std::printf("Failed: %s\n", failure.c_str());
    double busiest = 0;
    for (const Row& w : rows)
        busiest = std::max(busiest, w.others_cores());
    for (const Row& w : baselines)
        busiest = std::max(busiest, w.others_cores());
    if (busiest > kBusyMachine)
        std::printf(
            "Warning: other processes used up to %.2f cores during these runs (\"others' "
            "CPU\"): latency, lag and loss are disturbed by them.\n",
            busiest);
    for (const Row& b : baselines) {
        for (const Row& w : rows) {
            if (w.r.calls != b.r.calls) continue;
            auto added = [&](double q) {
                return static_cast<double>(w.r.latency.percentile(q)) -
                       static_cast<double>(b.r.latency.percentile(q));
            };
            std::printf(
                "Latency added by %s at %u calls (with minus without): p50 %s, p99 %s, "
                "p99.9 %s.\n",
                w.target.c_str(), w.r.calls, format_ns(added(0.5)).c_str(),
                format_ns(added(0.99)).c_str(), format_ns(added(0.999)).c_str());
        }
    }
    for (const Row& w : rows) {
        const uint64_t sent = w.r.totals.offered + w.r.warmup_sent;
        if (w.gateway_counted && *w.gateway_counted != sent)
            std::printf(
                "(%u calls: rtpengine counted %llu RTP packets received, the tool sent "
                "%llu with the warm-up.)\n",
                w.r.calls, static_cast<unsigned long long>(*w.gateway_counted),
                static_cast<unsigned long long>(sent));
    }

    if (!o.json.empty()) {
        std::FILE* f = std::fopen(o.json.c_str(), "w");
        if (f == nullptr) {
            std::fprintf(stderr, "capacity-sockets: cannot write %s: %s\n", o.json.c_str(),
                         std::strerror(errno));
            return 1;
        }
        std::fprintf(f,
                     "{\"target\": \"%s\", \"suite\": \"%s\", \"seconds\": %.3f, \"warmup\": "
                     "%.3f, \"packets_per_second_per_direction\": %u, \"gateway_pid\": %d, "
                     "\"ports\": \"%s\",\n \"runs\": [",
                     target->name().c_str(), suite.option, o.load.seconds, o.load.warmup,
                     o.load.packets_per_second, static_cast<int>(o.load.gateway_pid),
                     o.shared_ports ? "shared" : "per-call");
        for (std::size_t i = 0; i < rows.size(); ++i) {
            std::fputs(i ? ",\n  " : "\n  ", f);
            json_row(f, rows[i]);
        }
        std::fputs("],\n \"baselines\": [", f);
        for (std::size_t i = 0; i < baselines.size(); ++i) {
            std::fputs(i ? ",\n  " : "\n  ", f);
            json_row(f, baselines[i]);
        }
        std::fprintf(f, "],\n \"largest_passing_calls\": %s, \"bound\": \"%s\", \"error\": %s}\n",
                     best ? std::to_string(best->r.calls).c_str() : "null",
                     json_escape(bound).c_str(),
                     failure.empty() ? "null" : ("\"" + json_escape(failure) + "\"").c_str());
        std::fclose(f);
    }
    return 0;
}

}  // namespace
}  // namespace isthmus::bench::capacity

int main(int argc, char** argv) {
    const auto options = isthmus::bench::capacity::parse(argc, argv);
    try {
        return isthmus::bench::capacity::run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "capacity-sockets: %s\n", e.what());
        return 1;
    }
}
