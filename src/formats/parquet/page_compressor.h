#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "formats/parquet/file_metadata.h"

namespace millrace::parquet {

/// Compresses and decompresses page bodies with one codec (UNCOMPRESSED, SNAPPY, ZSTD, GZIP for
/// reading). Keeps its zstd contexts between pages; one per thread.
class PageCompressor {
public:
    PageCompressor();
    ~PageCompressor();
    PageCompressor(PageCompressor&&) noexcept;
    PageCompressor& operator=(PageCompressor&&) noexcept;

    /// Replaces `out` with `input` compressed by `codec` (zstd at `level`).
    void compress(Codec codec, int level, std::string_view input, std::string& out);

    /// Decompresses `input` into `out`, which must come out exactly `expected_size` bytes.
    /// `expected_size` is the page header's claim, capped by the caller.
    Status decompress(int32_t codec, std::string_view input, std::size_t expected_size,
                      std::string& out);

private:
    struct Contexts;
    std::unique_ptr<Contexts> contexts_;
};

}  // namespace millrace::parquet
