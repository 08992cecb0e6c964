#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace millrace::parquet {

/// The RLE / bit-packing hybrid of the Parquet spec, used for definition levels, dictionary
/// indices and RLE booleans:
///
///   encoded := run*
///   run     := rle-run | bit-packed-run
///   rle-run := varint(count << 1) value            value in ceil(bit_width / 8) bytes, LE
///   bit-packed-run := varint(groups << 1 | 1) bytes   groups * 8 values, bit_width bits each,
///                                                      LSB first
///
/// The last bit-packed run is padded with zeros to a multiple of 8 values.
void encode_rle_hybrid(const uint32_t* values, std::size_t count, int bit_width, std::string& out);

/// Appends a run of `count` copies of `value` (the whole page when it has no nulls).
void encode_rle_run(uint32_t value, std::size_t count, int bit_width, std::string& out);

/// Bits needed for values up to `max_value` (0 for 0).
inline int bit_width_for(uint64_t max_value) {
    int width = 0;
    while (max_value != 0) {
        ++width;
        max_value >>= 1;
    }
    return width;
}

/// Decodes the hybrid from a bounded byte range. get() fails (returns false) on malformed or
/// exhausted input instead of reading past the end.
class RleHybridDecoder {
public:
    RleHybridDecoder(const uint8_t* data, std::size_t size, int bit_width)
        : data_(data), end_(data + size), bit_width_(bit_width) {}

    /// Decodes the next `count` values into `out`.
    bool get(uint32_t* out, std::size_t count);

private:
    bool next_run();

    const uint8_t* data_;
    const uint8_t* end_;
    int bit_width_;
    // Current run: an RLE run repeats `rle_value_`; a bit-packed run reads from `packed_`.
    std::size_t left_ = 0;
    bool packed_run_ = false;
    uint32_t rle_value_ = 0;
    const uint8_t* packed_ = nullptr;
    std::size_t packed_index_ = 0;
};

}  // namespace millrace::parquet
