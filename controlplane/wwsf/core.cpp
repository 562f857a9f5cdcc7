// The WWSF core (core.hpp): construction, the router, the security
// headers, bodies and cookies, the static files and /api/config. The
// account and token endpoints are in core_api.cpp.
#include "wwsf/core.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace isthmus::wwsf {

namespace {

bool is_json_type(const std::string* type) {
    if (type == nullptr) return false;
    std::string_view t(*type);
    t = t.substr(0, t.find(';'));
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t'))
        t.remove_suffix(1);
    constexpr std::string_view kJson = "application/json";
    if (t.size() != kJson.size()) return false;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if ((t[i] | 0x20) != kJson[i]) return false;
    }
    return true;
}

}  // namespace

std::optional<std::string> websocket_origin(std::string_view uri) {
    std::string_view rest;
    std::string scheme;
    if (uri.substr(0, 6) == "wss://") {
        scheme = "wss://";
        rest = uri.substr(6);
    } else if (uri.substr(0, 5) == "ws://") {
        scheme = "ws://";
        rest = uri.substr(5);
    } else {
        return std::nullopt;
    }
    for (const char c : uri) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == ';' || c == ',' || c == '\'' || c == '"' || c == '\\') {
            return std::nullopt;
        }
    }
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    return scheme + std::string(authority);
}

bool check_password(const PasswordCheck& check) {
    const bool matched = verify_password(check.password, check.hash);
    return matched && !check.identity.empty();
}

WwsfCore::WwsfCore(CoreConfig config, token::TokenSigner signer, UserDb users, GuestPool pool,
                   StaticFiles files)
    : config_(std::move(config)),
      signer_(std::move(signer)),
      verifier_(token::TokenVerifier::from_public_pem(signer_.public_pem())),
      users_(std::move(users)),
      pool_(std::move(pool)),
      sessions_(config_.max_sessions, config_.max_sessions_per_user),
      files_(std::move(files)) {
    const auto origin = websocket_origin(config_.ws_uri);
    if (!origin) {
        throw std::invalid_argument("ws_uri \"" + config_.ws_uri +
                                    "\" is not a ws:// or wss:// URI");
    }
    // What the WIC may load: only its own files; fetch and WebSocket to
    // itself and the eP-CSCF; no plugins, no framing.
    csp_ = "default-src 'self'; connect-src 'self' " + *origin +
           "; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
           "frame-ancestors 'none'; form-action 'self'";
    make_dummy();
}

void WwsfCore::replace_users(UserDb users) {
    users_ = std::move(users);
    make_dummy();
}

void WwsfCore::make_dummy() {
    // A dummy of the common cost: random salt and key, so nothing matches it.
    dummy_.params = users_.common_params();
    std::array<unsigned char, 48> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
        throw std::runtime_error("no random octets (RAND_bytes)");
    }
    dummy_.salt.assign(random.begin(), random.begin() + 16);
    dummy_.hash.assign(random.begin() + 16, random.end());
}

void WwsfCore::advance(int64_t now) {
    sessions_.expire(now);
    for (const std::string& identity : pool_.expire(now)) {
        bump(Counter::GuestExpired);
        sessions_.close_user("guest:" + identity);
        log("level=info event=guest_expired identity=" + identity);
    }
}

Reply WwsfCore::handle(const HttpRequest& req, int64_t now) {
    advance(now);
    const std::string_view target(req.target);
    if (target.empty() || target.front() != '/') {
        return error(req, 400, "the request target must be a path (origin-form)",
                     Counter::BadRequest);
    }
    const std::string_view path = target.substr(0, target.find_first_of("?#"));
    if (path == "/api/login") {
        if (req.method != "POST") return method_not_allowed(req, "POST");
        return login(req);
    }
    if (path == "/api" || path.substr(0, 5) == "/api/") return api(req, path, now);
    return static_file(req);
}

HttpResponse WwsfCore::api(const HttpRequest& req, std::string_view path, int64_t now) {
    if (path == "/api/config") {
        if (req.method != "GET" && req.method != "HEAD")
            return method_not_allowed(req, "GET, HEAD");
        return config(req);
    }
    struct Post {
        std::string_view path;
        HttpResponse (WwsfCore::*handler)(const HttpRequest&, int64_t);
    };
    static constexpr std::array<Post, 4> kPosts = {{
        {"/api/logout", &WwsfCore::logout},
        {"/api/token", &WwsfCore::issue_token},
        {"/api/guest", &WwsfCore::guest},
        {"/api/guest/release", &WwsfCore::release},
    }};
    for (const Post& p : kPosts) {
        if (p.path != path) continue;
        if (req.method != "POST") return method_not_allowed(req, "POST");
        return (this->*p.handler)(req, now);
    }
    return error(req, 404, "no such endpoint", Counter::NotFound);
}

HttpResponse WwsfCore::config(const HttpRequest& req) {
    HttpResponse r = json(req.secure, 200,
                          JsonWriter()
                              .add("ws_uri", config_.ws_uri)
                              .add("domain", config_.domain)
                              .add("pcscf", config_.token_audience)
                              .add("guest", pool_.size() > 0)
                              .str());
    r.head = req.method == "HEAD";
    return r;
}

HttpResponse WwsfCore::static_file(const HttpRequest& req) {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed(req, "GET, HEAD");
    const auto relative = static_path(req.target);
    std::optional<std::string> content;
    std::string_view type;
    if (relative) type = content_type_for(*relative);
    if (!type.empty()) content = files_.read(*relative);
    if (!content) {
        HttpResponse r = error(req, 404, "not found", Counter::NotFound);
        r.head = req.method == "HEAD";
        return r;
    }
    bump(Counter::StaticServed);
    HttpResponse r = respond(req.secure, 200, std::move(*content), type);
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.head = req.method == "HEAD";
    return r;
}

HttpResponse WwsfCore::respond(bool secure, unsigned status, std::string body,
                               std::string_view content_type) const {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers.emplace_back("Content-Type", std::string(content_type));
    r.headers.emplace_back("Content-Security-Policy", csp_);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
    if (secure) {
        r.headers.emplace_back("Strict-Transport-Security",
                               "max-age=" + std::to_string(config_.hsts_max_age_s));
    }
    return r;
}

HttpResponse WwsfCore::json(bool secure, unsigned status, std::string body) const {
    HttpResponse r = respond(secure, status, std::move(body), "application/json");
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

HttpResponse WwsfCore::error(const HttpRequest& req, unsigned status, std::string_view message,
                             Counter counter) {
    bump(counter);
    return json(req.secure, status, json_error(message));
}

HttpResponse WwsfCore::method_not_allowed(const HttpRequest& req, std::string_view allow) {
    HttpResponse r =
        error(req, 405, "method not allowed here (allowed: " + std::string(allow) + ")",
              Counter::BadRequest);
    r.headers.emplace_back("Allow", std::string(allow));
    return r;
}

std::optional<JsonObject> WwsfCore::body(const HttpRequest& req,
                                         std::initializer_list<std::string_view> allowed,
                                         HttpResponse& refusal) {
    if (req.body.empty()) return JsonObject{};
    if (!is_json_type(req.header("content-type"))) {
        refusal =
            error(req, 415, "the body must be Content-Type: application/json", Counter::BadRequest);
        return std::nullopt;
    }
    std::string why;
    auto obj = parse_json_object(req.body, why);
    if (!obj) {
        refusal = error(req, 400, "the body is not a JSON object: " + why, Counter::BadRequest);
        return std::nullopt;
    }
    for (const auto& [name, value] : *obj) {
        bool known = false;
        for (const std::string_view a : allowed)
            known = known || a == name;
        if (!known) {
            refusal = error(req, 400, "unknown member " + json_quote(name), Counter::BadRequest);
            return std::nullopt;
        }
        if (value.kind != JsonScalar::Kind::String) {
            refusal = error(req, 400, json_quote(name) + " must be a string", Counter::BadRequest);
            return std::nullopt;
        }
    }
    return obj;
}

const Session* WwsfCore::session_of(const HttpRequest& req, int64_t now, std::string* cookie) {
    for (const auto& [name, value] : req.headers) {
        if (name != "cookie") continue;
        // "a=b; c=d" (RFC 6265 4.2.1)
        std::string_view list(value);
        while (!list.empty()) {
            const std::size_t semi = list.find(';');
            std::string_view pair = list.substr(0, semi);
            list = semi == std::string_view::npos ? std::string_view{} : list.substr(semi + 1);
            while (!pair.empty() && pair.front() == ' ')
                pair.remove_prefix(1);
            const std::size_t eq = pair.find('=');
            if (eq == std::string_view::npos || pair.substr(0, eq) != kSessionCookie) continue;
            const std::string_view v = pair.substr(eq + 1);
            if (v.size() != 43) continue;  // 32 octets in base64url
            if (const Session* s = sessions_.find(v, now)) {
                if (cookie != nullptr) cookie->assign(v);
                return s;
            }
        }
    }
    return nullptr;
}

}  // namespace isthmus::wwsf
