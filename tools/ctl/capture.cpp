#include "ctl/capture.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "ctl/pcapng.hpp"
#include "isthmus/dpif/shm.hpp"

namespace isthmus::ctl {

namespace {

volatile sig_atomic_t g_stop = 0;
void on_stop(int) {
    g_stop = 1;
}

bool parse_u64(const std::string& text, uint64_t& out) {
    if (text.empty() || text.size() > 19) return false;
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    out = v;
    return true;
}

uint64_t monotonic_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000ULL + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

// Waits until every ring's producer adopted `seq` (or `timeout_ms` passed).
bool wait_acks(const dpif::CaptureControl& cc, uint32_t seq, uint64_t timeout_ms) {
    const uint64_t until = monotonic_ms() + timeout_ms;
    for (;;) {
        bool all = cc.ack[dpif::kCaptureSlowPathRing].load() == seq;
        for (uint32_t r = 0; all && r < cc.worker_rings && r < dpif::kCaptureSlowPathRing; ++r)
            all = cc.ack[r].load() == seq;
        if (all) return true;
        if (monotonic_ms() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

class Capturer {
  public:
    Capturer(dpif::Region& region, const CaptureOptions& opt, std::FILE* out)
        : region_(region), cc_(region.capture.control), opt_(opt), out_(out) {}

    // Reads every record waiting in the rings, oldest first per ring, and
    // writes them ordered by time. False when the file cannot be written.
    bool drain() {
        batch_.clear();
        for (uint32_t r = 0; r < dpif::kCaptureRings; ++r) {
            dpif::CaptureRecord rec;
            while (region_.capture.ring[r].try_pop(rec)) {
                if (!writing_) continue;
                batch_.push_back(rec);
            }
        }
        std::stable_sort(batch_.begin(), batch_.end(),
                         [](const dpif::CaptureRecord& a, const dpif::CaptureRecord& b) {
                             return a.tsc < b.tsc;
                         });
        buf_.clear();
        for (const dpif::CaptureRecord& rec : batch_) {
            if (opt_.count != 0 && frames_ >= opt_.count) break;
            const std::size_t n = std::min<std::size_t>(rec.cap_len, dpif::kCaptureData);
            pcapng_packet(
                buf_, rec.side & 1U, wall_ns(rec.tsc), std::span<const uint8_t>(rec.data, n),
                rec.orig_len, rec.dir == static_cast<uint8_t>(dpif::CaptureDir::In),
                rec.session_id != 0 ? "session=" + std::to_string(rec.session_id) : std::string());
            ++frames_;
        }
        return write(buf_);
    }

    bool start_file() {
        buf_.clear();
        pcapng_section_header(buf_, "isthmus-ctl capture");
        pcapng_interface(buf_, "access", opt_.snaplen);
        pcapng_interface(buf_, "core", opt_.snaplen);
        writing_ = true;
        return write(buf_);
    }

    uint64_t frames() const { return frames_; }

  private:
    bool write(const std::string& bytes) {
        if (bytes.empty()) return true;
        return std::fwrite(bytes.data(), 1, bytes.size(), out_) == bytes.size() &&
               std::fflush(out_) == 0;
    }
    uint64_t wall_ns(uint64_t tsc) const {
        if (cc_.tsc_hz == 0) return cc_.realtime_ref_ns;
        // Split so that no product overflows: whole seconds, then the rest.
        const auto d = static_cast<int64_t>(tsc - cc_.tsc_ref);
        const auto hz = static_cast<int64_t>(cc_.tsc_hz);
        const int64_t ns = d / hz * 1000000000 + d % hz * 1000000000 / hz;
        return cc_.realtime_ref_ns + static_cast<uint64_t>(ns);
    }

    dpif::Region& region_;
    const dpif::CaptureControl& cc_;
    const CaptureOptions& opt_;
    std::FILE* out_;
    bool writing_ = false;
    uint64_t frames_ = 0;
    std::vector<dpif::CaptureRecord> batch_;
    std::string buf_;
};

int fail(const std::string& what) {
    std::fprintf(stderr, "error: %s\n", what.c_str());
    return 1;
}

}  // namespace

bool parse_capture_args(const std::vector<std::string>& args, CaptureOptions& out,
                        std::string& error) {
    CaptureOptions o;
    bool have_file = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool has_value = i + 1 < args.size();
        if (a != "--port" && a != "--session" && a != "--count" && a != "--seconds" &&
            a != "--snaplen" && a != "-w" && a != "--write") {
            error = "unknown option '" + a + "'";
            return false;
        }
        if (!has_value) {
            error = a + " needs a value";
            return false;
        }
        const std::string& v = args[++i];
        uint64_t n = 0;
        if (a == "--port") {
            if (v == "access") {
                o.sides = dpif::kCaptureAccess;
            } else if (v == "core") {
                o.sides = dpif::kCaptureCore;
            } else if (v == "both") {
                o.sides = dpif::kCaptureAccess | dpif::kCaptureCore;
            } else {
                error = "--port: access, core or both, not '" + v + "'";
                return false;
            }
        } else if (a == "-w" || a == "--write") {
            if (v.empty()) {
                error = a + ": give a file name (or - for standard output)";
                return false;
            }
            o.file = v;
            have_file = true;
        } else if (!parse_u64(v, n)) {
            error = a + ": not a number: '" + v + "'";
            return false;
        } else if (a == "--session") {
            if (n == 0) {
                error = "--session: a session id is not 0";
                return false;
            }
            o.session_id = n;
        } else if (a == "--count") {
            o.count = n;
        } else if (a == "--seconds") {
            o.seconds = n;
        } else {  // --snaplen
            if (n < 64 || n > dpif::kCaptureData) {
                error = "--snaplen: 64 to " + std::to_string(dpif::kCaptureData) + ", not " + v;
                return false;
            }
            o.snaplen = static_cast<uint32_t>(n);
        }
    }
    if (!have_file) {
        error = "give the file to write with -w FILE (- for standard output)";
        return false;
    }
    out = o;
    return true;
}

int run_capture(const std::string& region_name, const CaptureOptions& opt) {
    dpif::SharedRegion region = dpif::SharedRegion::attach(region_name);
    if (region->header.state.load() != static_cast<uint32_t>(dpif::DataplaneState::Running))
        return fail("the dataplane of " + region_name + " is not running");
    dpif::CaptureControl& cc = region->capture.control;

    // The claim: one capture at a time; a dead owner's is taken over (the
    // dataplane frees it within a heartbeat too).
    const auto me = static_cast<uint32_t>(::getpid());
    uint32_t owner = 0;
    while (!cc.owner_pid.compare_exchange_strong(owner, me)) {
        if (::kill(static_cast<pid_t>(owner), 0) == 0 || errno != ESRCH) {
            return fail("a capture by pid " + std::to_string(owner) + " is running on " +
                        region_name);
        }
    }
    const auto release = [&] { cc.owner_pid.store(0); };

    std::FILE* out = opt.file == "-" ? stdout : std::fopen(opt.file.c_str(), "wb");
    if (out == nullptr) {
        const int err = errno;
        release();
        return fail(opt.file + ": " + std::strerror(err));
    }
    std::FILE* report = opt.file == "-" ? stderr : stdout;
    Capturer cap(*region.get(), opt, out);
    const auto close_out = [&] {
        if (out != stdout) std::fclose(out);
    };

    // A capture a dead owner left running is stopped first; what it left
    // in the rings is dropped.
    if ((cc.seq.load() & 1U) != 0) {
        const uint32_t stopped = cc.seq.fetch_add(1) + 1;
        wait_acks(cc, stopped, 1000);
    }
    cap.drain();
    uint64_t dropped0 = 0;
    for (uint32_t r = 0; r < dpif::kCaptureRings; ++r)
        dropped0 += cc.dropped[r].load();

    if (!cap.start_file()) {
        const int err = errno;
        close_out();
        release();
        return fail(opt.file + ": " + std::strerror(err));
    }
    cc.sides = opt.sides;
    cc.snaplen = opt.snaplen;
    cc.session_id = opt.session_id;
    const uint32_t started = cc.seq.fetch_add(1, std::memory_order_acq_rel) + 1;

    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    int rc = 0;
    if (!wait_acks(cc, started, 3000)) {
        std::fprintf(stderr, "error: the dataplane's lcores did not take the capture within 3 s\n");
        rc = 1;
    } else {
        std::fprintf(stderr, "capturing on %s%s%s to %s\n",
                     opt.sides == dpif::kCaptureAccess ? "access"
                     : opt.sides == dpif::kCaptureCore ? "core"
                                                       : "access and core",
                     opt.session_id != 0 ? ", session " : "",
                     opt.session_id != 0 ? std::to_string(opt.session_id).c_str() : "",
                     opt.file == "-" ? "standard output" : opt.file.c_str());
    }
    const uint64_t t0 = monotonic_ms();
    const char* why = "signal";
    while (rc == 0) {
        if (!cap.drain()) {
            std::fprintf(stderr, "error: %s: %s\n", opt.file.c_str(), std::strerror(errno));
            rc = 1;
            break;
        }
        if (opt.count != 0 && cap.frames() >= opt.count) {
            why = "count";
            break;
        }
        if (opt.seconds != 0 && monotonic_ms() - t0 >= opt.seconds * 1000) {
            why = "seconds";
            break;
        }
        if (g_stop) break;
        if (region->header.state.load() != static_cast<uint32_t>(dpif::DataplaneState::Running)) {
            why = "dataplane_stopped";
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    // Stop, then what was taken before the lcores saw it.
    const uint32_t stopped = cc.seq.fetch_add(1, std::memory_order_acq_rel) + 1;
    wait_acks(cc, stopped, 1000);
    if (rc == 0 && !cap.drain()) rc = fail(opt.file + ": " + std::strerror(errno));
    uint64_t dropped = 0;
    for (uint32_t r = 0; r < dpif::kCaptureRings; ++r)
        dropped += cc.dropped[r].load();
    release();
    close_out();
    std::fprintf(report, "capture=%s frames=%llu dropped=%llu stopped_by=%s\n",
                 opt.file == "-" ? "-" : opt.file.c_str(),
                 static_cast<unsigned long long>(cap.frames()),
                 static_cast<unsigned long long>(dropped - dropped0), rc == 0 ? why : "error");
    return rc;
}

}  // namespace isthmus::ctl
