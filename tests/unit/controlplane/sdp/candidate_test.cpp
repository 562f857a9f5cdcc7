// a=candidate (sdp/candidate.hpp): the RFC 8839 5.1 grammar on what Chrome,
// Firefox and the RFC send (host, mDNS, srflx, relay, TCP, IPv6,
// extensions), refusals, and to_string -> parse.
#include "sdp/candidate.hpp"

#include <gtest/gtest.h>

namespace isthmus::sdp {
namespace {

void expect_reparses(const Candidate& c) {
    const auto again = parse_candidate(to_string(c));
    ASSERT_TRUE(again) << to_string(c);
    EXPECT_EQ(*again, c);
}

TEST(Candidate, ChromeHostWithExtensions) {
    const auto c = parse_candidate(
        "1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 network-id 1 "
        "network-cost 10");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->foundation, "1467250027");
    EXPECT_EQ(c->component, 1);
    EXPECT_EQ(c->transport, "udp");
    EXPECT_EQ(c->priority, 2122260223U);
    EXPECT_EQ(c->address, "192.168.0.196");
    EXPECT_EQ(c->port, 46243);
    EXPECT_EQ(c->type, "host");
    EXPECT_FALSE(c->related_address);
    EXPECT_FALSE(c->related_port);
    ASSERT_EQ(c->extensions.size(), 3U);
    EXPECT_EQ(c->extensions[1], (CandidateExtension{"network-id", "1"}));
    EXPECT_EQ(c->extension("network-cost"), "10");
    EXPECT_FALSE(c->extension("ufrag"));
    EXPECT_EQ(to_string(*c),
              "1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 "
              "network-id 1 network-cost 10");
    expect_reparses(*c);
}

TEST(Candidate, SrflxRelayMdnsTcpIpv6) {
    const auto srflx = parse_candidate(
        "2745163389 1 udp 1686052607 203.0.113.7 46243 typ srflx raddr 192.168.0.196 rport 46243 "
        "generation 0");
    ASSERT_TRUE(srflx);
    EXPECT_EQ(srflx->type, "srflx");
    EXPECT_EQ(srflx->related_address, "192.168.0.196");
    EXPECT_EQ(srflx->related_port, 46243);
    EXPECT_EQ(srflx->extensions.size(), 1U);
    expect_reparses(*srflx);

    const auto mdns = parse_candidate(
        "3885250869 1 udp 2122194687 5f9a2c1e-7d34-4b8e-a0c2-91d3e6f47b58.local 56143 typ host "
        "generation 0 network-id 2");
    ASSERT_TRUE(mdns);
    EXPECT_EQ(mdns->address, "5f9a2c1e-7d34-4b8e-a0c2-91d3e6f47b58.local");

    const auto tcp = parse_candidate(
        "435653019 1 tcp 1845501695 192.168.0.196 9 typ host tcptype active generation 0");
    ASSERT_TRUE(tcp);
    EXPECT_EQ(tcp->port, 9);
    EXPECT_EQ(tcp->extension("tcptype"), "active");

    // Firefox: upper-case transport, no extensions, raddr 0.0.0.0 rport 0.
    const auto ff =
        parse_candidate("2 1 UDP 1686052863 198.51.100.99 54321 typ srflx raddr 0.0.0.0 rport 0");
    ASSERT_TRUE(ff);
    EXPECT_EQ(ff->transport, "UDP");
    EXPECT_EQ(ff->related_port, 0);
    EXPECT_TRUE(ff->extensions.empty());
    expect_reparses(*ff);

    // RFC 8839 5.1's IPv6 example, and a relay candidate, component 2.
    const auto v6 = parse_candidate("1 1 UDP 2130706431 fe80::6676:baff:fe9c:ee4a 8998 typ host");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->address, "fe80::6676:baff:fe9c:ee4a");
    const auto relay = parse_candidate(
        "1058932212 2 udp 41885438 198.51.100.20 61423 typ relay raddr 203.0.113.7 rport 46244");
    EXPECT_EQ(relay->component, 2);
    EXPECT_EQ(relay->type, "relay");
    // Foundations use ice-chars: '+' and '/' too, up to 32 of them.
    EXPECT_TRUE(parse_candidate("a+/B 1 UDP 1 192.0.2.1 1 typ host"));
    EXPECT_TRUE(parse_candidate(std::string(32, 'f') + " 1 UDP 1 192.0.2.1 1 typ host"));
    // Separators: runs of white space; "typ" in any case; an unknown type.
    const auto odd = parse_candidate("1  1\tUDP 1 192.0.2.1 1 TYP x-new");
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->type, "x-new");
    EXPECT_EQ(to_string(*odd), "1 1 UDP 1 192.0.2.1 1 typ x-new");
    // rport without raddr; an extension named like them after them.
    const auto rp = parse_candidate("1 1 UDP 1 192.0.2.1 1 typ prflx rport 7 raddr x");
    ASSERT_TRUE(rp);
    EXPECT_FALSE(rp->related_address);
    EXPECT_EQ(rp->related_port, 7);
    EXPECT_EQ(rp->extension("raddr"), "x");
    expect_reparses(*rp);
}

TEST(Candidate, Refusals) {
    for (const char* bad : {
             "",
             "1 1 UDP 1 192.0.2.1 1 typ",                  // no type
             "1 1 UDP 1 192.0.2.1 1 host",                 // no "typ"
             "1 1 UDP 1 192.0.2.1 1 type host",            // not "typ"
             "1-2 1 UDP 1 192.0.2.1 1 typ host",           // '-' not an ice-char
             "1 1000 UDP 1 192.0.2.1 1 typ host",          // 4 digits
             "1 x UDP 1 192.0.2.1 1 typ host",             //
             "1 1 U:DP 1 192.0.2.1 1 typ host",            // not a token
             "1 1 UDP 4294967296 192.0.2.1 1 typ host",    // priority > 2**32-1
             "1 1 UDP 1 192.0.2.1 65536 typ host",         // port
             "1 1 UDP 1 192.0.2.1 1 typ host raddr",       // odd extension
             "1 1 UDP 1 192.0.2.1 1 typ host rport x",     // rport not a port
             "1 1 UDP 1 192.0.2.1 1 typ host generation",  // extension without value
             "1 1 UDP 1 192.0.2.1 1 typ host a b c",       //
             "1 1 UDP 1 192.0.2.1 1 typ host x:y 1",       // name not a token
             "1 1 UDP 1 192.0.2.\x01 1 typ host",          // control in the address
         })
        EXPECT_FALSE(parse_candidate(bad)) << bad;
    EXPECT_FALSE(parse_candidate(std::string(33, 'f') + " 1 UDP 1 192.0.2.1 1 typ host"));
}

}  // namespace
}  // namespace isthmus::sdp
