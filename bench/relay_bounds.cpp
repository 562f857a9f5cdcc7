#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "relay_rig.hpp"
#include "srtp/context.hpp"
#include "srtp/engine.hpp"
#include "srtp/transform.hpp"

namespace isthmus::bench {

namespace {

struct AlignedBuffer {
    explicit AlignedBuffer(std::size_t n)
        : p(static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) & ~std::size_t{63}))) {
        if (p == nullptr) throw std::bad_alloc();
        std::memset(p, 0, n);
    }
    ~AlignedBuffer() { std::free(p); }
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
    uint8_t* p;
};

void init_context(srtp::Context& c, srtp::Engine& e) {
    const dpif::SrtpKeys k = access_rx_keys();
    if (c.init(e, srtp::Suite::AesCm128HmacSha1_80, {k.master_key, k.key_len},
               {k.master_salt, k.salt_len}) != srtp::SetupStatus::Ok) {
        die("SRTP context init");
    }
}

void write_rtp(uint8_t* p, uint16_t seq) {
    p[0] = 0x80;
    p[1] = 0;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    std::memset(p + 4, 0x11, 4);
    std::memcpy(p + 8, "\x5e\xed\x12\x34", 4);
    for (uint32_t k = 12; k < kRtpSize; ++k)
        p[k] = static_cast<uint8_t>(k * 7U);
}

}  // namespace

double measure_io(Rig& rig, FrameWriter& fw, uint64_t packets) {
    const uint32_t batch = rig.batch();
    std::vector<rte_mbuf*> m(batch);
    rig.take(batch, m.data());
    uint32_t len = 0;
    for (uint32_t k = 0; k < batch; ++k) {
        len = fw.write(Direction::SrtpToRtp, k, 0, dataplane::mbuf_data(m[k]),
                       rte_pktmbuf_tailroom(m[k]));
    }
    const uint16_t ports[2] = {rig.port(Side::Access), rig.port(Side::Core)};
    uint64_t cycles = 0, done = 0;
    for (int pass = 0; done < packets; ++pass) {
        for (uint32_t k = 0; k < batch; ++k) {
            m[k]->data_len = static_cast<uint16_t>(len);
            m[k]->pkt_len = len;
        }
        rig.receive(Side::Access, m.data(), batch);
        const uint64_t t0 = rte_rdtsc();
        uint32_t forwarded = 0;
        while (forwarded < batch) {
            for (std::size_t s = 0; s < 2; ++s) {
                rte_mbuf* pkts[32];
                const uint16_t n = rte_eth_rx_burst(ports[s], 0, pkts, 32);
                if (n == 0) continue;
                const uint16_t tx = rte_eth_tx_burst(ports[1 - s], 0, pkts, n);
                for (uint16_t k = tx; k < n; ++k)
                    rte_pktmbuf_free(pkts[k]);
                forwarded += n;
            }
        }
        const uint64_t t1 = rte_rdtsc();
        if (rig.sent(Side::Core, [](rte_mbuf*) {}) != batch) die("io forwarding lost packets");
        rig.take(batch, m.data());  // the same mbufs, frames untouched
        if (pass > 0) {             // the first pass is warm-up
            cycles += t1 - t0;
            done += batch;
        }
    }
    for (uint32_t k = 0; k < batch; ++k)
        rig.keep(m[k]);
    return ns_per(cycles, done);
}
EngineCost measure_engine(uint64_t packets) {
    constexpr std::size_t kBurst = 32, kRing = 4096, kStride = 256;
    srtp::Engine engine(srtp::ImbArch::Auto);
    engine.set_job_checks(false);
    auto tx = std::make_unique<srtp::Context>();
    auto rx = std::make_unique<srtp::Context>();
    init_context(*tx, engine);
    init_context(*rx, engine);
    AlignedBuffer ring(kRing * kStride), work(kBurst * kStride);
    srtp::PacketOp ops[kBurst];
    for (std::size_t base = 0; base < kRing; base += kBurst) {
        for (std::size_t i = 0; i < kBurst; ++i) {
            uint8_t* p = ring.p + (base + i) * kStride;
            write_rtp(p, static_cast<uint16_t>(1000 + base + i));
            ops[i] = {tx.get(), p, kRtpSize, kStride, srtp::Status::Ok};
        }
        srtp::protect_rtp(engine, ops);
    }
    EngineCost cost;
    uint64_t cycles = 0, done = 0, bad = 0;
    for (std::size_t pos = 0; done < packets; pos += kBurst) {
        if (pos + kBurst > kRing) {
            init_context(*rx, engine);  // forget the replay window
            pos = 0;
        }
        for (std::size_t i = 0; i < kBurst; ++i) {
            std::memcpy(work.p + i * kStride, ring.p + (pos + i) * kStride, kRtpSize + kTagLen);
            ops[i] = {rx.get(), work.p + i * kStride, kRtpSize + kTagLen, kStride,
                      srtp::Status::Ok};
        }
        const uint64_t t0 = rte_rdtsc();
        srtp::unprotect_rtp(engine, ops);
        cycles += rte_rdtsc() - t0;
        for (const auto& op : ops)
            bad += op.status != srtp::Status::Ok || op.len != kRtpSize;
        done += kBurst;
    }
    if (bad != 0) die(std::to_string(bad) + " packets failed the engine's unprotect bench");
    cost.unprotect_ns = ns_per(cycles, done);

    init_context(*tx, engine);
    for (std::size_t i = 0; i < kBurst; ++i)
        write_rtp(work.p + i * kStride, 0);
    cycles = done = 0;
    for (uint32_t seq = 1; done < packets;) {
        for (std::size_t i = 0; i < kBurst; ++i) {
            uint8_t* p = work.p + i * kStride;
            p[2] = static_cast<uint8_t>(seq >> 8);
            p[3] = static_cast<uint8_t>(seq++);
            ops[i] = {tx.get(), p, kRtpSize, kStride, srtp::Status::Ok};
        }
        const uint64_t t0 = rte_rdtsc();
        srtp::protect_rtp(engine, ops);
        cycles += rte_rdtsc() - t0;
        for (const auto& op : ops)
            bad += op.status != srtp::Status::Ok || op.len != kRtpSize + kTagLen;
        done += kBurst;
    }
    if (bad != 0) die(std::to_string(bad) + " packets failed the engine's protect bench");
    cost.protect_ns = ns_per(cycles, done);
    return cost;
}

}  // namespace isthmus::bench
