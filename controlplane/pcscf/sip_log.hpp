// The eP-CSCF's debug lines about its SIP traffic (issue 10; docs/
// operations.md, "Logs"): "event=sip_in" / "event=sip_out" with what a
// message is and where it came from or goes to, one line per message at
// level debug only.
//
// Pure functions over the bytes on the wire (no parse of the whole
// message, no I/O): only the start line's method or status code, the CSeq
// method and the Call-ID are read. Never a header that may carry a
// credential (Authorization, Proxy-Authorization, a token), never a body.
// Values are escaped (log::escape_value): a hostile Call-ID cannot end the
// line or forge a key. Any thread.
#pragma once

#include <string>
#include <string_view>

#include "pcscf/flow.hpp"

namespace isthmus::pcscf {

// "method=INVITE call_id=a84b4c76e66710" for a request;
// "status=180 cseq=INVITE call_id=a84b4c76e66710" for a response. A start
// line that is neither gives "start=unreadable"; a missing Call-ID or CSeq
// gives "-".
std::string sip_log_fields(std::string_view message);

// "transport=ws peer=198.51.100.7:50312 flow=12" (IPv6 in brackets; flow=0
// for UDP).
std::string peer_log_fields(const Peer& peer);

}  // namespace isthmus::pcscf
