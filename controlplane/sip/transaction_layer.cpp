// The transaction layer's bookkeeping: the table of transactions and its two
// indexes (17.1.3, 17.2.3), the timer set, the action queue, and the routing
// of each call to a machine (transaction_client.cpp, transaction_server.cpp).
#include "sip/transaction_layer.hpp"

#include <stdexcept>
#include <utility>

#include "sip/headers.hpp"
#include "sip/transaction_match.hpp"

namespace isthmus::sip {

TransactionLayer::TransactionLayer(LayerConfig config) : config_(std::move(config)) {
    const TimerConfig& t = config_.timers;
    if (t.t1.count() <= 0) throw std::invalid_argument("sip transactions: timers.t1 must be > 0");
    if (t.t2.count() <= 0) throw std::invalid_argument("sip transactions: timers.t2 must be > 0");
    if (t.t4.count() <= 0) throw std::invalid_argument("sip transactions: timers.t4 must be > 0");
    if (t.timer_d.count() <= 0) {
        throw std::invalid_argument("sip transactions: timers.timer_d must be > 0");
    }
    if (t.t1 > t.t2) throw std::invalid_argument("sip transactions: timers.t1 must be <= t2");
    if (config_.max_transactions == 0) {
        throw std::invalid_argument("sip transactions: max_transactions must be >= 1");
    }
    if (config_.max_pending_actions < kMaxActionsPerCall) {
        throw std::invalid_argument("sip transactions: max_pending_actions must be >= 2");
    }
    if (!config_.random) rng_.seed(std::random_device{}());
}

uint64_t TransactionLayer::next_random() {
    return config_.random ? config_.random() : rng_();
}

TransactionLayer::Record* TransactionLayer::find(TransactionId id) {
    const auto it = transactions_.find(id.value);
    return it == transactions_.end() ? nullptr : &it->second;
}

const TransactionLayer::Record* TransactionLayer::find(TransactionId id) const {
    const auto it = transactions_.find(id.value);
    return it == transactions_.end() ? nullptr : &it->second;
}

TransactionLayer::Record& TransactionLayer::create(TransactionKind kind, const Peer& peer,
                                                   std::string key) {
    const TransactionId id{next_id_++};
    Record& r = transactions_[id.value];
    r.id = id;
    r.kind = kind;
    r.peer = peer;
    r.reliable = is_reliable(peer.transport);
    (is_client(kind) ? client_index_ : server_index_).emplace(key, id.value);
    r.key = std::move(key);
    return r;
}

void TransactionLayer::set_timer(Record& r, Slot slot, TimerName name, Duration after) {
    cancel_timer(r, slot);
    const TimePoint at = now_ + after;
    r.timer_at[slot] = at;
    r.timer_name[slot] = name;
    timers_.insert(TimerEntry{at, r.id.value, slot});
}

void TransactionLayer::cancel_timer(Record& r, Slot slot) {
    if (!r.timer_at[slot]) return;
    timers_.erase(TimerEntry{*r.timer_at[slot], r.id.value, slot});
    r.timer_at[slot].reset();
}

void TransactionLayer::send(Record& r, std::shared_ptr<const std::string> bytes,
                            bool retransmission) {
    Action a;
    a.kind = ActionKind::Send;
    a.transaction = r.id;
    a.peer = r.peer;
    a.bytes = std::move(bytes);
    a.retransmission = retransmission;
    if (retransmission) ++stats_.retransmissions_sent;
    actions_.push_back(std::move(a));
}

void TransactionLayer::notify(ActionKind kind, TransactionId id, TimerName timer) {
    Action a;
    a.kind = kind;
    a.transaction = id;
    a.timer = timer;
    actions_.push_back(std::move(a));
}

void TransactionLayer::terminate(Record& r) {
    for (uint8_t s = 0; s < kSlots; ++s)
        cancel_timer(r, static_cast<Slot>(s));
    (is_client(r.kind) ? client_index_ : server_index_).erase(r.key);
    if (r.lingering) --lingering_;
    const TransactionId id = r.id;
    transactions_.erase(id.value);  // r dies here
    notify(ActionKind::Terminated, id);
}

void TransactionLayer::linger(Record& r, TimerName name) {
    const Duration d = timer_duration(name, r.reliable, config_.timers);
    if (d.count() == 0) {
        terminate(r);
        return;
    }
    set_timer(r, kLifetime, name, d);
    if (!r.lingering) {
        r.lingering = true;
        ++lingering_;
    }
}

SendResult TransactionLayer::send_request(Message request, const Peer& peer, TimePoint now) {
    if (now > now_) now_ = now;
    SendResult out;
    if (!has_room()) {
        ++stats_.queue_full;
        out.status = SendStatus::QueueFull;
        return out;
    }
    if (!request.is_request()) return out;  // NotARequest
    if (request.method == "ACK") {
        out.status = SendStatus::AckNotATransaction;
        return out;
    }
    const auto cseq_value = request.header("CSeq");
    const std::optional<CSeq> cseq = cseq_value ? parse_cseq(*cseq_value) : std::nullopt;
    if (!cseq) {
        out.status = SendStatus::MalformedCSeq;
        return out;
    }
    if (cseq->method != request.method) {
        out.status = SendStatus::CSeqMethodMismatch;
        return out;
    }
    TopVia top = top_via(request);
    if (top.reject != Reject::None) {
        out.status =
            top.reject == Reject::MissingVia ? SendStatus::MissingVia : SendStatus::MalformedVia;
        return out;
    }
    std::string branch;
    if (const auto b = top.via.branch()) {
        if (!has_magic_cookie(*b)) {
            out.status = SendStatus::BadBranch;
            return out;
        }
        branch = std::string(*b);
    }
    if (!branch.empty() && client_index_.count(client_key(branch, request.method)) != 0) {
        out.status = SendStatus::DuplicateTransaction;
        return out;
    }
    if (!admits()) {
        ++stats_.overloaded;
        out.status = SendStatus::TooManyTransactions;
        return out;
    }
    if (branch.empty()) {
        // 8.1.1.7; the counter makes it unique among generated branches
        // whatever random says; the loop, unique against ones callers gave.
        do {
            branch = make_branch(next_random(), ++branch_counter_);
        } while (client_index_.count(client_key(branch, request.method)) != 0);
        Via with_branch = to_via(top.via);  // top.via views the field replaced here
        with_branch.params.push_back(Param{"branch", branch, false});
        request.remove_first_value("Via");
        request.prepend("Via", to_string(with_branch));
    }
    const TransactionKind kind = request.method == "INVITE" ? TransactionKind::InviteClient
                                                            : TransactionKind::NonInviteClient;
    Record& r = create(kind, peer, client_key(branch, request.method));
    ++stats_.client_transactions;
    out.status = SendStatus::Ok;
    out.transaction = r.id;
    out.branch = std::move(branch);
    start_client(r, std::move(request));
    return out;
}

Inbound TransactionLayer::on_message(const Message& message, const Peer& source, TimePoint now) {
    if (now > now_) now_ = now;
    Inbound in;
    if (!has_room()) {
        ++stats_.queue_full;
        in.disposition = Disposition::QueueFull;
        return in;
    }
    if (message.is_request()) {
        in = on_request(message, source);
    } else if (message.is_response()) {
        in = on_response(message);
    } else {
        in.reject = Reject::NotAMessage;
    }
    if (in.disposition == Disposition::Rejected) {
        ++stats_.rejected[static_cast<std::size_t>(in.reject)];
    }
    return in;
}

Inbound TransactionLayer::on_request(const Message& request, const Peer& source) {
    Inbound in;
    const TopVia top = top_via(request);
    if (top.reject != Reject::None) {
        in.reject = top.reject;
        return in;
    }
    const auto branch = top.via.branch();
    if (!branch || !has_magic_cookie(*branch)) {
        in.reject = Reject::NoMagicCookie;  // RFC 2543 matching: not supported
        return in;
    }
    std::string key = server_key(top.via, request.method);
    if (const auto it = server_index_.find(key); it != server_index_.end()) {
        return server_request(transactions_.at(it->second), request);
    }
    if (request.method == "ACK") {
        // An ACK matching no transaction is for a 2xx: the core's (17.2.3).
        ++stats_.acks_to_core;
        in.disposition = Disposition::Ack;
        return in;
    }
    if (!admits()) {
        ++stats_.overloaded;
        in.disposition = Disposition::Overloaded;
        return in;
    }
    const bool invite = request.method == "INVITE";
    Record& r = create(invite ? TransactionKind::InviteServer : TransactionKind::NonInviteServer,
                       source, std::move(key));
    ++stats_.server_transactions;
    in.transaction = r.id;
    in.disposition = Disposition::NewServerTransaction;
    start_server(r, request);
    if (request.method == "CANCEL") {
        // 9.2: the INVITE it cancels has the same branch and sent-by.
        in.disposition = Disposition::Cancel;
        const auto it = server_index_.find(server_key(top.via, "INVITE"));
        if (it != server_index_.end()) in.invite = TransactionId{it->second};
    }
    return in;
}

Inbound TransactionLayer::on_response(const Message& response) {
    Inbound in;
    const TopVia top = top_via(response);
    if (top.reject != Reject::None) {
        in.reject = top.reject;
        return in;
    }
    const auto cseq_value = response.header("CSeq");
    const std::optional<CSeq> cseq = cseq_value ? parse_cseq(*cseq_value) : std::nullopt;
    if (!cseq) {
        in.reject = Reject::MalformedCSeq;
        return in;
    }
    const auto branch = top.via.branch();
    const auto it =
        branch ? client_index_.find(client_key(*branch, cseq->method)) : client_index_.end();
    if (it == client_index_.end()) {
        ++stats_.stray_responses;
        in.disposition = Disposition::StrayResponse;
        return in;
    }
    return client_response(transactions_.at(it->second), response);
}

RespondStatus TransactionLayer::respond(TransactionId id, const Message& response, TimePoint now) {
    if (now > now_) now_ = now;
    if (!has_room()) {
        ++stats_.queue_full;
        return RespondStatus::QueueFull;
    }
    Record* r = find(id);
    if (r == nullptr) return RespondStatus::UnknownTransaction;
    if (is_client(r->kind)) return RespondStatus::NotAServerTransaction;
    if (!response.is_response() || response.status_code < 100 || response.status_code > 699) {
        return RespondStatus::NotAResponse;
    }
    return server_respond(*r, response);
}

bool TransactionLayer::on_transport_error(TransactionId id, TimePoint now) {
    if (now > now_) now_ = now;
    if (!has_room()) {
        ++stats_.queue_full;
        return false;
    }
    Record* r = find(id);
    if (r == nullptr) return false;
    ++stats_.transport_errors;
    notify(ActionKind::TransportError, id);
    // RFC 6026 figure 7: an INVITE server transaction informs the TU and
    // stays, so that retransmissions are still absorbed until H, I or L.
    if (r->kind != TransactionKind::InviteServer) terminate(*r);
    return true;
}

std::vector<TransactionId> TransactionLayer::clients_toward(const Peer& peer) const {
    std::vector<TransactionId> out;
    for (const auto& [id, r] : transactions_) {
        if (!is_client(r.kind) || r.lingering || r.peer.transport != peer.transport ||
            r.peer.address != peer.address || r.peer.port != peer.port) {
            continue;
        }
        out.push_back(r.id);
    }
    return out;
}

void TransactionLayer::advance(TimePoint now) {
    if (now > now_) now_ = now;
    while (!timers_.empty()) {
        const TimerEntry e = *timers_.begin();
        if (e.at > now_) break;
        if (!has_room()) {
            ++stats_.queue_full;  // resumed by the next advance() once drained
            break;
        }
        timers_.erase(timers_.begin());
        Record* r = find(TransactionId{e.id});
        if (r == nullptr) continue;  // cannot happen: terminate() cancels every timer
        const Slot slot = static_cast<Slot>(e.slot);
        r->timer_at[slot].reset();
        if (is_client(r->kind)) {
            client_timer(*r, slot);
        } else {
            server_timer(*r, slot);
        }
    }
}

std::optional<TimePoint> TransactionLayer::next_deadline() const {
    if (timers_.empty()) return std::nullopt;
    return timers_.begin()->at;
}

std::optional<Action> TransactionLayer::poll() {
    if (actions_.empty()) return std::nullopt;
    Action a = std::move(actions_.front());
    actions_.pop_front();
    return a;
}

std::optional<TransactionState> TransactionLayer::state(TransactionId id) const {
    const Record* r = find(id);
    if (r == nullptr) return std::nullopt;
    return r->state;
}

std::optional<TransactionKind> TransactionLayer::kind(TransactionId id) const {
    const Record* r = find(id);
    if (r == nullptr) return std::nullopt;
    return r->kind;
}

}  // namespace isthmus::sip
