// The core's configuration: every bad value refused at construction with
// the key named, and what LocalUris derives (our URIs, "is it ours?", the
// static next-hop table).
#include "pcscf/core_config.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>

#include "core_testing.hpp"
#include "pcscf/core.hpp"

namespace isthmus::pcscf::test {
namespace {

// The message of the std::invalid_argument constructing a core throws.
std::string refusal_of(const std::function<void(PcscfConfig&)>& change) {
    PcscfConfig c = default_config();
    change(c);
    try {
        PcscfCore core(c);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

TEST(CoreConfigTest, BadValuesAreRefusedNamingTheKey) {
    EXPECT_EQ(refusal_of([](PcscfConfig&) {}), "");
    auto names = [](std::string_view key, const std::function<void(PcscfConfig&)>& change) {
        const std::string what = refusal_of(change);
        EXPECT_NE(what.find(key), std::string::npos) << key << ": " << what;
    };
    names("flow_token_key", [](PcscfConfig& c) { c.flow_token_key = "too short"; });
    names("visited_network_id", [](PcscfConfig& c) { c.visited_network_id.clear(); });
    names("orig_ioi", [](PcscfConfig& c) { c.orig_ioi = "not a token"; });
    names("max_flows", [](PcscfConfig& c) { c.max_flows = 0; });
    names("max_registrations", [](PcscfConfig& c) { c.max_registrations = 0; });
    names("max_registrations_per_flow", [](PcscfConfig& c) { c.max_registrations_per_flow = 0; });
    names("max_transactions", [](PcscfConfig& c) { c.max_transactions = 1; });
    names("timer_c", [](PcscfConfig& c) { c.timer_c = sip::Duration(0); });
    names("default_expires", [](PcscfConfig& c) { c.default_expires = std::chrono::seconds(0); });
    names("w2_host", [](PcscfConfig& c) { c.w2_host = "bad host"; });
    names("mw_host", [](PcscfConfig& c) { c.mw_host = ""; });
    names("mw_port", [](PcscfConfig& c) { c.mw_port = 0; });
    names("mw_transport", [](PcscfConfig& c) { c.mw_transport = Transport::Wss; });
    names("ims_next_hop", [](PcscfConfig& c) { c.ims_next_hop.port = 0; });
    names("ims_next_hop", [](PcscfConfig& c) { c.ims_next_hop.transport = Transport::Ws; });
    names("static_routes.host", [](PcscfConfig& c) { c.static_routes[0].host = "-x-"; });
    names("sip transactions", [](PcscfConfig& c) { c.timers.t1 = sip::Duration(0); });
    names("admission.flow_burst", [](PcscfConfig& c) { c.admission.flow_burst = 0; });
    names("admission.register_burst", [](PcscfConfig& c) { c.admission.register_rate = 5; });
    names("admission.retry_after_s", [](PcscfConfig& c) { c.admission.retry_after_s = 0; });
}

TEST(CoreConfigTest, OurUris) {
    PcscfConfig c = default_config();
    c.mw_transport = Transport::Tcp;
    const LocalUris local(c);
    EXPECT_EQ(local.mw_via(Transport::Tcp), "SIP/2.0/TCP 198.18.0.1:5060");
    EXPECT_EQ(local.w2_via(Transport::Wss), "SIP/2.0/WSS pcscf.example.net:443");
    EXPECT_EQ(local.path("TOK"), "<sip:TOK@198.18.0.1:5060;transport=tcp;lr;ob>");
    EXPECT_EQ(local.mw_record_route(), "<sip:198.18.0.1:5060;transport=tcp;lr>");
    EXPECT_EQ(local.w2_record_route("TOK"), "<sip:TOK@pcscf.example.net:443;transport=ws;lr>");
    c.w2_port = 0;
    EXPECT_EQ(LocalUris(c).w2_via(Transport::Ws), "SIP/2.0/WS pcscf.example.net");
}

TEST(CoreConfigTest, WhichUrisAreOurs) {
    const LocalUris local(default_config());
    auto face = [&](std::string_view uri) { return local.face(*sip::parse_uri(uri)); };
    EXPECT_EQ(face("sip:198.18.0.1:5060;lr"), Face::Mw);
    EXPECT_EQ(face("sip:tok@198.18.0.1;lr"), Face::Mw);  // no port written
    EXPECT_EQ(face("sip:198.18.0.1:5070;lr"), Face::None);
    EXPECT_EQ(face("sip:x@PCSCF.example.net:443;transport=ws"), Face::W2);
    EXPECT_EQ(face("sips:pcscf.example.net"), Face::W2);
    EXPECT_EQ(face("sip:scscf.ims.example.net;lr"), Face::None);
    EXPECT_EQ(face("tel:+15551234567"), Face::None);
    // No port written is the default one (5060): on a P-CSCF at another
    // port, an IMS node on the same host (<sip:HOST;lr>) is not us.
    PcscfConfig other = default_config();
    other.mw_port = 5070;
    const LocalUris at5070(other);
    EXPECT_EQ(at5070.face(*sip::parse_uri("sip:198.18.0.1;lr")), Face::None);
    EXPECT_EQ(at5070.face(*sip::parse_uri("sip:198.18.0.1:5070;lr")), Face::Mw);
}

TEST(CoreConfigTest, StaticNextHops) {
    PcscfConfig c = default_config();
    Peer pinned = scscf();
    pinned.port = 6060;
    c.static_routes.insert(c.static_routes.begin(),
                           StaticRoute{"scscf.ims.example.net", uint16_t{7070}, pinned});
    const LocalUris local(c);
    auto hop = [&](std::string_view uri) { return local.next_hop(*sip::parse_uri(uri)); };
    EXPECT_EQ(hop("sip:orig@scscf.ims.example.net:6060;lr"), scscf());  // port differs from 7070
    EXPECT_EQ(hop("sip:orig@scscf.ims.example.net:7070;lr"), pinned);
    EXPECT_EQ(hop("sip:SCSCF.IMS.example.net"), pinned);  // no port: the first by host
    EXPECT_EQ(hop("sip:ims.example.net"), icscf());
    EXPECT_EQ(hop("tel:+15551234567"), icscf());
}

}  // namespace
}  // namespace isthmus::pcscf::test
