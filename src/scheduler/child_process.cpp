#include "scheduler/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace millrace {

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_), pidfd_(other.pidfd_) {
    other.pid_ = -1;
    other.pidfd_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        if (pidfd_ >= 0) ::close(pidfd_);
        pid_ = other.pid_;
        pidfd_ = other.pidfd_;
        other.pid_ = -1;
        other.pidfd_ = -1;
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    if (pidfd_ >= 0) ::close(pidfd_);
}

Result<ChildProcess> ChildProcess::spawn(const Options& options) {
    if (options.argv.empty()) return Error(ErrorCode::kInvalidArgument, "no command");
    std::vector<char*> argv;
    for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    // The inherited environment is passed by pointer (no copy of each entry per start); only
    // the task's own variables are built, and they hide inherited ones of the same name.
    std::vector<std::string> added;
    added.reserve(options.env.size());
    for (const auto& [name, value] : options.env) added.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const std::string_view name = entry.substr(0, entry.find('='));
        bool overridden = false;
        for (const auto& [added_name, value] : options.env) overridden |= added_name == name;
        if (!overridden) envp.push_back(*e);
    }
    for (std::string& entry : added) envp.push_back(entry.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (!options.log_path.empty()) {
        posix_spawn_file_actions_addopen(&actions, 1, options.log_path.c_str(),
                                         O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
    }
    if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setpgroup(&attributes, 0);
    sigset_t default_signals;
    sigemptyset(&default_signals);
    sigaddset(&default_signals, SIGTERM);
    sigaddset(&default_signals, SIGINT);
    sigaddset(&default_signals, SIGPIPE);
    sigaddset(&default_signals, SIGCHLD);
    sigset_t no_signals;
    sigemptyset(&no_signals);
    posix_spawnattr_setsigdefault(&attributes, &default_signals);
    posix_spawnattr_setsigmask(&attributes, &no_signals);
    posix_spawnattr_setflags(
        &attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
        return Error(ErrorCode::kIo, "cannot start " + options.argv[0] + ": " + std::strerror(rc));
    }
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
        const int saved = errno;
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        return Error(ErrorCode::kIo, std::string("pidfd_open: ") + std::strerror(saved));
    }
    ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
    return ChildProcess(pid, pidfd);
}

void ChildProcess::kill_group() const {
    if (pid_ > 0) ::kill(-pid_, SIGKILL);
}

int ChildProcess::reap() {
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

bool kill_process_group(pid_t pgid) { return pgid > 1 && ::kill(-pgid, SIGKILL) == 0; }

}  // namespace millrace
