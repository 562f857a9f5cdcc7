// Typed header values (sip/headers.hpp) and the generic parameters under
// them (sip/params.hpp): name-addr in every form, Via with IPv6 and rport,
// CSeq / Max-Forwards / Content-Length ranges, Call-ID words; each accepted
// value round-trips through to_string, each rejection rule has a case.
#include "sip/headers.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sip/grammar.hpp"

namespace isthmus::sip {
namespace {

NameAddr must_name_addr(std::string_view text) {
    auto na = parse_name_addr(text);
    EXPECT_TRUE(na) << text;
    EXPECT_TRUE(valid_name_addr(text)) << text;  // the check alone agrees
    if (!na) return {};
    // to_string gives a value that parses to the same thing.
    EXPECT_EQ(parse_name_addr(to_string(*na)), na) << text << " -> " << to_string(*na);
    return *na;
}

Via must_via(std::string_view text) {
    auto via = parse_via(text);
    EXPECT_TRUE(via) << text;
    EXPECT_TRUE(valid_via(text)) << text;
    // The view's own parameter lookup finds what Via's does.
    const auto view = parse_via_view(text);
    EXPECT_TRUE(view) << text;
    if (via && view) {
        EXPECT_EQ(view->branch(), via->branch()) << text;
        EXPECT_EQ(view->rport(), via->rport()) << text;
    }
    if (!via) return {};
    EXPECT_EQ(parse_via(to_string(*via)), via) << text << " -> " << to_string(*via);
    return *via;
}

TEST(NameAddr, QuotedDisplayNameAndParams) {
    const NameAddr na =
        must_name_addr("\"Alice \\\"A\\\" Liddell\" <sip:alice@atlanta.com>;tag=1928301774");
    EXPECT_TRUE(na.display_name_quoted);
    EXPECT_EQ(na.display_name, "Alice \\\"A\\\" Liddell");
    EXPECT_EQ(unquote(na.display_name), "Alice \"A\" Liddell");
    EXPECT_TRUE(na.angle_brackets);
    EXPECT_EQ(na.uri.user, "alice");
    EXPECT_EQ(na.tag(), "1928301774");
    EXPECT_EQ(to_string(na), "\"Alice \\\"A\\\" Liddell\" <sip:alice@atlanta.com>;tag=1928301774");
}

TEST(NameAddr, QuotedCommaAndAngleInDisplayName) {
    const NameAddr na = must_name_addr("\"Bell, <Alexander>\" <sip:a.g.bell@example.com>");
    EXPECT_EQ(na.display_name, "Bell, <Alexander>");
    EXPECT_EQ(na.uri.host, "example.com");
}

TEST(NameAddr, TokenDisplayNameCollapsesLws) {
    const NameAddr na = must_name_addr("  A.   G.\tBell   <sip:bell@example.com> ");
    EXPECT_FALSE(na.display_name_quoted);
    EXPECT_EQ(na.display_name, "A. G. Bell");
    EXPECT_EQ(to_string(na), "A. G. Bell <sip:bell@example.com>");
}

TEST(NameAddr, AddrSpecParamsBelongToTheHeader) {
    const NameAddr na = must_name_addr("sip:bob@biloxi.com;tag=a6c85cf;expires=60");
    EXPECT_FALSE(na.angle_brackets);
    EXPECT_TRUE(na.uri.params.empty());
    EXPECT_EQ(na.tag(), "a6c85cf");
    EXPECT_EQ(na.param("EXPIRES")->value, "60");
    EXPECT_EQ(to_string(na), "sip:bob@biloxi.com;tag=a6c85cf;expires=60");
}

TEST(NameAddr, RegistrationContactParams) {
    // RFC 5626 / RFC 7118 style Contact of a WebRTC client.
    const NameAddr na = must_name_addr(
        "<sip:k3b8@df7jal23ls0d.invalid;transport=ws;ob>;expires=600;q=0.7;reg-id=1;"
        "+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\";+g.oma.sip-im");
    EXPECT_TRUE(na.uri.has_param("ob"));
    EXPECT_EQ(na.uri.param("transport")->value, "ws");
    const Param* instance = na.param("+sip.instance");
    ASSERT_NE(instance, nullptr);
    EXPECT_TRUE(instance->quoted);
    EXPECT_EQ(instance->value, "<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>");
    EXPECT_EQ(na.param("reg-id")->value, "1");
    EXPECT_EQ(na.param("q")->value, "0.7");
    EXPECT_FALSE(na.param("+g.oma.sip-im")->value);
}

TEST(NameAddr, UriWithParamsAndHeadersKeepsBrackets) {
    NameAddr na;
    na.angle_brackets = false;
    na.uri = *parse_uri("sip:alice@example.com;lr");
    EXPECT_EQ(to_string(na), "<sip:alice@example.com;lr>");
    na.uri = *parse_uri("sip:alice;x=y@example.com");
    EXPECT_EQ(to_string(na), "<sip:alice;x=y@example.com>");
    na.uri = *parse_uri("sip:alice@example.com");
    na.display_name = "x";
    na.display_name_quoted = true;
    EXPECT_EQ(to_string(na), "\"x\" <sip:alice@example.com>");
}

TEST(NameAddr, OtherSchemesAndIpv6) {
    EXPECT_EQ(must_name_addr("<tel:+1-555-0100>").uri.scheme, UriScheme::Tel);
    EXPECT_EQ(must_name_addr("<sip:[2001:db8::1]:5060;lr>").uri.host, "[2001:db8::1]");
    EXPECT_EQ(must_name_addr("\"\" <sip:a@b.c>").display_name, "");
}

TEST(NameAddr, Rejected) {
    for (const char* bad : {
             "",                             // empty
             "*",                            // star is not a name-addr
             "\"unterminated <sip:a@b.c>",   // RFC 4475 quotbal
             "\"name\" sip:a@b.c",           // quoted name without <>
             "\"name\"",                     // no URI
             "Bell, Alexander <sip:a@b.c>",  // RFC 4475 baddn
             "<sip:a@b.c",                   // no '>'
             "< sip:a@b.c >",                // RFC 4475 badaspec
             "<sip:a@b.c> junk",             // trailing text
             "<sip:a@b.c>;",                 // empty parameter
             "<sip:a@b.c>;;tag=1",           // empty parameter (RFC 4475 badinv01)
             "<sip:a@b.c>;tag=",             // '=' without a value
             "<sip:a@b.c>;tag=\"x",          // unterminated quoted value
             "<sip:a@b.c>;tag=a b",          // SP in a value
             "<sip:a@b.c>;tag=<x>",          // '<' is neither token nor host
             "sip:a@b.c?Route=%3Csip:x%3E",  // RFC 4475 regbadct
             "sip:a@b.c, sip:d@e.f",         // two values: split first
             "<>",                           // empty URI
             "name <not a uri>",             // bad URI
         }) {
        EXPECT_FALSE(parse_name_addr(bad)) << bad;
        EXPECT_FALSE(valid_name_addr(bad)) << bad;
    }
    EXPECT_TRUE(is_star(" * "));
    EXPECT_FALSE(is_star("**"));
}

TEST(Via, Annotated) {
    // sent-protocol / sent-by host : port ; params
    const Via via = must_via(
        "SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;"
        "received=192.0.2.1;rport=5067;ttl=16;maddr=224.2.0.1");
    EXPECT_EQ(via.protocol_name, "SIP");
    EXPECT_EQ(via.protocol_version, "2.0");
    EXPECT_EQ(via.transport, "UDP");
    EXPECT_EQ(via.host, "pc33.atlanta.com");
    EXPECT_EQ(via.port, 5066);
    EXPECT_EQ(via.branch(), "z9hG4bK776asdhds");
    EXPECT_EQ(via.param("received")->value, "192.0.2.1");
    EXPECT_EQ(via.rport(), 5067);
    EXPECT_EQ(via.param("ttl")->value, "16");
    EXPECT_EQ(via.param("maddr")->value, "224.2.0.1");
}

TEST(Via, WebSocketIpv6AndValuelessRport) {
    const Via ws = must_via("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKabc;rport");
    EXPECT_EQ(ws.transport, "WSS");
    EXPECT_EQ(ws.rport(), 0);
    EXPECT_FALSE(ws.port);
    const Via v6 = must_via("SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bK1;received=2001:db8::9");
    EXPECT_EQ(v6.host, "[2001:db8::9]");
    EXPECT_EQ(v6.host_kind, HostKind::IPv6);
    EXPECT_EQ(v6.port, 5060);
    EXPECT_EQ(v6.param("received")->value, "2001:db8::9");
    EXPECT_TRUE(must_via("SIP/2.0/UDP [::1];received=[::1]").param("received"));
    EXPECT_FALSE(must_via("SIP/2.0/UDP h.example").rport());
}

TEST(Via, LwsAroundSeparators) {
    const Via via =
        must_via(" SIP / 2.0 / TCP   host.example.com : 5060 ; branch = z9hG4bKx ; rport ");
    EXPECT_EQ(via.transport, "TCP");
    EXPECT_EQ(via.port, 5060);
    EXPECT_EQ(via.branch(), "z9hG4bKx");
    EXPECT_EQ(to_string(via), "SIP/2.0/TCP host.example.com:5060;branch=z9hG4bKx;rport");
}

TEST(Via, TheViewReadsInPlace) {
    const std::string text =
        " SIP / 2.0 / WSS  Ue.Invalid : 5070 ;BRANCH=z9hG4bKa;branch=z9hG4bKb; rport = 1 ;rport;"
        "received=192.0.2.1 ";
    const auto v = parse_via_view(text);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->protocol_name, "SIP");
    EXPECT_EQ(v->protocol_version, "2.0");
    EXPECT_EQ(v->transport, "WSS");
    EXPECT_EQ(v->host, "Ue.Invalid");
    EXPECT_EQ(v->host_kind, HostKind::Name);
    EXPECT_EQ(v->port, 5070);
    EXPECT_EQ(v->params, ";BRANCH=z9hG4bKa;branch=z9hG4bKb; rport = 1 ;rport;received=192.0.2.1");
    EXPECT_EQ(v->branch(), "z9hG4bKa");  // the first, whatever the case of its name
    EXPECT_EQ(v->rport(), 1);
    ASSERT_TRUE(v->param("Received"));
    EXPECT_EQ(v->param("Received")->value, "192.0.2.1");
    EXPECT_FALSE(v->param("maddr"));
    // Views into the text, not copies.
    EXPECT_TRUE(v->host.data() > text.data() && v->host.data() < text.data() + text.size());
    EXPECT_TRUE(v->params.data() > text.data() && v->params.data() < text.data() + text.size());

    const auto bare = parse_via_view("SIP/2.0/UDP [2001:db8::9]");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->host_kind, HostKind::IPv6);
    EXPECT_FALSE(bare->port);
    EXPECT_TRUE(bare->params.empty());
    EXPECT_FALSE(bare->branch());
    EXPECT_FALSE(bare->rport());
    EXPECT_EQ(parse_via_view("SIP/2.0/UDP h;rport")->rport(), 0);
    // Made owning, the same Via as parse_via's.
    EXPECT_EQ(to_via(*v), must_via(text));
}

TEST(Via, Rejected) {
    for (const char* bad : {
             "",                                        // empty
             "SIP/2.0 host",                            // two protocol parts
             "SIP/2.0/UDP",                             // no sent-by
             "SIP/2.0/UDPhost",                         // no LWS before sent-by
             "SIP//UDP host",                           // empty version
             "SIP/2.0/UDP host:",                       // empty port
             "SIP/2.0/UDP host:99999",                  // port too big
             "SIP/2.0/UDP ho st",                       // trailing junk
             "SIP/2.0/UDP 192.0.2.15;;",                // RFC 4475 badinv01
             "SIP/2.0/UDP host;branch",                 // branch without value
             "SIP/2.0/UDP host;branch=\"x\"",           // quoted branch
             "SIP/2.0/UDP host;ttl=256",                // ttl out of range
             "SIP/2.0/UDP host;ttl=0001",               // ttl more than 3 digits
             "SIP/2.0/UDP host;received=host.example",  // received is an address
             "SIP/2.0/UDP host;received=1.2.3.4.5",     // not an address
             "SIP/2.0/UDP host;maddr=-bad-",            // maddr not a host
             "SIP/2.0/UDP host;rport=70000",            // rport not a port
             "SIP/2.0/UDP [::1",                        // no ']'
             "SIP/2.0/UDP host, SIP/2.0/UDP other",     // two values: split first
         }) {
        EXPECT_FALSE(parse_via(bad)) << bad;
        EXPECT_FALSE(valid_via(bad)) << bad;
    }
}

TEST(CSeq, Values) {
    EXPECT_EQ(parse_cseq("4711 INVITE"), (CSeq{4711, "INVITE"}));
    EXPECT_EQ(parse_cseq(" 0009   ACK "), (CSeq{9, "ACK"}));
    EXPECT_EQ(parse_cseq("4294967295 BYE"), (CSeq{4294967295U, "BYE"}));
    EXPECT_EQ(to_string(CSeq{1, "REGISTER"}), "1 REGISTER");
    for (const char* bad : {"", "INVITE", "1", "1INVITE", "-1 INVITE", "4294967296 INVITE",
                            "36893488147419103232 REGISTER", "1 INV ITE", "1 INV,ITE", "x1 A"})
        EXPECT_FALSE(parse_cseq(bad)) << bad;
}

TEST(MaxForwardsAndContentLength, Ranges) {
    EXPECT_EQ(parse_max_forwards("70")->hops, 70);
    EXPECT_EQ(parse_max_forwards("0068")->hops, 68);
    EXPECT_EQ(parse_max_forwards("255")->hops, 255);
    EXPECT_EQ(parse_max_forwards("0")->hops, 0);
    for (const char* bad : {"", "256", "300", "-1", "7 0", "seventy", "1e2"})
        EXPECT_FALSE(parse_max_forwards(bad)) << bad;
    EXPECT_EQ(to_string(MaxForwards{69}), "69");

    EXPECT_EQ(parse_content_length(" 150 ")->length, 150U);
    EXPECT_EQ(parse_content_length("0000")->length, 0U);
    EXPECT_EQ(parse_content_length("4294967295")->length, 4294967295U);
    for (const char* bad : {"", "-999", "five", "+1", "1 2", "4294967296", "99999999999999999999"})
        EXPECT_FALSE(parse_content_length(bad)) << bad;
    EXPECT_EQ(to_string(ContentLength{42}), "42");
}

TEST(CallId, Words) {
    EXPECT_TRUE(valid_call_id("a84b4c76e66710@pc33.atlanta.com"));
    EXPECT_TRUE(valid_call_id("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"));
    EXPECT_TRUE(valid_call_id("no-at-sign"));
    for (const char* bad : {"", "@host", "local@", "a@b@c", "a b", "a,b", "a;b"})
        EXPECT_FALSE(valid_call_id(bad)) << bad;
}

TEST(Params, GenericGrammar) {
    std::vector<Param> ps;
    std::size_t pos = 0;
    const std::string_view s = " ; a ; b = 1 ;C=\"x\\\"y;z\" ;d=[2001:db8::1]  , next";
    ASSERT_TRUE(parse_generic_params(s, pos, ps));
    EXPECT_EQ(s.substr(pos), ", next");
    ASSERT_EQ(ps.size(), 4U);
    EXPECT_EQ(ps[0], (Param{"a", std::nullopt, false}));
    EXPECT_EQ(ps[1], (Param{"b", "1", false}));
    EXPECT_EQ(ps[2], (Param{"C", "x\\\"y;z", true}));
    EXPECT_EQ(find_param(ps, "c"), &ps[2]);
    EXPECT_EQ(ps[3].value, "[2001:db8::1]");
    std::string out;
    append_params(out, ps);
    EXPECT_EQ(out, ";a;b=1;C=\"x\\\"y;z\";d=[2001:db8::1]");
    EXPECT_EQ(find_param(ps, "zz"), nullptr);
}

TEST(Grammar, SplitListRespectsQuotesAndBrackets) {
    const auto v = split_list(" <sip:a@b;x=1,2>;q=1 , \"x, y\" <sip:c@d> ,, sip:e@f ,");
    ASSERT_EQ(v.size(), 3U);  // empty elements are skipped
    EXPECT_EQ(v[0], "<sip:a@b;x=1,2>;q=1");
    EXPECT_EQ(v[1], "\"x, y\" <sip:c@d>");
    EXPECT_EQ(v[2], "sip:e@f");
    EXPECT_TRUE(split_list("   ").empty());
    EXPECT_TRUE(split_list(" , ,, ").empty());
    EXPECT_EQ(split_list("\"a\\\",b\",c").size(), 2U);  // escaped quote inside quotes
}

TEST(Grammar, ListElementsWalkStopsWhenAsked) {
    const std::string_view value = " a , ,\"b, c\" ,<d,e>, f";
    std::vector<std::string_view> seen;
    const auto take = [&](std::size_t stop_after) {
        seen.clear();
        return for_each_list_element(value, [&](std::string_view e) {
            seen.push_back(e);
            return seen.size() < stop_after;
        });
    };
    EXPECT_TRUE(take(99));  // every element given, in order, as split_list gives them
    EXPECT_EQ(seen, split_list(value));
    EXPECT_EQ(seen, (std::vector<std::string_view>{"a", "\"b, c\"", "<d,e>", "f"}));
    EXPECT_FALSE(take(2));  // stopped after the second: nothing more given
    EXPECT_EQ(seen, (std::vector<std::string_view>{"a", "\"b, c\""}));
    EXPECT_FALSE(take(4));  // stopped on the last element is still a stop
    EXPECT_EQ(seen.size(), 4U);
    EXPECT_TRUE(for_each_list_element(" , ,", [](std::string_view) { return false; }));
}

// iequals against a plain octet-by-octet definition, over every length up
// to 20 and a case or value change at every position (its first part
// compares eight octets at a time).
TEST(Grammar, IequalsIsCaseInsensitiveEqualityAtEveryLength) {
    const auto reference = [](std::string_view a, std::string_view b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            const auto lower = [](char c) {
                return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
            };
            if (lower(a[i]) != lower(b[i])) return false;
        }
        return true;
    };
    const std::string base = "Content-Length-Xy-7";
    for (std::size_t n = 0; n <= base.size(); ++n) {
        const std::string a = base.substr(0, n);
        EXPECT_TRUE(iequals(a, a));
        for (std::size_t i = 0; i < n; ++i) {
            std::string flipped = a;  // a letter's case changed: still equal
            std::string changed = a;  // another octet: not equal
            flipped[i] = static_cast<char>(flipped[i] ^ 0x20);
            changed[i] = static_cast<char>(changed[i] == 'z' ? 'y' : changed[i] + 1);
            EXPECT_EQ(iequals(a, flipped), reference(a, flipped)) << a << " " << i;
            EXPECT_FALSE(iequals(a, changed)) << a << " " << i;
            EXPECT_FALSE(iequals(changed, a)) << a << " " << i;
        }
        EXPECT_FALSE(iequals(a, a + "x"));
        // A case change in one place and a value change later, in the same
        // eight-octet block or another: never equal.
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = i + 1; j < n; ++j) {
                std::string both = a;
                both[i] = static_cast<char>(both[i] ^ 0x20);
                both[j] = static_cast<char>(both[j] == 'z' ? 'y' : both[j] + 1);
                EXPECT_FALSE(iequals(a, both)) << a << " " << i << " " << j;
            }
        }
    }
    EXPECT_TRUE(iequals("CONTENT-LENGTH", "content-length"));
    EXPECT_FALSE(iequals("Content-Length", "Content-Lengti"));
    EXPECT_FALSE(iequals("@", "`"));  // 0x40 and 0x60 differ by case's bit only
}

// The compile-time character tables against RFC 3261 25.1 written out
// (ALPHA, DIGIT, HEXDIG ranges; mark, reserved, token and word punctuation),
// for every octet: a table edited wrong changes what every parser accepts.
TEST(Grammar, CharacterClassesAreTheRfcSets) {
    const auto in = [](std::string_view set, char c) { return set.find(c) != set.npos; };
    for (int i = 0; i < 256; ++i) {
        const char c = static_cast<char>(i);
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        const bool alnum = alpha || digit;
        const bool token = alnum || in("-.!%*_+`'~", c);
        EXPECT_EQ(is_alpha(c), alpha) << i;
        EXPECT_EQ(is_digit(c), digit) << i;
        EXPECT_EQ(is_alnum(c), alnum) << i;
        EXPECT_EQ(is_hex(c), digit || in("abcdefABCDEF", c)) << i;
        EXPECT_EQ(is_unreserved(c), alnum || in("-_.!~*'()", c)) << i;
        EXPECT_EQ(is_reserved(c), in(";/?:@&=+$,", c)) << i;
        EXPECT_EQ(is_token_char(c), token) << i;
        EXPECT_EQ(is_word_char(c), token || in("()<>:\\\"/[]?{}", c)) << i;
        EXPECT_EQ(is_wsp(c), c == ' ' || c == '\t') << i;
    }
}

TEST(Grammar, QuotedStrings) {
    const std::string_view s = "\"a\\\"b\" rest";
    EXPECT_EQ(scan_quoted(s, 0), 6U);
    EXPECT_EQ(scan_quoted("\"abc", 0), std::string_view::npos);
    EXPECT_EQ(scan_quoted("\"a\\", 0), std::string_view::npos);
    EXPECT_EQ(scan_quoted(std::string_view("\"a\x01\"", 4), 0), std::string_view::npos);
    EXPECT_EQ(scan_quoted("\"a\\\r\"", 0), std::string_view::npos);
    EXPECT_EQ(scan_quoted("\"\xD0\xB0\"", 0), 4U);  // UTF-8 is qdtext
    EXPECT_EQ(quote("say \"hi\" \\o/\r\n"), "say \\\"hi\\\" \\\\o/");
    EXPECT_EQ(unquote(quote("a\"b\\c")), "a\"b\\c");
}

TEST(Grammar, NumbersAndEscapes) {
    EXPECT_EQ(parse_uint("18446744073709551615", UINT64_MAX), UINT64_MAX);
    EXPECT_FALSE(parse_uint("18446744073709551616", UINT64_MAX));
    EXPECT_FALSE(parse_uint("5", 4));
    EXPECT_EQ(parse_uint("0", 0), 0U);
    EXPECT_TRUE(valid_escapes("a%20b%7e"));
    EXPECT_FALSE(valid_escapes("a%2"));
    EXPECT_FALSE(valid_escapes("%g0"));
    EXPECT_EQ(normalize_escapes("%61%3b%7E"), "a%3B~");
    EXPECT_EQ(unescape("%61%3b%zz"), "a;%zz");
}

}  // namespace
}  // namespace isthmus::sip
