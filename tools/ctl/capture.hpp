// `isthmus-ctl capture`: frames of the dataplane's ports, or of one
// session, into a pcapng file (include/isthmus/dpif/capture.hpp has the
// protocol between the capturer and the dataplane's lcores).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isthmus/dpif/capture.hpp"

namespace isthmus::ctl {

struct CaptureOptions {
    uint32_t sides = dpif::kCaptureAccess | dpif::kCaptureCore;
    uint64_t session_id = 0;  // 0: every frame of the ports
    uint64_t count = 0;       // stop after this many frames (0: no limit)
    uint64_t seconds = 0;     // stop after this long (0: until SIGINT / SIGTERM)
    uint32_t snaplen = dpif::kCaptureData;
    std::string file;  // "-": standard output
};

// Parses the arguments after "capture". False with `error` set (a usage
// error) on an unknown option, a missing or bad value, or no -w.
bool parse_capture_args(const std::vector<std::string>& args, CaptureOptions& out,
                        std::string& error);

// Runs a capture against the dataplane of `region`; returns the exit status
// (0 done, 1 the dataplane is not there / another capture runs / it did not
// take the capture / the file cannot be written). Prints a key=value
// summary (on stderr when the file is standard output).
int run_capture(const std::string& region, const CaptureOptions& opt);

}  // namespace isthmus::ctl
