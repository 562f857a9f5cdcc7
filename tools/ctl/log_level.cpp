// `isthmus-ctl log-level` (log_level.hpp).
#include "ctl/log_level.hpp"

#include <cstdio>
#include <exception>

namespace isthmus::ctl {

bool parse_log_level_args(const std::vector<std::string>& args, LogLevelArgs& out,
                          std::string& error) {
    LogLevelArgs parsed;
    std::vector<std::string> words;
    bool named = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--name") {
            if (i + 1 == args.size()) {
                error = "--name needs a value (the daemon's log_control, \"/isthmus-pcscf-log\")";
                return false;
            }
            parsed.name = args[++i];
            if (!log::valid_control_name(parsed.name)) {
                error = "--name '" + parsed.name + "': must be '/' and a name without another '/'";
                return false;
            }
            named = true;
        } else if (!a.empty() && a[0] == '-') {
            error = "unexpected option '" + a + "'";
            return false;
        } else {
            words.push_back(a);
        }
    }
    if (words.empty()) {
        error = "give the daemon: dataplane, pcscf or wwsf";
        return false;
    }
    const auto default_name = log::default_control_name(words[0]);
    if (!default_name) {
        error = "unknown daemon '" + words[0] + "' (dataplane, pcscf or wwsf)";
        return false;
    }
    parsed.daemon = words[0];
    if (!named) parsed.name = std::string(*default_name);
    if (words.size() >= 2) {
        parsed.level = log::parse_level(words[1]);
        if (!parsed.level) {
            error = "unknown level '" + words[1] + "' (" + std::string(log::kLevelWords) + ")";
            return false;
        }
    }
    if (words.size() > 2) {
        error = "unexpected argument '" + words[2] + "'";
        return false;
    }
    out = std::move(parsed);
    return true;
}

std::string format_log_control(const log::LogControl& control) {
    std::string line = "daemon=" + log::daemon_of(control) +
                       " pid=" + std::to_string(control.pid.load()) +
                       " level=" + std::string(log::level_name(log::level_of(control)));
    for (std::size_t i = 0; i < log::kLevelCount; ++i) {
        line += " lines_" + std::string(log::level_name(static_cast<log::Level>(i))) + "=" +
                std::to_string(control.lines[i].load(std::memory_order_relaxed));
    }
    line += " suppressed=" + std::to_string(control.suppressed.load(std::memory_order_relaxed));
    return line;
}

int log_level_command(const std::vector<std::string>& args) {
    LogLevelArgs a;
    std::string error;
    if (!parse_log_level_args(args, a, error)) {
        std::fprintf(stderr,
                     "isthmus-ctl: log-level: %s\n(isthmus-ctl --help lists the commands and "
                     "options)\n",
                     error.c_str());
        return 2;
    }
    try {
        const log::SharedLogControl control =
            log::SharedLogControl::attach(a.name, a.level.has_value());
        const uint32_t pid = control->pid.load();
        if (!log::SharedLogControl::process_alive(pid)) {
            std::fprintf(stderr,
                         "error: log control %s: its daemon (pid %u) is not running (a stale "
                         "object: the next start replaces it)\n",
                         a.name.c_str(), pid);
            return 1;
        }
        const std::string holder = log::daemon_of(*control);
        if (holder != a.daemon) {
            std::fprintf(stderr, "error: log control %s belongs to %s, not %s\n", a.name.c_str(),
                         holder.c_str(), a.daemon.c_str());
            return 1;
        }
        if (a.level)
            control->level.store(static_cast<uint32_t>(*a.level), std::memory_order_relaxed);
        std::printf("%s\n", format_log_control(*control).c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

}  // namespace isthmus::ctl
