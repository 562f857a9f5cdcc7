// isthmus-dataplane: the eIMS-AGW's DPDK primary process.
//
// This first step brings up the EAL on the configured devices, creates the
// dpif region and serves its command ring on the main lcore (Ping, resync
// bracketing); sessions, ports and workers come next (issue 4), and until
// then session commands are answered NotSupported rather than ignored.
#include <time.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "control/command_service.hpp"
#include "dpdk.hpp"
#include "exception_path.hpp"
#include "isthmus/config/config_impl.hpp"
#include "isthmus/dpif/shm.hpp"

namespace {

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
    if (check_only) {
        std::printf("isthmus-dataplane: %s: configuration is valid\n", config_path.c_str());
        return 0;
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
        try {
            if (cfg.ports.size() > isthmus::dpif::kMaxStatBlocks) {
                throw std::runtime_error("at most " +
                                         std::to_string(isthmus::dpif::kMaxStatBlocks) +
                                         " [[dataplane.port]] entries are supported");
            }
            if (!cfg.ports.empty()) {
                // Enough for every RX and TX ring of every port pair to be full
                // (2 devices x 2 x 1024 descriptors each) plus the lcore caches.
                const auto mbufs = static_cast<unsigned>(
                    std::max<std::size_t>(8191, cfg.ports.size() * 4096 + 1023));
                pool = rte_pktmbuf_pool_create("isthmus_mbufs", mbufs, 256, 0,
                                               RTE_MBUF_DEFAULT_BUF_SIZE,
                                               static_cast<int>(rte_socket_id()));
                if (pool == nullptr) {
                    throw std::runtime_error(std::string("cannot create the mbuf pool: ") +
                                             rte_strerror(rte_errno));
                }
            }
            for (const auto& pc : cfg.ports) {
                pairs.push_back(std::make_unique<isthmus::dataplane::PortPair>(pc.name, pc.device,
                                                                               pc.exception, pool));
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "isthmus-dataplane: %s\n", e.what());
            pairs.clear();
            region = isthmus::dpif::SharedRegion();
            rte_eal_cleanup();
            return 1;
        }
        // Counters: one stats block per port pair, published every heartbeat.
        for (std::size_t i = 0; i < pairs.size() && i < isthmus::dpif::kMaxStatBlocks; ++i) {
            pairs[i]->describe(region->stats.block[i]);
        }
        region->stats.blocks.store(static_cast<uint32_t>(
            std::min<std::size_t>(pairs.size(), isthmus::dpif::kMaxStatBlocks)));
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        isthmus::dpif::RegionHeader& hdr = region->header;
        hdr.heartbeat_ns.store(monotonic_ns());
        hdr.state.store(static_cast<uint32_t>(isthmus::dpif::DataplaneState::Running));
        std::printf(
            "level=info event=started region=%s generation=%llu ports=%u lcores=%u pid=%d\n",
            cfg.region.c_str(), static_cast<unsigned long long>(hdr.dataplane_generation.load()),
            static_cast<unsigned>(rte_eth_dev_count_avail()), rte_lcore_count(), getpid());
        std::fflush(stdout);

        const uint64_t beat_ns = uint64_t{cfg.heartbeat_ms} * 1000000ULL;
        uint64_t next_beat = monotonic_ns() + beat_ns;
        uint64_t served = 0, events_dropped = 0;
        isthmus::dpif::Command cmds[32];
        isthmus::dataplane::CommandService service;
        while (g_quit == 0) {
            for (auto& pair : pairs)
                pair->poll();
            const std::size_t n = region->commands.pop_burst(cmds);
            for (std::size_t i = 0; i < n; ++i) {
                // The event ring is read by the control plane; if it is full
                // the answer is dropped and counted, the loop never blocks.
                const isthmus::dpif::Event ev = service.handle(cmds[i]);
                if (cmds[i].hdr.type == isthmus::dpif::MsgType::ResyncBegin &&
                    ev.result == isthmus::dpif::ResultCode::Ok) {
                    hdr.control_generation.store(service.generation());
                }
                if (!region->events.try_push(ev)) ++events_dropped;
            }
            served += n;
            const uint64_t now = monotonic_ns();
            if (now >= next_beat) {
                for (std::size_t i = 0; i < pairs.size() && i < isthmus::dpif::kMaxStatBlocks;
                     ++i) {
                    pairs[i]->publish(region->stats.block[i]);
                }
                hdr.heartbeat_ns.store(now);
                next_beat = now + beat_ns;
            }
            // With no ports the main lcore only serves the rings: idle gently.
            if (n == 0 && pairs.empty()) rte_delay_us_sleep(100);
        }
        std::printf("level=info event=stopping commands=%llu events_dropped=%llu\n",
                    static_cast<unsigned long long>(served),
                    static_cast<unsigned long long>(events_dropped));
        for (const auto& pair : pairs) {
            const auto& c = pair->counters();
            std::printf(
                "level=info event=port_counters port=%s rx=%llu to_kernel=%llu "
                "from_kernel=%llu tx_full=%llu",
                pair->name().c_str(), static_cast<unsigned long long>(c.rx),
                static_cast<unsigned long long>(c.to_kernel),
                static_cast<unsigned long long>(c.from_kernel),
                static_cast<unsigned long long>(c.tx_full));
            for (std::size_t r = 1; r < c.drops.size(); ++r) {
                std::printf(" drop_%s=%llu",
                            std::string(isthmus::pkt::drop_name(static_cast<isthmus::pkt::Drop>(r)))
                                .c_str(),
                            static_cast<unsigned long long>(c.drops[r]));
            }
            std::printf("\n");
        }
        std::fflush(stdout);
        pairs.clear();
        if (pool != nullptr) rte_mempool_free(pool);
    }  // region: marked Stopped and unlinked
    if (rte_eal_cleanup() != 0) rc = 1;
    return rc;
}
