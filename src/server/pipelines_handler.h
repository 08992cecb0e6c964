#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

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
///                                         budget; 409 when it is running or restarting;
///                                         `?allow_state_drop=true` lets it drop saved state
///                                         no current view can use (`pipeline plan`)
///
/// A pipeline is {"name", "state": "running"|"restarting"|"failed"|"stopped", "since",
/// "reason", "last_error", "last_error_at", "restarts", "restart_budget", "total_restarts",
/// "next_restart_at", "run_started_at", "records": {"in", "out", "dead_lettered", "late",
/// "filtered"}, "commits", "last_commit_at", "operator_state": {"bytes", "keys",
/// "limit_bytes"},
/// "watermark", "watermark_lag_ms"}; times are
/// RFC 3339 strings or null, "" for no reason or error. Unknown names are 404.
///
/// Threads: the GETs answer on the server's threads; a stop or start waits for the pipeline
/// (a stop lets it commit), so it runs on the handler's own worker thread, one at a time, and
/// the server's threads go on serving meanwhile. At most 64 wait their turn; more are 503.
class PipelinesHandler {
public:
    /// `supervisor` and `clock` (the watermark's lag) must outlive the handler.
    PipelinesHandler(PipelineSupervisor& supervisor, const Clock& clock);
    /// finish().
    ~PipelinesHandler();
    PipelinesHandler(const PipelinesHandler&) = delete;
    PipelinesHandler& operator=(const PipelinesHandler&) = delete;

    void add_routes(Router& router);
    /// Runs the stops and starts already asked for, answers them, and ends the worker; later ones
    /// are 503. Call before the server stops (its responders are dropped after that).
    void finish();

    /// One pipeline as the API shows it.
    std::string to_json(const PipelineStatus& status) const;

private:
    /// Queues `action` for the worker, or answers 503 when the queue is full or finishing.
    void enqueue(std::function<HttpResponse()> action, HttpResponder respond);

    PipelineSupervisor& supervisor_;
    const Clock& clock_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> queue_;  // guarded by mutex_
    bool finishing_ = false;                   // guarded by mutex_
    std::thread worker_;
};

}  // namespace millrace
