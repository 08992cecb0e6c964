#include "scheduler/run_metrics.h"

#include <string>

#include "common/metrics_registry.h"
#include "scheduler/task_state.h"

namespace millrace {

namespace {

constexpr std::string_view kStartedHelp = "Job runs started, by job.";
constexpr std::string_view kRunsHelp = "Job runs finished, by job and final state.";
constexpr std::string_view kRunSecondsHelp = "Time from a job run's start to its end, in seconds.";
constexpr std::string_view kQueueHelp =
    "Time a job run waited from its creation to its start (concurrency limits), in seconds.";
constexpr std::string_view kTasksHelp = "Tasks of finished job runs, by job and final state.";
constexpr std::string_view kTaskSecondsHelp =
    "Time from a task's first start to its end (retries included), in seconds.";

std::vector<double> duration_buckets() { return exponential_buckets(0.01, 4, 10); }

double seconds_between(int64_t from_micros, int64_t to_micros) {
    return static_cast<double>(to_micros - from_micros) / 1e6;
}

}  // namespace

RunMetrics::RunMetrics(MetricsRegistry& metrics, const std::vector<JobDefinition>& jobs)
    : metrics_(metrics) {
    for (const JobDefinition& job : jobs) {
        const MetricLabels labels{{"job_name", job.name}};
        metrics_.counter("millrace_job_runs_started_total", kStartedHelp, labels);
        for (RunState state : {RunState::kSuccess, RunState::kFailed}) {
            metrics_.counter("millrace_job_runs_total", kRunsHelp,
                             {{"job_name", job.name}, {"state", std::string(to_string(state))}});
        }
        metrics_.histogram("millrace_job_run_seconds", kRunSecondsHelp, labels, duration_buckets());
        metrics_.histogram("millrace_job_run_queue_seconds", kQueueHelp, labels,
                           duration_buckets());
        metrics_.histogram("millrace_job_task_seconds", kTaskSecondsHelp, labels,
                           duration_buckets());
    }
}

void RunMetrics::run_started(const RunRecord& run) {
    const MetricLabels labels{{"job_name", run.job}};
    metrics_.counter("millrace_job_runs_started_total", kStartedHelp, labels).increment();
    if (run.created_at > 0 && run.started_at >= run.created_at) {
        metrics_.histogram("millrace_job_run_queue_seconds", kQueueHelp, labels, duration_buckets())
            .observe(seconds_between(run.created_at, run.started_at));
    }
}

void RunMetrics::run_finished(const RunSummary& summary) {
    const RunRecord& run = summary.run;
    const MetricLabels labels{{"job_name", run.job}};
    metrics_
        .counter("millrace_job_runs_total", kRunsHelp,
                 {{"job_name", run.job}, {"state", std::string(to_string(run.state))}})
        .increment();
    if (run.started_at > 0 && run.finished_at >= run.started_at) {
        metrics_.histogram("millrace_job_run_seconds", kRunSecondsHelp, labels, duration_buckets())
            .observe(seconds_between(run.started_at, run.finished_at));
    }
    for (const TaskRecord& task : summary.tasks) {
        metrics_
            .counter("millrace_job_tasks_total", kTasksHelp,
                     {{"job_name", run.job}, {"state", std::string(to_string(task.state))}})
            .increment();
        if (task.started_at > 0 && task.finished_at >= task.started_at) {
            metrics_
                .histogram("millrace_job_task_seconds", kTaskSecondsHelp, labels,
                           duration_buckets())
                .observe(seconds_between(task.started_at, task.finished_at));
        }
    }
}

}  // namespace millrace
