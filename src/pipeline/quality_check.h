#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "pipeline/dataset_rules.h"
#include "project/project.h"

namespace millrace {

class Clock;

/// What `millrace check` found for one pipeline.
struct PipelineCheckReport {
    std::string pipeline;
    std::vector<RuleResult> results;  // every rule judged, in the pipeline's order
    /// Why the pipeline's rules were not judged (a streaming pipeline, a kafka source); the
    /// results are then empty.
    std::string skipped;
};

/// Runs the quality rules of `pipeline` on demand, on the data its sources hold now, without
/// writing anything a run writes (no sink, no dead letters, no commit counter, no consumer
/// offsets): `millrace check`. Only rules on `dataset` when it is not empty (a source or view
/// of the pipeline).
///
/// Every rule is judged on the whole dataset: dataset rules as in a run; a row-level check as
/// "every row passes" (observed: the fraction passing), with severity `error` when its on_fail
/// is `fail` and `warn` otherwise (a run would have dead-lettered, dropped or kept those rows,
/// not failed). The results are appended to `<data_dir>/checks/<pipeline>.ndjson` like a run's.
///
/// Streaming pipelines and pipelines with kafka sources (their reads would move a consumer
/// group) are reported as skipped. Topic sources read the project's log, so `millrace serve`
/// must not hold it. Errors: what a run of the pipeline would fail with before judging (an
/// unreadable source, bad SQL).
Result<PipelineCheckReport> check_pipeline_rules(const Project& project,
                                                 const PipelineSpec& pipeline,
                                                 const std::string& dataset, const Clock* clock);

/// The rules of the views `pipeline` writes into lake table `table` (its lake sinks), judged on
/// the table's current snapshot, at rest: the same judgement as check_pipeline_rules, the
/// results labelled with the table's name and appended to the pipeline's results file. Empty
/// results when no such view has rules; kNotFound when the table cannot be read.
Result<PipelineCheckReport> check_lake_table_rules(const Project& project,
                                                   const PipelineSpec& pipeline,
                                                   const std::string& table, const Clock* clock);

/// Whether a failed result fails the check (severity error).
bool check_failed(const std::vector<RuleResult>& results);

}  // namespace millrace
