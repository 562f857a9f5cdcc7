// How messages are placed in transactions (RFC 3261 17.1.3, 17.2.3, 9.2) and
// the few messages a transaction makes itself (the ACK for a 300-699,
// 17.1.1.3; the 100 Trying, 17.2.1 and 8.2.6). Pure functions used by
// TransactionLayer, public so that the proxy core and the tests can use
// the same rules.
//
// Only RFC 3261 branches (those starting with the magic cookie z9hG4bK) are
// matched. RFC 2543 matching (Request-URI, To tag, From tag, Call-ID, CSeq,
// top Via) is not supported: such requests are refused with
// Reject::NoMagicCookie and the caller answers 400 or drops them.
//
// Thread-safety: pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sip/headers.hpp"
#include "sip/message.hpp"
#include "sip/transaction.hpp"

namespace isthmus::sip {

// Response classes (RFC 3261 7.2): 1xx provisional, 2xx success.
constexpr bool provisional(uint16_t code) {
    return code < 200;
}
constexpr bool success(uint16_t code) {
    return code >= 200 && code < 300;
}

// RFC 3261 8.1.1.7.
inline constexpr std::string_view kMagicCookie = "z9hG4bK";

// The branch starts with the magic cookie (case-sensitive) and has more
// after it.
bool has_magic_cookie(std::string_view branch);

// A fresh branch for a client transaction: the magic cookie, 16 hex digits
// of `random` and the hex of `counter` ("z9hG4bK0123456789abcdef.1f"). With
// a counter that never repeats in a layer and a random value per layer (or
// per call) it is unique in space and time as 8.1.1.7 asks.
std::string make_branch(uint64_t random, uint64_t counter);

// The top Via of a message, parsed; reject is MissingVia or MalformedVia
// when there is none to use (then `via` is unspecified).
// `via` views the message's field: valid while the message is unchanged.
struct TopVia {
    Reject reject = Reject::None;
    ViaView via;
};
TopVia top_via(const Message& m);
TopVia top_via(Message&&) = delete;  // the view would outlive its message

// The key of a client transaction (17.1.3): the branch of the top Via of
// the request and the CSeq method. A response matches the transaction whose
// key equals client_key(its top Via branch, its CSeq method).
std::string client_key(std::string_view branch, std::string_view cseq_method);

// The sent-by of a Via (host and port) in a form where equal means
// equivalent: names in lower case, IPv4 and IPv6 addresses in one canonical
// spelling (so [2001:DB8::1] and [2001:db8:0::1] agree), no port and an
// explicit one differ (17.2.3 compares them as written).
std::string normalized_sent_by(const ViaView& via);

// The key of a server transaction (17.2.3): the top Via's branch and
// sent-by, and the method with ACK counted as INVITE. `method` is the
// request's; pass "INVITE" to find the INVITE a CANCEL cancels (9.2).
// Expects has_magic_cookie(branch).
std::string server_key(const ViaView& top, std::string_view method);

// A response to `request` (8.2.6.2): its Via fields in order, From, To
// (as they are: add a tag yourself for anything but 100), Call-ID, CSeq,
// and Timestamp (8.2.6.1), no body.
Message make_response_to(const Message& request, uint16_t status_code,
                         std::string_view reason_phrase);

// The ACK for a 300-699 to `invite` (17.1.1.3): the INVITE's Request-URI,
// top Via only, Max-Forwards (70 if it has none), Route fields, From,
// Call-ID and CSeq number (method ACK), and the To of `response` (with its
// tag); no body.
Message make_ack_for(const Message& invite, const Message& response);

}  // namespace isthmus::sip
