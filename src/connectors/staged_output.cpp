#include "connectors/staged_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "common/durable_file.h"

namespace millrace {

namespace {

Error io_error(const std::string& what, const std::string& path) {
    return Error(ErrorCode::kIo, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Status refuse_input_as_output(const std::string& output, std::span<const std::string> inputs) {
    struct stat out {};
    if (output == "-" || ::stat(output.c_str(), &out) != 0) return {};
    for (const std::string& input : inputs) {
        struct stat in {};
        if (input == "-" || ::stat(input.c_str(), &in) != 0) continue;
        if (in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
            return Error(ErrorCode::kInvalidArgument,
                         "output " + output + " is the input " + input +
                             " (writing it would destroy the data being read); choose another "
                             "output path");
        }
    }
    return {};
}

Result<StagedOutput> StagedOutput::create(const std::string& path,
                                          std::span<const std::string> inputs) {
    if (path.empty()) return Error(ErrorCode::kInvalidArgument, "an output path is empty");
    std::string target = path;
    struct stat output {};
    if (::stat(path.c_str(), &output) == 0) {
        if (S_ISDIR(output.st_mode)) {
            return Error(ErrorCode::kInvalidArgument, "output " + path + " is a folder");
        }
        MILLRACE_TRY(refuse_input_as_output(path, inputs));
    }
    // A symlink (even one whose target does not exist yet) is followed, so that the rename
    // replaces its target rather than the link.
    for (int depth = 0; depth < 40; ++depth) {
        struct stat link {};
        if (::lstat(target.c_str(), &link) != 0 || !S_ISLNK(link.st_mode)) break;
        char buffer[PATH_MAX];
        const ssize_t n = ::readlink(target.c_str(), buffer, sizeof(buffer) - 1);
        if (n < 0) return io_error("cannot read the link", target);
        const std::string points_to(buffer, static_cast<std::size_t>(n));
        target = points_to.front() == '/' ? points_to : parent_directory(target) + "/" + points_to;
    }
    std::string temp = unique_temporary_path(target);
    // Created here, so a folder that refuses it fails before any input is read.
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("cannot create", temp);
    ::close(fd);
    return StagedOutput(path, std::move(target), std::move(temp));
}

StagedOutput::StagedOutput(StagedOutput&& other) noexcept
    : path_(std::move(other.path_)),
      target_(std::move(other.target_)),
      temp_path_(std::move(other.temp_path_)),
      file_(std::exchange(other.file_, nullptr)),
      committed_(other.committed_) {
    other.moved_ = true;
}

StagedOutput::~StagedOutput() {
    if (moved_) return;
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) ::unlink(temp_path_.c_str());
}

Result<std::FILE*> StagedOutput::stream() {
    if (file_ == nullptr) {
        file_ = std::fopen(temp_path_.c_str(), "wb");
        if (file_ == nullptr) return io_error("cannot open", temp_path_);
    }
    return file_;
}

Status StagedOutput::commit() {
    if (committed_) return {};
    if (file_ != nullptr) {
        const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
        Error error = io_error("cannot write", temp_path_);
        const bool closed = std::fclose(file_) == 0;
        file_ = nullptr;
        if (!flushed || !closed) return error;
    } else {
        // Written by name (Parquet) or not at all: make sure the bytes are durable.
        MILLRACE_TRY(sync_file(temp_path_));
    }
    MILLRACE_TRY(rename_durably(temp_path_, target_));
    committed_ = true;
    return {};
}

}  // namespace millrace
