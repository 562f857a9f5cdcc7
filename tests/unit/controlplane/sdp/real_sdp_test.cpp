// Typed reads over real descriptions (tests/unit/controlplane/sdp/data):
// browser offers and answers with BUNDLE, rtcp-mux, ICE, DTLS and data
// channels; VoLTE/ViLTE offers and answers with AMR-WB/AMR/EVS,
// telephone-event, preconditions, b=AS/RS/RR, a=rtcp, RTP/SAVP with SDES.
// Every line of each one must come back byte for byte (serializer_test.cpp);
// here, what the IMS-ALG will read from them.
#include <gtest/gtest.h>

#include <string>

#include "sdp/attributes.hpp"
#include "sdp/candidate.hpp"
#include "sdp/crypto.hpp"
#include "sdp_test_util.hpp"

namespace isthmus::sdp {
namespace {

using test::data;
using test::parse_ok;

// Every value of `name` in the section parses with `parse`.
template <typename Parse>
std::size_t count_parsed(const Section& s, std::string_view name, Parse parse) {
    std::size_t n = 0;
    for (const Attribute& a : s.attributes(name)) {
        EXPECT_TRUE(a.value && parse(*a.value)) << name << ":" << a.value.value_or("");
        ++n;
    }
    return n;
}

TEST(RealSdp, ChromeOffer) {
    const SessionDescription d = parse_ok(data("chrome_offer.sdp"));
    ASSERT_EQ(d.media.size(), 3U);
    const auto bundle = bundle_groups(d.session);
    ASSERT_EQ(bundle.size(), 1U);
    EXPECT_EQ(bundle[0].mids, (std::vector<std::string>{"0", "1", "2"}));
    EXPECT_EQ(d.session.attribute("msid-semantic")->value,
              " WMS 7b3f0c52-8a1e-4d0f-9c6a-2f1e5d4c3b2a");

    const MediaDescription& audio = d.media[0];
    EXPECT_EQ(audio.m.proto, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(audio.m.port, 46243);
    EXPECT_EQ(mid(audio), "0");
    EXPECT_TRUE(audio.has_attribute("rtcp-mux"));
    EXPECT_TRUE(audio.has_attribute("rtcp-rsize"));
    EXPECT_EQ(parse_rtcp(*audio.attribute("rtcp")->value),
              (Rtcp{9, Connection{"IN", "IP4", "0.0.0.0"}}));
    EXPECT_EQ(effective_connection(d.session, audio)->address, "203.0.113.7");
    EXPECT_EQ(ice_credentials(d.session, audio),
              (IceCredentials{"EsAw", "bP+XJMM09aR8AiX1jdukzR6Y"}));
    EXPECT_EQ(parse_ice_options(*audio.attribute("ice-options")->value),
              (std::vector<std::string>{"trickle"}));
    const auto fp = parse_fingerprint(*audio.attribute("fingerprint")->value);
    ASSERT_TRUE(fp);
    EXPECT_EQ(fp->hash_function, "sha-256");
    EXPECT_EQ(fp->bytes().size(), 32U);
    EXPECT_EQ(parse_setup(*audio.attribute("setup")->value), SetupRole::ActPass);
    EXPECT_EQ(effective_direction(d.session, audio), Direction::SendRecv);

    std::vector<Candidate> cands;
    for (const Attribute& a : audio.attributes("candidate")) {
        auto c = parse_candidate(*a.value);
        ASSERT_TRUE(c) << *a.value;
        cands.push_back(*c);
    }
    ASSERT_EQ(cands.size(), 5U);
    EXPECT_EQ(cands[1].address, "5f9a2c1e-7d34-4b8e-a0c2-91d3e6f47b58.local");
    EXPECT_EQ(cands[2].extension("tcptype"), "active");
    EXPECT_EQ(cands[3].type, "srflx");
    EXPECT_EQ(cands[4].type, "relay");
    EXPECT_EQ(cands[4].related_port, 46243);

    // Every rtpmap/fmtp parses and names a format of the m= line.
    for (const MediaDescription& m : d.media) {
        for (const Attribute& a : m.attributes("rtpmap")) {
            const auto r = parse_rtpmap(*a.value);
            ASSERT_TRUE(r) << *a.value;
            EXPECT_TRUE(m.m.has_format(std::to_string(r->payload_type)));
        }
        for (const Attribute& a : m.attributes("fmtp")) {
            const auto f = parse_fmtp(*a.value);
            ASSERT_TRUE(f) << *a.value;
            EXPECT_TRUE(m.m.has_format(f->format));
        }
    }
    EXPECT_EQ(parse_rtpmap(*audio.attribute("rtpmap")->value), (RtpMap{111, "opus", 48000, "2"}));
    EXPECT_EQ(split_fmtp_parameters(parse_fmtp(*audio.attribute("fmtp")->value)->parameters),
              (std::vector<FmtpParameter>{{"minptime", "10"}, {"useinbandfec", "1"}}));

    const MediaDescription& video = d.media[1];
    EXPECT_EQ(video.m.formats.size(), 25U);
    EXPECT_EQ(count_parsed(video, "rtpmap", parse_rtpmap), 25U);
    EXPECT_EQ(video.attributes("ssrc").size(), 4U);
    EXPECT_EQ(video.attribute("ssrc-group")->value, "FID 2309441431 1318230297");
    EXPECT_EQ(video.attributes("extmap").size(), 11U);

    const MediaDescription& dc = d.media[2];
    EXPECT_EQ(dc.m.media, "application");
    EXPECT_EQ(dc.m.proto, "UDP/DTLS/SCTP");
    EXPECT_EQ(dc.m.formats, (std::vector<std::string>{"webrtc-datachannel"}));
    EXPECT_EQ(parse_sctp_port(*dc.attribute("sctp-port")->value), 5000);
    EXPECT_EQ(parse_max_message_size(*dc.attribute("max-message-size")->value), 262144U);
}

TEST(RealSdp, FirefoxOfferSessionLevelFingerprintAndBundleOnly) {
    const SessionDescription d = parse_ok(data("firefox_offer.sdp"));
    ASSERT_EQ(d.media.size(), 3U);
    // The fingerprint lives at the session level; ICE at the media level.
    EXPECT_FALSE(d.media[0].has_attribute("fingerprint"));
    EXPECT_TRUE(parse_fingerprint(*d.session.attribute("fingerprint")->value));
    EXPECT_EQ(ice_credentials(d.session, d.media[0]),
              (IceCredentials{"7c1e9a4d", "8b6f4e2a1c9d7e3f5a0b2c4d6e8f1a3b"}));
    EXPECT_EQ(d.origin()->username, "mozilla...THIS_IS_SDPARTA-128.0");
    EXPECT_EQ(count_parsed(d.media[0], "candidate", parse_candidate), 3U);
    EXPECT_TRUE(d.media[0].has_attribute("end-of-candidates"));
    EXPECT_EQ(parse_rtpmap(*d.media[0].attributes("rtpmap")[1].value),
              (RtpMap{9, "G722", 8000, "1"}));
    // bundle-only sections: port 0, still in the BUNDLE group.
    EXPECT_EQ(d.media[1].m.port, 0);
    EXPECT_TRUE(d.media[1].has_attribute("bundle-only"));
    EXPECT_EQ(bundle_groups(d.session)[0].mids, (std::vector<std::string>{"0", "1", "2"}));
    EXPECT_EQ(d.media[1].attribute("extmap")->value, "3 urn:ietf:params:rtp-hdrext:sdes:mid");
    EXPECT_EQ(d.media[1].attributes("extmap")[3].value,
              "6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay");
    EXPECT_EQ(count_parsed(d.media[1], "rtcp-fb", [](std::string_view) { return true; }), 20U);
    EXPECT_EQ(parse_max_message_size(*d.media[2].attribute("max-message-size")->value),
              1073741823U);
}

TEST(RealSdp, ChromeAnswer) {
    const SessionDescription d = parse_ok(data("chrome_answer.sdp"));
    ASSERT_EQ(d.media.size(), 3U);
    EXPECT_EQ(d.session.attribute("msid-semantic")->value, " WMS");
    EXPECT_EQ(parse_setup(*d.media[0].attribute("setup")->value), SetupRole::Active);
    EXPECT_EQ(effective_direction(d.session, d.media[0]), Direction::RecvOnly);
    EXPECT_EQ(d.media[1].m.port, 0);  // rejected video
    EXPECT_EQ(effective_direction(d.session, d.media[1]), Direction::Inactive);
    EXPECT_EQ(bundle_groups(d.session)[0].mids, (std::vector<std::string>{"0", "2"}));
    EXPECT_FALSE(d.media[0].has_attribute("candidate"));
}

TEST(RealSdp, VolteOfferAmrWbPreconditions) {
    const SessionDescription d = parse_ok(data("volte_offer.sdp"));
    ASSERT_EQ(d.media.size(), 1U);
    const MediaDescription& m = d.media[0];
    EXPECT_EQ(d.origin()->addr_type, "IP6");
    EXPECT_EQ(effective_connection(d.session, m), (Connection{"IN", "IP6", "2001:db8:c0a8:1::2a"}));
    EXPECT_EQ(d.session.find('s')->value, "SS VOIP");
    EXPECT_EQ(parse_bandwidth(d.session.find('b')->value), (Bandwidth{"AS", 49}));
    std::vector<Bandwidth> bw;
    for (std::string_view b : m.values('b'))
        bw.push_back(*parse_bandwidth(b));
    EXPECT_EQ(bw, (std::vector<Bandwidth>{{"AS", 49}, {"RS", 612}, {"RR", 1837}}));
    EXPECT_EQ(m.m.proto, "RTP/AVP");
    EXPECT_EQ(m.m.formats, (std::vector<std::string>{"116", "107", "118", "96", "111", "110"}));
    std::vector<std::string> names;
    for (const Attribute& a : m.attributes("rtpmap"))
        names.push_back(parse_rtpmap(*a.value)->encoding_name);
    EXPECT_EQ(names, (std::vector<std::string>{"AMR-WB", "AMR-WB", "AMR", "AMR", "telephone-event",
                                               "telephone-event"}));
    const auto f107 = split_fmtp_parameters(parse_fmtp(*m.attributes("fmtp")[1].value)->parameters);
    EXPECT_EQ(f107[0], (FmtpParameter{"octet-align", "1"}));
    EXPECT_EQ(parse_fmtp(*m.attributes("fmtp")[4].value), (Fmtp{"111", "0-15"}));
    // Preconditions: kept in order, verbatim.
    const auto curr = m.attributes("curr");
    ASSERT_EQ(curr.size(), 2U);
    EXPECT_EQ(curr[0].value, "qos local none");
    EXPECT_EQ(m.attributes("des")[0].value, "qos mandatory local sendrecv");
    EXPECT_EQ(m.attributes("des")[1].value, "qos optional remote sendrecv");
    EXPECT_EQ(parse_rtcp(*m.attribute("rtcp")->value), (Rtcp{1235, std::nullopt}));
    EXPECT_EQ(m.attribute("ptime")->value, "20");
    EXPECT_EQ(m.attribute("maxptime")->value, "240");
    EXPECT_EQ(direction_of(m), Direction::SendRecv);
    EXPECT_FALSE(ice_credentials(d.session, m));
}

TEST(RealSdp, VolteAnswerWithConf) {
    const SessionDescription d = parse_ok(data("volte_answer.sdp"));
    const MediaDescription& m = d.media[0];
    EXPECT_EQ(m.attribute("conf")->value, "qos remote sendrecv");
    EXPECT_EQ(m.attributes("curr")[0].value, "qos local sendrecv");
    EXPECT_EQ(parse_rtcp(*m.attribute("rtcp")->value),
              (Rtcp{40011, Connection{"IN", "IP4", "10.45.0.7"}}));
    EXPECT_EQ(d.origin()->session_version_number(), 1701948514U);
}

TEST(RealSdp, ImsSavpOfferWithSdes) {
    const SessionDescription d = parse_ok(data("ims_savp_offer.sdp"));
    const MediaDescription& m = d.media[0];
    EXPECT_EQ(m.m.proto, "RTP/SAVP");
    std::vector<Crypto> cs;
    for (const Attribute& a : m.attributes("crypto")) {
        auto c = parse_crypto(*a.value);
        ASSERT_TRUE(c) << *a.value;
        cs.push_back(*c);
    }
    ASSERT_EQ(cs.size(), 4U);
    EXPECT_EQ(cs[0].suite, "AES_CM_128_HMAC_SHA1_80");
    EXPECT_EQ(cs[0].keys[0].mki, (CryptoMki{1, 1}));
    EXPECT_EQ(cs[0].keys[0].lifetime->packets(), uint64_t{1} << 31);
    EXPECT_EQ(cs[1].tag, 2U);
    EXPECT_FALSE(cs[1].keys[0].mki);
    const std::size_t sizes[] = {30, 30, 28, 46};
    for (std::size_t i = 0; i < cs.size(); ++i)
        EXPECT_EQ(decode_base64(cs[i].keys[0].key_salt)->size(), sizes[i]) << cs[i].suite;
    EXPECT_EQ(cs[3].session_params, (std::vector<std::string>{"KDR=0", "UNENCRYPTED_SRTCP"}));
    EXPECT_EQ(m.attributes("rtpmap").size(), 6U);
    EXPECT_EQ(parse_rtpmap(*m.attribute("rtpmap")->value),
              (RtpMap{104, "AMR-WB", 16000, std::nullopt}));
}

TEST(RealSdp, ViLteOfferSessionDirectionAndVideo) {
    const SessionDescription d = parse_ok(data("vilte_offer.sdp"));
    ASSERT_EQ(d.media.size(), 2U);
    EXPECT_EQ(effective_direction(d.session, d.media[0]), Direction::SendRecv);  // session's
    EXPECT_EQ(effective_direction(d.session, d.media[1]), Direction::RecvOnly);  // its own
    EXPECT_EQ(parse_rtpmap(*d.media[0].attribute("rtpmap")->value),
              (RtpMap{127, "EVS", 16000, std::nullopt}));
    const auto evs =
        split_fmtp_parameters(parse_fmtp(*d.media[0].attribute("fmtp")->value)->parameters);
    EXPECT_EQ(evs[0], (FmtpParameter{"br", "5.9-24.4"}));
    EXPECT_EQ(evs[1], (FmtpParameter{"bw", "nb-swb"}));
    const MediaDescription& v = d.media[1];
    EXPECT_EQ(v.m.proto, "RTP/AVPF");
    const auto h264 = split_fmtp_parameters(parse_fmtp(*v.attribute("fmtp")->value)->parameters);
    ASSERT_EQ(h264.size(), 3U);
    EXPECT_EQ(h264[2].value, "Z0LAH9oBQBbpUgAAAwACAAADAHgeMGVA,aM4G4g==");
    EXPECT_EQ(v.attributes("rtcp-fb").size(), 5U);
    EXPECT_EQ(v.attribute("extmap")->value, "7 urn:3gpp:video-orientation");
    EXPECT_EQ(v.attribute("imageattr")->value, "112 send [x=640,y=480] recv [x=640,y=480]");
    EXPECT_EQ(parse_bandwidth(v.values('b')[0]), (Bandwidth{"AS", 1006}));
}

}  // namespace
}  // namespace isthmus::sdp
