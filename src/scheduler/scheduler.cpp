#include "scheduler/scheduler.h"

#include <filesystem>
#include <future>
#include <map>

#include "common/event_loop.h"
#include "common/file_lock.h"
#include "scheduler/http_tasks.h"
#include "scheduler/process_runner.h"
#include "scheduler/run_engine.h"
#include "scheduler/triggers.h"

namespace millrace {

namespace {

std::string self_executable() {
    std::error_code error;
    auto path = std::filesystem::read_symlink("/proc/self/exe", error);
    return error ? std::string("millrace") : path.string();
}

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

}  // namespace

// The parts of a scheduler, in construction order: the loop first (the others post to it),
// the engine last (it uses all of them).
struct Scheduler::Parts {
    Parts(const Project& project, std::vector<JobDefinition> job_list, SchedulerOptions opts,
          const Clock& clock_ref, std::unique_ptr<TaskRunner> task_runner)
        : options(std::move(opts)), clock(clock_ref), loop(clock_ref) {
        for (JobDefinition& job : job_list) {
            auto shared = std::make_shared<const JobDefinition>(std::move(job));
            jobs.push_back(*shared);
            current[shared->name] = shared;
        }
        if (options.millrace_binary.empty()) options.millrace_binary = self_executable();
        if (options.state_path.empty()) options.state_path = project.data_dir + "/scheduler.db";
        if (options.log_dir.empty()) options.log_dir = project.data_dir + "/scheduler/logs";
        runner = task_runner ? std::move(task_runner)
                             : std::make_unique<ProcessTaskRunner>(options.millrace_binary,
                                                                   project.root_dir, clock);
        webhooks = std::make_unique<WebhookSender>(
            loop, [this](const std::string& line) { engine->emit(line); });
        RunEngine::Settings settings;
        settings.log_dir = options.log_dir;
        settings.backfill_max_active_runs = options.backfill_max_active_runs;
        settings.on_event = options.on_event;
        settings.on_run_started = options.on_run_started;
        settings.on_run_finished = options.on_run_finished;
        engine = std::make_unique<RunEngine>(project, current, std::move(settings), clock, loop,
                                             *runner, *webhooks);
        triggers = std::make_unique<Triggers>(
            loop, clock, current,
            [this](const std::string& job, int64_t start, int64_t end) {
                return engine->submit(job, start, end, "scheduled");
            },
            [this](const std::string& line) { engine->emit(line); }, options.topic_records);
    }

    // Runs `fn` on the loop thread and waits for its result.
    template <typename T>
    T call(std::function<T()> fn) {
        auto promise = std::make_shared<std::promise<T>>();
        auto future = promise->get_future();
        loop.post([promise, fn = std::move(fn)] { promise->set_value(fn()); });
        return future.get();
    }

    SchedulerOptions options;
    const Clock& clock;
    std::vector<JobDefinition> jobs;
    std::map<std::string, std::shared_ptr<const JobDefinition>> current;
    EventLoop loop;
    std::unique_ptr<TaskRunner> runner;
    std::unique_ptr<WebhookSender> webhooks;
    std::unique_ptr<RunEngine> engine;
    std::unique_ptr<Triggers> triggers;
    std::optional<FileLock> schedules_lock;  // held while this process fires schedules
    bool started = false;
};

Scheduler::Scheduler(const Project& project, std::vector<JobDefinition> jobs,
                     SchedulerOptions options, const Clock& clock,
                     std::unique_ptr<TaskRunner> runner)
    : parts_(std::make_unique<Parts>(project, std::move(jobs), std::move(options), clock,
                                     std::move(runner))) {}

Scheduler::~Scheduler() { stop(); }

Status Scheduler::start() {
    Parts& p = *parts_;
    MILLRACE_TRY(p.engine->open(p.options.state_path));
    MILLRACE_TRY(p.loop.open());
    p.runner->attach(p.loop, *p.engine);
    p.started = true;
    MILLRACE_TRY(p.engine->recover());
    EventLoop::Hooks hooks;
    hooks.on_iteration_begin = [&p] { p.engine->begin_iteration(); };
    hooks.on_iteration_end = [&p] { p.engine->end_iteration(); };
    p.loop.start(std::move(hooks));
    p.webhooks->start();
    return {};
}

void Scheduler::stop() {
    Parts& p = *parts_;
    if (!p.started) return;
    p.started = false;
    p.loop.stop();
    // Waiters learn that the run will not finish here; task processes are killed and their
    // runs stay `running`, to be recovered by the next scheduler start (orphan policy).
    p.engine->drop_runs();
    p.runner->stop();
    p.loop.run_posted();  // processes spawned while stopping: the engine refuses, they die
    p.webhooks->stop();
    p.loop.run_posted();
}

std::string Scheduler::run_id_for(const std::string& job, int64_t interval_start_micros) {
    std::string stamp = format_utc_timestamp(interval_start_micros);
    if (interval_start_micros % 1'000'000 == 0 && stamp.size() > 8) {
        stamp = stamp.substr(0, stamp.size() - 8) + "Z";
    }
    return job + "@" + stamp;
}

Result<std::string> Scheduler::submit_run(const std::string& job, int64_t interval_start,
                                          int64_t interval_end, Lane lane) {
    Parts& p = *parts_;
    return p.call<Result<std::string>>([&p, job, interval_start, interval_end, lane] {
        return p.engine->submit(job, interval_start, interval_end, lane_name(lane));
    });
}

Result<RunSummary> Scheduler::wait_run(const std::string& run_id) {
    auto waiter = std::make_shared<std::promise<Result<RunSummary>>>();
    auto future = waiter->get_future();
    Parts& p = *parts_;
    p.loop.post([&p, run_id, waiter] { p.engine->wait(run_id, waiter); });
    return future.get();
}

Status Scheduler::rerun(const std::string& run_id, const std::string& task) {
    Parts& p = *parts_;
    return p.call<Status>([&p, run_id, task] { return p.engine->rerun(run_id, task); });
}

Result<std::vector<std::pair<int64_t, int64_t>>> Scheduler::intervals(const std::string& job,
                                                                      int64_t from,
                                                                      int64_t to) const {
    auto it = parts_->current.find(job);
    if (it == parts_->current.end()) return Error(ErrorCode::kNotFound, "no job `" + job + "`");
    return job_intervals(*it->second, from, to);
}

Result<std::pair<int64_t, int64_t>> Scheduler::latest_interval(const std::string& job,
                                                               int64_t now) const {
    auto it = parts_->current.find(job);
    if (it == parts_->current.end()) return Error(ErrorCode::kNotFound, "no job `" + job + "`");
    return latest_job_interval(*it->second, now);
}

Status Scheduler::claim_schedules() {
    Parts& p = *parts_;
    if (p.schedules_lock) return {};
    std::error_code error;
    std::filesystem::create_directories(std::filesystem::path(p.options.state_path).parent_path(),
                                        error);
    MILLRACE_ASSIGN_OR_RETURN(
        FileLock lock, StateStore::lock_schedules(p.options.state_path, p.options.process_command));
    p.schedules_lock = std::move(lock);
    return {};
}

Status Scheduler::enable_schedules() {
    MILLRACE_TRY(claim_schedules());
    Parts& p = *parts_;
    return p.call<Status>([&p]() -> Status {
        for (const auto& [name, job] : p.current) {
            if (job->schedule.empty()) continue;
            MILLRACE_ASSIGN_OR_RETURN(std::optional<int64_t> last,
                                      p.engine->last_interval_end(job->name));
            MILLRACE_TRY(p.triggers->catch_up(*job, last));
            p.triggers->arm_cron(job->name, p.clock.now_micros());
        }
        p.triggers->start_polling();
        return {};
    });
}

const std::vector<JobDefinition>& Scheduler::jobs() const { return parts_->jobs; }

Status Scheduler::health() const { return parts_->engine->health(); }

}  // namespace millrace
