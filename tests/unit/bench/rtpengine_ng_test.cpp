// bench/capacity's client of rtpengine's ng control protocol: the pure
// pieces it talks through — bencode (BitTorrent's encoding, as rtpengine
// uses it), base64 (RFC 4648, for SDES keys), the SDP reader that takes
// rtpengine's offer/answer apart and the SDPs the bench offers and answers
// with (RFC 4566, RFC 4568 a=crypto).
#include "rtpengine_ng.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace isthmus::bench::capacity {
namespace {

// The what() of the std::runtime_error that bencode_decode(in) throws;
// "no error" when it throws nothing.
std::string decode_error(std::string_view in) {
    try {
        bencode_decode(in);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "no error";
}

// The same for parse_sdp_audio.
std::string sdp_error(std::string_view sdp) {
    try {
        parse_sdp_audio(sdp);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "no error";
}

std::string lf_only(std::string s) {
    s.erase(std::remove(s.begin(), s.end(), '\r'), s.end());
    return s;
}

std::vector<uint8_t> octets(std::string_view s) {
    return {s.begin(), s.end()};
}

sockaddr_in endpoint(const char* ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

std::string ip_of(const SdpAudio& audio) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &audio.address, text, sizeof text);
    return text;
}

// RFC 4568 section 9.1's example key (AES_CM_128_HMAC_SHA1_80: 16 octets of
// master key, then 14 of salt) and its base64.
constexpr std::string_view kRfc4568Key = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
constexpr std::array<uint8_t, 30> kRfc4568KeySalt = {
    0x3d, 0x2d, 0x6e, 0x40, 0x25, 0x5e, 0x78, 0x21, 0x42, 0x6a, 0x75, 0x66, 0x72, 0x39, 0x29,
    0x3f, 0x2c, 0x23, 0x35, 0x68, 0x5c, 0x60, 0x3d, 0x26, 0x5d, 0x7b, 0x71, 0x69, 0x50, 0x51};

// What rtpengine answers toward A (the SRTP side) after `answer`: its own
// address at session level, a media-level c= for the stream, two a=crypto
// lines of which the bench knows the first.
constexpr std::string_view kAnswerTowardA =
    "v=0\r\n"
    "o=- 1545997027 2 IN IP4 203.0.113.1\r\n"
    "s=isthmus-capacity\r\n"
    "c=IN IP4 203.0.113.1\r\n"
    "t=0 0\r\n"
    "m=audio 30000 RTP/SAVP 0 8\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=sendrecv\r\n"
    "a=rtcp:30001\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
    "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^31|1:1\r\n"
    "a=crypto:2 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw\r\n";

// ---- bencode ----

TEST(Bencode, IntegersRoundTrip) {
    for (const int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{42}, int64_t{-42},
                            int64_t{65535}, int64_t{1'000'000'000'000}, -(int64_t{1} << 40)}) {
        const std::string wire = bencode_encode(Bencode::number(v));
        EXPECT_EQ(wire, "i" + std::to_string(v) + "e");
        const Bencode back = bencode_decode(wire);
        EXPECT_EQ(back.type, Bencode::Type::integer) << wire;
        EXPECT_EQ(back.integer, v) << wire;
    }
    EXPECT_EQ(bencode_encode(Bencode::number(0)), "i0e");
    EXPECT_EQ(bencode_encode(Bencode::number(-7)), "i-7e");
}

// Every int64_t reads back (a microsecond time is ~1.7e15), one beyond it
// either way is refused.
TEST(Bencode, IntegersSpanInt64) {
    for (const int64_t v : {std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min(), int64_t{1'700'000'000'000'000}}) {
        EXPECT_EQ(bencode_decode(bencode_encode(Bencode::number(v))).integer, v) << v;
    }
    EXPECT_EQ(decode_error("i9223372036854775808e"), "bencode: number too large at offset 19");
    EXPECT_EQ(decode_error("i-9223372036854775809e"), "bencode: number too large at offset 20");
}

TEST(Bencode, StringsCountOctetsAndCarryAnyOctet) {
    EXPECT_EQ(bencode_encode(Bencode("spam")), "4:spam");
    EXPECT_EQ(bencode_encode(Bencode("")), "0:");
    // Colons, digits, 'e', NUL and high octets are all payload: only the
    // length prefix delimits the string.
    const std::string binary("a:b\0e1:\xff\x80i0e", 11);
    const std::string wire = bencode_encode(Bencode(binary));
    EXPECT_EQ(wire, "11:" + binary);
    const Bencode back = bencode_decode(wire);
    EXPECT_EQ(back.type, Bencode::Type::string);
    EXPECT_EQ(back.string, binary);
    EXPECT_EQ(bencode_decode("0:").string, "");
    EXPECT_EQ(bencode_decode("3:a:b").string, "a:b");
}

TEST(Bencode, NestedListsAndDictionariesKeepTheirOrder) {
    // Keys stay in the order given, not sorted: "z" before "a".
    Bencode inner = Bencode::dict({{"z", Bencode::number(1)}, {"a", "x"}});
    Bencode list;
    list.type = Bencode::Type::list;
    list.list = {Bencode::number(-3), "two", inner, Bencode::strings({})};
    const Bencode top = Bencode::dict({{"list", list}, {"empty", Bencode::dict({})}});

    const std::string wire = bencode_encode(top);
    EXPECT_EQ(wire, "d4:listli-3e3:twod1:zi1e1:a1:xelee5:emptydee");
    const Bencode back = bencode_decode(wire);
    ASSERT_EQ(back.type, Bencode::Type::dictionary);
    ASSERT_EQ(back.dictionary.size(), 2u);
    EXPECT_EQ(back.dictionary[0].first, "list");
    EXPECT_EQ(back.dictionary[1].first, "empty");
    const Bencode& l = back.dictionary[0].second;
    ASSERT_EQ(l.type, Bencode::Type::list);
    ASSERT_EQ(l.list.size(), 4u);
    EXPECT_EQ(l.list[0].integer, -3);
    EXPECT_EQ(l.list[1].string, "two");
    ASSERT_EQ(l.list[2].type, Bencode::Type::dictionary);
    ASSERT_EQ(l.list[2].dictionary.size(), 2u);
    EXPECT_EQ(l.list[2].dictionary[0].first, "z");
    EXPECT_EQ(l.list[2].dictionary[1].first, "a");
    EXPECT_EQ(l.list[3].type, Bencode::Type::list);
    EXPECT_TRUE(l.list[3].list.empty());
    EXPECT_EQ(back.dictionary[1].second.type, Bencode::Type::dictionary);
    EXPECT_TRUE(back.dictionary[1].second.dictionary.empty());
    EXPECT_EQ(bencode_encode(back), wire);
}

TEST(Bencode, EncodesAnOfferRequestAsRtpengineReadsIt) {
    const Bencode request = Bencode::dict({
        {"command", "offer"},
        {"call-id", "c1"},
        {"replace", Bencode::strings({"origin", "session-connection"})},
        {"direction", Bencode::strings({"a", "b"})},
    });
    EXPECT_EQ(bencode_encode(request),
              "d7:command5:offer7:call-id2:c17:replacel6:origin18:session-connectione"
              "9:directionl1:a1:bee");
}

TEST(Bencode, DecodesRtpengineReplies) {
    const std::string sdp = lf_only(std::string(kAnswerTowardA));
    const std::string answer = "d3:sdp" + std::to_string(sdp.size()) + ":" + sdp + "6:result2:oke";
    const Bencode a = bencode_decode(answer);
    EXPECT_EQ(a.text("result"), "ok");
    EXPECT_EQ(a.text("sdp"), sdp);
    EXPECT_EQ(parse_sdp_audio(a.text("sdp")).port, 30000);

    EXPECT_EQ(bencode_decode("d6:result4:ponge").text("result"), "pong");

    const Bencode error = bencode_decode("d12:error-reason15:Unknown call-id6:result5:errore");
    EXPECT_EQ(error.text("result"), "error");
    EXPECT_EQ(error.text("error-reason"), "Unknown call-id");

    // A delete reply: what RtpengineTarget::teardown reads is totals.RTP.packets.
    const Bencode deleted = bencode_decode(
        "d7:createdi1700000000e10:created_usi123456e11:last signali1700000010e"
        "6:totalsd3:RTPd7:packetsi1000e5:bytesi172000e6:errorsi0ee"
        "4:RTCPd7:packetsi0e5:bytesi0e6:errorsi0eee6:result2:oke");
    EXPECT_EQ(deleted.text("result"), "ok");
    const Bencode* totals = deleted.find("totals");
    ASSERT_NE(totals, nullptr);
    const Bencode* rtp = totals->find("RTP");
    ASSERT_NE(rtp, nullptr);
    const Bencode* packets = rtp->find("packets");
    ASSERT_NE(packets, nullptr);
    EXPECT_EQ(packets->type, Bencode::Type::integer);
    EXPECT_EQ(packets->integer, 1000);
    ASSERT_NE(deleted.find("created"), nullptr);
    EXPECT_EQ(deleted.find("created")->integer, 1700000000);
}

TEST(Bencode, FindAndTextOnlyAnswerForWhatIsThere) {
    const Bencode d = Bencode::dict({{"n", Bencode::number(5)}, {"s", "v"}, {"s", "second"}});
    EXPECT_EQ(d.text("s"), "v");  // the first of a repeated key
    EXPECT_EQ(d.text("n"), "");   // not a string
    EXPECT_EQ(d.text("missing"), "");
    ASSERT_NE(d.find("n"), nullptr);
    EXPECT_EQ(d.find("n")->integer, 5);
    EXPECT_EQ(d.find("missing"), nullptr);
    // Neither looks into something that is not a dictionary.
    EXPECT_EQ(Bencode("s").find("s"), nullptr);
    EXPECT_EQ(Bencode::strings({"s", "v"}).text("s"), "");
}

TEST(Bencode, RefusesMalformedInputNamingTheOffset) {
    EXPECT_EQ(decode_error(""), "bencode: value missing at offset 0");
    // Integers.
    EXPECT_EQ(decode_error("i12"), "bencode: malformed number at offset 3");  // no 'e'
    EXPECT_EQ(decode_error("ie"), "bencode: malformed number at offset 1");
    EXPECT_EQ(decode_error("i-e"), "bencode: malformed number at offset 2");
    EXPECT_EQ(decode_error("i--1e"), "bencode: malformed number at offset 2");
    EXPECT_EQ(decode_error("i1.5e"), "bencode: malformed number at offset 2");
    EXPECT_EQ(decode_error("i+1e"), "bencode: malformed number at offset 1");
    // Strings: a length cut short, without its ':', or longer than the input.
    EXPECT_EQ(decode_error("3"), "bencode: malformed number at offset 1");
    EXPECT_EQ(decode_error("12"), "bencode: malformed number at offset 2");
    EXPECT_EQ(decode_error("3abc"), "bencode: malformed number at offset 1");
    EXPECT_EQ(decode_error("5:abc"), "bencode: string runs past the end at offset 2");
    EXPECT_EQ(decode_error("d3:sdp100:v=0e"), "bencode: string runs past the end at offset 10");
    EXPECT_EQ(decode_error("99999999999999999:x"), "bencode: number too large at offset 12");
    // Lists and dictionaries without their 'e'; a key that is not a string.
    EXPECT_EQ(decode_error("l"), "bencode: list not ended at offset 1");
    EXPECT_EQ(decode_error("li1e"), "bencode: list not ended at offset 4");
    EXPECT_EQ(decode_error("d"), "bencode: dictionary not ended at offset 1");
    EXPECT_EQ(decode_error("d3:keyi1e"), "bencode: dictionary not ended at offset 9");
    EXPECT_EQ(decode_error("d3:key"), "bencode: value missing at offset 6");
    EXPECT_EQ(decode_error("di1ei2ee"), "bencode: malformed number at offset 1");
    // Octets that start no value.
    EXPECT_EQ(decode_error("e"), "bencode: unexpected character at offset 0");
    EXPECT_EQ(decode_error("-1:a"), "bencode: unexpected character at offset 0");
    EXPECT_EQ(decode_error(" i1e"), "bencode: unexpected character at offset 0");
    EXPECT_EQ(decode_error("lxe"), "bencode: unexpected character at offset 1");
    // One value must span all of the input.
    EXPECT_EQ(decode_error("i1ex"), "bencode: trailing octets at offset 3");
    EXPECT_EQ(decode_error("4:spam4:eggs"), "bencode: trailing octets at offset 6");
    EXPECT_EQ(decode_error("lee"), "bencode: trailing octets at offset 2");
    EXPECT_EQ(decode_error("d6:result2:oke\n"), "bencode: trailing octets at offset 14");
}

TEST(Bencode, AcceptsValuesDownToDepth32AndNoDeeper) {
    // The top value is at depth 0: 33 nested lists put the innermost at 32.
    const std::string deepest_ok = std::string(33, 'l') + std::string(33, 'e');
    EXPECT_EQ(decode_error(deepest_ok), "no error");
    const std::string too_deep = std::string(34, 'l') + std::string(34, 'e');
    EXPECT_EQ(decode_error(too_deep), "bencode: nested too deep at offset 33");
    const std::string int_at_33 = std::string(33, 'l') + "i1e" + std::string(33, 'e');
    EXPECT_EQ(decode_error(int_at_33), "bencode: nested too deep at offset 33");

    // Dictionaries count the same way.
    std::string dicts, ends;
    for (int i = 0; i < 32; ++i) {
        dicts += "d1:k";
        ends += "e";
    }
    EXPECT_EQ(bencode_decode(dicts + "i7e" + ends).dictionary[0].second.type,
              Bencode::Type::dictionary);
    EXPECT_EQ(decode_error("d1:k" + dicts + "i7e" + ends + "e"),
              "bencode: nested too deep at offset 132");
}

TEST(Bencode, ReadsNonCanonicalNumbersLeniently) {
    // BitTorrent's rules forbid "-0" and leading zeros; this reader takes
    // them as their value (rtpengine writes neither).
    EXPECT_EQ(bencode_decode("i-0e").integer, 0);
    EXPECT_EQ(bencode_decode("i007e").integer, 7);
    EXPECT_EQ(bencode_decode("03:abc").string, "abc");
}

// ---- base64 ----

TEST(Base64, Rfc4648Section10VectorsEncodeWithoutPadding) {
    EXPECT_EQ(base64_encode(octets("")), "");
    EXPECT_EQ(base64_encode(octets("f")), "Zg");
    EXPECT_EQ(base64_encode(octets("fo")), "Zm8");
    EXPECT_EQ(base64_encode(octets("foo")), "Zm9v");
    EXPECT_EQ(base64_encode(octets("foob")), "Zm9vYg");
    EXPECT_EQ(base64_encode(octets("fooba")), "Zm9vYmE");
    EXPECT_EQ(base64_encode(octets("foobar")), "Zm9vYmFy");
}

TEST(Base64, Rfc4648Section10VectorsDecodeWithAndWithoutPadding) {
    const std::array<std::array<std::string_view, 3>, 7> vectors = {{
        {"", "", ""},
        {"f", "Zg==", "Zg"},
        {"fo", "Zm8=", "Zm8"},
        {"foo", "Zm9v", "Zm9v"},
        {"foob", "Zm9vYg==", "Zm9vYg"},
        {"fooba", "Zm9vYmE=", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    }};
    for (const auto& [plain, padded, unpadded] : vectors) {
        const auto a = base64_decode(padded);
        ASSERT_TRUE(a.has_value()) << padded;
        EXPECT_EQ(*a, octets(plain)) << padded;
        const auto b = base64_decode(unpadded);
        ASSERT_TRUE(b.has_value()) << unpadded;
        EXPECT_EQ(*b, octets(plain)) << unpadded;
    }
}

TEST(Base64, RefusesWhatIsNotBase64) {
    EXPECT_FALSE(base64_decode("Zm-v").has_value());      // base64url's '-'
    EXPECT_FALSE(base64_decode("Zm_v").has_value());      // base64url's '_'
    EXPECT_FALSE(base64_decode("Zm9v Yg").has_value());   // white space
    EXPECT_FALSE(base64_decode("Zg==Zg==").has_value());  // padding inside
    EXPECT_FALSE(base64_decode("Zm9vYg\n").has_value());
    EXPECT_FALSE(base64_decode("Z").has_value());      // 6 bits: no whole octet
    EXPECT_FALSE(base64_decode("Zm9vY").has_value());  // the same after 3 octets
}

TEST(Base64, EveryOctetValueRoundTrips) {
    std::vector<uint8_t> all(256);
    for (std::size_t i = 0; i < all.size(); ++i)
        all[i] = static_cast<uint8_t>(255 - i);
    for (std::size_t len = 0; len <= all.size(); ++len) {
        const std::span<const uint8_t> in(all.data(), len);
        const std::string text = base64_encode(in);
        EXPECT_EQ(text.size(), (len * 4 + 2) / 3) << len;
        EXPECT_EQ(text.find('='), std::string::npos) << len;
        const auto back = base64_decode(text);
        ASSERT_TRUE(back.has_value()) << len;
        EXPECT_TRUE(std::equal(back->begin(), back->end(), in.begin(), in.end())) << len;
    }
}

TEST(Base64, SdesMasterKeyAndSaltRoundTrip) {
    // 30 octets (AES_CM_128_HMAC_SHA1_80) are 40 characters, no padding.
    const auto key = base64_decode(kRfc4568Key);
    ASSERT_TRUE(key.has_value());
    ASSERT_EQ(key->size(), 30u);
    EXPECT_TRUE(std::equal(key->begin(), key->end(), kRfc4568KeySalt.begin()));
    EXPECT_EQ(base64_encode(kRfc4568KeySalt), kRfc4568Key);

    std::array<uint8_t, 30> counting{};
    for (std::size_t i = 0; i < counting.size(); ++i)
        counting[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(base64_encode(counting), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd");
    // 28 octets (AEAD_AES_128_GCM) are 38 characters unpadded, 40 padded.
    const std::span<const uint8_t> gcm(counting.data(), 28);
    EXPECT_EQ(base64_encode(gcm), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw");
    const auto padded = base64_decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==");
    ASSERT_TRUE(padded.has_value());
    EXPECT_TRUE(std::equal(padded->begin(), padded->end(), gcm.begin(), gcm.end()));
}

// ---- parse_sdp_audio ----

TEST(SdpAudio, ReadsRtpenginesAnswerWithMediaLevelConnection) {
    for (const std::string& sdp :
         {std::string(kAnswerTowardA), lf_only(std::string(kAnswerTowardA))}) {
        const SdpAudio audio = parse_sdp_audio(sdp);
        EXPECT_EQ(ip_of(audio), "198.51.100.7");  // media-level c=, not the session's
        EXPECT_EQ(audio.port, 30000);
        EXPECT_EQ(audio.proto, "RTP/SAVP");
        ASSERT_TRUE(audio.crypto.has_value());
        EXPECT_EQ(audio.crypto->suite, SrtpSuite::aes_cm_128_hmac_sha1_80);  // the first
        EXPECT_EQ(audio.crypto->key_salt, kRfc4568KeySalt);
    }
}

// The session-level c= is the one before the first m= line: another
// stream's c= (even IPv6) is not the audio's.
TEST(SdpAudio, AnotherStreamsConnectionIsNotTheSessions) {
    const SdpAudio audio = parse_sdp_audio(
        "v=0\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n"
        "m=video 30002 RTP/AVP 96\r\nc=IN IP6 2001:db8::1\r\n"
        "m=audio 30000 RTP/AVP 0\r\n");
    EXPECT_EQ(ip_of(audio), "203.0.113.1");
    EXPECT_EQ(audio.port, 30000);
}

TEST(SdpAudio, FallsBackToSessionLevelConnection) {
    const SdpAudio audio = parse_sdp_audio(
        "v=0\n"
        "o=- 1 1 IN IP4 203.0.113.1\n"
        "s=-\n"
        "c=IN IP4 203.0.113.1\n"
        "t=0 0\n"
        "m=audio 41000 RTP/AVP 0 8\n"
        "a=sendrecv\n");
    EXPECT_EQ(ip_of(audio), "203.0.113.1");
    EXPECT_EQ(audio.port, 41000);
    EXPECT_EQ(audio.proto, "RTP/AVP");
    EXPECT_FALSE(audio.crypto.has_value());
    // A multicast-style address with a TTL, no line end after the last line.
    EXPECT_EQ(ip_of(parse_sdp_audio("c=IN IP4 233.252.0.1/127\r\nm=audio 5004 RTP/AVP 0")),
              "233.252.0.1");
}

TEST(SdpAudio, ReadsOnlyTheFirstAudioStream) {
    const SdpAudio audio = parse_sdp_audio(
        "v=0\r\n"
        "c=IN IP4 203.0.113.1\r\n"
        "m=audio 30000 RTP/AVP 0\r\n"
        "m=video 30002 RTP/SAVP 96\r\n"
        "c=IN IP4 192.0.2.99\r\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
        "m=audio 30004 RTP/SAVP 0\r\n"
        "c=IN IP4 192.0.2.98\r\n");
    EXPECT_EQ(ip_of(audio), "203.0.113.1");
    EXPECT_EQ(audio.port, 30000);
    EXPECT_EQ(audio.proto, "RTP/AVP");
    EXPECT_FALSE(audio.crypto.has_value());
}

TEST(SdpAudio, SkipsCryptoSuitesItDoesNotKnow) {
    const std::string head =
        "v=0\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 30000 RTP/SAVP 0\r\n";
    // AES_256_CM_HMAC_SHA1_80 (46 octets) and the 32-bit tag variant are not
    // the bench's; the GCM line after them is.
    const SdpAudio audio = parse_sdp_audio(
        head +
        "a=crypto:1 AES_256_CM_HMAC_SHA1_80 "
        "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ\r\n"
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
        "a=crypto:3 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==\r\n");
    ASSERT_TRUE(audio.crypto.has_value());
    EXPECT_EQ(audio.crypto->suite, SrtpSuite::aead_aes_128_gcm);
    for (std::size_t i = 0; i < 28; ++i)
        EXPECT_EQ(audio.crypto->key_salt[i], i) << i;
    EXPECT_EQ(audio.crypto->key_salt[28], 0);
    EXPECT_EQ(audio.crypto->key_salt[29], 0);

    const SdpAudio none = parse_sdp_audio(
        head +
        "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n");
    EXPECT_FALSE(none.crypto.has_value());
}

TEST(SdpAudio, RefusesWhatTheBenchCannotUse) {
    EXPECT_EQ(sdp_error(""), "SDP: no m=audio line");
    EXPECT_EQ(sdp_error("v=0\r\nc=IN IP4 192.0.2.1\r\nm=video 30000 RTP/AVP 96\r\n"),
              "SDP: no m=audio line");
    EXPECT_EQ(sdp_error("v=0\r\nm=audio 30000 RTP/AVP 0\r\n"), "SDP: no c= line for the audio");
    EXPECT_EQ(sdp_error("v=0\r\nc=IN IP6 2001:db8::1\r\nm=audio 30000 RTP/AVP 0\r\n"),
              "SDP: not an IPv4 c= line: c=IN IP6 2001:db8::1");
    EXPECT_EQ(sdp_error("c=IN IP4 192.0.2.300\r\nm=audio 30000 RTP/AVP 0\r\n"),
              "SDP: bad c= address: c=IN IP4 192.0.2.300");
    // A rejected stream (port 0), a port out of range or not a number, no proto.
    for (const char* m : {"m=audio 0 RTP/AVP 0", "m=audio 70000 RTP/AVP 0", "m=audio x RTP/AVP 0",
                          "m=audio 30000"}) {
        EXPECT_EQ(sdp_error(std::string("c=IN IP4 192.0.2.1\r\n") + m + "\r\n"),
                  std::string("SDP: bad m=audio line: ") + m);
    }
    // A suite the bench knows whose key is not its length: 16 octets, a
    // character outside base64, or no inline: key at all.
    const std::string head = "c=IN IP4 192.0.2.1\r\nm=audio 30000 RTP/SAVP 0\r\n";
    EXPECT_EQ(
        sdp_error(head +
                  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODw|2^31\r\n"),
        "a=crypto key of AES_CM_128_HMAC_SHA1_80 is not 30 octets of base64: "
        "AAECAwQFBgcICQoLDA0ODw");
    EXPECT_EQ(sdp_error(head + "a=crypto:1 AEAD_AES_128_GCM "
                               "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"),
              "a=crypto key of AEAD_AES_128_GCM is not 28 octets of base64: "
              "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    EXPECT_EQ(sdp_error(head + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                               "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaV-R\r\n"),
              "a=crypto key of AES_CM_128_HMAC_SHA1_80 is not 30 octets of base64: "
              "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaV-R");
    EXPECT_EQ(sdp_error(head + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 uri:https://kms.invalid/\r\n"),
              "a=crypto without inline: key: 1 AES_CM_128_HMAC_SHA1_80 uri:https://kms.invalid/");
}

// ---- the SDPs the bench sends ----

TEST(SdesSdp, OfferReadsBackWithItsPortAndKey) {
    for (const SrtpSuite suite :
         {SrtpSuite::aes_cm_128_hmac_sha1_80, SrtpSuite::aead_aes_128_gcm}) {
        SrtpKey key;
        key.suite = suite;
        for (std::size_t i = 0; i < key.key_salt.size(); ++i)
            key.key_salt[i] = static_cast<uint8_t>(0xa0 + i);
        // 40000 differs from its byte-swapped self, so a missing ntohs shows.
        const std::string sdp = sdes_offer_sdp(endpoint("192.0.2.10", 40000), key);
        EXPECT_EQ(sdp.substr(0, 5), "v=0\r\n");
        EXPECT_EQ(sdp.substr(sdp.size() - 2), "\r\n");
        EXPECT_NE(sdp.find("\r\nm=audio 40000 RTP/SAVP 0 8\r\n"), std::string::npos) << sdp;
        EXPECT_NE(
            sdp.find(std::string("\r\na=crypto:1 ") + suite_info(suite).sdes_name + " inline:"),
            std::string::npos)
            << sdp;
        EXPECT_EQ(sdp.find('='), 1u);  // no base64 padding: every '=' is an SDP type's
        EXPECT_EQ(std::count(sdp.begin(), sdp.end(), '='),
                  std::count(sdp.begin(), sdp.end(), '\n'));

        const SdpAudio audio = parse_sdp_audio(sdp);
        EXPECT_EQ(ip_of(audio), "192.0.2.10");
        EXPECT_EQ(audio.port, 40000);
        EXPECT_EQ(audio.proto, "RTP/SAVP");
        ASSERT_TRUE(audio.crypto.has_value());
        EXPECT_EQ(audio.crypto->suite, suite);
        const std::size_t len = suite_info(suite).key_salt_len;
        EXPECT_TRUE(std::equal(key.key_salt.begin(), key.key_salt.begin() + len,
                               audio.crypto->key_salt.begin()));
        // Octets past the suite's length are not sent.
        for (std::size_t i = len; i < audio.crypto->key_salt.size(); ++i)
            EXPECT_EQ(audio.crypto->key_salt[i], 0) << i;
    }
}

TEST(SdesSdp, OfferCarriesTheKeyAsRfc4568Inline) {
    SrtpKey key;
    std::copy(kRfc4568KeySalt.begin(), kRfc4568KeySalt.end(), key.key_salt.begin());
    const std::string sdp = sdes_offer_sdp(endpoint("192.0.2.10", 40000), key);
    EXPECT_NE(
        sdp.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kRfc4568Key) + "\r\n"),
        std::string::npos)
        << sdp;
}

TEST(SdesSdp, PlainAnswerReadsBackWithoutCrypto) {
    const std::string sdp = plain_answer_sdp(endpoint("198.51.100.20", 50002));
    EXPECT_EQ(sdp.find("a=crypto"), std::string::npos);
    EXPECT_NE(sdp.find("\r\nm=audio 50002 RTP/AVP 0 8\r\n"), std::string::npos) << sdp;
    const SdpAudio audio = parse_sdp_audio(sdp);
    EXPECT_EQ(ip_of(audio), "198.51.100.20");
    EXPECT_EQ(audio.port, 50002);
    EXPECT_EQ(audio.proto, "RTP/AVP");
    EXPECT_FALSE(audio.crypto.has_value());
}

}  // namespace
}  // namespace isthmus::bench::capacity
