// RFC 4475 3.1.1, the valid torture messages: each written as the RFC shows
// it (CRLF line ends, the RFC's <hex> and <allOneLine> notations expanded),
// with what the RFC expects and what we check. Verdict for all of them: the
// parser accepts, validate_request/response finds no defect, the typed
// values read as the RFC describes, and the message survives
// parse -> serialize -> parse.
#include <gtest/gtest.h>

#include <string>

#include "sip/grammar.hpp"
#include "sip/headers.hpp"
#include "sip_test_util.hpp"

namespace isthmus::sip {
namespace {

using namespace std::string_literals;
using test::expect_round_trip;
using test::parse_dgram;
using test::parse_stream;
using test::rfc4475_sdp;
using test::wire;

// Parses as a datagram, expects no defect, checks the round trip.
Message accept_request(const std::string& bytes) {
    const ParseResult r = parse_dgram(bytes);
    EXPECT_EQ(r.status, ParseStatus::Ok) << r.reason;
    EXPECT_EQ(r.consumed, bytes.size());
    EXPECT_EQ(validate_request(r.message), std::nullopt);
    EXPECT_TRUE(has_supported_version(r.message));
    expect_round_trip(r.message);
    return r.message;
}

// 3.1.1.1 wsinv: line folding all over, escaped characters in quotes, an
// empty Subject, LWS around colons and semicolons, comma-separated and
// separate values, short and long forms mixed, unknown Request-URI
// parameter, unknown headers (one whose value would be invalid as a
// generic-param list), odd name case, leading zeros. RFC: well formed.
TEST(Rfc4475Valid, Wsinv) {
    const std::string bytes = wire(R"(INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

)") + rfc4475_sdp("192.0.2.3", "192.0.2.4");
    const Message m = accept_request(bytes);
    EXPECT_EQ(m.method, "INVITE");
    EXPECT_TRUE(m.request_uri.has_param("unknownparam"));
    EXPECT_EQ(m.fields.size(), 14U);

    const auto to = parse_name_addr(*m.header("To"));
    ASSERT_TRUE(to);
    EXPECT_FALSE(to->angle_brackets);
    EXPECT_EQ(to->uri.user, "vivekg");
    EXPECT_EQ(to->tag(), "1918181833n");

    const auto from = parse_name_addr(*m.header("From"));
    ASSERT_TRUE(from);
    EXPECT_EQ(from->display_name, R"(J Rosenberg \\\")");
    EXPECT_EQ(unquote(from->display_name), R"(J Rosenberg \")");
    EXPECT_EQ(from->tag(), "98asjd8");

    EXPECT_EQ(parse_max_forwards(*m.header("Max-Forwards"))->hops, 68);
    EXPECT_EQ(parse_cseq(*m.header("CSeq")), (CSeq{9, "INVITE"}));
    EXPECT_EQ(m.header("Subject"), "");

    const auto vias = m.headers("Via");
    ASSERT_EQ(vias.size(), 3U);
    const auto v0 = parse_via(vias[0]);
    const auto v1 = parse_via(vias[1]);
    const auto v2 = parse_via(vias[2]);
    ASSERT_TRUE(v0 && v1 && v2);
    EXPECT_EQ(v0->transport, "UDP");
    EXPECT_EQ(v0->host, "192.0.2.2");
    EXPECT_EQ(v0->branch(), "390skdjuw");
    EXPECT_EQ(v1->transport, "TCP");
    EXPECT_EQ(v1->host, "spindle.example.com");
    EXPECT_EQ(v1->branch(), "z9hG4bK9ikj8");
    EXPECT_EQ(v2->host, "192.168.255.111");
    EXPECT_EQ(v2->branch(), "z9hG4bK30239");

    EXPECT_EQ(m.header("NewFangledHeader"), "newfangled value continued newfangled value");
    // An unknown header is one opaque value, commas and all.
    EXPECT_EQ(m.headers("UnknownHeaderWithUnusualValue"),
              std::vector<std::string_view>{";;,,;;,;"});

    const auto route = parse_name_addr(*m.header("Route"));
    ASSERT_TRUE(route);
    EXPECT_TRUE(route->uri.has_param("lr"));
    EXPECT_EQ(route->uri.param("unknownwith")->value, "value");
    EXPECT_FALSE(route->uri.param("unknown-no-value")->value);

    const auto contacts = m.headers("Contact");
    ASSERT_EQ(contacts.size(), 1U);
    const auto contact = parse_name_addr(contacts[0]);
    ASSERT_TRUE(contact);
    EXPECT_EQ(unquote(contact->display_name), R"(Quoted string "")");
    EXPECT_EQ(contact->param("newparam")->value, "newvalue");
    EXPECT_FALSE(contact->param("secondparam")->value);
    EXPECT_EQ(contact->param("q")->value, "0.33");
    EXPECT_EQ(m.body.size(), 150U);
}

// 3.1.1.2 intmeth: unusual but legal characters: a method made of token
// punctuation, a Request-URI with odd user and password, a quoted display
// name holding quoted-pairs of BEL, NUL and DEL, an unquoted multi-token
// display name, a parameter with a UTF-8 quoted value, a Call-ID of word
// characters ('%' is no escape there; '"' opens no string), an extension
// header with a UTF-8 value. RFC: well formed (a proxy forwards it or 404s,
// an endpoint answers 501).
TEST(Rfc4475Valid, Intmeth) {
    const std::string bytes = wire(
        "!interesting-Method0123456789_*+`.%indeed'~ "
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
        "(doesn't-it)@example.com SIP/2.0\n"
        "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\n"
        "To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7F\" "
        "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>\n"
        "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;"
        "fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.\n"
        "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\n"
        "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\n"
        "Max-Forwards: 255\n"
        "extensionHeader-!.%*+_`'~:\xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB\n"
        "Content-Length: 0\n"
        "\n"s);
    const Message m = accept_request(bytes);
    EXPECT_EQ(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
    EXPECT_EQ(m.request_uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    EXPECT_EQ(m.request_uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    EXPECT_EQ(m.request_uri.host, "example.com");

    const auto to = parse_name_addr(*m.header("To"));
    ASSERT_TRUE(to);
    EXPECT_EQ(unquote(to->display_name), "BEL:\x07 NUL:\0 DEL:\x7F"s);
    EXPECT_EQ(to->uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");

    const auto from = parse_name_addr(*m.header("From"));
    ASSERT_TRUE(from);
    EXPECT_FALSE(from->display_name_quoted);
    EXPECT_EQ(from->display_name, "token1~` token2'+_ token3*%!.-");
    const Param* odd = from->param("fromParam''~+*_!.-%");
    ASSERT_NE(odd, nullptr);
    EXPECT_TRUE(odd->quoted);
    EXPECT_EQ(odd->value, "работающий");
    EXPECT_EQ(from->tag(), "_token~1'+`*%!-.");

    EXPECT_EQ(m.header("Call-ID"), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    EXPECT_EQ(parse_via(*m.header("Via"))->branch(), "z9hG4bK-.!%66*_+`'~");
    EXPECT_EQ(parse_max_forwards(*m.header("Max-Forwards"))->hops, 255);
    EXPECT_EQ(m.header("extensionHeader-!.%*+_`'~"),
              "\xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB");
}

// 3.1.1.3 esc01: % HEX HEX escapes in the Request-URI user (which holds a
// whole sips: URI), in To/From users and in Contact URI parameters; the
// "name" parameter's value is "value%41", not "valueA" (no recursive
// unescaping). RFC: well formed; applications treat escapes as the
// characters they encode.
TEST(Rfc4475Valid, Esc01) {
    const std::string bytes = wire(R"(INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
C: application/sdp
Contact:
  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: 150

)") + rfc4475_sdp("192.0.2.1", "192.0.2.1");
    const Message m = accept_request(bytes);
    EXPECT_EQ(m.request_uri.user, "sips%3Auser%40example.com");
    EXPECT_EQ(unescape(m.request_uri.user), "sips:user@example.com");
    EXPECT_EQ(m.request_uri.host, "example.net");

    const auto to = parse_name_addr(*m.header("To"));
    ASSERT_TRUE(to);
    EXPECT_EQ(unescape(to->uri.user), "user");
    EXPECT_TRUE(uri_equivalent(to->uri, *parse_uri("sip:user@example.com")));
    EXPECT_EQ(unescape(parse_name_addr(*m.header("From"))->uri.user), "I have spaces");
    EXPECT_EQ(m.header("Content-Type"), "application/sdp");

    const auto contact = parse_name_addr(*m.header("Contact"));
    ASSERT_TRUE(contact);
    EXPECT_EQ(unescape(contact->uri.user), "caller");
    EXPECT_TRUE(contact->uri.has_param("lr"));  // %6C%72
    const Param* name = contact->uri.param("name");
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(name->value, "v%61lue%25%34%31");
    EXPECT_EQ(normalize_escapes(*name->value), "value%41");
}

// 3.1.1.4 escnull: %00 in user parts. RFC: well formed; the two Contacts
// are distinct (unescaping must not shorten the user at the NUL).
TEST(Rfc4475Valid, Escnull) {
    const Message m = accept_request(wire(R"(REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:0

)"));
    EXPECT_EQ(unescape(parse_name_addr(*m.header("To"))->uri.user), "null-\0-null"s);
    const auto contacts = m.headers("Contact");
    ASSERT_EQ(contacts.size(), 2U);
    const auto c0 = parse_name_addr(contacts[0]);
    const auto c1 = parse_name_addr(contacts[1]);
    ASSERT_TRUE(c0 && c1);
    EXPECT_EQ(unescape(c0->uri.user), "\0"s);
    EXPECT_EQ(unescape(c1->uri.user), "\0\0"s);
    EXPECT_FALSE(uri_equivalent(c0->uri, c1->uri));
}

// 3.1.1.5 esc02: '%' where it is no escape: an unknown method RE%47IST%45R
// (not REGISTER), display names "%Z%45", a branch with '%', and a header
// named C%6Fntact that is not Contact. RFC: well formed, two Contacts.
TEST(Rfc4475Valid, Esc02) {
    const Message m = accept_request(wire(R"(RE%47IST%45R sip:registrar.example.com SIP/2.0
To: "%Z%45" <sip:resource@example.com>
From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
C%6Fntact: <sip:alias2@host2.example.com>
Contact: <sip:alias3@host3.example.com>
l: 0

)"));
    EXPECT_EQ(m.method, "RE%47IST%45R");
    EXPECT_NE(m.method, "REGISTER");
    EXPECT_EQ(parse_name_addr(*m.header("To"))->display_name, "%Z%45");
    EXPECT_EQ(parse_via(*m.header("Via"))->branch(), "z9hG4bK209%fzsnel234");
    EXPECT_EQ(m.headers("Contact").size(), 2U);
    EXPECT_EQ(m.header("C%6Fntact"), "<sip:alias2@host2.example.com>");
}

// 3.1.1.6 lwsdisp: no LWS between display name and '<'. RFC: accept.
TEST(Rfc4475Valid, Lwsdisp) {
    const Message m = accept_request(wire(R"(OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0

)"));
    const auto from = parse_name_addr(*m.header("From"));
    ASSERT_TRUE(from);
    EXPECT_EQ(from->display_name, "caller");
    EXPECT_EQ(from->tag(), "323");
}

std::string repeat(std::string_view s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i)
        out += s;
    return out;
}

// 3.1.1.7 longreq: long values (display name, URI parameters, tag, Call-ID,
// an unknown header) and 34 Via values under every spelling of Via and v.
// Built from the RFC's <repeat> notation. RFC: well formed.
TEST(Rfc4475Valid, Longreq) {
    std::string text = "INVITE sip:user@example.com SIP/2.0\n";
    text += "To: \"I have a user name of " + repeat("extreme", 10) +
            " proportion\"<sip:user@example.com:6000;unknownparam1=very" + repeat("long", 20) +
            "value;longparam" + repeat("name", 25) + "=shortvalue;very" + repeat("long", 25) +
            "ParameterNameWithNoValue>\n";
    text += "F: sip:" + repeat("amazinglylongcallername", 5) + "@example.net;tag=12" +
            repeat("982", 50) + "424;unknownheaderparam" + repeat("name", 20) +
            "=unknowheaderparam" + repeat("value", 15) + ";unknownValueless" +
            repeat("paramname", 10) + "\n";
    text += "Call-ID: longreq.one" + repeat("really", 20) + "longcallid\n";
    text += "CSeq: 3882340 INVITE\n";
    text += "Unknown-" + repeat("Long", 20) + "-Name: unknown-" + repeat("long", 20) +
            "-value; unknown-" + repeat("long", 20) + "-parameter-name = unknown-" +
            repeat("long", 20) + "-parameter-value\n";
    // The RFC's Via lines 33..17, each spelling as it writes it.
    const char* via_prefixes[] = {
        "Via: ", "v: ",   "V: ",   "Via: ", "ViA: ", "VIa: ", "VIA: ",  "via: ",  "viA: ",
        "vIa: ", "vIA: ", "V :  ", "v :  ", "V  : ", "v  : ", "Via : ", "Via  : "};
    int n = 33;
    for (const char* prefix : via_prefixes)
        text += std::string(prefix) + "SIP/2.0/TCP sip" + std::to_string(n--) + ".example.com\n";
    while (n >= 1)
        text += "Via: SIP/2.0/TCP sip" + std::to_string(n--) + ".example.com\n";
    text += "Via: SIP/2.0/TCP host.example.com;received=192.0.2.5;branch=very" +
            repeat("long", 50) + "branchvalue\n";
    text += "Max-Forwards: 70\n";
    text += "Contact: <sip:" + repeat("amazinglylongcallername", 5) + "@host5.example.net>\n";
    text += "Content-Type: application/sdp\nl: 150\n\n";
    const Message m = accept_request(wire(text) + rfc4475_sdp("192.0.2.1", "192.0.2.1"));

    const auto to = parse_name_addr(*m.header("To"));
    ASSERT_TRUE(to);
    EXPECT_EQ(to->display_name, "I have a user name of " + repeat("extreme", 10) + " proportion");
    EXPECT_EQ(to->uri.port, 6000);
    EXPECT_EQ(to->uri.params.size(), 3U);
    EXPECT_EQ(to->uri.param("longparam" + repeat("name", 25))->value, "shortvalue");
    const auto from = parse_name_addr(*m.header("From"));
    ASSERT_TRUE(from);
    EXPECT_EQ(from->tag(), "12" + repeat("982", 50) + "424");
    EXPECT_EQ(from->params.size(), 3U);
    const auto vias = m.headers("Via");
    ASSERT_EQ(vias.size(), 34U);
    for (std::size_t i = 0; i < 33; ++i)
        EXPECT_EQ(parse_via(vias[i])->host, "sip" + std::to_string(33 - i) + ".example.com");
    EXPECT_EQ(parse_via(vias[33])->param("received")->value, "192.0.2.5");
    EXPECT_EQ(m.header("Unknown-" + repeat("Long", 20) + "-Name"),
              "unknown-" + repeat("long", 20) + "-value; unknown-" + repeat("long", 20) +
                  "-parameter-name = unknown-" + repeat("long", 20) + "-parameter-value");
}

// 3.1.1.8 dblreq: a datagram holding a REGISTER with Content-Length: 0 and
// then octets that look like an INVITE. RFC 3261 18.3: they are noise; the
// REGISTER is handled normally and the INVITE never seen.
TEST(Rfc4475Valid, Dblreq) {
    const std::string bytes = wire(R"(REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
Content-Length: 0


INVITE sip:joe@example.com SIP/2.0
t: sip:joe@example.com
From: sip:caller@example.net;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
Content-Type: application/sdp
Content-Length: 150

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.15
s=-
c=IN IP4 192.0.2.15
t=0 0
m=audio 49217 RTP/AVP 0 12
m =video 3227 RTP/AVP 31
a=rtpmap:31 LPC
)");
    const Message m = accept_request(bytes);
    EXPECT_EQ(m.method, "REGISTER");
    EXPECT_TRUE(m.body.empty());
    EXPECT_EQ(m.headers("Contact").size(), 1U);
    // On a stream the same octets are two messages (and a stray tail).
    const ParseResult first = parse_stream(bytes);
    ASSERT_EQ(first.status, ParseStatus::Ok);
    EXPECT_EQ(first.message, m);
    const ParseResult second = parse_stream(std::string_view(bytes).substr(first.consumed));
    ASSERT_EQ(second.status, ParseStatus::Ok) << second.reason;
    EXPECT_EQ(second.message.method, "INVITE");
    EXPECT_EQ(second.message.body.size(), 150U);
}

// 3.1.1.9 semiuri: ';' inside the Request-URI user part, with an escaped
// '@'. RFC: the user is "user;par=u@example.net".
TEST(Rfc4475Valid, Semiuri) {
    const Message m =
        accept_request(wire(R"(OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0

)"));
    EXPECT_EQ(m.request_uri.user, "user;par=u%40example.net");
    EXPECT_EQ(unescape(m.request_uri.user), "user;par=u@example.net");
    EXPECT_TRUE(m.request_uri.params.empty());
    const auto accept = m.headers("Accept");
    ASSERT_EQ(accept.size(), 6U);
    EXPECT_EQ(accept[2], "multipart/mixed");
    EXPECT_EQ(accept[5], "message/sipfrag");
}

// 3.1.1.10 transports: Via values with UDP, SCTP, TLS, an unknown transport
// and TCP. RFC: well formed.
TEST(Rfc4475Valid, Transports) {
    const Message m = accept_request(wire(R"(OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0

)"));
    const auto vias = m.headers("Via");
    ASSERT_EQ(vias.size(), 5U);
    const char* transports[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
    for (std::size_t i = 0; i < 5; ++i)
        EXPECT_EQ(parse_via(vias[i])->transport, transports[i]);
    EXPECT_EQ(m.header("Call-ID"), "transports.kijh4akdnaqjkwendsasfdj");
}

// 3.1.1.11 mpart01: a MESSAGE with a multipart body whose second part is
// binary with NULs; Via with a valueless rport. RFC: frame it by
// Content-Length and accept. (The RFC's part is a DER certificate; its
// octets are replaced here by 256 octets 0x00..0xFF of the same role, and
// Content-Length computed.)
TEST(Rfc4475Valid, Mpart01) {
    std::string binary;
    for (int i = 0; i < 256; ++i)
        binary.push_back(static_cast<char>(i));
    const std::string body = wire(
                                 "--7a9cbec02ceef655\nContent-Type: text/plain\n"
                                 "Content-Transfer-Encoding: binary\n\nHello\n--7a9cbec02ceef655\n"
                                 "Content-Type: application/octet-stream\n"
                                 "Content-Transfer-Encoding: binary\n\n") +
                             binary + wire("\n--7a9cbec02ceef655--\n");
    const std::string head = wire(R"(MESSAGE sip:kumiko@example.org SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport
Max-Forwards: 70
Route: <sip:127.0.0.1:5080>
Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYjcBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=
Contact: <sip:fluffy@127.0.0.1:5070>
To: <sip:kumiko@example.org>
From: <sip:fluffy@example.com>;tag=2fb0dcc9
Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..
CSeq: 1 MESSAGE
Content-Transfer-Encoding: binary
Content-Type: multipart/mixed;boundary=7a9cbec02ceef655
Date: Sat, 15 Oct 2005 04:44:56 GMT
User-Agent: SIPimp.org/0.2.5 (curses)
)");
    const Message m = accept_request(
        head + wire("Content-Length: " + std::to_string(body.size()) + "\n\n") + body);
    EXPECT_EQ(m.body, body);
    const auto via = parse_via(*m.header("Via"));
    ASSERT_TRUE(via);
    EXPECT_EQ(via->port, 5070);
    EXPECT_EQ(via->rport(), 0);
    EXPECT_EQ(m.header("Date"), "Sat, 15 Oct 2005 04:44:56 GMT");
    EXPECT_EQ(m.headers("Date").size(), 1U);  // not split at its comma
}

// 3.1.1.12 unreason: a 200 with a reason phrase of unreserved and UTF-8
// characters. RFC: well formed.
TEST(Rfc4475Valid, Unreason) {
    const std::string bytes = wire(R"(SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Call-ID: unreason.1234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 154
Content-Type: application/sdp
Contact: <sip:user@host198.example.com>

)") + rfc4475_sdp("192.0.2.198", "192.0.2.198");
    const ParseResult r = parse_dgram(bytes);
    ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
    EXPECT_EQ(validate_response(r.message), std::nullopt);
    EXPECT_EQ(r.message.status_code, 200);
    EXPECT_EQ(r.message.reason_phrase, "= 2**3 * 5**2 но сто девяносто девять - простое");
    EXPECT_EQ(r.message.body.size(), 154U);
    expect_round_trip(r.message);
}

// 3.1.1.13 noreason: "SIP/2.0 100 " with an empty reason phrase. RFC: well
// formed (without the SP a liberal receiver accepts it too; we do).
TEST(Rfc4475Valid, Noreason) {
    const std::string rest = wire(R"(Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

)");
    for (const std::string start : {"SIP/2.0 100 \r\n", "SIP/2.0 100\r\n"}) {
        const ParseResult r = parse_dgram(start + rest);
        ASSERT_EQ(r.status, ParseStatus::Ok) << r.reason;
        EXPECT_EQ(validate_response(r.message), std::nullopt);
        EXPECT_EQ(r.message.status_code, 100);
        EXPECT_EQ(r.message.reason_phrase, "");
        expect_round_trip(r.message);
    }
}

}  // namespace
}  // namespace isthmus::sip
