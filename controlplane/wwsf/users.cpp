// The users file (users.hpp).
#include "wwsf/users.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>
#include <vector>

#include "sip/uri.hpp"

namespace isthmus::wwsf {

namespace {

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        if (i == line.size()) break;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        out.push_back(line.substr(start, i - start));
    }
    return out;
}

}  // namespace

bool is_user_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (const char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' || c == '+' ||
                        c == '-';
        if (!ok) return false;
    }
    return true;
}

bool is_public_identity(std::string_view identity) {
    if (identity.size() > 256) return false;
    const auto uri = sip::parse_uri(identity);
    return uri && uri->is_sip() && !uri->user.empty() && !uri->password && uri->headers.empty();
}

UserDb UserDb::parse(std::string_view text, const std::string& origin) {
    UserDb db;
    std::size_t number = 0;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const auto fail = [&](const std::string& what) {
            throw UsersError(origin + ":" + std::to_string(number) + ": " + what);
        };
        const auto f = fields(line);
        if (f.empty() || f[0].front() == '#') continue;
        if (f.size() != 3) fail("expected NAME IDENTITY HASH");
        if (!is_user_name(f[0])) fail("user name must be 1..64 of [A-Za-z0-9._@+-]");
        if (!is_public_identity(f[1])) {
            fail("\"" + std::string(f[1]) +
                 "\" is not a public user identity (sip:user@domain or sips:)");
        }
        std::string why;
        auto hash = parse_password_hash(f[2], why);
        if (!hash) fail("password hash of " + std::string(f[0]) + ": " + why);
        User u{std::string(f[0]), std::string(f[1]), std::move(*hash)};
        if (!db.users_.emplace(u.name, u).second) fail("user " + u.name + " listed twice");
    }
    return db;
}

UserDb UserDb::load(const std::string& path) {
    std::error_code ec;
    std::ifstream in(path, std::ios::binary);
    if (!in || std::filesystem::is_directory(path, ec)) throw UsersError("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return parse(s.str(), path);
}

ScryptParams UserDb::common_params() const {
    std::map<std::tuple<uint64_t, uint32_t, uint32_t>, std::size_t> count;
    ScryptParams best;
    std::size_t best_count = 0;
    for (const auto& [name, user] : users_) {
        const ScryptParams& p = user.hash.params;
        const std::size_t n = ++count[{p.n, p.r, p.p}];
        if (n > best_count) {
            best_count = n;
            best = p;
        }
    }
    return best;
}

const User* UserDb::find(std::string_view name) const {
    const auto it = users_.find(name);
    return it == users_.end() ? nullptr : &it->second;
}

}  // namespace isthmus::wwsf
