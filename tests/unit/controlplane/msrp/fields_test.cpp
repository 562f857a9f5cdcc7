// The typed header values (msrp/fields.hpp): paths (also SDP a=path
// values), Byte-Range, Success-/Failure-Report, Status, media types.
#include "msrp/fields.hpp"

#include <gtest/gtest.h>

#include <string>

namespace isthmus::msrp {
namespace {

TEST(MsrpFields, PathOfSeveralUris) {
    std::string why;
    const auto path = parse_path(
        "msrps://relay.example.com:2855/r1;tcp  msrps://bob.example.com:7394/iau39;tcp", &why);
    ASSERT_TRUE(path.has_value()) << why;
    ASSERT_EQ(path->size(), 2U);
    EXPECT_EQ((*path)[0].host, "relay.example.com");
    EXPECT_EQ((*path)[1].session_id, "iau39");
    // Written back with one SP.
    EXPECT_EQ(to_string(*path),
              "msrps://relay.example.com:2855/r1;tcp msrps://bob.example.com:7394/iau39;tcp");
}

TEST(MsrpFields, PathRefusalsNameTheUri) {
    std::string why;
    EXPECT_FALSE(parse_path("", &why));
    EXPECT_EQ(why, "no URI");
    EXPECT_FALSE(parse_path("msrp://a:1/s;tcp msrp://b:99999/s;tcp", &why));
    EXPECT_EQ(why, "URI 2 \"msrp://b:99999/s;tcp\": bad port");
    EXPECT_FALSE(parse_path("msrp://a:1/s;tcp,msrp://b:1/s;tcp", &why));
    EXPECT_EQ(why, "URI 1 \"msrp://a:1/s;tcp,msrp://b:1/s;tcp\": transport: bad character");
}

TEST(MsrpFields, ByteRangeForms) {
    auto r = parse_byte_range("1-25/25");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (ByteRange{1, 25, 25}));
    r = parse_byte_range("1-*/8");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (ByteRange{1, std::nullopt, 8}));
    r = parse_byte_range("5-8/*");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (ByteRange{5, 8, std::nullopt}));
    r = parse_byte_range("1-*/*");
    ASSERT_TRUE(r);
    EXPECT_EQ(to_string(*r), "1-*/*");
    r = parse_byte_range("1-0/0");  // an empty SEND
    ASSERT_TRUE(r);
    EXPECT_EQ(to_string(*r), "1-0/0");
    r = parse_byte_range("18446744073709551615-18446744073709551615/18446744073709551615");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->start, 18446744073709551615ULL);
}

TEST(MsrpFields, ByteRangeRefusals) {
    std::string why;
    auto refused = [&](std::string_view v) {
        why.clear();
        EXPECT_FALSE(parse_byte_range(v, &why)) << v;
        return why;
    };
    EXPECT_EQ(refused("1-25"), "\"1-25\" not start-end/total");
    EXPECT_EQ(refused("1/25"), "\"1/25\" not start-end/total");
    EXPECT_EQ(refused("0-5/5"), "start 0 (octets are numbered from 1)");
    EXPECT_EQ(refused("*-5/5"), "start \"*\" not a number");
    EXPECT_EQ(refused("10-3/20"), "end 3 before start 10");
    EXPECT_EQ(refused("1-30/20"), "end 30 past total 20");
    EXPECT_EQ(refused("30-*/20"), "start 30 past total 20");
    EXPECT_EQ(refused("1-x/5"), "end \"x\" not a number or *");
    EXPECT_EQ(refused("1-5/-5"), "total \"-5\" not a number or *");
    EXPECT_EQ(refused("1-5/18446744073709551616"),
              "total \"18446744073709551616\" not a number or *");
    EXPECT_EQ(refused(" 1-5/5"), "start \" 1\" not a number");
}

TEST(MsrpFields, ReportHeaders) {
    EXPECT_EQ(parse_success_report("yes"), SuccessReport::Yes);
    EXPECT_EQ(parse_success_report("No"), SuccessReport::No);
    EXPECT_FALSE(parse_success_report("partial"));
    EXPECT_EQ(parse_failure_report("partial"), FailureReport::Partial);
    EXPECT_EQ(parse_failure_report("YES"), FailureReport::Yes);
    EXPECT_EQ(parse_failure_report("no"), FailureReport::No);
    EXPECT_FALSE(parse_failure_report("maybe"));
    EXPECT_FALSE(parse_failure_report(""));
    EXPECT_EQ(to_string(FailureReport::Partial), "partial");
    EXPECT_EQ(to_string(SuccessReport::Yes), "yes");
}

TEST(MsrpFields, StatusHeader) {
    auto s = parse_status_header("000 200 OK");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->ns, 0);
    EXPECT_EQ(s->code, 200);
    EXPECT_EQ(s->reason, "OK");
    s = parse_status_header("000 413");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->reason, "");
    EXPECT_EQ(to_string(*s), "000 413");
    EXPECT_EQ(to_string(StatusHeader{7, 481, "Session Does Not Exist"}),
              "007 481 Session Does Not Exist");
    std::string why;
    EXPECT_FALSE(parse_status_header("200 OK", &why));
    EXPECT_EQ(why, "no status code after the namespace");
    EXPECT_FALSE(parse_status_header("00 200 OK", &why));
    EXPECT_EQ(why, "namespace in \"00 200 OK\" not 3 digits");
    EXPECT_FALSE(parse_status_header("000 2000", &why));
    EXPECT_EQ(why, "status code in \"000 2000\" not 3 digits");
    EXPECT_FALSE(parse_status_header("000 20x OK", &why));
}

TEST(MsrpFields, MediaTypes) {
    EXPECT_TRUE(is_media_type("text/plain"));
    EXPECT_TRUE(is_media_type("message/cpim"));
    EXPECT_TRUE(is_media_type("text/plain;charset=UTF-8"));
    EXPECT_TRUE(is_media_type("text/plain; charset = \"utf-8\" ; format=flowed"));
    EXPECT_TRUE(is_media_type("application/im-iscomposing+xml"));
    EXPECT_FALSE(is_media_type("text"));
    EXPECT_FALSE(is_media_type("text/"));
    EXPECT_FALSE(is_media_type("/plain"));
    EXPECT_FALSE(is_media_type("text/plain;"));
    EXPECT_FALSE(is_media_type("text/plain;charset="));
    EXPECT_FALSE(is_media_type("text/plain;charset=\"utf-8"));
    EXPECT_FALSE(is_media_type("text/plain charset=utf-8"));
    EXPECT_FALSE(is_media_type("te xt/plain"));
}

}  // namespace
}  // namespace isthmus::msrp
