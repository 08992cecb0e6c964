#pragma once

#include <optional>
#include <string_view>

namespace millrace {

/// The cores this process may use: its CPU affinity mask (`taskset`, a container's cpuset),
/// lowered to a cgroup CPU quota when one is set (`docker --cpus=1.5` → 2), or the machine's
/// cores when neither can be read; at least 1. What "one per core" defaults (server threads,
/// decoding threads) mean, where std::thread::hardware_concurrency() would count cores the
/// process cannot use.
unsigned usable_cores();

/// The cores a cgroup CPU quota allows, rounded up: `text` is cgroup v2's `cpu.max`
/// ("<quota> <period>", or "max <period>" for none). nullopt when there is no quota or the
/// text does not parse.
std::optional<unsigned> cores_from_cpu_max(std::string_view text);

}  // namespace millrace
