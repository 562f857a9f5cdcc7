// Responses and REPORTs (msrp/reply.hpp): the RFC's own 200s and success
// REPORT rebuilt octet for octet from the requests, paths through relays,
// which responses and reports the sender asked for.
#include "msrp/reply.hpp"

#include <gtest/gtest.h>

#include <string>

#include "msrp/serializer.hpp"
#include "msrp_test_util.hpp"
#include "rfc4975_examples.hpp"

namespace isthmus::msrp {
namespace {

using test::make_send;
using test::parse_ok;
using test::uri;
using test::wire;

TEST(MsrpReply, ResponsesOfTheRfcExamples) {
    EXPECT_EQ(serialize(make_response(parse_ok(rfc::kSection4Send), 200)), rfc::kSection4Response);
    EXPECT_EQ(serialize(make_response(parse_ok(rfc::kSection111Send), status::kOk)),
              rfc::kSection111Response);
}

TEST(MsrpReply, ResponseGoesOneHopBack) {
    const Message send = parse_ok(
        wire("MSRP 6aef8b2c SEND\n"
             "To-Path: msrps://gw.example.org:2855/g1;tcp msrps://bob.example.net:7394/iau39;tcp\n"
             "From-Path: msrps://relay1.example.com:2855/r1;tcp "
             "msrps://alice.example.com:9892/98cjs;tcp\n"
             "Message-ID: 87652\n"
             "Success-Report: yes\n"
             "Content-Type: text/plain\n"
             "\n"
             "Hi\n"
             "-------6aef8b2c$\n"));
    const Message r = make_response(send, status::kSessionDoesNotExist);
    EXPECT_TRUE(r.is_response());
    EXPECT_EQ(r.transaction_id, "6aef8b2c");
    EXPECT_EQ(r.status_code, 481);
    EXPECT_EQ(r.comment, "Session Does Not Exist");
    ASSERT_EQ(r.to_path.size(), 1U);
    EXPECT_EQ(r.to_path[0].host, "relay1.example.com");  // the previous hop
    ASSERT_EQ(r.from_path.size(), 1U);
    EXPECT_EQ(r.from_path[0].host, "gw.example.org");  // this hop
    EXPECT_FALSE(r.message_id.has_value());
    EXPECT_TRUE(r.other_headers.empty());
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(serialize(r), wire("MSRP 6aef8b2c 481 Session Does Not Exist\n"
                                 "To-Path: msrps://relay1.example.com:2855/r1;tcp\n"
                                 "From-Path: msrps://gw.example.org:2855/g1;tcp\n"
                                 "-------6aef8b2c$\n"));
    EXPECT_EQ(parse_ok(serialize(r)), r);
}

TEST(MsrpReply, CommentsGivenOrDefaulted) {
    const Message send = make_send("x");
    EXPECT_EQ(make_response(send, 400).comment, "Bad Request");
    EXPECT_EQ(make_response(send, 415).comment, "Unsupported Media Type");
    EXPECT_EQ(make_response(send, 506).comment, "Session Already Bound");
    EXPECT_EQ(make_response(send, 299).comment, "");
    EXPECT_EQ(make_response(send, 403, "Not you").comment, "Not you");
    EXPECT_EQ(make_response(send, 200, "").comment, "");
    EXPECT_EQ(serialize(make_response(send, 299)).substr(0, 23), "MSRP tr4nsact10n 299\r\nT");
}

TEST(MsrpReply, WhichResponsesAreWanted) {
    Message send = make_send("x");
    EXPECT_TRUE(response_wanted(send, 200));
    EXPECT_TRUE(response_wanted(send, 413));
    send.failure_report = FailureReport::Yes;
    EXPECT_TRUE(response_wanted(send, 200));
    send.failure_report = FailureReport::Partial;
    EXPECT_FALSE(response_wanted(send, 200));
    EXPECT_TRUE(response_wanted(send, 481));
    send.failure_report = FailureReport::No;
    EXPECT_FALSE(response_wanted(send, 200));
    EXPECT_FALSE(response_wanted(send, 481));
    // Never to a REPORT, never to a response.
    const Message report = parse_ok(rfc::kSection115Report);
    EXPECT_FALSE(response_wanted(report, 200));
    EXPECT_FALSE(response_wanted(report, 400));
    EXPECT_FALSE(response_wanted(parse_ok(rfc::kSection4Response), 200));
    // AUTH and other methods: as SEND.
    EXPECT_TRUE(response_wanted(parse_ok(rfc::kRfc4976Auth), 401));
}

TEST(MsrpReply, WhichReportsAreWanted) {
    Message send = make_send("x");
    EXPECT_FALSE(success_report_wanted(send));  // absent: no
    EXPECT_TRUE(failure_report_wanted(send));   // absent: yes
    send.success_report = SuccessReport::Yes;
    send.failure_report = FailureReport::Partial;
    EXPECT_TRUE(success_report_wanted(send));
    EXPECT_TRUE(failure_report_wanted(send));
    send.success_report = SuccessReport::No;
    send.failure_report = FailureReport::No;
    EXPECT_FALSE(success_report_wanted(send));
    EXPECT_FALSE(failure_report_wanted(send));
}

// RFC 4975 11.5: the SEND's headers (its HTML body of 106 octets abridged
// to as many 'h's; the REPORT does not depend on it) and Bob's REPORT.
TEST(MsrpReply, SuccessReportOfTheRfcExample) {
    Message send =
        parse_ok(wire("MSRP d93kswow SEND\n"
                      "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n"
                      "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n"
                      "Message-ID: 12339sdqwer\n"
                      "Byte-Range: 1-106/106\n"
                      "Success-Report: yes\n"
                      "Failure-Report: no\n"
                      "Content-Type: text/html\n"
                      "\n" +
                      std::string(106, 'h') +
                      "\n"
                      "-------d93kswow$\n"));
    ASSERT_TRUE(success_report_wanted(send));
    const ByteRange range = whole_message_range(send);
    EXPECT_EQ(range, (ByteRange{1, 106, 106}));
    const Message report = make_report(send, "dkei38sd", range);
    EXPECT_EQ(serialize(report), rfc::kSection115Report);
    EXPECT_FALSE(report.success_report.has_value());
    EXPECT_FALSE(report.failure_report.has_value());
    EXPECT_EQ(parse_ok(serialize(report)), report);
}

TEST(MsrpReply, FailureReportThroughRelays) {
    Message send = make_send("partial data");
    send.to_path = {uri("msrps://gw.example.org:2855/g1;tcp")};
    send.from_path = {uri("msrps://relay1.example.com:2855/r1;tcp"),
                      uri("msrps://alice.example.com:9892/98cjs;tcp")};
    send.byte_range = ByteRange{1, 12, 4000};
    const Message report =
        make_report(send, "f41lr3p0", ByteRange{1, 12, 4000}, status::kStopSending);
    EXPECT_TRUE(report.is_report());
    EXPECT_EQ(report.transaction_id, "f41lr3p0");
    EXPECT_EQ(report.to_path, send.from_path);  // the whole way back
    ASSERT_EQ(report.from_path.size(), 1U);
    EXPECT_EQ(report.from_path[0].host, "gw.example.org");
    EXPECT_EQ(report.message_id, send.message_id);
    EXPECT_EQ(report.status, (StatusHeader{0, 413, "Stop Sending"}));
    EXPECT_EQ(make_report(send, "f41lr3p0", ByteRange{1, 12, 4000}, 413, "Too big").status->reason,
              "Too big");
}

TEST(MsrpReply, WholeMessageRange) {
    Message send = make_send("0123456789");
    send.byte_range.reset();
    EXPECT_EQ(whole_message_range(send), (ByteRange{1, 10, 10}));
    send.byte_range = ByteRange{91, 100, std::nullopt};
    EXPECT_EQ(whole_message_range(send), (ByteRange{1, 100, 100}));
    send.byte_range = ByteRange{91, std::nullopt, std::nullopt};
    EXPECT_EQ(whole_message_range(send), (ByteRange{1, 100, 100}));
    send.byte_range = ByteRange{91, std::nullopt, 100};
    EXPECT_EQ(whole_message_range(send), (ByteRange{1, 100, 100}));
}

}  // namespace
}  // namespace isthmus::msrp
