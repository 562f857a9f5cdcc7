#include "pcscf/registrar.hpp"

#include <algorithm>

namespace isthmus::pcscf {

namespace {

bool live_at(const Registration& r, TimePoint now) {
    return r.expires > now;
}

// Keeps at most `limit` entries; counts what it drops.
template <typename T>
void bound(std::vector<T>& v, std::size_t limit, uint64_t& truncated) {
    if (v.size() <= limit) return;
    truncated += v.size() - limit;
    v.resize(limit);
}

}  // namespace

Registrar::Registrar(RegistrarLimits limits) : limits_(limits) {}

bool Registrar::admit_flow(const Peer& peer) {
    if (const auto it = flows_.find(peer.flow); it != flows_.end()) {
        it->second.peer = peer;
        return true;
    }
    if (flows_.size() >= limits_.max_flows) {
        ++stats_.flows_refused;
        return false;
    }
    flows_[peer.flow].peer = peer;
    return true;
}

const FlowState* Registrar::flow(uint64_t flow) const {
    const auto it = flows_.find(flow);
    return it == flows_.end() ? nullptr : &it->second;
}

std::size_t Registrar::close_flow(uint64_t flow) {
    const auto it = flows_.find(flow);
    if (it == flows_.end()) return 0;
    const std::size_t n = it->second.registrations.size();
    for (const Registration& r : it->second.registrations) {
        unindex(r);
        end_lease(r);
    }
    registrations_ -= n;
    stats_.released += n;
    flows_.erase(it);
    return n;
}

bool Registrar::registered(uint64_t flow, TimePoint now) const {
    const FlowState* f = this->flow(flow);
    if (f == nullptr) return false;
    return std::any_of(f->registrations.begin(), f->registrations.end(),
                       [&](const Registration& r) { return live_at(r, now); });
}

const Registration* Registrar::find(uint64_t flow, std::string_view aor) const {
    const FlowState* f = this->flow(flow);
    if (f == nullptr) return nullptr;
    for (const Registration& r : f->registrations)
        if (r.aor == aor) return &r;
    return nullptr;
}

bool Registrar::has_room(uint64_t flow, std::size_t reserved) const {
    if (registrations_ + reserved >= limits_.max_registrations) return false;
    const FlowState* f = this->flow(flow);
    return f == nullptr || f->registrations.size() < limits_.max_registrations_per_flow;
}

void Registrar::index(const Registration& r, uint64_t flow) {
    expiries_.emplace(r.expires, r.id);
    flow_of_[r.id] = flow;
}

void Registrar::unindex(const Registration& r) {
    expiries_.erase({r.expires, r.id});
    flow_of_.erase(r.id);
}

void Registrar::end_lease(const Registration& r) {
    if (r.lease) ended_leases_.push_back(*r.lease);
}

std::optional<GuestLeaseRef> Registrar::take_ended_lease() {
    if (ended_leases_.empty()) return std::nullopt;
    GuestLeaseRef l = std::move(ended_leases_.front());
    ended_leases_.pop_front();
    return l;
}

Registrar::Applied Registrar::apply(uint64_t flow, RegistrationUpdate update, TimePoint now) {
    const auto fit = flows_.find(flow);
    if (fit == flows_.end()) return Applied::NoFlow;
    std::vector<Registration>& regs = fit->second.registrations;
    auto existing = std::find_if(regs.begin(), regs.end(),
                                 [&](const Registration& r) { return r.aor == update.aor; });

    std::erase_if(update.bindings, [&](const Binding& b) { return b.expires <= now; });
    if (update.bindings.empty()) {
        if (existing == regs.end()) return Applied::Unchanged;
        unindex(*existing);
        end_lease(*existing);
        regs.erase(existing);
        --registrations_;
        ++stats_.removed;
        return Applied::Removed;
    }
    bound(update.bindings, limits_.max_bindings, stats_.truncated);
    bound(update.service_route, limits_.max_service_routes, stats_.truncated);
    bound(update.identities, limits_.max_identities, stats_.truncated);

    Registration* r = nullptr;
    Applied result = Applied::Refreshed;
    if (existing != regs.end()) {
        r = &*existing;
        unindex(*r);
        ++stats_.refreshed;
    } else {
        if (registrations_ >= limits_.max_registrations ||
            regs.size() >= limits_.max_registrations_per_flow) {
            ++stats_.refused;
            return Applied::NoRoom;
        }
        r = &regs.emplace_back();
        r->id = next_id_++;
        r->aor = std::move(update.aor);
        ++registrations_;
        ++stats_.stored;
        result = Applied::Stored;
    }
    r->bindings = std::move(update.bindings);
    r->service_route = std::move(update.service_route);
    r->identities = std::move(update.identities);
    r->web_authenticated = update.web_authenticated;
    if (r->lease && r->lease != update.lease) end_lease(*r);
    r->lease = std::move(update.lease);
    r->expires = TimePoint::min();
    for (const Binding& b : r->bindings)
        r->expires = std::max(r->expires, b.expires);
    index(*r, flow);
    return result;
}

std::optional<AssertedIdentity> Registrar::assert_identity(uint64_t flow,
                                                           const std::vector<sip::Uri>& preferred,
                                                           TimePoint now) const {
    const FlowState* f = this->flow(flow);
    if (f == nullptr) return std::nullopt;
    for (const sip::Uri& want : preferred) {
        for (const Registration& r : f->registrations) {
            if (!live_at(r, now)) continue;
            for (const sip::NameAddr& id : r.identities)
                if (sip::uri_equivalent(id.uri, want)) return AssertedIdentity{&id, &r};
        }
    }
    for (const Registration& r : f->registrations) {
        if (live_at(r, now) && !r.identities.empty()) {
            return AssertedIdentity{&r.identities.front(), &r};
        }
    }
    return std::nullopt;
}

void Registrar::expire(TimePoint now) {
    while (!expiries_.empty() && expiries_.begin()->first <= now) {
        const uint64_t id = expiries_.begin()->second;
        expiries_.erase(expiries_.begin());
        const auto fo = flow_of_.find(id);
        if (fo == flow_of_.end()) continue;
        const uint64_t flow = fo->second;
        flow_of_.erase(fo);
        std::vector<Registration>& regs = flows_.at(flow).registrations;
        std::erase_if(regs, [&](const Registration& r) {
            if (r.id != id) return false;
            end_lease(r);
            return true;
        });
        --registrations_;
        ++stats_.expired;
    }
}

std::optional<TimePoint> Registrar::next_expiry() const {
    if (expiries_.empty()) return std::nullopt;
    return expiries_.begin()->first;
}

}  // namespace isthmus::pcscf
