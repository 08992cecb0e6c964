#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "project/project.h"
#include "scheduler/job_definition.h"

namespace millrace {

/// Interprets a job document (jobs/*.yaml, kept raw by the project loader as JobSpec) into a
/// JobDefinition and validates its DAG: unknown keys, task kinds and dependencies get a
/// did-you-mean, a missing pipeline or a bad cron expression, time zone or template names its
/// file:line:column, and a cycle is reported as `a -> b -> a`.
///
/// `source_text` is the file's text, kept in the definition for versioning (job runs are pinned
/// to it). Every error found is appended to `errors`; the result is the first one.
Result<JobDefinition> parse_job(const ConfigNode& root, const std::string& file,
                                const std::string& source_text, const Project& project,
                                std::vector<Error>& errors);

/// Reads the file of a JobSpec and parses it.
Result<JobDefinition> load_job(const JobSpec& spec, const Project& project,
                               std::vector<Error>& errors);

/// Parses a job from its stored text (a pinned version), as parse_job.
Result<JobDefinition> parse_job_text(const std::string& source_text, const std::string& file,
                                     const Project& project);

/// Checks the DAG of `job` (names resolved, acyclic) and fills upstream/downstream. Called by
/// parse_job; public for tests and for programmatically built jobs.
Status link_tasks(JobDefinition& job, std::vector<Error>& errors);

}  // namespace millrace
