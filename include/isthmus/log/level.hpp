// Log levels (issue 10): the words every daemon writes after "level=", from
// the most to the least severe. A line is written when its level is at or
// above the daemon's (error < warning < notice < info < debug: at "info"
// everything but debug is written). Header-only; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace isthmus::log {

enum class Level : uint32_t {
    Error = 0,    // the daemon or one of its parts cannot go on as configured
    Warning = 1,  // something is wrong or degraded, the daemon goes on
    Notice = 2,   // a refusal or a retry worth an operator's eye (a failed login)
    Info = 3,     // one line per event (started, attached, a login, counters)
    Debug = 4,    // one line per message or request: never per packet
};
inline constexpr std::size_t kLevelCount = 5;

// The words, as parse_level takes them and error messages list them.
inline constexpr std::string_view kLevelWords =
    "\"error\", \"warning\", \"notice\", \"info\" or \"debug\"";

// "error", "warning", "notice", "info", "debug"; "?" for a value out of range
// (a level read from shared memory is not trusted).
constexpr std::string_view level_name(Level level) {
    switch (level) {
        case Level::Error:
            return "error";
        case Level::Warning:
            return "warning";
        case Level::Notice:
            return "notice";
        case Level::Info:
            return "info";
        case Level::Debug:
            return "debug";
    }
    return "?";
}

// The level named `word` exactly (lower case, as written in the lines);
// nullopt for anything else ("Info", "warn", "").
constexpr std::optional<Level> parse_level(std::string_view word) {
    for (uint32_t i = 0; i < kLevelCount; ++i) {
        if (level_name(static_cast<Level>(i)) == word) return static_cast<Level>(i);
    }
    return std::nullopt;
}

// A POSIX shared-memory name for a log control object: '/', then 1..200
// characters none of which is another '/' or a NUL ("/isthmus-pcscf-log").
constexpr bool valid_control_name(std::string_view name) {
    if (name.size() < 2 || name.size() > 201 || name[0] != '/') return false;
    for (std::size_t i = 1; i < name.size(); ++i) {
        if (name[i] == '/' || name[i] == '\0') return false;
    }
    return true;
}

}  // namespace isthmus::log
