#include "exception_path.hpp"

#include <arpa/inet.h>
#include <rte_flow.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "session/session_table.hpp"

namespace isthmus::dataplane {

namespace {

constexpr uint16_t kBurst = 32;
constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;

uint16_t find_port(const std::string& device) {
    uint16_t id = 0;
    if (rte_eth_dev_get_port_by_name(device.c_str(), &id) != 0) {
        throw std::runtime_error("no DPDK port named \"" + device +
                                 "\" (check the EAL --vdev/PCI arguments)");
    }
    return id;
}

// Starts a device with `rx` RX and `tx` TX queues (the TAP: one of each);
// `rss_hf` non-zero: spread received frames over the RX queues by RSS on
// those fields. A device that refuses that configuration is configured
// again without RSS (some drivers allow RSS only with certain queue
// counts): `rss_hf` is then set to 0.
void start_port(uint16_t id, const std::string& device, rte_mempool* pool, uint16_t rx, uint16_t tx,
                uint64_t tx_offloads, uint64_t& rss_hf) {
    rte_eth_conf conf{};
    conf.txmode.offloads = tx_offloads;
    if (rss_hf != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // the device's default key
        conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
    }
    auto fail = [&](const char* what, int rc) {
        throw std::runtime_error("port \"" + device + "\": " + what + ": " + rte_strerror(-rc));
    };
    int configured = rte_eth_dev_configure(id, rx, tx, &conf);
    if (configured != 0 && rss_hf != 0) {
        rss_hf = 0;
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
        conf.rx_adv_conf.rss_conf = {};
        configured = rte_eth_dev_configure(id, rx, tx, &conf);
    }
    if (configured != 0) fail("configure", configured);
    uint16_t rxd = kRxDesc, txd = kTxDesc;
    if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd); rc != 0) fail("descriptors", rc);
    const int socket = rte_eth_dev_socket_id(id);
    const unsigned sock = socket < 0 ? 0U : static_cast<unsigned>(socket);
    for (uint16_t q = 0; q < rx; ++q) {
        if (int rc = rte_eth_rx_queue_setup(id, q, rxd, sock, nullptr, pool); rc != 0)
            fail("rx queue", rc);
    }
    for (uint16_t q = 0; q < tx; ++q) {
        if (int rc = rte_eth_tx_queue_setup(id, q, txd, sock, nullptr); rc != 0)
            fail("tx queue", rc);
    }
    if (int rc = rte_eth_dev_start(id); rc != 0) fail("start", rc);
    // The port carries frames for the gateway's own MAC and the exception
    // TAP's; promiscuous mode keeps the PMD from filtering either.
    rte_eth_promiscuous_enable(id);
}

// A reason as one log token: letters, digits and '_' only.
std::string log_token(std::string s) {
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s.empty() ? "refused" : s;
}

// rte_flow steering: one rule per worker and IP family sending the UDP
// destination ports it owns (session::owner_port_mask) to its RX queue, so
// that no frame needs the hand-off (UDP fragments after the first and IPv6
// with extension headers do not match: RSS and the hand-off take them).
// Returns "" when every rule is in place, else why not; then every rule of
// the port is removed (the dataplane makes no other): RSS and the hand-off
// carry on.
std::string steer_by_owner(uint16_t id, uint16_t workers) {
    const uint16_t mask = session::owner_port_mask(workers);
    if (mask == 0) return "workers_not_a_power_of_two";
    for (const bool v6 : {false, true}) {
        for (uint16_t k = 0; k < workers; ++k) {
            rte_flow_attr attr{};
            attr.ingress = 1;
            rte_flow_item_udp spec{}, match{};
            spec.hdr.dst_port = htons(session::owner_port_value(k));
            match.hdr.dst_port = htons(mask);
            rte_flow_item pattern[4]{};
            pattern[0].type = RTE_FLOW_ITEM_TYPE_ETH;
            pattern[1].type = v6 ? RTE_FLOW_ITEM_TYPE_IPV6 : RTE_FLOW_ITEM_TYPE_IPV4;
            pattern[2].type = RTE_FLOW_ITEM_TYPE_UDP;
            pattern[2].spec = &spec;
            pattern[2].mask = &match;
            pattern[3].type = RTE_FLOW_ITEM_TYPE_END;
            rte_flow_action_queue queue{};
            queue.index = k;
            rte_flow_action actions[2]{};
            actions[0].type = RTE_FLOW_ACTION_TYPE_QUEUE;
            actions[0].conf = &queue;
            actions[1].type = RTE_FLOW_ACTION_TYPE_END;
            rte_flow_error err{};
            int rc = rte_flow_validate(id, &attr, pattern, actions, &err);
            if (rc == 0 && rte_flow_create(id, &attr, pattern, actions, &err) == nullptr)
                rc = rte_errno != 0 ? -rte_errno : -EINVAL;
            if (rc != 0) {
                rte_flow_error ignored{};
                rte_flow_flush(id, &ignored);
                return log_token(err.message != nullptr ? err.message : rte_strerror(-rc));
            }
        }
    }
    return {};
}

}  // namespace

PortPair::PortPair(std::string name, const std::string& device, const std::string& exception,
                   rte_mempool* pool, uint16_t workers, bool tx_checksum_offload)
    : name_(std::move(name)), port_(find_port(device)), exception_(find_port(exception)) {
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(port_, &info); rc != 0) {
        throw std::runtime_error("port \"" + device + "\": device info: " + rte_strerror(-rc));
    }
    if (info.max_tx_queues < workers) {
        throw std::runtime_error("port \"" + device + "\": " + std::to_string(workers) +
                                 " workers need as many TX queues, the device has " +
                                 std::to_string(info.max_tx_queues) +
                                 " (net_af_packet: qpairs=N; net_ring: nodeaction/rings)");
    }
    // As many RX queues as workers where the device has them (RSS, or
    // net_af_packet's fanout), else fewer: the hand-off sorts frames out.
    rx_queues_ = std::max<uint16_t>(1, std::min<uint16_t>(workers, info.max_rx_queues));
    // Several RX queues: RSS on addresses and UDP ports where the device
    // hashes them (a NIC left in mq_mode none delivers everything to queue
    // 0, leaving worker 0 to hand every frame off). RSS knows nothing of
    // owners: each worker hands on what is not its own (worker.hpp). A
    // device with several queues and no RSS (net_af_packet's fanout)
    // spreads them itself.
    uint64_t rss_hf = 0;
    if (rx_queues_ > 1) {
        rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
        rx_spread_ = rss_hf != 0 ? RxSpread::Rss : RxSpread::Device;
    }
    constexpr uint64_t kCsum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    tx_csum_offload_ = tx_checksum_offload && (info.tx_offload_capa & kCsum) == kCsum;
    // One more TX queue for the slow path where the device has it; else
    // the slow path sends through worker 0 (slow_path.hpp).
    const uint16_t tx = info.max_tx_queues > workers ? static_cast<uint16_t>(workers + 1) : workers;
    slow_tx_queue_ = tx > workers ? static_cast<int>(workers) : -1;
    start_port(port_, device, pool, rx_queues_, tx, tx_csum_offload_ ? kCsum : 0, rss_hf);
    if (rx_queues_ > 1 && rss_hf == 0 && rx_spread_ == RxSpread::Rss) {
        rx_spread_ = RxSpread::Device;
        steering_note_ = "rss_refused";
    }
    uint64_t no_rss = 0;
    start_port(exception_, exception, pool, 1, 1, 0, no_rss);
    // One link address for the gateway on this port: the kernel behind the
    // TAP answers ARP/ND with the port's MAC, the same one relayed media and
    // the dataplane's own ARP requests carry, so hosts never learn a second
    // MAC whose frames the TAP would then refuse.
    rte_ether_addr mac{};
    if (int rc = rte_eth_macaddr_get(port_, &mac); rc != 0) {
        throw std::runtime_error("port \"" + device + "\": MAC address: " + rte_strerror(-rc));
    }
    if (int rc = rte_eth_dev_default_mac_addr_set(exception_, &mac); rc != 0) {
        throw std::runtime_error("exception port \"" + exception +
                                 "\": cannot take the port's MAC address: " + rte_strerror(-rc));
    }
    // Last, once nothing here can throw: each worker's ports to its own
    // queue where the device takes rte_flow rules (RSS stays for the rest:
    // other protocols, UDP fragments; ARP goes to the device's default queue).
    if (rx_queues_ == workers && workers > 1) {
        const std::string why = steer_by_owner(port_, workers);
        if (why.empty()) {
            rx_spread_ = RxSpread::Flow;
            steering_note_.clear();
        } else if (steering_note_.empty()) {
            steering_note_ = why;
        }
    }
}

void PortPair::mac(uint8_t out[6]) const {
    rte_ether_addr a{};
    rte_eth_macaddr_get(port_, &a);
    std::memcpy(out, a.addr_bytes, 6);
}

PortPair::~PortPair() {
    // Close, not only stop: closing frees the mbufs still in the queues,
    // which must happen before their mempool goes (found by the hugepage test).
    if (rx_spread_ == RxSpread::Flow) {
        rte_flow_error ignored{};
        rte_flow_flush(port_, &ignored);
    }
    rte_eth_dev_stop(port_);
    rte_eth_dev_stop(exception_);
    rte_eth_dev_close(port_);
    rte_eth_dev_close(exception_);
}

namespace {
constexpr const char* kPairCounterNames[] = {"to_kernel", "from_kernel", "kernel_full", "ipackets",
                                             "opackets",  "ibytes",      "obytes",      "imissed",
                                             "ierrors",   "oerrors",     "rx_nombuf"};
constexpr uint32_t kPairCounters = sizeof kPairCounterNames / sizeof kPairCounterNames[0];
static_assert(kPairCounters <= dpif::kMaxStatCounters);
}  // namespace

void PortPair::describe(dpif::StatBlock& block) const {
    dpif::stat_set_label(block.kind, sizeof block.kind, "port");
    dpif::stat_set_label(block.name, sizeof block.name, name_);
    uint32_t k = 0;
    for (const char* n : kPairCounterNames) {
        dpif::stat_set_label(block.counter[k++].name, sizeof block.counter[0].name, n);
    }
    block.counters = k;
    publish(block);
}

void PortPair::publish(dpif::StatBlock& block) const {
    rte_eth_stats st{};
    rte_eth_stats_get(port_, &st);
    const uint64_t v[kPairCounters] = {counters_.to_kernel,
                                       counters_.from_kernel,
                                       counters_.kernel_full,
                                       st.ipackets,
                                       st.opackets,
                                       st.ibytes,
                                       st.obytes,
                                       st.imissed,
                                       st.ierrors,
                                       st.oerrors,
                                       st.rx_nombuf};
    uint32_t k = 0;
    for (uint64_t x : v)
        dpif::stat_store(block.counter[k++], x);
}

bool PortPair::send_frame(const uint8_t* frame, std::size_t len, rte_mempool* pool,
                          MbufRing& to_port) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) return false;
    if (len > rte_pktmbuf_tailroom(m)) {
        rte_pktmbuf_free(m);
        return false;
    }
    // Written in full before the worker can see it (the push publishes it).
    std::memcpy(mbuf_data(m), frame, len);
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = static_cast<uint32_t>(len);
    if (!to_port.try_push(m)) {
        rte_pktmbuf_free(m);
        return false;
    }
    return true;
}

unsigned PortPair::poll_kernel(MbufRing& to_port) {
    rte_mbuf* in[kBurst];
    const uint16_t m = rte_eth_rx_burst(exception_, 0, in, kBurst);
    if (m == 0) return 0;
    const std::size_t queued = to_port.push_burst(std::span<rte_mbuf* const>(in, m));
    counters_.from_kernel += queued;
    for (std::size_t i = queued; i < m; ++i) {
        ++counters_.kernel_full;
        rte_pktmbuf_free(in[i]);
    }
    return m;
}

void PortPair::to_kernel(rte_mbuf** m, uint16_t n) {
    const uint16_t sent = rte_eth_tx_burst(exception_, 0, m, n);
    counters_.to_kernel += sent;
    for (uint16_t i = sent; i < n; ++i) {
        ++counters_.kernel_full;
        rte_pktmbuf_free(m[i]);
    }
}

}  // namespace isthmus::dataplane
