#include "connectors/lake_sink.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "connectors/tests/sink_test_util.h"
#include "lake/lake_table.h"
#include "types/batch.h"

namespace millrace {
namespace {

class LakeSinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-lake-sink-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        schema_ = std::make_shared<const Schema>(std::vector<Field>{
            {"day", DataType::kString, false},
            {"id", DataType::kInt64, false},
        });
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    Batch rows(const std::string& day, int64_t first, int64_t count) {
        BatchBuilder builder(schema_);
        for (int64_t i = first; i < first + count; ++i) {
            builder.column(0).append_string(day);
            builder.column(1).append_int64(i);
            builder.commit_row();
        }
        return builder.finish();
    }

    std::string dir_;
    std::shared_ptr<const Schema> schema_;
};

// A backfill runs one pipeline for several days at once: same table, same writer id. Each run
// must commit its own partition whole, whichever order the commits land in.
TEST_F(LakeSinkTest, ConcurrentRunsOfOnePipelineCommitEveryRow) {
    constexpr int kRuns = 6;
    constexpr int64_t kRows = 500;
    std::vector<std::string> failures(kRuns);
    std::vector<std::thread> threads;
    for (int run = 0; run < kRuns; ++run) {
        threads.emplace_back([&, run] {
            auto sink = LakeSink::create(dir_, "daily", {"day"}, schema_, "daily-0");
            if (!sink.ok()) {
                failures[run] = sink.error().to_string();
                return;
            }
            const std::string day = "2026-11-0" + std::to_string(run + 1);
            Status status;
            for (int64_t b = 0; b < 4 && status.ok(); ++b) {
                status = (*sink)->write(rows(day, run * kRows + b * (kRows / 4), kRows / 4));
            }
            if (status.ok()) status = commit_once(**sink);
            if (!status.ok()) failures[run] = status.error().to_string();
        });
    }
    for (auto& thread : threads) thread.join();
    for (const std::string& failure : failures) EXPECT_EQ(failure, "");
    auto table = LakeTable::open(dir_, "daily");
    ASSERT_TRUE(table.ok()) << table.error().to_string();
    std::vector<int> seen(kRuns * kRows, 0);
    LakeTable::ScanOptions scan;
    scan.columns = {"id"};
    auto stats = table->scan(scan, [&](Batch batch) {
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            ++seen[static_cast<std::size_t>(batch.column(0).value<int64_t>(r))];
        }
        return Status();
    });
    ASSERT_TRUE(stats.ok()) << stats.error().to_string();
    for (std::size_t id = 0; id < seen.size(); ++id) ASSERT_EQ(seen[id], 1) << "row " << id;
    // Snapshot ids come from the table: one per run, whatever the clock did.
    EXPECT_EQ(*table->current_snapshot_id(), static_cast<uint64_t>(kRuns));
}

// A run that fails (or is killed) before commit leaves nothing for the next run to commit.
TEST_F(LakeSinkTest, UnfinishedRunIsNeverCommittedByTheNext) {
    {
        auto sink = LakeSink::create(dir_, "daily", {"day"}, schema_, "daily-0");
        ASSERT_TRUE(sink.ok());
        ASSERT_TRUE((*sink)->write(rows("2026-11-01", 0, 100)).ok());
    }
    auto sink = LakeSink::create(dir_, "daily", {"day"}, schema_, "daily-0");
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->write(rows("2026-11-02", 1000, 10)).ok());
    ASSERT_TRUE(commit_once(**sink).ok());
    sink->reset();  // the run ends
    auto table = LakeTable::open(dir_, "daily");
    EXPECT_EQ(table->snapshot()->total_rows(), 10u);
    std::size_t staged = 0;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(table->path() + "/_staging")) {
        if (entry.is_regular_file()) ++staged;
    }
    EXPECT_EQ(staged, 0u);
}

// A re-run replaces the partitions it writes; a replayed commit changes nothing; a table
// written with another schema is refused before any row moves.
TEST_F(LakeSinkTest, ReRunsReplaceTheirPartitionsAndReplaysChangeNothing) {
    for (uint64_t run = 1; run <= 2; ++run) {
        auto sink = LakeSink::create(dir_, "daily", {"day"}, schema_, "daily-0");
        ASSERT_TRUE(sink.ok()) << sink.error().to_string();
        ASSERT_TRUE((*sink)->write(rows("2026-11-01", 0, 20)).ok());
        ASSERT_TRUE((*sink)->pre_commit(run).ok());
        ASSERT_TRUE((*sink)->commit(run).ok());
        const uint64_t snapshot = (*sink)->snapshot_id();
        ASSERT_TRUE((*sink)->commit(run).ok());
        EXPECT_EQ((*sink)->snapshot_id(), snapshot);
        auto table = LakeTable::open(dir_, "daily");
        ASSERT_TRUE(table.ok());
        EXPECT_EQ(table->snapshot()->total_rows(), 20u) << "run " << run;
        EXPECT_EQ(*table->current_snapshot_id(), snapshot);
    }
    auto other =
        std::make_shared<const Schema>(std::vector<Field>{{"day", DataType::kInt64, false}});
    auto refused = LakeSink::create(dir_, "daily", {"day"}, other, "daily-0");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kTypeMismatch);
}

// An output with a column the table lacks is refused naming it, unless the sink says
// `schema_evolution: add_columns`: then the table gains the column (older rows read null). An
// output that lacks a nullable table column writes nulls into it; columns are matched by name.
TEST_F(LakeSinkTest, NewOutputColumnsEvolveTheTableOnlyWhenAllowed) {
    {
        auto sink = LakeSink::create(dir_, "daily", {"day"}, schema_, "daily-0");
        ASSERT_TRUE(sink.ok());
        ASSERT_TRUE((*sink)->write(rows("2026-11-01", 0, 3)).ok());
        ASSERT_TRUE((*sink)->pre_commit(1).ok());
        ASSERT_TRUE((*sink)->commit(1).ok());
    }
    auto wider = std::make_shared<const Schema>(std::vector<Field>{
        {"note", DataType::kString, true},
        {"day", DataType::kString, false},
        {"id", DataType::kInt64, false},
    });
    auto refused = LakeSink::create(dir_, "daily", {"day"}, wider, "daily-0");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kTypeMismatch);
    EXPECT_NE(refused.error().message().find("`note`"), std::string::npos);
    EXPECT_NE(refused.error().message().find("schema_evolution: add_columns"), std::string::npos);
    EXPECT_EQ(LakeTable::open(dir_, "daily")->schema()->size(), 2u) << "the table is unchanged";

    auto sink = LakeSink::create(dir_, "daily", {"day"}, wider, "daily-0", LakeSinkMode::kOverwrite,
                                 {}, nullptr, true);
    ASSERT_TRUE(sink.ok()) << sink.error().to_string();
    BatchBuilder builder(wider);
    builder.column(0).append_string("hello");
    builder.column(1).append_string("2026-11-02");
    builder.column(2).append_int64(7);
    builder.commit_row();
    ASSERT_TRUE((*sink)->write(builder.finish()).ok());
    ASSERT_TRUE((*sink)->pre_commit(1).ok());
    ASSERT_TRUE((*sink)->commit(1).ok());
    auto table = LakeTable::open(dir_, "daily");
    ASSERT_TRUE(table.ok());
    EXPECT_EQ(table->schema()->to_string(),
              "{ day: string not null, id: int64 not null, note: string }");
    std::map<int64_t, std::string> notes;
    ASSERT_TRUE(table
                    ->scan({},
                           [&](Batch b) {
                               for (std::size_t r = 0; r < b.num_rows(); ++r) {
                                   notes[b.column(1).value<int64_t>(r)] =
                                       b.column(2).is_null(r)
                                           ? "null"
                                           : std::string(b.column(2).string_at(r));
                               }
                               return Status();
                           })
                    .ok());
    EXPECT_EQ(notes, (std::map<int64_t, std::string>{
                         {0, "null"}, {1, "null"}, {2, "null"}, {7, "hello"}}));

    // The old output (without `note`) still writes: `note` reads null.
    auto narrow = LakeSink::create(dir_, "daily", {"day"}, schema_, "daily-0");
    ASSERT_TRUE(narrow.ok()) << narrow.error().to_string();
    ASSERT_TRUE((*narrow)->write(rows("2026-11-03", 10, 1)).ok());
    ASSERT_TRUE((*narrow)->pre_commit(1).ok());
    ASSERT_TRUE((*narrow)->commit(1).ok());
    EXPECT_EQ(table->snapshot()->total_rows(), 5u);
}

// A streaming (append) sink's checkpoint outlives a crash: the run killed after pre_commit(5)
// (the checkpoint was complete) leaves it staged, and the restarted sink's recover(5) commits
// it once; a replayed recover or commit changes nothing; what was staged after the checkpoint
// (pre_commit(6), never completed) is dropped.
TEST_F(LakeSinkTest, StreamingSinkRollsACompletedCheckpointForwardOnce) {
    // A run that stages and dies before its commit, as kill -9 would (no destructor runs).
    auto die_after_pre_commit = [&](uint64_t commit_id, int64_t first) {
        const pid_t child = ::fork();
        if (child == 0) {
            auto sink =
                LakeSink::create(dir_, "live", {}, schema_, "live-0", LakeSinkMode::kAppend);
            bool ok = sink.ok() && (*sink)->write(rows("d", first, 10)).ok() &&
                      (*sink)->pre_commit(commit_id).ok();
            ::_exit(ok ? 0 : 1);
        }
        int status = 0;
        ::waitpid(child, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    };
    auto total_rows = [&] {
        auto table = LakeTable::open(dir_, "live");
        return table.ok() ? table->snapshot()->total_rows() : 0;
    };
    ASSERT_TRUE(die_after_pre_commit(5, 0));
    EXPECT_EQ(total_rows(), 0u) << "staged rows are invisible";
    for (int restart = 0; restart < 2; ++restart) {
        auto sink = LakeSink::create(dir_, "live", {}, schema_, "live-0", LakeSinkMode::kAppend);
        ASSERT_TRUE(sink.ok()) << sink.error().to_string();
        ASSERT_TRUE((*sink)->recover(5).ok());
        EXPECT_EQ(total_rows(), 10u) << "restart " << restart;
        ASSERT_TRUE((*sink)->commit(5).ok()) << "a replayed commit is a no-op";
        EXPECT_EQ(total_rows(), 10u);
    }
    ASSERT_TRUE(die_after_pre_commit(6, 100));
    {
        auto sink = LakeSink::create(dir_, "live", {}, schema_, "live-0", LakeSinkMode::kAppend);
        ASSERT_TRUE(sink.ok()) << sink.error().to_string();
        ASSERT_TRUE((*sink)->recover(5).ok());
        EXPECT_EQ(total_rows(), 10u) << "checkpoint 6 never completed: dropped";
        ASSERT_TRUE((*sink)->write(rows("d", 200, 3)).ok());
        ASSERT_TRUE(commit_once(**sink, 6).ok());
        EXPECT_EQ(total_rows(), 13u);
    }
}

// A failed run of a new table leaves no table: not listed, not openable, no folder. The table
// is created by the first commit, in the same metadata version as its first snapshot.
TEST_F(LakeSinkTest, FailedFirstRunLeavesNoTable) {
    {
        auto sink = LakeSink::create(dir_, "daily", {"day"}, schema_, "daily-0");
        ASSERT_TRUE(sink.ok()) << sink.error().to_string();
        ASSERT_TRUE((*sink)->write(rows("2026-11-01", 0, 100)).ok());
        ASSERT_TRUE((*sink)->pre_commit(1).ok());
        (*sink)->abort();  // the run failed
    }
    auto reopened = LakeTable::open(dir_, "daily");
    ASSERT_FALSE(reopened.ok());
    EXPECT_EQ(reopened.error().code(), ErrorCode::kNotFound);
    EXPECT_TRUE(LakeTable::list(dir_)->empty());
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/lake/daily"));

    auto sink = LakeSink::create(dir_, "daily", {"day"}, schema_, "daily-0");
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->write(rows("2026-11-02", 0, 10)).ok());
    ASSERT_TRUE(commit_once(**sink).ok());
    auto table = LakeTable::open(dir_, "daily");
    ASSERT_TRUE(table.ok());
    // v1 holds the first snapshot: there is no empty version before it.
    EXPECT_EQ(*table->current_snapshot_id(), 1u);
    EXPECT_EQ(table->history()->size(), 2u);  // snapshot 0 (the empty table) and 1
    EXPECT_FALSE(std::filesystem::exists(table->path() + "/metadata/v2.metadata.json"));
    EXPECT_EQ(table->snapshot()->total_rows(), 10u);
}

// A run that succeeds without rows still leaves its (empty) table.
TEST_F(LakeSinkTest, SuccessfulRunWithoutRowsCreatesTheTable) {
    auto sink = LakeSink::create(dir_, "daily", {"day"}, schema_, "daily-0");
    ASSERT_TRUE(sink.ok());
    EXPECT_FALSE(LakeTable::open(dir_, "daily").ok());
    ASSERT_TRUE(commit_once(**sink).ok());
    auto table = LakeTable::open(dir_, "daily");
    ASSERT_TRUE(table.ok()) << table.error().to_string();
    EXPECT_EQ(*table->current_snapshot_id(), 0u);
}

}  // namespace
}  // namespace millrace
