// The WWSF's metric families (metrics.hpp). Names follow Prometheus'
// conventions: the prefix isthmus_wwsf_, counters end in _total, gauges
// carry no suffix, and a label splits a family only where its sum means
// something (logins by result, guest leases refused or ended by reason,
// guest identities by state).
#include "wwsf/metrics.hpp"

#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

namespace isthmus::wwsf {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// The families the core's counters (core.hpp) are reported in.
enum class CoreFamily : uint8_t {
    Logins,
    SessionsRefused,
    TokensIssued,
    TokensRefused,
    GuestLeases,
    GuestLeasesRefused,
    GuestLeasesEnded,
    GuestReleasesRefused,
    BadRequests,
    NotFound,
    StaticServed,
};

struct CoreFamilyInfo {
    std::string_view name;
    std::string_view help;
    std::string_view label;  // "" : one series without labels
};

// Indexed by CoreFamily.
constexpr auto kCoreFamilies = std::to_array<CoreFamilyInfo>({
    {"isthmus_wwsf_logins_total",
     "Logins (POST /api/login) by result: ok (a session opened), failed (401: unknown user or "
     "wrong password), busy (503: max_logins_in_flight password checks running)",
     "result"},
    {"isthmus_wwsf_sessions_refused_total",
     "Logins and guest leases refused with 503 because max_sessions sessions are live", ""},
    {"isthmus_wwsf_tokens_issued_total",
     "Registration tokens issued (POST /api/token and POST /api/guest)", ""},
    {"isthmus_wwsf_tokens_refused_total", "POST /api/token refused with 401: no live session", ""},
    {"isthmus_wwsf_guest_leases_total", "Guest identities leased from the pool (POST /api/guest)",
     ""},
    {"isthmus_wwsf_guest_leases_refused_total",
     "POST /api/guest refused, by reason: pool_empty (503: no guest identity free), per_address "
     "(429: max_guest_leases_per_address live leases from the client's address)",
     "reason"},
    {"isthmus_wwsf_guest_leases_ended_total",
     "Guest leases ended, by reason: released (given back early: release, logout, a new lease of "
     "the same session), expired (at guest_lease_s)",
     "reason"},
    {"isthmus_wwsf_guest_releases_refused_total",
     "POST /api/guest/release refused with 403: not the lease's token or session", ""},
    {"isthmus_wwsf_bad_requests_total",
     "Requests the WWSF refused with 400, 405 or 415 (a target, body, member, method or "
     "Content-Type it does not take)",
     ""},
    {"isthmus_wwsf_not_found_total", "Requests answered 404 (no such endpoint or file)", ""},
    {"isthmus_wwsf_static_files_served_total", "Files of the WIC served", ""},
});

struct CoreSeries {
    Counter counter;
    CoreFamily family;
    std::string_view value;  // the label's value ("" when the family has no label)
};

// Every Counter of core.hpp, in its enum order (checked below).
constexpr auto kCoreSeries = std::to_array<CoreSeries>({
    {Counter::LoginOk, CoreFamily::Logins, "ok"},
    {Counter::LoginFailed, CoreFamily::Logins, "failed"},
    {Counter::LoginBusy, CoreFamily::Logins, "busy"},
    {Counter::SessionsFull, CoreFamily::SessionsRefused, ""},
    {Counter::TokenIssued, CoreFamily::TokensIssued, ""},
    {Counter::NoSession, CoreFamily::TokensRefused, ""},
    {Counter::GuestLeased, CoreFamily::GuestLeases, ""},
    {Counter::GuestPoolEmpty, CoreFamily::GuestLeasesRefused, "pool_empty"},
    {Counter::GuestPerAddress, CoreFamily::GuestLeasesRefused, "per_address"},
    {Counter::GuestReleased, CoreFamily::GuestLeasesEnded, "released"},
    {Counter::GuestExpired, CoreFamily::GuestLeasesEnded, "expired"},
    {Counter::ReleaseRefused, CoreFamily::GuestReleasesRefused, ""},
    {Counter::BadRequest, CoreFamily::BadRequests, ""},
    {Counter::NotFound, CoreFamily::NotFound, ""},
    {Counter::StaticServed, CoreFamily::StaticServed, ""},
});

constexpr bool core_series_complete() {
    for (std::size_t i = 0; i < kCoreSeries.size(); ++i) {
        const CoreSeries& s = kCoreSeries[i];
        if (s.counter != static_cast<Counter>(i)) return false;
        // A labelled family needs a value for each series, an unlabelled one none.
        if (kCoreFamilies[static_cast<std::size_t>(s.family)].label.empty() != s.value.empty()) {
            return false;
        }
    }
    return true;
}
static_assert(kCoreSeries.size() == kCounterCount,
              "each Counter of core.hpp (ISTHMUS_WWSF_COUNTER) needs its series in kCoreSeries");
static_assert(core_series_complete(),
              "kCoreSeries: one entry per Counter in enum order, a label value exactly where the "
              "family has a label");

MetricFamily family(std::string_view name, std::string_view help, MetricType type) {
    MetricFamily f;
    f.name = std::string(name);
    f.help = std::string(help);
    f.type = type;
    return f;
}

void add(MetricFamily& f, double value, std::string_view label = {}, std::string_view v = {}) {
    ClientMetric m;
    if (!label.empty()) m.label.push_back({std::string(label), std::string(v)});
    if (f.type == MetricType::Counter) {
        m.counter.value = value;
    } else {
        m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
}

double as_double(uint64_t v) {
    return static_cast<double>(v);
}

void single(std::vector<MetricFamily>& out, std::string_view name, std::string_view help,
            MetricType type, uint64_t value) {
    out.push_back(family(name, help, type));
    add(out.back(), as_double(value));
}

}  // namespace

std::vector<MetricFamily> metric_families(const MetricsSnapshot& s, const std::string& version,
                                          double start_time) {
    std::vector<MetricFamily> out;
    out.reserve(32);
    if (!version.empty()) {
        out.push_back(family("isthmus_wwsf_build_info",
                             "The running isthmus-wwsf: always 1, its version as a label",
                             MetricType::Gauge));
        add(out.back(), 1.0, "version", version);
    }
    out.push_back(family("process_start_time_seconds",
                         "Start time of the process since the unix epoch in seconds",
                         MetricType::Gauge));
    add(out.back(), start_time);

    // The HTTP server (HTTPS and the plain test listener together).
    constexpr auto C = MetricType::Counter;
    constexpr auto G = MetricType::Gauge;
    single(out, "isthmus_wwsf_http_connections_open", "HTTP(S) connections open now", G,
           s.connections_open);
    single(out, "isthmus_wwsf_http_connections_total",
           "HTTP(S) connections accepted (not counting those refused)", C, s.connections_total);
    single(out, "isthmus_wwsf_http_connections_refused_total",
           "Connections closed at once because max_connections were open", C,
           s.connections_refused);
    single(out, "isthmus_wwsf_tls_handshakes_failed_total",
           "TLS handshakes that failed or timed out (an old TLS version, plain HTTP on the "
           "https port, a bad client hello)",
           C, s.tls_failed);
    single(out, "isthmus_wwsf_tls_handshakes_aborted_total",
           "Connections the client closed before the TLS handshake ended (browsers drop spare "
           "connections): not failures",
           C, s.tls_aborted);
    single(out, "isthmus_wwsf_http_requests_total", "HTTP requests read whole", C, s.requests);
    single(out, "isthmus_wwsf_http_requests_refused_total",
           "Requests the server refused before the WWSF saw them: 400 (unparsable), 413 (body "
           "over max_body_bytes), 431 (header over max_header_bytes)",
           C, s.refused_parse);
    single(out, "isthmus_wwsf_http_timeouts_total",
           "Reads and writes over request_timeout_s (connection closed)", C, s.timeouts);

    // The core's counters, one family per CoreFamily, its series in Counter order.
    const std::size_t first = out.size();
    for (const CoreFamilyInfo& f : kCoreFamilies)
        out.push_back(family(f.name, f.help, C));
    for (const CoreSeries& series : kCoreSeries) {
        const auto fi = static_cast<std::size_t>(series.family);
        add(out[first + fi], as_double(s.core.of(series.counter)), kCoreFamilies[fi].label,
            series.value);
    }

    single(out, "isthmus_wwsf_sessions", "Live web sessions (users' and guests')", G, s.sessions);
    single(out, "isthmus_wwsf_logins_in_flight",
           "Password checks outstanding (running or queued; max_logins_in_flight at most)", G,
           s.logins_in_flight);
    single(out, "isthmus_wwsf_users", "Web users in the users file as last loaded (SIGHUP)", G,
           s.users);
    out.push_back(family("isthmus_wwsf_guest_identities",
                         "Guest identities of the pool by state: leased, free", G));
    add(out.back(), as_double(s.guests_leased), "state", "leased");
    add(out.back(), as_double(s.guests_free), "state", "free");
    single(out, "isthmus_wwsf_guest_pool_identities",
           "Identities in the guest pool (guest_pool and guest_pool_range)", G, s.guest_pool);
    return out;
}

MetricsCollector::MetricsCollector(std::string version, double start_time)
    : version_(std::move(version)), start_time_(start_time) {}

void MetricsCollector::update(const MetricsSnapshot& snapshot) {
    const std::lock_guard<std::mutex> lock(mutex_);
    snapshot_ = snapshot;
}

MetricsSnapshot MetricsCollector::snapshot() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return snapshot_;
}

std::vector<MetricFamily> MetricsCollector::Collect() const {
    return metric_families(snapshot(), version_, start_time_);
}

}  // namespace isthmus::wwsf
