// The WIC's files under wwsf.web_root, served as they are.
//
// A request target maps to a file only through static_path(): the path is
// split on '/', each segment percent-decoded, and a segment that is empty
// (but for a final '/'), "." or "..", that starts with '.' (hidden files:
// .git, .env), or that holds '/', '\', NUL, a control or a non-ASCII octet
// once decoded refuses the whole target (404) — "/../etc/passwd",
// "/%2e%2e/etc/passwd", "/a/..%2fb", "/..\\x" never leave the root.
// StaticFiles then also resolves symbolic links and refuses a file whose
// real path is outside the root's, anything but a regular file, and files
// over 16 MiB. Only the types below are served (404 for others).
//
// static_path and content_type_for are pure; StaticFiles reads the file
// system (any thread).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace isthmus::wwsf {

// "/" -> "index.html", "/js/app.js?v=2" -> "js/app.js", "/d/" ->
// "d/index.html"; nullopt for a target that is not a safe relative path
// (above) or does not start with '/'.
std::optional<std::string> static_path(std::string_view target);

// The Content-Type of a relative path by its extension (lower case):
// .html, .js, .mjs, .css, .json, .map, .svg, .png, .ico, .woff2, .wasm,
// .txt; "" for any other (not served).
std::string_view content_type_for(std::string_view path);

class StaticFiles {
  public:
    // `root` need not exist (then nothing is found).
    explicit StaticFiles(std::filesystem::path root);
    // The contents of `relative` (from static_path) under the root, or
    // nullopt: missing, not a regular file, outside the root once links are
    // resolved, over 16 MiB, unreadable.
    std::optional<std::string> read(const std::string& relative) const;

  private:
    std::filesystem::path root_;  // canonical when it exists
};

}  // namespace isthmus::wwsf
