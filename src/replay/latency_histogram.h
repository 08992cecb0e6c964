#pragma once

#include <cstdint>
#include <vector>

namespace millrace {

/// A log-linear histogram of non-negative integer values (latencies in nanoseconds), in the
/// spirit of HdrHistogram: values below 2^kMantissaBits have a bucket each (exact); above, every
/// power-of-two range [2^e, 2^(e+1)) is split into 2^kMantissaBits equal buckets, so a bucket is
/// at most 1/128 of its values wide:
///
///   value v < 128:   index = v
///   value v >= 128:  e = floor(log2 v); index = (e - 6) * 128 + (v >> (e - 7)) - 128
///
///   [0..127] exact | [128..255] width 1 | [256..511] width 2 | ... | [2^e..2^(e+1)) width 2^(e-7)
///
/// A reported value is the highest value of its bucket, so it is >= the true value and within
/// 1/128 (< 0.8%) of it. min, max, count and sum are exact. 7,424 buckets cover the whole uint64
/// range (58 KiB). Not thread-safe: one histogram per thread, merged at the end.
class LatencyHistogram {
public:
    static constexpr int kMantissaBits = 7;

    LatencyHistogram();

    void record(uint64_t value, uint64_t count = 1);
    void merge(const LatencyHistogram& other);
    void reset();

    uint64_t count() const { return count_; }
    uint64_t min() const { return count_ == 0 ? 0 : min_; }
    uint64_t max() const { return max_; }
    double mean() const;
    /// The smallest reported value v such that at least `percentile`% of recorded values are
    /// <= v (0 when empty). percentile in [0, 100]; 100 gives the exact max.
    uint64_t value_at_percentile(double percentile) const;

    /// Bucket arithmetic, public for tests.
    static std::size_t bucket_index(uint64_t value);
    /// The highest value that falls into bucket `index`.
    static uint64_t bucket_highest_value(std::size_t index);

private:
    std::vector<uint64_t> buckets_;
    uint64_t count_ = 0;
    uint64_t min_ = UINT64_MAX;
    uint64_t max_ = 0;
    long double sum_ = 0;
};

}  // namespace millrace
