// A STUN Binding request as a controlling browser sends it for ICE (RFC 8445
// 7.1.2): USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE when nominating,
// MESSAGE-INTEGRITY keyed with the answerer's ice-pwd, FINGERPRINT. For the
// relay, worker and slow-path tests.
#pragma once

#include <cstdint>
#include <vector>

#include "ice/binding.hpp"
#include "ice/writer.hpp"

namespace isthmus::test {

inline std::vector<uint8_t> binding_request(const char* username, const char* pwd,
                                            bool use_candidate, uint8_t tid_octet = 1) {
    std::vector<uint8_t> b(200);
    uint8_t tid[12];
    for (int i = 0; i < 12; ++i)
        tid[i] = static_cast<uint8_t>(tid_octet + i);
    ice::MessageWriter w(b.data(), b.size(),
                         ice::message_type(ice::kMethodBinding, ice::MessageClass::Request), tid);
    w.add_text(ice::attr::kUsername, username);
    w.add_u32(ice::attr::kPriority, 0x6e001eff);
    w.add_u64(ice::attr::kIceControlling, 0x1122334455667788ULL);
    if (use_candidate) w.add(ice::attr::kUseCandidate, nullptr, 0);
    w.add_message_integrity(ice::IntegrityKey::short_term(pwd));
    w.add_fingerprint();
    b.resize(w.finish());
    return b;
}

}  // namespace isthmus::test
