// --handoff: what the software hand-off between workers costs (issue 4:
// "Where a port has one RX queue, packets reach their owner through a
// software hand-off; where it has several, through rte_flow/RSS. Measure
// both.").
//
// 1,000 sessions, SRTP -> RTP, 172-octet packets, frames fed as the main
// bench feeds them (batches of 4,096 on the access port's RX ring). Four
// cases, each with its own ring ports (one TX queue per worker) and workers:
//   1 worker  one Worker (workers=1), one RX queue: the reference.
//   a         two Workers (workers=2), one RX queue, every session owned by
//             worker 0 (sessions 0, 2, .., 1998: port / 2 even): worker 0
//             peeks every frame's UDP port and keeps it; worker 1 idles.
//   b         two Workers, one RX queue, sessions 0..999: half owned by
//             worker 1, so half the frames cross worker 0's hand-off ring.
//   c         two Workers, two RX queues per port; the feeder puts each
//             frame on its owner's queue, as rte_flow steering would (no
//             port here offers rte_flow: docs/dataplane.md). No hand-off.
//   d         as c, but only the next 32 frames of the arrival order are
//             queued (each on its owner's queue) before each pass, so each
//             worker relays its share of 32, ~16, the same bursts as in b
//             (where worker 0 keeps its share of each 32-frame RX burst and
//             hands the rest on): b - d is the hand-off's own work, d - c
//             what the split bursts cost.
// The workers' poll() run alternately on this one thread (the machine has
// 2 vCPUs, one of them the rest of the system's), so the figure is the CPU
// time both workers spend per packet, not a rate of two cores: every poll
// of the batch is timed (TSC): the figure is the cycles in poll() of both
// workers, idle polls included (worker 1 in case a, the last polls of a
// batch), which are also reported apart.
//
// Checked after each case: each worker relayed exactly the frames of its
// own sessions (relayed counter), worker 0's handed_off counter equals the
// frames of worker 1's sessions that came in on its queue (case b; 0
// otherwise), nothing dropped or sent to the kernel, and every frame on
// the core port's TX queue k is, in order, the next frame of a session
// worker k owns (fw.check: addresses, MACs, decrypted payload).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "relay_rig.hpp"
#include "relay_worker.hpp"

namespace isthmus::bench {
namespace {

using dataplane::Worker;

constexpr uint32_t kSessions = 1000;
constexpr uint32_t kBurst = 32;  // the worker's RX burst

// One case's ports, workers and sessions.
struct Setup {
    HandoffCase hc;
    std::unique_ptr<Rig> rig;
    std::unique_ptr<FrameWriter> fw;
    std::unique_ptr<Worker> w[2];
    std::vector<uint32_t> index;  // position -> relay_traffic's session i
    std::vector<uint8_t> owner;   // position -> owning worker
    Cursor cursor{kSessions};
};

std::unique_ptr<Setup> make_setup(const char* name, const char* what, unsigned workers,
                                  uint16_t rx_queues, uint32_t stride, uint32_t batch,
                                  const char* tag, uint32_t chunk = 0) {
    auto s = std::make_unique<Setup>();
    s->hc.name = name;
    s->hc.what = what;
    s->hc.workers = workers;
    s->hc.rx_queues = rx_queues;
    s->hc.sessions = kSessions;
    s->hc.chunk = chunk;
    s->rig = std::make_unique<Rig>(batch, rx_queues, static_cast<uint16_t>(workers), tag);
    Rig& rig = *s->rig;
    s->fw = std::make_unique<FrameWriter>(rig.mac(Side::Access), rig.mac(Side::Core));
    dataplane::WorkerSetup ws;
    ws.workers = workers;
    for (std::size_t side = 0; side < 2; ++side) {
        ws.ports[side].present = true;
        ws.ports[side].port = rig.port(static_cast<Side>(side));
        ws.ports[side].rx_queues = rx_queues;
        std::memcpy(ws.ports[side].mac, rig.mac(static_cast<Side>(side)), 6);
    }
    ws.limits = {kSessions, 0};
    ws.publish_cycles = rte_get_tsc_hz() * 3600;
    for (unsigned k = 0; k < workers; ++k) {
        ws.index = k;
        ws.tx_queue = static_cast<uint16_t>(k);
        s->w[k] = std::make_unique<Worker>(ws);
    }
    // As the main lcore wires them: j's handoff_out[k] is k's handoff_in[j].
    for (unsigned j = 0; j < workers; ++j)
        for (unsigned k = 0; k < workers; ++k)
            s->w[j]->handoff_out[k] = &s->w[k]->handoff_in[j];
    std::vector<uint32_t> owned[2];
    for (uint32_t p = 0; p < kSessions; ++p) {
        const uint32_t i = p * stride;
        const uint16_t port = create_command(i).access.local.port;
        const uint16_t k = session::owner_of(port, static_cast<uint16_t>(workers));
        s->index.push_back(i);
        s->owner.push_back(static_cast<uint8_t>(k));
        owned[k].push_back(i);
    }
    for (unsigned k = 0; k < workers; ++k)
        create_sessions(*s->w[k], owned[k]);
    s->hc.on_worker1 = static_cast<uint32_t>(owned[1].size());
    return s;
}

struct Counts {
    uint64_t relayed[2] = {}, handed_off[2] = {}, dropped = 0, to_kernel = 0;
    std::vector<uint64_t> drops = std::vector<uint64_t>(session::kRelayDropCount);
};
Counts counts(Setup& s) {
    Counts c;
    for (unsigned k = 0; k < s.hc.workers; ++k) {
        const session::RelayCounters& rc = s.w[k]->counters();
        c.relayed[k] = rc.relayed_packets[0];
        c.handed_off[k] = handed_off(*s.w[k]);
        c.to_kernel += rc.to_kernel;
        for (std::size_t r = 1; r < rc.drops.size(); ++r) {
            c.drops[r] += rc.drops[r];
            c.dropped += rc.drops[r];
        }
    }
    return c;
}

struct PollCycles {
    uint64_t total = 0, busy = 0;  // in poll(): all, and polls that did something
};

// Feeds `packets` frames through the workers in batches; when `timed`,
// adds the poll loops' times to the case and returns the cycles in poll().
PollCycles run(Setup& s, uint64_t packets, bool timed) {
    Rig& rig = *s.rig;
    HandoffCase& hc = s.hc;
    const uint32_t batch = rig.batch();
    std::vector<rte_mbuf*> m(batch);
    std::vector<rte_mbuf*> by_queue[2];
    std::vector<uint8_t> queue_of(batch);
    // The frames each worker should send, in order: (session i, round).
    std::vector<std::pair<uint32_t, uint64_t>> expect[2];
    PollCycles cycles;
    for (uint64_t done = 0; done < packets;) {
        const auto n = static_cast<uint32_t>(std::min<uint64_t>(batch, packets - done));
        rig.take(n, m.data());
        for (auto& e : expect)
            e.clear();
        for (uint32_t k = 0; k < n; ++k) {
            uint32_t pos = 0;
            uint64_t round = 0;
            s.cursor.next(pos, round);
            const uint32_t i = s.index[pos];
            const uint32_t len =
                s.fw->write(Direction::SrtpToRtp, i, round, dataplane::mbuf_data(m[k]),
                            rte_pktmbuf_tailroom(m[k]));
            if (len == 0) die("the feeder could not make a frame");
            m[k]->data_len = static_cast<uint16_t>(len);
            m[k]->pkt_len = len;
            m[k]->port = rig.port(Side::Access);
            const uint8_t owner = s.owner[pos];
            queue_of[k] = rig.rx_queues() > 1 ? owner : 0;
            expect[owner].emplace_back(i, round);
        }
        // Queued all at once, or the next `chunk` frames before each pass,
        // each on its owner's queue (case d: the bursts of case b).
        std::size_t queued = 0;
        const auto feed = [&] {
            const std::size_t end =
                s.hc.chunk == 0 ? n : std::min<std::size_t>(n, queued + s.hc.chunk);
            for (auto& q : by_queue)
                q.clear();
            for (; queued < end; ++queued)
                by_queue[queue_of[queued]].push_back(m[queued]);
            for (uint16_t q = 0; q < rig.rx_queues(); ++q) {
                if (by_queue[q].empty()) continue;
                rig.receive(Side::Access, by_queue[q].data(),
                            static_cast<uint32_t>(by_queue[q].size()), q);
            }
        };
        feed();
        const uint64_t c0 = thread_cpu_ns();
        const uint64_t t0 = rte_rdtsc();
        for (;;) {
            if (s.hc.chunk != 0) feed();
            unsigned handled = 0;
            for (unsigned k = 0; k < hc.workers; ++k) {
                const std::size_t handoff_before =
                    k == 0 && hc.workers > 1 ? s.w[1]->handoff_in[0].size() : 0;
                const uint64_t a = rte_rdtsc();
                const unsigned got = s.w[k]->poll();
                const uint64_t b = rte_rdtsc();
                // A poll that only handed frames off returns 0 (Worker::poll).
                const bool handed =
                    k == 0 && hc.workers > 1 && s.w[1]->handoff_in[0].size() > handoff_before;
                if (timed) {
                    hc.worker_cycles[k] += b - a;
                    cycles.total += b - a;
                    ++hc.polls[k];
                    if (got == 0 && !handed) {
                        hc.idle_cycles[k] += b - a;
                    } else {
                        cycles.busy += b - a;
                        ++hc.busy_polls[k];
                    }
                    if (got == 0 && handed) ++hc.zero_return_handoffs;
                }
                handled += got + (handed ? 1U : 0U);
            }
            // Worker 1 polls after worker 0 in each pass and takes all that
            // worker 0 handed it (at most one burst): a pass that handled
            // nothing, everything fed and the RX rings empty, ends the batch.
            if (handled != 0) continue;
            bool waiting = queued != n;
            for (uint16_t q = 0; q < rig.rx_queues(); ++q)
                waiting = waiting || rig.waiting(Side::Access, q) != 0;
            for (unsigned k = 0; k < hc.workers; ++k)
                for (unsigned j = 0; j < hc.workers; ++j)
                    waiting = waiting || s.w[k]->handoff_in[j].size() != 0;
            if (!waiting) break;
        }
        const uint64_t t1 = rte_rdtsc();
        const uint64_t c1 = thread_cpu_ns();
        for (uint16_t q = 0; q < rig.tx_queues(); ++q) {
            std::size_t next = 0;
            const uint32_t sent = rig.sent(
                Side::Core,
                [&](rte_mbuf* mb) {
                    std::string why = "more frames than fed";
                    if (next < expect[q].size()) {
                        const auto [i, round] = expect[q][next];
                        why = s.fw->check(Direction::SrtpToRtp, i, round, dataplane::mbuf_data(mb),
                                          rte_pktmbuf_data_len(mb));
                    }
                    ++next;
                    if (!why.empty() && (hc.check.empty() || hc.check == "ok")) {
                        hc.check = "TX queue " + std::to_string(q) + ": " + why;
                    }
                },
                q);
            hc.wrong_port += rig.sent(
                Side::Access, [](rte_mbuf*) {}, q);
            if (timed) hc.sent[q] += sent;
        }
        for (unsigned k = 0; k < hc.workers; ++k) {
            rte_mbuf* back[64];
            for (std::size_t got; (got = s.w[k]->to_kernel.pop_burst(std::span(back))) != 0;) {
                for (std::size_t j = 0; j < got; ++j)
                    rig.keep(back[j]);
            }
        }
        if (timed) {
            hc.cycles += t1 - t0;
            hc.cpu_ns += c1 - c0;
            hc.packets += n;
            for (unsigned k = 0; k < 2; ++k)
                hc.expected[k] += expect[k].size();
            // One RX queue: worker 0 receives everything, hands worker 1's on.
            if (rig.rx_queues() == 1) hc.expected_handed_off += expect[1].size();
        }
        done += n;
    }
    return cycles;
}

void timed_run(Setup& s, uint64_t packets) {
    const Counts before = counts(s);
    const PollCycles cycles = run(s, packets, true);
    const Counts after = counts(s);
    HandoffCase& hc = s.hc;
    hc.rep_ns.push_back(ns_per(cycles.total, packets));
    hc.rep_busy_ns.push_back(ns_per(cycles.busy, packets));
    for (unsigned k = 0; k < 2; ++k) {
        hc.relayed[k] += after.relayed[k] - before.relayed[k];
        hc.handed_off[k] += after.handed_off[k] - before.handed_off[k];
    }
    hc.to_kernel += after.to_kernel - before.to_kernel;
    hc.dropped += after.dropped - before.dropped;
    for (std::size_t r = 1; r < after.drops.size(); ++r) {
        const uint64_t n = after.drops[r] - before.drops[r];
        if (n == 0) continue;
        hc.drops += std::string(hc.drops.empty() ? "" : ",") +
                    std::string(session::relay_drop_name(static_cast<session::RelayDrop>(r))) +
                    "=" + std::to_string(n);
    }
}

}  // namespace

std::vector<HandoffCase> measure_handoff(uint32_t batch, uint64_t packets, unsigned reps) {
    std::vector<std::unique_ptr<Setup>> setups;
    setups.push_back(
        make_setup("1 worker", "one worker, one RX queue (reference)", 1, 1, 1, batch, "_h1"));
    setups.push_back(
        make_setup("a", "2 workers, 1 RX queue, every session on worker 0", 2, 1, 2, batch, "_ha"));
    setups.push_back(make_setup("b",
                                "2 workers, 1 RX queue, half the sessions on worker 1 (hand-off)",
                                2, 1, 1, batch, "_hb"));
    setups.push_back(make_setup(
        "c", "2 workers, 2 RX queues steered by owner (rte_flow stand-in), half on worker 1", 2, 2,
        1, batch, "_hc"));
    setups.push_back(make_setup("d",
                                "as c, 32 frames fed per pass: each worker relays its share of "
                                "32, the bursts of b",
                                2, 2, 1, batch, "_hd", kBurst));
    for (auto& s : setups) {
        s->hc.check = "ok";
        run(*s, std::max<uint64_t>(kSessions, batch), false);  // warm-up
    }
    // Repetitions interleaved, so that what else runs on the machine
    // spreads over every case alike.
    for (unsigned r = 0; r < reps; ++r) {
        std::fprintf(stderr, "relay_bench: hand-off, repetition %u/%u...\n", r + 1, reps);
        for (auto& s : setups)
            timed_run(*s, packets);
    }
    std::vector<HandoffCase> out;
    for (auto& s : setups)
        out.push_back(s->hc);
    return out;
}

}  // namespace isthmus::bench
