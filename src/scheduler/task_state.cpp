#include "scheduler/task_state.h"

#include <array>
#include <utility>

namespace millrace {

namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> parse(const std::array<std::pair<Enum, std::string_view>, N>& names,
                          std::string_view text) {
    for (const auto& [value, name] : names) {
        if (name == text) return value;
    }
    return std::nullopt;
}

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                         Enum value) {
    for (const auto& [candidate, name] : names) {
        if (candidate == value) return name;
    }
    return "unknown";
}

constexpr std::array<std::pair<RunState, std::string_view>, 4> kRunStates{{
    {RunState::kQueued, "queued"},
    {RunState::kRunning, "running"},
    {RunState::kSuccess, "success"},
    {RunState::kFailed, "failed"},
}};

constexpr std::array<std::pair<TaskState, std::string_view>, 8> kTaskStates{{
    {TaskState::kPending, "pending"},
    {TaskState::kQueued, "queued"},
    {TaskState::kRunning, "running"},
    {TaskState::kUpForRetry, "up_for_retry"},
    {TaskState::kSuccess, "success"},
    {TaskState::kFailed, "failed"},
    {TaskState::kUpstreamFailed, "upstream_failed"},
    {TaskState::kSkipped, "skipped"},
}};

constexpr std::array<std::pair<AttemptState, std::string_view>, 6> kAttemptStates{{
    {AttemptState::kRunning, "running"},
    {AttemptState::kSuccess, "success"},
    {AttemptState::kFailed, "failed"},
    {AttemptState::kTimedOut, "timed_out"},
    {AttemptState::kOrphaned, "orphaned"},
    {AttemptState::kSkipped, "skipped"},
}};

}  // namespace

std::string_view to_string(RunState state) { return name_of(kRunStates, state); }
std::string_view to_string(TaskState state) { return name_of(kTaskStates, state); }
std::string_view to_string(AttemptState state) { return name_of(kAttemptStates, state); }

std::optional<RunState> parse_run_state(std::string_view text) { return parse(kRunStates, text); }
std::optional<TaskState> parse_task_state(std::string_view text) {
    return parse(kTaskStates, text);
}
std::optional<AttemptState> parse_attempt_state(std::string_view text) {
    return parse(kAttemptStates, text);
}

bool is_terminal(RunState state) {
    return state == RunState::kSuccess || state == RunState::kFailed;
}

bool is_terminal(TaskState state) {
    return state == TaskState::kSuccess || state == TaskState::kFailed ||
           state == TaskState::kUpstreamFailed || state == TaskState::kSkipped;
}

bool is_satisfied(TaskState state) {
    return state == TaskState::kSuccess || state == TaskState::kSkipped;
}

}  // namespace millrace
