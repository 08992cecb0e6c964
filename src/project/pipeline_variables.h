#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "project/project.h"

namespace millrace {

/// Variables in a pipeline's file paths: `file: incoming/sales_{{ ds_nodash }}.csv` reads the
/// one day a run is for. A run gets its values from `millrace run --var ds=2026-11-03` or, for a
/// job's `pipeline` task, from the scheduler (the run's data interval); a pipeline may declare
/// its own variables with defaults under `vars:` (`vars: { ds_nodash: "*" }` reads every day's
/// file when no day is given).
///
/// Known names: the built-in ones below and those the pipeline declares. Any other name is a
/// config error at the `{{` that uses it.
///
///   ds                   the day, YYYY-MM-DD (a job: its interval start's date in its zone)
///   ds_nodash            YYYYMMDD; derived from `ds` when only `ds` is given
///   data_interval_start  RFC 3339 UTC, from the scheduler
///   data_interval_end    RFC 3339 UTC, from the scheduler
///   run_id               the scheduler's run id
bool is_builtin_pipeline_variable(std::string_view name);

/// Checks `text` without rendering it: every `{{` is closed by `}}` and names a built-in
/// variable or one of `declared`. Errors are kConfig with line 1 and the 1-based column of the
/// `{{` inside `text` (the caller maps it into the file).
Status check_pipeline_variables(std::string_view text,
                                const std::map<std::string, std::string>& declared);

/// The values of a run: `given` (name=value from the command line or the scheduler) wins, then
/// `ds_nodash` derived from a given `ds`, then the pipeline's declared defaults. A given name
/// that is neither built in nor declared is an error.
Result<std::map<std::string, std::string>> pipeline_variable_values(
    const PipelineSpec& pipeline, const std::map<std::string, std::string>& given);

/// The pipeline with every file path of its sources and sinks rendered from the values of
/// `given` (see pipeline_variable_values). A path using a variable that has no value is an
/// error at that path, unless `assumed` is given (`millrace validate`): then the variable
/// stands for `*` (any file), and every value not given (`*` or a declared default) is noted in
/// `assumed`.
Result<PipelineSpec> bind_pipeline_variables(const PipelineSpec& pipeline,
                                             const std::map<std::string, std::string>& given,
                                             std::vector<std::string>* assumed = nullptr);

/// Parses `name=value` pairs (`--var`); kInvalidArgument for a pair without `=` or a name.
Result<std::map<std::string, std::string>> parse_variable_assignments(
    const std::vector<std::string>& assignments);

}  // namespace millrace
