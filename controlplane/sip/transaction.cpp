#include "sip/transaction.hpp"

namespace isthmus::sip {

std::string_view transport_name(Transport t) {
    switch (t) {
        case Transport::Udp:
            return "UDP";
        case Transport::Tcp:
            return "TCP";
        case Transport::Tls:
            return "TLS";
        case Transport::Sctp:
            return "SCTP";
        case Transport::Ws:
            return "WS";
        case Transport::Wss:
            return "WSS";
    }
    return "?";
}

std::string_view transaction_kind_name(TransactionKind k) {
    switch (k) {
        case TransactionKind::InviteClient:
            return "invite_client";
        case TransactionKind::NonInviteClient:
            return "non_invite_client";
        case TransactionKind::InviteServer:
            return "invite_server";
        case TransactionKind::NonInviteServer:
            return "non_invite_server";
    }
    return "?";
}

std::string_view transaction_state_name(TransactionState s) {
    switch (s) {
        case TransactionState::Calling:
            return "Calling";
        case TransactionState::Trying:
            return "Trying";
        case TransactionState::Proceeding:
            return "Proceeding";
        case TransactionState::Completed:
            return "Completed";
        case TransactionState::Accepted:
            return "Accepted";
        case TransactionState::Confirmed:
            return "Confirmed";
        case TransactionState::Terminated:
            return "Terminated";
    }
    return "?";
}

std::string_view action_kind_name(ActionKind k) {
    switch (k) {
        case ActionKind::Send:
            return "send";
        case ActionKind::Timeout:
            return "timeout";
        case ActionKind::TransportError:
            return "transport_error";
        case ActionKind::Terminated:
            return "terminated";
    }
    return "?";
}

std::string_view reject_name(Reject r) {
    switch (r) {
#define ISTHMUS_X(name, label, doc) \
    case Reject::name:              \
        return label;
        ISTHMUS_SIP_TRANSACTION_REJECT(ISTHMUS_X)
#undef ISTHMUS_X
    }
    return "?";
}

std::string_view disposition_name(Disposition d) {
    switch (d) {
        case Disposition::NewServerTransaction:
            return "new_server_transaction";
        case Disposition::Cancel:
            return "cancel";
        case Disposition::Ack:
            return "ack";
        case Disposition::Response:
            return "response";
        case Disposition::Response2xxRetransmission:
            return "response_2xx_retransmission";
        case Disposition::Absorbed:
            return "absorbed";
        case Disposition::StrayResponse:
            return "stray_response";
        case Disposition::Overloaded:
            return "overloaded";
        case Disposition::QueueFull:
            return "queue_full";
        case Disposition::Rejected:
            return "rejected";
    }
    return "?";
}

std::string_view send_status_name(SendStatus s) {
    switch (s) {
        case SendStatus::Ok:
            return "ok";
        case SendStatus::NotARequest:
            return "not_a_request";
        case SendStatus::AckNotATransaction:
            return "ack_not_a_transaction";
        case SendStatus::MissingVia:
            return "missing_via";
        case SendStatus::MalformedVia:
            return "malformed_via";
        case SendStatus::BadBranch:
            return "bad_branch";
        case SendStatus::MalformedCSeq:
            return "malformed_cseq";
        case SendStatus::CSeqMethodMismatch:
            return "cseq_method_mismatch";
        case SendStatus::DuplicateTransaction:
            return "duplicate_transaction";
        case SendStatus::TooManyTransactions:
            return "too_many_transactions";
        case SendStatus::QueueFull:
            return "queue_full";
    }
    return "?";
}

std::string_view respond_status_name(RespondStatus s) {
    switch (s) {
        case RespondStatus::Ok:
            return "ok";
        case RespondStatus::UnknownTransaction:
            return "unknown_transaction";
        case RespondStatus::NotAServerTransaction:
            return "not_a_server_transaction";
        case RespondStatus::NotAResponse:
            return "not_a_response";
        case RespondStatus::WrongState:
            return "wrong_state";
        case RespondStatus::QueueFull:
            return "queue_full";
    }
    return "?";
}

}  // namespace isthmus::sip
