#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace millrace {

/// What a task does. `pipeline`, `materialize` and `compact` run `millrace run`, `millrace
/// materialize` and `millrace lake compact` in a child process.
enum class TaskKind { kPipeline, kShell, kHttp, kWaitForFile, kMaterialize, kCompact };

/// "pipeline", "shell", "http", "wait_for_file", "materialize", "compact".
std::string_view enum_name(TaskKind kind);

/// How often and how patiently a task is retried after a failed attempt. The delay before
/// attempt n+1 is min(max_delay, delay * 2^(n-1)) scaled by a deterministic jitter in
/// [0.5, 1.0) (retry_backoff.h).
struct RetryPolicy {
    int retries = 0;  // attempts after the first
    std::chrono::microseconds delay{std::chrono::seconds(10)};
    std::chrono::microseconds max_delay{std::chrono::minutes(10)};
};

/// What to do with an attempt found running when the scheduler starts (its scheduler died).
enum class OrphanPolicy { kRetry, kFail };

/// One node of a job's DAG, as written in `tasks:` of a jobs/*.yaml file. Text fields may hold
/// `{{ ds }}`-style parameters (template.h), filled in per run.
struct TaskDefinition {
    std::string name;
    SourceLocation location;  // the task's key under `tasks:`
    TaskKind kind = TaskKind::kShell;
    std::vector<std::string> depends_on;
    std::vector<SourceLocation> depends_on_locations;
    std::string pipeline;                    // kPipeline
    std::string command;                     // kShell: run by /bin/sh -c
    std::map<std::string, std::string> env;  // kShell: added to the scheduler's environment
    std::string cwd;                         // kShell: absolute; default the project root
    std::string url;                         // kHttp
    std::string method = "GET";              // kHttp
    std::string body;                        // kHttp
    int expected_status = 200;               // kHttp
    std::string path;                        // kWaitForFile: a glob, relative to the project
    std::chrono::microseconds poke_interval{std::chrono::seconds(5)};  // kWaitForFile
    std::string target;  // kMaterialize: a feature view; kCompact: a lake table
    RetryPolicy retry;
    std::optional<std::chrono::microseconds> timeout;
    /// The task must succeed within this long after its run's interval ends.
    std::optional<std::chrono::microseconds> sla;
    std::string pool;  // "" = no pool

    // Filled in by the parser from depends_on: indices into JobDefinition::tasks.
    std::vector<std::size_t> upstream;
    std::vector<std::size_t> downstream;
};

/// `triggers: [{ file: <glob>, poke_interval: 5s }]`: while the scheduler serves, a poll that
/// sees files matching the glob that were not there before starts a run (interval [t, t) at the
/// poll time t). Files present when the scheduler starts count as seen.
struct FileTrigger {
    std::string pattern;  // absolute
    std::chrono::microseconds poke_interval{std::chrono::seconds(5)};
    SourceLocation location;
};

/// `triggers: [{topic: orders, records: 1000}]`: a run starts each time at least `records` new
/// records have arrived in the log topic since the last check that fired (needs the embedded
/// log: `millrace serve` provides it).
struct TopicTrigger {
    std::string topic;
    int64_t records = 1;
    std::chrono::microseconds poke_interval{std::chrono::seconds(1)};
    SourceLocation location;
};

/// A job (jobs/*.yaml): a DAG of tasks with a schedule and an execution policy. Plain values;
/// built by job_parser.h. `source_text` is the file as written and `version` a hash of it, so
/// each run can be pinned to the definition it started with.
struct JobDefinition {
    std::string name;
    std::string file;
    SourceLocation location;
    std::string description;
    std::string schedule;  // a cron expression; "" = runs only when triggered
    std::string timezone = "UTC";
    bool catchup = false;
    std::optional<int64_t> start_date_micros;  // first interval starts at or after this
    int max_active_runs = 1;
    int max_active_tasks = 16;
    std::map<std::string, int> pools;  // pool name -> slots, shared by every job naming it
    OrphanPolicy on_orphan = OrphanPolicy::kRetry;
    std::vector<std::string> webhooks;  // URLs notified of failures, recoveries, SLA misses
    std::vector<FileTrigger> file_triggers;
    std::vector<TopicTrigger> topic_triggers;
    std::vector<TaskDefinition> tasks;  // file order
    std::string source_text;
    std::string version;  // 16 hex digits

    const TaskDefinition* find_task(std::string_view task_name) const;
    std::optional<std::size_t> task_index(std::string_view task_name) const;
};

}  // namespace millrace
