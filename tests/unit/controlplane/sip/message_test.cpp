// Message header access and editing (sip/message.hpp) and header names
// (sip/header_names.hpp): compact forms, canonical capitalization, which
// headers split at commas, and the order-keeping operations a proxy uses
// (prepend a Via, pop the top Via or Route, replace Max-Forwards).
#include "sip/message.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sip/header_names.hpp"

namespace isthmus::sip {
namespace {

using Values = std::vector<std::string_view>;

TEST(HeaderNames, CompactForms) {
    // RFC 3261 7.3.3 and the IANA registry.
    const std::pair<const char*, const char*> forms[] = {
        {"i", "Call-ID"},
        {"m", "Contact"},
        {"e", "Content-Encoding"},
        {"l", "Content-Length"},
        {"c", "Content-Type"},
        {"f", "From"},
        {"s", "Subject"},
        {"k", "Supported"},
        {"t", "To"},
        {"v", "Via"},
        {"o", "Event"},
        {"u", "Allow-Events"},
        {"r", "Refer-To"},
        {"x", "Session-Expires"},
        {"y", "Identity"},
        {"b", "Referred-By"},
        {"a", "Accept-Contact"},
        {"j", "Reject-Contact"},
        {"d", "Request-Disposition"},
        {"n", "Identity-Info"},
    };
    for (const auto& [compact, full] : forms) {
        EXPECT_EQ(canonical_header_name(compact), full) << compact;
        const char upper[2] = {static_cast<char>(compact[0] - 'a' + 'A'), 0};
        EXPECT_EQ(canonical_header_name(upper), full) << upper;
    }
    EXPECT_EQ(canonical_header_name("g"), "g");  // no such compact form
    EXPECT_EQ(canonical_header_name("z"), "z");
}

TEST(HeaderNames, CanonicalCapitalization) {
    EXPECT_EQ(canonical_header_name("call-id"), "Call-ID");
    EXPECT_EQ(canonical_header_name("CSEQ"), "CSeq");
    EXPECT_EQ(canonical_header_name("www-authenticate"), "WWW-Authenticate");
    EXPECT_EQ(canonical_header_name("p-asserted-identity"), "P-Asserted-Identity");
    EXPECT_EQ(canonical_header_name("P-VISITED-NETWORK-ID"), "P-Visited-Network-ID");
    EXPECT_EQ(canonical_header_name("mime-version"), "MIME-Version");
    EXPECT_EQ(canonical_header_name("X-Custom-thing"), "X-Custom-thing");  // unknown: as is
}

TEST(HeaderNames, ListHeaders) {
    for (const char* list :
         {"Via", "Route", "Record-Route", "Contact", "Path", "Service-Route", "Allow", "Supported",
          "Require", "Proxy-Require", "Accept", "Accept-Encoding", "Unsupported",
          "P-Asserted-Identity", "P-Associated-URI", "Security-Client"})
        EXPECT_TRUE(is_list_header(list)) << list;
    for (const char* single : {"WWW-Authenticate", "Authorization", "Proxy-Authenticate",
                               "Proxy-Authorization", "Date", "To", "From", "Call-ID", "CSeq",
                               "Subject", "User-Agent", "P-Charging-Vector", "X-Unknown"})
        EXPECT_FALSE(is_list_header(single)) << single;
}

Message sample() {
    Message m = make_request("INVITE", *parse_uri("sip:bob@biloxi.com"));
    m.add("v", "SIP/2.0/UDP a.example;branch=z9hG4bK1, SIP/2.0/UDP b.example;branch=z9hG4bK2");
    m.add("Via", "SIP/2.0/UDP c.example;branch=z9hG4bK3");
    m.add("route", "<sip:p1.example;lr>,<sip:p2.example;lr>");
    m.add("Max-Forwards", "70");
    m.add("WWW-Authenticate", "Digest realm=\"a, b\", nonce=\"x\"");
    m.add("Allow", "");
    m.add("Allow", "INVITE, ACK");
    return m;
}

TEST(Message, ValuesOfListAndSingleHeaders) {
    const Message m = sample();
    EXPECT_EQ(m.fields[0].name, "Via");
    EXPECT_EQ(m.fields[2].name, "Route");
    EXPECT_EQ(m.headers("VIA"), (Values{"SIP/2.0/UDP a.example;branch=z9hG4bK1",
                                        "SIP/2.0/UDP b.example;branch=z9hG4bK2",
                                        "SIP/2.0/UDP c.example;branch=z9hG4bK3"}));
    EXPECT_EQ(m.header("v"), "SIP/2.0/UDP a.example;branch=z9hG4bK1");
    EXPECT_EQ(m.field_count("Via"), 2U);
    EXPECT_EQ(m.headers("Route"), (Values{"<sip:p1.example;lr>", "<sip:p2.example;lr>"}));
    // Not a list: one value with its commas.
    EXPECT_EQ(m.headers("www-authenticate"), (Values{"Digest realm=\"a, b\", nonce=\"x\""}));
    // An empty Allow field contributes no value; header() skips it.
    EXPECT_EQ(m.headers("Allow"), (Values{"INVITE", "ACK"}));
    EXPECT_EQ(m.header("Allow"), "INVITE");
    EXPECT_FALSE(m.header("Contact"));
    EXPECT_TRUE(m.headers("Contact").empty());
    EXPECT_TRUE(m.is_request());
    EXPECT_FALSE(m.is_response());
}

TEST(Message, PrependPutsViaOnTop) {
    Message m = sample();
    m.prepend("Via", "SIP/2.0/WSS proxy.example;branch=z9hG4bKnew");
    EXPECT_EQ(m.fields[0].value, "SIP/2.0/WSS proxy.example;branch=z9hG4bKnew");
    EXPECT_EQ(m.headers("Via").size(), 4U);
    // Record-Route does not exist yet: it goes first of all.
    m.prepend("Record-Route", "<sip:rr.example;lr>");
    EXPECT_EQ(m.fields[0].name, "Record-Route");
    m.prepend("Record-Route", "<sip:rr2.example;lr>");
    EXPECT_EQ(m.headers("Record-Route"), (Values{"<sip:rr2.example;lr>", "<sip:rr.example;lr>"}));
}

TEST(Message, RemoveFirstValueSplitsAField) {
    Message m = sample();
    ASSERT_TRUE(m.remove_first_value("Via"));
    EXPECT_EQ(m.fields[0].value, "SIP/2.0/UDP b.example;branch=z9hG4bK2");
    ASSERT_TRUE(m.remove_first_value("Via"));
    EXPECT_EQ(m.headers("Via"), (Values{"SIP/2.0/UDP c.example;branch=z9hG4bK3"}));
    ASSERT_TRUE(m.remove_first_value("Via"));
    EXPECT_FALSE(m.remove_first_value("Via"));
    EXPECT_EQ(m.field_count("Via"), 0U);
    ASSERT_TRUE(m.remove_first_value("Route"));
    EXPECT_EQ(m.headers("Route"), (Values{"<sip:p2.example;lr>"}));
    // Not a list: the whole field goes.
    ASSERT_TRUE(m.remove_first_value("WWW-Authenticate"));
    EXPECT_FALSE(m.header("WWW-Authenticate"));
    // An empty Allow field is skipped, the value comes from the next.
    ASSERT_TRUE(m.remove_first_value("Allow"));
    EXPECT_EQ(m.headers("Allow"), (Values{"ACK"}));
}

// Found by the fuzzer: popping the first of "X ," left an empty field whose
// empty element had been a value before. Empty elements are no values.
TEST(Message, RemoveFirstValueWithTrailingComma) {
    Message m = make_request("OPTIONS", *parse_uri("sip:a@b.c"));
    m.add("Via", "SIP/2.0/UDP a.example;branch=z9hG4bK1 ,");
    m.add("Via", ", SIP/2.0/UDP b.example;branch=z9hG4bK2,,");
    EXPECT_EQ(m.headers("Via").size(), 2U);
    ASSERT_TRUE(m.remove_first_value("Via"));
    EXPECT_EQ(m.headers("Via"), (Values{"SIP/2.0/UDP b.example;branch=z9hG4bK2"}));
    ASSERT_TRUE(m.remove_first_value("Via"));
    EXPECT_TRUE(m.headers("Via").empty());
    EXPECT_FALSE(m.remove_first_value("Via"));
}

TEST(Message, SetReplacesInPlaceAndRemoveCounts) {
    Message m = sample();
    m.set("Via", "SIP/2.0/TCP only.example;branch=z9hG4bKo");
    EXPECT_EQ(m.fields[0].value, "SIP/2.0/TCP only.example;branch=z9hG4bKo");
    EXPECT_EQ(m.field_count("Via"), 1U);
    m.set("max-forwards", "69");
    EXPECT_EQ(m.header("Max-Forwards"), "69");
    EXPECT_EQ(m.fields[2].name, "Max-Forwards");  // where it was
    m.set("Subject", "new");
    EXPECT_EQ(m.fields.back().name, "Subject");
    EXPECT_EQ(m.remove("allow"), 2U);
    EXPECT_EQ(m.remove("Allow"), 0U);
}

TEST(Message, MakeResponse) {
    const Message r = make_response(180, "Ringing");
    EXPECT_TRUE(r.is_response());
    EXPECT_FALSE(r.is_request());
    EXPECT_EQ(r.version, "SIP/2.0");
    EXPECT_EQ(r.reason_phrase, "Ringing");
}

}  // namespace
}  // namespace isthmus::sip
