// rtpengine as a bench/capacity target: a minimal client of its ng control
// protocol (a cookie, a space and a bencoded dictionary per UDP datagram,
// to the daemon's --listen-ng) that sets each call up with `offer` and
// `answer` and ends it with `delete`.
//
// Per call: A (the browser side) offers `m=audio <A port> RTP/SAVP 0 8`
// with one SDES key of its own (a=crypto:1, RFC 4568); the flags ask
// rtpengine to offer B plain RTP/AVP (transport-protocol), without ICE or
// DTLS. B answers `m=audio <B port> RTP/AVP 0 8`; rtpengine's answer toward
// A carries its own a=crypto for what it sends A. The SDPs it returns give
// each side's gateway address and port.
//
// The bencode, SDES and SDP pieces are pure functions (no socket, no
// clock); NgClient is the UDP transport; RtpengineTarget ties them into a
// CallTarget. Bench code: main thread only; everything throws
// std::runtime_error with a message naming the call and the cause.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socket_load.hpp"

namespace isthmus::bench::capacity {

// A bencoded value (BitTorrent's encoding, as rtpengine uses it): integer,
// octet string, list or dictionary (keys in the order given).
struct Bencode {
    enum class Type : uint8_t { integer, string, list, dictionary };
    using Entry = std::pair<std::string, Bencode>;

    Type type = Type::string;
    int64_t integer = 0;
    std::string string;
    std::vector<Bencode> list;
    std::vector<Entry> dictionary;

    Bencode() = default;
    Bencode(const char* s) : string(s) {}             // NOLINT: implicit, for request literals
    Bencode(std::string s) : string(std::move(s)) {}  // NOLINT
    static Bencode number(int64_t v);
    static Bencode strings(std::initializer_list<const char*> items);
    static Bencode dict(std::vector<Entry> entries);

    // The value under `key` of a dictionary; nullptr when absent or not one.
    const Bencode* find(std::string_view key) const;
    // The string under `key`, or "" when absent or not a string.
    std::string_view text(std::string_view key) const;
};

std::string bencode_encode(const Bencode& v);
// Decodes one value that spans all of `in`; throws std::runtime_error
// ("bencode: ... at offset N") on anything malformed or nested deeper than 32.
Bencode bencode_decode(std::string_view in);

// RFC 4648 base64; encode leaves out the '=' padding (as rtpengine
// writes SDES keys); decode accepts it either way and returns nullopt on
// a character outside the alphabet.
std::string base64_encode(std::span<const uint8_t> in);
std::optional<std::vector<uint8_t>> base64_decode(std::string_view in);

// What the bench needs of one SDP's first audio stream.
struct SdpAudio {
    in_addr address{};  // media-level c=, else session-level
    uint16_t port = 0;
    std::string proto;              // "RTP/AVP", "RTP/SAVP", ...
    std::optional<SrtpKey> crypto;  // the first a=crypto of a suite we know
};
// Throws std::runtime_error when there is no audio m= line, no IPv4 c=
// line, or an a=crypto of a known suite whose key does not decode to its
// length.
SdpAudio parse_sdp_audio(std::string_view sdp);
// A's offer (`m=audio PORT RTP/SAVP 0 8`, a=crypto:1 with `key`) and B's
// answer (`m=audio PORT RTP/AVP 0 8`), both from `local`.
std::string sdes_offer_sdp(const sockaddr_in& local, const SrtpKey& key);
std::string plain_answer_sdp(const sockaddr_in& local);

struct NgOptions {
    int timeout_ms = 1000;  // per attempt
    int attempts = 3;       // the same datagram (same cookie: rtpengine answers a
                            // repeat from its cache, so a retry never acts twice)
};

// One UDP socket to rtpengine's --listen-ng; one command at a time.
class NgClient {
  public:
    // Throws if the socket cannot be made.
    NgClient(const sockaddr_in& server, NgOptions options);
    ~NgClient();
    NgClient(const NgClient&) = delete;
    NgClient& operator=(const NgClient&) = delete;

    // Sends `request` (a dictionary with "command") and returns the reply
    // dictionary. Throws when no reply came after options.attempts tries
    // ("no reply from 127.0.0.1:2223 to 'offer' after 3 x 1000 ms: is
    // rtpengine running with --listen-ng there?"), when the reply does not
    // decode, or when its result is not ok/pong ("rtpengine: 'offer'
    // failed: <error-reason>").
    Bencode call(const Bencode& request);
    const std::string& server() const { return server_text_; }

  private:
    int fd_ = -1;
    sockaddr_in server_{};
    std::string server_text_;
    NgOptions options_;
    std::string cookie_prefix_;
    uint64_t next_cookie_ = 0;
};

struct RtpengineOptions {
    sockaddr_in ng{};  // --listen-ng address
    SrtpSuite suite = SrtpSuite::aes_cm_128_hmac_sha1_80;
    // The ng `direction` (logical interfaces for A and B); empty: not sent.
    std::string interface_a = "a";
    std::string interface_b = "b";
    NgOptions ng_options;
};

class RtpengineTarget final : public CallTarget {
  public:
    explicit RtpengineTarget(const RtpengineOptions& options);
    std::string name() const override { return "rtpengine"; }
    void setup(std::span<CallPlan> calls) override;
    void teardown(std::span<const CallPlan> calls) override;

    // RTP packets rtpengine itself counted as received on the calls of the
    // last teardown (the "totals" of its delete replies); nullopt when a
    // reply had none.
    std::optional<uint64_t> rtp_packets_counted() const { return counted_; }

  private:
    std::string call_id(std::size_t i) const;
    void setup_one(std::size_t i, CallPlan& c);  // offer + answer; throws without the call's name

    RtpengineOptions options_;
    NgClient ng_;
    uint64_t generation_ = 0;  // call-ids differ from one setup to the next
    std::size_t set_up_ = 0;   // calls of the last setup that got an offer through
    std::optional<uint64_t> counted_;
};

}  // namespace isthmus::bench::capacity
