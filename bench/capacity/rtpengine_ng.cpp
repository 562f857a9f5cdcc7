// rtpengine's ng control protocol and SDES/SDP for bench/capacity (see the
// header).
#include "rtpengine_ng.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace isthmus::bench::capacity {

namespace {

constexpr int kMaxDepth = 32;
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string ip_text(const in_addr& a) {
    char ip[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &a, ip, sizeof ip);
    return ip;
}

std::string endpoint_text(const sockaddr_in& a) {
    return ip_text(a.sin_addr) + ":" + std::to_string(ntohs(a.sin_port));
}

void encode_into(const Bencode& v, std::string& out) {
    switch (v.type) {
        case Bencode::Type::integer:
            out += 'i';
            out += std::to_string(v.integer);
            out += 'e';
            break;
        case Bencode::Type::string:
            out += std::to_string(v.string.size());
            out += ':';
            out += v.string;
            break;
        case Bencode::Type::list:
            out += 'l';
            for (const Bencode& item : v.list)
                encode_into(item, out);
            out += 'e';
            break;
        case Bencode::Type::dictionary:
            out += 'd';
            for (const auto& [key, value] : v.dictionary) {
                out += std::to_string(key.size());
                out += ':';
                out += key;
                encode_into(value, out);
            }
            out += 'e';
            break;
    }
}

[[noreturn]] void bencode_fail(const char* what, std::size_t at) {
    throw std::runtime_error(std::string("bencode: ") + what + " at offset " + std::to_string(at));
}

// Digits up to `end`, as a non-negative number no larger than `max`.
uint64_t decode_length(std::string_view in, std::size_t& at, char end, uint64_t max) {
    uint64_t n = 0;
    const std::size_t start = at;
    while (at < in.size() && in[at] >= '0' && in[at] <= '9') {
        const auto digit = static_cast<uint64_t>(in[at] - '0');
        if (n > (max - digit) / 10) bencode_fail("number too large", at);
        n = n * 10 + digit;
        ++at;
    }
    if (at == start || at >= in.size() || in[at] != end) bencode_fail("malformed number", at);
    ++at;
    return n;
}

std::string decode_string(std::string_view in, std::size_t& at) {
    const uint64_t len = decode_length(in, at, ':', uint64_t{1} << 40);
    if (len > in.size() - at) bencode_fail("string runs past the end", at);
    std::string s(in.substr(at, static_cast<std::size_t>(len)));
    at += static_cast<std::size_t>(len);
    return s;
}

Bencode decode_value(std::string_view in, std::size_t& at, int depth) {
    if (depth > kMaxDepth) bencode_fail("nested too deep", at);
    if (at >= in.size()) bencode_fail("value missing", at);
    const char c = in[at];
    if (c == 'i') {
        ++at;
        const bool negative = at < in.size() && in[at] == '-';
        if (negative) ++at;
        // Any int64_t: rtpengine's replies carry microsecond times too.
        const uint64_t max =
            static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
        const uint64_t n = decode_length(in, at, 'e', max);
        return Bencode::number(negative ? static_cast<int64_t>(0 - n) : static_cast<int64_t>(n));
    }
    if (c == 'l') {
        ++at;
        Bencode v;
        v.type = Bencode::Type::list;
        while (at < in.size() && in[at] != 'e')
            v.list.push_back(decode_value(in, at, depth + 1));
        if (at >= in.size()) bencode_fail("list not ended", at);
        ++at;
        return v;
    }
    if (c == 'd') {
        ++at;
        Bencode v;
        v.type = Bencode::Type::dictionary;
        while (at < in.size() && in[at] != 'e') {
            std::string key = decode_string(in, at);
            v.dictionary.emplace_back(std::move(key), decode_value(in, at, depth + 1));
        }
        if (at >= in.size()) bencode_fail("dictionary not ended", at);
        ++at;
        return v;
    }
    if (c >= '0' && c <= '9') return Bencode(decode_string(in, at));
    bencode_fail("unexpected character", at);
}

bool parse_ipv4(std::string_view text, in_addr& out) {
    const std::string s(text);
    return inet_pton(AF_INET, s.c_str(), &out) == 1;
}

// "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY|2^31|1:1 ..." (RFC 4568
// 9.1): the key of a suite we know; nullopt for others.
std::optional<SrtpKey> parse_crypto(std::string_view value) {
    const std::size_t sp1 = value.find(' ');
    if (sp1 == std::string_view::npos) return std::nullopt;
    std::string_view rest = value.substr(sp1 + 1);
    const std::size_t sp2 = rest.find(' ');
    const std::optional<SrtpSuite> suite = parse_suite(rest.substr(0, sp2));
    if (!suite || sp2 == std::string_view::npos) return std::nullopt;
    std::string_view params = rest.substr(sp2 + 1);
    if (params.substr(0, 7) != "inline:")
        throw std::runtime_error("a=crypto without inline: key: " + std::string(value));
    params.remove_prefix(7);
    const std::string_view b64 = params.substr(0, params.find_first_of("| \t"));
    const std::optional<std::vector<uint8_t>> bytes = base64_decode(b64);
    const std::size_t want = suite_info(*suite).key_salt_len;
    if (!bytes || bytes->size() != want)
        throw std::runtime_error("a=crypto key of " + std::string(suite_info(*suite).sdes_name) +
                                 " is not " + std::to_string(want) +
                                 " octets of base64: " + std::string(b64));
    SrtpKey key;
    key.suite = *suite;
    std::copy(bytes->begin(), bytes->end(), key.key_salt.begin());
    return key;
}

std::string sdp_head(const sockaddr_in& local) {
    const std::string ip = ip_text(local.sin_addr);
    return "v=0\r\no=- " + std::to_string(ntohs(local.sin_port)) + " 1 IN IP4 " + ip +
           "\r\ns=isthmus-capacity\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\n";
}

constexpr std::string_view kAudioAttributes =
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n";

}  // namespace

Bencode Bencode::number(int64_t v) {
    Bencode b;
    b.type = Type::integer;
    b.integer = v;
    return b;
}

Bencode Bencode::strings(std::initializer_list<const char*> items) {
    Bencode b;
    b.type = Type::list;
    for (const char* s : items)
        b.list.emplace_back(s);
    return b;
}

Bencode Bencode::dict(std::vector<Entry> entries) {
    Bencode b;
    b.type = Type::dictionary;
    b.dictionary = std::move(entries);
    return b;
}

const Bencode* Bencode::find(std::string_view key) const {
    if (type != Type::dictionary) return nullptr;
    for (const auto& [k, v] : dictionary)
        if (k == key) return &v;
    return nullptr;
}

std::string_view Bencode::text(std::string_view key) const {
    const Bencode* v = find(key);
    return v != nullptr && v->type == Type::string ? std::string_view(v->string)
                                                   : std::string_view();
}

std::string bencode_encode(const Bencode& v) {
    std::string out;
    encode_into(v, out);
    return out;
}

Bencode bencode_decode(std::string_view in) {
    std::size_t at = 0;
    Bencode v = decode_value(in, at, 0);
    if (at != in.size()) bencode_fail("trailing octets", at);
    return v;
}

std::string base64_encode(std::span<const uint8_t> in) {
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const uint32_t w = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
        for (int s = 18; s >= 0; s -= 6)
            out += kAlphabet[(w >> s) & 63];
    }
    if (i + 1 == in.size()) {
        const uint32_t w = uint32_t{in[i]} << 16;
        out += kAlphabet[(w >> 18) & 63];
        out += kAlphabet[(w >> 12) & 63];
    } else if (i + 2 == in.size()) {
        const uint32_t w = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
        out += kAlphabet[(w >> 18) & 63];
        out += kAlphabet[(w >> 12) & 63];
        out += kAlphabet[(w >> 6) & 63];
    }
    return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view in) {
    while (!in.empty() && in.back() == '=')
        in.remove_suffix(1);
    if (in.size() % 4 == 1) return std::nullopt;
    std::vector<uint8_t> out;
    uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        const std::size_t v = kAlphabet.find(c);
        if (v == std::string_view::npos) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<uint8_t>(acc >> bits));
        }
    }
    return out;
}

SdpAudio parse_sdp_audio(std::string_view sdp) {
    SdpAudio audio;
    std::optional<in_addr> session_c, media_c;
    bool in_audio = false, seen_audio = false, seen_m = false;
    while (!sdp.empty()) {
        const std::size_t eol = sdp.find('\n');
        std::string_view line = sdp.substr(0, eol);
        sdp = eol == std::string_view::npos ? std::string_view() : sdp.substr(eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() < 2 || line[1] != '=') continue;
        const char kind = line[0];
        const std::string_view value = line.substr(2);
        if (kind == 'm') {
            seen_m = true;
            in_audio = !seen_audio && value.substr(0, 6) == "audio ";
            if (!in_audio) continue;
            seen_audio = true;
            // m=audio PORT PROTO FMT...
            const std::string_view rest = value.substr(6);
            const std::size_t sp = rest.find(' ');
            const std::string port(rest.substr(0, sp));
            const unsigned long p = std::strtoul(port.c_str(), nullptr, 10);
            if (sp == std::string_view::npos || p == 0 || p > 65535)
                throw std::runtime_error("SDP: bad m=audio line: " + std::string(line));
            audio.port = static_cast<uint16_t>(p);
            const std::string_view proto_fmt = rest.substr(sp + 1);
            audio.proto = std::string(proto_fmt.substr(0, proto_fmt.find(' ')));
        } else if (kind == 'c' && (in_audio || !seen_m)) {  // the audio's or the session's
            if (value.substr(0, 7) != "IN IP4 ")
                throw std::runtime_error("SDP: not an IPv4 c= line: " + std::string(line));
            in_addr a{};
            if (!parse_ipv4(value.substr(7, value.find('/', 7) - 7), a))
                throw std::runtime_error("SDP: bad c= address: " + std::string(line));
            (in_audio ? media_c : session_c) = a;
        } else if (kind == 'a' && in_audio && value.substr(0, 7) == "crypto:" && !audio.crypto) {
            audio.crypto = parse_crypto(value.substr(7));
        }
    }
    if (!seen_audio) throw std::runtime_error("SDP: no m=audio line");
    if (!media_c && !session_c) throw std::runtime_error("SDP: no c= line for the audio");
    audio.address = media_c ? *media_c : *session_c;
    return audio;
}

std::string sdes_offer_sdp(const sockaddr_in& local, const SrtpKey& key) {
    const SrtpSuiteInfo& info = suite_info(key.suite);
    return sdp_head(local) + "m=audio " + std::to_string(ntohs(local.sin_port)) +
           " RTP/SAVP 0 8\r\n" + std::string(kAudioAttributes) + "a=crypto:1 " + info.sdes_name +
           " inline:" + base64_encode({key.key_salt.data(), info.key_salt_len}) + "\r\n";
}

std::string plain_answer_sdp(const sockaddr_in& local) {
    return sdp_head(local) + "m=audio " + std::to_string(ntohs(local.sin_port)) +
           " RTP/AVP 0 8\r\n" + std::string(kAudioAttributes);
}

NgClient::NgClient(const sockaddr_in& server, NgOptions options)
    : server_(server), server_text_(endpoint_text(server)), options_(options) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("ng socket: ") + std::strerror(errno));
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0)
        throw std::runtime_error("ng connect to " + server_text_ + ": " + std::strerror(errno));
    cookie_prefix_ = std::to_string(getpid()) + "_";
}

NgClient::~NgClient() {
    if (fd_ >= 0) close(fd_);
}

Bencode NgClient::call(const Bencode& request) {
    const std::string command(request.text("command"));
    const std::string cookie = cookie_prefix_ + std::to_string(next_cookie_++);
    const std::string datagram = cookie + " " + bencode_encode(request);
    std::array<char, 65536> buf;
    for (int attempt = 0; attempt < options_.attempts; ++attempt) {
        if (send(fd_, datagram.data(), datagram.size(), 0) < 0 && errno != ECONNREFUSED)
            throw std::runtime_error("ng send to " + server_text_ + ": " + std::strerror(errno));
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            const ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
            if (n <= 0) continue;  // ECONNREFUSED: nobody listens (yet); wait out the attempt
            const std::string_view reply(buf.data(), static_cast<std::size_t>(n));
            const std::size_t sp = reply.find(' ');
            if (sp == std::string_view::npos || reply.substr(0, sp) != cookie)
                continue;  // a late reply to an earlier command
            Bencode v = bencode_decode(reply.substr(sp + 1));
            const std::string_view result = v.text("result");
            if (result == "ok" || result == "pong") return v;
            std::string why = result == "error" ? std::string(v.text("error-reason"))
                                                : "result '" + std::string(result) + "'";
            if (const std::string_view m = v.text("message"); !m.empty())
                why += " (" + std::string(m) + ")";  // "load limit" replies
            throw std::runtime_error("rtpengine: '" + command + "' failed: " + why);
        }
    }
    throw std::runtime_error("no reply from " + server_text_ + " to '" + command + "' after " +
                             std::to_string(options_.attempts) + " x " +
                             std::to_string(options_.timeout_ms) +
                             " ms: is rtpengine running with --listen-ng there?");
}

RtpengineTarget::RtpengineTarget(const RtpengineOptions& options)
    : options_(options), ng_(options.ng, options.ng_options) {
    ng_.call(Bencode::dict({{"command", "ping"}}));  // fail early and clearly
}

std::string RtpengineTarget::call_id(std::size_t i) const {
    return "cap-" + std::to_string(getpid()) + "-" + std::to_string(generation_) + "-" +
           std::to_string(i);
}

void RtpengineTarget::setup_one(std::size_t i, CallPlan& c) {
    const std::string id = call_id(i), from = "A" + std::to_string(i), to = "B" + std::to_string(i);
    const SrtpKey key = random_key(options_.suite);
    std::vector<Bencode::Entry> offer = {
        {"command", "offer"},
        {"call-id", id},
        {"from-tag", from},
        {"sdp", sdes_offer_sdp(c.a.local, key)},
        {"transport-protocol", "RTP/AVP"},  // toward B: plain RTP
        {"ICE", "remove"},
        {"DTLS", "off"},
        {"replace", Bencode::strings({"origin", "session-connection"})},
    };
    if (!options_.interface_a.empty())
        offer.emplace_back("direction", Bencode::strings({options_.interface_a.c_str(),
                                                          options_.interface_b.c_str()}));
    const Bencode offered = ng_.call(Bencode::dict(std::move(offer)));
    set_up_ = i + 1;  // from here on the call exists on rtpengine
    const SdpAudio toward_b = parse_sdp_audio(offered.text("sdp"));
    if (toward_b.proto != "RTP/AVP" || toward_b.crypto)
        throw std::runtime_error("rtpengine offered B " + toward_b.proto +
                                 (toward_b.crypto ? " with a=crypto" : "") + ", not plain RTP/AVP");

    const Bencode answered = ng_.call(Bencode::dict({
        {"command", "answer"},
        {"call-id", id},
        {"from-tag", from},
        {"to-tag", to},
        {"sdp", plain_answer_sdp(c.b.local)},
        {"ICE", "remove"},
        {"DTLS", "off"},
        {"replace", Bencode::strings({"origin", "session-connection"})},
    }));
    const SdpAudio toward_a = parse_sdp_audio(answered.text("sdp"));
    if (toward_a.proto != "RTP/SAVP")
        throw std::runtime_error("rtpengine answered A with " + toward_a.proto + ", not RTP/SAVP");
    if (!toward_a.crypto || toward_a.crypto->suite != options_.suite)
        throw std::runtime_error(std::string("rtpengine's answer toward A has no a=crypto of ") +
                                 suite_info(options_.suite).sdes_name + ": " +
                                 std::string(answered.text("sdp")));

    c.a.remote = {};
    c.a.remote.sin_family = AF_INET;
    c.a.remote.sin_addr = toward_a.address;
    c.a.remote.sin_port = htons(toward_a.port);
    c.a.send_key = key;
    c.a.recv_key = toward_a.crypto;
    c.b.remote = {};
    c.b.remote.sin_family = AF_INET;
    c.b.remote.sin_addr = toward_b.address;
    c.b.remote.sin_port = htons(toward_b.port);
    c.b.send_key.reset();
    c.b.recv_key.reset();
}

void RtpengineTarget::setup(std::span<CallPlan> calls) {
    ++generation_;
    set_up_ = 0;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        try {
            setup_one(i, calls[i]);
        } catch (const std::exception& e) {
            throw std::runtime_error("call " + std::to_string(i) + " (" + call_id(i) +
                                     "): " + e.what());
        }
    }
}

void RtpengineTarget::teardown(std::span<const CallPlan> calls) {
    counted_ = uint64_t{0};
    unsigned failures = 0;
    const std::size_t n = std::min(set_up_, calls.size());
    for (std::size_t i = 0; i < n; ++i) {
        try {
            const Bencode r = ng_.call(Bencode::dict({
                {"command", "delete"},
                {"call-id", call_id(i)},
                {"from-tag", "A" + std::to_string(i)},
            }));
            const Bencode* totals = r.find("totals");
            const Bencode* rtp = totals != nullptr ? totals->find("RTP") : nullptr;
            const Bencode* packets = rtp != nullptr ? rtp->find("packets") : nullptr;
            if (packets != nullptr && packets->type == Bencode::Type::integer && counted_)
                *counted_ += static_cast<uint64_t>(packets->integer);
            else
                counted_.reset();
        } catch (const std::runtime_error& e) {
            if (failures++ < 5)
                std::fprintf(stderr, "capacity: delete call %zu: %s\n", i, e.what());
            counted_.reset();
        }
    }
    if (failures > 5) std::fprintf(stderr, "capacity: %u deletes failed in all\n", failures);
    set_up_ = 0;
}

}  // namespace isthmus::bench::capacity
