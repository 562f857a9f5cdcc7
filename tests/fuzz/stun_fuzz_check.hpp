// The property the STUN fuzzing checks, shared by the libFuzzer target
// (stun_fuzz.cpp) and the CI regression test (stun_fuzz_regress_test.cpp).
// What is checked is what the worker runs on every payload the RFC 7983
// demux calls STUN (ice/stun.hpp, ice/integrity.hpp, ice/binding.hpp):
//
//  - parse_message returns a parser verdict, and on Ok / MalformedAttribute
//    every attribute it points at lies inside the message (from octet 24),
//    FINGERPRINT is the last one, the type splits into method and class and
//    back, and the decoders (XOR-MAPPED-ADDRESS, ERROR-CODE,
//    UNKNOWN-ATTRIBUTES) and verify_integrity read only the message;
//  - an Ok message with zero padding is rebuilt octet for octet by
//    MessageWriter from its attributes (the writer and the parser agree on
//    the framing);
//  - answer_binding gives the same result and the same response octets
//    answering into another buffer and in place, every verdict comes with
//    its documented error code and authentication, every response is a
//    valid, fingerprinted Binding response with the request's transaction
//    id that verifies with the local password exactly when the request was
//    authenticated, a success response maps the source address, and the
//    same call with one octet less room than the response needs gives
//    NoRoom without writing past that room;
//  - answer_binding agrees with the parser (what parse_message drops is
//    dropped with its verdict; an authenticated request is one whose
//    USERNAME and MESSAGE-INTEGRITY(-SHA256) verify_integrity accepts).
//
// Each input is checked as received and again "re-signed" (length field,
// MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT recomputed with the RFC 5769
// credentials), so that mutations reach the authenticated paths too.
//
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "ice/binding.hpp"
#include "ice/fingerprint.hpp"
#include "ice/integrity.hpp"
#include "ice/stun.hpp"
#include "ice/writer.hpp"

namespace isthmus::ice::fuzz {

// RFC 5769 2.1's credentials: the responder is "evtj", the browser "h6vY".
inline constexpr std::string_view kPassword = "VOkJxbRl1RmTxUk/WvJxBt";
inline constexpr std::string_view kLocalUfrag = "evtj";
inline constexpr std::string_view kRemoteUfrag = "h6vY";

inline const BindingCredentials& credentials() {
    static const BindingCredentials cred{kLocalUfrag, kRemoteUfrag,
                                         IntegrityKey::short_term(kPassword)};
    return cred;
}

inline uint16_t be16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline void put16(uint8_t* p, std::size_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

// One attribute of the framing walk: header at `at`, `len` value octets.
struct RawAttribute {
    std::size_t at;
    uint16_t type;
    uint16_t len;
};

// The attributes after the header, as far as they fit the buffer.
inline std::vector<RawAttribute> walk(std::span<const uint8_t> m) {
    std::vector<RawAttribute> out;
    std::size_t pos = kHeaderLen;
    while (pos + 4 <= m.size()) {
        const uint16_t len = be16(&m[pos + 2]);
        if (pos + 4 + len > m.size()) break;
        out.push_back({pos, be16(&m[pos]), len});
        pos += 4 + ((std::size_t{len} + 3) & ~std::size_t{3});
    }
    return out;
}

// The message with its length field set to its size and its
// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and (last) FINGERPRINT
// recomputed with the RFC 5769 password.
inline std::vector<uint8_t> resign(std::span<const uint8_t> in) {
    std::vector<uint8_t> m(in.begin(), in.end());
    if (m.size() < kHeaderLen || m.size() - kHeaderLen > 0xffff) return m;
    put16(&m[2], m.size() - kHeaderLen);
    const IntegrityKey& key = credentials().local_key;
    for (const RawAttribute& a : walk(m)) {
        const std::size_t value = a.at + 4;
        const std::size_t end = value + ((std::size_t{a.len} + 3) & ~std::size_t{3});
        if (a.type == attr::kMessageIntegrity && a.len == kMessageIntegrityLen) {
            uint8_t mac[kMessageIntegrityLen];
            stun_hmac_sha1(key, m.data(), a.at, static_cast<uint16_t>(value + a.len - kHeaderLen),
                           mac);
            std::memcpy(&m[value], mac, sizeof mac);
        } else if (a.type == attr::kMessageIntegritySha256 && a.len >= 16 &&
                   a.len <= kMessageIntegritySha256Len && a.len % 4 == 0) {
            uint8_t mac[kMessageIntegritySha256Len];
            stun_hmac_sha256(key, m.data(), a.at, static_cast<uint16_t>(value + a.len - kHeaderLen),
                             mac);
            std::memcpy(&m[value], mac, a.len);
        } else if (a.type == attr::kFingerprint && a.len == 4 && end == m.size()) {
            const uint32_t crc = stun_fingerprint(m.data(), a.at);
            put16(&m[value], crc >> 16);
            put16(&m[value + 2], crc & 0xffff);
        }
    }
    return m;
}

inline bool is_parse_verdict(Verdict v) {
    switch (v) {
        case Verdict::Ok:
        case Verdict::NotStun:
        case Verdict::BadLength:
        case Verdict::BadAttribute:
        case Verdict::FingerprintNotLast:
        case Verdict::BadFingerprint:
        case Verdict::MalformedAttribute:
            return true;
        default:
            return false;
    }
}

// The ERROR-CODE answer_binding documents for a verdict; 0 for a success
// response, -1 for no response at all.
inline int documented_code(Verdict v) {
    switch (v) {
        case Verdict::Ok:
            return 0;
        case Verdict::MalformedAttribute:
        case Verdict::NoIntegrity:
        case Verdict::NoUsername:
        case Verdict::NoPriority:
            return 400;
        case Verdict::BadUsername:
        case Verdict::BadIntegrity:
            return 401;
        case Verdict::UnknownRequired:
            return 420;
        case Verdict::RoleConflict:
            return 487;
        default:
            return -1;
    }
}

inline std::string name(Verdict v) {
    return std::string(verdict_name(v));
}

inline std::string check_parsed(std::span<const uint8_t> msg, const Message& m, Verdict v) {
    const std::size_t size = msg.size();
    if (message_type(m.method, m.cls) != m.type) return "type does not split into method/class";
    if (m.length + kHeaderLen != size) return "length field not the message's";
    for (const AttributeRef a :
         {m.username, m.message_integrity, m.message_integrity_sha256, m.fingerprint,
          m.xor_mapped_address, m.error_code, m.unknown_attributes, m.software, m.realm, m.nonce}) {
        if (!a.present()) continue;
        if (a.offset < kHeaderLen + 4 || a.offset + std::size_t{a.len} > size)
            return "attribute outside the message";
    }
    if (m.fingerprint.present() &&
        (m.fingerprint.len != 4 || m.fingerprint.offset + std::size_t{4} != size))
        return "FINGERPRINT not the last attribute";
    if (v == Verdict::MalformedAttribute && m.malformed_type == 0) return "malformed, no type";
    if (v == Verdict::Ok && m.malformed_type != 0) return "Ok with a malformed type";
    if (m.unknown_count > size / 4) return "more unknown attributes than fit";
    TransportAddress addr;
    if (decode_xor_address(msg.data(), m.xor_mapped_address, addr) && addr.family != 4 &&
        addr.family != 6)
        return "XOR-MAPPED-ADDRESS of an unknown family";
    uint16_t code = 0;
    std::string_view reason;
    if (decode_error_code(msg.data(), m.error_code, code, reason)) {
        const auto* r = reinterpret_cast<const uint8_t*>(reason.data());
        if (code < 300 || code > 699 || r < msg.data() || r + reason.size() > msg.data() + size)
            return "ERROR-CODE decoded out of range";
    }
    uint16_t types[kMaxUnknown];
    if (decode_unknown_attributes(msg.data(), m.unknown_attributes, types, kMaxUnknown) >
        m.unknown_attributes.len / 2u)
        return "UNKNOWN-ATTRIBUTES count";
    (void)verify_integrity(msg.data(), m, credentials().local_key);
    (void)verify_integrity(msg.data(), m, IntegrityKey());
    return "";
}

// Writer and parser agree: an Ok message whose padding is zero comes back
// octet for octet from its attributes.
inline std::string check_rebuild(std::span<const uint8_t> msg) {
    const auto attrs = walk(msg);
    for (const RawAttribute& a : attrs) {
        for (std::size_t i = a.at + 4 + a.len; i < msg.size() && (i & 3) != 0; ++i)
            if (msg[i] != 0) return "";  // the writer pads with one octet value
    }
    std::vector<uint8_t> out(msg.size());
    MessageWriter w(out.data(), out.size(), be16(msg.data()), msg.data() + 8);
    for (const RawAttribute& a : attrs)
        w.add(a.type, msg.data() + a.at + 4, a.len);
    if (w.finish() != msg.size()) return "MessageWriter does not rebuild the message";
    if (!std::equal(out.begin(), out.end(), msg.begin())) return "rebuilt message differs";
    return "";
}

struct Answer {
    BindingResult r;
    std::vector<uint8_t> response;
};

inline Answer answer(std::span<const uint8_t> msg, const TransportAddress& src, bool in_place) {
    Answer a;
    if (in_place) {
        std::vector<uint8_t> buf(std::max(msg.size(), kMaxResponseLen));
        std::copy(msg.begin(), msg.end(), buf.begin());
        a.r = answer_binding(buf.data(), msg.size(), src, credentials(), buf.data(), buf.size());
        buf.resize(a.r.response_len);
        a.response = std::move(buf);
    } else {
        const std::vector<uint8_t> exact(msg.begin(), msg.end());
        a.response.resize(kMaxResponseLen);
        a.r = answer_binding(exact.data(), exact.size(), src, credentials(), a.response.data(),
                             a.response.size());
        a.response.resize(a.r.response_len);
    }
    return a;
}

inline bool same(const BindingResult& a, const BindingResult& b) {
    return a.verdict == b.verdict && a.response_len == b.response_len &&
           a.error_code == b.error_code && a.authenticated == b.authenticated &&
           a.use_candidate == b.use_candidate && a.priority == b.priority;
}

inline std::string check_answer(std::span<const uint8_t> msg, const Message& m, Verdict parsed,
                                const TransportAddress& src) {
    const Answer out = answer(msg, src, false);
    const Answer in = answer(msg, src, true);
    const BindingResult& r = out.r;
    const std::string what = name(r.verdict);
    if (!same(r, in.r) || out.response != in.response)
        return what + ": answering in place differs from answering into another buffer";
    if (static_cast<std::size_t>(r.verdict) >= kVerdictCount) return "unknown verdict";
    if (parsed != Verdict::Ok && parsed != Verdict::MalformedAttribute && r.verdict != parsed)
        return what + ": the parser said " + name(parsed);
    const bool auth = r.verdict == Verdict::Ok || r.verdict == Verdict::UnknownRequired ||
                      r.verdict == Verdict::RoleConflict;
    if (r.authenticated != auth) return what + ": authenticated flag wrong";
    if (auth) {
        const std::string user = std::string(kLocalUfrag) + ":" + std::string(kRemoteUfrag);
        if (attribute_text(msg.data(), m.username) != user ||
            !verify_integrity(msg.data(), m, credentials().local_key) || !m.fingerprint.present())
            return what + ": authenticated what the parser's view does not";
    }
    if (r.verdict == Verdict::Ok &&
        (r.use_candidate != m.use_candidate || r.priority != m.priority || !m.has_priority))
        return what + ": USE-CANDIDATE / PRIORITY not the request's";
    const int code = documented_code(r.verdict);
    if (!r.respond()) {
        if (code != -1) return what + ": no response";
        if (r.error_code != 0 || r.authenticated) return what + ": dropped with a code";
        return "";
    }
    if (code == -1 || r.error_code != code) return what + ": wrong or undocumented response";
    if (r.response_len > kMaxResponseLen) return what + ": response over kMaxResponseLen";
    Message resp;
    if (parse_message(out.response.data(), out.response.size(), resp) != Verdict::Ok)
        return what + ": the response does not parse";
    if (!resp.fingerprint.present() || resp.method != kMethodBinding ||
        std::memcmp(resp.transaction_id, msg.data() + 8, kTransactionIdLen) != 0)
        return what + ": response without FINGERPRINT, Binding or the transaction id";
    if (resp.cls != (code == 0 ? MessageClass::SuccessResponse : MessageClass::ErrorResponse))
        return what + ": response of the wrong class";
    if (verify_integrity(out.response.data(), resp, credentials().local_key) != r.authenticated)
        return what + ": response integrity does not match authentication";
    if (code == 0) {
        TransportAddress mapped;
        if (!decode_xor_address(out.response.data(), resp.xor_mapped_address, mapped) ||
            mapped.family != src.family || mapped.port != src.port ||
            std::memcmp(mapped.addr, src.addr, src.family == 4 ? 4 : 16) != 0)
            return what + ": XOR-MAPPED-ADDRESS is not the source";
    } else {
        uint16_t got = 0;
        std::string_view reason;
        if (!decode_error_code(out.response.data(), resp.error_code, got, reason) ||
            got != r.error_code)
            return what + ": ERROR-CODE attribute does not match";
    }
    // One octet less room: NoRoom, nothing written past the room (ASan).
    const std::vector<uint8_t> exact(msg.begin(), msg.end());
    std::vector<uint8_t> small(r.response_len - 1u);
    const BindingResult tight =
        answer_binding(exact.data(), exact.size(), src, credentials(), small.data(), small.size());
    if (tight.verdict != Verdict::NoRoom || tight.respond())
        return what + ": a response one octet too big for the room was not refused";
    return "";
}

inline TransportAddress source(bool v6) {
    TransportAddress t;
    t.port = 32853;
    if (v6) {
        t.family = 6;
        const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                               0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
        std::memcpy(t.addr, a, 16);
    } else {
        t.family = 4;
        const uint8_t a[4] = {192, 0, 2, 1};
        std::memcpy(t.addr, a, 4);
    }
    return t;
}

inline std::string check_message(std::span<const uint8_t> msg) {
    Message m;
    const Verdict v = parse_message(msg.data(), msg.size(), m);
    if (!is_parse_verdict(v)) return "parse_message: not a parser verdict: " + name(v);
    if (v == Verdict::Ok || v == Verdict::MalformedAttribute) {
        std::string err = check_parsed(msg, m, v);
        if (!err.empty()) return name(v) + ": " + err;
        if (v == Verdict::Ok) {
            err = check_rebuild(msg);
            if (!err.empty()) return err;
        }
    }
    // Either family of source, chosen by the message so both are reached.
    return check_answer(msg, m, v, source(msg.size() % 2 == 1));
}

inline std::string check_input(std::span<const uint8_t> data) {
    const std::vector<uint8_t> exact(data.begin(), data.end());  // sized: ASan sees over-reads
    std::string err = check_message(exact);
    if (!err.empty()) return "as received: " + err;
    const std::vector<uint8_t> signed_again = resign(exact);
    if (signed_again != exact) {
        err = check_message(signed_again);
        if (!err.empty()) return "re-signed: " + err;
    }
    return "";
}

}  // namespace isthmus::ice::fuzz
