#include "scheduler/state_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

namespace millrace {
namespace {

std::string temp_db(const char* name) {
    auto dir = std::filesystem::temp_directory_path() /
               ("millrace-state-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return (dir / "scheduler.db").string();
}

TEST(StateStore, MigratesAndClaimsRunsOnce) {
    const std::string path = temp_db("claim");
    {
        auto store = StateStore::open(path);
        ASSERT_TRUE(store.ok()) << store.error().to_string();
        EXPECT_EQ(*store->schema_version(), StateStore::kSchemaVersion);
        RunRecord run;
        run.run_id = "j@2026-11-23T00:00:00Z";
        run.job = "j";
        run.version = "v1";
        run.state = RunState::kQueued;
        auto first = store->claim_run(run);
        ASSERT_TRUE(first.ok());
        EXPECT_EQ(first->first, StateStore::ClaimOutcome::kCreated);
        run.version = "v2";
        auto second = store->claim_run(run);
        ASSERT_TRUE(second.ok());
        EXPECT_EQ(second->first, StateStore::ClaimOutcome::kExists);
        EXPECT_EQ(second->second.version, "v1");
        TaskRecord task{run.run_id, "a", TaskState::kSuccess, 1, 1, 2, "/log", ""};
        ASSERT_TRUE(store->save_task(task).ok());
        task.state = TaskState::kFailed;
        ASSERT_TRUE(store->save_task(task).ok());
        auto tasks = store->tasks_of_run(run.run_id);
        ASSERT_TRUE(tasks.ok());
        ASSERT_EQ(tasks->size(), 1u);
        EXPECT_EQ((*tasks)[0].state, TaskState::kFailed);
    }
    // Reopening applies no migration twice and keeps the data.
    auto store = StateStore::open(path);
    ASSERT_TRUE(store.ok());
    EXPECT_EQ(*store->schema_version(), 1);
    auto runs = store->list_runs("j", 10);
    ASSERT_TRUE(runs.ok());
    EXPECT_EQ(runs->size(), 1u);
    auto last = store->last_interval_end("j");
    ASSERT_TRUE(last.ok());
    EXPECT_TRUE(last->has_value());
    EXPECT_FALSE(store->last_interval_end("other")->has_value());
}

// A state no version writes (a newer build's database, or a damaged one) is reported, not
// read as some other state.
TEST(StateStore, AnUnknownStoredStateIsCorruption) {
    const std::string path = temp_db("unknown-state");
    auto store = StateStore::open(path);
    ASSERT_TRUE(store.ok());
    RunRecord run;
    run.run_id = "j@2026-11-23T00:00:00Z";
    run.job = "j";
    ASSERT_TRUE(store->claim_run(run).ok());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE runs SET state = 'paused'", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    auto found = store->find_run(run.run_id);
    ASSERT_FALSE(found.ok());
    EXPECT_EQ(found.error().code(), ErrorCode::kCorruption);
    EXPECT_NE(found.error().message().find("paused"), std::string::npos);
}

TEST(StateStore, OneProcessFiresSchedules) {
    const std::string path = temp_db("schedules");
    {
        auto first = StateStore::lock_schedules(path, "millrace jobs serve");
        ASSERT_TRUE(first.ok()) << first.error().to_string();
        auto second = StateStore::lock_schedules(path, "millrace serve");
        ASSERT_FALSE(second.ok());
        EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
        EXPECT_NE(second.error().message().find("process " + std::to_string(::getpid()) +
                                                " (millrace jobs serve)"),
                  std::string::npos)
            << second.error().message();
        // The database itself stays shared: a `jobs run` opens it beside the scheduler.
        EXPECT_TRUE(StateStore::open(path).ok());
    }
    EXPECT_TRUE(StateStore::lock_schedules(path, "millrace serve").ok());
}

}  // namespace
}  // namespace millrace
