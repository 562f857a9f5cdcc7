// Every refusal of parse_message (msrp/parser.hpp), each with the reason
// it gives, and the limits. The framer's own refusals (BufferFull, and the
// same errors mid-stream) are in framer_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "msrp/parser.hpp"
#include "msrp_test_util.hpp"

namespace isthmus::msrp {
namespace {

using test::wire;

const std::string kTo = "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\n";
const std::string kFrom = "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\n";

struct Refusal {
    ParseError error;
    std::string reason;
};

Refusal refuse(std::string_view bytes, const ParseLimits& limits = {}) {
    const ParseResult r = parse_message(bytes, limits);
    EXPECT_FALSE(r.ok()) << bytes;
    EXPECT_EQ(r.consumed, 0U);
    return {r.error, r.reason};
}

void expect_refusal(std::string_view bytes, ParseError error, std::string_view reason,
                    const ParseLimits& limits = {}) {
    const Refusal r = refuse(bytes, limits);
    EXPECT_EQ(r.error, error) << parse_error_name(r.error) << ": " << r.reason;
    EXPECT_EQ(r.reason, reason);
}

// A SEND with `headers` between the start line and the content-stuff.
std::string send_with(const std::string& headers, const std::string& data = "hello") {
    return wire("MSRP tr4nsact SEND\n" + headers + "Content-Type: text/plain\n\n" + data +
                "\n-------tr4nsact$\n");
}

TEST(MsrpParserRefusals, StartLine) {
    expect_refusal("HTTP/1.1 200 OK\r\n", ParseError::BadStartLine,
                   "start line does not begin with \"MSRP \": \"HTTP/1.1 200 OK\"");
    expect_refusal("msrp tr4nsact SEND\r\n", ParseError::BadStartLine,
                   "start line does not begin with \"MSRP \": \"msrp tr4nsact SEND\"");
    expect_refusal(wire("MSRP tr4nsact\n"), ParseError::BadStartLine,
                   "start line: no method or status code after the transaction id");
    expect_refusal(wire("MSRP tr4nsact send\n"), ParseError::BadStartLine,
                   "method \"send\" not upper-case letters (RFC 4975 9)");
    expect_refusal(wire("MSRP tr4nsact SEND extra\n"), ParseError::BadStartLine,
                   "method \"SEND extra\" not upper-case letters (RFC 4975 9)");
    expect_refusal(wire("MSRP tr4nsact \n"), ParseError::BadStartLine,
                   "method \"\" not upper-case letters (RFC 4975 9)");
    expect_refusal(wire("MSRP tr4nsact 200 O\x01K\n"), ParseError::BadStartLine,
                   "start line: control character in the comment");
}

TEST(MsrpParserRefusals, TransactionId) {
    expect_refusal(wire("MSRP abc SEND\n"), ParseError::BadTransactionId,
                   "transaction id \"abc\" not 4..32 characters");
    expect_refusal(wire("MSRP " + std::string(33, 'a') + " SEND\n"), ParseError::BadTransactionId,
                   "transaction id \"" + std::string(33, 'a') + "\" not 4..32 characters");
    expect_refusal(wire("MSRP  tr4nsact SEND\n"), ParseError::BadTransactionId,
                   "transaction id \"\" not 4..32 characters");
    expect_refusal(wire("MSRP .tr4nsact SEND\n"), ParseError::BadTransactionId,
                   "transaction id \".tr4nsact\": not a letter or digit followed by letters, "
                   "digits, . - + % =");
    expect_refusal(wire("MSRP tr4n$act SEND\n"), ParseError::BadTransactionId,
                   "transaction id \"tr4n$act\": not a letter or digit followed by letters, "
                   "digits, . - + % =");
}

TEST(MsrpParserRefusals, StatusCode) {
    expect_refusal(wire("MSRP tr4nsact 20 OK\n"), ParseError::BadStatusCode,
                   "status code \"20\" not 3 digits");
    expect_refusal(wire("MSRP tr4nsact 2000 OK\n"), ParseError::BadStatusCode,
                   "status code \"2000\" not 3 digits");
    expect_refusal(wire("MSRP tr4nsact 200OK\n"), ParseError::BadStatusCode,
                   "status code \"200OK\" not 3 digits");
}

TEST(MsrpParserRefusals, LineEndings) {
    expect_refusal("MSRP tr4nsact SEND\n", ParseError::BadLineEnding,
                   "line 1: a bare LF (lines end with CRLF)");
    expect_refusal("MSRP tr4nsact SEND\rTo-Path: x\r\n", ParseError::BadLineEnding,
                   "line 1: a bare CR (lines end with CRLF)");
    expect_refusal(wire("MSRP tr4nsact SEND\n" + kTo) + "From-Path: x\n", ParseError::BadLineEnding,
                   "line 3: a bare LF (lines end with CRLF)");
}

TEST(MsrpParserRefusals, HeaderLines) {
    expect_refusal(send_with(kTo + kFrom + "Message-ID: m5gid001\nNo colon here\n"),
                   ParseError::BadHeaderLine, "line 5: no ':'");
    expect_refusal(send_with(kTo + kFrom + " Folded: no\n"), ParseError::BadHeaderLine,
                   "line 4: header name \" Folded\" not a token");
    expect_refusal(send_with(kTo + kFrom + "Bad Name: x\n"), ParseError::BadHeaderLine,
                   "line 4: header name \"Bad Name\" not a token");
    expect_refusal(send_with(kTo + kFrom + "1Digit: x\n"), ParseError::BadHeaderLine,
                   "line 4: header name \"1Digit\" not a token");
    expect_refusal(send_with(kTo + kFrom + "X-Ctl: a\x01z\n"), ParseError::BadHeaderLine,
                   "line 4 (X-Ctl): control character in the value");
}

TEST(MsrpParserRefusals, DuplicateTypedHeaders) {
    expect_refusal(send_with(kTo + kTo + kFrom), ParseError::DuplicateHeader,
                   "line 3 (To-Path): To-Path given twice");
    expect_refusal(send_with(kTo + kFrom + "Message-ID: m5gid001\nmessage-id: m5gid002\n"),
                   ParseError::DuplicateHeader, "line 5 (Message-ID): Message-ID given twice");
    expect_refusal(send_with(kTo + kFrom +
                             "Message-ID: m5gid001\nByte-Range: 1-5/5\n"
                             "Byte-Range: 1-5/5\n"),
                   ParseError::DuplicateHeader, "line 6 (Byte-Range): Byte-Range given twice");
    expect_refusal(wire("MSRP tr4nsact SEND\n" + kTo + kFrom +
                        "Message-ID: m5gid001\nContent-Type: text/plain\n"
                        "Content-Type: text/html\n\nx\n-------tr4nsact$\n"),
                   ParseError::DuplicateHeader, "line 6 (Content-Type): Content-Type given twice");
}

TEST(MsrpParserRefusals, MissingHeaders) {
    expect_refusal(send_with(kFrom + "Message-ID: m5gid001\n"), ParseError::MissingHeader,
                   "To-Path missing");
    expect_refusal(send_with(kTo + "Message-ID: m5gid001\n"), ParseError::MissingHeader,
                   "From-Path missing");
    expect_refusal(send_with(kTo + kFrom), ParseError::MissingHeader, "Message-ID missing in SEND");
    expect_refusal(
        wire("MSRP tr4nsact REPORT\n" + kTo + kFrom + "Status: 000 200 OK\n-------tr4nsact$\n"),
        ParseError::MissingHeader, "Message-ID missing in REPORT");
    expect_refusal(
        wire("MSRP tr4nsact REPORT\n" + kTo + kFrom + "Message-ID: m5gid001\n-------tr4nsact$\n"),
        ParseError::MissingHeader, "Status missing in REPORT");
    expect_refusal(wire("MSRP tr4nsact 200 OK\n" + kFrom + "-------tr4nsact$\n"),
                   ParseError::MissingHeader, "To-Path missing");
    // The check runs when the headers end, before any data arrives.
    expect_refusal(wire("MSRP tr4nsact SEND\n" + kFrom + "Content-Type: text/plain\n\n"),
                   ParseError::MissingHeader, "To-Path missing");
}

TEST(MsrpParserRefusals, TypedValues) {
    expect_refusal(send_with("To-Path: sip:bob@example.com\n" + kFrom), ParseError::BadPath,
                   "line 2 (To-Path): URI 1 \"sip:bob@example.com\": no \"://\" after the "
                   "scheme");
    expect_refusal(send_with(kTo + "From-Path:\n"), ParseError::BadPath,
                   "line 3 (From-Path): no URI");
    expect_refusal(send_with(kTo + kFrom + "Message-ID: abc\n"), ParseError::BadMessageId,
                   "line 4 (Message-ID): \"abc\" not an ident of 4..32 letters, digits, . - + "
                   "% =");
    expect_refusal(send_with(kTo + kFrom + "Message-ID: 87652491@example.com\n"),
                   ParseError::BadMessageId,
                   "line 4 (Message-ID): \"87652491@example.com\" not an ident of 4..32 "
                   "letters, digits, . - + % =");
    expect_refusal(send_with(kTo + kFrom + "Message-ID: m5gid001\nByte-Range: 10-3/20\n"),
                   ParseError::BadByteRange, "line 5 (Byte-Range): end 3 before start 10");
    expect_refusal(send_with(kTo + kFrom + "Message-ID: m5gid001\nSuccess-Report: partial\n"),
                   ParseError::BadReportHeader,
                   "line 5 (Success-Report): \"partial\" not yes or no");
    expect_refusal(send_with(kTo + kFrom + "Message-ID: m5gid001\nFailure-Report: maybe\n"),
                   ParseError::BadReportHeader,
                   "line 5 (Failure-Report): \"maybe\" not yes, no or partial");
    expect_refusal(wire("MSRP tr4nsact REPORT\n" + kTo + kFrom +
                        "Message-ID: m5gid001\nStatus: 200 OK\n-------tr4nsact$\n"),
                   ParseError::BadStatusHeader,
                   "line 5 (Status): no status code after the namespace");
    expect_refusal(wire("MSRP tr4nsact SEND\n" + kTo + kFrom +
                        "Message-ID: m5gid001\nContent-Type: text\n\nx\n-------tr4nsact$\n"),
                   ParseError::BadContentType,
                   "line 5 (Content-Type): \"text\" not type/subtype[;params]");
}

TEST(MsrpParserRefusals, ContentStuffRules) {
    expect_refusal(wire("MSRP tr4nsact SEND\n" + kTo + kFrom +
                        "Message-ID: m5gid001\n\nuntyped\n-------tr4nsact$\n"),
                   ParseError::BodyWithoutContentType,
                   "a body (a blank line after the headers) without Content-Type");
    expect_refusal(wire("MSRP tr4nsact 200 OK\n" + kTo + kFrom + "\nbody\n-------tr4nsact$\n"),
                   ParseError::ResponseWithBody,
                   "a response with a body (a blank line after its headers)");
    expect_refusal(send_with(kTo + kFrom + "Message-ID: m5gid001\nByte-Range: 1-3/10\n"),
                   ParseError::BodyExceedsByteRange, "Byte-Range 1-3/10 is 3 bytes, the data 5");
}

TEST(MsrpParserRefusals, EndLineAfterHeaders) {
    const std::string head = wire("MSRP tr4nsact SEND\n" + kTo + kFrom + "Message-ID: m5gid001\n");
    expect_refusal(head + wire("-------0th3rtid$\n"), ParseError::BadEndLine,
                   "line 5: \"-------0th3rtid$\" after the headers is not the end line "
                   "\"-------tr4nsact\"");
    expect_refusal(head + wire("-------tr4nsact!\n"), ParseError::BadEndLine,
                   "end line flag \"!\" not $, + or #");
    expect_refusal(head + "-------tr4nsact$ \r\n", ParseError::BadEndLine,
                   "end line not followed by CRLF");
    expect_refusal(head + "-------tr4nsact$\n", ParseError::BadEndLine,
                   "end line not followed by CRLF");
    // A longer id that starts with ours is not ours.
    expect_refusal(head + wire("-------tr4nsactX$\n"), ParseError::BadEndLine,
                   "end line flag \"X\" not $, + or #");
}

TEST(MsrpParserRefusals, TruncatedAndTrailing) {
    const std::string whole = send_with(kTo + kFrom + "Message-ID: m5gid001\n");
    expect_refusal("", ParseError::Truncated, "start line without its CRLF");
    expect_refusal("MSRP tr4n", ParseError::Truncated, "start line without its CRLF");
    expect_refusal(wire("MSRP tr4nsact SEND\n" + kTo), ParseError::Truncated,
                   "headers without a blank line or an end line after them");
    expect_refusal(
        wire("MSRP tr4nsact SEND\n" + kTo + kFrom + "Message-ID: m5gid001\n") + "-------tr4n",
        ParseError::Truncated, "end line \"-------tr4nsact\" incomplete");
    expect_refusal(whole.substr(0, whole.size() - 1), ParseError::Truncated,
                   "end line \"-------tr4nsact\" missing in the 24 bytes after the headers");
    expect_refusal(whole.substr(0, whole.find("hello") + 5), ParseError::Truncated,
                   "end line \"-------tr4nsact\" missing in the 5 bytes after the headers");
    expect_refusal(whole + "MSRP", ParseError::TrailingBytes, "4 bytes after the end line");
    expect_refusal(whole + "\r\n", ParseError::TrailingBytes, "2 bytes after the end line");
}

TEST(MsrpParserRefusals, HeaderLimit) {
    ParseLimits limits;
    limits.max_header_bytes = 200;
    const std::string big =
        send_with(kTo + kFrom + "Message-ID: m5gid001\nX-Pad: " + std::string(100, 'p') + "\n");
    expect_refusal(big, ParseError::HeaderTooLarge, "start line and headers over 200 bytes",
                   limits);
    // One line that never ends: refused as soon as it is over the limit.
    expect_refusal("MSRP " + std::string(300, 'a'), ParseError::HeaderTooLarge,
                   "start line and headers over 200 bytes", limits);
    // Exactly at the limit passes.
    const std::string head = wire("MSRP tr4nsact SEND\n" + kTo + kFrom + "Message-ID: m5gid001\n");
    limits.max_header_bytes = head.size();
    EXPECT_TRUE(parse_message(head + wire("-------tr4nsact$\n"), limits).ok());
    limits.max_header_bytes = head.size() - 1;
    expect_refusal(head + wire("-------tr4nsact$\n"), ParseError::HeaderTooLarge,
                   "start line and headers over " + std::to_string(head.size() - 1) + " bytes",
                   limits);
}

TEST(MsrpParserRefusals, BodyLimit) {
    ParseLimits limits;
    limits.max_body_bytes = 10;
    const std::string headers = kTo + kFrom + "Message-ID: m5gid001\n";
    EXPECT_TRUE(parse_message(send_with(headers, std::string(10, 'b')), limits).ok());
    expect_refusal(send_with(headers, std::string(11, 'b')), ParseError::BodyTooLarge,
                   "data of 11 bytes over the limit of 10", limits);
    // Without an end line in sight: refused once the data is past the limit.
    const std::string open =
        wire("MSRP tr4nsact SEND\n" + headers + "Content-Type: text/plain\n\n") +
        std::string(100, 'b');
    expect_refusal(open, ParseError::BodyTooLarge,
                   "end line \"-------tr4nsact\" missing within 10 bytes of data", limits);
}

TEST(MsrpParserRefusals, ErrorNamesAreStable) {
    EXPECT_EQ(parse_error_name(ParseError::None), "none");
    EXPECT_EQ(parse_error_name(ParseError::BadByteRange), "bad_byte_range");
    EXPECT_EQ(parse_error_name(ParseError::TrailingBytes), "trailing_bytes");
    EXPECT_EQ(kParseErrorCount, 23U);
}

}  // namespace
}  // namespace isthmus::msrp
