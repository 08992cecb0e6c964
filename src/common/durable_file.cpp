#include "common/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace millrace {

std::string parent_directory(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

Error io_error(std::string_view what) {
    return Error(ErrorCode::kIo, std::string(what) + ": " + std::strerror(errno));
}

Status sync_directory(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open folder " + path);
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return io_error("cannot fsync folder " + path);
    return {};
}

Status create_directories_durably(const std::string& path) {
    std::error_code error;
    if (path.empty() || std::filesystem::is_directory(path, error)) return {};
    const std::string parent = parent_directory(path);
    if (parent != path) MILLRACE_TRY(create_directories_durably(parent));
    if (::mkdir(path.c_str(), 0755) != 0) {
        if (errno == EEXIST && std::filesystem::is_directory(path, error)) return {};
        return io_error("cannot create folder " + path);
    }
    return sync_directory(parent);
}

Status create_parent_directories_durably(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return {};
    return create_directories_durably(path.substr(0, slash));
}

std::string unique_temporary_path(const std::string& path) {
    static std::atomic<uint64_t> sequence{0};
    return path + ".tmp-" + std::to_string(::getpid()) + "-" +
           std::to_string(sequence.fetch_add(1));
}

Status sync_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open " + path);
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return io_error("cannot fsync " + path);
    return {};
}

Status write_file_durably(const std::string& path, std::string_view bytes) {
    const std::string temporary = unique_temporary_path(path);
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("cannot create " + temporary);
    const auto fail = [&](std::string_view what) {
        Error error = io_error(std::string(what) + " " + temporary);
        ::close(fd);
        ::unlink(temporary.c_str());
        return error;
    };
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("cannot write");
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return fail("cannot fsync");
    if (::close(fd) != 0) {
        Error error = io_error("cannot close " + temporary);
        ::unlink(temporary.c_str());
        return error;
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        Error error = io_error("cannot rename " + temporary + " to " + path);
        ::unlink(temporary.c_str());
        return error;
    }
    return sync_directory(parent_directory(path));
}

Status rename_durably(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        return io_error("cannot rename " + from + " to " + to);
    }
    MILLRACE_TRY(sync_directory(parent_directory(to)));
    if (parent_directory(from) != parent_directory(to))
        MILLRACE_TRY(sync_directory(parent_directory(from)));
    return {};
}

}  // namespace millrace
