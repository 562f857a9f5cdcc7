// The core's entry points: parsing and validation of every message (RFC
// 3261 16.3 steps 1-3, 18.2.1), the answers it makes itself, the pump that
// carries out what the transaction layer asks, time and flow closure.
#include "pcscf/core.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "pcscf/p_headers.hpp"
#include "sip/grammar.hpp"
#include "sip/headers.hpp"
#include "sip/parser.hpp"
#include "sip/serializer.hpp"
#include "sip/transaction_match.hpp"
#include "sip/validate.hpp"

namespace isthmus::pcscf {

namespace {

bool is_w2(Transport t) {
    return t == Transport::Ws || t == Transport::Wss;
}

sip::LayerConfig layer_config(const PcscfConfig& c) {
    sip::LayerConfig l;
    l.timers = c.timers;
    l.max_transactions = c.max_transactions;
    l.max_pending_actions = c.max_pending_actions;
    l.send_100_trying = true;  // a proxy sends 100 for INVITE (16.2)
    l.random = c.random;       // unused: the core gives every branch
    return l;
}

RegistrarLimits registrar_limits(const PcscfConfig& c) {
    RegistrarLimits l;
    l.max_flows = c.max_flows;
    l.max_registrations = c.max_registrations;
    l.max_registrations_per_flow = c.max_registrations_per_flow;
    return l;
}

PcscfConfig checked(PcscfConfig c) {
    check_config(c);
    return c;
}

// A reason phrase (RFC 3261 25.1: reserved, unreserved, SP...) made from a
// diagnostic: other octets become SP, and it is cut at 120 characters.
std::string reason_text(std::string_view diagnostic) {
    std::string out;
    for (char c : diagnostic.substr(0, 120)) {
        const bool ok = sip::is_unreserved(c) || sip::is_reserved(c) || c == ' ';
        out.push_back(ok ? c : ' ');
    }
    return out.empty() ? std::string("Bad Request") : out;
}

std::string_view reject_reason(sip::Reject r) {
    switch (r) {
        case sip::Reject::MissingVia:
            return "Missing Via header";
        case sip::Reject::MalformedVia:
            return "Malformed Via header";
        case sip::Reject::NoMagicCookie:
            return "Via branch lacks z9hG4bK (RFC 2543 transactions not supported)";
        case sip::Reject::MalformedCSeq:
            return "Malformed CSeq header";
        case sip::Reject::None:
        case sip::Reject::NotAMessage:
            break;
    }
    return "Bad Request";
}

// The To tag of every response made statelessly: an ACK carrying it
// answers one of those (a refused INVITE) and goes no further.
constexpr std::string_view kStatelessTag = "isthmus-sl-";

std::string_view admission_reason(Refusal why) {
    switch (why) {
        case Refusal::FlowRate:
            return "Service Unavailable (connection rate limit)";
        case Refusal::RegisterRate:
            return "Service Unavailable (REGISTER rate limit)";
        case Refusal::InitialRate:
            return "Service Unavailable (request rate limit)";
        case Refusal::InvitesInSetup:
            return "Service Unavailable (too many calls in setup)";
        default:
            return "Service Unavailable";
    }
}

std::string hex64(uint64_t v) {
    std::array<char, 20> buf{};
    std::snprintf(buf.data(), buf.size(), "%016llx", static_cast<unsigned long long>(v));
    return std::string(buf.data());
}

}  // namespace

Method method_of(std::string_view method) {
    constexpr std::array<std::string_view, kMethodCount> names = {
#define ISTHMUS_X(name, label) label,
        ISTHMUS_PCSCF_METHOD(ISTHMUS_X)
#undef ISTHMUS_X
    };
    for (std::size_t i = 0; i + 1 < names.size(); ++i)
        if (names[i] == method) return static_cast<Method>(i);
    return Method::Other;
}

PcscfCore::PcscfCore(PcscfConfig config)
    : config_(checked(std::move(config))),
      local_(config_),
      rng_(std::random_device{}()),
      tokens_(config_.flow_token_key, config_.random ? config_.random() : rng_()),
      layer_(layer_config(config_)),
      registrar_(registrar_limits(config_)),
      admission_(config_.admission) {
    if (config_.media.enabled) alg_.emplace(config_.media, [this] { return random(); });
    if (config_.token_journal && config_.unix_time) {
        replay_.emplace();
        config_.token_journal->seed(*replay_, config_.unix_time());
    }
}

uint64_t PcscfCore::random() {
    return config_.random ? config_.random() : rng_();
}

// --- entry points -------------------------------------------------------

void PcscfCore::on_message(std::string_view bytes, const Peer& from, TimePoint now) {
    if (now > now_) now_ = now;
    const Side side = is_w2(from.transport) ? Side::W2 : Side::Mw;
    sip::ParseResult r = sip::parse_message(bytes, sip::Framing::Datagram, config_.parse_limits);
    if (r.status != sip::ParseStatus::Ok) {
        on_parse_error(bytes, r, from, side);
        return;
    }
    if (r.message.is_request()) {
        on_request(r.message, from, side);
    } else {
        on_response(r.message, from, side);
    }
    pump();
}

void PcscfCore::on_flow_closed(uint64_t flow, TimePoint now) {
    if (now > now_) now_ = now;
    ++stats_.flows_closed;
    registrar_.close_flow(flow);
    admission_.forget(flow);
    // The flow's calls lose their media at once (no session outlives the
    // browser that held it), and their confirmed dialogs a BYE toward the
    // IMS on its behalf (TS 24.229 5.2.8.1.2).
    if (alg_) {
        for (const DialogRelease& r : alg_->on_flow_closed(flow)) {
            send_release(r);
            pump();
        }
    }
    // Client transactions toward the flow cannot complete: end them now
    // (TransportError), which answers their requests 430 (on_client_failed).
    std::vector<uint64_t> clients;
    for (auto it = toward_flow_.lower_bound({flow, 0});
         it != toward_flow_.end() && it->first == flow; ++it)
        clients.push_back(it->second);
    for (uint64_t id : clients) {
        layer_.on_transport_error(sip::TransactionId{id}, now_);
        pump();
    }
    // Nobody is left to answer or CANCEL the flow's own INVITEs: do it for
    // it, so the IMS stops alerting the callee.
    std::vector<uint64_t> invites;
    for (auto it = invites_from_.lower_bound({flow, 0});
         it != invites_from_.end() && it->first == flow; ++it)
        invites.push_back(it->second);
    for (uint64_t server : invites) {
        const auto it = contexts_.find(server);
        if (it == contexts_.end() || it->second.final_relayed || !it->second.client) continue;
        if (it->second.provisional_seen) {
            send_cancel(it->second);
        } else {
            it->second.cancel_pending = true;
        }
        pump();
    }
}

void PcscfCore::set_dataplane(std::optional<std::string> fingerprint, TimePoint now,
                              bool restarted) {
    if (!alg_) return;
    if (now > now_) now_ = now;
    alg_->set_dataplane(std::move(fingerprint), restarted);
    for (const DialogRelease& r : alg_->take_releases()) {
        send_release(r);
        pump();
    }
}

void PcscfCore::on_dataplane_event(const dpif::Event& ev, TimePoint now) {
    if (!alg_) return;
    if (now > now_) now_ = now;
    alg_->on_event(ev);
    for (const DialogRelease& r : alg_->take_releases()) {
        send_release(r);
        pump();
    }
}

void PcscfCore::on_unreachable(const Peer& to, TimePoint now) {
    if (now > now_) now_ = now;
    ++stats_.unreachable;
    for (const sip::TransactionId id : layer_.clients_toward(to)) {
        layer_.on_transport_error(id, now_);
        pump();
    }
}

void PcscfCore::advance(TimePoint now) {
    if (now > now_) now_ = now;
    // The layer stops firing timers when its queue is full; drain and go on.
    for (;;) {
        layer_.advance(now_);
        const bool acted = layer_.pending_actions() > 0;
        pump();
        const auto due = layer_.next_deadline();
        if (!acted || !due || *due > now_) break;
    }
    registrar_.expire(now_);
    while (!timer_c_.empty() && timer_c_.begin()->first <= now_) {
        const uint64_t server = timer_c_.begin()->second;
        timer_c_.erase(timer_c_.begin());
        fire_timer_c(server);
        pump();
    }
}

std::optional<TimePoint> PcscfCore::next_deadline() const {
    std::optional<TimePoint> out = layer_.next_deadline();
    auto consider = [&](std::optional<TimePoint> t) {
        if (t && (!out || *t < *out)) out = t;
    };
    consider(registrar_.next_expiry());
    if (!timer_c_.empty()) consider(timer_c_.begin()->first);
    return out;
}

std::optional<Output> PcscfCore::poll() {
    if (outputs_.empty()) return std::nullopt;
    Output o = std::move(outputs_.front());
    outputs_.pop_front();
    return o;
}

// --- inbound -------------------------------------------------------------

void PcscfCore::on_parse_error(std::string_view bytes, const sip::ParseResult& r, const Peer& from,
                               Side side) {
    if (r.error == sip::ParseError::Empty) {
        ++stats_.keepalives;
        return;
    }
    ++stats_.parse_errors[static_cast<std::size_t>(r.error)];
    sip::Message head;
    if (r.error == sip::ParseError::MessageTooLarge && !r.message.is_request()) {
        // The parser refuses an oversized datagram whole. Its header section,
        // if that fits, is enough to answer 513 (the body is not needed).
        const std::string_view window = bytes.substr(0, config_.parse_limits.max_message_bytes);
        const auto end = window.find("\r\n\r\n");
        if (end != std::string_view::npos) {
            head = sip::parse_message(window.substr(0, end + 4), sip::Framing::Datagram,
                                      config_.parse_limits)
                       .message;
        }
    }
    const sip::Message& partial = head.is_request() ? head : r.message;
    // A request whose start line and Via made it through can be answered
    // (RFC 3261 16.3 step 1); anything else has no one to answer.
    if (!partial.is_request() || partial.method == "ACK" || partial.field_count("Via") == 0) {
        drop(partial.is_response() ? Drop::MalformedResponse : Drop::Unparsable);
        return;
    }
    switch (r.error) {
        case sip::ParseError::MessageTooLarge:
        case sip::ParseError::HeaderLineTooLong:
        case sip::ParseError::TooManyHeaders:
        case sip::ParseError::StartLineTooLong:
            refuse_stateless(partial, from, Refusal::TooLarge, "Message Too Large", side);
            return;
        default:
            refuse_stateless(partial, from, Refusal::Malformed, reason_text(r.reason), side);
            return;
    }
}

void PcscfCore::on_request(sip::Message& m, const Peer& from, Side side) {
    const auto s = static_cast<std::size_t>(side);
    ++stats_.requests_received[s][static_cast<std::size_t>(method_of(m.method))];
    const bool ack = m.method == "ACK";
    if (!sip::has_supported_version(m)) {
        if (ack) return drop(Drop::Unparsable);
        return refuse_stateless(m, from, Refusal::BadVersion, "Version Not Supported", side);
    }
    if (const auto defect = sip::validate_request(m)) {
        if (ack) return drop(Drop::Unparsable);
        return refuse_stateless(m, from, Refusal::Malformed, reason_text(*defect), side);
    }
    if (side == Side::W2 && !registrar_.admit_flow(from)) {
        if (ack) return drop(Drop::AckUnroutable);
        return refuse_stateless(m, from, Refusal::FlowsFull, "Service Unavailable", side);
    }
    if (side == Side::W2 && !admit(m, from)) return;
    stamp_via_source(m, from);  // 18.2.1, RFC 3581
    const sip::Inbound in = layer_.on_message(m, from, now_);
    switch (in.disposition) {
        case sip::Disposition::NewServerTransaction:
            new_request(m, in.transaction, from, side);
            return;
        case sip::Disposition::Cancel:
            on_cancel(m, in, side);
            return;
        case sip::Disposition::Ack:
            if (acks_stateless_reply(m)) return drop(Drop::AckToRefusal);
            if (side == Side::W2) {
                w2_ack(m, from);
            } else {
                mw_ack(m);
            }
            return;
        case sip::Disposition::Overloaded:
            return refuse_stateless(m, from, Refusal::TransactionsFull, "Service Unavailable",
                                    side);
        case sip::Disposition::QueueFull:
            return drop(Drop::QueueFull);
        case sip::Disposition::Rejected:
            if (ack) return drop(Drop::Unparsable);
            return refuse_stateless(m, from, Refusal::Malformed, reject_reason(in.reject), side);
        case sip::Disposition::Absorbed:
        case sip::Disposition::Response:
        case sip::Disposition::Response2xxRetransmission:
        case sip::Disposition::StrayResponse:
            return;
    }
}

void PcscfCore::on_response(sip::Message& m, const Peer& from, Side side) {
    const auto s = static_cast<std::size_t>(side);
    ++stats_.responses_received[s][std::min<std::size_t>(m.status_code / 100u, 6u) - 1u];
    if (sip::validate_response(m)) return drop(Drop::MalformedResponse);
    const sip::Inbound in = layer_.on_message(m, from, now_);
    switch (in.disposition) {
        case sip::Disposition::Response:
        case sip::Disposition::Response2xxRetransmission:
            relay_response(in.transaction, m, side);
            return;
        case sip::Disposition::StrayResponse:
            return drop(Drop::StrayResponse);
        case sip::Disposition::Rejected:
            return drop(Drop::MalformedResponse);
        case sip::Disposition::QueueFull:
            return drop(Drop::QueueFull);
        default:
            return;  // Absorbed
    }
}

void PcscfCore::new_request(sip::Message& m, sip::TransactionId txn, const Peer& from, Side side) {
    // 16.3 step 3: Max-Forwards (validated: present and 0..255).
    const auto mf = sip::parse_max_forwards(*m.header("Max-Forwards"));
    if (mf->hops == 0) return refuse(txn, m, Refusal::TooManyHops, "Too Many Hops", side);
    if (side == Side::W2) {
        w2_request(m, txn, from);
    } else {
        mw_request(m, txn, from);
    }
}

// --- answers we make ------------------------------------------------------

sip::Message PcscfCore::make_reply(const sip::Message& request, uint16_t code,
                                   std::string_view reason, bool stateless) {
    sip::Message r = sip::make_response_to(request, code, reason);
    if (code > 100) {
        // 8.2.6.2: a To tag on every response but 100.
        if (const auto to = r.header("To")) {
            const auto na = sip::parse_name_addr(*to);
            if (na && !na->tag()) {
                r.set("To", std::string(*to) +
                                ";tag=" + (stateless ? std::string(kStatelessTag) : std::string()) +
                                hex64(random()));
            }
        }
    }
    if (code == 503) r.add("Retry-After", std::to_string(config_.retry_after_s));
    return r;
}

void PcscfCore::count_sent(Side to, uint16_t code) {
    const std::size_t cls = std::clamp<std::size_t>(code / 100u, 1u, 6u) - 1u;
    ++stats_.responses_sent[static_cast<std::size_t>(to)][cls];
}

void PcscfCore::answer(sip::TransactionId txn, const sip::Message& request, uint16_t code,
                       std::string_view reason, Side side) {
    const sip::Message r = make_reply(request, code, reason);
    if (layer_.respond(txn, r, now_) == sip::RespondStatus::Ok) count_sent(side, code);
}

void PcscfCore::refuse(sip::TransactionId txn, const sip::Message& request, Refusal why,
                       std::string_view reason, Side side) {
    ++stats_.refused[static_cast<std::size_t>(why)];
    answer(txn, request, refusal_status(why), reason, side);
}

void PcscfCore::refuse_stateless(const sip::Message& request, const Peer& to, Refusal why,
                                 std::string_view reason, Side side) {
    ++stats_.refused[static_cast<std::size_t>(why)];
    const uint16_t code = refusal_status(why);
    outputs_.push_back(
        Output{Output::Kind::Send, to, sip::serialize(make_reply(request, code, reason, true))});
    count_sent(side, code);
}

bool PcscfCore::admit(const sip::Message& m, const Peer& from) {
    const RequestClass c = classify(m);
    if (c == RequestClass::Exempt) return true;
    const AdmissionVerdict v = admission_.admit(from.flow, c, invites_in_setup_, now_);
    if (!v.refusal) return true;
    ++stats_.refused[static_cast<std::size_t>(*v.refusal)];
    sip::Message r = make_reply(m, refusal_status(*v.refusal), admission_reason(*v.refusal), true);
    r.set("Retry-After", std::to_string(admission_.config().retry_after_s));
    outputs_.push_back(Output{Output::Kind::Send, from, sip::serialize(r)});
    count_sent(Side::W2, r.status_code);
    if (v.close_flow) {
        // It does not wait as told: after this 503, its connection goes.
        ++stats_.admission_flows_closed;
        outputs_.push_back(Output{Output::Kind::CloseFlow, from, {}});
    }
    return false;
}

bool PcscfCore::acks_stateless_reply(const sip::Message& ack) {
    const auto to = ack.header("To");
    const auto tag = to ? header_tag(*to) : std::nullopt;
    return tag && tag->starts_with(kStatelessTag);
}

// --- the transaction layer's actions -----------------------------------------

void PcscfCore::pump() {
    std::vector<sip::Action> batch;
    while (layer_.pending_actions() > 0) {
        // Take the whole queue first: handling an action may queue more
        // (a response made for a timeout), and must always find room.
        batch.clear();
        while (auto a = layer_.poll())
            batch.push_back(std::move(*a));
        for (const sip::Action& a : batch)
            on_action(a);
    }
}

void PcscfCore::on_action(const sip::Action& a) {
    switch (a.kind) {
        case sip::ActionKind::Send:
            if (is_w2(a.peer.transport) && !registrar_.alive(a.peer.flow)) {
                return drop(Drop::ClosedFlow);
            }
            outputs_.push_back(Output{Output::Kind::Send, a.peer, *a.bytes});
            return;
        case sip::ActionKind::Timeout:
        case sip::ActionKind::TransportError:
            on_client_failed(a.transaction, a.kind);
            return;
        case sip::ActionKind::Terminated:
            on_terminated(a.transaction);
            return;
    }
}

}  // namespace isthmus::pcscf
