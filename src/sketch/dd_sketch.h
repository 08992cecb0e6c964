#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace millrace {

/// DDSketch quantile sketch (Masson, Rim, Lee: "DDSketch: a fast and fully-mergeable quantile
/// sketch with relative-error guarantees", VLDB 2019), as used by `approx_percentile(x, q)`.
/// Mergeable: merging the sketches of two inputs gives exactly the sketch of their union.
///
/// Guarantee. With relative accuracy α (default 0.01), for every q in [0, 1]
///
///     |quantile(q) - x_q| <= α · |x_q|
///
/// where x_q is the exact lower quantile of the finite values added: sorted ascending as
/// x_1 <= ... <= x_n, x_q = x_r with 1-based rank r = max(1, ceil(q · n)) — PostgreSQL's
/// `percentile_disc(q)`. So values of either sign are within 1% of the exact answer, zero is
/// exact, and the error does not depend on n or on the data's distribution. It holds as long as
/// no buckets were collapsed: each sign keeps at most kMaxBuckets buckets, i.e. values within
/// a ratio of gamma^kMaxBuckets ≈ 1e35 (α = 0.01) of each other; beyond that, the smallest
/// magnitudes are merged into one bucket and only quantiles whose value lies in the kept range
/// keep the guarantee. NaN and ±infinity are ignored (counted in ignored()).
///
/// Buckets. gamma = (1 + α) / (1 - α); a positive x goes to bucket i = ceil(log_gamma(x)),
/// which covers (gamma^(i-1), gamma^i] and answers with 2 gamma^i / (gamma + 1), within α of
/// every value it holds. Negative values use a mirrored store, exact zeros (|x| below 1e-300)
/// a counter.
///
/// Not thread-safe; one per aggregation state. Copyable.
class DDSketch {
public:
    static constexpr double kDefaultRelativeAccuracy = 0.01;
    /// Below this, bucket indexes of extreme doubles would leave the int32 range.
    static constexpr double kMinRelativeAccuracy = 1e-6;
    static constexpr std::size_t kMaxBuckets = 4096;

    /// relative_accuracy must be within [kMinRelativeAccuracy, 1) (checked).
    explicit DDSketch(double relative_accuracy = kDefaultRelativeAccuracy);

    double relative_accuracy() const { return alpha_; }
    uint64_t count() const { return count_; }
    bool empty() const { return count_ == 0; }
    uint64_t ignored() const { return ignored_; }

    void add(double value);
    /// Adds `value` `times` times.
    void add(double value, uint64_t times);
    /// Merges `other` into this; both must have the same relative accuracy (an Error otherwise).
    Status merge(const DDSketch& other);
    /// The q-quantile (see the guarantee above); nullopt when the sketch is empty or q is
    /// outside [0, 1] or NaN.
    std::optional<double> quantile(double q) const;
    /// Bytes this sketch holds (for memory limits).
    std::size_t memory_bytes() const {
        return sizeof(*this) +
               (positive_.counts.capacity() + negative_.counts.capacity()) * sizeof(uint64_t);
    }

    /// Serialized form, for checkpointed aggregate state (little-endian):
    ///
    ///   +-----+---------+----------+----------+---------+-------------------+-------------------+
    ///   | 'D' | version | alpha    | zeros    | ignored | positive store    | negative store    |
    ///   | 1 B | 1 B = 1 | f64      | u64      | u64     | i32 offset,       | (same layout)     |
    ///   |     |         |          |          |         | u32 n, n x u64    |                   |
    ///   +-----+---------+----------+----------+---------+-------------------+-------------------+
    ///
    /// A store's counts are for bucket indexes offset, offset + 1, ..., offset + n - 1.
    std::string serialize() const;
    /// Reads what serialize() wrote; ErrorCode::kCorruption for anything else.
    static Result<DDSketch> deserialize(std::span<const uint8_t> bytes);

private:
    // Contiguous bucket counts for indexes [offset, offset + counts.size()).
    struct Store {
        int32_t offset = 0;
        std::vector<uint64_t> counts;
        uint64_t total = 0;

        void add(int32_t index, uint64_t times);
    };

    int32_t bucket_index(double magnitude) const;
    double bucket_value(int32_t index) const;

    double alpha_;
    double gamma_;
    double log_gamma_;
    Store positive_;
    Store negative_;  // by magnitude
    uint64_t zeros_ = 0;
    uint64_t count_ = 0;
    uint64_t ignored_ = 0;
};

}  // namespace millrace
