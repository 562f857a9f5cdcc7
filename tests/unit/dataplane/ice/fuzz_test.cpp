// Random mutations (fixed seed) of valid and RFC 5769 messages through the
// parser and the responder: nothing is read or written out of bounds (the
// buffers are exactly sized; CI runs this under ASan+UBSan), every verdict is
// one the API documents, and every response is itself a valid STUN message.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "ice/binding.hpp"
#include "ice/integrity.hpp"
#include "stun_fixtures.hpp"

namespace isthmus::ice {
namespace {

using test::build_request;
using test::Integrity;
using test::RequestSpec;

constexpr int kIterations = 100000;

std::vector<std::vector<uint8_t>> seeds() {
    std::vector<std::vector<uint8_t>> out;
    for (const char* s : {"RFC5769-2.1", "RFC5769-2.2", "RFC5769-2.3", "RFC5769-2.4"})
        out.push_back(test::rfc5769(s));
    out.push_back(build_request({}));
    RequestSpec s;
    s.use_candidate = true;
    out.push_back(build_request(s));
    s.integrity = Integrity::Sha256;
    out.push_back(build_request(s));
    s = RequestSpec{};
    s.extra_types = {0x0003, 0x8001};
    out.push_back(build_request(s));
    s = RequestSpec{};
    s.controlled = true;
    out.push_back(build_request(s));
    s = RequestSpec{};
    s.type = message_type(kMethodBinding, MessageClass::Indication);
    out.push_back(build_request(s));
    return out;
}

// Offsets of the attribute headers of a message (as far as they make sense).
std::vector<std::size_t> attribute_offsets(const std::vector<uint8_t>& m) {
    std::vector<std::size_t> out;
    std::size_t pos = kHeaderLen;
    while (pos + 4 <= m.size()) {
        out.push_back(pos);
        pos += 4 + ((static_cast<std::size_t>(m[pos + 2] << 8 | m[pos + 3]) + 3) & ~std::size_t{3});
    }
    return out;
}

void mutate(std::vector<uint8_t>& m, std::mt19937& rng) {
    auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    static constexpr std::array<uint16_t, 14> kTypes = {attr::kUsername,
                                                        attr::kMessageIntegrity,
                                                        attr::kMessageIntegritySha256,
                                                        attr::kFingerprint,
                                                        attr::kPriority,
                                                        attr::kUseCandidate,
                                                        attr::kIceControlled,
                                                        attr::kIceControlling,
                                                        attr::kXorMappedAddress,
                                                        attr::kErrorCode,
                                                        attr::kUnknownAttributes,
                                                        0x0003,
                                                        0x8001,
                                                        0x0000};
    const int rounds = 1 + static_cast<int>(rng() % 3);
    for (int r = 0; r < rounds; ++r) {
        const auto attrs = attribute_offsets(m);
        switch (rng() % 9) {
            case 0:  // flip a bit
                if (!m.empty()) m[pick(m.size())] ^= static_cast<uint8_t>(1u << (rng() % 8));
                break;
            case 1: {  // an interesting octet
                static constexpr std::array<uint8_t, 6> kOctets = {0x00, 0xff, 0x80,
                                                                   0x7f, 0x01, 0x20};
                if (!m.empty()) m[pick(m.size())] = kOctets[pick(kOctets.size())];
                break;
            }
            case 2:  // truncate
                m.resize(pick(m.size() + 1));
                break;
            case 3:  // append up to 16 random octets
                for (std::size_t n = 1 + pick(16); n > 0; --n)
                    m.push_back(static_cast<uint8_t>(rng()));
                break;
            case 4:  // insert or delete four octets on an attribute boundary
                if (!attrs.empty()) {
                    const auto at = static_cast<long>(attrs[pick(attrs.size())]);
                    if (rng() % 2 == 0)
                        m.insert(m.begin() + at, 4, static_cast<uint8_t>(rng()));
                    else if (static_cast<std::size_t>(at) + 4 <= m.size())
                        m.erase(m.begin() + at, m.begin() + at + 4);
                }
                break;
            case 5:  // an attribute's length
                if (!attrs.empty()) {
                    const std::size_t at = attrs[pick(attrs.size())];
                    const auto len = static_cast<uint16_t>(rng() % 2 == 0 ? rng() % 48 : rng());
                    m[at + 2] = static_cast<uint8_t>(len >> 8);
                    m[at + 3] = static_cast<uint8_t>(len);
                }
                break;
            case 6:  // an attribute's type
                if (!attrs.empty()) {
                    const std::size_t at = attrs[pick(attrs.size())];
                    const uint16_t t = kTypes[pick(kTypes.size())];
                    m[at] = static_cast<uint8_t>(t >> 8);
                    m[at + 1] = static_cast<uint8_t>(t);
                }
                break;
            case 7:  // duplicate an attribute (header and what follows, 4..24 octets)
                if (!attrs.empty()) {
                    const std::size_t at = attrs[pick(attrs.size())];
                    const std::size_t n = std::min<std::size_t>(m.size() - at, 4 * (1 + pick(6)));
                    const std::vector<uint8_t> copy(m.begin() + static_cast<long>(at),
                                                    m.begin() + static_cast<long>(at + n));
                    m.insert(m.begin() + static_cast<long>(at), copy.begin(), copy.end());
                }
                break;
            default:  // the message class and method bits
                if (m.size() >= 2) m[pick(2)] ^= static_cast<uint8_t>(1u << (rng() % 8));
                break;
        }
    }
    // Most mutations would die at the first checks; fix them up often enough
    // to reach the attribute walk and the responder's decisions.
    if (m.size() >= kHeaderLen && rng() % 4 != 0) {
        const std::size_t body = m.size() - kHeaderLen;
        m[2] = static_cast<uint8_t>(body >> 8);
        m[3] = static_cast<uint8_t>(body);
    }
    if (rng() % 2 == 0) test::refresh_fingerprint(m);
}

uint16_t code_of(Verdict v) {
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
            return 0xFFFF;  // no response
    }
}

TEST(Fuzz, MutatedMessagesNeverMisbehave) {
    const auto corpus = seeds();
    const BindingCredentials cred = test::rfc_credentials();
    const IntegrityKey key = IntegrityKey::short_term(test::kRfcPassword);
    const std::set<Verdict> parse_verdicts = {Verdict::Ok,
                                              Verdict::NotStun,
                                              Verdict::BadLength,
                                              Verdict::BadAttribute,
                                              Verdict::FingerprintNotLast,
                                              Verdict::BadFingerprint,
                                              Verdict::MalformedAttribute};
    std::mt19937 rng(0x5354554e);
    std::array<uint64_t, kVerdictCount> seen{};
    for (int i = 0; i < kIterations; ++i) {
        std::vector<uint8_t> m = corpus[rng() % corpus.size()];
        mutate(m, rng);
        const std::vector<uint8_t> msg = m;  // exactly sized: ASan sees any over-read

        Message parsed;
        const Verdict pv = parse_message(msg.data(), msg.size(), parsed);
        ASSERT_TRUE(parse_verdicts.count(pv) == 1) << i << " " << verdict_name(pv);
        if (pv == Verdict::Ok || pv == Verdict::MalformedAttribute) {
            for (const AttributeRef a :
                 {parsed.username, parsed.message_integrity, parsed.message_integrity_sha256,
                  parsed.fingerprint, parsed.xor_mapped_address, parsed.error_code,
                  parsed.unknown_attributes, parsed.software, parsed.realm, parsed.nonce}) {
                if (a.present()) {
                    ASSERT_LE(a.offset + a.len, msg.size()) << i;
                }
            }
            ASSERT_LE(parsed.unknown_count, msg.size() / 4);
            TransportAddress addr;
            decode_xor_address(msg.data(), parsed.xor_mapped_address, addr);
            uint16_t code = 0;
            std::string_view reason;
            decode_error_code(msg.data(), parsed.error_code, code, reason);
            verify_integrity(msg.data(), parsed, key);
        }

        const TransportAddress source =
            i % 2 == 0 ? test::rfc_ipv4_source() : test::rfc_ipv6_source();
        BindingResult r;
        std::vector<uint8_t> out;
        if (i % 4 == 3) {  // in place, in a buffer with room after the request
            out = msg;
            out.resize(std::max(msg.size(), kMaxResponseLen));
            r = answer_binding(out.data(), msg.size(), source, cred, out.data(), out.size());
        } else {
            out.resize(kMaxResponseLen);
            r = answer_binding(msg.data(), msg.size(), source, cred, out.data(), out.size());
        }
        ASSERT_LT(static_cast<std::size_t>(r.verdict), kVerdictCount);
        ++seen[static_cast<std::size_t>(r.verdict)];
        ASSERT_LE(r.response_len, kMaxResponseLen);
        ASSERT_EQ(r.authenticated, r.verdict == Verdict::Ok ||
                                       r.verdict == Verdict::UnknownRequired ||
                                       r.verdict == Verdict::RoleConflict)
            << i;
        if (!r.respond()) {
            ASSERT_EQ(code_of(r.verdict), 0xFFFF) << i << " " << verdict_name(r.verdict);
            continue;
        }
        ASSERT_EQ(r.error_code, code_of(r.verdict)) << i;
        out.resize(r.response_len);
        Message resp;
        ASSERT_EQ(parse_message(out.data(), out.size(), resp), Verdict::Ok) << i;
        ASSERT_TRUE(resp.fingerprint.present());
        ASSERT_EQ(resp.method, kMethodBinding);
        ASSERT_EQ(std::memcmp(resp.transaction_id, msg.data() + 8, kTransactionIdLen), 0);
        ASSERT_EQ(resp.cls, r.verdict == Verdict::Ok ? MessageClass::SuccessResponse
                                                     : MessageClass::ErrorResponse);
        ASSERT_EQ(verify_integrity(out.data(), resp, key), r.authenticated) << i;
    }
    // The mutations reached deep: most outcomes were seen, each at least once.
    std::size_t distinct = 0;
    for (uint64_t n : seen)
        distinct += n != 0;
    EXPECT_GE(distinct, kVerdictCount - 2);  // BadSource and NoRoom cannot happen here
    for (const Verdict v :
         {Verdict::Ok, Verdict::BadIntegrity, Verdict::BadUsername, Verdict::UnknownRequired,
          Verdict::RoleConflict, Verdict::MalformedAttribute, Verdict::BadAttribute,
          Verdict::FingerprintNotLast, Verdict::Indication})
        EXPECT_GT(seen[static_cast<std::size_t>(v)], 0U) << verdict_name(v);
}

}  // namespace
}  // namespace isthmus::ice
