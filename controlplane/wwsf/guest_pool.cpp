// The guest identity pool (guest_pool.hpp).
#include "wwsf/guest_pool.hpp"

#include <charconv>
#include <stdexcept>

namespace isthmus::wwsf {

namespace {

constexpr uint64_t kMaxRange = 100000;

uint64_t range_number(std::string_view s) {
    uint64_t v = 0;
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string_view::npos) {
        throw std::invalid_argument("{FIRST..LAST} must hold decimals of 1..9 digits");
    }
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

}  // namespace

GuestPool::GuestPool(const std::vector<std::string>& identities) {
    std::set<std::string_view> seen;
    for (const std::string& id : identities) {
        if (!seen.insert(id).second) {
            throw std::invalid_argument("\"" + id + "\" is in the pool twice");
        }
        free_.push_back(id);
    }
}

const GuestLease* GuestPool::lease(int64_t expires, std::string owner, std::string peer) {
    if (free_.empty()) return nullptr;
    std::string identity = std::move(free_.front());
    free_.pop_front();
    by_expiry_.emplace(expires, identity);
    ++per_peer_[peer];
    GuestLease l{identity, expires, std::move(owner), std::move(peer)};
    return &leased_.insert_or_assign(std::move(identity), std::move(l)).first->second;
}

const GuestLease* GuestPool::find(std::string_view identity) const {
    const auto it = leased_.find(identity);
    return it == leased_.end() ? nullptr : &it->second;
}

bool GuestPool::release(std::string_view identity) {
    const auto it = leased_.find(identity);
    if (it == leased_.end()) return false;
    by_expiry_.erase({it->second.expires, it->first});
    const auto peer = per_peer_.find(it->second.peer);
    if (peer != per_peer_.end() && --peer->second == 0) per_peer_.erase(peer);
    free_.push_back(it->first);
    leased_.erase(it);
    return true;
}

std::vector<std::string> GuestPool::expire(int64_t now) {
    std::vector<std::string> out;
    while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
        std::string identity = by_expiry_.begin()->second;
        release(identity);
        out.push_back(std::move(identity));
    }
    return out;
}

std::size_t GuestPool::leased_by(std::string_view peer) const {
    const auto it = per_peer_.find(peer);
    return it == per_peer_.end() ? 0 : it->second;
}

std::vector<std::string> expand_identity_range(std::string_view pattern) {
    const std::size_t open = pattern.find('{');
    const std::size_t close = pattern.find('}');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
        pattern.find('{', open + 1) != std::string_view::npos ||
        pattern.find('}', close + 1) != std::string_view::npos) {
        throw std::invalid_argument("expected exactly one {FIRST..LAST}, e.g. " +
                                    std::string("\"sip:guest{0001..0100}@ims.example.net\""));
    }
    const std::string_view inner = pattern.substr(open + 1, close - open - 1);
    const std::size_t dots = inner.find("..");
    if (dots == std::string_view::npos) throw std::invalid_argument("expected {FIRST..LAST}");
    const std::string_view first_text = inner.substr(0, dots);
    const uint64_t first = range_number(first_text);
    const uint64_t last = range_number(inner.substr(dots + 2));
    if (first > last) throw std::invalid_argument("FIRST is greater than LAST");
    if (last - first + 1 > kMaxRange) {
        throw std::invalid_argument("more than " + std::to_string(kMaxRange) + " identities");
    }
    const std::size_t width =
        first_text.size() > 1 && first_text.front() == '0' ? first_text.size() : 0;
    const std::string_view head = pattern.substr(0, open);
    const std::string_view tail = pattern.substr(close + 1);
    std::vector<std::string> out;
    out.reserve(last - first + 1);
    for (uint64_t n = first; n <= last; ++n) {
        std::string digits = std::to_string(n);
        if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
        out.push_back(std::string(head) + digits + std::string(tail));
    }
    return out;
}

}  // namespace isthmus::wwsf
