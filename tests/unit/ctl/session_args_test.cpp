// isthmus-ctl session arguments: endpoints, `session add` options -> SessionCreate,
// and the key=value lines printed for the dataplane's answers.
#include "ctl/session_args.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace isthmus::ctl {
namespace {

using Args = std::vector<std::string>;

// RFC 4568 6.1 example key (30 octets: AES_CM_128 key + salt) and another.
const std::string kKeyA = "AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
const std::string kKeyB = "AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";
const std::string kKeyGcm = "AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==";

dpif::IpEndpoint v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    dpif::IpEndpoint ep{};
    ep.family = 4;
    ep.port = port;
    ep.addr[0] = a;
    ep.addr[1] = b;
    ep.addr[2] = c;
    ep.addr[3] = d;
    return ep;
}

// 2001:2::<last>
dpif::IpEndpoint v6(uint8_t last, uint16_t port) {
    dpif::IpEndpoint ep{};
    ep.family = 6;
    ep.port = port;
    ep.addr[0] = 0x20;
    ep.addr[1] = 0x01;
    ep.addr[3] = 0x02;
    ep.addr[15] = last;
    return ep;
}

bool same(const dpif::IpEndpoint& a, const dpif::IpEndpoint& b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

bool unset(const dpif::IpEndpoint& ep) {
    return same(ep, dpif::IpEndpoint{});
}

bool zero(const void* p, std::size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (std::size_t i = 0; i < n; ++i) {
        if (b[i] != 0) return false;
    }
    return true;
}

TEST(Endpoint, Ipv4) {
    dpif::IpEndpoint ep{};
    std::string error;
    ASSERT_TRUE(parse_endpoint("198.18.0.2:40000", ep, error)) << error;
    EXPECT_TRUE(same(ep, v4(198, 18, 0, 2, 40000)));
    EXPECT_EQ(format_endpoint(ep), "198.18.0.2:40000");
    ASSERT_TRUE(parse_endpoint("0.0.0.0:1", ep, error)) << error;
    EXPECT_EQ(format_endpoint(ep), "0.0.0.0:1");
    ASSERT_TRUE(parse_endpoint("255.255.255.255:65535", ep, error)) << error;
    EXPECT_EQ(format_endpoint(ep), "255.255.255.255:65535");
    EXPECT_TRUE(error.empty());
}

TEST(Endpoint, Ipv6) {
    dpif::IpEndpoint ep{};
    std::string error;
    ASSERT_TRUE(parse_endpoint("[2001:2::2]:40000", ep, error)) << error;
    EXPECT_TRUE(same(ep, v6(2, 40000)));
    EXPECT_EQ(format_endpoint(ep), "[2001:2::2]:40000");
    ASSERT_TRUE(parse_endpoint("[::1]:5004", ep, error)) << error;
    EXPECT_EQ(ep.addr[15], 1);
    EXPECT_EQ(format_endpoint(ep), "[::1]:5004");
    ASSERT_TRUE(parse_endpoint("[::ffff:198.18.0.2]:9", ep, error)) << error;
    EXPECT_EQ(ep.family, 6);
    EXPECT_EQ(format_endpoint(ep), "[::ffff:198.18.0.2]:9");
}

TEST(Endpoint, UnsetPrintsDash) {
    EXPECT_EQ(format_endpoint(dpif::IpEndpoint{}), "-");
    dpif::IpEndpoint odd{};
    odd.family = 5;
    EXPECT_EQ(format_endpoint(odd), "-");
}

TEST(Endpoint, Refusals) {
    const std::pair<const char*, const char*> bad[] = {
        {"", "no :PORT"},
        {"198.18.0.2", "no :PORT"},
        {"198.18.0.2:", "port '' is not a number 1..65535"},
        {"198.18.0.2:0", "port '0'"},
        {"198.18.0.2:65536", "port '65536'"},
        {"198.18.0.2:+5", "port '+5'"},
        {"198.18.0.2:-5", "port '-5'"},
        {"198.18.0.2:4x", "port '4x'"},
        {"198.18.0.2: 5", "port ' 5'"},
        {"198.18.0:5", "'198.18.0' is not an IPv4 address"},
        {"198.18.0.256:5", "is not an IPv4 address"},
        {"gw.example:5", "'gw.example' is not an IPv4 address"},
        {":5", "'' is not an IPv4 address"},
        {"2001:2::2:40000", "an IPv6 address goes in brackets"},
        {"[2001:2::2]40000", "no :PORT after ']'"},
        {"[2001:2::2]", "no :PORT after ']'"},
        {"[2001:2::2:40000", "no ']'"},
        {"[198.18.0.2]:40000", "'198.18.0.2' is not an IPv6 address"},
        {"[fe80::1%eth0]:5", "is not an IPv6 address"},
        {"[]:5", "'' is not an IPv6 address"},
    };
    for (const auto& [text, why] : bad) {
        dpif::IpEndpoint ep = v4(1, 2, 3, 4, 5);
        std::string error;
        EXPECT_FALSE(parse_endpoint(text, ep, error)) << text;
        EXPECT_NE(error.find(why), std::string::npos) << text << " -> " << error;
        EXPECT_NE(error.find(std::string("'") + text + "'"), std::string::npos) << error;
        EXPECT_TRUE(same(ep, v4(1, 2, 3, 4, 5))) << text;
    }
}

TEST(SessionId, Parses) {
    uint64_t id = 0;
    std::string error;
    ASSERT_TRUE(parse_session_id("1", id, error));
    EXPECT_EQ(id, 1u);
    ASSERT_TRUE(parse_session_id("18446744073709551615", id, error));
    EXPECT_EQ(id, UINT64_MAX);
    for (const char* bad :
         {"0", "", "-1", "+1", " 1", "1 ", "12a", "0x10", "18446744073709551616"}) {
        id = 42;
        EXPECT_FALSE(parse_session_id(bad, id, error)) << bad;
        EXPECT_NE(error.find("is not a session id"), std::string::npos) << error;
        EXPECT_EQ(id, 42u);
    }
}

Args minimal() {
    return {"--id",
            "7",
            "--access-local",
            "198.18.0.2:40000",
            "--access-rx-key",
            kKeyA,
            "--access-tx-key",
            kKeyB,
            "--core-local",
            "10.0.0.1:30000",
            "--core-remote",
            "10.0.0.2:20000"};
}

TEST(SessionAdd, MinimalOptions) {
    dpif::Command cmd{};
    std::string error;
    ASSERT_TRUE(parse_session_add(minimal(), cmd, error)) << error;
    EXPECT_TRUE(error.empty());
    EXPECT_EQ(cmd.hdr.type, dpif::MsgType::SessionCreate);
    EXPECT_EQ(cmd.hdr.session_id, 7u);
    // version, seq and generation are Client::send's
    EXPECT_EQ(cmd.hdr.version, 0);
    EXPECT_EQ(cmd.hdr.seq, 0u);
    EXPECT_EQ(cmd.hdr.generation, 0u);

    const dpif::LegSpec& a = cmd.access;
    EXPECT_TRUE(same(a.local, v4(198, 18, 0, 2, 40000)));
    EXPECT_TRUE(same(a.local_rtcp, v4(198, 18, 0, 2, 40001)));  // port + 1
    EXPECT_TRUE(unset(a.remote));                               // learned
    EXPECT_TRUE(unset(a.remote_rtcp));
    EXPECT_EQ(a.security, dpif::LegSecurity::Sdes);
    EXPECT_EQ(a.rtcp_mux, 0);
    EXPECT_EQ(a.dtls_active, 0);
    EXPECT_EQ(a.rx.suite, 0);
    EXPECT_EQ(a.rx.key_len, 16);
    EXPECT_EQ(a.rx.salt_len, 14);
    EXPECT_EQ(a.rx.master_key[0], 0x3d);
    EXPECT_EQ(a.rx.master_salt[13], 0x51);
    EXPECT_EQ(a.tx.suite, 1);
    EXPECT_EQ(a.tx.master_key[1], 0x01);
    EXPECT_EQ(a.tx.master_salt[0], 16);
    EXPECT_TRUE(zero(a.ice_ufrag, sizeof a.ice_ufrag));
    EXPECT_TRUE(zero(a.ice_pwd, sizeof a.ice_pwd));
    EXPECT_TRUE(zero(a.remote_ufrag, sizeof a.remote_ufrag));
    EXPECT_TRUE(zero(a.remote_fingerprint, sizeof a.remote_fingerprint));

    const dpif::LegSpec& c = cmd.core;
    EXPECT_TRUE(same(c.local, v4(10, 0, 0, 1, 30000)));
    EXPECT_TRUE(same(c.local_rtcp, v4(10, 0, 0, 1, 30001)));
    EXPECT_TRUE(same(c.remote, v4(10, 0, 0, 2, 20000)));
    EXPECT_TRUE(same(c.remote_rtcp, v4(10, 0, 0, 2, 20001)));
    EXPECT_EQ(c.security, dpif::LegSecurity::Rtp);
    EXPECT_EQ(c.rtcp_mux, 0);
    EXPECT_TRUE(zero(&c.rx, sizeof c.rx));
    EXPECT_TRUE(zero(&c.tx, sizeof c.tx));
    EXPECT_EQ(cmd.police_kbps[0], 0U);
    EXPECT_EQ(cmd.police_kbps[1], 0U);
}

TEST(SessionAdd, FullOptions) {
    const Args args = {
        "--id",
        "18446744073709551615",
        "--access-local",
        "[2001:2::2]:40000",
        "--access-remote",
        "[2001:2::99]:50000",
        "--access-rtcp-local",
        "[2001:2::2]:40011",
        "--access-rtcp-remote",
        "[2001:2::99]:50011",
        "--access-rx-key",
        kKeyA,
        "--access-tx-key",
        kKeyGcm,
        "--core-local",
        "10.0.0.1:30000",
        "--core-remote",
        "10.0.0.2:20000",
        "--core-rtcp-mux",
        "--core-rx-key",
        kKeyB,
        "--core-tx-key",
        kKeyA,
    };
    dpif::Command cmd{};
    std::string error;
    ASSERT_TRUE(parse_session_add(args, cmd, error)) << error;
    EXPECT_EQ(cmd.hdr.session_id, UINT64_MAX);
    EXPECT_TRUE(same(cmd.access.local, v6(2, 40000)));
    EXPECT_TRUE(same(cmd.access.remote, v6(0x99, 50000)));
    EXPECT_TRUE(same(cmd.access.local_rtcp, v6(2, 40011)));
    EXPECT_TRUE(same(cmd.access.remote_rtcp, v6(0x99, 50011)));
    EXPECT_EQ(cmd.access.rtcp_mux, 0);
    EXPECT_EQ(cmd.access.tx.suite, 4);
    EXPECT_EQ(cmd.access.tx.key_len, 16);
    EXPECT_EQ(cmd.access.tx.salt_len, 12);
    // IPv4 on the core leg beside IPv6 on the access leg is fine.
    EXPECT_TRUE(same(cmd.core.local, v4(10, 0, 0, 1, 30000)));
    EXPECT_TRUE(same(cmd.core.remote, v4(10, 0, 0, 2, 20000)));
    EXPECT_EQ(cmd.core.rtcp_mux, 1);
    EXPECT_TRUE(unset(cmd.core.local_rtcp));
    EXPECT_TRUE(unset(cmd.core.remote_rtcp));
    EXPECT_EQ(cmd.core.security, dpif::LegSecurity::Sdes);
    EXPECT_EQ(cmd.core.rx.suite, 1);
    EXPECT_EQ(cmd.core.tx.suite, 0);
}

TEST(SessionAdd, RtcpDefaultsAndMux) {
    Args args = minimal();
    args.insert(args.end(), {"--access-remote", "198.51.100.7:6000", "--access-rtcp-mux"});
    dpif::Command cmd{};
    std::string error;
    ASSERT_TRUE(parse_session_add(args, cmd, error)) << error;
    EXPECT_EQ(cmd.access.rtcp_mux, 1);
    EXPECT_TRUE(unset(cmd.access.local_rtcp));
    EXPECT_TRUE(unset(cmd.access.remote_rtcp));

    args = minimal();
    args.insert(args.end(),
                {"--access-remote", "198.51.100.7:6000", "--core-rtcp-local", "10.0.0.1:31000"});
    ASSERT_TRUE(parse_session_add(args, cmd, error)) << error;
    EXPECT_TRUE(same(cmd.access.remote_rtcp, v4(198, 51, 100, 7, 6001)));
    EXPECT_TRUE(same(cmd.core.local_rtcp, v4(10, 0, 0, 1, 31000)));
    EXPECT_TRUE(same(cmd.core.remote_rtcp, v4(10, 0, 0, 2, 20001)));
}

// Replaces the value of `option` in `args` (or removes option and value when
// `value` is null).
Args with(Args args, const std::string& option, const char* value) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] != option) continue;
        if (value == nullptr) {
            args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
                       args.begin() + static_cast<std::ptrdiff_t>(i + 2));
        } else {
            args[i + 1] = value;
        }
        return args;
    }
    ADD_FAILURE() << option << " not in the args";
    return args;
}

Args plus(Args args, std::initializer_list<std::string> more) {
    args.insert(args.end(), more);
    return args;
}

TEST(SessionAdd, PolicingRates) {
    dpif::Command cmd{};
    std::string error;
    ASSERT_TRUE(parse_session_add(
        plus(minimal(), {"--access-police-kbps", "8", "--core-police-kbps", "10000000"}), cmd,
        error))
        << error;
    EXPECT_EQ(cmd.police_kbps[0], 8U);
    EXPECT_EQ(cmd.police_kbps[1], 10000000U);
    ASSERT_TRUE(parse_session_add(plus(minimal(), {"--core-police-kbps", "96"}), cmd, error));
    EXPECT_EQ(cmd.police_kbps[0], 0U);
    EXPECT_EQ(cmd.police_kbps[1], 96U);
}

TEST(SessionAdd, BundleTransportAndMember) {
    dpif::Command cmd{};
    std::string error;
    // The transport: its own id, a full access leg.
    ASSERT_TRUE(parse_session_add(
        plus(minimal(), {"--bundle-transport", "7", "--bundle-pts", "0,8,126"}), cmd, error))
        << error;
    EXPECT_EQ(cmd.bundle.transport, 7u);
    EXPECT_EQ(cmd.bundle.pt_count, 3u);
    EXPECT_EQ(cmd.bundle.payload_types[2], 126u);
    EXPECT_TRUE(same(cmd.access.local, v4(198, 18, 0, 2, 40000)));
    // Another m= line on it: no access leg, its own core leg.
    const Args member = {"--id",
                         "8",
                         "--core-local",
                         "10.0.0.1:30002",
                         "--core-remote",
                         "10.0.0.2:20002",
                         "--bundle-transport",
                         "7",
                         "--bundle-pts",
                         "96,97"};
    ASSERT_TRUE(parse_session_add(member, cmd, error)) << error;
    EXPECT_EQ(cmd.hdr.session_id, 8u);
    EXPECT_EQ(cmd.bundle.transport, 7u);
    EXPECT_EQ(cmd.bundle.pt_count, 2u);
    const dpif::LegSpec none{};
    EXPECT_EQ(std::memcmp(&cmd.access, &none, sizeof none), 0);
    EXPECT_TRUE(same(cmd.core.local, v4(10, 0, 0, 1, 30002)));
    ASSERT_TRUE(parse_session_add(with(member, "--bundle-pts", "none"), cmd, error)) << error;
    EXPECT_EQ(cmd.bundle.pt_count, 0u);
    // Refusals, each with its reason.
    const std::pair<Args, const char*> bad[] = {
        {plus(minimal(), {"--bundle-transport", "7"}), "go together"},
        {plus(minimal(), {"--bundle-pts", "0"}), "go together"},
        {plus(member, {"--access-local", "198.18.0.2:40002"}), "no --access-* options"},
        {with(member, "--bundle-pts", "96,x"), "payload types 0..127"},
        {with(member, "--bundle-pts", "128"), "payload types 0..127"},
        {with(member, "--bundle-transport", "0"), "--bundle-transport:"},
    };
    for (const auto& [args, want] : bad) {
        EXPECT_FALSE(parse_session_add(args, cmd, error));
        EXPECT_NE(error.find(want), std::string::npos) << error;
    }
}

TEST(SessionAdd, Refusals) {
    const Args base = minimal();
    const std::pair<Args, const char*> bad[] = {
        // required options
        {with(base, "--id", nullptr), "missing --id"},
        {with(base, "--access-local", nullptr), "missing --access-local"},
        {with(base, "--access-rx-key", nullptr), "missing --access-rx-key"},
        {with(base, "--access-tx-key", nullptr), "missing --access-tx-key"},
        {with(with(base, "--access-rx-key", nullptr), "--access-tx-key", nullptr),
         "missing --access-rx-key"},
        {with(base, "--core-local", nullptr), "missing --core-local"},
        {with(base, "--core-remote", nullptr), "missing --core-remote"},
        {{}, "missing --id"},
        // unknown options, stray arguments, twice, missing values
        {plus(base, {"--core-bogus", "1"}), "unknown option '--core-bogus'"},
        {plus(base, {"-x"}), "unknown option '-x'"},
        {plus(base, {"--id=7"}), "unknown option '--id=7'"},
        {plus(base, {"extra"}), "unexpected argument 'extra'"},
        {plus(base, {"--id", "8"}), "option --id given twice"},
        {plus(base, {"--core-rtcp-mux", "--core-rtcp-mux"}), "option --core-rtcp-mux given twice"},
        {plus(base, {"--access-remote"}), "option --access-remote needs a value"},
        {Args{"--id", "--access-local", "198.18.0.2:40000"}, "option --id needs a value"},
        // bad values name their option
        {with(base, "--id", "0"), "--id: '0' is not a session id"},
        {with(base, "--id", "seven"), "--id: 'seven' is not a session id"},
        {with(base, "--access-local", "198.18.0.2"), "--access-local: '198.18.0.2': no :PORT"},
        {with(base, "--core-remote", "10.0.0.2:0"), "--core-remote: '10.0.0.2:0': port '0'"},
        {plus(base, {"--access-rtcp-local", "x:1"}), "--access-rtcp-local: 'x:1'"},
        {with(base, "--access-rx-key", "AES_CM_128_HMAC_SHA1_80 inline:AAAA"),
         "--access-rx-key: key||salt is 3 octets"},
        {with(base, "--access-tx-key", "NULL inline:AAAA"), "--access-tx-key: unknown"},
        {plus(base, {"--core-rx-key", kKeyA, "--core-tx-key", kKeyA + "|1:4"}),
         "--core-tx-key: MKI '|1:4' is not supported"},
        // policing rates
        {plus(base, {"--access-police-kbps", "7"}), "--access-police-kbps: kb/s 8..10000000"},
        {plus(base, {"--core-police-kbps", "10000001"}), "--core-police-kbps: kb/s 8..10000000"},
        {plus(base, {"--core-police-kbps", "1k"}),
         "--core-police-kbps: kb/s 8..10000000, not '1k'"},
        // one core key without the other
        {plus(base, {"--core-rx-key", kKeyA}),
         "--core-rx-key without --core-tx-key: give both (SRTP with SDES keys) or neither"},
        {plus(base, {"--core-tx-key", kKeyA}), "--core-tx-key without --core-rx-key"},
        // a bad key is reported before a missing one
        {with(with(base, "--access-tx-key", nullptr), "--access-rx-key", (kKeyA + "|1:4").c_str()),
         "--access-rx-key: MKI"},
        // families on one leg
        {plus(base, {"--access-remote", "[2001:2::9]:5000"}),
         "access leg mixes IPv4 and IPv6: --access-local is IPv4, --access-remote is IPv6"},
        {plus(base, {"--core-rtcp-local", "[2001:2::2]:30001"}),
         "core leg mixes IPv4 and IPv6: --core-local is IPv4, --core-rtcp-local is IPv6"},
        {plus(base, {"--core-rtcp-remote", "[2001:2::2]:20001"}), "--core-rtcp-remote is IPv6"},
        {with(base, "--core-local", "[2001:2::2]:30000"),
         "core leg mixes IPv4 and IPv6: --core-local is IPv6, --core-remote is IPv4"},
        // RTCP
        {plus(base, {"--access-rtcp-mux", "--access-rtcp-local", "198.18.0.2:40001"}),
         "--access-rtcp-local contradicts --access-rtcp-mux"},
        {plus(base, {"--core-rtcp-mux", "--core-rtcp-remote", "10.0.0.2:20001"}),
         "--core-rtcp-remote contradicts --core-rtcp-mux"},
        {plus(base, {"--access-rtcp-remote", "198.51.100.7:6001"}),
         "--access-rtcp-remote needs --access-remote"},
        {with(base, "--core-local", "10.0.0.1:65535"),
         "--core-local has port 65535, so RTCP cannot default to port + 1"},
        {with(base, "--core-remote", "10.0.0.2:65535"), "--core-remote has port 65535"},
        {plus(base, {"--core-rtcp-local", "10.0.0.1:30000"}),
         "--core-rtcp-local is the RTP address itself: use --core-rtcp-mux"},
        {plus(base, {"--core-rtcp-remote", "10.0.0.2:20000"}),
         "--core-rtcp-remote is the RTP address itself"},
    };
    for (const auto& [args, why] : bad) {
        std::string joined;
        for (const std::string& a : args)
            joined += a + " ";
        dpif::Command cmd{};
        cmd.hdr.session_id = 99;
        std::string error;
        EXPECT_FALSE(parse_session_add(args, cmd, error)) << joined;
        EXPECT_NE(error.find(why), std::string::npos) << joined << "\n -> " << error;
        EXPECT_EQ(cmd.hdr.session_id, 99u) << "out touched on failure: " << joined;
    }
    // The 65535 port is fine with rtcp-mux or an explicit RTCP port.
    dpif::Command cmd{};
    std::string error;
    EXPECT_TRUE(parse_session_add(
        plus(with(base, "--core-local", "10.0.0.1:65535"), {"--core-rtcp-mux"}), cmd, error))
        << error;
    EXPECT_TRUE(parse_session_add(
        plus(with(base, "--core-local", "10.0.0.1:65535"), {"--core-rtcp-local", "10.0.0.1:65534"}),
        cmd, error))
        << error;
}

TEST(FormatSessionInfo, OneLine) {
    dpif::Event ev{};
    ev.hdr.type = dpif::MsgType::SessionInfo;
    ev.hdr.session_id = 42;
    ev.worker = 3;
    ev.access_local = v6(2, 40000);
    ev.selected_remote = v6(0x99, 50000);
    ev.core_local = v4(10, 0, 0, 1, 30000);
    ev.core_remote = v4(10, 0, 0, 2, 20000);
    ev.relayed[0] = 1000;
    ev.relayed[1] = 999;
    ev.dropped[0] = 5;
    ev.dropped[1] = 18446744073709551615ULL;
    EXPECT_EQ(format_session_info(ev),
              "id=42 worker=3 access_local=[2001:2::2]:40000 access_remote=[2001:2::99]:50000 "
              "core_local=10.0.0.1:30000 core_remote=10.0.0.2:20000 relayed_a2c=1000 "
              "relayed_c2a=999 dropped_access=5 dropped_core=18446744073709551615");
    ev.selected_remote = dpif::IpEndpoint{};  // not learned yet
    EXPECT_NE(format_session_info(ev).find(" access_remote=- core_local="), std::string::npos);
}

TEST(FormatSessionCreated, OneLine) {
    dpif::Event ev{};
    ev.hdr.type = dpif::MsgType::Result;
    ev.hdr.session_id = 7;
    ev.worker = 1;
    ev.access_local = v4(198, 18, 0, 2, 40000);
    EXPECT_EQ(format_session_created(ev),
              "id=7 result=ok worker=1 access_local=198.18.0.2:40000 core_local=-");
}

TEST(FormatResultError, NameAndDetail) {
    dpif::Event ev{};
    ev.result = dpif::ResultCode::NotSupported;
    std::strcpy(ev.detail, "sessions are not implemented in this dataplane yet");
    EXPECT_EQ(format_result_error(ev),
              "not_supported sessions are not implemented in this dataplane yet");
    ev.result = dpif::ResultCode::NotFound;
    ev.detail[0] = '\0';
    EXPECT_EQ(format_result_error(ev), "not_found");
    // A detail filling the whole array without its NUL is cut at the array.
    ev.result = dpif::ResultCode::BadParams;
    std::memset(ev.detail, 'x', sizeof ev.detail);
    EXPECT_EQ(format_result_error(ev), "bad_params " + std::string(sizeof ev.detail, 'x'));
}

TEST(SessionArgs, IceCredentialsOnTheAccessLeg) {
    dpif::Command c{};
    std::string error;
    const std::vector<std::string> base = {
        "--id",
        "3",
        "--access-local",
        "198.18.0.2:40000",
        "--access-rtcp-mux",
        "--access-rx-key",
        "AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "--access-tx-key",
        "AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "--core-local",
        "198.18.1.2:50000",
        "--core-remote",
        "198.18.1.20:6000"};
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--access-ice-ufrag", "gwuf", "--access-ice-pwd",
                             "0123456789012345678901", "--access-remote-ufrag", "brws"});
    ASSERT_TRUE(parse_session_add(args, c, error)) << error;
    EXPECT_STREQ(c.access.ice_ufrag, "gwuf");
    EXPECT_STREQ(c.access.ice_pwd, "0123456789012345678901");
    EXPECT_STREQ(c.access.remote_ufrag, "brws");
    args = base;
    args.insert(args.end(), {"--access-ice-ufrag", "gwuf"});
    EXPECT_FALSE(parse_session_add(args, c, error));
    EXPECT_NE(error.find("go together"), std::string::npos) << error;
    args = base;
    args.insert(args.end(),
                {"--access-ice-ufrag", "gwuf", "--access-ice-pwd", std::string(64, 'p')});
    EXPECT_FALSE(parse_session_add(args, c, error));
    EXPECT_NE(error.find("at most 63"), std::string::npos) << error;
}

TEST(SessionArgs, DtlsSrtpOnTheAccessLeg) {
    dpif::Command c{};
    std::string error;
    const std::string fp =
        "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0a:1b:2c:3d:4e:5f:60:71:82:93:a4:b5:c6:"
        "d7:e8:f9";
    const std::vector<std::string> base = {"--id",
                                           "4",
                                           "--access-local",
                                           "198.18.0.2:40000",
                                           "--access-rtcp-mux",
                                           "--access-ice-ufrag",
                                           "gwuf",
                                           "--access-ice-pwd",
                                           "0123456789012345678901",
                                           "--core-local",
                                           "198.18.1.2:50000",
                                           "--core-remote",
                                           "198.18.1.20:6000"};
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--access-dtls", "passive", "--access-fingerprint", fp});
    ASSERT_TRUE(parse_session_add(args, c, error)) << error;
    EXPECT_EQ(c.access.security, dpif::LegSecurity::DtlsSrtp);
    EXPECT_EQ(c.access.dtls_active, 0);
    EXPECT_EQ(c.access.remote_fingerprint[0], 0x0a);
    EXPECT_EQ(c.access.remote_fingerprint[31], 0xf9);
    EXPECT_EQ(c.core.security, dpif::LegSecurity::Rtp);
    args = base;
    args.insert(args.end(), {"--access-dtls", "active", "--access-fingerprint", fp});
    ASSERT_TRUE(parse_session_add(args, c, error)) << error;
    EXPECT_EQ(c.access.dtls_active, 1);

    const auto refused = [&](std::vector<std::string> extra, std::vector<std::string> from,
                             const char* why) {
        std::vector<std::string> a = std::move(from);
        a.insert(a.end(), extra.begin(), extra.end());
        EXPECT_FALSE(parse_session_add(a, c, error)) << why;
        EXPECT_NE(error.find(why), std::string::npos) << error;
    };
    refused({"--access-dtls", "passive"}, base, "go together");
    refused({"--access-dtls", "actpass", "--access-fingerprint", fp}, base, "active or passive");
    refused({"--access-dtls", "passive", "--access-fingerprint", fp.substr(3)}, base,
            "32 hex pairs");
    refused({"--access-dtls", "passive", "--access-fingerprint", fp, "--access-rx-key",
             "AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"},
            base, "negotiated");
    std::vector<std::string> no_ice = {"--id",           "4",
                                       "--access-local", "198.18.0.2:40000",
                                       "--core-local",   "198.18.1.2:50000",
                                       "--core-remote",  "198.18.1.20:6000"};
    refused({"--access-dtls", "passive", "--access-fingerprint", fp}, no_ice, "ICE");
}

// A data channel's session (issue 9): DTLS + ICE on the access leg, no core leg.
TEST(SessionAdd, DataChannelSession) {
    const std::string fp =
        "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:"
        "45:67:89";
    const Args base = {"--id",
                       "9",
                       "--access-datachannel",
                       "--access-local",
                       "198.18.0.2:40010",
                       "--access-ice-ufrag",
                       "gwdc",
                       "--access-ice-pwd",
                       "0123456789abcdefghijkl",
                       "--access-dtls",
                       "passive",
                       "--access-fingerprint",
                       fp};
    dpif::Command cmd{};
    std::string err;
    ASSERT_TRUE(parse_session_add(base, cmd, err)) << err;
    EXPECT_EQ(cmd.access.security, dpif::LegSecurity::DtlsSctp);
    EXPECT_EQ(cmd.access.rtcp_mux, 1);
    EXPECT_EQ(cmd.core.local.family, 0);
    EXPECT_EQ(cmd.datachannel.local_sctp_port, 0);  // the dataplane's default (5000)
    Args more = base;
    more.insert(more.end(), {"--sctp-port", "5001", "--remote-sctp-port", "5002",
                             "--max-message-size", "262144", "--peer-max-message-size", "65536"});
    ASSERT_TRUE(parse_session_add(more, cmd, err)) << err;
    EXPECT_EQ(cmd.datachannel.local_sctp_port, 5001);
    EXPECT_EQ(cmd.datachannel.remote_sctp_port, 5002);
    EXPECT_EQ(cmd.datachannel.max_message_size, 262144U);
    EXPECT_EQ(cmd.datachannel.peer_max_message_size, 65536U);

    const auto refused = [&](Args a, const std::string& why) {
        std::string e;
        dpif::Command c{};
        EXPECT_FALSE(parse_session_add(a, c, e)) << why;
        EXPECT_NE(e.find(why), std::string::npos) << e;
    };
    // With a core leg: a BUNDLE transport's leg, SRTP and SCTP on one DTLS.
    Args with_core = base;
    with_core.insert(with_core.end(), {"--core-local", "198.18.1.2:50000", "--core-remote",
                                       "198.18.1.20:6000", "--core-rtcp-mux"});
    ASSERT_TRUE(parse_session_add(with_core, cmd, err)) << err;
    EXPECT_EQ(cmd.access.security, dpif::LegSecurity::DtlsSrtpSctp);
    EXPECT_EQ(cmd.core.local.port, 50000);
    EXPECT_EQ(cmd.core.security, dpif::LegSecurity::Rtp);
    Args half_core = base;
    half_core.insert(half_core.end(), {"--core-local", "198.18.1.2:50000"});
    refused(half_core, "core");
    Args no_dtls = {"--id", "9", "--access-datachannel", "--access-local", "198.18.0.2:40010"};
    refused(no_dtls, "needs --access-dtls");
    Args small = base;
    small.insert(small.end(), {"--max-message-size", "100"});
    refused(small, "--max-message-size: a number 1024..");
    Args stray = {"--id", "9", "--sctp-port", "5000"};
    refused(stray, "need --access-datachannel");

    // Its MSRP chat (--msrp-*): filled as given; the dataplane checks the URIs.
    Args chat = base;
    chat.insert(chat.end(),
                {"--msrp-setup", "passive", "--msrp-local", "198.18.1.2:2855", "--msrp-session-id",
                 "gw9", "--msrp-browser-path", "msrp://b.invalid:9/b9;dc", "--msrp-ue-path",
                 "msrp://198.18.1.1:2855/u9;tcp"});
    ASSERT_TRUE(parse_session_add(chat, cmd, err)) << err;
    EXPECT_EQ(cmd.msrp.setup, dpif::kMsrpPassive);
    EXPECT_EQ(cmd.msrp.tcp_local.port, 2855);
    EXPECT_EQ(cmd.msrp.tcp_remote.family, 0);
    EXPECT_EQ(cmd.msrp.channel_id, dpif::kMsrpAnyChannel);
    EXPECT_EQ(std::string(cmd.msrp.session_id), "gw9");
    EXPECT_EQ(std::string(cmd.msrp.ue_path), "msrp://198.18.1.1:2855/u9;tcp");
    Args active = chat;
    active[active.size() - 9] = "active";  // --msrp-setup's value
    refused(active, "needs --msrp-remote");
    active.insert(active.end(), {"--msrp-remote", "198.18.1.1:2855", "--msrp-channel", "3"});
    ASSERT_TRUE(parse_session_add(active, cmd, err)) << err;
    EXPECT_EQ(cmd.msrp.setup, dpif::kMsrpActive);
    EXPECT_EQ(cmd.msrp.tcp_remote.port, 2855);
    EXPECT_EQ(cmd.msrp.channel_id, 3);
    Args passive_remote = chat;
    passive_remote.insert(passive_remote.end(), {"--msrp-remote", "198.18.1.1:2855"});
    refused(passive_remote, "only with --msrp-setup active");
    Args no_path = base;
    no_path.insert(no_path.end(), {"--msrp-setup", "passive", "--msrp-local", "198.18.1.2:2855"});
    refused(no_path, "--msrp-session-id");
    Args long_path = chat;
    long_path.back() = "msrp://198.18.1.1:2855/" + std::string(100, 'u') + ";tcp";
    refused(long_path, "--msrp-ue-path: at most 100");
    Args media_chat = {"--id", "9", "--msrp-setup", "passive"};
    refused(media_chat, "--msrp-* need --access-datachannel");
}

}  // namespace
}  // namespace isthmus::ctl
