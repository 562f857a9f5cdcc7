// Helpers of the SDP tests: text with "\n" to wire bytes (CRLF), the test
// data files (tests/unit/controlplane/sdp/data, from $ISTHMUS_SDP_DATA_DIR
// set by meson test), and the round trips every accepted description must
// pass.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>

#include "sdp/parser.hpp"
#include "sdp/serializer.hpp"

namespace isthmus::sdp {

inline void PrintTo(ParseError e, std::ostream* os) {
    *os << parse_error_name(e);
}
// gtest prints a description as its wire form.
inline void PrintTo(const SessionDescription& d, std::ostream* os) {
    *os << "\n" << serialize(d);
}

namespace test {

// "\n" -> "\r\n"; every other byte as it is.
inline std::string wire(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 16);
    for (char c : text) {
        if (c == '\n') out.push_back('\r');
        out.push_back(c);
    }
    return out;
}

inline std::filesystem::path data_dir() {
    const char* env = std::getenv("ISTHMUS_SDP_DATA_DIR");
    return env ? std::filesystem::path(env)
               : std::filesystem::path("tests/unit/controlplane/sdp/data");
}

// The bytes of data file `name` ("chrome_offer.sdp", "malformed/bare_cr.sdp").
inline std::string data(const std::string& name) {
    std::ifstream in(data_dir() / name, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot read " << (data_dir() / name);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// parse_sdp that must succeed.
inline SessionDescription parse_ok(std::string_view bytes) {
    ParseResult r = parse_sdp(bytes);
    EXPECT_TRUE(r.ok()) << r.reason;
    return std::move(r.description);
}

// parse(serialize(d)) == d, and serializing again gives the same bytes.
inline void expect_stable(const SessionDescription& d) {
    const std::string once = serialize(d);
    ParseLimits relaxed;
    relaxed.max_bytes = 2 * once.size() + 1024;
    relaxed.max_lines = once.size();
    relaxed.max_attributes_per_section = once.size();
    relaxed.max_media = once.size();
    const ParseResult again = parse_sdp(once, relaxed);
    ASSERT_TRUE(again.ok()) << again.reason << "\n" << once;
    EXPECT_EQ(again.description, d);
    EXPECT_EQ(serialize(again.description), once);
}

// A well-formed CRLF description: parses, serializes to the same bytes.
inline void expect_exact_round_trip(std::string_view bytes) {
    const ParseResult r = parse_sdp(bytes);
    ASSERT_TRUE(r.ok()) << r.reason;
    EXPECT_EQ(serialize(r.description), bytes);
    expect_stable(r.description);
}

}  // namespace test
}  // namespace isthmus::sdp
