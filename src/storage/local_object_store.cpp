#include "storage/local_object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "common/durable_file.h"
#include "common/mapped_file.h"

namespace millrace {

namespace {

int64_t modified_ms(const struct stat& st) {
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

}  // namespace

LocalObjectStore::LocalObjectStore(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string LocalObjectStore::path_of(std::string_view key) const {
    return root_ + "/" + std::string(key);
}

std::string LocalObjectStore::url(std::string_view key) const { return path_of(key); }

Status LocalObjectStore::put(std::string_view key, std::string_view bytes) {
    const std::string path = path_of(key);
    MILLRACE_TRY(create_parent_directories_durably(path));
    return write_file_durably(path, bytes);
}

Status LocalObjectStore::put_file(std::string_view key, const std::string& path) {
    const std::string target = path_of(key);
    MILLRACE_TRY(create_parent_directories_durably(target));
    const std::string temporary = unique_temporary_path(target);
    std::error_code error;
    std::filesystem::copy_file(path, temporary, std::filesystem::copy_options::overwrite_existing,
                               error);
    if (error) {
        std::filesystem::remove(temporary, error);
        return Error(ErrorCode::kIo, "cannot copy " + path + " to " + target);
    }
    Status synced = sync_file(temporary);
    if (synced.ok()) synced = rename_durably(temporary, target);
    if (!synced.ok()) ::unlink(temporary.c_str());
    return synced;
}

Result<std::string> LocalObjectStore::get(std::string_view key) { return read_file(path_of(key)); }

Result<std::string> LocalObjectStore::get_range(std::string_view key, uint64_t offset,
                                                uint64_t length) {
    const std::string path = path_of(key);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return Error(ErrorCode::kNotFound, path + ": no such object");
        return io_error("cannot open " + path);
    }
    std::string out(length, '\0');
    std::size_t done = 0;
    while (done < length) {
        const ssize_t n =
            ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            Error error = io_error("cannot read " + path);
            ::close(fd);
            return error;
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    out.resize(done);
    return out;
}

Status LocalObjectStore::get_file(std::string_view key, const std::string& path) {
    std::error_code error;
    std::filesystem::copy_file(path_of(key), path,
                               std::filesystem::copy_options::overwrite_existing, error);
    if (error == std::errc::no_such_file_or_directory) {
        return Error(ErrorCode::kNotFound, path_of(key) + ": no such object");
    }
    if (error) return Error(ErrorCode::kIo, "cannot copy " + path_of(key) + ": " + error.message());
    return {};
}

Result<std::vector<ObjectInfo>> LocalObjectStore::list(std::string_view prefix) {
    std::vector<ObjectInfo> out;
    // The folder holding the prefix's last complete segment bounds the walk.
    const std::size_t slash = prefix.rfind('/');
    const std::string start =
        slash == std::string_view::npos ? root_ : path_of(prefix.substr(0, slash));
    std::error_code error;
    if (!std::filesystem::is_directory(start, error)) return out;
    auto it = std::filesystem::recursive_directory_iterator(start, error);
    for (; !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
        struct stat st;
        const std::string path = it->path().string();
        if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        std::string key = path.substr(root_.size() + 1);
        if (key.compare(0, prefix.size(), prefix) != 0) continue;
        out.push_back({std::move(key), static_cast<uint64_t>(st.st_size), modified_ms(st)});
    }
    if (error) return Error(ErrorCode::kIo, "cannot list " + start + ": " + error.message());
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
}

Status LocalObjectStore::remove(std::string_view key) {
    const std::string path = path_of(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove " + path);
    return {};
}

Result<std::optional<ObjectInfo>> LocalObjectStore::head(std::string_view key) {
    struct stat st;
    const std::string path = path_of(key);
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::optional<ObjectInfo>();
        return io_error("cannot stat " + path);
    }
    return std::optional<ObjectInfo>(
        ObjectInfo{std::string(key), static_cast<uint64_t>(st.st_size), modified_ms(st)});
}

}  // namespace millrace
