// `isthmus-ctl log-level DAEMON [LEVEL] [--name SHM]` (issue 10): reads, and
// with LEVEL sets, the log level of a running isthmus-dataplane,
// isthmus-pcscf or isthmus-wwsf through its log control object
// (include/isthmus/log/control.hpp), then prints one line:
//
//   daemon=pcscf pid=4242 level=info lines_error=0 lines_warning=1
//   lines_notice=0 lines_info=12 lines_debug=0 suppressed=0
//
// (one line on stdout). DAEMON picks the object's default name
// ("/isthmus-pcscf-log"); --name names another (the daemon's log_control).
// Exit status: 0 done; 1 no such object, not a log control of this
// version, another daemon's, or its daemon is not running ("error: ..." on
// stderr); 2 usage error. The parsing and the line are pure functions
// (tests/unit/ctl/log_level_test.cpp); log_level_command does the I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "isthmus/log/control.hpp"
#include "isthmus/log/level.hpp"

namespace isthmus::ctl {

struct LogLevelArgs {
    std::string daemon;               // "dataplane", "pcscf" or "wwsf"
    std::string name;                 // the object: --name, else DAEMON's default
    std::optional<log::Level> level;  // set it; nullopt: only read
};

// The words after "log-level" -> out. False with `error` saying why (the
// caller exits 2): no DAEMON, an unknown one, an unknown LEVEL, --name
// without a value or with an invalid name, anything extra.
bool parse_log_level_args(const std::vector<std::string>& args, LogLevelArgs& out,
                          std::string& error);

// "daemon=pcscf pid=4242 level=info lines_error=0 ... suppressed=0".
std::string format_log_control(const log::LogControl& control);

// The whole command: parse, attach, check, set, print. Returns the exit
// status; prints the line on stdout, errors on stderr.
int log_level_command(const std::vector<std::string>& args);

}  // namespace isthmus::ctl
