#pragma once

namespace millrace {

/// The cores this process may run on: its CPU affinity mask (`taskset`, a container's cpuset),
/// or the machine's cores when the mask cannot be read; at least 1. What "one per core"
/// defaults (server threads, decoding threads) mean, where std::thread::hardware_concurrency()
/// would count cores the process cannot use.
unsigned usable_cores();

}  // namespace millrace
