#include "relay_report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace isthmus::bench {

namespace {

double worker_ns(const Results& r, const RelayCase& c) {
    if (c.packets == 0 || r.tsc_hz == 0) return 0;
    return static_cast<double>(c.worker_cycles) * 1e9 / static_cast<double>(r.tsc_hz) /
           static_cast<double>(c.packets);
}
double median_batch_ns(const RelayCase& c) {
    if (c.batch_ns.empty()) return 0;
    std::vector<double> v = c.batch_ns;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
}
// Thread CPU time over TSC time of the timed loops: below ~0.99 the worker
// was descheduled (another process on its CPU) and the figures are too high.
double cpu_share(const Results& r, const RelayCase& c) {
    if (c.worker_cycles == 0 || r.tsc_hz == 0) return 0;
    return static_cast<double>(c.worker_cpu_ns) /
           (static_cast<double>(c.worker_cycles) * 1e9 / static_cast<double>(r.tsc_hz));
}
double feeder_ns(const Results& r, const RelayCase& c) {
    if (c.packets == 0 || r.tsc_hz == 0) return 0;
    return static_cast<double>(c.feeder_cycles) * 1e9 / static_cast<double>(r.tsc_hz) /
           static_cast<double>(c.packets);
}
// The engine's cost for a direction: unprotect for SRTP -> RTP, protect for
// RTP -> SRTP.
double engine_ns(const Results& r, const RelayCase& c) {
    return c.direction == Direction::SrtpToRtp ? r.engine.unprotect_ns : r.engine.protect_ns;
}
double bound_mpps(const Results& r, const RelayCase& c) {
    return 1e3 / (r.io_ns + engine_ns(r, c));
}

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

std::string scenario(const RelayCase& c) {
    return c.rx_csum_offload ? "relay, rx csum offload" : "relay";
}

std::string testpmd_cell(const Results& r) {
    if (r.testpmd.empty()) return "not run";
    std::string s;
    for (const auto& t : r.testpmd) {
        if (!s.empty()) s += " / ";
        s += t.vdev + " " + (t.error.empty() ? fmt("%.1f", t.mpps) : "failed");
    }
    return s;
}

std::string json_string(const std::string& s) {
    std::string o = "\"";
    for (const char ch : s) {
        if (ch == '"' || ch == '\\') {
            o += '\\';
            o += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            o += fmt("\\u%04x", static_cast<double>(static_cast<unsigned char>(ch)));
        } else {
            o += ch;
        }
    }
    return o + "\"";
}

std::string first_line(const char* cmd) {
    std::string out;
    if (std::FILE* p = ::popen(cmd, "r")) {
        char line[256];
        if (std::fgets(line, sizeof line, p) != nullptr) out = line;
        ::pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
        out.pop_back();
    return out;
}

// The q-quantile (0..1) of v, nearest rank.
double quantile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(k, v.size() - 1)];
}
double per_packet(const Results& r, uint64_t cycles, uint64_t packets) {
    if (packets == 0 || r.tsc_hz == 0) return 0;
    return static_cast<double>(cycles) * 1e9 / static_cast<double>(r.tsc_hz) /
           static_cast<double>(packets);
}
const HandoffCase* handoff_case(const Results& r, const char* name) {
    for (const auto& c : r.handoff)
        if (c.name == name) return &c;
    return nullptr;
}
// ns/pkt in both workers' poll(), the median of the repetitions; busy:
// polls that handled nothing left out.
double handoff_ns(const HandoffCase& c) {
    return quantile(c.rep_ns, 0.5);
}
double handoff_busy_ns(const HandoffCase& c) {
    return quantile(c.rep_busy_ns, 0.5);
}
double handoff_fraction(const HandoffCase& c) {
    return c.packets == 0 ? 0
                          : static_cast<double>(c.handed_off[0]) / static_cast<double>(c.packets);
}
double per_poll(uint64_t frames, uint64_t polls) {
    return polls == 0 ? 0 : static_cast<double>(frames) / static_cast<double>(polls);
}

void print_handoff(std::FILE* out, const Results& r) {
    if (r.handoff.empty()) return;
    const HandoffCase& f = r.handoff.front();
    std::fprintf(
        out,
        "\nHand-off (--handoff): %u sessions, SRTP -> RTP; the workers' poll() run "
        "alternately on ONE thread (lcore %u; this machine has %ld vCPUs), so ns/pkt is "
        "the CPU time of both workers together; %zu repetitions of %llu packets, "
        "interleaved. Case c stands in for rte_flow steering, which no port here "
        "offers (docs/dataplane.md).\n\n",
        f.sessions, r.options.cpu, sysconf(_SC_NPROCESSORS_ONLN), f.rep_ns.size(),
        static_cast<unsigned long long>(f.rep_ns.empty() ? 0 : f.packets / f.rep_ns.size()));
    std::fprintf(
        out,
        "| case | what | ns/pkt both workers (median) | reps min-max | busy polls ns/pkt "
        "| worker 0 ns/pkt | worker 1 ns/pkt | idle polls ns/pkt | frames/busy poll w0, w1 "
        "| handed off | CPU share | relayed |\n");
    std::fprintf(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (const auto& c : r.handoff) {
        const double cpu =
            c.cycles == 0 ? 0 : static_cast<double>(c.cpu_ns) / per_packet(r, c.cycles, 1);
        std::fprintf(
            out,
            "| %s | %s | %.1f | %.1f-%.1f | %.1f | %.1f | %.1f | %.1f | %.1f, %.1f | %.1f%% | %.3f "
            "| %s |\n",
            c.name.c_str(), c.what.c_str(), handoff_ns(c), quantile(c.rep_ns, 0),
            quantile(c.rep_ns, 1), handoff_busy_ns(c), per_packet(r, c.worker_cycles[0], c.packets),
            per_packet(r, c.worker_cycles[1], c.packets),
            per_packet(r, c.idle_cycles[0] + c.idle_cycles[1], c.packets),
            per_poll(c.relayed[0] + c.handed_off[0], c.busy_polls[0]),
            per_poll(c.relayed[1], c.busy_polls[1]), 100.0 * handoff_fraction(c), cpu,
            c.ok() ? "all" : "**NO**");
    }
    for (const auto& c : r.handoff) {
        std::fprintf(
            out,
            "%s: relayed w0 %llu (expected %llu), w1 %llu (expected %llu); handed off w0 "
            "%llu (expected %llu), w1 %llu; TX queue 0 %llu, 1 %llu; dropped %llu%s%s; "
            "to kernel %llu; check %s.\n",
            c.name.c_str(), static_cast<unsigned long long>(c.relayed[0]),
            static_cast<unsigned long long>(c.expected[0]),
            static_cast<unsigned long long>(c.relayed[1]),
            static_cast<unsigned long long>(c.expected[1]),
            static_cast<unsigned long long>(c.handed_off[0]),
            static_cast<unsigned long long>(c.expected_handed_off),
            static_cast<unsigned long long>(c.handed_off[1]),
            static_cast<unsigned long long>(c.sent[0]), static_cast<unsigned long long>(c.sent[1]),
            static_cast<unsigned long long>(c.dropped), c.drops.empty() ? "" : " ", c.drops.c_str(),
            static_cast<unsigned long long>(c.to_kernel), c.check.c_str());
    }
    const HandoffCase* one = handoff_case(r, "1 worker");
    const HandoffCase* a = handoff_case(r, "a");
    const HandoffCase* b = handoff_case(r, "b");
    const HandoffCase* c = handoff_case(r, "c");
    const HandoffCase* d = handoff_case(r, "d");
    // The median of the repetitions' paired differences (they ran
    // interleaved, so what else ran on the machine mostly cancels), per
    // `per`: ns/pkt over all polls, and polls that did something.
    const auto paired = [](const std::vector<double>& x, const std::vector<double>& y) {
        std::vector<double> dv;
        for (std::size_t k = 0; k < x.size() && k < y.size(); ++k)
            dv.push_back(x[k] - y[k]);
        return quantile(dv, 0.5);
    };
    const auto diff = [&](const HandoffCase* x, const HandoffCase* y, double per) {
        return fmt("%.1f", paired(x->rep_ns, y->rep_ns) / per) + " (" +
               fmt("%.1f", paired(x->rep_busy_ns, y->rep_busy_ns) / per) + ")";
    };
    std::fprintf(out,
                 "\nMedians of the repetitions' paired differences, ns (busy polls only in "
                 "brackets):\n");
    if (b != nullptr && handoff_fraction(*b) > 0) {
        const double fr = handoff_fraction(*b);
        if (a != nullptr) {
            std::fprintf(out, "- extra CPU per handed-off packet, (b - a) / %.3f: %s\n", fr,
                         diff(b, a, fr).c_str());
        }
        if (c != nullptr) {
            std::fprintf(out, "- against steering, (b - c) / %.3f: %s\n", fr,
                         diff(b, c, fr).c_str());
        }
        if (d != nullptr) {
            std::fprintf(out, "- the hand-off's own work, bursts alike, (b - d) / %.3f: %s\n", fr,
                         diff(b, d, fr).c_str());
        }
    }
    if (c != nullptr && d != nullptr)
        std::fprintf(
            out, "- bursts split between the workers (~16) instead of 32, d - c: %s per packet\n",
            diff(d, c, 1).c_str());
    if (c != nullptr && a != nullptr) {
        std::fprintf(out,
                     "- two steered workers against worker 0 doing all, c - a: %s per packet\n",
                     diff(c, a, 1).c_str());
    }
    if (a != nullptr && one != nullptr) {
        std::fprintf(out,
                     "- two workers, nothing handed off, against one worker, a - 1 worker: %s per "
                     "packet\n",
                     diff(a, one, 1).c_str());
    }
    if (b != nullptr) {
        std::fprintf(out,
                     "Worker 0's polls in b that handed frames off and returned 0 (counted busy "
                     "here): %llu of %llu.\n",
                     static_cast<unsigned long long>(b->zero_return_handoffs),
                     static_cast<unsigned long long>(b->polls[0]));
    }
}

void print_latency(std::FILE* out, const Results& r) {
    if (r.latency.empty()) return;
    std::fprintf(out,
                 "\nCommand to first packet (--command-latency): %zu sessions per mode created "
                 "one after another, SRTP -> RTP, the first packet already on the RX ring; time "
                 "from pushing SessionCreate + SetNextHop (core) into the inbox to the packet on "
                 "the core port's TX ring (TSC; pushes and polls only).\n\n",
                 r.latency.front().us.size());
    std::fprintf(out,
                 "| mode | what | background sessions | p50 us | p99 us | max us | polls mean, max "
                 "| a burst of 32 alone, median us | ok |\n");
    std::fprintf(out, "|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (const auto& c : r.latency) {
        std::fprintf(out, "| %s | %s | %u | %.2f | %.2f | %.2f | %.2f, %u | %s | %s |\n",
                     c.mode.c_str(), c.what.c_str(), c.background, quantile(c.us, 0.5),
                     quantile(c.us, 0.99), quantile(c.us, 1), per_poll(c.polls, c.us.size()),
                     c.max_polls,
                     c.burst_us.empty() ? "-" : fmt("%.2f", quantile(c.burst_us, 0.5)).c_str(),
                     c.ok() ? "yes" : ("**NO**: " + c.check).c_str());
    }
}

std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    for (std::string line; std::getline(f, line);) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) return line.substr(colon + 2);
        }
    }
    return "unknown";
}

}  // namespace

TestpmdRun run_testpmd(const Options& o, const std::string& vdev) {
    TestpmdRun t;
    t.vdev = vdev;
    const unsigned main_lcore = o.cpu == 0 ? 1 : 0;
    t.command = "timeout -s INT " + std::to_string(o.testpmd_seconds) + " " + o.testpmd +
                " --no-huge --no-pci -m 1024 --no-shconf --file-prefix relaybench-testpmd" +
                std::to_string(getpid()) + " --vdev " + vdev + "0 --vdev " + vdev + "1 -l " +
                std::to_string(main_lcore) + "," + std::to_string(o.cpu) + " -- --forward-mode=io" +
                (vdev == "net_ring" ? " --tx-first" : "") +
                " --stats-period 1 --burst=32 --total-num-mbufs=16384 --nb-cores=1";
    std::fprintf(stderr, "relay_bench: %s\n", t.command.c_str());
    std::FILE* p = ::popen((t.command + " 2>&1").c_str(), "r");
    if (p == nullptr) {
        t.error = "popen failed";
        return t;
    }
    // Each "Port statistics" block gives Rx-pps of both ports over the last second.
    std::vector<double> sums;
    double sum = 0;
    bool in_block = false;
    char line[512];
    while (std::fgets(line, sizeof line, p) != nullptr) {
        if (std::strstr(line, "Port statistics") != nullptr) {
            if (in_block) sums.push_back(sum);
            in_block = true;
            sum = 0;
        } else if (const char* rx = std::strstr(line, "Rx-pps:")) {
            sum += std::strtod(rx + 7, nullptr);
        }
    }
    if (in_block) sums.push_back(sum);
    const int rc = ::pclose(p);
    // Skip the blocks before forwarding started and the first one after
    // (a partial second).
    std::vector<double> steady;
    bool seen = false;
    for (const double s : sums) {
        if (s <= 0) continue;
        if (seen) steady.push_back(s);
        seen = true;
    }
    if (steady.empty()) {
        t.error = "no forwarding figures in its output (exit status " + std::to_string(rc) + ")";
        return t;
    }
    std::sort(steady.begin(), steady.end());
    t.samples = static_cast<unsigned>(steady.size());
    t.mpps = steady[steady.size() / 2] / 1e6;
    return t;
}

std::string load_average() {
    std::ifstream f("/proc/loadavg");
    std::string line;
    std::getline(f, line);
    return line;
}

std::string source_commit() {
    const std::string c = first_line("git -C '" ISTHMUS_SOURCE_ROOT
                                     "' describe --always --dirty --abbrev=7 2>/dev/null");
    return c.empty() ? "unknown" : c;
}

void print_report(std::FILE* out, const Results& r) {
    std::fprintf(out, "Commit %s; CPU %s; TSC %.3f GHz; batch %u; lcore %u.\n\n", r.commit.c_str(),
                 cpu_model().c_str(), static_cast<double>(r.tsc_hz) / 1e9, r.options.batch,
                 r.options.cpu);
    std::fprintf(
        out,
        "| scenario | sessions | direction | worker ns/pkt | Mpps/core | median batch ns/pkt "
        "| io-bound ns/pkt | srtp-engine ns/pkt | bound Mpps | %% of bound "
        "| testpmd io Mpps | relayed |\n");
    std::fprintf(out, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
    const std::string tp = testpmd_cell(r);
    for (const auto& c : r.cases) {
        const double ns = worker_ns(r, c);
        const double bound = bound_mpps(r, c);
        std::fprintf(
            out, "| %s | %u | %s | %.1f | %.2f | %.1f | %.1f | %.1f | %.2f | %.0f%% | %s | %s |\n",
            scenario(c).c_str(), c.sessions, direction_name(c.direction), ns, 1e3 / ns,
            median_batch_ns(c), r.io_ns, engine_ns(r, c), bound, 100.0 * (1e3 / ns) / bound,
            tp.c_str(), c.ok() ? "all" : "**NO**");
    }
    std::fprintf(out,
                 "\nSRTP engine alone (bursts of 32, one context, job checks off): "
                 "unprotect_rtp %.1f ns/pkt, protect_rtp %.1f ns/pkt. "
                 "io forwarding on the same ring ports: %.2f ns/pkt (%.0f Mpps).\n",
                 r.engine.unprotect_ns, r.engine.protect_ns, r.io_ns, 1e3 / r.io_ns);
    for (const auto& t : r.testpmd) {
        if (t.error.empty()) {
            std::fprintf(out, "dpdk-testpmd io, %s: %.1f Mpps (median of %u one-second figures).\n",
                         t.vdev.c_str(), t.mpps, t.samples);
        } else {
            std::fprintf(out, "dpdk-testpmd io, %s: %s.\n", t.vdev.c_str(), t.error.c_str());
        }
    }
    if (!r.testpmd_note.empty()) std::fprintf(out, "dpdk-testpmd: %s.\n", r.testpmd_note.c_str());
    std::fprintf(out, "\n| sessions | table MiB | worker setup s | create ns/session |\n");
    std::fprintf(out, "|---:|---:|---:|---:|\n");
    for (const auto& s : r.setups) {
        std::fprintf(out, "| %u | %.0f | %.2f | %.0f |\n", s.sessions, s.table_mib,
                     s.worker_setup_s, s.create_ns);
    }
    std::fprintf(out,
                 "\n| sessions | direction | timed packets | worker CPU share | feeder ns/pkt "
                 "| check |\n");
    std::fprintf(out, "|---:|---|---:|---:|---:|---|\n");
    for (const auto& c : r.cases) {
        std::fprintf(out, "| %u | %s%s | %llu | %.3f | %.0f | %s%s%s |\n", c.sessions,
                     direction_name(c.direction), c.rx_csum_offload ? " (csum offload)" : "",
                     static_cast<unsigned long long>(c.packets), cpu_share(r, c), feeder_ns(r, c),
                     c.check.c_str(), c.drops.empty() ? "" : "; drops ", c.drops.c_str());
        if (!c.ok()) {
            std::fprintf(
                out,
                "|  | offered %llu, rx %llu, relayed %llu, sent %llu, dropped %llu, "
                "to kernel %llu, wrong port %llu |  |  |  |\n",
                static_cast<unsigned long long>(c.packets), static_cast<unsigned long long>(c.rx),
                static_cast<unsigned long long>(c.relayed), static_cast<unsigned long long>(c.sent),
                static_cast<unsigned long long>(c.dropped),
                static_cast<unsigned long long>(c.to_kernel),
                static_cast<unsigned long long>(c.wrong_port));
        }
    }
    print_handoff(out, r);
    print_latency(out, r);
    std::fprintf(out, "\nLoad average before: %s; after: %s.\n", r.load_before.c_str(),
                 r.load_after.c_str());
    std::fflush(out);
}

void write_json(const std::string& path, const Results& r) {
    std::ofstream f(path);
    if (!f) throw std::runtime_error("cannot write " + path);
    const auto num = [](double v) { return fmt("%.3f", v); };
    f << "{\n  \"bench\": \"relay_bench\",\n";
    f << "  \"commit\": " << json_string(r.commit) << ",\n";
    f << "  \"command\": " << json_string(r.command) << ",\n";
    f << "  \"load_before\": " << json_string(r.load_before)
      << ",\n  \"load_after\": " << json_string(r.load_after) << ",\n";
    f << "  \"cpu\": " << json_string(cpu_model()) << ",\n";
    f << "  \"tsc_hz\": " << r.tsc_hz << ",\n";
    f << "  \"packet\": \"172-octet RTP, AES_CM_128_HMAC_SHA1_80 (182 octets SRTP), IPv4\",\n";
    f << "  \"batch\": " << r.options.batch << ",\n  \"lcore\": " << r.options.cpu << ",\n";
    f << "  \"io_bound_ns_per_pkt\": " << num(r.io_ns) << ",\n";
    f << "  \"srtp_engine\": {\"unprotect_rtp_ns_per_pkt\": " << num(r.engine.unprotect_ns)
      << ", \"protect_rtp_ns_per_pkt\": " << num(r.engine.protect_ns)
      << ", \"burst\": 32, \"job_checks\": false},\n";
    f << "  \"testpmd\": [";
    for (std::size_t i = 0; i < r.testpmd.size(); ++i) {
        const TestpmdRun& t = r.testpmd[i];
        f << (i ? ",\n" : "\n") << "    {\"vdev\": " << json_string(t.vdev)
          << ", \"mpps\": " << num(t.mpps) << ", \"samples\": " << t.samples
          << ", \"error\": " << json_string(t.error) << ", \"command\": " << json_string(t.command)
          << "}";
    }
    f << (r.testpmd.empty() ? "" : "\n  ") << "],\n";
    f << "  \"testpmd_note\": " << json_string(r.testpmd_note) << ",\n";
    f << "  \"setups\": [";
    for (std::size_t i = 0; i < r.setups.size(); ++i) {
        const SessionSetup& s = r.setups[i];
        f << (i ? ",\n" : "\n") << "    {\"sessions\": " << s.sessions
          << ", \"table_mib\": " << num(s.table_mib)
          << ", \"worker_setup_s\": " << num(s.worker_setup_s)
          << ", \"create_ns_per_session\": " << num(s.create_ns) << "}";
    }
    f << "\n  ],\n  \"cases\": [";
    for (std::size_t i = 0; i < r.cases.size(); ++i) {
        const RelayCase& c = r.cases[i];
        const double ns = worker_ns(r, c);
        const double bound = bound_mpps(r, c);
        f << (i ? ",\n" : "\n") << "    {\"scenario\": " << json_string(scenario(c))
          << ", \"sessions\": " << c.sessions
          << ", \"direction\": " << json_string(direction_name(c.direction))
          << ", \"worker_ns_per_pkt\": " << num(ns) << ", \"mpps_per_core\": " << num(1e3 / ns)
          << ", \"median_batch_ns_per_pkt\": " << num(median_batch_ns(c))
          << ", \"worker_cpu_share\": " << num(cpu_share(r, c))
          << ", \"io_bound_ns_per_pkt\": " << num(r.io_ns)
          << ", \"srtp_engine_ns_per_pkt\": " << num(engine_ns(r, c))
          << ", \"bound_mpps\": " << num(bound)
          << ", \"percent_of_bound\": " << num(100.0 * (1e3 / ns) / bound)
          << ", \"feeder_ns_per_pkt\": " << num(feeder_ns(r, c)) << ", \"packets\": " << c.packets
          << ", \"rx\": " << c.rx << ", \"relayed\": " << c.relayed << ", \"sent\": " << c.sent
          << ", \"dropped\": " << c.dropped << ", \"drops\": " << json_string(c.drops)
          << ", \"to_kernel\": " << c.to_kernel << ", \"check\": " << json_string(c.check)
          << ", \"ok\": " << (c.ok() ? "true" : "false") << "}";
    }
    f << "\n  ],\n  \"handoff\": [";
    for (std::size_t i = 0; i < r.handoff.size(); ++i) {
        const HandoffCase& c = r.handoff[i];
        f << (i ? ",\n" : "\n") << "    {\"case\": " << json_string(c.name)
          << ", \"what\": " << json_string(c.what) << ", \"workers\": " << c.workers
          << ", \"rx_queues\": " << c.rx_queues << ", \"sessions\": " << c.sessions
          << ", \"sessions_on_worker1\": " << c.on_worker1
          << ", \"frames_per_queue_per_pass\": " << c.chunk
          << ", \"ns_per_pkt_median\": " << num(handoff_ns(c)) << ", \"ns_per_pkt_reps\": [";
        for (std::size_t k = 0; k < c.rep_ns.size(); ++k)
            f << (k ? ", " : "") << num(c.rep_ns[k]);
        f << "], \"busy_polls_ns_per_pkt_median\": " << num(handoff_busy_ns(c))
          << ", \"busy_polls_ns_per_pkt_reps\": [";
        for (std::size_t k = 0; k < c.rep_busy_ns.size(); ++k)
            f << (k ? ", " : "") << num(c.rep_busy_ns[k]);
        f << "], \"worker_ns_per_pkt\": [" << num(per_packet(r, c.worker_cycles[0], c.packets))
          << ", " << num(per_packet(r, c.worker_cycles[1], c.packets))
          << "], \"idle_polls_ns_per_pkt\": "
          << num(per_packet(r, c.idle_cycles[0] + c.idle_cycles[1], c.packets)) << ", \"polls\": ["
          << c.polls[0] << ", " << c.polls[1] << "], \"busy_polls\": [" << c.busy_polls[0] << ", "
          << c.busy_polls[1] << "], \"zero_return_handoff_polls\": " << c.zero_return_handoffs
          << ", \"packets\": " << c.packets << ", \"relayed\": [" << c.relayed[0] << ", "
          << c.relayed[1] << "], \"expected\": [" << c.expected[0] << ", " << c.expected[1]
          << "], \"handed_off\": [" << c.handed_off[0] << ", " << c.handed_off[1]
          << "], \"expected_handed_off\": " << c.expected_handed_off << ", \"sent_per_tx_queue\": ["
          << c.sent[0] << ", " << c.sent[1] << "], \"dropped\": " << c.dropped
          << ", \"drops\": " << json_string(c.drops) << ", \"to_kernel\": " << c.to_kernel
          << ", \"check\": " << json_string(c.check) << ", \"ok\": " << (c.ok() ? "true" : "false")
          << "}";
    }
    f << (r.handoff.empty() ? "" : "\n  ") << "],\n  \"command_latency\": [";
    for (std::size_t i = 0; i < r.latency.size(); ++i) {
        const LatencyCase& c = r.latency[i];
        f << (i ? ",\n" : "\n") << "    {\"mode\": " << json_string(c.mode)
          << ", \"what\": " << json_string(c.what) << ", \"background_sessions\": " << c.background
          << ", \"sessions\": " << c.us.size() << ", \"p50_us\": " << num(quantile(c.us, 0.5))
          << ", \"p99_us\": " << num(quantile(c.us, 0.99))
          << ", \"max_us\": " << num(quantile(c.us, 1))
          << ", \"burst_of_32_median_us\": " << num(quantile(c.burst_us, 0.5))
          << ", \"polls\": " << c.polls << ", \"max_polls\": " << c.max_polls
          << ", \"failed\": " << c.failed << ", \"check\": " << json_string(c.check)
          << ", \"ok\": " << (c.ok() ? "true" : "false") << "}";
    }
    f << (r.latency.empty() ? "" : "\n  ") << "]\n}\n";
    if (!f) throw std::runtime_error("writing " + path + " failed");
}

}  // namespace isthmus::bench
