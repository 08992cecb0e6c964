#include "online/row_cache.h"

#include <functional>

#include "online/online_store.h"

namespace millrace {

RowCache::RowCache(std::size_t capacity)
    : capacity_per_shard_(capacity == 0 ? 0 : (capacity + kShards - 1) / kShards) {
    shards_.reserve(kShards);
    for (std::size_t i = 0; i < kShards; ++i) shards_.push_back(std::make_unique<Shard>());
}

RowCache::Shard& RowCache::shard_for(std::string_view key) {
    return *shards_[std::hash<std::string_view>{}(key) % kShards];
}

RowCache::Hit RowCache::get(std::string_view key) {
    if (capacity_per_shard_ == 0) return {};
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.index.find(key);
    if (it == shard.index.end()) return {false, nullptr, shard.generation};
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return {true, it->second->row, shard.generation};
}

void RowCache::insert(std::string_view key, std::shared_ptr<const FeatureRow> row,
                      uint64_t generation_before_read) {
    if (capacity_per_shard_ == 0) return;
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    if (shard.generation != generation_before_read) return;  // a write raced this read
    if (auto it = shard.index.find(key); it != shard.index.end()) {
        it->second->row = std::move(row);
        shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
        return;
    }
    shard.lru.push_front(Entry{std::string(key), std::move(row)});
    shard.index.emplace(shard.lru.front().key, shard.lru.begin());
    if (shard.lru.size() > capacity_per_shard_) {
        shard.index.erase(shard.lru.back().key);
        shard.lru.pop_back();
    }
}

void RowCache::erase(std::string_view key) {
    if (capacity_per_shard_ == 0) return;
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    ++shard.generation;
    if (auto it = shard.index.find(key); it != shard.index.end()) {
        auto entry = it->second;
        shard.index.erase(it);  // before the entry that owns the key's bytes
        shard.lru.erase(entry);
    }
}

void RowCache::clear() {
    for (auto& shard : shards_) {
        std::lock_guard lock(shard->mutex);
        ++shard->generation;
        shard->index.clear();
        shard->lru.clear();
    }
}

}  // namespace millrace
