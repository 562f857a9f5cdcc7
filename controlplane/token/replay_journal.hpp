// The ids a ReplayCache took, kept in a file so that a token used before an
// eP-CSCF restart is still refused after it (issue 11: tokens replayed
// across a restart). One line per id, "EXPIRES ID\n" (unix seconds, then
// the jti), appended with one write() each on an O_APPEND descriptor: after
// the process dies a line is whole or absent. Not synced: a power loss may
// lose the last lines (a token lives minutes; docs/pcscf.md says so).
//
// open() reads the file (made, mode 0600, when missing), keeps the lines
// still live, skips and counts expired and malformed ones, and rewrites it
// with only the live ones (a temporary file renamed over it); seed() then
// gives those to the cache. record() appends one id and, once the file
// holds more than twice the cache's ids (and at least kCompactMin lines),
// rewrites it from the cache again.
//
// Thread-safety: one thread (the core's), like the ReplayCache it follows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "token/token.hpp"

namespace isthmus::token {

class ReplayJournal {
  public:
    static constexpr std::size_t kCompactMin = 1024;

    struct Loaded {
        std::size_t live = 0;       // ids given to the cache by seed()
        std::size_t expired = 0;    // lines whose token has expired (dropped)
        std::size_t malformed = 0;  // lines that are not "EXPIRES ID" (dropped)
    };

    // Opens `path` and loads it as of `now`. Throws std::runtime_error
    // naming the file and the fault (cannot be read, made or rewritten).
    static std::unique_ptr<ReplayJournal> open(const std::string& path, int64_t now);
    ~ReplayJournal();
    ReplayJournal(const ReplayJournal&) = delete;
    ReplayJournal& operator=(const ReplayJournal&) = delete;

    const Loaded& loaded() const { return loaded_; }
    const std::string& path() const { return path_; }
    // Gives the live ids read at open() to `cache` (once; later calls add nothing).
    void seed(ReplayCache& cache, int64_t now);
    // Appends `id`; compacts from `cache` when due. False, with the reason
    // in `error`, when the line could not be written (the id is then only
    // in memory: refused again until this process ends, not after) or the
    // file could not be compacted (the line is in the old file).
    bool record(const std::string& id, int64_t expires, const ReplayCache& cache,
                std::string& error);
    // Lines in the file (after the last compaction, plus those appended).
    std::size_t lines() const { return lines_; }

  private:
    explicit ReplayJournal(std::string path) : path_(std::move(path)) {}
    // Writes `entries` to path_ + ".tmp", renames it over path_ and reopens
    // it for appending.
    bool rewrite(const std::vector<std::pair<std::string, int64_t>>& entries, std::string& error);

    std::string path_;
    int fd_ = -1;
    std::size_t lines_ = 0;
    Loaded loaded_;
    std::vector<std::pair<std::string, int64_t>> pending_;  // read at open(), until seed()
};

}  // namespace isthmus::token
