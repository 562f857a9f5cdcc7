// The SDP serializer: a SessionDescription to the bytes of an
// application/sdp body.
//
// The session-level lines, then each media description (its m= line from
// MediaLine, then its lines), each line as `<type>=<value>` CRLF in the
// order the description holds them: parse_sdp keeps the wire order, and the
// editing API of description.hpp inserts in the RFC 8866 order, so nothing
// is reordered here.
//
// Guarantees, for every d that parse_sdp returned from bytes x:
//  - parse_sdp(serialize(d)) == d (with limits that allow the CR added to
//    each LF-only line end);
//  - serialize(d) == x when x is well formed: CRLF line ends, the last line
//    ended, and m= lines with one SP between their words (ports without
//    leading zeros) - the other lines are written byte for byte.
//
// Against injection from edited values: a CR, LF or NUL in a line's value
// is written as SP; in an m= line's words, white space and control
// characters are written as '-' (an empty word as "-"); a line whose type
// is not an ASCII letter, or is 'm', is not written.
//
// Pure function; thread-safety: any thread.
#pragma once

#include <string>

#include "sdp/description.hpp"

namespace isthmus::sdp {

std::string serialize(const SessionDescription& d);

}  // namespace isthmus::sdp
