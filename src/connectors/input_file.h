#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/mapped_file.h"
#include "common/result.h"

namespace millrace {

/// The bytes of an input file a user names on the command line. A regular file is memory-mapped
/// (no copy, whatever its size); a FIFO, a character device or "-" (standard input) cannot be
/// mapped and has no size up front, so it is read to its end into memory. A folder is refused.
/// Move-only; the bytes live as long as the object.
class InputFile {
public:
    static Result<InputFile> open(const std::string& path);

    std::string_view bytes() const {
        return mapped_ ? mapped_->bytes() : std::string_view(streamed_);
    }
    /// A regular file, whose size and modification time identify its contents.
    bool is_regular() const { return mapped_.has_value(); }

private:
    InputFile() = default;

    std::optional<MappedFile> mapped_;
    std::string streamed_;
};

}  // namespace millrace
