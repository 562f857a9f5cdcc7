// capacity-rings: concurrent calls one worker core carries (issue 12), with
// the gateway's ports as memory rings fed by the load tool in the same
// process, so that the gateway's own limit shows where a kernel packet
// path would be the bottleneck.
//
// Method. EAL with two lcores: the main lcore is the load tool, the second
// runs one dataplane::Worker (the dataplane's own worker loop, Worker::run)
// on two ring ports (access, core; relay_rig.hpp) with RX/TX rings of
// --ring descriptors, as a NIC's. Call i is relay_traffic.hpp's session i:
// the browser side sends SRTP (AES_CM_128_HMAC_SHA1_80, 172-octet G.711
// RTP + 10-octet tag; --suite aead_aes_128_gcm and --codec opus, 92-octet
// Opus RTP at 32 kb/s, change them) to the access leg, the IMS side plain
// RTP to the core leg, each 50 packets/s, so a call is 100 packets/s
// through the worker.
// Sessions are created through the worker's inbox as the main lcore does
// (SessionCreate, SetNextHop for both legs).
//
// For each N of --calls, sessions 0..N-1 send for --seconds: packet k of
// the run (k = 0, 1, ...) is due at start + k * 20 ms / (2N): call
// (k mod 2N) / 2, direction k mod 2, round k / 2N, so every call sends
// once per direction every 20 ms at its own phase. The tool writes due
// packets into mbufs (protecting the browser's with its own SRTP context),
// stamps them (TSC) and enqueues them on the arrival port's RX ring; a
// full RX ring drops them (counted, as a NIC's rx_missed). Packets over
// 2 ms overdue when the tool gets to them (it was descheduled) are skipped,
// not sent in one burst, and counted (not in "offered", so not in the
// loss); a run that skips more than 1 % or whose p99 lag passes 1 ms did
// not offer its load. Between bursts
// it takes what the worker sent off both TX rings and checks every frame
// (FrameWriter::check: addresses, MACs, RTP header, payload; the SRTP the
// worker made toward the browser is unprotected with the access leg's
// keys), then counts it in LoadStats (loss, reordering, duplicates,
// latency = TX-ring dequeue minus RX-ring enqueue, RFC 3550 jitter). At
// the end it stops sending and drains for 50 ms.
//
// Also reported: the worker's busy ratio (its busy_cycles over the run's
// TSC cycles, from its stat block), and the tool's schedule lag (how late
// a burst went out against its due time) and its CPU share. A run passes
// with loss < 0.01 % and p99 latency < 1 ms. The bound of a run that fails
// is "load tool" when the tool's p99 lag went over 1 ms: it could not
// offer the load on time, so the run says nothing of the gateway and does
// not pass whatever it measured; "worker" when the worker was busy >= 95 %
// of the time; otherwise "?" (look at the drops). The latency is what the worker adds
// plus the tool's own turn-around: a frame waits on the TX ring until the
// tool's next drain (at most one send burst of up to 64 frames).
//
//   build/bench/capacity/capacity-rings --calls 1000,5000,10000,20000 --seconds 5
//   (--help lists every option; docs/performance.md, "Capacity")
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dpdk.hpp"
#include "load_stats.hpp"
#include "relay_rig.hpp"
#include "relay_traffic.hpp"
#include "relay_worker.hpp"
#include "worker.hpp"

namespace isthmus::bench::capacity {
namespace {

using dataplane::Worker;

__extension__ using u128 = unsigned __int128;

constexpr double kPacketsPerSecond = 50.0;  // per direction per call (20 ms)
constexpr uint32_t kSendBurst = 32;         // frames per side per enqueue
constexpr double kMaxLoss = 1e-4;           // 0.01 %
constexpr uint64_t kMaxP99Ns = 1000000;     // 1 ms
// A 2-vCPU VM takes the tool's core away for a few ms several times a
// second (tool CPU ~97 %); what fell due meanwhile is skipped (see below).
// Up to 1 % skipped, the load counts as offered.
constexpr double kMaxSkipped = 0.01;

constexpr const char* kUsage =
    "usage: capacity-rings [options]\n"
    "\n"
    "  --calls LIST     concurrent calls per run, comma separated, ascending\n"
    "                   (default 1000,5000,10000,15000,20000,25000,30000)\n"
    "  --seconds S      how long each run sends (default 5)\n"
    "  --ring N         descriptors per RX and TX ring (default 4096)\n"
    "  --lcores A,B     the load tool's lcore and the worker's (default 0,1)\n"
    "  --stop-after-fail N  stop after N failing runs in a row (default 2)\n"
    "  --suite S        the browser side's SRTP: aes_cm_80 (default) or aead_aes_128_gcm\n"
    "  --codec C        g711 (172-octet RTP, default) or opus (92 octets: 32 kb/s)\n"
    "  --json FILE      write the results there\n";

struct CapacityOptions {
    std::vector<uint32_t> calls = {1000, 5000, 10000, 15000, 20000, 25000, 30000};
    double seconds = 5;
    uint32_t ring = 4096;
    unsigned tool_lcore = 0, worker_lcore = 1;
    unsigned stop_after_fail = 2;
    std::string json;
    std::string suite = "aes_cm_80", codec = "g711";
    TrafficProfile profile;
};

uint64_t parse_u64(const std::string& s, const char* what) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v == 0) die(std::string("bad ") + what + ": '" + s + "'");
    return v;
}

CapacityOptions parse_options(int argc, char** argv) {
    CapacityOptions o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value after " + a);
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (a == "--calls") {
            o.calls.clear();
            std::stringstream ss(value());
            for (std::string item; std::getline(ss, item, ',');) {
                const uint64_t n = parse_u64(item, "call count");
                if (n > 1000000) die("at most 1000000 calls");
                if (!o.calls.empty() && n <= o.calls.back()) die("--calls must ascend");
                o.calls.push_back(static_cast<uint32_t>(n));
            }
        } else if (a == "--seconds") {
            o.seconds = static_cast<double>(parse_u64(value(), "seconds"));
        } else if (a == "--ring") {
            const uint64_t r = parse_u64(value(), "ring size");
            if (r < 64 || r > 65536 || (r & (r - 1)) != 0) die("--ring: a power of two, 64..65536");
            o.ring = static_cast<uint32_t>(r);
        } else if (a == "--lcores") {
            const std::string v = value();
            const auto comma = v.find(',');
            if (comma == std::string::npos) die("--lcores A,B");
            o.tool_lcore = static_cast<unsigned>(std::stoul(v.substr(0, comma)));
            o.worker_lcore = static_cast<unsigned>(std::stoul(v.substr(comma + 1)));
            if (o.tool_lcore == o.worker_lcore) die("--lcores: two different lcores");
        } else if (a == "--stop-after-fail") {
            o.stop_after_fail = static_cast<unsigned>(parse_u64(value(), "count"));
        } else if (a == "--json") {
            o.json = value();
        } else if (a == "--suite") {
            o.suite = value();
            if (o.suite == "aes_cm_80")
                o.profile.suite = srtp::Suite::AesCm128HmacSha1_80;
            else if (o.suite == "aead_aes_128_gcm")
                o.profile.suite = srtp::Suite::AeadAes128Gcm;
            else
                die("--suite: aes_cm_80 or aead_aes_128_gcm");
        } else if (a == "--codec") {
            o.codec = value();
            if (!codec_profile(o.codec, o.profile)) die("--codec: g711 or opus");
        } else {
            die("unknown argument '" + a + "'\n\n" + kUsage);
        }
    }
    if (o.calls.empty()) die("--calls: no call count");
    return o;
}

struct Run {
    uint32_t calls = 0;
    double seconds = 0;  // sending time
    StreamTotals t;
    uint64_t p50 = 0, p99 = 0, p999 = 0, max = 0;
    double mean_ns = 0;
    uint64_t rx_ring_full = 0;  // offered but the worker's RX ring was full
    uint64_t skipped = 0;       // not sent: over 2 ms late when the tool got to them
    uint64_t worker_drops = 0;  // the worker's drop counters over the run
    std::string drops;          // by reason
    double worker_busy = 0;     // busy_cycles / run cycles
    double lag_p99_ns = 0, lag_max_ns = 0;
    double tool_cpu = 0;  // the tool's CPU time / wall time
    // The tool offered the load on time: p99 of its bursts within 1 ms of
    // their due time. Otherwise the run says nothing of the gateway.
    bool offered_on_time() const {
        return lag_p99_ns <= 1e6 && static_cast<double>(skipped) <=
                                        kMaxSkipped * static_cast<double>(t.offered + skipped);
    }
    bool pass() const {
        return offered_on_time() && t.offered > 0 && t.loss_ratio() < kMaxLoss && p99 < kMaxP99Ns &&
               t.bad == 0;
    }
    std::string bound() const {
        if (pass()) return "-";
        if (t.bad != 0) return "bad packets";
        if (!offered_on_time()) return "load tool";
        if (worker_busy >= 0.95) return "worker";
        return "?";
    }
};

uint64_t stat(const dpif::StatBlock& b, const char* name) {
    for (uint32_t k = 0; k < b.counters; ++k) {
        if (std::strcmp(b.counter[k].name, name) == 0) return dpif::stat_load(b.counter[k]);
    }
    die(std::string("the worker publishes no ") + name + " counter");
}

uint64_t drops_total(const dpif::StatBlock& b, std::string* by_reason,
                     const dpif::StatBlock* before) {
    uint64_t total = 0;
    for (uint32_t k = 0; k < b.counters; ++k) {
        const char* n = b.counter[k].name;
        if (std::strncmp(n, "drop_", 5) != 0 && std::strncmp(n, "malformed_", 10) != 0) continue;
        const uint64_t v =
            dpif::stat_load(b.counter[k]) - (before ? dpif::stat_load(before->counter[k]) : 0);
        if (v == 0) continue;
        total += v;
        if (by_reason)
            *by_reason += std::string(by_reason->empty() ? "" : ",") + n + "=" + std::to_string(v);
    }
    return total;
}

// The round a frame's 16-bit RTP sequence number stands for, nearest the
// highest round sent (FrameWriter: seq = 1000 + round, mod 2^16).
uint64_t round_of(uint16_t seq, uint64_t highest) {
    const uint64_t low = static_cast<uint16_t>(seq - static_cast<uint16_t>(kFirstIndex));
    uint64_t r = (highest & ~uint64_t{0xffff}) | low;
    if (r > highest && r >= 0x10000) r -= 0x10000;
    return r;
}

class Load {
  public:
    Load(Rig& rig, FrameWriter& fw, dpif::StatBlock& block, uint32_t calls, uint64_t first_round)
        : rig_(rig),
          fw_(fw),
          block_(block),
          calls_(calls),
          first_round_(first_round),
          stats_(2 * calls),
          hz_(rte_get_tsc_hz()) {}

    Run run(double seconds) {
        Run r;
        r.calls = calls_;
        const uint64_t streams = 2ULL * calls_;
        const auto period = static_cast<uint64_t>(static_cast<double>(hz_) / kPacketsPerSecond);
        const auto total = static_cast<uint64_t>(seconds * kPacketsPerSecond) * streams;
        std::vector<uint64_t> lags;
        lags.reserve(total / kSendBurst + 16);
        dpif::StatBlock before = block_;
        const uint64_t cpu0 = thread_cpu_ns();
        const uint64_t start = rte_rdtsc() + hz_ / 1000;
        const uint64_t catch_up = hz_ / 500;  // 2 ms
        uint64_t k = 0;
        rte_mbuf* burst[2][kSendBurst];
        uint32_t nb[2] = {0, 0};
        while (k < total) {
            const uint64_t now = rte_rdtsc();
            // Packets due by now, up to a burst per side.
            uint64_t first_due = 0;
            while (k < total && nb[0] < kSendBurst && nb[1] < kSendBurst) {
                const uint64_t due =
                    start + static_cast<uint64_t>((static_cast<u128>(k) * period) / streams);
                if (due > now) break;
                if (due + catch_up < now) {
                    // The tool stalled (descheduled): what fell due over 2 ms
                    // ago is skipped, not sent in one burst that no set of
                    // independent callers would send.
                    ++r.skipped;
                    ++k;
                    continue;
                }
                if (nb[0] + nb[1] == 0) first_due = due;
                const auto call = static_cast<uint32_t>((k % streams) / 2);
                const auto d = (k & 1) == 0 ? Direction::SrtpToRtp : Direction::RtpToSrtp;
                const uint64_t round = first_round_ + k / streams;
                const auto side = static_cast<std::size_t>(arrival_side(d));
                rte_mbuf* m = nullptr;
                rig_.take(1, &m);
                const uint32_t len =
                    fw_.write(d, call, round, dataplane::mbuf_data(m), rte_pktmbuf_tailroom(m));
                if (len == 0) die("the load tool could not make a frame");
                m->data_len = static_cast<uint16_t>(len);
                m->pkt_len = len;
                m->port = rig_.port(arrival_side(d));
                burst[side][nb[side]++] = m;
                seqs_.push_back(stream(call, d));
                ++k;
            }
            if (nb[0] + nb[1] != 0) {
                const uint64_t t = rte_rdtsc();
                lags.push_back(t > first_due ? t - first_due : 0);
                const uint64_t t_ns = ns(t);
                // Stamped in the order written: the streams' next packet numbers.
                uint64_t kk = k - seqs_.size();
                for (const uint32_t s : seqs_) {
                    stats_.on_send(s, kk / streams, t_ns);
                    ++kk;
                }
                seqs_.clear();
                for (std::size_t s = 0; s < 2; ++s) {
                    if (nb[s] == 0) continue;
                    const uint32_t q = rig_.try_receive(static_cast<Side>(s), burst[s], nb[s]);
                    for (uint32_t j = q; j < nb[s]; ++j)
                        rig_.keep(burst[s][j]);
                    r.rx_ring_full += nb[s] - q;
                    nb[s] = 0;
                }
            }
            drain();
        }
        const uint64_t send_end = rte_rdtsc();
        while (rte_rdtsc() < send_end + hz_ / 20)
            drain();
        const uint64_t cpu1 = thread_cpu_ns();
        // The worker publishes every heartbeat (100 ms, the dataplane's
        // default); wait for one after the drain.
        rte_delay_ms(250);
        r.seconds = static_cast<double>(send_end - start) / static_cast<double>(hz_);
        r.tool_cpu = static_cast<double>(cpu1 - cpu0) /
                     (static_cast<double>(rte_rdtsc() - start) / static_cast<double>(hz_) * 1e9);
        const uint64_t busy = stat(block_, "busy_cycles") - stat(before, "busy_cycles");
        const uint64_t cycles = stat(block_, "tsc_cycles") - stat(before, "tsc_cycles");
        r.worker_busy = cycles == 0 ? 0 : static_cast<double>(busy) / static_cast<double>(cycles);
        r.worker_drops = drops_total(block_, &r.drops, &before);
        r.t = stats_.totals();
        const LatencyHistogram& h = stats_.latency();
        r.p50 = h.percentile(0.5);
        r.p99 = h.percentile(0.99);
        r.p999 = h.percentile(0.999);
        r.max = h.max();
        r.mean_ns = h.mean();
        std::sort(lags.begin(), lags.end());
        if (!lags.empty()) {
            r.lag_p99_ns = static_cast<double>(ns(lags[lags.size() * 99 / 100]));
            r.lag_max_ns = static_cast<double>(ns(lags.back()));
        }
        return r;
    }
    uint64_t rounds_used(double seconds) const {
        return static_cast<uint64_t>(seconds * kPacketsPerSecond) + 1;
    }

  private:
    static uint32_t stream(uint32_t call, Direction d) {
        return 2 * call + (d == Direction::SrtpToRtp ? 0U : 1U);
    }
    uint64_t ns(uint64_t tsc) const {
        return static_cast<uint64_t>((static_cast<u128>(tsc) * 1000000000ULL) / hz_);
    }
    // Takes both TX rings' frames, checks and counts each.
    void drain() {
        for (const Direction d : {Direction::SrtpToRtp, Direction::RtpToSrtp}) {
            const Side out = session::other(arrival_side(d));
            rig_.sent(out, [&](rte_mbuf* m) { receive(d, m); });
        }
    }
    void receive(Direction d, rte_mbuf* m) {
        const uint64_t t_ns = ns(rte_rdtsc());
        const uint8_t* f = dataplane::mbuf_data(m);
        const uint32_t len = rte_pktmbuf_data_len(m);
        if (len < kHeaderRoom + 12) {
            stats_.on_bad();
            return;
        }
        const uint8_t* rtp = f + kHeaderRoom;
        const uint32_t ssrc = (uint32_t{rtp[8]} << 24) | (uint32_t{rtp[9]} << 16) |
                              (uint32_t{rtp[10]} << 8) | rtp[11];
        const uint32_t base = d == Direction::SrtpToRtp ? browser_ssrc(0) : ims_ssrc(0);
        const uint32_t call = ssrc - base;
        if (call >= calls_) {
            stats_.on_bad();
            return;
        }
        const uint32_t s = stream(call, d);
        const uint64_t highest = first_round_ + sent_rounds(s);
        const uint64_t round = round_of(static_cast<uint16_t>((rtp[2] << 8) | rtp[3]), highest);
        if (round < first_round_ || !fw_.check(d, call, round, f, len).empty()) {
            stats_.on_bad();
            return;
        }
        stats_.on_receive(s, round - first_round_, t_ns);
    }
    // The rounds stream s has sent so far (its highest + 1, at least 1).
    uint64_t sent_rounds(uint32_t s) const { return std::max<uint64_t>(stats_.sent(s), 1) - 1; }

    Rig& rig_;
    FrameWriter& fw_;
    dpif::StatBlock& block_;
    uint32_t calls_;
    uint64_t first_round_;
    LoadStats stats_;
    uint64_t hz_;
    std::vector<uint32_t> seqs_;
};

void print_header() {
    std::printf(
        "| calls | offered pps | delivered | loss | reordered | bad | p50 | p99 | p99.9 | max | "
        "jitter mean/max | worker busy | RX ring full | skipped | tool lag p99/max | tool CPU | "
        "pass | "
        "bound |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---|---|"
        "\n");
}

void print_row(const Run& r) {
    std::printf(
        "| %u | %.0f | %llu | %.4f %% | %llu | %llu | %s | %s | %s | %s | %s / %s | %.1f %% "
        "| %llu | %llu | %s / %s | %.0f %% | %s | %s |\n",
        r.calls, static_cast<double>(r.t.offered) / r.seconds,
        static_cast<unsigned long long>(r.t.delivered), 100.0 * r.t.loss_ratio(),
        static_cast<unsigned long long>(r.t.reordered), static_cast<unsigned long long>(r.t.bad),
        format_ns(static_cast<double>(r.p50)).c_str(),
        format_ns(static_cast<double>(r.p99)).c_str(),
        format_ns(static_cast<double>(r.p999)).c_str(),
        format_ns(static_cast<double>(r.max)).c_str(), format_ns(r.t.jitter_mean_ns).c_str(),
        format_ns(r.t.jitter_max_ns).c_str(), 100.0 * r.worker_busy,
        static_cast<unsigned long long>(r.rx_ring_full), static_cast<unsigned long long>(r.skipped),
        format_ns(r.lag_p99_ns).c_str(), format_ns(r.lag_max_ns).c_str(), 100.0 * r.tool_cpu,
        r.pass() ? "yes" : "no", r.bound().c_str());
    std::fflush(stdout);
}

void write_json(const std::string& path, const CapacityOptions& o, const std::vector<Run>& runs,
                uint32_t largest, uint32_t tool_bound) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) die("cannot write " + path);
    std::fprintf(f, "{\n  \"bench\": \"capacity-rings\",\n  \"seconds\": %.1f,\n  \"ring\": %u,\n",
                 o.seconds, o.ring);
    std::fprintf(f, "  \"suite\": \"%s\",\n  \"codec\": \"%s\",\n  \"packet_rtp_octets\": %u,\n",
                 std::string(srtp::suite_info(o.profile.suite).name).c_str(), o.codec.c_str(),
                 o.profile.rtp_size);
    std::fprintf(f,
                 "  \"largest_passing_calls\": %u,\n  \"tool_could_not_offer_calls\": %u,\n"
                 "  \"runs\": [\n",
                 largest, tool_bound);
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const Run& r = runs[i];
        std::fprintf(
            f,
            "    {\"calls\": %u, \"seconds\": %.3f, \"offered\": %llu, \"delivered\": %llu, "
            "\"lost\": %llu, \"loss_ratio\": %.6g, \"reordered\": %llu, \"duplicates\": %llu, "
            "\"bad\": %llu, \"late\": %llu, \"latency_ns\": {\"p50\": %llu, \"p99\": %llu, "
            "\"p999\": %llu, \"max\": %llu, \"mean\": %.0f}, \"jitter_ns\": {\"mean\": %.0f, "
            "\"max\": %.0f}, \"rx_ring_full\": %llu, \"skipped\": %llu, \"worker_drops\": %llu, "
            "\"drops\": \"%s\", "
            "\"worker_busy\": %.4f, \"tool_lag_ns\": {\"p99\": %.0f, \"max\": %.0f}, "
            "\"tool_cpu\": %.3f, \"pass\": %s, \"bound\": \"%s\"}%s\n",
            r.calls, r.seconds, static_cast<unsigned long long>(r.t.offered),
            static_cast<unsigned long long>(r.t.delivered),
            static_cast<unsigned long long>(r.t.lost()), r.t.loss_ratio(),
            static_cast<unsigned long long>(r.t.reordered),
            static_cast<unsigned long long>(r.t.duplicates),
            static_cast<unsigned long long>(r.t.bad), static_cast<unsigned long long>(r.t.late),
            static_cast<unsigned long long>(r.p50), static_cast<unsigned long long>(r.p99),
            static_cast<unsigned long long>(r.p999), static_cast<unsigned long long>(r.max),
            r.mean_ns, r.t.jitter_mean_ns, r.t.jitter_max_ns,
            static_cast<unsigned long long>(r.rx_ring_full),
            static_cast<unsigned long long>(r.skipped),
            static_cast<unsigned long long>(r.worker_drops), r.drops.c_str(), r.worker_busy,
            r.lag_p99_ns, r.lag_max_ns, r.tool_cpu, r.pass() ? "true" : "false", r.bound().c_str(),
            i + 1 < runs.size() ? "," : "");
    }
    std::fprintf(f, "  ]\n}\n");
    std::fclose(f);
}

}  // namespace
}  // namespace isthmus::bench::capacity

int main(int argc, char** argv) try {
    using namespace isthmus::bench::capacity;
    using isthmus::bench::die;
    using isthmus::bench::FrameWriter;
    using isthmus::bench::Rig;
    const CapacityOptions o = parse_options(argc, argv);
    isthmus::bench::set_traffic_profile(o.profile);
    const std::string lcores = std::to_string(o.tool_lcore) + "," + std::to_string(o.worker_lcore);
    const std::string prefix = "capacity" + std::to_string(getpid());
    std::vector<std::string> eal = {
        argv[0],         "-l",       lcores,        "--main-lcore",   std::to_string(o.tool_lcore),
        "--no-huge",     "--no-pci", "-m",          "4096",           "--no-shconf",
        "--file-prefix", prefix,     "--log-level", "lib.eal:warning"};
    std::vector<char*> eal_argv;
    for (auto& s : eal)
        eal_argv.push_back(s.data());
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        die(std::string("EAL init: ") + rte_strerror(rte_errno));
    }
    const uint64_t hz = rte_get_tsc_hz();
    std::vector<Run> runs;
    uint32_t largest = 0;
    uint32_t tool_bound = 0;  // the first N the tool could not offer on time
    {
        // RX and TX rings of o.ring, and mbufs for all four full.
        Rig rig(o.ring / 2, 1, 1, "", 2 * o.ring);
        FrameWriter fw(rig.mac(isthmus::session::Side::Access),
                       rig.mac(isthmus::session::Side::Core));
        const auto capture_area = std::make_unique<isthmus::dpif::CaptureArea>();
        isthmus::dataplane::WorkerSetup ws;
        for (std::size_t s = 0; s < 2; ++s) {
            const auto side = static_cast<isthmus::session::Side>(s);
            ws.ports[s].present = true;
            ws.ports[s].port = rig.port(side);
            std::memcpy(ws.ports[s].mac, rig.mac(side), 6);
        }
        ws.limits = {o.calls.back(), 0};
        ws.publish_cycles = hz / 10;  // the dataplane's default heartbeat
        ws.capture = capture_area.get();
        auto w = std::make_unique<isthmus::dataplane::Worker>(ws);
        auto block = std::make_unique<isthmus::dpif::StatBlock>();
        w->describe(block.get());
        uint32_t created = 0;
        uint64_t round = 0;
        unsigned failed_in_a_row = 0;
        std::printf(
            "capacity-rings: one worker (lcore %u), load tool on lcore %u, %.0f s per "
            "run, RX/TX rings of %u, %u-octet %s RTP, browser side "
            "%s, 50 packets/s per direction per call\n\n",
            o.worker_lcore, o.tool_lcore, o.seconds, o.ring, o.profile.rtp_size,
            o.codec == "opus" ? "Opus" : "G.711",
            std::string(isthmus::srtp::suite_info(o.profile.suite).name).c_str());
        print_header();
        for (const uint32_t calls : o.calls) {
            std::vector<uint32_t> more;
            for (uint32_t i = created; i < calls; ++i)
                more.push_back(i);
            isthmus::bench::create_sessions(*w, more);
            created = calls;
            w->stop.store(false);
            if (rte_eal_remote_launch(isthmus::dataplane::Worker::run, w.get(), o.worker_lcore) !=
                0) {
                die("cannot launch the worker on lcore " + std::to_string(o.worker_lcore));
            }
            Load load(rig, fw, *block, calls, round);
            const Run r = load.run(o.seconds);
            // What an overloaded worker left on its RX rings (counted lost)
            // is relayed and thrown away before the next run.
            const auto discard = [&rig] {
                for (const auto s : {isthmus::session::Side::Access, isthmus::session::Side::Core})
                    rig.sent(s, [](rte_mbuf*) {});
            };
            while (rig.waiting(isthmus::session::Side::Access) +
                       rig.waiting(isthmus::session::Side::Core) !=
                   0) {
                discard();
            }
            rte_delay_ms(1);
            w->stop.store(true);
            rte_eal_wait_lcore(o.worker_lcore);
            discard();
            round += load.rounds_used(o.seconds) + 1;
            runs.push_back(r);
            print_row(r);
            if (r.pass()) {
                largest = calls;
                failed_in_a_row = 0;
            } else if (!r.offered_on_time()) {
                tool_bound = calls;
                break;  // more calls cannot be offered either
            } else if (++failed_in_a_row >= o.stop_after_fail) {
                break;
            }
        }
        w->describe(nullptr);
    }
    std::printf("\nlargest N passing (loss < 0.01 %%, p99 < 1 ms): %u calls\n", largest);
    if (tool_bound != 0) {
        std::printf(
            "the load tool could not offer %u calls on time: the gateway's limit is at "
            "least %u calls, not measured beyond\n",
            tool_bound, largest);
    }
    if (!o.json.empty()) write_json(o.json, o, runs, largest, tool_bound);
    rte_eal_cleanup();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "capacity-rings: %s\n", e.what());
    return 1;
}
