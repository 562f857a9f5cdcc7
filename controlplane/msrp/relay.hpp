// How the gateway's chat relay (issue 9) moves an MSRP request from one
// session to the other.
//
// The choice: a back-to-back endpoint, not an RFC 4976 relay. The gateway
// terminates two MSRP sessions, one toward the browser (MSRP over a data
// channel, RFC 8873) and one toward the IMS UE (MSRP over TCP, RFC 4975),
// each with its own a=path URI in the SDP the IMS-ALG writes toward that
// side. To each peer it is the far endpoint: the browser's requests carry
// To-Path = the gateway's browser-side URI, the UE's carry To-Path = its
// IMS-side URI.
//
// An RFC 4976 relay instead stays inside one session: it checks that the
// first To-Path URI is its own, takes it off, and puts its own URI first in
// From-Path, so the originator's URI travels to the destination (and the
// destination's REPORTs find their way back along From-Path). That cannot
// work here: the browser's URI means nothing on the IMS side (its
// transport is a data channel the UE cannot reach), and the UE negotiated
// its session with the gateway's IMS-side URI, not the browser's. Nor is
// it enough to swap one entry (the first From-Path URI, the last To-Path
// URI): a From-Path may carry relays of the arriving side, and a To-Path
// ending in the gateway's own URI has no further hop. So both paths are
// replaced whole, per leg:
//   To-Path   = the outgoing leg's peer path (that peer's a=path: first hop
//               first, the peer's own URI last; RFC 4975 8)
//   From-Path = the gateway's own URI on that leg
// Transactions are hop by hop: the gateway answers each request itself on
// the arriving leg (make_response, reply.hpp) and sends the relayed copy as
// a new transaction with a new transaction id. The Message-ID is end to
// end and is kept, so a REPORT from the far endpoint (also relayed with
// relay_request) names the message the originator sent.
//
// Pure functions; no transaction ids are invented (the caller owns the
// random source); thread-safety: any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "msrp/message.hpp"
#include "msrp/uri.hpp"

namespace isthmus::msrp {

// One of the gateway's two MSRP sessions.
struct Leg {
    Uri self;                    // the gateway's URI on this leg (its a=path)
    std::vector<Uri> peer_path;  // the peer's a=path: first hop first, peer last
};

// True when `m` is addressed to `self`: its first To-Path URI equals it by
// RFC 4975 6.1 (uri_equal). A request that fails this gets 481 (RFC 4975
// 7.3: no such session here).
bool addressed_to(const Message& m, const Uri& self);

// True when `m` came from the peer of `leg`: its last From-Path URI (the
// originator) equals the last URI of the leg's peer path.
bool from_peer(const Message& m, const Leg& leg);

// Replaces the paths of `m` for sending on `out`: To-Path = out.peer_path,
// From-Path = [out.self]. Nothing else changes.
void rewrite_paths(Message& m, const Leg& out);

// The request `in` (a SEND, or a REPORT, received on the other leg) as the
// gateway sends it on `out`: a copy with `transaction_id` and the paths of
// rewrite_paths; Message-ID, Byte-Range, Success-/Failure-Report, Status,
// Content-Type, other headers, body and continuation flag as received.
// nullopt, with `why` when given, when: `in` is a response (each leg
// answers its own); `transaction_id` is not an ident (RFC 4975 9); its end
// line occurs in the body (end_line_in_body: pick another id); `out` has
// an empty peer path.
std::optional<Message> relay_request(const Message& in, const Leg& out,
                                     std::string_view transaction_id, std::string* why = nullptr);

}  // namespace isthmus::msrp
