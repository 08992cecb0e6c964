#pragma once

#include <string>

namespace millrace {

/// `millrace pipeline <action> <project> [pipeline]`: the streaming pipelines a running
/// `millrace serve` supervises, through its HTTP API (`/v1/pipelines`):
///
///   list    every streaming pipeline: state, records in/out/dead-lettered/late, restarts
///   status  one pipeline (or all) in detail: last error, restart budget, commits, watermark
///   stop    stops it, waiting until it has committed
///   start   starts a stopped or failed one with a fresh restart budget
///
/// The server is found at `--url`, else at the address `millrace serve` recorded in the log's
/// lock file, else at the project's `listen.http`; `MILLRACE_TOKEN` is sent as the bearer token.
struct PipelineControlOptions {
    std::string action;
    std::string project_dir;
    std::string pipeline;  // required by stop and start
    std::string url;       // http://host:port of the server; "" = find it
    bool json = false;     // print the API's JSON as it is
};

/// Exit 0 on success, 1 when the server cannot be reached or refuses.
int run_pipeline_control(const PipelineControlOptions& options);

}  // namespace millrace
