// dtls_bench: DTLS-SRTP handshakes per second on one core, the gateway's
// side only (issue 5: at least 6,000 per slow-path core).
//
//   taskset -c 1 build/bench/dtls_bench [--handshakes 2000] [--rounds 4]
//       [--mode all|passive|active|floor] [--json FILE]
//
// Both ends run in this process, on this thread. The far end is a browser
// written straight on OpenSSL with memory BIOs: one SSL_CTX and one P-256
// certificate for every handshake (one browser), a fresh SSL per handshake,
// use_srtp offering SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80, groups
// X25519, P-256, P-384. Its flights are cut into datagrams of whole records,
// at most 1200 octets, as its UDP socket would send them. The clock
// (steady_clock) is split: "gateway" adds up only the time inside the
// gateway's calls (constructor, start, on_datagram, output, take_keys,
// destructor), "browser" the browser's; "whole loop" is the wall time.
//
//   passive  isthmus::dtls::Association, Role::Passive (the common case: the
//            browser is the DTLS client), all on one Context
//   active   the same with Role::Active against an OpenSSL server
//   openssl  the reference, in each mode: a plain OpenSSL DTLS endpoint on
//            an SSL_CTX set up as Context's (certificate, ciphers, groups,
//            use_srtp, options) with a verify callback that accepts and no
//            fingerprint check; SSL_new and two memory BIOs per handshake,
//            the RFC 5764 key export at the end
//   floor    with EVP, the public-key work one handshake needs on the
//            gateway's side: one ECDSA P-256 sign (ServerKeyExchange, or
//            CertificateVerify when active), one verify (the browser's), one
//            ECDHE keygen and one derive, for X25519 and for P-256. "as
//            libssl" makes its contexts per operation as libssl 3.0 does
//            (and takes the peer's point in, checks included); "reused"
//            keeps them, as `openssl speed` does. Also d2i_X509 of the
//            browser's certificate, which libssl does once per handshake.
//
// Modes run interleaved in rounds (H/rounds handshakes each per round) so
// that ours and the reference share the host's noise; a few untimed
// handshakes warm each one up. Every handshake is checked: the gateway up,
// keys taken and equal to what the browser exports (RFC 5764 4.2), the
// browser done. A failure is counted and printed and makes the exit status 1.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dtls/association.hpp"
#include "dtls/identity.hpp"
#include "dtls/profile.hpp"

namespace {

using namespace isthmus::dtls;
using Clock = std::chrono::steady_clock;
using Datagrams = std::vector<std::vector<uint8_t>>;

constexpr uint16_t kMtu = 1200;
constexpr char kBrowserProfiles[] = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
constexpr double kGoalPerSecond = 6000;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "dtls_bench: %s: %s\n", what.c_str(), openssl_errors().c_str());
    std::exit(1);
}

double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

// Adds the time from its scope()'s making to its end to a total.
struct Meter {
    Clock::duration total{};
    struct Scope {
        Meter& meter;
        Clock::time_point start = Clock::now();
        ~Scope() { meter.total += Clock::now() - start; }
    };
    Scope scope() { return Scope{*this}; }
};

int accept_any(int, X509_STORE_CTX*) {
    return 1;
}

// The browser: one context for every handshake, either role.
SSL_CTX* browser_ctx(const Identity& id) {
    SSL_CTX* ctx = SSL_CTX_new(DTLS_method());
    if (ctx == nullptr || SSL_CTX_use_certificate(ctx, id.certificate()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, id.key()) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1 ||
        SSL_CTX_set_tlsext_use_srtp(ctx, kBrowserProfiles) != 0)  // 0 on success
        die("browser SSL_CTX");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

// The reference: Context's settings (dataplane/dtls/association.cpp) on
// plain OpenSSL, without the fingerprint check.
SSL_CTX* reference_ctx(const Identity& id) {
    SSL_CTX* ctx = SSL_CTX_new(DTLS_method());
    if (ctx == nullptr || SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate(ctx, id.certificate()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, id.key()) != 1 ||
        SSL_CTX_set_cipher_list(ctx,
                                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:"
                                "ECDHE-ECDSA-AES256-SHA") != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1 ||
        SSL_CTX_set_tlsext_use_srtp(ctx, std::string(kSrtpProfileList).c_str()) != 0)
        die("reference SSL_CTX");
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
    return ctx;
}

// One OpenSSL DTLS endpoint on memory BIOs.
class MemEndpoint {
  public:
    MemEndpoint(SSL_CTX* ctx, bool client)
        : ssl_(SSL_new(ctx)), rbio_(BIO_new(BIO_s_mem())), wbio_(BIO_new(BIO_s_mem())) {
        if (ssl_ == nullptr || rbio_ == nullptr || wbio_ == nullptr) die("SSL_new / BIO_new");
        BIO_set_mem_eof_return(rbio_, -1);
        SSL_set_bio(ssl_, rbio_, wbio_);
        SSL_set_mtu(ssl_, kMtu);
        if (client)
            SSL_set_connect_state(ssl_);
        else
            SSL_set_accept_state(ssl_);
    }
    ~MemEndpoint() { SSL_free(ssl_); }
    MemEndpoint(const MemEndpoint&) = delete;
    MemEndpoint& operator=(const MemEndpoint&) = delete;

    // Drives the handshake: 1 done, 0 in progress, -1 failed.
    int step() {
        const int r = SSL_do_handshake(ssl_);
        if (r == 1) return 1;
        const int e = SSL_get_error(ssl_, r);
        ERR_clear_error();
        return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
    }
    void feed(std::span<const uint8_t> d) {
        BIO_write(rbio_, d.data(), static_cast<int>(d.size()));
    }
    // What it wrote, as datagrams of whole records of at most kMtu octets
    // (a larger record goes alone). RFC 6347 4.1: 13-octet record header.
    void drain(Datagrams& out) {
        const auto pending = static_cast<std::size_t>(BIO_ctrl_pending(wbio_));
        if (pending == 0) return;
        buf_.resize(pending);
        BIO_read(wbio_, buf_.data(), static_cast<int>(pending));
        for (std::size_t at = 0, end = 0; at < pending; at = end) {
            while (end + 13 <= pending) {
                const std::size_t rec = 13 + (std::size_t{buf_[end + 11]} << 8 | buf_[end + 12]);
                if (end != at && end + rec - at > kMtu) break;
                end = std::min(end + rec, pending);
            }
            if (end == at) end = pending;  // a torn header: passed on as it is
            out.emplace_back(buf_.data() + at, buf_.data() + end);
        }
    }
    // RFC 5764 4.2: client key | server key | client salt | server salt.
    bool export_srtp(uint8_t* out, std::size_t len) {
        static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";
        return SSL_export_keying_material(ssl_, out, len, kLabel, sizeof kLabel - 1, nullptr, 0,
                                          0) == 1;
    }
    SSL* ssl() const { return ssl_; }

  private:
    SSL* ssl_;
    BIO* rbio_;
    BIO* wbio_;
    std::vector<uint8_t> buf_;
};

// What the browser exports for the profile it agreed on (empty: nothing).
std::vector<uint8_t> browser_material(MemEndpoint& b, std::size_t& key_len) {
    const SRTP_PROTECTION_PROFILE* sp = SSL_get_selected_srtp_profile(b.ssl());
    const auto prof = sp != nullptr ? profile_by_id(sp->id) : std::nullopt;
    if (!prof) return {};
    const isthmus::srtp::SuiteInfo info = isthmus::srtp::suite_info(prof->suite);
    key_len = static_cast<std::size_t>(info.master_key_len);
    std::vector<uint8_t> m(2 *
                           static_cast<std::size_t>(info.master_key_len + info.master_salt_len));
    if (!b.export_srtp(m.data(), m.size())) m.clear();
    return m;
}

// The gateway through our Association.
class OursGateway {
  public:
    OursGateway(Context& ctx, Role role, const Fingerprint& browser)
        : ctx_(ctx), role_(role), browser_(browser) {}
    void begin() { a_.emplace(ctx_, role_, browser_); }
    void start() { a_->start(); }
    void input(std::span<const uint8_t> d) { a_->on_datagram(d); }
    void output(Datagrams& out) { std::swap(out, a_->output()); }
    bool finish() { return a_->take_keys(km_); }
    void end() { a_.reset(); }
    std::string why() const { return std::string(state_name(a_->state())) + " " + a_->reason(); }
    // The keys as the browser has them, ours local being its remote.
    bool agrees(MemEndpoint& b) const {
        std::size_t k = 0;
        const auto m = browser_material(b, k);
        const std::size_t s = km_.salt_len;
        if (m.empty() || k != km_.key_len || m.size() != 2 * (k + s)) return false;
        const bool client = role_ == Role::Active;
        const uint8_t *ck = m.data(), *sk = ck + k, *cs = ck + 2 * k, *ss = cs + s;
        return std::memcmp(km_.local_key, client ? ck : sk, k) == 0 &&
               std::memcmp(km_.remote_key, client ? sk : ck, k) == 0 &&
               std::memcmp(km_.local_salt, client ? cs : ss, s) == 0 &&
               std::memcmp(km_.remote_salt, client ? ss : cs, s) == 0;
    }

  private:
    Context& ctx_;
    Role role_;
    Fingerprint browser_;
    std::optional<Association> a_;
    KeyMaterial km_;
};

// The gateway on plain OpenSSL, exporting the same key material at the end.
class ReferenceGateway {
  public:
    ReferenceGateway(SSL_CTX* ctx, Role role) : ctx_(ctx), role_(role) {}
    void begin() {
        e_.emplace(ctx_, role_ == Role::Active);
        done_ = 0;
    }
    void start() {
        if (role_ == Role::Active) done_ = e_->step();
    }
    void input(std::span<const uint8_t> d) {
        e_->feed(d);
        if (done_ == 0) done_ = e_->step();
    }
    void output(Datagrams& out) { e_->drain(out); }
    bool finish() {
        const SRTP_PROTECTION_PROFILE* sp = SSL_get_selected_srtp_profile(e_->ssl());
        const auto prof = sp != nullptr ? profile_by_id(sp->id) : std::nullopt;
        if (done_ != 1 || !prof) return false;
        const isthmus::srtp::SuiteInfo info = isthmus::srtp::suite_info(prof->suite);
        material_len_ = 2 * static_cast<std::size_t>(info.master_key_len + info.master_salt_len);
        return e_->export_srtp(material_, material_len_);
    }
    void end() { e_.reset(); }
    std::string why() const { return done_ == -1 ? "failed" : "not done"; }
    bool agrees(MemEndpoint& b) const {
        std::size_t k = 0;
        const auto m = browser_material(b, k);
        return m.size() == material_len_ && std::memcmp(m.data(), material_, m.size()) == 0;
    }

  private:
    SSL_CTX* ctx_;
    Role role_;
    std::optional<MemEndpoint> e_;
    int done_ = 0;
    uint8_t material_[2 * (32 + 14)] = {};
    std::size_t material_len_ = 0;
};

struct Row {
    Row(std::string m, std::string i) : mode(std::move(m)), impl(std::move(i)) {}
    std::string mode;  // passive, active
    std::string impl;  // isthmus, openssl
    uint64_t handshakes = 0, failed = 0;
    Clock::duration gateway{}, browser{}, loop{};
    std::string group, cipher, profile;  // as the browser saw them
    double per_s() const { return static_cast<double>(handshakes) / seconds(gateway); }
    double us() const { return seconds(gateway) * 1e6 / static_cast<double>(handshakes); }
    double browser_us() const { return seconds(browser) * 1e6 / static_cast<double>(handshakes); }
    double loop_per_s() const { return static_cast<double>(handshakes) / seconds(loop); }
};

// `n` handshakes of `gw` against fresh browsers; into `row`'s times if `timed`.
template <class Gateway>
void run(Gateway& gw, Role role, SSL_CTX* browser, uint64_t n, bool timed, Row& row) {
    Meter ours, theirs;
    Datagrams to_browser, to_gateway;
    const auto loop_start = Clock::now();
    for (uint64_t i = 0; i < n; ++i) {
        std::optional<MemEndpoint> b;
        {
            auto t = theirs.scope();
            b.emplace(browser, role == Role::Passive);
        }
        {
            auto t = ours.scope();
            gw.begin();
            gw.start();
        }
        int br = 0;
        for (int round = 0; round < 16; ++round) {
            to_browser.clear();
            to_gateway.clear();
            {
                auto t = ours.scope();
                gw.output(to_browser);
            }
            {
                auto t = theirs.scope();
                for (const auto& d : to_browser)
                    b->feed(d);
                if (br == 0) br = b->step();
                b->drain(to_gateway);
            }
            for (const auto& d : to_gateway) {
                auto t = ours.scope();
                gw.input(d);
            }
            if (to_browser.empty() && to_gateway.empty() && br != 0) break;
        }
        bool up = false;
        {
            auto t = ours.scope();
            up = gw.finish();
        }
        const bool ok = up && br == 1 && gw.agrees(*b);
        if (!ok && ++row.failed <= 3)
            std::fprintf(stderr,
                         "dtls_bench: %s/%s handshake %llu failed: gateway %s, browser %d%s\n",
                         row.mode.c_str(), row.impl.c_str(), static_cast<unsigned long long>(i),
                         gw.why().c_str(), br, up ? ", keys differ" : "");
        if (ok && row.group.empty()) {
            SSL* s = b->ssl();
            const char* g = SSL_group_to_name(s, static_cast<int>(SSL_get_negotiated_group(s)));
            row.group = g != nullptr ? g : "?";
            row.cipher = SSL_get_cipher_name(s);
            row.profile = SSL_get_selected_srtp_profile(s)->name;
        }
        {
            auto t = ours.scope();
            gw.end();
        }
        {
            auto t = theirs.scope();
            b.reset();
        }
    }
    const auto loop = Clock::now() - loop_start;
    if (!timed) return;
    row.handshakes += n;
    row.gateway += ours.total;
    row.browser += theirs.total;
    row.loop += loop;
}

// --- the floor ----------------------------------------------------------

struct FloorOp {
    std::string name;
    double as_libssl_us = 0;  // contexts made per operation, as libssl 3.0 does
    double reused_us = 0;     // contexts kept, as `openssl speed` does
};

template <class F>
double us_per_op(uint64_t n, F&& op) {
    for (uint64_t i = 0; i < std::min<uint64_t>(n / 10 + 1, 50); ++i)
        if (!op()) die("floor warm-up");
    const auto t0 = Clock::now();
    for (uint64_t i = 0; i < n; ++i)
        if (!op()) die("floor operation");
    return seconds(Clock::now() - t0) * 1e6 / static_cast<double>(n);
}

struct Group {
    const char* name;       // as SSL_group_to_name says it
    const char* algorithm;  // EVP_PKEY algorithm
    const char* realname;   // for EVP_PKEY_CTX_set_group_name
};
constexpr Group kGroups[] = {{"x25519", "X25519", "x25519"}, {"secp256r1", "EC", "prime256v1"}};

// A key pair (keygen) or, as libssl takes the peer's point in, the group's
// parameters with `point` set; nullptr on failure.
EVP_PKEY* make_key(const Group& g, const std::vector<uint8_t>* point = nullptr) {
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_name(nullptr, g.algorithm, nullptr);
    EVP_PKEY* k = nullptr;
    const bool ok =
        c != nullptr && (point ? EVP_PKEY_paramgen_init(c) : EVP_PKEY_keygen_init(c)) > 0 &&
        EVP_PKEY_CTX_set_group_name(c, g.realname) > 0 &&
        (point ? EVP_PKEY_paramgen(c, &k) : EVP_PKEY_keygen(c, &k)) > 0 &&
        (!point || EVP_PKEY_set1_encoded_public_key(k, point->data(), point->size()) == 1);
    EVP_PKEY_CTX_free(c);
    if (!ok) EVP_PKEY_free(k);
    return ok ? k : nullptr;
}

// One signature (sig == nullptr: sign into a scratch buffer) or verification
// with a fresh EVP_MD_CTX, as libssl does.
bool sign_or_verify(EVP_PKEY* key, const std::vector<uint8_t>& msg, uint8_t* sig,
                    std::size_t& sig_len, bool verify) {
    EVP_MD_CTX* m = EVP_MD_CTX_new();
    const bool ok =
        m != nullptr &&
        (verify
             ? EVP_DigestVerifyInit_ex(m, nullptr, "SHA256", nullptr, nullptr, key, nullptr) == 1 &&
                   EVP_DigestVerify(m, sig, sig_len, msg.data(), msg.size()) == 1
             : EVP_DigestSignInit_ex(m, nullptr, "SHA256", nullptr, nullptr, key, nullptr) == 1 &&
                   EVP_DigestSign(m, sig, &sig_len, msg.data(), msg.size()) == 1);
    EVP_MD_CTX_free(m);
    return ok;
}

std::vector<FloorOp> measure_floor(const Identity& gateway, const Identity& browser, uint64_t n) {
    // ServerKeyExchange signs client_random | server_random | params (~130
    // octets); CertificateVerify signs the transcript (~1.4 KB here).
    const std::vector<uint8_t> ske(133, 0x5a), transcript(1400, 0xa5);
    EVP_PKEY* their = X509_get0_pubkey(browser.certificate());
    uint8_t sig[80], digest[32], scratch[80];
    std::size_t sig_len = sizeof sig, scratch_len = sizeof scratch;
    unsigned int dlen = 0;
    if (!sign_or_verify(browser.key(), transcript, sig, sig_len, false) ||
        EVP_Digest(transcript.data(), transcript.size(), digest, &dlen, EVP_sha256(), nullptr) != 1)
        die("the browser's signature");
    EVP_PKEY_CTX* sc = EVP_PKEY_CTX_new(gateway.key(), nullptr);
    EVP_PKEY_CTX* vc = EVP_PKEY_CTX_new(their, nullptr);
    if (sc == nullptr || vc == nullptr || EVP_PKEY_sign_init(sc) <= 0 ||
        EVP_PKEY_verify_init(vc) <= 0)
        die("sign / verify contexts");
    std::vector<FloorOp> ops;
    ops.push_back({"ecdsa-p256 sign",
                   us_per_op(n,
                             [&] {
                                 scratch_len = sizeof scratch;
                                 return sign_or_verify(gateway.key(), ske, scratch, scratch_len,
                                                       false);
                             }),
                   us_per_op(n, [&] {
                       scratch_len = sizeof scratch;
                       return EVP_PKEY_sign(sc, scratch, &scratch_len, digest, dlen) > 0;
                   })});
    ops.push_back(
        {"ecdsa-p256 verify",
         us_per_op(n, [&] { return sign_or_verify(their, transcript, sig, sig_len, true); }),
         us_per_op(n, [&] { return EVP_PKEY_verify(vc, sig, sig_len, digest, dlen) == 1; })});
    EVP_PKEY_CTX_free(sc);
    EVP_PKEY_CTX_free(vc);

    for (const Group& g : kGroups) {
        EVP_PKEY_CTX* gc = EVP_PKEY_CTX_new_from_name(nullptr, g.algorithm, nullptr);
        if (gc == nullptr || EVP_PKEY_keygen_init(gc) <= 0 ||
            EVP_PKEY_CTX_set_group_name(gc, g.realname) <= 0)
            die("keygen context");
        auto keygen_once = [](EVP_PKEY* k) {
            EVP_PKEY_free(k);
            return k != nullptr;
        };
        ops.push_back({std::string(g.name) + " keygen",
                       us_per_op(n, [&] { return keygen_once(make_key(g)); }), us_per_op(n, [&] {
                           EVP_PKEY* k = nullptr;
                           return EVP_PKEY_keygen(gc, &k) > 0 && keygen_once(k);
                       })});
        EVP_PKEY_CTX_free(gc);

        // derive: the peer's point taken in (and checked), the shared secret.
        EVP_PKEY* mine = make_key(g);
        EVP_PKEY* theirs = make_key(g);
        uint8_t* enc = nullptr;
        const std::size_t enc_len = theirs ? EVP_PKEY_get1_encoded_public_key(theirs, &enc) : 0;
        if (mine == nullptr || enc_len == 0) die("ECDHE keys");
        const std::vector<uint8_t> point(enc, enc + enc_len);
        OPENSSL_free(enc);
        EVP_PKEY_CTX* dc = EVP_PKEY_CTX_new(mine, nullptr);
        if (dc == nullptr || EVP_PKEY_derive_init(dc) <= 0 ||
            EVP_PKEY_derive_set_peer(dc, theirs) <= 0)
            die("derive context");
        uint8_t secret[66];
        std::size_t len = 0;
        ops.push_back({std::string(g.name) + " derive",
                       us_per_op(n,
                                 [&] {
                                     EVP_PKEY* pub = make_key(g, &point);
                                     EVP_PKEY_CTX* c =
                                         EVP_PKEY_CTX_new_from_pkey(nullptr, mine, nullptr);
                                     len = sizeof secret;
                                     const bool ok = pub != nullptr && c != nullptr &&
                                                     EVP_PKEY_derive_init(c) > 0 &&
                                                     EVP_PKEY_derive_set_peer(c, pub) > 0 &&
                                                     EVP_PKEY_derive(c, secret, &len) > 0;
                                     EVP_PKEY_CTX_free(c);
                                     EVP_PKEY_free(pub);
                                     return ok;
                                 }),
                       us_per_op(n, [&] {
                           len = sizeof secret;
                           return EVP_PKEY_derive(dc, secret, &len) > 0;
                       })});
        EVP_PKEY_CTX_free(dc);
        EVP_PKEY_free(mine);
        EVP_PKEY_free(theirs);
    }

    // Not arithmetic, but libssl parses the browser's certificate once per
    // handshake and OpenSSL 3.0 decodes its key through OSSL_DECODER.
    unsigned char* der = nullptr;
    const int der_len = i2d_X509(browser.certificate(), &der);
    if (der_len <= 0) die("i2d_X509");
    const double parse = us_per_op(n, [&] {
        const unsigned char* p = der;
        X509* x = d2i_X509(nullptr, &p, der_len);
        X509_free(x);
        return x != nullptr;
    });
    OPENSSL_free(der);
    ops.push_back({"d2i_X509 (browser certificate)", parse, parse});
    return ops;
}

struct Floor {
    std::string group;
    double as_libssl_us = 0, reused_us = 0;  // sign + verify + keygen + derive
};

Floor floor_of(const std::vector<FloorOp>& ops, const std::string& group) {
    Floor f{group};
    for (const auto& o : ops)
        if (o.name.starts_with("ecdsa") || o.name.starts_with(group + " ")) {
            f.as_libssl_us += o.as_libssl_us;
            f.reused_us += o.reused_us;
        }
    return f;
}

// One result as `key=value ...` (printed unless `quiet`) and as a JSON object.
struct Line {
    explicit Line(bool json_only = false) : quiet(json_only) {}
    bool quiet;
    std::string text = "dtls_bench", json;
    Line& add(const char* key, const std::string& v, bool json_only = false) {
        if (!json_only) text += std::string(" ") + key + "=" + v;
        json += (json.empty() ? "{\"" : ", \"") + std::string(key) + "\": \"" + v + "\"";
        return *this;
    }
    Line& add(const char* key, double v, int decimals = 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
        text += std::string(" ") + key + "=" + buf;
        json += (json.empty() ? "{\"" : ", \"") + std::string(key) + "\": " + buf;
        return *this;
    }
};

// The tables on stdout, then one line per result; the same lines to `lines`.
void report(const std::vector<Row>& rows, const std::vector<FloorOp>& ops,
            const std::vector<Floor>& floors, std::vector<Line>& lines) {
    if (!rows.empty())
        std::printf(
            "| mode | gateway | failed | group | cipher | SRTP profile | gateway µs/hs | "
            "gateway hs/s | of 6,000 | browser µs/hs | whole loop hs/s |\n"
            "|---|---|---:|---|---|---|---:|---:|---:|---:|---:|\n");
    for (const Row& r : rows) {
        std::printf("| %s | %s | %llu | %s | %s | %s | %.1f | %.0f | %.0f%% | %.1f | %.0f |\n",
                    r.mode.c_str(), r.impl.c_str(), static_cast<unsigned long long>(r.failed),
                    r.group.c_str(), r.cipher.c_str(), r.profile.c_str(), r.us(), r.per_s(),
                    100.0 * r.per_s() / kGoalPerSecond, r.browser_us(), r.loop_per_s());
        lines.push_back(Line()
                            .add("mode", r.impl == "isthmus" ? r.mode : r.mode + "-openssl")
                            .add("handshakes", static_cast<double>(r.handshakes))
                            .add("failed", static_cast<double>(r.failed))
                            .add("group", r.group)
                            .add("ours_per_s", r.per_s())
                            .add("us_per_handshake", r.us(), 1)
                            .add("peer_us_per_handshake", r.browser_us(), 1)
                            .add("loop_per_s", r.loop_per_s())
                            .add("cipher", r.cipher, true)
                            .add("profile", r.profile, true));
    }
    if (!ops.empty())
        std::printf(
            "\n| operation (EVP) | as libssl µs | reused contexts µs | reused ops/s |\n"
            "|---|---:|---:|---:|\n");
    for (const FloorOp& o : ops) {
        std::printf("| %s | %.1f | %.1f | %.0f |\n", o.name.c_str(), o.as_libssl_us, o.reused_us,
                    1e6 / o.reused_us);
        lines.push_back(Line(true)
                            .add("mode", "floor-op")
                            .add("op", o.name)
                            .add("as_libssl_us", o.as_libssl_us, 1)
                            .add("reused_us", o.reused_us, 1));
    }
    if (!floors.empty())
        std::printf(
            "\n| floor: sign + verify + keygen + derive | as libssl µs | hs/s | "
            "reused µs | hs/s |\n|---|---:|---:|---:|---:|\n");
    for (const Floor& f : floors) {
        const bool used =
            std::any_of(rows.begin(), rows.end(), [&](const Row& r) { return r.group == f.group; });
        std::printf("| %s%s | %.1f | %.0f | %.1f | %.0f |\n", f.group.c_str(),
                    used ? " (negotiated)" : "", f.as_libssl_us, 1e6 / f.as_libssl_us, f.reused_us,
                    1e6 / f.reused_us);
        lines.push_back(Line()
                            .add("mode", "floor")
                            .add("group", f.group)
                            .add("negotiated", used ? "yes" : "no")
                            .add("us_per_handshake", f.as_libssl_us, 1)
                            .add("floor_per_s", 1e6 / f.as_libssl_us)
                            .add("reused_us_per_handshake", f.reused_us, 1)
                            .add("reused_floor_per_s", 1e6 / f.reused_us));
    }
    std::printf("\n");
    for (const Line& l : lines)
        if (!l.quiet) std::printf("%s\n", l.text.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t handshakes = 2000, rounds = 4;
    std::string mode = "all", json;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--handshakes" && i + 1 < argc) {
            handshakes = std::stoull(argv[++i]);
        } else if (a == "--rounds" && i + 1 < argc) {
            rounds = std::stoull(argv[++i]);
        } else if (a == "--mode" && i + 1 < argc) {
            mode = argv[++i];
        } else if (a == "--json" && i + 1 < argc) {
            json = argv[++i];
        } else {
            std::fprintf(stderr,
                         "usage: dtls_bench [--handshakes H] [--rounds R] "
                         "[--mode all|passive|active|floor] [--json FILE]\n");
            return 2;
        }
    }
    if (handshakes == 0 || rounds == 0 || rounds > handshakes ||
        (mode != "all" && mode != "passive" && mode != "active" && mode != "floor")) {
        std::fprintf(stderr, "dtls_bench: need H >= R >= 1 and a known --mode\n");
        return 2;
    }

    const Identity gateway = Identity::generate("gateway");
    const Identity browser_id = Identity::generate("browser");
    Context context(gateway);
    SSL_CTX* browser = browser_ctx(browser_id);
    SSL_CTX* reference = reference_ctx(gateway);
    OursGateway ours_passive(context, Role::Passive, browser_id.fingerprint());
    OursGateway ours_active(context, Role::Active, browser_id.fingerprint());
    ReferenceGateway ref_passive(reference, Role::Passive);
    ReferenceGateway ref_active(reference, Role::Active);
    const bool passive = mode == "all" || mode == "passive";
    const bool active = mode == "all" || mode == "active";
    std::vector<Row> rows;
    for (const char* m : {"passive", "active"})
        if (std::string(m) == "passive" ? passive : active) {
            rows.emplace_back(m, "isthmus");
            rows.emplace_back(m, "openssl");
        }
    auto each = [&](uint64_t n, bool timed) {
        std::size_t r = 0;
        if (passive) {
            run(ours_passive, Role::Passive, browser, n, timed, rows[r++]);
            run(ref_passive, Role::Passive, browser, n, timed, rows[r++]);
        }
        if (active) {
            run(ours_active, Role::Active, browser, n, timed, rows[r++]);
            run(ref_active, Role::Active, browser, n, timed, rows[r++]);
        }
    };
    each(std::min<uint64_t>(handshakes / 10 + 1, 50), false);  // warm-up
    for (uint64_t round = 0; round < rounds; ++round)
        each(handshakes / rounds + (round < handshakes % rounds ? 1 : 0), true);

    std::vector<FloorOp> ops;
    std::vector<Floor> floors;
    if (mode == "all" || mode == "floor") {
        ops = measure_floor(gateway, browser_id, handshakes);
        for (const Group& g : kGroups)
            floors.push_back(floor_of(ops, g.name));
    }
    SSL_CTX_free(reference);
    SSL_CTX_free(browser);

    std::printf("%s; %llu handshakes per row in %llu interleaved rounds; one thread\n\n",
                OpenSSL_version(OPENSSL_VERSION), static_cast<unsigned long long>(handshakes),
                static_cast<unsigned long long>(rounds));
    std::vector<Line> lines{Line(true)
                                .add("mode", "run")
                                .add("openssl", OpenSSL_version(OPENSSL_VERSION))
                                .add("handshakes", static_cast<double>(handshakes))
                                .add("rounds", static_cast<double>(rounds))};
    report(rows, ops, floors, lines);
    if (!json.empty()) {
        std::ofstream f(json);
        for (std::size_t i = 0; i < lines.size(); ++i)
            f << (i == 0 ? "[\n  " : ",\n  ") << lines[i].json << "}";
        f << "\n]\n";
        if (!f) {
            std::fprintf(stderr, "dtls_bench: cannot write %s\n", json.c_str());
            return 1;
        }
    }
    uint64_t failed = 0;
    for (const Row& r : rows)
        failed += r.failed;
    if (failed != 0) {
        std::fprintf(stderr, "dtls_bench: %llu handshakes failed\n",
                     static_cast<unsigned long long>(failed));
        return 1;
    }
    return 0;
}
