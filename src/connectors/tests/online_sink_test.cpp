#include "connectors/online_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <limits>

#include "common/clock.h"
#include "connectors/feature_writer.h"
#include "connectors/tests/sink_test_util.h"
#include "types/batch.h"

namespace millrace {
namespace {

constexpr int64_t kNow = 1'795'392'000'000'000;

class OnlineSinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-online-sink-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        FeatureView view;
        view.name = "city_orders";
        view.entities = {{"city", DataType::kString}};
        view.features = {{"orders", DataType::kInt64, Value::int64(0), ""},
                         {"revenue", DataType::kFloat64, Value::float64(0), ""}};
        auto store = OnlineStore::open(dir_, {view}, OnlineStoreOptions{}, nullptr);
        ASSERT_TRUE(store.ok()) << store.error().to_string();
        store_ = std::move(*store);
        writer_ = make_store_feature_writer(*store_);
        schema_ = std::make_shared<const Schema>(std::vector<Field>{
            {"town", DataType::kString, true},
            {"orders", DataType::kInt64, true},
            {"revenue", DataType::kFloat64, true},
            {"window_end", DataType::kTimestamp, true},
        });
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    Batch rows(std::vector<std::tuple<std::optional<std::string>, int64_t, int64_t>> data) {
        BatchBuilder builder(schema_);
        for (const auto& [town, orders, end] : data) {
            if (town)
                builder.column(0).append_string(*town);
            else
                builder.column(0).append_null();
            builder.column(1).append_int64(orders);
            builder.column(2).append_double(orders * 2.5);
            builder.column(3).append_timestamp(end);
            builder.commit_row();
        }
        return builder.finish();
    }

    std::string dir_;
    std::unique_ptr<OnlineStore> store_;
    std::unique_ptr<FeatureWriter> writer_;
    std::shared_ptr<const Schema> schema_;
};

TEST_F(OnlineSinkTest, UpsertsByRenamedKeyAndSendsRejectsOn) {
    std::vector<std::string> rejected;
    auto sink = OnlineSink::create(
        *writer_, *store_->find_view("city_orders"), *schema_, {"town"}, "window_end",
        [&](const std::string& reason, const Batch& batch, std::size_t row) {
            rejected.push_back(reason + " @" + batch.value_at(row, 1).to_string());
        });
    ASSERT_TRUE(sink.ok()) << sink.error().to_string();
    ASSERT_TRUE((*sink)->write(rows({{"paris", 3, kNow}, {std::nullopt, 4, kNow}})).ok());
    // A late, older window for paris does not overwrite the newer one.
    ASSERT_TRUE((*sink)->write(rows({{"paris", 1, kNow - 60'000'000}, {"lyon", 2, kNow}})).ok());
    ASSERT_TRUE(commit_once(**sink).ok());
    EXPECT_EQ((*sink)->rows_written(), 3u);
    EXPECT_EQ((*sink)->rows_rejected(), 1u);
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_EQ(rejected[0], "key `city` is null @4");

    std::vector<std::vector<Value>> keys = {{Value::string("paris")}, {Value::string("lyon")}};
    std::vector<FeatureLookup> out;
    store_->lookup(*store_->find_view("city_orders"), keys, kNow, std::nullopt, out);
    ASSERT_EQ(out[0].status, FeatureStatus::kPresent);
    EXPECT_EQ(out[0].row->values[0], Value::int64(3));
    EXPECT_EQ(out[0].row->event_time_us, kNow);
    EXPECT_EQ(out[1].row->values[1], Value::float64(5.0));
}

// A restarted streaming run replays what came after its checkpoint: the sink's recover() has
// nothing to settle, and writing the same rows again leaves the same values.
TEST_F(OnlineSinkTest, ReplayAfterARestartLeavesTheSameValues) {
    auto lookup = [&] {
        std::vector<std::vector<Value>> keys = {{Value::string("paris")}, {Value::string("lyon")}};
        std::vector<FeatureLookup> out;
        store_->lookup(*store_->find_view("city_orders"), keys, kNow, std::nullopt, out);
        std::vector<Value> values;
        for (const FeatureLookup& found : out) values.push_back(found.row->values[0]);
        return values;
    };
    const Batch replayed = rows({{"paris", 3, kNow - 1}, {"lyon", 2, kNow}, {"paris", 5, kNow}});
    {
        auto sink = OnlineSink::create(*writer_, *store_->find_view("city_orders"), *schema_,
                                       {"town"}, "window_end", nullptr);
        ASSERT_TRUE(sink.ok()) << sink.error().to_string();
        EXPECT_EQ((*sink)->guarantee(), DeliveryGuarantee::kIdempotent);
        ASSERT_TRUE((*sink)->write(replayed).ok());
        ASSERT_TRUE((*sink)->pre_commit(7).ok());
        // The run dies here, before its checkpoint completes.
    }
    const std::vector<Value> before = lookup();
    EXPECT_EQ(before, (std::vector<Value>{Value::int64(5), Value::int64(2)}));
    auto sink = OnlineSink::create(*writer_, *store_->find_view("city_orders"), *schema_, {"town"},
                                   "window_end", nullptr);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->recover(6).ok());
    ASSERT_TRUE((*sink)->write(replayed).ok());
    ASSERT_TRUE(commit_once(**sink, 7).ok());
    ASSERT_TRUE((*sink)->commit(7).ok()) << "a replayed commit is a no-op";
    EXPECT_EQ(lookup(), before);
}

TEST_F(OnlineSinkTest, EventTimesAheadOfTheWritersClockAreDeadLetters) {
    // The writer's clock is the injected one: two days after it is the future, whatever the
    // machine's clock says.
    ManualClock clock(kNow);
    std::unique_ptr<FeatureWriter> writer = make_store_feature_writer(*store_, &clock);
    std::vector<std::string> rejected;
    auto sink = OnlineSink::create(
        *writer, *store_->find_view("city_orders"), *schema_, {"town"}, "window_end",
        [&](const std::string& reason, const Batch&, std::size_t) { rejected.push_back(reason); });
    ASSERT_TRUE(sink.ok()) << sink.error().to_string();
    constexpr int64_t kDay = 86'400'000'000;
    ASSERT_TRUE((*sink)
                    ->write(rows({{"paris", 3, kNow + 2 * kDay},
                                  {"lyon", 4, std::numeric_limits<int64_t>::max()},
                                  {"nice", 5, kNow + kDay / 2}}))
                    .ok());
    ASSERT_TRUE(commit_once(**sink).ok());
    EXPECT_EQ((*sink)->rows_written(), 1u);
    EXPECT_EQ((*sink)->rows_rejected(), 2u);
    ASSERT_EQ(rejected.size(), 2u);
    EXPECT_NE(rejected[0].find("is more than 1d ahead of the clock (2026-11-23T00:00:00Z)"),
              std::string::npos)
        << rejected[0];
    std::vector<std::vector<Value>> keys = {{Value::string("paris")}, {Value::string("nice")}};
    std::vector<FeatureLookup> out;
    store_->lookup(*store_->find_view("city_orders"), keys, kNow, std::nullopt, out);
    EXPECT_EQ(out[0].status, FeatureStatus::kNotFound);
    EXPECT_EQ(out[1].status, FeatureStatus::kPresent);
}

TEST_F(OnlineSinkTest, MappingErrorsNameTheColumns) {
    const FeatureView& view = *store_->find_view("city_orders");
    auto no_key = OnlineSink::map_columns(view, *schema_, {}, "");
    ASSERT_FALSE(no_key.ok());
    EXPECT_NE(no_key.error().message().find("key column `city`"), std::string::npos);
    auto too_many = OnlineSink::map_columns(view, *schema_, {"town", "orders"}, "");
    ASSERT_FALSE(too_many.ok());
    EXPECT_NE(too_many.error().message().find("lists 2 column(s)"), std::string::npos);
    auto bad_time = OnlineSink::map_columns(view, *schema_, {"town"}, "orders");
    ASSERT_FALSE(bad_time.ok());
    EXPECT_NE(bad_time.error().message().find("must be a timestamp"), std::string::npos);
    auto missing_time = OnlineSink::map_columns(view, *schema_, {"town"}, "t");
    ASSERT_FALSE(missing_time.ok());
}

}  // namespace
}  // namespace millrace
