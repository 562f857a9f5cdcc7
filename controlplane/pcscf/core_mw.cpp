// Requests from the IMS (Mw): routed to a browser's flow by the RFC 5626
// flow token in our Path URI (initial requests: the S-CSCF puts the Path in
// Route), in our W2 Record-Route URI (in-dialog requests), or in the
// Request-URI. TS 24.229 5.2.6.4 for the headers.
//
// Refusals (decided here, documented in core.hpp):
//  - a token whose MAC does not verify: 403 Forbidden. The request is well
//    formed and understood; we will not act on it. (404 would tell the
//    sender the user is unknown and invite retargeting.)
//  - no token at all: 404 Not Found (nothing names a flow of ours);
//  - a genuine token for a flow that is gone, or from an earlier run: 430
//    Flow Failed (RFC 5626 5.3), so the S-CSCF can try another binding.
#include "pcscf/core.hpp"
#include "pcscf/p_headers.hpp"
#include "sip/grammar.hpp"
#include "sip/headers.hpp"
#include "sip/transaction_match.hpp"

namespace isthmus::pcscf {

PcscfCore::Target PcscfCore::mw_target(sip::Message& m) {
    Target t;
    std::string token = pop_own_routes(m);
    if (token.empty() && local_.face(m.request_uri) != Face::None) {
        if (m.request_uri.user.empty()) {
            t.addressed_to_us = true;
            return t;
        }
        token = sip::unescape(m.request_uri.user);
        t.token_in_request_uri = true;
    }
    if (token.empty()) {
        t.refusal = Refusal::NoToken;
        return t;
    }
    const TokenResult r = tokens_.check(token);
    switch (r.check) {
        case TokenCheck::Invalid:
            t.refusal = Refusal::InvalidToken;
            return t;
        case TokenCheck::Stale:
            t.refusal = Refusal::FlowFailed;
            return t;
        case TokenCheck::Valid:
            break;
    }
    if (!registrar_.alive(r.flow)) {
        t.refusal = Refusal::FlowFailed;
        return t;
    }
    t.flow = r.flow;
    return t;
}

void PcscfCore::mw_request(sip::Message& m, sip::TransactionId txn, const Peer& /*from*/) {
    const Target t = mw_target(m);
    if (t.addressed_to_us) {
        // An OPTIONS to us (an IMS keepalive probe) gets 200; nothing else
        // is ours to answer.
        if (m.method == "OPTIONS") return answer(txn, m, 200, "OK", Side::Mw);
        return refuse(txn, m, Refusal::NoToken, "Not Found", Side::Mw);
    }
    if (t.refusal) {
        const std::string_view reason = *t.refusal == Refusal::InvalidToken
                                            ? "Forbidden (invalid flow token)"
                                        : *t.refusal == Refusal::FlowFailed ? "Flow Failed"
                                                                            : "Not Found";
        return refuse(txn, m, *t.refusal, reason, Side::Mw);
    }
    const FlowState* flow = registrar_.flow(t.flow);
    if (t.token_in_request_uri) {
        // Our URI as the target: the browser's registered contact replaces
        // it (RFC 3261 16.5, the Request-URI is ours to retarget).
        const Registration* reg = nullptr;
        for (const Registration& r : flow->registrations)
            if (r.expires > now_ && !r.bindings.empty()) reg = &r;
        if (reg == nullptr) return refuse(txn, m, Refusal::NoToken, "Not Found", Side::Mw);
        m.request_uri = reg->bindings.front().contact;
    }
    if (!alg_request(m, txn, Side::Mw, t.flow)) return;
    Context ctx;
    ctx.server = txn;
    ctx.from = Side::Mw;
    ctx.w2_flow = t.flow;
    ctx.invite = m.method == "INVITE";
    ctx.reply_base = sip::make_response_to(m, 500, "Server Internal Error");

    decrement_max_forwards(m);
    remove_charging_toward_ue(m);
    const auto to = sip::parse_name_addr(*m.header("To"));
    if (!(to && to->tag())) {
        // Initial request: the double Record-Route again, the callee (the
        // browser) side on top: its route set starts with our W2 URI.
        put_first(m, "Record-Route", local_.mw_record_route());
        put_first(m, "Record-Route", local_.w2_record_route(tokens_.make(t.flow)));
    }
    const Peer peer = flow->peer;
    forward(std::move(m), std::move(ctx), peer, Side::W2);
}

void PcscfCore::mw_ack(sip::Message& m) {
    if (!decrement_max_forwards(m)) return drop(Drop::AckUnroutable);
    const Target t = mw_target(m);
    if (t.refusal || t.addressed_to_us || t.token_in_request_uri) {
        return drop(Drop::AckUnroutable);
    }
    remove_charging_toward_ue(m);
    alg_request(m, {}, Side::Mw, t.flow);  // an answer in an ACK
    const Peer peer = registrar_.flow(t.flow)->peer;
    forward_stateless(std::move(m), peer, Side::W2);
}

}  // namespace isthmus::pcscf
