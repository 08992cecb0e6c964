#include "exec/distinct_set.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "sketch/hash.h"

namespace millrace {

namespace {

constexpr std::size_t kFirstCapacity = 8;

uint32_t upper_half(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

}  // namespace

std::string_view DistinctSet::value_at(uint32_t offset) const {
    uint32_t length = 0;
    std::memcpy(&length, data_.data() + offset, kLengthBytes);
    return {data_.data() + offset + kLengthBytes, length};
}

std::size_t DistinctSet::find_slot(std::string_view value, uint64_t hash) const {
    const std::size_t mask = slots_.size() - 1;
    const uint64_t tag = static_cast<uint64_t>(upper_half(hash)) << 32;
    for (std::size_t i = static_cast<std::size_t>(hash) & mask;; i = (i + 1) & mask) {
        const uint64_t slot = slots_[i];
        if (slot == 0) return i;
        if ((slot & ~kOffsetMask) == tag &&
            value_at(static_cast<uint32_t>((slot & kOffsetMask) - 1)) == value)
            return i;
    }
}

void DistinctSet::grow() {
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? kFirstCapacity : old.size() * 2, 0);
    const std::size_t mask = slots_.size() - 1;
    for (uint64_t slot : old) {
        if (slot == 0) continue;
        // The slot keeps only the hash's upper half, so the home slot comes from the value.
        const std::string_view value = value_at(static_cast<uint32_t>((slot & kOffsetMask) - 1));
        std::size_t i = static_cast<std::size_t>(hash_string(value)) & mask;
        while (slots_[i] != 0) i = (i + 1) & mask;
        slots_[i] = slot;
    }
}

DistinctSet::Inserted DistinctSet::insert(std::string_view value) {
    if ((static_cast<std::size_t>(size_) + 1) * 4 > slots_.size() * 3) grow();
    const uint64_t hash = hash_string(value);
    const std::size_t i = find_slot(value, hash);
    if (slots_[i] != 0) return Inserted::kPresent;
    const std::size_t offset = data_.size();
    if (offset + kLengthBytes + value.size() >= kOffsetMask) return Inserted::kFull;
    const auto length = static_cast<uint32_t>(value.size());
    const auto* length_bytes = reinterpret_cast<const char*>(&length);
    data_.insert(data_.end(), length_bytes, length_bytes + kLengthBytes);
    data_.insert(data_.end(), value.begin(), value.end());
    slots_[i] = (static_cast<uint64_t>(upper_half(hash)) << 32) | (offset + 1);
    ++size_;
    return Inserted::kNew;
}

bool DistinctSet::contains(std::string_view value) const {
    if (slots_.empty()) return false;
    return slots_[find_slot(value, hash_string(value))] != 0;
}

void DistinctSet::clear() {
    std::vector<char>().swap(data_);
    std::vector<uint64_t>().swap(slots_);
    size_ = 0;
}

std::size_t DistinctSet::memory_bytes() const {
    return data_.capacity() + slots_.capacity() * sizeof(uint64_t);
}

std::vector<std::string_view> DistinctSet::canonical_order() const {
    // (hash's upper half, offset) per value, from the index: sorting integers, then the rare
    // runs of equal halves by bytes.
    std::vector<uint64_t> keys;
    keys.reserve(size_);
    for (uint64_t slot : slots_) {
        if (slot != 0) keys.push_back((slot & ~kOffsetMask) | ((slot & kOffsetMask) - 1));
    }
    std::sort(keys.begin(), keys.end());
    std::vector<std::string_view> values;
    values.reserve(keys.size());
    for (uint64_t key : keys) values.push_back(value_at(static_cast<uint32_t>(key & kOffsetMask)));
    for (std::size_t run = 0; run < keys.size();) {
        std::size_t end = run + 1;
        while (end < keys.size() && (keys[end] >> 32) == (keys[run] >> 32)) ++end;
        if (end - run > 1) std::sort(values.begin() + run, values.begin() + end);
        run = end;
    }
    return values;
}

}  // namespace millrace
