#include "common/text_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace millrace {

namespace {

Error os_error(const std::string& path, std::string_view doing, int error_number) {
    const ErrorCode code = error_number == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo;
    return Error(code, std::string(doing) + ": " + std::strerror(error_number),
                 SourceLocation{path, 0, 0});
}

// Closes the descriptor on every path out of read_text_file.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

}  // namespace

Result<std::string> read_text_file(const std::string& path, std::size_t max_bytes) {
    FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.get() < 0) return os_error(path, "cannot open file", errno);
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) return os_error(path, "cannot stat file", errno);
    if (S_ISDIR(info.st_mode)) return os_error(path, "cannot read file", EISDIR);
    std::string text;
    if (S_ISREG(info.st_mode)) {
        if (static_cast<std::size_t>(info.st_size) > max_bytes) {
            return Error(ErrorCode::kResourceExhausted,
                         "file is " + std::to_string(info.st_size) + " bytes; the limit is " +
                             std::to_string(max_bytes),
                         SourceLocation{path, 0, 0});
        }
        text.reserve(static_cast<std::size_t>(info.st_size));
    }
    // Read until end of file rather than trusting st_size: the file may change, or be a pipe.
    char buffer[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(file.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            return os_error(path, "cannot read file", errno);
        }
        if (n == 0) break;
        if (text.size() + static_cast<std::size_t>(n) > max_bytes) {
            return Error(ErrorCode::kResourceExhausted,
                         "file is larger than the limit of " + std::to_string(max_bytes) + " bytes",
                         SourceLocation{path, 0, 0});
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

}  // namespace millrace
