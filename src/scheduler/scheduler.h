#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "project/project.h"
#include "scheduler/job_definition.h"
#include "scheduler/state_store.h"
#include "scheduler/task_runner.h"

namespace millrace {

struct SchedulerOptions {
    /// The millrace executable a `pipeline` task runs (`millrace run <project> <pipeline>`);
    /// "" = this process's own executable.
    std::string millrace_binary;
    /// `<data_dir>/scheduler.db` and `<data_dir>/scheduler/logs` when empty.
    std::string state_path;
    std::string log_dir;
    /// Runs a backfill may have active per job: its own budget, apart from the job's
    /// max_active_runs, so backfills never starve scheduled runs.
    int backfill_max_active_runs = 1;
    /// Called on the scheduler thread with one line per notable event (run started, task
    /// failed, backfill progress...). Must not block.
    std::function<void(const std::string&)> on_event;
    /// Called on the scheduler thread when a run starts (also when a recovered run resumes)
    /// and when it finishes, e.g. to record lineage events and run metrics. Must not block
    /// for long.
    std::function<void(const RunRecord&)> on_run_started;
    std::function<void(const RunSummary&)> on_run_finished;
    /// Records ever appended to a log topic (the sum of its partitions' end offsets), nullopt
    /// for an unknown topic. Topic triggers poll it; without it they are reported and idle.
    std::function<std::optional<int64_t>(const std::string& topic)> topic_records;
    /// Recorded in the schedule lock (StateStore::lock_schedules) by enable_schedules().
    std::string process_command = "millrace";
};

/// The scheduler: runs jobs' DAGs with retries, timeouts, concurrency limits, SLAs and
/// webhooks, persisting every state change in a StateStore. The entry point for the CLI
/// (`millrace jobs ...`) and for `millrace serve`'s `/v1/jobs` API (src/server/jobs_handler.h).
///
/// Design: one event-loop thread (common/event_loop.h) owns every active run. It sleeps in
/// epoll on an eventfd (for commands posted by other threads) and on the pidfds of running task
/// processes, with a timeout to the earliest timer (retries, timeouts, sensor pokes, SLA
/// deadlines, cron ticks). A state transition pushes the tasks it makes ready; nothing rescans
/// all tasks. The parts, each in its own file:
///   - run_engine.h: the run and task state machines (task_state.h), limits (run_budgets.h)
///     and persistence;
///   - task_runner.h: how an attempt runs; process_runner.h spawns task processes (each in its
///     own process group, which a timeout kills), sends `http` tasks' requests and polls
///     `wait_for_file` sensors;
///   - triggers.h: cron schedules with catch-up, file and topic triggers;
///   - http_tasks.h: `http` task requests and webhooks;
///   - run_recovery.h: rebuilding a stored run after a restart or for a re-run.
///
/// Idempotence: a run's id is `<job>@<interval start>`; claiming it is a transaction in the
/// state store, so a run is never started twice, also across processes and restarts. On
/// start(), runs whose owning scheduler process is gone are taken over: task processes they
/// left behind are killed and those tasks retried or failed (the job's `on_orphan`), and each
/// run resumes with the job definition version it started with.
///
/// State-store failures: a write that fails stops scheduling (no run or task starts after it);
/// health() then returns the reason, waiters get it as their error, and submit_run()/rerun()
/// refuse with it. `millrace serve` shows it in /readyz and GET /v1/jobs.
///
/// Thread-safety: public methods may be called from any thread after start(); stop() (also
/// run by the destructor) kills running task processes, leaving their runs to be recovered.
class Scheduler {
public:
    /// `runner`: how task attempts run; nullptr = the real one (ProcessTaskRunner: processes,
    /// HTTP requests, file sensors). Tests pass a fake.
    Scheduler(const Project& project, std::vector<JobDefinition> jobs, SchedulerOptions options,
              const Clock& clock, std::unique_ptr<TaskRunner> runner = nullptr);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    /// Opens the state store, records job versions, recovers orphaned runs, starts the loop.
    Status start();
    void stop();

    /// `<job>@<interval start as RFC 3339>`.
    static std::string run_id_for(const std::string& job, int64_t interval_start_micros);

    enum class Lane { kScheduled, kManual, kBackfill };
    /// Starts (or queues, when the job is at its limit) a run of `job` for [start, end).
    /// kAlreadyExists when the interval has a run (finished, or active here or in another live
    /// scheduler); kNotFound for an unknown job.
    Result<std::string> submit_run(const std::string& job, int64_t interval_start,
                                   int64_t interval_end, Lane lane);
    /// Blocks until the run is finished.
    Result<RunSummary> wait_run(const std::string& run_id);
    /// Re-runs a finished run's failed and upstream-failed tasks and everything downstream of
    /// them, in the same run (same id, same pinned job version); `task` = "" for all failed
    /// tasks, else that task and its downstream.
    Status rerun(const std::string& run_id, const std::string& task);

    /// The data intervals [start, end) of a scheduled job whose end lies in (from, to].
    Result<std::vector<std::pair<int64_t, int64_t>>> intervals(const std::string& job, int64_t from,
                                                               int64_t to) const;
    /// The last complete interval at `now` of a scheduled job.
    Result<std::pair<int64_t, int64_t>> latest_interval(const std::string& job, int64_t now) const;

    /// Arms the cron schedules: catches up missed intervals (jobs with `catchup: true`; with
    /// catchup off only the latest missed one), then fires each interval as it ends; and
    /// starts polling the jobs' file triggers. Takes the schedule lock first: kUnavailable
    /// naming the other process when one already fires this state store's schedules.
    Status enable_schedules();
    /// Takes the schedule lock now (enable_schedules() does it too): a `serve` calls it before
    /// start(), so a second one refuses before it touches any run. kUnavailable naming the
    /// process that holds it.
    Status claim_schedules();

    const std::vector<JobDefinition>& jobs() const;

    /// ok while scheduling works; after a failed state-store write, why it stopped.
    Status health() const;

private:
    struct Parts;
    std::unique_ptr<Parts> parts_;
};

}  // namespace millrace
