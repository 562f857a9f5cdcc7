// The P-CSCF core's counters, for the Prometheus exporter
// (isthmus_pcscf_..._total): requests by method, responses by class, what
// was dropped and why, what the core answered itself and why. Each list is
// one X-macro that makes both the enum and the metric labels (VPP's
// foreach_..._error).
//
// Plain values, written by the core's thread only; an exporter on another
// thread reads a copy taken on that thread (PcscfCore::stats()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/parser.hpp"
#include "token/token.hpp"

namespace isthmus::pcscf {

// X(Enumerator, "METHOD label")
#define ISTHMUS_PCSCF_METHOD(X) \
    X(Register, "REGISTER")     \
    X(Invite, "INVITE")         \
    X(Ack, "ACK")               \
    X(Bye, "BYE")               \
    X(Cancel, "CANCEL")         \
    X(Options, "OPTIONS")       \
    X(Message, "MESSAGE")       \
    X(Subscribe, "SUBSCRIBE")   \
    X(Notify, "NOTIFY")         \
    X(Publish, "PUBLISH")       \
    X(Info, "INFO")             \
    X(Prack, "PRACK")           \
    X(Update, "UPDATE")         \
    X(Refer, "REFER")           \
    X(Other, "other")

// X(Enumerator, "metric_label", "meaning")
#define ISTHMUS_PCSCF_DROP(X)                                                                \
    X(Unparsable, "unparsable", "no SIP message, or a request too broken to answer")         \
    X(MalformedResponse, "malformed_response", "a response that fails validate_response")    \
    X(StrayResponse, "stray_response", "a response for no transaction (not sent on, 16.11)") \
    X(LateResponse, "late_response", "a response whose upstream transaction is gone")        \
    X(AckUnroutable, "ack_unroutable", "an ACK for a 2xx with nowhere to go")                \
    X(ClosedFlow, "closed_flow", "a message for a W2 flow that is no longer live")           \
    X(QueueFull, "queue_full",                                                               \
      "the transaction layer's action queue was full (cannot happen "                        \
      "while poll() is drained after every call)")                                           \
    X(AckToRefusal, "ack_to_refusal",                                                        \
      "an ACK for a response the core made statelessly (admission, limits, malformed)")

// X(Enumerator, status, "metric_label", "meaning")
#define ISTHMUS_PCSCF_REFUSAL(X)                                                               \
    X(Malformed, 400, "malformed", "the parser or validate_request found a defect")            \
    X(TooLarge, 513, "too_large", "over the parser's size limits")                             \
    X(BadVersion, 505, "bad_version", "not SIP/2.0")                                           \
    X(TooManyHops, 483, "too_many_hops", "Max-Forwards 0 (RFC 3261 16.3 step 3)")              \
    X(Loop, 482, "loop", "a W2 request carrying our own Via (16.3 step 4)")                    \
    X(NotRegistered, 403, "not_registered",                                                    \
      "a request other than REGISTER from an "                                                 \
      "unregistered W2 flow")                                                                  \
    X(InvalidToken, 403, "invalid_token", "a flow token that does not verify (forged)")        \
    X(NoToken, 404, "no_token", "a request from the IMS naming no flow of ours")               \
    X(FlowFailed, 430, "flow_failed", "a token for a flow that is gone (RFC 5626 5.3)")        \
    X(TransactionsFull, 503, "transactions_full", "max_transactions live transactions")        \
    X(RegistrationsFull, 503, "registrations_full", "max_registrations (or per flow) reached") \
    X(FlowsFull, 503, "flows_full", "max_flows live W2 flows")                                 \
    X(NoSuchTransaction, 481, "no_such_transaction", "a CANCEL matching no INVITE")            \
    X(Timeout, 408, "timeout", "an INVITE whose next hop never answered finally (16.7, 16.8)") \
    X(NextHopFailed, 503, "next_hop_failed", "a transport error toward the IMS (8.1.3.1)")     \
    X(TokenRefused, 403, "token_refused",                                                      \
      "a REGISTER with a Bearer token that is not accepted (token_refused[] says why)")        \
    X(FlowRate, 503, "admission_flow_rate",                                                    \
      "an out-of-dialog request over its W2 flow's rate (admission.hpp)")                      \
    X(RegisterRate, 503, "admission_register_rate",                                            \
      "a REGISTER over the global REGISTER rate of all W2 flows")                              \
    X(InitialRate, 503, "admission_initial_rate",                                              \
      "another out-of-dialog request over the global rate of all W2 flows")                    \
    X(InvitesInSetup, 503, "admission_invites_in_setup",                                       \
      "an initial INVITE while max_invites_in_setup wait for their final response")

enum class Method : uint8_t {
#define ISTHMUS_X(name, label) name,
    ISTHMUS_PCSCF_METHOD(ISTHMUS_X)
#undef ISTHMUS_X
};
enum class Drop : uint8_t {
#define ISTHMUS_X(name, label, doc) name,
    ISTHMUS_PCSCF_DROP(ISTHMUS_X)
#undef ISTHMUS_X
};
enum class Refusal : uint8_t {
#define ISTHMUS_X(name, status, label, doc) name,
    ISTHMUS_PCSCF_REFUSAL(ISTHMUS_X)
#undef ISTHMUS_X
};

#define ISTHMUS_COUNT(...) +1
inline constexpr std::size_t kMethodCount = 0 ISTHMUS_PCSCF_METHOD(ISTHMUS_COUNT);
inline constexpr std::size_t kDropCount = 0 ISTHMUS_PCSCF_DROP(ISTHMUS_COUNT);
inline constexpr std::size_t kRefusalCount = 0 ISTHMUS_PCSCF_REFUSAL(ISTHMUS_COUNT);
#undef ISTHMUS_COUNT

constexpr std::string_view method_label(Method m) {
    constexpr std::array<std::string_view, kMethodCount> labels = {
#define ISTHMUS_X(name, label) label,
        ISTHMUS_PCSCF_METHOD(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return labels[static_cast<std::size_t>(m)];
}
constexpr std::string_view drop_label(Drop d) {
    constexpr std::array<std::string_view, kDropCount> labels = {
#define ISTHMUS_X(name, label, doc) label,
        ISTHMUS_PCSCF_DROP(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return labels[static_cast<std::size_t>(d)];
}
constexpr std::string_view refusal_label(Refusal r) {
    constexpr std::array<std::string_view, kRefusalCount> labels = {
#define ISTHMUS_X(name, status, label, doc) label,
        ISTHMUS_PCSCF_REFUSAL(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return labels[static_cast<std::size_t>(r)];
}
constexpr uint16_t refusal_status(Refusal r) {
    constexpr std::array<uint16_t, kRefusalCount> codes = {
#define ISTHMUS_X(name, status, label, doc) status,
        ISTHMUS_PCSCF_REFUSAL(ISTHMUS_X)
#undef ISTHMUS_X
    };
    return codes[static_cast<std::size_t>(r)];
}

// The method's counter slot (case-sensitive, RFC 3261 7.1); Other for the rest.
Method method_of(std::string_view method);

// Which way a message went: W2 is the browsers' side, Mw the IMS's.
enum class Side : uint8_t { W2 = 0, Mw = 1 };
inline constexpr std::size_t kSides = 2;

struct CoreStats {
    // Requests received, by side and method (retransmissions included).
    std::array<std::array<uint64_t, kMethodCount>, kSides> requests_received{};
    // Responses received, by side and class (index 0: 1xx ... 5: 6xx).
    std::array<std::array<uint64_t, 6>, kSides> responses_received{};
    // Responses the core passed on (relayed) or made (refusals, 200 to
    // CANCEL...), by the side they went to and class.
    std::array<std::array<uint64_t, 6>, kSides> responses_sent{};
    // Requests forwarded (new client transactions and stateless ACKs), by
    // the side they went to.
    std::array<uint64_t, kSides> requests_forwarded{};
    std::array<uint64_t, kDropCount> dropped{};
    std::array<uint64_t, kRefusalCount> refused{};
    std::array<uint64_t, sip::kParseErrorCount> parse_errors{};
    uint64_t keepalives = 0;    // datagrams of nothing but CRLFs (RFC 5626 4.4.1)
    uint64_t cancels_sent = 0;  // CANCELs made (16.10 from upstream, Timer C)
    // REGISTERs taken on a WWSF token, and those refused by reason (the
    // token's own, and two of ours: another identity, tokens not accepted).
    uint64_t token_registrations = 0;
    uint64_t token_guest_registrations = 0;  // of those, a guest's (A.3.3 leases)
    std::array<uint64_t, token::kTokenErrorCount> token_refused{};
    uint64_t token_wrong_identity = 0;
    uint64_t token_not_configured = 0;
    // Used token ids the replay_file could not take (kept in memory only).
    uint64_t token_journal_errors = 0;
    uint64_t byes_sent = 0;  // BYEs made: a closed flow's dialogs, calls whose media failed
    uint64_t timer_c_fired = 0;
    uint64_t flows_closed = 0;
    // W2 flows the core asked to close for not waiting as a 503's
    // Retry-After told them (admission close_after_refusals).
    uint64_t admission_flows_closed = 0;
    uint64_t unreachable = 0;  // on_unreachable calls (a Mw peer not reached)
};

}  // namespace isthmus::pcscf
