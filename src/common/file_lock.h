#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

/// Who holds a FileLock, as its lock file says.
struct LockHolder {
    int64_t pid = 0;
    std::string command;  // e.g. "millrace serve"
    std::string address;  // where the holder takes requests ("127.0.0.1:8080"), "" if none
};

/// An exclusive, advisory, non-blocking lock on a file (flock(2)), held while the object lives.
///
/// The kernel drops the lock when the last descriptor of the lock file closes, which includes
/// the death of the process by any signal (kill -9), so a stale lock never blocks a restart and
/// nothing has to clean it up. The lock file stays on disk; its contents name the holder:
///
///   pid 1234\n
///   command millrace serve\n
///   address 127.0.0.1:8080\n      (once set_address() was called)
///
/// Two acquisitions conflict even inside one process (each opens its own file description).
/// The descriptor is close-on-exec, so processes the holder starts do not inherit the lock.
///
/// Threads: one owner; move-only.
class FileLock {
public:
    /// Creates `path` if needed and takes the lock. kUnavailable when another holder has it; the
    /// message names that holder's pid and command (see describe_holder()).
    static Result<FileLock> try_acquire(const std::string& path, std::string_view command);
    /// Creates `path` if needed and waits until the lock is free (for short critical sections
    /// that writers take in turn, such as a table commit or a counter update).
    static Result<FileLock> acquire_waiting(const std::string& path, std::string_view command);

    /// What the lock file at `path` says; nullopt when it is missing or unreadable. Does not take
    /// the lock: the holder may be gone (then locked() is false).
    static std::optional<LockHolder> read_holder(const std::string& path);
    /// Whether some process holds the lock at `path` right now.
    static bool locked(const std::string& path);
    /// "process 1234 (millrace serve)", or "another process" when the file names nobody.
    static std::string describe_holder(const std::optional<LockHolder>& holder);

    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

    /// Records where the holder takes requests, so a second process can go through it.
    Status set_address(std::string_view address);
    const std::string& path() const { return path_; }

private:
    FileLock(int fd, std::string path, std::string command);
    Status write_contents();
    void release();

    int fd_ = -1;
    std::string path_;
    std::string command_;
    std::string address_;
};

}  // namespace millrace
