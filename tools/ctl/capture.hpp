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

// The capturer's side of the capture protocol (include/isthmus/dpif/
// capture.hpp) over one region's CaptureControl. The clock is the caller's
// (CLOCK_MONOTONIC ns, as the dataplane's), so tests drive it.
class CaptureClaim {
  public:
    CaptureClaim(dpif::CaptureControl& cc, uint32_t pid) : cc_(cc), pid_(pid) {}

    // Takes the claim: false (with the holder's pid) while another owner
    // refreshes its beat; an owner silent for kCaptureOwnerTimeoutNs is
    // taken over.
    bool claim(uint64_t now_ns, uint32_t& holder);
    // While capturing: refreshes the beat. False when the claim is no
    // longer ours or the capture was stopped by another (the dataplane).
    bool beat(uint64_t now_ns);
    // A capture an earlier owner left running (odd seq) is stopped: the
    // even seq to wait for, 0 when there was none.
    uint32_t stop_leftover();
    // Writes the filter and starts: the odd seq the lcores acknowledge, 0
    // when seq moved under us (then nothing was started).
    uint32_t start(uint32_t sides, uint32_t snaplen, uint64_t session_id);
    // Stops our capture: the even seq to wait for, 0 when another stopped it.
    uint32_t stop();
    // Gives the claim back (only if it is still ours).
    void release();
    // Every served ring's producer adopted `seq`.
    bool acknowledged(uint32_t seq) const;

  private:
    dpif::CaptureControl& cc_;
    uint32_t pid_;
    uint32_t started_ = 0;  // our odd seq while capturing
};

// Runs a capture against the dataplane of `region`; returns the exit status
// (0 done, 1 the dataplane is not there / another capture runs / it did not
// take the capture / the file cannot be written). Prints a key=value
// summary (on stderr when the file is standard output).
int run_capture(const std::string& region, const CaptureOptions& opt);

}  // namespace isthmus::ctl
