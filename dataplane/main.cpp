// isthmus-dataplane: the eIMS-AGW's DPDK primary process.
//
// Lcores: the main lcore sets up, serves the dpif command ring (routing
// session commands to their worker), resolves next hops, forwards the
// kernel's frames from the exception TAPs to the ports and publishes the
// heartbeat. Workers relay media (worker.hpp): one per EAL worker lcore, or
// a single one inline on the main lcore's loop. The slow path (DTLS-SRTP
// handshakes, slow_path.hpp) gets the next lcore when the EAL has one to
// spare (workers + 2 lcores), otherwise it runs in the main lcore's loop.
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/command_log.hpp"
#include "control/command_service.hpp"
#include "control/neighbour_resolver.hpp"
#include "dpdk.hpp"
#include "dtls/identity.hpp"
#include "exception_path.hpp"
#include "isthmus/config/config_impl.hpp"
#include "isthmus/dpif/shm.hpp"
#include "isthmus/log/log.hpp"
#include "pkt/neighbour.hpp"
#include "slow_path.hpp"
#include "worker.hpp"

namespace {

using isthmus::log::Level;

volatile std::sig_atomic_t g_quit = 0;
void on_signal(int) {
    g_quit = 1;
}

constexpr const char* kUsage =
    "usage: isthmus-dataplane [--config FILE] [--check-config]\n"
    "\n"
    "The eIMS-AGW media gateway (DPDK). Reads the [dataplane] section of FILE\n"
    "(default: configs/isthmus.toml), starts the EAL with its `eal` arguments,\n"
    "creates the dpif shared-memory region `region` and serves it until SIGINT\n"
    "or SIGTERM.\n"
    "\n"
    "  --config FILE    configuration file\n"
    "  --check-config   load and check the configuration, then exit (0 = valid)\n"
    "  --help           this text\n";

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path = "configs/isthmus.toml";
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--check-config") {
            check_only = true;
        } else if (a == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else {
            std::fprintf(stderr, "isthmus-dataplane: unknown argument '%s'\n\n%s", a.c_str(),
                         kUsage);
            return 2;
        }
    }

    isthmus::config::DataplaneConfig cfg;
    try {
        cfg = isthmus::config::load_dataplane(config_path);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "isthmus-dataplane: %s\n", e.what());
        return 2;
    }
    // The DTLS identity: loaded (and checked) with the configuration.
    std::optional<isthmus::dtls::Identity> identity;
    try {
        identity = cfg.dtls_certificate.empty()
                       ? isthmus::dtls::Identity::generate()
                       : isthmus::dtls::Identity::load(cfg.dtls_certificate, cfg.dtls_private_key);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "isthmus-dataplane: %s\n", e.what());
        return 2;
    }
    if (check_only) {
        std::printf("isthmus-dataplane: %s: configuration is valid\n", config_path.c_str());
        return 0;
    }
    // Logs on stdout, "level=... event=..."; `isthmus-ctl log-level dataplane`
    // changes the level through [dataplane] log_control (docs/operations.md).
    isthmus::log::Logger log("", stdout, cfg.log_level);
    if (const std::string why = log.publish(cfg.log_control, "dataplane"); !why.empty()) {
        log.writef(Level::Warning,
                   "event=log_control_unavailable what=\"%s\" note=\"log level fixed at %s\"",
                   isthmus::log::quoted_text(why).c_str(),
                   std::string(isthmus::log::level_name(cfg.log_level)).c_str());
    } else {
        log.writef(Level::Info, "event=log_control name=%s level=%s", cfg.log_control.c_str(),
                   std::string(isthmus::log::level_name(cfg.log_level)).c_str());
    }

    std::vector<std::string> eal_args = {argv[0]};
    eal_args.insert(eal_args.end(), cfg.eal.begin(), cfg.eal.end());
    std::vector<char*> eal_argv;
    for (auto& s : eal_args)
        eal_argv.push_back(s.data());
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        std::fprintf(stderr, "isthmus-dataplane: EAL init failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    // dpdk-pdump, a secondary process, can attach only where the EAL shares
    // its configuration and memory (hugepages, neither --no-shconf nor
    // --in-memory); the pdump server is started only there.
    const bool shared_eal = std::none_of(cfg.eal.begin(), cfg.eal.end(), [](const std::string& a) {
        return a == "--no-shconf" || a == "--in-memory" || a == "--no-huge";
    });
    const bool pdump = shared_eal && rte_pdump_init() == 0;
    log.writef(Level::Info, "event=pdump %s",
               pdump ? "state=available"
                     : "state=unavailable note=\"no shared EAL configuration (--no-shconf, "
                       "--in-memory or --no-huge): isthmus-ctl capture works, dpdk-pdump does "
                       "not\"");

    int rc = 0;
    {
        isthmus::dpif::SharedRegion region;
        try {
            region = isthmus::dpif::SharedRegion::create(cfg.region);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "isthmus-dataplane: %s\n", e.what());
            rte_eal_cleanup();
            return 1;
        }
        // Ports: each configured device with its exception TAP.
        rte_mempool* pool = nullptr;
        std::vector<std::unique_ptr<isthmus::dataplane::PortPair>> pairs;
        using isthmus::dataplane::SlowPath;
        using isthmus::dataplane::Worker;
        std::vector<std::unique_ptr<Worker>> workers;
        std::unique_ptr<SlowPath> slow;
        // A setup failure: what was made goes, newest first (the slow path
        // and the workers hand their mbufs back before the pool goes).
        const auto abandon = [&](const std::string& why) {
            std::fprintf(stderr, "isthmus-dataplane: %s\n", why.c_str());
            slow.reset();
            workers.clear();
            pairs.clear();
            if (pool != nullptr) rte_mempool_free(pool);
            region = isthmus::dpif::SharedRegion();
            rte_eal_cleanup();
            return 1;
        };
        try {
            if (cfg.ports.size() > isthmus::dpif::kMaxStatBlocks) {
                throw std::runtime_error("at most " +
                                         std::to_string(isthmus::dpif::kMaxStatBlocks) +
                                         " [[dataplane.port]] entries are supported");
            }
            if (!cfg.ports.empty()) {
                // Enough for every RX and TX ring of every port pair to be full
                // (2 devices x 2 x 1024 descriptors each) plus the lcore caches,
                // and for each worker's ring to the slow path (full in a DTLS
                // flood), its frames held for DTLS keys, worker 0's rings for
                // the slow path's frames and the slow path's own TX queues.
                const std::size_t parked =
                    std::size_t{cfg.workers} * (isthmus::dataplane::SlowRing::kCapacity +
                                                isthmus::dataplane::kMaxHeldFrames) +
                    2 * isthmus::dataplane::MbufRing::kCapacity + cfg.ports.size() * 1024;
                const auto mbufs = static_cast<unsigned>(
                    std::max<std::size_t>(8191, cfg.ports.size() * 4096 + 1023 + parked));
                pool = rte_pktmbuf_pool_create("isthmus_mbufs", mbufs, 256, 0,
                                               RTE_MBUF_DEFAULT_BUF_SIZE,
                                               static_cast<int>(rte_socket_id()));
                if (pool == nullptr) {
                    throw std::runtime_error(std::string("cannot create the mbuf pool: ") +
                                             rte_strerror(rte_errno));
                }
            }
            for (const auto& pc : cfg.ports) {
                pairs.push_back(std::make_unique<isthmus::dataplane::PortPair>(
                    pc.name, pc.device, pc.exception, pool, static_cast<uint16_t>(cfg.workers),
                    pc.checksums == "auto"));
            }
        } catch (const std::exception& e) {
            return abandon(e.what());
        }
        // The workers: each polls its queue of both ports and owns the
        // sessions its local ports name.
        std::vector<isthmus::dataplane::PortPair*> by_side(2, nullptr);
        const unsigned n_workers = cfg.workers;
        try {
            if (cfg.workers > isthmus::dataplane::kMaxWorkers)
                throw std::runtime_error("too many workers");
            const unsigned lcores = rte_lcore_count();
            if (!(lcores >= n_workers + 1 || (n_workers == 1 && lcores == 1))) {
                throw std::runtime_error(
                    "workers = " + std::to_string(n_workers) + " needs " +
                    std::to_string(n_workers + 1) +
                    " EAL lcores (-l: the main lcore and one per worker); a single worker "
                    "may also run on the main lcore alone (-l with one lcore)");
            }
            isthmus::dataplane::WorkerSetup ws;
            for (auto& pair : pairs) {
                const std::size_t side = pair->name() == "access" ? 0 : 1;
                if (by_side[side] != nullptr) {
                    throw std::runtime_error("two ports named \"" + pair->name() + "\"");
                }
                by_side[side] = pair.get();
                ws.ports[side].present = true;
                ws.ports[side].port = pair->port_id();
                ws.ports[side].rx_queues = pair->rx_queues();
                const auto& pc = cfg.ports[static_cast<std::size_t>(&pair - pairs.data())];
                ws.ports[side].checksums =
                    pc.checksums == "no-ipv4-udp" ? isthmus::pkt::Checksums::NoUdpOnIpv4
                    : pair->tx_checksum_offload() ? isthmus::pkt::Checksums::Offload
                                                  : isthmus::pkt::Checksums::Software;
                const std::string steering = pair->steering_note().empty()
                                                 ? ""
                                                 : " no_flow_steering=" + pair->steering_note();
                log.writef(Level::Info,
                           "event=port_ready port=%s rx_queues=%u rx_spread=%s%s tx_checksums=%s",
                           pair->name().c_str(), pair->rx_queues(),
                           isthmus::dataplane::rx_spread_name(pair->rx_spread()), steering.c_str(),
                           ws.ports[side].checksums == isthmus::pkt::Checksums::Offload ? "offload"
                           : ws.ports[side].checksums == isthmus::pkt::Checksums::Software
                               ? "software"
                               : "no-ipv4-udp");
                pair->mac(ws.ports[side].mac);
            }
            ws.workers = n_workers;
            ws.limits = {cfg.sessions_per_worker, cfg.srtp_contexts_per_worker,
                         cfg.police_burst_ms};
            ws.publish_cycles = rte_get_tsc_hz() * cfg.heartbeat_ms / 1000;
            ws.media_timeout_ns = uint64_t{cfg.media_timeout_s} * 1000000000ULL;
            ws.capture = &region->capture;
            for (unsigned w = 0; w < n_workers; ++w) {
                ws.index = w;
                ws.tx_queue = static_cast<uint16_t>(w);
                workers.push_back(std::make_unique<Worker>(ws));
                log.writef(Level::Info,
                           "event=worker_ready worker=%u sessions=%u session_memory_mib=%zu", w,
                           cfg.sessions_per_worker, workers.back()->table().memory_bytes() >> 20);
            }
            for (unsigned j = 0; j < n_workers; ++j)
                for (unsigned k = 0; k < n_workers; ++k)
                    workers[j]->handoff_out[k] = &workers[k]->handoff_in[j];
        } catch (const std::exception& e) {
            return abandon(std::string("worker setup: ") + e.what());
        }
        // The slow path: DTLS-SRTP handshakes for every worker's legs.
        try {
            isthmus::dataplane::SlowPathSetup ss;
            for (auto& w : workers)
                ss.workers.push_back(w.get());
            for (std::size_t side = 0; side < 2; ++side) {
                if (by_side[side] == nullptr) continue;
                ss.ports[side].present = true;
                ss.ports[side].port = by_side[side]->port_id();
                by_side[side]->mac(ss.ports[side].mac);
                ss.tx_queue[side] = by_side[side]->slow_tx_queue();
            }
            ss.pool = pool;
            ss.capture = &region->capture;
            ss.limits.max_handshakes = cfg.dtls_max_handshakes;
            ss.limits.handshake_timeout_ns = uint64_t{cfg.dtls_handshake_timeout_s} * 1000000000ULL;
            // Sharing the main lcore (no lcore of its own: see below), the
            // slow path takes fewer messages a pass, so that the command
            // ring, heartbeat and TAPs wait no more than a few handshake steps.
            if (rte_lcore_count() < n_workers + 2) ss.msgs_per_worker = 4;
            slow = std::make_unique<SlowPath>(ss, *identity);
            const std::string fp = isthmus::dtls::fingerprint_text(identity->fingerprint());
            std::snprintf(region->header.dtls_fingerprint, sizeof region->header.dtls_fingerprint,
                          "%s", fp.c_str());
            log.writef(Level::Info,
                       "event=dtls_ready fingerprint=sha-256:%s certificate=%s "
                       "slow_tx_queues=%d,%d",
                       fp.c_str(),
                       cfg.dtls_certificate.empty() ? "generated" : cfg.dtls_certificate.c_str(),
                       ss.tx_queue[0], ss.tx_queue[1]);
        } catch (const std::exception& e) {
            return abandon(std::string("slow path setup: ") + e.what());
        }
        // Counters: one stats block per port pair (main lcore publishes them
        // every heartbeat), then one per worker (each publishes its own),
        // then the slow path's.
        std::size_t blocks = 0;
        for (std::size_t i = 0; i < pairs.size(); ++i)
            pairs[i]->describe(region->stats.block[blocks++]);
        for (auto& w : workers)
            w->describe(blocks < isthmus::dpif::kMaxStatBlocks ? &region->stats.block[blocks++]
                                                               : nullptr);
        slow->describe(blocks < isthmus::dpif::kMaxStatBlocks ? &region->stats.block[blocks++]
                                                              : nullptr);
        region->stats.blocks.store(static_cast<uint32_t>(blocks));

        // A single worker with a single lcore runs inline on the main lcore.
        const bool inline_worker = rte_lcore_count() == 1;
        std::vector<unsigned> worker_lcores;
        std::string lcore_list;
        if (!inline_worker) {
            unsigned lcore = static_cast<unsigned>(-1);
            for (auto& w : workers) {
                lcore = rte_get_next_lcore(lcore, 1, 0);
                if (rte_eal_remote_launch(&Worker::run, w.get(), lcore) != 0) {
                    // Stop what runs already, then leave as any setup failure.
                    for (auto& other : workers)
                        other->stop.store(true);
                    for (unsigned l : worker_lcores)
                        rte_eal_wait_lcore(l);
                    return abandon("cannot launch a worker on lcore " + std::to_string(lcore));
                }
                worker_lcores.push_back(lcore);
                lcore_list += (lcore_list.empty() ? "" : ",") + std::to_string(lcore);
            }
        }
        // The slow path's own lcore when the EAL has one beyond the workers'.
        unsigned slow_lcore = RTE_MAX_LCORE;
        if (!inline_worker && rte_lcore_count() >= n_workers + 2) {
            const unsigned l = rte_get_next_lcore(worker_lcores.back(), 1, 0);
            if (l < RTE_MAX_LCORE && rte_eal_remote_launch(&SlowPath::run, slow.get(), l) == 0)
                slow_lcore = l;
        }
        const bool inline_slow = slow_lcore == RTE_MAX_LCORE;
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        isthmus::dpif::RegionHeader& hdr = region->header;
        hdr.heartbeat_ns.store(monotonic_ns());
        {
            // Capture records carry the TSC (isthmus-ctl capture maps it to
            // the wall clock with its own reference).
            isthmus::dpif::CaptureControl& cc = region->capture.control;
            cc.tsc_hz = rte_get_tsc_hz();
            cc.worker_rings = n_workers;
        }
        hdr.state.store(static_cast<uint32_t>(isthmus::dpif::DataplaneState::Running));
        log.writef(Level::Info,
                   "event=started region=%s generation=%llu devices=%u ports=%zu lcores=%u "
                   "workers=%u worker_lcores=%s slow_path_lcore=%s pid=%d",
                   cfg.region.c_str(),
                   static_cast<unsigned long long>(hdr.dataplane_generation.load()),
                   static_cast<unsigned>(rte_eth_dev_count_avail()), pairs.size(),
                   rte_lcore_count(), n_workers, inline_worker ? "main" : lcore_list.c_str(),
                   inline_slow ? "main" : std::to_string(slow_lcore).c_str(), getpid());
        std::fflush(stdout);

        isthmus::dpif::Event evs[64];
        const uint64_t beat_ns = uint64_t{cfg.heartbeat_ms} * 1000000ULL;
        uint64_t next_beat = monotonic_ns() + beat_ns;
        uint32_t orphan_seq = 0;  // a capture seen without an owner (see the heartbeat)
        uint64_t served = 0, events_dropped = 0, requests_sent = 0, requests_failed = 0;
        isthmus::dpif::Command cmds[32];
        isthmus::dataplane::CommandService service(static_cast<uint16_t>(n_workers));
        std::deque<isthmus::dataplane::MsrpOp> msrp_waiting;
        isthmus::dataplane::NeighbourResolver resolver(65536);
        // Next-hop rules per side ([[dataplane.port]] networks / gateway / gateway6).
        std::vector<isthmus::dataplane::PortRoute> routes(2);
        for (const auto& pc : cfg.ports) {
            routes[pc.name == "access" ? 0 : 1] =
                isthmus::dataplane::PortRoute(pc.networks, pc.gateway, pc.gateway6);
        }
        std::vector<isthmus::dataplane::ResolveRequest> requests;
        std::vector<isthmus::dataplane::NextHopUpdate> updates;
        rte_mbuf* kernel_bound[64];
        const auto to_worker = [&](unsigned w, const isthmus::dataplane::WorkerMsg& m) {
            // Room was checked before the command was taken off the ring.
            if (!workers[w]->inbox.try_push(m)) ++events_dropped;
        };
        // The kernel's frames and the resolver's requests go out through
        // worker 0's TX queues.
        Worker& sender = *workers[0];
        const auto send_requests = [&] {
            for (const auto& r : requests) {
                isthmus::dataplane::PortPair* pair = by_side[r.side & 1U];
                if (pair == nullptr) continue;
                uint8_t frame[128];
                uint8_t mac[6];
                pair->mac(mac);
                const std::size_t len = r.family == 4
                                            ? isthmus::pkt::build_arp_request(
                                                  frame, sizeof frame, mac, r.source, r.target)
                                            : isthmus::pkt::build_neighbour_solicitation(
                                                  frame, sizeof frame, mac, r.source, r.target);
                if (len != 0 &&
                    pair->send_frame(frame, len, pool, sender.from_kernel[r.side & 1U])) {
                    ++requests_sent;
                } else {
                    ++requests_failed;
                }
            }
            requests.clear();
        };
        const auto push_updates = [&] {
            for (const auto& u : updates) {
                isthmus::dataplane::WorkerMsg m{};
                m.kind = isthmus::dataplane::WorkerMsg::Kind::SetNextHop;
                m.session_id = u.session_id;
                m.side = u.side;
                std::memcpy(m.mac, u.mac, 6);
                m.family = u.family;
                std::memcpy(m.addr, u.addr, 16);
                to_worker(u.worker, m);
            }
            updates.clear();
        };
        while (g_quit == 0) {
            unsigned work = 0;
            if (inline_worker) work += workers[0]->poll();
            if (inline_slow) work += slow->poll(monotonic_ns());
            {
                // DtlsUp / DtlsFailed on their way to the control plane.
                const std::size_t ev_room = region->events.kCapacity - region->events.size();
                const std::size_t ne =
                    slow->outbox.pop_burst(std::span(evs, std::min(std::size(evs), ev_room)));
                for (std::size_t i = 0; i < ne; ++i)
                    if (!region->events.try_push(evs[i])) ++events_dropped;
                work += static_cast<unsigned>(ne);
            }
            for (std::size_t side = 0; side < 2; ++side) {
                if (by_side[side] != nullptr)
                    work += by_side[side]->poll_kernel(sender.from_kernel[side]);
            }
            // Commands only while the worker's inbox has room for a whole
            // burst and its next hops: otherwise they wait in the region's
            // ring (the control plane sees it fill), never dropped.
            std::size_t room = SIZE_MAX;
            for (auto& w : workers)
                room = std::min<std::size_t>(room, w->inbox.kCapacity - w->inbox.size());
            std::size_t n = 0;
            if (room >= 3 * std::size(cmds) + 8) n = region->commands.pop_burst(cmds);
            const uint64_t now = monotonic_ns();
            for (std::size_t i = 0; i < n; ++i) {
                const isthmus::dpif::Command& c = cmds[i];
                const isthmus::dataplane::Routed r = service.handle(c);
                if (c.hdr.type == isthmus::dpif::MsgType::ResyncBegin &&
                    r.reply.result == isthmus::dpif::ResultCode::Ok) {
                    hdr.control_generation.store(service.generation());
                }
                if (r.release_older != 0) {
                    isthmus::dataplane::WorkerMsg m{};
                    m.kind = isthmus::dataplane::WorkerMsg::Kind::ReleaseOlder;
                    m.generation = r.release_older;
                    for (unsigned w = 0; w < n_workers; ++w)
                        to_worker(w, m);
                }
                if (r.to == isthmus::dataplane::Routed::To::Reply) {
                    if (log.admit(Level::Debug))
                        log.write(Level::Debug, isthmus::dataplane::command_result_text(r.reply));
                    // The event ring is read by the control plane; if it is
                    // full the answer is dropped and counted, never waited for.
                    if (!region->events.try_push(r.reply)) ++events_dropped;
                    continue;
                }
                isthmus::dataplane::WorkerMsg m{};
                m.kind = isthmus::dataplane::WorkerMsg::Kind::Command;
                m.cmd = c;
                if (r.to == isthmus::dataplane::Routed::To::AllWorkers) {
                    for (unsigned w = 0; w < n_workers; ++w)
                        to_worker(w, m);
                    continue;
                }
                to_worker(r.worker, m);
                if (c.hdr.type == isthmus::dpif::MsgType::SessionCreate ||
                    c.hdr.type == isthmus::dpif::MsgType::SessionUpdate) {
                    // Next hops toward both remotes, known or asked for.
                    const isthmus::dpif::LegSpec* legs[2] = {&c.access, &c.core};
                    for (uint8_t side = 0; side < 2; ++side) {
                        const uint8_t* mac = resolver.need(
                            c.hdr.session_id, r.worker, side, legs[side]->local, legs[side]->remote,
                            routes[side].next_hop(legs[side]->remote), now, requests);
                        if (mac != nullptr) {
                            isthmus::dataplane::NextHopUpdate u{};
                            u.session_id = c.hdr.session_id;
                            u.worker = r.worker;
                            u.side = side;
                            std::memcpy(u.mac, mac, 6);
                            u.family = legs[side]->remote.family;
                            std::memcpy(u.addr, legs[side]->remote.addr, 16);
                            updates.push_back(u);
                        }
                    }
                }
            }
            served += n;
            // Chat specs to the slow path, in order; those its ring cannot
            // take yet wait here (never dropped: a lost Clear would leave a
            // chat running after its session).
            if (service.has_msrp_ops()) {
                for (isthmus::dataplane::MsrpOp& op : service.take_msrp_ops())
                    msrp_waiting.push_back(op);
            }
            while (!msrp_waiting.empty() && slow->msrp_inbox.try_push(msrp_waiting.front()))
                msrp_waiting.pop_front();
            work += static_cast<unsigned>(n);
            for (auto& w : workers) {
                // The worker's events on their way to the control plane.
                // Only as many as the region's event ring takes: the rest
                // wait in the outbox, the worker then waits with its
                // commands, and the control plane finds the command ring
                // full — back-pressure all the way, no answer lost.
                const std::size_t ev_room = region->events.kCapacity - region->events.size();
                const std::size_t ne =
                    w->outbox.pop_burst(std::span(evs, std::min(std::size(evs), ev_room)));
                for (std::size_t i = 0; i < ne; ++i) {
                    const isthmus::dpif::Event& ev = evs[i];
                    const bool forward = service.on_worker_event(ev);
                    if (forward && ev.hdr.type == isthmus::dpif::MsgType::Result &&
                        log.admit(Level::Debug))
                        log.write(Level::Debug, isthmus::dataplane::command_result_text(ev));
                    if (forward && !region->events.try_push(ev)) ++events_dropped;
                    // Sessions that are gone (deleted, released, never made)
                    // stop getting next-hop updates.
                    if ((ev.hdr.type == isthmus::dpif::MsgType::Result ||
                         ev.hdr.type == isthmus::dpif::MsgType::SessionInfo) &&
                        ev.hdr.session_id != 0 && !service.knows(ev.hdr.session_id))
                        resolver.forget(ev.hdr.session_id);
                }
                work += static_cast<unsigned>(ne);
                // Frames for the kernel: learn neighbours from ARP/ND on the way.
                const std::size_t nk = w->to_kernel.pop_burst(std::span(kernel_bound));
                for (std::size_t i = 0; i < nk; ++i) {
                    rte_mbuf* m = kernel_bound[i];
                    const uint8_t side =
                        by_side[0] != nullptr && m->port == by_side[0]->port_id() ? 0 : 1;
                    isthmus::pkt::NeighbourObservation obs;
                    if (isthmus::pkt::snoop_neighbour(isthmus::dataplane::mbuf_data(m),
                                                      rte_pktmbuf_data_len(m), obs)) {
                        resolver.learned(side, obs, now, updates);
                    }
                    isthmus::dataplane::PortPair* pair = by_side[side];
                    if (pair == nullptr) {
                        rte_pktmbuf_free(m);
                    } else {
                        pair->to_kernel(&m, 1);
                    }
                }
                work += static_cast<unsigned>(nk);
            }
            if (now >= next_beat) {
                resolver.tick(now, requests);
                for (std::size_t i = 0; i < pairs.size(); ++i)
                    pairs[i]->publish(region->stats.block[i]);
                hdr.heartbeat_ns.store(now);
                next_beat = now + beat_ns;
                // A capturer that stopped refreshing its beat (killed): free
                // the claim, then stop a capture that has had no owner for a
                // whole heartbeat (the next owner claims before it starts).
                isthmus::dpif::CaptureControl& cc = region->capture.control;
                uint32_t owner = cc.owner_pid.load();
                if (owner != 0) {
                    const uint64_t beat = cc.owner_beat_ns.load();
                    if (now > beat && now - beat > isthmus::dpif::kCaptureOwnerTimeoutNs &&
                        cc.owner_pid.compare_exchange_strong(owner, 0)) {
                        log.writef(Level::Warning, "event=capture_abandoned owner_pid=%u", owner);
                    }
                    orphan_seq = 0;
                } else {
                    uint32_t seq = cc.seq.load();
                    if ((seq & 1U) == 0) {
                        orphan_seq = 0;
                    } else if (orphan_seq != seq) {
                        orphan_seq = seq;  // look again next heartbeat
                    } else if (cc.seq.compare_exchange_strong(seq, seq + 1)) {
                        orphan_seq = 0;
                    }
                }
            }
            send_requests();
            push_updates();
            // Without an inline worker the main lcore only serves rings and
            // the kernel's frames: idle gently when there is nothing.
            if (work == 0 && !inline_worker) rte_delay_us_sleep(50);
            if (work == 0 && inline_worker && pairs.empty()) rte_delay_us_sleep(100);
        }
        for (auto& w : workers)
            w->stop.store(true);
        slow->stop.store(true);
        for (unsigned lcore : worker_lcores)
            rte_eal_wait_lcore(lcore);
        if (!inline_slow) rte_eal_wait_lcore(slow_lcore);
        {
            const auto& d = slow->counters();
            log.writef(Level::Info,
                       "event=slow_path_counters dtls_handshakes_started=%llu "
                       "dtls_handshakes_up=%llu dtls_handshakes_failed=%llu "
                       "dtls_fingerprint_mismatch=%llu dtls_second_handshakes=%llu",
                       static_cast<unsigned long long>(d.handshakes_started),
                       static_cast<unsigned long long>(d.handshakes_up),
                       static_cast<unsigned long long>(d.handshakes_failed),
                       static_cast<unsigned long long>(d.fingerprint_mismatch),
                       static_cast<unsigned long long>(d.second_handshakes));
        }
        slow.reset();  // frees the datagrams still queued to it
        // Frames still in flight between the lcores go back to the pool.
        for (auto& w : workers) {
            rte_mbuf* m = nullptr;
            while (w->to_kernel.try_pop(m))
                rte_pktmbuf_free(m);
            for (auto& ring : w->from_kernel)
                while (ring.try_pop(m))
                    rte_pktmbuf_free(m);
            for (auto& ring : w->slow_tx)
                while (ring.try_pop(m))
                    rte_pktmbuf_free(m);
            for (auto& ring : w->handoff_in)
                while (ring.try_pop(m))
                    rte_pktmbuf_free(m);
        }
        log.writef(Level::Info, "event=stopping commands=%llu events_dropped=%llu",
                   static_cast<unsigned long long>(served),
                   static_cast<unsigned long long>(events_dropped));
        for (const auto& pair : pairs) {
            const auto& c = pair->counters();
            log.writef(Level::Info,
                       "event=port_counters port=%s to_kernel=%llu from_kernel=%llu "
                       "kernel_full=%llu",
                       pair->name().c_str(), static_cast<unsigned long long>(c.to_kernel),
                       static_cast<unsigned long long>(c.from_kernel),
                       static_cast<unsigned long long>(c.kernel_full));
        }
        for (std::size_t wi = 0; wi < workers.size(); ++wi) {
            const Worker* worker = workers[wi].get();
            const auto& c = worker->counters();
            std::string line;  // one line, built in parts
            isthmus::log::appendf(
                line,
                "event=worker_counters worker=%zu sessions=%u rx_access=%llu "
                "rx_core=%llu "
                "relayed_access_to_core=%llu relayed_core_to_access=%llu to_kernel=%llu "
                "neighbour_requests=%llu neighbour_request_failures=%llu",
                wi, worker->table().size(), static_cast<unsigned long long>(c.rx_packets[0]),
                static_cast<unsigned long long>(c.rx_packets[1]),
                static_cast<unsigned long long>(c.relayed_packets[0]),
                static_cast<unsigned long long>(c.relayed_packets[1]),
                static_cast<unsigned long long>(c.to_kernel),
                static_cast<unsigned long long>(requests_sent),
                static_cast<unsigned long long>(requests_failed));
            for (std::size_t r = 1; r < c.drops.size(); ++r) {
                isthmus::log::appendf(line, " drop_%s=%llu",
                                      std::string(isthmus::session::relay_drop_name(
                                                      static_cast<isthmus::session::RelayDrop>(r)))
                                          .c_str(),
                                      static_cast<unsigned long long>(c.drops[r]));
            }
            for (std::size_t r = 1; r < c.malformed.size(); ++r) {
                isthmus::log::appendf(
                    line, " malformed_%s=%llu",
                    std::string(isthmus::pkt::drop_name(static_cast<isthmus::pkt::Drop>(r)))
                        .c_str(),
                    static_cast<unsigned long long>(c.malformed[r]));
            }
            log.write(Level::Info, line);
        }
        std::fflush(stdout);
        workers.clear();
        pairs.clear();
        if (pool != nullptr) rte_mempool_free(pool);
    }  // region: marked Stopped and unlinked
    if (pdump) rte_pdump_uninit();
    if (rte_eal_cleanup() != 0) rc = 1;
    return rc;
}
