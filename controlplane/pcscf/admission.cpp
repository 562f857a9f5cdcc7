#include "pcscf/admission.hpp"

#include <stdexcept>
#include <string>

#include "sip/grammar.hpp"

namespace isthmus::pcscf {

namespace {

constexpr uint32_t kMaxRate = 1000000;    // per second: an interval of >= 1 us
constexpr uint32_t kMaxBurst = 10000000;  // (burst - 1) * interval stays far inside int64 ns

[[noreturn]] void bad(std::string_view key, std::string_view why) {
    throw std::invalid_argument("pcscf: admission." + std::string(key) + " " + std::string(why));
}

void check_rate(std::string_view rate_key, uint32_t rate, std::string_view burst_key,
                uint32_t burst) {
    if (rate > kMaxRate) bad(rate_key, "must be 0.." + std::to_string(kMaxRate));
    if (burst > kMaxBurst) bad(burst_key, "must be 0.." + std::to_string(kMaxBurst));
    if (rate != 0 && burst == 0) {
        bad(burst_key, "must be >= 1 with admission." + std::string(rate_key) + " set");
    }
}

}  // namespace

TokenRate::TokenRate(uint32_t rate, uint32_t burst) {
    if (rate == 0) return;
    interval_ = std::chrono::nanoseconds(std::chrono::seconds(1)) / rate;
    tolerance_ = interval_ * (burst == 0 ? 0 : burst - 1);
}

std::optional<std::string_view> header_tag(std::string_view value) {
    // The same steps as parse_name_addr: name-addr when a quoted display
    // name or a '<' comes first (before an addr-spec's ':'), its header
    // parameters after the '>'; else addr-spec, its parameters from the
    // first ';'.
    const std::string_view s = sip::trim_lws(value);
    if (s.empty()) return std::nullopt;
    constexpr auto npos = std::string_view::npos;
    std::size_t i = 0;
    const std::size_t lt = s.find('<');
    if (s[0] == '"' || (lt != npos && lt < s.find(':'))) {
        std::size_t from = 0;
        if (s[0] == '"') {
            from = sip::scan_quoted(s, 0);
            if (from == npos) return std::nullopt;
        }
        const std::size_t open = s.find('<', from);
        const std::size_t gt = open == npos ? npos : s.find('>', open);
        if (gt == npos) return std::nullopt;
        i = gt + 1;
    } else {
        i = s.find(';');
        if (i == npos) return std::nullopt;
    }
    // *( SEMI generic-param ), the first "tag" with a value wins (find_param).
    i = sip::skip_wsp(s, i);
    while (i < s.size() && s[i] == ';') {
        i = sip::skip_wsp(s, i + 1);
        const std::size_t name_start = i;
        while (i < s.size() && sip::is_token_char(s[i]))
            ++i;
        if (i == name_start) return std::nullopt;
        const std::string_view name = s.substr(name_start, i - name_start);
        const bool tag = sip::iequals(name, "tag");
        i = sip::skip_wsp(s, i);
        if (i >= s.size() || s[i] != '=') {
            if (tag) return std::nullopt;  // the first tag has no value
            continue;
        }
        i = sip::skip_wsp(s, i + 1);
        std::string_view v;
        if (i < s.size() && s[i] == '"') {
            const std::size_t end = sip::scan_quoted(s, i);
            if (end == npos) return std::nullopt;
            v = s.substr(i + 1, end - i - 2);
            i = end;
        } else {
            const std::size_t start = i;
            while (i < s.size() && s[i] != ';' && s[i] != ' ' && s[i] != '\t')
                ++i;
            if (i == start) return std::nullopt;
            v = s.substr(start, i - start);
        }
        if (tag) return v;
        i = sip::skip_wsp(s, i);
    }
    return std::nullopt;
}

bool in_dialog(const sip::Message& request) {
    const auto to = request.header("To");
    return to && header_tag(*to);
}

RequestClass classify(const sip::Message& request) {
    const std::string& m = request.method;
    if (m == "REGISTER") return RequestClass::Register;
    if (m == "ACK" || m == "CANCEL" || in_dialog(request)) return RequestClass::Exempt;
    return m == "INVITE" ? RequestClass::Invite : RequestClass::Other;
}

void check_admission(const AdmissionConfig& c) {
    check_rate("flow_rate", c.flow_rate, "flow_burst", c.flow_burst);
    check_rate("register_rate", c.register_rate, "register_burst", c.register_burst);
    check_rate("initial_rate", c.initial_rate, "initial_burst", c.initial_burst);
    if (c.retry_after_s == 0 || c.retry_after_s > 86400) {
        bad("retry_after_s", "must be 1..86400");
    }
}

Admission::Admission(const AdmissionConfig& config)
    : config_(config),
      flow_rate_(config.flow_rate, config.flow_burst),
      register_(config.register_rate, config.register_burst),
      initial_(config.initial_rate, config.initial_burst),
      window_(std::chrono::seconds(config.retry_after_s)),
      per_flow_(config.flow_rate != 0 || config.close_after_refusals != 0) {
    check_admission(config);
}

AdmissionVerdict Admission::admit(uint64_t flow, RequestClass c, std::size_t invites_in_setup,
                                  TimePoint now) {
    AdmissionVerdict v;
    if (c == RequestClass::Exempt) return v;
    FlowBudget* f = per_flow_ ? &flows_[flow] : nullptr;
    TokenBucket& global = c == RequestClass::Register ? register_ : initial_;
    if (f != nullptr && !flow_rate_.conforms(f->tat, now)) {
        v.refusal = Refusal::FlowRate;
    } else if (!global.conforms(now)) {
        v.refusal = c == RequestClass::Register ? Refusal::RegisterRate : Refusal::InitialRate;
    } else if (c == RequestClass::Invite && config_.max_invites_in_setup != 0 &&
               invites_in_setup >= config_.max_invites_in_setup) {
        v.refusal = Refusal::InvitesInSetup;
    }
    if (!v.refusal) {
        if (f != nullptr) f->tat = flow_rate_.take(f->tat, now);
        global.take(now);
        return v;
    }
    if (f != nullptr && config_.close_after_refusals != 0 && !f->closing) {
        if (now >= f->window_end) {
            f->window_end = now + window_;
            f->refusals = 0;
        }
        if (++f->refusals >= config_.close_after_refusals) {
            f->closing = true;
            v.close_flow = true;
        }
    }
    return v;
}

}  // namespace isthmus::pcscf
