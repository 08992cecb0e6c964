#include "scheduler/run_metrics.h"

#include <gtest/gtest.h>

#include "common/metrics_registry.h"

namespace millrace {
namespace {

TEST(RunMetrics, SeriesExistBeforeTheFirstRun) {
    MetricsRegistry registry;
    JobDefinition job;
    job.name = "nightly";
    RunMetrics metrics(registry, {job});
    const std::string text = registry.render_prometheus();
    EXPECT_NE(text.find("millrace_job_runs_started_total{job_name=\"nightly\"} 0"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("millrace_job_runs_total{job_name=\"nightly\",state=\"failed\"} 0"),
              std::string::npos);
    EXPECT_NE(text.find("millrace_job_run_seconds_count{job_name=\"nightly\"} 0"),
              std::string::npos);
}

TEST(RunMetrics, CountsRunsTasksAndDurations) {
    MetricsRegistry registry;
    RunMetrics metrics(registry, {});
    RunRecord run;
    run.job = "nightly";
    run.created_at = 1'000'000;
    run.started_at = 3'000'000;
    metrics.run_started(run);
    RunSummary summary;
    summary.run = run;
    summary.run.state = RunState::kFailed;
    summary.run.finished_at = 7'000'000;
    TaskRecord ok;
    ok.state = TaskState::kSuccess;
    ok.started_at = 3'000'000;
    ok.finished_at = 4'000'000;
    TaskRecord failed = ok;
    failed.state = TaskState::kFailed;
    TaskRecord never = ok;
    never.state = TaskState::kUpstreamFailed;
    never.started_at = 0;  // never ran: no duration
    summary.tasks = {ok, failed, never};
    metrics.run_finished(summary);
    const std::string text = registry.render_prometheus();
    EXPECT_NE(text.find("millrace_job_runs_started_total{job_name=\"nightly\"} 1"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("millrace_job_runs_total{job_name=\"nightly\",state=\"failed\"} 1"),
              std::string::npos);
    EXPECT_NE(text.find("millrace_job_run_seconds_sum{job_name=\"nightly\"} 4"), std::string::npos);
    EXPECT_NE(text.find("millrace_job_run_queue_seconds_sum{job_name=\"nightly\"} 2"),
              std::string::npos);
    EXPECT_NE(
        text.find("millrace_job_tasks_total{job_name=\"nightly\",state=\"upstream_failed\"} 1"),
        std::string::npos);
    EXPECT_NE(text.find("millrace_job_task_seconds_count{job_name=\"nightly\"} 2"),
              std::string::npos);
}

}  // namespace
}  // namespace millrace
