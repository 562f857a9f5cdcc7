#include "msrp/bridge.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "msrp/reply.hpp"
#include "msrp/serializer.hpp"

namespace isthmus::msrp {

namespace {

// Tries the id source this many times for an id before failing the
// session: a random ident's end line lands in a body by chance with
// negligible odds, so a second miss means the source is broken.
constexpr int kIdTries = 4;

// The written part of the TCP buffer is dropped once it is this large and
// at least half the buffer.
constexpr std::size_t kCompactAfter = 64 * 1024;

std::string_view as_chars(std::span<const uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A SEND with no body that is a whole message of its own (not an empty
// chunk of a longer one): what an endpoint sends to bind a connection
// (RFC 4975 5.4, 7.1.1). Nothing for the other side's user to see.
bool is_bodiless_send(const Message& m) {
    return m.is_send() && m.body.empty() && !m.content_type &&
           m.continuation == Continuation::Complete && (!m.byte_range || m.byte_range->start == 1);
}

// Whether the receiver of `relayed` answers it at all (RFC 4975 7.1.2,
// 7.2): never a REPORT; a SEND unless Failure-Report is no (partial: errors
// only, which is when an entry matters).
bool may_get_response(const Message& relayed) {
    return relayed.is_send() &&
           relayed.failure_report.value_or(FailureReport::Yes) != FailureReport::No;
}

}  // namespace

Bridge::Bridge(Leg channel, Leg tcp, const BridgeLimits& limits, TransactionIdSource ids)
    : channel_(std::move(channel)),
      tcp_(std::move(tcp)),
      limits_(limits),
      ids_(std::move(ids)),
      framer_(limits.parse) {
    if (channel_.peer_path.empty()) throw std::invalid_argument("msrp bridge: empty channel path");
    if (tcp_.peer_path.empty()) throw std::invalid_argument("msrp bridge: empty TCP peer path");
    if (!ids_) throw std::invalid_argument("msrp bridge: no transaction id source");
}

// --- inputs ---------------------------------------------------------------

BridgeState Bridge::from_channel(std::span<const uint8_t> message) {
    if (state_ != BridgeState::Ok) return state_;
    bump(BridgeCounter::ChannelInMessages);
    bump(BridgeCounter::ChannelInBytes, message.size());
    // RFC 8873 6: one data channel message is one whole MSRP chunk, so it
    // is parsed alone; a bad one costs only itself (the next message starts
    // afresh, unlike a TCP stream).
    ParseResult r = parse_message(as_chars(message), limits_.parse);
    if (!r.ok()) {
        bump(BridgeCounter::ChannelParseErrors);
        const Message& partial = r.message;
        // 400 needs a request's transaction id from an intact start line
        // (RFC 4975 7.2 echoes it); a REPORT or Failure-Report no gets none.
        if (is_ident(partial.transaction_id) && partial.is_request() && !partial.method.empty() &&
            response_wanted(partial, status::kBadRequest)) {
            bump(BridgeCounter::ChannelBadRequests);
            answer(kChannel, partial, status::kBadRequest);
        } else {
            bump(BridgeCounter::ChannelDropped);
        }
        return state_;
    }
    if (r.message.is_response())
        on_response(kChannel, r.message);
    else
        on_request(kChannel, std::move(r.message));
    return state_;
}

BridgeState Bridge::from_tcp(std::span<const uint8_t> bytes) {
    if (state_ != BridgeState::Ok) return state_;
    bump(BridgeCounter::TcpInBytes, bytes.size());
    std::vector<Message> messages;
    const ParseError e = framer_.feed(as_chars(bytes), messages);
    // Messages framed before an error in the same feed are still handled.
    for (Message& m : messages) {
        if (state_ != BridgeState::Ok) return state_;
        bump(BridgeCounter::TcpInMessages);
        if (m.is_response())
            on_response(kTcp, m);
        else
            on_request(kTcp, std::move(m));
    }
    if (e != ParseError::None && state_ == BridgeState::Ok) {
        bump(BridgeCounter::TcpParseErrors);
        fail(BridgeFailure::TcpParseError,
             std::string(parse_error_name(e)) + ": " + framer_.reason());
    }
    return state_;
}

BridgeState Bridge::tcp_connected(TcpRole role) {
    if (state_ != BridgeState::Ok || tcp_up_) return state_;
    tcp_up_ = true;
    // RFC 4975 5.4: the endpoint that opened the connection sends a request
    // on it at once, so the other can tell which session it is for. A
    // relayed request already queued does; otherwise a bodiless SEND.
    if (role != TcpRole::Active || tcp_queued_bytes() > 0) return state_;
    Message bind;
    bind.method = "SEND";
    const auto tid = fresh_id({});
    if (!tid) return state_;
    const auto mid = fresh_id({});
    if (!mid) return state_;
    bind.transaction_id = *tid;
    bind.to_path = tcp_.peer_path;
    bind.from_path.assign(1, tcp_.self);
    bind.message_id = *mid;
    bind.byte_range = ByteRange{1, 0, 0};  // "1-0/0", RFC 4975 7.1
    if (send(kTcp, bind)) remember(kTcp, *tid, nullptr, *bind.byte_range);
    return state_;
}

BridgeState Bridge::tcp_closed() {
    if (state_ == BridgeState::Ok) state_ = BridgeState::Closed;
    return state_;
}

BridgeState Bridge::channel_closed() {
    if (state_ == BridgeState::Ok) state_ = BridgeState::Closed;
    return state_;
}

// --- outputs --------------------------------------------------------------

std::optional<std::vector<uint8_t>> Bridge::next_channel_message() {
    if (channel_out_.empty()) return std::nullopt;
    std::vector<uint8_t> m = std::move(channel_out_.front());
    channel_out_.pop_front();
    channel_queued_ -= m.size();
    return m;
}

std::span<const uint8_t> Bridge::tcp_pending() const {
    if (!tcp_up_) return {};
    return std::span<const uint8_t>(tcp_out_).subspan(tcp_head_);
}

void Bridge::tcp_consumed(std::size_t n) {
    tcp_head_ += std::min(n, tcp_queued_bytes());
    if (tcp_head_ == tcp_out_.size()) {
        tcp_out_.clear();
        tcp_head_ = 0;
    } else if (tcp_head_ >= kCompactAfter && tcp_head_ * 2 >= tcp_out_.size()) {
        tcp_out_.erase(tcp_out_.begin(), tcp_out_.begin() + static_cast<std::ptrdiff_t>(tcp_head_));
        tcp_head_ = 0;
    }
}

// --- requests -------------------------------------------------------------

void Bridge::on_request(Side from, Message m) {
    if (!addressed_to(m, leg(from).self)) {
        bump(BridgeCounter::SessionDoesNotExist);
        answer(from, m, status::kSessionDoesNotExist);
        return;
    }
    if (!m.is_send() && !m.is_report()) {
        bump(BridgeCounter::UnknownMethods);
        answer(from, m, status::kUnknownMethod);
        return;
    }
    if (is_bodiless_send(m)) {
        bump(BridgeCounter::EmptySends);
        answer(from, m, status::kOk);
        return;
    }

    const Side to = other(from);
    const auto tid = fresh_id(m.body);
    if (!tid) return;
    std::optional<Message> relayed = relay_request(m, leg(to), *tid);
    // relay_request refuses only what was ruled out above (a response, a
    // bad id, the id's end line in the body, an empty peer path).
    if (!relayed) return;
    std::vector<Message> pieces = pieces_for(to, std::move(*relayed));
    if (state_ != BridgeState::Ok) return;
    if (pieces.empty()) {
        bump(BridgeCounter::TooLarge);
        answer(from, m, status::kStopSending);
        return;
    }

    // Hop by hop (RFC 4975 7.2): this leg's transaction ends here.
    answer(from, m, status::kOk);
    if (state_ != BridgeState::Ok) return;
    bump(to == kTcp ? BridgeCounter::RelayedToTcp : BridgeCounter::RelayedToChannel);

    std::shared_ptr<const Message> origin;
    if (may_get_response(pieces.front())) {
        m.body.clear();
        origin = std::make_shared<const Message>(std::move(m));
    }
    for (Message& piece : pieces) {
        if (!send(to, piece)) return;
        if (origin)
            remember(to, std::move(piece.transaction_id), origin,
                     piece.byte_range.value_or(whole_message_range(piece)));
    }
}

void Bridge::answer(Side side, const Message& request, uint16_t code) {
    if (!response_wanted(request, code)) return;
    Message r = make_response(request, code);
    // A request cut short before its paths (a 400 on the channel): the
    // previous hop is the peer, this hop is us.
    if (r.to_path.empty()) r.to_path.assign(1, leg(side).peer_path.front());
    if (r.from_path.empty()) r.from_path.assign(1, leg(side).self);
    bump(BridgeCounter::ResponsesSent);
    send(side, r);
}

std::vector<Message> Bridge::pieces_for(Side to, Message relayed) {
    std::vector<Message> pieces;
    const std::size_t max = limits_.max_channel_message;
    if (to == kTcp || serialize(relayed).size() <= max) {
        pieces.push_back(std::move(relayed));
        return pieces;
    }
    // Re-chunk (RFC 4975 5.1: the sender chooses chunk boundaries; the
    // receiver places each chunk's octets by its Byte-Range). Only a SEND's
    // body can be split, and it has a Content-Type (the parser insists), so
    // a piece's size is its headers + framing + its share of the body.
    if (!relayed.is_send() || relayed.body.empty() || !relayed.content_type) return pieces;
    const std::string body = std::move(relayed.body);
    relayed.body.clear();
    const uint64_t n = body.size();
    const uint64_t start = relayed.byte_range ? relayed.byte_range->start : 1;
    // No Byte-Range: the whole message in this one chunk (RFC 4975 7.1.1).
    const std::optional<uint64_t> total = relayed.byte_range ? relayed.byte_range->total
                                          : relayed.continuation == Continuation::Complete
                                              ? std::optional<uint64_t>(n)
                                              : std::nullopt;
    const std::optional<uint64_t> last_end =
        relayed.byte_range ? relayed.byte_range->end : std::optional<uint64_t>(start - 1 + n);

    // The largest headers any piece can have: the longest transaction id
    // (it is written twice) and range numbers as wide as the widest.
    const uint64_t widest = std::max({start - 1 + n, last_end.value_or(0), total.value_or(0)});
    Message probe = relayed;
    probe.transaction_id.assign(kMaxIdentLength, 'x');
    probe.byte_range = ByteRange{widest, widest, total};
    probe.continuation = Continuation::More;
    const std::size_t overhead = serialize(probe).size();
    if (overhead >= max) return pieces;
    const std::size_t budget = max - overhead;

    for (uint64_t off = 0; off < n;) {
        const uint64_t len = std::min<uint64_t>(budget, n - off);
        const bool last = off + len == n;
        Message piece = relayed;  // no body: cheap
        piece.body = body.substr(off, len);
        piece.byte_range = ByteRange{
            start + off, last ? last_end : std::optional<uint64_t>(start + off + len - 1), total};
        // Every piece but the last says more follows; the last carries the
        // original flag, so an aborted or unfinished chunk stays one.
        piece.continuation = last ? relayed.continuation : Continuation::More;
        // The first piece keeps the id relay_request chose (its end line is
        // in no part of the body); each other piece is a new transaction.
        if (off > 0) {
            const auto tid = fresh_id(piece.body);
            if (!tid) return {};
            piece.transaction_id = *tid;
        }
        pieces.push_back(std::move(piece));
        off += len;
    }
    bump(BridgeCounter::Rechunked);
    bump(BridgeCounter::RechunkPieces, pieces.size());
    return pieces;
}

// --- responses ------------------------------------------------------------

void Bridge::remember(Side to, std::string transaction_id, std::shared_ptr<const Message> origin,
                      const ByteRange& range) {
    std::deque<Outstanding>& table = outstanding_[to];
    table.push_back(Outstanding{std::move(transaction_id), std::move(origin), range});
    if (table.size() > limits_.max_outstanding) {
        table.pop_front();
        bump(BridgeCounter::OutstandingEvicted);
    }
}

void Bridge::on_response(Side from, const Message& m) {
    // Responses on a leg answer what the bridge sent on that leg.
    std::deque<Outstanding>& table = outstanding_[from];
    const auto it = std::find_if(table.begin(), table.end(), [&](const Outstanding& o) {
        return o.transaction_id == m.transaction_id;
    });
    if (it == table.end()) {
        bump(BridgeCounter::UnknownResponsesDropped);
        return;
    }
    const Outstanding o = std::move(*it);
    table.erase(it);
    if (m.status_code / 100 == 2) {
        bump(BridgeCounter::ResponsesConsumed);
        return;
    }
    bump(BridgeCounter::ErrorResponses);
    // The originator got our 200 already; a REPORT is the only way left to
    // tell it (RFC 4975 7.1.2: failure reports, unless Failure-Report no).
    if (!o.origin || !failure_report_wanted(*o.origin)) return;
    const auto tid = fresh_id({});
    if (!tid) return;
    const Message report =
        make_report(*o.origin, *tid, o.range, m.status_code,
                    m.comment.empty() ? std::nullopt : std::optional<std::string_view>(m.comment));
    bump(BridgeCounter::FailureReportsSent);
    send(other(from), report);
}

// --- queues ---------------------------------------------------------------

bool Bridge::send(Side side, const Message& m) {
    if (state_ != BridgeState::Ok) return false;
    const std::string bytes = serialize(m);
    if (side == kChannel) {
        if (bytes.size() > limits_.max_channel_message) {
            // Only a response or a REPORT can get here (a SEND was split or
            // refused before): the channel cannot take it.
            bump(BridgeCounter::TooLarge);
            return true;
        }
        if (channel_queued_ + bytes.size() > limits_.max_queued_bytes) {
            fail(BridgeFailure::BacklogChannel, std::to_string(channel_queued_) + " octets in " +
                                                    std::to_string(channel_out_.size()) +
                                                    " messages not taken, " +
                                                    std::to_string(bytes.size()) + " more");
            return false;
        }
        channel_out_.emplace_back(bytes.begin(), bytes.end());
        channel_queued_ += bytes.size();
        bump(BridgeCounter::ChannelOutMessages);
        bump(BridgeCounter::ChannelOutBytes, bytes.size());
        return true;
    }
    if (tcp_queued_bytes() + bytes.size() > limits_.max_queued_bytes) {
        fail(BridgeFailure::BacklogTcp, std::to_string(tcp_queued_bytes()) + " octets not written" +
                                            (tcp_up_ ? "" : " (not connected)") + ", " +
                                            std::to_string(bytes.size()) + " more");
        return false;
    }
    tcp_out_.insert(tcp_out_.end(), bytes.begin(), bytes.end());
    bump(BridgeCounter::TcpOutMessages);
    bump(BridgeCounter::TcpOutBytes, bytes.size());
    return true;
}

std::optional<std::string> Bridge::fresh_id(std::string_view body) {
    for (int i = 0; i < kIdTries; ++i) {
        std::string id = ids_();
        if (is_ident(id) && !end_line_in_body(body, id)) return id;
    }
    fail(BridgeFailure::IdSource,
         std::to_string(kIdTries) + " ids in a row not idents or in the body");
    return std::nullopt;
}

void Bridge::fail(BridgeFailure f, std::string detail) {
    if (state_ != BridgeState::Ok) return;
    state_ = BridgeState::Failed;
    failure_ = f;
    failure_detail_ = std::move(detail);
    ++stats_.failures[static_cast<std::size_t>(f)];
}

}  // namespace isthmus::msrp
