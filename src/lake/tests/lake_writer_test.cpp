#include "lake/lake_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "common/durable_file.h"
#include "common/mapped_file.h"
#include "lake/lake_table.h"

namespace millrace {
namespace {

// metadata/v<version>.metadata.json of a table (v1 is the empty table, v<n + 1> snapshot n).
std::string metadata_version(const LakeTable& table, int version) {
    return table.path() + "/metadata/v" + std::to_string(version) + ".metadata.json";
}

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
    // A crashed commit left its manifest and a half-written metadata file behind: never the
    // metadata version itself, which appears whole (link) or not at all.
    ASSERT_TRUE(
        write_file_durably(table->path() + "/metadata/v3.metadata.json.tmp-1-1", "{ torn").ok());
    ASSERT_TRUE(write_file_durably(table->path() + "/metadata/junk-m0.avro", "Obj").ok());
    EXPECT_EQ(*table->current_snapshot_id(), 1u);
    EXPECT_EQ(count(*table), 5u);
    // The next commit takes id 2 (and metadata version 3) regardless.
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

TEST_F(LakeWriterTest, OverwriteReplacesEachPartitionOnceAcrossTheWritersCommits) {
    auto table = LakeTable::create(dir_, "t", *schema_, {"date(ts)"});
    {
        auto first = LakeWriter::open(*table);
        ASSERT_TRUE((*first)->write(rows(0, 72)).ok());  // three days of old rows
        ASSERT_TRUE((*first)->pre_commit(1).ok());
        ASSERT_TRUE((*first)->commit(1).ok());
    }
    LakeWriterOptions options;
    options.writer_id = "import";
    options.staging = LakeStaging::kPrivate;
    options.overwrite_partitions = true;
    auto writer = LakeWriter::open(*table, options);
    ASSERT_TRUE(writer.ok()) << writer.error().to_string();
    // A job committing every 12 rows: days 1 and 2 are replaced by their first commit and
    // appended to by the later ones; day 3, never written, keeps its old rows.
    for (uint64_t c = 1; c <= 4; ++c) {
        ASSERT_TRUE((*writer)->write(rows(100 + static_cast<int64_t>(c - 1) * 12, 12)).ok());
        ASSERT_TRUE((*writer)->pre_commit(c).ok());
        auto committed = (*writer)->commit(c);
        ASSERT_TRUE(committed.ok()) << committed.error().to_string();
    }
    // Rows 100..147 (one an hour) fall on the 5th to 7th day, none of the old rows' days.
    EXPECT_EQ(count(*table), 72u + 48u);
    EXPECT_EQ((*writer)->replaced_partitions().size(), 3u);

    // The same job writing old days again replaces each of them once, with all its rows.
    auto again = LakeWriter::open(*table, options);
    for (uint64_t c = 1; c <= 6; ++c) {
        // Rows 0..47: the first two days, 8 rows a commit.
        ASSERT_TRUE((*again)->write(rows(static_cast<int64_t>(c - 1) * 8, 8)).ok());
        ASSERT_TRUE((*again)->pre_commit(c).ok());
        ASSERT_TRUE((*again)->commit(c).ok());
    }
    EXPECT_EQ(count(*table), 72u + 48u);
}

TEST_F(LakeWriterTest, FailedCommitIsDroppedAndNeverAdoptedByTheNextWriter) {
    auto table = LakeTable::create(dir_, "t", *schema_, {"date(ts)"});
    LakeWriterOptions options;
    options.writer_id = "import";
    options.staging = LakeStaging::kPrivate;
    {
        auto writer = LakeWriter::open(*table, options);
        ASSERT_TRUE((*writer)->write(rows(0, 10)).ok());
        ASSERT_TRUE((*writer)->pre_commit(1).ok());
        ASSERT_TRUE((*writer)->commit(1).ok());
    }
    {
        // The metadata of snapshot 2 cannot be created (a folder in its way, as a full disk
        // would refuse it): the commit fails and the table stays at snapshot 1.
        std::filesystem::create_directory(metadata_version(*table, 3));
        auto writer = LakeWriter::open(*table, options);
        ASSERT_TRUE((*writer)->write(rows(100, 30)).ok());
        ASSERT_TRUE((*writer)->pre_commit(1).ok());
        auto failed = (*writer)->commit(1);
        ASSERT_FALSE(failed.ok());
        EXPECT_EQ(failed.error().code(), ErrorCode::kIo);
        EXPECT_EQ(*table->current_snapshot_id(), 1u);
        EXPECT_EQ(count(*table), 10u);
        std::filesystem::remove(metadata_version(*table, 3));
        // The writer ends here without committing (the process would exit 1).
    }
    auto next = LakeWriter::open(*table, options);
    ASSERT_TRUE((*next)->write(rows(200, 5)).ok());
    ASSERT_TRUE((*next)->pre_commit(1).ok());
    ASSERT_TRUE((*next)->commit(1).ok());
    EXPECT_EQ(count(*table), 15u);  // not 45: the failed writer's 30 rows are gone
    // No file of the failed writer is left anywhere: not staged, not in a partition folder.
    std::size_t parquet_files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(table->path())) {
        if (entry.path().extension() == ".parquet") ++parquet_files;
    }
    EXPECT_EQ(parquet_files, table->snapshot()->files.size());
}

TEST_F(LakeWriterTest, StagingOfAKilledPrivateWriterIsSweptNotCommitted) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    const std::string staging = table->path() + "/_staging";
    // What a writer killed between pre-commit and commit leaves: a private folder with a
    // pre-commit record, whose owner lock nobody holds.
    std::filesystem::create_directories(staging + "/_tx-import-1-dead/ckpt-1");
    ASSERT_TRUE(write_file_durably(staging + "/_tx-import-1-dead/.owner", "").ok());
    ASSERT_TRUE(write_file_durably(staging + "/_tx-import-1-dead/ckpt-1.json", "{}").ok());
    LakeWriterOptions options;
    options.writer_id = "import";
    options.staging = LakeStaging::kPrivate;
    auto writer = LakeWriter::open(*table, options);
    ASSERT_TRUE(writer.ok());
    EXPECT_FALSE(std::filesystem::exists(staging + "/_tx-import-1-dead"));
    EXPECT_TRUE((*writer)->pending_checkpoints()->empty());
    // A live writer's folder is not swept by another.
    auto other = LakeWriter::open(*table, options);
    ASSERT_TRUE((*other)->write(rows(0, 3)).ok());
    auto third = LakeWriter::open(*table, options);  // one writer id, two live writers
    ASSERT_TRUE(third.ok());
    ASSERT_TRUE((*other)->pre_commit(1).ok());
    ASSERT_TRUE((*other)->commit(1).ok());
    EXPECT_EQ(count(*table), 3u);
}

TEST_F(LakeWriterTest, NamedWriterIdIsHeldByOneLiveWriter) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    auto first = LakeWriter::open(*table);
    ASSERT_TRUE(first.ok());
    auto second = LakeWriter::open(*table);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
    first->reset();
    EXPECT_TRUE(LakeWriter::open(*table).ok());
}

TEST_F(LakeWriterTest, ConcurrentWritersOfOneTableCommitEveryRowOnce) {
    constexpr int kWriters = 6;
    constexpr int kCommits = 5;
    constexpr int64_t kRows = 40;
    std::vector<std::thread> threads;
    std::vector<std::string> failures(kWriters);
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            // Every thread creates-or-opens the table, as concurrent first runs do.
            auto table = LakeTable::create(dir_, "t", *schema_, {"date(ts)"});
            if (!table.ok()) table = LakeTable::open(dir_, "t");
            if (!table.ok()) {
                failures[w] = table.error().to_string();
                return;
            }
            LakeWriterOptions options;
            options.writer_id = "backfill";  // one id for all: each still stages privately
            options.staging = LakeStaging::kPrivate;
            auto writer = LakeWriter::open(*table, options);
            if (!writer.ok()) {
                failures[w] = writer.error().to_string();
                return;
            }
            for (int c = 1; c <= kCommits; ++c) {
                const int64_t first = (static_cast<int64_t>(w) * kCommits + c - 1) * kRows;
                Status status = (*writer)->write(rows(first, kRows));
                if (status.ok()) status = (*writer)->pre_commit(static_cast<uint64_t>(c));
                if (status.ok()) {
                    auto committed = (*writer)->commit(static_cast<uint64_t>(c));
                    if (!committed.ok()) status = std::move(committed).error();
                }
                if (!status.ok()) {
                    failures[w] = status.error().to_string();
                    return;
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    for (const std::string& failure : failures) EXPECT_EQ(failure, "");
    auto table = LakeTable::open(dir_, "t");
    ASSERT_TRUE(table.ok());
    EXPECT_EQ(*table->current_snapshot_id(), static_cast<uint64_t>(kWriters * kCommits));
    std::vector<int> seen(kWriters * kCommits * kRows, 0);
    LakeTable::ScanOptions scan;
    scan.columns = {"id"};
    ASSERT_TRUE(
        table
            ->scan(scan,
                   [&](Batch batch) {
                       for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                           ++seen[static_cast<std::size_t>(batch.column(0).value<int64_t>(r))];
                       }
                       return Status();
                   })
            .ok());
    for (std::size_t id = 0; id < seen.size(); ++id) {
        ASSERT_EQ(seen[id], 1) << "row " << id;
    }
}

TEST_F(LakeWriterTest, ReplacingFilesNoLongerLiveIsAConflict) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    LakeTable::Change change;
    change.removed = {"part-gone-0.parquet"};  // replaced by a concurrent commit, say
    change.operation = "compact";
    EXPECT_EQ(table->commit(change).error().code(), ErrorCode::kUnavailable);
    EXPECT_EQ(*table->current_snapshot_id(), 0u);
}

TEST_F(LakeWriterTest, CorruptManifestIsReportedAndOlderSnapshotsStayReadable) {
    auto table = LakeTable::create(dir_, "orders", *schema_);
    auto writer = LakeWriter::open(*table);
    for (uint64_t c = 1; c <= 3; ++c) {
        ASSERT_TRUE((*writer)->write(rows(static_cast<int64_t>(c) * 10, 10)).ok());
        ASSERT_TRUE((*writer)->pre_commit(c).ok());
        ASSERT_TRUE((*writer)->commit(c).ok());
    }
    // The manifest list of snapshot 3 (current) is truncated.
    const std::string list = table->snapshot_file(3);
    auto text = read_file(list);
    ASSERT_TRUE(text.ok());
    std::filesystem::resize_file(list, text->size() / 2);

    auto reopened = LakeTable::open(dir_, "orders");  // still opens: the table exists
    ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
    auto current = reopened->snapshot();
    ASSERT_FALSE(current.ok());  // never an older snapshot in its place
    EXPECT_EQ(current.error().code(), ErrorCode::kCorruption);
    EXPECT_NE(current.error().message().find(list), std::string::npos);
    EXPECT_NE(current.error().message().find("\"orders@2\""), std::string::npos);
    LakeTable::ScanOptions latest;
    EXPECT_EQ(reopened->scan(latest, [](Batch) { return Status(); }).error().code(),
              ErrorCode::kCorruption);
    EXPECT_EQ(count(*reopened, 2), 20u);  // AS OF an intact snapshot works
    auto history = reopened->history();
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(history->size(), 3u);  // 0, 1, 2
    // A commit on top of a corrupt snapshot is refused rather than built on an older one.
    ASSERT_TRUE((*writer)->write(rows(100, 1)).ok());
    ASSERT_TRUE((*writer)->pre_commit(4).ok());
    EXPECT_EQ((*writer)->commit(4).error().code(), ErrorCode::kCorruption);

    // Torn newest metadata: reported too, and an explicit snapshot still reads (from the
    // older metadata version that lists it).
    ASSERT_TRUE(write_file_durably(metadata_version(*table, 4), "{").ok());
    auto pointerless = LakeTable::open(dir_, "orders");
    ASSERT_TRUE(pointerless.ok()) << pointerless.error().to_string();
    EXPECT_EQ(pointerless->snapshot().error().code(), ErrorCode::kCorruption);
    EXPECT_NE(pointerless->snapshot().error().message().find("\"orders@2\""), std::string::npos);
    EXPECT_EQ(count(*pointerless, 2), 20u);
}

TEST_F(LakeWriterTest, PlanChoosesFilesFromManifestsAlone) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    LakeWriterOptions writer_options;
    writer_options.max_file_rows = 100;  // a file per batch of 100 rows: 3 per commit
    writer_options.parquet.row_group_rows = 100;
    auto writer = LakeWriter::open(*table, writer_options);
    for (uint64_t c = 1; c <= 4; ++c) {
        for (int64_t b = 0; b < 3; ++b) {
            ASSERT_TRUE(
                (*writer)->write(rows(static_cast<int64_t>(c - 1) * 300 + b * 100, 100)).ok());
        }
        ASSERT_TRUE((*writer)->pre_commit(c).ok());
        ASSERT_TRUE((*writer)->commit(c).ok());
    }
    LakeTable::ScanOptions options;
    options.predicates = {{"id", CompareOp::kGe, Value::int64(1000)},
                          {"id", CompareOp::kLt, Value::int64(1050)}};
    auto plan = table->plan(options);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    EXPECT_EQ(plan->snapshot_id, 4u);
    EXPECT_EQ(plan->files_total, 12u);
    EXPECT_EQ(plan->files_skipped, 11u);
    ASSERT_EQ(plan->files.size(), 1u);
    EXPECT_EQ(plan->files[0].rows, 100u);

    // Without statistics every file is kept; a scan then reads them all and finds the same rows.
    options.use_statistics = false;
    auto unpruned = table->plan(options);
    ASSERT_TRUE(unpruned.ok());
    EXPECT_EQ(unpruned->files.size(), 12u);
    EXPECT_EQ(unpruned->files_skipped, 0u);
    uint64_t matched = 0;
    auto stats = table->scan(options, [&](Batch batch) {
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            const int64_t id = batch.column(0).value<int64_t>(r);
            matched += id >= 1000 && id < 1050;
        }
        return Status();
    });
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(matched, 50u);

    options.predicates = {{"nope", CompareOp::kEq, Value::int64(1)}};
    EXPECT_EQ(table->plan(options).error().code(), ErrorCode::kNotFound);
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
    EXPECT_EQ(LakeTable::create(dir_, "t", *schema_, {"week(ts)"}).error().code(),
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
