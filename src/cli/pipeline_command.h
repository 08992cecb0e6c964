#pragma once

#include <string>

namespace millrace {

/// `millrace pipeline <action> <project> [pipeline]`: the streaming pipelines a running
/// `millrace serve` supervises, through its HTTP API (`/v1/pipelines`):
///
///   list    every streaming pipeline: state, records in/out/dead-lettered/late, restarts
///   status  one pipeline (or all) in detail: last error, restart budget, commits, watermark
///   stop    stops it, waiting until it has committed
///   start   starts a stopped or failed one with a fresh restart budget (--allow-state-drop:
///           it may drop saved state no current view can use)
///   plan    no server needed: which saved state the project as it is now keeps, drops
///           (and why) or starts empty (pipeline/state_plan.h); exit 2 when state would be
///           dropped, unless --allow-state-drop
///
/// The server is found at `--url`, else at the address `millrace serve` recorded in the log's
/// lock file, else at the project's `listen.http`; `MILLRACE_TOKEN` is sent as the bearer token.
struct PipelineControlOptions {
    std::string action;
    std::string project_dir;
    std::string pipeline;  // required by stop and start
    std::string url;       // http://host:port of the server; "" = find it
    bool json = false;     // print the API's JSON as it is
    /// plan: compare with this savepoint instead of the latest checkpoint.
    std::string from_savepoint;
    /// plan: exit 0 even when state would be dropped; start: let the runs drop it.
    bool allow_state_drop = false;
};

/// Exit 0 on success, 1 when the server cannot be reached or refuses (plan: the project cannot
/// be planned), 2 when plan finds state that would be dropped.
int run_pipeline_control(const PipelineControlOptions& options);

}  // namespace millrace
