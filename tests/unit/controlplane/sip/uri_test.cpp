// SIP/SIPS/tel/other URIs (sip/uri.hpp) and hosts (sip/host.hpp): the parts
// of RFC 3261 19.1.1 read out of annotated examples, every rejection rule,
// to_string round trips, and the equivalence examples of RFC 3261 19.1.4.
#include "sip/uri.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sip/grammar.hpp"
#include "sip/host.hpp"

namespace isthmus::sip {
namespace {

Uri must_parse(std::string_view text) {
    auto u = parse_uri(text);
    EXPECT_TRUE(u) << text;
    EXPECT_TRUE(valid_uri(text)) << text;  // the check alone agrees
    return u ? *u : Uri{};
}

TEST(Uri, PartsOfAFullSipUri) {
    // sip: user : password @ host : port ;params ?headers
    const Uri u =
        must_parse("sip:alice:secretword@atlanta.com:5061;transport=tcp;lr?subject=x&a=b");
    EXPECT_EQ(u.scheme, UriScheme::Sip);
    EXPECT_EQ(u.user, "alice");
    EXPECT_EQ(u.password, "secretword");
    EXPECT_EQ(u.host, "atlanta.com");
    EXPECT_EQ(u.host_kind, HostKind::Name);
    EXPECT_EQ(u.port, 5061);
    ASSERT_EQ(u.params.size(), 2U);
    EXPECT_EQ(u.params[0].name, "transport");
    EXPECT_EQ(u.params[0].value, "tcp");
    EXPECT_EQ(u.params[1].name, "lr");
    EXPECT_FALSE(u.params[1].value);
    ASSERT_EQ(u.headers.size(), 2U);
    EXPECT_EQ(u.headers[0], (UriHeader{"subject", "x"}));
    EXPECT_EQ(u.headers[1], (UriHeader{"a", "b"}));
}

TEST(Uri, MinimalAndSchemeCase) {
    const Uri u = must_parse("SIPS:Example.COM");
    EXPECT_EQ(u.scheme, UriScheme::Sips);
    EXPECT_TRUE(u.user.empty());
    EXPECT_FALSE(u.password);
    EXPECT_EQ(u.host, "Example.COM");
    EXPECT_FALSE(u.port);
    EXPECT_EQ(to_string(u), "sips:Example.COM");
}

TEST(Uri, Ipv4AndIpv6Hosts) {
    const Uri v4 = must_parse("sip:bob@192.0.2.4:5060");
    EXPECT_EQ(v4.host_kind, HostKind::IPv4);
    EXPECT_EQ(v4.host, "192.0.2.4");
    const Uri v6 = must_parse("sip:[2001:db8::10]:5070;transport=ws");
    EXPECT_EQ(v6.host_kind, HostKind::IPv6);
    EXPECT_EQ(v6.host, "[2001:db8::10]");
    EXPECT_EQ(v6.port, 5070);
    EXPECT_EQ(v6.param("TRANSPORT")->value, "ws");
    const Uri mapped = must_parse("sip:alice@[::ffff:192.0.2.1]");
    EXPECT_EQ(mapped.host_kind, HostKind::IPv6);
}

TEST(Uri, WebRtcContactAndGruuStyleParams) {
    const Uri u = must_parse("sip:k3b8l2qp@df7jal23ls0d.invalid;transport=ws;ob");
    EXPECT_EQ(u.host, "df7jal23ls0d.invalid");
    EXPECT_TRUE(u.has_param("ob"));
    const Uri phone = must_parse("sip:+15551234567;npdi;rn=+15551230000@example.com;user=phone");
    EXPECT_EQ(phone.user, "+15551234567;npdi;rn=+15551230000");
    EXPECT_EQ(phone.param("user")->value, "phone");
}

TEST(Uri, EscapesAreKeptAndDecodable) {
    const Uri u = must_parse("sip:%61lice%20b@example.com;na%6De=v%41l?h%41=%3Cx%3E");
    EXPECT_EQ(u.user, "%61lice%20b");
    EXPECT_EQ(unescape(u.user), "alice b");
    EXPECT_NE(u.param("name"), nullptr);  // escaped name matches
    EXPECT_EQ(u.headers[0].value, "%3Cx%3E");
    EXPECT_EQ(to_string(u), "sip:%61lice%20b@example.com;na%6De=v%41l?h%41=%3Cx%3E");
}

TEST(Uri, TelAndOtherSchemes) {
    const Uri tel = must_parse("tel:+1-201-555-0123;phone-context=example.com");
    EXPECT_EQ(tel.scheme, UriScheme::Tel);
    EXPECT_EQ(tel.opaque, "+1-201-555-0123;phone-context=example.com");
    EXPECT_EQ(to_string(tel), "tel:+1-201-555-0123;phone-context=example.com");
    const Uri urn = must_parse("URN:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
    EXPECT_EQ(urn.scheme, UriScheme::Other);
    EXPECT_EQ(urn.other_scheme, "urn");
    EXPECT_EQ(to_string(urn), "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
    EXPECT_FALSE(urn.is_sip());
}

TEST(Uri, Rejected) {
    for (const char* bad : {
             "",                              // nothing
             "sip",                           // no colon
             "1sip:host",                     // scheme must start with a letter
             "sip:",                          // no host
             "sip:@example.com",              // empty user
             "sip::pw@example.com",           // empty user before password
             "sip:user@",                     // no host after @
             "sip:us er@example.com",         // SP in user
             "sip:user@exa mple.com",         // SP in host
             "sip:us\"er@example.com",        // '"' is not a user char
             "sip:user%4@example.com",        // short escape
             "sip:user%zz@example.com",       // bad escape
             "sip:user@-example.com",         // label starts with '-'
             "sip:user@example-.com",         // label ends with '-'
             "sip:user@example.123",          // toplabel starts with a digit
             "sip:user@1.2.3.256",            // not IPv4, not a hostname
             "sip:user@ex_ample.com",         // '_' in a hostname
             "sip:user@[2001:db8::1",         // no ']'
             "sip:user@[2001:db8:::1]",       // ":::"
             "sip:user@[1:2:3:4:5:6:7:8:9]",  // nine groups
             "sip:user@[12345::1]",           // five hex digits
             "sip:user@2001:db8::1",          // IPv6 without brackets
             "sip:user@example.com:",         // empty port
             "sip:user@example.com:65536",    // port too big
             "sip:user@example.com:5o60",     // not a port
             "sip:user@example.com;",         // empty parameter
             "sip:user@example.com;=x",       // empty parameter name
             "sip:user@example.com;lr=",      // empty parameter value
             "sip:user@example.com;a b",      // SP in a parameter
             "sip:user@example.com?",         // empty header
             "sip:user@example.com?subject",  // header without '='
             "sip:user@example.com?=x",       // header without name
             "sip:user@example.com>",         // stray '>'
             "<sip:user@example.com>",        // brackets are not part of a URI
             " sip:user@example.com",         // leading SP
             "tel:",                          // empty tel
             "tel:+1 555",                    // SP in tel
             "foo:",                          // empty opaque part
             "foo:a\"b",                      // '"' is no URI character
         }) {
        EXPECT_FALSE(parse_uri(bad)) << bad;
        EXPECT_FALSE(valid_uri(bad)) << bad;
    }
}

// Each octet in each part of a SIP URI, against the part's character set
// written out from RFC 3261 25.1 ('%' left out: it starts an escape).
TEST(Uri, EachOctetInEachPart) {
    const auto in = [](std::string_view set, char c) { return set.find(c) != set.npos; };
    for (int i = 0; i < 256; ++i) {
        const char c = static_cast<char>(i);
        if (c == '%') continue;
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || in("-_.!~*'()", c);
        const std::string o(1, c);
        // user (a ':' starts the password, '@' ends the user)
        if (c != ':' && c != '@') {
            EXPECT_EQ(valid_uri("sip:u" + o + "@h"), unreserved || in("&=+$,;?/", c)) << i;
        }
        if (c != '@') {
            EXPECT_EQ(valid_uri("sip:u:p" + o + "@h"), unreserved || in("&=+$,", c)) << i;
        }
        // a parameter's name and value (';' ends one, '?' starts the headers, '=' splits)
        if (c != ';' && c != '?' && c != '=' && c != '@') {
            EXPECT_EQ(valid_uri("sip:h;p" + o), unreserved || in("[]/:&+$", c)) << i;
            EXPECT_EQ(valid_uri("sip:h;p=v" + o), unreserved || in("[]/:&+$", c)) << i;
        }
        // a header's name and value ('&' ends one, '=' splits)
        if (c != '&' && c != '=' && c != '@') {
            EXPECT_EQ(valid_uri("sip:h?n" + o + "=v"), unreserved || in("[]/?:+$", c)) << i;
            EXPECT_EQ(valid_uri("sip:h?n=v" + o), unreserved || in("[]/?:+$", c)) << i;
        }
        // another scheme's opaque part: uric, and '[' ']'
        EXPECT_EQ(valid_uri("foo:x" + o), unreserved || in(";/?:@&=+$,[]", c)) << i;
        EXPECT_EQ(parse_uri("foo:x" + o).has_value(), valid_uri("foo:x" + o)) << i;
    }
}

TEST(Uri, ToStringRoundTrips) {
    for (const char* text : {
             "sip:alice@atlanta.com",
             "sip:alice:secretword@atlanta.com;transport=tcp",
             "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
             "sip:+1-212-555-1212:1234@gateway.com;user=phone",
             "sips:1212@gateway.com",
             "sip:alice@192.0.2.4",
             "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
             "sip:alice;day=tuesday@atlanta.com",
             "sip:[2001:db8::1]:5060;maddr=[2001:db8::2];lr",
             "sip:user@example.com.",
             "tel:+358-555-1234567;postd=pp22",
             "mailto:someone@example.com",
         }) {
        const auto u = parse_uri(text);
        ASSERT_TRUE(u) << text;
        EXPECT_EQ(to_string(*u), text);
        EXPECT_EQ(parse_uri(to_string(*u)), u);
    }
}

// RFC 3261 19.1.4, the examples of equivalent URIs.
TEST(UriEquivalent, Rfc3261Equal) {
    const std::pair<const char*, const char*> pairs[] = {
        {"sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"},
        {"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"},
        {"sip:carol@chicago.com", "sip:carol@chicago.com;security=on"},
        {"sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"},
        {"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
         "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"},
        {"sip:alice@atlanta.com?subject=project%20x&priority=urgent",
         "sip:alice@atlanta.com?priority=urgent&subject=project%20x"},
        {"sip:alice@[2001:db8::1]", "sip:alice@[2001:DB8:0:0:0:0:0:1]"},
    };
    for (const auto& [a, b] : pairs) {
        EXPECT_TRUE(uri_equivalent(must_parse(a), must_parse(b))) << a << " vs " << b;
        EXPECT_TRUE(uri_equivalent(must_parse(b), must_parse(a))) << b << " vs " << a;
    }
}

// RFC 3261 19.1.4, the examples of URIs that are not equivalent, and more.
TEST(UriEquivalent, Rfc3261NotEqual) {
    const std::pair<const char*, const char*> pairs[] = {
        {"SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"},  // user
        {"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"},                               // port
        {"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"},           // transport
        {"sip:bob@biloxi.com", "sip:bob@biloxi.com?Subject=next%20meeting"},  // header
        {"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"},              // name vs address
        {"sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"},
        {"sip:alice@atlanta.com", "sips:alice@atlanta.com"},     // scheme
        {"sip:alice:a@atlanta.com", "sip:alice:b@atlanta.com"},  // password
        {"sip:alice@atlanta.com", "sip:alice:x@atlanta.com"},    // password presence
        {"sip:a%3Bb@atlanta.com", "sip:a;b@atlanta.com"},        // reserved escape stays distinct
        {"sip:alice@atlanta.com;maddr=192.0.2.1", "sip:alice@atlanta.com"},
        {"sip:alice@atlanta.com;ttl=1", "sip:alice@atlanta.com;ttl=2"},
        {"tel:+1555", "sip:+1555@example.com"},
    };
    for (const auto& [a, b] : pairs) {
        EXPECT_FALSE(uri_equivalent(must_parse(a), must_parse(b))) << a << " vs " << b;
        EXPECT_FALSE(uri_equivalent(must_parse(b), must_parse(a))) << b << " vs " << a;
    }
}

// Found by the fuzzer: with a parameter given twice, the first occurrence
// counts on both sides, so a URI stays equivalent to itself.
TEST(UriEquivalent, DuplicateParameterFirstOccurrenceCounts) {
    const Uri u = must_parse("sip:bob@[2002:db8::20]:5060;transport=u20]:5060;transport=udp");
    ASSERT_EQ(u.params.size(), 2U);
    EXPECT_EQ(u.param("transport")->value, "u20]:5060");
    EXPECT_TRUE(uri_equivalent(u, u));
    const Uri v = must_parse("sip:a@b;x=1;x=2");
    EXPECT_TRUE(uri_equivalent(v, v));
    EXPECT_TRUE(uri_equivalent(v, must_parse("sip:a@b;x=1")));
    EXPECT_FALSE(uri_equivalent(v, must_parse("sip:a@b;x=2")));
}

TEST(UriEquivalent, TelAndOther) {
    EXPECT_TRUE(uri_equivalent(must_parse("tel:+1-555;phone-context=EXAMPLE.com"),
                               must_parse("TEL:+1-555;Phone-Context=example.com")));
    EXPECT_TRUE(uri_equivalent(must_parse("urn:x:%41"), must_parse("URN:x:a")));
    EXPECT_FALSE(uri_equivalent(must_parse("urn:x:a"), must_parse("urx:x:a")));
}

TEST(Host, Classify) {
    EXPECT_EQ(classify_host("example.com"), HostKind::Name);
    EXPECT_EQ(classify_host("a"), HostKind::Name);
    EXPECT_EQ(classify_host("a-b.c-d.example."), HostKind::Name);
    EXPECT_EQ(classify_host("0.0.0.0"), HostKind::IPv4);
    EXPECT_EQ(classify_host("255.255.255.255"), HostKind::IPv4);
    EXPECT_EQ(classify_host("[::]"), HostKind::IPv6);
    EXPECT_EQ(classify_host("[::1]"), HostKind::IPv6);
    EXPECT_EQ(classify_host("[1::]"), HostKind::IPv6);
    EXPECT_EQ(classify_host("[1:2:3:4:5:6:7:8]"), HostKind::IPv6);
    EXPECT_EQ(classify_host("[1:2:3:4:5:6:1.2.3.4]"), HostKind::IPv6);
    for (const char* bad : {"",
                            ".",
                            "..",
                            "a..b",
                            "-a",
                            "a-",
                            "1.2.3",
                            "1.2.3.4.5",
                            "01234.1.1.1",
                            "[]",
                            "[:]",
                            "[:::]",
                            "[1:2:3:4:5:6:7]",
                            "[1::2::3]",
                            "[1:]",
                            "[::1",
                            "::1",
                            "[1:2:3:4:5:6:7:1.2.3.4]",
                            "[::1.2.3.256]",
                            "[::g]"})
        EXPECT_FALSE(classify_host(bad)) << bad;
}

// scan_valid_host (one pass) says what scan_host and classify_host say
// together: over every string of up to 5 octets from an alphabet of label
// octets, dots, delimiters and others, at offsets 0 and 1, and over longer
// cases (addresses near the bounds, ports and parameters after the host).
TEST(Host, ScanValidHostIsScanThenClassify) {
    const auto both = [](std::string_view s, std::size_t pos) {
        const std::size_t end = scan_host(s, pos);
        if (end == std::string_view::npos) return std::pair{end, HostKind::Name};
        const auto kind = classify_host(s.substr(pos, end - pos));
        return kind ? std::pair{end, *kind} : std::pair{std::string_view::npos, HostKind::Name};
    };
    const auto check = [&](std::string_view s, std::size_t pos) {
        HostKind kind = HostKind::Name;
        const std::size_t end = scan_valid_host(s, pos, kind);
        const auto [want_end, want_kind] = both(s, pos);
        ASSERT_EQ(end, want_end) << "'" << s << "' at " << pos;
        if (end != std::string_view::npos) {
            ASSERT_EQ(kind, want_kind) << "'" << s << "'";
        }
    };
    // Letters of both cases, digits, '-', '.', the delimiters (HTAB too),
    // '[' and ']', and octets in no host ('_', '%', '@', one above 0x7f).
    const std::string alphabet = "aZ09-.:;[]_ ,?\t%@\x80";
    std::vector<std::string> level = {""};
    for (int length = 1; length <= 4; ++length) {
        std::vector<std::string> next;
        for (const std::string& prefix : level)
            for (char c : alphabet)
                next.push_back(prefix + c);
        for (const std::string& s : next) {
            check(s, 0);
            check(s, 1);
        }
        level = std::move(next);
    }
    // Five octets from a smaller alphabet (labels, dots, a delimiter).
    level = {""};
    for (int length = 1; length <= 5; ++length) {
        std::vector<std::string> next;
        for (const std::string& prefix : level)
            for (char c : std::string_view("aZ0-.:\x80"))
                next.push_back(prefix + c);
        if (length == 5) {
            for (const std::string& s : next)
                check(s, 0);
        }
        level = std::move(next);
    }
    // Dotted quads and near misses: four (or three, or five) parts from a
    // set of numbers at and past the bounds, then nothing, a dot, a letter
    // or a port.
    const std::vector<std::string> parts = {"",   "0",   "1",   "00",  "01",   "9", "10",
                                            "99", "255", "256", "999", "0255", "1a"};
    for (const std::string& a : parts)
        for (const std::string& b : parts)
            for (const std::string& c : parts)
                for (const std::string& d : parts)
                    for (const char* tail : {"", ".", "a", ":5060", ".1", ";lr"}) {
                        check(a + "." + b + "." + c + "." + d + tail, 0);
                        check(a + "." + b + "." + c + tail, 0);
                    }
    for (const char* s : {"example.com",
                          "example.com.",
                          "example.com..",
                          "a-b.c-d.example:5060",
                          "0.0.0.0",
                          "255.255.255.255",
                          "256.1.1.1",
                          "1.2.3.4.",
                          "01.2.3.4",
                          "1.2.3.4;lr",
                          "1.2.3.04",
                          "1.2.3",
                          "1a.example",
                          "a.1b",
                          "a.b1",
                          "a.-b",
                          "a-.b",
                          "[::1]:5060",
                          "[::1]x",
                          "[::1",
                          "[1:2:3:4:5:6:1.2.3.4];x",
                          "x.invalid?h=1",
                          "host name",
                          "a\tb"}) {
        check(s, 0);
    }
}

// HostMatcher (our own host, parsed once) says what classify_host and
// host_equivalent say together, for every pair of a set of hosts.
TEST(Host, MatcherIsHostEquivalent) {
    const std::vector<std::string> hosts = {"pcscf.example.net",
                                            "PCSCF.Example.NET",
                                            "pcscf.example.net.",
                                            "other.example.net",
                                            "198.18.0.1",
                                            "198.18.000.001",
                                            "198.18.0.2",
                                            "[2001:db8::1]",
                                            "[2001:DB8:0::1]",
                                            "[2001:db8::2]",
                                            "[::ffff:198.18.0.1]",
                                            "bad_host",
                                            "",
                                            "[2001:db8::1",
                                            "1.2.3.4.5",
                                            "-x.example"};
    for (const std::string& ours : hosts) {
        const HostMatcher matcher(ours);
        for (const std::string& theirs : hosts) {
            const bool expected =
                classify_host(ours) && classify_host(theirs) && host_equivalent(ours, theirs);
            EXPECT_EQ(matcher.matches(theirs), expected) << ours << " vs " << theirs;
        }
    }
    EXPECT_TRUE(HostMatcher("PCSCF.example.net").matches("pcscf.EXAMPLE.net"));
    EXPECT_TRUE(HostMatcher("[2001:db8::1]").matches("[2001:DB8:0:0::1]"));
    EXPECT_FALSE(HostMatcher("198.18.0.1").matches("[::ffff:198.18.0.1]"));
}

TEST(Host, Ipv6Bytes) {
    std::array<uint8_t, 16> v{};
    ASSERT_TRUE(parse_ipv6("2001:db8::ff00:42:8329", v));
    const std::array<uint8_t, 16> want = {0x20, 0x01, 0x0d, 0xb8, 0, 0,    0,    0,
                                          0,    0,    0xff, 0x00, 0, 0x42, 0x83, 0x29};
    EXPECT_EQ(v, want);
    ASSERT_TRUE(parse_ipv6("::ffff:192.0.2.1", v));
    EXPECT_EQ(v[10], 0xff);
    EXPECT_EQ(v[12], 192);
    EXPECT_EQ(v[15], 1);
    EXPECT_TRUE(host_equivalent("[::1]", "[0:0:0:0:0:0:0:1]"));
    EXPECT_TRUE(host_equivalent("EXAMPLE.com", "example.COM"));
    EXPECT_FALSE(host_equivalent("example.com", "example.com."));
    EXPECT_FALSE(host_equivalent("[::1]", "[::2]"));
}

}  // namespace
}  // namespace isthmus::sip
