#pragma once

#include <vector>

#include "scheduler/job_definition.h"
#include "scheduler/state_store.h"

namespace millrace {

class MetricsRegistry;

/// The scheduler's metrics, fed by SchedulerOptions::on_run_started and on_run_finished
/// (`millrace serve` wires them; docs/metrics.md):
///
///   millrace_job_runs_started_total{job_name}        counter
///   millrace_job_runs_total{job_name,state}          counter, final state (success, failed)
///   millrace_job_run_seconds{job_name}               histogram, start to end
///   millrace_job_run_queue_seconds{job_name}         histogram, creation to start (waiting
///                                                    for a concurrency budget)
///   millrace_job_tasks_total{job_name,state}         counter, final task states
///   millrace_job_task_seconds{job_name}              histogram, each finished task's duration
///
/// The label is `job_name`, not `job`: Prometheus gives every scraped series the target label
/// `job` (the scrape job), and renames a clashing exported one to `exported_job`.
/// Every job's series exist from construction, so rates are defined before the first run.
/// Threads: called on the scheduler thread; the registry's metrics are lock-free.
class RunMetrics {
public:
    RunMetrics(MetricsRegistry& metrics, const std::vector<JobDefinition>& jobs);

    void run_started(const RunRecord& run);
    void run_finished(const RunSummary& summary);

private:
    MetricsRegistry& metrics_;
};

}  // namespace millrace
