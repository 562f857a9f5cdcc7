#include "ctl/capture.hpp"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

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

uint64_t clock_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}
uint64_t monotonic_ns() {
    return clock_ns(CLOCK_MONOTONIC);
}

// Waits until every ring's producer adopted `seq` (or `timeout_ms` passed).
bool wait_acks(const CaptureClaim& claim, uint32_t seq, uint64_t timeout_ms) {
    const uint64_t until = monotonic_ns() + timeout_ms * 1000000ULL;
    while (!claim.acknowledged(seq)) {
        if (monotonic_ns() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

class Capturer {
  public:
    // The wall clock of a record's TSC: from a reference pair taken now
    // (this host's TSC is the dataplane's) and the dataplane's TSC rate.
    Capturer(dpif::Region& region, const CaptureOptions& opt, std::FILE* out)
        : region_(region),
          tsc_hz_(region.capture.control.tsc_hz),
          tsc_ref_(__rdtsc()),
          realtime_ref_ns_(clock_ns(CLOCK_REALTIME)),
          opt_(opt),
          out_(out) {}

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
        if (tsc_hz_ == 0) return realtime_ref_ns_;
        // Split so that no product overflows: whole seconds, then the rest.
        const auto d = static_cast<int64_t>(tsc - tsc_ref_);
        const auto hz = static_cast<int64_t>(tsc_hz_);
        const int64_t ns = d / hz * 1000000000 + d % hz * 1000000000 / hz;
        return realtime_ref_ns_ + static_cast<uint64_t>(ns);
    }

    dpif::Region& region_;
    uint64_t tsc_hz_;
    uint64_t tsc_ref_;
    uint64_t realtime_ref_ns_;
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

bool CaptureClaim::claim(uint64_t now_ns, uint32_t& holder) {
    uint32_t owner = cc_.owner_pid.load();
    for (;;) {
        if (owner != 0) {
            const uint64_t beat = cc_.owner_beat_ns.load();
            if (now_ns <= beat || now_ns - beat <= dpif::kCaptureOwnerTimeoutNs) {
                holder = owner;
                return false;
            }
        }
        // The beat first, so that the dataplane never sees us with a stale one.
        cc_.owner_beat_ns.store(now_ns);
        if (cc_.owner_pid.compare_exchange_strong(owner, pid_)) return true;
    }
}

bool CaptureClaim::beat(uint64_t now_ns) {
    if (cc_.owner_pid.load() != pid_) return false;
    cc_.owner_beat_ns.store(now_ns);
    return started_ == 0 || cc_.seq.load() == started_;
}

uint32_t CaptureClaim::stop_leftover() {
    uint32_t seq = cc_.seq.load();
    if ((seq & 1U) == 0) return 0;
    return cc_.seq.compare_exchange_strong(seq, seq + 1) ? seq + 1 : 0;
}

uint32_t CaptureClaim::start(uint32_t sides, uint32_t snaplen, uint64_t session_id) {
    uint32_t seq = cc_.seq.load();
    if ((seq & 1U) != 0) return 0;
    cc_.sides.store(sides, std::memory_order_relaxed);
    cc_.snaplen.store(snaplen, std::memory_order_relaxed);
    cc_.session_id.store(session_id, std::memory_order_relaxed);
    if (!cc_.seq.compare_exchange_strong(seq, seq + 1)) return 0;
    started_ = seq + 1;
    return started_;
}

uint32_t CaptureClaim::stop() {
    uint32_t seq = started_;
    started_ = 0;
    if (seq == 0) return 0;
    return cc_.seq.compare_exchange_strong(seq, seq + 1) ? seq + 1 : 0;
}

void CaptureClaim::release() {
    uint32_t me = pid_;
    cc_.owner_pid.compare_exchange_strong(me, 0);
}

bool CaptureClaim::acknowledged(uint32_t seq) const {
    if (cc_.ring[dpif::kCaptureSlowPathRing].ack.load() != seq) return false;
    for (uint32_t r = 0; r < cc_.worker_rings && r < dpif::kCaptureSlowPathRing; ++r)
        if (cc_.ring[r].ack.load() != seq) return false;
    return true;
}

int run_capture(const std::string& region_name, const CaptureOptions& opt) {
    // Ctrl-C / SIGTERM end the capture cleanly from the first moment; writes
    // restart (SA_RESTART), so a signal never cuts a block in half.
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    dpif::SharedRegion region = dpif::SharedRegion::attach(region_name);
    const dpif::RegionHeader& hdr = region->header;
    if (hdr.state.load() != static_cast<uint32_t>(dpif::DataplaneState::Running))
        return fail("the dataplane of " + region_name + " is not running");
    CaptureClaim claim(region->capture.control, static_cast<uint32_t>(::getpid()));
    uint32_t holder = 0;
    if (!claim.claim(monotonic_ns(), holder)) {
        return fail("a capture by pid " + std::to_string(holder) + " is running on " + region_name);
    }

    // The file holds the call's media (decrypted where a leg is plain RTP):
    // only its owner reads it, and a symbolic link is not followed.
    std::FILE* out = stdout;
    if (opt.file != "-") {
        const int fd =
            ::open(opt.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        out = fd < 0 ? nullptr : ::fdopen(fd, "wb");
        if (out == nullptr) {
            const int err = errno;
            if (fd >= 0) ::close(fd);
            claim.release();
            return fail(opt.file + ": " + std::strerror(err));
        }
    }
    std::FILE* report = opt.file == "-" ? stderr : stdout;
    Capturer cap(*region.get(), opt, out);
    const auto close_out = [&] {
        if (out != stdout) std::fclose(out);
    };

    // A capture an earlier owner left running is stopped first; what it
    // left in the rings is dropped.
    if (const uint32_t stopped = claim.stop_leftover(); stopped != 0)
        wait_acks(claim, stopped, 1000);
    cap.drain();
    const dpif::CaptureControl& cc = region->capture.control;
    const auto dropped_now = [&] {
        uint64_t n = 0;
        for (const auto& r : cc.ring)
            n += r.dropped.load();
        return n;
    };
    const uint64_t dropped0 = dropped_now();

    if (!cap.start_file()) {
        const int err = errno;
        close_out();
        claim.release();
        return fail(opt.file + ": " + std::strerror(err));
    }
    const uint32_t started = claim.start(opt.sides, opt.snaplen, opt.session_id);
    int rc = 0;
    const char* why = "signal";
    if (started == 0) {
        std::fprintf(stderr, "error: the capture could not start (another process moved it)\n");
        rc = 1;
        why = "error";
    } else if (!wait_acks(claim, started, 3000)) {
        std::fprintf(stderr, "error: the dataplane's lcores did not take the capture within 3 s\n");
        rc = 1;
        why = "error";
    } else {
        std::fprintf(stderr, "capturing on %s%s%s to %s\n",
                     opt.sides == dpif::kCaptureAccess ? "access"
                     : opt.sides == dpif::kCaptureCore ? "core"
                                                       : "access and core",
                     opt.session_id != 0 ? ", session " : "",
                     opt.session_id != 0 ? std::to_string(opt.session_id).c_str() : "",
                     opt.file == "-" ? "standard output" : opt.file.c_str());
    }
    const uint64_t t0 = monotonic_ns();
    while (rc == 0) {
        if (!cap.drain()) {
            std::fprintf(stderr, "error: %s: %s\n", opt.file.c_str(), std::strerror(errno));
            rc = 1;
            why = "error";
            break;
        }
        const uint64_t now = monotonic_ns();
        if (opt.count != 0 && cap.frames() >= opt.count) {
            why = "count";
            break;
        }
        if (opt.seconds != 0 && now - t0 >= opt.seconds * 1000000000ULL) {
            why = "seconds";
            break;
        }
        if (g_stop) break;
        // A dataplane that stopped, or died without saying so (no
        // heartbeat for 3 s), ends the capture.
        const uint64_t hb = hdr.heartbeat_ns.load();
        if (hdr.state.load() != static_cast<uint32_t>(dpif::DataplaneState::Running) ||
            (now > hb && now - hb > 3000000000ULL)) {
            why = "dataplane_gone";
            break;
        }
        if (!claim.beat(now)) {
            std::fprintf(stderr, "error: the capture was stopped by another process\n");
            rc = 1;
            why = "taken_over";
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    // Stop, then what was taken before the lcores saw it.
    if (const uint32_t stopped = claim.stop(); stopped != 0) wait_acks(claim, stopped, 1000);
    if (!cap.drain() && rc == 0) {
        std::fprintf(stderr, "error: %s: %s\n", opt.file.c_str(), std::strerror(errno));
        rc = 1;
        why = "error";
    }
    const uint64_t dropped = dropped_now() - dropped0;
    claim.release();
    close_out();
    std::fprintf(report, "capture=%s frames=%llu dropped=%llu stopped_by=%s\n",
                 opt.file == "-" ? "-" : opt.file.c_str(),
                 static_cast<unsigned long long>(cap.frames()),
                 static_cast<unsigned long long>(dropped), why);
    return rc;
}

}  // namespace isthmus::ctl
