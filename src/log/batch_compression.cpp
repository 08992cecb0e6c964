#include "log/batch_compression.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>

namespace millrace::batch_compression {

namespace {

constexpr std::string_view kXerialMagic("\x82SNAPPY\x00", 8);
constexpr std::size_t kXerialHeader = 16;  // magic, version, compatible version

Error corrupt(std::string_view codec, std::string_view what) {
    return Error(ErrorCode::kCorruption,
                 std::string(codec) + " records do not decompress: " + std::string(what));
}

uint32_t get_be32(const char* in) {
    const auto* b = reinterpret_cast<const unsigned char*>(in);
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

void put_be32(std::string& out, uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

Status gunzip(std::string_view input, std::size_t max_size, std::string& out) {
    z_stream stream{};
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) return corrupt("gzip", "inflateInit2");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, inflateEnd);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream.avail_in = static_cast<uInt>(input.size());
    const std::size_t start = out.size();
    char chunk[64 << 10];
    while (true) {
        stream.next_out = reinterpret_cast<Bytef*>(chunk);
        stream.avail_out = sizeof(chunk);
        const int rc = inflate(&stream, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) return corrupt("gzip", stream.msg ? stream.msg : "");
        out.append(chunk, sizeof(chunk) - stream.avail_out);
        if (out.size() - start > max_size) return corrupt("gzip", "expands beyond the limit");
        if (rc == Z_STREAM_END) {
            if (stream.avail_in == 0) return {};
            // Concatenated gzip members.
            if (inflateReset(&stream) != Z_OK) return corrupt("gzip", "reset");
            continue;
        }
        if (stream.avail_in == 0 && stream.avail_out != 0) return corrupt("gzip", "truncated");
    }
}

Status snappy_raw(std::string_view input, std::size_t max_size, std::string& out) {
    std::size_t size = 0;
    if (snappy_uncompressed_length(input.data(), input.size(), &size) != SNAPPY_OK)
        return corrupt("snappy", "bad block length");
    if (size > max_size) return corrupt("snappy", "expands beyond the limit");
    const std::size_t at = out.size();
    out.resize(at + size);
    if (snappy_uncompress(input.data(), input.size(), out.data() + at, &size) != SNAPPY_OK)
        return corrupt("snappy", "bad block");
    out.resize(at + size);
    return {};
}

Status unsnappy(std::string_view input, std::size_t max_size, std::string& out) {
    if (!input.starts_with(kXerialMagic)) return snappy_raw(input, max_size, out);
    if (input.size() < kXerialHeader) return corrupt("snappy", "truncated xerial header");
    std::size_t pos = kXerialHeader;
    const std::size_t start = out.size();
    while (pos < input.size()) {
        if (input.size() - pos < 4) return corrupt("snappy", "truncated block length");
        const uint32_t length = get_be32(input.data() + pos);
        pos += 4;
        if (length > input.size() - pos) return corrupt("snappy", "truncated block");
        const std::size_t used = out.size() - start;
        MILLRACE_TRY(snappy_raw(input.substr(pos, length), max_size - used, out));
        pos += length;
    }
    return {};
}

Status unlz4(std::string_view input, std::size_t max_size, std::string& out) {
    LZ4F_dctx* context = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION)))
        return corrupt("lz4", "context");
    std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> guard(
        context, LZ4F_freeDecompressionContext);
    const std::size_t start = out.size();
    std::size_t pos = 0;
    char chunk[64 << 10];
    while (pos < input.size()) {
        std::size_t in_size = input.size() - pos;
        std::size_t out_size = sizeof(chunk);
        const std::size_t hint =
            LZ4F_decompress(context, chunk, &out_size, input.data() + pos, &in_size, nullptr);
        if (LZ4F_isError(hint)) return corrupt("lz4", LZ4F_getErrorName(hint));
        pos += in_size;
        out.append(chunk, out_size);
        if (out.size() - start > max_size) return corrupt("lz4", "expands beyond the limit");
        if (in_size == 0 && out_size == 0) return corrupt("lz4", "no progress");
        if (hint == 0 && pos < input.size()) {
            LZ4F_resetDecompressionContext(context);  // another frame follows
        } else if (hint != 0 && pos >= input.size()) {
            return corrupt("lz4", "truncated frame");
        }
    }
    return {};
}

Status unzstd(std::string_view input, std::size_t max_size, std::string& out) {
    ZSTD_DStream* stream = ZSTD_createDStream();
    if (stream == nullptr) return corrupt("zstd", "context");
    std::unique_ptr<ZSTD_DStream, std::size_t (*)(ZSTD_DStream*)> guard(stream, ZSTD_freeDStream);
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    const std::size_t start = out.size();
    char chunk[64 << 10];
    std::size_t last = 0;
    while (in.pos < in.size) {
        ZSTD_outBuffer buffer{chunk, sizeof(chunk), 0};
        last = ZSTD_decompressStream(stream, &buffer, &in);
        if (ZSTD_isError(last)) return corrupt("zstd", ZSTD_getErrorName(last));
        out.append(chunk, buffer.pos);
        if (out.size() - start > max_size) return corrupt("zstd", "expands beyond the limit");
    }
    // Flush what the decoder still holds for the last frame.
    while (last != 0) {
        ZSTD_outBuffer buffer{chunk, sizeof(chunk), 0};
        last = ZSTD_decompressStream(stream, &buffer, &in);
        if (ZSTD_isError(last)) return corrupt("zstd", ZSTD_getErrorName(last));
        if (buffer.pos == 0) return corrupt("zstd", "truncated frame");
        out.append(chunk, buffer.pos);
        if (out.size() - start > max_size) return corrupt("zstd", "expands beyond the limit");
    }
    return {};
}

}  // namespace

Status decompress(BatchCodec codec, std::string_view input, std::size_t max_size,
                  std::string& out) {
    switch (codec) {
        case BatchCodec::kNone:
            if (input.size() > max_size) return corrupt("plain", "beyond the limit");
            out.append(input);
            return {};
        case BatchCodec::kGzip:
            return gunzip(input, max_size, out);
        case BatchCodec::kSnappy:
            return unsnappy(input, max_size, out);
        case BatchCodec::kLz4:
            return unlz4(input, max_size, out);
        case BatchCodec::kZstd:
            return unzstd(input, max_size, out);
    }
    return Error(ErrorCode::kInvalidArgument,
                 "unknown compression codec " + std::to_string(static_cast<int>(codec)));
}

void compress(BatchCodec codec, std::string_view input, std::string& out) {
    out.clear();
    switch (codec) {
        case BatchCodec::kNone:
            out.assign(input);
            return;
        case BatchCodec::kGzip: {
            z_stream stream{};
            deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY);
            out.resize(deflateBound(&stream, static_cast<uLong>(input.size())) + 32);
            stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
            stream.avail_in = static_cast<uInt>(input.size());
            stream.next_out = reinterpret_cast<Bytef*>(out.data());
            stream.avail_out = static_cast<uInt>(out.size());
            deflate(&stream, Z_FINISH);
            out.resize(stream.total_out);
            deflateEnd(&stream);
            return;
        }
        case BatchCodec::kSnappy: {
            out.assign(kXerialMagic);
            put_be32(out, 1);
            put_be32(out, 1);
            std::size_t size = snappy_max_compressed_length(input.size());
            std::string block(size, '\0');
            snappy_compress(input.data(), input.size(), block.data(), &size);
            put_be32(out, static_cast<uint32_t>(size));
            out.append(block.data(), size);
            return;
        }
        case BatchCodec::kLz4: {
            out.resize(LZ4F_compressFrameBound(input.size(), nullptr));
            const std::size_t size =
                LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), nullptr);
            out.resize(LZ4F_isError(size) ? 0 : size);
            return;
        }
        case BatchCodec::kZstd: {
            out.resize(ZSTD_compressBound(input.size()));
            const std::size_t size =
                ZSTD_compress(out.data(), out.size(), input.data(), input.size(), 3);
            out.resize(ZSTD_isError(size) ? 0 : size);
            return;
        }
    }
}

}  // namespace millrace::batch_compression
