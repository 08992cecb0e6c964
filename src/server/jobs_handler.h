#pragma once

#include <memory>
#include <string>

#include "server/router.h"

namespace millrace {

class Scheduler;
class StateStore;

/// The scheduler's admin API on the server (ARCHITECTURE §7, issue #7):
///
///   GET  /v1/jobs                      jobs with schedule, triggers and tasks
///   POST /v1/jobs/{job}/trigger        start a run now (seed 004's API-triggered job); optional
///                                      JSON body {"interval_start": "...", "interval_end": "..."}
///                                      (RFC 3339); 202 {"run_id": ...}, 409 when that interval's
///                                      run exists
///   GET  /v1/runs?job=&limit=          recent runs, newest first
///   GET  /v1/runs/{run}                one run with its tasks (state, attempts, log path)
///
/// Threads: handlers run on server threads; the Scheduler's public methods are thread-safe and
/// the state store is read through its own SQLite connection, guarded by a mutex.
class JobsHandler {
public:
    JobsHandler(Scheduler& scheduler, std::unique_ptr<StateStore> store);
    ~JobsHandler();
    void add_routes(Router& router);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
