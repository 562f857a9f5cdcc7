// The P-CSCF's header rules as pure functions: Via received/rport (RFC 3261
// 18.2.1, RFC 3581), field placement, option tags, the headers a UE may
// not set and those that never reach it, P-Preferred / P-Asserted-Identity,
// icid-value, P-Charging-Vector and P-Visited-Network-ID.
#include "pcscf/p_headers.hpp"

#include <gtest/gtest.h>

#include <set>

#include "sip/parser.hpp"

namespace isthmus::pcscf {
namespace {

sip::Message with_via(std::string_view via) {
    sip::Message m = sip::make_request("OPTIONS", *sip::parse_uri("sip:x@example.net"));
    m.add("Via", via);
    m.add("Via", "SIP/2.0/UDP second.example.net;branch=z9hG4bK-2");
    m.add("CSeq", "1 OPTIONS");
    return m;
}

Peer from(std::array<uint8_t, 16> address, uint16_t port) {
    Peer p;
    p.transport = Transport::Wss;
    p.address = address;
    p.port = port;
    return p;
}

TEST(PHeadersTest, AddressText) {
    EXPECT_EQ(address_text(v4_mapped(198, 51, 100, 7)), "198.51.100.7");
    std::array<uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
    v6[15] = 1;
    EXPECT_EQ(address_text(v6), "2001:db8::1");
    EXPECT_TRUE(is_unspecified({}));
    EXPECT_TRUE(is_unspecified(v4_mapped(0, 0, 0, 0)));
    EXPECT_FALSE(is_unspecified(v6));
}

TEST(PHeadersTest, InvalidHostGetsReceivedAndRport) {
    sip::Message m = with_via("SIP/2.0/WSS abc.invalid;branch=z9hG4bK-1;rport");
    ASSERT_TRUE(stamp_via_source(m, from(v4_mapped(198, 51, 100, 7), 40000)));
    const auto vias = m.headers("Via");
    ASSERT_EQ(vias.size(), 2u);
    EXPECT_EQ(vias[0],
              "SIP/2.0/WSS abc.invalid;branch=z9hG4bK-1;rport=40000;received=198.51.100.7");
    EXPECT_EQ(vias[1], "SIP/2.0/UDP second.example.net;branch=z9hG4bK-2");
}

TEST(PHeadersTest, ReceivedOnlyWhenTheSentByIsNotTheSource) {
    sip::Message same = with_via("SIP/2.0/UDP 198.18.0.11:5060;branch=z9hG4bK-1");
    ASSERT_TRUE(stamp_via_source(same, from(v4_mapped(198, 18, 0, 11), 5060)));
    EXPECT_EQ(*same.header("Via"), "SIP/2.0/UDP 198.18.0.11:5060;branch=z9hG4bK-1");
    sip::Message other = with_via("SIP/2.0/UDP 198.18.0.11:5060;branch=z9hG4bK-1");
    ASSERT_TRUE(stamp_via_source(other, from(v4_mapped(198, 18, 0, 12), 5060)));
    EXPECT_EQ(*other.header("Via"),
              "SIP/2.0/UDP 198.18.0.11:5060;branch=z9hG4bK-1;received=198.18.0.12");
    std::array<uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
    v6[15] = 1;
    sip::Message six = with_via("SIP/2.0/TCP [2001:DB8::1];branch=z9hG4bK-1;rport");
    ASSERT_TRUE(stamp_via_source(six, from(v6, 5070)));
    EXPECT_EQ(*six.header("Via"), "SIP/2.0/TCP [2001:DB8::1];branch=z9hG4bK-1;rport=5070");
}

TEST(PHeadersTest, AnUnknownSourceOrABadViaChangesNothing) {
    sip::Message m = with_via("SIP/2.0/WSS abc.invalid;branch=z9hG4bK-1;rport");
    const sip::Message before = m;
    EXPECT_TRUE(stamp_via_source(m, from({}, 0)));
    EXPECT_EQ(m, before);
    sip::Message bad = with_via("SIP/2.0 nonsense");
    EXPECT_FALSE(stamp_via_source(bad, from(v4_mapped(1, 2, 3, 4), 1)));
    sip::Message none = sip::make_request("OPTIONS", *sip::parse_uri("sip:x@example.net"));
    EXPECT_FALSE(stamp_via_source(none, from(v4_mapped(1, 2, 3, 4), 1)));
}

TEST(PHeadersTest, FieldsArePutWhereAReaderLooks) {
    sip::Message m = with_via("SIP/2.0/UDP a;branch=z9hG4bK-1");
    m.add("Content-Length", "0");
    put_field(m, "Route", "<sip:r1;lr>");  // none yet: after the last Via
    put_field(m, "Route", "<sip:r2;lr>");  // after the last Route
    put_first(m, "Record-Route", "<sip:b;lr>");
    put_first(m, "Record-Route", "<sip:a;lr>");  // before the first
    std::vector<std::string> names;
    for (const sip::HeaderField& f : m.fields)
        names.push_back(f.name);
    EXPECT_EQ(names, (std::vector<std::string>{"Via", "Via", "Record-Route", "Record-Route",
                                               "Route", "Route", "CSeq", "Content-Length"}));
    EXPECT_EQ(m.headers("Route"), (std::vector<std::string_view>{"<sip:r1;lr>", "<sip:r2;lr>"}));
    EXPECT_EQ(m.headers("Record-Route"),
              (std::vector<std::string_view>{"<sip:a;lr>", "<sip:b;lr>"}));
}

TEST(PHeadersTest, OptionTags) {
    sip::Message m = with_via("SIP/2.0/UDP a;branch=z9hG4bK-1");
    m.add("Supported", "outbound, PATH");
    m.add("k", "gruu");  // compact Supported
    EXPECT_TRUE(has_option_tag(m, "Supported", "path"));
    EXPECT_TRUE(has_option_tag(m, "Supported", "gruu"));
    EXPECT_FALSE(has_option_tag(m, "Supported", "timer"));
    EXPECT_FALSE(has_option_tag(m, "Require", "path"));
}

TEST(PHeadersTest, WhatAUeMayNotSetAndWhatNeverReachesIt) {
    sip::Message m = with_via("SIP/2.0/UDP a;branch=z9hG4bK-1");
    for (std::string_view name :
         {"P-Asserted-Identity", "P-Preferred-Identity", "P-Charging-Vector",
          "P-Charging-Function-Addresses", "P-Visited-Network-ID", "P-Served-User", "P-Profile-Key",
          "P-Asserted-Service", "P-Access-Network-Info", "P-Early-Media"}) {
        m.add(name, "x");
    }
    sip::Message toward_ue = m;
    remove_untrusted_from_ue(m);
    for (const sip::HeaderField& f : m.fields)
        EXPECT_TRUE(f.name == "Via" || f.name == "CSeq" || f.name == "P-Access-Network-Info" ||
                    f.name == "P-Early-Media")
            << f.name;
    remove_charging_toward_ue(toward_ue);
    EXPECT_EQ(toward_ue.field_count("P-Charging-Vector"), 0u);
    EXPECT_EQ(toward_ue.field_count("P-Charging-Function-Addresses"), 0u);
    EXPECT_EQ(toward_ue.field_count("P-Asserted-Identity"), 1u);
}

TEST(PHeadersTest, PreferredAndAssertedIdentities) {
    sip::Message m = with_via("SIP/2.0/UDP a;branch=z9hG4bK-1");
    m.add("P-Preferred-Identity", "\"Alice\" <sip:alice@example.net>, <tel:+15551234567>");
    m.add("P-Preferred-Identity", "not a uri at all <");
    const auto ids = preferred_identities(m);
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(sip::to_string(ids[0]), "sip:alice@example.net");
    EXPECT_EQ(sip::to_string(ids[1]), "tel:+15551234567");
    const auto na = sip::parse_name_addr("\"Alice\" <sip:alice@example.net>;tag=x");
    EXPECT_EQ(asserted_identity_value(*na), "\"Alice\" <sip:alice@example.net>");
    const auto bare = sip::parse_name_addr("sip:bob@example.net");
    EXPECT_EQ(asserted_identity_value(*bare), "<sip:bob@example.net>");
}

TEST(PHeadersTest, ChargingVectorAndVisitedNetwork) {
    EXPECT_EQ(make_icid(0x0123456789abcdefull, 0x2a), "0123456789abcdef.2a");
    std::set<std::string> icids;
    for (uint64_t c = 0; c < 100; ++c)
        icids.insert(make_icid(7, c));
    EXPECT_EQ(icids.size(), 100u);
    EXPECT_EQ(charging_vector("abc.1", "pcscf.example.net"),
              "icid-value=abc.1;orig-ioi=pcscf.example.net");
    EXPECT_EQ(charging_vector("abc.1", ""), "icid-value=abc.1");
    EXPECT_EQ(visited_network_value("visited.example.net"), "visited.example.net");
    EXPECT_EQ(visited_network_value("Visited \"Network\" A"), "\"Visited \\\"Network\\\" A\"");
    // What we write parses as a generic parameter list.
    sip::Message m = with_via("SIP/2.0/UDP a;branch=z9hG4bK-1");
    m.add("P-Charging-Vector", charging_vector(make_icid(1, 2), "ioi"));
    EXPECT_EQ(*m.header("P-Charging-Vector"), "icid-value=0000000000000001.2;orig-ioi=ioi");
}

}  // namespace
}  // namespace isthmus::pcscf
