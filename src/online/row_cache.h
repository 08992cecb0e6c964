#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace millrace {

struct FeatureRow;

/// The cache of decoded rows in front of RocksDB (internal to src/online). Keys are
/// "<view index byte><encoded entity key>"; a cached null row means "no row for this key"
/// (negative caching, so unknown keys do not hit RocksDB again).
///
/// Sharded by key hash, one mutex per shard. Writers invalidate: erase() bumps the shard's
/// generation, and a reader that looked the key up in RocksDB inserts only if the generation
/// it saw before the read is still current, so a read racing a write never caches the old row.
///
/// Laid out for memory, not for pointers: a shard is an array of entries and an open-addressing
/// index of (hash tag, entry) slots with linear probing, eight to a cache line; eviction is
/// CLOCK (a hit sets the entry's reference bit, the hand clears bits until it finds one unset),
/// so a hit writes nothing but that bit and nothing is allocated per key once the shard is full.
/// With a million keys read at random, a lookup is then two cache misses (a slot, an entry)
/// where a node-based hash map and an LRU list cost five or more.
class RowCache {
public:
    /// `capacity` rows in total (0 disables the cache).
    explicit RowCache(std::size_t capacity);
    ~RowCache();

    struct Hit {
        bool found = false;
        std::shared_ptr<const FeatureRow> row;  // null for a cached "not found"
        uint64_t generation = 0;  // when not found: pass to insert() after reading the store
    };
    Hit get(std::string_view key);
    /// get() of every key into `hits` (same size), with the memory reads of neighbouring keys
    /// overlapped: each key's index slot, entry and row are prefetched a few keys ahead, each
    /// stage under the shard's lock. A batch over a large cache waits on those reads, not on
    /// the work between them.
    void get_many(std::span<const std::string_view> keys, std::span<Hit> hits);
    void insert(std::string_view key, std::shared_ptr<const FeatureRow> row,
                uint64_t generation_before_read);
    void erase(std::string_view key);
    void clear();
    bool enabled() const { return capacity_per_shard_ > 0; }
    /// Rows held now (all shards).
    std::size_t size() const;

private:
    struct Shard;
    Shard& shard_for(uint64_t hash) const;

    static constexpr std::size_t kShards = 64;
    std::size_t capacity_per_shard_;
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace millrace
