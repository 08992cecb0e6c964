#include "log/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace millrace {

Error io_error(std::string_view what) {
    return Error(ErrorCode::kIo, std::string(what) + ": " + std::strerror(errno));
}

Status sync_directory(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("opening directory " + path);
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return io_error("syncing directory " + path);
    return {};
}

Status write_file_atomically(const std::string& path, std::string_view contents) {
    const std::string temporary = path + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("creating " + temporary);
    std::size_t written = 0;
    while (written < contents.size()) {
        const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            Error error = io_error("writing " + temporary);
            ::close(fd);
            return error;
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        Error error = io_error("syncing " + temporary);
        ::close(fd);
        return error;
    }
    ::close(fd);
    if (std::rename(temporary.c_str(), path.c_str()) != 0) return io_error("renaming " + temporary);
    const std::size_t slash = path.rfind('/');
    return sync_directory(slash == std::string::npos ? "." : path.substr(0, slash));
}

}  // namespace millrace
