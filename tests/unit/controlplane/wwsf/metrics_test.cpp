// The WWSF's Prometheus collector (controlplane/wwsf/metrics.hpp): the
// families of a snapshot (names, types, labels, values), the exposition
// text prometheus-cpp's TextSerializer makes of them, every core Counter
// in exactly one series, and a snapshot read whole while another thread
// replaces it.
#include "wwsf/metrics.hpp"

#include <gtest/gtest.h>
#include <prometheus/check_names.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace isthmus::wwsf {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

std::size_t index(Counter c) {
    return static_cast<std::size_t>(c);
}

// Every value distinct, so that a value found names its source.
MetricsSnapshot distinct_snapshot() {
    MetricsSnapshot s;
    s.connections_open = 3;
    s.connections_total = 41;
    s.connections_refused = 2;
    s.tls_failed = 5;
    s.tls_aborted = 6;
    s.requests = 120;
    s.refused_parse = 4;
    s.timeouts = 1;
    for (std::size_t i = 0; i < kCounterCount; ++i)
        s.core.counters[i] = 1000 + i;
    s.sessions = 9;
    s.logins_in_flight = 2;
    s.guests_leased = 7;
    s.guests_free = 93;
    s.guest_pool = 100;
    s.users = 12;
    return s;
}

const MetricFamily* find(const std::vector<MetricFamily>& families, const std::string& name) {
    for (const MetricFamily& f : families) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

double value_of(const MetricFamily& f, std::size_t i) {
    return f.type == MetricType::Counter ? f.metric.at(i).counter.value
                                         : f.metric.at(i).gauge.value;
}

// The one series of an unlabelled family.
double single(const std::vector<MetricFamily>& families, const std::string& name, MetricType type) {
    const MetricFamily* f = find(families, name);
    if (f == nullptr) {
        ADD_FAILURE() << name << " missing";
        return -1;
    }
    EXPECT_EQ(f->type, type) << name;
    EXPECT_EQ(f->metric.size(), 1u) << name;
    EXPECT_TRUE(f->metric.at(0).label.empty()) << name;
    return value_of(*f, 0);
}

// label value -> sample of a family with one label `label`.
std::map<std::string, double> by_label(const std::vector<MetricFamily>& families,
                                       const std::string& name, const std::string& label) {
    std::map<std::string, double> out;
    const MetricFamily* f = find(families, name);
    if (f == nullptr) {
        ADD_FAILURE() << name << " missing";
        return out;
    }
    for (std::size_t i = 0; i < f->metric.size(); ++i) {
        const auto& labels = f->metric[i].label;
        EXPECT_EQ(labels.size(), 1u) << name;
        if (labels.size() != 1) continue;
        EXPECT_EQ(labels[0].name, label) << name;
        EXPECT_TRUE(out.emplace(labels[0].value, value_of(*f, i)).second)
            << name << " " << labels[0].value << " twice";
    }
    return out;
}

TEST(WwsfMetrics, FamiliesOfASnapshot) {
    const MetricsSnapshot s = distinct_snapshot();
    const auto families = metric_families(s, "1.2.3", 1764000000.0);
    const auto C = MetricType::Counter;
    const auto G = MetricType::Gauge;

    const MetricFamily* info = find(families, "isthmus_wwsf_build_info");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->type, G);
    ASSERT_EQ(info->metric.size(), 1u);
    EXPECT_EQ(info->metric[0].gauge.value, 1.0);
    ASSERT_EQ(info->metric[0].label.size(), 1u);
    EXPECT_EQ(info->metric[0].label[0].name, "version");
    EXPECT_EQ(info->metric[0].label[0].value, "1.2.3");
    EXPECT_EQ(single(families, "process_start_time_seconds", G), 1764000000.0);

    EXPECT_EQ(single(families, "isthmus_wwsf_http_connections_open", G), 3);
    EXPECT_EQ(single(families, "isthmus_wwsf_http_connections_total", C), 41);
    EXPECT_EQ(single(families, "isthmus_wwsf_http_connections_refused_total", C), 2);
    EXPECT_EQ(single(families, "isthmus_wwsf_tls_handshakes_failed_total", C), 5);
    EXPECT_EQ(single(families, "isthmus_wwsf_tls_handshakes_aborted_total", C), 6);
    EXPECT_EQ(single(families, "isthmus_wwsf_http_requests_total", C), 120);
    EXPECT_EQ(single(families, "isthmus_wwsf_http_requests_refused_total", C), 4);
    EXPECT_EQ(single(families, "isthmus_wwsf_http_timeouts_total", C), 1);

    const auto c = [&](Counter k) { return static_cast<double>(s.core.of(k)); };
    EXPECT_EQ(by_label(families, "isthmus_wwsf_logins_total", "result"),
              (std::map<std::string, double>{{"ok", c(Counter::LoginOk)},
                                             {"failed", c(Counter::LoginFailed)},
                                             {"busy", c(Counter::LoginBusy)}}));
    EXPECT_EQ(find(families, "isthmus_wwsf_logins_total")->type, C);
    EXPECT_EQ(single(families, "isthmus_wwsf_sessions_refused_total", C), c(Counter::SessionsFull));
    EXPECT_EQ(single(families, "isthmus_wwsf_tokens_issued_total", C), c(Counter::TokenIssued));
    EXPECT_EQ(single(families, "isthmus_wwsf_tokens_refused_total", C), c(Counter::NoSession));
    EXPECT_EQ(single(families, "isthmus_wwsf_guest_leases_total", C), c(Counter::GuestLeased));
    EXPECT_EQ(by_label(families, "isthmus_wwsf_guest_leases_refused_total", "reason"),
              (std::map<std::string, double>{{"pool_empty", c(Counter::GuestPoolEmpty)},
                                             {"per_address", c(Counter::GuestPerAddress)}}));
    EXPECT_EQ(by_label(families, "isthmus_wwsf_guest_leases_ended_total", "reason"),
              (std::map<std::string, double>{{"released", c(Counter::GuestReleased)},
                                             {"expired", c(Counter::GuestExpired)}}));
    EXPECT_EQ(single(families, "isthmus_wwsf_guest_releases_refused_total", C),
              c(Counter::ReleaseRefused));
    EXPECT_EQ(single(families, "isthmus_wwsf_bad_requests_total", C), c(Counter::BadRequest));
    EXPECT_EQ(single(families, "isthmus_wwsf_not_found_total", C), c(Counter::NotFound));
    EXPECT_EQ(single(families, "isthmus_wwsf_static_files_served_total", C),
              c(Counter::StaticServed));

    EXPECT_EQ(single(families, "isthmus_wwsf_sessions", G), 9);
    EXPECT_EQ(single(families, "isthmus_wwsf_logins_in_flight", G), 2);
    EXPECT_EQ(single(families, "isthmus_wwsf_users", G), 12);
    EXPECT_EQ(by_label(families, "isthmus_wwsf_guest_identities", "state"),
              (std::map<std::string, double>{{"leased", 7}, {"free", 93}}));
    EXPECT_EQ(find(families, "isthmus_wwsf_guest_identities")->type, G);
    EXPECT_EQ(single(families, "isthmus_wwsf_guest_pool_identities", G), 100);

    // 2 + 8 server + 11 core + 5 gauges; nothing else.
    EXPECT_EQ(families.size(), 26u);
}

TEST(WwsfMetrics, NamesFollowPrometheusConventions) {
    const auto families = metric_families(distinct_snapshot(), "1.2.3", 1.0);
    std::set<std::string> names;
    for (const MetricFamily& f : families) {
        EXPECT_TRUE(names.insert(f.name).second) << f.name << " twice";
        EXPECT_TRUE(prometheus::CheckMetricName(f.name)) << f.name;
        EXPECT_FALSE(f.help.empty()) << f.name;
        EXPECT_FALSE(f.metric.empty()) << f.name;
        if (f.name != "process_start_time_seconds") {
            EXPECT_EQ(f.name.rfind("isthmus_wwsf_", 0), 0u) << f.name;
        }
        const bool total = f.name.size() > 6 && f.name.substr(f.name.size() - 6) == "_total";
        EXPECT_EQ(f.type == MetricType::Counter, total) << f.name << ": _total iff a counter";
        EXPECT_TRUE(f.type == MetricType::Counter || f.type == MetricType::Gauge) << f.name;
        for (const auto& m : f.metric) {
            for (const auto& l : m.label) {
                EXPECT_TRUE(prometheus::CheckLabelName(l.name)) << f.name << " " << l.name;
            }
        }
    }
}

TEST(WwsfMetrics, EachCoreCounterInExactlyOneSeries) {
    // Only counter k set: exactly one sample of the whole output moves.
    const auto zero = metric_families(MetricsSnapshot{}, "", 0.0);
    for (std::size_t k = 0; k < kCounterCount; ++k) {
        MetricsSnapshot s;
        s.core.counters[k] = 77;
        const auto families = metric_families(s, "", 0.0);
        ASSERT_EQ(families.size(), zero.size());
        int moved = 0;
        for (std::size_t f = 0; f < families.size(); ++f) {
            ASSERT_EQ(families[f].metric.size(), zero[f].metric.size());
            for (std::size_t i = 0; i < families[f].metric.size(); ++i) {
                if (value_of(families[f], i) == value_of(zero[f], i)) continue;
                ++moved;
                EXPECT_EQ(families[f].type, MetricType::Counter)
                    << counter_label(static_cast<Counter>(k));
                EXPECT_EQ(value_of(families[f], i), 77.0);
            }
        }
        EXPECT_EQ(moved, 1) << counter_label(static_cast<Counter>(k));
    }
}

TEST(WwsfMetrics, ExpositionText) {
    MetricsCollector collector("0.1.0", 1764000000.5);
    MetricsSnapshot s = distinct_snapshot();
    s.core.counters[index(Counter::LoginOk)] = 1;
    s.core.counters[index(Counter::LoginFailed)] = 2;
    s.core.counters[index(Counter::GuestLeased)] = 4;
    s.core.counters[index(Counter::GuestPoolEmpty)] = 1;
    collector.update(s);
    const std::string text = prometheus::TextSerializer().Serialize(collector.Collect());
    for (const char* line : {
             "# TYPE isthmus_wwsf_build_info gauge\n",
             "isthmus_wwsf_build_info{version=\"0.1.0\"} 1\n",
             "# TYPE process_start_time_seconds gauge\n",
             "process_start_time_seconds 1764000000.5\n",
             "# HELP isthmus_wwsf_logins_total Logins (POST /api/login) by result: ",
             "# TYPE isthmus_wwsf_logins_total counter\n",
             "isthmus_wwsf_logins_total{result=\"ok\"} 1\n",
             "isthmus_wwsf_logins_total{result=\"failed\"} 2\n",
             "isthmus_wwsf_guest_leases_total 4\n",
             "isthmus_wwsf_guest_leases_refused_total{reason=\"pool_empty\"} 1\n",
             "# TYPE isthmus_wwsf_http_connections_open gauge\n",
             "isthmus_wwsf_http_connections_open 3\n",
             "isthmus_wwsf_http_requests_total 120\n",
             "isthmus_wwsf_tls_handshakes_aborted_total 6\n",
             "# TYPE isthmus_wwsf_guest_identities gauge\n",
             "isthmus_wwsf_guest_identities{state=\"leased\"} 7\n",
             "isthmus_wwsf_guest_identities{state=\"free\"} 93\n",
             "isthmus_wwsf_guest_pool_identities 100\n",
         }) {
        EXPECT_NE(text.find(line), std::string::npos) << "no \"" << line << "\" in\n" << text;
    }
    // Without a version: no build_info.
    const std::string bare =
        prometheus::TextSerializer().Serialize(MetricsCollector("", 0).Collect());
    EXPECT_EQ(bare.find("isthmus_wwsf_build_info"), std::string::npos);
    EXPECT_NE(bare.find("isthmus_wwsf_logins_total{result=\"ok\"} 0\n"), std::string::npos);
}

TEST(WwsfMetrics, ASnapshotIsReadWhole) {
    // One thread replaces the snapshot (every value = k) while another
    // collects: each collection sees one k throughout.
    MetricsCollector collector("", 0);
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (uint64_t k = 1; k <= 20000; ++k) {
            MetricsSnapshot s;
            s.connections_open = s.connections_total = s.requests = s.timeouts = k;
            s.core.counters.fill(k);
            s.sessions = s.guests_leased = s.guests_free = s.guest_pool = k;
            collector.update(s);
        }
        done = true;
    });
    int checked = 0;
    while (!done || checked == 0) {
        const auto families = collector.Collect();
        const double k = single(families, "isthmus_wwsf_sessions", MetricType::Gauge);
        for (const char* name : {"isthmus_wwsf_http_connections_open",
                                 "isthmus_wwsf_http_requests_total", "isthmus_wwsf_sessions"}) {
            const MetricFamily* f = find(families, name);
            ASSERT_NE(f, nullptr);
            ASSERT_EQ(value_of(*f, 0), k) << name;
        }
        for (const auto& [result, v] : by_label(families, "isthmus_wwsf_logins_total", "result")) {
            ASSERT_EQ(v, k) << result;
        }
        ++checked;
    }
    writer.join();
    EXPECT_EQ(collector.snapshot().requests, 20000u);
}

}  // namespace
}  // namespace isthmus::wwsf
