// validate_request / validate_response / has_supported_version
// (sip/validate.hpp): every reason phrase, from a valid request with one
// thing taken away, doubled or broken.
#include "sip/validate.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sip_test_util.hpp"

namespace isthmus::sip {
namespace {

using test::parse_dgram;
using test::wire;

const char* const kFields[] = {
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
    "Max-Forwards: 70",
    "To: Bob <sip:bob@biloxi.example.com>",
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
    "CSeq: 314159 INVITE",
    "Contact: <sip:alice@pc33.atlanta.example.com>",
};

// The request with field `drop` left out (if any) and `extra` lines added.
Message request(std::string_view drop = "", const std::string& extra = "") {
    std::string text = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n";
    for (const char* f : kFields)
        if (drop.empty() || std::string_view(f).substr(0, drop.size()) != drop)
            text += std::string(f) + "\r\n";
    text += extra + "Content-Length: 0\r\n\r\n";
    const ParseResult r = parse_dgram(text);
    EXPECT_EQ(r.status, ParseStatus::Ok) << r.reason;
    return r.message;
}

TEST(ValidateRequest, ValidOne) {
    EXPECT_EQ(validate_request(request()), std::nullopt);
    EXPECT_TRUE(has_supported_version(request()));
}

TEST(ValidateRequest, Missing) {
    for (const char* name : {"To", "From", "CSeq", "Call-ID", "Max-Forwards", "Via"})
        EXPECT_EQ(validate_request(request(std::string(name) + ":")),
                  "Missing " + std::string(name) + " header");
}

TEST(ValidateRequest, Multiple) {
    EXPECT_EQ(validate_request(request("", "t: <sip:carol@example.com>\r\n")),
              "Multiple To headers");
    EXPECT_EQ(validate_request(request("", "From: <sip:x@y.z>;tag=2\r\n")),
              "Multiple From headers");
    EXPECT_EQ(validate_request(request("", "CSeq: 1 INVITE\r\n")), "Multiple CSeq headers");
    EXPECT_EQ(validate_request(request("", "i: other\r\n")), "Multiple Call-ID headers");
    EXPECT_EQ(validate_request(request("", "Max-Forwards: 70\r\n")),
              "Multiple Max-Forwards headers");
    // Several Via values are normal.
    EXPECT_EQ(
        validate_request(request("", "Via: SIP/2.0/UDP h2;branch=z9hG4bK2, SIP/2.0/TCP h3\r\n")),
        std::nullopt);
}

TEST(ValidateRequest, Malformed) {
    const std::pair<const char*, const char*> cases[] = {
        {"To: <sip:bob@biloxi.example.com", "Malformed To header"},
        {"From: Bell, Alexander <sip:a@b.c>;tag=1", "Malformed From header"},
        {"CSeq: INVITE", "Malformed CSeq header"},
        {"Call-ID: a b", "Malformed Call-ID header"},
        {"Max-Forwards: 256", "Malformed Max-Forwards header"},
        {"Via: SIP/2.0/UDP", "Malformed Via header"},
        {"Via: ,", "Malformed Via header"},
        {"Contact: <sip:a@b.c>;;", "Malformed Contact header"},
        {"Contact: *, <sip:a@b.c>", "Malformed Contact header"},
        {"Contact:", "Malformed Contact header"},
        {"Route: <sip:p1.example;lr>, junk", "Malformed Route header"},
        {"Route:", "Malformed Route header"},
        {"Record-Route: sip:rr.example;lr?x", "Malformed Record-Route header"},
        {"Path: <sip:p@x", "Malformed Path header"},
        {"Service-Route: <>", "Malformed Service-Route header"},
    };
    for (const auto& [field, reason] : cases) {
        const std::string name = std::string(field).substr(0, std::string(field).find(':'));
        const bool single = name == "To" || name == "From" || name == "CSeq" || name == "Call-ID" ||
                            name == "Max-Forwards" || name == "Via" || name == "Contact";
        const Message m = single ? request(name + ":", std::string(field) + "\r\n")
                                 : request("", std::string(field) + "\r\n");
        EXPECT_EQ(validate_request(m), reason) << field;
    }
    // "Contact: *" alone is fine (de-registration of all bindings).
    EXPECT_EQ(validate_request(request("Contact:", "Contact: *\r\nExpires: 0\r\n")), std::nullopt);
}

TEST(ValidateRequest, CSeqMethodAndKind) {
    EXPECT_EQ(validate_request(request("CSeq:", "CSeq: 1 ACK\r\n")),
              "CSeq method does not match the request method");
    EXPECT_EQ(validate_request(request("CSeq:", "CSeq: 1 invite\r\n")),
              "CSeq method does not match the request method");  // methods are case-sensitive
    EXPECT_EQ(validate_request(make_response(200, "OK")), "Not a request");
    EXPECT_EQ(validate_request(Message{}), "Not a request");
}

TEST(ValidateResponse, Checks) {
    const std::string head = "SIP/2.0 200 OK\r\n";
    const std::string rest =
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b.c>;tag=1\r\nTo: <sip:d@e.f>;tag=2\r\n"
        "Call-ID: x@y\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    EXPECT_EQ(validate_response(parse_dgram(head + rest).message), std::nullopt);
    EXPECT_EQ(validate_response(parse_dgram(head + rest.substr(rest.find("From"))).message),
              "Missing Via header");
    EXPECT_EQ(validate_response(parse_dgram(head + "CSeq: x\r\n" + rest).message),
              "Multiple CSeq headers");
    EXPECT_EQ(validate_response(make_request("OPTIONS", *parse_uri("sip:a@b.c"))),
              "Not a response");
}

TEST(SupportedVersion, OnlySip20) {
    Message m = request();
    m.version = "sip/2.0";
    EXPECT_TRUE(has_supported_version(m));
    m.version = "SIP/2.1";
    EXPECT_FALSE(has_supported_version(m));
    m.version = "SIP/3.0";
    EXPECT_FALSE(has_supported_version(m));
}

}  // namespace
}  // namespace isthmus::sip
