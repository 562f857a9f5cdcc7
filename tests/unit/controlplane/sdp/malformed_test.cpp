// The malformed descriptions of tests/unit/controlplane/sdp/data/malformed:
// each is refused with its error and the number of the line at fault, and
// every file of that directory is in the table.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "sdp_test_util.hpp"

namespace isthmus::sdp {
namespace {

struct Expected {
    const char* file;
    ParseError error;
    std::size_t line;
};

// Lines of the valid base: 1 v=, 2 o=, 3 s=, 4 c=, 5 t=, 6 m=, 7-8 a=rtpmap,
// 9 a=sendrecv.
constexpr Expected kMalformed[] = {
    {"no_version", ParseError::BadVersion, 1},
    {"version_1", ParseError::BadVersion, 1},
    {"no_origin", ParseError::MissingOrigin, 2},
    {"origin_five_fields", ParseError::BadOrigin, 2},
    {"no_session_name", ParseError::MissingSessionName, 3},
    {"no_timing", ParseError::MissingTiming, 5},
    {"no_timing_no_media", ParseError::MissingTiming, 5},
    {"timing_not_numbers", ParseError::BadTiming, 5},
    {"port_not_number", ParseError::BadPort, 6},
    {"port_out_of_range", ParseError::BadPort, 6},
    {"port_count_zero", ParseError::BadPort, 6},
    {"port_negative", ParseError::BadPort, 6},
    {"media_line_short", ParseError::BadMediaLine, 6},
    {"media_bad_proto", ParseError::BadMediaLine, 6},
    {"connection_two_fields", ParseError::BadConnection, 4},
    {"timing_in_media", ParseError::MisplacedLine, 10},
    {"session_name_in_media", ParseError::MisplacedLine, 9},
    {"second_origin", ParseError::MisplacedLine, 6},
    {"repeat_before_timing", ParseError::MisplacedLine, 5},
    {"attribute_without_name", ParseError::BadAttribute, 9},
    {"no_equals", ParseError::BadLine, 9},
    {"space_before_equals", ParseError::BadLine, 4},
    {"digit_type", ParseError::BadLine, 6},
    {"empty_line_inside", ParseError::BadLine, 6},
    {"bare_cr", ParseError::BadLine, 9},
    {"nul_in_line", ParseError::BadLine, 9},
};

TEST(Malformed, EachRefusedAtItsLine) {
    for (const Expected& e : kMalformed) {
        SCOPED_TRACE(e.file);
        const std::string bytes = test::data(std::string("malformed/") + e.file + ".sdp");
        ASSERT_FALSE(bytes.empty());
        const ParseResult r = parse_sdp(bytes);
        EXPECT_EQ(r.error, e.error) << r.reason;
        EXPECT_EQ(r.line, e.line) << r.reason;
        EXPECT_TRUE(r.reason.starts_with("line " + std::to_string(e.line) + ": ")) << r.reason;
    }
}

TEST(Malformed, EveryFileIsChecked) {
    std::set<std::string> listed;
    for (const Expected& e : kMalformed)
        listed.insert(std::string(e.file) + ".sdp");
    std::set<std::string> present;
    for (const auto& entry : std::filesystem::directory_iterator(test::data_dir() / "malformed"))
        present.insert(entry.path().filename().string());
    EXPECT_EQ(present, listed);
}

}  // namespace
}  // namespace isthmus::sdp
