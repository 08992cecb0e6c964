#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "scheduler/job_definition.h"
#include "scheduler/state_store.h"
#include "scheduler/task_state.h"
#include "scheduler/time_zone.h"

namespace millrace {

using RunWaiter = std::shared_ptr<std::promise<Result<RunSummary>>>;

/// One task of a run while the scheduler holds the run: its state machine (task_state.h) and
/// the attempt in progress. Owned by the event loop thread.
struct TaskSlot {
    TaskState state = TaskState::kPending;
    int attempt = 0;
    int first_attempt = 1;  // retries count from here (a re-run gets a fresh budget)
    int waiting_upstream = 0;
    int64_t pid = 0;  // the current attempt's process, 0 before it starts or without one
    int64_t started = 0;
    int64_t finished = 0;
    std::string log_path;
    std::string message;
    uint64_t generation = 0;  // bumps per attempt; stale timers and reports compare it
    bool timed_out = false;
    bool failed_before = false;
    bool sla_reported = false;
    bool queued = false;
};

/// A run the scheduler holds (queued or running), with its pinned job definition.
struct ActiveRun {
    RunRecord record;
    std::shared_ptr<const JobDefinition> job;
    TimeZone zone = TimeZone::utc();
    std::vector<TaskSlot> tasks;
    std::size_t unfinished = 0;
    bool admitted = false;
    std::vector<RunWaiter> waiters;
};

}  // namespace millrace
