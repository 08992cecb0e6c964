#include "scheduler/child_process.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

extern char** environ;

namespace millrace {

namespace {

// Sanitizer runtimes intercept sigaction and keep state in memory a CLONE_VM child would share:
// sanitized builds start tasks through posix_spawn only.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MILLRACE_CLONE_SPAWN 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define MILLRACE_CLONE_SPAWN 0
#endif
#endif
#ifndef MILLRACE_CLONE_SPAWN
#define MILLRACE_CLONE_SPAWN 1
#endif

#if MILLRACE_CLONE_SPAWN
/// What the child does between clone and execve, in the order posix_spawn's file actions would.
struct ChildSetup {
    const char* path;
    char* const* argv;
    char* const* envp;
    const char* log_path;  // nullptr: inherit stdout and stderr
    const char* cwd;       // nullptr: inherit
    int error = 0;         // errno of the step that failed, written by the child before _exit
};

// Moves `fd` to `target` (dup2 clears close-on-exec on the copy).
bool move_fd(int fd, int target) {
    if (fd < 0) return false;
    if (fd == target) return true;
    const bool moved = ::dup2(fd, target) == target;
    ::close(fd);
    return moved;
}

// Runs in the child: its own stack, the parent's memory (CLONE_VM | CLONE_VFORK suspends the
// calling thread until execve or _exit), every signal blocked. Only async-signal-safe calls.
int run_child(void* argument) {
    auto* setup = static_cast<ChildSetup*>(argument);
    // The parent's handlers must not run here (they would run on this stack, in the parent's
    // memory): every handled signal back to its default, and the ones a task expects at their
    // default even when the scheduler ignores them.
    for (int signal = 1; signal < NSIG; ++signal) {
        struct sigaction current {};
        if (::sigaction(signal, nullptr, &current) != 0) continue;  // SIGKILL, glibc's own
        const bool handled = (current.sa_flags & SA_SIGINFO) != 0 ||
                             (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN);
        const bool expected_default =
            signal == SIGTERM || signal == SIGINT || signal == SIGPIPE || signal == SIGCHLD;
        if (!handled && !expected_default) continue;
        struct sigaction default_action {};
        default_action.sa_handler = SIG_DFL;
        ::sigaction(signal, &default_action, nullptr);
    }
    bool ok = ::setpgid(0, 0) == 0 && move_fd(::open("/dev/null", O_RDONLY), 0);
    if (ok && setup->log_path != nullptr) {
        ok = move_fd(::open(setup->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644), 1) &&
             ::dup2(1, 2) == 2;
    }
    if (ok && setup->cwd != nullptr) ok = ::chdir(setup->cwd) == 0;
    if (ok) {
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(setup->path, setup->argv, setup->envp);
    }
    setup->error = errno;
    ::_exit(127);
}

/// vfork-style start: clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) on a stack this thread keeps
/// from start to start. posix_spawn maps and unmaps a fresh stack per call, and each unmap
/// flushes the TLBs of every core running one of our threads; the pidfd comes with the clone
/// instead of a pidfd_open after it. nullopt when the kernel refuses CLONE_PIDFD (then
/// posix_spawn does it).
std::optional<Result<std::pair<pid_t, int>>> clone_spawn(ChildSetup& setup) {
    constexpr std::size_t kStackBytes = 64 * 1024;
    thread_local std::unique_ptr<char[]> stack;  // new[]: 16-byte aligned, as the ABI needs
    if (!stack) stack = std::make_unique<char[]>(kStackBytes);
    sigset_t all;
    sigset_t saved;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved);
    int pidfd = -1;
    const pid_t pid = ::clone(run_child, stack.get() + kStackBytes,
                              CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &setup, &pidfd);
    const int clone_error = errno;
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    if (pid < 0) {
        if (clone_error == EINVAL || clone_error == ENOSYS) return std::nullopt;
        return Result<std::pair<pid_t, int>>(
            Error(ErrorCode::kIo, std::string("clone: ") + std::strerror(clone_error)));
    }
    if (setup.error != 0) {  // the child exited before execve: reap it, report why
        ::close(pidfd);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return Result<std::pair<pid_t, int>>(
            Error(ErrorCode::kIo,
                  std::string("cannot start ") + setup.path + ": " + std::strerror(setup.error)));
    }
    return Result<std::pair<pid_t, int>>(std::make_pair(pid, pidfd));
}
#endif  // MILLRACE_CLONE_SPAWN

}  // namespace

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

#if MILLRACE_CLONE_SPAWN
    {
        ChildSetup setup{argv[0], argv.data(), envp.data(),
                         options.log_path.empty() ? nullptr : options.log_path.c_str(),
                         options.cwd.empty() ? nullptr : options.cwd.c_str()};
        if (std::optional<Result<std::pair<pid_t, int>>> started = clone_spawn(setup)) {
            MILLRACE_ASSIGN_OR_RETURN(auto pid_and_fd, std::move(*started));
            return ChildProcess(pid_and_fd.first, pid_and_fd.second);
        }
    }
#endif
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
