#include "scheduler/process_runner.h"

#include <fmt/format.h>
#include <glob.h>

#include <filesystem>

#include "common/event_loop.h"

namespace millrace {

ProcessTaskRunner::ProcessTaskRunner(std::string millrace_binary, std::string project_dir,
                                     const Clock& clock)
    : millrace_binary_(std::move(millrace_binary)),
      project_dir_(std::move(project_dir)),
      clock_(clock) {}

ProcessTaskRunner::~ProcessTaskRunner() { stop(); }

void ProcessTaskRunner::attach(EventLoop& loop, TaskReporter& reporter) {
    loop_ = &loop;
    reporter_ = &reporter;
    http_ = std::make_unique<HttpTasks>(loop);
    for (int i = 0; i < kSpawnThreads; ++i) spawners_.emplace_back([this] { run_spawner(); });
}

std::string ProcessTaskRunner::key_text(const AttemptKey& key) {
    return fmt::format("{}/{}/{}", key.run_id, key.task, key.generation);
}

void ProcessTaskRunner::fail(const TaskAttempt& attempt, const std::string& message) {
    append_log(attempt.log_path, message);
    reporter_->attempt_finished(attempt.key, 1, message);
}

void ProcessTaskRunner::start(const TaskAttempt& attempt) {
    const TaskDefinition& task = *attempt.task;
    switch (task.kind) {
        case TaskKind::kShell:
        case TaskKind::kPipeline:
        case TaskKind::kMaterialize:
        case TaskKind::kCompact:
            start_process(attempt);
            return;
        case TaskKind::kHttp:
            start_http(attempt);
            return;
        case TaskKind::kWaitForFile: {
            Result<std::string> pattern = render_template(task.path, attempt.context);
            if (!pattern.ok()) return fail(attempt, pattern.error().message());
            std::filesystem::path path(*pattern);
            if (path.is_relative()) path = std::filesystem::path(project_dir_) / path;
            append_log(attempt.log_path, "waiting for " + path.string());
            pokes_.insert(key_text(attempt.key));
            poke(attempt.key, path.string(), task.poke_interval, attempt.log_path);
            return;
        }
    }
}

void ProcessTaskRunner::start_process(const TaskAttempt& attempt) {
    const TaskDefinition& task = *attempt.task;
    const TemplateContext& context = attempt.context;
    const std::string& run_id = attempt.key.run_id;
    ChildProcess::Options spawn;
    if (task.kind == TaskKind::kMaterialize) {
        // `millrace materialize` in a child process; under `millrace serve` it finds the store
        // held and asks the server to do the loading.
        spawn.argv = {millrace_binary_, "materialize", project_dir_, task.target};
        spawn.cwd = project_dir_;
    } else if (task.kind == TaskKind::kCompact) {
        // `millrace lake compact` in a child process, like a pipeline run.
        spawn.argv = {millrace_binary_, "lake", "compact", task.target, "-p", project_dir_};
        spawn.cwd = project_dir_;
    } else if (task.kind == TaskKind::kShell) {
        Result<std::string> command = render_template(task.command, context);
        if (!command.ok()) return fail(attempt, command.error().message());
        spawn.argv = {"/bin/sh", "-c", *command};
        for (const auto& [name, value] : task.env) {
            Result<std::string> rendered = render_template(value, context);
            if (!rendered.ok()) return fail(attempt, rendered.error().message());
            spawn.env[name] = *rendered;
        }
        spawn.cwd = task.cwd.empty() ? project_dir_ : task.cwd;
    } else {
        // The run's interval reaches the pipeline as variables of its file paths
        // (`incoming/sales_{{ ds_nodash }}.csv` reads that day's file only).
        spawn.argv = {millrace_binary_, "run", project_dir_, task.pipeline};
        for (const char* name : {"ds", "ds_nodash", "data_interval_start", "data_interval_end"}) {
            Result<std::string> value = render_template(fmt::format("{{{{ {} }}}}", name), context);
            if (!value.ok()) return fail(attempt, value.error().message());
            spawn.argv.push_back("--var");
            spawn.argv.push_back(fmt::format("{}={}", name, *value));
        }
        spawn.argv.push_back("--var");
        spawn.argv.push_back("run_id=" + run_id);
        spawn.cwd = project_dir_;
    }
    spawn.env["MILLRACE_RUN_ID"] = run_id;
    spawn.env["MILLRACE_DS"] = render_template("{{ ds }}", context).value();
    spawn.env["MILLRACE_DATA_INTERVAL_START"] =
        render_template("{{ data_interval_start }}", context).value();
    spawn.env["MILLRACE_DATA_INTERVAL_END"] =
        render_template("{{ data_interval_end }}", context).value();
    spawn.log_path = attempt.log_path;
    if (launches_this_iteration_++ == 0) {
        Result<ChildProcess> child = ChildProcess::spawn(spawn);
        on_spawned(attempt.key, std::move(child), clock_.now_micros(), attempt.log_path);
        return;
    }
    {
        std::lock_guard lock(spawn_mutex_);
        spawn_queue_.push_back(SpawnJob{attempt.key, std::move(spawn)});
    }
    spawn_cv_.notify_one();
}

void ProcessTaskRunner::start_http(const TaskAttempt& attempt) {
    const TaskDefinition& task = *attempt.task;
    Result<std::string> url = render_template(task.url, attempt.context);
    Result<std::string> body = render_template(task.body, attempt.context);
    if (!url.ok() || !body.ok()) return fail(attempt, "cannot render the request");
    HttpTasks::Request request;
    request.method = task.method;
    request.url = *url;
    request.body = *body;
    request.expected_status = task.expected_status;
    request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        task.timeout.value_or(std::chrono::seconds(60)));
    request.log_path = attempt.log_path;
    http_->start(std::move(request), [this, key = attempt.key](const HttpTaskOutcome& outcome) {
        reporter_->attempt_finished(key, outcome.exit_code, outcome.message);
    });
}

void ProcessTaskRunner::poke(const AttemptKey& key, const std::string& pattern,
                             std::chrono::microseconds interval, const std::string& log_path) {
    if (!pokes_.count(key_text(key))) return;  // given up (timed out)
    glob_t matches{};
    const int rc = ::glob(pattern.c_str(), 0, nullptr, &matches);
    const bool found = rc == 0 && matches.gl_pathc > 0;
    std::string first = found ? matches.gl_pathv[0] : "";
    ::globfree(&matches);
    if (found) {
        pokes_.erase(key_text(key));
        const std::string message = "found " + first;
        append_log(log_path, message);
        reporter_->attempt_finished(key, 0, message);
        return;
    }
    loop_->add_timer(
        clock_.now_micros() + interval.count(),
        [this, key, pattern, interval, log_path] { poke(key, pattern, interval, log_path); });
}

void ProcessTaskRunner::run_spawner() {
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
        loop_->post([this, key = std::move(job.key), log_path = job.options.log_path, child,
                     started] { on_spawned(key, std::move(*child), started, log_path); });
    }
}

void ProcessTaskRunner::on_spawned(const AttemptKey& key, Result<ChildProcess> child,
                                   int64_t started, const std::string& log_path) {
    if (!child.ok()) {
        append_log(log_path, child.error().message());
        reporter_->attempt_finished(key, 1, child.error().message());
        return;
    }
    if (!reporter_->attempt_started(key, child->pid(), started)) {
        // Timed out (or the scheduler is stopping) before the process started.
        child->kill_group();
        child->reap();
        return;
    }
    const int pidfd = child->pidfd();
    by_pidfd_.emplace(pidfd, Running{key, std::move(child).value()});
    pidfd_by_attempt_[key_text(key)] = pidfd;
    if (Status watched = loop_->watch(pidfd, [this, pidfd] { on_exit(pidfd); }); !watched.ok()) {
        // Without the watch its exit would go unnoticed: give the attempt up now.
        Running& running = by_pidfd_.at(pidfd);
        running.process.kill_group();
        running.process.reap();
        pidfd_by_attempt_.erase(key_text(key));
        by_pidfd_.erase(pidfd);
        reporter_->attempt_finished(key, 1, watched.error().message());
    }
}

void ProcessTaskRunner::on_exit(int pidfd) {
    auto it = by_pidfd_.find(pidfd);
    if (it == by_pidfd_.end()) return;
    loop_->unwatch(pidfd);
    const AttemptKey key = it->second.key;
    const int code = it->second.process.reap();
    pidfd_by_attempt_.erase(key_text(key));
    by_pidfd_.erase(it);
    reporter_->attempt_finished(key, code,
                                code == 0 ? "" : "exited with status " + std::to_string(code));
}

bool ProcessTaskRunner::cancel(const AttemptKey& key) {
    const std::string text = key_text(key);
    pokes_.erase(text);
    auto it = pidfd_by_attempt_.find(text);
    if (it == pidfd_by_attempt_.end()) return false;
    by_pidfd_.at(it->second).process.kill_group();  // the pidfd reports the exit
    return true;
}

void ProcessTaskRunner::stop() {
    {
        std::lock_guard lock(spawn_mutex_);
        spawners_stopping_ = true;
    }
    spawn_cv_.notify_all();
    for (std::thread& t : spawners_) t.join();
    spawners_.clear();
    // Task processes die with the scheduler; their runs stay `running` in the state store and
    // the next start recovers them (the job's on_orphan).
    for (auto& [pidfd, running] : by_pidfd_) {
        if (loop_ != nullptr) loop_->unwatch(pidfd);
        running.process.kill_group();
        running.process.reap();
    }
    by_pidfd_.clear();
    pidfd_by_attempt_.clear();
    pokes_.clear();
    if (http_) http_->stop();
}

}  // namespace millrace
