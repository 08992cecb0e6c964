#include "scheduler/scheduler.h"

#include <fmt/format.h>
#include <glob.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <queue>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/json_string.h"
#include "net/http_client.h"
#include "scheduler/child_process.h"
#include "scheduler/cron_expression.h"
#include "scheduler/job_parser.h"
#include "scheduler/retry_backoff.h"
#include "scheduler/template.h"
#include "scheduler/time_zone.h"

namespace millrace {

namespace {

/// One request to a URL of the job's (an `http` task or a webhook): a connection of its own, and
/// no Millrace token from the environment, since the receiver is usually not Millrace.
Result<HttpReply> send_http_request(const std::string& method, const std::string& url,
                                    const std::string& body, std::string_view content_type,
                                    std::chrono::milliseconds timeout) {
    MILLRACE_ASSIGN_OR_RETURN(HttpEndpoint endpoint, HttpEndpoint::parse(url));
    HttpClient client(std::move(endpoint.server), timeout, {}, /*send_environment_token=*/false);
    return client.request(method, endpoint.target, body, content_type);
}

constexpr int64_t kMicros = 1'000'000;
constexpr std::size_t kWebhookQueueLimit = 1000;
constexpr std::size_t kLogTailBytes = 2048;
// Two: the machines we target have few cores, and a spawn mostly waits on the kernel.
constexpr int kSpawnThreads = 2;

bool terminal(const std::string& state) {
    return state == "success" || state == "failed" || state == "upstream_failed" ||
           state == "skipped";
}
bool satisfied(const std::string& state) { return state == "success" || state == "skipped"; }

std::string lane_name(Scheduler::Lane lane) {
    switch (lane) {
        case Scheduler::Lane::kScheduled:
            return "scheduled";
        case Scheduler::Lane::kManual:
            return "manual";
        case Scheduler::Lane::kBackfill:
            return "backfill";
    }
    return "manual";
}

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

std::string self_executable() {
    std::error_code error;
    auto path = std::filesystem::read_symlink("/proc/self/exe", error);
    return error ? std::string("millrace") : path.string();
}

std::string log_tail(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return "";
    const std::streamoff size = in.tellg();
    const std::streamoff start = std::max<std::streamoff>(0, size - std::streamoff(kLogTailBytes));
    in.seekg(start);
    std::string text(static_cast<std::size_t>(size - start), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    return text;
}

void append_log(const std::string& path, const std::string& line) {
    std::ofstream out(path, std::ios::app);
    out << line << '\n';
}

std::string safe_path_part(std::string text) {
    for (char& c : text) {
        if (c == ':' || c == '/' || c == ' ') c = '-';
    }
    return text;
}

struct Timer {
    int64_t deadline;
    uint64_t sequence;
    std::function<void()> action;
    bool operator>(const Timer& other) const {
        return deadline != other.deadline ? deadline > other.deadline : sequence > other.sequence;
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------------

class Scheduler::Loop {
public:
    Loop(const Project& project, std::vector<JobDefinition> jobs, SchedulerOptions options,
         const Clock& clock)
        : project_(project), options_(std::move(options)), clock_(clock) {
        for (JobDefinition& job : jobs) {
            auto shared = std::make_shared<const JobDefinition>(std::move(job));
            jobs_.push_back(*shared);
            current_[shared->name] = shared;
        }
        if (options_.millrace_binary.empty()) options_.millrace_binary = self_executable();
        if (options_.state_path.empty()) options_.state_path = project_.data_dir + "/scheduler.db";
        if (options_.log_dir.empty()) options_.log_dir = project_.data_dir + "/scheduler/logs";
        self_pid_ = ::getpid();
        self_start_ = process_start(self_pid_);
    }

    ~Loop() { stop(); }

    const std::vector<JobDefinition>& jobs() const { return jobs_; }

    Status start() {
        std::error_code error;
        std::filesystem::create_directories(
            std::filesystem::path(options_.state_path).parent_path(), error);
        std::filesystem::create_directories(options_.log_dir, error);
        MILLRACE_ASSIGN_OR_RETURN(StateStore store, StateStore::open(options_.state_path));
        store_ = std::make_unique<StateStore>(std::move(store));
        for (const auto& [name, job] : current_) {
            MILLRACE_TRY(store_->save_job_version(*job, clock_.now_micros()));
        }
        event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (event_fd_ < 0 || epoll_fd_ < 0) return Error(ErrorCode::kIo, "eventfd/epoll failed");
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = event_fd_;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &event);
        MILLRACE_TRY(recover());
        running_ = true;
        thread_ = std::thread([this] { run_loop(); });
        for (int i = 0; i < kSpawnThreads; ++i) spawners_.emplace_back([this] { run_spawner(); });
        webhook_thread_ = std::thread([this] { run_webhooks(); });
        return {};
    }

    void stop() {
        if (!running_.exchange(false)) return;
        wake();
        if (thread_.joinable()) thread_.join();
        {
            std::lock_guard lock(spawn_mutex_);
            spawners_stopping_ = true;
        }
        spawn_cv_.notify_all();
        for (std::thread& t : spawners_) t.join();
        // Processes spawned while the loop was stopping: on_spawned() finds no run and kills
        // them.
        std::deque<std::function<void()>> late;
        {
            std::lock_guard lock(mutex_);
            late.swap(commands_);
        }
        for (auto& command : late) command();
        {
            std::lock_guard lock(webhook_mutex_);
            webhooks_stopping_ = true;
        }
        webhook_cv_.notify_all();
        if (webhook_thread_.joinable()) webhook_thread_.join();
        for (auto& [id, t] : http_threads_) {
            if (t.joinable()) t.join();
        }
        http_threads_.clear();
        if (epoll_fd_ >= 0) ::close(epoll_fd_);
        if (event_fd_ >= 0) ::close(event_fd_);
        epoll_fd_ = event_fd_ = -1;
    }

    // --- commands from other threads -----------------------------------------------------

    template <typename T>
    T call(std::function<T()> fn) {
        auto promise = std::make_shared<std::promise<T>>();
        auto future = promise->get_future();
        post([promise, fn = std::move(fn)] { promise->set_value(fn()); });
        return future.get();
    }

    void post(std::function<void()> fn) {
        {
            std::lock_guard lock(mutex_);
            commands_.push_back(std::move(fn));
        }
        wake();
    }

    Result<std::string> submit(const std::string& job, int64_t start, int64_t end, Lane lane) {
        return call<Result<std::string>>([=, this] { return submit_now(job, start, end, lane); });
    }

    Result<RunSummary> wait(const std::string& run_id) {
        auto promise = std::make_shared<std::promise<Result<RunSummary>>>();
        auto future = promise->get_future();
        post([this, run_id, promise] { wait_or_poll(run_id, promise); });
        return future.get();
    }

    // A run active here gets a waiter; one active in another live scheduler process (a
    // `jobs serve` beside a `jobs run`) is polled in the store every 200 ms until it finishes.
    void wait_or_poll(const std::string& run_id,
                      const std::shared_ptr<std::promise<Result<RunSummary>>>& promise) {
        if (runs_.count(run_id)) {
            runs_[run_id]->waiters.push_back(promise);
            pollers_.erase(promise);
            return;
        }
        Result<RunSummary> summary = summary_from_store(run_id);
        if (summary.ok() && !terminal(summary->run.state) && owner_alive(summary->run) &&
            summary->run.owner_pid != self_pid_) {
            pollers_.insert(promise);
            add_timer(clock_.now_micros() + 200'000,
                      [this, run_id, promise] { wait_or_poll(run_id, promise); });
            return;
        }
        pollers_.erase(promise);
        promise->set_value(std::move(summary));
    }

    Status rerun(const std::string& run_id, const std::string& task) {
        return call<Status>([=, this] { return rerun_now(run_id, task); });
    }

    Status claim_schedules() {
        if (schedules_lock_) return {};
        std::error_code error;
        std::filesystem::create_directories(
            std::filesystem::path(options_.state_path).parent_path(), error);
        MILLRACE_ASSIGN_OR_RETURN(
            FileLock lock,
            StateStore::lock_schedules(options_.state_path, options_.process_command));
        schedules_lock_ = std::move(lock);
        return {};
    }

    Status enable_schedules() {
        MILLRACE_TRY(claim_schedules());
        return call<Status>([this]() -> Status {
            for (const auto& [name, job] : current_) {
                if (job->schedule.empty()) continue;
                MILLRACE_TRY(catch_up(*job));
                arm_cron(job->name, clock_.now_micros());
            }
            for (const auto& [name, job] : current_) {
                for (std::size_t t = 0; t < job->topic_triggers.size(); ++t) {
                    const TopicTrigger& trigger = job->topic_triggers[t];
                    if (!options_.topic_records) {
                        emit("topic trigger of " + name + " on `" + trigger.topic +
                             "` is idle: it needs the embedded log (run `millrace serve`)");
                        continue;
                    }
                    auto baseline = std::make_shared<int64_t>(
                        options_.topic_records(trigger.topic).value_or(0));
                    poll_topic_trigger(name, t, baseline);
                }
            }
            for (const auto& [name, job] : current_) {
                for (std::size_t t = 0; t < job->file_triggers.size(); ++t) {
                    auto seen = std::make_shared<std::set<std::string>>(
                        glob_paths(job->file_triggers[t].pattern));
                    poll_file_trigger(name, t, seen);
                }
            }
            return {};
        });
    }

    Result<std::vector<std::pair<int64_t, int64_t>>> intervals(const std::string& job_name,
                                                               int64_t from, int64_t to) const {
        auto it = current_.find(job_name);
        if (it == current_.end()) return Error(ErrorCode::kNotFound, "no job `" + job_name + "`");
        const JobDefinition& job = *it->second;
        if (job.schedule.empty()) {
            return Error(ErrorCode::kInvalidArgument,
                         "job `" + job.name + "` has no schedule, so no intervals");
        }
        MILLRACE_ASSIGN_OR_RETURN(CronExpression cron, CronExpression::parse(job.schedule));
        MILLRACE_ASSIGN_OR_RETURN(TimeZone zone, TimeZone::load(job.timezone));
        std::vector<std::pair<int64_t, int64_t>> out;
        std::optional<int64_t> previous = cron.last_at_or_before(from, zone, 400 * 86400 * kMicros);
        std::optional<int64_t> t = cron.next_after(from, zone);
        if (!previous) previous = t;
        while (t && *t <= to && out.size() < 100000) {
            if (*previous < *t) out.emplace_back(*previous, *t);
            previous = t;
            t = cron.next_after(*t, zone);
        }
        return out;
    }

    Result<std::pair<int64_t, int64_t>> latest_interval(const std::string& job_name,
                                                        int64_t now) const {
        auto it = current_.find(job_name);
        if (it == current_.end()) return Error(ErrorCode::kNotFound, "no job `" + job_name + "`");
        const JobDefinition& job = *it->second;
        if (job.schedule.empty()) return std::make_pair(now, now);
        MILLRACE_ASSIGN_OR_RETURN(CronExpression cron, CronExpression::parse(job.schedule));
        MILLRACE_ASSIGN_OR_RETURN(TimeZone zone, TimeZone::load(job.timezone));
        std::optional<int64_t> end = cron.last_at_or_before(now, zone, 400 * 86400 * kMicros);
        if (!end) return Error(ErrorCode::kNotFound, "job `" + job.name + "` never fired yet");
        std::optional<int64_t> start =
            cron.last_at_or_before(*end - 1, zone, 400 * 86400 * kMicros);
        return std::make_pair(start.value_or(*end), *end);
    }

private:
    struct TaskSlot {
        std::string state = "pending";
        int attempt = 0;
        int first_attempt = 1;  // retries count from here (a re-run gets a fresh budget)
        int waiting_upstream = 0;
        std::optional<ChildProcess> process;
        int64_t started = 0;
        int64_t finished = 0;
        std::string log_path;
        std::string message;
        uint64_t generation = 0;  // bumps per attempt; stale timers compare it
        bool timed_out = false;
        bool failed_before = false;
        bool sla_reported = false;
        bool queued = false;
    };

    struct ActiveRun {
        RunRecord record;
        std::shared_ptr<const JobDefinition> job;
        TimeZone zone = TimeZone::utc();
        std::vector<TaskSlot> tasks;
        std::size_t unfinished = 0;
        bool admitted = false;
        std::vector<std::shared_ptr<std::promise<Result<RunSummary>>>> waiters;
    };

    struct ReadyTask {
        std::string run_id;
        std::size_t task;
    };

    struct SpawnJob {
        std::string run_id;
        std::size_t task = 0;
        uint64_t generation = 0;
        ChildProcess::Options options;
    };

    // Concurrency accounting: per job and lane class (backfill or not), and per pool.
    struct Budget {
        int active_runs = 0;
        int active_tasks = 0;
        std::deque<std::string> waiting_runs;
        std::deque<ReadyTask> ready;
    };

    static std::string budget_key(const std::string& job, const std::string& lane) {
        return job + (lane == "backfill" ? "/backfill" : "/live");
    }

    void emit(const std::string& line) {
        if (options_.on_event) options_.on_event(line);
    }

    void wake() {
        if (event_fd_ < 0) return;
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof(one));
    }

    void add_timer(int64_t deadline, std::function<void()> action) {
        timers_.push(Timer{deadline, next_sequence_++, std::move(action)});
    }

    // --- the loop ------------------------------------------------------------------------

    void run_loop() {
        std::vector<epoll_event> events(256);
        while (running_) {
            int timeout_ms = 1000;
            if (!timers_.empty()) {
                const int64_t wait = timers_.top().deadline - clock_.now_micros();
                timeout_ms = static_cast<int>(std::clamp<int64_t>((wait + 999) / 1000, 0, 1000));
            }
            const int n =
                ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
            (void)store_->begin();
            launches_this_iteration_ = 0;
            for (int i = 0; i < n; ++i) {
                const int fd = events[static_cast<std::size_t>(i)].data.fd;
                if (fd == event_fd_) {
                    uint64_t value = 0;
                    [[maybe_unused]] ssize_t r = ::read(event_fd_, &value, sizeof(value));
                    continue;
                }
                on_process_exit(fd);
            }
            std::deque<std::function<void()>> commands;
            {
                std::lock_guard lock(mutex_);
                commands.swap(commands_);
            }
            for (auto& command : commands) command();
            const int64_t now = clock_.now_micros();
            while (!timers_.empty() && timers_.top().deadline <= now) {
                Timer timer = timers_.top();
                timers_.pop();
                timer.action();
            }
            dispatch();
            (void)store_->commit();
            for (auto& [promise, summary] : finished_waiters_) promise->set_value(summary);
            finished_waiters_.clear();
        }
        // Stopping: kill task processes; their runs stay `running` and are recovered by the
        // next scheduler start (orphan policy).
        for (auto& [id, run] : runs_) {
            for (TaskSlot& slot : run->tasks) {
                if (slot.process) {
                    slot.process->kill_group();
                    slot.process->reap();
                }
            }
            for (auto& waiter : run->waiters) {
                waiter->set_value(Error(ErrorCode::kResourceExhausted,
                                        "the scheduler stopped before run " + id + " finished"));
            }
        }
        runs_.clear();
        for (const auto& promise : pollers_) {
            promise->set_value(
                Error(ErrorCode::kResourceExhausted, "the scheduler stopped while waiting"));
        }
        pollers_.clear();
    }

    // --- runs ----------------------------------------------------------------------------

    Result<std::string> submit_now(const std::string& job_name, int64_t start, int64_t end,
                                   Lane lane) {
        auto it = current_.find(job_name);
        if (it == current_.end()) {
            return Error(ErrorCode::kNotFound, "no job `" + job_name + "` in the project");
        }
        RunRecord record;
        record.run_id = run_id_for(job_name, start);
        record.job = job_name;
        record.version = it->second->version;
        record.interval_start = start;
        record.interval_end = end;
        record.lane = lane_name(lane);
        record.state = "queued";
        record.created_at = clock_.now_micros();
        record.owner_pid = self_pid_;
        record.owner_start = self_start_;
        MILLRACE_ASSIGN_OR_RETURN(auto claimed, store_->claim_run(record));
        if (claimed.first == StateStore::ClaimOutcome::kExists) {
            const RunRecord& existing = claimed.second;
            if (runs_.count(existing.run_id) || terminal(existing.state)) {
                return Error(ErrorCode::kAlreadyExists,
                             "run " + existing.run_id + " already exists (" + existing.state + ")");
            }
            if (owner_alive(existing)) {
                return Error(ErrorCode::kAlreadyExists,
                             "run " + existing.run_id + " is " + existing.state +
                                 " in scheduler process " + std::to_string(existing.owner_pid));
            }
            MILLRACE_TRY(resume(existing, ""));
            return existing.run_id;
        }
        auto run = std::make_unique<ActiveRun>();
        run->record = record;
        run->job = it->second;
        MILLRACE_TRY(init_run(*run));
        for (std::size_t i = 0; i < run->tasks.size(); ++i) save_task(*run, i);
        const std::string id = record.run_id;
        enqueue_run(std::move(run));
        return id;
    }

    bool owner_alive(const RunRecord& run) const {
        if (run.owner_pid == self_pid_ && run.owner_start == self_start_) return true;
        return !run.owner_start.empty() && process_start(run.owner_pid) == run.owner_start;
    }

    Status init_run(ActiveRun& run) {
        MILLRACE_ASSIGN_OR_RETURN(run.zone, TimeZone::load(run.job->timezone));
        run.tasks.clear();
        run.tasks.resize(run.job->tasks.size());
        for (std::size_t i = 0; i < run.tasks.size(); ++i) {
            run.tasks[i].waiting_upstream = static_cast<int>(run.job->tasks[i].upstream.size());
        }
        run.unfinished = run.tasks.size();
        return {};
    }

    void enqueue_run(std::unique_ptr<ActiveRun> run) {
        const std::string id = run->record.run_id;
        Budget& budget = budgets_[budget_key(run->record.job, run->record.lane)];
        runs_[id] = std::move(run);
        budget.waiting_runs.push_back(id);
        admit_runs(budget_key(runs_[id]->record.job, runs_[id]->record.lane));
    }

    int run_limit(const ActiveRun& run) const {
        return run.record.lane == "backfill" ? options_.backfill_max_active_runs
                                             : run.job->max_active_runs;
    }

    void admit_runs(const std::string& key) {
        Budget& budget = budgets_[key];
        while (!budget.waiting_runs.empty()) {
            auto it = runs_.find(budget.waiting_runs.front());
            if (it == runs_.end()) {
                budget.waiting_runs.pop_front();
                continue;
            }
            ActiveRun& run = *it->second;
            if (budget.active_runs >= run_limit(run)) break;
            budget.waiting_runs.pop_front();
            ++budget.active_runs;
            run.admitted = true;
            start_run(run);
        }
    }

    void start_run(ActiveRun& run) {
        const int64_t now = clock_.now_micros();
        run.record.state = "running";
        if (run.record.started_at == 0) run.record.started_at = now;
        (void)store_->update_run(run.record);
        emit(fmt::format("run {} started ({} tasks, {})", run.record.run_id, run.tasks.size(),
                         run.record.lane));
        for (std::size_t i = 0; i < run.tasks.size(); ++i) {
            TaskSlot& slot = run.tasks[i];
            if (slot.state == "pending" && slot.waiting_upstream == 0) make_ready(run, i);
            const TaskDefinition& task = run.job->tasks[i];
            if (task.sla && run.record.lane != "backfill" && !terminal(slot.state)) {
                const int64_t deadline =
                    std::max(run.record.interval_end, run.record.created_at) + task.sla->count();
                const std::string id = run.record.run_id;
                add_timer(deadline, [this, id, i] { check_sla(id, i); });
            }
        }
        if (run.unfinished == 0) finish_run(run.record.run_id);
    }

    void make_ready(ActiveRun& run, std::size_t i) {
        TaskSlot& slot = run.tasks[i];
        if (slot.queued) return;
        slot.queued = true;
        slot.state = "queued";
        budgets_[budget_key(run.record.job, run.record.lane)].ready.push_back(
            ReadyTask{run.record.run_id, i});
        dirty_budgets_.insert(budget_key(run.record.job, run.record.lane));
    }

    // Starts ready tasks while their job and pool have room. Only budgets that changed since
    // the last call are looked at.
    void dispatch() {
        while (!dirty_budgets_.empty()) {
            const std::string key = *dirty_budgets_.begin();
            dirty_budgets_.erase(dirty_budgets_.begin());
            Budget& budget = budgets_[key];
            std::size_t blocked = 0;
            while (budget.ready.size() > blocked) {
                ReadyTask ready = budget.ready[blocked];
                auto it = runs_.find(ready.run_id);
                if (it == runs_.end()) {
                    budget.ready.erase(budget.ready.begin() + static_cast<std::ptrdiff_t>(blocked));
                    continue;
                }
                ActiveRun& run = *it->second;
                if (budget.active_tasks >= run.job->max_active_tasks) break;
                const TaskDefinition& task = run.job->tasks[ready.task];
                if (!task.pool.empty() && !pool_has_room(task.pool)) {
                    ++blocked;  // another task of this budget may use another pool
                    continue;
                }
                budget.ready.erase(budget.ready.begin() + static_cast<std::ptrdiff_t>(blocked));
                ++budget.active_tasks;
                if (!task.pool.empty()) ++pool_used_[task.pool];
                run.tasks[ready.task].queued = false;
                launch(run, ready.task);
            }
        }
    }

    bool pool_has_room(const std::string& pool) {
        int size = 0;
        for (const auto& [name, job] : current_) {
            if (auto it = job->pools.find(pool); it != job->pools.end()) {
                size = std::max(size, it->second);
            }
        }
        if (size == 0) size = 1;  // a pool no job sizes: one slot
        return pool_used_[pool] < size;
    }

    void release(ActiveRun& run, std::size_t i) {
        const std::string key = budget_key(run.record.job, run.record.lane);
        --budgets_[key].active_tasks;
        dirty_budgets_.insert(key);
        const std::string& pool = run.job->tasks[i].pool;
        if (!pool.empty()) {
            --pool_used_[pool];
            // Other budgets may wait for this pool.
            for (auto& [other, budget] : budgets_) {
                if (!budget.ready.empty()) dirty_budgets_.insert(other);
            }
        }
    }

    // --- attempts ------------------------------------------------------------------------

    std::string attempt_log_path(const ActiveRun& run, std::size_t i, int attempt) {
        const std::string dir = options_.log_dir + "/" + run.record.job + "/" +
                                safe_path_part(format_utc_timestamp(run.record.interval_start));
        if (created_log_dirs_.insert(dir).second) {
            std::error_code error;
            std::filesystem::create_directories(dir, error);
        }
        return fmt::format("{}/{}.{}.log", dir, run.job->tasks[i].name, attempt);
    }

    TemplateContext template_context(const ActiveRun& run) const {
        TemplateContext context;
        context.interval_start_micros = run.record.interval_start;
        context.interval_end_micros = run.record.interval_end;
        context.zone = &run.zone;
        context.run_id = run.record.run_id;
        context.project_dir = project_.root_dir;
        return context;
    }

    void launch(ActiveRun& run, std::size_t i) {
        const TaskDefinition& task = run.job->tasks[i];
        TaskSlot& slot = run.tasks[i];
        ++slot.attempt;
        ++slot.generation;
        slot.state = "running";
        slot.timed_out = false;
        slot.started = clock_.now_micros();
        slot.finished = 0;
        slot.message.clear();
        slot.log_path = attempt_log_path(run, i, slot.attempt);
        const std::string run_id = run.record.run_id;
        const int attempt = slot.attempt;
        const uint64_t generation = slot.generation;
        auto fail_now = [&](const std::string& message) {
            append_log(slot.log_path, message);
            save_attempt(run, i, 0);
            finish_attempt(run_id, i, generation, 1, message);
        };
        if (options_.fake_runner) {
            FakeTaskOutcome outcome = options_.fake_runner(task, attempt);
            save_attempt(run, i, 0);
            add_timer(clock_.now_micros(), [this, run_id, i, generation, outcome] {
                finish_attempt(run_id, i, generation, outcome.exit_code, outcome.message);
            });
            return;
        }
        const TemplateContext context = template_context(run);
        switch (task.kind) {
            case TaskKind::kShell:
            case TaskKind::kPipeline:
            case TaskKind::kMaterialize:
            case TaskKind::kCompact: {
                ChildProcess::Options spawn;
                if (task.kind == TaskKind::kMaterialize) {
                    // `millrace materialize` in a child process; under `millrace serve` it
                    // finds the store held and asks the server to do the loading.
                    spawn.argv = {options_.millrace_binary, "materialize", project_.root_dir,
                                  task.target};
                    spawn.cwd = project_.root_dir;
                } else if (task.kind == TaskKind::kCompact) {
                    // `millrace lake compact` in a child process, like a pipeline run.
                    spawn.argv = {options_.millrace_binary, "lake", "compact", task.target, "-p",
                                  project_.root_dir};
                    spawn.cwd = project_.root_dir;
                } else if (task.kind == TaskKind::kShell) {
                    Result<std::string> command = render_template(task.command, context);
                    if (!command.ok()) return fail_now(command.error().message());
                    spawn.argv = {"/bin/sh", "-c", *command};
                    for (const auto& [name, value] : task.env) {
                        Result<std::string> rendered = render_template(value, context);
                        if (!rendered.ok()) return fail_now(rendered.error().message());
                        spawn.env[name] = *rendered;
                    }
                    spawn.cwd = task.cwd.empty() ? project_.root_dir : task.cwd;
                } else {
                    // The run's interval reaches the pipeline as variables of its file paths
                    // (`incoming/sales_{{ ds_nodash }}.csv` reads that day's file only).
                    spawn.argv = {options_.millrace_binary, "run", project_.root_dir,
                                  task.pipeline};
                    for (const char* name :
                         {"ds", "ds_nodash", "data_interval_start", "data_interval_end"}) {
                        Result<std::string> value =
                            render_template(fmt::format("{{{{ {} }}}}", name), context);
                        if (!value.ok()) return fail_now(value.error().message());
                        spawn.argv.push_back("--var");
                        spawn.argv.push_back(fmt::format("{}={}", name, *value));
                    }
                    spawn.argv.push_back("--var");
                    spawn.argv.push_back("run_id=" + run_id);
                    spawn.cwd = project_.root_dir;
                }
                spawn.env["MILLRACE_RUN_ID"] = run_id;
                spawn.env["MILLRACE_DS"] = render_template("{{ ds }}", context).value();
                spawn.env["MILLRACE_DATA_INTERVAL_START"] =
                    render_template("{{ data_interval_start }}", context).value();
                spawn.env["MILLRACE_DATA_INTERVAL_END"] =
                    render_template("{{ data_interval_end }}", context).value();
                spawn.log_path = slot.log_path;
                save_attempt(run, i, 0);
                if (launches_this_iteration_++ == 0) {
                    // The first start of a loop iteration happens here, without a thread hop
                    // (the latency of a hand-off); a burst goes to the spawner threads too.
                    Result<ChildProcess> child = ChildProcess::spawn(spawn);
                    on_spawned(run_id, i, generation, std::move(child), clock_.now_micros());
                    break;
                }
                {
                    std::lock_guard lock(spawn_mutex_);
                    spawn_queue_.push_back(SpawnJob{run_id, i, generation, std::move(spawn)});
                }
                spawn_cv_.notify_one();
                break;
            }
            case TaskKind::kHttp: {
                Result<std::string> url = render_template(task.url, context);
                Result<std::string> body = render_template(task.body, context);
                if (!url.ok() || !body.ok()) return fail_now("cannot render the request");
                save_attempt(run, i, 0);
                const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                    task.timeout.value_or(std::chrono::seconds(60)));
                const std::string log_path = slot.log_path;
                // One thread per request, joined when its result reaches the loop (the number
                // of threads is bounded by the running-task limits).
                const uint64_t thread_id = next_http_thread_++;
                http_threads_[thread_id] = std::thread([this, method = task.method, url = *url,
                                                        body = *body,
                                                        expected = task.expected_status, timeout,
                                                        log_path, run_id, i, generation,
                                                        thread_id] {
                    Result<HttpReply> response =
                        send_http_request(method, url, body, "text/plain", timeout);
                    int code = 0;
                    std::string message;
                    if (!response.ok()) {
                        code = 1;
                        message = response.error().message();
                    } else if (response->status != expected) {
                        code = 1;
                        message = fmt::format("{} {} returned {}, expected {}", method, url,
                                              response->status, expected);
                    } else {
                        message = fmt::format("{} {} returned {}", method, url, response->status);
                    }
                    append_log(log_path, message);
                    post([=, this] {
                        if (auto it = http_threads_.find(thread_id); it != http_threads_.end()) {
                            it->second.join();
                            http_threads_.erase(it);
                        }
                        finish_attempt(run_id, i, generation, code, message);
                    });
                });
                break;
            }
            case TaskKind::kWaitForFile: {
                Result<std::string> pattern = render_template(task.path, context);
                if (!pattern.ok()) return fail_now(pattern.error().message());
                std::filesystem::path path(*pattern);
                if (path.is_relative()) path = std::filesystem::path(project_.root_dir) / path;
                append_log(slot.log_path, "waiting for " + path.string());
                save_attempt(run, i, 0);
                poke(run_id, i, generation, path.string());
                break;
            }
        }
        if (task.timeout) {
            add_timer(slot.started + task.timeout->count(),
                      [this, run_id, i, generation] { on_timeout(run_id, i, generation); });
        }
    }

    // Spawner threads start task processes so that the loop does not wait while each child
    // is created (posix_spawn blocks its caller until the child has exec'ed, including the
    // log file's creation); the loop takes the process over in on_spawned().
    void run_spawner() {
        while (true) {
            SpawnJob job;
            {
                std::unique_lock lock(spawn_mutex_);
                spawn_cv_.wait(lock, [&] { return spawners_stopping_ || !spawn_queue_.empty(); });
                if (spawners_stopping_) return;
                job = std::move(spawn_queue_.front());
                spawn_queue_.pop_front();
            }
            auto child = std::make_shared<Result<ChildProcess>>(ChildProcess::spawn(job.options));
            const int64_t started = clock_.now_micros();
            post([this, job = std::move(job), child, started] {
                on_spawned(job.run_id, job.task, job.generation, std::move(*child), started);
            });
        }
    }

    void on_spawned(const std::string& run_id, std::size_t i, uint64_t generation,
                    Result<ChildProcess> child, int64_t started) {
        ActiveRun* run = find_slot(run_id, i, generation);
        if (run == nullptr) {
            // Timed out (or the scheduler is stopping) before the process started.
            if (child.ok()) {
                child->kill_group();
                child->reap();
            }
            return;
        }
        TaskSlot& slot = run->tasks[i];
        if (!child.ok()) {
            append_log(slot.log_path, child.error().message());
            finish_attempt(run_id, i, generation, 1, child.error().message());
            return;
        }
        slot.process = std::move(child).value();
        slot.started = started;
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = slot.process->pidfd();
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, slot.process->pidfd(), &event);
        by_pidfd_[slot.process->pidfd()] = ReadyTask{run_id, i};
        last_pid_[run_id + "/" + run->job->tasks[i].name] = slot.process->pid();
        save_attempt(*run, i, slot.process->pid());
    }

    void poke(const std::string& run_id, std::size_t i, uint64_t generation,
              const std::string& pattern) {
        ActiveRun* run = find_slot(run_id, i, generation);
        if (run == nullptr) return;
        glob_t matches{};
        const int rc = ::glob(pattern.c_str(), 0, nullptr, &matches);
        const bool found = rc == 0 && matches.gl_pathc > 0;
        std::string first = found ? matches.gl_pathv[0] : "";
        ::globfree(&matches);
        if (found) {
            const std::string message = "found " + first;
            append_log(run->tasks[i].log_path, message);
            finish_attempt(run_id, i, generation, 0, message);
            return;
        }
        const int64_t interval = run->job->tasks[i].poke_interval.count();
        add_timer(clock_.now_micros() + interval,
                  [this, run_id, i, generation, pattern] { poke(run_id, i, generation, pattern); });
    }

    ActiveRun* find_slot(const std::string& run_id, std::size_t i, uint64_t generation) {
        auto it = runs_.find(run_id);
        if (it == runs_.end()) return nullptr;
        TaskSlot& slot = it->second->tasks[i];
        if (slot.generation != generation || slot.state != "running") return nullptr;
        return it->second.get();
    }

    void on_timeout(const std::string& run_id, std::size_t i, uint64_t generation) {
        ActiveRun* run = find_slot(run_id, i, generation);
        if (run == nullptr) return;
        TaskSlot& slot = run->tasks[i];
        slot.timed_out = true;
        const std::string message =
            "timed out after " + std::to_string(run->job->tasks[i].timeout->count() / 1000) + " ms";
        append_log(slot.log_path, "millrace: " + message + "; killing process group");
        if (slot.process) {
            slot.process->kill_group();  // the pidfd reports the exit; finish_attempt follows
            return;
        }
        finish_attempt(run_id, i, generation, 124, message);
    }

    void on_process_exit(int pidfd) {
        auto it = by_pidfd_.find(pidfd);
        if (it == by_pidfd_.end()) return;
        ReadyTask where = it->second;
        by_pidfd_.erase(it);
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, pidfd, nullptr);
        auto run_it = runs_.find(where.run_id);
        if (run_it == runs_.end()) return;
        TaskSlot& slot = run_it->second->tasks[where.task];
        const int code = slot.process->reap();
        slot.process.reset();
        std::string message = code == 0 ? "" : "exited with status " + std::to_string(code);
        if (slot.timed_out) {
            message =
                "timed out after " +
                std::to_string(run_it->second->job->tasks[where.task].timeout->count() / 1000) +
                " ms; process group killed";
        }
        finish_attempt(where.run_id, where.task, slot.generation, slot.timed_out ? 124 : code,
                       message);
    }

    // exit_code: 0 success, -2 skipped, else failure.
    void finish_attempt(const std::string& run_id, std::size_t i, uint64_t generation,
                        int exit_code, const std::string& message) {
        ActiveRun* run = find_slot(run_id, i, generation);
        if (run == nullptr) return;
        const TaskDefinition& task = run->job->tasks[i];
        TaskSlot& slot = run->tasks[i];
        slot.finished = clock_.now_micros();
        slot.message = message;
        release(*run, i);
        if (exit_code == 0 || exit_code == -2) {
            slot.state = exit_code == 0 ? "success" : "skipped";
            save_attempt(*run, i, 0, exit_code == 0 ? "success" : "skipped", 0);
            save_task(*run, i);
            if (slot.failed_before) {
                notify(*run, i, "recovery",
                       fmt::format("succeeded on attempt {} after failing", slot.attempt));
            }
            --run->unfinished;
            for (std::size_t d : task.downstream) {
                TaskSlot& down = run->tasks[d];
                if (--down.waiting_upstream == 0 && down.state == "pending") make_ready(*run, d);
            }
        } else {
            slot.failed_before = true;
            save_attempt(*run, i, 0, slot.timed_out ? "timed_out" : "failed", exit_code);
            if (slot.attempt - slot.first_attempt < task.retry.retries) {
                const auto delay = retry_delay(task.retry, run->job->name, task.name,
                                               run->record.interval_start, slot.attempt + 1);
                slot.state = "up_for_retry";
                save_task(*run, i);
                emit(fmt::format("task {} of {} failed (attempt {}: {}); retrying in {} ms",
                                 task.name, run_id, slot.attempt, message, delay.count() / 1000));
                add_timer(clock_.now_micros() + delay.count(), [this, run_id, i, generation] {
                    auto it = runs_.find(run_id);
                    if (it == runs_.end()) return;
                    TaskSlot& s = it->second->tasks[i];
                    if (s.generation == generation && s.state == "up_for_retry") {
                        make_ready(*it->second, i);
                    }
                });
            } else {
                slot.state = "failed";
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

    void mark_upstream_failed(ActiveRun& run, std::size_t failed) {
        std::vector<std::size_t> stack(run.job->tasks[failed].downstream);
        while (!stack.empty()) {
            const std::size_t d = stack.back();
            stack.pop_back();
            TaskSlot& slot = run.tasks[d];
            if (terminal(slot.state) || slot.state == "running") continue;
            slot.state = "upstream_failed";
            slot.message = "upstream task `" + run.job->tasks[failed].name + "` failed";
            save_task(run, d);
            --run.unfinished;
            for (std::size_t next : run.job->tasks[d].downstream) stack.push_back(next);
        }
    }

    void finish_run(const std::string& run_id) {
        auto it = runs_.find(run_id);
        if (it == runs_.end()) return;
        ActiveRun& run = *it->second;
        bool ok = true;
        for (const TaskSlot& slot : run.tasks) ok = ok && satisfied(slot.state);
        run.record.state = ok ? "success" : "failed";
        run.record.finished_at = clock_.now_micros();
        (void)store_->update_run(run.record);
        emit(fmt::format("run {} {} in {:.3f} s", run_id, run.record.state,
                         double(run.record.finished_at - run.record.started_at) / kMicros));
        RunSummary summary;
        summary.run = run.record;
        for (std::size_t i = 0; i < run.tasks.size(); ++i)
            summary.tasks.push_back(task_record(run, i));
        for (auto& waiter : run.waiters) finished_waiters_.emplace_back(waiter, summary);
        const std::string key = budget_key(run.record.job, run.record.lane);
        if (run.admitted) --budgets_[key].active_runs;
        if (run.record.lane == "backfill") ++backfill_done_[run.record.job];
        if (run.record.lane == "backfill") {
            emit(fmt::format("backfill {}: {} run(s) done", run.record.job,
                             backfill_done_[run.record.job]));
        }
        runs_.erase(it);
        admit_runs(key);
    }

    void check_sla(const std::string& run_id, std::size_t i) {
        auto it = runs_.find(run_id);
        if (it == runs_.end()) return;
        TaskSlot& slot = it->second->tasks[i];
        if (satisfied(slot.state) || slot.sla_reported) return;
        slot.sla_reported = true;
        notify(*it->second, i, "sla_miss",
               "not done within its SLA of " +
                   std::to_string(it->second->job->tasks[i].sla->count() / 1000) +
                   " ms after the interval end (state " + slot.state + ")");
    }

    // --- persistence ---------------------------------------------------------------------

    TaskRecord task_record(const ActiveRun& run, std::size_t i) const {
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

    void save_task(const ActiveRun& run, std::size_t i) {
        (void)store_->save_task(task_record(run, i));
    }

    void save_attempt(const ActiveRun& run, std::size_t i, int64_t pid,
                      const std::string& state = "running", int exit_code = 0) {
        const TaskSlot& slot = run.tasks[i];
        AttemptRecord a;
        a.run_id = run.record.run_id;
        a.task = run.job->tasks[i].name;
        a.attempt = slot.attempt;
        a.state = state;
        a.pid = pid != 0 ? pid : (slot.process ? slot.process->pid() : 0);
        a.started_at = slot.started;
        a.finished_at = state == "running" ? 0 : slot.finished;
        a.exit_code = exit_code;
        a.log_path = slot.log_path;
        a.message = slot.message;
        if (state == "running") {
            // Keep the pid of a process attempt when it finishes (recovery needs it only while
            // running; history shows it).
            (void)store_->save_attempt(a);
            if (pid != 0 || a.pid == 0) (void)store_->save_task(task_record(run, i));
            return;
        }
        if (a.pid == 0) a.pid = last_pid_[a.run_id + "/" + a.task];
        (void)store_->save_attempt(a);
    }

    Result<RunSummary> summary_from_store(const std::string& run_id) {
        MILLRACE_ASSIGN_OR_RETURN(std::optional<RunRecord> run, store_->find_run(run_id));
        if (!run) return Error(ErrorCode::kNotFound, "no run " + run_id);
        RunSummary summary;
        summary.run = *run;
        MILLRACE_ASSIGN_OR_RETURN(summary.tasks, store_->tasks_of_run(run_id));
        return summary;
    }

    // --- recovery and re-runs ------------------------------------------------------------

    Result<std::shared_ptr<const JobDefinition>> pinned_job(const RunRecord& record) {
        auto it = current_.find(record.job);
        if (it != current_.end() && it->second->version == record.version) return it->second;
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
    // `rerun_task`: "" = tasks that did not succeed; "*" = recovery (keep failures).
    Status resume(const RunRecord& record, const std::string& rerun_task) {
        MILLRACE_ASSIGN_OR_RETURN(std::shared_ptr<const JobDefinition> job, pinned_job(record));
        auto run = std::make_unique<ActiveRun>();
        run->record = record;
        run->job = job;
        MILLRACE_TRY(init_run(*run));
        MILLRACE_ASSIGN_OR_RETURN(std::vector<TaskRecord> stored,
                                  store_->tasks_of_run(record.run_id));
        MILLRACE_ASSIGN_OR_RETURN(std::vector<AttemptRecord> attempts,
                                  store_->attempts_of_run(record.run_id));
        const bool recovering = rerun_task == "*";
        std::vector<bool> reset(job->tasks.size(), false);
        if (!recovering) {
            // The tasks to run again: failed ones (or the named one) and all their downstream.
            std::vector<std::size_t> stack;
            for (const TaskRecord& t : stored) {
                auto index = job->task_index(t.task);
                if (!index) continue;
                if (rerun_task.empty() ? (t.state == "failed" || t.state == "upstream_failed")
                                       : t.task == rerun_task) {
                    stack.push_back(*index);
                }
            }
            while (!stack.empty()) {
                const std::size_t i = stack.back();
                stack.pop_back();
                if (reset[i]) continue;
                reset[i] = true;
                for (std::size_t d : job->tasks[i].downstream) stack.push_back(d);
            }
        }
        for (const TaskRecord& t : stored) {
            auto index = job->task_index(t.task);
            if (!index) continue;
            TaskSlot& slot = run->tasks[*index];
            slot.attempt = t.attempts;
            slot.first_attempt = t.attempts + 1;
            slot.started = t.started_at;
            slot.finished = t.finished_at;
            slot.log_path = t.log_path;
            slot.message = t.message;
            slot.state = t.state;
            if (reset[*index]) {
                slot.state = "pending";
                slot.message.clear();
                continue;
            }
            if (t.state == "running") {
                // Its scheduler died: kill what it left running, then retry or fail.
                for (const AttemptRecord& a : attempts) {
                    if (a.task == t.task && a.attempt == t.attempts && a.state == "running") {
                        if (a.pid > 0 && kill_process_group(static_cast<pid_t>(a.pid))) {
                            append_log(a.log_path,
                                       "millrace: scheduler restarted; killed the "
                                       "orphaned process group");
                        }
                        AttemptRecord orphaned = a;
                        orphaned.state = "orphaned";
                        orphaned.finished_at = clock_.now_micros();
                        orphaned.message = "the scheduler stopped while this attempt ran";
                        (void)store_->save_attempt(orphaned);
                    }
                }
                if (job->on_orphan == OrphanPolicy::kRetry) {
                    slot.state = "pending";
                    emit("task " + t.task + " of " + record.run_id +
                         " was orphaned by a stopped scheduler; retrying");
                } else {
                    slot.state = "failed";
                    slot.message = "orphaned: the scheduler stopped while it ran";
                }
                save_task(*run, *index);
            } else if (!terminal(t.state)) {
                slot.state = "pending";
            }
        }
        // Recompute the DAG counters from the states.
        run->unfinished = 0;
        for (std::size_t i = 0; i < run->tasks.size(); ++i) {
            TaskSlot& slot = run->tasks[i];
            slot.waiting_upstream = 0;
            for (std::size_t u : job->tasks[i].upstream) {
                if (!satisfied(run->tasks[u].state)) ++slot.waiting_upstream;
            }
            if (!terminal(slot.state)) ++run->unfinished;
        }
        for (std::size_t i = 0; i < run->tasks.size(); ++i) {
            if (run->tasks[i].state == "failed") mark_upstream_failed(*run, i);
        }
        for (std::size_t i = 0; i < run->tasks.size(); ++i) save_task(*run, i);
        MILLRACE_TRY(store_->take_over_run(record.run_id, self_pid_, self_start_, "queued"));
        run->record.owner_pid = self_pid_;
        run->record.owner_start = self_start_;
        run->record.state = "queued";
        run->record.finished_at = 0;
        emit("resuming run " + record.run_id + " (job version " + record.version + ")");
        enqueue_run(std::move(run));
        return {};
    }

    Status recover() {
        MILLRACE_TRY(store_->begin());
        for (const char* state : {"running", "queued"}) {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, store_->runs_in_state(state));
            for (const RunRecord& run : runs) {
                if (owner_alive(run)) continue;
                Status resumed = resume(run, "*");
                if (!resumed.ok())
                    emit("cannot resume " + run.run_id + ": " + resumed.error().to_string());
            }
        }
        dispatch();
        return store_->commit();
    }

    Status rerun_now(const std::string& run_id, const std::string& task) {
        if (runs_.count(run_id)) {
            return Error(ErrorCode::kAlreadyExists, "run " + run_id + " is still active");
        }
        MILLRACE_ASSIGN_OR_RETURN(std::optional<RunRecord> record, store_->find_run(run_id));
        if (!record) return Error(ErrorCode::kNotFound, "no run " + run_id);
        if (!terminal(record->state) && owner_alive(*record)) {
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
        return resume(*record, task);
    }

    // --- cron ----------------------------------------------------------------------------

    Status catch_up(const JobDefinition& job) {
        const int64_t now = clock_.now_micros();
        MILLRACE_ASSIGN_OR_RETURN(std::optional<int64_t> last, store_->last_interval_end(job.name));
        if (!job.catchup || (!last && !job.start_date_micros)) {
            // Only the latest complete interval, if it has no run yet.
            Result<std::pair<int64_t, int64_t>> latest = latest_interval(job.name, now);
            if (!latest.ok()) return {};
            if (last && *last >= latest->second) return {};
            if (!job.catchup && !last) return {};  // a new job starts with the next interval
            Result<std::string> id =
                submit_now(job.name, latest->first, latest->second, Lane::kScheduled);
            (void)id;
            return {};
        }
        const int64_t from = last ? *last : *job.start_date_micros;
        MILLRACE_ASSIGN_OR_RETURN(auto missed, intervals(job.name, from, now));
        for (const auto& [start, end] : missed) {
            if (start < from) continue;
            Result<std::string> id = submit_now(job.name, start, end, Lane::kScheduled);
            if (id.ok()) emit("catchup: " + *id);
        }
        return {};
    }

    void arm_cron(const std::string& job_name, int64_t after) {
        auto it = current_.find(job_name);
        if (it == current_.end()) return;
        Result<CronExpression> cron = CronExpression::parse(it->second->schedule);
        Result<TimeZone> zone = TimeZone::load(it->second->timezone);
        if (!cron.ok() || !zone.ok()) return;
        std::optional<int64_t> next = cron->next_after(after, *zone);
        if (!next) return;
        std::optional<int64_t> previous =
            cron->last_at_or_before(*next - 1, *zone, 400 * 86400 * kMicros);
        const int64_t start = previous.value_or(*next);
        add_timer(*next, [this, job_name, start, end = *next] {
            Result<std::string> id = submit_now(job_name, start, end, Lane::kScheduled);
            if (id.ok()) {
                emit("cron: " + *id);
            } else {
                emit("cron: " + id.error().message());
            }
            arm_cron(job_name, end);
        });
    }

    static std::set<std::string> glob_paths(const std::string& pattern) {
        std::set<std::string> paths;
        glob_t matches{};
        if (::glob(pattern.c_str(), 0, nullptr, &matches) == 0) {
            for (std::size_t i = 0; i < matches.gl_pathc; ++i) paths.insert(matches.gl_pathv[i]);
        }
        ::globfree(&matches);
        return paths;
    }

    // One timer per topic trigger: `records` new records since the last firing start one run.
    void poll_topic_trigger(const std::string& job_name, std::size_t index,
                            const std::shared_ptr<int64_t>& baseline) {
        auto it = current_.find(job_name);
        if (it == current_.end()) return;
        const TopicTrigger& trigger = it->second->topic_triggers[index];
        std::optional<int64_t> records = options_.topic_records(trigger.topic);
        if (records) {
            if (*records < *baseline) *baseline = *records;  // the topic was recreated
            if (*records - *baseline >= trigger.records) {
                const int64_t now = clock_.now_micros();
                Result<std::string> id = submit_now(job_name, now, now, Lane::kScheduled);
                emit("topic trigger: " + std::to_string(*records - *baseline) +
                     " new records in `" + trigger.topic + "` -> " +
                     (id.ok() ? *id : id.error().message()));
                *baseline = *records;
            }
        }
        add_timer(
            clock_.now_micros() + trigger.poke_interval.count(),
            [this, job_name, index, baseline] { poll_topic_trigger(job_name, index, baseline); });
    }

    // One timer per file trigger: new matches since the last poll start one run.
    void poll_file_trigger(const std::string& job_name, std::size_t index,
                           const std::shared_ptr<std::set<std::string>>& seen) {
        auto it = current_.find(job_name);
        if (it == current_.end()) return;
        const FileTrigger& trigger = it->second->file_triggers[index];
        std::set<std::string> now_paths = glob_paths(trigger.pattern);
        std::vector<std::string> fresh;
        for (const std::string& path : now_paths) {
            if (!seen->count(path)) fresh.push_back(path);
        }
        *seen = std::move(now_paths);
        if (!fresh.empty()) {
            const int64_t now = clock_.now_micros();
            Result<std::string> id = submit_now(job_name, now, now, Lane::kScheduled);
            emit("file trigger: " + fresh.front() +
                 (fresh.size() > 1 ? " (+" + std::to_string(fresh.size() - 1) + " more)" : "") +
                 " -> " + (id.ok() ? *id : id.error().message()));
        }
        add_timer(clock_.now_micros() + trigger.poke_interval.count(),
                  [this, job_name, index, seen] { poll_file_trigger(job_name, index, seen); });
    }

    // --- webhooks ------------------------------------------------------------------------

    void notify(const ActiveRun& run, std::size_t i, const std::string& event,
                const std::string& reason) {
        const TaskSlot& slot = run.tasks[i];
        emit(fmt::format("{}: task {} of {}: {}", event, run.job->tasks[i].name, run.record.run_id,
                         reason));
        if (run.job->webhooks.empty()) return;
        std::string body =
            "{\"event\":" + json_string(event) + ",\"job\":" + json_string(run.job->name) +
            ",\"run\":" + json_string(run.record.run_id) +
            ",\"task\":" + json_string(run.job->tasks[i].name) +
            ",\"attempt\":" + std::to_string(slot.attempt) + ",\"reason\":" + json_string(reason) +
            ",\"log_path\":" + json_string(slot.log_path) +
            ",\"log_tail\":" + json_string(log_tail(slot.log_path)) + "}";
        std::lock_guard lock(webhook_mutex_);
        for (const std::string& url : run.job->webhooks) {
            if (webhook_queue_.size() >= kWebhookQueueLimit) webhook_queue_.pop_front();
            webhook_queue_.emplace_back(url, body);
        }
        webhook_cv_.notify_one();
    }

    void run_webhooks() {
        while (true) {
            std::pair<std::string, std::string> item;
            {
                std::unique_lock lock(webhook_mutex_);
                webhook_cv_.wait(lock,
                                 [&] { return webhooks_stopping_ || !webhook_queue_.empty(); });
                if (webhook_queue_.empty()) return;
                item = std::move(webhook_queue_.front());
                webhook_queue_.pop_front();
            }
            Result<HttpReply> response = send_http_request(
                "POST", item.first, item.second, "application/json", std::chrono::seconds(5));
            if (!response.ok()) {
                post([this, url = item.first, message = response.error().message()] {
                    emit("webhook " + url + " failed: " + message);
                });
            }
        }
    }

    const Project& project_;
    SchedulerOptions options_;
    const Clock& clock_;
    std::vector<JobDefinition> jobs_;
    std::map<std::string, std::shared_ptr<const JobDefinition>> current_;
    std::map<std::string, std::shared_ptr<const JobDefinition>> pinned_;
    std::unique_ptr<StateStore> store_;
    std::optional<FileLock> schedules_lock_;  // held while this process fires schedules
    int64_t self_pid_ = 0;
    std::string self_start_;

    int event_fd_ = -1;
    int epoll_fd_ = -1;
    std::atomic<bool> running_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::deque<std::function<void()>> commands_;

    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
    uint64_t next_sequence_ = 0;
    int launches_this_iteration_ = 0;
    std::map<std::string, std::unique_ptr<ActiveRun>> runs_;
    std::set<std::shared_ptr<std::promise<Result<RunSummary>>>> pollers_;
    std::map<std::string, Budget> budgets_;
    std::set<std::string> dirty_budgets_;
    std::map<std::string, int> pool_used_;
    std::unordered_map<int, ReadyTask> by_pidfd_;
    std::map<std::string, int64_t> last_pid_;
    std::map<std::string, int> backfill_done_;
    std::set<std::string> created_log_dirs_;
    std::vector<std::pair<std::shared_ptr<std::promise<Result<RunSummary>>>, RunSummary>>
        finished_waiters_;
    std::map<uint64_t, std::thread> http_threads_;
    uint64_t next_http_thread_ = 0;

    std::mutex spawn_mutex_;
    std::condition_variable spawn_cv_;
    std::deque<SpawnJob> spawn_queue_;  // bounded by the running-task limits
    bool spawners_stopping_ = false;
    std::vector<std::thread> spawners_;

    std::mutex webhook_mutex_;
    std::condition_variable webhook_cv_;
    std::deque<std::pair<std::string, std::string>> webhook_queue_;
    bool webhooks_stopping_ = false;
    std::thread webhook_thread_;
};

// ---------------------------------------------------------------------------------------------

Scheduler::Scheduler(const Project& project, std::vector<JobDefinition> jobs,
                     SchedulerOptions options, const Clock& clock)
    : loop_(std::make_unique<Loop>(project, std::move(jobs), std::move(options), clock)) {}

Scheduler::~Scheduler() { stop(); }

Status Scheduler::start() { return loop_->start(); }
void Scheduler::stop() { loop_->stop(); }

std::string Scheduler::run_id_for(const std::string& job, int64_t interval_start_micros) {
    std::string stamp = format_utc_timestamp(interval_start_micros);
    if (interval_start_micros % kMicros == 0 && stamp.size() > 8) {
        stamp = stamp.substr(0, stamp.size() - 8) + "Z";
    }
    return job + "@" + stamp;
}

Result<std::string> Scheduler::submit_run(const std::string& job, int64_t interval_start,
                                          int64_t interval_end, Lane lane) {
    return loop_->submit(job, interval_start, interval_end, lane);
}

Result<RunSummary> Scheduler::wait_run(const std::string& run_id) { return loop_->wait(run_id); }

Status Scheduler::rerun(const std::string& run_id, const std::string& task) {
    return loop_->rerun(run_id, task);
}

Result<std::vector<std::pair<int64_t, int64_t>>> Scheduler::intervals(const std::string& job,
                                                                      int64_t from,
                                                                      int64_t to) const {
    return loop_->intervals(job, from, to);
}

Result<std::pair<int64_t, int64_t>> Scheduler::latest_interval(const std::string& job,
                                                               int64_t now) const {
    return loop_->latest_interval(job, now);
}

Status Scheduler::enable_schedules() { return loop_->enable_schedules(); }

Status Scheduler::claim_schedules() { return loop_->claim_schedules(); }

const std::vector<JobDefinition>& Scheduler::jobs() const { return loop_->jobs(); }

}  // namespace millrace
