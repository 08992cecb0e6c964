#include "common/cpu_count.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace millrace {

namespace {

/// The process's cgroup v2 `cpu.max`, or "" (cgroup v1, no controller, unreadable).
std::string read_cpu_max() {
    std::ifstream cgroups("/proc/self/cgroup");
    std::string line;
    while (std::getline(cgroups, line)) {
        if (line.rfind("0::", 0) != 0) continue;  // the v2 hierarchy: "0::<path>"
        std::ifstream file("/sys/fs/cgroup" + line.substr(3) + "/cpu.max");
        std::stringstream text;
        text << file.rdbuf();
        return text.str();
    }
    return {};
}

}  // namespace

std::optional<unsigned> cores_from_cpu_max(std::string_view text) {
    const std::size_t space = text.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    const std::string_view quota = text.substr(0, space);
    std::string_view period = text.substr(space + 1);
    while (!period.empty() && (period.back() == '\n' || period.back() == ' ')) {
        period.remove_suffix(1);
    }
    uint64_t q = 0;
    uint64_t p = 0;
    if (quota == "max") return std::nullopt;
    if (std::from_chars(quota.data(), quota.data() + quota.size(), q).ptr !=
            quota.data() + quota.size() ||
        std::from_chars(period.data(), period.data() + period.size(), p).ptr !=
            period.data() + period.size() ||
        q == 0 || p == 0) {
        return std::nullopt;
    }
    return static_cast<unsigned>(std::max<uint64_t>(1, (q + p - 1) / p));
}

unsigned usable_cores() {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
        cores = static_cast<unsigned>(CPU_COUNT(&set));
    }
    if (std::optional<unsigned> quota = cores_from_cpu_max(read_cpu_max())) {
        cores = std::min(cores, *quota);
    }
    return cores;
}

}  // namespace millrace
