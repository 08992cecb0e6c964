#include "formats/parquet/page_compressor.h"

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

namespace millrace::parquet {

struct PageCompressor::Contexts {
    ZSTD_CCtx* compress = nullptr;
    ZSTD_DCtx* decompress = nullptr;
    ~Contexts() {
        ZSTD_freeCCtx(compress);
        ZSTD_freeDCtx(decompress);
    }
};

PageCompressor::PageCompressor() : contexts_(std::make_unique<Contexts>()) {}
PageCompressor::~PageCompressor() = default;
PageCompressor::PageCompressor(PageCompressor&&) noexcept = default;
PageCompressor& PageCompressor::operator=(PageCompressor&&) noexcept = default;

void PageCompressor::compress(Codec codec, int level, std::string_view input, std::string& out) {
    switch (codec) {
        case Codec::kSnappy: {
            std::size_t size = snappy_max_compressed_length(input.size());
            out.resize(size);
            snappy_compress(input.data(), input.size(), out.data(), &size);
            out.resize(size);
            return;
        }
        case Codec::kZstd: {
            if (contexts_->compress == nullptr) contexts_->compress = ZSTD_createCCtx();
            out.resize(ZSTD_compressBound(input.size()));
            const std::size_t size = ZSTD_compressCCtx(contexts_->compress, out.data(), out.size(),
                                                       input.data(), input.size(), level);
            MILLRACE_CHECK(!ZSTD_isError(size), ZSTD_getErrorName(size));
            out.resize(size);
            return;
        }
        default:
            out.assign(input);
    }
}

Status PageCompressor::decompress(int32_t codec, std::string_view input, std::size_t expected_size,
                                  std::string& out) {
    auto mismatch = [&](std::size_t got) {
        return Error(ErrorCode::kCorruption, std::string(codec_name(codec)) +
                                                 " page decompressed to " + std::to_string(got) +
                                                 " bytes, header says " +
                                                 std::to_string(expected_size));
    };
    out.resize(expected_size);
    switch (static_cast<Codec>(codec)) {
        case Codec::kUncompressed:
            if (input.size() != expected_size) return mismatch(input.size());
            out.assign(input);
            return {};
        case Codec::kSnappy: {
            std::size_t size = 0;
            if (snappy_uncompressed_length(input.data(), input.size(), &size) != SNAPPY_OK) {
                return Error(ErrorCode::kCorruption, "bad snappy page");
            }
            if (size != expected_size) return mismatch(size);
            if (snappy_uncompress(input.data(), input.size(), out.data(), &size) != SNAPPY_OK) {
                return Error(ErrorCode::kCorruption, "bad snappy page");
            }
            return {};
        }
        case Codec::kZstd: {
            if (contexts_->decompress == nullptr) contexts_->decompress = ZSTD_createDCtx();
            const std::size_t size = ZSTD_decompressDCtx(contexts_->decompress, out.data(),
                                                         out.size(), input.data(), input.size());
            if (ZSTD_isError(size)) {
                return Error(ErrorCode::kCorruption,
                             std::string("bad zstd page: ") + ZSTD_getErrorName(size));
            }
            if (size != expected_size) return mismatch(size);
            return {};
        }
        case Codec::kGzip: {
            z_stream stream{};
            if (inflateInit2(&stream, 15 + 32) != Z_OK) {
                return Error(ErrorCode::kInternal, "inflateInit2 failed");
            }
            stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
            stream.avail_in = static_cast<uInt>(input.size());
            stream.next_out = reinterpret_cast<Bytef*>(out.data());
            stream.avail_out = static_cast<uInt>(out.size());
            const int rc = inflate(&stream, Z_FINISH);
            const std::size_t size = stream.total_out;
            inflateEnd(&stream);
            if (rc != Z_STREAM_END) return Error(ErrorCode::kCorruption, "bad gzip page");
            if (size != expected_size) return mismatch(size);
            return {};
        }
        default:
            return Error(ErrorCode::kUnsupported, "unsupported compression codec " +
                                                      std::string(codec_name(codec)) + " (" +
                                                      std::to_string(codec) + ")");
    }
}

}  // namespace millrace::parquet
