// What an MSRP endpoint sends back for a request it received: the
// transaction response (RFC 4975 7.2) and the REPORT on a SEND (RFC 4975
// 7.1.2). Both are built from the request alone; the gateway uses them on
// each of its two sessions (relay.hpp), answering every hop itself.
//
// Which way the paths go: a request arrives with To-Path = this hop first
// (an endpoint, or a B2BUA such as the gateway, sees only its own URI
// there, RFC 4976 relays having taken theirs off) and From-Path = the
// previous hop first, the originator last.
//
// Pure functions; no transaction ids are invented (the caller owns the
// random source); thread-safety: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "msrp/message.hpp"

namespace isthmus::msrp {

// The response to `request` (RFC 4975 7.2): its transaction id; To-Path =
// the request's first From-Path URI (the previous hop, only: responses go
// one hop); From-Path = the request's first To-Path URI (this hop); the
// code and comment (default_comment(code) when `comment` is nullopt); no
// other header, no body, end line '$'. A request without a To-Path or
// From-Path (not one the parser gives) yields empty paths.
Message make_response(const Message& request, uint16_t code,
                      std::optional<std::string_view> comment = std::nullopt);

// Whether a response with `code` is to be sent at all (RFC 4975 7.2, 7.1.2):
// never to a REPORT; not to a request with Failure-Report "no"; only an
// error (code other than 200) to one with Failure-Report "partial";
// otherwise yes (Failure-Report absent means "yes").
bool response_wanted(const Message& request, uint16_t code);

// Whether the sender of `send` asked for a success REPORT once the whole
// message has arrived (Success-Report: yes; absent means no), or for a
// failure REPORT (Failure-Report yes or partial; absent means yes).
bool success_report_wanted(const Message& send);
bool failure_report_wanted(const Message& send);

// A REPORT about `send` (RFC 4975 7.1.2), with the caller's new transaction
// id: To-Path = the SEND's whole From-Path (back to its originator);
// From-Path = the SEND's first To-Path URI (this hop); Message-ID copied;
// Byte-Range = `range` (for a success report, the octets received: the
// whole message is 1-total/total); Status: 000 code [comment]
// (default_comment(code) when nullopt); no Success-Report or
// Failure-Report (7.1.2 forbids them in a REPORT); no body.
Message make_report(const Message& send, std::string_view transaction_id, const ByteRange& range,
                    uint16_t code = status::kOk,
                    std::optional<std::string_view> comment = std::nullopt);

// The range a success REPORT covers for a SEND that completed its
// message: 1-total/total, where total is the Byte-Range total, or the
// chunk's end when the total is '*', or the body size when the SEND has
// no Byte-Range (a single-chunk message).
ByteRange whole_message_range(const Message& send);

}  // namespace isthmus::msrp
