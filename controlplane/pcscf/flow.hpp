// The seam between the eP-CSCF's transports and its sans-I/O core (issue 6).
//
// Transports (W2: WebSocket/secure WebSocket per RFC 7118; Mw: UDP and TCP
// toward the IMS) own sockets and framing only: each whole SIP message they
// receive goes to the core as bytes with the Peer it came from; they send
// what the core gives them to the Peer it names, and tell the core when a
// flow (a WebSocket or TCP connection) closes. The core parses, validates,
// answers malformed requests, runs transactions and the P-CSCF rules, and
// never sees a socket.
//
// A Peer (sip/transaction.hpp) names where a message came from or goes to:
// its transport, the flow (a connection id the transport chose, unique for
// the process's life; 0 for UDP), the address (16 octets, IPv4 as
// ::ffff:a.b.c.d) and port. For W2, `flow` is what the RFC 5626 flow token
// in Path names: a request for a flow that is gone gets 430.
//
// Threads: the core is single-threaded (one strand); transports post to it.
#pragma once

#include <cstdint>
#include <string>

#include "sip/transaction.hpp"

namespace isthmus::pcscf {

using sip::Peer;
using sip::Transport;

// What the core asks of the transports, in order.
struct Output {
    enum class Kind : uint8_t {
        Send,       // send `bytes` (one whole SIP message) to `to`
        CloseFlow,  // close the connection `to.flow` (e.g. a fatal protocol error)
    };
    Kind kind = Kind::Send;
    Peer to;
    std::string bytes;
};

// IPv4 address as a Peer stores it (::ffff:a.b.c.d).
inline std::array<uint8_t, 16> v4_mapped(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

}  // namespace isthmus::pcscf
