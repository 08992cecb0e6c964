#include "pipeline/lake_query.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/clock.h"
#include "lake/lake_table.h"
#include "lake/lake_writer.h"
#include "types/column_builder.h"

namespace millrace {
namespace {

constexpr int64_t kHour = 3'600'000'000;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kNow = 1'795'392'000'000'000;  // 2026-11-23T00:00:00Z

/// Rows as text, "a|b" per row.
class Rows final : public BatchSink {
public:
    Status push(Batch batch) override {
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            std::string row;
            for (std::size_t c = 0; c < batch.num_columns(); ++c) {
                if (c > 0) row += "|";
                row += batch.value_at(r, c).to_string();
            }
            rows.push_back(std::move(row));
        }
        return {};
    }
    Status finish() override { return {}; }
    std::vector<std::string> rows;
};

class LakeQueryTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-lake-query-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        // events(id, ts): one file per commit, 10 rows each, `days_ago` days before kNow.
        auto schema = std::make_shared<const Schema>(std::vector<Field>{
            {"id", DataType::kInt64, false}, {"ts", DataType::kTimestamp, false}});
        auto table = LakeTable::create(dir_, "events", *schema);
        ASSERT_TRUE(table.ok()) << table.error().to_string();
        auto writer = LakeWriter::open(*table);
        ASSERT_TRUE(writer.ok());
        uint64_t commit = 0;
        for (int64_t days_ago : {10, 5, 2}) {
            BatchBuilder builder(schema);
            for (int64_t i = 0; i < 10; ++i) {
                builder.column(0).append_int64(days_ago * 100 + i);
                builder.column(1).append_timestamp(kNow - days_ago * kDay + i * kHour);
                builder.commit_row();
            }
            ASSERT_TRUE((*writer)->write(builder.finish()).ok());
            ASSERT_TRUE((*writer)->pre_commit(++commit).ok());
            ASSERT_TRUE((*writer)->commit(commit).ok());
        }
        // The recent file: the last 12 hours.
        BatchBuilder builder(schema);
        for (int64_t i = 0; i < 10; ++i) {
            builder.column(0).append_int64(i);
            builder.column(1).append_timestamp(kNow - 12 * kHour + i * kHour);
            builder.commit_row();
        }
        ASSERT_TRUE((*writer)->write(builder.finish()).ok());
        ASSERT_TRUE((*writer)->pre_commit(++commit).ok());
        ASSERT_TRUE((*writer)->commit(commit).ok());
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    Result<std::vector<std::string>> query(const std::string& sql, const Clock* clock,
                                           LakeQueryStats* stats = nullptr) {
        Rows rows;
        MILLRACE_TRY(query_lake(
            dir_, sql, [](const Schema&) { return Status(); }, rows, kDefaultQueryMemoryLimit,
            clock, stats));
        return rows.rows;
    }

    std::string dir_;
};

TEST_F(LakeQueryTest, NowIsTheGivenClocksReading) {
    ManualClock clock(kNow + 90'000'000);  // 00:01:30
    auto rows =
        query("SELECT now() AS t, current_date AS d, date_trunc('hour', now()) AS h", &clock);
    ASSERT_TRUE(rows.ok()) << rows.error().to_string();
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0], "2026-11-23T00:01:30Z|2026-11-23|2026-11-23T00:00:00Z")
        << "a fixed clock gives a fixed now()";
    // Every now() of one query is one instant, however long the query runs.
    auto same = query("SELECT count(*) AS n FROM events WHERE now() = now()", &clock);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ((*same)[0], "40");
}

TEST_F(LakeQueryTest, FilterOnNowPrunesFilesByStatistics) {
    ManualClock clock(kNow);
    LakeQueryStats stats;
    auto rows = query("SELECT count(*) AS n FROM events WHERE ts > now() - INTERVAL '1 day'",
                      &clock, &stats);
    ASSERT_TRUE(rows.ok()) << rows.error().to_string();
    EXPECT_EQ((*rows)[0], "10");
    EXPECT_EQ(stats.files, 4u);
    EXPECT_EQ(stats.files_skipped, 3u) << "now() folded before the scan reads its filters";

    // The same cut written as a constant prunes the same files.
    LakeQueryStats constant;
    auto same = query("SELECT count(*) AS n FROM events WHERE ts > TIMESTAMP '2026-11-22 00:00:00'",
                      &clock, &constant);
    ASSERT_TRUE(same.ok()) << same.error().to_string();
    EXPECT_EQ(*same, *rows);
    EXPECT_EQ(constant.files_skipped, stats.files_skipped);

    // Three days later (the clock moved), the recent file is out of range too.
    clock.set_micros(kNow + 3 * kDay);
    LakeQueryStats later;
    auto none = query("SELECT count(*) AS n FROM events WHERE ts > now() - INTERVAL '1 day'",
                      &clock, &later);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ((*none)[0], "0");
    EXPECT_EQ(later.files_skipped, 4u);
}

}  // namespace
}  // namespace millrace
