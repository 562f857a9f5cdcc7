// BUNDLE in a worker's session table (dpif BundleSpec; docs/dataplane.md
// "BUNDLE"): the groups of m= lines that share an access transport, split
// from session_table.cpp. The same class, the same thread rules
// (session_table.hpp).
#include <string>

#include "session/session_table.hpp"

namespace isthmus::session {

using dpif::LegSecurity;
using dpif::ResultCode;

dpif::ResultCode SessionTable::plan_bundle(const dpif::Command& cmd, uint32_t own_slot,
                                           BundlePlan& plan, std::string& detail) const {
    plan = BundlePlan{};
    const dpif::BundleSpec& b = cmd.bundle;
    if (b.transport == 0) return ResultCode::Ok;
    if (b.pt_count > dpif::kMaxBundlePayloadTypes) {
        detail = "bundle.pt_count: 0.." + std::to_string(dpif::kMaxBundlePayloadTypes);
        return ResultCode::BadParams;
    }
    bool seen[128] = {};
    for (uint8_t k = 0; k < b.pt_count; ++k) {
        const uint8_t pt = b.payload_types[k];
        if (pt > 127 || seen[pt]) {
            detail = "bundle.payload_types: each 0..127, none twice";
            return ResultCode::BadParams;
        }
        seen[pt] = true;
    }
    const Session* own = own_slot == kNoSlot ? nullptr : &sessions_[own_slot];
    if (b.transport == cmd.hdr.session_id) {
        // What arrives on a transport is told apart after it authenticated.
        if (cmd.access.security != LegSecurity::DtlsSrtp &&
            cmd.access.security != LegSecurity::DtlsSrtpSctp &&
            cmd.access.security != LegSecurity::Sdes) {
            detail =
                "bundle: a BUNDLE transport's access leg is DTLS-SRTP (with or without SCTP) or "
                "SDES-SRTP";
            return ResultCode::BadParams;
        }
        plan.role = kBundleTransport;
        const bool keeps = own != nullptr && own->bundle_group != kNoGroup &&
                           groups_[own->bundle_group].transport == own_slot;
        if (keeps) {
            const BundleGroup& g = groups_[own->bundle_group];
            for (uint8_t k = 0; k < b.pt_count; ++k) {
                const uint8_t at = g.pt_index[b.payload_types[k]];
                if (at != BundleGroup::kNoIndex && at != own->bundle_index) {
                    detail = "bundle.payload_types: " + std::to_string(b.payload_types[k]) +
                             " is another bundled m= line's";
                    return ResultCode::BadParams;
                }
            }
            plan.group = own->bundle_group;
        } else if (free_groups_.empty()) {
            detail = "no free BUNDLE group on this worker";
            return ResultCode::TableFull;
        }
        return ResultCode::Ok;
    }
    plan.role = kBundleMember;
    const uint32_t t = slot_of(b.transport);
    if (t == kNoSlot || sessions_[t].leg[0].bundle != kBundleTransport) {
        detail = "bundle.transport: no BUNDLE transport " + std::to_string(b.transport) +
                 " on this worker";
        return ResultCode::BadParams;
    }
    plan.group = sessions_[t].bundle_group;
    const BundleGroup& g = groups_[plan.group];
    const bool in_group = own != nullptr && own->bundle_group == plan.group;
    if (!in_group) {
        bool room = false;
        for (uint32_t m : g.member)
            room = room || m == BundleGroup::kNoSlot;
        if (!room) {
            detail = "bundle: " + std::to_string(dpif::kMaxBundleSessions) +
                     " m= lines share that transport already";
            return ResultCode::BadParams;
        }
    }
    for (uint8_t k = 0; k < b.pt_count; ++k) {
        const uint8_t at = g.pt_index[b.payload_types[k]];
        if (at != BundleGroup::kNoIndex && !(in_group && at == own->bundle_index)) {
            detail = "bundle.payload_types: " + std::to_string(b.payload_types[k]) +
                     " is another bundled m= line's";
            return ResultCode::BadParams;
        }
    }
    return ResultCode::Ok;
}

void SessionTable::detach_bundle(uint32_t slot) {
    Session& s = sessions_[slot];
    if (s.bundle_group == kNoGroup) return;
    BundleGroup& g = groups_[s.bundle_group];
    const uint8_t idx = s.bundle_index;
    for (uint8_t& i : g.pt_index)
        if (i == idx) i = BundleGroup::kNoIndex;
    g.member[idx] = BundleGroup::kNoSlot;
    g.has_in = static_cast<uint8_t>(g.has_in & ~(1U << idx));
    g.has_out = static_cast<uint8_t>(g.has_out & ~(1U << idx));
    if (g.transport == slot) g.transport = BundleGroup::kNoSlot;
    if (--g.refs == 0) {
        g = BundleGroup{};
        free_groups_.push_back(s.bundle_group);
    }
    s.bundle_group = kNoGroup;
    s.bundle_index = 0;
    s.leg[0].bundle = kBundleNone;
}

void SessionTable::attach_bundle(uint32_t slot, const BundlePlan& plan,
                                 const dpif::BundleSpec& spec) {
    Session& s = sessions_[slot];
    if (plan.role == kBundleNone) {
        detach_bundle(slot);
        return;
    }
    if (s.bundle_group != kNoGroup && s.bundle_group == plan.group) {
        // Stays where it is (the transport keeps its group, a member its
        // index): only its payload types change.
        BundleGroup& g = groups_[s.bundle_group];
        for (uint8_t& i : g.pt_index)
            if (i == s.bundle_index) i = BundleGroup::kNoIndex;
    } else {
        detach_bundle(slot);
        uint32_t gi = plan.group;
        if (plan.role == kBundleTransport) {
            gi = free_groups_.back();
            free_groups_.pop_back();
            groups_[gi] = BundleGroup{};
            groups_[gi].transport = slot;
        }
        BundleGroup& g = groups_[gi];
        uint8_t idx = 0;
        while (g.member[idx] != BundleGroup::kNoSlot)
            ++idx;  // plan_bundle saw a free index
        g.member[idx] = slot;
        ++g.refs;
        s.bundle_group = gi;
        s.bundle_index = idx;
    }
    BundleGroup& g = groups_[s.bundle_group];
    for (uint8_t k = 0; k < spec.pt_count; ++k)
        g.pt_index[spec.payload_types[k]] = s.bundle_index;
    s.leg[0].bundle = plan.role;
}

}  // namespace isthmus::session
