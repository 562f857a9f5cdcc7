// The eP-CSCF's SIP debug line fields (controlplane/pcscf/sip_log.hpp): what
// a message is, from its start line, CSeq and Call-ID only; never a
// credential; hostile values escaped.
#include "pcscf/sip_log.hpp"

#include <gtest/gtest.h>

#include <string>

namespace isthmus::pcscf {
namespace {

TEST(SipLog, Request) {
    const std::string invite =
        "INVITE sip:bob@ims.example.net SIP/2.0\r\n"
        "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n"
        "Max-Forwards: 70\r\n"
        "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
        "CSeq: 314159 INVITE\r\n"
        "Authorization: Digest username=\"alice\", "
        "response=\"6629fae49393a05397450978507c4ef1\"\r\n"
        "Content-Length: 0\r\n\r\n";
    EXPECT_EQ(sip_log_fields(invite), "method=INVITE call_id=a84b4c76e66710@pc33.atlanta.com");
}

TEST(SipLog, Response) {
    const std::string ok =
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
        "cseq:   2 REGISTER\r\n"
        "i: compact-form-call-id\r\n"
        "Content-Length: 0\r\n\r\n";
    EXPECT_EQ(sip_log_fields(ok), "status=200 cseq=REGISTER call_id=compact-form-call-id");
}

TEST(SipLog, MissingHeadersAndBodiesAreNotRead) {
    EXPECT_EQ(sip_log_fields("OPTIONS sip:x SIP/2.0\r\n\r\nCall-ID: in-the-body\r\n"),
              "method=OPTIONS call_id=-");
    EXPECT_EQ(sip_log_fields("SIP/2.0 100 Trying\n\n"), "status=100 cseq=- call_id=-");
}

TEST(SipLog, UnreadableStartLines) {
    EXPECT_EQ(sip_log_fields(""), "start=unreadable");
    EXPECT_EQ(sip_log_fields("\r\n\r\n"), "start=unreadable");
    EXPECT_EQ(sip_log_fields("SIP/2.0 2x0 OK\r\n"), "start=unreadable");
    EXPECT_EQ(sip_log_fields("HELLO\r\n"), "start=unreadable");
    EXPECT_EQ(sip_log_fields(" INVITE sip:x SIP/2.0\r\n"), "start=unreadable");
}

// A Call-ID or method that would end the line or forge a key is escaped.
TEST(SipLog, HostileValuesAreEscaped) {
    const std::string m =
        "IN\"VITE sip:x SIP/2.0\r\n"
        "Call-ID: a b level=error\r\n\r\n";
    EXPECT_EQ(sip_log_fields(m), "method=IN%22VITE call_id=a%20b%20level=error");
    const std::string lf = std::string("MESSAGE sip:x SIP/2.0\r\nCall-ID: x\ry\r\n\r\n");
    EXPECT_EQ(sip_log_fields(lf), "method=MESSAGE call_id=x%0Dy");
    const std::string long_id =
        "MESSAGE sip:x SIP/2.0\r\nCall-ID: " + std::string(500, 'c') + "\r\n\r\n";
    EXPECT_EQ(sip_log_fields(long_id), "method=MESSAGE call_id=" + std::string(128, 'c') + "...");
}

TEST(SipLog, Peers) {
    Peer ws;
    ws.transport = Transport::Ws;
    ws.flow = 12;
    ws.address = v4_mapped(198, 51, 100, 7);
    ws.port = 50312;
    EXPECT_EQ(peer_log_fields(ws), "transport=ws peer=198.51.100.7:50312 flow=12");
    Peer udp;
    udp.transport = Transport::Udp;
    udp.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    udp.port = 5060;
    EXPECT_EQ(peer_log_fields(udp), "transport=udp peer=[2001:db8::1]:5060 flow=0");
}

}  // namespace
}  // namespace isthmus::pcscf
