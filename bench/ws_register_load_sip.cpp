// ws-register-load's REGISTER, digest and response summary (see the header).
#include "ws_register_load_sip.hpp"

#include <charconv>
#include <optional>
#include <stdexcept>

#include "sip/headers.hpp"
#include "sip/parser.hpp"
#include "sip/validate.hpp"

namespace isthmus::bench {

namespace {

constexpr std::string_view kLws = " \t";

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    std::size_t b = s.find_first_not_of(kLws);
    if (b == std::string_view::npos) return {};
    std::size_t e = s.find_last_not_of(kLws);
    return s.substr(b, e - b + 1);
}

// Appends `v` as decimal.
void append_decimal(std::string& out, uint32_t v) {
    std::array<char, 10> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), end);
}

// Appends `v` as the 8 lowercase hex digits of a nonce count (RFC 7616 3.4).
void append_nc(std::string& out, uint32_t v) {
    constexpr std::string_view kHex = "0123456789abcdef";
    std::array<char, 8> buf{};
    for (std::size_t i = 0; i < buf.size(); ++i) {
        buf[buf.size() - 1 - i] = kHex[(v >> (4 * i)) & 0xfu];
    }
    out.append(buf.data(), buf.size());
}

std::string_view as_view(const DigestMd5::Hex& h) {
    return {h.data(), h.size()};
}

// The CSeq value: number LWS method.
bool read_cseq(std::string_view value, ResponseSummary& out) {
    uint32_t n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || p == value.data()) return false;
    out.cseq = n;
    out.cseq_register =
        trim(value.substr(static_cast<std::size_t>(p - value.data()))) == "REGISTER";
    return true;
}

}  // namespace

bool parse_digest_challenge(std::string_view value, DigestChallenge& out) {
    out = {};
    value = trim(value);
    if (value.size() < 7 || !iequals(value.substr(0, 6), "Digest") ||
        kLws.find(value[6]) == std::string_view::npos)
        return false;
    std::string_view rest = value.substr(7);
    while (true) {
        rest = trim(rest);
        while (!rest.empty() && rest.front() == ',')
            rest = trim(rest.substr(1));
        if (rest.empty()) break;
        std::size_t eq = rest.find('=');
        if (eq == std::string_view::npos) return false;
        std::string_view name = trim(rest.substr(0, eq));
        rest = trim(rest.substr(eq + 1));
        std::string val;
        if (!rest.empty() && rest.front() == '"') {
            std::size_t i = 1;
            for (; i < rest.size() && rest[i] != '"'; ++i) {
                if (rest[i] == '\\' && i + 1 < rest.size()) ++i;  // quoted-pair
                val.push_back(rest[i]);
            }
            if (i == rest.size()) return false;  // unterminated
            rest = rest.substr(i + 1);
        } else {
            std::size_t end = rest.find(',');
            val = std::string(trim(rest.substr(0, end)));
            rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        }
        if (iequals(name, "realm")) {
            out.realm = std::move(val);
        } else if (iequals(name, "nonce")) {
            out.nonce = std::move(val);
        } else if (iequals(name, "opaque")) {
            out.opaque = std::move(val);
            out.has_opaque = true;
        } else if (iequals(name, "stale")) {
            out.stale = iequals(val, "true");
        } else if (iequals(name, "algorithm")) {
            out.md5 = iequals(val, "MD5");
        } else if (iequals(name, "qop")) {
            std::string_view list = val;
            while (!list.empty()) {
                std::size_t comma = list.find(',');
                if (iequals(trim(list.substr(0, comma)), "auth")) out.qop_auth = true;
                list =
                    comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
            }
        }
    }
    return !out.realm.empty() && !out.nonce.empty();
}

DigestMd5::DigestMd5() {
    md_ = EVP_MD_fetch(nullptr, "MD5", nullptr);
    ctx_ = EVP_MD_CTX_new();
    if (md_ == nullptr || ctx_ == nullptr) throw std::runtime_error("OpenSSL: no MD5");
}

DigestMd5::~DigestMd5() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
}

DigestMd5::Hex DigestMd5::hex(std::initializer_list<std::string_view> parts) {
    std::array<unsigned char, 16> digest{};
    unsigned int len = 0;
    EVP_DigestInit_ex2(ctx_, md_, nullptr);
    for (std::string_view p : parts)
        EVP_DigestUpdate(ctx_, p.data(), p.size());
    EVP_DigestFinal_ex(ctx_, digest.data(), &len);
    constexpr std::string_view kHex = "0123456789abcdef";
    Hex out{};
    for (std::size_t i = 0; i < digest.size(); ++i) {
        out[2 * i] = kHex[digest[i] >> 4];
        out[2 * i + 1] = kHex[digest[i] & 0xfu];
    }
    return out;
}

RegisterWriter::RegisterWriter(const RegisterIdentity& id) {
    const std::string uri = "sip:" + id.domain;
    const std::string aor = "<sip:" + id.user + "@" + id.domain + ">";
    head_ = "REGISTER " + uri + " SIP/2.0\r\nVia: SIP/2.0/" + id.via_transport + " " + id.host +
            ";branch=" + id.branch_prefix;
    mid_ = "\r\nMax-Forwards: 70\r\nFrom: " + aor + ";tag=" + id.from_tag + "\r\nTo: " + aor +
           "\r\nCall-ID: " + id.call_id + "\r\nCSeq: ";
    tail_ = " REGISTER\r\nContact: <sip:" + id.user + "@" + id.host +
            ";transport=ws>\r\nExpires: " + std::to_string(id.expires) +
            "\r\nSupported: path\r\nUser-Agent: ws-register-load\r\n";
}

void RegisterWriter::request(uint32_t cseq, std::string& out, DigestCredentials& creds,
                             DigestMd5& md5) const {
    out.clear();
    out += head_;
    append_decimal(out, cseq);
    out += mid_;
    append_decimal(out, cseq);
    out += tail_;
    creds.append(out, md5);
    out += "Content-Length: 0\r\n\r\n";
}

DigestCredentials::DigestCredentials(std::string user, std::string password, std::string uri,
                                     std::string cnonce)
    : user_(std::move(user)),
      password_(std::move(password)),
      uri_(std::move(uri)),
      cnonce_(std::move(cnonce)) {}

bool DigestCredentials::challenge(const DigestChallenge& c, bool proxy, DigestMd5& md5) {
    if (!c.md5) {
        auth_head_.clear();
        return false;
    }
    if (has_credentials() && c.nonce == nonce_ && c.realm == realm_ && proxy == proxy_) {
        return true;  // another REGISTER in flight was challenged with it already
    }
    if (c.realm != realm_) ha1_ = md5.hex({user_, ":", c.realm, ":", password_});
    ha2_ = md5.hex({"REGISTER:", uri_});
    realm_ = c.realm;
    nonce_ = c.nonce;
    qop_ = c.qop_auth;
    proxy_ = proxy;
    nc_ = 0;
    auth_head_ = proxy ? "Proxy-Authorization" : "Authorization";
    auth_head_ += ": Digest username=\"" + user_ + "\", realm=\"" + c.realm + "\", nonce=\"" +
                  c.nonce + "\", uri=\"" + uri_ + "\", algorithm=MD5";
    if (c.has_opaque) auth_head_ += ", opaque=\"" + c.opaque + "\"";
    return true;
}

void DigestCredentials::append(std::string& out, DigestMd5& md5) {
    if (auth_head_.empty()) return;
    out += auth_head_;
    DigestMd5::Hex response;
    if (qop_) {
        ++nc_;
        out += ", qop=auth, nc=";
        const std::size_t nc_at = out.size();
        append_nc(out, nc_);
        out += ", cnonce=\"";
        out += cnonce_;
        out += '"';
        const std::string_view nc(out.data() + nc_at, 8);
        // RFC 7616 3.4.1: KD(H(A1), nonce:nc:cnonce:qop:H(A2)).
        response =
            md5.hex({as_view(ha1_), ":", nonce_, ":", nc, ":", cnonce_, ":auth:", as_view(ha2_)});
    } else {
        // RFC 2617 3.2.2.1 without qop: KD(H(A1), nonce:H(A2)).
        response = md5.hex({as_view(ha1_), ":", nonce_, ":", as_view(ha2_)});
    }
    out += ", response=\"";
    out += as_view(response);
    out += "\"\r\n";
}

bool summarize_response_fast(std::string_view bytes, ResponseSummary& out) {
    out = {};
    while (bytes.starts_with("\r\n"))
        bytes.remove_prefix(2);
    // SIP/2.0 SP 3DIGIT SP
    if (bytes.size() < 12 || !bytes.starts_with("SIP/2.0 ") || bytes[11] != ' ') return false;
    uint16_t status = 0;
    for (std::size_t i = 8; i < 11; ++i) {
        if (bytes[i] < '0' || bytes[i] > '9') return false;
        status = static_cast<uint16_t>(status * 10 + (bytes[i] - '0'));
    }
    std::size_t pos = bytes.find("\r\n");
    if (pos == std::string_view::npos) return false;
    pos += 2;
    const bool challenged = status == 401 || status == 407;
    const std::string_view challenge_name =
        status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate";
    bool have_cseq = false;
    while (pos < bytes.size()) {
        std::size_t eol = bytes.find("\r\n", pos);
        if (eol == std::string_view::npos) eol = bytes.size();
        const std::string_view line = bytes.substr(pos, eol - pos);
        pos = eol + 2;
        if (line.empty()) break;  // end of the header section
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (!have_cseq && iequals(name, "CSeq")) {
            if (!read_cseq(value, out)) return false;
            have_cseq = true;
        } else if (challenged && out.challenge.empty() && iequals(name, challenge_name)) {
            out.challenge = value;
        }
    }
    out.status = status;
    return have_cseq;
}

uint32_t granted_expires(std::string_view bytes) {
    std::size_t pos = bytes.find("\r\n");
    uint32_t from_field = 0;
    bool first_contact = true;
    while (pos != std::string_view::npos && pos + 2 < bytes.size()) {
        pos += 2;
        std::size_t eol = bytes.find("\r\n", pos);
        if (eol == std::string_view::npos) eol = bytes.size();
        const std::string_view line = bytes.substr(pos, eol - pos);
        pos = eol;
        if (line.empty()) break;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (first_contact && (iequals(name, "Contact") || iequals(name, "m"))) {
            first_contact = false;
            // After the URI's closing '>' (a parameter inside it is the
            // URI's), up to the next contact.
            std::size_t close = value.find('>');
            if (close == std::string_view::npos) close = 0;
            const std::string_view params = value.substr(close, value.find(',', close) - close);
            for (std::size_t at = params.find(';'); at != std::string_view::npos;
                 at = params.find(';', at + 1)) {
                const std::string_view p = trim(params.substr(at + 1));
                if (p.size() > 8 && iequals(p.substr(0, 8), "expires=")) {
                    uint32_t v = 0;
                    const auto r = std::from_chars(p.data() + 8, p.data() + p.size(), v);
                    if (r.ec == std::errc{}) return v;
                }
            }
        } else if (iequals(name, "Expires")) {
            std::from_chars(value.data(), value.data() + value.size(), from_field);
        }
    }
    return from_field;
}

bool summarize_response_full(std::string_view bytes, ResponseSummary& out, std::string& challenge) {
    out = {};
    sip::ParseResult r = sip::parse_message(bytes, sip::Framing::Datagram);
    if (r.status != sip::ParseStatus::Ok || !r.message.is_response()) return false;
    if (sip::validate_response(r.message)) return false;  // a defect named
    std::optional<std::string_view> cseq_value = r.message.header("CSeq");
    if (!cseq_value) return false;
    std::optional<sip::CSeq> cseq = sip::parse_cseq(*cseq_value);
    if (!cseq) return false;
    out.cseq = cseq->number;
    out.cseq_register = cseq->method == "REGISTER";
    out.status = r.message.status_code;
    if (out.status == 401 || out.status == 407) {
        std::optional<std::string_view> c =
            r.message.header(out.status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate");
        if (c) {
            challenge.assign(*c);
            out.challenge = challenge;
        }
    }
    return true;
}

}  // namespace isthmus::bench
