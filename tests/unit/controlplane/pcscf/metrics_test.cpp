// The eP-CSCF's Prometheus collector (controlplane/pcscf/metrics.hpp):
// what a snapshot of the core's, the IMS-ALG's and the dataplane's counters
// becomes in the exposition format; the dataplane's self-describing
// counters mapped to families with labels; busy ratios.
#include "pcscf/metrics.hpp"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <string>

namespace isthmus::pcscf {
namespace {

std::string exposition(const PcscfCollector& c) {
    return prometheus::TextSerializer().Serialize(c.Collect());
}

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(PcscfMetrics, CoreCountersAsFamilies) {
    TransportCounters ws;
    ws.connections_open = 3;
    ws.connections_total = 7;
    ws.messages_in = 11;
    ws.closes[static_cast<std::size_t>(CloseReason::PeerClosed)] = 4;
    PcscfCollector collector({{"ws", &ws}});
    MetricsSnapshot s;
    s.core.requests_received[0][static_cast<std::size_t>(Method::Register)] = 5;
    s.core.responses_sent[0][1] = 4;  // 2xx to the browsers
    s.core.refused[static_cast<std::size_t>(Refusal::TokenRefused)] = 2;
    s.core.token_registrations = 3;
    s.core.token_guest_registrations = 1;
    s.registrations = 2;
    s.max_registrations = 10000;
    s.registrar.stored = 6;
    collector.set(s);
    const std::string t = exposition(collector);
    EXPECT_TRUE(
        has_line(t, R"(isthmus_pcscf_requests_received_total{side="w2",method="REGISTER"} 5)"))
        << t.substr(0, 2000);
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_responses_sent_total{side="w2",class="2xx"} 4)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_refused_total{reason="token_refused"} 2)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_token_registrations_total{kind="user"} 2)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_token_registrations_total{kind="guest"} 1)"));
    EXPECT_TRUE(has_line(t, "isthmus_pcscf_registrations 2"));
    EXPECT_TRUE(has_line(t, "isthmus_pcscf_registrations_capacity 10000"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_registrar_events_total{event="stored"} 6)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_connections{transport="ws"} 3)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_connections_total{transport="ws"} 7)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_messages_total{transport="ws",direction="in"} 11)"));
    EXPECT_TRUE(has_line(
        t, R"(isthmus_pcscf_connections_closed_total{transport="ws",reason="peer_closed"} 4)"));
    // Types and help: counters end in _total and say what they count.
    EXPECT_NE(t.find("# TYPE isthmus_pcscf_requests_received_total counter"), std::string::npos);
    EXPECT_NE(t.find("# TYPE isthmus_pcscf_registrations gauge"), std::string::npos);
    EXPECT_NE(t.find("# HELP isthmus_pcscf_refused_total requests answered here"),
              std::string::npos);
    // No media: no IMS-ALG or dataplane families; no leases without a URL.
    EXPECT_EQ(t.find("isthmus_pcscf_calls"), std::string::npos);
    EXPECT_EQ(t.find("isthmus_dataplane_"), std::string::npos);
    EXPECT_EQ(t.find("isthmus_pcscf_guest_lease"), std::string::npos);
    // Each family once (the text format forbids a family in two places).
    EXPECT_EQ(t.find("# TYPE isthmus_pcscf_token_registrations_total"),
              t.rfind("# TYPE isthmus_pcscf_token_registrations_total"));
}

// Admission (issue 11): its refusals by reason, the flows it closed, the
// INVITEs in setup and their bound.
TEST(PcscfMetrics, Admission) {
    PcscfCollector collector({});
    MetricsSnapshot s;
    s.core.refused[static_cast<std::size_t>(Refusal::FlowRate)] = 9;
    s.core.refused[static_cast<std::size_t>(Refusal::RegisterRate)] = 8;
    s.core.refused[static_cast<std::size_t>(Refusal::InitialRate)] = 7;
    s.core.refused[static_cast<std::size_t>(Refusal::InvitesInSetup)] = 6;
    s.core.dropped[static_cast<std::size_t>(Drop::AckToRefusal)] = 5;
    s.core.admission_flows_closed = 2;
    s.invites_in_setup = 12;
    s.max_invites_in_setup = 5000;
    collector.set(s);
    const std::string t = exposition(collector);
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_refused_total{reason="admission_flow_rate"} 9)"))
        << t.substr(0, 3000);
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_refused_total{reason="admission_register_rate"} 8)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_refused_total{reason="admission_initial_rate"} 7)"));
    EXPECT_TRUE(
        has_line(t, R"(isthmus_pcscf_refused_total{reason="admission_invites_in_setup"} 6)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_dropped_total{reason="ack_to_refusal"} 5)"));
    EXPECT_TRUE(has_line(t, "isthmus_pcscf_admission_flows_closed_total 2"));
    EXPECT_TRUE(has_line(t, "isthmus_pcscf_invites_in_setup 12"));
    EXPECT_TRUE(has_line(t, "isthmus_pcscf_invites_in_setup_capacity 5000"));
}

TEST(PcscfMetrics, MediaAndTheDataplane) {
    PcscfCollector collector({});
    MetricsSnapshot s;
    s.media = true;
    s.calls = 1;
    s.max_calls = 10000;
    s.sessions = 2;
    s.dataplane_attached = true;
    s.dataplane_workers = 2;
    s.dataplane_sessions_capacity = 8192;
    s.media_stats.counters[static_cast<std::size_t>(MediaCounter::DtlsUp)] = 2;
    s.dataplane = {
        {"worker", "worker0", "sessions", 2},
        {"worker", "worker0", "relayed_access_to_core", 100},
        {"worker", "worker0", "relayed_bytes_core_to_access", 17200},
        {"worker", "worker0", "drop_wrong_source", 3},
        {"worker", "worker0", "malformed_too_short", 1},
        {"worker", "worker0", "srtp_replay", 4},
        {"worker", "worker0", "program_lt_100us", 5},
        {"worker", "worker0", "program_max_us", 250},
        {"worker", "worker0", "stun_responses", 9},
        {"slow_path", "slow_path", "dtls_handshakes_up", 2},
        {"slow_path", "slow_path", "dtls_legs", 2},
        {"slow_path", "slow_path", "dtls_datagrams_in", 6},
        {"port", "access", "rx_frames", 42},
    };
    s.busy_ratio = {{"worker0", 0.25}};
    s.sessions_sustainable = 8.0;
    s.command_ring_depth = 3;
    s.command_ring_slots = 4096;
    s.event_ring_depth = 7;
    s.event_ring_slots = 8192;
    s.commands_unparsed = 1;
    s.capture_active = true;
    s.capture_records_dropped = 12;
    s.leases = LeaseReleaseStats{};
    s.leases->released = 1;
    collector.set(s);
    const std::string t = exposition(collector);
    EXPECT_TRUE(has_line(t, "isthmus_pcscf_calls 1")) << t;
    EXPECT_TRUE(has_line(t, "isthmus_pcscf_calls_capacity 10000"));
    EXPECT_TRUE(has_line(t, "isthmus_pcscf_media_sessions 2"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_media_events_total{event="dtls_up"} 2)"));
    EXPECT_TRUE(has_line(t, "isthmus_dataplane_attached 1"));
    EXPECT_TRUE(has_line(t, "isthmus_dataplane_sessions_capacity 8192"));
    EXPECT_TRUE(has_line(t, R"(isthmus_dataplane_sessions{worker="worker0"} 2)"));
    EXPECT_TRUE(has_line(
        t,
        R"(isthmus_dataplane_relayed_packets_total{worker="worker0",direction="access_to_core"} 100)"));
    EXPECT_TRUE(has_line(
        t,
        R"(isthmus_dataplane_relayed_bytes_total{worker="worker0",direction="core_to_access"} 17200)"));
    EXPECT_TRUE(has_line(
        t, R"(isthmus_dataplane_dropped_packets_total{worker="worker0",reason="wrong_source"} 3)"));
    EXPECT_TRUE(has_line(
        t, R"(isthmus_dataplane_malformed_packets_total{worker="worker0",reason="too_short"} 1)"));
    EXPECT_TRUE(has_line(
        t, R"(isthmus_dataplane_srtp_failures_total{worker="worker0",failure="replay"} 4)"));
    EXPECT_TRUE(has_line(
        t, R"(isthmus_dataplane_programming_total{worker="worker0",latency="lt_100us"} 5)"));
    EXPECT_TRUE(
        has_line(t, R"(isthmus_dataplane_programming_max_microseconds{worker="worker0"} 250)"));
    EXPECT_TRUE(
        has_line(t, R"(isthmus_dataplane_worker_stun_responses_total{worker="worker0"} 9)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_dataplane_dtls_handshakes_total{outcome="up"} 2)"));
    EXPECT_TRUE(has_line(t, "isthmus_dataplane_dtls_legs 2"));
    EXPECT_TRUE(has_line(t, "isthmus_dataplane_slow_path_dtls_datagrams_in_total 6"));
    EXPECT_TRUE(has_line(t, R"(isthmus_dataplane_port_rx_frames_total{port="access"} 42)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_dataplane_worker_busy_ratio{worker="worker0"} 0.25)"));
    EXPECT_TRUE(has_line(t, "isthmus_dataplane_sessions_sustainable 8"));
    EXPECT_TRUE(has_line(t, R"(isthmus_pcscf_guest_lease_releases_total{result="released"} 1)"));
    EXPECT_TRUE(has_line(t, "isthmus_pcscf_guest_lease_releases_pending 0"));
    EXPECT_TRUE(has_line(t, R"(isthmus_dataplane_ring_depth{ring="commands"} 3)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_dataplane_ring_depth{ring="events"} 7)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_dataplane_ring_slots{ring="commands"} 4096)"));
    EXPECT_TRUE(has_line(t, R"(isthmus_dataplane_ring_slots{ring="events"} 8192)"));
    EXPECT_TRUE(has_line(t, "isthmus_dataplane_commands_unparsed_total 1"));
    EXPECT_TRUE(has_line(t, "isthmus_dataplane_capture_active 1"));
    EXPECT_TRUE(has_line(t, "isthmus_dataplane_capture_records_dropped_total 12"));
}

TEST(PcscfMetrics, BusyRatios) {
    const std::vector<DataplaneCounter> a = {{"worker", "worker0", "tsc_cycles", 1000},
                                             {"worker", "worker0", "busy_cycles", 100},
                                             {"worker", "worker1", "tsc_cycles", 500},
                                             {"worker", "worker1", "busy_cycles", 0}};
    const std::vector<DataplaneCounter> b = {{"worker", "worker0", "tsc_cycles", 3000},
                                             {"worker", "worker0", "busy_cycles", 600},
                                             {"worker", "worker1", "tsc_cycles", 500},
                                             {"worker", "worker1", "busy_cycles", 0},
                                             {"worker", "worker2", "tsc_cycles", 10}};
    const auto r = busy_ratios(a, b);
    ASSERT_EQ(r.size(), 1u);  // worker1 did not move; worker2 is new
    EXPECT_EQ(r[0].first, "worker0");
    EXPECT_DOUBLE_EQ(r[0].second, 0.25);
    EXPECT_TRUE(busy_ratios({}, b).empty());
}

TEST(PcscfMetrics, SustainableSessionsFromSessionsAndBusyRatio) {
    const std::vector<DataplaneCounter> now = {{"worker", "worker0", "sessions", 1000},
                                               {"worker", "worker1", "sessions", 3000},
                                               {"worker", "worker2", "sessions", 5},
                                               {"slow_path", "slow_path", "sessions", 99}};
    // worker0: 1000 / 0.25 = 4000; worker1: 3000 / 0.5 = 6000; worker2 is
    // below the share it takes to tell, so it counts as their mean, 5000.
    const auto est = sustainable_sessions(
        now, {{"worker0", 0.25}, {"worker1", 0.5}, {"worker2", kMinBusyForCapacity / 2}});
    ASSERT_TRUE(est.has_value());
    EXPECT_DOUBLE_EQ(*est, 15000.0);
    // Idle workers, or busy ones without sessions: nothing to go by.
    EXPECT_FALSE(sustainable_sessions(now, {{"worker0", 0.01}}).has_value());
    EXPECT_FALSE(sustainable_sessions({{"worker", "worker0", "sessions", 0}}, {{"worker0", 0.5}})
                     .has_value());
    EXPECT_FALSE(sustainable_sessions(now, {}).has_value());
}

}  // namespace
}  // namespace isthmus::pcscf
