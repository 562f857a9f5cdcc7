// The WWSF's web users (wwsf.users_file): one line per user,
//
//   NAME IDENTITY HASH
//
// NAME the login name (1..64 of [A-Za-z0-9._@+-]), IDENTITY the public user
// identity the user registers as (a SIP or SIPS URI with a user part,
// "sip:alice@ims.example.net"; TS 24.371 A.3.2), HASH the password hash
// (password.hpp: scrypt$N$r$p$salt$hash; `isthmus-wwsf --hash-password`
// makes one). Fields are separated by spaces or tabs; blank lines and
// lines starting with '#' are skipped. A name listed twice is an error.
//
// Immutable once built; any thread.
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "wwsf/password.hpp"

namespace isthmus::wwsf {

struct UsersError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct User {
    std::string name;
    std::string identity;
    PasswordHash hash;
};

class UserDb {
  public:
    UserDb() = default;
    // Parses a users file's text read from `origin` (named in errors).
    // Throws UsersError "ORIGIN:LINE: what is wrong" (the hash itself is
    // never quoted).
    static UserDb parse(std::string_view text, const std::string& origin);
    // Reads and parses the file at `path`; UsersError when it cannot be read.
    static UserDb load(const std::string& path);

    const User* find(std::string_view name) const;
    std::size_t size() const { return users_.size(); }
    // The scrypt parameters most users' hashes have (the defaults when there
    // are no users): what a check for an unknown user should cost.
    ScryptParams common_params() const;

  private:
    std::map<std::string, User, std::less<>> users_;
};

// Whether `name` is a valid login name (1..64 of [A-Za-z0-9._@+-]).
bool is_user_name(std::string_view name);
// Whether `identity` is a public user identity we issue tokens for: a SIP
// or SIPS URI (controlplane/sip/uri.hpp) with a user part and no
// ?headers.
bool is_public_identity(std::string_view identity);

}  // namespace isthmus::wwsf
