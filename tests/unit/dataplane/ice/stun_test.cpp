// STUN parsing (ice/stun.hpp) against the RFC 5769 vectors and hand-made
// broken messages: truncations, bad lengths, attributes past the end,
// FINGERPRINT misplaced or wrong, malformed and unknown attributes.
#include "ice/stun.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "hex.hpp"
#include "ice/integrity.hpp"
#include "stun_fixtures.hpp"

namespace isthmus::ice {
namespace {

using isthmus::test::to_hex;
using test::rfc5769;

void store16(std::vector<uint8_t>& m, std::size_t at, uint16_t v) {
    m.at(at) = static_cast<uint8_t>(v >> 8);
    m.at(at + 1) = static_cast<uint8_t>(v);
}

// Header (Binding request, given length) + the transaction id of RFC 5769 2.1.
std::vector<uint8_t> header(uint16_t length) {
    std::vector<uint8_t> m = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7,
                              0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
    store16(m, 2, length);
    return m;
}

// Appends an attribute (value zero-padded) and fixes the header length.
void append(std::vector<uint8_t>& m, uint16_t type, std::vector<uint8_t> value) {
    const std::size_t at = m.size();
    m.resize(at + 4);
    store16(m, at, type);
    store16(m, at + 2, static_cast<uint16_t>(value.size()));
    m.insert(m.end(), value.begin(), value.end());
    while (m.size() % 4 != 0)
        m.push_back(0);
    store16(m, 2, static_cast<uint16_t>(m.size() - kHeaderLen));
}

Verdict parse(const std::vector<uint8_t>& m, Message& out) {
    return parse_message(m.data(), m.size(), out);
}

TEST(MessageType, MethodAndClassRoundTrip) {
    EXPECT_EQ(message_type(kMethodBinding, MessageClass::Request), 0x0001);
    EXPECT_EQ(message_type(kMethodBinding, MessageClass::Indication), 0x0011);
    EXPECT_EQ(message_type(kMethodBinding, MessageClass::SuccessResponse), 0x0101);
    EXPECT_EQ(message_type(kMethodBinding, MessageClass::ErrorResponse), 0x0111);
    for (uint16_t method = 0; method < 0x1000; ++method) {
        for (uint8_t c = 0; c < 4; ++c) {
            const auto cls = static_cast<MessageClass>(c);
            const uint16_t t = message_type(method, cls);
            ASSERT_LT(t, 0x4000);
            ASSERT_EQ(method_of(t), method);
            ASSERT_EQ(class_of(t), cls);
        }
    }
}

TEST(Rfc5769, SampleRequest) {
    const auto m = rfc5769("RFC5769-2.1");
    ASSERT_EQ(m.size(), 108U);
    Message msg;
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    EXPECT_EQ(msg.method, kMethodBinding);
    EXPECT_EQ(msg.cls, MessageClass::Request);
    EXPECT_EQ(msg.length, 0x58);
    EXPECT_EQ(to_hex(msg.transaction_id, 12), "b7e7a701bc34d686fa87dfae");
    EXPECT_EQ(attribute_text(m.data(), msg.software), "STUN test client");
    EXPECT_EQ(attribute_text(m.data(), msg.username), "evtj:h6vY");
    EXPECT_TRUE(msg.has_priority);
    EXPECT_EQ(msg.priority, 0x6e0001ffU);
    EXPECT_TRUE(msg.ice_controlled);
    EXPECT_FALSE(msg.ice_controlling);
    EXPECT_EQ(msg.tie_breaker, 0x932ff9b151263b36ULL);
    EXPECT_FALSE(msg.use_candidate);
    EXPECT_EQ(msg.message_integrity.offset, 80U);  // value after the header at 76
    EXPECT_EQ(msg.message_integrity.len, 20);
    EXPECT_FALSE(msg.message_integrity_sha256.present());
    EXPECT_EQ(msg.fingerprint.offset, 104U);
    EXPECT_EQ(msg.unknown_count, 0);
    EXPECT_TRUE(verify_integrity(m.data(), msg, IntegrityKey::short_term(test::kRfcPassword)));
    EXPECT_FALSE(
        verify_integrity(m.data(), msg, IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBT")));
    EXPECT_FALSE(verify_integrity(m.data(), msg, IntegrityKey{}));
}

void expect_response(const std::string& section, const TransportAddress& mapped) {
    const auto m = rfc5769(section);
    Message msg;
    ASSERT_EQ(parse(m, msg), Verdict::Ok) << section;
    EXPECT_EQ(msg.cls, MessageClass::SuccessResponse);
    EXPECT_EQ(msg.method, kMethodBinding);
    EXPECT_EQ(attribute_text(m.data(), msg.software), "test vector");
    EXPECT_TRUE(msg.fingerprint.present());
    TransportAddress a;
    ASSERT_TRUE(decode_xor_address(m.data(), msg.xor_mapped_address, a));
    EXPECT_EQ(a.family, mapped.family);
    EXPECT_EQ(a.port, mapped.port);
    EXPECT_EQ(to_hex(a.addr, 16), to_hex(mapped.addr, 16));
    EXPECT_TRUE(verify_integrity(m.data(), msg, IntegrityKey::short_term(test::kRfcPassword)));
}

TEST(Rfc5769, SampleIpv4Response) {
    expect_response("RFC5769-2.2", test::rfc_ipv4_source());
}

TEST(Rfc5769, SampleIpv6Response) {
    expect_response("RFC5769-2.3", test::rfc_ipv6_source());
}

// The long-term key MD5(username ":" realm ":" password) (RFC 8489 9.2.2).
std::vector<uint8_t> md5(const std::string& s) {
    std::vector<uint8_t> d(16);
    unsigned int n = 0;
    EXPECT_EQ(EVP_Digest(s.data(), s.size(), d.data(), &n, EVP_md5(), nullptr), 1);
    return d;
}

TEST(Rfc5769, SampleRequestWithLongTermAuthentication) {
    const auto m = rfc5769("RFC5769-2.4");
    ASSERT_EQ(m.size(), 116U);
    Message msg;
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    EXPECT_EQ(msg.cls, MessageClass::Request);
    EXPECT_FALSE(msg.fingerprint.present());
    const std::string user =
        "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
    EXPECT_EQ(attribute_text(m.data(), msg.username), user);
    EXPECT_EQ(attribute_text(m.data(), msg.nonce), "f//499k954d6OL34oL9FSTvy64sA");
    EXPECT_EQ(attribute_text(m.data(), msg.realm), "example.org");
    EXPECT_EQ(msg.unknown_count, 0);  // NONCE and REALM are known
    const auto key = md5(user + ":example.org:TheMatrIX");
    EXPECT_EQ(to_hex(key), "e8ca7ad59d5eb0518e312911d2dab2a9");
    EXPECT_TRUE(verify_integrity(m.data(), msg, IntegrityKey::from_octets(key.data(), key.size())));
    EXPECT_FALSE(verify_integrity(m.data(), msg, IntegrityKey::short_term("TheMatrIX")));
}

// Attribute boundaries of a well-formed message (offsets of each header).
std::vector<std::size_t> boundaries(const std::vector<uint8_t>& m) {
    std::vector<std::size_t> out;
    std::size_t pos = kHeaderLen;
    while (pos < m.size()) {
        out.push_back(pos);
        const std::size_t alen = static_cast<std::size_t>(m[pos + 2] << 8 | m[pos + 3]);
        pos += 4 + ((alen + 3) & ~std::size_t{3});
    }
    out.push_back(pos);
    return out;
}

TEST(ParseMessage, EveryTruncationIsRefused) {
    for (const char* s : {"RFC5769-2.1", "RFC5769-2.2", "RFC5769-2.3", "RFC5769-2.4"}) {
        const auto full = rfc5769(s);
        for (std::size_t n = 0; n < full.size(); ++n) {
            // Exactly n octets on the heap, so ASan sees any read past them.
            const std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
            Message msg;
            EXPECT_EQ(parse(cut, msg), n < kHeaderLen ? Verdict::NotStun : Verdict::BadLength)
                << s << " cut at " << n;
        }
    }
}

TEST(ParseMessage, TruncationsWithTheLengthFieldFixedUp) {
    for (const char* s : {"RFC5769-2.1", "RFC5769-2.2", "RFC5769-2.3", "RFC5769-2.4"}) {
        const auto full = rfc5769(s);
        const auto ends = boundaries(full);
        for (std::size_t n = kHeaderLen; n < full.size(); n += 4) {
            std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
            store16(cut, 2, static_cast<uint16_t>(n - kHeaderLen));
            Message msg;
            const bool at_boundary = std::find(ends.begin(), ends.end(), n) != ends.end();
            EXPECT_EQ(parse(cut, msg), at_boundary ? Verdict::Ok : Verdict::BadAttribute)
                << s << " cut at " << n;
        }
    }
}

TEST(ParseMessage, HeaderChecks) {
    auto m = rfc5769("RFC5769-2.1");
    Message msg;
    for (int top : {0x40, 0x80, 0xC0}) {
        auto t = m;
        t[0] = static_cast<uint8_t>(t[0] | top);
        EXPECT_EQ(parse(t, msg), Verdict::NotStun);
    }
    for (std::size_t i = 4; i < 8; ++i) {
        auto t = m;
        t[i] ^= 0x01;  // wrong magic cookie (an RFC 3489 message has none)
        EXPECT_EQ(parse(t, msg), Verdict::NotStun) << i;
    }
    for (uint16_t len :
         std::initializer_list<uint16_t>{0x57, 0x59, 0x5a, 0x5b, 0x54, 0x5c, 0x00, 0xfffc}) {
        auto t = m;
        store16(t, 2, len);  // not a multiple of 4, or not the datagram's size
        EXPECT_EQ(parse(t, msg), Verdict::BadLength) << len;
    }
    auto t = m;
    t.push_back(0);  // a trailing octet
    EXPECT_EQ(parse(t, msg), Verdict::BadLength);
    t.insert(t.end(), {0, 0, 0});  // four trailing octets
    EXPECT_EQ(parse(t, msg), Verdict::BadLength);
    EXPECT_EQ(parse(header(0), msg), Verdict::Ok);  // an empty message is a message
}

TEST(ParseMessage, AttributeRunningPastTheEnd) {
    Message msg;
    auto m = header(0);
    append(m, attr::kSoftware, {'a', 'b', 'c', 'd'});
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    for (uint16_t alen : std::initializer_list<uint16_t>{5, 8, 100, 0xffff}) {
        auto t = m;
        store16(t, kHeaderLen + 2, alen);
        EXPECT_EQ(parse(t, msg), Verdict::BadAttribute) << alen;
    }
    // The padding counts: 3 octets of value need 4.
    m = header(0);
    append(m, attr::kSoftware, {'a', 'b', 'c'});
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    m = header(0);
    append(m, attr::kSoftware, {'a', 'b', 'c', 'd'});
    store16(m, kHeaderLen + 2, 5);
    EXPECT_EQ(parse(m, msg), Verdict::BadAttribute);
    // The padding of a text attribute is kept and ignored.
    m = header(0);
    append(m, attr::kUsername, {'e', 'v', 't', 'j', ':', 'x'});
    m[kHeaderLen + 10] = 0x20;
    m[kHeaderLen + 11] = 0xff;
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    EXPECT_EQ(attribute_text(m.data(), msg.username), "evtj:x");
}

TEST(ParseMessage, Fingerprint) {
    Message msg;
    auto m = rfc5769("RFC5769-2.1");
    const auto ends = boundaries(m);
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (i >= 2 && i < 4) continue;  // the length field: BadLength
        auto t = m;
        t[i] ^= 0x10;
        const Verdict v = parse(t, msg);
        const bool length_field =
            std::find(ends.begin(), ends.end(), i - (i % 4)) != ends.end() && i % 4 >= 2;
        if (i >= 4 && i < 8) {
            EXPECT_EQ(v, Verdict::NotStun) << i;  // the cookie
        } else if (i == 100 || i == 101) {
            // FINGERPRINT's type changed: an optional attribute, no FINGERPRINT
            // (which parse_message does not require; the responder does).
            EXPECT_EQ(v, Verdict::Ok) << i;
            EXPECT_FALSE(msg.fingerprint.present());
        } else if (i == 102 || i == 103) {
            EXPECT_EQ(v, Verdict::BadAttribute) << i;  // its length: past the end
        } else if (length_field) {
            EXPECT_NE(v, Verdict::Ok) << i;  // the walk goes astray, one way or another
        } else {
            EXPECT_EQ(v, Verdict::BadFingerprint) << i;  // the CRC catches the rest
        }
    }
    auto t = m;
    store16(t, 102, 8);  // FINGERPRINT of 8 octets
    t.insert(t.end(), {0, 0, 0, 0});
    store16(t, 2, static_cast<uint16_t>(t.size() - kHeaderLen));
    EXPECT_EQ(parse(t, msg), Verdict::BadFingerprint);

    // An attribute after FINGERPRINT, even with FINGERPRINT right for where it is.
    t = m;
    append(t, attr::kSoftware, {'x'});
    EXPECT_EQ(parse(t, msg), Verdict::FingerprintNotLast);
    t = m;
    append(t, attr::kFingerprint, {0, 0, 0, 0});
    EXPECT_EQ(parse(t, msg), Verdict::FingerprintNotLast);
}

TEST(ParseMessage, MalformedKnownAttributes) {
    struct Case {
        uint16_t type;
        std::size_t len;
    };
    for (const Case c :
         {Case{attr::kPriority, 3}, Case{attr::kPriority, 8}, Case{attr::kUseCandidate, 4},
          Case{attr::kIceControlling, 4}, Case{attr::kIceControlled, 12},
          Case{attr::kMessageIntegrity, 16}, Case{attr::kMessageIntegrity, 32},
          Case{attr::kMessageIntegritySha256, 12}, Case{attr::kMessageIntegritySha256, 18},
          Case{attr::kMessageIntegritySha256, 36}}) {
        auto m = header(0);
        append(m, attr::kSoftware, {'o', 'k'});
        append(m, c.type, std::vector<uint8_t>(c.len, 0xaa));
        append(m, attr::kPriority, {0, 0, 0, 1});
        test::refresh_fingerprint(m);
        Message msg;
        EXPECT_EQ(parse(m, msg), Verdict::MalformedAttribute) << c.type << "/" << c.len;
        EXPECT_EQ(msg.malformed_type, c.type);
        EXPECT_EQ(attribute_text(m.data(), msg.software), "ok");  // the rest is still parsed
        // A broken FINGERPRINT outranks it: dropped, not answered.
        append(m, attr::kFingerprint, {1, 2, 3, 4});
        EXPECT_EQ(parse(m, msg), Verdict::BadFingerprint);
    }
    for (std::size_t len :
         std::initializer_list<std::size_t>{16, 20, 24, 28, 32}) {  // truncated HMAC-SHA256 is fine
        auto m = header(0);
        append(m, attr::kMessageIntegritySha256, std::vector<uint8_t>(len, 0));
        Message msg;
        EXPECT_EQ(parse(m, msg), Verdict::Ok) << len;
        EXPECT_EQ(msg.message_integrity_sha256.len, len);
    }
}

TEST(ParseMessage, UnknownComprehensionRequiredAttributes) {
    auto m = header(0);
    append(m, 0x0003, {0, 0, 0, 0});  // CHANGE-REQUEST (RFC 5780): not ours
    append(m, 0x8001, {0});           // unknown but comprehension-optional
    append(m, 0x7fff, {});
    Message msg;
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    ASSERT_EQ(msg.unknown_count, 2);
    EXPECT_EQ(msg.unknown[0], 0x0003);
    EXPECT_EQ(msg.unknown[1], 0x7fff);

    m = header(0);
    for (uint16_t t = 0x0040; t < 0x0040 + 10; ++t)
        append(m, t, {});
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    EXPECT_EQ(msg.unknown_count, 10);  // counted, the first kMaxUnknown kept
    for (std::size_t i = 0; i < kMaxUnknown; ++i)
        EXPECT_EQ(msg.unknown[i], 0x0040 + i);
}

TEST(ParseMessage, AttributesAfterIntegrityAreIgnored) {
    auto m = header(0);
    append(m, attr::kPriority, {0, 0, 0, 7});
    append(m, attr::kMessageIntegrity, std::vector<uint8_t>(20, 1));
    append(m, attr::kUsername, {'a'});       // ignored
    append(m, attr::kUseCandidate, {1, 2});  // ignored, not even malformed
    append(m, 0x0003, {});                   // not reported
    append(m, attr::kMessageIntegritySha256, std::vector<uint8_t>(32, 2));  // taken
    append(m, attr::kPriority, {0, 0, 0, 9});                               // ignored
    append(m, attr::kFingerprint, {0, 0, 0, 0});
    test::refresh_fingerprint(m);
    Message msg;
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    EXPECT_FALSE(msg.username.present());
    EXPECT_FALSE(msg.use_candidate);
    EXPECT_EQ(msg.unknown_count, 0);
    EXPECT_EQ(msg.priority, 7U);
    EXPECT_TRUE(msg.message_integrity.present());
    EXPECT_TRUE(msg.message_integrity_sha256.present());
    EXPECT_TRUE(msg.fingerprint.present());

    // MESSAGE-INTEGRITY-SHA256 alone: everything but FINGERPRINT after it is ignored,
    // a MESSAGE-INTEGRITY included.
    m = header(0);
    append(m, attr::kMessageIntegritySha256, std::vector<uint8_t>(32, 2));
    append(m, attr::kMessageIntegrity, std::vector<uint8_t>(20, 1));
    append(m, attr::kMessageIntegritySha256, std::vector<uint8_t>(3, 1));
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    EXPECT_FALSE(msg.message_integrity.present());
    EXPECT_EQ(msg.message_integrity_sha256.offset, kHeaderLen + 4);
}

TEST(ParseMessage, TheFirstOfRepeatedAttributesCounts) {
    auto m = header(0);
    append(m, attr::kUsername, {'a', ':', 'b'});
    append(m, attr::kUsername, {'c', ':', 'd'});
    append(m, attr::kPriority, {0, 0, 0, 1});
    append(m, attr::kPriority, {0, 0, 0, 2});
    append(m, attr::kIceControlled, {0, 0, 0, 0, 0, 0, 0, 3});
    append(m, attr::kIceControlling, {0, 0, 0, 0, 0, 0, 0, 4});
    Message msg;
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    EXPECT_EQ(attribute_text(m.data(), msg.username), "a:b");
    EXPECT_EQ(msg.priority, 1U);
    EXPECT_TRUE(msg.ice_controlled);
    EXPECT_TRUE(msg.ice_controlling);
    EXPECT_EQ(msg.tie_breaker, 3U);
}

TEST(DecodeXorAddress, RefusesWhatItCannotDecode) {
    TransportAddress a;
    auto m = header(0);
    EXPECT_FALSE(decode_xor_address(m.data(), AttributeRef{}, a));
    for (const std::vector<uint8_t>& v :
         {std::vector<uint8_t>{0, 1, 0, 0}, std::vector<uint8_t>{0, 1, 0, 0, 1, 2, 3, 4, 5},
          std::vector<uint8_t>(20, 0), std::vector<uint8_t>{0, 3, 0, 0, 1, 2, 3, 4}}) {
        m = header(0);
        append(m, attr::kXorMappedAddress, v);
        Message msg;
        ASSERT_EQ(parse(m, msg), Verdict::Ok);
        EXPECT_FALSE(decode_xor_address(m.data(), msg.xor_mapped_address, a));
    }
}

TEST(DecodeErrorCode, ClassAndNumber) {
    auto m = header(0);
    append(m, attr::kErrorCode, {0, 0, 4, 20, 'U', 'n'});
    Message msg;
    ASSERT_EQ(parse(m, msg), Verdict::Ok);
    uint16_t code = 0;
    std::string_view reason;
    ASSERT_TRUE(decode_error_code(m.data(), msg.error_code, code, reason));
    EXPECT_EQ(code, 420);
    EXPECT_EQ(reason, "Un");
    for (const std::vector<uint8_t>& v :
         {std::vector<uint8_t>{0, 0, 2, 0}, std::vector<uint8_t>{0, 0, 7, 0},
          std::vector<uint8_t>{0, 0, 4, 100}, std::vector<uint8_t>{0, 0, 4}}) {
        m = header(0);
        append(m, attr::kErrorCode, v);
        ASSERT_EQ(parse(m, msg), Verdict::Ok);
        EXPECT_FALSE(decode_error_code(m.data(), msg.error_code, code, reason));
    }
}

TEST(Verdicts, NamesAreDistinctAndDocumented) {
    for (std::size_t i = 0; i < kVerdictCount; ++i) {
        const auto v = static_cast<Verdict>(i);
        EXPECT_FALSE(verdict_name(v).empty());
        EXPECT_FALSE(verdict_doc(v).empty());
        for (std::size_t j = 0; j < i; ++j)
            EXPECT_NE(verdict_name(v), verdict_name(static_cast<Verdict>(j)));
    }
    EXPECT_EQ(verdict_name(Verdict::BadIntegrity), "bad_integrity");
    Counters c;
    c.add(Verdict::Ok);
    c.add(Verdict::Ok, 2);
    EXPECT_EQ(c.get(Verdict::Ok), 3U);
    EXPECT_EQ(c.get(Verdict::NoRoom), 0U);
}

}  // namespace
}  // namespace isthmus::ice
