#include "pcscf/core_flow_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace isthmus::pcscf {

namespace {

constexpr std::string_view kLabel = "isthmus-flow-token";
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kRawBytes = 8 + 8 + kMacBytes;  // 32 -> 43 base64url characters

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

using Raw = std::array<uint8_t, kRawBytes>;

void put_u64(uint8_t* out, uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<uint8_t>(v & 0xff);
        v >>= 8;
    }
}

uint64_t get_u64(const uint8_t* in) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v = (v << 8) | in[i];
    return v;
}

// HMAC-SHA-256 over label || epoch || flow (the first 16 octets of `raw`),
// truncated to kMacBytes.
std::array<uint8_t, kMacBytes> mac_of(const std::string& key, const uint8_t* epoch_and_flow) {
    std::array<uint8_t, kLabel.size() + 16> input{};
    std::copy(kLabel.begin(), kLabel.end(), input.begin());
    std::copy(epoch_and_flow, epoch_and_flow + 16, input.begin() + kLabel.size());
    std::array<uint8_t, EVP_MAX_MD_SIZE> full{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), input.data(), input.size(),
         full.data(), &len);
    std::array<uint8_t, kMacBytes> out{};
    std::copy(full.begin(), full.begin() + kMacBytes, out.begin());
    return out;
}

int decode_char(char c) {
    const auto pos = kAlphabet.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

}  // namespace

FlowTokenCodec::FlowTokenCodec(std::string key, uint64_t epoch)
    : key_(std::move(key)), epoch_(epoch) {
    if (key_.size() < kMinKeyBytes) {
        throw std::invalid_argument("pcscf: flow_token_key must be at least 16 octets");
    }
}

std::string FlowTokenCodec::make(uint64_t flow) const {
    Raw raw{};
    put_u64(raw.data(), epoch_);
    put_u64(raw.data() + 8, flow);
    const auto mac = mac_of(key_, raw.data());
    std::copy(mac.begin(), mac.end(), raw.begin() + 16);
    // base64url, no padding: 32 octets = 10 groups of 3 and 2 left over.
    std::string out;
    out.reserve(kTokenChars);
    std::size_t i = 0;
    for (; i + 3 <= raw.size(); i += 3) {
        const uint32_t v = (uint32_t{raw[i]} << 16) | (uint32_t{raw[i + 1]} << 8) | raw[i + 2];
        for (int shift = 18; shift >= 0; shift -= 6)
            out.push_back(kAlphabet[(v >> shift) & 0x3f]);
    }
    const uint32_t v = (uint32_t{raw[i]} << 16) | (uint32_t{raw[i + 1]} << 8);
    for (int shift = 18; shift >= 6; shift -= 6)
        out.push_back(kAlphabet[(v >> shift) & 0x3f]);
    return out;
}

TokenResult FlowTokenCodec::check(std::string_view token) const {
    TokenResult out;
    if (token.size() != kTokenChars) return out;
    Raw raw{};
    std::size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : token) {
        const int d = decode_char(c);
        if (d < 0) return out;
        acc = (acc << 6) | static_cast<uint32_t>(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[o++] = static_cast<uint8_t>((acc >> bits) & 0xff);
        }
    }
    // 43 characters carry 258 bits: the last 2 must be zero (canonical form).
    if (o != raw.size() || (acc & ((1u << bits) - 1)) != 0) return out;
    const auto mac = mac_of(key_, raw.data());
    if (CRYPTO_memcmp(mac.data(), raw.data() + 16, kMacBytes) != 0) return out;
    if (get_u64(raw.data()) != epoch_) {
        out.check = TokenCheck::Stale;
        return out;
    }
    out.check = TokenCheck::Valid;
    out.flow = get_u64(raw.data() + 8);
    return out;
}

}  // namespace isthmus::pcscf
