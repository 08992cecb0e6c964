#include "cli/jobs_command.h"

#include <fmt/format.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>

#include "common/clock.h"
#include "common/logger.h"
#include "common/metrics_registry.h"
#include "lineage/lineage_deliverer.h"
#include "lineage/lineage_recorder.h"
#include "project/duration.h"
#include "project/project_loader.h"
#include "scheduler/cron_expression.h"
#include "scheduler/job_parser.h"
#include "scheduler/scheduler.h"
#include "scheduler/state_store.h"
#include "scheduler/time_zone.h"

namespace millrace {

namespace {

constexpr int64_t kMicros = 1'000'000;

void print_errors(const std::vector<Error>& errors) {
    for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
}

struct Loaded {
    Project project;
    std::vector<JobDefinition> jobs;
};

std::optional<Loaded> load(const std::string& dir) {
    std::vector<Error> errors;
    Result<Project> project = load_project(dir, &errors);
    if (!project.ok() && errors.empty()) errors.push_back(project.error());
    if (!errors.empty()) {
        print_errors(errors);
        return std::nullopt;
    }
    Loaded loaded{std::move(project).value(), {}};
    for (const JobSpec& spec : loaded.project.jobs) {
        Result<JobDefinition> job = load_job(spec, loaded.project, errors);
        if (job.ok()) loaded.jobs.push_back(std::move(job).value());
    }
    if (!errors.empty()) {
        print_errors(errors);
        return std::nullopt;
    }
    return loaded;
}

const JobDefinition* find_job(const Loaded& loaded, const std::string& name) {
    for (const JobDefinition& job : loaded.jobs) {
        if (job.name == name) return &job;
    }
    std::string names;
    for (const JobDefinition& job : loaded.jobs) names += (names.empty() ? "" : ", ") + job.name;
    std::fprintf(stderr, "error: project `%s` has no job `%s` (jobs: %s)\n",
                 loaded.project.name.c_str(), name.c_str(), names.empty() ? "none" : names.c_str());
    return nullptr;
}

// YYYY-MM-DD (midnight in the job's time zone) or YYYY-MM-DDTHH:MM[:SS]Z (UTC).
// With `end_of_day`, a date alone means its last microsecond (an inclusive `--to`).
std::optional<int64_t> parse_time(const std::string& text, const JobDefinition& job,
                                  bool end_of_day = false) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    char extra = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &y, &mo, &d, &h, &mi, &s, &extra) ==
            6 ||
        std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2dZ%c", &y, &mo, &d, &h, &mi, &extra) == 5) {
        return (days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                h * 3600 + mi * 60 + s) *
               kMicros;
    }
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &extra) == 3 && mo >= 1 &&
        mo <= 12 && d >= 1 && d <= 31) {
        Result<TimeZone> zone = TimeZone::load(job.timezone);
        const int64_t local =
            (days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) +
             (end_of_day ? 1 : 0)) *
            86400;
        std::vector<int64_t> utc = zone.ok() ? zone->to_utc(local) : std::vector<int64_t>{local};
        return (utc.empty() ? local : utc.front()) * kMicros - (end_of_day ? 1 : 0);
    }
    std::fprintf(stderr, "error: `%s` is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)\n",
                 text.c_str());
    return std::nullopt;
}

// How long a run, task or attempt took: "1.234s" under a minute, then "5m3s", "1h30m" (whole
// seconds, the units config files use); "-" until it finished.
std::string seconds_text(int64_t start, int64_t end) {
    if (start == 0 || end == 0 || end < start) return "-";
    const int64_t elapsed = end - start;
    if (elapsed < 60 * kMicros) return fmt::format("{:.3f}s", double(elapsed) / kMicros);
    return format_duration(std::chrono::seconds((elapsed + kMicros / 2) / kMicros));
}

void print_summary(const RunSummary& summary) {
    std::printf("run %s: %s (interval %s .. %s, %s)\n", summary.run.run_id.c_str(),
                std::string(to_string(summary.run.state)).c_str(),
                format_utc_timestamp(summary.run.interval_start).c_str(),
                format_utc_timestamp(summary.run.interval_end).c_str(),
                seconds_text(summary.run.started_at, summary.run.finished_at).c_str());
    for (const TaskRecord& t : summary.tasks) {
        std::printf("  %-24s %-16s attempts %-3d %-9s %s\n", t.task.c_str(),
                    std::string(to_string(t.state)).c_str(), t.attempts,
                    seconds_text(t.started_at, t.finished_at).c_str(), t.message.c_str());
    }
}

/// Runs one lineage delivery pass when the command ends (after the scheduler, declared
/// later, has stopped): what the collector could not take waits in the outbox.
struct DeliverLineageAtExit {
    LineageRecorder& lineage;
    ~DeliverLineageAtExit() { lineage.deliver_once(); }
};

SchedulerOptions scheduler_options(LineageRecorder& lineage, bool quiet = false) {
    SchedulerOptions options;
    options.on_run_started = [&lineage](const RunRecord& run) { lineage.job_run_started(run); };
    options.on_run_finished = [&lineage](const RunSummary& summary) {
        lineage.job_run_finished(summary);
    };
    if (!quiet) {
        options.on_event = [](const std::string& line) {
            std::fprintf(stderr, "%s  %s\n",
                         format_utc_timestamp(SystemClock().now_micros()).c_str(), line.c_str());
        };
    }
    return options;
}

int list_jobs(const Loaded& loaded) {
    Result<StateStore> store = StateStore::open(loaded.project.data_dir + "/scheduler.db");
    for (const JobDefinition& job : loaded.jobs) {
        std::string last = "never run";
        if (store.ok()) {
            auto runs = store->list_runs(job.name, 1);
            if (runs.ok() && !runs->empty()) {
                last = "last " + runs->front().run_id + " " +
                       std::string(to_string(runs->front().state));
            }
        }
        std::printf("%-24s %-16s %-16s %3zu tasks  %s\n", job.name.c_str(),
                    job.schedule.empty() ? "(triggered)" : job.schedule.c_str(),
                    job.timezone.c_str(), job.tasks.size(), last.c_str());
    }
    if (loaded.jobs.empty()) std::printf("no jobs (add jobs/*.yaml to the project)\n");
    return 0;
}

int show_job(const JobDefinition& job) {
    std::printf("job %s (%s, version %s)\n", job.name.c_str(), job.file.c_str(),
                job.version.c_str());
    if (!job.description.empty()) std::printf("  %s\n", job.description.c_str());
    std::printf(
        "  schedule: %s  timezone: %s  catchup: %s  max_active_runs: %d  "
        "max_active_tasks: %d\n",
        job.schedule.empty() ? "(none)" : job.schedule.c_str(), job.timezone.c_str(),
        job.catchup ? "on" : "off", job.max_active_runs, job.max_active_tasks);
    for (const TaskDefinition& task : job.tasks) {
        std::string detail;
        switch (task.kind) {
            case TaskKind::kPipeline:
                detail = "pipeline " + task.pipeline;
                break;
            case TaskKind::kShell:
                detail = task.command;
                break;
            case TaskKind::kHttp:
                detail = task.method + " " + task.url;
                break;
            case TaskKind::kWaitForFile:
                detail = task.path;
                break;
            default:
                detail = task.target;
                break;
        }
        std::string deps;
        for (const std::string& d : task.depends_on) deps += (deps.empty() ? "" : ", ") + d;
        std::printf("  - %-20s %-14s %s%s%s\n", task.name.c_str(),
                    std::string(enum_name(task.kind)).c_str(), detail.c_str(),
                    deps.empty() ? "" : "  <- ", deps.c_str());
        if (task.retry.retries > 0 || task.timeout || task.sla) {
            std::printf("    %s%s%s\n",
                        task.retry.retries > 0
                            ? fmt::format("retries {} (delay {}, max {}) ", task.retry.retries,
                                          format_duration(task.retry.delay),
                                          format_duration(task.retry.max_delay))
                                  .c_str()
                            : "",
                        task.timeout
                            ? fmt::format("timeout {} ", format_duration(*task.timeout)).c_str()
                            : "",
                        task.sla ? fmt::format("sla {}", format_duration(*task.sla)).c_str() : "");
        }
    }
    return 0;
}

int run_job(const Loaded& loaded, const JobDefinition& job, const JobsCommandOptions& options) {
    SystemClock clock;
    LineageRecorder lineage(loaded.project);
    DeliverLineageAtExit deliver_lineage{lineage};
    Scheduler scheduler(loaded.project, loaded.jobs, scheduler_options(lineage), clock);
    if (Status started = scheduler.start(); !started.ok()) {
        std::fprintf(stderr, "%s\n", started.error().to_string().c_str());
        return 1;
    }
    int64_t now = clock.now_micros();
    if (!options.date.empty()) {
        auto at = parse_time(options.date, job);
        if (!at) return 1;
        now = *at;
    }
    std::pair<int64_t, int64_t> interval{now, now};
    if (!job.schedule.empty()) {
        // With --date: the first interval starting at or after the date; else the latest
        // complete one.
        Result<std::pair<int64_t, int64_t>> latest =
            options.date.empty() ? scheduler.latest_interval(job.name, now)
                                 : scheduler.latest_interval(job.name, now + 1);
        if (options.date.empty() && latest.ok()) {
            interval = *latest;
        } else if (!options.date.empty()) {
            auto list = scheduler.intervals(job.name, now, now + int64_t{400} * 86400 * kMicros);
            if (!list.ok() || list->empty()) {
                std::fprintf(stderr, "error: no interval of `%s` after %s\n", job.name.c_str(),
                             options.date.c_str());
                return 1;
            }
            interval = list->front();
            for (const auto& candidate : *list) {
                if (candidate.first >= now) {
                    interval = candidate;
                    break;
                }
            }
        }
    }
    const std::string run_id = Scheduler::run_id_for(job.name, interval.first);
    if (options.rerun) {
        if (Status status = scheduler.rerun(run_id, options.task); !status.ok()) {
            std::fprintf(stderr, "%s\n", status.error().to_string().c_str());
            return 1;
        }
    } else {
        Result<std::string> id = scheduler.submit_run(job.name, interval.first, interval.second,
                                                      Scheduler::Lane::kManual);
        if (!id.ok()) {
            if (id.error().code() != ErrorCode::kAlreadyExists) {
                std::fprintf(stderr, "%s\n", id.error().to_string().c_str());
                return 1;
            }
            std::fprintf(stderr, "%s; not started again (use --rerun to re-run failed tasks)\n",
                         id.error().message().c_str());
        }
    }
    Result<RunSummary> summary = scheduler.wait_run(run_id);
    if (!summary.ok()) {
        std::fprintf(stderr, "%s\n", summary.error().to_string().c_str());
        return 1;
    }
    print_summary(*summary);
    return summary->run.state == RunState::kSuccess ? 0 : 1;
}

int backfill(const Loaded& loaded, const JobDefinition& job, const JobsCommandOptions& options) {
    auto from = parse_time(options.from, job);
    auto to = parse_time(options.to, job, true);
    if (!from || !to) return 1;
    SystemClock clock;
    LineageRecorder lineage(loaded.project);
    DeliverLineageAtExit deliver_lineage{lineage};
    SchedulerOptions scheduler_opts = scheduler_options(lineage);
    scheduler_opts.backfill_max_active_runs = std::max(1, options.concurrency);
    Scheduler scheduler(loaded.project, loaded.jobs, scheduler_opts, clock);
    if (Status started = scheduler.start(); !started.ok()) {
        std::fprintf(stderr, "%s\n", started.error().to_string().c_str());
        return 1;
    }
    auto intervals = scheduler.intervals(job.name, *from, *to);
    if (!intervals.ok()) {
        std::fprintf(stderr, "%s\n", intervals.error().to_string().c_str());
        return 1;
    }
    // Intervals whose start (the logical date, `ds`) lies in [from, to]: those ending by `to`,
    // plus the one that starts by `to` and ends after it.
    auto last = scheduler.intervals(job.name, *to, *to + int64_t{32} * 86400 * kMicros);
    if (last.ok() && !last->empty() && last->front().first <= *to) {
        intervals->push_back(last->front());
    }
    std::vector<std::string> ids;
    std::size_t skipped = 0;
    for (const auto& [start, end] : *intervals) {
        if (start < *from || start > *to) continue;
        Result<std::string> id =
            scheduler.submit_run(job.name, start, end, Scheduler::Lane::kBackfill);
        if (id.ok()) {
            ids.push_back(*id);
        } else if (id.error().code() != ErrorCode::kAlreadyExists) {
            // Scheduling stopped (a state-store write failed): nothing more will start.
            std::fprintf(stderr, "%s\n", id.error().to_string().c_str());
            return 1;
        } else {
            ++skipped;
            std::printf("skip %s\n", id.error().message().c_str());
        }
    }
    std::printf("backfill %s: %zu interval(s) to run, %zu already run, %d at a time\n",
                job.name.c_str(), ids.size(), skipped, scheduler_opts.backfill_max_active_runs);
    int failed = 0;
    std::size_t done = 0;
    for (const std::string& id : ids) {
        Result<RunSummary> summary = scheduler.wait_run(id);
        ++done;
        const std::string state = summary.ok() ? std::string(to_string(summary->run.state))
                                               : "error: " + summary.error().message();
        if (state != "success") ++failed;
        std::printf("[%zu/%zu] %s %s\n", done, ids.size(), id.c_str(), state.c_str());
        std::fflush(stdout);
    }
    std::printf("backfill %s: %zu run(s), %d failed\n", job.name.c_str(), ids.size(), failed);
    return failed == 0 ? 0 : 1;
}

int history(const Loaded& loaded, const JobsCommandOptions& options) {
    Result<StateStore> store = StateStore::open(loaded.project.data_dir + "/scheduler.db");
    if (!store.ok()) {
        std::fprintf(stderr, "%s\n", store.error().to_string().c_str());
        return 1;
    }
    auto runs = store->list_runs(options.job, options.limit);
    if (!runs.ok()) {
        std::fprintf(stderr, "%s\n", runs.error().to_string().c_str());
        return 1;
    }
    for (const RunRecord& run : *runs) {
        std::printf("%-44s %-9s %-9s version %s  %s\n", run.run_id.c_str(),
                    std::string(to_string(run.state)).c_str(), run.lane.c_str(),
                    run.version.c_str(), seconds_text(run.started_at, run.finished_at).c_str());
        if (!options.job.empty() || options.limit <= 5) {
            auto attempts = store->attempts_of_run(run.run_id);
            if (!attempts.ok()) continue;
            for (const AttemptRecord& a : *attempts) {
                std::printf("    %-22s attempt %d  %-10s exit %-4d %-9s %s\n", a.task.c_str(),
                            a.attempt, std::string(to_string(a.state)).c_str(), a.exit_code,
                            seconds_text(a.started_at, a.finished_at).c_str(), a.message.c_str());
            }
        }
    }
    if (runs->empty()) std::printf("no runs yet\n");
    return 0;
}

int logs(const Loaded& loaded, const JobsCommandOptions& options) {
    Result<StateStore> store = StateStore::open(loaded.project.data_dir + "/scheduler.db");
    if (!store.ok()) {
        std::fprintf(stderr, "%s\n", store.error().to_string().c_str());
        return 1;
    }
    auto attempts = store->attempts_of_run(options.run);
    if (!attempts.ok() || attempts->empty()) {
        std::fprintf(stderr, "error: no attempts for run `%s` (see `millrace jobs history`)\n",
                     options.run.c_str());
        return 1;
    }
    for (const AttemptRecord& a : *attempts) {
        if (!options.task.empty() && a.task != options.task) continue;
        std::printf("==> %s attempt %d (%s) %s <==\n", a.task.c_str(), a.attempt,
                    std::string(to_string(a.state)).c_str(), a.log_path.c_str());
        std::ifstream in(a.log_path);
        std::string line;
        while (std::getline(in, line)) std::printf("%s\n", line.c_str());
    }
    return 0;
}

int serve(const Loaded& loaded) {
    // Block the stop signals in every thread (task processes get them unblocked) and wait for
    // one here.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    SystemClock clock;
    LineageRecorder lineage(loaded.project);
    MetricsRegistry metrics;
    Logger logger;
    LineageDeliverer lineage_deliverer(loaded.project.data_dir, loaded.project.lineage.url, metrics,
                                       logger);
    lineage_deliverer.start();
    SchedulerOptions options = scheduler_options(lineage);
    options.process_command = "millrace jobs serve";
    Scheduler scheduler(loaded.project, loaded.jobs, options, clock);
    if (Status claimed = scheduler.claim_schedules(); !claimed.ok()) {
        std::fprintf(stderr, "error: %s\n", claimed.error().message().c_str());
        return 1;
    }
    if (Status started = scheduler.start(); !started.ok()) {
        std::fprintf(stderr, "%s\n", started.error().to_string().c_str());
        return 1;
    }
    if (Status enabled = scheduler.enable_schedules(); !enabled.ok()) {
        std::fprintf(stderr, "%s\n", enabled.error().to_string().c_str());
        return 1;
    }
    std::fprintf(stderr, "scheduler serving %zu job(s) of %s; SIGTERM or Ctrl-C stops\n",
                 loaded.jobs.size(), loaded.project.name.c_str());
    // Wakes once a second to see whether scheduling stopped (a failed state-store write): then
    // exits 1 with the reason, so a supervisor notices instead of a scheduler that fires nothing.
    const timespec tick{1, 0};
    int signal = -1;
    while (signal < 0) {
        signal = sigtimedwait(&stop_signals, nullptr, &tick);
        if (signal >= 0) break;
        if (Status health = scheduler.health(); !health.ok()) {
            std::fprintf(stderr, "%s\n", health.error().to_string().c_str());
            scheduler.stop();
            return 1;
        }
    }
    std::fprintf(stderr, "scheduler stopping (%s)\n", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    scheduler.stop();
    return 0;
}

}  // namespace

int run_jobs_command(const JobsCommandOptions& options) {
    std::optional<Loaded> loaded = load(options.project_dir);
    if (!loaded) return 1;
    const std::string& action = options.action;
    if (action == "list") return list_jobs(*loaded);
    if (action == "history") return history(*loaded, options);
    if (action == "logs") return logs(*loaded, options);
    if (action == "serve") return serve(*loaded);
    const JobDefinition* job = find_job(*loaded, options.job);
    if (job == nullptr) return 1;
    if (action == "show") return show_job(*job);
    if (action == "run") return run_job(*loaded, *job, options);
    if (action == "backfill") return backfill(*loaded, *job, options);
    std::fprintf(stderr, "error: unknown jobs action `%s`\n", action.c_str());
    return 1;
}

}  // namespace millrace
