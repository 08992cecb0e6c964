#pragma once

#include <optional>
#include <string_view>

namespace millrace {

/// The life of a run. Stored in `scheduler.db` and shown by the CLI and the jobs API as the
/// strings to_string() returns; those strings are a stable format.
enum class RunState { kQueued, kRunning, kSuccess, kFailed };

/// The life of a task instance in a run:
///
///   pending -> queued -> running -> success | skipped
///                           |  \---> up_for_retry -> queued ...
///                           \------> failed -> (downstream) upstream_failed
enum class TaskState {
    kPending,
    kQueued,
    kRunning,
    kUpForRetry,
    kSuccess,
    kFailed,
    kUpstreamFailed,
    kSkipped,
};

/// How one attempt of a task ended (kRunning while it runs).
enum class AttemptState { kRunning, kSuccess, kFailed, kTimedOut, kOrphaned, kSkipped };

std::string_view to_string(RunState state);
std::string_view to_string(TaskState state);
std::string_view to_string(AttemptState state);
/// nullopt for a string no version of the scheduler writes.
std::optional<RunState> parse_run_state(std::string_view text);
std::optional<TaskState> parse_task_state(std::string_view text);
std::optional<AttemptState> parse_attempt_state(std::string_view text);

/// A run or task in this state will not change again (unless re-run).
bool is_terminal(RunState state);
bool is_terminal(TaskState state);
/// A task in this state lets its downstream tasks start.
bool is_satisfied(TaskState state);

}  // namespace millrace
