// Admission control of the P-CSCF core (issue 11, "Overload"): what keeps a
// REGISTER or INVITE flood over many WebSockets from taking the gateway
// (and the IMS behind it) down, while calls already set up go on.
//
// Out-of-dialog requests from the browsers (W2) are metered before the
// transaction layer sees them, by token buckets on the core's injected
// clock:
//  - per W2 flow (one WebSocket): every out-of-dialog request (REGISTER,
//    initial INVITE, MESSAGE, OPTIONS, SUBSCRIBE, ...) takes a token of the
//    flow's bucket (flow_rate per second, flow_burst deep);
//  - all W2 flows together: REGISTERs take a token of the global REGISTER
//    bucket, the other out-of-dialog requests one of the global bucket of
//    initial requests;
//  - an initial INVITE is refused while max_invites_in_setup originating
//    INVITEs wait for their final response (the core counts them).
// A request refused here gets a stateless 503 with Retry-After
// (retry_after_s; RFC 3261 20.33, 21.5.4) whose reason phrase names the
// limit, and is never forwarded; a flow refused close_after_refusals times
// within one Retry-After interval (it does not wait as told) is closed.
//
// Never metered: ACK, CANCEL, requests inside a dialog (a To tag: BYE,
// re-INVITE, UPDATE, PRACK, INFO, NOTIFY...), responses, and everything
// from the IMS (Mw): the IMS is a trusted peer with its own overload
// control (RFC 7339), and its requests are bounded by the registered flows
// and max_transactions. A request is counted once it is admitted; the ones
// refused take no token (a flow refused by its own bucket does not spend
// the global one).
//
// Cost per metered request: a hash lookup of the flow and two comparisons
// and additions (GCRA form of the token bucket); a flow's state is made at
// its first metered request and dropped when it closes. Measured (an ad-hoc
// loop over admit() and header_tag(), -O2, this 2-vCPU VM, 2026-11-26):
// admit() 13-14 ns with 10,000 flows; header_tag() 13-17 ns for a To
// without a tag, 35-42 ns with a display name and a tag. A relayed
// REGISTER costs ~100 us (docs/performance.md).
//
// Single-threaded: owned by the PcscfCore, touched from its strand only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "pcscf/core_stats.hpp"
#include "sip/message.hpp"
#include "sip/timers.hpp"

namespace isthmus::pcscf {

using sip::TimePoint;

struct AdmissionConfig {
    // Out-of-dialog requests one W2 flow may send per second, and how many
    // at once. 0: no per-flow limit.
    uint32_t flow_rate = 100;
    uint32_t flow_burst = 200;
    // REGISTERs per second from all W2 flows together, and how many at
    // once. 0: no global REGISTER limit.
    uint32_t register_rate = 0;
    uint32_t register_burst = 0;
    // Other out-of-dialog requests (initial INVITE, MESSAGE, OPTIONS,
    // SUBSCRIBE...) per second from all W2 flows together. 0: no limit.
    uint32_t initial_rate = 0;
    uint32_t initial_burst = 0;
    // Originating INVITEs waiting for their final response, at most. 0: no
    // bound of its own (max_transactions still applies).
    std::size_t max_invites_in_setup = 5000;
    // Retry-After (seconds) of the 503s made here; also the window in which
    // close_after_refusals are counted.
    uint32_t retry_after_s = 5;
    // A flow refused this many times within one retry_after_s window is
    // closed (Output::Kind::CloseFlow). 0: never.
    uint32_t close_after_refusals = 100;
};

// A token bucket of `rate` tokens per second holding at most `burst`, in
// the GCRA form (ITU-T I.371 virtual scheduling): the state is one time,
// the theoretical arrival time (TAT) of the next request. A request at
// `now` conforms when TAT - (burst - 1) / rate <= now; taking it moves TAT
// to max(TAT, now) + 1 / rate. Equivalent to a bucket that starts full.
class TokenRate {
  public:
    // rate 0: unlimited (every request conforms). burst 0 is taken as 1.
    TokenRate() = default;
    TokenRate(uint32_t rate, uint32_t burst);

    bool limited() const { return interval_.count() != 0; }
    bool conforms(TimePoint tat, TimePoint now) const {
        return !limited() || tat - tolerance_ <= now;
    }
    TimePoint take(TimePoint tat, TimePoint now) const {
        return limited() ? (tat > now ? tat : now) + interval_ : tat;
    }

  private:
    std::chrono::nanoseconds interval_{0};   // 1 s / rate
    std::chrono::nanoseconds tolerance_{0};  // (burst - 1) * interval
};

// One bucket: a TokenRate and its TAT.
class TokenBucket {
  public:
    TokenBucket() = default;
    TokenBucket(uint32_t rate, uint32_t burst) : rate_(rate, burst) {}
    bool conforms(TimePoint now) const { return rate_.conforms(tat_, now); }
    void take(TimePoint now) { tat_ = rate_.take(tat_, now); }

  private:
    TokenRate rate_;
    TimePoint tat_{};
};

// What admission makes of a request from W2.
enum class RequestClass : uint8_t {
    Exempt,    // ACK, CANCEL, anything with a To tag but REGISTER
    Register,  // REGISTER (with a To tag or not)
    Invite,    // an initial INVITE
    Other,     // another out-of-dialog request
};

// The tag parameter of a From or To value (RFC 3261 19.3, 20.20, 20.39),
// found without allocating: what parse_name_addr(value)->tag() gives for a
// value that parses (its raw text for a quoted one). nullopt without one.
std::optional<std::string_view> header_tag(std::string_view value);

// Inside a dialog: the request's To has a tag (RFC 3261 12.2).
bool in_dialog(const sip::Message& request);
RequestClass classify(const sip::Message& request);

// The verdict on one metered request: admitted (no refusal), or refused
// and why; `close_flow` when the flow has now been refused
// close_after_refusals times in one window (said once per flow).
struct AdmissionVerdict {
    std::optional<Refusal> refusal;
    bool close_flow = false;
};

class Admission {
  public:
    // Throws std::invalid_argument naming the key ("admission.flow_burst")
    // for a burst without its rate, a rate without a burst, or
    // retry_after_s 0.
    explicit Admission(const AdmissionConfig& config);

    // A request of class `c` (not Exempt) from W2 flow `flow` at `now`;
    // `invites_in_setup`: originating INVITEs now waiting for their final
    // response. Takes the tokens when it is admitted.
    AdmissionVerdict admit(uint64_t flow, RequestClass c, std::size_t invites_in_setup,
                           TimePoint now);
    // The flow closed: its state goes.
    void forget(uint64_t flow) { flows_.erase(flow); }

    const AdmissionConfig& config() const { return config_; }
    // Flows with state (those that sent a metered request and are open).
    std::size_t flows() const { return flows_.size(); }

  private:
    struct FlowBudget {
        TimePoint tat{};
        TimePoint window_end{};  // of the refusal-counting window
        uint32_t refusals = 0;   // in the window
        bool closing = false;    // CloseFlow asked for
    };

    AdmissionConfig config_;
    TokenRate flow_rate_;
    TokenBucket register_;
    TokenBucket initial_;
    std::chrono::nanoseconds window_{0};
    bool per_flow_ = false;  // any per-flow state kept (a flow rate or closing)
    std::unordered_map<uint64_t, FlowBudget> flows_;
};

// Checks an AdmissionConfig as Admission's constructor does.
void check_admission(const AdmissionConfig& c);

}  // namespace isthmus::pcscf
