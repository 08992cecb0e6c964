#include "sketch/hyper_log_log.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/check.h"

namespace millrace {

namespace {

constexpr uint8_t kMagic = 'H';
constexpr uint8_t kVersion = 1;
constexpr uint8_t kModeSparse = 0;
constexpr uint8_t kModeDense = 1;

// Ertl 2017, eq. for sigma: x + sum_k x^(2^k) 2^(k-1).
double sigma(double x) {
    if (x == 1.0) return std::numeric_limits<double>::infinity();
    double y = 1.0;
    double z = x;
    while (true) {
        x *= x;
        const double previous = z;
        z += x * y;
        y += y;
        if (z == previous) return z;
    }
}

// Ertl 2017, eq. for tau: (1 - x - sum_k (1 - x^(2^-k))^2 2^-k) / 3.
double tau(double x) {
    if (x == 0.0 || x == 1.0) return 0.0;
    double y = 1.0;
    double z = 1.0 - x;
    while (true) {
        x = std::sqrt(x);
        const double previous = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if (z == previous) return z / 3.0;
    }
}

void put_u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t get_le(const uint8_t* p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{p[i]} << (8 * i);
    return v;
}

}  // namespace

HyperLogLog::HyperLogLog(int precision) : precision_(precision) {
    MILLRACE_CHECK(precision >= kMinPrecision && precision <= kMaxPrecision,
                   "HyperLogLog precision out of range: " + std::to_string(precision));
}

double HyperLogLog::standard_error() const {
    return 1.04 / std::sqrt(static_cast<double>(register_count()));
}

void HyperLogLog::add_to_registers(uint64_t hash) {
    const std::size_t index = hash >> (64 - precision_);
    // The remaining 64 - p bits, shifted to the top; a sentinel bit bounds the count at 64 - p.
    const uint64_t rest = (hash << precision_) | (uint64_t{1} << (precision_ - 1));
    const auto rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
    if (rank > registers_[index]) registers_[index] = rank;
}

void HyperLogLog::compact_sparse() {
    if (sorted_ == hashes_.size()) return;
    std::sort(hashes_.begin() + static_cast<std::ptrdiff_t>(sorted_), hashes_.end());
    std::inplace_merge(hashes_.begin(), hashes_.begin() + static_cast<std::ptrdiff_t>(sorted_),
                       hashes_.end());
    hashes_.erase(std::unique(hashes_.begin(), hashes_.end()), hashes_.end());
    sorted_ = hashes_.size();
}

void HyperLogLog::to_dense() {
    registers_.assign(register_count(), 0);
    for (uint64_t hash : hashes_) add_to_registers(hash);
    hashes_.clear();
    hashes_.shrink_to_fit();
    sorted_ = 0;
    sparse_ = false;
}

void HyperLogLog::add_hash(uint64_t hash) {
    if (!sparse_) {
        add_to_registers(hash);
        return;
    }
    if (hashes_.size() >= sparse_limit()) {
        // At the sparse budget the state must stay canonical (sparse exactly while there are at
        // most sparse_limit() distinct hashes), so that estimate() and serialize() do not depend
        // on the order of adds and merges: fold every new hash in at once.
        if (std::binary_search(hashes_.begin(),
                               hashes_.begin() + static_cast<std::ptrdiff_t>(sorted_), hash)) {
            return;
        }
        hashes_.push_back(hash);
        compact_sparse();
        if (hashes_.size() > sparse_limit()) to_dense();
        return;
    }
    hashes_.push_back(hash);
    // Below the budget, fold the unsorted tail in when it is as long as the sorted part
    // (amortized O(log n) per add).
    if (hashes_.size() - sorted_ >= std::max<std::size_t>(sorted_, 64)) compact_sparse();
}

Status HyperLogLog::merge(const HyperLogLog& other) {
    if (other.precision_ != precision_) {
        return Error(ErrorCode::kInvalidArgument,
                     "cannot merge HyperLogLog sketches of precision " +
                         std::to_string(precision_) + " and " + std::to_string(other.precision_));
    }
    if (other.sparse_) {
        for (uint64_t hash : other.hashes_) add_hash(hash);
        return {};
    }
    if (sparse_) to_dense();
    for (std::size_t i = 0; i < registers_.size(); ++i) {
        registers_[i] = std::max(registers_[i], other.registers_[i]);
    }
    return {};
}

uint64_t HyperLogLog::estimate() const {
    if (sparse_) {
        // Count distinct hashes without mutating: sort a copy of the unsorted tail.
        if (sorted_ == hashes_.size()) return hashes_.size();
        std::vector<uint64_t> copy = hashes_;
        std::sort(copy.begin(), copy.end());
        return static_cast<uint64_t>(std::unique(copy.begin(), copy.end()) - copy.begin());
    }
    const int q = 64 - precision_;
    std::array<uint32_t, 66> histogram{};
    for (uint8_t r : registers_) ++histogram[r];
    const auto m = static_cast<double>(register_count());
    double z = m * tau(1.0 - histogram[q + 1] / m);
    for (int k = q; k >= 1; --k) z = 0.5 * (z + histogram[k]);
    z += m * sigma(histogram[0] / m);
    constexpr double kAlphaInfinity = 0.7213475204444817;  // 1 / (2 ln 2)
    return static_cast<uint64_t>(std::llround(kAlphaInfinity * m * m / z));
}

std::string HyperLogLog::serialize() const {
    std::string out;
    out.push_back(static_cast<char>(kMagic));
    out.push_back(static_cast<char>(kVersion));
    out.push_back(static_cast<char>(precision_));
    if (sparse_) {
        HyperLogLog copy = *this;
        copy.compact_sparse();
        out.push_back(static_cast<char>(kModeSparse));
        put_u32(out, static_cast<uint32_t>(copy.hashes_.size()));
        for (uint64_t hash : copy.hashes_) put_u64(out, hash);
    } else {
        out.push_back(static_cast<char>(kModeDense));
        out.append(reinterpret_cast<const char*>(registers_.data()), registers_.size());
    }
    return out;
}

Result<HyperLogLog> HyperLogLog::deserialize(std::span<const uint8_t> bytes) {
    auto corrupt = [](const std::string& what) {
        return Error(ErrorCode::kCorruption, "HyperLogLog state: " + what);
    };
    if (bytes.size() < 4 || bytes[0] != kMagic) return corrupt("bad header");
    if (bytes[1] != kVersion) return corrupt("unknown version " + std::to_string(bytes[1]));
    const int precision = bytes[2];
    if (precision < kMinPrecision || precision > kMaxPrecision) {
        return corrupt("precision out of range");
    }
    HyperLogLog sketch(precision);
    const uint8_t* payload = bytes.data() + 4;
    const std::size_t payload_size = bytes.size() - 4;
    if (bytes[3] == kModeSparse) {
        if (payload_size < 4) return corrupt("truncated sparse count");
        const uint64_t count = get_le(payload, 4);
        if (count > sketch.sparse_limit() || payload_size != 4 + 8 * count) {
            return corrupt("sparse size mismatch");
        }
        sketch.hashes_.reserve(count);
        for (uint64_t i = 0; i < count; ++i) {
            const uint64_t hash = get_le(payload + 4 + 8 * i, 8);
            if (i > 0 && hash <= sketch.hashes_.back()) return corrupt("sparse hashes unsorted");
            sketch.hashes_.push_back(hash);
        }
        sketch.sorted_ = sketch.hashes_.size();
        return sketch;
    }
    if (bytes[3] != kModeDense) return corrupt("unknown mode");
    if (payload_size != sketch.register_count()) return corrupt("dense size mismatch");
    sketch.sparse_ = false;
    sketch.registers_.assign(payload, payload + payload_size);
    for (uint8_t r : sketch.registers_) {
        if (r > 65 - precision) return corrupt("register value out of range");
    }
    return sketch;
}

}  // namespace millrace
