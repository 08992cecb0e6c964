#pragma once

#include <string>

#include "server/router.h"

namespace millrace {

class Clock;
class PipelineSupervisor;
struct PipelineStatus;

/// The streaming pipelines that `millrace serve` runs (pipeline/pipeline_supervisor.h), over
/// HTTP, in the "admin" group:
///
///   GET  /v1/pipelines                 every streaming pipeline: {"pipelines": [...]}
///   GET  /v1/pipelines/{pipeline}      one of them
///   POST /v1/pipelines/{pipeline}/stop    stops it (waits until it has); 200 with its status
///   POST /v1/pipelines/{pipeline}/start   starts a stopped or failed one with a fresh restart
///                                         budget; 409 when it is running or restarting
///
/// A pipeline is {"name", "state": "running"|"restarting"|"failed"|"stopped", "since",
/// "reason", "last_error", "last_error_at", "restarts", "restart_budget", "total_restarts",
/// "next_restart_at", "run_started_at", "records": {"in", "out", "dead_lettered", "late",
/// "filtered"}, "commits", "last_commit_at", "watermark", "watermark_lag_ms"}; times are
/// RFC 3339 strings or null, "" for no reason or error. Unknown names are 404.
///
/// Threads: handlers run on server threads; the supervisor is thread-safe.
class PipelinesHandler {
public:
    /// `supervisor` and `clock` (the watermark's lag) must outlive the handler.
    PipelinesHandler(PipelineSupervisor& supervisor, const Clock& clock);
    void add_routes(Router& router);

    /// One pipeline as the API shows it.
    std::string to_json(const PipelineStatus& status) const;

private:
    PipelineSupervisor& supervisor_;
    const Clock& clock_;
};

}  // namespace millrace
