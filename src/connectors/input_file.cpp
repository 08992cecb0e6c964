#include "connectors/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace millrace {

Result<InputFile> InputFile::open(const std::string& path) {
    InputFile input;
    int fd = STDIN_FILENO;
    if (path != "-") {
        struct stat info {};
        if (::stat(path.c_str(), &info) != 0) {
            return Error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                         "cannot open " + path + ": " + std::strerror(errno));
        }
        if (S_ISDIR(info.st_mode)) {
            return Error(ErrorCode::kInvalidArgument, path + " is a folder, not a file");
        }
        if (S_ISREG(info.st_mode)) {
            MILLRACE_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
            input.mapped_.emplace(std::move(mapped));
            return input;
        }
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return Error(ErrorCode::kIo, "cannot open " + path + ": " + std::strerror(errno));
    }
    char chunk[1 << 16];
    while (true) {
        const ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n == 0) break;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int saved = errno;
            if (fd != STDIN_FILENO) ::close(fd);
            return Error(ErrorCode::kIo, "cannot read " +
                                             (path == "-" ? std::string("standard input") : path) +
                                             ": " + std::strerror(saved));
        }
        input.streamed_.append(chunk, static_cast<std::size_t>(n));
    }
    if (fd != STDIN_FILENO) ::close(fd);
    return input;
}

}  // namespace millrace
