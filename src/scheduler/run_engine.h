#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "project/project.h"
#include "scheduler/active_run.h"
#include "scheduler/run_budgets.h"
#include "scheduler/run_recovery.h"
#include "scheduler/state_store.h"
#include "scheduler/task_runner.h"

namespace millrace {

class EventLoop;
class WebhookSender;

/// The scheduler's state machine: claims runs, admits them within their job's limits, starts
/// ready tasks through the TaskRunner, applies retries, timeouts, upstream failures and SLAs,
/// and persists every transition in the StateStore (one transaction per loop iteration).
///
/// A failed state-store write stops scheduling: the engine enters a failed state (health()),
/// reports it through `emit`, answers every waiter with the error, and from then on starts no
/// run and no task (submit and rerun return the error). Attempts already running finish; their
/// runs stay `running` in the store and the next scheduler start recovers them.
///
/// Threads: open() and recover() run before the event loop starts; everything else but health()
/// on the loop's thread.
class RunEngine final : public TaskReporter {
public:
    struct Settings {
        std::string log_dir;
        int backfill_max_active_runs = 1;
        std::function<void(const std::string&)> on_event;
        std::function<void(const RunRecord&)> on_run_started;
        std::function<void(const RunSummary&)> on_run_finished;
    };
    using JobMap = std::map<std::string, std::shared_ptr<const JobDefinition>>;

    RunEngine(const Project& project, const JobMap& jobs, Settings settings, const Clock& clock,
              EventLoop& loop, TaskRunner& runner, WebhookSender& webhooks);

    /// Opens the store (creating directories) and records the jobs' versions.
    Status open(const std::string& state_path);
    /// Resumes the runs whose scheduler process is gone. Before the loop starts.
    Status recover();

    void begin_iteration();
    void end_iteration();
    /// After the loop stopped: answers waiters and forgets the runs (their processes are the
    /// runner's to kill).
    void drop_runs();

    /// lane: "scheduled", "manual" or "backfill".
    Result<std::string> submit(const std::string& job, int64_t start, int64_t end,
                               const std::string& lane);
    /// Answers `waiter` when the run finishes (polling the store for a run another live
    /// scheduler process holds).
    void wait(const std::string& run_id, const RunWaiter& waiter);
    Status rerun(const std::string& run_id, const std::string& task);
    Result<std::optional<int64_t>> last_interval_end(const std::string& job);

    /// ok, or why scheduling stopped. Any thread.
    Status health() const;
    void emit(const std::string& line) const;

    bool attempt_started(const AttemptKey& key, int64_t pid, int64_t started_at) override;
    void attempt_finished(const AttemptKey& key, int exit_code,
                          const std::string& message) override;

private:
    bool persist(Status status);
    void fail(const Error& error);
    bool owner_alive(const RunRecord& run) const;
    Status init_run(ActiveRun& run);
    void enqueue_run(std::unique_ptr<ActiveRun> run);
    void start_run(ActiveRun& run);
    void make_ready(ActiveRun& run, std::size_t i);
    void launch(ActiveRun& run, std::size_t i);
    void start_launched();
    ActiveRun* find_slot(const AttemptKey& key);
    void on_timeout(const AttemptKey& key);
    void finish_attempt(const AttemptKey& key, int exit_code, const std::string& message);
    void mark_upstream_failed(ActiveRun& run, std::size_t failed);
    void finish_run(const std::string& run_id);
    void check_sla(const std::string& run_id, std::size_t i);
    void notify(const ActiveRun& run, std::size_t i, const std::string& event,
                const std::string& reason);
    std::string attempt_log_path(const ActiveRun& run, std::size_t i, int attempt);
    TaskRecord task_record(const ActiveRun& run, std::size_t i) const;
    bool save_task(const ActiveRun& run, std::size_t i);
    bool save_attempt(const ActiveRun& run, std::size_t i, AttemptState state, int exit_code);
    Result<RunSummary> summary_from_store(const std::string& run_id);
    Result<std::shared_ptr<const JobDefinition>> pinned_job(const RunRecord& record);
    Status resume(const RunRecord& record, ResumeMode mode, const std::string& task);

    const Project& project_;
    const JobMap& jobs_;
    Settings settings_;
    const Clock& clock_;
    EventLoop& loop_;
    TaskRunner& runner_;
    WebhookSender& webhooks_;
    std::unique_ptr<StateStore> store_;
    int64_t self_pid_ = 0;
    std::string self_start_;

    std::map<std::string, std::shared_ptr<const JobDefinition>> pinned_;
    std::map<std::string, std::unique_ptr<ActiveRun>> runs_;
    RunBudgets budgets_;
    std::set<RunWaiter> pollers_;
    std::vector<std::pair<RunWaiter, RunSummary>> finished_waiters_;
    // Runs started and finished in this loop turn, for the settings' hooks after its commit.
    std::vector<RunRecord> started_hooks_;
    std::vector<RunSummary> finished_hooks_;
    std::map<std::string, int> backfill_done_;
    std::set<std::string> created_log_dirs_;
    // Attempts launch() stored as running: started only once that transaction has committed.
    struct PendingStart {
        TaskAttempt attempt;
        int64_t started = 0;
        std::optional<std::chrono::microseconds> timeout;
    };
    std::vector<PendingStart> pending_starts_;

    std::optional<Error> failure_;  // loop thread
    mutable std::mutex health_mutex_;
    std::optional<Error> health_;  // a copy of failure_ for other threads
};

}  // namespace millrace
