// Helpers for the MSRP unit tests: wire text with LF written as CRLF, a
// parse that must succeed, and a small SEND builder.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

#include "msrp/message.hpp"
#include "msrp/parser.hpp"
#include "msrp/uri.hpp"

namespace isthmus::msrp::test {

// `text` with every LF turned into CRLF (for readable multi-line literals).
inline std::string wire(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

// parse_message that must succeed; fails the test with the reason if not.
inline Message parse_ok(std::string_view bytes) {
    ParseResult r = parse_message(bytes);
    EXPECT_TRUE(r.ok()) << parse_error_name(r.error) << ": " << r.reason;
    return std::move(r.message);
}

inline Uri uri(std::string_view text) {
    auto u = parse_uri(text);
    EXPECT_TRUE(u.has_value()) << text;
    return u.value_or(Uri{});
}

// A SEND from Alice to Bob with `body` in one chunk.
inline Message make_send(std::string body, std::string tid = "tr4nsact10n") {
    Message m;
    m.method = "SEND";
    m.transaction_id = std::move(tid);
    m.to_path = {uri("msrp://bob.example.com:8888/9di4eae923wzd;tcp")};
    m.from_path = {uri("msrp://alicepc.example.com:7777/iau39soe2843z;tcp")};
    m.message_id = "m5gid001";
    m.byte_range = ByteRange{1, body.size(), body.size()};
    m.content_type = "text/plain";
    m.body = std::move(body);
    return m;
}

}  // namespace isthmus::msrp::test
