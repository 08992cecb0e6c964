#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace millrace {

class Clock;

struct RunCommandOptions {
    std::string project_dir;
    std::string pipeline;
    std::string memory_limit;       // e.g. 4G, 512M; "" = default
    std::vector<std::string> vars;  // name=value for {{ name }} in file paths
    const Clock* clock = nullptr;   // now() and current_date; null = the system clock
    // mode: streaming only
    std::string duration;              // "30s": stop after this long; "" = until stopped
    bool until_idle = false;           // stop once no source delivered anything for `idle`
    std::string idle = "2s";           // with until_idle
    std::size_t keep_checkpoints = 3;  // complete checkpoints kept
    std::string savepoint;             // stop with a savepoint in this folder
    std::string from_savepoint;        // start from this savepoint
    bool allow_state_drop = false;     // start even if saved state no view can use is dropped
    std::string commit_interval;       // "10s" default: lake/topic/online sinks commit this often
    /// text: the report for people; json: the report as JSON log lines on stdout (pipeline,
    /// run_id, and job_run when a job's task started the run).
    std::string log_format = "text";
};

/// `millrace run <project> <pipeline>`: runs a batch pipeline to completion, or a streaming one
/// until --duration, --until-idle or SIGINT/SIGTERM, and prints rows read/rejected per
/// source, rows written per sink, dead letters with their reasons and where they went, and the
/// time taken. Exit 0 on success, 1 on any error (printed as file:line:column: error: ...).
int run_pipeline_command(const RunCommandOptions& options);

/// `millrace explain <project> <pipeline>`: prints the optimized plan of every sink.
int run_explain_command(const RunCommandOptions& options);

}  // namespace millrace
