// The session table (sessions.hpp).
#include "wwsf/sessions.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "token/token.hpp"

namespace isthmus::wwsf {

std::string session_key(std::string_view cookie) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(cookie.data(), cookie.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("session_key: SHA-256 failed");
    }
    return std::string(reinterpret_cast<const char*>(md.data()), len);
}

std::optional<std::string> SessionTable::open(Session s, int64_t now) {
    expire(now);
    // The user's oldest sessions make room for the new one.
    while (max_per_user_ > 0 && by_user_.count(s.user) >= max_per_user_) {
        std::string oldest;
        int64_t oldest_expiry = INT64_MAX;
        const auto [first, last] = by_user_.equal_range(s.user);
        for (auto it = first; it != last; ++it) {
            const int64_t e = by_key_.at(it->second).expires;
            if (e < oldest_expiry) {
                oldest_expiry = e;
                oldest = it->second;
            }
        }
        erase(oldest);
    }
    if (by_key_.size() >= max_) return std::nullopt;
    std::array<unsigned char, 32> secret{};
    if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
        throw std::runtime_error("no random octets for a session (RAND_bytes)");
    }
    std::string cookie =
        token::base64url_encode({reinterpret_cast<const char*>(secret.data()), secret.size()});
    std::string key = session_key(cookie);
    by_expiry_.emplace(s.expires, key);
    by_user_.emplace(s.user, key);
    by_key_.emplace(std::move(key), std::move(s));
    return cookie;
}

const Session* SessionTable::find(std::string_view cookie, int64_t now) {
    const std::string key = session_key(cookie);
    const auto it = by_key_.find(key);
    if (it == by_key_.end()) return nullptr;
    if (it->second.expires <= now) {
        erase(key);
        return nullptr;
    }
    return &it->second;
}

bool SessionTable::close(std::string_view cookie) {
    const std::string key = session_key(cookie);
    if (by_key_.count(key) == 0) return false;
    erase(key);
    return true;
}

std::size_t SessionTable::close_user(std::string_view user) {
    std::size_t n = 0;
    for (auto it = by_user_.find(user); it != by_user_.end() && it->first == user;
         it = by_user_.find(user)) {
        erase(std::string(it->second));
        ++n;
    }
    return n;
}

std::size_t SessionTable::expire(int64_t now) {
    std::size_t n = 0;
    while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
        erase(std::string(by_expiry_.begin()->second));
        ++n;
    }
    return n;
}

void SessionTable::erase(const std::string& key) {
    const auto it = by_key_.find(key);
    if (it == by_key_.end()) return;
    by_expiry_.erase({it->second.expires, key});
    const auto [first, last] = by_user_.equal_range(it->second.user);
    for (auto u = first; u != last; ++u) {
        if (u->second == key) {
            by_user_.erase(u);
            break;
        }
    }
    by_key_.erase(it);
}

}  // namespace isthmus::wwsf
