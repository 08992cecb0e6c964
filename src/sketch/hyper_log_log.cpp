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

std::size_t HyperLogLog::probe(uint64_t hash) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = home_slot(hash);
    while (slots_[i] != hash && slots_[i] != 0) i = (i + 1) & mask;
    return i;
}

bool HyperLogLog::contains_sparse(uint64_t hash) const {
    if (hash == 0) return has_zero_;
    return !slots_.empty() && slots_[probe(hash)] == hash;
}

void HyperLogLog::insert_sparse(uint64_t hash) {
    if (hash == 0) {
        count_ += has_zero_ ? 0 : 1;
        has_zero_ = true;
        return;
    }
    if ((count_ + 1) * 4 > slots_.size() * 3) {  // grow: at most three quarters full
        std::vector<uint64_t> old = std::move(slots_);
        slots_.assign(std::max<std::size_t>(8, old.size() * 2), 0);
        for (const uint64_t h : old) {
            if (h != 0) slots_[probe(h)] = h;
        }
    }
    uint64_t& slot = slots_[probe(hash)];
    if (slot == 0) ++count_;
    slot = hash;
}

std::vector<uint64_t> HyperLogLog::sparse_hashes() const {
    std::vector<uint64_t> out;
    out.reserve(count_);
    if (has_zero_) out.push_back(0);
    for (const uint64_t h : slots_) {
        if (h != 0) out.push_back(h);
    }
    return out;
}

void HyperLogLog::to_dense() {
    registers_.assign(register_count(), 0);
    for (const uint64_t hash : sparse_hashes()) add_to_registers(hash);
    slots_.clear();
    slots_.shrink_to_fit();
    count_ = 0;
    has_zero_ = false;
    sparse_ = false;
}

void HyperLogLog::add_hash(uint64_t hash) {
    if (!sparse_) {
        add_to_registers(hash);
        return;
    }
    // Sparse exactly while there are at most sparse_limit() distinct hashes, so the state
    // (and serialize()) does not depend on the order of adds and merges.
    if (count_ >= sparse_limit()) {
        if (contains_sparse(hash)) return;
        to_dense();
        add_to_registers(hash);
        return;
    }
    insert_sparse(hash);
}

Status HyperLogLog::merge(const HyperLogLog& other) {
    if (other.precision_ != precision_) {
        return Error(ErrorCode::kInvalidArgument,
                     "cannot merge HyperLogLog sketches of precision " +
                         std::to_string(precision_) + " and " + std::to_string(other.precision_));
    }
    if (other.sparse_) {
        for (const uint64_t hash : other.sparse_hashes()) add_hash(hash);
        return {};
    }
    if (sparse_) to_dense();
    for (std::size_t i = 0; i < registers_.size(); ++i) {
        registers_[i] = std::max(registers_[i], other.registers_[i]);
    }
    return {};
}

uint64_t HyperLogLog::estimate() const {
    if (sparse_) return count_;
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
        std::vector<uint64_t> hashes = sparse_hashes();
        std::sort(hashes.begin(), hashes.end());  // the canonical order
        out.push_back(static_cast<char>(kModeSparse));
        put_u32(out, static_cast<uint32_t>(hashes.size()));
        for (const uint64_t hash : hashes) put_u64(out, hash);
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
        uint64_t previous = 0;
        for (uint64_t i = 0; i < count; ++i) {
            const uint64_t hash = get_le(payload + 4 + 8 * i, 8);
            if (i > 0 && hash <= previous) return corrupt("sparse hashes unsorted");
            previous = hash;
            sketch.insert_sparse(hash);
        }
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
