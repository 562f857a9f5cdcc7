// stun_bench: the ICE-lite responder on one core: STUN Binding requests in,
// responses (or drops) out, one message per call as the worker sees them.
//   build/bench/stun_bench --benchmark_min_time=0.5
//
// Requests look like a browser's (USERNAME of 4+1+4 octets, PRIORITY,
// ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT: 100
// octets, the same transaction id each time); every result is checked, a
// bench whose messages do not all get the expected verdict reports an error.
// Reported: ns_per_msg and Mpps (= items_per_second / 1e6).
//   answer/success_ipv4|ipv6  authenticated check -> success response
//   answer/success_in_place   the same, written over the request
//   answer/bad_integrity      wrong password -> 401 (a flood of forged checks)
//   answer/bad_fingerprint    dropped after the CRC (a flood of garbage)
//   parse                     parse_message alone
//   verify_integrity          HMAC-SHA1 of the request alone
//   crc32/100                 the FINGERPRINT CRC of 100 octets alone
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "ice/binding.hpp"
#include "ice/fingerprint.hpp"
#include "ice/integrity.hpp"
#include "ice/stun.hpp"
#include "ice/writer.hpp"

namespace {

using namespace isthmus::ice;

constexpr std::string_view kLocalUfrag = "lite";
constexpr std::string_view kRemoteUfrag = "brws";
constexpr std::string_view kPassword = "0123456789abcdefghijkl";  // 22 ice-chars

std::vector<uint8_t> browser_check(std::string_view password) {
    const uint8_t txid[kTransactionIdLen] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    std::vector<uint8_t> buf(256);
    MessageWriter w(buf.data(), buf.size(), message_type(kMethodBinding, MessageClass::Request),
                    txid);
    w.add_text(attr::kUsername, "lite:brws");
    w.add_u32(attr::kPriority, 0x6e0001ff);
    w.add_u64(attr::kIceControlling, 0x0102030405060708ULL);
    w.add(attr::kUseCandidate, nullptr, 0);
    w.add_message_integrity(IntegrityKey::short_term(password));
    w.add_fingerprint();
    buf.resize(w.finish());
    return buf;
}

TransportAddress source(uint8_t family) {
    TransportAddress a;
    a.family = family;
    a.port = 50000;
    a.addr[0] = family == 4 ? 198 : 0x20;
    a.addr[1] = family == 4 ? 18 : 0x01;
    a.addr[15] = 7;
    return a;
}

void report(benchmark::State& state, uint64_t wrong) {
    if (wrong != 0) state.SkipWithError("a message got an unexpected verdict");
    state.SetItemsProcessed(state.iterations());
    state.counters["ns_per_msg"] =
        benchmark::Counter(static_cast<double>(state.iterations()),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void run_answer(benchmark::State& state, const std::vector<uint8_t>& request, uint8_t family,
                Verdict expected, bool in_place) {
    const BindingCredentials cred{kLocalUfrag, kRemoteUfrag, IntegrityKey::short_term(kPassword)};
    const TransportAddress src = source(family);
    alignas(64) uint8_t buf[512];
    alignas(64) uint8_t out[kMaxResponseLen];
    uint64_t wrong = 0;
    for (auto _ : state) {
        BindingResult r;
        if (in_place) {
            std::memcpy(buf, request.data(), request.size());  // as a fresh mbuf would hold it
            r = answer_binding(buf, request.size(), src, cred, buf, sizeof buf);
        } else {
            r = answer_binding(request.data(), request.size(), src, cred, out, sizeof out);
        }
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
        wrong += r.verdict != expected;
    }
    report(state, wrong);
}

void BM_success_ipv4(benchmark::State& s) {
    run_answer(s, browser_check(kPassword), 4, Verdict::Ok, false);
}
void BM_success_ipv6(benchmark::State& s) {
    run_answer(s, browser_check(kPassword), 6, Verdict::Ok, false);
}
void BM_success_in_place(benchmark::State& s) {
    run_answer(s, browser_check(kPassword), 4, Verdict::Ok, true);
}
void BM_bad_integrity(benchmark::State& s) {
    run_answer(s, browser_check("not-the-password-at-al"), 4, Verdict::BadIntegrity, false);
}
void BM_bad_fingerprint(benchmark::State& s) {
    auto m = browser_check(kPassword);
    m.back() ^= 1;
    run_answer(s, m, 4, Verdict::BadFingerprint, false);
}

void BM_parse(benchmark::State& state) {
    const auto m = browser_check(kPassword);
    uint64_t wrong = 0;
    for (auto _ : state) {
        Message msg;
        wrong += parse_message(m.data(), m.size(), msg) != Verdict::Ok;
        benchmark::DoNotOptimize(msg);
    }
    report(state, wrong);
}

void BM_verify_integrity(benchmark::State& state) {
    const auto m = browser_check(kPassword);
    const IntegrityKey key = IntegrityKey::short_term(kPassword);
    Message msg;
    parse_message(m.data(), m.size(), msg);
    uint64_t wrong = 0;
    for (auto _ : state) {
        wrong += !verify_integrity(m.data(), msg, key);
        benchmark::ClobberMemory();
    }
    report(state, wrong);
}

void BM_crc32(benchmark::State& state) {
    const auto m = browser_check(kPassword);
    for (auto _ : state)
        benchmark::DoNotOptimize(crc32(m.data(), m.size()));
    report(state, 0);
}

BENCHMARK(BM_success_ipv4)->Name("answer/success_ipv4");
BENCHMARK(BM_success_ipv6)->Name("answer/success_ipv6");
BENCHMARK(BM_success_in_place)->Name("answer/success_in_place");
BENCHMARK(BM_bad_integrity)->Name("answer/bad_integrity");
BENCHMARK(BM_bad_fingerprint)->Name("answer/bad_fingerprint");
BENCHMARK(BM_parse)->Name("parse");
BENCHMARK(BM_verify_integrity)->Name("verify_integrity");
BENCHMARK(BM_crc32)->Name("crc32/100");

}  // namespace

BENCHMARK_MAIN();
