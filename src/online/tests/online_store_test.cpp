#include "online/online_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "common/metrics_registry.h"
#include "types/batch.h"

namespace millrace {
namespace {

constexpr int64_t kHour = 3'600'000'000;
constexpr int64_t kNow = 1'795'392'000'000'000;  // 2026-11-23T00:00Z

FeatureView user_view() {
    FeatureView view;
    view.name = "user_features";
    view.entities = {{"user_id", DataType::kInt64}};
    view.features = {{"clicks", DataType::kInt64, Value::int64(0), ""},
                     {"price", DataType::kFloat64, Value::float64(0), ""},
                     {"segment", DataType::kString, Value(), ""}};
    view.ttl = std::chrono::hours(24);
    view.source = FeatureSourceKind::kPipeline;
    view.pipeline = "p";
    return view;
}

class OnlineStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-online-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::unique_ptr<OnlineStore> open(OnlineStoreOptions options = {},
                                      std::vector<FeatureView> views = {user_view()}) {
        Result<std::unique_ptr<OnlineStore>> store =
            OnlineStore::open(dir_, std::move(views), options, &metrics_);
        EXPECT_TRUE(store.ok()) << store.error().to_string();
        return store.ok() ? std::move(*store) : nullptr;
    }

    static FeatureRow row(int64_t event_time, int64_t clicks, double price, std::string segment) {
        return FeatureRow{
            event_time,
            event_time,
            {Value::int64(clicks), Value::float64(price), Value::string(std::move(segment))}};
    }

    static FeatureLookup get(const OnlineStore& store, int64_t user,
                             std::optional<std::chrono::microseconds> max_age = std::nullopt,
                             int64_t now = kNow) {
        std::vector<std::vector<Value>> keys = {{Value::int64(user)}};
        std::vector<FeatureLookup> out;
        store.lookup(*store.find_view("user_features"), keys, now, max_age, out);
        EXPECT_EQ(out.size(), 1u);
        return out.at(0);
    }

    std::string dir_;
    MetricsRegistry metrics_;
};

TEST_F(OnlineStoreTest, UpsertThenLookup) {
    auto store = open();
    ASSERT_TRUE(store);
    const FeatureView& view = *store->find_view("user_features");
    ASSERT_TRUE(store->upsert_row(view, {Value::int64(7)}, row(kNow - kHour, 3, 9.5, "gold")).ok());
    FeatureLookup found = get(*store, 7);
    EXPECT_EQ(found.status, FeatureStatus::kPresent);
    ASSERT_TRUE(found.row);
    EXPECT_EQ(found.row->values[0], Value::int64(3));
    EXPECT_EQ(found.row->values[1], Value::float64(9.5));
    EXPECT_EQ(found.row->values[2], Value::string("gold"));
    EXPECT_EQ(found.row->event_time_us, kNow - kHour);
    EXPECT_EQ(get(*store, 8).status, FeatureStatus::kNotFound);
    EXPECT_TRUE(get(*store, 8).error.empty());
}

TEST_F(OnlineStoreTest, OlderEventTimeNeverOverwritesNewer) {
    auto store = open();
    const FeatureView& view = *store->find_view("user_features");
    ASSERT_TRUE(store->upsert_row(view, {Value::int64(1)}, row(kNow - kHour, 10, 1, "new")).ok());
    EXPECT_EQ(get(*store, 1).row->values[0], Value::int64(10));  // now cached
    ASSERT_TRUE(
        store->upsert_row(view, {Value::int64(1)}, row(kNow - 5 * kHour, 99, 1, "old")).ok());
    EXPECT_EQ(get(*store, 1).row->values[0], Value::int64(10));
    ASSERT_TRUE(store->upsert_row(view, {Value::int64(1)}, row(kNow, 11, 1, "newer")).ok());
    EXPECT_EQ(get(*store, 1).row->values[0], Value::int64(11));  // the cache was invalidated
    // The same holds after a restart (merge operands resolved from disk) and a flush.
    ASSERT_TRUE(store->flush().ok());
    store.reset();
    store = open();
    EXPECT_EQ(get(*store, 1).row->values[0], Value::int64(11));
    EXPECT_EQ(get(*store, 1).row->values[2], Value::string("newer"));
}

TEST_F(OnlineStoreTest, UpsertRowSaysWhetherTheRowWon) {
    auto store = open();
    const FeatureView& view = *store->find_view("user_features");
    Result<UpsertOutcome> first = store->upsert_row(view, {Value::int64(1)}, row(kNow, 1, 1, "a"));
    ASSERT_TRUE(first.ok()) << first.error().to_string();
    EXPECT_EQ(*first, UpsertOutcome::kStored);
    // Older: the store keeps the newer row and nothing is written (not even a merge operand).
    Result<UpsertOutcome> older =
        store->upsert_row(view, {Value::int64(1)}, row(kNow - kHour, 2, 2, "b"));
    ASSERT_TRUE(older.ok());
    EXPECT_EQ(*older, UpsertOutcome::kUnchanged);
    EXPECT_EQ(get(*store, 1).row->values[0], Value::int64(1));
    // Uncached (after a restart) the answer comes from RocksDB.
    store.reset();
    store = open();
    const FeatureView& reopened = *store->find_view("user_features");
    EXPECT_EQ(*store->upsert_row(reopened, {Value::int64(1)}, row(kNow - kHour, 2, 2, "b")),
              UpsertOutcome::kUnchanged);
    // Same event time, later write: a correction wins.
    FeatureRow correction = row(kNow, 3, 3, "c");
    correction.write_time_us = kNow + 1;
    EXPECT_EQ(*store->upsert_row(reopened, {Value::int64(1)}, correction), UpsertOutcome::kStored);
    EXPECT_EQ(get(*store, 1).row->values[0], Value::int64(3));
    EXPECT_EQ(*store->upsert_row(reopened, {Value::int64(1)}, row(kNow + kHour, 4, 4, "d")),
              UpsertOutcome::kStored);
}

TEST_F(OnlineStoreTest, EventTimesBeyondTheSkewAreRejected) {
    auto store = open();
    const FeatureView& view = *store->find_view("user_features");
    // A row from 9999 (or int64 max) would win every later upsert: refused, never stored.
    for (int64_t future : {int64_t{253'402'214'400'000'000}, std::numeric_limits<int64_t>::max(),
                           kNow + 25 * kHour}) {
        FeatureRow pinned = row(future, 9, 9, "future");
        pinned.write_time_us = kNow;
        Result<UpsertOutcome> refused = store->upsert_row(view, {Value::int64(1)}, pinned);
        ASSERT_FALSE(refused.ok()) << future;
        EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
        EXPECT_NE(refused.error().message().find("max_event_time_skew"), std::string::npos)
            << refused.error().message();
    }
    EXPECT_EQ(get(*store, 1).status, FeatureStatus::kNotFound);
    // Within the skew (default 1 day) is fine: clocks differ a little.
    FeatureRow soon = row(kNow + 2 * kHour, 1, 1, "soon");
    soon.write_time_us = kNow;
    EXPECT_TRUE(store->upsert_row(view, {Value::int64(1)}, soon).ok());

    // A view may narrow it; batches (materialize, online sinks) reject such rows with a reason.
    FeatureView strict = user_view();
    strict.max_event_time_skew = std::chrono::minutes(5);
    store.reset();
    store = open({}, {strict});
    const FeatureView& narrow = *store->find_view("user_features");
    auto schema = std::make_shared<const Schema>(std::vector<Field>{
        {"user_id", DataType::kInt64, true}, {"computed_at", DataType::kTimestamp, true}});
    BatchBuilder builder(schema);
    for (auto [user, time] : {std::pair<int64_t, int64_t>{2, kNow},
                              {3, kNow + kHour},
                              {4, std::numeric_limits<int64_t>::max()},
                              {5, kNow + 60'000'000}}) {
        builder.column(0).append_int64(user);
        builder.column(1).append_timestamp(time);
        builder.commit_row();
    }
    Batch batch = builder.finish();
    Result<UpsertColumns> columns = match_upsert_columns(narrow, batch.schema(), "computed_at");
    ASSERT_TRUE(columns.ok());
    Result<UpsertCounts> counts = store->upsert(narrow, batch, *columns, kNow);
    ASSERT_TRUE(counts.ok()) << counts.error().to_string();
    EXPECT_EQ(counts->rows, 2);
    ASSERT_EQ(counts->rejects.size(), 2u);
    EXPECT_EQ(counts->rejects[0].row, 1u);
    EXPECT_EQ(counts->rejects[1].row, 2u);
    EXPECT_NE(counts->rejects[0].reason.find("more than 5m ahead"), std::string::npos)
        << counts->rejects[0].reason;
    EXPECT_EQ(get(*store, 3).status, FeatureStatus::kNotFound);
    EXPECT_EQ(get(*store, 5).status, FeatureStatus::kPresent);
}

TEST_F(OnlineStoreTest, ProbeWriteAndLastFailure) {
    auto store = open();
    EXPECT_TRUE(store->probe_write().ok());
    EXPECT_FALSE(store->last_write_failure().has_value());
}

TEST_F(OnlineStoreTest, TtlAndMaxAge) {
    auto store = open();
    const FeatureView& view = *store->find_view("user_features");
    ASSERT_TRUE(store->upsert_row(view, {Value::int64(1)}, row(kNow - 2 * kHour, 1, 1, "a")).ok());
    ASSERT_TRUE(store->upsert_row(view, {Value::int64(2)}, row(kNow - 30 * kHour, 2, 2, "b")).ok());
    EXPECT_EQ(get(*store, 1).status, FeatureStatus::kPresent);
    FeatureLookup expired = get(*store, 2);
    EXPECT_EQ(expired.status, FeatureStatus::kOutsideMaxAge);
    EXPECT_TRUE(expired.row);  // reported, served as defaults by the caller
    EXPECT_EQ(get(*store, 1, std::chrono::hours(1)).status, FeatureStatus::kOutsideMaxAge);
    // A request cannot widen the view's TTL.
    EXPECT_EQ(get(*store, 2, std::chrono::hours(48)).status, FeatureStatus::kOutsideMaxAge);
    EXPECT_EQ(get(*store, 2, std::nullopt, kNow - 10 * kHour).status, FeatureStatus::kPresent);
}

TEST_F(OnlineStoreTest, BatchUpsertConvertsAndRejects) {
    auto store = open();
    const FeatureView& view = *store->find_view("user_features");
    auto schema = std::make_shared<const Schema>(std::vector<Field>{
        {"user_id", DataType::kString, true},
        {"clicks", DataType::kInt32, true},
        {"price", DataType::kInt64, true},  // int → double
        {"computed_at", DataType::kTimestamp, true},
        {"extra", DataType::kString, true},
    });
    BatchBuilder builder(schema);
    auto add = [&](std::optional<std::string> user, int32_t clicks, int64_t price) {
        if (user)
            builder.column(0).append_string(*user);
        else
            builder.column(0).append_null();
        builder.column(1).append_int32(clicks);
        builder.column(2).append_int64(price);
        builder.column(3).append_timestamp(kNow - kHour);
        builder.column(4).append_string("x");
        builder.commit_row();
    };
    add("1", 5, 20);
    add(std::nullopt, 6, 21);
    add("abc", 7, 22);
    add("2", 8, 23);
    Batch batch = builder.finish();
    Result<UpsertColumns> columns = match_upsert_columns(view, batch.schema(), "computed_at");
    ASSERT_TRUE(columns.ok()) << columns.error().to_string();
    EXPECT_EQ(columns->feature_columns[2], -1);  // segment: not in the batch → null
    Result<UpsertCounts> counts = store->upsert(view, batch, *columns, kNow);
    ASSERT_TRUE(counts.ok()) << counts.error().to_string();
    EXPECT_EQ(counts->rows, 2);
    EXPECT_EQ(counts->rejected, 2);
    ASSERT_EQ(counts->rejects.size(), 2u);
    EXPECT_EQ(counts->rejects[0].row, 1u);
    EXPECT_EQ(counts->rejects[0].reason, "key `user_id` is null");
    EXPECT_EQ(counts->rejects[1].row, 2u);
    EXPECT_NE(counts->rejects[1].reason.find("key `user_id`"), std::string::npos);
    FeatureLookup two = get(*store, 2);
    ASSERT_EQ(two.status, FeatureStatus::kPresent);
    EXPECT_EQ(two.row->values[0], Value::int64(8));
    EXPECT_EQ(two.row->values[1], Value::float64(23));
    EXPECT_TRUE(two.row->values[2].is_null());
    EXPECT_EQ(two.row->event_time_us, kNow - kHour);
    EXPECT_EQ(two.row->write_time_us, kNow);
    EXPECT_EQ(
        metrics_.counter("millrace_online_rows_written_total", "", {{"view", "user_features"}})
            .value(),
        2u);

    Result<UpsertColumns> missing = match_upsert_columns(view, batch.schema(), "nope");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message().find("`nope`"), std::string::npos);
}

TEST_F(OnlineStoreTest, CacheCountsHitsAndMisses) {
    auto store = open();
    const FeatureView& view = *store->find_view("user_features");
    ASSERT_TRUE(store->upsert_row(view, {Value::int64(1)}, row(kNow, 1, 1, "a")).ok());
    get(*store, 1);
    get(*store, 1);
    get(*store, 5);
    get(*store, 5);  // negative entries are cached too
    auto& hits = metrics_.counter("millrace_online_cache_requests_total", "",
                                  {{"view", "user_features"}, {"result", "hit"}});
    auto& misses = metrics_.counter("millrace_online_cache_requests_total", "",
                                    {{"view", "user_features"}, {"result", "miss"}});
    EXPECT_EQ(hits.value(), 2u);
    EXPECT_EQ(misses.value(), 2u);
    // A write to a negatively cached key is visible at once.
    ASSERT_TRUE(store->upsert_row(view, {Value::int64(5)}, row(kNow, 5, 5, "e")).ok());
    EXPECT_EQ(get(*store, 5).status, FeatureStatus::kPresent);
}

TEST_F(OnlineStoreTest, CacheEvictsBeyondCapacity) {
    OnlineStoreOptions options;
    options.cache_rows = 64;
    auto store = open(options);
    const FeatureView& view = *store->find_view("user_features");
    for (int64_t user = 0; user < 1000; ++user) {
        ASSERT_TRUE(store->upsert_row(view, {Value::int64(user)}, row(kNow, user, 1, "s")).ok());
    }
    for (int round = 0; round < 2; ++round) {
        for (int64_t user = 0; user < 1000; ++user) {
            FeatureLookup found = get(*store, user);
            ASSERT_EQ(found.status, FeatureStatus::kPresent);
            ASSERT_EQ(found.row->values[0], Value::int64(user));
        }
    }
}

TEST_F(OnlineStoreTest, ChangedLayoutIsRefusedUntilRebuilt) {
    {
        auto store = open();
        ASSERT_TRUE(store
                        ->upsert_row(*store->find_view("user_features"), {Value::int64(1)},
                                     row(kNow, 1, 1, "a"))
                        .ok());
    }
    FeatureView changed = user_view();
    changed.features[0].type = DataType::kFloat64;
    Result<std::unique_ptr<OnlineStore>> refused =
        OnlineStore::open(dir_, {changed}, OnlineStoreOptions{}, nullptr);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kConfig);
    EXPECT_NE(refused.error().message().find("--rebuild"), std::string::npos);

    OnlineStoreOptions rebuild;
    rebuild.rebuild_views = {"user_features"};
    auto store = open(rebuild, {changed});
    ASSERT_TRUE(store);
    EXPECT_EQ(get(*store, 1).status, FeatureStatus::kNotFound);
    store.reset();
    EXPECT_TRUE(open(OnlineStoreOptions{}, {changed}));  // the new layout is recorded
}

TEST_F(OnlineStoreTest, SecondWriterGetsUnavailable) {
    auto store = open();
    Result<std::unique_ptr<OnlineStore>> second =
        OnlineStore::open(dir_, {user_view()}, OnlineStoreOptions{}, nullptr);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
    EXPECT_NE(second.error().message().find("in use by another process"), std::string::npos);
}

// Run by SecondWriterInAnotherProcessIsNamed in a child process (the environment variable names
// the store): holds the store until it is killed.
TEST(OnlineStoreLockHolder, HoldsTheStoreWhenAskedTo) {
    const char* dir = std::getenv("MILLRACE_TEST_HOLD_ONLINE_STORE");
    if (dir == nullptr) GTEST_SKIP() << "helper for SecondWriterInAnotherProcessIsNamed";
    auto store = OnlineStore::open(dir, {user_view()}, OnlineStoreOptions{}, nullptr);
    ASSERT_TRUE(store.ok());
    std::ofstream(std::string(dir) + ".ready") << "ready";
    for (int i = 0; i < 600; ++i) ::usleep(100'000);  // killed long before
}

TEST_F(OnlineStoreTest, SecondWriterInAnotherProcessIsNamed) {
    { auto created = open(); }  // create it, then let the child hold it
    const std::string ready = dir_ + ".ready";
    std::filesystem::remove(ready);
    const pid_t child = ::fork();
    if (child == 0) {
        // A fresh process image, so no RocksDB thread of this one is inherited.
        ::setenv("MILLRACE_TEST_HOLD_ONLINE_STORE", dir_.c_str(), 1);
        ::execl("/proc/self/exe", "online_tests",
                "--gtest_filter=OnlineStoreLockHolder.HoldsTheStoreWhenAskedTo",
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ASSERT_GT(child, 0);
    for (int i = 0; i < 300 && !std::filesystem::exists(ready); ++i) ::usleep(50'000);
    ASSERT_TRUE(std::filesystem::exists(ready));
    Result<std::unique_ptr<OnlineStore>> second =
        OnlineStore::open(dir_, {user_view()}, OnlineStoreOptions{}, nullptr);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    std::filesystem::remove(ready);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
    EXPECT_NE(second.error().message().find("in use by process " + std::to_string(child) +
                                            " (online_tests"),
              std::string::npos)
        << second.error().message();
}

TEST_F(OnlineStoreTest, MissingStoreIsNotFoundWhenNotCreating) {
    OnlineStoreOptions options;
    options.create_if_missing = false;
    Result<std::unique_ptr<OnlineStore>> store =
        OnlineStore::open(dir_, {user_view()}, options, nullptr);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code(), ErrorCode::kNotFound);
}

TEST_F(OnlineStoreTest, CorruptStoreRefusesToOpen) {
    {
        auto store = open();
        ASSERT_TRUE(store
                        ->upsert_row(*store->find_view("user_features"), {Value::int64(1)},
                                     row(kNow, 1, 1, "a"))
                        .ok());
        ASSERT_TRUE(store->flush().ok());
    }
    // Damage every MANIFEST: RocksDB cannot tell which files make up the store.
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
        if (entry.path().filename().string().rfind("MANIFEST-", 0) == 0) {
            std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
            file.seekp(10);
            file.write("garbage garbage garbage garbage", 31);
        }
    }
    Result<std::unique_ptr<OnlineStore>> store =
        OnlineStore::open(dir_, {user_view()}, OnlineStoreOptions{}, nullptr);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code(), ErrorCode::kCorruption) << store.error().to_string();
    EXPECT_NE(store.error().message().find("millrace materialize"), std::string::npos);
}

TEST_F(OnlineStoreTest, ReadOnlyOpenSeesRowsAndRefusesWrites) {
    {
        auto store = open();
        ASSERT_TRUE(store
                        ->upsert_row(*store->find_view("user_features"), {Value::int64(1)},
                                     row(kNow, 1, 1, "a"))
                        .ok());
    }
    OnlineStoreOptions options;
    options.read_only = true;
    auto store = open(options);
    ASSERT_TRUE(store);
    EXPECT_EQ(get(*store, 1).status, FeatureStatus::kPresent);
    EXPECT_FALSE(store
                     ->upsert_row(*store->find_view("user_features"), {Value::int64(2)},
                                  row(kNow, 1, 1, "a"))
                     .ok());
}

TEST_F(OnlineStoreTest, MultiColumnStringKeys) {
    FeatureView view;
    view.name = "pair";
    view.entities = {{"a", DataType::kString}, {"b", DataType::kString}};
    view.features = {{"n", DataType::kInt64, Value(), ""}};
    auto store = open(OnlineStoreOptions{}, {view});
    const FeatureView& stored = *store->find_view("pair");
    FeatureRow r{kNow, kNow, {Value::int64(1)}};
    ASSERT_TRUE(store->upsert_row(stored, {Value::string("ab"), Value::string("c")}, r).ok());
    std::vector<std::vector<Value>> keys = {{Value::string("ab"), Value::string("c")},
                                            {Value::string("a"), Value::string("bc")},
                                            {Value::string("ab")}};
    std::vector<FeatureLookup> out;
    store->lookup(stored, keys, kNow, std::nullopt, out);
    EXPECT_EQ(out[0].status, FeatureStatus::kPresent);
    EXPECT_EQ(out[1].status, FeatureStatus::kNotFound);  // no ambiguity between "ab"+"c", "a"+"bc"
    EXPECT_FALSE(out[2].error.empty());                  // wrong shape
}

// One lookup call with many misses reads them in one MultiGet from keys packed into one buffer:
// long string keys (past any small-string buffer), hits, misses, absent keys and a key of the
// wrong shape in one call, each answered in its own position, with and without the cache, and
// again in a second call that reuses the buffers.
TEST_F(OnlineStoreTest, BatchLookupOfLongKeysMixesHitsMissesAndErrors) {
    FeatureView view;
    view.name = "docs";
    view.entities = {{"id", DataType::kString}};
    view.features = {{"n", DataType::kInt64, Value(), ""}};
    for (std::size_t cache_rows : {std::size_t{0}, std::size_t{1} << 10}) {
        std::filesystem::remove_all(dir_);
        OnlineStoreOptions options;
        options.cache_rows = cache_rows;
        auto store = open(options, {view});
        ASSERT_TRUE(store);
        const FeatureView& stored = *store->find_view("docs");
        const auto id = [](int i) { return std::string(40 + i % 7, 'k') + std::to_string(i); };
        for (int i = 0; i < 300; i += 2) {
            FeatureRow r{kNow, kNow, {Value::int64(i)}};
            ASSERT_TRUE(store->upsert_row(stored, {Value::string(id(i))}, r).ok());
        }
        for (int round = 0; round < 2; ++round) {
            std::vector<std::vector<Value>> keys;
            for (int i = 0; i < 300; ++i) keys.push_back({Value::string(id(i))});
            keys.push_back({Value::int64(1)});  // wrong type
            std::vector<FeatureLookup> out;
            store->lookup(stored, keys, kNow, std::nullopt, out);
            ASSERT_EQ(out.size(), keys.size());
            for (int i = 0; i < 300; ++i) {
                SCOPED_TRACE(std::to_string(cache_rows) + " " + std::to_string(round) + " " +
                             std::to_string(i));
                EXPECT_TRUE(out[i].error.empty());
                if (i % 2 == 0) {
                    ASSERT_EQ(out[i].status, FeatureStatus::kPresent);
                    EXPECT_EQ(out[i].row->values[0], Value::int64(i));
                } else {
                    EXPECT_EQ(out[i].status, FeatureStatus::kNotFound);
                }
            }
            EXPECT_FALSE(out[300].error.empty());
        }
        store.reset();
    }
}

TEST(EntityKeyTest, ParsesAndNamesWrongTypes) {
    EntityKey id{"user_id", DataType::kInt64};
    EXPECT_EQ(*parse_entity_key(id, "42"), Value::int64(42));
    Result<Value> bad = parse_entity_key(id, "abc");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(), "key `user_id` must be an int64, got `abc`");
    EXPECT_FALSE(parse_entity_key(id, "").ok());
    EntityKey day{"day", DataType::kDate};
    EXPECT_TRUE(parse_entity_key(day, "2026-11-23").ok());
    EXPECT_FALSE(parse_entity_key(day, "yesterday").ok());
    EXPECT_EQ(*convert_entity_key(id, Value::string("7")), Value::int64(7));
    EXPECT_EQ(*convert_entity_key({"n", DataType::kInt32}, Value::int64(7)), Value::int32(7));
    EXPECT_FALSE(convert_entity_key(id, Value::float64(1.5)).ok());
    EXPECT_FALSE(convert_entity_key(id, Value()).ok());
    EXPECT_FALSE(convert_entity_key({"s", DataType::kString}, Value::int64(3)).ok());
}

}  // namespace
}  // namespace millrace
