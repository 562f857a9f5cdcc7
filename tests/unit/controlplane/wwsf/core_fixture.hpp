// A WwsfCore on a temporary web root with two users and a small guest pool,
// and helpers to call it as the server would (password checks run inline).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "token/token.hpp"
#include "wwsf/core.hpp"
#include "wwsf/json.hpp"

namespace isthmus::wwsf::test {

inline constexpr int64_t kNow = 1764000000;
inline constexpr ScryptParams kFast{.n = 1024, .r = 8, .p = 1};

class CoreTest : public ::testing::Test {
  protected:
    CoreTest() : signer_(token::TokenSigner::generate()) {
        dir_.write("web/index.html", "<!doctype html><p>WIC</p>");
        dir_.write("web/app.js", "console.log(1);");
        dir_.write("web/style.css", "p{}");
        dir_.write("web/data.json", "{}");
        dir_.write("web/icon.svg", "<svg/>");
        dir_.write("web/sub/index.html", "sub");
        dir_.write("web/key.pem", "not served");
        dir_.write("web/.env", "SECRET=1");
        dir_.write("passwd", "root:x:0:0");
        std::filesystem::create_symlink(dir_.path() / "passwd", dir_.path() / "web/passwd.html");
        config_.ws_uri = "wss://pcscf.example.net:7443/sip";
        config_.domain = "ims.example.net";
        config_.token_audience = "pcscf.example.net";
        pool_ = {"sip:guest01@ims.example.net", "sip:guest02@ims.example.net"};
    }

    WwsfCore& core() {
        if (!core_) {
            const std::string users = "alice sip:alice@ims.example.net " +
                                      format_password_hash(hash_password("wonderland", kFast)) +
                                      "\nbob sip:bob@ims.example.net " +
                                      format_password_hash(hash_password("builder", kFast)) + "\n";
            core_.emplace(config_, signer_, UserDb::parse(users, "users"), GuestPool(pool_),
                          StaticFiles(dir_.path() / "web"));
            core_->set_log([this](const std::string& line) { logs_.push_back(line); });
        }
        return *core_;
    }

    static HttpRequest request(std::string method, std::string target, std::string body = {},
                               std::string cookie = {}, std::string peer = "198.18.0.10") {
        HttpRequest r;
        r.method = std::move(method);
        r.target = std::move(target);
        r.body = std::move(body);
        if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
        if (!cookie.empty()) {
            r.headers.emplace_back("cookie", "theme=dark; " + std::string(kSessionCookie) + "=" +
                                                 cookie + "; other=1");
        }
        r.secure = true;
        r.peer = std::move(peer);
        return r;
    }

    HttpResponse call(const HttpRequest& req, int64_t now = kNow) {
        Reply r = core().handle(req, now);
        if (auto* response = std::get_if<HttpResponse>(&r)) return *response;
        PasswordCheck check = std::get<PasswordCheck>(std::move(r));
        const bool matched = check_password(check);
        return core().finish_login(std::move(check), matched, now);
    }
    HttpResponse post(std::string target, std::string body = {}, std::string cookie = {},
                      int64_t now = kNow) {
        return call(request("POST", std::move(target), std::move(body), std::move(cookie)), now);
    }
    HttpResponse get(std::string target, int64_t now = kNow) {
        return call(request("GET", std::move(target)), now);
    }

    // A response's field, "" when it has none.
    static std::string field(const HttpResponse& r, std::string_view name) {
        const std::string* v = r.header(name);
        return v == nullptr ? std::string() : *v;
    }
    // The session cookie a response sets ("" for none; "-" when it clears it).
    static std::string cookie_of(const HttpResponse& r) {
        const std::string* set = r.header("Set-Cookie");
        if (set == nullptr) return {};
        const std::string prefix = std::string(kSessionCookie) + "=";
        EXPECT_EQ(set->rfind(prefix, 0), 0u) << *set;
        const std::string value = set->substr(prefix.size(), set->find(';') - prefix.size());
        return value.empty() ? "-" : value;
    }
    static JsonObject json_of(const HttpResponse& r) {
        std::string error;
        auto o = parse_json_object(r.body, error);
        EXPECT_TRUE(o) << r.body << ": " << error;
        return o.value_or(JsonObject{});
    }
    static std::string error_of(const HttpResponse& r) {
        const JsonObject o = json_of(r);
        const auto it = o.find("error");
        return it == o.end() ? std::string() : it->second.text;
    }
    std::string login(const std::string& user, const std::string& password, int64_t now = kNow) {
        const HttpResponse r = post(
            "/api/login", JsonWriter().add("user", user).add("password", password).str(), {}, now);
        EXPECT_EQ(r.status, 200u) << r.body;
        return cookie_of(r);
    }
    std::string all_logs() const {
        std::string all;
        for (const std::string& l : logs_)
            all += l + "\n";
        return all;
    }

    TempDir dir_;
    token::TokenSigner signer_;
    CoreConfig config_;
    std::vector<std::string> pool_;
    std::optional<WwsfCore> core_;
    std::vector<std::string> logs_;
};

}  // namespace isthmus::wwsf::test
