// One leg's DTLS-SRTP association (RFC 5763/5764), sans I/O: datagrams in,
// datagrams out, a state, the negotiated SRTP keys once it is up. OpenSSL
// DTLS 1.2 underneath, through a datagram BIO of our own (each record
// OpenSSL writes becomes one datagram of at most the configured MTU: a
// server flight is 4-5 datagrams; what it reads is exactly the datagram
// given to on_datagram).
//
// A Context holds what every association of a dataplane shares: the
// identity (one certificate per dataplane), the SSL_CTX and the timer
// settings. The peer's certificate is checked against the SHA-256
// fingerprint the control plane gave (a=fingerprint) inside the handshake:
// a mismatch aborts it with a bad_certificate alert before any key exists.
//
// Time: OpenSSL keeps the retransmission timer on its own clock
// (gettimeofday); timeout_us() says when on_timer() is due and the owner
// calls it then. Everything else is driven by the caller.
//
// Threads: a Context and its associations belong to the slow-path lcore.
// OpenSSL allocates; nothing here is on a worker's fast path.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dtls/identity.hpp"
#include "dtls/profile.hpp"

namespace isthmus::dtls {

struct ContextOptions {
    // Largest datagram sent (DTLS payload: IP and UDP headers excluded).
    // 1200 fits the IPv6 minimum MTU with room for tunnels, as browsers use.
    uint16_t mtu = 1200;
    // Handshake retransmission (RFC 6347 4.2.4.1): first timeout, doubled on
    // each retransmission up to the maximum.
    uint32_t initial_timeout_ms = 250;
    uint32_t max_timeout_ms = 4000;
};

class Context {
  public:
    // Throws std::runtime_error naming OpenSSL's error when the SSL_CTX
    // cannot be made (setup path).
    Context(const Identity& identity, ContextOptions options = {});
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    const Identity& identity() const { return identity_; }
    const ContextOptions& options() const { return options_; }
    SSL_CTX* ssl_ctx() const { return ctx_; }

  private:
    const Identity& identity_;
    ContextOptions options_;
    SSL_CTX* ctx_ = nullptr;
};

enum class Role : uint8_t {
    Passive,  // DTLS server (our a=setup:passive)
    Active,   // DTLS client (our a=setup:active)
};

enum class State : uint8_t {
    Handshaking,  // waiting for or running the handshake
    Up,           // keys negotiated (take_keys)
    Failed,       // handshake failed or a fatal alert arrived (reason())
    Closed,       // close_notify received or sent
};
std::string_view state_name(State s);

// What on_datagram did with a datagram.
enum class Input : uint8_t {
    Handshake,  // handshake progressed (or a retransmission was handled)
    AppData,    // application data (SCTP over DTLS, RFC 8261): in app_data()
    Refused,    // a new handshake (ClientHello) on an association already up
    Ignored,    // after Failed/Closed, or a record OpenSSL dropped
};

// The SRTP master keys of both directions (RFC 5764 4.2), wiped on destruction.
struct KeyMaterial {
    SrtpProfile profile{};
    uint8_t key_len = 0;
    uint8_t salt_len = 0;
    uint8_t local_key[32] = {};  // protects what we send
    uint8_t local_salt[14] = {};
    uint8_t remote_key[32] = {};  // checks what the peer sends
    uint8_t remote_salt[14] = {};
    void wipe();
    ~KeyMaterial() { wipe(); }
};

class Association {
  public:
    // `remote` is the fingerprint (SHA-256) the peer's certificate must have.
    // `srtp_required` false (a data-channel leg, SCTP only): a handshake
    // without a common use_srtp profile comes up too, without keys.
    // Throws std::bad_alloc / std::runtime_error when OpenSSL cannot make the
    // SSL object.
    Association(Context& ctx, Role role, const Fingerprint& remote, bool srtp_required = true);
    ~Association();
    Association(const Association&) = delete;
    Association& operator=(const Association&) = delete;

    // Active role: writes the ClientHello (output()). Passive: nothing.
    void start();
    // One received datagram (a DTLS datagram: first octet 20..63).
    Input on_datagram(std::span<const uint8_t> datagram);
    // Microseconds until on_timer() is due; nullopt when no timer runs.
    std::optional<uint64_t> timeout_us() const;
    // Retransmits the last flight if its timer expired; fails the handshake
    // after too many retransmissions (OpenSSL: 12).
    void on_timer();
    // Sends close_notify (the session is going away) and closes.
    void close();

    State state() const { return state_; }
    Role role() const { return role_; }
    // Why the association failed or closed ("fingerprint mismatch",
    // "alert: handshake failure", "close_notify", ...).
    const std::string& reason() const { return reason_; }
    // Once after the handshake: the keys, moved out (false if not up or
    // already taken).
    bool take_keys(KeyMaterial& out);
    // The negotiated profile's keys exported again (RFC 5764 4.2; the same
    // keys take_keys gave, or would have): for an association that starts
    // carrying SRTP after it came up (a DtlsSctp leg whose BUNDLE gained
    // media). False without a profile.
    bool export_keys(KeyMaterial& out) const;
    const std::optional<SrtpProfile>& profile() const { return profile_; }

    // Datagrams to send, oldest first; the caller sends and clears them.
    std::vector<std::vector<uint8_t>>& output() { return out_; }
    // Application data records the last on_datagram() read (each an SCTP
    // packet on a data-channel leg), oldest first; the caller takes and
    // clears them. At most what one datagram held.
    std::vector<std::vector<uint8_t>>& app_data() { return app_in_; }
    // Up: one application data record (an SCTP packet) into output().
    // False when not up, when `data` is empty or longer than a record
    // (16384 octets), or when OpenSSL refuses it.
    bool write_app_data(std::span<const uint8_t> data);

  private:
    friend struct BioGlue;
    friend struct VerifyGlue;
    void drive_handshake();
    void fail(std::string reason);
    void finish_handshake();

    Context& ctx_;
    Role role_;
    Fingerprint remote_;
    bool srtp_required_ = true;
    SSL* ssl_ = nullptr;
    State state_ = State::Handshaking;
    std::string reason_;
    std::optional<SrtpProfile> profile_;
    KeyMaterial keys_;
    bool keys_taken_ = false;
    bool fingerprint_mismatch_ = false;
    std::string alert_;  // last alert received ("handshake failure")
    std::span<const uint8_t> in_;
    std::vector<std::vector<uint8_t>> out_;
    std::vector<std::vector<uint8_t>> app_in_;
};

}  // namespace isthmus::dtls
