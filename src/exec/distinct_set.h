#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace millrace {

/// The set of distinct values of one group of count(DISTINCT x) (exec/aggregate_function.cpp):
/// byte strings (KeyEncoder-encoded values), kept flat so that a group's whole set is two
/// allocations however many values it holds. The values are appended to one buffer, each
/// after its length; an open-addressing index (linear probing, at most 3/4 full) holds for
/// each value the upper half of its hash and its offset in the buffer, so a lookup compares
/// bytes only when the hash halves match.
///
/// Against a node-based std::unordered_set<std::string> (~72 bytes per short value) this is
/// about a third of the memory, no allocation per value, and an iteration (a checkpoint
/// serializing the set) that reads one buffer in order instead of chasing a pointer per
/// value: that is what a streaming checkpoint of an upserting count(DISTINCT) spends its time
/// on while the records wait (docs/architecture.md, section 5).
///
/// Values are never removed one by one (count(DISTINCT) only grows); clear() empties the set.
class DistinctSet {
public:
    /// What insert() did.
    enum class Inserted : uint8_t { kNew, kPresent, kFull };

    /// Adds `value`. kFull when the set's buffer would pass 4 GiB (offsets are 32-bit); the
    /// set is then unchanged.
    Inserted insert(std::string_view value);
    bool contains(std::string_view value) const;
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    void clear();
    /// Bytes allocated (buffer and index), for the operator's memory reservation.
    std::size_t memory_bytes() const;

    /// Calls `f(value)` for every value, in insertion order.
    template <typename F>
    void for_each(F&& f) const {
        std::size_t at = 0;
        while (at < data_.size()) {
            const std::string_view value = value_at(static_cast<uint32_t>(at));
            f(value);
            at += kLengthBytes + value.size();
        }
    }
    /// The values in an order that depends only on which values the set holds (by hash, then
    /// bytes), so that equal sets serialize to equal bytes whatever order they were built in.
    std::vector<std::string_view> canonical_order() const;

private:
    static constexpr std::size_t kLengthBytes = 4;
    static constexpr uint64_t kOffsetMask = 0xffffffffULL;

    std::string_view value_at(uint32_t offset) const;
    /// The slot holding `value` (hash `hash`), or the empty slot where it would go.
    std::size_t find_slot(std::string_view value, uint64_t hash) const;
    void grow();

    std::vector<char> data_;       // each value: its length (4 bytes, little-endian), its bytes
    std::vector<uint64_t> slots_;  // 0: empty; else (hash's upper half << 32) | (offset + 1)
    uint32_t size_ = 0;
};

}  // namespace millrace
