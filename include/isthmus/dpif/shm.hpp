// Creating and attaching the dpif region in POSIX shared memory. Setup path
// only: functions throw std::runtime_error with a message naming the region
// and the cause; nothing here runs per packet.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "isthmus/dpif/region.hpp"

namespace isthmus::dpif {

// Default region name; several dataplanes on one host use their own names.
inline constexpr const char* kDefaultRegionName = "/isthmus-dpif";

class SharedRegion {
  public:
    SharedRegion() = default;
    SharedRegion(SharedRegion&& o) noexcept
        : region_(std::exchange(o.region_, nullptr)),
          name_(std::move(o.name_)),
          owner_(o.owner_),
          inode_(o.inode_) {}
    SharedRegion& operator=(SharedRegion&& o) noexcept {
        if (this != &o) {
            release();
            region_ = std::exchange(o.region_, nullptr);
            name_ = std::move(o.name_);
            owner_ = o.owner_;
            inode_ = o.inode_;
        }
        return *this;
    }
    SharedRegion(const SharedRegion&) = delete;
    SharedRegion& operator=(const SharedRegion&) = delete;
    ~SharedRegion() { release(); }

    // Dataplane side: replaces any region of this name with a fresh one and
    // initialises it (state Starting). `previous_generation` is read from the
    // old region if one was there, so generations keep increasing across
    // restarts. The name is unlinked again when the owner is destroyed.
    static SharedRegion create(const std::string& name) {
        uint64_t previous = 0;
        pid_t busy = 0;
        try {
            SharedRegion old = attach(name);
            RegionHeader& h = old->header;
            const auto pid = static_cast<pid_t>(h.dataplane_pid.load());
            if (h.state.load() == static_cast<uint32_t>(DataplaneState::Running) &&
                pid != ::getpid() && ::kill(pid, 0) == 0) {
                busy = pid;
            } else {
                previous = h.dataplane_generation.load();
                // Whoever still maps the old region sees that it is gone.
                h.state.store(static_cast<uint32_t>(DataplaneState::Stopped));
            }
        } catch (const std::runtime_error&) {
            // no usable old region
        }
        if (busy != 0) {
            throw std::runtime_error("dpif region " + name +
                                     " is served by a running dataplane (pid " +
                                     std::to_string(busy) + "): give this one another region name");
        }
        ::shm_unlink(name.c_str());
        const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
        if (fd < 0) fail("create", name, errno);
        struct stat st {};
        if (::ftruncate(fd, static_cast<off_t>(sizeof(Region))) != 0 || ::fstat(fd, &st) != 0) {
            const int err = errno;
            ::close(fd);
            ::shm_unlink(name.c_str());
            fail("size", name, err);
        }
        void* p = ::mmap(nullptr, sizeof(Region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        const int err = errno;
        ::close(fd);
        if (p == MAP_FAILED) {
            ::shm_unlink(name.c_str());
            fail("map", name, err);
        }
        // ftruncate zero-filled the object; constructing the Region in it
        // starts the atomics' lifetimes (a zeroed SpscRing is an empty ring).
        auto* r = new (p) Region;
        r->header.abi_version = kAbiVersion;
        r->header.header_size = sizeof(RegionHeader);
        r->header.region_size = sizeof(Region);
        r->header.state.store(static_cast<uint32_t>(DataplaneState::Starting));
        r->header.dataplane_pid.store(static_cast<uint32_t>(::getpid()));
        r->header.dataplane_generation.store(previous + 1);
        std::atomic_thread_fence(std::memory_order_release);
        std::atomic_ref<uint64_t>(r->header.magic).store(kRegionMagic, std::memory_order_release);
        SharedRegion out;
        out.region_ = r;
        out.name_ = name;
        out.owner_ = true;
        out.inode_ = st.st_ino;
        return out;
    }

    // Control plane / isthmus-ctl side: maps an existing region. Throws when
    // there is none ("is the dataplane running?"), or when it was made by a
    // dataplane of another ABI version or layout.
    static SharedRegion attach(const std::string& name) {
        const int fd = ::shm_open(name.c_str(), O_RDWR, 0);
        if (fd < 0) {
            if (errno == ENOENT) {
                throw std::runtime_error("dpif region " + name +
                                         " does not exist: is isthmus-dataplane running?");
            }
            fail("open", name, errno);
        }
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            const int err = errno;
            ::close(fd);
            fail("stat", name, err);
        }
        if (st.st_size == 0) {
            ::close(fd);
            throw std::runtime_error("dpif region " + name + " is not initialised yet");
        }
        if (static_cast<uint64_t>(st.st_size) != sizeof(Region)) {
            ::close(fd);
            throw std::runtime_error("dpif region " + name + " has size " +
                                     std::to_string(st.st_size) + ", expected " +
                                     std::to_string(sizeof(Region)) +
                                     ": dataplane and control plane were built from "
                                     "different versions");
        }
        void* p = ::mmap(nullptr, sizeof(Region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        const int err = errno;
        ::close(fd);
        if (p == MAP_FAILED) fail("map", name, err);
        // The dataplane constructed the Region in this object; this mapping
        // views the same bytes.
        auto* r = static_cast<Region*>(p);
        SharedRegion out;
        out.region_ = r;
        out.name_ = name;
        out.inode_ = st.st_ino;
        const uint64_t magic =
            std::atomic_ref<uint64_t>(r->header.magic).load(std::memory_order_acquire);
        if (magic != kRegionMagic) {
            throw std::runtime_error("dpif region " + name + " is not initialised yet");
        }
        if (r->header.abi_version != kAbiVersion || r->header.header_size != sizeof(RegionHeader) ||
            r->header.region_size != sizeof(Region)) {
            throw std::runtime_error("dpif region " + name + " has ABI version " +
                                     std::to_string(r->header.abi_version) + ", this program " +
                                     std::to_string(kAbiVersion));
        }
        return out;
    }

    Region* get() const { return region_; }
    // True when the name now refers to another region than this mapping
    // (the dataplane restarted, or stopped and unlinked it).
    bool replaced() const { return inode_of(name_) != inode_; }
    Region* operator->() const { return region_; }
    const std::string& name() const { return name_; }
    bool owner() const { return owner_; }

  private:
    [[noreturn]] static void fail(const char* what, const std::string& name, int err) {
        throw std::runtime_error(std::string("dpif region ") + name + ": cannot " + what + ": " +
                                 std::strerror(err));
    }
    void release() {
        if (region_ == nullptr) return;
        if (owner_) {
            region_->header.state.store(static_cast<uint32_t>(DataplaneState::Stopped));
            // Unlink the name only while it is still ours (a newer dataplane
            // may have replaced it).
            if (inode_of(name_) == inode_) ::shm_unlink(name_.c_str());
        }
        ::munmap(region_, sizeof(Region));
        region_ = nullptr;
    }

    static ino_t inode_of(const std::string& name) {
        const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
        if (fd < 0) return 0;
        struct stat st {};
        const int rc = ::fstat(fd, &st);
        ::close(fd);
        return rc == 0 ? st.st_ino : 0;
    }

    Region* region_ = nullptr;
    std::string name_;
    bool owner_ = false;
    ino_t inode_ = 0;
};

}  // namespace isthmus::dpif
