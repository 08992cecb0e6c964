#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace millrace {

struct FeatureRow;

/// The LRU cache of decoded rows in front of RocksDB (internal to src/online). Keys are
/// "<view index byte><encoded entity key>"; a cached null row means "no row for this key"
/// (negative caching, so unknown keys do not hit RocksDB again).
///
/// Sharded by key hash, one mutex per shard. Writers invalidate: erase() bumps the shard's
/// generation, and a reader that looked the key up in RocksDB inserts only if the generation
/// it saw before the read is still current, so a read racing a write never caches the old row.
class RowCache {
public:
    /// `capacity` rows in total (0 disables the cache).
    explicit RowCache(std::size_t capacity);

    struct Hit {
        bool found = false;
        std::shared_ptr<const FeatureRow> row;  // null for a cached "not found"
        uint64_t generation = 0;  // when not found: pass to insert() after reading the store
    };
    Hit get(std::string_view key);
    void insert(std::string_view key, std::shared_ptr<const FeatureRow> row,
                uint64_t generation_before_read);
    void erase(std::string_view key);
    void clear();
    bool enabled() const { return capacity_per_shard_ > 0; }

private:
    struct Entry {
        std::string key;
        std::shared_ptr<const FeatureRow> row;
    };
    struct Shard {
        std::mutex mutex;
        std::list<Entry> lru;  // most recent first
        std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
        uint64_t generation = 0;
    };
    Shard& shard_for(std::string_view key);

    static constexpr std::size_t kShards = 64;
    std::size_t capacity_per_shard_;
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace millrace
