// MSRP URIs (msrp/uri.hpp): RFC 4975 9's grammar on valid and invalid
// text, each part as written, round trips, IPv6 literals, and the RFC 4975
// 6.1 comparison.
#include "msrp/uri.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace isthmus::msrp {
namespace {

Uri must_parse(std::string_view text) {
    std::string_view why;
    auto u = parse_uri(text, &why);
    EXPECT_TRUE(u.has_value()) << text << ": " << why;
    return u.value_or(Uri{});
}

std::string refusal(std::string_view text) {
    std::string_view why = "(accepted)";
    EXPECT_FALSE(parse_uri(text, &why).has_value()) << text;
    return std::string(why);
}

TEST(MsrpUri, EndpointUriHasEveryPart) {
    const Uri u = must_parse("msrp://bob.example.com:8888/9di4eae923wzd;tcp");
    EXPECT_FALSE(u.secure);
    EXPECT_EQ(u.userinfo, "");
    EXPECT_EQ(u.host, "bob.example.com");
    EXPECT_EQ(u.host_kind, HostKind::Name);
    EXPECT_EQ(u.port, 8888);
    EXPECT_EQ(u.session_id, "9di4eae923wzd");
    EXPECT_EQ(u.transport, "tcp");
    EXPECT_TRUE(u.params.empty());
}

TEST(MsrpUri, SecureSchemeIPv4AndParameters) {
    const Uri u = must_parse("MSRPS://192.0.2.7:2855/s3ss+io=n/x;tcp;p1=v1;flag");
    EXPECT_TRUE(u.secure);
    EXPECT_EQ(u.host_kind, HostKind::IPv4);
    EXPECT_EQ(u.session_id, "s3ss+io=n/x");
    ASSERT_EQ(u.params.size(), 2U);
    EXPECT_EQ(u.params[0].name, "p1");
    EXPECT_TRUE(u.params[0].has_value);
    EXPECT_EQ(u.params[0].value, "v1");
    EXPECT_EQ(u.params[1].name, "flag");
    EXPECT_FALSE(u.params[1].has_value);
    // Only the scheme's case changes in the text.
    EXPECT_EQ(to_string(u), "msrps://192.0.2.7:2855/s3ss+io=n/x;tcp;p1=v1;flag");
}

TEST(MsrpUri, IPv6Literals) {
    for (std::string_view text :
         {"msrp://[2001:db8::1]:2855/abcd;tcp", "msrp://[::1]/abcd;tcp",
          "msrp://[::ffff:192.0.2.1]:9/abcd;tcp", "msrp://[fe80:0:0:0:0:0:0:1]:1/abcd;tcp",
          "msrp://[::]:1/abcd;tcp", "msrp://[1::]:1/abcd;tcp"}) {
        const Uri u = must_parse(text);
        EXPECT_EQ(u.host_kind, HostKind::IPv6) << text;
        EXPECT_EQ(to_string(u), text);
    }
    EXPECT_EQ(must_parse("msrp://[2001:DB8::1]:2855/abcd;tcp").host, "[2001:DB8::1]");
}

TEST(MsrpUri, RelayUriWithUserinfoNoPortNoSession) {
    // RFC 4976's relay URI.
    const Uri u = must_parse("msrps://alice@intra.example.com;tcp");
    EXPECT_EQ(u.userinfo, "alice");
    EXPECT_EQ(u.host, "intra.example.com");
    EXPECT_FALSE(u.port.has_value());
    EXPECT_EQ(u.session_id, "");
    EXPECT_EQ(to_string(u), "msrps://alice@intra.example.com;tcp");
    EXPECT_EQ(must_parse("msrp://a%40b:pw;x@relay.example.net:2855;tcp").userinfo, "a%40b:pw;x");
}

TEST(MsrpUri, OtherTransportsAndCaseKeptAsWritten) {
    const Uri u = must_parse("msrp://Host.Example.COM:1/Sid;TCP");
    EXPECT_EQ(u.host, "Host.Example.COM");
    EXPECT_EQ(u.transport, "TCP");
    EXPECT_EQ(must_parse("msrp://h:1/s;ws").transport, "ws");
    EXPECT_EQ(must_parse("msrp://h:1/s;sctp").transport, "sctp");
}

TEST(MsrpUri, RoundTripsEveryForm) {
    for (std::string_view text : {
             "msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp",
             "msrps://atlanta.example.com:7654/jshA7weztas;tcp",
             "msrp://h_1.example.:1/a-b.c_d~e+f=g/h;tcp",
             "msrp://user:pass@10.0.0.1:65535/x;tcp;a;b=c",
             "msrps://[2001:db8::7]/s;tls",
             "msrp://relay.example.com;tcp",
         }) {
        const Uri u = must_parse(text);
        EXPECT_EQ(to_string(u), text);
        EXPECT_EQ(parse_uri(to_string(u)), u);
    }
}

TEST(MsrpUri, RefusesEachBrokenPart) {
    EXPECT_EQ(refusal("sip:bob@example.com"), "no \"://\" after the scheme");
    EXPECT_EQ(refusal("http://h:1/s;tcp"), "scheme not msrp or msrps");
    EXPECT_EQ(refusal("msrp://h:1/s"), "no ;transport");
    EXPECT_EQ(refusal("msrp://h:1/s;"), "empty transport");
    EXPECT_EQ(refusal("msrp://h:1/s;t-c"), "transport: bad character");
    EXPECT_EQ(refusal("msrp://h:65536/s;tcp"), "bad port");
    EXPECT_EQ(refusal("msrp://h:/s;tcp"), "bad port");
    EXPECT_EQ(refusal("msrp://h:12a/s;tcp"), "bad port");
    EXPECT_EQ(refusal("msrp://:1/s;tcp"), "no host");
    EXPECT_EQ(refusal("msrp://h/;tcp"), "empty session-id");
    EXPECT_EQ(refusal("msrp://h/se ss;tcp"), "session-id: bad character");
    EXPECT_EQ(refusal("msrp://h/se%20ss;tcp"), "session-id: bad character");
    EXPECT_EQ(refusal("msrp://h/s!d;tcp"), "session-id: bad character");
    EXPECT_EQ(refusal("msrp://h/s@d;tcp"), "session-id: bad character");  // not a userinfo
    EXPECT_EQ(refusal("msrp://ho$t:1/s;tcp"), "bad host name");
    EXPECT_EQ(refusal("msrp://a..b:1/s;tcp"), "bad host name");
    EXPECT_EQ(refusal("msrp://256.1.1.1:1/s;tcp"), "bad IPv4 address");
    EXPECT_EQ(refusal("msrp://1.2.3:1/s;tcp"), "bad IPv4 address");
    EXPECT_EQ(refusal("msrp://[1:2:3]:1/s;tcp"), "bad IPv6 literal");
    EXPECT_EQ(refusal("msrp://[::1:1/s;tcp"), "bad IPv6 literal");
    EXPECT_EQ(refusal("msrp://[1::2::3]/s;tcp"), "bad IPv6 literal");
    EXPECT_EQ(refusal("msrp://[12345::]/s;tcp"), "bad IPv6 literal");
    EXPECT_EQ(refusal("msrp://@h:1/s;tcp"), "bad userinfo");
    EXPECT_EQ(refusal("msrp://a%4@h:1/s;tcp"), "bad userinfo");
    EXPECT_EQ(refusal("msrp://h:1/s;tcp;=v"), "URI parameter: bad name");
    EXPECT_EQ(refusal("msrp://h:1/s;tcp;n="), "URI parameter: bad value");
    EXPECT_EQ(refusal("msrp://h:1/s;tcp;n=\"q\""), "URI parameter: bad value");
    EXPECT_EQ(refusal(""), "no \"://\" after the scheme");
}

TEST(MsrpUri, ParseIpv6Values) {
    const auto a = parse_ipv6("2001:db8::1");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ((*a)[0], 0x20);
    EXPECT_EQ((*a)[1], 0x01);
    EXPECT_EQ((*a)[15], 0x01);
    EXPECT_EQ(parse_ipv6("::ffff:192.0.2.1"), parse_ipv6("::ffff:c000:201"));
    EXPECT_EQ(parse_ipv6("0:0:0:0:0:0:0:1"), parse_ipv6("::1"));
    EXPECT_FALSE(parse_ipv6(""));
    EXPECT_FALSE(parse_ipv6(":1::"));
    EXPECT_FALSE(parse_ipv6("1:2:3:4:5:6:7:8:9"));
    EXPECT_FALSE(parse_ipv6("1:2:3:4:5:6:7::8"));  // "::" must stand for at least one group
    EXPECT_FALSE(parse_ipv6("1:2:3:4:5:6:7:"));
    EXPECT_FALSE(parse_ipv6("::1.2.3.4:5"));
    EXPECT_FALSE(parse_ipv6("g::1"));
}

// RFC 4975 6.1.
TEST(MsrpUri, ComparisonSchemeHostPortSessionTransport) {
    const Uri base = must_parse("msrp://bob.example.com:8888/9di4eae923wzd;tcp");
    // Host and transport case-insensitive, scheme case-insensitive.
    EXPECT_TRUE(uri_equal(base, must_parse("MSRP://BOB.example.COM:8888/9di4eae923wzd;TCP")));
    // A trailing dot names the same host.
    EXPECT_TRUE(uri_equal(base, must_parse("msrp://bob.example.com.:8888/9di4eae923wzd;tcp")));
    // Session-id case-sensitive.
    EXPECT_FALSE(uri_equal(base, must_parse("msrp://bob.example.com:8888/9DI4eae923wzd;tcp")));
    // Scheme.
    EXPECT_FALSE(uri_equal(base, must_parse("msrps://bob.example.com:8888/9di4eae923wzd;tcp")));
    // Port: different, or absent on one side.
    EXPECT_FALSE(uri_equal(base, must_parse("msrp://bob.example.com:8889/9di4eae923wzd;tcp")));
    EXPECT_FALSE(uri_equal(base, must_parse("msrp://bob.example.com/9di4eae923wzd;tcp")));
    // Session-id absent on one side.
    EXPECT_FALSE(uri_equal(base, must_parse("msrp://bob.example.com:8888;tcp")));
    // Transport.
    EXPECT_FALSE(uri_equal(base, must_parse("msrp://bob.example.com:8888/9di4eae923wzd;ws")));
    // Userinfo and parameters are not compared.
    EXPECT_TRUE(uri_equal(base, must_parse("msrp://u@bob.example.com:8888/9di4eae923wzd;tcp;x=1")));
}

TEST(MsrpUri, ComparisonOfAddressesByValue) {
    EXPECT_TRUE(uri_equal(must_parse("msrp://[2001:db8::1]:1/s;tcp"),
                          must_parse("msrp://[2001:0DB8:0:0:0:0:0:1]:1/s;tcp")));
    EXPECT_FALSE(uri_equal(must_parse("msrp://[2001:db8::1]:1/s;tcp"),
                           must_parse("msrp://[2001:db8::2]:1/s;tcp")));
    EXPECT_TRUE(uri_equal(must_parse("msrp://192.0.2.1:1/s;tcp"),
                          must_parse("msrp://192.000.2.001:1/s;tcp")));
    // A name never equals an address, even one that resolves to it.
    EXPECT_FALSE(
        uri_equal(must_parse("msrp://localhost:1/s;tcp"), must_parse("msrp://127.0.0.1:1/s;tcp")));
}

}  // namespace
}  // namespace isthmus::msrp
