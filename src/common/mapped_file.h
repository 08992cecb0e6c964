#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

/// A whole file's bytes, read-only, memory-mapped so that a multi-gigabyte input costs no copy
/// and no resident memory beyond the pages being decoded. Empty files map to an empty view.
/// Move-only; unmaps on destruction. Safe to read from any number of threads.
class MappedFile {
public:
    static Result<MappedFile> open(const std::string& path);

    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::string_view bytes() const { return {data_, size_}; }
    const std::string& path() const { return path_; }

private:
    MappedFile(std::string path, const char* data, std::size_t size)
        : path_(std::move(path)), data_(data), size_(size) {}

    std::string path_;
    const char* data_ = nullptr;
    std::size_t size_ = 0;
};

/// Reads a whole (small) file into a string.
Result<std::string> read_file(const std::string& path);

}  // namespace millrace
