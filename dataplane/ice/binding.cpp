#include "ice/binding.hpp"

#include <cstring>

#include "ice/writer.hpp"

namespace isthmus::ice {

namespace {

// RFC 8445 7.2.2: the check's USERNAME is "<receiver's ufrag>:<sender's
// ufrag>", so ours comes first. An empty remote ufrag accepts any sender part.
bool username_matches(std::string_view username, const BindingCredentials& cred) {
    const std::size_t local = cred.local_ufrag.size();
    if (username.size() <= local || username[local] != ':' ||
        username.compare(0, local, cred.local_ufrag) != 0)
        return false;
    if (cred.remote_ufrag.empty()) return true;
    return username.substr(local + 1) == cred.remote_ufrag;
}

std::string_view reason_phrase(uint16_t code) {
    switch (code) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthenticated";  // RFC 8489 14.8 (RFC 5389: Unauthorized)
        case 420:
            return "Unknown Attribute";
        default:
            return "Role Conflict";  // 487, RFC 8445 16.2
    }
}

BindingResult dropped(Verdict v) {
    BindingResult r;
    r.verdict = v;
    return r;
}

// Writes the response and fills in its length, or turns the result into a
// NoRoom drop when it does not fit.
BindingResult finish(BindingResult r, const MessageWriter& w) {
    const std::size_t n = w.finish();
    if (n == 0) return dropped(Verdict::NoRoom);
    r.response_len = static_cast<uint16_t>(n);
    return r;
}

// An error response (RFC 8489 6.3.1.1): ERROR-CODE, UNKNOWN-ATTRIBUTES for
// 420, MESSAGE-INTEGRITY(-SHA256) once the request was authenticated (420,
// 487; never for 400/401, RFC 8489 9.1.3), FINGERPRINT (RFC 8445 7).
BindingResult error_response(Verdict v, uint16_t code, const Message& m,
                             const BindingCredentials* signer, uint8_t* out, std::size_t cap) {
    BindingResult r;
    r.verdict = v;
    r.error_code = code;
    r.authenticated = signer != nullptr;
    r.priority = m.priority;
    MessageWriter w(out, cap, message_type(kMethodBinding, MessageClass::ErrorResponse),
                    m.transaction_id);
    w.add_error_code(code, reason_phrase(code));
    if (code == 420) {
        const std::size_t n = m.unknown_count < kMaxUnknown ? m.unknown_count : kMaxUnknown;
        w.add_unknown_attributes(m.unknown, n);
    }
    if (signer != nullptr) {
        if (m.message_integrity_sha256.present())
            w.add_message_integrity_sha256(signer->local_key);
        else
            w.add_message_integrity(signer->local_key);
    }
    w.add_fingerprint();
    return finish(r, w);
}

}  // namespace

// Measured (bench/stun_bench.cpp, one core of this AMD EPYC VM at 2.6 GHz,
// OpenSSL 3.0 SHA-1, 100-octet browser-like check): success response 449 ns
// (2.2 Mpps; IPv6 462 ns, in place 447 ns), of which parse 73 ns (CRC-32 of
// the request 35 ns), verifying MESSAGE-INTEGRITY 183 ns, signing the
// response about 150 ns; a forged check answered 401 in 311 ns; garbage with
// a bad FINGERPRINT dropped in 79 ns.
BindingResult answer_binding(const uint8_t* msg, std::size_t len, const TransportAddress& source,
                             const BindingCredentials& cred, uint8_t* out, std::size_t cap) {
    // Everything the response needs from the request is copied into `m`, so
    // `out` may be `msg`.
    Message m;
    const Verdict parsed = parse_message(msg, len, m);
    if (parsed != Verdict::Ok && parsed != Verdict::MalformedAttribute) return dropped(parsed);
    // RFC 8489 6.3: unsupported methods and unexpected classes are dropped.
    if (m.method != kMethodBinding) return dropped(Verdict::UnknownMethod);
    if (m.cls == MessageClass::Indication) return dropped(Verdict::Indication);
    if (m.cls != MessageClass::Request) return dropped(Verdict::NotRequest);
    if (!m.fingerprint.present()) return dropped(Verdict::NoFingerprint);
    if (source.family != 4 && source.family != 6) return dropped(Verdict::BadSource);

    // RFC 8489 9.1.3: 400 for what cannot be authenticated at all, then 401.
    if (parsed == Verdict::MalformedAttribute)
        return error_response(Verdict::MalformedAttribute, 400, m, nullptr, out, cap);
    if (!m.message_integrity.present() && !m.message_integrity_sha256.present())
        return error_response(Verdict::NoIntegrity, 400, m, nullptr, out, cap);
    if (!m.username.present())
        return error_response(Verdict::NoUsername, 400, m, nullptr, out, cap);
    if (!m.has_priority) return error_response(Verdict::NoPriority, 400, m, nullptr, out, cap);
    if (!username_matches(attribute_text(msg, m.username), cred))
        return error_response(Verdict::BadUsername, 401, m, nullptr, out, cap);
    if (!verify_integrity(msg, m, cred.local_key))
        return error_response(Verdict::BadIntegrity, 401, m, nullptr, out, cap);

    // Authenticated. RFC 8489 6.3.1: unknown comprehension-required
    // attributes, then the usage's own checks (RFC 8445 7.3.1.1).
    if (m.unknown_count != 0)
        return error_response(Verdict::UnknownRequired, 420, m, &cred, out, cap);
    if (m.ice_controlled) return error_response(Verdict::RoleConflict, 487, m, &cred, out, cap);

    // RFC 8445 7.3.1.2 / RFC 8489 14.2: the source as the NAT left it.
    BindingResult r;
    r.verdict = Verdict::Ok;
    r.authenticated = true;
    r.use_candidate = m.use_candidate;
    r.priority = m.priority;
    MessageWriter w(out, cap, message_type(kMethodBinding, MessageClass::SuccessResponse),
                    m.transaction_id);
    w.add_xor_address(attr::kXorMappedAddress, source);
    if (m.message_integrity_sha256.present())
        w.add_message_integrity_sha256(cred.local_key);
    else
        w.add_message_integrity(cred.local_key);
    w.add_fingerprint();
    return finish(r, w);
}

}  // namespace isthmus::ice
