// RunEngine's side of the state store: the records it writes, waiting on stored runs, and
// resuming runs (restart recovery, re-runs). The state machine is in run_engine.cpp.
#include "common/event_loop.h"
#include "scheduler/job_parser.h"
#include "scheduler/run_engine.h"

namespace millrace {

namespace {
// How often a waiter looks at a run another live scheduler process holds.
constexpr int64_t kPollOtherOwnerMicros = 200'000;
}  // namespace

TaskRecord RunEngine::task_record(const ActiveRun& run, std::size_t i) const {
    const TaskSlot& slot = run.tasks[i];
    TaskRecord t;
    t.run_id = run.record.run_id;
    t.task = run.job->tasks[i].name;
    t.state = slot.state;
    t.attempts = slot.attempt;
    t.started_at = slot.started;
    t.finished_at = slot.finished;
    t.log_path = slot.log_path;
    t.message = slot.message;
    return t;
}

bool RunEngine::save_task(const ActiveRun& run, std::size_t i) {
    return persist(store_->save_task(task_record(run, i)));
}

// A running attempt is stored with its task (its pid once the process started: recovery needs
// it); a finished one alone, keeping the pid for the history.
bool RunEngine::save_attempt(const ActiveRun& run, std::size_t i, AttemptState state,
                             int exit_code) {
    const TaskSlot& slot = run.tasks[i];
    AttemptRecord a;
    a.run_id = run.record.run_id;
    a.task = run.job->tasks[i].name;
    a.attempt = slot.attempt;
    a.state = state;
    a.pid = slot.pid;
    a.started_at = slot.started;
    a.finished_at = state == AttemptState::kRunning ? 0 : slot.finished;
    a.exit_code = exit_code;
    a.log_path = slot.log_path;
    a.message = slot.message;
    if (!persist(store_->save_attempt(a))) return false;
    if (state == AttemptState::kRunning) return save_task(run, i);
    return true;
}

Result<RunSummary> RunEngine::summary_from_store(const std::string& run_id) {
    MILLRACE_ASSIGN_OR_RETURN(std::optional<RunRecord> run, store_->find_run(run_id));
    if (!run) return Error(ErrorCode::kNotFound, "no run " + run_id);
    RunSummary summary;
    summary.run = *run;
    MILLRACE_ASSIGN_OR_RETURN(summary.tasks, store_->tasks_of_run(run_id));
    return summary;
}

Result<std::optional<int64_t>> RunEngine::last_interval_end(const std::string& job) {
    return store_->last_interval_end(job);
}

// A run active here gets a waiter; one active in another live scheduler process (a
// `jobs serve` beside a `jobs run`) is polled in the store until it finishes.
void RunEngine::wait(const std::string& run_id, const RunWaiter& waiter) {
    if (failure_) {
        pollers_.erase(waiter);
        waiter->set_value(*failure_);
        return;
    }
    if (auto it = runs_.find(run_id); it != runs_.end()) {
        it->second->waiters.push_back(waiter);
        pollers_.erase(waiter);
        return;
    }
    Result<RunSummary> summary = summary_from_store(run_id);
    if (summary.ok() && !is_terminal(summary->run.state) && owner_alive(summary->run) &&
        summary->run.owner_pid != self_pid_) {
        pollers_.insert(waiter);
        loop_.add_timer(clock_.now_micros() + kPollOtherOwnerMicros, [this, run_id, waiter] {
            if (pollers_.count(waiter)) wait(run_id, waiter);
        });
        return;
    }
    pollers_.erase(waiter);
    waiter->set_value(std::move(summary));
}

Result<std::shared_ptr<const JobDefinition>> RunEngine::pinned_job(const RunRecord& record) {
    auto it = jobs_.find(record.job);
    if (it != jobs_.end() && it->second->version == record.version) return it->second;
    auto key = record.job + "@" + record.version;
    if (auto p = pinned_.find(key); p != pinned_.end()) return p->second;
    MILLRACE_ASSIGN_OR_RETURN(std::string source,
                              store_->job_version_source(record.job, record.version));
    MILLRACE_ASSIGN_OR_RETURN(
        JobDefinition job,
        parse_job_text(source, "jobs/" + record.job + ".yaml@" + record.version, project_));
    auto shared = std::make_shared<const JobDefinition>(std::move(job));
    pinned_[key] = shared;
    return shared;
}

// Rebuilds an interrupted or finished run from the store and schedules what is left.
Status RunEngine::resume(const RunRecord& record, ResumeMode mode, const std::string& task) {
    MILLRACE_ASSIGN_OR_RETURN(std::shared_ptr<const JobDefinition> job, pinned_job(record));
    auto run = std::make_unique<ActiveRun>();
    run->record = record;
    run->job = job;
    MILLRACE_TRY(init_run(*run));
    if (Status rebuilt = rebuild_run_from_store(*run, *store_, mode, task, clock_,
                                                [this](const std::string& line) { emit(line); });
        !rebuilt.ok()) {
        // A read error names the one run; a write error stops scheduling.
        if (rebuilt.error().code() == ErrorCode::kIo) fail(rebuilt.error());
        return rebuilt;
    }
    for (std::size_t i = 0; i < run->tasks.size(); ++i) {
        if (run->tasks[i].state == TaskState::kFailed) mark_upstream_failed(*run, i);
    }
    for (std::size_t i = 0; i < run->tasks.size(); ++i) {
        if (!save_task(*run, i)) return *failure_;
    }
    if (!persist(store_->take_over_run(record.run_id, self_pid_, self_start_, RunState::kQueued))) {
        return *failure_;
    }
    run->record.owner_pid = self_pid_;
    run->record.owner_start = self_start_;
    run->record.state = RunState::kQueued;
    run->record.finished_at = 0;
    emit("resuming run " + record.run_id + " (job version " + record.version + ")");
    enqueue_run(std::move(run));
    return {};
}

Status RunEngine::recover() {
    MILLRACE_TRY(store_->begin());
    for (RunState state : {RunState::kRunning, RunState::kQueued}) {
        MILLRACE_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, store_->runs_in_state(state));
        for (const RunRecord& run : runs) {
            if (owner_alive(run)) continue;
            Status resumed = resume(run, ResumeMode::kRecover, "");
            if (failure_) return *failure_;
            if (!resumed.ok()) {
                emit("cannot resume " + run.run_id + ": " + resumed.error().to_string());
            }
        }
    }
    budgets_.dispatch(
        [this](const std::string& id) -> ActiveRun* {
            auto it = runs_.find(id);
            return it == runs_.end() ? nullptr : it->second.get();
        },
        [this](ActiveRun& run, std::size_t i) { launch(run, i); });
    MILLRACE_TRY(store_->commit());
    if (failure_) return *failure_;
    start_launched();
    if (failure_) return *failure_;
    return {};
}

Status RunEngine::rerun(const std::string& run_id, const std::string& task) {
    if (failure_) return *failure_;
    if (runs_.count(run_id)) {
        return Error(ErrorCode::kAlreadyExists, "run " + run_id + " is still active");
    }
    MILLRACE_ASSIGN_OR_RETURN(std::optional<RunRecord> record, store_->find_run(run_id));
    if (!record) return Error(ErrorCode::kNotFound, "no run " + run_id);
    if (!is_terminal(record->state) && owner_alive(*record)) {
        return Error(ErrorCode::kAlreadyExists, "run " + run_id + " is active in process " +
                                                    std::to_string(record->owner_pid));
    }
    if (!task.empty()) {
        MILLRACE_ASSIGN_OR_RETURN(auto job, pinned_job(*record));
        if (!job->find_task(task)) {
            return Error(ErrorCode::kNotFound,
                         "job `" + record->job + "` has no task `" + task + "`");
        }
    }
    return resume(*record, task.empty() ? ResumeMode::kRerunFailed : ResumeMode::kRerunTask, task);
}

}  // namespace millrace
