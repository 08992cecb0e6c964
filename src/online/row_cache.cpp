#include "online/row_cache.h"

#include <bit>
#include <functional>

#include "online/online_store.h"

namespace millrace {

namespace {

uint64_t hash_key(std::string_view key) { return std::hash<std::string_view>{}(key); }

/// The index's hash tag: the high half of the hash. The shard takes the low bits, the slot a
/// key starts probing at is the tag's low bits, so the index alone knows every slot's home.
uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

}  // namespace

struct RowCache::Shard {
    struct Entry {
        uint64_t hash = 0;
        std::string key;
        std::shared_ptr<const FeatureRow> row;
        bool referenced = false;  // CLOCK: read since the hand last passed
        bool live = false;
    };
    struct Slot {
        uint32_t tag = 0;
        uint32_t entry = 0;  // index in entries + 1; 0 = empty
    };

    std::mutex mutex;
    std::vector<Entry> entries;    // grows to the capacity, then entries are reused
    std::vector<uint32_t> unused;  // entries freed by erase()
    std::vector<Slot> slots;       // power of two, at most half full
    std::size_t live = 0;
    std::size_t hand = 0;
    uint64_t generation = 0;

    std::size_t mask() const { return slots.size() - 1; }

    /// The slot holding `key`, or slots.size().
    std::size_t find(std::string_view key, uint64_t hash) const {
        if (slots.empty()) return 0;
        const uint32_t tag = tag_of(hash);
        for (std::size_t pos = tag & mask();; pos = (pos + 1) & mask()) {
            const Slot& slot = slots[pos];
            if (slot.entry == 0) return slots.size();
            if (slot.tag == tag) {
                const Entry& entry = entries[slot.entry - 1];
                if (entry.hash == hash && entry.key == key) return pos;
            }
        }
    }

    void place(uint32_t tag, uint32_t entry) {
        std::size_t pos = tag & mask();
        while (slots[pos].entry != 0) pos = (pos + 1) & mask();
        slots[pos] = Slot{tag, entry};
    }

    /// Empties slot `pos`, shifting later slots of the same probe run back (no tombstones).
    void remove_slot(std::size_t pos) {
        std::size_t hole = pos;
        for (std::size_t next = (hole + 1) & mask();; next = (next + 1) & mask()) {
            const Slot slot = slots[next];
            if (slot.entry == 0) break;
            const std::size_t home = slot.tag & mask();
            // Moves back when its home is not cyclically within (hole, next].
            const bool stays =
                hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
            if (stays) continue;
            slots[hole] = slot;
            hole = next;
        }
        slots[hole] = Slot{};
    }

    void grow_index(std::size_t at_least) {
        std::size_t size = std::max<std::size_t>(16, std::bit_ceil(at_least * 2));
        if (size <= slots.size()) return;
        std::vector<Slot> old = std::move(slots);
        slots.assign(size, Slot{});
        for (const Slot& slot : old) {
            if (slot.entry != 0) place(slot.tag, slot.entry);
        }
    }

    /// An entry for a new key: a free one, a new one while under the capacity, else the
    /// CLOCK hand's victim (taken out of the index).
    uint32_t take_entry(std::size_t capacity) {
        if (!unused.empty()) {
            const uint32_t index = unused.back();
            unused.pop_back();
            return index;
        }
        if (entries.size() < capacity) {
            entries.emplace_back();
            return static_cast<uint32_t>(entries.size() - 1);
        }
        for (;; hand = (hand + 1) % entries.size()) {
            Entry& entry = entries[hand];
            if (!entry.live) continue;
            if (entry.referenced) {
                entry.referenced = false;
                continue;
            }
            const uint32_t index = static_cast<uint32_t>(hand);
            hand = (hand + 1) % entries.size();
            remove_slot(find(entry.key, entry.hash));
            entry.live = false;
            entry.row.reset();
            --live;
            return index;
        }
    }
};

RowCache::RowCache(std::size_t capacity)
    : capacity_per_shard_(capacity == 0 ? 0 : (capacity + kShards - 1) / kShards) {
    shards_.reserve(kShards);
    for (std::size_t i = 0; i < kShards; ++i) shards_.push_back(std::make_unique<Shard>());
}

RowCache::~RowCache() = default;

RowCache::Shard& RowCache::shard_for(uint64_t hash) const { return *shards_[hash % kShards]; }

RowCache::Hit RowCache::get(std::string_view key) {
    if (capacity_per_shard_ == 0) return {};
    const uint64_t hash = hash_key(key);
    Shard& shard = shard_for(hash);
    std::lock_guard lock(shard.mutex);
    const std::size_t pos = shard.find(key, hash);
    if (pos == shard.slots.size()) return {false, nullptr, shard.generation};
    Shard::Entry& entry = shard.entries[shard.slots[pos].entry - 1];
    entry.referenced = true;
    return {true, entry.row, shard.generation};
}

void RowCache::get_many(std::span<const std::string_view> keys, std::span<Hit> hits) {
    if (capacity_per_shard_ == 0) {
        for (Hit& hit : hits) hit = {};
        return;
    }
    if (keys.size() <= 2) {  // nothing to overlap: no staging
        for (std::size_t i = 0; i < keys.size(); ++i) hits[i] = get(keys[i]);
        return;
    }
    // Four stages, kAhead keys apart: (1) prefetch the key's home slot, (2) probe the (now
    // cached) slots and prefetch the matching entry, (3) prefetch the entry's row, (4) get().
    constexpr std::size_t kAhead = 4;
    thread_local std::vector<uint64_t> hashes;
    hashes.resize(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) hashes[i] = hash_key(keys[i]);
    const std::size_t n = keys.size();
    for (std::size_t i = 0; i < n + 3 * kAhead; ++i) {
        if (i < n) {
            Shard& shard = shard_for(hashes[i]);
            std::lock_guard lock(shard.mutex);
            if (!shard.slots.empty()) {
                __builtin_prefetch(&shard.slots[tag_of(hashes[i]) & shard.mask()]);
            }
        }
        if (i >= kAhead && i - kAhead < n) {
            const std::size_t k = i - kAhead;
            Shard& shard = shard_for(hashes[k]);
            std::lock_guard lock(shard.mutex);
            if (!shard.slots.empty()) {
                const uint32_t tag = tag_of(hashes[k]);
                for (std::size_t pos = tag & shard.mask();; pos = (pos + 1) & shard.mask()) {
                    const Shard::Slot& slot = shard.slots[pos];
                    if (slot.entry == 0) break;
                    if (slot.tag == tag) {
                        __builtin_prefetch(&shard.entries[slot.entry - 1]);
                        break;
                    }
                }
            }
        }
        if (i >= 2 * kAhead && i - 2 * kAhead < n) {
            const std::size_t k = i - 2 * kAhead;
            Shard& shard = shard_for(hashes[k]);
            std::lock_guard lock(shard.mutex);
            const std::size_t pos = shard.find(keys[k], hashes[k]);
            if (pos != shard.slots.size()) {
                const FeatureRow* row = shard.entries[shard.slots[pos].entry - 1].row.get();
                if (row != nullptr) __builtin_prefetch(row);
            }
        }
        if (i >= 3 * kAhead && i - 3 * kAhead < n) {
            const std::size_t k = i - 3 * kAhead;
            Shard& shard = shard_for(hashes[k]);
            std::lock_guard lock(shard.mutex);
            const std::size_t pos = shard.find(keys[k], hashes[k]);
            if (pos == shard.slots.size()) {
                hits[k] = {false, nullptr, shard.generation};
                continue;
            }
            Shard::Entry& entry = shard.entries[shard.slots[pos].entry - 1];
            entry.referenced = true;
            hits[k] = {true, entry.row, shard.generation};
            if (entry.row != nullptr) {  // the values the caller reads next
                const auto* bytes = reinterpret_cast<const char*>(entry.row->values.data());
                const std::size_t size = entry.row->values.size() * sizeof(entry.row->values[0]);
                for (std::size_t at = 0; at < size; at += 64) __builtin_prefetch(bytes + at);
            }
        }
    }
}

void RowCache::insert(std::string_view key, std::shared_ptr<const FeatureRow> row,
                      uint64_t generation_before_read) {
    if (capacity_per_shard_ == 0) return;
    const uint64_t hash = hash_key(key);
    Shard& shard = shard_for(hash);
    std::lock_guard lock(shard.mutex);
    if (shard.generation != generation_before_read) return;  // a write raced this read
    if (const std::size_t pos = shard.find(key, hash); pos != shard.slots.size()) {
        Shard::Entry& entry = shard.entries[shard.slots[pos].entry - 1];
        entry.row = std::move(row);
        entry.referenced = true;
        return;
    }
    const uint32_t index = shard.take_entry(capacity_per_shard_);
    Shard::Entry& entry = shard.entries[index];
    entry.hash = hash;
    entry.key.assign(key);
    entry.row = std::move(row);
    entry.referenced = false;  // a new key must be read again before it outlives others
    entry.live = true;
    ++shard.live;
    shard.grow_index(shard.live);
    shard.place(tag_of(hash), index + 1);
}

void RowCache::erase(std::string_view key) {
    if (capacity_per_shard_ == 0) return;
    const uint64_t hash = hash_key(key);
    Shard& shard = shard_for(hash);
    std::lock_guard lock(shard.mutex);
    ++shard.generation;
    const std::size_t pos = shard.find(key, hash);
    if (pos == shard.slots.size()) return;
    const uint32_t index = shard.slots[pos].entry - 1;
    shard.remove_slot(pos);
    Shard::Entry& entry = shard.entries[index];
    entry.live = false;
    entry.row.reset();
    --shard.live;
    shard.unused.push_back(index);
}

void RowCache::clear() {
    for (auto& shard : shards_) {
        std::lock_guard lock(shard->mutex);
        ++shard->generation;
        shard->entries.clear();
        shard->unused.clear();
        shard->slots.clear();
        shard->live = 0;
        shard->hand = 0;
    }
}

std::size_t RowCache::size() const {
    std::size_t total = 0;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard->mutex);
        total += shard->live;
    }
    return total;
}

}  // namespace millrace
