// A fixed array of T in anonymous memory the kernel is asked to back with
// transparent huge pages (madvise MADV_HUGEPAGE): a worker's session slots
// and SRTP contexts are gigabytes at a million sessions, and with 4 KiB pages
// every packet's state is also a TLB miss (docs/performance.md, "Relay").
// Works the same where THP is off (the advice is only advice).
//
// Setup path only: the constructor throws std::bad_alloc when the memory is
// not there; elements are value-initialised in order, destroyed in reverse.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace isthmus::dataplane {

template <class T>
class HugeArray {
  public:
    HugeArray() = default;
    explicit HugeArray(std::size_t n) : n_(n) {
        static_assert(alignof(T) <= 4096);
        constexpr std::size_t kHuge = std::size_t{2} << 20;
        bytes_ = (n * sizeof(T) + kHuge - 1) / kHuge * kHuge;
        if (bytes_ == 0) bytes_ = kHuge;
        void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        madvise(p, bytes_, MADV_HUGEPAGE);
        data_ = static_cast<T*>(p);
        for (std::size_t i = 0; i < n; ++i)
            new (data_ + i) T();
    }
    ~HugeArray() { release(); }
    HugeArray(const HugeArray&) = delete;
    HugeArray& operator=(const HugeArray&) = delete;
    HugeArray(HugeArray&& o) noexcept : data_(o.data_), n_(o.n_), bytes_(o.bytes_) {
        o.data_ = nullptr;
        o.n_ = o.bytes_ = 0;
    }
    HugeArray& operator=(HugeArray&& o) noexcept {
        if (this != &o) {
            release();
            data_ = o.data_;
            n_ = o.n_;
            bytes_ = o.bytes_;
            o.data_ = nullptr;
            o.n_ = o.bytes_ = 0;
        }
        return *this;
    }

    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }
    T* get() { return data_; }
    const T* get() const { return data_; }
    std::size_t bytes() const { return bytes_; }

  private:
    void release() {
        if (data_ == nullptr) return;
        for (std::size_t i = n_; i-- > 0;)
            data_[i].~T();
        munmap(data_, bytes_);
        data_ = nullptr;
    }

    T* data_ = nullptr;
    std::size_t n_ = 0;
    std::size_t bytes_ = 0;
};

}  // namespace isthmus::dataplane
