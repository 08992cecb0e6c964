#include "replay/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace millrace {

namespace {

constexpr uint64_t kSubBuckets = uint64_t{1} << LatencyHistogram::kMantissaBits;
// Exact buckets [0, 128) and 128 buckets for each exponent 7..63.
constexpr std::size_t kBucketCount = (64 - LatencyHistogram::kMantissaBits + 1) * kSubBuckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBucketCount, 0) {}

std::size_t LatencyHistogram::bucket_index(uint64_t value) {
    if (value < kSubBuckets) return static_cast<std::size_t>(value);
    const int exponent = std::bit_width(value) - 1;  // >= kMantissaBits
    const int shift = exponent - kMantissaBits;
    return static_cast<std::size_t>((shift + 1) * kSubBuckets + (value >> shift) - kSubBuckets);
}

uint64_t LatencyHistogram::bucket_highest_value(std::size_t index) {
    if (index < kSubBuckets) return index;
    const int shift = static_cast<int>(index / kSubBuckets) - 1;
    const uint64_t mantissa = kSubBuckets + index % kSubBuckets;  // in [128, 256)
    const uint64_t low = mantissa << shift;
    return low + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::record(uint64_t value, uint64_t count) {
    if (count == 0) return;
    buckets_[bucket_index(value)] += count;
    count_ += count;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    sum_ += static_cast<long double>(value) * static_cast<long double>(count);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
    if (other.count_ == 0) return;
    for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    sum_ += other.sum_;
}

void LatencyHistogram::reset() {
    std::fill(buckets_.begin(), buckets_.end(), 0);
    count_ = 0;
    min_ = UINT64_MAX;
    max_ = 0;
    sum_ = 0;
}

double LatencyHistogram::mean() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t LatencyHistogram::value_at_percentile(double percentile) const {
    if (count_ == 0) return 0;
    percentile = std::clamp(percentile, 0.0, 100.0);
    if (percentile >= 100.0) return max_;
    // The rank of the value asked for, 1-based: at least one value, at most all of them.
    auto rank = static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_)));
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (seen >= rank) return std::clamp(bucket_highest_value(i), min_, max_);
    }
    return max_;
}

}  // namespace millrace
