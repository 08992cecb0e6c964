#include "online/row_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "online/online_store.h"

namespace millrace {
namespace {

std::shared_ptr<const FeatureRow> row_of(int64_t event_time) {
    auto row = std::make_shared<FeatureRow>();
    row->event_time_us = event_time;
    return row;
}

std::string key_of(int i) { return "\x01key-" + std::to_string(i); }

TEST(RowCache, HitsMissesAndNegativeEntries) {
    RowCache cache(1000);
    RowCache::Hit miss = cache.get(key_of(1));
    EXPECT_FALSE(miss.found);
    cache.insert(key_of(1), row_of(10), miss.generation);
    cache.insert(key_of(2), nullptr, cache.get(key_of(2)).generation);  // known absent
    RowCache::Hit hit = cache.get(key_of(1));
    ASSERT_TRUE(hit.found);
    EXPECT_EQ(hit.row->event_time_us, 10);
    RowCache::Hit absent = cache.get(key_of(2));
    EXPECT_TRUE(absent.found);
    EXPECT_EQ(absent.row, nullptr);
    EXPECT_EQ(cache.size(), 2u);
}

TEST(RowCache, AWriteBetweenTheMissAndTheInsertKeepsTheOldRowOut) {
    RowCache cache(1000);
    const uint64_t before = cache.get(key_of(7)).generation;
    cache.erase(key_of(7));  // a writer changed the key while the reader was in RocksDB
    cache.insert(key_of(7), row_of(1), before);
    EXPECT_FALSE(cache.get(key_of(7)).found);
    cache.insert(key_of(7), row_of(2), cache.get(key_of(7)).generation);
    EXPECT_EQ(cache.get(key_of(7)).row->event_time_us, 2);
    cache.erase(key_of(7));
    EXPECT_FALSE(cache.get(key_of(7)).found);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(RowCache, StaysWithinItsCapacityAndKeepsWhatIsRead) {
    RowCache cache(64 * 8);  // 8 rows per shard
    // Key 0 is read between every insert: CLOCK gives it a second chance every time.
    cache.insert(key_of(0), row_of(0), cache.get(key_of(0)).generation);
    for (int i = 1; i < 20'000; ++i) {
        ASSERT_TRUE(cache.get(key_of(0)).found) << "after " << i << " inserts";
        cache.insert(key_of(i), row_of(i), cache.get(key_of(i)).generation);
        ASSERT_LE(cache.size(), 64u * 8u);
    }
    EXPECT_GT(cache.size(), 64u * 4u);  // shards fill up to their share
}

TEST(RowCache, AgreesWithAMapUnderRandomInsertsErasesAndEvictions) {
    // Every row the cache returns is the last one inserted for that key; erased keys are gone.
    RowCache cache(64 * 32);
    std::map<std::string, int64_t> latest;
    std::mt19937_64 random(7);
    for (int step = 0; step < 200'000; ++step) {
        const std::string key = key_of(static_cast<int>(random() % 5000));
        switch (random() % 4) {
            case 0:
            case 1: {
                const int64_t value = step;
                cache.insert(key, row_of(value), cache.get(key).generation);
                latest[key] = value;
                break;
            }
            case 2:
                cache.erase(key);
                latest.erase(key);
                break;
            default: {
                RowCache::Hit hit = cache.get(key);
                if (!hit.found) break;  // evicted or never cached: allowed
                auto it = latest.find(key);
                ASSERT_NE(it, latest.end()) << key << " was erased but is still cached";
                ASSERT_EQ(hit.row->event_time_us, it->second) << key;
            }
        }
    }
    EXPECT_LE(cache.size(), 64u * 32u);
    cache.clear();
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_FALSE(cache.get(key_of(1)).found);
}

TEST(RowCache, GetManyAnswersLikeGetForEachKey) {
    // Batches shorter and longer than the prefetch pipeline, hits, misses and cached absences.
    RowCache cache(64 * 64);
    for (int i = 0; i < 300; i += 2) {
        cache.insert(key_of(i), i % 6 == 0 ? nullptr : row_of(i), cache.get(key_of(i)).generation);
    }
    for (const int count : {0, 1, 3, 11, 300}) {
        std::vector<std::string> keys;
        for (int i = 0; i < count; ++i) keys.push_back(key_of((i * 7) % 300));
        std::vector<std::string_view> views(keys.begin(), keys.end());
        std::vector<RowCache::Hit> hits(views.size());
        cache.get_many(views, hits);
        for (std::size_t i = 0; i < views.size(); ++i) {
            const RowCache::Hit one = cache.get(views[i]);
            ASSERT_EQ(hits[i].found, one.found) << keys[i];
            ASSERT_EQ(hits[i].row, one.row) << keys[i];
            ASSERT_EQ(hits[i].generation, one.generation) << keys[i];
        }
    }
}

TEST(RowCache, ZeroCapacityCachesNothing) {
    RowCache cache(0);
    EXPECT_FALSE(cache.enabled());
    cache.insert(key_of(1), row_of(1), cache.get(key_of(1)).generation);
    EXPECT_FALSE(cache.get(key_of(1)).found);
    const std::string key = key_of(1);
    std::vector<std::string_view> views{key};
    std::vector<RowCache::Hit> hits(1);
    cache.get_many(views, hits);
    EXPECT_FALSE(hits[0].found);
}

}  // namespace
}  // namespace millrace
