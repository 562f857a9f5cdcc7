// ws-register-load's counters, histogram and /proc CPU readings (see the
// header).
#include "ws_register_load_stats.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <stdexcept>
#include <string_view>

namespace isthmus::bench {

std::size_t LatencyHistogram::bucket(uint64_t us) {
    if (us < kSub) return static_cast<std::size_t>(us);
    const auto exponent = static_cast<std::size_t>(std::bit_width(us) - 1);  // >= kSubBits
    if (exponent >= kMaxExponent) return kBuckets - 1;
    const auto sub = static_cast<std::size_t>((us >> (exponent - kSubBits)) & (kSub - 1));
    return kSub + (exponent - kSubBits) * kSub + sub;
}

double LatencyHistogram::middle(std::size_t b) {
    if (b < kSub) return static_cast<double>(b) + 0.5;
    const std::size_t exponent = (b - kSub) / kSub + kSubBits;
    const std::size_t sub = (b - kSub) % kSub;
    const double width = static_cast<double>(uint64_t{1} << (exponent - kSubBits));
    const double low = static_cast<double>((uint64_t{1} << exponent) +
                                           sub * (uint64_t{1} << (exponent - kSubBits)));
    return low + width / 2;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i)
        buckets_[i] += other.buckets_[i];
    count_ += other.count_;
}

double LatencyHistogram::quantile(double q) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<uint64_t>(q * static_cast<double>(count_ - 1));
    uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += buckets_[i];
        if (seen > rank) return middle(i);
    }
    return middle(kBuckets - 1);
}

void LoadCounters::merge(const LoadCounters& other) {
#define ISTHMUS_X(member, key, doc) member += other.member;
    ISTHMUS_LOAD_COUNTER(ISTHMUS_X)
    ISTHMUS_CALL_COUNTER(ISTHMUS_X)
#undef ISTHMUS_X
    for (std::size_t i = 0; i < by_status.size(); ++i) {
        by_status[i] += other.by_status[i];
        bye_by_status[i] += other.bye_by_status[i];
    }
    latency.merge(other.latency);
    teardown.merge(other.teardown);
    connected += other.connected;
    connect_failed += other.connect_failed;
    registered += other.registered;
    closed_total += other.closed_total;
}

uint64_t LoadCounters::transactions() const {
    uint64_t n = 0;
    for (std::size_t code = 200; code < by_status.size(); ++code)
        n += by_status[code];
    return n;
}

namespace {

// The fields of /proc/PID/stat after the command name (which may hold
// spaces and parentheses: it ends at the last ')'). Field 3 (state) is [0].
bool read_stat(const std::string& path, std::vector<std::string>& fields) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::array<char, 1024> buf{};  // /proc/PID/stat is a few hundred octets
    const ssize_t n = read(fd, buf.data(), buf.size());
    close(fd);
    if (n <= 0) return false;
    const std::string_view text(buf.data(), static_cast<std::size_t>(n));
    const std::size_t paren = text.rfind(')');
    if (paren == std::string_view::npos) return false;
    fields.clear();
    std::string_view rest = text.substr(paren + 1);
    while (!rest.empty()) {
        const std::size_t b = rest.find_first_not_of(" \n");
        if (b == std::string_view::npos) break;
        rest.remove_prefix(b);
        const std::size_t e = rest.find_first_of(" \n");
        fields.emplace_back(rest.substr(0, e));
        rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e);
    }
    return fields.size() > 12;
}

// utime + stime (fields 14 and 15) in clock ticks.
bool stat_ticks(const std::string& path, uint64_t& ticks) {
    std::vector<std::string> fields;
    if (!read_stat(path, fields)) return false;
    ticks = std::stoull(fields[11]) + std::stoull(fields[12]);
    return true;
}

std::vector<pid_t> numeric_entries(const std::string& dir) {
    std::vector<pid_t> out;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return out;
    while (dirent* e = readdir(d)) {
        const std::string_view n = e->d_name;
        if (n.empty() || n.find_first_not_of("0123456789") != std::string_view::npos) continue;
        out.push_back(static_cast<pid_t>(std::stol(std::string(n))));
    }
    closedir(d);
    return out;
}

// `root` and every process whose parent chain leads to it.
std::vector<pid_t> process_tree(pid_t root) {
    std::vector<std::pair<pid_t, pid_t>> parent_of;  // (pid, ppid)
    std::vector<std::string> fields;
    for (pid_t pid : numeric_entries("/proc")) {
        if (read_stat("/proc/" + std::to_string(pid) + "/stat", fields)) {
            parent_of.emplace_back(pid, static_cast<pid_t>(std::stol(fields[1])));
        }
    }
    std::vector<pid_t> tree{root};
    for (std::size_t i = 0; i < tree.size(); ++i) {
        for (auto [pid, ppid] : parent_of) {
            if (ppid == tree[i]) tree.push_back(pid);
        }
    }
    return tree;
}

}  // namespace

ProcessCpu::ProcessCpu(const std::string& spec) {
    const std::size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
        throw std::invalid_argument("--measure-pid wants NAME=PID[,PID...] or NAME=tree:PID: " +
                                    spec);
    }
    name_ = spec.substr(0, eq);
    std::string_view list = std::string_view(spec).substr(eq + 1);
    const bool tree = list.starts_with("tree:");
    if (tree) list.remove_prefix(5);
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string item(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos) {
            throw std::invalid_argument("--measure-pid: not a pid: '" + item + "' in " + spec);
        }
        pids_.push_back(static_cast<pid_t>(std::stol(item)));
    }
    if (pids_.empty() || (tree && pids_.size() != 1)) {
        throw std::invalid_argument("--measure-pid: tree: takes one pid: " + spec);
    }
    if (tree) tree_root_ = pids_.front();
}

CpuTimes ProcessCpu::sample() {
    if (!resolved_) {
        if (tree_root_ != 0) pids_ = process_tree(tree_root_);
        resolved_ = true;
    }
    const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
    CpuTimes t;
    for (pid_t pid : pids_) {
        const std::string dir = "/proc/" + std::to_string(pid);
        uint64_t ticks = 0;
        if (!stat_ticks(dir + "/stat", ticks)) continue;
        ++t.processes;
        t.process_s += static_cast<double>(ticks) * tick;
        for (pid_t tid : numeric_entries(dir + "/task")) {
            if (stat_ticks(dir + "/task/" + std::to_string(tid) + "/stat", ticks)) {
                t.threads_s += static_cast<double>(ticks) * tick;
            }
        }
    }
    return t;
}

double self_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
    };
    return s(u.ru_utime) + s(u.ru_stime);
}

MachineCpu machine_cpu() {
    MachineCpu m;
    const int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return m;
    std::array<char, 512> buf{};
    const ssize_t n = read(fd, buf.data(), buf.size() - 1);
    close(fd);
    if (n <= 0) return m;
    std::string_view line(buf.data(), static_cast<std::size_t>(n));
    line = line.substr(0, line.find('\n'));
    if (!line.starts_with("cpu ")) return m;
    line.remove_prefix(4);
    // user nice system idle iowait irq softirq steal (guest is in user)
    const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
    for (int field = 0; field < 8 && !line.empty(); ++field) {
        const std::size_t b = line.find_first_not_of(' ');
        if (b == std::string_view::npos) break;
        line.remove_prefix(b);
        const std::size_t e = line.find(' ');
        const double v = static_cast<double>(std::stoull(std::string(line.substr(0, e)))) * tick;
        line = e == std::string_view::npos ? std::string_view{} : line.substr(e);
        m.total_s += v;
        if (field != 3 && field != 4) m.busy_s += v;
        if (field == 6) m.softirq_s += v;
    }
    return m;
}

}  // namespace isthmus::bench
