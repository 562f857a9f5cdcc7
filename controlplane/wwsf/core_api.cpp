// The WWSF core's account and token endpoints (core.hpp): login and logout,
// registration tokens (TS 24.371 A.3.2), guest identities from the pool
// (A.3.3) and their early release.
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

#include "wwsf/core.hpp"

namespace isthmus::wwsf {

namespace {

constexpr std::size_t kMaxPassword = 1024;

std::string cookie_header(std::string_view value, int64_t max_age) {
    return std::string(kSessionCookie) + "=" + std::string(value) +
           "; Max-Age=" + std::to_string(max_age) + "; Path=/; Secure; HttpOnly; SameSite=Strict";
}

// 16 random octets, base64url: a token's jti.
std::string random_id() {
    std::array<unsigned char, 16> id{};
    if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) {
        throw std::runtime_error("no random octets for a token id (RAND_bytes)");
    }
    return token::base64url_encode({reinterpret_cast<const char*>(id.data()), id.size()});
}

// A guest token's jti: its lease's id and a random id of the same length.
bool is_lease_token_id(std::string_view jti, std::string_view lease_id) {
    return !lease_id.empty() && jti.size() == 2 * lease_id.size() && jti.starts_with(lease_id);
}

// A login name as it may appear in a log line.
std::string loggable_user(std::string_view user) {
    return is_user_name(user) ? std::string(user) : std::string("-");
}

}  // namespace

Reply WwsfCore::login(const HttpRequest& req) {
    HttpResponse refusal;
    const auto obj = body(req, {"user", "password"}, refusal);
    if (!obj) return refusal;
    const auto user = obj->find("user");
    const auto password = obj->find("password");
    if (user == obj->end() || password == obj->end()) {
        return error(req, 400, "the body must be {\"user\":\"...\",\"password\":\"...\"}",
                     Counter::BadRequest);
    }
    if (user->second.text.empty() || password->second.text.empty()) {
        return error(req, 400, "user and password must not be empty", Counter::BadRequest);
    }
    if (password->second.text.size() > kMaxPassword) {
        return error(req, 400, "password longer than 1024 octets", Counter::BadRequest);
    }
    if (logins_in_flight_ >= config_.max_logins_in_flight) {
        HttpResponse r = error(req, 503, "too many logins at once: try again", Counter::LoginBusy);
        r.headers.emplace_back("Retry-After", "1");
        return r;
    }
    PasswordCheck check;
    check.user = user->second.text;
    check.password = password->second.text;
    check.secure = req.secure;
    check.peer = req.peer;
    if (const User* u = users_.find(check.user)) {
        check.identity = u->identity;
        check.hash = u->hash;
    } else {
        check.hash = dummy_;
    }
    ++logins_in_flight_;
    return check;
}

HttpResponse WwsfCore::finish_login(PasswordCheck check, bool matched, int64_t now) {
    if (logins_in_flight_ > 0) --logins_in_flight_;
    std::fill(check.password.begin(), check.password.end(), '\0');
    HttpRequest req;
    req.secure = check.secure;
    req.peer = check.peer;
    if (!matched || check.identity.empty()) {
        log("level=notice event=login_failed user=" + loggable_user(check.user) +
            " peer=" + check.peer);
        return error(req, 401, "unknown user or wrong password", Counter::LoginFailed);
    }
    const int64_t expires = now + config_.session_lifetime_s;
    const auto cookie = sessions_.open({check.user, check.identity, false, expires}, now);
    if (!cookie) {
        log("level=warning event=sessions_full user=" + check.user + " peer=" + check.peer);
        HttpResponse r =
            error(req, 503, "too many sessions: try again later", Counter::SessionsFull);
        r.headers.emplace_back("Retry-After", "60");
        return r;
    }
    bump(Counter::LoginOk);
    log("level=info event=login user=" + check.user + " identity=" + check.identity +
        " peer=" + check.peer);
    HttpResponse r = json(check.secure, 200,
                          JsonWriter()
                              .add("user", check.user)
                              .add("identity", check.identity)
                              .add("expires", expires)
                              .str());
    r.headers.emplace_back("Set-Cookie", cookie_header(*cookie, config_.session_lifetime_s));
    return r;
}

HttpResponse WwsfCore::logout(const HttpRequest& req, int64_t now) {
    HttpResponse refusal;
    if (!body(req, {}, refusal)) return refusal;
    std::string cookie;
    if (const Session* s = session_of(req, now, &cookie)) {
        if (s->guest) {
            end_guest(std::string(s->identity), Counter::GuestReleased, req.peer);
        } else {
            log("level=info event=logout user=" + s->user + " peer=" + req.peer);
            sessions_.close(cookie);
        }
    }
    HttpResponse r = json(req.secure, 200, "{}");
    r.headers.emplace_back("Set-Cookie", cookie_header("", 0));
    return r;
}

std::string WwsfCore::sign(const std::string& identity, bool guest, int64_t expires,
                           std::string id) {
    token::Claims c;
    c.subject = identity;
    c.audience = config_.token_audience;
    c.expires = expires;
    c.id = std::move(id);
    c.kind = guest ? "guest" : "user";
    bump(Counter::TokenIssued);
    return signer_.sign(c);
}

HttpResponse WwsfCore::issue_token(const HttpRequest& req, int64_t now) {
    HttpResponse refusal;
    if (!body(req, {}, refusal)) return refusal;
    const Session* s = session_of(req, now);
    if (s == nullptr) {
        return error(req, 401, "no session: log in (or lease a guest identity) first",
                     Counter::NoSession);
    }
    // A guest's token ends with its lease at the latest, and its jti starts
    // with the lease's id: any of the lease's tokens can give it back.
    const int64_t expires =
        std::min(now + config_.token_lifetime_s, s->guest ? s->expires : INT64_MAX);
    std::string jti = random_id();
    if (s->guest) {
        const GuestLease* lease = pool_.find(s->identity);
        if (lease == nullptr) {
            return error(req, 401, "no session: log in (or lease a guest identity) first",
                         Counter::NoSession);
        }
        jti = lease->owner + jti;
    }
    const std::string token = sign(s->identity, s->guest, expires, std::move(jti));
    log("level=info event=token identity=" + s->identity +
        " kind=" + (s->guest ? "guest" : "user") + " expires=" + std::to_string(expires) +
        " peer=" + req.peer);
    return json(req.secure, 200,
                JsonWriter()
                    .add("token", token)
                    .add("identity", s->identity)
                    .add("expires", expires)
                    .str());
}

HttpResponse WwsfCore::guest(const HttpRequest& req, int64_t now) {
    HttpResponse refusal;
    if (!body(req, {}, refusal)) return refusal;
    // A WIC that asks again gives back the lease it holds.
    if (const Session* s = session_of(req, now); s != nullptr && s->guest) {
        end_guest(std::string(s->identity), Counter::GuestReleased, req.peer);
    }
    if (config_.max_guest_leases_per_address > 0 &&
        pool_.leased_by(req.peer) >= config_.max_guest_leases_per_address) {
        log("level=notice event=guest_refused reason=per_address peer=" + req.peer);
        return error(req, 429, "too many guest identities leased from this address",
                     Counter::GuestPerAddress);
    }
    // The lease's id (22 characters); each of its tokens' jti is the id
    // followed by 22 more (token.hpp allows 64).
    const std::string lease_id = random_id();
    const int64_t lease_end = now + config_.guest_lease_s;
    const GuestLease* lease = pool_.lease(lease_end, lease_id, req.peer);
    if (lease == nullptr) {
        log("level=warning event=guest_pool_empty size=" + std::to_string(pool_.size()) +
            " peer=" + req.peer);
        HttpResponse r = error(req, 503, "no guest identity free", Counter::GuestPoolEmpty);
        r.headers.emplace_back("Retry-After", "30");
        return r;
    }
    const std::string identity = lease->identity;
    const auto cookie = sessions_.open({"guest:" + identity, identity, true, lease_end}, now);
    if (!cookie) {
        pool_.release(identity);
        log("level=warning event=sessions_full user=guest peer=" + req.peer);
        HttpResponse r =
            error(req, 503, "too many sessions: try again later", Counter::SessionsFull);
        r.headers.emplace_back("Retry-After", "60");
        return r;
    }
    const int64_t expires = std::min(now + config_.token_lifetime_s, lease_end);
    const std::string token = sign(identity, true, expires, lease_id + random_id());
    bump(Counter::GuestLeased);
    log("level=info event=guest_leased identity=" + identity + " lease_expires=" +
        std::to_string(lease_end) + " free=" + std::to_string(pool_.free()) + " peer=" + req.peer);
    HttpResponse r = json(req.secure, 200,
                          JsonWriter()
                              .add("token", token)
                              .add("identity", identity)
                              .add("expires", expires)
                              .add("lease_expires", lease_end)
                              .str());
    r.headers.emplace_back("Set-Cookie", cookie_header(*cookie, config_.guest_lease_s));
    return r;
}

HttpResponse WwsfCore::release(const HttpRequest& req, int64_t now) {
    HttpResponse refusal;
    const auto obj = body(req, {"identity", "token"}, refusal);
    if (!obj) return refusal;
    const auto identity = obj->find("identity");
    if (identity == obj->end()) {
        return error(req, 400, "the body must be {\"identity\":\"...\",\"token\":\"...\"}",
                     Counter::BadRequest);
    }
    const std::string& id = identity->second.text;
    const GuestLease* lease = pool_.find(id);
    bool holder = false;
    bool by_cookie = false;
    // The lease's guest session, or the token that came with the lease.
    if (const Session* s = session_of(req, now); s != nullptr && s->guest && s->identity == id) {
        holder = by_cookie = true;
    } else if (const auto t = obj->find("token"); t != obj->end() && lease != nullptr) {
        // Our own signature; an expired token still proves whose lease it is.
        const token::TokenCheck check =
            verifier_.verify(t->second.text, now, config_.token_audience,
                             config_.guest_lease_s + config_.token_lifetime_s);
        holder =
            (check.error == token::TokenError::None || check.error == token::TokenError::Expired) &&
            check.claims.audience == config_.token_audience && check.claims.kind == "guest" &&
            check.claims.subject == id && is_lease_token_id(check.claims.id, lease->owner);
    }
    if (lease == nullptr || !holder) {
        log("level=notice event=release_refused peer=" + req.peer);
        return error(req, 403, "no lease of this identity for this token or session",
                     Counter::ReleaseRefused);
    }
    end_guest(id, Counter::GuestReleased, req.peer);
    HttpResponse r = json(req.secure, 200, JsonWriter().add("released", id).str());
    if (by_cookie) r.headers.emplace_back("Set-Cookie", cookie_header("", 0));
    return r;
}

void WwsfCore::end_guest(const std::string& identity, Counter why, const std::string& peer) {
    sessions_.close_user("guest:" + identity);
    if (!pool_.release(identity)) return;
    bump(why);
    log("level=info event=guest_released identity=" + identity +
        " free=" + std::to_string(pool_.free()) + " peer=" + peer);
}

}  // namespace isthmus::wwsf
