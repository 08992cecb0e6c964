#include "formats/parquet/rle_hybrid.h"

#include <cstring>

namespace millrace::parquet {

namespace {

void put_varint(uint64_t value, std::string& out) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7F) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

// Bit-packs `count` values (a multiple of 8) LSB first.
void pack(const uint32_t* values, std::size_t count, int bit_width, std::string& out) {
    const std::size_t start = out.size();
    out.resize(start + count * bit_width / 8);
    uint8_t* dst = reinterpret_cast<uint8_t*>(out.data() + start);
    uint64_t buffer = 0;
    int bits = 0;
    for (std::size_t i = 0; i < count; ++i) {
        buffer |= static_cast<uint64_t>(values[i]) << bits;
        bits += bit_width;
        while (bits >= 8) {
            *dst++ = static_cast<uint8_t>(buffer);
            buffer >>= 8;
            bits -= 8;
        }
    }
}

void put_literals(const uint32_t* values, std::size_t count, int bit_width, std::string& out) {
    if (count == 0) return;
    const std::size_t groups = (count + 7) / 8;
    put_varint(groups << 1 | 1, out);
    const std::size_t full = count / 8 * 8;
    pack(values, full, bit_width, out);
    if (full < count) {
        uint32_t tail[8] = {};
        std::memcpy(tail, values + full, (count - full) * sizeof(uint32_t));
        pack(tail, 8, bit_width, out);
    }
}

}  // namespace

void encode_rle_run(uint32_t value, std::size_t count, int bit_width, std::string& out) {
    if (count == 0) return;
    put_varint(static_cast<uint64_t>(count) << 1, out);
    const int bytes = (bit_width + 7) / 8;
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

void encode_rle_hybrid(const uint32_t* values, std::size_t count, int bit_width, std::string& out) {
    std::size_t literal_start = 0;
    std::size_t pos = 0;
    while (pos < count) {
        std::size_t run = 1;
        while (pos + run < count && values[pos + run] == values[pos]) ++run;
        if (run >= 8) {
            const std::size_t pending = pos - literal_start;
            if (pending % 8 != 0) {
                // Fill the open literal group from the run, so literal runs stay whole groups.
                const std::size_t take = 8 - pending % 8;
                pos += take;
                continue;
            }
            put_literals(values + literal_start, pending, bit_width, out);
            encode_rle_run(values[pos], run, bit_width, out);
            pos += run;
            literal_start = pos;
        } else {
            pos += run;
        }
    }
    put_literals(values + literal_start, count - literal_start, bit_width, out);
}

bool RleHybridDecoder::next_run() {
    uint64_t header = 0;
    for (int shift = 0;; shift += 7) {
        if (data_ >= end_ || shift > 35) return false;
        const uint8_t byte = *data_++;
        header |= static_cast<uint64_t>(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) break;
    }
    if (header & 1) {
        const std::size_t groups = header >> 1;
        const std::size_t bytes = groups * static_cast<std::size_t>(bit_width_);
        if (groups == 0 || bytes > static_cast<std::size_t>(end_ - data_)) {
            // A writer may end the data mid-run when values run out: allow a short last run.
            const std::size_t available = static_cast<std::size_t>(end_ - data_);
            if (groups == 0 || bit_width_ == 0) return false;
            left_ = available * 8 / static_cast<std::size_t>(bit_width_);
            if (left_ == 0) return false;
        } else {
            left_ = groups * 8;
        }
        packed_run_ = true;
        packed_ = data_;
        packed_index_ = 0;
        data_ += bit_width_ == 0 ? 0 : std::min(bytes, static_cast<std::size_t>(end_ - data_));
    } else {
        left_ = header >> 1;
        if (left_ == 0) return false;
        const int bytes = (bit_width_ + 7) / 8;
        if (bytes > end_ - data_) return false;
        uint32_t value = 0;
        for (int i = 0; i < bytes; ++i) value |= static_cast<uint32_t>(data_[i]) << (8 * i);
        data_ += bytes;
        rle_value_ = value;
        packed_run_ = false;
    }
    return true;
}

bool RleHybridDecoder::get(uint32_t* out, std::size_t count) {
    const uint32_t mask = bit_width_ >= 32 ? 0xFFFFFFFFu : ((1u << bit_width_) - 1);
    while (count > 0) {
        if (left_ == 0 && !next_run()) return false;
        const std::size_t n = std::min(left_, count);
        if (!packed_run_) {
            for (std::size_t i = 0; i < n; ++i) out[i] = rle_value_;
        } else if (bit_width_ == 0) {
            std::memset(out, 0, n * sizeof(uint32_t));
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t bit = (packed_index_ + i) * static_cast<std::size_t>(bit_width_);
                const uint8_t* p = packed_ + bit / 8;
                // Read up to 5 bytes without passing the run's end.
                uint64_t word = 0;
                const std::size_t need = (bit % 8 + static_cast<std::size_t>(bit_width_) + 7) / 8;
                for (std::size_t b = 0; b < need; ++b)
                    word |= static_cast<uint64_t>(p[b]) << (8 * b);
                out[i] = static_cast<uint32_t>(word >> (bit % 8)) & mask;
            }
            packed_index_ += n;
        }
        left_ -= n;
        out += n;
        count -= n;
    }
    return true;
}

}  // namespace millrace::parquet
