// Step 1 of the IMS-ALG rewrite (sdp/rewrite.hpp): a browser's offer into an
// offer to the IMS, on the Chrome and Firefox offers of data/: what is
// removed, what passes unchanged, the ports, SDES toward an SRTP core, the
// plan the dataplane gets, and every refusal. Each output parses again.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "isthmus/dpif/sdes.hpp"
#include "sdp/crypto.hpp"
#include "sdp/rewrite.hpp"
#include "sdp_test_util.hpp"

namespace isthmus::sdp {
namespace {

using test::data;
using test::parse_ok;

dpif::SrtpKeys key(dpif::SdesSuite suite, uint8_t first) {
    const dpif::SdesSuiteInfo info = dpif::sdes_suite_info(suite);
    dpif::SrtpKeys k{};
    k.suite = static_cast<uint8_t>(suite);
    k.key_len = info.master_key_len;
    k.salt_len = info.master_salt_len;
    for (uint8_t j = 0; j < k.key_len; ++j)
        k.master_key[j] = static_cast<uint8_t>(first + j);
    for (uint8_t j = 0; j < k.salt_len; ++j)
        k.master_salt[j] = static_cast<uint8_t>(first + 0x80 + j);
    return k;
}

ImsSide ims_side(std::size_t lines, bool srtp = false) {
    ImsSide s;
    s.origin = {"-", "8031", "1", "IN", "IP4", "198.51.100.10"};
    s.address = {"IN", "IP4", "198.51.100.10"};
    s.srtp = srtp;
    for (std::size_t i = 0; i < lines; ++i) {
        CoreMedia m;
        m.port = static_cast<uint16_t>(30000 + 2 * i);
        if (srtp)
            m.keys = {
                key(dpif::SdesSuite::AesCm128HmacSha1_80, static_cast<uint8_t>(0x10 * i)),
                key(dpif::SdesSuite::AesCm128HmacSha1_32, static_cast<uint8_t>(0x10 * i + 8))};
        s.media.push_back(m);
    }
    return s;
}

// The rewrite succeeded and its description survives its own bytes.
SessionDescription reparsed(const RewriteResult& r) {
    EXPECT_TRUE(r.ok()) << rewrite_error_name(r.error) << ": " << r.reason;
    test::expect_stable(r.description);
    EXPECT_EQ(r.media.size(), r.description.media.size());
    return parse_ok(serialize(r.description));
}

// Whether a=<name> appears at any level of `d`.
bool anywhere(const SessionDescription& d, std::string_view name) {
    if (d.session.has_attribute(name)) return true;
    for (const MediaDescription& m : d.media)
        if (m.has_attribute(name)) return true;
    return false;
}

std::vector<std::string> values(const Section& s, std::string_view name) {
    std::vector<std::string> out;
    for (const Attribute& a : s.attributes(name))
        out.emplace_back(a.value.value_or(""));
    return out;
}

void expect_no_webrtc_lines(const SessionDescription& d) {
    for (std::string_view name : {"candidate",
                                  "end-of-candidates",
                                  "ice-ufrag",
                                  "ice-pwd",
                                  "ice-options",
                                  "ice-lite",
                                  "fingerprint",
                                  "setup",
                                  "group",
                                  "mid",
                                  "bundle-only",
                                  "rtcp-mux",
                                  "rtcp-rsize",
                                  "rtcp-fb",
                                  "msid",
                                  "msid-semantic",
                                  "ssrc",
                                  "ssrc-group",
                                  "extmap-allow-mixed",
                                  "sctp-port",
                                  "max-message-size"})
        EXPECT_FALSE(anywhere(d, name)) << "a=" << name << " left:\n" << serialize(d);
}

TEST(WebRtcOfferToIms, ChromeAudioVideoBundleDataChannel) {
    const SessionDescription offer = parse_ok(data("chrome_offer.sdp"));
    const RewriteResult r = webrtc_offer_to_ims(offer, ims_side(3));
    const SessionDescription out = reparsed(r);
    ASSERT_EQ(out.media.size(), 3U);
    expect_no_webrtc_lines(out);
    EXPECT_FALSE(anywhere(out, "crypto"));

    // Our origin and address; no c= at the media level.
    EXPECT_EQ(out.origin(), (Origin{"-", "8031", "1", "IN", "IP4", "198.51.100.10"}));
    EXPECT_EQ(out.session.values('c'), (std::vector<std::string_view>{"IN IP4 198.51.100.10"}));
    for (const MediaDescription& m : out.media)
        EXPECT_EQ(m.find('c'), nullptr);

    // Each m= line its own port pair; codecs and payload types unchanged.
    for (std::size_t i = 0; i < 2; ++i) {
        const MediaDescription& m = out.media[i];
        EXPECT_EQ(m.m.media, offer.media[i].m.media);
        EXPECT_EQ(m.m.proto, "RTP/AVP");
        EXPECT_EQ(m.m.port, 30000 + 2 * i);
        EXPECT_EQ(m.m.formats, offer.media[i].m.formats);
        EXPECT_EQ(values(m, "rtpmap"), values(offer.media[i], "rtpmap"));
        EXPECT_EQ(values(m, "fmtp"), values(offer.media[i], "fmtp"));
        EXPECT_EQ(values(m, "rtcp"), (std::vector<std::string>{std::to_string(30001 + 2 * i)}));
        EXPECT_EQ(effective_direction(out.session, m), Direction::SendRecv);
    }
    // Registered header extensions stay, the WebRTC ones go.
    EXPECT_EQ(values(out.media[0], "extmap"),
              (std::vector<std::string>{"1 urn:ietf:params:rtp-hdrext:ssrc-audio-level"}));
    EXPECT_EQ(values(out.media[1], "extmap"),
              (std::vector<std::string>{"14 urn:ietf:params:rtp-hdrext:toffset",
                                        "13 urn:3gpp:video-orientation"}));

    // The data channel: rejected, no lines, the m= line count kept.
    EXPECT_EQ(out.media[2].m.port, 0);
    EXPECT_EQ(out.media[2].m.proto, "UDP/DTLS/SCTP");
    EXPECT_EQ(out.media[2].m.formats, (std::vector<std::string>{"webrtc-datachannel"}));
    EXPECT_TRUE(out.media[2].lines.empty());
}

TEST(WebRtcOfferToIms, ChromePlan) {
    const SessionDescription offer = parse_ok(data("chrome_offer.sdp"));
    const RewriteResult r = webrtc_offer_to_ims(offer, ims_side(3));
    ASSERT_TRUE(r.ok()) << r.reason;
    ASSERT_EQ(r.media.size(), 3U);
    const IceCredentials chrome_ice{"EsAw", "bP+XJMM09aR8AiX1jdukzR6Y"};
    for (std::size_t i = 0; i < 2; ++i) {
        const MediaPlan& p = r.media[i];
        EXPECT_TRUE(p.active);
        EXPECT_EQ(p.media, i == 0 ? "audio" : "video");
        EXPECT_EQ(p.direction, Direction::SendRecv);
        EXPECT_EQ(p.formats, offer.media[i].m.formats);
        EXPECT_EQ(p.access.remote_ice, chrome_ice);
        ASSERT_TRUE(p.access.remote_fingerprint);
        EXPECT_EQ(p.access.remote_fingerprint->hash_function, "sha-256");
        const std::vector<uint8_t> fp = p.access.remote_fingerprint->bytes();
        ASSERT_EQ(fp.size(), 32U);
        EXPECT_EQ(fp[0], 0xD2);
        EXPECT_EQ(fp[31], 0x0F);
        // actpass offered: we answer passive, the dataplane is the DTLS server.
        EXPECT_EQ(p.access.dtls_role, SetupRole::Passive);
        EXPECT_TRUE(p.access.rtcp_mux);
        EXPECT_EQ(p.access.mid, std::to_string(i));
        EXPECT_EQ(p.access.bundle_transport, 0U);
        // Video has no candidates of its own: the BUNDLE transport's.
        EXPECT_EQ(p.access.remote_candidates.size(), 5U);
        EXPECT_EQ(p.access.local_port, 0);  // known with the answer (step 2)
        EXPECT_EQ(p.core.local_port, 30000 + 2 * i);
        EXPECT_EQ(p.core.local_rtcp_port, 30001 + 2 * i);
        EXPECT_FALSE(p.core.rtcp_mux);
        EXPECT_EQ(p.core.security, dpif::LegSecurity::Rtp);
        EXPECT_FALSE(p.core.remote_rtp);
    }
    EXPECT_EQ(r.media[0].access.remote_candidates[3].type, "srflx");
    EXPECT_FALSE(r.media[2].active);
    EXPECT_EQ(r.media[2].media, "application");
    EXPECT_EQ(r.media[2].access.mid, "2");
}

TEST(WebRtcOfferToIms, SrtpCoreGetsSdesKeys) {
    const SessionDescription offer = parse_ok(data("chrome_offer.sdp"));
    const ImsSide ims = ims_side(3, true);
    const RewriteResult r = webrtc_offer_to_ims(offer, ims);
    const SessionDescription out = reparsed(r);
    expect_no_webrtc_lines(out);
    for (std::size_t i = 0; i < 2; ++i) {
        const MediaDescription& m = out.media[i];
        EXPECT_EQ(m.m.proto, "RTP/SAVP");
        const std::vector<Attribute> lines = m.attributes("crypto");
        ASSERT_EQ(lines.size(), 2U);
        for (std::size_t k = 0; k < 2; ++k) {
            const auto c = parse_crypto(*lines[k].value);
            ASSERT_TRUE(c) << *lines[k].value;
            EXPECT_EQ(c->tag, k + 1);
            EXPECT_EQ(c->suite, k == 0 ? "AES_CM_128_HMAC_SHA1_80" : "AES_CM_128_HMAC_SHA1_32");
            ASSERT_EQ(c->keys.size(), 1U);
            EXPECT_EQ(c->keys[0].method, "inline");
            EXPECT_FALSE(c->keys[0].mki);
            EXPECT_TRUE(c->session_params.empty());
            // The octets are the caller's key || salt.
            const auto octets = decode_base64(c->keys[0].key_salt);
            ASSERT_TRUE(octets);
            ASSERT_EQ(octets->size(), 30U);
            const dpif::SrtpKeys& want = ims.media[i].keys[k];
            EXPECT_TRUE(std::equal(want.master_key, want.master_key + 16, octets->begin()));
            EXPECT_TRUE(std::equal(want.master_salt, want.master_salt + 14, octets->begin() + 16));
        }
        EXPECT_EQ(r.media[i].core.security, dpif::LegSecurity::Sdes);
        EXPECT_FALSE(r.media[i].core.tx);  // the IMS answer names the tag (step 2)
    }
    EXPECT_FALSE(out.media[2].has_attribute("crypto"));
}

TEST(WebRtcOfferToIms, FirefoxSessionFingerprintAndBundleOnly) {
    const SessionDescription offer = parse_ok(data("firefox_offer.sdp"));
    const RewriteResult r = webrtc_offer_to_ims(offer, ims_side(3));
    const SessionDescription out = reparsed(r);
    expect_no_webrtc_lines(out);
    // bundle-only video (port 0 in the offer) is in use: it gets a port.
    EXPECT_EQ(out.media[0].m.port, 30000);
    EXPECT_EQ(out.media[1].m.port, 30002);
    EXPECT_EQ(out.media[1].m.formats, offer.media[1].m.formats);
    EXPECT_EQ(out.media[2].m.port, 0);
    // Firefox's extmap with a direction is read by its URI.
    EXPECT_EQ(values(out.media[0], "extmap"),
              (std::vector<std::string>{"1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                                        "2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level"}));
    EXPECT_EQ(values(out.media[1], "extmap"),
              (std::vector<std::string>{"5 urn:ietf:params:rtp-hdrext:toffset"}));

    ASSERT_TRUE(r.ok());
    const MediaPlan& video = r.media[1];
    EXPECT_TRUE(video.active);
    EXPECT_EQ(video.access.remote_ice,
              (IceCredentials{"7c1e9a4d", "8b6f4e2a1c9d7e3f5a0b2c4d6e8f1a3b"}));
    ASSERT_TRUE(video.access.remote_fingerprint);
    EXPECT_EQ(video.access.remote_fingerprint->bytes()[0], 0x5B);  // session level
    EXPECT_EQ(video.access.remote_candidates.size(), 3U);          // audio's, the tag
    EXPECT_EQ(video.access.bundle_transport, 0U);
    EXPECT_FALSE(r.media[2].active);
}

TEST(WebRtcOfferToIms, CoreRtcpMuxReplacesRtcpPort) {
    ImsSide ims = ims_side(3);
    ims.rtcp_mux = true;
    const RewriteResult r = webrtc_offer_to_ims(parse_ok(data("chrome_offer.sdp")), ims);
    const SessionDescription out = reparsed(r);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_TRUE(out.media[i].has_attribute("rtcp-mux"));
        EXPECT_FALSE(out.media[i].has_attribute("rtcp"));
        EXPECT_TRUE(r.media[i].core.rtcp_mux);
        EXPECT_EQ(r.media[i].core.local_rtcp_port, 0);
    }
}

// The browser's a=setup decides our DTLS role (RFC 4145 4, RFC 5763 5).
TEST(WebRtcOfferToIms, SetupRoles) {
    const std::initializer_list<std::pair<std::optional<std::string_view>, SetupRole>> cases = {
        {"actpass", SetupRole::Passive},
        {"active", SetupRole::Passive},
        {"passive", SetupRole::Active},
        {std::nullopt, SetupRole::Passive},  // absent: the offerer is active
    };
    for (const auto& [offered, ours] : cases) {
        SessionDescription offer = parse_ok(data("chrome_offer.sdp"));
        for (MediaDescription& m : offer.media) {
            m.remove_attributes("setup");
            if (offered) m.add_attribute("setup", *offered);
        }
        const RewriteResult r = webrtc_offer_to_ims(offer, ims_side(3));
        ASSERT_TRUE(r.ok()) << r.reason;
        EXPECT_EQ(r.media[0].access.dtls_role, ours) << offered.value_or("(none)");
    }
}

// A browser re-offer after the call is up: hold (a=sendonly) passes, the
// caller's ports and origin version are taken as given.
TEST(WebRtcOfferToIms, HoldReOfferKeepsPortsAndDirection) {
    SessionDescription offer = parse_ok(data("chrome_offer.sdp"));
    set_direction(offer.media[0], Direction::SendOnly);
    set_direction(offer.media[1], Direction::Inactive);
    ImsSide ims = ims_side(3);
    ims.origin.session_version = "2";
    const RewriteResult r = webrtc_offer_to_ims(offer, ims);
    const SessionDescription out = reparsed(r);
    EXPECT_EQ(out.origin()->session_version, "2");
    EXPECT_EQ(direction_of(out.media[0]), Direction::SendOnly);
    EXPECT_EQ(direction_of(out.media[1]), Direction::Inactive);
    EXPECT_EQ(r.media[0].direction, Direction::SendOnly);
    EXPECT_EQ(out.media[0].m.port, 30000);
}

struct Refusal {
    std::string_view name;
    void (*edit)(SessionDescription&, ImsSide&);
    RewriteError error;
};

void no_fingerprint(SessionDescription& d, ImsSide&) {
    for (MediaDescription& m : d.media)
        m.remove_attributes("fingerprint");
}
void sha1_fingerprint(SessionDescription& d, ImsSide&) {
    for (MediaDescription& m : d.media)
        m.set_attribute("fingerprint",
                        "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
}
void no_ice_pwd(SessionDescription& d, ImsSide&) {
    for (MediaDescription& m : d.media)
        m.remove_attributes("ice-pwd");
}
void short_ufrag(SessionDescription& d, ImsSide&) {
    for (MediaDescription& m : d.media)
        m.set_attribute("ice-ufrag", "abc");
}
void plain_rtp(SessionDescription& d, ImsSide&) {
    d.media[1].m.proto = "RTP/AVP";
}
void tcp_media(SessionDescription& d, ImsSide&) {
    d.media[0].m.proto = "TCP/TLS/RTP/SAVPF";
}
void holdconn(SessionDescription& d, ImsSide&) {
    d.media[0].set_attribute("setup", "holdconn");
}
void bad_setup(SessionDescription& d, ImsSide&) {
    d.media[0].set_attribute("setup", "sideways");
}
void no_rtcp_mux(SessionDescription& d, ImsSide&) {
    d.media[1].remove_attributes("rtcp-mux");
    d.media[0].remove_attributes("rtcp-mux");
}
void unknown_mid(SessionDescription& d, ImsSide&) {
    d.session.set_attribute("group", "BUNDLE 0 1 7");
}
void repeated_mid(SessionDescription& d, ImsSide&) {
    d.media[1].set_attribute("mid", "0");
}
void no_media(SessionDescription& d, ImsSide&) {
    d.media.clear();
}
void data_only(SessionDescription& d, ImsSide&) {
    d.media.erase(d.media.begin(), d.media.begin() + 2);
    d.session.set_attribute("group", "BUNDLE 2");
}
void everything_rejected(SessionDescription& d, ImsSide&) {
    for (MediaDescription& m : d.media)
        m.m.port = 0;
}
void no_core_port(SessionDescription&, ImsSide& ims) {
    ims.media[1].port = 0;
}
void too_few_ports(SessionDescription&, ImsSide& ims) {
    ims.media.resize(1);
}
void port_65535(SessionDescription&, ImsSide& ims) {
    ims.media[0].port = 65535;
}
void no_core_address(SessionDescription&, ImsSide& ims) {
    ims.address.address.clear();
}
void srtp_without_keys(SessionDescription&, ImsSide& ims) {
    ims.srtp = true;
}
void srtp_bad_key(SessionDescription&, ImsSide& ims) {
    ims.srtp = true;
    for (CoreMedia& m : ims.media)
        m.keys = {key(dpif::SdesSuite::AesCm128HmacSha1_80, 1)};
    ims.media[0].keys[0].key_len = 12;
}

TEST(WebRtcOfferToIms, Refusals) {
    const std::initializer_list<Refusal> cases = {
        {"no_fingerprint", no_fingerprint, RewriteError::MissingFingerprint},
        {"sha1_fingerprint", sha1_fingerprint, RewriteError::MissingFingerprint},
        {"no_ice_pwd", no_ice_pwd, RewriteError::MissingIceCredentials},
        {"short_ufrag", short_ufrag, RewriteError::MissingIceCredentials},
        {"plain_rtp", plain_rtp, RewriteError::UnsupportedProto},
        {"tcp_media", tcp_media, RewriteError::UnsupportedProto},
        {"holdconn", holdconn, RewriteError::BadSetup},
        {"bad_setup", bad_setup, RewriteError::BadSetup},
        {"no_rtcp_mux", no_rtcp_mux, RewriteError::MissingRtcpMux},
        {"unknown_mid", unknown_mid, RewriteError::BadBundle},
        {"repeated_mid", repeated_mid, RewriteError::BadBundle},
        {"no_media", no_media, RewriteError::NoMedia},
        {"data_only", data_only, RewriteError::NoMedia},
        {"everything_rejected", everything_rejected, RewriteError::NoMedia},
        {"no_core_port", no_core_port, RewriteError::MissingResource},
        {"too_few_ports", too_few_ports, RewriteError::MissingResource},
        {"port_65535", port_65535, RewriteError::MissingResource},
        {"no_core_address", no_core_address, RewriteError::MissingResource},
        {"srtp_without_keys", srtp_without_keys, RewriteError::MissingResource},
        {"srtp_bad_key", srtp_bad_key, RewriteError::MissingResource},
    };
    for (const Refusal& c : cases) {
        SessionDescription offer = parse_ok(data("chrome_offer.sdp"));
        ImsSide ims = ims_side(3);
        c.edit(offer, ims);
        const RewriteResult r = webrtc_offer_to_ims(offer, ims);
        EXPECT_EQ(r.error, c.error) << c.name << ": " << r.reason;
        EXPECT_FALSE(r.ok()) << c.name;
        EXPECT_FALSE(r.reason.empty()) << c.name;
        EXPECT_TRUE(r.description.media.empty()) << c.name;
        EXPECT_TRUE(r.media.empty()) << c.name;
    }
}

TEST(WebRtcOfferToIms, ReasonNamesTheLine) {
    SessionDescription offer = parse_ok(data("chrome_offer.sdp"));
    offer.media[1].m.proto = "RTP/AVP";
    const RewriteResult r = webrtc_offer_to_ims(offer, ims_side(3));
    EXPECT_EQ(r.reason.rfind("m-line 1 (video): proto RTP/AVP", 0), 0U) << r.reason;
    EXPECT_EQ(rewrite_error_name(r.error), "unsupported_proto");
    EXPECT_EQ(rewrite_error_name(RewriteError::MissingResource), "missing_resource");
}

}  // namespace
}  // namespace isthmus::sdp
