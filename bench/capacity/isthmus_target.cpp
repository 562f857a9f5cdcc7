#include "isthmus_target.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "isthmus/dpif/client.hpp"

namespace isthmus::bench::capacity {
namespace {

constexpr auto kTimeout = std::chrono::milliseconds(2000);
constexpr uint64_t kFirstSessionId = 1000000;
// isthmus::srtp::Suite values (dataplane/srtp/suite.hpp; the dpif carries
// them as numbers): AesCm128HmacSha1_80 = 0, AeadAes128Gcm = 4.
constexpr uint8_t kAesCm128Sha1_80 = 0;
constexpr uint8_t kAeadAes128Gcm = 4;

dpif::IpEndpoint endpoint(in_addr a, uint16_t port) {
    dpif::IpEndpoint e{};
    e.family = 4;
    e.port = port;
    std::memcpy(e.addr, &a.s_addr, 4);
    return e;
}
dpif::IpEndpoint endpoint(const sockaddr_in& s, uint16_t plus = 0) {
    return endpoint(s.sin_addr, static_cast<uint16_t>(ntohs(s.sin_port) + plus));
}

dpif::SrtpKeys dpif_keys(const SrtpKey& k) {
    dpif::SrtpKeys out{};
    const bool gcm = k.suite == SrtpSuite::aead_aes_128_gcm;
    out.suite = gcm ? kAeadAes128Gcm : kAesCm128Sha1_80;
    out.key_len = 16;
    out.salt_len = gcm ? 12 : 14;
    std::memcpy(out.master_key, k.key_salt.data(), out.key_len);
    std::memcpy(out.master_salt, k.key_salt.data() + out.key_len, out.salt_len);
    return out;
}

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

IsthmusTarget::IsthmusTarget(const std::string& region, in_addr access_addr, in_addr core_addr,
                             uint16_t port_base, SrtpSuite suite)
    : client_(std::make_unique<dpif::Client>(region, now_ns())),
      access_(access_addr),
      core_(core_addr),
      port_base_(port_base),
      suite_(suite) {}

IsthmusTarget::~IsthmusTarget() = default;

void IsthmusTarget::setup(std::span<CallPlan> calls) {
    if (calls.size() * 2 + port_base_ > 65535) {
        throw std::runtime_error("too many calls for the gateway's ports from " +
                                 std::to_string(port_base_));
    }
    for (uint32_t i = 0; i < calls.size(); ++i) {
        CallPlan& c = calls[i];
        const auto port = static_cast<uint16_t>(port_base_ + 2 * i);
        const SrtpKey to_gateway = random_key(suite_);    // what A sends
        const SrtpKey from_gateway = random_key(suite_);  // what the gateway sends A
        dpif::Command cmd{};
        cmd.hdr.type = dpif::MsgType::SessionCreate;
        cmd.hdr.session_id = kFirstSessionId + i;
        cmd.access.local = endpoint(access_, port);
        cmd.access.remote = endpoint(c.a.local);
        cmd.access.rtcp_mux = 1;
        cmd.access.security = dpif::LegSecurity::Sdes;
        cmd.access.rx = dpif_keys(to_gateway);
        cmd.access.tx = dpif_keys(from_gateway);
        cmd.core.local = endpoint(core_, port);
        cmd.core.local_rtcp = endpoint(core_, static_cast<uint16_t>(port + 1));
        cmd.core.remote = endpoint(c.b.local);
        cmd.core.remote_rtcp = endpoint(c.b.local, 1);
        cmd.core.security = dpif::LegSecurity::Rtp;
        const std::optional<dpif::Event> ev = client_->call(cmd, kTimeout);
        if (!ev) {
            throw std::runtime_error("call " + std::to_string(i) +
                                     ": the dataplane did not answer SessionCreate within 2 s");
        }
        if (ev->result != dpif::ResultCode::Ok) {
            throw std::runtime_error("call " + std::to_string(i) + ": SessionCreate refused: " +
                                     std::string(dpif::result_name(ev->result)) + " (" +
                                     ev->detail + ")");
        }
        set_up_ = i + 1;
        c.a.remote = {};
        c.a.remote.sin_family = AF_INET;
        c.a.remote.sin_addr = access_;
        c.a.remote.sin_port = htons(port);
        c.a.send_key = to_gateway;
        c.a.recv_key = from_gateway;
        c.b.remote = {};
        c.b.remote.sin_family = AF_INET;
        c.b.remote.sin_addr = core_;
        c.b.remote.sin_port = htons(port);
        c.b.send_key.reset();
        c.b.recv_key.reset();
    }
}

void IsthmusTarget::teardown(std::span<const CallPlan> calls) {
    const auto n = static_cast<uint32_t>(std::min<std::size_t>(calls.size(), set_up_));
    uint32_t failed = 0;
    for (uint32_t i = 0; i < n; ++i) {
        dpif::Command cmd{};
        cmd.hdr.type = dpif::MsgType::SessionDelete;
        cmd.hdr.session_id = kFirstSessionId + i;
        const std::optional<dpif::Event> ev = client_->call(cmd, kTimeout);
        if (!ev || ev->result != dpif::ResultCode::Ok) ++failed;
    }
    if (failed != 0) {
        std::fprintf(stderr, "capacity-sockets: isthmus: %u of %u SessionDeletes failed\n", failed,
                     n);
    }
    set_up_ = 0;
}

std::optional<IsthmusTarget::Cycles> IsthmusTarget::cycles() const {
    const dpif::StatsArea& st = client_->region().stats;
    const uint32_t blocks = std::min(st.blocks.load(), dpif::kMaxStatBlocks);
    Cycles c;
    bool any = false;
    for (uint32_t b = 0; b < blocks; ++b) {
        const dpif::StatBlock& blk = st.block[b];
        if (std::strncmp(blk.kind, "worker", sizeof blk.kind) != 0) continue;
        const uint32_t n = std::min(blk.counters, dpif::kMaxStatCounters);
        for (uint32_t k = 0; k < n; ++k) {
            if (std::strcmp(blk.counter[k].name, "busy_cycles") == 0) {
                c.busy += dpif::stat_load(blk.counter[k]);
                any = true;
            } else if (std::strcmp(blk.counter[k].name, "tsc_cycles") == 0) {
                c.tsc += dpif::stat_load(blk.counter[k]);
            }
        }
    }
    if (!any) return std::nullopt;
    return c;
}

}  // namespace isthmus::bench::capacity
