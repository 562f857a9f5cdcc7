#include "pcscf/transport_common.hpp"

#include <algorithm>

namespace isthmus::pcscf {

void TransportCounters::peak_queue(uint64_t bytes) {
    uint64_t seen = send_queue_peak_bytes.load(std::memory_order_relaxed);
    while (bytes > seen &&
           !send_queue_peak_bytes.compare_exchange_weak(seen, bytes, std::memory_order_relaxed)) {
    }
}

bool SendBudget::take(std::size_t bytes, TransportCounters& counters) {
    std::size_t m = messages_.fetch_add(1, std::memory_order_relaxed) + 1;
    std::size_t b = bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    if (m > max_messages_ || b > max_bytes_) {
        give(bytes);
        return false;
    }
    counters.peak_queue(b);
    return true;
}

void SendBudget::give(std::size_t bytes) {
    messages_.fetch_sub(1, std::memory_order_relaxed);
    bytes_.fetch_sub(bytes, std::memory_order_relaxed);
}

uint64_t next_flow_id() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

void FlowRegistry::join(uint64_t flow, std::weak_ptr<Connection> c) {
    std::lock_guard lock(mutex_);
    flows_[flow] = std::move(c);
}

void FlowRegistry::leave(uint64_t flow) {
    std::lock_guard lock(mutex_);
    flows_.erase(flow);
}

std::shared_ptr<Connection> FlowRegistry::find(uint64_t flow) const {
    std::lock_guard lock(mutex_);
    auto it = flows_.find(flow);
    return it == flows_.end() ? nullptr : it->second.lock();
}

std::vector<std::shared_ptr<Connection>> FlowRegistry::all() const {
    std::vector<std::shared_ptr<Connection>> out;
    std::lock_guard lock(mutex_);
    out.reserve(flows_.size());
    for (const auto& [flow, weak] : flows_) {
        if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
}

std::size_t FlowRegistry::size() const {
    std::lock_guard lock(mutex_);
    return flows_.size();
}

std::array<uint8_t, 16> peer_address(const net::ip::address& a) {
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        return v4_mapped(b[0], b[1], b[2], b[3]);
    }
    return a.to_v6().to_bytes();
}

net::ip::address asio_address(const std::array<uint8_t, 16>& a) {
    net::ip::address_v6 v6(a);
    if (v6.is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, v6);
    return v6;
}

std::string endpoint_text(const net::ip::address& a, uint16_t port) {
    std::string host = a.to_string();
    if (a.is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(port);
}

bool is_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<uint8_t>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n = 0;
        uint32_t cp = 0;
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1fu;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0fu;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (s.size() - i <= n) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            auto cc = static_cast<uint8_t>(s[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3fu);
        }
        // Overlong forms, surrogates and beyond U+10FFFF are not UTF-8.
        constexpr std::array<uint32_t, 4> kMin = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

}  // namespace isthmus::pcscf
