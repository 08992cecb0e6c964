#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace millrace {

namespace {

Error errno_error(std::string_view what, const std::string& path) {
    return Error(ErrorCode::kIo, std::string(what) + " " + path + ": " + std::strerror(errno));
}

Result<std::string> read_all(int fd) {
    std::string out;
    char buffer[512];
    off_t at = 0;
    while (out.size() < 4096) {
        const ssize_t n = ::pread(fd, buffer, sizeof(buffer), at);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error(ErrorCode::kIo, std::strerror(errno));
        }
        if (n == 0) break;
        out.append(buffer, static_cast<std::size_t>(n));
        at += n;
    }
    return out;
}

std::optional<LockHolder> parse_holder(const std::string& text) {
    LockHolder holder;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        const std::size_t space = line.find(' ');
        if (space == std::string::npos) continue;
        const std::string key = line.substr(0, space);
        const std::string value = line.substr(space + 1);
        if (key == "pid") {
            holder.pid = std::strtoll(value.c_str(), nullptr, 10);
        } else if (key == "command") {
            holder.command = value;
        } else if (key == "address") {
            holder.address = value;
        }
    }
    if (holder.pid <= 0) return std::nullopt;
    return holder;
}

}  // namespace

FileLock::FileLock(int fd, std::string path, std::string command)
    : fd_(fd), path_(std::move(path)), command_(std::move(command)) {}

FileLock::FileLock(FileLock&& other) noexcept
    : fd_(other.fd_),
      path_(std::move(other.path_)),
      command_(std::move(other.command_)),
      address_(std::move(other.address_)) {
    other.fd_ = -1;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        release();
        fd_ = other.fd_;
        path_ = std::move(other.path_);
        command_ = std::move(other.command_);
        address_ = std::move(other.address_);
        other.fd_ = -1;
    }
    return *this;
}

FileLock::~FileLock() { release(); }

void FileLock::release() {
    if (fd_ < 0) return;
    // The file keeps its last holder's contents (harmless: readers check locked()). Closing the
    // descriptor drops the flock.
    ::close(fd_);
    fd_ = -1;
}

Result<FileLock> FileLock::try_acquire(const std::string& path, std::string_view command) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error("opening lock file", path);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) {
            Result<std::string> text = read_all(fd);
            ::close(fd);
            std::optional<LockHolder> holder;
            if (text.ok()) holder = parse_holder(*text);
            return Error(ErrorCode::kUnavailable, path + " is held by " + describe_holder(holder));
        }
        Error error = errno_error("locking", path);
        ::close(fd);
        return error;
    }
    FileLock lock(fd, path, std::string(command));
    MILLRACE_TRY(lock.write_contents());
    return lock;
}

Result<FileLock> FileLock::acquire_waiting(const std::string& path, std::string_view command) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error("opening lock file", path);
    while (::flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        Error error = errno_error("locking", path);
        ::close(fd);
        return error;
    }
    FileLock lock(fd, path, std::string(command));
    MILLRACE_TRY(lock.write_contents());
    return lock;
}

Status FileLock::write_contents() {
    std::string text = "pid " + std::to_string(::getpid()) + "\ncommand " + command_ + "\n";
    if (!address_.empty()) text += "address " + address_ + "\n";
    // Only the holder writes, and readers tolerate a half-written file (they report "another
    // process"), so no rename dance: the inode must stay the one that is locked.
    if (::ftruncate(fd_, 0) != 0) return errno_error("truncating", path_);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n =
            ::pwrite(fd_, text.data() + done, text.size() - done, static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("writing", path_);
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Status FileLock::set_address(std::string_view address) {
    address_ = std::string(address);
    return write_contents();
}

std::optional<LockHolder> FileLock::read_holder(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    Result<std::string> text = read_all(fd);
    ::close(fd);
    if (!text.ok()) return std::nullopt;
    return parse_holder(*text);
}

bool FileLock::locked(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool held = false;
    // A shared try-lock fails exactly when someone holds the exclusive one.
    while (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        held = errno == EWOULDBLOCK;
        break;
    }
    ::close(fd);
    return held;
}

std::string FileLock::describe_holder(const std::optional<LockHolder>& holder) {
    if (!holder) return "another process";
    std::string text = "process " + std::to_string(holder->pid);
    if (!holder->command.empty()) text += " (" + holder->command + ")";
    return text;
}

}  // namespace millrace
