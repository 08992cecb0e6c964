#include "lake/staging_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <utility>

#include "common/durable_file.h"

namespace millrace {

namespace {

constexpr std::string_view kPrivatePrefix = "_tx-";

std::string token() {
    std::random_device device;
    char buffer[40];
    std::snprintf(buffer, sizeof(buffer), "%d-%08x%08x", static_cast<int>(::getpid()), device(),
                  device());
    return buffer;
}

// Opens (creating) and try-locks `<folder>/.owner`. Returns the descriptor, -1 when another live
// owner holds it, or an error.
Result<int> try_lock_owner(const std::string& folder, bool create) {
    const std::string path = folder + "/.owner";
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd < 0) return io_error("cannot open " + path);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        const int saved = errno;
        ::close(fd);
        if (saved == EWOULDBLOCK) return -1;
        errno = saved;
        return io_error("cannot lock " + path);
    }
    return fd;
}

}  // namespace

Result<StagingFolder> StagingFolder::claim_named(const std::string& table_path,
                                                 const std::string& writer_id) {
    const std::string folder = table_path + "/_staging/" + writer_id;
    MILLRACE_TRY(create_directories_durably(folder));
    MILLRACE_ASSIGN_OR_RETURN(int fd, try_lock_owner(folder, true));
    if (fd < 0) {
        return Error(ErrorCode::kUnavailable,
                     "writer `" + writer_id + "` of " + table_path +
                         " is in use by another live writer (give each writer its own id)");
    }
    return StagingFolder(folder, fd, false);
}

Result<StagingFolder> StagingFolder::claim_private(const std::string& table_path,
                                                   std::string_view label) {
    const std::string root = table_path + "/_staging";
    MILLRACE_TRY(create_directories_durably(root));
    const std::string id = token();
    // Locked before it gets the name sweep_abandoned() looks at, so no sweeper can take it
    // for abandoned while it is being set up.
    const std::string setup = root + "/.new-" + id;
    if (::mkdir(setup.c_str(), 0755) != 0) return io_error("cannot create folder " + setup);
    auto fd = try_lock_owner(setup, true);
    if (!fd.ok() || *fd < 0) {
        std::error_code ignored;
        std::filesystem::remove_all(setup, ignored);
        if (!fd.ok()) return std::move(fd).error();
        return Error(ErrorCode::kInternal, "fresh staging folder " + setup + " is locked");
    }
    std::string name(kPrivatePrefix);
    for (char c : label) name.push_back(c == '/' ? '_' : c);
    const std::string folder = root + "/" + name + "-" + id;
    // Durable, so that after a crash a recovered writer finds its folder under its final name.
    if (Status renamed = rename_durably(setup, folder); !renamed.ok()) {
        Error error = std::move(renamed).error();
        ::close(*fd);
        std::error_code ignored;
        std::filesystem::remove_all(setup, ignored);
        return error;
    }
    return StagingFolder(folder, *fd, true);
}

Status StagingFolder::sweep_abandoned(const std::string& table_path) {
    const std::string root = table_path + "/_staging";
    std::error_code error;
    if (!std::filesystem::is_directory(root, error)) return {};
    std::vector<std::string> abandoned;
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
        const std::string name = entry.path().filename().string();
        if (name.compare(0, kPrivatePrefix.size(), kPrivatePrefix) != 0) continue;
        auto fd = try_lock_owner(entry.path().string(), false);
        if (!fd.ok() || *fd < 0) continue;  // a live owner (or already gone)
        std::filesystem::remove_all(entry.path(), error);
        ::close(*fd);
        if (error) return Error(ErrorCode::kIo, "cannot remove " + entry.path().string());
        abandoned.push_back(name);
    }
    if (!abandoned.empty()) MILLRACE_TRY(sync_directory(root));
    return {};
}

StagingFolder::StagingFolder(StagingFolder&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), private_(other.private_) {}

StagingFolder& StagingFolder::operator=(StagingFolder&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        fd_ = std::exchange(other.fd_, -1);
        private_ = other.private_;
    }
    return *this;
}

StagingFolder::~StagingFolder() { release(); }

void StagingFolder::release() {
    if (fd_ < 0) return;
    if (private_) {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ::close(fd_);
    fd_ = -1;
}

}  // namespace millrace
