// The client transaction machines: INVITE (RFC 3261 17.1.1 with RFC 6026's
// Accepted state, figure 5 there) and non-INVITE (17.1.2, figure 6).
#include <memory>
#include <utility>

#include "sip/serializer.hpp"
#include "sip/transaction_layer.hpp"
#include "sip/transaction_match.hpp"

namespace isthmus::sip {

void TransactionLayer::start_client(Record& r, Message request) {
    const bool invite = r.kind == TransactionKind::InviteClient;
    r.state = invite ? TransactionState::Calling : TransactionState::Trying;
    r.request_bytes = std::make_shared<const std::string>(serialize(request));
    if (invite) r.request = std::move(request);  // the ACK for a 300-699 comes from it
    send(r, r.request_bytes, false);
    // 17.1.1.2 / 17.1.2.2: retransmissions over unreliable transports only;
    // the timeout on every transport.
    if (!r.reliable) {
        r.retransmit_interval = first_retransmit_interval(config_.timers);
        set_timer(r, kRetransmit, invite ? TimerName::A : TimerName::E, r.retransmit_interval);
    }
    const TimerName timeout = invite ? TimerName::B : TimerName::F;
    set_timer(r, kTimeout, timeout, timer_duration(timeout, r.reliable, config_.timers));
}

Inbound TransactionLayer::client_response(Record& r, const Message& response) {
    Inbound in;
    in.transaction = r.id;
    const uint16_t code = response.status_code;
    if (r.kind == TransactionKind::NonInviteClient) {
        if (r.state == TransactionState::Completed) {
            // 17.1.2.2: retransmitted finals (and late provisionals) stop here.
            ++stats_.responses_absorbed;
            in.disposition = Disposition::Absorbed;
            return in;
        }
        in.disposition = Disposition::Response;
        if (provisional(code)) {
            // Trying -> Proceeding; Timer E keeps running (T2 from its next firing).
            r.state = TransactionState::Proceeding;
            return in;
        }
        r.state = TransactionState::Completed;
        cancel_timer(r, kRetransmit);
        cancel_timer(r, kTimeout);
        r.request_bytes.reset();
        linger(r, TimerName::K);  // may terminate r (reliable: K = 0)
        return in;
    }

    switch (r.state) {
        case TransactionState::Calling:
        case TransactionState::Proceeding:
            in.disposition = Disposition::Response;
            // 17.1.1.2: no retransmission once anything came back; B only
            // bounds Calling (a proxy CANCELs a Proceeding INVITE, 16.7 / 16.8).
            cancel_timer(r, kRetransmit);
            cancel_timer(r, kTimeout);
            r.request_bytes.reset();  // never sent again
            if (provisional(code)) {
                r.state = TransactionState::Proceeding;
            } else if (success(code)) {
                // RFC 6026 7.2: Accepted; retransmitted 2xx go to the TU until M.
                r.state = TransactionState::Accepted;
                r.request = Message{};
                linger(r, TimerName::M);
            } else {
                // 17.1.1.3: the transaction ACKs a 300-699 itself.
                r.state = TransactionState::Completed;
                r.last_sent = std::make_shared<const std::string>(
                    serialize(make_ack_for(r.request, response)));
                r.request = Message{};
                send(r, r.last_sent, false);
                linger(r, TimerName::D);  // may terminate r (reliable: D = 0)
            }
            return in;
        case TransactionState::Completed:
            if (success(code)) {
                // A 2xx after a 300-699: not this transaction's to pass on
                // (RFC 6026 7.2 has no such transition); the core decides.
                ++stats_.stray_responses;
                in.disposition = Disposition::StrayResponse;
                return in;
            }
            ++stats_.responses_absorbed;
            in.disposition = Disposition::Absorbed;
            if (!provisional(code)) send(r, r.last_sent, true);  // 17.1.1.2: ACK again
            return in;
        case TransactionState::Accepted:
            if (success(code)) {
                in.disposition = Disposition::Response2xxRetransmission;
                return in;
            }
            ++stats_.responses_absorbed;
            in.disposition = Disposition::Absorbed;
            return in;
        case TransactionState::Trying:
        case TransactionState::Confirmed:
        case TransactionState::Terminated:
            break;
    }
    ++stats_.responses_absorbed;
    in.disposition = Disposition::Absorbed;
    return in;
}

void TransactionLayer::client_timer(Record& r, Slot slot) {
    switch (slot) {
        case kRetransmit: {
            // A (Calling) or E (Trying, Proceeding): send again, back off.
            send(r, r.request_bytes, true);
            const TimerName name = r.timer_name[kRetransmit];
            if (name == TimerName::E && r.state == TransactionState::Proceeding) {
                r.retransmit_interval = config_.timers.t2;  // 17.1.2.2
            } else {
                r.retransmit_interval =
                    next_retransmit_interval(name, r.retransmit_interval, config_.timers);
            }
            set_timer(r, kRetransmit, name, r.retransmit_interval);
            return;
        }
        case kTimeout:
            // B or F: the TU sees a timeout (treated as 408, 8.1.3.1).
            ++stats_.timeouts;
            notify(ActionKind::Timeout, r.id, r.timer_name[kTimeout]);
            terminate(r);
            return;
        case kLifetime:
        case kSlots:
            terminate(r);  // D, K or M
            return;
    }
}

}  // namespace isthmus::sip
