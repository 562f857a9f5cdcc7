// Shared by the ICE tests: the RFC 5769 messages from tests/vectors, and
// Binding requests built to order with MessageWriter.
#pragma once

#include <cctype>
#include <cstdint>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "ice/binding.hpp"
#include "ice/fingerprint.hpp"
#include "ice/writer.hpp"
#include "vectors.hpp"

namespace isthmus::ice {
// gtest prints verdicts by name.
inline void PrintTo(Verdict v, std::ostream* os) {
    *os << verdict_name(v);
}
}  // namespace isthmus::ice

namespace isthmus::ice::test {

// RFC 5769 2.1-2.3 credentials.
inline constexpr std::string_view kRfcPassword = "VOkJxbRl1RmTxUk/WvJxBt";
inline constexpr std::string_view kRfcLocalUfrag = "evtj";  // the responder's
inline constexpr std::string_view kRfcRemoteUfrag = "h6vY";

// The message of section `prefix` ("RFC5769-2.1", ...): each row's leading
// two-digit hex octets (at most four), the row notes after them ignored.
inline std::vector<uint8_t> rfc5769(const std::string& prefix) {
    const auto sections = isthmus::test::load_vectors("rfc5769-stun-vectors.txt");
    const auto& sec = isthmus::test::find_section(sections, prefix);
    std::vector<uint8_t> out;
    for (const auto& line : sec.lines) {
        std::istringstream in(line);
        std::string tok;
        for (int i = 0; i < 4 && in >> tok; ++i) {
            if (tok.size() != 2 || std::isxdigit(static_cast<unsigned char>(tok[0])) == 0 ||
                std::isxdigit(static_cast<unsigned char>(tok[1])) == 0)
                break;
            out.push_back(static_cast<uint8_t>(std::stoul(tok, nullptr, 16)));
        }
    }
    return out;
}

inline BindingCredentials rfc_credentials() {
    return {kRfcLocalUfrag, kRfcRemoteUfrag, IntegrityKey::short_term(kRfcPassword)};
}

enum class Integrity : uint8_t { None, Sha1, Sha256 };

// A Binding request (or another class/method) as a browser sends it:
// USERNAME, PRIORITY, ICE-CONTROLLING, [USE-CANDIDATE], extra attributes,
// MESSAGE-INTEGRITY, FINGERPRINT; each part can be left out or changed.
struct RequestSpec {
    uint16_t type = message_type(kMethodBinding, MessageClass::Request);
    uint8_t txid[kTransactionIdLen] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                       0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
    std::optional<std::string> username =
        std::string(kRfcLocalUfrag) + ":" + std::string(kRfcRemoteUfrag);
    std::optional<uint32_t> priority = 0x6e0001ff;
    bool controlling = true;
    bool controlled = false;
    bool use_candidate = false;
    std::vector<uint16_t> extra_types;  // attributes of 4 zero octets each
    Integrity integrity = Integrity::Sha1;
    std::string password = std::string(kRfcPassword);
    bool fingerprint = true;
};

inline std::vector<uint8_t> build_request(const RequestSpec& s) {
    std::vector<uint8_t> buf(1024);
    MessageWriter w(buf.data(), buf.size(), s.type, s.txid);
    if (s.username) w.add_text(attr::kUsername, *s.username);
    if (s.priority) w.add_u32(attr::kPriority, *s.priority);
    if (s.controlling) w.add_u64(attr::kIceControlling, 0x0102030405060708ULL);
    if (s.controlled) w.add_u64(attr::kIceControlled, 0x0102030405060708ULL);
    if (s.use_candidate) w.add(attr::kUseCandidate, nullptr, 0);
    const uint8_t zeros[4] = {};
    for (uint16_t t : s.extra_types)
        w.add(t, zeros, sizeof zeros);
    const IntegrityKey key = IntegrityKey::short_term(s.password);
    if (s.integrity == Integrity::Sha1) w.add_message_integrity(key);
    if (s.integrity == Integrity::Sha256) w.add_message_integrity_sha256(key);
    if (s.fingerprint) w.add_fingerprint();
    buf.resize(w.finish());
    return buf;
}

inline TransportAddress ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    TransportAddress t;
    t.family = 4;
    t.port = port;
    t.addr[0] = a;
    t.addr[1] = b;
    t.addr[2] = c;
    t.addr[3] = d;
    return t;
}

// RFC 5769 2.2 / 2.3 mapped addresses.
inline TransportAddress rfc_ipv4_source() {
    return ipv4(192, 0, 2, 1, 32853);
}
inline TransportAddress rfc_ipv6_source() {
    TransportAddress t;
    t.family = 6;
    t.port = 32853;
    const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                           0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    for (int i = 0; i < 16; ++i)
        t.addr[i] = a[i];
    return t;
}

// Recomputes the FINGERPRINT of a message whose last attribute it is (after
// a test changed earlier octets); does nothing to other messages.
inline void refresh_fingerprint(std::vector<uint8_t>& m) {
    if (m.size() < kHeaderLen + 8) return;
    const std::size_t fp = m.size() - 8;
    if (m[fp] != 0x80 || m[fp + 1] != 0x28 || m[fp + 2] != 0 || m[fp + 3] != 4) return;
    const uint32_t v = stun_fingerprint(m.data(), fp);
    m[fp + 4] = static_cast<uint8_t>(v >> 24);
    m[fp + 5] = static_cast<uint8_t>(v >> 16);
    m[fp + 6] = static_cast<uint8_t>(v >> 8);
    m[fp + 7] = static_cast<uint8_t>(v);
}

}  // namespace isthmus::ice::test
