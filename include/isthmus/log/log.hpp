// Structured logs (issue 10): one line per event, "PREFIX: level=LEVEL
// event=NAME key=value ...", filtered by a level that `isthmus-ctl
// log-level` changes while the daemon runs; never per packet.
//
//   isthmus::log::Logger log("isthmus-pcscf", stderr, cfg.log_level);
//   if (const std::string why = log.publish(cfg.log_control, "pcscf"); !why.empty())
//       log.write(Level::Warning, "event=log_control_unavailable ...");
//   log.write(Level::Info, "event=started threads=2");
//   if (log.admit(Level::Debug)) log.write(Level::Debug, expensive_text());
//
// Header-only, as the rest of include/isthmus is. Thread-safety: publish()
// on the setup path, before any other thread logs; everything else from any
// thread (each line is one fwrite on a locked FILE, then fflush, so lines of
// two threads never interleave).
#pragma once

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>

#include "isthmus/log/control.hpp"
#include "isthmus/log/level.hpp"

namespace isthmus::log {

#if defined(__GNUC__)
#define ISTHMUS_LOG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define ISTHMUS_LOG_PRINTF(fmt, args)
#endif

// Appends printf-formatted text to `out` (for a line built in parts).
inline void vappendf(std::string& out, const char* fmt, va_list args) {
    char buf[512];
    va_list again;
    va_copy(again, args);
    const int n = std::vsnprintf(buf, sizeof buf, fmt, args);
    if (n < 0) {
        va_end(again);
        return;
    }
    if (static_cast<std::size_t>(n) < sizeof buf) {
        out.append(buf, static_cast<std::size_t>(n));
    } else {
        const std::size_t at = out.size();
        out.resize(at + static_cast<std::size_t>(n) + 1);
        std::vsnprintf(out.data() + at, static_cast<std::size_t>(n) + 1, fmt, again);
        out.resize(at + static_cast<std::size_t>(n));
    }
    va_end(again);
}
ISTHMUS_LOG_PRINTF(2, 3) inline void appendf(std::string& out, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vappendf(out, fmt, args);
    va_end(args);
}

// Text for inside a quoted value (what="..."): spaces stay; '"', '\\' and
// control octets become %XX, so it can neither close the quotes nor end
// the line; more than `max` octets are cut and end in "...".
inline std::string quoted_text(std::string_view value, std::size_t max = 300) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(std::min(value.size(), max) + 8);
    for (std::size_t i = 0; i < value.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0x0f];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (value.size() > max) out += "...";
    return out;
}

// A value from outside (a path, a Call-ID) made safe for a key=value line:
// octets outside '!'..'~', '"' and '\\' become %XX, so a value can neither
// end the line nor start another key; more than `max` octets are cut and
// end in "...". Empty: "-".
inline std::string escape_value(std::string_view value, std::size_t max = 200) {
    if (value.empty()) return "-";
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(std::min(value.size(), max) + 8);
    for (std::size_t i = 0; i < value.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0x0f];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (value.size() > max) out += "...";
    return out;
}

// One daemon's log: its prefix and stream, its level and counters (in its
// own memory until publish() moves them to the shared LogControl).
class Logger {
  public:
    // `prefix`: "isthmus-pcscf" gives "isthmus-pcscf: level=..."; "" gives
    // "level=..." (the dataplane's lines). `out`: the stream (not owned).
    Logger(std::string prefix, std::FILE* out, Level level)
        : prefix_(prefix.empty() ? std::string() : std::move(prefix) + ": "), out_(out) {
        local_.level.store(static_cast<uint32_t>(level));
    }
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    // Creates the shared-memory LogControl `name` for `daemon` (see
    // SharedLogControl::create) with the current level and the counts so
    // far, and reads the level from it from now on. Returns "" when done,
    // else why not: the logger then goes on with its level fixed (a daemon
    // without a writable /dev/shm still runs). Setup path, before other
    // threads log.
    std::string publish(const std::string& name, std::string_view daemon) {
        try {
            SharedLogControl shared = SharedLogControl::create(name, daemon, level());
            for (std::size_t i = 0; i < kLevelCount; ++i)
                shared->lines[i].store(local_.lines[i].load());
            shared->suppressed.store(local_.suppressed.load());
            shared_ = std::move(shared);
            control_ = shared_.get();
            return {};
        } catch (const std::exception& e) {
            return e.what();
        }
    }

    // Whether a line of `level` would be written now: one relaxed load.
    bool enabled(Level level) const noexcept {
        return static_cast<uint32_t>(level) <= control_->level.load(std::memory_order_relaxed);
    }
    Level level() const noexcept { return level_of(*control_); }

    // enabled(), for a line that is costly to build (one per SIP message,
    // request or command): false also counts the line as suppressed, as
    // write() would, so that `suppressed` says what a more verbose level
    // would have added.
    //   if (log.admit(Level::Debug)) log.write(Level::Debug, describe(msg));
    bool admit(Level level) noexcept {
        if (enabled(level)) return true;
        control_->suppressed.fetch_add(1, std::memory_order_relaxed);
        return false;
    }

    // Writes "PREFIX: level=LEVEL TEXT\n" and counts it, or counts it as
    // suppressed when `level` is not enabled. TEXT starts with "event=".
    void write(Level level, std::string_view text) {
        if (!enabled(level)) {
            control_->suppressed.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        const std::string_view name = level_name(level);
        std::string line;
        line.reserve(prefix_.size() + 7 + name.size() + 1 + text.size() + 1);
        line += prefix_;
        line += "level=";
        line += name;
        line += ' ';
        line += text;
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), out_);
        std::fflush(out_);
        control_->lines[static_cast<uint32_t>(level)].fetch_add(1, std::memory_order_relaxed);
    }

    // write() of printf-formatted text.
    ISTHMUS_LOG_PRINTF(3, 4) void writef(Level level, const char* fmt, ...) {
        if (!enabled(level)) {
            control_->suppressed.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        std::string text;
        va_list args;
        va_start(args, fmt);
        vappendf(text, fmt, args);
        va_end(args);
        write(level, text);
    }

    // A line that names its own level, "level=WORD TEXT" (what the sans-I/O
    // cores hand their log sinks): written at that level as write() would,
    // byte for byte the same. A line without a known level word is written
    // whole at info.
    void write_tagged(std::string_view line) {
        constexpr std::string_view tag = "level=";
        if (line.substr(0, tag.size()) == tag) {
            const std::size_t space = line.find(' ', tag.size());
            const std::string_view word =
                line.substr(tag.size(), space == std::string_view::npos ? std::string_view::npos
                                                                        : space - tag.size());
            if (const auto level = parse_level(word); level && space != std::string_view::npos) {
                write(*level, line.substr(space + 1));
                return;
            }
        }
        write(Level::Info, line);
    }

    // The counters and level in use (the shared object's once published).
    const LogControl& control() const noexcept { return *control_; }
    // True once publish() succeeded.
    bool published() const noexcept { return static_cast<bool>(shared_); }

  private:
    std::string prefix_;
    std::FILE* out_;
    LogControl local_;
    SharedLogControl shared_;
    LogControl* control_ = &local_;
};

}  // namespace isthmus::log

#undef ISTHMUS_LOG_PRINTF
