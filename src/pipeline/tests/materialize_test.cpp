#include "pipeline/materialize.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "connectors/feature_writer.h"
#include "lake/lake_table.h"
#include "lake/lake_writer.h"
#include "online/online_store.h"
#include "project/project.h"
#include "types/batch.h"

namespace millrace {
namespace {

constexpr int64_t kDay = 86'400'000'000;
constexpr int64_t kNow = 1'795'392'000'000'000;

class MaterializeTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-materialize-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        project_.name = "p";
        project_.data_dir = dir_;
        view_.name = "user_features";
        view_.entities = {{"user_id", DataType::kInt64}};
        view_.features = {{"clicks", DataType::kInt64, Value::int64(0), ""}};
        view_.source = FeatureSourceKind::kLake;
        view_.lake_table = "user_features";
        view_.event_time = "computed_at";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // One snapshot of (user, clicks, computed_at) rows.
    void write_table(const std::vector<std::tuple<int64_t, int64_t, int64_t>>& rows) {
        auto schema = std::make_shared<const Schema>(
            std::vector<Field>{{"user_id", DataType::kInt64, true},
                               {"clicks", DataType::kInt64, true},
                               {"computed_at", DataType::kTimestamp, true}});
        Result<LakeTable> table = LakeTable::open(dir_, "user_features");
        if (!table.ok()) table = LakeTable::create(dir_, "user_features", *schema, {});
        ASSERT_TRUE(table.ok()) << table.error().to_string();
        LakeWriterOptions options;
        options.writer_id = "test";
        auto writer = LakeWriter::open(*table, options);
        ASSERT_TRUE(writer.ok()) << writer.error().to_string();
        BatchBuilder builder(schema);
        for (const auto& [user, clicks, at] : rows) {
            builder.column(0).append_int64(user);
            builder.column(1).append_int64(clicks);
            builder.column(2).append_timestamp(at);
            builder.commit_row();
        }
        ASSERT_TRUE((*writer)->write(builder.finish()).ok());
        static uint64_t checkpoint = 0;
        ++checkpoint;
        ASSERT_TRUE((*writer)->pre_commit(checkpoint).ok());
        ASSERT_TRUE((*writer)->commit(checkpoint).ok());
    }

    int64_t clicks_of(OnlineStore& store, int64_t user) {
        std::vector<std::vector<Value>> keys = {{Value::int64(user)}};
        std::vector<FeatureLookup> out;
        store.lookup(*store.find_view("user_features"), keys, kNow, std::nullopt, out);
        return out[0].row ? out[0].row->values[0].as_int64() : -1;
    }

    std::string dir_;
    Project project_;
    FeatureView view_;
};

TEST_F(MaterializeTest, LatestRowPerKeyWinsWhateverTheOrder) {
    write_table({{1, 10, kNow - 2 * kDay}, {1, 30, kNow}, {1, 20, kNow - kDay}, {2, 5, kNow}});
    auto store = OnlineStore::open(OnlineStore::directory(dir_), {view_}, {}, nullptr);
    ASSERT_TRUE(store.ok());
    auto writer = make_store_feature_writer(**store);
    auto report = materialize_view(project_, view_, *writer, {});
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    EXPECT_EQ(report->rows_read, 4u);
    EXPECT_EQ(report->rows_written, 4u);
    EXPECT_EQ(clicks_of(**store, 1), 30);
    EXPECT_EQ(clicks_of(**store, 2), 5);
    // Re-running is idempotent; --since reads only newer rows.
    MaterializeOptions since;
    since.since_us = kNow - kDay / 2;
    report = materialize_view(project_, view_, *writer, since);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->rows_read, 2u);
    EXPECT_EQ(clicks_of(**store, 1), 30);

    // The JSON form reads back.
    auto parsed = parse_materialize_report(materialize_report_json(*report));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->rows_read, 2u);
    EXPECT_EQ(parsed->view, "user_features");
}

TEST_F(MaterializeTest, MissingTableAndColumnsAreClearErrors) {
    auto store = OnlineStore::open(OnlineStore::directory(dir_), {view_}, {}, nullptr);
    ASSERT_TRUE(store.ok());
    auto writer = make_store_feature_writer(**store);
    auto missing = materialize_view(project_, view_, *writer, {});
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
    EXPECT_NE(missing.error().message().find("does not exist yet"), std::string::npos);

    write_table({{1, 10, kNow}});
    FeatureView wrong = view_;
    wrong.features.push_back({"spend", DataType::kFloat64, Value(), ""});
    auto no_column = materialize_view(project_, wrong, *writer, {});
    ASSERT_FALSE(no_column.ok());
    EXPECT_NE(no_column.error().message().find("feature `spend` is not a column"),
              std::string::npos);

    FeatureView piped = view_;
    piped.source = FeatureSourceKind::kPipeline;
    piped.pipeline = "p";
    EXPECT_EQ(materialize_view(project_, piped, *writer, {}).error().code(),
              ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace millrace
