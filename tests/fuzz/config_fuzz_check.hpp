// The property the configuration fuzzing checks, shared by the libFuzzer
// targets (wwsf_config_fuzz.cpp, pcscf_config_fuzz.cpp) and the CI
// regression test (config_fuzz_regress_test.cpp). The loaders
// (wwsf/config.hpp load_wwsf_text, pcscf/daemon_config.hpp load_pcscf_text)
// read configs/isthmus.toml at every start and on --check-config:
//
//  - any text either loads, or throws the loader's documented error type
//    (WwsfConfigError / PcscfConfigError) whose message starts with the
//    origin it was given ("fuzz.toml:"); any other exception, a crash, a
//    hang or a sanitizer report is a bug;
//  - loading is deterministic: the same text gives the same outcome (the
//    same message) twice.
//
// The loaders read the files the configuration names (keys, certificates,
// the users file). Seeds name the test files of tests/fuzz/files as
// "@FILES@/name"; every "@FILES@" is replaced by that directory before
// loading. Inputs whose TOML names a special file (a string value holding
// "/dev", "/proc", "/sys" or "/run", or starting "dev", "proc", "sys",
// "run") are skipped: reading /dev/zero or /dev/stdin would hang the run,
// not find a bug. Missing, unreadable and malformed files are fine: they
// must give the documented error.
//
// Returns "" when all hold, else what broke. Header-only so that the fuzz
// script can build it without meson.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <toml++/toml.h>
#pragma GCC diagnostic pop

#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

namespace isthmus::config_fuzz {

inline constexpr std::string_view kOrigin = "fuzz.toml";
inline constexpr std::string_view kFilesMark = "@FILES@";

// tests/fuzz/files of the tree `fuzz_dir` (tests/fuzz) belongs to.
inline std::string files_dir(const std::string& fuzz_dir) {
    return fuzz_dir + "/files";
}

inline std::string expand(std::string_view text, const std::string& files) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text.substr(i, kFilesMark.size()) == kFilesMark) {
            out += files;
            i += kFilesMark.size();
        } else {
            out += text[i++];
        }
    }
    return out;
}

inline bool special_path(std::string_view s) {
    for (const std::string_view d : {"dev", "proc", "sys", "run"}) {
        if (s.starts_with(d)) return true;
        for (std::size_t at = s.find(d); at != std::string_view::npos; at = s.find(d, at + 1))
            if (at > 0 && s[at - 1] == '/') return true;
    }
    return false;
}

inline bool names_special_file(const toml::node& n) {
    if (const toml::table* t = n.as_table()) {
        for (const auto& [key, value] : *t)
            if (names_special_file(value)) return true;
        return false;
    }
    if (const toml::array* a = n.as_array()) {
        for (const toml::node& value : *a)
            if (names_special_file(value)) return true;
        return false;
    }
    const auto s = n.value_exact<std::string>();
    return s && special_path(*s);
}

// Whether `text` may be given to a loader: it does not parse (the loader
// refuses it before reading any file) or names no special file.
inline bool safe(const std::string& text) {
    try {
        const toml::table root = toml::parse(text, std::string(kOrigin));
        return !names_special_file(root);
    } catch (const toml::parse_error&) {
        return true;
    }
}

// One load: "" when it loaded, "E:" + the message for the documented
// error, "X:" + what for anything else.
template <class Error, class Load>
std::string outcome(const std::string& text, Load load) {
    try {
        (void)load(text, std::string(kOrigin));
        return "";
    } catch (const Error& e) {
        return std::string("E:") + e.what();
    } catch (const std::exception& e) {
        return std::string("X:") + typeid(e).name() + ": " + e.what();
    } catch (...) {
        return "X:an exception not derived from std::exception";
    }
}

template <class Error, class Load>
std::string check_input(std::string_view input, const std::string& files, Load load) {
    const std::string text = expand(input, files);
    if (!safe(text)) return "";
    const std::string once = outcome<Error>(text, load);
    if (once.starts_with("X:")) return "undocumented exception " + once.substr(2);
    if (!once.empty() && !once.starts_with("E:" + std::string(kOrigin) + ":"))
        return "error does not start with the origin: " + once.substr(2);
    const std::string twice = outcome<Error>(text, load);
    if (twice != once) return "loading twice differs: [" + once + "] then [" + twice + "]";
    return "";
}

}  // namespace isthmus::config_fuzz
