// The back-to-back path rewrite (msrp/relay.hpp): a chat message from the
// browser's session to the IMS UE's and its REPORT back, each hop answered
// by the gateway itself; the checks on arriving requests; the refusals.
#include "msrp/relay.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "msrp/fields.hpp"
#include "msrp/parser.hpp"
#include "msrp/reply.hpp"
#include "msrp/serializer.hpp"
#include "msrp_test_util.hpp"

namespace isthmus::msrp {
namespace {

using test::parse_ok;
using test::uri;
using test::wire;

// The browser's session: the gateway's URI there (what the IMS-ALG wrote
// in the SDP toward the browser) and the browser's a=path.
Leg browser_leg() {
    return Leg{uri("msrp://gw-w2.example.org:2855/b4rws3r51d;ws"),
               {uri("msrp://df7jal23ls0d.invalid:2855/brw5id00;ws")}};
}
// The UE's session: the gateway's IMS-side URI and the UE's a=path (here
// through an RFC 4976 relay of the IMS).
Leg ims_leg() {
    return Leg{uri("msrp://gw-mw.example.org:2855/1m55id01;tcp"),
               *parse_path("msrp://relay.ims.example.net:2855/rly;tcp "
                           "msrp://ue.ims.example.net:7394/u3s1d;tcp")};
}

const std::string kBrowserSend = wire(
    "MSRP b7c0a1d2 SEND\n"
    "To-Path: msrp://gw-w2.example.org:2855/b4rws3r51d;ws\n"
    "From-Path: msrp://df7jal23ls0d.invalid:2855/brw5id00;ws\n"
    "Message-ID: msg0001a\n"
    "Byte-Range: 1-15/15\n"
    "Success-Report: yes\n"
    "Content-Type: message/cpim\n"
    "\n"
    "Hello from W2\n"
    "\n"
    "-------b7c0a1d2$\n");

TEST(MsrpRelay, AddressedToAndFromPeer) {
    const Message m = parse_ok(kBrowserSend);
    EXPECT_TRUE(addressed_to(m, browser_leg().self));
    EXPECT_FALSE(addressed_to(m, ims_leg().self));
    EXPECT_TRUE(from_peer(m, browser_leg()));
    EXPECT_FALSE(from_peer(m, ims_leg()));
    // RFC 4975 6.1: case of the host does not matter, of the session-id does.
    EXPECT_TRUE(addressed_to(m, uri("msrp://GW-W2.example.org:2855/b4rws3r51d;WS")));
    EXPECT_FALSE(addressed_to(m, uri("msrp://gw-w2.example.org:2855/B4RWS3R51D;ws")));
    EXPECT_FALSE(addressed_to(Message{}, browser_leg().self));
    EXPECT_FALSE(from_peer(Message{}, browser_leg()));
}

TEST(MsrpRelay, SendFromTheBrowserToTheUe) {
    const Message in = parse_ok(kBrowserSend);
    ASSERT_TRUE(addressed_to(in, browser_leg().self));

    // The gateway answers the browser itself ...
    ASSERT_TRUE(response_wanted(in, 200));
    EXPECT_EQ(serialize(make_response(in, 200)),
              wire("MSRP b7c0a1d2 200 OK\n"
                   "To-Path: msrp://df7jal23ls0d.invalid:2855/brw5id00;ws\n"
                   "From-Path: msrp://gw-w2.example.org:2855/b4rws3r51d;ws\n"
                   "-------b7c0a1d2$\n"));

    // ... and sends the message on as a new transaction on the IMS side.
    std::string why;
    const auto out = relay_request(in, ims_leg(), "1m5tr4n5", &why);
    ASSERT_TRUE(out.has_value()) << why;
    EXPECT_EQ(serialize(*out), wire("MSRP 1m5tr4n5 SEND\n"
                                    "To-Path: msrp://relay.ims.example.net:2855/rly;tcp "
                                    "msrp://ue.ims.example.net:7394/u3s1d;tcp\n"
                                    "From-Path: msrp://gw-mw.example.org:2855/1m55id01;tcp\n"
                                    "Message-ID: msg0001a\n"
                                    "Byte-Range: 1-15/15\n"
                                    "Success-Report: yes\n"
                                    "Content-Type: message/cpim\n"
                                    "\n"
                                    "Hello from W2\n"
                                    "\n"
                                    "-------1m5tr4n5$\n"));
    // Only the transaction id and the paths changed.
    Message same = *out;
    same.transaction_id = in.transaction_id;
    same.to_path = in.to_path;
    same.from_path = in.from_path;
    EXPECT_EQ(same, in);
}

TEST(MsrpRelay, ReportFromTheUeBackToTheBrowser) {
    const Message in = parse_ok(kBrowserSend);
    const Message sent = *relay_request(in, ims_leg(), "1m5tr4n5");

    // The UE (past the IMS relay, which took its URI off the To-Path and
    // put its own first in From-Path) reports success.
    Message report = make_report(sent, "u3r3p0rt", whole_message_range(sent));
    report.to_path = {ims_leg().self};
    report.from_path = {uri("msrp://relay.ims.example.net:2855/rly;tcp"),
                        uri("msrp://ue.ims.example.net:7394/u3s1d;tcp")};
    const Message arrived = parse_ok(serialize(report));
    ASSERT_TRUE(addressed_to(arrived, ims_leg().self));
    EXPECT_TRUE(from_peer(arrived, ims_leg()));
    EXPECT_FALSE(response_wanted(arrived, 200));  // REPORTs get no response

    const auto back = relay_request(arrived, browser_leg(), "b4ckr3p0");
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(serialize(*back), wire("MSRP b4ckr3p0 REPORT\n"
                                     "To-Path: msrp://df7jal23ls0d.invalid:2855/brw5id00;ws\n"
                                     "From-Path: msrp://gw-w2.example.org:2855/b4rws3r51d;ws\n"
                                     "Message-ID: msg0001a\n"
                                     "Byte-Range: 1-15/15\n"
                                     "Status: 000 200 OK\n"
                                     "-------b4ckr3p0$\n"));
}

TEST(MsrpRelay, ChunksKeepTheirRangesAndFlags) {
    Message chunk = parse_ok(kBrowserSend);
    chunk.byte_range = ByteRange{1, std::nullopt, std::nullopt};
    chunk.continuation = Continuation::More;
    const auto out = relay_request(chunk, ims_leg(), "chunk001");
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->byte_range, chunk.byte_range);
    EXPECT_EQ(out->continuation, Continuation::More);
    chunk.continuation = Continuation::Aborted;
    EXPECT_EQ(relay_request(chunk, ims_leg(), "chunk002")->continuation, Continuation::Aborted);
}

TEST(MsrpRelay, RewritePathsInPlace) {
    Message m = parse_ok(kBrowserSend);
    rewrite_paths(m, ims_leg());
    EXPECT_EQ(m.to_path, ims_leg().peer_path);
    EXPECT_EQ(m.from_path, std::vector<Uri>{ims_leg().self});
    EXPECT_EQ(m.transaction_id, "b7c0a1d2");
}

TEST(MsrpRelay, Refusals) {
    const Message in = parse_ok(kBrowserSend);
    std::string why;
    EXPECT_FALSE(relay_request(make_response(in, 200), ims_leg(), "1m5tr4n5", &why));
    EXPECT_EQ(why, "a response is not relayed");
    EXPECT_FALSE(relay_request(in, ims_leg(), "abc", &why));
    EXPECT_EQ(why, "transaction id not an ident of 4..32");
    EXPECT_FALSE(relay_request(in, ims_leg(), "bad id!", &why));
    EXPECT_EQ(why, "transaction id not an ident of 4..32");
    Message quoting = in;
    quoting.body = "see:\r\n-------1m5tr4n5$\r\n";
    EXPECT_FALSE(relay_request(quoting, ims_leg(), "1m5tr4n5", &why));
    EXPECT_EQ(why, "the transaction id's end line occurs in the body");
    EXPECT_TRUE(relay_request(quoting, ims_leg(), "0th3r1d5", &why).has_value());
    Leg nowhere = ims_leg();
    nowhere.peer_path.clear();
    EXPECT_FALSE(relay_request(in, nowhere, "1m5tr4n5", &why));
    EXPECT_EQ(why, "the outgoing leg has no peer path");
}

}  // namespace
}  // namespace isthmus::msrp
