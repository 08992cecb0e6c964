#include "scheduler/run_engine.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/event_loop.h"
#include "scheduler/http_tasks.h"
#include "scheduler/job_parser.h"
#include "scheduler/retry_backoff.h"
#include "scheduler/scheduler.h"

namespace millrace {

namespace {

constexpr int64_t kMicros = 1'000'000;

// The start time of a process (field 22 of /proc/<pid>/stat): with the pid, it identifies the
// process even after pid reuse. "" when the process does not exist.
std::string process_start(int64_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!in || !std::getline(in, text)) return "";
    const std::size_t paren = text.rfind(')');
    if (paren == std::string::npos) return "";
    std::size_t pos = paren + 2;
    for (int field = 3; field < 22 && pos < text.size(); ++field) {
        pos = text.find(' ', pos);
        if (pos == std::string::npos) return "";
        ++pos;
    }
    return text.substr(pos, text.find(' ', pos) - pos);
}

std::string safe_path_part(std::string text) {
    for (char& c : text) {
        if (c == ':' || c == '/' || c == ' ') c = '-';
    }
    return text;
}

}  // namespace

RunEngine::RunEngine(const Project& project, const JobMap& jobs, Settings settings,
                     const Clock& clock, EventLoop& loop, TaskRunner& runner,
                     WebhookSender& webhooks)
    : project_(project),
      jobs_(jobs),
      settings_(std::move(settings)),
      clock_(clock),
      loop_(loop),
      runner_(runner),
      webhooks_(webhooks),
      budgets_(jobs, settings_.backfill_max_active_runs) {
    self_pid_ = ::getpid();
    self_start_ = process_start(self_pid_);
}

Status RunEngine::open(const std::string& state_path) {
    std::error_code error;
    std::filesystem::create_directories(std::filesystem::path(state_path).parent_path(), error);
    std::filesystem::create_directories(settings_.log_dir, error);
    MILLRACE_ASSIGN_OR_RETURN(StateStore store, StateStore::open(state_path));
    store_ = std::make_unique<StateStore>(std::move(store));
    for (const auto& [name, job] : jobs_) {
        MILLRACE_TRY(store_->save_job_version(*job, clock_.now_micros()));
    }
    return {};
}

void RunEngine::emit(const std::string& line) const {
    if (settings_.on_event) settings_.on_event(line);
}

// --- state-store failures ---------------------------------------------------------------------

bool RunEngine::persist(Status status) {
    if (status.ok()) return true;
    fail(status.error());
    return false;
}

void RunEngine::fail(const Error& error) {
    if (failure_) return;
    Error stopped(error.code(),
                  "scheduling stopped: a state store write failed: " + error.message());
    failure_ = stopped;
    {
        std::lock_guard lock(health_mutex_);
        health_ = stopped;
    }
    emit(stopped.message());
    for (auto& [id, run] : runs_) {
        for (const RunWaiter& waiter : run->waiters) waiter->set_value(stopped);
        run->waiters.clear();
    }
    for (const RunWaiter& poller : pollers_) poller->set_value(stopped);
    pollers_.clear();
}

Status RunEngine::health() const {
    std::lock_guard lock(health_mutex_);
    if (health_) return *health_;
    return {};
}

// --- the loop's iterations --------------------------------------------------------------------

void RunEngine::begin_iteration() {
    runner_.begin_iteration();
    if (!failure_) persist(store_->begin());
}

void RunEngine::end_iteration() {
    if (!failure_) {
        budgets_.dispatch(
            [this](const std::string& id) -> ActiveRun* {
                auto it = runs_.find(id);
                return it == runs_.end() ? nullptr : it->second.get();
            },
            [this](ActiveRun& run, std::size_t i) { launch(run, i); });
    }
    if (persist(store_->commit())) start_launched();
    pending_starts_.clear();
    // After the commit: what the hooks do (files, fsyncs) must not hold the state store's
    // write transaction open.
    for (const RunRecord& run : started_hooks_) settings_.on_run_started(run);
    started_hooks_.clear();
    for (const RunSummary& summary : finished_hooks_) settings_.on_run_finished(summary);
    finished_hooks_.clear();
    for (auto& [waiter, summary] : finished_waiters_) waiter->set_value(summary);
    finished_waiters_.clear();
}

void RunEngine::drop_runs() {
    for (auto& [id, run] : runs_) {
        for (const RunWaiter& waiter : run->waiters) {
            waiter->set_value(Error(ErrorCode::kResourceExhausted,
                                    "the scheduler stopped before run " + id + " finished"));
        }
    }
    runs_.clear();
    for (const RunWaiter& poller : pollers_) {
        poller->set_value(
            Error(ErrorCode::kResourceExhausted, "the scheduler stopped while waiting"));
    }
    pollers_.clear();
}

// --- runs -------------------------------------------------------------------------------------

Result<std::string> RunEngine::submit(const std::string& job_name, int64_t start, int64_t end,
                                      const std::string& lane) {
    if (failure_) return *failure_;
    auto it = jobs_.find(job_name);
    if (it == jobs_.end()) {
        return Error(ErrorCode::kNotFound, "no job `" + job_name + "` in the project");
    }
    RunRecord record;
    record.run_id = Scheduler::run_id_for(job_name, start);
    record.job = job_name;
    record.version = it->second->version;
    record.interval_start = start;
    record.interval_end = end;
    record.lane = lane;
    record.state = RunState::kQueued;
    record.created_at = clock_.now_micros();
    record.owner_pid = self_pid_;
    record.owner_start = self_start_;
    Result<std::pair<StateStore::ClaimOutcome, RunRecord>> claimed = store_->claim_run(record);
    if (!claimed.ok()) {
        fail(claimed.error());
        return *failure_;
    }
    if (claimed->first == StateStore::ClaimOutcome::kExists) {
        const RunRecord& existing = claimed->second;
        const std::string state(to_string(existing.state));
        if (runs_.count(existing.run_id) || is_terminal(existing.state)) {
            return Error(ErrorCode::kAlreadyExists,
                         "run " + existing.run_id + " already exists (" + state + ")");
        }
        if (owner_alive(existing)) {
            return Error(ErrorCode::kAlreadyExists, "run " + existing.run_id + " is " + state +
                                                        " in scheduler process " +
                                                        std::to_string(existing.owner_pid));
        }
        MILLRACE_TRY(resume(existing, ResumeMode::kRerunFailed, ""));
        return existing.run_id;
    }
    auto run = std::make_unique<ActiveRun>();
    run->record = record;
    run->job = it->second;
    MILLRACE_TRY(init_run(*run));
    for (std::size_t i = 0; i < run->tasks.size(); ++i) {
        if (!save_task(*run, i)) return *failure_;
    }
    const std::string id = record.run_id;
    enqueue_run(std::move(run));
    return id;
}

bool RunEngine::owner_alive(const RunRecord& run) const {
    if (run.owner_pid == self_pid_ && run.owner_start == self_start_) return true;
    return !run.owner_start.empty() && process_start(run.owner_pid) == run.owner_start;
}

Status RunEngine::init_run(ActiveRun& run) {
    MILLRACE_ASSIGN_OR_RETURN(run.zone, TimeZone::load(run.job->timezone));
    run.tasks.clear();
    run.tasks.resize(run.job->tasks.size());
    for (std::size_t i = 0; i < run.tasks.size(); ++i) {
        run.tasks[i].waiting_upstream = static_cast<int>(run.job->tasks[i].upstream.size());
    }
    run.unfinished = run.tasks.size();
    return {};
}

void RunEngine::enqueue_run(std::unique_ptr<ActiveRun> run) {
    ActiveRun& held = *run;
    runs_[held.record.run_id] = std::move(run);
    budgets_.queue_run(
        held,
        [this](const std::string& id) -> ActiveRun* {
            auto it = runs_.find(id);
            return it == runs_.end() ? nullptr : it->second.get();
        },
        [this](ActiveRun& admitted) { start_run(admitted); });
}

void RunEngine::start_run(ActiveRun& run) {
    if (failure_) return;
    const int64_t now = clock_.now_micros();
    run.record.state = RunState::kRunning;
    if (run.record.started_at == 0) run.record.started_at = now;
    if (!persist(store_->update_run(run.record))) return;
    emit(fmt::format("run {} started ({} tasks, {})", run.record.run_id, run.tasks.size(),
                     run.record.lane));
    if (settings_.on_run_started) started_hooks_.push_back(run.record);
    for (std::size_t i = 0; i < run.tasks.size(); ++i) {
        TaskSlot& slot = run.tasks[i];
        if (slot.state == TaskState::kPending && slot.waiting_upstream == 0) make_ready(run, i);
        const TaskDefinition& task = run.job->tasks[i];
        if (task.sla && run.record.lane != "backfill" && !is_terminal(slot.state)) {
            const int64_t deadline =
                std::max(run.record.interval_end, run.record.created_at) + task.sla->count();
            const std::string id = run.record.run_id;
            loop_.add_timer(deadline, [this, id, i] { check_sla(id, i); });
        }
    }
    if (run.unfinished == 0) finish_run(run.record.run_id);
}

void RunEngine::make_ready(ActiveRun& run, std::size_t i) {
    TaskSlot& slot = run.tasks[i];
    if (slot.queued) return;
    slot.queued = true;
    slot.state = TaskState::kQueued;
    budgets_.push_ready(run, i);
}

// --- attempts ---------------------------------------------------------------------------------

std::string RunEngine::attempt_log_path(const ActiveRun& run, std::size_t i, int attempt) {
    const std::string dir = settings_.log_dir + "/" + run.record.job + "/" +
                            safe_path_part(format_utc_timestamp(run.record.interval_start));
    if (created_log_dirs_.insert(dir).second) {
        std::error_code error;
        std::filesystem::create_directories(dir, error);
    }
    return fmt::format("{}/{}.{}.log", dir, run.job->tasks[i].name, attempt);
}

void RunEngine::launch(ActiveRun& run, std::size_t i) {
    if (failure_) return;
    const TaskDefinition& task = run.job->tasks[i];
    TaskSlot& slot = run.tasks[i];
    ++slot.attempt;
    ++slot.generation;
    slot.state = TaskState::kRunning;
    slot.timed_out = false;
    slot.pid = 0;
    slot.started = clock_.now_micros();
    slot.finished = 0;
    slot.message.clear();
    slot.log_path = attempt_log_path(run, i, slot.attempt);
    // Stored before it starts, so a crash in between leaves an attempt recovery can see: the
    // process starts in start_launched(), after the loop turn's transaction has committed.
    if (!save_attempt(run, i, AttemptState::kRunning, 0)) return;
    PendingStart pending;
    pending.attempt.key = AttemptKey{run.record.run_id, i, slot.generation};
    pending.attempt.task = &task;
    pending.attempt.attempt = slot.attempt;
    pending.attempt.context.interval_start_micros = run.record.interval_start;
    pending.attempt.context.interval_end_micros = run.record.interval_end;
    pending.attempt.context.zone = &run.zone;
    pending.attempt.context.run_id = run.record.run_id;
    pending.attempt.context.project_dir = project_.root_dir;
    pending.attempt.log_path = slot.log_path;
    pending.started = slot.started;
    pending.timeout = task.timeout;
    pending_starts_.push_back(std::move(pending));
}

void RunEngine::start_launched() {
    if (pending_starts_.empty() || failure_) return;
    // An attempt may end inside start() (a command that cannot be rendered), and with it its
    // run; the runs of the others cannot end meanwhile, as their tasks are running. What those
    // endings store goes into one more transaction.
    if (!persist(store_->begin())) return;
    std::vector<PendingStart> pending;
    pending.swap(pending_starts_);
    for (const PendingStart& p : pending) {
        runner_.start(p.attempt);
        if (p.timeout) {
            loop_.add_timer(p.started + p.timeout->count(),
                            [this, key = p.attempt.key] { on_timeout(key); });
        }
    }
    persist(store_->commit());
}

ActiveRun* RunEngine::find_slot(const AttemptKey& key) {
    auto it = runs_.find(key.run_id);
    if (it == runs_.end()) return nullptr;
    const TaskSlot& slot = it->second->tasks[key.task];
    if (slot.generation != key.generation || slot.state != TaskState::kRunning) return nullptr;
    return it->second.get();
}

bool RunEngine::attempt_started(const AttemptKey& key, int64_t pid, int64_t started_at) {
    ActiveRun* run = find_slot(key);
    if (run == nullptr) return false;
    TaskSlot& slot = run->tasks[key.task];
    slot.pid = pid;
    slot.started = started_at;
    save_attempt(*run, key.task, AttemptState::kRunning, 0);
    return true;
}

void RunEngine::attempt_finished(const AttemptKey& key, int exit_code, const std::string& message) {
    ActiveRun* run = find_slot(key);
    if (run == nullptr) return;
    if (run->tasks[key.task].timed_out) {
        finish_attempt(key, 124,
                       "timed out after " +
                           std::to_string(run->job->tasks[key.task].timeout->count() / 1000) +
                           " ms; process group killed");
        return;
    }
    finish_attempt(key, exit_code, message);
}

void RunEngine::on_timeout(const AttemptKey& key) {
    ActiveRun* run = find_slot(key);
    if (run == nullptr) return;
    TaskSlot& slot = run->tasks[key.task];
    slot.timed_out = true;
    const std::string message = "timed out after " +
                                std::to_string(run->job->tasks[key.task].timeout->count() / 1000) +
                                " ms";
    append_log(slot.log_path, "millrace: " + message + "; killing process group");
    if (runner_.cancel(key)) return;  // its exit is reported; attempt_finished follows
    finish_attempt(key, 124, message);
}

// exit_code: 0 success, -2 skipped, else failure.
void RunEngine::finish_attempt(const AttemptKey& key, int exit_code, const std::string& message) {
    ActiveRun* run = find_slot(key);
    if (run == nullptr) return;
    const std::size_t i = key.task;
    const std::string& run_id = key.run_id;
    const TaskDefinition& task = run->job->tasks[i];
    TaskSlot& slot = run->tasks[i];
    slot.finished = clock_.now_micros();
    slot.message = message;
    budgets_.release_task(*run, i);
    if (exit_code == 0 || exit_code == -2) {
        slot.state = exit_code == 0 ? TaskState::kSuccess : TaskState::kSkipped;
        save_attempt(*run, i, exit_code == 0 ? AttemptState::kSuccess : AttemptState::kSkipped, 0);
        save_task(*run, i);
        if (slot.failed_before) {
            notify(*run, i, "recovery",
                   fmt::format("succeeded on attempt {} after failing", slot.attempt));
        }
        --run->unfinished;
        for (std::size_t d : task.downstream) {
            TaskSlot& down = run->tasks[d];
            if (--down.waiting_upstream == 0 && down.state == TaskState::kPending) {
                make_ready(*run, d);
            }
        }
    } else {
        slot.failed_before = true;
        save_attempt(*run, i, slot.timed_out ? AttemptState::kTimedOut : AttemptState::kFailed,
                     exit_code);
        if (slot.attempt - slot.first_attempt < task.retry.retries) {
            const auto delay = retry_delay(task.retry, run->job->name, task.name,
                                           run->record.interval_start, slot.attempt + 1);
            slot.state = TaskState::kUpForRetry;
            save_task(*run, i);
            emit(fmt::format("task {} of {} failed (attempt {}: {}); retrying in {} ms", task.name,
                             run_id, slot.attempt, message, delay.count() / 1000));
            loop_.add_timer(clock_.now_micros() + delay.count(), [this, key] {
                auto it = runs_.find(key.run_id);
                if (it == runs_.end()) return;
                TaskSlot& s = it->second->tasks[key.task];
                if (s.generation == key.generation && s.state == TaskState::kUpForRetry) {
                    make_ready(*it->second, key.task);
                }
            });
        } else {
            slot.state = TaskState::kFailed;
            save_task(*run, i);
            --run->unfinished;
            emit(fmt::format("task {} of {} failed after {} attempt(s): {}", task.name, run_id,
                             slot.attempt, message));
            notify(*run, i, "failure",
                   fmt::format("failed after {} attempt(s): {}", slot.attempt, message));
            mark_upstream_failed(*run, i);
        }
    }
    if (run->unfinished == 0) finish_run(run_id);
}

void RunEngine::mark_upstream_failed(ActiveRun& run, std::size_t failed) {
    std::vector<std::size_t> stack(run.job->tasks[failed].downstream);
    while (!stack.empty()) {
        const std::size_t d = stack.back();
        stack.pop_back();
        TaskSlot& slot = run.tasks[d];
        if (is_terminal(slot.state) || slot.state == TaskState::kRunning) continue;
        slot.state = TaskState::kUpstreamFailed;
        slot.message = "upstream task `" + run.job->tasks[failed].name + "` failed";
        save_task(run, d);
        --run.unfinished;
        for (std::size_t next : run.job->tasks[d].downstream) stack.push_back(next);
    }
}

void RunEngine::finish_run(const std::string& run_id) {
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    ActiveRun& run = *it->second;
    bool ok = true;
    for (const TaskSlot& slot : run.tasks) ok = ok && is_satisfied(slot.state);
    run.record.state = ok ? RunState::kSuccess : RunState::kFailed;
    run.record.finished_at = clock_.now_micros();
    persist(store_->update_run(run.record));
    emit(fmt::format("run {} {} in {:.3f} s", run_id, to_string(run.record.state),
                     double(run.record.finished_at - run.record.started_at) / kMicros));
    RunSummary summary;
    summary.run = run.record;
    for (std::size_t i = 0; i < run.tasks.size(); ++i) summary.tasks.push_back(task_record(run, i));
    if (settings_.on_run_finished) finished_hooks_.push_back(summary);
    for (auto& waiter : run.waiters) finished_waiters_.emplace_back(waiter, summary);
    if (run.record.lane == "backfill") {
        emit(fmt::format("backfill {}: {} run(s) done", run.record.job,
                         ++backfill_done_[run.record.job]));
    }
    std::unique_ptr<ActiveRun> finished = std::move(it->second);
    runs_.erase(it);
    budgets_.finish_run(
        *finished,
        [this](const std::string& id) -> ActiveRun* {
            auto found = runs_.find(id);
            return found == runs_.end() ? nullptr : found->second.get();
        },
        [this](ActiveRun& admitted) { start_run(admitted); });
}

void RunEngine::check_sla(const std::string& run_id, std::size_t i) {
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    TaskSlot& slot = it->second->tasks[i];
    if (is_satisfied(slot.state) || slot.sla_reported) return;
    slot.sla_reported = true;
    notify(*it->second, i, "sla_miss",
           "not done within its SLA of " +
               std::to_string(it->second->job->tasks[i].sla->count() / 1000) +
               " ms after the interval end (state " + std::string(to_string(slot.state)) + ")");
}

void RunEngine::notify(const ActiveRun& run, std::size_t i, const std::string& event,
                       const std::string& reason) {
    const TaskSlot& slot = run.tasks[i];
    emit(fmt::format("{}: task {} of {}: {}", event, run.job->tasks[i].name, run.record.run_id,
                     reason));
    if (run.job->webhooks.empty()) return;
    webhooks_.send(run.job->webhooks,
                   webhook_body(event, run.job->name, run.record.run_id, run.job->tasks[i].name,
                                slot.attempt, reason, slot.log_path));
}

}  // namespace millrace
