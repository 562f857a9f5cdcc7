// pcscf_core_bench: the eP-CSCF core's CPU per call, without sockets
// (issue 7: at least 5,000 call setups and teardowns per second per
// control-plane core, i.e. at most 200 us of CPU per call).
//
//   taskset -c 1 build/bench/pcscf_core_bench [--calls 20000] [--rounds 5]
//       [--mode all|orig|term|orig-nomedia|term-nomedia] [--rate 2000] [--flows 200]
//       [--warmup 40]
//
// bench/call_bench.sh measures the whole daemon behind real sockets on a
// shared machine, where run to run the figure moves by up to 2x and a third
// of isthmus-pcscf's time is the kernel's. This bench drives the sans-I/O
// core (pcscf/core.hpp) that the daemon runs, on one thread, with the same
// call as the load tool: FLOWS browsers registered through the A.3.1 digest
// exchange (REGISTER, 401, REGISTER, 200 with Service-Route and
// P-Associated-URI), then calls back to back, one at a time, each on the
// next flow (pcscf_core_rig.hpp):
//
//   orig  the browser calls bob: INVITE with a Chrome-like WebRTC audio offer
//         (BUNDLE, ICE, a=fingerprint, actpass, rtcp-mux, one host
//         candidate; Opus, PCMU, telephone-event); the IMS answers 100, 180
//         and 200 with an RTP/AVP PCMU answer and its Record-Route; the
//         browser ACKs and sends BYE along the route set; the IMS answers the
//         BYE 200. With the core's own 100 Trying: 7 messages in, 7 out.
//   term  bob calls the browser: INVITE from the S-CSCF with an RTP/AVP
//         offer (PCMU, telephone-event) toward the browser's flow; the
//         browser answers 180 and 200 with a WebRTC answer (active); the IMS
//         ACKs and sends BYE; the browser answers it 200. 6 in, 7 out.
//
// With media on (the default; "-nomedia" turns [pcscf.media] off) each call
// is the IMS-ALG's SDP rewrite both ways and its dpif commands (orig: one
// SessionCreate, one SessionDelete; term: a create on the offer, an update
// on the answer, a delete), each answered at once by a Result Ok as the
// dataplane would. Random numbers come from the core's defaults (mt19937_64
// for branches and tags, OpenSSL's RAND_bytes for ICE passwords), as in the
// daemon. Fake time advances 1/RATE s per call (RATE calls per second:
// transactions linger 32 s after a 2xx, so the tables hold what they hold
// at that rate: RATE/FLOWS x 32 per flow) and the core's deadlines are
// served every 10 ms of it, as the daemon's timer grid does. Untimed
// warm-up: WARMUP (40) fake seconds of calls, so that the lingering
// transactions are all there. The registrations last 7,200 fake seconds:
// WARMUP + CALLS/RATE must stay under 7,000.
//
// The clock (steady_clock) is split: "core" adds up only the time inside
// the core's calls (on_message, poll, poll_command, on_dataplane_event,
// advance) - what the daemon's strand spends beyond its sockets and Beast;
// the ~30 clock reads per call (~1 us) are in it. Building the far ends'
// messages and parsing what the core sent them is not counted. Modes run
// interleaved in ROUNDS rounds of CALLS/ROUNDS calls; the table gives the
// median round (the mean of the middle two for an even count). Every
// message is checked: the one it makes goes to the peer it must (the
// browser's flow, the S-CSCF, the I-CSCF for REGISTER) and nothing else is
// sent but a 100 Trying to an INVITE's sender; the IMS's 100 is sent nowhere; the
// browser's 200 carries an ice-lite answer, the IMS's INVITE an RTP/AVP
// offer; the dpif commands are the ones named above. At the end, once every
// transaction's time is up, no transaction, proxy entry, call or dpif
// command is left. A failure is printed and makes the exit status 1.
//
// The host's noise moves the figure by up to 2x from run to run on a shared
// VM; for an A/B of a change, count instructions instead, which do not move:
//   valgrind --tool=callgrind --callgrind-out-file=cg.out
//       build/bench/pcscf_core_bench --mode orig --rate 200 --calls 2000 --rounds 1
//   callgrind_annotate --inclusive=yes cg.out | grep PcscfCore::on_message
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pcscf_core_rig.hpp"

namespace {

using namespace isthmus::bench::pcscf_core;

struct Options {
    unsigned calls = 20000;
    unsigned rounds = 5;
    unsigned rate = 2000;
    unsigned flows = 200;
    unsigned warmup = 40;  // fake seconds
    std::string mode = "all";
};

[[noreturn]] void usage(int status) {
    std::fputs(
        "usage: pcscf_core_bench [--calls N] [--rounds R] [--rate CALLS_PER_S] [--flows F]\n"
        "                        [--warmup FAKE_SECONDS (40)]\n"
        "                        [--mode all|orig|term|orig-nomedia|term-nomedia]\n",
        status == 0 ? stdout : stderr);
    std::exit(status);
}

unsigned number(const char* s, unsigned min) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(s, &end, 10);
    if (end == s || *end != '\0' || v < min || v > 1'000'000) usage(2);
    return static_cast<unsigned>(v);
}

// One call of `rig`, a failure named with its mode, phase and the core's
// drop and refusal counters.
uint64_t call(Rig& rig, const Mode& m, const char* phase, uint64_t i) {
    try {
        return rig.call();
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string(m.name) + ": " + phase + " call " + std::to_string(i) +
                                 ": " + e.what() + rig.counters());
    }
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--help") usage(0);
        if (i + 1 >= argc) usage(2);
        if (a == "--calls")
            o.calls = number(argv[++i], 1);
        else if (a == "--rounds")
            o.rounds = number(argv[++i], 1);
        else if (a == "--rate")
            o.rate = number(argv[++i], 1);
        else if (a == "--flows")
            o.flows = number(argv[++i], 1);
        else if (a == "--warmup")
            o.warmup = number(argv[++i], 0);
        else if (a == "--mode")
            o.mode = argv[++i];
        else
            usage(2);
    }
    const std::vector<Mode> all = {{"orig", Direction::Orig, true},
                                   {"orig-nomedia", Direction::Orig, false},
                                   {"term", Direction::Term, true},
                                   {"term-nomedia", Direction::Term, false}};
    std::vector<Mode> modes;
    for (const Mode& m : all)
        if (o.mode == "all" || o.mode == m.name) modes.push_back(m);
    if (modes.empty()) usage(2);
    const uint64_t warmup_calls = uint64_t{o.warmup} * o.rate;
    const unsigned per = std::max(1u, o.calls / o.rounds);
    if (o.warmup + uint64_t{per} * o.rounds / o.rate >= 7000) {
        std::fputs("pcscf_core_bench: WARMUP + CALLS/RATE must stay under 7,000 fake seconds\n",
                   stderr);
        return 2;
    }

    try {
        std::vector<std::unique_ptr<Rig>> rigs;
        for (const Mode& m : modes) {
            rigs.push_back(std::make_unique<Rig>(m, o.flows, o.rate));
            for (uint64_t i = 0; i < warmup_calls; ++i)  // the tables full
                call(*rigs.back(), m, "warm-up", i);
        }
        std::vector<std::vector<double>> per_round(modes.size());
        for (unsigned r = 0; r < o.rounds; ++r) {
            for (std::size_t k = 0; k < modes.size(); ++k) {
                uint64_t ns = 0;
                for (unsigned i = 0; i < per; ++i)
                    ns += call(*rigs[k], modes[k], "timed", uint64_t{r} * per + i);
                per_round[k].push_back(static_cast<double>(ns) / 1000.0 / per);
            }
        }
        std::printf(
            "| mode | media | calls | core us/call (median of %u rounds) | range | calls/s per "
            "core | of 5,000 | messages in / out per call | dpif commands per call |\n",
            o.rounds);
        std::printf("|---|---|---:|---:|---|---:|---:|---|---:|\n");
        for (std::size_t k = 0; k < modes.size(); ++k) {
            const std::vector<double>& v = per_round[k];
            const double med = median(v);
            const Rig& rig = *rigs[k];
            const double calls = static_cast<double>(warmup_calls + uint64_t{per} * o.rounds);
            std::printf(
                "| %s | %s | %u | %.1f | %.1f-%.1f | %.0f | %.0f%% | %.1f / %.1f | %.1f |\n",
                modes[k].direction == Direction::Orig ? "originating" : "terminating",
                modes[k].media ? "IMS-ALG" : "off", per * o.rounds, med,
                *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()),
                1e6 / med, 100.0 * (1e6 / med) / 5000.0,
                static_cast<double>(rig.messages_in()) / calls,
                static_cast<double>(rig.messages_out()) / calls,
                static_cast<double>(rig.commands()) / calls);
        }
        for (std::size_t k = 0; k < rigs.size(); ++k) {
            try {
                rigs[k]->finish();
            } catch (const std::exception& e) {
                throw std::runtime_error(std::string(modes[k].name) + ": at the end: " + e.what());
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pcscf_core_bench: FAILED: %s\n", e.what());
        return 1;
    }
    return 0;
}
