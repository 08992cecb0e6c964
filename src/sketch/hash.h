#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace millrace {

/// Fast 64-bit hashing of SQL values, shared by the sketches (HyperLogLog) and the hash
/// aggregate / hash join. Not cryptographic; not stable across versions of Millrace unless a
/// serialized sketch says so (sketches store hashes, so the functions below are frozen: changing
/// them invalidates checkpointed HyperLogLog state).
///
/// Design: the "multiply and fold" mix — the full 128-bit product of two 64-bit words, with its
/// high and low halves xor-ed together — applied to input words xor-ed with fixed odd constants.
/// One multiply moves every input bit into the upper and lower output bits; two rounds give the
/// avalanche HyperLogLog needs (it reads both the top bits and the leading-zero count).
///
/// Equal SQL values hash equal across types where SQL considers them equal: hash_double(-0.0) ==
/// hash_double(0.0), every NaN hashes alike, and an integral double hashes like the same int64
/// (so `1 = 1.0` groups and joins consistently).
namespace hash_detail {

inline constexpr uint64_t kSecret0 = 0xa0761d6478bd642fULL;
inline constexpr uint64_t kSecret1 = 0xe7037ed1a0b428dbULL;
inline constexpr uint64_t kSecret2 = 0x8ebc6af09c88c6e3ULL;
inline constexpr uint64_t kSecret3 = 0x589965cc75374cc3ULL;

/// 128-bit product of a and b, halves folded with xor.
inline uint64_t fold_multiply(uint64_t a, uint64_t b) {
    const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

}  // namespace hash_detail

/// Hash of a 64-bit integer (also used for int32, date and timestamp values, widened first).
inline uint64_t hash_int64(int64_t value, uint64_t seed = 0) {
    using namespace hash_detail;
    const uint64_t x = static_cast<uint64_t>(value);
    return fold_multiply(fold_multiply(x ^ kSecret0, seed ^ kSecret1) ^ kSecret2, kSecret3);
}

/// Hash of a double; see the header comment for which values collide on purpose.
uint64_t hash_double(double value, uint64_t seed = 0);

/// Hash of a byte string (string and bytes values).
uint64_t hash_bytes(const void* data, std::size_t size, uint64_t seed = 0);

inline uint64_t hash_string(std::string_view text, uint64_t seed = 0) {
    return hash_bytes(text.data(), text.size(), seed);
}

/// Hash of a boolean (false and true hash like the integers 0 and 1).
inline uint64_t hash_bool(bool value, uint64_t seed = 0) { return hash_int64(value ? 1 : 0, seed); }

/// Combines the hashes of several key columns into one (order-sensitive).
inline uint64_t hash_combine(uint64_t left, uint64_t right) {
    return hash_detail::fold_multiply(left ^ hash_detail::kSecret2,
                                      std::rotl(right, 23) ^ hash_detail::kSecret3);
}

}  // namespace millrace
