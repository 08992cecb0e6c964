#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_lock.h"
#include "common/result.h"
#include "scheduler/job_definition.h"
#include "scheduler/task_state.h"

namespace millrace {

/// One run of a job for one data interval. `run_id` is derived from (job, interval start), so
/// the same interval can never get two runs.
struct RunRecord {
    std::string run_id;
    std::string job;
    std::string version;         // the job definition version the run is pinned to
    int64_t interval_start = 0;  // UTC micros
    int64_t interval_end = 0;
    std::string lane;  // "scheduled", "manual" or "backfill"
    RunState state = RunState::kQueued;
    int64_t created_at = 0;
    int64_t started_at = 0;
    int64_t finished_at = 0;
    int64_t owner_pid = 0;    // the scheduler process that runs it
    std::string owner_start;  // that process's start time (/proc/<pid>/stat), against pid reuse
};

/// One task of one run.
struct TaskRecord {
    std::string run_id;
    std::string task;
    TaskState state = TaskState::kPending;
    int attempts = 0;
    int64_t started_at = 0;
    int64_t finished_at = 0;
    std::string log_path;
    std::string message;
};

/// One attempt of a task: the process (its pid is also its process group id), its timing, exit.
struct AttemptRecord {
    std::string run_id;
    std::string task;
    int attempt = 0;
    AttemptState state = AttemptState::kRunning;
    int64_t pid = 0;
    int64_t started_at = 0;
    int64_t finished_at = 0;
    int exit_code = 0;
    std::string log_path;
    std::string message;
};

/// A run's outcome with its tasks, as stored.
struct RunSummary {
    RunRecord run;
    std::vector<TaskRecord> tasks;
};

/// Scheduler state in SQLite (`<data_dir>/scheduler.db`, WAL mode): job definition versions,
/// runs, task instances and attempts. States are enums in memory (task_state.h) and their
/// to_string() text in the database, converted here only. The schema is created and upgraded by
/// numbered migrations recorded in `schema_migrations`; a database newer than this build is
/// refused.
///
///   schema_migrations(version PK, applied_at)
///   job_versions(job, version, file, source, created_at)          PK (job, version)
///   runs(run_id PK, job, version, interval_start, interval_end, lane, state, created_at,
///        started_at, finished_at, owner_pid, owner_start)         UNIQUE (job, interval_start)
///   task_instances(run_id, task, state, attempts, started_at, finished_at, log_path, message)
///                                                               PK (run_id, task)
///   attempts(run_id, task, attempt, state, pid, started_at, finished_at, exit_code, log_path,
///            message)                                           PK (run_id, task, attempt)
///
/// Several processes may open the same database (a `jobs serve` and a `jobs run`): claiming a
/// run is one IMMEDIATE transaction. Only one of them may fire schedules and triggers: it holds
/// the schedule lock (lock_schedules) for its lifetime. One StateStore object is used by one
/// thread at a time.
class StateStore {
public:
    static Result<StateStore> open(const std::string& path);

    /// Takes `<path>.schedules.lock` (FileLock) for a scheduler that fires schedules and
    /// triggers, so two `serve`/`jobs serve` processes on one data directory never both do.
    /// kUnavailable naming the holder's pid and command otherwise.
    static Result<FileLock> lock_schedules(const std::string& path, std::string_view command);
    StateStore(StateStore&&) noexcept;
    StateStore& operator=(StateStore&&) noexcept;
    ~StateStore();

    static constexpr int kSchemaVersion = 1;

    /// Groups the writes that follow into one transaction (the executor commits once per event
    /// loop iteration, not once per state change). claim_run() joins an open transaction.
    Status begin();
    Status commit();
    Result<int> schema_version();

    Status save_job_version(const JobDefinition& job, int64_t now);
    /// The source text of a stored job version; kNotFound when unknown.
    Result<std::string> job_version_source(const std::string& job, const std::string& version);

    enum class ClaimOutcome { kCreated, kExists };
    /// Inserts `run` unless a run with its id exists; returns which, and the stored record.
    Result<std::pair<ClaimOutcome, RunRecord>> claim_run(const RunRecord& run);
    /// Takes over a run (owner and state), e.g. when resuming after a crash.
    Status take_over_run(const std::string& run_id, int64_t owner_pid,
                         const std::string& owner_start, RunState state);
    Status update_run(const RunRecord& run);
    Result<std::optional<RunRecord>> find_run(const std::string& run_id);
    /// Newest first; job "" = all jobs.
    Result<std::vector<RunRecord>> list_runs(const std::string& job, int limit);
    Result<std::vector<RunRecord>> runs_in_state(RunState state);
    /// The greatest interval_end of the job's runs; nullopt when none.
    Result<std::optional<int64_t>> last_interval_end(const std::string& job);

    Status save_task(const TaskRecord& task);
    Result<std::vector<TaskRecord>> tasks_of_run(const std::string& run_id);
    Status save_attempt(const AttemptRecord& attempt);
    Result<std::vector<AttemptRecord>> attempts_of_run(const std::string& run_id);

private:
    struct Impl;
    explicit StateStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
