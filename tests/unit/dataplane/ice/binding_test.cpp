// The ICE-lite binding responder (ice/binding.hpp): success responses checked
// against RFC 5769 2.2 / 2.3, and every way a request is dropped or answered
// with 400, 401, 420 or 487.
#include "ice/binding.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "hex.hpp"
#include "stun_fixtures.hpp"

namespace isthmus::ice {
namespace {

using isthmus::test::to_hex;
using test::build_request;
using test::Integrity;
using test::RequestSpec;
using test::rfc5769;

struct Answer {
    BindingResult result;
    std::vector<uint8_t> response;  // exactly response_len octets
    Message parsed;                 // of the response, when there is one
};

Answer answer(const std::vector<uint8_t>& request,
              const TransportAddress& source = test::rfc_ipv4_source(),
              const BindingCredentials& cred = test::rfc_credentials()) {
    Answer a;
    std::vector<uint8_t> out(kMaxResponseLen);
    a.result = answer_binding(request.data(), request.size(), source, cred, out.data(), out.size());
    out.resize(a.result.response_len);
    a.response = out;
    if (a.result.respond()) {
        EXPECT_EQ(parse_message(a.response.data(), a.response.size(), a.parsed), Verdict::Ok);
        EXPECT_TRUE(a.parsed.fingerprint.present());  // RFC 8445 7: on every response
        EXPECT_EQ(to_hex(a.parsed.transaction_id, 12), to_hex(request.data() + 8, 12));
        EXPECT_EQ(a.parsed.method, kMethodBinding);
    }
    return a;
}

bool signed_by_rfc_password(const Answer& a) {
    return verify_integrity(a.response.data(), a.parsed,
                            IntegrityKey::short_term(test::kRfcPassword));
}

uint16_t error_code(const Answer& a) {
    uint16_t code = 0;
    std::string_view reason;
    EXPECT_TRUE(decode_error_code(a.response.data(), a.parsed.error_code, code, reason));
    return code;
}

// The attribute of `type` (header and value) in a message, as hex.
std::string attribute_hex(const std::vector<uint8_t>& m, uint16_t type) {
    std::size_t pos = kHeaderLen;
    while (pos + 4 <= m.size()) {
        const auto t = static_cast<uint16_t>(m[pos] << 8 | m[pos + 1]);
        const std::size_t len = static_cast<std::size_t>(m[pos + 2] << 8 | m[pos + 3]);
        if (t == type) return to_hex(m.data() + pos, 4 + len);
        pos += 4 + ((len + 3) & ~std::size_t{3});
    }
    return "";
}

TEST(AnswerBinding, SuccessIpv4MatchesRfc5769SampleResponse) {
    const auto request = build_request({});  // RFC 5769 2.1's id and credentials
    const Answer a = answer(request, test::rfc_ipv4_source());
    ASSERT_EQ(a.result.verdict, Verdict::Ok);
    EXPECT_EQ(a.result.error_code, 0);
    EXPECT_TRUE(a.result.authenticated);
    EXPECT_FALSE(a.result.use_candidate);
    EXPECT_EQ(a.result.priority, 0x6e0001ffU);
    EXPECT_EQ(a.parsed.cls, MessageClass::SuccessResponse);
    ASSERT_EQ(a.response.size(), 20 + 12 + 24 + 8U);
    // RFC 5769 2.2's XOR-MAPPED-ADDRESS, octet for octet.
    const auto rfc = rfc5769("RFC5769-2.2");
    EXPECT_EQ(attribute_hex(a.response, attr::kXorMappedAddress),
              attribute_hex(rfc, attr::kXorMappedAddress));
    EXPECT_EQ(attribute_hex(a.response, attr::kXorMappedAddress), "002000080001a147e112a643");
    EXPECT_TRUE(signed_by_rfc_password(a));
    EXPECT_EQ(a.parsed.message_integrity.len, 20);
    EXPECT_FALSE(a.parsed.message_integrity_sha256.present());
    // The attributes in the order the RFC has them: XOR-MAPPED-ADDRESS,
    // MESSAGE-INTEGRITY, FINGERPRINT.
    EXPECT_LT(a.parsed.xor_mapped_address.offset, a.parsed.message_integrity.offset);
    EXPECT_LT(a.parsed.message_integrity.offset, a.parsed.fingerprint.offset);
}

TEST(AnswerBinding, SuccessIpv6MatchesRfc5769SampleResponse) {
    const Answer a = answer(build_request({}), test::rfc_ipv6_source());
    ASSERT_EQ(a.result.verdict, Verdict::Ok);
    const auto rfc = rfc5769("RFC5769-2.3");
    EXPECT_EQ(attribute_hex(a.response, attr::kXorMappedAddress),
              attribute_hex(rfc, attr::kXorMappedAddress));
    TransportAddress mapped;
    ASSERT_TRUE(decode_xor_address(a.response.data(), a.parsed.xor_mapped_address, mapped));
    EXPECT_EQ(mapped.family, 6);
    EXPECT_EQ(mapped.port, 32853);
    EXPECT_EQ(to_hex(mapped.addr, 16), "20010db8123456780011223344556677");
    EXPECT_TRUE(signed_by_rfc_password(a));
}

TEST(AnswerBinding, UseCandidateAndControllingAreReported) {
    RequestSpec s;
    s.use_candidate = true;
    const Answer a = answer(build_request(s));
    ASSERT_EQ(a.result.verdict, Verdict::Ok);
    EXPECT_TRUE(a.result.use_candidate);
    EXPECT_TRUE(a.result.authenticated);
    // Neither role attribute: nothing to conflict with.
    s.controlling = false;
    EXPECT_EQ(answer(build_request(s)).result.verdict, Verdict::Ok);
}

TEST(AnswerBinding, AnswersInPlace) {
    const auto request = build_request({});
    const Answer expected = answer(request);
    std::vector<uint8_t> buf = request;
    buf.resize(kMaxResponseLen > buf.size() ? kMaxResponseLen : buf.size());
    const BindingResult r = answer_binding(buf.data(), request.size(), test::rfc_ipv4_source(),
                                           test::rfc_credentials(), buf.data(), buf.size());
    ASSERT_EQ(r.verdict, Verdict::Ok);
    buf.resize(r.response_len);
    EXPECT_EQ(to_hex(buf), to_hex(expected.response));
    // An error response too (it carries the request's unknown attributes).
    RequestSpec s;
    s.extra_types = {0x0003};
    const auto bad = build_request(s);
    const Answer expected420 = answer(bad);
    buf = bad;
    buf.resize(256);
    const BindingResult r420 = answer_binding(buf.data(), bad.size(), test::rfc_ipv4_source(),
                                              test::rfc_credentials(), buf.data(), buf.size());
    ASSERT_EQ(r420.verdict, Verdict::UnknownRequired);
    buf.resize(r420.response_len);
    EXPECT_EQ(to_hex(buf), to_hex(expected420.response));
}

TEST(AnswerBinding, Sha256RequestGetsASha256Response) {
    RequestSpec s;
    s.integrity = Integrity::Sha256;
    const Answer a = answer(build_request(s));
    ASSERT_EQ(a.result.verdict, Verdict::Ok);
    ASSERT_TRUE(a.parsed.message_integrity_sha256.present());
    EXPECT_FALSE(a.parsed.message_integrity.present());
    EXPECT_TRUE(signed_by_rfc_password(a));
    // Independently: HMAC-SHA256 of the response before the attribute.
    const std::size_t at = a.parsed.message_integrity_sha256.offset - 4;
    std::vector<uint8_t> prefix(a.response.begin(), a.response.begin() + static_cast<long>(at));
    const std::size_t len = at + 36 - kHeaderLen;
    prefix[2] = static_cast<uint8_t>(len >> 8);
    prefix[3] = static_cast<uint8_t>(len);
    uint8_t mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), test::kRfcPassword.data(), static_cast<int>(test::kRfcPassword.size()),
         prefix.data(), prefix.size(), mac, &n);
    EXPECT_EQ(to_hex(mac, 32), to_hex(a.response.data() + at + 4, 32));

    s.password = "wrong";
    EXPECT_EQ(answer(build_request(s)).result.verdict, Verdict::BadIntegrity);
}

TEST(AnswerBinding, Rfc5769SampleRequestIsARoleConflict) {
    // RFC 5769 2.1 carries ICE-CONTROLLED: the browser thinks it is controlled
    // too, and a lite agent cannot take the controlling role.
    const Answer a = answer(rfc5769("RFC5769-2.1"));
    ASSERT_EQ(a.result.verdict, Verdict::RoleConflict);
    EXPECT_EQ(a.result.error_code, 487);
    EXPECT_EQ(error_code(a), 487);
    EXPECT_TRUE(a.result.authenticated);
    EXPECT_FALSE(a.result.use_candidate);
    EXPECT_EQ(a.parsed.cls, MessageClass::ErrorResponse);
    EXPECT_TRUE(signed_by_rfc_password(a));  // authenticated request: signed error
}

TEST(AnswerBinding, UnknownComprehensionRequiredAttributeIs420) {
    RequestSpec s;
    s.extra_types = {0x0003, 0x8001, 0x7ffe};  // 0x8001 is optional: not listed
    const Answer a = answer(build_request(s));
    ASSERT_EQ(a.result.verdict, Verdict::UnknownRequired);
    EXPECT_EQ(error_code(a), 420);
    uint16_t types[8] = {};
    ASSERT_EQ(decode_unknown_attributes(a.response.data(), a.parsed.unknown_attributes, types, 8),
              2U);
    EXPECT_EQ(types[0], 0x0003);
    EXPECT_EQ(types[1], 0x7ffe);
    EXPECT_TRUE(signed_by_rfc_password(a));
    EXPECT_FALSE(a.result.use_candidate);

    // Authentication comes first: a bad password is a 401, not a 420.
    s.password = "wrong";
    EXPECT_EQ(answer(build_request(s)).result.verdict, Verdict::BadIntegrity);

    // Many unknown attributes: the first kMaxUnknown are listed.
    s = RequestSpec{};
    for (uint16_t t = 0x0100; t < 0x0100 + 12; ++t)
        s.extra_types.push_back(t);
    const Answer many = answer(build_request(s));
    ASSERT_EQ(many.result.verdict, Verdict::UnknownRequired);
    EXPECT_LE(many.response.size(), kMaxResponseLen);
    EXPECT_EQ(
        decode_unknown_attributes(many.response.data(), many.parsed.unknown_attributes, types, 8),
        kMaxUnknown);
}

// A 400/401 carries ERROR-CODE and FINGERPRINT and no MESSAGE-INTEGRITY
// (RFC 8489 9.1.3).
void expect_unsigned_error(const std::vector<uint8_t>& request, Verdict v, uint16_t code) {
    const Answer a = answer(request);
    ASSERT_EQ(a.result.verdict, v) << verdict_name(v);
    EXPECT_EQ(a.result.error_code, code);
    EXPECT_EQ(error_code(a), code);
    EXPECT_FALSE(a.result.authenticated);
    EXPECT_FALSE(a.result.use_candidate);
    EXPECT_EQ(a.parsed.cls, MessageClass::ErrorResponse);
    EXPECT_FALSE(a.parsed.message_integrity.present());
    EXPECT_FALSE(a.parsed.message_integrity_sha256.present());
}

TEST(AnswerBinding, BadRequests) {
    RequestSpec s;
    s.integrity = Integrity::None;
    expect_unsigned_error(build_request(s), Verdict::NoIntegrity, 400);
    s = RequestSpec{};
    s.username.reset();
    expect_unsigned_error(build_request(s), Verdict::NoUsername, 400);
    s = RequestSpec{};
    s.priority.reset();
    expect_unsigned_error(build_request(s), Verdict::NoPriority, 400);

    // A known attribute of the wrong size, FINGERPRINT right.
    auto m = build_request({});
    Message parsed;
    ASSERT_EQ(parse_message(m.data(), m.size(), parsed), Verdict::Ok);
    // PRIORITY follows USERNAME ("evtj:h6vY", 12 octets padded).
    const std::size_t prio = kHeaderLen + 4 + 12;
    ASSERT_EQ(m[prio + 1], 0x24);
    m[prio + 1] = 0x25;  // USE-CANDIDATE with 4 octets
    test::refresh_fingerprint(m);
    expect_unsigned_error(m, Verdict::MalformedAttribute, 400);
}

TEST(AnswerBinding, WrongUsernames) {
    for (const char* user : {"h6vY:evtj", "evtj:other", "evtj", "evtj:", "evtjx:h6vY", ":h6vY",
                             "EVTJ:h6vY", "evtj:h6vYx", "evt:h6vY", ""}) {
        RequestSpec s;
        s.username = user;
        expect_unsigned_error(build_request(s), Verdict::BadUsername, 401);
    }
    // No remote ufrag known: any remote part, the local part still checked.
    BindingCredentials any_remote = test::rfc_credentials();
    any_remote.remote_ufrag = {};
    RequestSpec s;
    s.username = "evtj:someone";
    EXPECT_EQ(answer(build_request(s), test::rfc_ipv4_source(), any_remote).result.verdict,
              Verdict::Ok);
    s.username = "evtj:";
    EXPECT_EQ(answer(build_request(s), test::rfc_ipv4_source(), any_remote).result.verdict,
              Verdict::Ok);
    s.username = "other:someone";
    EXPECT_EQ(answer(build_request(s), test::rfc_ipv4_source(), any_remote).result.verdict,
              Verdict::BadUsername);
}

TEST(AnswerBinding, WrongPassword) {
    RequestSpec s;
    s.password = "VOkJxbRl1RmTxUk/WvJxBT";
    expect_unsigned_error(build_request(s), Verdict::BadIntegrity, 401);
    // A leg with no key refuses everything.
    BindingCredentials no_key{test::kRfcLocalUfrag, test::kRfcRemoteUfrag, IntegrityKey{}};
    EXPECT_EQ(answer(build_request({}), test::rfc_ipv4_source(), no_key).result.verdict,
              Verdict::BadIntegrity);
}

TEST(AnswerBinding, EveryTamperedOctetFailsAuthentication) {
    const auto m = build_request({});
    const std::size_t fp = m.size() - 8;
    for (std::size_t i = 0; i < fp; ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            auto t = m;
            t[i] = static_cast<uint8_t>(t[i] ^ (1u << bit));
            test::refresh_fingerprint(t);  // so it gets past the FINGERPRINT check
            const Answer a = answer(t);
            EXPECT_FALSE(a.result.authenticated) << "octet " << i << " bit " << bit;
            EXPECT_NE(a.result.verdict, Verdict::Ok) << "octet " << i << " bit " << bit;
        }
    }
}

TEST(AnswerBinding, DroppedSilently) {
    auto expect_drop = [](const std::vector<uint8_t>& m, Verdict v) {
        const Answer a = answer(m);
        EXPECT_EQ(a.result.verdict, v) << verdict_name(v);
        EXPECT_FALSE(a.result.respond());
        EXPECT_FALSE(a.result.authenticated);
    };
    RequestSpec s;
    s.fingerprint = false;
    expect_drop(build_request(s), Verdict::NoFingerprint);
    auto m = build_request({});
    m.back() ^= 1;
    expect_drop(m, Verdict::BadFingerprint);
    m = build_request({});
    m[5] ^= 1;
    expect_drop(m, Verdict::NotStun);
    m.pop_back();
    expect_drop(m, Verdict::NotStun);
    expect_drop({}, Verdict::NotStun);
    m = build_request({});
    m.push_back(0);
    expect_drop(m, Verdict::BadLength);

    s = RequestSpec{};
    s.type = message_type(kMethodBinding, MessageClass::SuccessResponse);
    expect_drop(build_request(s), Verdict::NotRequest);
    s.type = message_type(kMethodBinding, MessageClass::ErrorResponse);
    expect_drop(build_request(s), Verdict::NotRequest);
    s.type = message_type(0x003, MessageClass::Request);  // TURN Allocate
    expect_drop(build_request(s), Verdict::UnknownMethod);
    expect_drop(rfc5769("RFC5769-2.2"), Verdict::NotRequest);
    expect_drop(rfc5769("RFC5769-2.4"), Verdict::NoFingerprint);
}

TEST(AnswerBinding, IndicationsAreKeepalivesWithoutAResponse) {
    RequestSpec s;
    s.type = message_type(kMethodBinding, MessageClass::Indication);
    s.username.reset();
    s.priority.reset();
    s.controlling = false;
    s.integrity = Integrity::None;
    const Answer a = answer(build_request(s));
    EXPECT_EQ(a.result.verdict, Verdict::Indication);
    EXPECT_FALSE(a.result.respond());
    EXPECT_FALSE(a.result.authenticated);  // proves nothing about the source
    s.fingerprint = false;
    EXPECT_EQ(answer(build_request(s)).result.verdict, Verdict::Indication);
}

TEST(AnswerBinding, NoRoomAndBadSource) {
    const auto m = build_request({});
    const Answer full = answer(m);
    ASSERT_EQ(full.result.verdict, Verdict::Ok);
    for (std::size_t cap = 0; cap < full.response.size(); ++cap) {
        std::vector<uint8_t> out(full.response.size() + 8, 0xee);
        const BindingResult r = answer_binding(m.data(), m.size(), test::rfc_ipv4_source(),
                                               test::rfc_credentials(), out.data(), cap);
        EXPECT_EQ(r.verdict, Verdict::NoRoom) << cap;
        EXPECT_FALSE(r.respond());
        for (std::size_t i = cap; i < out.size(); ++i)
            ASSERT_EQ(out[i], 0xee) << "cap " << cap << " octet " << i;
    }
    TransportAddress none;
    EXPECT_EQ(answer(m, none).result.verdict, Verdict::BadSource);
}

TEST(AnswerBinding, ResponsesNeverExceedTheMaximum) {
    // The largest: a 420 with kMaxUnknown types, SHA-256 signed.
    RequestSpec s;
    s.integrity = Integrity::Sha256;
    for (uint16_t t = 0x0100; t < 0x0100 + kMaxUnknown; ++t)
        s.extra_types.push_back(t);
    const Answer a = answer(build_request(s), test::rfc_ipv6_source());
    ASSERT_EQ(a.result.verdict, Verdict::UnknownRequired);
    EXPECT_EQ(a.response.size(), kMaxResponseLen);
    EXPECT_TRUE(signed_by_rfc_password(a));
}

}  // namespace
}  // namespace isthmus::ice
