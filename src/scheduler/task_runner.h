#pragma once

#include <cstdint>
#include <string>

#include "scheduler/job_definition.h"
#include "scheduler/template.h"

namespace millrace {

class EventLoop;

/// Names one attempt of one task of one run. `generation` grows with every attempt of the
/// task, so a report about an attempt that was given up (timed out) is recognised and dropped.
struct AttemptKey {
    std::string run_id;
    std::size_t task = 0;  // index into the job's tasks
    uint64_t generation = 0;
};

/// What a runner needs to start one attempt.
struct TaskAttempt {
    AttemptKey key;
    const TaskDefinition* task = nullptr;  // owned by the run's pinned job; outlives the attempt
    int attempt = 0;                       // 1-based
    TemplateContext context;               // `context.zone` points into the run
    std::string log_path;                  // the attempt's log file (may not exist yet)
};

/// Where a runner reports attempts; implemented by the scheduler. Called on the loop thread.
class TaskReporter {
public:
    virtual ~TaskReporter() = default;
    /// A process attempt's process started. false: the attempt was given up meanwhile (timed
    /// out, or the scheduler is stopping), and the runner kills the process.
    virtual bool attempt_started(const AttemptKey& key, int64_t pid, int64_t started_at) = 0;
    /// An attempt ended: exit code 0 success, -2 skipped, anything else failure.
    virtual void attempt_finished(const AttemptKey& key, int exit_code,
                                  const std::string& message) = 0;
};

/// Runs task attempts for the scheduler: the real one (ProcessTaskRunner) spawns processes and
/// sends HTTP requests; tests hand the scheduler a fake. Every method is called on the event
/// loop's thread, except stop(), which the scheduler calls after the loop has stopped.
class TaskRunner {
public:
    virtual ~TaskRunner() = default;
    /// Once, before the loop starts: the loop to watch descriptors and set timers on, and where
    /// to report. Both outlive the runner's use of them (until stop()).
    virtual void attach(EventLoop& loop, TaskReporter& reporter) = 0;
    /// Called at the start of every loop iteration.
    virtual void begin_iteration() {}
    /// Starts an attempt; its end is reported through attempt_finished() (possibly before
    /// start() returns, e.g. when its command cannot be rendered).
    virtual void start(const TaskAttempt& attempt) = 0;
    /// The attempt timed out: stop it. true when a process was signalled and its exit will
    /// still be reported; false when nothing is left to wait for (the scheduler finishes the
    /// attempt itself).
    virtual bool cancel(const AttemptKey& key) = 0;
    /// Kills what still runs and joins the runner's threads.
    virtual void stop() = 0;
};

}  // namespace millrace
