// relay_bench: packets per second of the relay on one worker core (issue 4),
// 172-octet AES_CM_128_HMAC_SHA1_80 SRTP -> RTP and RTP -> SRTP, at 1, 1k,
// 10k and 1M sessions, next to what bounds it in the same run:
//   io      the same two ring ports forwarding with no processing (each pass
//           rx_burst on both ports, tx_burst to the other; testpmd's io mode)
//   engine  srtp::unprotect_rtp / protect_rtp of 172-octet packets in bursts
//           of 32 on one context, job checks off as the worker runs it
//   bound   1e3 / (io + engine) Mpps
//   testpmd Debian's dpdk-testpmd in io forward mode on net_ring (two
//           loopback ports, --tx-first) and net_null vdevs, when installed
//
// Method. One process, one lcore. Two ports made with rte_eth_from_rings,
// access and core, each with an RX and a TX ring the bench owns. Sessions are
// created through the worker's inbox as the main lcore does (SessionCreate,
// SetNextHop for both legs; relay_traffic.hpp says what they are). For each
// session count and direction, a feeder writes a batch of frames (default
// 4096) into mbufs and enqueues them on the arrival port's RX ring; then
// Worker::poll() runs until it has taken them all: only that loop is timed
// (TSC). The frames it sent are then taken off the other port's TX ring and
// reused for the next batch. Every batch sends each session at most one
// packet per round, sessions in a new random order every round, each round
// with the next SRTP index, so no packet is a replay. The first round (or
// batch) is warm-up; the timed part is at least --packets packets and two
// rounds. After each run the worker's counters must say that every packet
// offered was relayed (no drop, nothing to the kernel) and the first frame
// sent of the timed part is parsed and, for RTP -> SRTP, decrypted.
//
// Reported per case: worker ns/packet over all timed packets (TSC), the
// median over batches (a check on noise: the two differ when something else
// ran), and the worker's thread CPU time over its TSC time (below ~0.99:
// it was descheduled, the figures are too high). Packet data is warm: the
// feeder has just written it (a batch of 4096 is ~1.5 MB of frames and mbuf
// headers, more than this core's L2). The ring PMD neither allocates nor
// frees mbufs, so the io bound has no mempool cost; a NIC PMD would add it.
//
// Two more sections, off by default (relay_worker.hpp): --handoff, two
// workers on one thread, the software hand-off from one RX queue against
// RX queues steered by owner (relay_handoff.cpp); --command-latency, the
// time from a SessionCreate to the session's first packet out
// (relay_latency.cpp).
//
//   build/bench/relay_bench [--sessions 1,1000,10000,1000000] [--json FILE] ...
//   build/bench/relay_bench --sessions none --testpmd none --handoff --command-latency
// (--help lists every option; docs/performance.md "Relay (issue 4)").
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dpdk.hpp"
#include "relay_report.hpp"
#include "relay_rig.hpp"
#include "relay_traffic.hpp"
#include "relay_worker.hpp"
#include "worker.hpp"

namespace isthmus::bench {
namespace {

using dataplane::Worker;

constexpr uint64_t kHandoffPackets = 131072;  // timed per case and repetition
constexpr unsigned kHandoffReps = 16;
constexpr uint32_t kLatencySessions = 2000;

constexpr const char* kUsage =
    "usage: relay_bench [options]\n"
    "\n"
    "  --sessions LIST|none   session counts, comma separated (default 1,1000,10000,1000000);\n"
    "                         none: only the bounds and the sections below\n"
    "  --directions LIST      srtp_to_rtp, rtp_to_srtp or both (default both)\n"
    "  --packets N            timed packets per session count and direction, at least\n"
    "                         two rounds of every session (default 2000000)\n"
    "  --batch N              frames fed per timed poll loop (default 4096)\n"
    "  --rx-csum-offload      also run every case with the mbufs' RX checksum flags\n"
    "                         saying GOOD, as a NIC that verified them would\n"
    "  --cpu N                the lcore to run on (default 1)\n"
    "  --testpmd PATH|none    dpdk-testpmd to run in io mode (default /usr/bin/dpdk-testpmd)\n"
    "  --testpmd-seconds S    how long each testpmd run lasts (default 10)\n"
    "  --json FILE            write the results there (e.g. docs/relay_bench.json)\n"
    "  --handoff              also: 1,000 sessions on two workers polled on this thread,\n"
    "                         software hand-off from one RX queue against two RX queues\n"
    "                         steered by owner (~10 s)\n"
    "  --command-latency      also: SessionCreate to the session's first packet out,\n"
    "                         2,000 sessions, idle and busy worker (~2 s)\n"
    "  --no-capture-area      the worker without the dpif capture area (by default it has\n"
    "                         one with no capture running, as in the dataplane)\n"
    "  --police KBPS          police both legs of every session at KBPS kb/s (8..10000000;\n"
    "                         10000000 drops nothing: the policer's cost per packet)\n";

uint64_t parse_count(const std::string& s, const char* what) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v == 0) die(std::string("bad ") + what + ": " + s);
    return v;
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value after " + a);
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (a == "--sessions") {
            o.sessions.clear();
            const std::string list = value();
            if (list == "none") continue;
            std::stringstream ss(list);
            for (std::string item; std::getline(ss, item, ',');) {
                const uint64_t n = parse_count(item, "session count");
                if (n > (1U << 24)) die("at most 16777216 sessions");
                o.sessions.push_back(static_cast<uint32_t>(n));
            }
        } else if (a == "--directions") {
            o.directions.clear();
            std::stringstream ss(value());
            for (std::string item; std::getline(ss, item, ',');) {
                if (item == direction_name(Direction::SrtpToRtp)) {
                    o.directions.push_back(Direction::SrtpToRtp);
                } else if (item == direction_name(Direction::RtpToSrtp)) {
                    o.directions.push_back(Direction::RtpToSrtp);
                } else {
                    die("unknown direction '" + item + "'");
                }
            }
        } else if (a == "--packets") {
            o.packets = parse_count(value(), "packet count");
        } else if (a == "--batch") {
            o.batch =
                static_cast<uint32_t>(std::min<uint64_t>(parse_count(value(), "batch"), 65536));
        } else if (a == "--rx-csum-offload") {
            o.rx_csum_offload = true;
        } else if (a == "--cpu") {
            o.cpu = static_cast<unsigned>(std::stoul(value()));
        } else if (a == "--testpmd") {
            o.testpmd = value();
        } else if (a == "--testpmd-seconds") {
            o.testpmd_seconds = static_cast<unsigned>(parse_count(value(), "seconds"));
        } else if (a == "--json") {
            o.json = value();
        } else if (a == "--handoff") {
            o.handoff = true;
        } else if (a == "--command-latency") {
            o.command_latency = true;
        } else if (a == "--no-capture-area") {
            o.capture_area = false;
        } else if (a == "--police") {
            o.police_kbps = static_cast<uint32_t>(parse_count(value(), "--police"));
            if (o.police_kbps < 8 || o.police_kbps > 10000000) die("--police: 8..10000000 kb/s");
        } else {
            die("unknown argument '" + a + "'\n\n" + kUsage);
        }
    }
    return o;
}
struct Snapshot {
    uint64_t rx = 0, relayed = 0, to_kernel = 0, dropped = 0;
    std::vector<uint64_t> drops;
};
Snapshot snapshot(const Worker& w, Side in) {
    const session::RelayCounters& c = w.counters();
    const auto s = static_cast<std::size_t>(in);
    Snapshot sn{c.rx_packets[s], c.relayed_packets[s], c.to_kernel, 0,
                std::vector<uint64_t>(c.drops.begin(), c.drops.end())};
    for (uint64_t d : c.drops)
        sn.dropped += d;
    return sn;
}

// Feeds `packets` packets of direction d through the worker, `timed`:
// adds the worker's and the feeder's cycles to the case. Checks the first
// frame sent when `check`.
void run_packets(Rig& rig, Worker& w, FrameWriter& fw, Cursor& cur, Direction d, uint64_t packets,
                 bool csum_good, bool check, RelayCase& rc, bool timed) {
    const Side in = arrival_side(d);
    const Side out = session::other(in);
    std::vector<rte_mbuf*> m(rig.batch());
    std::vector<uint32_t> first_session(1);
    std::vector<uint64_t> first_round(1);
    const uint64_t offload =
        csum_good ? RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD : 0;
    for (uint64_t done = 0; done < packets;) {
        const auto n = static_cast<uint32_t>(std::min<uint64_t>(rig.batch(), packets - done));
        const uint64_t f0 = rte_rdtsc();
        rig.take(n, m.data());
        for (uint32_t k = 0; k < n; ++k) {
            uint32_t session = 0;
            uint64_t round = 0;
            cur.next(session, round);
            if (k == 0) {
                first_session[0] = session;
                first_round[0] = round;
            }
            const uint32_t len =
                fw.write(d, session, round, dataplane::mbuf_data(m[k]), rte_pktmbuf_tailroom(m[k]));
            if (len == 0) die("the feeder could not make a frame");
            m[k]->data_len = static_cast<uint16_t>(len);
            m[k]->pkt_len = len;
            m[k]->ol_flags = offload;
            m[k]->port = rig.port(in);
        }
        rig.receive(in, m.data(), n);
        const uint64_t c0 = thread_cpu_ns();
        const uint64_t t0 = rte_rdtsc();
        uint32_t handled = 0;
        while (handled < n) {
            const unsigned got = w.poll();
            if (got == 0) break;
            handled += got;
        }
        const uint64_t t1 = rte_rdtsc();
        const uint64_t c1 = thread_cpu_ns();
        if (handled != n) die("the worker stopped taking frames");
        bool first = true;
        const uint32_t back = rig.sent(out, [&](rte_mbuf* mb) {
            if (check && first && timed) {
                const std::string why =
                    fw.check(d, first_session[0], first_round[0], dataplane::mbuf_data(mb),
                             rte_pktmbuf_data_len(mb));
                if (!why.empty()) rc.check = why;
                if (rc.check.empty()) rc.check = "ok";
            }
            first = false;
        });
        check = check && !timed;
        rc.wrong_port += rig.sent(in, [](rte_mbuf*) {});
        rte_mbuf* k[64];
        for (std::size_t got; (got = w.to_kernel.pop_burst(std::span(k))) != 0;) {
            for (std::size_t j = 0; j < got; ++j)
                rig.keep(k[j]);
        }
        if (timed) {
            rc.worker_cycles += t1 - t0;
            rc.worker_cpu_ns += c1 - c0;
            rc.batch_ns.push_back(ns_per(t1 - t0, n));
            rc.feeder_cycles += t0 - f0;
            rc.packets += n;
            rc.sent += back;
        }
        done += n;
    }
}

// `cur` continues the direction's rounds of earlier cases on these sessions.
RelayCase run_case(Rig& rig, Worker& w, FrameWriter& fw, Cursor& cur, uint32_t sessions,
                   Direction d, bool csum_good, uint64_t packets) {
    RelayCase rc;
    rc.sessions = sessions;
    rc.direction = d;
    rc.rx_csum_offload = csum_good;
    const uint64_t warmup = std::max<uint64_t>(sessions, rig.batch());
    const uint64_t timed = std::max<uint64_t>(packets, 2ULL * sessions);
    run_packets(rig, w, fw, cur, d, warmup, csum_good, false, rc, false);
    const Side in = arrival_side(d);
    const Snapshot before = snapshot(w, in);
    run_packets(rig, w, fw, cur, d, timed, csum_good, true, rc, true);
    const Snapshot after = snapshot(w, in);
    rc.rx = after.rx - before.rx;
    rc.relayed = after.relayed - before.relayed;
    rc.to_kernel = after.to_kernel - before.to_kernel;
    for (std::size_t r = 1; r < after.drops.size(); ++r) {
        const uint64_t n = after.drops[r] - before.drops[r];
        if (n != 0) {
            rc.drops += std::string(rc.drops.empty() ? "" : ",") +
                        std::string(session::relay_drop_name(static_cast<session::RelayDrop>(r))) +
                        "=" + std::to_string(n);
        }
        rc.dropped += n;
    }
    return rc;
}

}  // namespace
}  // namespace isthmus::bench

int main(int argc, char** argv) try {
    using namespace isthmus::bench;
    Options o = parse_options(argc, argv);
    Results res;
    res.options = o;
    for (int i = 0; i < argc; ++i)
        res.command += (i ? " " : "") + std::string(argv[i]);
    res.load_before = load_average();

    // testpmd first: its own EAL instance, before ours, on the same CPUs.
    if (o.testpmd != "none" && access(o.testpmd.c_str(), X_OK) == 0) {
        for (const char* vdev : {"net_ring", "net_null"})
            res.testpmd.push_back(run_testpmd(o, vdev));
    } else {
        res.testpmd_note = o.testpmd == "none" ? "not run (--testpmd none)"
                                               : o.testpmd + " not found (apt-get install dpdk)";
    }

    const std::string lcore = std::to_string(o.cpu);
    const std::string prefix = "relaybench" + std::to_string(getpid());
    std::vector<std::string> eal = {argv[0],         "-l",   lcore,         "--no-huge",
                                    "--no-pci",      "-m",   "2048",        "--no-shconf",
                                    "--file-prefix", prefix, "--log-level", "lib.eal:warning"};
    std::vector<char*> eal_argv;
    for (auto& s : eal)
        eal_argv.push_back(s.data());
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        die(std::string("EAL init: ") + rte_strerror(rte_errno));
    }
    res.tsc_hz = rte_get_tsc_hz();
    {
        Rig rig(o.batch);
        FrameWriter fw(rig.mac(isthmus::session::Side::Access),
                       rig.mac(isthmus::session::Side::Core));
        std::fprintf(stderr, "relay_bench: io forwarding...\n");
        res.io_ns = measure_io(rig, fw, 20000000);
        std::fprintf(stderr, "relay_bench: SRTP engine...\n");
        res.engine = measure_engine(4000000);
        // As the dataplane's region holds it: no capture running (seq 0).
        const auto capture_area = std::make_unique<isthmus::dpif::CaptureArea>();
        for (const uint32_t sessions : o.sessions) {
            isthmus::dataplane::WorkerSetup ws;
            for (std::size_t s = 0; s < 2; ++s) {
                const auto side = static_cast<isthmus::session::Side>(s);
                ws.ports[s].present = true;
                ws.ports[s].port = rig.port(side);
                std::memcpy(ws.ports[s].mac, rig.mac(side), 6);
            }
            ws.limits = {sessions, 0};
            ws.publish_cycles = rte_get_tsc_hz() * 3600;
            ws.capture = o.capture_area ? capture_area.get() : nullptr;
            std::fprintf(stderr, "relay_bench: %u sessions: setting up...\n", sessions);
            SessionSetup setup;
            setup.sessions = sessions;
            uint64_t t0 = rte_rdtsc();
            auto w = std::make_unique<isthmus::dataplane::Worker>(ws);
            setup.worker_setup_s = static_cast<double>(ns_cycles(rte_rdtsc() - t0)) / 1e9;
            setup.table_mib = static_cast<double>(w->table().memory_bytes()) / (1 << 20);
            std::vector<uint32_t> all(sessions);
            for (uint32_t i = 0; i < sessions; ++i)
                all[i] = i;
            setup.create_ns = create_sessions(*w, all, o.police_kbps);
            res.setups.push_back(setup);
            Cursor cursors[2] = {Cursor(sessions), Cursor(sessions)};  // by Direction
            for (const bool csum : {false, true}) {
                if (csum && !o.rx_csum_offload) continue;
                for (const Direction d : o.directions) {
                    std::fprintf(stderr, "relay_bench: %u sessions: %s%s...\n", sessions,
                                 direction_name(d), csum ? " (rx checksum offload)" : "");
                    res.cases.push_back(run_case(rig, *w, fw, cursors[static_cast<std::size_t>(d)],
                                                 sessions, d, csum, o.packets));
                }
            }
            t0 = rte_rdtsc();
            w.reset();
            std::fprintf(stderr, "relay_bench: %u sessions: released in %.1f s\n", sessions,
                         static_cast<double>(ns_cycles(rte_rdtsc() - t0)) / 1e9);
        }
    }
    if (o.handoff) res.handoff = measure_handoff(o.batch, kHandoffPackets, kHandoffReps);
    if (o.command_latency) res.latency = measure_command_latency(kLatencySessions);
    res.load_after = load_average();
    res.commit = source_commit();
    print_report(stdout, res);
    if (!o.json.empty()) write_json(o.json, res);
    rte_eal_cleanup();
    bool all_ok = true;
    for (const auto& c : res.cases)
        all_ok = all_ok && c.ok();
    for (const auto& c : res.handoff)
        all_ok = all_ok && c.ok();
    for (const auto& c : res.latency)
        all_ok = all_ok && c.ok();
    return all_ok ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "relay_bench: %s\n", e.what());
    return 1;
}
