#include "pipeline/batch_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/clock.h"
#include "common/mapped_file.h"
#include "lake/lake_table.h"
#include "pipeline/commit_counter.h"
#include "project/project_loader.h"

namespace millrace {
namespace {

class BatchRunnerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-batch-runner-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_ + "/pipelines");
        std::filesystem::create_directories(dir_ + "/in");
        write("millrace.yaml", "name: p\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n");
        write("in/a.csv", "id,amount\n1,10\n2,20\n3,30\n");
        write("in/b.csv", "id,amount\n4,40\n5,-1\n");
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ + "/" + name) << text;
    }
    /// Two sources, each feeding a file sink and a lake sink; `b_check` is the check on b.
    void write_pipeline(const std::string& b_check) {
        write("pipelines/two.yaml", R"(name: two
mode: batch
sources:
  a:
    file: { path: in/a.csv, format: csv }
    schema: { id: int64 not null, amount: double }
  b:
    file: { path: in/b.csv, format: csv }
    schema: { id: int64 not null, amount: double }
checks:
  b:
    - expect: ")" + b_check + R"("
      on_fail: fail
views:
  from_a: SELECT id, amount FROM a
  from_b: SELECT id, amount FROM b
sinks:
  - { from: from_a, file: { path: out/a.csv, format: csv } }
  - { from: from_a, lake: { table: a_rows } }
  - { from: from_b, file: { path: out/b.csv, format: csv } }
)");
    }
    Result<RunReport> run(const std::string& name = "two", RunOptions options = {}) {
        std::vector<Error> errors;
        auto project = load_project(dir_, &errors);
        if (!project.ok()) return std::move(project).error();
        project_ = std::move(project).value();
        const PipelineSpec* pipeline = project_.find_pipeline(name);
        if (pipeline == nullptr) return Error(ErrorCode::kNotFound, "no such pipeline");
        return run_batch_pipeline(project_, *pipeline, options);
    }
    uint64_t lake_rows() {
        auto table = LakeTable::open(dir_ + "/data", "a_rows");
        if (!table.ok()) return 0;
        uint64_t rows = 0;
        EXPECT_TRUE(table
                        ->scan(LakeTable::ScanOptions{},
                               [&](Batch batch) {
                                   rows += batch.num_rows();
                                   return Status();
                               })
                        .ok());
        return rows;
    }

    std::string dir_;
    Project project_;
};

TEST_F(BatchRunnerTest, WritesEverySinkAndReportsWhatItWrote) {
    write_pipeline("amount IS NULL OR amount > -1000");
    auto report = run();
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    ASSERT_EQ(report->sinks.size(), 3u);
    EXPECT_EQ(report->sinks[0].rows_written, 3u);
    EXPECT_EQ(report->sinks[1].rows_written, 3u);
    EXPECT_EQ(report->sinks[2].rows_written, 2u);
    ASSERT_EQ(report->sources.size(), 2u);
    EXPECT_EQ(report->sources[0].rows_read + report->sources[1].rows_read, 5u);
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/out/a.csv"));
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/out/b.csv"));
    EXPECT_EQ(lake_rows(), 3u);
    // A re-run replaces what the first one wrote (its lake partitions, its files).
    ASSERT_TRUE(run().ok());
    EXPECT_EQ(lake_rows(), 3u);
}

// One failing source fails the whole run, and no sink is left committed: before the sinks were
// driven through one commit, the sinks fed by the source read first were already committed.
TEST_F(BatchRunnerTest, AFailedRunCommitsNoSink) {
    write_pipeline("amount >= 0");  // b has a negative amount: on_fail: fail
    auto report = run();
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.error().message().find("failed"), std::string::npos)
        << report.error().to_string();
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/a.csv"));
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/b.csv"));
    EXPECT_EQ(lake_rows(), 0u);
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/out", error)) {
        ADD_FAILURE() << "left behind: " << entry.path();
    }
}

TEST_F(BatchRunnerTest, CommitIdsComeFromTheCounterOfThePipeline) {
    write_pipeline("amount IS NULL OR amount > -1000");
    ASSERT_TRUE(run().ok());
    ASSERT_TRUE(run().ok());
    auto stored = read_file(dir_ + "/data/pipelines/two/commit_id");
    ASSERT_TRUE(stored.ok()) << stored.error().to_string();
    EXPECT_EQ(*stored, "2\n");
    auto next = next_commit_id(dir_ + "/data", "two");
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, 3u);
}

TEST_F(BatchRunnerTest, NowIsTheRunsClockInPlansAndChecksAlike) {
    // The check fails the run unless it sees the same fixed instant as the view.
    write("pipelines/clock.yaml", R"(name: clock
mode: batch
sources:
  a:
    file: { path: in/a.csv, format: csv }
    schema: { id: int64 not null, amount: double }
checks:
  a:
    - expect: "now() = TIMESTAMP '2026-11-23 10:30:00' AND current_date = DATE '2026-11-23'"
      on_fail: fail
views:
  stamped: SELECT id, now() AS at, current_date AS day, now() - INTERVAL '1 day' AS before FROM a
sinks:
  - { from: stamped, file: { path: out/stamped.csv, format: csv } }
)");
    ManualClock clock(1'795'392'000'000'000 + 37'800'000'000);  // 2026-11-23T10:30:00Z
    RunOptions options;
    options.clock = &clock;
    auto report = run("clock", options);
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    EXPECT_EQ(report->sources[0].rows_failed_checks, 0u);
    auto out = read_file(dir_ + "/out/stamped.csv");
    ASSERT_TRUE(out.ok());
    EXPECT_NE(out->find("1,2026-11-23T10:30:00Z,2026-11-23,2026-11-22T10:30:00Z"),
              std::string::npos)
        << *out;
    // A clock moved on between runs gives the next run its own instant.
    clock.set_micros(clock.now_micros() + 60'000'000);
    auto again = run("clock", options);
    ASSERT_FALSE(again.ok()) << "the check pins 10:30:00";
}

// Checks on a view run on the rows its sinks read: each failing row is dead-lettered once even
// when two sinks read the view, and neither sink gets it.
TEST_F(BatchRunnerTest, ViewChecksDeadLetterOnceAndFilterEverySink) {
    write("pipelines/view.yaml", R"(name: view
mode: batch
sources:
  b:
    file: { path: in/b.csv, format: csv }
    schema: { id: int64 not null, amount: double }
views:
  doubled: SELECT id, amount * 2 AS twice FROM b
checks:
  doubled:
    - expect: "twice >= 0"
    - expect: "id < 5"
      on_fail: warn
sinks:
  - { from: doubled, file: { path: out/d.csv, format: csv } }
  - { from: doubled, lake: { table: d_rows } }
)");
    auto report = run("view");
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    ASSERT_EQ(report->views.size(), 1u);
    EXPECT_EQ(report->views[0].name, "doubled");
    EXPECT_EQ(report->views[0].rows_failed_checks, 1u);
    EXPECT_EQ(report->views[0].check_warnings, 0u);  // id 5 was dead-lettered first
    EXPECT_EQ(report->dead_letters, 1u);
    auto out = read_file(dir_ + "/out/d.csv");
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, "id,twice\n4,80\n");
    ASSERT_EQ(report->sinks.size(), 2u);
    EXPECT_EQ(report->sinks[1].rows_written, 1u);
    auto letters = read_file(report->dead_letter_path);
    ASSERT_TRUE(letters.ok());
    EXPECT_NE(letters->find("\"view\":\"doubled\""), std::string::npos) << *letters;
}

TEST_F(BatchRunnerTest, AFailingViewCheckCommitsNoSink) {
    write("pipelines/view.yaml", R"(name: view
mode: batch
sources:
  b:
    file: { path: in/b.csv, format: csv }
    schema: { id: int64 not null, amount: double }
views:
  v: SELECT id, amount FROM b
checks:
  v:
    - not_null: [amount]
    - expect: "amount > 0"
      on_fail: fail
sinks:
  - { from: v, file: { path: out/v.csv, format: csv } }
)");
    auto report = run("view");
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.error().message().find("on view `v` failed (on_fail: fail)"),
              std::string::npos)
        << report.error().to_string();
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/v.csv"));
}

TEST_F(BatchRunnerTest, AViewCheckOnAnUnknownColumnPointsAtTheCheck) {
    write("pipelines/view.yaml", R"(name: view
mode: batch
sources:
  b:
    file: { path: in/b.csv, format: csv }
    schema: { id: int64 not null, amount: double }
views:
  v: SELECT id FROM b
checks:
  v:
    - not_null: [amount]
sinks:
  - { from: v, file: { path: out/v.csv, format: csv } }
)");
    auto report = run("view");
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.error().message().find("check not_null on view `v`: unknown column `amount`"),
              std::string::npos)
        << report.error().to_string();
    EXPECT_EQ(report.error().location().line, 11);
}

TEST(CommitCounter, GrowsAcrossCallsAndRefusesAGarbledFile) {
    const std::string dir = (std::filesystem::temp_directory_path() /
                             ("millrace-commit-counter-" + std::to_string(::getpid())))
                                .string();
    std::filesystem::remove_all(dir);
    EXPECT_EQ(next_commit_id(dir, "p").value(), 1u);
    EXPECT_EQ(next_commit_id(dir, "p").value(), 2u);
    EXPECT_EQ(next_commit_id(dir, "other").value(), 1u);
    EXPECT_EQ(next_commit_id(dir, "a/../b").value(), 1u) << "names cannot leave the folder";
    std::ofstream(dir + "/pipelines/p/commit_id") << "garbage";
    EXPECT_EQ(next_commit_id(dir, "p").error().code(), ErrorCode::kCorruption);
    std::filesystem::remove_all(dir);
}

TEST(CommitCounter, OneStreamingRunOfAPipelineAtATime) {
    const std::string dir = (std::filesystem::temp_directory_path() /
                             ("millrace-run-lock-" + std::to_string(::getpid())))
                                .string();
    std::filesystem::remove_all(dir);
    {
        Result<FileLock> first = lock_streaming_run(dir, "orders");
        ASSERT_TRUE(first.ok()) << first.error().to_string();
        Result<FileLock> second = lock_streaming_run(dir, "orders");
        ASSERT_FALSE(second.ok());
        EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
        EXPECT_NE(second.error().message().find("pipeline `orders` is already running on this "
                                                "data directory in process " +
                                                std::to_string(::getpid())),
                  std::string::npos)
            << second.error().message();
        EXPECT_TRUE(lock_streaming_run(dir, "other").ok()) << "another pipeline runs beside it";
    }
    EXPECT_TRUE(lock_streaming_run(dir, "orders").ok()) << "the lock goes with its run";
    std::filesystem::remove_all(dir);
}

// Every record of a source is accounted for: in = out + filtered + dead-lettered + late, each
// term counted where it happens; the dead letters are also in the pipeline's dead-letter topic.
TEST_F(BatchRunnerTest, RecordsInAddUpAndDeadLettersReachTheTopic) {
    write("in/bad.csv", "id,amount,status\n1,10,paid\n2,abc,paid\n3,-4,paid\n4,7,lost\nx,1,paid\n");
    write("pipelines/acct.yaml", R"(name: acct
mode: batch
sources:
  s:
    file: { path: in/bad.csv, format: csv }
    schema: { id: int64 not null, amount: double, status: string }
checks:
  s:
    - expect: "amount >= 0"
    - accepted_values: { column: status, values: [paid] }
      on_fail: drop
views:
  v: SELECT id FROM s
sinks:
  - { from: v, file: { path: out/v.csv, format: csv } }
)");
    auto report = run("acct");
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    ASSERT_EQ(report->sources.size(), 1u);
    const SourceReport& s = report->sources[0];
    EXPECT_EQ(s.records_in(), 5u);
    EXPECT_EQ(s.records_out(), 1u);
    EXPECT_EQ(s.records_filtered(), 1u);
    EXPECT_EQ(s.records_dead_lettered(), 3u);
    EXPECT_EQ(s.records_late(), 0u);
    EXPECT_TRUE(s.balanced());
    EXPECT_EQ(report->sinks[0].rows_written, s.records_out());
    EXPECT_EQ(report->dead_letter_topic, "dlq.acct");
    EXPECT_EQ(report->dead_letters_published, 3u);
    EXPECT_EQ(report->dead_letters, 3u);
}

}  // namespace
}  // namespace millrace
