// The seam between the WWSF's HTTP server (server.hpp, Boost.Beast) and its
// sans-I/O core (core.hpp): a whole request as parsed, a whole response to
// write. Plain values; any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isthmus::wwsf {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method;  // "GET", as received
    std::string target;  // origin-form "/path?query", as received
    HeaderList headers;  // names in lower case, values as received, in order
    std::string body;
    bool secure = false;  // received over TLS (the https listener)
    std::string peer;     // the client's address, for logs and per-address bounds

    // The first field called `name` (lower case), or nullptr.
    const std::string* header(std::string_view name) const {
        for (const auto& [n, v] : headers) {
            if (n == name) return &v;
        }
        return nullptr;
    }
};

struct HttpResponse {
    unsigned status = 200;
    HeaderList headers;  // names as written on the wire
    std::string body;
    // A response to HEAD: Content-Length is that of `body`, which is not
    // sent.
    bool head = false;

    const std::string* header(std::string_view name) const {
        for (const auto& [n, v] : headers) {
            if (n.size() == name.size()) {
                bool same = true;
                for (std::size_t i = 0; i < n.size() && same; ++i) {
                    same = (n[i] | 0x20) == (name[i] | 0x20);
                }
                if (same) return &v;
            }
        }
        return nullptr;
    }
};

}  // namespace isthmus::wwsf
