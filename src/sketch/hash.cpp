#include "sketch/hash.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace millrace {

namespace {

using hash_detail::fold_multiply;
using hash_detail::kSecret0;
using hash_detail::kSecret1;
using hash_detail::kSecret2;
using hash_detail::kSecret3;

uint64_t load64(const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;  // little-endian hosts only (x86-64, aarch64): hashes are not portable across ends
}

uint64_t load32(const unsigned char* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

}  // namespace

uint64_t hash_double(double value, uint64_t seed) {
    if (value == 0.0) return hash_int64(0, seed);  // -0.0 == 0.0
    if (std::isnan(value)) value = std::numeric_limits<double>::quiet_NaN();
    // Integral doubles in the int64 range hash like the integer, so 1 and 1.0 meet.
    if (value >= -9.2233720368547758e18 && value < 9.2233720368547758e18 &&
        value == std::trunc(value)) {
        return hash_int64(static_cast<int64_t>(value), seed);
    }
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    return hash_int64(static_cast<int64_t>(bits ^ kSecret1), seed);
}

uint64_t hash_bytes(const void* data, std::size_t size, uint64_t seed) {
    const auto* p = static_cast<const unsigned char*>(data);
    uint64_t state = seed ^ fold_multiply(seed ^ kSecret0, kSecret1) ^ size;
    uint64_t a = 0;
    uint64_t b = 0;
    if (size <= 16) {
        if (size >= 8) {
            // Two possibly overlapping 8-byte loads cover 8..16 bytes without a loop.
            a = load64(p);
            b = load64(p + size - 8);
        } else if (size >= 4) {
            a = (load32(p) << 32) | load32(p + size - 4);
        } else if (size > 0) {
            // 1..3 bytes: first, middle and last byte.
            a = (uint64_t{p[0]} << 16) | (uint64_t{p[size / 2]} << 8) | p[size - 1];
        }
    } else {
        std::size_t remaining = size;
        // Two independent lanes over 32-byte blocks keep two multipliers busy.
        if (remaining > 32) {
            uint64_t lane = state;
            do {
                state = fold_multiply(load64(p) ^ kSecret1, load64(p + 8) ^ state);
                lane = fold_multiply(load64(p + 16) ^ kSecret2, load64(p + 24) ^ lane);
                p += 32;
                remaining -= 32;
            } while (remaining > 32);
            state ^= lane;
        }
        while (remaining > 16) {
            state = fold_multiply(load64(p) ^ kSecret1, load64(p + 8) ^ state);
            p += 16;
            remaining -= 16;
        }
        // The last 16 bytes, overlapping what came before when the tail is shorter.
        a = load64(p + remaining - 16);
        b = load64(p + remaining - 8);
    }
    a ^= kSecret1;
    b ^= state;
    const uint64_t mixed = fold_multiply(a, b);
    return fold_multiply(mixed ^ kSecret0 ^ size, state ^ kSecret3);
}

}  // namespace millrace
