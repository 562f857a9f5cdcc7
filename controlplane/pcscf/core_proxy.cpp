// The stateful proxy's machinery (RFC 3261 16.6-16.10): forwarding on a
// client transaction, relaying responses through the server transaction,
// what a failed branch answers, CANCEL, Timer C, and the stateless ACK for
// a 2xx (16.11).
//
// Failures of a branch (on_client_failed), decided here:
//  - Timer B (INVITE): 408 upstream (16.7 step 2; 16.8 when Timer C gave up).
//  - Timer F (non-INVITE): nothing goes upstream (RFC 4320 4.1 forbids a 408
//    to a non-INVITE; the upstream client has given up by then). The layer
//    has no call that ends a server transaction without a response, so the
//    core ends it with on_transport_error(), which does exactly that for a
//    non-INVITE server transaction (a stand-in; see the report of issue 6).
//  - transport error toward a browser (its flow closed): 430 Flow Failed
//    (RFC 5626 5.3); toward the IMS: 503 (8.1.3.1).
#include <algorithm>

#include "pcscf/core.hpp"
#include "pcscf/p_headers.hpp"
#include "sip/grammar.hpp"
#include "sip/headers.hpp"
#include "sip/serializer.hpp"
#include "sip/transaction_match.hpp"

namespace isthmus::pcscf {

namespace {

// The most of our own entries a Route may start with: Mw + W2 Record-Route
// (or our Path) make two; a hostile list of thousands is cut here.
constexpr int kMaxOwnRoutes = 8;

// The CANCEL for a request we forwarded (9.1): its Request-URI, top Via
// (ours, same branch), Route, From, To, Call-ID and CSeq number.
sip::Message make_cancel(const sip::Message& request) {
    sip::Message c = sip::make_request("CANCEL", request.request_uri);
    if (const auto via = request.header("Via")) c.add("Via", *via);
    c.add("Max-Forwards", "70");
    for (std::string_view r : request.headers("Route"))
        c.add("Route", r);
    for (std::string_view name : {"From", "To", "Call-ID"}) {
        if (const auto v = request.header(name)) c.add(name, *v);
    }
    const auto cseq = sip::parse_cseq(*request.header("CSeq"));
    c.add("CSeq", sip::to_string(sip::CSeq{cseq ? cseq->number : 0, "CANCEL"}));
    return c;
}

// FNV-1a: a stable hash for stateless branches (16.11: the same request
// gets the same branch when it comes again).
uint64_t fnv1a(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (char c : s) {
        h ^= static_cast<uint8_t>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

}  // namespace

bool PcscfCore::decrement_max_forwards(sip::Message& m) {
    const auto value = m.header("Max-Forwards");
    const auto mf = value ? sip::parse_max_forwards(*value) : std::nullopt;
    if (!mf || mf->hops == 0) return false;
    m.set("Max-Forwards", sip::to_string(sip::MaxForwards{static_cast<uint8_t>(mf->hops - 1)}));
    return true;
}

std::string PcscfCore::pop_own_routes(sip::Message& m) const {
    std::string token;
    for (int i = 0; i < kMaxOwnRoutes; ++i) {
        const auto top = m.header("Route");
        if (!top) break;
        const auto na = sip::parse_name_addr(*top);
        if (!na || local_.face(na->uri) == Face::None) break;
        if (token.empty() && !na->uri.user.empty()) token = sip::unescape(na->uri.user);
        m.remove_first_value("Route");
    }
    return token;
}

const Peer& PcscfCore::mw_next_hop(const sip::Message& m) const {
    if (const auto route = m.header("Route")) {
        if (const auto na = sip::parse_name_addr(*route)) return local_.next_hop(na->uri);
    }
    return local_.next_hop(m.request_uri);
}

void PcscfCore::forward(sip::Message m, Context ctx, const Peer& to, Side to_side) {
    const std::string branch = sip::make_branch(random(), ++counter_);
    const std::string via =
        to_side == Side::Mw ? local_.mw_via(to.transport) : local_.w2_via(to.transport);
    m.prepend("Via", via + ";branch=" + branch);
    if (ctx.invite) {
        ctx.cancel = make_cancel(m);
        ctx.downstream = to;
    }
    const sip::SendResult r = layer_.send_request(std::move(m), to, now_);
    if (r.status != sip::SendStatus::Ok) {
        release(ctx);
        alg_failed(ctx);
        if (r.status == sip::SendStatus::TooManyTransactions) {
            return refuse(ctx.server, ctx.reply_base, Refusal::TransactionsFull,
                          "Service Unavailable", ctx.from);
        }
        return answer(ctx.server, ctx.reply_base, 500, "Server Internal Error", ctx.from);
    }
    ++stats_.requests_forwarded[static_cast<std::size_t>(to_side)];
    ctx.client = r.transaction;
    by_client_[r.transaction.value] = ctx.server.value;
    if (to_side == Side::W2) toward_flow_.emplace(to.flow, r.transaction.value);
    if (ctx.invite && ctx.from == Side::W2) invites_from_.emplace(ctx.w2_flow, ctx.server.value);
    Context& stored = contexts_[ctx.server.value] = std::move(ctx);
    // 16.6 step 11: Timer C for an INVITE.
    if (stored.invite) set_timer_c(stored, now_ + config_.timer_c);
}

void PcscfCore::forward_stateless(sip::Message m, const Peer& to, Side to_side) {
    const auto top = m.header("Via");
    const std::string branch =
        std::string(sip::kMagicCookie) + "-sl" + std::to_string(fnv1a(top ? *top : ""));
    const std::string via =
        to_side == Side::Mw ? local_.mw_via(to.transport) : local_.w2_via(to.transport);
    m.prepend("Via", via + ";branch=" + branch);
    if (to_side == Side::W2 && !registrar_.alive(to.flow)) return drop(Drop::ClosedFlow);
    ++stats_.requests_forwarded[static_cast<std::size_t>(to_side)];
    outputs_.push_back(Output{Output::Kind::Send, to, sip::serialize(m)});
}

void PcscfCore::relay_response(sip::TransactionId client, sip::Message& m, Side /*side*/) {
    if (own_clients_.count(client.value) != 0) return;  // the answer to our CANCEL
    const auto bc = by_client_.find(client.value);
    const auto it = bc == by_client_.end() ? contexts_.end() : contexts_.find(bc->second);
    if (it == contexts_.end()) return drop(Drop::LateResponse);
    Context& ctx = it->second;
    const uint16_t code = m.status_code;
    if (code == 100) return;  // 16.7 step 5: a 100 stops here
    if (code < 200) {
        ctx.provisional_seen = true;
        // 16.7 step 2: a provisional resets Timer C.
        if (ctx.invite && !ctx.cancel_sent) set_timer_c(ctx, now_ + config_.timer_c);
        if (ctx.cancel_pending) send_cancel(ctx);
    } else if (ctx.final_relayed && !(ctx.invite && code < 300)) {
        return;  // one final response per request (a 2xx again: RFC 6026 7.2)
    }
    // The IMS-ALG rewrites the SDP (or ends the call on a failure).
    if (alg_) {
        alg_->on_response(m, ctx.from == Side::W2 ? Side::Mw : Side::W2, ctx.w2_flow,
                          ctx.server.value);
    }
    m.remove_first_value("Via");  // ours (16.7 step 3)
    if (ctx.from == Side::W2) {
        remove_charging_toward_ue(m);
        if (ctx.registration && code >= 200 && code < 300) on_registered(ctx, m);
    } else if (code < 300) {
        // From the browser toward the IMS: its identity asserted as for its
        // requests (TS 24.229 5.2.6.4.4), never as it claims.
        const auto preferred = preferred_identities(m);
        m.remove("P-Asserted-Identity");
        m.remove("P-Preferred-Identity");
        const auto id = registrar_.assert_identity(ctx.w2_flow, preferred, now_);
        if (id) put_field(m, "P-Asserted-Identity", asserted_identity_value(*id->identity));
    }
    if (code >= 200) {
        ctx.final_relayed = true;
        release(ctx);
        // The context outlives the final response as long as its server
        // transaction lingers (Timer J/L: up to 32 s over UDP), and needs
        // none of what it kept to make a response or a CANCEL.
        ctx.reply_base = {};
        ctx.cancel = {};
        ctx.contacts.clear();
        ctx.contacts.shrink_to_fit();
    }
    if (layer_.respond(ctx.server, m, now_) == sip::RespondStatus::Ok) count_sent(ctx.from, code);
}

void PcscfCore::on_registered(const Context& ctx, const sip::Message& ok) {
    if (!ctx.binds) return;  // a query changes nothing
    RegistrationUpdate u;
    u.aor = ctx.aor;
    u.web_authenticated = ctx.web_authenticated;
    u.lease = ctx.lease;
    std::optional<uint64_t> header_expiry;
    if (const auto e = ok.header("Expires"))
        header_expiry = sip::parse_uint(sip::trim_lws(*e), 0xFFFFFFFFu);
    const auto contacts = ok.headers("Contact");
    for (const sip::Uri& mine : ctx.contacts) {
        for (std::string_view v : contacts) {
            const auto na = sip::parse_name_addr(v);
            if (!na || !sip::uri_equivalent(na->uri, mine)) continue;
            std::optional<uint64_t> secs = header_expiry;
            if (const sip::Param* p = na->param("expires"); p && p->value) {
                secs = sip::parse_uint(*p->value, 0xFFFFFFFFu);
            }
            const uint64_t s = std::min<uint64_t>(
                secs.value_or(static_cast<uint64_t>(config_.default_expires.count())), 0x7FFFFFFFu);
            if (s > 0) u.bindings.push_back(Binding{mine, now_ + std::chrono::seconds(s)});
            break;
        }
    }
    for (std::string_view v : ok.headers("Service-Route"))
        u.service_route.emplace_back(v);
    for (std::string_view v : ok.headers("P-Associated-URI")) {
        if (auto na = sip::parse_name_addr(v)) u.identities.push_back(std::move(*na));
    }
    if (u.identities.empty()) {
        // No P-Associated-URI: the AOR is the one identity we know.
        if (auto uri = sip::parse_uri(ctx.aor)) {
            sip::NameAddr na;
            na.uri = std::move(*uri);
            u.identities.push_back(std::move(na));
        }
    }
    registrar_.apply(ctx.w2_flow, std::move(u), now_);
}

void PcscfCore::on_client_failed(sip::TransactionId client, sip::ActionKind kind) {
    const auto bc = by_client_.find(client.value);
    if (bc == by_client_.end()) return;  // a server transaction, or our CANCEL
    const auto it = contexts_.find(bc->second);
    if (it == contexts_.end() || it->second.final_relayed) return;
    Context& ctx = it->second;
    ctx.final_relayed = true;
    release(ctx);
    alg_failed(ctx);
    if (kind == sip::ActionKind::Timeout && !ctx.invite && !ctx.abandoned) {
        // RFC 4320 4.1: no 408 for a non-INVITE; end it without a word.
        layer_.on_transport_error(ctx.server, now_);
        return;
    }
    if (kind == sip::ActionKind::Timeout || ctx.abandoned) {
        return refuse(ctx.server, ctx.reply_base, Refusal::Timeout, "Request Timeout", ctx.from);
    }
    if (ctx.from == Side::Mw) {
        return refuse(ctx.server, ctx.reply_base, Refusal::FlowFailed, "Flow Failed", ctx.from);
    }
    refuse(ctx.server, ctx.reply_base, Refusal::NextHopFailed, "Service Unavailable", ctx.from);
}

void PcscfCore::on_terminated(sip::TransactionId id) {
    if (own_clients_.erase(id.value) != 0) return;
    auto erase_toward = [&](uint64_t flow, uint64_t client) { toward_flow_.erase({flow, client}); };
    if (const auto bc = by_client_.find(id.value); bc != by_client_.end()) {
        const auto it = contexts_.find(bc->second);
        by_client_.erase(bc);
        if (it == contexts_.end()) return;
        Context& ctx = it->second;
        if (ctx.from == Side::Mw) erase_toward(ctx.w2_flow, id.value);
        ctx.client = {};
        set_timer_c(ctx, std::nullopt);
        return;
    }
    const auto it = contexts_.find(id.value);
    if (it == contexts_.end()) return;
    Context& ctx = it->second;
    release(ctx);
    if (ctx.client) {
        by_client_.erase(ctx.client.value);
        if (ctx.from == Side::Mw) erase_toward(ctx.w2_flow, ctx.client.value);
    }
    if (ctx.invite && ctx.from == Side::W2) invites_from_.erase({ctx.w2_flow, id.value});
    contexts_.erase(it);
}

void PcscfCore::on_cancel(sip::Message& m, const sip::Inbound& in, Side side) {
    // 16.10: the CANCEL is answered here; the INVITE's branch is cancelled.
    if (!in.invite) {
        return refuse(in.transaction, m, Refusal::NoSuchTransaction,
                      "Call/Transaction Does Not Exist", side);
    }
    answer(in.transaction, m, 200, "OK", side);
    const auto it = contexts_.find(in.invite.value);
    if (it == contexts_.end()) return;  // answered by us already
    Context& ctx = it->second;
    if (ctx.final_relayed || !ctx.client) return;
    if (ctx.provisional_seen) {
        send_cancel(ctx);
    } else {
        ctx.cancel_pending = true;  // 9.1: not before a provisional response
    }
}

void PcscfCore::send_cancel(Context& ctx) {
    if (ctx.cancel_sent || !ctx.client) return;
    ctx.cancel_sent = true;
    ctx.cancel_pending = false;
    const sip::SendResult r = layer_.send_request(ctx.cancel, ctx.downstream, now_);
    if (r.status == sip::SendStatus::Ok) {
        own_clients_.insert(r.transaction.value);
        ++stats_.cancels_sent;
    }
    // 9.1: without a final response 64*T1 after the CANCEL, the INVITE's
    // client transaction is given up (Timer C's second firing).
    set_timer_c(ctx, now_ + config_.timers.t1 * 64);
}

void PcscfCore::set_timer_c(Context& ctx, std::optional<TimePoint> at) {
    if (ctx.timer_c) timer_c_.erase({*ctx.timer_c, ctx.server.value});
    ctx.timer_c = at;
    if (at) timer_c_.emplace(*at, ctx.server.value);
}

void PcscfCore::fire_timer_c(uint64_t server) {
    const auto it = contexts_.find(server);
    if (it == contexts_.end()) return;
    Context& ctx = it->second;
    ctx.timer_c.reset();  // its entry is gone already
    ++stats_.timer_c_fired;
    if (ctx.final_relayed || !ctx.client) return;
    // 16.8: with a provisional, CANCEL; without one (or with the CANCEL
    // unanswered), behave as if a 408 came: end the branch.
    if (ctx.provisional_seen && !ctx.cancel_sent) return send_cancel(ctx);
    ctx.abandoned = true;
    layer_.on_transport_error(ctx.client, now_);
}

bool PcscfCore::alg_request(sip::Message& m, sip::TransactionId txn, Side from, uint64_t flow) {
    if (!alg_) return true;
    const AlgVerdict v = alg_->on_request(m, from, flow, txn.value);
    if (v.status == 0) return true;
    if (txn) answer(txn, m, v.status, v.reason, from);
    return false;
}

void PcscfCore::alg_failed(const Context& ctx) {
    if (!alg_) return;
    const auto call_id = ctx.reply_base.header("Call-ID");
    const auto cseq = ctx.reply_base.header("CSeq");
    const auto parsed = cseq ? sip::parse_cseq(*cseq) : std::nullopt;
    if (call_id && parsed) alg_->on_failed(*call_id, parsed->method, ctx.w2_flow, ctx.server.value);
}

void PcscfCore::send_release(const DialogRelease& r) {
    const auto target = sip::parse_uri(r.remote_target);
    if (!target) return;
    sip::Message bye = sip::make_request("BYE", *target);
    bye.add("Max-Forwards", "70");
    if (r.toward == Side::W2) {
        // On the browser's own flow, whatever its Contact says.
        if (!registrar_.alive(r.flow)) return;
        const Peer peer = registrar_.flow(r.flow)->peer;
        bye.add("From", r.from);
        bye.add("To", r.to);
        bye.add("Call-ID", r.call_id);
        bye.add("CSeq", sip::to_string(sip::CSeq{r.cseq, "BYE"}));
        bye.add("Reason", r.media_timeout ? "SIP;cause=408;text=\"Media timeout\""
                                          : "SIP;cause=503;text=\"Media failed\"");
        bye.prepend("Via", local_.w2_via(peer.transport) +
                               ";branch=" + sip::make_branch(random(), ++counter_));
        const sip::SendResult s = layer_.send_request(std::move(bye), peer, now_);
        if (s.status == sip::SendStatus::Ok) {
            own_clients_.insert(s.transaction.value);
            ++stats_.byes_sent;
        }
        return;
    }
    for (const std::string& route : r.route_set) {
        const auto na = sip::parse_name_addr(route);
        if (na && local_.face(na->uri) != Face::None) continue;  // ourselves
        bye.add("Route", route);
    }
    bye.add("From", r.from);
    bye.add("To", r.to);
    bye.add("Call-ID", r.call_id);
    bye.add("CSeq", sip::to_string(sip::CSeq{r.cseq, "BYE"}));
    // RFC 3326: why the dialog ended.
    bye.add("Reason", !registrar_.alive(r.flow) ? "SIP;cause=480;text=\"WebSocket flow closed\""
                      : r.media_timeout         ? "SIP;cause=408;text=\"Media timeout\""
                                                : "SIP;cause=503;text=\"Media failed\"");
    const Peer hop = mw_next_hop(bye);
    bye.prepend("Via",
                local_.mw_via(hop.transport) + ";branch=" + sip::make_branch(random(), ++counter_));
    const sip::SendResult s = layer_.send_request(std::move(bye), hop, now_);
    if (s.status == sip::SendStatus::Ok) {
        own_clients_.insert(s.transaction.value);
        ++stats_.byes_sent;
    }
}

void PcscfCore::release(Context& ctx) {
    if (ctx.reserves_registration) {
        ctx.reserves_registration = false;
        --reserved_registrations_;
    }
    if (ctx.in_setup) {
        ctx.in_setup = false;
        --invites_in_setup_;
    }
    set_timer_c(ctx, std::nullopt);
}

}  // namespace isthmus::pcscf
