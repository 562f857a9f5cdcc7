// --command-latency: the time from a SessionCreate pushed into a worker's
// inbox, as the main lcore pushes it, to that session's first relayed
// packet on the core port's TX ring, when the packet is already waiting on
// the access port's RX ring (SRTP -> RTP, 172 octets).
//
// One Worker on one lcore, ring ports as the main bench's. 1,000 background
// sessions are created first. Then N sessions (default 2,000), one after
// another, each with its own ports (relay_traffic.hpp's session i), in
// three modes:
//   idle   the RX ring holds only the new session's packet.
//   busy   the RX ring holds it followed by 31 background frames: the poll
//          that takes the create relays a full burst of 32.
//   late   as busy, behind one more burst of 32 background frames: the
//          command arrives just after a busy poll took its commands, so it
//          waits for that poll (the clock starts before it), then as busy.
// Per session: the frames are written and queued, one poll runs untimed
// (in the busy modes with 32 background frames, which times a burst
// alone), then the clock starts; the bench pushes the SessionCreate and the
// core leg's SetNextHop, and runs poll() until the packet is on the TX
// ring. Only the pushes and the polls are timed (TSC): looking at the TX
// ring between polls is not, so the figure is the worker's time, the
// command's wait in the inbox included. Every create must be answered ok,
// every fed frame relayed, nothing dropped or sent to the kernel.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "relay_rig.hpp"
#include "relay_worker.hpp"

namespace isthmus::bench {
namespace {

using dataplane::Worker;

constexpr uint32_t kBackground = 1000;
constexpr uint32_t kBurst = 32;  // the worker's RX burst
constexpr uint32_t kMaxPolls = 64;

enum class Mode { Idle, Busy, Late };

double us(uint64_t cycles) {
    return static_cast<double>(cycles) * 1e6 / static_cast<double>(rte_get_tsc_hz());
}

class Feeder {
  public:
    Feeder(Rig& rig, FrameWriter& fw) : rig_(rig), fw_(fw), background_(kBackground) {}
    // Queues the first packet of session i (round 0).
    void first(uint32_t i) { write(i, 0); }
    // Queues n background frames.
    void background(uint32_t n) {
        for (uint32_t k = 0; k < n; ++k) {
            uint32_t i = 0;
            uint64_t round = 0;
            background_.next(i, round);
            write(i, round);
        }
    }
    uint64_t fed() const { return fed_; }

  private:
    void write(uint32_t i, uint64_t round) {
        rte_mbuf* m = nullptr;
        rig_.take(1, &m);
        const uint32_t len = fw_.write(Direction::SrtpToRtp, i, round, dataplane::mbuf_data(m),
                                       rte_pktmbuf_tailroom(m));
        if (len == 0) die("the feeder could not make a frame");
        m->data_len = static_cast<uint16_t>(len);
        m->pkt_len = len;
        m->port = rig_.port(Side::Access);
        rig_.receive(Side::Access, &m, 1);
        ++fed_;
    }
    Rig& rig_;
    FrameWriter& fw_;
    Cursor background_;  // positions 0..999 are sessions 0..999
    uint64_t fed_ = 0;
};

// Sessions next_index.. created one at a time in `mode`.
LatencyCase run_mode(Mode mode, uint32_t sessions, uint32_t& next_index, Rig& rig, FrameWriter& fw,
                     Worker& w, Feeder& feed, uint64_t& sent) {
    LatencyCase lc;
    lc.mode = mode == Mode::Idle ? "idle" : mode == Mode::Busy ? "busy" : "busy, late";
    lc.what = mode == Mode::Idle   ? "the packet alone on the RX ring"
              : mode == Mode::Busy ? "the packet and 31 other sessions' frames in the poll"
                                   : "the command arrives just after a busy poll took the "
                                     "inbox; the packet is behind that poll's burst";
    lc.background = mode == Mode::Idle ? 0 : kBackground;
    lc.check = "ok";
    const auto fail = [&](const std::string& why) {
        if (lc.failed++ == 0) lc.check = why;
    };
    const auto drain = [&](uint32_t i, bool& found) {
        sent += rig.sent(Side::Core, [&](rte_mbuf* m) {
            if (!found && fw.check(Direction::SrtpToRtp, i, 0, dataplane::mbuf_data(m),
                                   rte_pktmbuf_data_len(m))
                              .empty()) {
                found = true;
            }
        });
    };
    for (uint32_t n = 0; n < sessions; ++n) {
        const uint32_t i = next_index++;
        bool found = false;
        if (mode == Mode::Idle) {
            w.poll();  // an idle worker spins
            feed.first(i);
        } else {
            feed.background(kBurst);  // for the untimed poll
            if (mode == Mode::Late) feed.background(kBurst);
            feed.first(i);
            feed.background(kBurst - 1);
            const uint64_t a = rte_rdtsc();
            w.poll();
            lc.burst_us.push_back(us(rte_rdtsc() - a));
            drain(i, found);
        }
        const dataplane::WorkerMsg create = create_message(i);
        const dataplane::WorkerMsg hop = next_hop_message(i, Side::Core);
        uint32_t polls = 0;
        const uint64_t t0 = rte_rdtsc();
        if (mode == Mode::Late) {
            w.poll();
            ++polls;
        }
        if (!w.inbox.try_push(create) || !w.inbox.try_push(hop)) die("worker inbox full");
        uint64_t cycles = rte_rdtsc() - t0;
        while (!found && polls < kMaxPolls) {
            const uint64_t a = rte_rdtsc();
            w.poll();
            cycles += rte_rdtsc() - a;
            ++polls;
            drain(i, found);
        }
        if (!found)
            fail("session " + std::to_string(i) + ": no packet after " + std::to_string(kMaxPolls) +
                 " polls");
        lc.us.push_back(us(cycles));
        lc.polls += polls;
        lc.max_polls = std::max(lc.max_polls, polls);
        dpif::Event ev{};
        bool answered = false;
        while (w.outbox.try_pop(ev)) {
            if (ev.hdr.type != dpif::MsgType::Result) continue;
            answered = true;
            if (ev.result != dpif::ResultCode::Ok || ev.hdr.session_id != uint64_t{i} + 1) {
                fail("session " + std::to_string(i) + ": " +
                     std::string(dpif::result_name(ev.result)) + " " + ev.detail);
            }
        }
        if (!answered) fail("session " + std::to_string(i) + ": create not answered");
    }
    return lc;
}

}  // namespace

std::vector<LatencyCase> measure_command_latency(uint32_t sessions) {
    Rig rig(128, 1, 1, "_lat");
    FrameWriter fw(rig.mac(Side::Access), rig.mac(Side::Core));
    dataplane::WorkerSetup ws;
    for (std::size_t s = 0; s < 2; ++s) {
        ws.ports[s].present = true;
        ws.ports[s].port = rig.port(static_cast<Side>(s));
        std::memcpy(ws.ports[s].mac, rig.mac(static_cast<Side>(s)), 6);
    }
    ws.limits = {kBackground + 3 * sessions, 0};
    ws.publish_cycles = rte_get_tsc_hz() * 3600;
    auto w = std::make_unique<Worker>(ws);
    std::vector<uint32_t> background(kBackground);
    for (uint32_t i = 0; i < kBackground; ++i)
        background[i] = i;
    create_sessions(*w, background);
    Feeder feed(rig, fw);
    uint32_t next_index = kBackground;
    uint64_t sent = 0;
    std::vector<LatencyCase> out;
    for (const Mode mode : {Mode::Idle, Mode::Busy, Mode::Late}) {
        std::fprintf(stderr, "relay_bench: command latency, %s...\n",
                     mode == Mode::Idle   ? "idle"
                     : mode == Mode::Busy ? "busy"
                                          : "busy, late");
        out.push_back(run_mode(mode, sessions, next_index, rig, fw, *w, feed, sent));
    }
    // Every frame fed went out: none dropped, none to the kernel.
    const session::RelayCounters& c = w->counters();
    uint64_t dropped = 0;
    for (const uint64_t d : c.drops)
        dropped += d;
    if (sent != feed.fed() || dropped != 0 || c.to_kernel != 0 || rig.waiting(Side::Access) != 0) {
        const std::string why = "fed " + std::to_string(feed.fed()) + ", sent " +
                                std::to_string(sent) + ", dropped " + std::to_string(dropped) +
                                ", to kernel " + std::to_string(c.to_kernel);
        for (auto& lc : out) {
            ++lc.failed;
            lc.check = lc.check == "ok" ? why : lc.check + "; " + why;
        }
    }
    return out;
}

}  // namespace isthmus::bench
