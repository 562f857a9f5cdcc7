// The per-session MSRP bridge (msrp/bridge.hpp): a chat message each way
// with the gateway answering each hop and relaying with new paths and ids;
// a TCP stream in random pieces; chunks passing through and a large chunk
// re-chunked for the data channel; REPORTs relayed unanswered; 481, 400,
// 501 and Failure-Report no; responses to relayed requests consumed,
// turned into failure REPORTs or dropped; the failures (TCP garbage, a
// backlog over its bound, a broken id source) and closing.
#include "msrp/bridge.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "msrp/fields.hpp"
#include "msrp/parser.hpp"
#include "msrp/serializer.hpp"
#include "msrp_test_util.hpp"

namespace isthmus::msrp {
namespace {

using test::parse_ok;
using test::uri;
using test::wire;

const char* const kGwChannel = "msrp://gw-w2.example.org:2855/b4rws3r51d;dc";
const char* const kBrowser = "msrp://df7jal23ls0d.invalid:2855/brw5id00;dc";
const char* const kGwIms = "msrp://gw-mw.example.org:2855/1m55id01;tcp";
const char* const kImsRelay = "msrp://relay.ims.example.net:2855/rly;tcp";
const char* const kUe = "msrp://ue.ims.example.net:7394/u3s1d;tcp";

Leg channel_leg() {
    return Leg{uri(kGwChannel), {uri(kBrowser)}};
}
Leg tcp_leg() {
    return Leg{uri(kGwIms), {uri(kImsRelay), uri(kUe)}};
}

std::span<const uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A SEND (or, with `method`, another request) as a peer writes it.
std::string request(std::string_view tid, std::string_view to, std::string_view from,
                    std::string_view body, std::string_view extra_headers = "",
                    std::string_view range = "", char flag = '$',
                    std::string_view method = "SEND") {
    std::string r = range.empty()
                        ? "1-" + std::to_string(body.size()) + "/" + std::to_string(body.size())
                        : std::string(range);
    std::string s = "MSRP " + std::string(tid) + " " + std::string(method) +
                    "\r\nTo-Path: " + std::string(to) + "\r\nFrom-Path: " + std::string(from) +
                    "\r\nMessage-ID: msg0001a\r\nByte-Range: " + r + "\r\n" +
                    std::string(extra_headers);
    if (!body.empty()) s += "Content-Type: text/plain\r\n\r\n" + std::string(body) + "\r\n";
    s += "-------" + std::string(tid) + flag + "\r\n";
    return s;
}

std::string browser_send(std::string_view tid, std::string_view body, std::string_view extra = "") {
    return request(tid, kGwChannel, kBrowser, body, extra);
}
std::string ue_send(std::string_view tid, std::string_view body, std::string_view extra = "",
                    std::string_view range = "", char flag = '$') {
    return request(tid, kGwIms, std::string(kImsRelay) + " " + kUe, body, extra, range, flag);
}

std::string response(std::string_view tid, int code, std::string_view to, std::string_view from) {
    return wire("MSRP " + std::string(tid) + " " + std::to_string(code) +
                "\nTo-Path: " + std::string(to) + "\nFrom-Path: " + std::string(from) +
                "\n-------" + std::string(tid) + "$\n");
}

struct Session {
    explicit Session(BridgeLimits limits = {}, bool connect = true)
        : max(limits.max_channel_message), bridge(channel_leg(), tcp_leg(), limits, [this] {
              char id[16];
              std::snprintf(id, sizeof id, "gw%06d", ++next_id);
              return std::string(id);
          }) {
        if (connect) bridge.tcp_connected();
    }

    BridgeState from_channel(std::string_view m) { return bridge.from_channel(bytes_of(m)); }
    BridgeState from_tcp(std::string_view b) { return bridge.from_tcp(bytes_of(b)); }

    // Every queued data channel message, parsed on its own (each must be
    // one whole MSRP message within the limit).
    std::vector<Message> channel_out() {
        std::vector<Message> out;
        while (auto m = bridge.next_channel_message()) {
            EXPECT_LE(m->size(), max);
            out.push_back(
                parse_ok(std::string_view(reinterpret_cast<const char*>(m->data()), m->size())));
        }
        return out;
    }
    // Everything queued for TCP, framed.
    std::vector<Message> tcp_out() {
        const auto pending = bridge.tcp_pending();
        std::vector<Message> out;
        StreamFramer framer;
        EXPECT_EQ(framer.feed(std::string_view(reinterpret_cast<const char*>(pending.data()),
                                               pending.size()),
                              out),
                  ParseError::None)
            << framer.reason();
        EXPECT_EQ(framer.buffered(), 0u);
        bridge.tcp_consumed(pending.size());
        return out;
    }
    uint64_t count(BridgeCounter c) const { return bridge.stats()[c]; }

    std::size_t max;
    int next_id = 0;
    Bridge bridge;
};

void expect_paths(const Message& m, const std::vector<Uri>& to, const std::vector<Uri>& from) {
    EXPECT_EQ(m.to_path, to) << to_string(m.to_path);
    EXPECT_EQ(m.from_path, from) << to_string(m.from_path);
}

TEST(MsrpBridge, SendFromTheBrowserReachesTcp) {
    Session s;
    ASSERT_EQ(s.from_channel(browser_send("b7c0a1d2", "Hello from W2", "Success-Report: yes\r\n")),
              BridgeState::Ok);

    // The browser gets its 200 from the gateway ...
    const auto ch = s.channel_out();
    ASSERT_EQ(ch.size(), 1u);
    EXPECT_TRUE(ch[0].is_response());
    EXPECT_EQ(ch[0].status_code, 200);
    EXPECT_EQ(ch[0].transaction_id, "b7c0a1d2");
    expect_paths(ch[0], {uri(kBrowser)}, {uri(kGwChannel)});

    // ... and the UE a new transaction with the IMS side's paths.
    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 1u);
    const Message& out = tcp[0];
    EXPECT_TRUE(out.is_send());
    EXPECT_EQ(out.transaction_id, "gw000001");
    expect_paths(out, {uri(kImsRelay), uri(kUe)}, {uri(kGwIms)});
    EXPECT_EQ(out.message_id, "msg0001a");
    EXPECT_EQ(out.body, "Hello from W2");
    EXPECT_EQ(out.byte_range, (ByteRange{1, 13, 13}));
    EXPECT_EQ(out.success_report, SuccessReport::Yes);
    EXPECT_EQ(out.content_type, "text/plain");

    EXPECT_EQ(s.count(BridgeCounter::RelayedToTcp), 1u);
    EXPECT_EQ(s.count(BridgeCounter::ResponsesSent), 1u);
    EXPECT_EQ(s.count(BridgeCounter::ChannelInMessages), 1u);
    EXPECT_EQ(s.count(BridgeCounter::TcpOutMessages), 1u);
    EXPECT_EQ(s.bridge.outstanding_to_tcp(), 1u);
}

TEST(MsrpBridge, SendFromTheUeReachesTheChannel) {
    Session s;
    ASSERT_EQ(s.from_tcp(ue_send("u3tr0001", "Hi browser")), BridgeState::Ok);

    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 1u);
    EXPECT_EQ(tcp[0].status_code, 200);
    EXPECT_EQ(tcp[0].transaction_id, "u3tr0001");
    // One hop back: the IMS relay, not the UE.
    expect_paths(tcp[0], {uri(kImsRelay)}, {uri(kGwIms)});

    const auto ch = s.channel_out();
    ASSERT_EQ(ch.size(), 1u);
    EXPECT_TRUE(ch[0].is_send());
    EXPECT_EQ(ch[0].transaction_id, "gw000001");
    expect_paths(ch[0], {uri(kBrowser)}, {uri(kGwChannel)});
    EXPECT_EQ(ch[0].body, "Hi browser");
    EXPECT_EQ(s.count(BridgeCounter::RelayedToChannel), 1u);
    EXPECT_EQ(s.bridge.outstanding_to_channel(), 1u);
}

TEST(MsrpBridge, TcpStreamInRandomPieces) {
    std::mt19937 rng(4975);
    std::string stream;
    std::vector<std::string> bodies;
    for (int i = 0; i < 20; ++i) {
        std::string body = "message " + std::to_string(i) + ": ";
        body.append(rng() % 300, static_cast<char>('a' + i));
        // A fake end line of another transaction inside the body.
        if (i % 3 == 0) body += "\r\n-------u3tr9999$\r\n";
        char tid[16];
        std::snprintf(tid, sizeof tid, "u3tr%04d", i);
        stream += ue_send(tid, body);
        bodies.push_back(body);
    }
    Session s;
    for (std::size_t off = 0; off < stream.size();) {
        const std::size_t n = std::min<std::size_t>(1 + rng() % 97, stream.size() - off);
        ASSERT_EQ(s.from_tcp(std::string_view(stream).substr(off, n)), BridgeState::Ok);
        off += n;
    }
    const auto ch = s.channel_out();
    ASSERT_EQ(ch.size(), bodies.size());
    for (std::size_t i = 0; i < ch.size(); ++i)
        EXPECT_EQ(ch[i].body, bodies[i]) << i;
    EXPECT_EQ(s.tcp_out().size(), bodies.size());  // a 200 for each
    EXPECT_EQ(s.count(BridgeCounter::TcpInBytes), stream.size());
}

TEST(MsrpBridge, ChunksPassThroughUnchanged) {
    Session s;
    const std::string stream = ue_send("u3tr0001", "first-", "", "1-6/17", '+') +
                               ue_send("u3tr0002", "second", "", "7-12/17", '+') +
                               ue_send("u3tr0003", "third", "", "13-17/17", '$');
    ASSERT_EQ(s.from_tcp(stream), BridgeState::Ok);
    const auto ch = s.channel_out();
    ASSERT_EQ(ch.size(), 3u);
    EXPECT_EQ(ch[0].byte_range, (ByteRange{1, 6, 17}));
    EXPECT_EQ(ch[1].byte_range, (ByteRange{7, 12, 17}));
    EXPECT_EQ(ch[2].byte_range, (ByteRange{13, 17, 17}));
    EXPECT_EQ(ch[0].continuation, Continuation::More);
    EXPECT_EQ(ch[1].continuation, Continuation::More);
    EXPECT_EQ(ch[2].continuation, Continuation::Complete);
    for (const Message& m : ch)
        EXPECT_EQ(m.message_id, "msg0001a");
    EXPECT_EQ(ch[0].body + ch[1].body + ch[2].body, "first-secondthird");
    EXPECT_EQ(s.tcp_out().size(), 3u);  // each chunk its own transaction: three 200s
    EXPECT_EQ(s.count(BridgeCounter::Rechunked), 0u);

    // An aborted message ('#') too, from the browser.
    ASSERT_EQ(s.from_channel(request("b7c0a1d3", kGwChannel, kBrowser, "gone", "", "1-4/100", '#')),
              BridgeState::Ok);
    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 1u);
    EXPECT_EQ(tcp[0].continuation, Continuation::Aborted);
    EXPECT_EQ(tcp[0].byte_range, (ByteRange{1, 4, 100}));
}

// Splits of a chunk from TCP toward a channel that takes at most `max`
// octets a message: each within it, exact ranges, '+' until the last.
void expect_rechunked(const std::vector<Message>& ch, std::size_t max, const std::string& body,
                      uint64_t start, std::optional<uint64_t> last_end,
                      std::optional<uint64_t> total, Continuation last_flag) {
    ASSERT_GT(ch.size(), 1u);
    std::string joined;
    uint64_t next = start;
    for (std::size_t i = 0; i < ch.size(); ++i) {
        const Message& m = ch[i];
        EXPECT_LE(serialize(m).size(), max);
        ASSERT_TRUE(m.byte_range.has_value());
        EXPECT_EQ(m.byte_range->start, next) << i;
        EXPECT_EQ(m.byte_range->total, total) << i;
        EXPECT_EQ(m.message_id, "msg0001a");
        EXPECT_EQ(m.content_type, "text/plain");
        if (i + 1 < ch.size()) {
            EXPECT_EQ(m.continuation, Continuation::More) << i;
            EXPECT_EQ(m.byte_range->end, next + m.body.size() - 1) << i;
        } else {
            EXPECT_EQ(m.continuation, last_flag);
            EXPECT_EQ(m.byte_range->end, last_end);
        }
        EXPECT_FALSE(m.body.empty());
        next += m.body.size();
        joined += m.body;
        for (std::size_t j = 0; j < i; ++j)
            EXPECT_NE(m.transaction_id, ch[j].transaction_id);
    }
    EXPECT_EQ(joined, body);
}

TEST(MsrpBridge, LargeTcpChunkIsRechunkedForTheChannel) {
    BridgeLimits limits;
    limits.max_channel_message = 1024;
    Session s(limits);
    std::mt19937 rng(8873);
    std::string body;
    for (int i = 0; i < 5000; ++i)
        body += static_cast<char>(rng() % 256);
    // Bytes that look like framing must not confuse anything.
    body.replace(100, 20, "\r\n-------gw000002$\r\n");

    ASSERT_EQ(s.from_tcp(ue_send("u3tr0001", body, "Success-Report: yes\r\n")), BridgeState::Ok);
    const auto ch = s.channel_out();
    expect_rechunked(ch, 1024, body, 1, 5000, 5000, Continuation::Complete);
    for (const Message& m : ch)
        EXPECT_EQ(m.success_report, SuccessReport::Yes);
    EXPECT_EQ(s.count(BridgeCounter::Rechunked), 1u);
    EXPECT_EQ(s.count(BridgeCounter::RechunkPieces), ch.size());
    EXPECT_EQ(s.bridge.outstanding_to_channel(), ch.size());
    // The UE sees one chunk answered once.
    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 1u);
    EXPECT_EQ(tcp[0].status_code, 200);

    // A middle chunk of a longer message, total unknown: the pieces keep
    // the '*' total and the chunk's '+'.
    const std::string middle(3000, 'm');
    ASSERT_EQ(s.from_tcp(ue_send("u3tr0002", middle, "", "10001-13000/*", '+')), BridgeState::Ok);
    expect_rechunked(s.channel_out(), 1024, middle, 10001, 13000, std::nullopt, Continuation::More);
}

TEST(MsrpBridge, ChunkWhoseHeadersCannotFitGets413) {
    BridgeLimits limits;
    limits.max_channel_message = 300;
    Session s(limits);
    const std::string big_header = "X-Padding: " + std::string(400, 'p') + "\r\n";
    ASSERT_EQ(s.from_tcp(ue_send("u3tr0001", std::string(500, 'b'), big_header)), BridgeState::Ok);
    EXPECT_TRUE(s.channel_out().empty());
    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 1u);
    EXPECT_EQ(tcp[0].status_code, 413);
    EXPECT_EQ(s.count(BridgeCounter::TooLarge), 1u);
}

TEST(MsrpBridge, ReportIsRelayedNotAnswered) {
    Session s;
    const std::string report = wire(
        "MSRP u3rp0001 REPORT\n"
        "To-Path: msrp://gw-mw.example.org:2855/1m55id01;tcp\n"
        "From-Path: msrp://relay.ims.example.net:2855/rly;tcp "
        "msrp://ue.ims.example.net:7394/u3s1d;tcp\n"
        "Message-ID: msg0001a\n"
        "Byte-Range: 1-13/13\n"
        "Status: 000 200 OK\n"
        "-------u3rp0001$\n");
    ASSERT_EQ(s.from_tcp(report), BridgeState::Ok);
    EXPECT_TRUE(s.tcp_out().empty());  // never a response to a REPORT
    const auto ch = s.channel_out();
    ASSERT_EQ(ch.size(), 1u);
    EXPECT_TRUE(ch[0].is_report());
    EXPECT_EQ(ch[0].transaction_id, "gw000001");
    expect_paths(ch[0], {uri(kBrowser)}, {uri(kGwChannel)});
    EXPECT_EQ(ch[0].message_id, "msg0001a");
    EXPECT_EQ(ch[0].status, (StatusHeader{0, 200, "OK"}));
    EXPECT_EQ(s.count(BridgeCounter::ResponsesSent), 0u);
    EXPECT_EQ(s.bridge.outstanding_to_channel(), 0u);  // none will come back
}

TEST(MsrpBridge, WrongToPathGets481) {
    Session s;
    const char* const other = "msrp://gw-w2.example.org:2855/0th3rs3ss;dc";
    ASSERT_EQ(s.from_channel(request("b7c0a1d2", other, kBrowser, "hi")), BridgeState::Ok);
    const auto ch = s.channel_out();
    ASSERT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch[0].status_code, 481);
    expect_paths(ch[0], {uri(kBrowser)}, {uri(other)});
    EXPECT_TRUE(s.tcp_out().empty());

    // The IMS side's URI is not ours on the channel either; a REPORT gets
    // no response at all.
    ASSERT_EQ(s.from_channel(request("b7c0a1d3", kGwIms, kBrowser, "hi")), BridgeState::Ok);
    ASSERT_EQ(s.from_channel(request("b7c0a1d4", other, kBrowser, "", "Status: 000 200 OK\r\n",
                                     "1-2/2", '$', "REPORT")),
              BridgeState::Ok);
    EXPECT_EQ(s.channel_out().size(), 1u);
    EXPECT_TRUE(s.tcp_out().empty());
    EXPECT_EQ(s.count(BridgeCounter::SessionDoesNotExist), 3u);
    EXPECT_EQ(s.count(BridgeCounter::ResponsesSent), 2u);
}

TEST(MsrpBridge, FailureReportNoGetsNo200) {
    Session s;
    ASSERT_EQ(s.from_channel(browser_send("b7c0a1d2", "fire and forget", "Failure-Report: no\r\n")),
              BridgeState::Ok);
    EXPECT_TRUE(s.channel_out().empty());
    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 1u);
    EXPECT_EQ(tcp[0].failure_report, FailureReport::No);
    EXPECT_EQ(s.bridge.outstanding_to_tcp(), 0u);  // the UE will not answer either

    // partial: no 200, but an error is still answered.
    ASSERT_EQ(s.from_channel(request("b7c0a1d3", "msrp://gw-w2.example.org:2855/x;dc", kBrowser,
                                     "hi", "Failure-Report: partial\r\n")),
              BridgeState::Ok);
    const auto ch = s.channel_out();
    ASSERT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch[0].status_code, 481);
}

TEST(MsrpBridge, UnknownMethodGets501) {
    Session s;
    ASSERT_EQ(s.from_tcp(request("u3tr0001", kGwIms, kUe, "", "", "1-0/0", '$', "AUTH")),
              BridgeState::Ok);
    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 1u);
    EXPECT_EQ(tcp[0].status_code, 501);
    EXPECT_TRUE(s.channel_out().empty());
    EXPECT_EQ(s.count(BridgeCounter::UnknownMethods), 1u);
}

TEST(MsrpBridge, BodilessSendIsAnsweredNotRelayed) {
    Session s;
    ASSERT_EQ(s.from_tcp(request("u3tr0001", kGwIms, kUe, "", "", "1-0/0")), BridgeState::Ok);
    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 1u);
    EXPECT_EQ(tcp[0].status_code, 200);
    EXPECT_TRUE(s.channel_out().empty());
    EXPECT_EQ(s.count(BridgeCounter::EmptySends), 1u);
}

TEST(MsrpBridge, GarbageOnTcpFailsTheSession) {
    Session s;
    ASSERT_EQ(s.from_tcp(ue_send("u3tr0001", "fine")), BridgeState::Ok);
    EXPECT_EQ(s.from_tcp("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), BridgeState::Failed);
    EXPECT_EQ(s.bridge.failure(), BridgeFailure::TcpParseError);
    EXPECT_NE(s.bridge.failure_detail().find("bad_start_line"), std::string::npos)
        << s.bridge.failure_detail();
    EXPECT_EQ(s.bridge.stats().failed(BridgeFailure::TcpParseError), 1u);
    EXPECT_EQ(s.count(BridgeCounter::TcpParseErrors), 1u);
    // What came before the garbage was relayed; nothing after counts.
    EXPECT_EQ(s.channel_out().size(), 1u);
    EXPECT_EQ(s.from_channel(browser_send("b7c0a1d2", "late")), BridgeState::Failed);
    EXPECT_EQ(s.count(BridgeCounter::ChannelInMessages), 0u);
    EXPECT_EQ(s.bridge.tcp_closed(), BridgeState::Failed);  // stays Failed
}

TEST(MsrpBridge, GarbageOnTheChannelIsCountedAndTheSessionGoesOn) {
    Session s;
    ASSERT_EQ(s.from_channel(std::string("\x00\xff garbage", 10)), BridgeState::Ok);
    ASSERT_EQ(s.from_channel(""), BridgeState::Ok);
    EXPECT_EQ(s.count(BridgeCounter::ChannelDropped), 2u);
    EXPECT_TRUE(s.channel_out().empty());

    // A request whose start line is fine but whose headers are not: 400.
    ASSERT_EQ(s.from_channel(wire("MSRP b7c0a1d2 SEND\n"
                                  "To-Path: msrp://gw-w2.example.org:2855/b4rws3r51d;dc\n"
                                  "From-Path: msrp://df7jal23ls0d.invalid:2855/brw5id00;dc\n"
                                  "Byte-Range: 5-1/10\n"
                                  "-------b7c0a1d2$\n")),
              BridgeState::Ok);
    // Two messages in one data channel message, and one cut short: each
    // data channel message must be exactly one MSRP message.
    const std::string two = browser_send("b7c0a1d3", "a") + browser_send("b7c0a1d4", "b");
    ASSERT_EQ(s.from_channel(two), BridgeState::Ok);
    ASSERT_EQ(s.from_channel(browser_send("b7c0a1d5", "cut").substr(0, 60)), BridgeState::Ok);
    auto ch = s.channel_out();
    ASSERT_EQ(ch.size(), 3u);
    EXPECT_EQ(ch[0].status_code, 400);
    EXPECT_EQ(ch[0].transaction_id, "b7c0a1d2");
    expect_paths(ch[0], {uri(kBrowser)}, {uri(kGwChannel)});
    EXPECT_EQ(ch[1].transaction_id, "b7c0a1d3");
    EXPECT_EQ(ch[1].status_code, 400);
    EXPECT_EQ(ch[2].transaction_id, "b7c0a1d5");
    EXPECT_EQ(s.count(BridgeCounter::ChannelParseErrors), 5u);
    EXPECT_EQ(s.count(BridgeCounter::ChannelBadRequests), 3u);
    EXPECT_TRUE(s.tcp_out().empty());

    // The session still works.
    ASSERT_EQ(s.from_channel(browser_send("b7c0a1d6", "ok now")), BridgeState::Ok);
    ch = s.channel_out();
    ASSERT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch[0].status_code, 200);
    ASSERT_EQ(s.tcp_out().size(), 1u);
}

TEST(MsrpBridge, QueuedUntilTcpConnects) {
    Session s({}, /*connect=*/false);
    ASSERT_EQ(s.from_channel(browser_send("b7c0a1d2", "early")), BridgeState::Ok);
    ASSERT_EQ(s.from_channel(browser_send("b7c0a1d3", "bird")), BridgeState::Ok);
    EXPECT_TRUE(s.bridge.tcp_pending().empty());
    EXPECT_GT(s.bridge.tcp_queued_bytes(), 0u);
    EXPECT_EQ(s.channel_out().size(), 2u);  // the browser is answered at once

    // Active, with requests queued: they bind the connection, no extra SEND.
    ASSERT_EQ(s.bridge.tcp_connected(TcpRole::Active), BridgeState::Ok);
    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 2u);
    EXPECT_EQ(tcp[0].body, "early");
    EXPECT_EQ(tcp[1].body, "bird");
    EXPECT_EQ(s.bridge.tcp_queued_bytes(), 0u);
}

TEST(MsrpBridge, ActiveConnectSendsABodilessSend) {
    Session s({}, /*connect=*/false);
    ASSERT_EQ(s.bridge.tcp_connected(TcpRole::Active), BridgeState::Ok);
    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 1u);
    EXPECT_TRUE(tcp[0].is_send());
    EXPECT_TRUE(tcp[0].body.empty());
    EXPECT_EQ(tcp[0].byte_range, (ByteRange{1, 0, 0}));
    expect_paths(tcp[0], {uri(kImsRelay), uri(kUe)}, {uri(kGwIms)});
    // Its 200 is consumed.
    ASSERT_EQ(s.from_tcp(response(tcp[0].transaction_id, 200, kGwIms, kImsRelay)), BridgeState::Ok);
    EXPECT_EQ(s.count(BridgeCounter::ResponsesConsumed), 1u);
    EXPECT_TRUE(s.channel_out().empty());
    EXPECT_EQ(s.bridge.outstanding_to_tcp(), 0u);
}

TEST(MsrpBridge, PartialTcpWritesKeepTheRest) {
    Session s;
    ASSERT_EQ(s.from_channel(browser_send("b7c0a1d2", "one")), BridgeState::Ok);
    const std::size_t total = s.bridge.tcp_pending().size();
    s.bridge.tcp_consumed(10);
    EXPECT_EQ(s.bridge.tcp_pending().size(), total - 10);
    s.bridge.tcp_consumed(total);  // more than is left: takes what is left
    EXPECT_TRUE(s.bridge.tcp_pending().empty());
}

TEST(MsrpBridge, TcpBacklogOverTheBoundFails) {
    BridgeLimits limits;
    limits.max_queued_bytes = 4096;
    Session s(limits, /*connect=*/false);
    const std::string body(500, 'x');
    BridgeState st = BridgeState::Ok;
    int sent = 0;
    for (; sent < 100 && st == BridgeState::Ok; ++sent) {
        char tid[16];
        std::snprintf(tid, sizeof tid, "b7c0%04d", sent);
        st = s.from_channel(browser_send(tid, body));
        s.channel_out();  // the browser's side keeps up
    }
    EXPECT_EQ(st, BridgeState::Failed);
    EXPECT_EQ(s.bridge.failure(), BridgeFailure::BacklogTcp);
    EXPECT_LE(s.bridge.tcp_queued_bytes(), 4096u);
    EXPECT_GT(sent, 3);
    EXPECT_LT(sent, 10);
    EXPECT_EQ(s.bridge.stats().failed(BridgeFailure::BacklogTcp), 1u);
}

TEST(MsrpBridge, ChannelBacklogOverTheBoundFails) {
    BridgeLimits limits;
    limits.max_queued_bytes = 4096;
    Session s(limits);
    BridgeState st = BridgeState::Ok;
    for (int i = 0; i < 100 && st == BridgeState::Ok; ++i) {
        char tid[16];
        std::snprintf(tid, sizeof tid, "u3tr%04d", i);
        st = s.from_tcp(ue_send(tid, std::string(500, 'y')));
        s.tcp_out();  // TCP keeps up; nobody takes the channel's messages
    }
    EXPECT_EQ(st, BridgeState::Failed);
    EXPECT_EQ(s.bridge.failure(), BridgeFailure::BacklogChannel);
    EXPECT_LE(s.bridge.channel_queued_bytes(), 4096u);
}

TEST(MsrpBridge, ResponsesToRelayedRequestsAreConsumed) {
    Session s;
    ASSERT_EQ(s.from_channel(browser_send("b7c0a1d2", "hello")), BridgeState::Ok);
    s.channel_out();
    const auto out = s.tcp_out();
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(s.bridge.outstanding_to_tcp(), 1u);

    // The UE's 200 for our transaction: consumed, nothing to the browser
    // (which has its 200 already).
    ASSERT_EQ(s.from_tcp(response(out[0].transaction_id, 200, kGwIms, kImsRelay)), BridgeState::Ok);
    EXPECT_TRUE(s.channel_out().empty());
    EXPECT_EQ(s.bridge.outstanding_to_tcp(), 0u);
    EXPECT_EQ(s.count(BridgeCounter::ResponsesConsumed), 1u);

    // The same again, an unknown id, and the browser's original id (never
    // sent on TCP): dropped and counted.
    ASSERT_EQ(s.from_tcp(response(out[0].transaction_id, 200, kGwIms, kImsRelay)), BridgeState::Ok);
    ASSERT_EQ(s.from_tcp(response("n0tm1n3", 200, kGwIms, kImsRelay)), BridgeState::Ok);
    ASSERT_EQ(s.from_tcp(response("b7c0a1d2", 200, kGwIms, kImsRelay)), BridgeState::Ok);
    // A response on the channel for what was sent on TCP: unknown there.
    ASSERT_EQ(s.from_channel(response("gw000001", 200, kGwChannel, kBrowser)), BridgeState::Ok);
    EXPECT_EQ(s.count(BridgeCounter::UnknownResponsesDropped), 4u);
    EXPECT_TRUE(s.channel_out().empty());
    EXPECT_TRUE(s.tcp_out().empty());
}

TEST(MsrpBridge, ErrorResponseBecomesAFailureReport) {
    Session s;
    ASSERT_EQ(s.from_channel(browser_send("b7c0a1d2", "hello")), BridgeState::Ok);
    s.channel_out();
    const auto out = s.tcp_out();
    ASSERT_EQ(out.size(), 1u);

    ASSERT_EQ(s.from_tcp(wire("MSRP " + out[0].transaction_id +
                              " 415 Unsupported Media Type\n"
                              "To-Path: msrp://gw-mw.example.org:2855/1m55id01;tcp\n"
                              "From-Path: msrp://relay.ims.example.net:2855/rly;tcp\n"
                              "-------" +
                              out[0].transaction_id + "$\n")),
              BridgeState::Ok);
    const auto ch = s.channel_out();
    ASSERT_EQ(ch.size(), 1u);
    const Message& r = ch[0];
    EXPECT_TRUE(r.is_report());
    expect_paths(r, {uri(kBrowser)}, {uri(kGwChannel)});
    EXPECT_EQ(r.message_id, "msg0001a");
    EXPECT_EQ(r.byte_range, (ByteRange{1, 5, 5}));
    EXPECT_EQ(r.status, (StatusHeader{0, 415, "Unsupported Media Type"}));
    EXPECT_EQ(s.count(BridgeCounter::ErrorResponses), 1u);
    EXPECT_EQ(s.count(BridgeCounter::FailureReportsSent), 1u);
    EXPECT_TRUE(s.tcp_out().empty());

    // From the UE with Failure-Report partial: an error from the browser
    // becomes a REPORT on TCP too.
    ASSERT_EQ(s.from_tcp(ue_send("u3tr0001", "hey", "Failure-Report: partial\r\n")),
              BridgeState::Ok);
    EXPECT_TRUE(s.tcp_out().empty());  // partial: no 200
    const auto relayed = s.channel_out();
    ASSERT_EQ(relayed.size(), 1u);
    ASSERT_EQ(s.from_channel(response(relayed[0].transaction_id, 413, kGwChannel, kBrowser)),
              BridgeState::Ok);
    const auto tcp = s.tcp_out();
    ASSERT_EQ(tcp.size(), 1u);
    EXPECT_TRUE(tcp[0].is_report());
    expect_paths(tcp[0], {uri(kImsRelay), uri(kUe)}, {uri(kGwIms)});
    EXPECT_EQ(tcp[0].status, (StatusHeader{0, 413, "Stop Sending"}));
}

TEST(MsrpBridge, OutstandingTableIsBounded) {
    BridgeLimits limits;
    limits.max_outstanding = 4;
    Session s(limits);
    for (int i = 0; i < 10; ++i) {
        char tid[16];
        std::snprintf(tid, sizeof tid, "b7c0%04d", i);
        ASSERT_EQ(s.from_channel(browser_send(tid, "m")), BridgeState::Ok);
    }
    EXPECT_EQ(s.bridge.outstanding_to_tcp(), 4u);
    EXPECT_EQ(s.count(BridgeCounter::OutstandingEvicted), 6u);
    const auto out = s.tcp_out();
    ASSERT_EQ(out.size(), 10u);
    // The oldest was forgotten, the newest is known.
    ASSERT_EQ(s.from_tcp(response(out[0].transaction_id, 200, kGwIms, kImsRelay)), BridgeState::Ok);
    ASSERT_EQ(s.from_tcp(response(out[9].transaction_id, 200, kGwIms, kImsRelay)), BridgeState::Ok);
    EXPECT_EQ(s.count(BridgeCounter::UnknownResponsesDropped), 1u);
    EXPECT_EQ(s.count(BridgeCounter::ResponsesConsumed), 1u);
}

TEST(MsrpBridge, ClosingEitherSideCloses) {
    Session a;
    EXPECT_EQ(a.bridge.tcp_closed(), BridgeState::Closed);
    EXPECT_EQ(a.bridge.state(), BridgeState::Closed);
    EXPECT_EQ(a.from_tcp(ue_send("u3tr0001", "late")), BridgeState::Closed);
    EXPECT_TRUE(a.channel_out().empty());
    EXPECT_EQ(a.bridge.failure(), BridgeFailure::None);

    Session b;
    EXPECT_EQ(b.bridge.channel_closed(), BridgeState::Closed);
    EXPECT_EQ(b.from_channel(browser_send("b7c0a1d2", "late")), BridgeState::Closed);
    EXPECT_TRUE(b.tcp_out().empty());
}

TEST(MsrpBridge, BrokenIdSourceFails) {
    Bridge bridge(channel_leg(), tcp_leg(), {}, [] { return std::string("no"); });
    bridge.tcp_connected();
    const std::string m = browser_send("b7c0a1d2", "hello");
    EXPECT_EQ(bridge.from_channel(bytes_of(m)), BridgeState::Failed);
    EXPECT_EQ(bridge.failure(), BridgeFailure::IdSource);
    EXPECT_TRUE(bridge.tcp_pending().empty());
}

TEST(MsrpBridge, SetupRefusesEmptyPathsAndNoIdSource) {
    Leg no_path = channel_leg();
    no_path.peer_path.clear();
    auto ids = [] { return std::string("gw000001"); };
    EXPECT_THROW((void)Bridge(no_path, tcp_leg(), {}, ids), std::invalid_argument);
    EXPECT_THROW((void)Bridge(channel_leg(), no_path, {}, ids), std::invalid_argument);
    EXPECT_THROW((void)Bridge(channel_leg(), tcp_leg(), {}, nullptr), std::invalid_argument);
}

TEST(MsrpBridge, CounterAndFailureNamesAreDistinct) {
    std::vector<std::string_view> names;
    for (std::size_t i = 0; i < kBridgeCounterCount; ++i)
        names.push_back(bridge_counter_name(static_cast<BridgeCounter>(i)));
    for (std::size_t i = 0; i < kBridgeFailureCount; ++i)
        names.push_back(bridge_failure_name(static_cast<BridgeFailure>(i)));
    for (std::size_t i = 0; i < names.size(); ++i)
        for (std::size_t j = i + 1; j < names.size(); ++j)
            EXPECT_NE(names[i], names[j]);
}

}  // namespace
}  // namespace isthmus::msrp
