#include "sketch/dd_sketch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/check.h"

namespace millrace {

namespace {

constexpr uint8_t kMagic = 'D';
constexpr uint8_t kVersion = 1;
// Magnitudes below this are counted as zero (their bucket index would leave int32 range).
constexpr double kMinMagnitude = 1e-300;
constexpr uint64_t kMaxCount = uint64_t{1} << 62;

void put_u64(std::string& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// Bounds-checked little-endian reader over the serialized bytes.
class Reader {
public:
    explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
    bool read(int size, uint64_t* value) {
        if (bytes_.size() - position_ < static_cast<std::size_t>(size)) return false;
        uint64_t v = 0;
        for (int i = 0; i < size; ++i) v |= uint64_t{bytes_[position_ + i]} << (8 * i);
        position_ += static_cast<std::size_t>(size);
        *value = v;
        return true;
    }
    bool done() const { return position_ == bytes_.size(); }

private:
    std::span<const uint8_t> bytes_;
    std::size_t position_ = 0;
};

}  // namespace

void DDSketch::Store::add(int32_t index, uint64_t times) {
    if (counts.empty()) {
        offset = index;
        counts.assign(1, 0);
    } else if (index < offset) {
        const auto grow = static_cast<std::size_t>(offset - index);
        if (counts.size() + grow > kMaxBuckets) {
            // Out of budget: the smallest magnitudes collapse into the lowest kept bucket.
            index = offset;
        } else {
            counts.insert(counts.begin(), grow, 0);
            offset = index;
        }
    } else if (static_cast<std::size_t>(index - offset) >= counts.size()) {
        const std::size_t needed = static_cast<std::size_t>(index - offset) + 1;
        if (needed > kMaxBuckets) {
            // Keep the largest magnitudes: fold the lowest buckets into the new lowest one.
            const std::size_t drop = needed - kMaxBuckets;
            const std::size_t folded = std::min(drop, counts.size());
            uint64_t moved = 0;
            for (std::size_t i = 0; i < folded; ++i) moved += counts[i];
            counts.erase(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(folded));
            offset += static_cast<int32_t>(drop);
            if (counts.empty()) counts.assign(1, 0);
            counts[0] += moved;
        }
        counts.resize(static_cast<std::size_t>(index - offset) + 1, 0);
    }
    counts[static_cast<std::size_t>(index - offset)] += times;
    total += times;
}

DDSketch::DDSketch(double relative_accuracy) : alpha_(relative_accuracy) {
    MILLRACE_CHECK(
        relative_accuracy > 0.0 && relative_accuracy < 1.0,
        "DDSketch relative accuracy out of (0, 1): " + std::to_string(relative_accuracy));
    gamma_ = (1.0 + alpha_) / (1.0 - alpha_);
    log_gamma_ = std::log(gamma_);
}

int32_t DDSketch::bucket_index(double magnitude) const {
    return static_cast<int32_t>(std::ceil(std::log(magnitude) / log_gamma_));
}

double DDSketch::bucket_value(int32_t index) const {
    return 2.0 * std::exp(index * log_gamma_) / (gamma_ + 1.0);
}

void DDSketch::add(double value) { add(value, 1); }

void DDSketch::add(double value, uint64_t times) {
    if (times == 0) return;
    if (!std::isfinite(value)) {
        ignored_ += times;
        return;
    }
    if (std::fabs(value) < kMinMagnitude) {
        zeros_ += times;
    } else if (value > 0) {
        positive_.add(bucket_index(value), times);
    } else {
        negative_.add(bucket_index(-value), times);
    }
    count_ += times;
}

Status DDSketch::merge(const DDSketch& other) {
    if (other.alpha_ != alpha_) {
        return Error(ErrorCode::kInvalidArgument,
                     "cannot merge DDSketches of different relative accuracy");
    }
    for (std::size_t i = 0; i < other.positive_.counts.size(); ++i) {
        if (other.positive_.counts[i] != 0) {
            positive_.add(other.positive_.offset + static_cast<int32_t>(i),
                          other.positive_.counts[i]);
        }
    }
    for (std::size_t i = 0; i < other.negative_.counts.size(); ++i) {
        if (other.negative_.counts[i] != 0) {
            negative_.add(other.negative_.offset + static_cast<int32_t>(i),
                          other.negative_.counts[i]);
        }
    }
    zeros_ += other.zeros_;
    count_ += other.count_;
    ignored_ += other.ignored_;
    return {};
}

std::optional<double> DDSketch::quantile(double q) const {
    if (count_ == 0 || !(q >= 0.0 && q <= 1.0)) return std::nullopt;
    // 1-based rank of the lower quantile, as PostgreSQL's percentile_disc.
    const double exact_rank = std::ceil(q * static_cast<double>(count_));
    uint64_t rank = count_;
    if (exact_rank < static_cast<double>(count_)) {
        rank = std::max<uint64_t>(1, static_cast<uint64_t>(exact_rank));
    }
    uint64_t seen = 0;
    // Ascending order: negatives from the largest magnitude down, zeros, positives up.
    for (std::size_t i = negative_.counts.size(); i-- > 0;) {
        seen += negative_.counts[i];
        if (seen >= rank) return -bucket_value(negative_.offset + static_cast<int32_t>(i));
    }
    seen += zeros_;
    if (seen >= rank) return 0.0;
    for (std::size_t i = 0; i < positive_.counts.size(); ++i) {
        seen += positive_.counts[i];
        if (seen >= rank) return bucket_value(positive_.offset + static_cast<int32_t>(i));
    }
    return bucket_value(positive_.offset + static_cast<int32_t>(positive_.counts.size()) - 1);
}

std::string DDSketch::serialize() const {
    std::string out;
    out.push_back(static_cast<char>(kMagic));
    out.push_back(static_cast<char>(kVersion));
    uint64_t alpha_bits;
    std::memcpy(&alpha_bits, &alpha_, sizeof(alpha_bits));
    put_u64(out, alpha_bits);
    put_u64(out, zeros_);
    put_u64(out, ignored_);
    for (const Store* store : {&positive_, &negative_}) {
        put_u32(out, static_cast<uint32_t>(store->offset));
        put_u32(out, static_cast<uint32_t>(store->counts.size()));
        for (uint64_t c : store->counts) put_u64(out, c);
    }
    return out;
}

Result<DDSketch> DDSketch::deserialize(std::span<const uint8_t> bytes) {
    auto corrupt = [](const std::string& what) {
        return Error(ErrorCode::kCorruption, "DDSketch state: " + what);
    };
    if (bytes.size() < 2 || bytes[0] != kMagic) return corrupt("bad header");
    if (bytes[1] != kVersion) return corrupt("unknown version " + std::to_string(bytes[1]));
    Reader reader(bytes.subspan(2));
    uint64_t alpha_bits = 0;
    uint64_t zeros = 0;
    uint64_t ignored = 0;
    if (!reader.read(8, &alpha_bits) || !reader.read(8, &zeros) || !reader.read(8, &ignored)) {
        return corrupt("truncated header");
    }
    double alpha;
    std::memcpy(&alpha, &alpha_bits, sizeof(alpha));
    if (!(alpha >= kMinRelativeAccuracy && alpha < 1.0)) {
        return corrupt("relative accuracy out of range");
    }
    DDSketch sketch(alpha);
    sketch.zeros_ = zeros;
    sketch.ignored_ = ignored;
    sketch.count_ = zeros;
    for (Store* store : {&sketch.positive_, &sketch.negative_}) {
        uint64_t offset = 0;
        uint64_t size = 0;
        if (!reader.read(4, &offset) || !reader.read(4, &size)) return corrupt("truncated store");
        if (size > kMaxBuckets) return corrupt("too many buckets");
        store->offset = static_cast<int32_t>(static_cast<uint32_t>(offset));
        // Indexes must be ones add() can produce: |index| <= log(DBL_MAX) / log(gamma) + 1.
        const double limit = 710.0 / sketch.log_gamma_ + 2.0;
        if (std::fabs(static_cast<double>(store->offset)) > limit ||
            std::fabs(static_cast<double>(store->offset) + static_cast<double>(size)) > limit) {
            return corrupt("bucket index out of range");
        }
        store->counts.resize(size);
        for (uint64_t& c : store->counts) {
            if (!reader.read(8, &c)) return corrupt("truncated buckets");
            if (store->total + c < store->total) return corrupt("count overflow");
            store->total += c;
        }
        if (sketch.count_ + store->total < sketch.count_) return corrupt("count overflow");
        sketch.count_ += store->total;
    }
    if (!reader.done()) return corrupt("trailing bytes");
    // Real counts are far below this; it keeps merges of restored sketches from overflowing.
    if (sketch.count_ > kMaxCount || sketch.ignored_ > kMaxCount) return corrupt("count too large");
    return sketch;
}

}  // namespace millrace
