// RFC 5626 flow tokens (5.2, 5.3): the user part of the Path URI (and of
// the W2 Record-Route URI) that names the WebSocket flow a browser reached
// us on, so that a request the IMS sends back along the Path can be sent
// down exactly that flow. The token is protected by an HMAC with a key from
// the configuration: nobody without the key can make one that names a flow
// (RFC 5626 5.2: "the token MUST NOT be guessable").
//
//   token = base64url( epoch(8) || flow(8) || mac(16) ), 43 characters
//   mac   = HMAC-SHA-256(key, "isthmus-flow-token" || epoch || flow)[0..16)
//
// (integers big-endian; base64url without padding: RFC 4648 5, every
// character unreserved in a SIP URI's user part, RFC 3261 25.1.)
//
// `epoch` is drawn once per core (a random number): a token minted by an
// earlier run with the same key checks as Stale, because the flow it names
// died with that run (430 Flow Failed, not 403). Flow ids are the
// transports' connection ids, unique for a run (flow.hpp).
//
// Thread-safety: const members from any thread; HMAC via OpenSSL's one-shot
// HMAC(), which keeps no state between calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace isthmus::pcscf {

enum class TokenCheck : uint8_t {
    Valid,    // made by this core: `flow` is the flow it names
    Stale,    // made with this key by another epoch (an earlier run): 430
    Invalid,  // not a token, or its MAC does not verify (forged, truncated): 403
};

struct TokenResult {
    TokenCheck check = TokenCheck::Invalid;
    uint64_t flow = 0;  // Valid only
};

class FlowTokenCodec {
  public:
    static constexpr std::size_t kMinKeyBytes = 16;
    static constexpr std::size_t kTokenChars = 43;

    // Throws std::invalid_argument when the key is shorter than kMinKeyBytes.
    FlowTokenCodec(std::string key, uint64_t epoch);

    // The token naming `flow` (kTokenChars characters of [A-Za-z0-9_-]).
    std::string make(uint64_t flow) const;
    // What `token` is; any length and any octets (escapes, if the token came
    // from a URI, must already be decoded). Constant-time MAC comparison.
    TokenResult check(std::string_view token) const;

    uint64_t epoch() const { return epoch_; }

  private:
    std::string key_;
    uint64_t epoch_;
};

}  // namespace isthmus::pcscf
