#include "exception_path.hpp"

#include <stdexcept>

#include "pkt/parse.hpp"

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

void start_port(uint16_t id, const std::string& device, rte_mempool* pool) {
    rte_eth_conf conf{};
    auto fail = [&](const char* what, int rc) {
        throw std::runtime_error("port \"" + device + "\": " + what + ": " + rte_strerror(-rc));
    };
    if (int rc = rte_eth_dev_configure(id, 1, 1, &conf); rc != 0) fail("configure", rc);
    uint16_t rxd = kRxDesc, txd = kTxDesc;
    if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd); rc != 0) fail("descriptors", rc);
    const int socket = rte_eth_dev_socket_id(id);
    const unsigned sock = socket < 0 ? 0U : static_cast<unsigned>(socket);
    if (int rc = rte_eth_rx_queue_setup(id, 0, rxd, sock, nullptr, pool); rc != 0)
        fail("rx queue", rc);
    if (int rc = rte_eth_tx_queue_setup(id, 0, txd, sock, nullptr); rc != 0) fail("tx queue", rc);
    if (int rc = rte_eth_dev_start(id); rc != 0) fail("start", rc);
    // The port carries frames for the gateway's own MAC and the exception
    // TAP's; promiscuous mode keeps the PMD from filtering either.
    rte_eth_promiscuous_enable(id);
}

}  // namespace

PortPair::PortPair(std::string name, const std::string& device, const std::string& exception,
                   rte_mempool* pool)
    : name_(std::move(name)), port_(find_port(device)), exception_(find_port(exception)) {
    start_port(port_, device, pool);
    start_port(exception_, exception, pool);
}

PortPair::~PortPair() {
    // Close, not only stop: closing frees the mbufs still in the queues,
    // which must happen before their mempool goes (found by the hugepage test).
    rte_eth_dev_stop(port_);
    rte_eth_dev_stop(exception_);
    rte_eth_dev_close(port_);
    rte_eth_dev_close(exception_);
}

namespace {
constexpr const char* kPairCounterNames[] = {"rx", "to_kernel", "from_kernel", "tx_full"};
constexpr uint32_t kPairCounters = 4;
}  // namespace

void PortPair::describe(dpif::StatBlock& block) const {
    dpif::stat_set_label(block.kind, sizeof block.kind, "port");
    dpif::stat_set_label(block.name, sizeof block.name, name_);
    uint32_t k = 0;
    for (const char* n : kPairCounterNames) {
        dpif::stat_set_label(block.counter[k++].name, sizeof block.counter[0].name, n);
    }
    for (std::size_t r = 1; r < pkt::kDropCount; ++r) {
        const std::string n = "drop_" + std::string(pkt::drop_name(static_cast<pkt::Drop>(r)));
        dpif::stat_set_label(block.counter[k++].name, sizeof block.counter[0].name, n);
    }
    block.counters = k;
    publish(block);
}

void PortPair::publish(dpif::StatBlock& block) const {
    const uint64_t v[kPairCounters] = {counters_.rx, counters_.to_kernel, counters_.from_kernel,
                                       counters_.tx_full};
    uint32_t k = 0;
    for (uint64_t x : v)
        dpif::stat_store(block.counter[k++], x);
    for (std::size_t r = 1; r < pkt::kDropCount; ++r) {
        dpif::stat_store(block.counter[k++], counters_.drops[r]);
    }
}

static_assert(kPairCounters + pkt::kDropCount - 1 <= dpif::kMaxStatCounters);

unsigned PortPair::poll() {
    rte_mbuf* in[kBurst];
    rte_mbuf* out[kBurst];
    unsigned moved = 0;

    // Port -> kernel, by way of the parser: malformed frames stop here.
    const uint16_t n = rte_eth_rx_burst(port_, 0, in, kBurst);
    if (n != 0) {
        counters_.rx += n;
        uint16_t k = 0;
        for (uint16_t i = 0; i < n; ++i) {
            pkt::Frame f;
            const uint8_t* data = mbuf_data(in[i]);
            const pkt::Verdict v = pkt::parse_frame(data, rte_pktmbuf_data_len(in[i]), f);
            if (v == pkt::Verdict::Drop) [[unlikely]] {
                ++counters_.drops[static_cast<std::size_t>(f.drop)];
                rte_pktmbuf_free(in[i]);
                continue;
            }
            out[k++] = in[i];  // Udp with no flow yet, or the kernel's by nature
        }
        const uint16_t sent = k != 0 ? rte_eth_tx_burst(exception_, 0, out, k) : 0;
        counters_.to_kernel += sent;
        for (uint16_t i = sent; i < k; ++i) {
            ++counters_.tx_full;
            rte_pktmbuf_free(out[i]);
        }
        moved += n;
    }

    // Kernel -> port.
    const uint16_t m = rte_eth_rx_burst(exception_, 0, in, kBurst);
    if (m != 0) {
        const uint16_t sent = rte_eth_tx_burst(port_, 0, in, m);
        counters_.from_kernel += sent;
        for (uint16_t i = sent; i < m; ++i) {
            ++counters_.tx_full;
            rte_pktmbuf_free(in[i]);
        }
        moved += m;
    }
    return moved;
}

}  // namespace isthmus::dataplane
