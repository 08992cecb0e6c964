#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace millrace {

/// A task's process: started vfork-style (clone with CLONE_VM | CLONE_VFORK | CLONE_PIDFD on a
/// stack the calling thread reuses; posix_spawn in sanitized builds or when the kernel refuses
/// CLONE_PIDFD) in a process group of its own (so a timeout can kill it with everything it
/// started: `kill(-pgid, SIGKILL)`), stdout and stderr appended to a log file, and a pidfd to
/// wait on with epoll. The owner reaps it with reap() once the pidfd is
/// readable; the destructor closes the pidfd but neither kills nor reaps.
class ChildProcess {
public:
    struct Options {
        std::vector<std::string> argv;
        std::map<std::string, std::string> env;  // added to (or overriding) the environment
        std::string cwd;                         // "" = inherit
        std::string log_path;                    // stdout+stderr, appended
    };

    static Result<ChildProcess> spawn(const Options& options);
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    pid_t pid() const { return pid_; }
    /// Readable when the process has exited.
    int pidfd() const { return pidfd_; }
    /// Kills the whole process group.
    void kill_group() const;
    /// Waits for the exit (immediate once pidfd is readable); returns the exit code, or 128 +
    /// signal number when killed by a signal.
    int reap();

private:
    ChildProcess(pid_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}
    pid_t pid_ = -1;
    int pidfd_ = -1;
};

/// Kills process group `pgid` (a task left running by a scheduler that died); true when it
/// existed.
bool kill_process_group(pid_t pgid);

}  // namespace millrace
