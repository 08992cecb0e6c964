#include "lake/lake_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/mapped_file.h"
#include "lake/lake_table.h"

namespace millrace {
namespace {

class LakeWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-lake-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        schema_ = std::make_shared<const Schema>(std::vector<Field>{
            {"id", DataType::kInt64, false},
            {"ts", DataType::kTimestamp, false},
            {"store", DataType::kString, true},
        });
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // `rows` rows from `first`: one per hour from 2026-11-23T00:00Z, stores a/b/null.
    Batch rows(int64_t first, int64_t count) {
        BatchBuilder builder(schema_);
        for (int64_t i = first; i < first + count; ++i) {
            builder.column(0).append_int64(i);
            builder.column(1).append_timestamp(1'795'392'000'000'000 + i * 3'600'000'000);
            if (i % 3 == 2) {
                builder.column(2).append_null();
            } else {
                builder.column(2).append_string(i % 3 == 0 ? "a" : "b/x");
            }
            builder.commit_row();
        }
        return builder.finish();
    }

    uint64_t count(const LakeTable& table, std::optional<uint64_t> snapshot = std::nullopt) {
        LakeTable::ScanOptions options;
        options.snapshot_id = snapshot;
        auto stats = table.scan(options, [](Batch) { return Status(); });
        EXPECT_TRUE(stats.ok()) << stats.error().to_string();
        return stats.ok() ? stats->rows : 0;
    }

    std::string dir_;
    std::shared_ptr<const Schema> schema_;
};

TEST_F(LakeWriterTest, TwoPhaseCommitMakesRowsVisibleOnlyAtCommit) {
    auto table = LakeTable::create(dir_, "orders", *schema_, {"date(ts)", "store"});
    ASSERT_TRUE(table.ok()) << table.error().to_string();
    auto writer = LakeWriter::open(*table);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->write(rows(0, 50)).ok());
    EXPECT_EQ(count(*table), 0u);
    ASSERT_TRUE((*writer)->pre_commit(1).ok());
    EXPECT_EQ(count(*table), 0u);  // pre-committed is not committed
    auto snapshot = (*writer)->commit(1);
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().to_string();
    EXPECT_EQ(*snapshot, 1u);
    EXPECT_EQ(count(*table), 50u);

    // Replaying the commit (after a restore) changes nothing.
    auto again = (*writer)->commit(1);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 1u);
    EXPECT_EQ(count(*table), 50u);

    auto manifest = table->snapshot();
    ASSERT_TRUE(manifest.ok());
    EXPECT_EQ(manifest->files.size(), 8u);  // 3 days x 3 stores, but day 3 has 2 rows
    bool escaped = false, hive_null = false;
    for (const DataFile& f : manifest->files) {
        escaped = escaped || f.path.find("store=b%2Fx/") != std::string::npos;
        hive_null =
            hive_null || f.path.find("store=__HIVE_DEFAULT_PARTITION__/") != std::string::npos;
        EXPECT_EQ(f.path.rfind("day=2026-11-2", 0), 0u) << f.path;
    }
    EXPECT_TRUE(escaped);
    EXPECT_TRUE(hive_null);
}

TEST_F(LakeWriterTest, AbortDropsStagedFiles) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    auto writer = LakeWriter::open(*table);
    ASSERT_TRUE((*writer)->write(rows(0, 10)).ok());
    ASSERT_TRUE((*writer)->pre_commit(1).ok());
    ASSERT_TRUE((*writer)->write(rows(10, 10)).ok());
    ASSERT_TRUE((*writer)->abort().ok());
    EXPECT_EQ(count(*table), 0u);
    // Nothing staged is left; `.owner` is the live writer's lock (staging_folder.h).
    std::vector<std::string> left;
    for (const auto& entry :
         std::filesystem::directory_iterator(table->path() + "/_staging/default")) {
        left.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(left, std::vector<std::string>{".owner"});
    EXPECT_EQ((*writer)->commit(1).error().code(), ErrorCode::kNotFound);
}

TEST_F(LakeWriterTest, CrashAfterPreCommitIsCommittedByTheNextWriter) {
    auto table = LakeTable::create(dir_, "t", *schema_, {"date(ts)"});
    {
        auto writer = LakeWriter::open(*table);
        ASSERT_TRUE((*writer)->write(rows(0, 30)).ok());
        ASSERT_TRUE((*writer)->pre_commit(7).ok());
        // The process dies here: the writer object is gone without commit.
    }
    auto restored = LakeWriter::open(*table);
    auto pending = (*restored)->pending_checkpoints();
    ASSERT_TRUE(pending.ok());
    EXPECT_EQ(*pending, std::vector<uint64_t>{7});
    ASSERT_TRUE((*restored)->commit(7).ok());
    EXPECT_EQ(count(*table), 30u);
    EXPECT_TRUE((*restored)->pending_checkpoints()->empty());
}

TEST_F(LakeWriterTest, CrashBeforeTheManifestSwapLeavesThePreviousSnapshot) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    auto writer = LakeWriter::open(*table);
    ASSERT_TRUE((*writer)->write(rows(0, 5)).ok());
    ASSERT_TRUE((*writer)->pre_commit(1).ok());
    ASSERT_TRUE((*writer)->commit(1).ok());
    // A crashed commit left a manifest v2 behind without swapping `current`.
    ASSERT_TRUE(write_file_atomic(table->manifest_path(2), "{ torn").ok());
    EXPECT_EQ(*table->current_snapshot_id(), 1u);
    EXPECT_EQ(count(*table), 5u);
    // The next commit reuses id 2 over the leftover.
    ASSERT_TRUE((*writer)->write(rows(5, 5)).ok());
    ASSERT_TRUE((*writer)->pre_commit(2).ok());
    EXPECT_EQ(*(*writer)->commit(2), 2u);
    EXPECT_EQ(count(*table), 10u);
    EXPECT_EQ(count(*table, 1), 5u);  // AS OF snapshot 1
    EXPECT_EQ(table->snapshot(3).error().code(), ErrorCode::kNotFound);
}

TEST_F(LakeWriterTest, OverwriteReplacesOnlyItsPartitions) {
    auto table = LakeTable::create(dir_, "t", *schema_, {"date(ts)"});
    auto writer = LakeWriter::open(*table);
    ASSERT_TRUE((*writer)->write(rows(0, 48)).ok());  // two days
    ASSERT_TRUE((*writer)->pre_commit(1).ok());
    ASSERT_TRUE((*writer)->commit(1).ok());
    LakeWriterOptions options;
    options.writer_id = "rerun";
    options.overwrite_partitions = true;
    for (uint64_t run = 1; run <= 2; ++run) {  // the re-run of day 2 gives the same outcome
        auto rerun = LakeWriter::open(*table, options);
        ASSERT_TRUE((*rerun)->write(rows(24, 24)).ok());
        ASSERT_TRUE((*rerun)->pre_commit(run).ok());
        ASSERT_TRUE((*rerun)->commit(run).ok());
        EXPECT_EQ(count(*table), 48u);
    }
}

TEST_F(LakeWriterTest, ScanSkipsFilesByStatisticsAndCompactionMergesSmallFiles) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    auto writer = LakeWriter::open(*table);
    for (uint64_t c = 1; c <= 4; ++c) {
        ASSERT_TRUE((*writer)->write(rows(static_cast<int64_t>(c) * 100, 100)).ok());
        ASSERT_TRUE((*writer)->pre_commit(c).ok());
        ASSERT_TRUE((*writer)->commit(c).ok());
    }
    LakeTable::ScanOptions options;
    options.columns = {"id"};
    options.predicates = {{"id", CompareOp::kGe, Value::int64(450)}};
    uint64_t matched = 0;
    auto stats = table->scan(options, [&](Batch batch) {
        EXPECT_EQ(batch.num_columns(), 1u);
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            matched += batch.column(0).value<int64_t>(r) >= 450;
        }
        return Status();
    });
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->files, 4u);
    EXPECT_EQ(stats->files_skipped, 3u);
    EXPECT_EQ(matched, 50u);

    auto compacted = table->compact({});
    ASSERT_TRUE(compacted.ok()) << compacted.error().to_string();
    EXPECT_EQ(compacted->files_removed, 4u);
    EXPECT_EQ(compacted->files_added, 1u);
    EXPECT_EQ(table->snapshot()->files.size(), 1u);
    EXPECT_EQ(count(*table), 400u);
    EXPECT_EQ(count(*table, 4), 400u);  // the old snapshot still reads its files
    auto history = table->history();
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(history->size(), 6u);
    EXPECT_EQ(history->back().operation, "compact");
}

TEST_F(LakeWriterTest, BadPartitionSpecsAreRejected) {
    EXPECT_EQ(LakeTable::create(dir_, "t", *schema_, {"date(nope)"}).error().code(),
              ErrorCode::kNotFound);
    EXPECT_EQ(LakeTable::create(dir_, "t", *schema_, {"hour(store)"}).error().code(),
              ErrorCode::kTypeMismatch);
    EXPECT_EQ(LakeTable::create(dir_, "t", *schema_, {"month(ts)"}).error().code(),
              ErrorCode::kUnsupported);
    EXPECT_EQ(LakeTable::create(dir_, "../x", *schema_).error().code(),
              ErrorCode::kInvalidArgument);
    ASSERT_TRUE(LakeTable::create(dir_, "t", *schema_, {"hour(ts) as h"}).ok());
    EXPECT_EQ(LakeTable::create(dir_, "t", *schema_).error().code(), ErrorCode::kAlreadyExists);
    auto list = LakeTable::list(dir_);
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(*list, std::vector<std::string>{"t"});
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(LakeWriterEmptyCheckpoints, MakeNoSnapshotAndReplayAsNoOps) {
    const std::string dir = (std::filesystem::temp_directory_path() /
                             ("millrace-lake-empty-" + std::to_string(::getpid())))
                                .string();
    std::filesystem::remove_all(dir);
    Schema schema({{"id", DataType::kInt64, false}});
    auto table = LakeTable::create(dir, "t", schema);
    ASSERT_TRUE(table.ok());
    auto writer = LakeWriter::open(*table);
    for (uint64_t c = 1; c <= 3; ++c) {
        ASSERT_TRUE((*writer)->pre_commit(c).ok());
        auto snapshot = (*writer)->commit(c);
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().to_string();
        EXPECT_EQ(*snapshot, 0u);
    }
    EXPECT_TRUE((*writer)->commit(3).ok());  // a replay
    EXPECT_EQ(*table->current_snapshot_id(), 0u);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace millrace
