// The dpif command fuzz property (dpif_fuzz_check.hpp) in CI, without
// clang: every seed of tests/fuzz/corpus/dpif (Commands and sequences of
// them: creates of every leg kind, updates that re-key, restart ICE or keep
// DTLS, deletes, queries, a resync that adopts one session and releases
// another, refusals), every saved crash of tests/fuzz/regressions/dpif,
// and a fixed-seed mutation loop over the seeds: half of the rounds the
// mutations the other targets use (fuzz_regress.hpp), half of them a field
// of one of the Commands set to a value that means something to it (a
// version, type, generation, session id, port, family, security, suite,
// key or salt length, ICE string length, flag).
//
// The seeds are made by seeds() below; the Corpus case checks that the
// files are those octets (ISTHMUS_DPIF_FUZZ_WRITE_SEEDS=1 writes them).
// The directories come from $ISTHMUS_DPIF_FUZZ_DIR (set by meson test),
// else tests/fuzz relative to the working directory.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "dpif_fuzz_check.hpp"
#include "fuzz_regress.hpp"

namespace isthmus::dataplane::fuzz {
namespace {

constexpr int kIterations = 400;

using fuzz_regress::Input;
using fuzz_regress::load;

std::filesystem::path fuzz_dir() {
    return fuzz_regress::fuzz_dir("ISTHMUS_DPIF_FUZZ_DIR");
}

std::span<const uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string run(const std::string& s) {
    return check_input(bytes(s));
}

Command typed(Command c, MsgType type, uint64_t seq) {
    c.hdr.type = type;
    c.hdr.seq = seq;
    return c;
}

// The seeds: a file name and its Commands. Ports: session 7 holds 40000
// and 50000/50001 (worker 0), session 8 40002 and 50002 (worker 1).
std::vector<std::pair<std::string, std::vector<Command>>> seeds() {
    std::vector<std::pair<std::string, std::vector<Command>>> out;
    out.push_back({"create_sdes_rtp.dpif", {sdes_create(21, 1, 40004, 50004)}});
    out.push_back({"create_dtls_ice_ipv6.dpif", {dtls_create(22, 1, 40006, 50006)}});
    {
        Command c = sdes_create(23, 1, 40008, 50008, srtp::Suite::AeadAes256Gcm);
        c.access.remote = dpif::IpEndpoint{};  // learned from the first SRTP packet
        c.core.security = dpif::LegSecurity::Sdes;
        c.core.rx = sdes_keys(srtp::Suite::AesCm256HmacSha1_32, 0x01);
        c.core.tx = sdes_keys(srtp::Suite::AesCm128HmacSha1_32, 0x02);
        out.push_back({"create_sdes_both_learned_remote.dpif", {c}});
    }
    {
        Command c = sdes_create(7, 1, 40000, 50000, srtp::Suite::AeadAes128Gcm);
        c.hdr.type = MsgType::SessionUpdate;
        c.access.tx = sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x80);  // kept: same keys
        c.core.remote = endpoint4(198, 18, 1, 21, 7000);
        c.core.remote_rtcp = endpoint4(198, 18, 1, 21, 7001);
        out.push_back({"update_rekey_rx_new_core_remote.dpif", {c}});
    }
    {
        Command keep = dtls_create(8, 1, 40002, 50002);
        keep.hdr.type = MsgType::SessionUpdate;
        keep.bundle.reserved[0] = kInstallDtlsKeys;
        Command restart = keep;
        set_text(restart.access.ice_ufrag, sizeof restart.access.ice_ufrag, "n3wU");
        restart.hdr.seq = 2;
        out.push_back({"update_dtls_keys_then_ice_restart.dpif", {keep, restart}});
    }
    {
        // An IMS offer's session (issue 7): its access leg awaits the
        // browser's answer (no core leg), which completes it.
        Command done = dtls_create(26, 1, 40014, 50014);
        done.hdr.type = MsgType::SessionUpdate;
        done.hdr.seq = 2;
        Command early = dtls_create(26, 1, 40014, 50014);
        early.access.awaiting_answer = 1;
        std::memset(early.access.remote_ufrag, 0, sizeof early.access.remote_ufrag);
        std::memset(early.access.remote_fingerprint, 0, sizeof early.access.remote_fingerprint);
        early.core = {};
        out.push_back({"create_awaiting_answer_then_complete.dpif", {early, done}});
    }
    {
        // Policed legs (issue 11): created at two rates, one raised, then
        // lifted.
        Command c = sdes_create(27, 1, 40016, 50016);
        c.police_kbps[0] = 8;
        c.police_kbps[1] = 2000;
        Command up = typed(c, MsgType::SessionUpdate, 2);
        up.police_kbps[1] = 10000000;
        Command lift = typed(c, MsgType::SessionUpdate, 3);
        lift.police_kbps[0] = lift.police_kbps[1] = 0;
        out.push_back({"create_policed_update_lift.dpif", {c, up, lift}});
    }
    out.push_back(
        {"delete_and_query.dpif",
         {command(MsgType::SessionDelete, 8, 1, 1), command(MsgType::SessionQuery, 7, 1, 2),
          command(MsgType::SessionQuery, 0, 1, 3), command(MsgType::Ping, 0, 1, 4)}});
    {
        Command c = sdes_create(21, 1, 40004, 50004);
        Command up = c;
        up.hdr.type = MsgType::SessionUpdate;
        up.hdr.seq = 2;
        up.access.rtcp_mux = 0;
        up.access.local_rtcp = endpoint4(198, 18, 0, 2, 40005);
        up.access.remote_rtcp = endpoint4(198, 18, 0, 10, 5001);
        out.push_back({"create_update_delete.dpif", {c, up, typed(c, MsgType::SessionDelete, 3)}});
    }
    {
        Command adopt = sdes_create(7, 2, 40000, 50000);
        out.push_back(
            {"resync_adopt_one_release_other.dpif",
             {command(MsgType::ResyncBegin, 0, 2, 1), adopt, command(MsgType::ResyncEnd, 0, 2, 3),
              command(MsgType::SessionQuery, 0, 2, 4)}});
    }
    {
        Command taken = sdes_create(24, 1, 40000, 50004);  // session 7's access port
        Command full[3];
        for (int i = 0; i < 3; ++i) {
            full[i] =
                sdes_create(30 + static_cast<uint64_t>(i), 1, static_cast<uint16_t>(40100 + 4 * i),
                            static_cast<uint16_t>(50100 + 4 * i));
            full[i].core.security = dpif::LegSecurity::Sdes;
            full[i].core.rx = sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x21);
            full[i].core.tx = sdes_keys(srtp::Suite::AesCm128HmacSha1_80, 0x22);
        }
        out.push_back({"port_in_use_then_table_full.dpif", {taken, full[0], full[1], full[2]}});
    }
    {
        Command c = sdes_create(25, 1, 40012, 50012);
        c.hdr.version = 1;
        out.push_back({"old_abi_version.dpif", {c}});
    }
    {
        // A data channel's session with its MSRP chat (issue 9), then the
        // chat moved to another UE, then gone.
        Command c = dtls_create(26, 1, 40014, 50014);
        c.access.security = dpif::LegSecurity::DtlsSctp;
        c.core = dpif::LegSpec{};
        c.msrp.setup = dpif::kMsrpPassive;
        c.msrp.tcp_local = endpoint6(3, 2855);
        c.msrp.channel_id = dpif::kMsrpAnyChannel;
        set_text(c.msrp.session_id, sizeof c.msrp.session_id, "gwchat26");
        set_text(c.msrp.browser_path, sizeof c.msrp.browser_path, "msrp://b.invalid:9/b26;dc");
        set_text(c.msrp.ue_path, sizeof c.msrp.ue_path, "msrp://[2001:db8::20]:2855/u26;tcp");
        Command up = typed(c, MsgType::SessionUpdate, 2);
        up.msrp.setup = dpif::kMsrpActive;
        up.msrp.tcp_remote = endpoint6(0x20, 2855);
        out.push_back({"datachannel_chat.dpif", {c, up, typed(c, MsgType::SessionDelete, 3)}});
    }
    {
        // A BUNDLE transport carrying the call's data channel (DtlsSrtpSctp:
        // SRTP to its core leg and SCTP with its MSRP chat on one DTLS),
        // then the data channel gone (DtlsSrtp, the association kept),
        // then the session.
        Command c = dtls_create(28, 1, 40016, 50016);
        c.access.security = dpif::LegSecurity::DtlsSrtpSctp;
        c.bundle.transport = 28;
        c.msrp.setup = dpif::kMsrpPassive;
        c.msrp.tcp_local = endpoint6(3, 2856);
        c.msrp.channel_id = dpif::kMsrpAnyChannel;
        set_text(c.msrp.session_id, sizeof c.msrp.session_id, "gwchat28");
        set_text(c.msrp.browser_path, sizeof c.msrp.browser_path, "msrp://b.invalid:9/b28;dc");
        set_text(c.msrp.ue_path, sizeof c.msrp.ue_path, "msrp://[2001:db8::20]:2855/u28;tcp");
        Command up = typed(c, MsgType::SessionUpdate, 2);
        up.access.security = dpif::LegSecurity::DtlsSrtp;
        up.msrp = dpif::MsrpSpec{};
        out.push_back({"bundle_datachannel.dpif", {c, up, typed(c, MsgType::SessionDelete, 3)}});
    }
    {
        // BUNDLE (dpif BundleSpec): a DTLS transport (audio) and a video m=
        // line on it, the video's payload types moved, the transport
        // deleted first (the member orphaned), then the member.
        Command t = dtls_create(27, 1, 40020, 50020);
        t.bundle.transport = 27;
        t.bundle.pt_count = 2;
        t.bundle.payload_types[0] = 111;
        t.bundle.payload_types[1] = 0;
        Command m = command(MsgType::SessionCreate, 28, 1, 2);
        m.core.local = endpoint6(3, 50024);
        m.core.remote = endpoint6(0x20, 6002);
        m.core.rtcp_mux = 1;
        m.core.security = dpif::LegSecurity::Rtp;
        m.bundle.transport = 27;
        m.bundle.pt_count = 2;
        m.bundle.payload_types[0] = 96;
        m.bundle.payload_types[1] = 97;
        Command mu = typed(m, MsgType::SessionUpdate, 3);
        mu.bundle.payload_types[1] = 98;
        out.push_back(
            {"bundle_transport_and_member.dpif",
             {t, m, mu, typed(t, MsgType::SessionDelete, 4), typed(m, MsgType::SessionDelete, 5)}});
    }
    return out;
}

TEST(DpifFuzzRegress, Corpus) {
    const auto corpus = load(fuzz_dir() / "corpus" / "dpif");
    const bool write = std::getenv("ISTHMUS_DPIF_FUZZ_WRITE_SEEDS") != nullptr;
    for (const auto& [name, cmds] : seeds()) {
        const std::vector<uint8_t> want = bytes_of(cmds);
        const std::string text(want.begin(), want.end());
        if (write) {
            std::ofstream(fuzz_dir() / "corpus" / "dpif" / name, std::ios::binary) << text;
            continue;
        }
        const auto it = std::find_if(corpus.begin(), corpus.end(),
                                     [&](const Input& in) { return in.name == name; });
        ASSERT_NE(it, corpus.end()) << name << " not found under " << fuzz_dir();
        EXPECT_TRUE(it->bytes == text) << name << " is not what seeds() makes";
    }
    if (write) GTEST_SKIP() << "wrote the seeds to " << fuzz_dir() / "corpus" / "dpif";
    ASSERT_GE(corpus.size(), seeds().size());
    Dataplane::Counts answered{};
    for (const Input& in : corpus) {
        Dataplane dp;
        EXPECT_EQ(check_input(bytes(in.bytes), dp), "") << in.name;
        for (std::size_t k = 0; k < answered.size(); ++k)
            answered[k] += dp.answered()[k];
    }
    // The seeds reach acceptance and the refusals the table decides.
    for (const ResultCode rc :
         {ResultCode::Ok, ResultCode::BadVersion, ResultCode::PortInUse, ResultCode::TableFull})
        EXPECT_GT(answered[static_cast<std::size_t>(rc)], 0U) << dpif::result_name(rc);
}

TEST(DpifFuzzRegress, SavedCrashes) {
    for (const Input& in : load(fuzz_dir() / "regressions" / "dpif")) {
        EXPECT_EQ(run(in.bytes), "") << in.name;
        // One of an older ABI would be refused whole (bad_version) and
        // test nothing: its version is brought along with each bump.
        ASSERT_GE(in.bytes.size(), 2U) << in.name;
        EXPECT_EQ(in.bytes[0] | in.bytes[1] << 8, dpif::kAbiVersion) << in.name;
    }
}

// Short inputs are one Command padded with zeros; the empty one is a
// Command of zeros (version 0: refused).
TEST(DpifFuzzRegress, ShortAndEmptyInputs) {
    const auto corpus = load(fuzz_dir() / "corpus" / "dpif");
    ASSERT_FALSE(corpus.empty());
    EXPECT_EQ(run(""), "");
    for (const Input& in : corpus)
        for (const std::size_t n : {std::size_t{1}, std::size_t{33}, std::size_t{400},
                                    std::size_t{1023}, std::size_t{1025}, in.bytes.size() - 1})
            ASSERT_EQ(run(in.bytes.substr(0, n)), "") << in.name << " prefix " << n;
}

// A field of a Command: its offset and width (a string field: its size).
struct Field {
    std::size_t offset;
    std::size_t width;
    bool text;
};

std::vector<Field> fields() {
    std::vector<Field> out = {
        {offsetof(Command, hdr.version), 2, false},
        {offsetof(Command, hdr.type), 2, false},
        {offsetof(Command, hdr.seq), 8, false},
        {offsetof(Command, hdr.generation), 8, false},
        {offsetof(Command, hdr.session_id), 8, false},
        {offsetof(Command, access.awaiting_answer), 1, false},
        {offsetof(Command, bundle.reserved), 1, false},
        {offsetof(Command, police_kbps[0]), 4, false},
        {offsetof(Command, police_kbps[1]), 4, false},
        {offsetof(Command, bundle.transport), 8, false},
        {offsetof(Command, bundle.pt_count), 1, false},
        {offsetof(Command, bundle.payload_types), 1, false},
        {offsetof(Command, bundle.payload_types) + 1, 1, false},
        {offsetof(Command, msrp.setup), 1, false},
        {offsetof(Command, msrp.channel_id), 2, false},
        {offsetof(Command, msrp.tcp_local.family), 1, false},
        {offsetof(Command, msrp.tcp_local.port), 2, false},
        {offsetof(Command, msrp.tcp_remote.family), 1, false},
        {offsetof(Command, msrp.tcp_remote.port), 2, false},
        {offsetof(Command, msrp.session_id), 16, true},
        {offsetof(Command, msrp.browser_path), 100, true},
        {offsetof(Command, msrp.ue_path), 100, true},
    };
    for (const std::size_t leg : {offsetof(Command, access), offsetof(Command, core)}) {
        for (const std::size_t ep :
             {offsetof(dpif::LegSpec, local), offsetof(dpif::LegSpec, local_rtcp),
              offsetof(dpif::LegSpec, remote), offsetof(dpif::LegSpec, remote_rtcp)}) {
            out.push_back({leg + ep + offsetof(dpif::IpEndpoint, family), 1, false});
            out.push_back({leg + ep + offsetof(dpif::IpEndpoint, port), 2, false});
            out.push_back({leg + ep + offsetof(dpif::IpEndpoint, addr), 1, false});
            out.push_back({leg + ep + offsetof(dpif::IpEndpoint, addr) + 3, 1, false});
            out.push_back({leg + ep + offsetof(dpif::IpEndpoint, addr) + 15, 1, false});
        }
        for (const std::size_t f :
             {offsetof(dpif::LegSpec, security), offsetof(dpif::LegSpec, rtcp_mux),
              offsetof(dpif::LegSpec, dtls_active), offsetof(dpif::LegSpec, remote_fingerprint)})
            out.push_back({leg + f, 1, false});
        for (const std::size_t keys : {offsetof(dpif::LegSpec, rx), offsetof(dpif::LegSpec, tx)})
            for (const std::size_t f :
                 {offsetof(dpif::SrtpKeys, suite), offsetof(dpif::SrtpKeys, key_len),
                  offsetof(dpif::SrtpKeys, salt_len), offsetof(dpif::SrtpKeys, master_key)})
                out.push_back({leg + keys + f, 1, false});
        out.push_back({leg + offsetof(dpif::LegSpec, ice_ufrag), 32, true});
        out.push_back({leg + offsetof(dpif::LegSpec, ice_pwd), 64, true});
        out.push_back({leg + offsetof(dpif::LegSpec, remote_ufrag), 32, true});
    }
    return out;
}

// Sets one field of one Command of `m` to a value that means something.
void mutate_field(std::string& m, std::mt19937& rng) {
    static const std::vector<Field> all = fields();
    if (m.size() < sizeof(Command)) m.resize(sizeof(Command), '\0');
    const std::size_t base = sizeof(Command) * (rng() % (m.size() / sizeof(Command)));
    const Field f = all[rng() % all.size()];
    char* p = m.data() + base + f.offset;
    if (f.text) {
        // A string of 0..size characters, NUL-terminated only when shorter.
        static constexpr std::size_t kLengths[] = {0, 3, 4, 21, 22, 31, 32, 63, 64};
        std::size_t n = kLengths[rng() % std::size(kLengths)];
        n = std::min(n, f.width);
        std::memset(p, 0, f.width);
        for (std::size_t i = 0; i < n; ++i)
            p[i] = static_cast<char>('A' + rng() % 26);
        return;
    }
    static constexpr uint64_t kValues[] = {
        0,    1,    2,    3,     4,     5,     6,     7,     8,     12,    14,   16,    32,
        0x7f, 0x80, 0xff, 40000, 40001, 40002, 40004, 50000, 50001, 50002, 6000, 65535, UINT64_MAX};
    const uint64_t v = kValues[rng() % std::size(kValues)];
    std::memcpy(p, &v, f.width);  // little-endian: the low octets
}

using namespace std::string_view_literals;

// Octets that mean something in a Command: versions, types, families,
// securities, suites, lengths.
constexpr std::array<std::string_view, 12> kTokens = {
    "\x02\x00"sv, "\x01\x00"sv, "\x03\x00"sv, "\x05\x00"sv, "\x06\x00"sv, "\x04"sv,
    "\x06"sv,     "\x40\x9c"sv, "\x50\xc3"sv, "\x00"sv,     "\xff"sv,     "\x10\x0e"sv};

TEST(DpifFuzzRegress, MutationLoop) {
    const auto seeds = load(fuzz_dir() / "corpus" / "dpif");
    ASSERT_FALSE(seeds.empty());
    std::mt19937 rng(0x44504946);
    Dataplane::Counts answered{};
    for (int i = 0; i < kIterations; ++i) {
        std::string m = seeds[rng() % seeds.size()].bytes;
        const int rounds = 1 + static_cast<int>(rng() % 3);
        for (int r = 0; r < rounds; ++r) {
            if (rng() % 2 == 0)
                mutate_field(m, rng);
            else
                fuzz_regress::mutate(m, seeds, kTokens, rng);
        }
        Dataplane dp;
        ASSERT_EQ(check_input(bytes(m), dp), "") << "iteration " << i;
        for (std::size_t k = 0; k < answered.size(); ++k)
            answered[k] += dp.answered()[k];
    }
    // Every answer the dataplane gives is reached (NotSupported it never
    // gives), and a fair share of commands is still accepted.
    for (std::size_t k = 0; k < answered.size(); ++k) {
        const auto rc = static_cast<ResultCode>(k);
        if (rc != ResultCode::NotSupported) {
            EXPECT_GT(answered[k], 0U) << dpif::result_name(rc);
        }
    }
    EXPECT_GT(answered[static_cast<std::size_t>(ResultCode::Ok)],
              static_cast<uint64_t>(kIterations));
}

}  // namespace
}  // namespace isthmus::dataplane::fuzz
