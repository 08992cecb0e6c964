#include "lake/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/mapped_file.h"

namespace millrace {

namespace {

std::string parent_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

Error io_error(const std::string& what, const std::string& path) {
    return Error(ErrorCode::kIo, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Status sync_folder(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open folder", path);
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return io_error("cannot fsync folder", path);
    return {};
}

Status create_directories_durably(const std::string& path) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) return {};
    const std::string parent = parent_of(path);
    if (parent != path) MILLRACE_TRY(create_directories_durably(parent));
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
        return io_error("cannot create folder", path);
    }
    return sync_folder(parent);
}

Status write_file_durably(const std::string& path, std::string_view bytes) {
    MILLRACE_TRY(write_file_atomic(path, bytes));
    return sync_folder(parent_of(path));
}

Status rename_durably(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0)
        return io_error("cannot rename " + from + " to", to);
    MILLRACE_TRY(sync_folder(parent_of(to)));
    if (parent_of(from) != parent_of(to)) MILLRACE_TRY(sync_folder(parent_of(from)));
    return {};
}

}  // namespace millrace
