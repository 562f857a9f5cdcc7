// Static files under the web root (static_files.hpp).
#include "wwsf/static_files.hpp"

#include <array>
#include <fstream>
#include <sstream>
#include <utility>

namespace isthmus::wwsf {

namespace {

constexpr std::uintmax_t kMaxFile = 16u << 20;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// One path segment, percent-decoded; false for anything not safe as a
// file name component.
bool decode_segment(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return false;
            const int hi = hex_value(in[i + 1]);
            const int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e || c == '/' || c == '\\') return false;
        out += c;
    }
    return !out.empty() && out.front() != '.';
}

}  // namespace

std::optional<std::string> static_path(std::string_view target) {
    if (target.empty() || target.front() != '/') return std::nullopt;
    const std::size_t query = target.find_first_of("?#");
    std::string_view path =
        target.substr(1, query == std::string_view::npos ? target.npos : query - 1);
    std::string out;
    std::string segment;
    while (!path.empty()) {
        const std::size_t slash = path.find('/');
        const std::string_view raw = path.substr(0, slash);
        if (!decode_segment(raw, segment)) return std::nullopt;
        if (!out.empty()) out += '/';
        out += segment;
        if (slash == std::string_view::npos) return out;
        path.remove_prefix(slash + 1);
        if (path.empty()) break;  // a final '/': the directory's index
    }
    if (!out.empty()) out += '/';
    return out + "index.html";
}

std::string_view content_type_for(std::string_view path) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes = {{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".wasm", "application/wasm"},
        {".txt", "text/plain; charset=utf-8"},
    }};
    const std::size_t slash = path.rfind('/');
    const std::size_t dot = path.rfind('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
        return {};
    }
    const std::string_view ext = path.substr(dot);
    for (const auto& [e, type] : kTypes) {
        if (e == ext) return type;
    }
    return {};
}

StaticFiles::StaticFiles(std::filesystem::path root) : root_(std::move(root)) {
    std::error_code ec;
    auto canonical = std::filesystem::canonical(root_, ec);
    if (!ec) root_ = std::move(canonical);
}

std::optional<std::string> StaticFiles::read(const std::string& relative) const {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path real = fs::canonical(root_ / relative, ec);
    if (ec) return std::nullopt;
    // Inside the root once links are resolved: the root is a prefix of the
    // real path, component by component.
    auto r = root_.begin();
    auto p = real.begin();
    for (; r != root_.end(); ++r, ++p) {
        if (p == real.end() || *p != *r) return std::nullopt;
    }
    if (!fs::is_regular_file(real, ec) || ec) return std::nullopt;
    const auto size = fs::file_size(real, ec);
    if (ec || size > kMaxFile) return std::nullopt;
    std::ifstream in(real, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace isthmus::wwsf
