#include "relay_worker.hpp"

#include <cstring>
#include <string>

#include "relay_rig.hpp"

namespace isthmus::bench {

using dataplane::Worker;
using dataplane::WorkerMsg;

WorkerMsg create_message(uint32_t i, uint32_t police_kbps) {
    WorkerMsg m{};
    m.kind = WorkerMsg::Kind::Command;
    m.cmd = create_command(i, police_kbps);
    return m;
}

WorkerMsg next_hop_message(uint32_t i, Side side) {
    const dpif::Command c = create_command(i);
    WorkerMsg h{};
    h.kind = WorkerMsg::Kind::SetNextHop;
    h.session_id = c.hdr.session_id;
    h.side = static_cast<uint8_t>(side);
    std::memcpy(h.mac, side == Side::Access ? kBrowserRouterMac : kImsRouterMac, 6);
    // For the leg's remote, as the main lcore's neighbour resolution says.
    const dpif::IpEndpoint& remote = side == Side::Access ? c.access.remote : c.core.remote;
    h.family = remote.family;
    std::memcpy(h.addr, remote.addr, 16);
    return h;
}

double create_sessions(Worker& w, std::span<const uint32_t> indices, uint32_t police_kbps) {
    const std::size_t n = indices.size(), size_before = w.table().size();
    std::size_t next = 0, answered = 0, failed = 0;
    std::string first_failure;
    dpif::Event evs[64];
    const uint64_t t0 = rte_rdtsc();
    while (answered < n) {
        while (next < n && w.inbox.kCapacity - w.inbox.size() >= 3) {
            w.inbox.try_push(create_message(indices[next], police_kbps));
            w.inbox.try_push(next_hop_message(indices[next], Side::Access));
            w.inbox.try_push(next_hop_message(indices[next], Side::Core));
            ++next;
        }
        w.poll();
        const std::size_t ne = w.outbox.pop_burst(evs);
        for (std::size_t k = 0; k < ne; ++k) {
            if (evs[k].hdr.type != dpif::MsgType::Result) continue;
            ++answered;
            if (evs[k].result != dpif::ResultCode::Ok && failed++ == 0) {
                first_failure =
                    std::string(dpif::result_name(evs[k].result)) + " (" + evs[k].detail + ")";
            }
        }
    }
    const uint64_t cycles = rte_rdtsc() - t0;
    if (failed != 0 || w.events_dropped() != 0 || w.table().size() != size_before + n) {
        die(std::to_string(failed) + " session creates failed, first: " + first_failure);
    }
    return ns_per(cycles, n);
}

uint64_t handed_off(Worker& w) {
    // describe() publishes the worker's counters into the block at once;
    // describe(nullptr) takes the block back before it goes.
    dpif::StatBlock block{};
    w.describe(&block);
    w.describe(nullptr);
    for (uint32_t k = 0; k < block.counters; ++k) {
        if (std::strcmp(block.counter[k].name, "handed_off") == 0)
            return dpif::stat_load(block.counter[k]);
    }
    die("the worker publishes no handed_off counter");
}

}  // namespace isthmus::bench
