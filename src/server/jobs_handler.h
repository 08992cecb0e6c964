#pragma once

#include <memory>
#include <string>

#include "server/router.h"

namespace millrace {

class Clock;
class Scheduler;
class StateStore;

/// The scheduler's admin API on the server (docs/architecture.md §7):
///
///   GET  /v1/jobs                      jobs with schedule, triggers and tasks
///   POST /v1/jobs/{job}/trigger        start a run now (an API-triggered job); optional
///                                      JSON body {"interval_start": "...", "interval_end": "..."}
///                                      (RFC 3339); 202 {"run_id": ...}, 409 when that interval's
///                                      run exists, 400 when interval_start is after
///                                      interval_end (when only one is given, the other
///                                      defaults to the latest interval's, moved to meet it)
///   GET  /v1/runs?job=&limit=          recent runs, newest first
///   GET  /v1/runs/{run}                one run with its tasks (state, attempts, log path)
///   GET  /v1/runs/{run}/tasks/{task}/log?tail_bytes=
///                                      the end of the task's log (its latest attempt), as
///                                      text/plain; at most tail_bytes (default 65536, up to
///                                      1 MiB); 404 for an unknown run or task, or no log yet
///   POST /v1/runs/{run}/rerun?task=    re-runs a finished run's failed tasks (or `task`) and
///                                      what depends on them, in the same run; 202
///
/// Times are RFC 3339 strings; 1970-01-01T00:00:00Z is a time like any other. `started_at`
/// and `finished_at` are null until the run or task started or finished.
///
/// Threads: handlers run on server threads; the Scheduler's public methods are thread-safe and
/// the state store is read through its own SQLite connection, guarded by a mutex.
class JobsHandler {
public:
    /// `scheduler` and `clock` (the default interval of a trigger) must outlive the handler.
    JobsHandler(Scheduler& scheduler, std::unique_ptr<StateStore> store, const Clock& clock);
    ~JobsHandler();
    void add_routes(Router& router);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
