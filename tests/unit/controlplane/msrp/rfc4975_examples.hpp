// MSRP messages from the RFCs, octet for octet, each line ending in CRLF as
// on the wire (RFC 4975 9: every line, the end line included).
//
// Sections 4 and 11.1 give Byte-Ranges that count the CRLF before the end
// line (1-25/25 for the 23 octets of "Hey Bob, are you there?", 1-16/16 for
// the 14 of "Hi, I'm Alice!"); the data is what precedes that CRLF (RFC
// 4975 9: data CRLF end-line), so these parse as chunks shorter than their
// range, which receivers accept (an interrupted chunk counts by the octets
// that came).
#pragma once

#include <string_view>

namespace isthmus::msrp::rfc {

// RFC 4975 4: Alice's SEND to Bob ...
inline constexpr std::string_view kSection4Send =
    "MSRP a786hjs2 SEND\r\n"
    "To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n"
    "From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n"
    "Message-ID: 87652491\r\n"
    "Byte-Range: 1-25/25\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Hey Bob, are you there?\r\n"
    "-------a786hjs2$\r\n";

// ... and Bob's response.
inline constexpr std::string_view kSection4Response =
    "MSRP a786hjs2 200 OK\r\n"
    "To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n"
    "From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n"
    "-------a786hjs2$\r\n";

// RFC 4975 7.1: a message of 8 octets sent in two chunks; the first does
// not know its end yet (range-end '*') and is continued ('+').
inline constexpr std::string_view kSection71Chunk1 =
    "MSRP dkei38sd SEND\r\n"
    "To-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp\r\n"
    "From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
    "Message-ID: 4564dpWd\r\n"
    "Byte-Range: 1-*/8\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "abcd\r\n"
    "-------dkei38sd+\r\n";

inline constexpr std::string_view kSection71Chunk2 =
    "MSRP dkei38ia SEND\r\n"
    "To-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp\r\n"
    "From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
    "Message-ID: 4564dpWd\r\n"
    "Byte-Range: 5-8/8\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "EFGH\r\n"
    "-------dkei38ia$\r\n";

// RFC 4975 11.1 (basic IM session): Alice's first message ...
inline constexpr std::string_view kSection111Send =
    "MSRP d93kswow SEND\r\n"
    "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
    "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n"
    "Message-ID: 12339sdqwer\r\n"
    "Byte-Range: 1-16/16\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Hi, I'm Alice!\r\n"
    "-------d93kswow$\r\n";

// ... and Bob's 200.
inline constexpr std::string_view kSection111Response =
    "MSRP d93kswow 200 OK\r\n"
    "To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n"
    "From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
    "-------d93kswow$\r\n";

// RFC 4975 11.5 (positive report): Bob's success REPORT on Alice's SEND of
// 106 octets (Message-ID 12339sdqwer, Success-Report: yes).
inline constexpr std::string_view kSection115Report =
    "MSRP dkei38sd REPORT\r\n"
    "To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n"
    "From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
    "Message-ID: 12339sdqwer\r\n"
    "Byte-Range: 1-106/106\r\n"
    "Status: 000 200 OK\r\n"
    "-------dkei38sd$\r\n";

// RFC 4976 (relays): an AUTH to a relay whose URI has a userinfo and no
// port or session-id.
inline constexpr std::string_view kRfc4976Auth =
    "MSRP 49fh AUTH\r\n"
    "To-Path: msrps://alice@intra.example.com;tcp\r\n"
    "From-Path: msrps://alice.example.com:9892/98cjs;tcp\r\n"
    "-------49fh$\r\n";

}  // namespace isthmus::msrp::rfc
