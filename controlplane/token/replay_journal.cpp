#include "token/replay_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string_view>

namespace isthmus::token {
namespace {

// "EXPIRES ID" -> the pair; false for anything else.
bool parse_line(std::string_view line, std::pair<std::string, int64_t>& out) {
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0) return false;
    int64_t expires = 0;
    const char* end = line.data() + sp;
    const auto r = std::from_chars(line.data(), end, expires);
    if (r.ec != std::errc() || r.ptr != end || expires <= 0) return false;
    const std::string_view id = line.substr(sp + 1);
    if (!valid_token_id(id)) return false;
    out = {std::string(id), expires};
    return true;
}

std::string line_of(const std::string& id, int64_t expires) {
    return std::to_string(expires) + " " + id + "\n";
}

bool write_all(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

std::unique_ptr<ReplayJournal> ReplayJournal::open(const std::string& path, int64_t now) {
    std::unique_ptr<ReplayJournal> j(new ReplayJournal(path));
    std::ifstream in(path);
    if (in) {
        std::string line;
        std::pair<std::string, int64_t> e;
        while (std::getline(in, line)) {
            if (!parse_line(line, e)) {
                ++j->loaded_.malformed;
            } else if (e.second <= now) {
                ++j->loaded_.expired;
            } else {
                j->pending_.push_back(e);
            }
        }
        if (in.bad()) throw std::runtime_error(path + ": cannot be read");
    } else if (errno != ENOENT) {
        throw std::runtime_error(path + ": " + std::strerror(errno));
    }
    j->loaded_.live = j->pending_.size();
    std::string error;
    if (!j->rewrite(j->pending_, error)) throw std::runtime_error(error);
    return j;
}

ReplayJournal::~ReplayJournal() {
    if (fd_ >= 0) ::close(fd_);
}

void ReplayJournal::seed(ReplayCache& cache, int64_t now) {
    for (const auto& [id, expires] : pending_)
        cache.first_use(id, expires, now);
    pending_.clear();
    pending_.shrink_to_fit();
}

bool ReplayJournal::rewrite(const std::vector<std::pair<std::string, int64_t>>& entries,
                            std::string& error) {
    const std::string tmp = path_ + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = tmp + ": " + std::strerror(errno);
        return false;
    }
    std::string bytes;
    for (const auto& [id, expires] : entries)
        bytes += line_of(id, expires);
    const bool written = write_all(fd, bytes);
    const int saved = errno;
    if (::close(fd) != 0 || !written) {
        error = tmp + ": " + std::strerror(written ? errno : saved);
        ::unlink(tmp.c_str());
        return false;
    }
    if (::rename(tmp.c_str(), path_.c_str()) != 0) {
        error = path_ + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    const int append = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (append < 0) {
        error = path_ + ": " + std::strerror(errno);
        // The old descriptor is the file just replaced: lines written to it
        // would be lost unseen, so later records fail (and are counted).
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        return false;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = append;
    lines_ = entries.size();
    return true;
}

bool ReplayJournal::record(const std::string& id, int64_t expires, const ReplayCache& cache,
                           std::string& error) {
    if (fd_ < 0) {
        error = path_ + ": not open";
        return false;
    }
    // One write() of one line: O_APPEND puts it whole at the end.
    const std::string line = line_of(id, expires);
    const ssize_t n = ::write(fd_, line.data(), line.size());
    if (n != static_cast<ssize_t>(line.size())) {
        error = path_ + ": " + (n < 0 ? std::strerror(errno) : std::string("short write"));
        return false;
    }
    ++lines_;
    if (lines_ >= kCompactMin && lines_ > 2 * cache.size()) {
        std::vector<std::pair<std::string, int64_t>> live;
        live.reserve(cache.size());
        cache.for_each([&](const std::string& i, int64_t e) { live.emplace_back(i, e); });
        if (!rewrite(live, error)) return false;
    }
    return true;
}

}  // namespace isthmus::token
