// The server transaction machines: INVITE (RFC 3261 17.2.1 with RFC 6026's
// Accepted state, figure 7 there) and non-INVITE (17.2.2, figure 8; CANCEL
// is one, 9.2).
#include <memory>
#include <utility>

#include "sip/serializer.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/transaction_match.hpp"

namespace isthmus::sip {

void TransactionLayer::start_server(Record& r, const Message& request) {
    if (r.kind == TransactionKind::NonInviteServer) {
        r.state = TransactionState::Trying;
        return;
    }
    r.state = TransactionState::Proceeding;
    if (config_.send_100_trying) {
        r.last_sent = std::make_shared<const std::string>(
            serialize(make_response_to(request, 100, "Trying")));
        send(r, r.last_sent, false);
    }
}

Inbound TransactionLayer::server_request(Record& r, const Message& request) {
    Inbound in;
    in.transaction = r.id;
    in.disposition = Disposition::Absorbed;
    if (r.kind == TransactionKind::InviteServer && request.method == "ACK") {
        switch (r.state) {
            case TransactionState::Accepted:
                // RFC 6026 figure 7: "ACK / to TU" (the ACK for a 2xx).
                ++stats_.acks_to_core;
                in.disposition = Disposition::Ack;
                return in;
            case TransactionState::Completed:
                // 17.2.1: the ACK for our 300-699 ends the retransmissions.
                ++stats_.requests_absorbed;
                r.state = TransactionState::Confirmed;
                cancel_timer(r, kRetransmit);
                cancel_timer(r, kTimeout);
                linger(r, TimerName::I);  // may terminate r (reliable: I = 0)
                return in;
            default:
                // Confirmed: a retransmitted ACK. Proceeding: an ACK before
                // any final response, which nothing can acknowledge: dropped.
                ++stats_.requests_absorbed;
                return in;
        }
    }
    // A retransmitted request (17.2.1, 17.2.2): the last response goes again,
    // except in Trying (none yet) and Accepted / Confirmed (RFC 6026: the TU
    // retransmits its 2xx; a Confirmed INVITE has had its answer ACKed).
    ++stats_.requests_absorbed;
    const bool resend =
        (r.state == TransactionState::Proceeding || r.state == TransactionState::Completed) &&
        r.last_sent != nullptr;
    if (resend) send(r, r.last_sent, true);
    return in;
}

RespondStatus TransactionLayer::server_respond(Record& r, const Message& response) {
    const uint16_t code = response.status_code;
    auto bytes = std::make_shared<const std::string>(serialize(response));
    if (r.kind == TransactionKind::NonInviteServer) {
        if (r.state == TransactionState::Completed) return RespondStatus::WrongState;
        r.last_sent = bytes;
        send(r, std::move(bytes), false);
        if (provisional(code)) {
            r.state = TransactionState::Proceeding;
            return RespondStatus::Ok;
        }
        r.state = TransactionState::Completed;
        linger(r, TimerName::J);  // may terminate r (reliable: J = 0)
        return RespondStatus::Ok;
    }

    if (r.state == TransactionState::Accepted) {
        if (!success(code)) return RespondStatus::WrongState;
        send(r, std::move(bytes), false);  // the TU's own 2xx retransmission
        return RespondStatus::Ok;
    }
    if (r.state != TransactionState::Proceeding) return RespondStatus::WrongState;
    r.last_sent = bytes;
    send(r, std::move(bytes), false);
    if (provisional(code)) return RespondStatus::Ok;
    if (success(code)) {
        // RFC 6026 8.5: Accepted, absorbing INVITE retransmissions until L.
        r.state = TransactionState::Accepted;
        r.last_sent.reset();
        linger(r, TimerName::L);
        return RespondStatus::Ok;
    }
    // 17.2.1: Completed; G retransmits over UDP, H waits for the ACK.
    r.state = TransactionState::Completed;
    if (!r.reliable) {
        r.retransmit_interval = first_retransmit_interval(config_.timers);
        set_timer(r, kRetransmit, TimerName::G, r.retransmit_interval);
    }
    set_timer(r, kTimeout, TimerName::H, timer_duration(TimerName::H, r.reliable, config_.timers));
    return RespondStatus::Ok;
}

void TransactionLayer::server_timer(Record& r, Slot slot) {
    switch (slot) {
        case kRetransmit:
            // G (Completed): the final response again, backing off to T2.
            send(r, r.last_sent, true);
            r.retransmit_interval =
                next_retransmit_interval(TimerName::G, r.retransmit_interval, config_.timers);
            set_timer(r, kRetransmit, TimerName::G, r.retransmit_interval);
            return;
        case kTimeout:
            // H: the ACK never came; the TU hears of the failure (17.2.1).
            ++stats_.timeouts;
            notify(ActionKind::Timeout, r.id, TimerName::H);
            terminate(r);
            return;
        case kLifetime:
        case kSlots:
            terminate(r);  // I, J or L
            return;
    }
}

}  // namespace isthmus::sip
