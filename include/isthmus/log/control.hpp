// The log control of one daemon (issue 10): a small POSIX shared-memory
// object holding the daemon's log level and what its Logger counted, so that
// `isthmus-ctl log-level DAEMON [LEVEL]` reads and changes the level of a
// running daemon. No DPDK: the control plane's daemons use it as the
// dataplane does.
//
// The daemon creates the object at start (SharedLogControl::create, replacing
// a stale one of the same name) and unlinks it at a clean exit; isthmus-ctl
// attaches to it by name. Mode 0600: the daemon's user (and root) only.
//
// Threads: every field a daemon changes while running is an atomic. The
// daemon's threads load `level` (relaxed) before each line and count lines
// (relaxed fetch_add); isthmus-ctl stores `level` and reads the counters.
// Setup and attach functions throw std::runtime_error naming the object and
// the cause; nothing here runs per packet.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "isthmus/log/level.hpp"

namespace isthmus::log {

inline constexpr uint64_t kLogControlMagic = 0x31474f4c48545349ULL;  // "ISTHLOG1" little-endian
inline constexpr uint32_t kLogControlVersion = 1;

// The object's default names ([dataplane|pcscf|wwsf] log_control).
inline constexpr const char* kDataplaneControlName = "/isthmus-dataplane-log";
inline constexpr const char* kPcscfControlName = "/isthmus-pcscf-log";
inline constexpr const char* kWwsfControlName = "/isthmus-wwsf-log";

// The default object name of `daemon` ("dataplane", "pcscf", "wwsf");
// nullopt for any other word.
constexpr std::optional<std::string_view> default_control_name(std::string_view daemon) {
    if (daemon == "dataplane") return kDataplaneControlName;
    if (daemon == "pcscf") return kPcscfControlName;
    if (daemon == "wwsf") return kWwsfControlName;
    return std::nullopt;
}

// The object's layout. Written by its daemon; `level` also by isthmus-ctl.
struct alignas(64) LogControl {
    uint64_t magic = 0;    // kLogControlMagic once initialised (stored last)
    uint32_t version = 0;  // kLogControlVersion of the daemon that made it
    uint32_t size = 0;     // sizeof(LogControl), a layout check
    // The daemon's process id.
    std::atomic<uint32_t> pid{0};
    // A Level: the daemon loads it before each line, isthmus-ctl stores it.
    std::atomic<uint32_t> level{static_cast<uint32_t>(Level::Info)};
    // "dataplane", "pcscf", "wwsf"; NUL-terminated.
    char daemon[16] = {};
    // Lines written, by Level; lines below the level, not written (nor,
    // through Logger::admit, built).
    std::atomic<uint64_t> lines[kLevelCount] = {};
    std::atomic<uint64_t> suppressed{0};
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

// The level `control` holds, clamped to Debug (a stray value in shared
// memory is read as the most verbose rather than trusted as an index).
inline Level level_of(const LogControl& control) {
    const uint32_t v = control.level.load(std::memory_order_relaxed);
    return static_cast<Level>(v < kLevelCount ? v : static_cast<uint32_t>(Level::Debug));
}

// The daemon name `control` holds (at most 15 characters).
inline std::string daemon_of(const LogControl& control) {
    return std::string(control.daemon, strnlen(control.daemon, sizeof control.daemon));
}

// A mapping of a LogControl object: the daemon's (owner, unlinks the name
// at destruction while the name is still its object) or isthmus-ctl's.
// Move-only; the mapping itself is not shared between threads, the
// LogControl it maps is (see above).
class SharedLogControl {
  public:
    SharedLogControl() = default;
    SharedLogControl(SharedLogControl&& o) noexcept
        : control_(std::exchange(o.control_, nullptr)),
          name_(std::move(o.name_)),
          owner_(o.owner_),
          inode_(o.inode_) {}
    SharedLogControl& operator=(SharedLogControl&& o) noexcept {
        if (this != &o) {
            release();
            control_ = std::exchange(o.control_, nullptr);
            name_ = std::move(o.name_);
            owner_ = o.owner_;
            inode_ = o.inode_;
        }
        return *this;
    }
    SharedLogControl(const SharedLogControl&) = delete;
    SharedLogControl& operator=(const SharedLogControl&) = delete;
    ~SharedLogControl() { release(); }

    // Daemon side: creates the object `name` (valid_control_name) for
    // `daemon` (at most 15 characters) with `level`, this process's pid and
    // zero counters. An object of that name left by a process that is gone
    // (or of another layout) is replaced. Throws std::runtime_error when the
    // name is invalid, when a running process holds it ("... is held by
    // pid N"), or when it cannot be created, sized or mapped (a read-only
    // or missing /dev/shm: the message names the errno).
    static SharedLogControl create(const std::string& name, std::string_view daemon, Level level) {
        if (!valid_control_name(name)) {
            throw std::runtime_error("log control " + name +
                                     ": not a shared-memory name ('/' and no other '/')");
        }
        pid_t busy = 0;
        std::string holder;
        try {
            const SharedLogControl old = attach(name, false);
            const auto pid = static_cast<pid_t>(old->pid.load());
            if (pid != ::getpid() && process_alive(old->pid.load())) {
                busy = pid;
                holder = daemon_of(*old);
            }
        } catch (const std::runtime_error&) {
            // none, or not one we can read: replaced below
        }
        if (busy != 0) {
            throw std::runtime_error("log control " + name + " is held by a running " + holder +
                                     " (pid " + std::to_string(busy) + ")");
        }
        ::shm_unlink(name.c_str());
        const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) fail("create", name, errno);
        struct stat st {};
        if (::ftruncate(fd, static_cast<off_t>(sizeof(LogControl))) != 0 || ::fstat(fd, &st) != 0) {
            const int err = errno;
            ::close(fd);
            ::shm_unlink(name.c_str());
            fail("size", name, err);
        }
        void* p = ::mmap(nullptr, sizeof(LogControl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        const int err = errno;
        ::close(fd);
        if (p == MAP_FAILED) {
            ::shm_unlink(name.c_str());
            fail("map", name, err);
        }
        // ftruncate zero-filled the object; constructing the LogControl in
        // it starts the atomics' lifetimes.
        auto* c = new (p) LogControl;
        c->version = kLogControlVersion;
        c->size = sizeof(LogControl);
        c->pid.store(static_cast<uint32_t>(::getpid()));
        c->level.store(static_cast<uint32_t>(level));
        daemon.copy(c->daemon, std::min(daemon.size(), sizeof c->daemon - 1));
        std::atomic_thread_fence(std::memory_order_release);
        std::atomic_ref<uint64_t>(c->magic).store(kLogControlMagic, std::memory_order_release);
        SharedLogControl out;
        out.control_ = c;
        out.name_ = name;
        out.owner_ = true;
        out.inode_ = st.st_ino;
        return out;
    }

    // isthmus-ctl side: maps the existing object `name`, read-write when
    // `writable` (to change the level). Throws std::runtime_error when there
    // is none ("does not exist: is isthmus-DAEMON running?"), when it cannot
    // be opened (permissions), or when it is not a log control of this
    // layout (bad size, magic or version). Whether its pid still runs is
    // the caller's question (process_alive).
    static SharedLogControl attach(const std::string& name, bool writable) {
        const int fd = ::shm_open(name.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
        if (fd < 0) {
            if (errno == ENOENT) {
                throw std::runtime_error("log control " + name +
                                         " does not exist: is the daemon running (and is this "
                                         "its log_control)?");
            }
            fail("open", name, errno);
        }
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            const int err = errno;
            ::close(fd);
            fail("stat", name, err);
        }
        if (static_cast<uint64_t>(st.st_size) != sizeof(LogControl)) {
            ::close(fd);
            throw std::runtime_error(
                "log control " + name + " has size " + std::to_string(st.st_size) + ", expected " +
                std::to_string(sizeof(LogControl)) + ": not a log control object of this version");
        }
        void* p = ::mmap(nullptr, sizeof(LogControl), PROT_READ | (writable ? PROT_WRITE : 0),
                         MAP_SHARED, fd, 0);
        const int err = errno;
        ::close(fd);
        if (p == MAP_FAILED) fail("map", name, err);
        SharedLogControl out;
        out.control_ = static_cast<LogControl*>(p);
        out.name_ = name;
        out.inode_ = st.st_ino;
        const uint64_t magic =
            std::atomic_ref<uint64_t>(out.control_->magic).load(std::memory_order_acquire);
        if (magic != kLogControlMagic) {
            throw std::runtime_error("log control " + name +
                                     ": bad magic (not a log control object, or not "
                                     "initialised yet)");
        }
        if (out.control_->version != kLogControlVersion ||
            out.control_->size != sizeof(LogControl)) {
            throw std::runtime_error("log control " + name + " has layout version " +
                                     std::to_string(out.control_->version) + ", this program " +
                                     std::to_string(kLogControlVersion));
        }
        return out;
    }

    // False only when `pid` is known not to run (kill(pid, 0): ESRCH), or is 0.
    static bool process_alive(uint32_t pid) {
        if (pid == 0 || pid > static_cast<uint32_t>(INT32_MAX)) return false;
        return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
    }

    LogControl* get() const { return control_; }
    LogControl* operator->() const { return control_; }
    LogControl& operator*() const { return *control_; }
    explicit operator bool() const { return control_ != nullptr; }
    const std::string& name() const { return name_; }
    bool owner() const { return owner_; }

  private:
    [[noreturn]] static void fail(const char* what, const std::string& name, int err) {
        throw std::runtime_error(std::string("log control ") + name + ": cannot " + what + ": " +
                                 std::strerror(err));
    }
    void release() {
        if (control_ == nullptr) return;
        // Unlink the name only while it is still ours (a newer daemon of
        // the same name may have replaced a stale-looking one).
        if (owner_ && inode_of(name_) == inode_) ::shm_unlink(name_.c_str());
        ::munmap(control_, sizeof(LogControl));
        control_ = nullptr;
    }
    static ino_t inode_of(const std::string& name) {
        const int fd = ::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0) return 0;
        struct stat st {};
        const int rc = ::fstat(fd, &st);
        ::close(fd);
        return rc == 0 ? st.st_ino : 0;
    }

    LogControl* control_ = nullptr;
    std::string name_;
    bool owner_ = false;
    ino_t inode_ = 0;
};

}  // namespace isthmus::log
