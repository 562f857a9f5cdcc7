#include "pcscf/metrics.hpp"

#include <map>
#include <string_view>

#include "sdp/rewrite.hpp"
#include "sip/parser.hpp"
#include "token/token.hpp"

namespace isthmus::pcscf {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

constexpr std::string_view kSide[kSides] = {"w2", "mw"};
constexpr std::string_view kClass[6] = {"1xx", "2xx", "3xx", "4xx", "5xx", "6xx"};

// Families in the order they are first named.
class Families {
  public:
    MetricFamily& family(const std::string& name, const std::string& help, MetricType type) {
        const auto it = index_.find(name);
        if (it != index_.end()) return out_[it->second];
        index_.emplace(name, out_.size());
        out_.push_back(MetricFamily{name, help, type, {}});
        return out_.back();
    }
    void counter(const std::string& name, const std::string& help, Labels labels, double v) {
        ClientMetric m;
        m.label = std::move(labels);
        m.counter.value = v;
        family(name, help, MetricType::Counter).metric.push_back(std::move(m));
    }
    void gauge(const std::string& name, const std::string& help, Labels labels, double v) {
        ClientMetric m;
        m.label = std::move(labels);
        m.gauge.value = v;
        family(name, help, MetricType::Gauge).metric.push_back(std::move(m));
    }
    std::vector<MetricFamily> take() { return std::move(out_); }

  private:
    std::vector<MetricFamily> out_;
    std::map<std::string, std::size_t> index_;
};

double d(uint64_t v) {
    return static_cast<double>(v);
}
Labels label(std::string_view name, std::string_view value) {
    return {{std::string(name), std::string(value)}};
}
Labels label2(std::string_view n1, std::string_view v1, std::string_view n2, std::string_view v2) {
    return {{std::string(n1), std::string(v1)}, {std::string(n2), std::string(v2)}};
}

void sip_metrics(Families& f, const MetricsSnapshot& s) {
    const CoreStats& c = s.core;
    for (std::size_t side = 0; side < kSides; ++side) {
        for (std::size_t m = 0; m < kMethodCount; ++m) {
            f.counter("isthmus_pcscf_requests_received_total",
                      "SIP requests received (retransmissions included), by side and method",
                      label2("side", kSide[side], "method", method_label(static_cast<Method>(m))),
                      d(c.requests_received[side][m]));
        }
        for (std::size_t k = 0; k < 6; ++k) {
            f.counter("isthmus_pcscf_responses_received_total",
                      "SIP responses received, by side and class",
                      label2("side", kSide[side], "class", kClass[k]),
                      d(c.responses_received[side][k]));
            f.counter("isthmus_pcscf_responses_sent_total",
                      "SIP responses relayed or made, by the side they went to and class",
                      label2("side", kSide[side], "class", kClass[k]),
                      d(c.responses_sent[side][k]));
        }
        f.counter("isthmus_pcscf_requests_forwarded_total",
                  "SIP requests forwarded (client transactions and stateless ACKs), by the side "
                  "they went to",
                  label("side", kSide[side]), d(c.requests_forwarded[side]));
    }
    for (std::size_t i = 0; i < kRefusalCount; ++i) {
        f.counter("isthmus_pcscf_refused_total",
                  "requests answered here with an error instead of being forwarded, by reason",
                  label("reason", refusal_label(static_cast<Refusal>(i))), d(c.refused[i]));
    }
    for (std::size_t i = 0; i < kDropCount; ++i) {
        f.counter("isthmus_pcscf_dropped_total",
                  "SIP messages dropped without an answer, by reason",
                  label("reason", drop_label(static_cast<Drop>(i))), d(c.dropped[i]));
    }
    for (std::size_t i = 0; i < sip::kParseErrorCount; ++i) {
        f.counter("isthmus_pcscf_parse_errors_total", "SIP messages that did not parse, by error",
                  label("error", sip::parse_error_name(static_cast<sip::ParseError>(i))),
                  d(c.parse_errors[i]));
    }
    f.counter("isthmus_pcscf_keepalives_total", "RFC 5626 keepalives (CRLF) received", {},
              d(c.keepalives));
    f.counter("isthmus_pcscf_cancels_sent_total", "CANCELs made (RFC 3261 16.10, Timer C)", {},
              d(c.cancels_sent));
    f.counter("isthmus_pcscf_byes_sent_total",
              "BYEs made for a party (its WebSocket closed, its media failed)", {}, d(c.byes_sent));
    f.counter("isthmus_pcscf_timer_c_fired_total", "INVITEs ended by Timer C", {},
              d(c.timer_c_fired));
    f.counter("isthmus_pcscf_flows_closed_total", "browser flows (WebSockets) that closed", {},
              d(c.flows_closed));
    f.counter("isthmus_pcscf_unreachable_total", "IMS next hops found unreachable", {},
              d(c.unreachable));

    // Admission (issue 11): its refusals are isthmus_pcscf_refused_total
    // {reason="admission_..."}.
    f.counter("isthmus_pcscf_admission_flows_closed_total",
              "browser flows closed for sending on through their 503s (close_after_refusals)", {},
              d(c.admission_flows_closed));
    f.gauge("isthmus_pcscf_invites_in_setup",
            "originating INVITEs waiting for their final response", {}, d(s.invites_in_setup));
    f.gauge("isthmus_pcscf_invites_in_setup_capacity",
            "originating INVITEs in setup admitted at most (0: no bound of its own)", {},
            d(s.max_invites_in_setup));

    // Registrations and tokens (A.3.1, A.3.2, A.3.3).
    f.gauge("isthmus_pcscf_flows", "live browser flows (WebSocket connections admitted)", {},
            d(s.flows));
    f.gauge("isthmus_pcscf_registrations", "live registrations (flow, AOR)", {},
            d(s.registrations));
    f.gauge("isthmus_pcscf_registrations_capacity", "registrations admitted at most", {},
            d(s.max_registrations));
#define ISTHMUS_X(name, doc)                             \
    f.counter("isthmus_pcscf_registrar_events_total",    \
              "what 200 OKs, expiries and closed flows " \
              "did to registrations, by event",          \
              label("event", #name), d(s.registrar.name));
    ISTHMUS_PCSCF_REGISTRAR_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    f.counter("isthmus_pcscf_token_registrations_total",
              "REGISTERs taken on a WWSF token, by kind (user A.3.2, guest A.3.3)",
              label("kind", "user"), d(c.token_registrations - c.token_guest_registrations));
    f.counter("isthmus_pcscf_token_registrations_total",
              "REGISTERs taken on a WWSF token, by kind (user A.3.2, guest A.3.3)",
              label("kind", "guest"), d(c.token_guest_registrations));
    for (std::size_t i = 1; i < token::kTokenErrorCount; ++i) {
        f.counter("isthmus_pcscf_token_refused_total", "REGISTERs whose token was refused (403)",
                  label("reason", token::token_error_name(static_cast<token::TokenError>(i))),
                  d(c.token_refused[i]));
    }
    f.counter("isthmus_pcscf_token_refused_total", "REGISTERs whose token was refused (403)",
              label("reason", "wrong_identity"), d(c.token_wrong_identity));
    f.counter("isthmus_pcscf_token_refused_total", "REGISTERs whose token was refused (403)",
              label("reason", "not_configured"), d(c.token_not_configured));
    f.counter("isthmus_pcscf_token_journal_errors_total",
              "used token ids [pcscf.tokens] replay_file could not take (single use then holds "
              "until this process ends only)",
              {}, d(c.token_journal_errors));
    if (s.leases) {
#define ISTHMUS_X(name, doc)                                                                  \
    f.counter("isthmus_pcscf_guest_lease_releases_total",                                     \
              "guest leases given back to the WWSF when their registration ended, by result", \
              label("result", #name), d(s.leases->name));
        ISTHMUS_PCSCF_LEASE_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
        f.gauge("isthmus_pcscf_guest_lease_releases_pending",
                "guest leases waiting to be given back to the WWSF", {}, d(s.leases_pending));
    }

    // Transactions.
    f.gauge("isthmus_pcscf_transactions", "active SIP transactions, both sides", {},
            d(s.transactions_active));
    f.gauge("isthmus_pcscf_transactions_lingering",
            "transactions only absorbing retransmissions after their final response", {},
            d(s.transactions_lingering));
#define ISTHMUS_X(name, doc)                            \
    f.counter("isthmus_pcscf_transaction_events_total", \
              "the transaction layer's "                \
              "counters, by event",                     \
              label("event", #name), d(s.transactions.name));
    ISTHMUS_SIP_TRANSACTION_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    for (std::size_t i = 0; i < sip::kRejectCount; ++i) {
        f.counter("isthmus_pcscf_transactions_rejected_total",
                  "messages the transaction layer would not take, by reason",
                  label("reason", sip::reject_name(static_cast<sip::Reject>(i))),
                  d(s.transactions.rejected[i]));
    }
}

void media_metrics(Families& f, const MetricsSnapshot& s) {
    if (!s.media) return;
    f.gauge("isthmus_pcscf_calls", "calls the IMS-ALG holds (dialogs with media)", {}, d(s.calls));
    f.gauge("isthmus_pcscf_calls_capacity", "calls admitted at most ([pcscf.media] max_calls)", {},
            d(s.max_calls));
    f.gauge("isthmus_pcscf_media_sessions",
            "dataplane sessions the IMS-ALG has programmed (one per m= line)", {}, d(s.sessions));
    for (std::size_t i = 0; i < kMediaCounterCount; ++i) {
        f.counter("isthmus_pcscf_media_events_total",
                  "the IMS-ALG's counters (offers, answers, sessions, dataplane events), by event",
                  label("event", media_counter_label(static_cast<MediaCounter>(i))),
                  d(s.media_stats.counters[i]));
    }
    for (std::size_t i = 0; i < sdp::kRewriteErrorCount; ++i) {
        f.counter("isthmus_pcscf_sdp_rewrite_errors_total",
                  "SDP bodies the IMS-ALG could not rewrite (488), by error",
                  label("error", sdp::rewrite_error_name(static_cast<sdp::RewriteError>(i))),
                  d(s.media_stats.rewrite_errors[i]));
    }
    f.gauge("isthmus_dataplane_attached", "1 while a dataplane is attached", {},
            s.dataplane_attached ? 1 : 0);
    f.gauge("isthmus_pcscf_dataplane_command_backlog",
            "dpif commands waiting for room in the command ring", {}, d(s.command_backlog));
    f.counter("isthmus_pcscf_dataplane_commands_dropped_total",
              "dpif commands dropped (no dataplane attached; the next resync re-sends)", {},
              d(s.commands_dropped));
    if (s.dataplane_attached) {
        f.gauge("isthmus_dataplane_ring_depth",
                "messages waiting in a dpif ring (commands: control plane -> dataplane, events: "
                "back)",
                label("ring", "commands"), d(s.command_ring_depth));
        f.gauge("isthmus_dataplane_ring_depth",
                "messages waiting in a dpif ring (commands: control plane -> dataplane, events: "
                "back)",
                label("ring", "events"), d(s.event_ring_depth));
        f.gauge("isthmus_dataplane_ring_slots", "the size of a dpif ring",
                label("ring", "commands"), d(s.command_ring_slots));
        f.gauge("isthmus_dataplane_ring_slots", "the size of a dpif ring", label("ring", "events"),
                d(s.event_ring_slots));
        f.counter("isthmus_dataplane_commands_unparsed_total",
                  "dpif commands the dataplane could not parse", {}, d(s.commands_unparsed));
        f.gauge("isthmus_dataplane_capture_active", "1 while isthmus-ctl capture runs", {},
                s.capture_active ? 1 : 0);
        f.counter("isthmus_dataplane_capture_records_dropped_total",
                  "frames a capture could not take (its ring was full); the frames were relayed",
                  {}, d(s.capture_records_dropped));
    }
    f.gauge("isthmus_dataplane_workers", "the dataplane's worker lcores ([dataplane] workers)", {},
            d(s.dataplane_workers));
    f.gauge("isthmus_dataplane_sessions_capacity",
            "sessions the dataplane holds at most (workers x sessions_per_worker)", {},
            d(s.dataplane_sessions_capacity));
}

bool starts(std::string_view s, std::string_view prefix) {
    return s.starts_with(prefix);
}

// One counter of the dataplane's stats region as a metric.
void dataplane_counter(Families& f, const DataplaneCounter& c) {
    const std::string_view n = c.name;
    if (c.kind == "worker") {
        const auto w = [&](std::string_view k, std::string_view v) {
            return label2("worker", c.block, k, v);
        };
        const Labels worker = label("worker", c.block);
        if (n == "sessions") {
            f.gauge("isthmus_dataplane_sessions", "sessions a worker holds", worker, d(c.value));
        } else if (n == "rx_access" || n == "rx_core") {
            f.counter("isthmus_dataplane_received_packets_total",
                      "packets a worker took from a port", w("port", n.substr(3)), d(c.value));
        } else if (starts(n, "relayed_bytes_")) {
            f.counter("isthmus_dataplane_relayed_bytes_total",
                      "bytes relayed between the ports, by direction", w("direction", n.substr(14)),
                      d(c.value));
        } else if (starts(n, "relayed_")) {
            f.counter("isthmus_dataplane_relayed_packets_total",
                      "packets relayed between the ports, by direction",
                      w("direction", n.substr(8)), d(c.value));
        } else if (starts(n, "drop_")) {
            f.counter("isthmus_dataplane_dropped_packets_total", "packets dropped, by reason",
                      w("reason", n.substr(5)), d(c.value));
        } else if (starts(n, "malformed_")) {
            f.counter("isthmus_dataplane_malformed_packets_total",
                      "malformed packets (counted in drops too), by what was wrong",
                      w("reason", n.substr(10)), d(c.value));
        } else if (n == "srtp_auth_fail" || n == "srtp_replay") {
            f.counter("isthmus_dataplane_srtp_failures_total",
                      "SRTP/SRTCP packets refused, by failure",
                      w("failure", n == "srtp_replay" ? "replay" : "auth"), d(c.value));
        } else if (n == "tsc_cycles" || n == "busy_cycles") {
            f.counter("isthmus_dataplane_worker_cycles_total",
                      "a worker's TSC cycles: all of them, and those spent on packets",
                      w("state", n == "tsc_cycles" ? "all" : "busy"), d(c.value));
        } else if (starts(n, "program_") && n != "program_max_us") {
            f.counter("isthmus_dataplane_programming_total",
                      "session commands by the time from the control plane's stamp to the "
                      "worker applying them",
                      w("latency", n.substr(8)), d(c.value));
        } else if (n == "program_max_us") {
            f.gauge("isthmus_dataplane_programming_max_microseconds",
                    "the longest command-to-applied time seen", worker, d(c.value));
        } else {
            f.counter("isthmus_dataplane_worker_" + c.name + "_total",
                      "a worker's counter " + c.name + " (docs/dataplane.md)", worker, d(c.value));
        }
        return;
    }
    if (c.kind == "slow_path") {
        static const std::map<std::string_view, std::string_view> outcomes = {
            {"dtls_handshakes_up", "up"},
            {"dtls_handshakes_failed", "failed"},
            {"dtls_handshake_timeouts", "timeout"},
            {"dtls_fingerprint_mismatch", "fingerprint_mismatch"},
            {"dtls_handshakes_busy", "busy"},
            {"dtls_handshakes_nomem", "nomem"},
        };
        if (n == "dtls_legs" || n == "dtls_handshaking" || n == "dtls_keys_waiting" ||
            n == "msrp_chats") {
            f.gauge("isthmus_dataplane_" + c.name,
                    "the slow path's " + c.name + " now (docs/dataplane.md)", {}, d(c.value));
        } else if (const auto it = outcomes.find(n); it != outcomes.end()) {
            f.counter("isthmus_dataplane_dtls_handshakes_total",
                      "DTLS handshakes ended, by outcome", label("outcome", it->second),
                      d(c.value));
        } else {
            f.counter("isthmus_dataplane_slow_path_" + c.name + "_total",
                      "the slow path's counter " + c.name + " (docs/dataplane.md)", {}, d(c.value));
        }
        return;
    }
    f.counter("isthmus_dataplane_" + c.kind + "_" + c.name + "_total",
              "the dataplane's " + c.kind + " counter " + c.name, label(c.kind, c.block),
              d(c.value));
}

void transport_metrics(Families& f,
                       const std::vector<std::pair<std::string, const TransportCounters*>>& ts) {
    for (const auto& [name, t] : ts) {
        const Labels tl = label("transport", name);
        const auto tk = [&](std::string_view k, std::string_view v) {
            return label2("transport", name, k, v);
        };
        const auto load = [](const Counter& c) { return d(c.load(std::memory_order_relaxed)); };
        f.gauge("isthmus_pcscf_connections", "open connections (WebSocket, TCP), by transport", tl,
                load(t->connections_open));
        f.counter("isthmus_pcscf_connections_total", "connections accepted or made, by transport",
                  tl, load(t->connections_total));
        f.counter("isthmus_pcscf_connections_refused_total",
                  "connections refused (max_connections), by transport", tl,
                  load(t->connections_refused));
        f.counter("isthmus_pcscf_websocket_upgrades_refused_total",
                  "WebSocket upgrades refused (no `sip` subprotocol)", tl,
                  load(t->upgrades_refused));
        f.counter("isthmus_pcscf_messages_total", "whole SIP messages, by transport and direction",
                  tk("direction", "in"), load(t->messages_in));
        f.counter("isthmus_pcscf_messages_total", "whole SIP messages, by transport and direction",
                  tk("direction", "out"), load(t->messages_out));
        f.counter("isthmus_pcscf_transport_bytes_total", "bytes, by transport and direction",
                  tk("direction", "in"), load(t->bytes_in));
        f.counter("isthmus_pcscf_transport_bytes_total", "bytes, by transport and direction",
                  tk("direction", "out"), load(t->bytes_out));
        const std::pair<std::string_view, const Counter*> errors[] = {
            {"send_no_flow", &t->send_no_flow},         {"send_dropped", &t->send_dropped},
            {"dropped_oversize", &t->dropped_oversize}, {"dropped_empty", &t->dropped_empty},
            {"receive_error", &t->receive_errors},      {"accept_error", &t->accept_errors},
        };
        for (const auto& [e, c] : errors) {
            f.counter("isthmus_pcscf_transport_errors_total", "transport errors, by kind",
                      tk("error", e), load(*c));
        }
        for (std::size_t i = 0; i < kCloseReasonCount; ++i) {
            f.counter("isthmus_pcscf_connections_closed_total",
                      "connections closed, by transport and reason",
                      tk("reason", close_reason_name(static_cast<CloseReason>(i))),
                      load(t->closes[i]));
        }
        f.gauge("isthmus_pcscf_send_queue_peak_bytes",
                "the largest send queue any one connection had", tl,
                load(t->send_queue_peak_bytes));
    }
}

}  // namespace

PcscfCollector::PcscfCollector(
    std::vector<std::pair<std::string, const TransportCounters*>> transports)
    : transports_(std::move(transports)) {}

void PcscfCollector::set(MetricsSnapshot s) {
    std::lock_guard lock(mutex_);
    snapshot_ = std::move(s);
}

std::vector<MetricFamily> PcscfCollector::Collect() const {
    Families f;
    {
        std::lock_guard lock(mutex_);
        sip_metrics(f, snapshot_);
        media_metrics(f, snapshot_);
        for (const DataplaneCounter& c : snapshot_.dataplane)
            dataplane_counter(f, c);
        for (const auto& [worker, ratio] : snapshot_.busy_ratio) {
            f.gauge("isthmus_dataplane_worker_busy_ratio",
                    "the share of a worker's cycles spent on packets over the last second",
                    label("worker", worker), ratio);
        }
        if (snapshot_.sessions_sustainable) {
            f.gauge("isthmus_dataplane_sessions_sustainable",
                    "sessions the workers would carry at their present packets per session "
                    "before a core is saturated (sessions / busy ratio, per worker)",
                    {}, *snapshot_.sessions_sustainable);
        }
    }
    transport_metrics(f, transports_);
    return f.take();
}

std::vector<std::pair<std::string, double>> busy_ratios(const std::vector<DataplaneCounter>& before,
                                                        const std::vector<DataplaneCounter>& now) {
    const auto cycles = [](const std::vector<DataplaneCounter>& v) {
        std::map<std::string, std::pair<uint64_t, uint64_t>> m;  // worker -> (tsc, busy)
        for (const DataplaneCounter& c : v) {
            if (c.kind != "worker") continue;
            if (c.name == "tsc_cycles") m[c.block].first = c.value;
            if (c.name == "busy_cycles") m[c.block].second = c.value;
        }
        return m;
    };
    const auto a = cycles(before);
    std::vector<std::pair<std::string, double>> out;
    for (const auto& [worker, b] : cycles(now)) {
        const auto it = a.find(worker);
        if (it == a.end() || b.first <= it->second.first) continue;
        const uint64_t busy = b.second >= it->second.second ? b.second - it->second.second : 0;
        out.emplace_back(worker, d(busy) / d(b.first - it->second.first));
    }
    return out;
}

std::optional<double> sustainable_sessions(
    const std::vector<DataplaneCounter>& now,
    const std::vector<std::pair<std::string, double>>& busy) {
    std::map<std::string, uint64_t> sessions;
    for (const DataplaneCounter& c : now) {
        if (c.kind == "worker" && c.name == "sessions") sessions[c.block] = c.value;
    }
    double sum = 0;
    std::size_t counted = 0;
    for (const auto& [worker, ratio] : busy) {
        const auto it = sessions.find(worker);
        if (ratio < kMinBusyForCapacity || it == sessions.end() || it->second == 0) continue;
        sum += d(it->second) / ratio;
        ++counted;
    }
    if (counted == 0) return std::nullopt;
    return sum + (sum / d(counted)) * d(busy.size() - counted);
}

}  // namespace isthmus::pcscf
