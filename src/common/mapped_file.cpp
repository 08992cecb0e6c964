#include "common/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace millrace {

namespace {

Error io_error(const std::string& what, const std::string& path, int error_number) {
    return Error(error_number == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                 what + " " + path + ": " + std::strerror(error_number));
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open", path, errno);
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        int saved = errno;
        ::close(fd);
        return io_error("cannot stat", path, saved);
    }
    if (S_ISDIR(info.st_mode)) {
        ::close(fd);
        return Error(ErrorCode::kInvalidArgument, path + " is a directory, not a file");
    }
    const std::size_t size = static_cast<std::size_t>(info.st_size);
    if (size == 0) {
        ::close(fd);
        return MappedFile(path, nullptr, 0);
    }
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int saved = errno;
    ::close(fd);
    if (data == MAP_FAILED) return io_error("cannot map", path, saved);
    ::madvise(data, size, MADV_SEQUENTIAL);
    return MappedFile(path, static_cast<const char*>(data), size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)), data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
        path_ = std::move(other.path_);
        data_ = other.data_;
        size_ = other.size_;
        other.data_ = nullptr;
        other.size_ = 0;
    }
    return *this;
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

Result<std::string> read_file(const std::string& path) {
    MILLRACE_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
    return std::string(file.bytes());
}

}  // namespace millrace
