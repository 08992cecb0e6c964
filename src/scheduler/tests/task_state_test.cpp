#include "scheduler/task_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace millrace {
namespace {

// These strings are stored in scheduler.db and shown by the CLI and the jobs API: changing one
// breaks existing databases and clients.
TEST(TaskState, StringsAreTheStoredFormat) {
    const std::vector<std::pair<RunState, std::string>> runs = {{RunState::kQueued, "queued"},
                                                                {RunState::kRunning, "running"},
                                                                {RunState::kSuccess, "success"},
                                                                {RunState::kFailed, "failed"}};
    for (const auto& [state, text] : runs) {
        EXPECT_EQ(to_string(state), text);
        EXPECT_EQ(parse_run_state(text), state);
    }
    const std::vector<std::pair<TaskState, std::string>> tasks = {
        {TaskState::kPending, "pending"},
        {TaskState::kQueued, "queued"},
        {TaskState::kRunning, "running"},
        {TaskState::kUpForRetry, "up_for_retry"},
        {TaskState::kSuccess, "success"},
        {TaskState::kFailed, "failed"},
        {TaskState::kUpstreamFailed, "upstream_failed"},
        {TaskState::kSkipped, "skipped"}};
    for (const auto& [state, text] : tasks) {
        EXPECT_EQ(to_string(state), text);
        EXPECT_EQ(parse_task_state(text), state);
    }
    const std::vector<std::pair<AttemptState, std::string>> attempts = {
        {AttemptState::kRunning, "running"},   {AttemptState::kSuccess, "success"},
        {AttemptState::kFailed, "failed"},     {AttemptState::kTimedOut, "timed_out"},
        {AttemptState::kOrphaned, "orphaned"}, {AttemptState::kSkipped, "skipped"}};
    for (const auto& [state, text] : attempts) {
        EXPECT_EQ(to_string(state), text);
        EXPECT_EQ(parse_attempt_state(text), state);
    }
}

TEST(TaskState, UnknownTextIsNotGuessed) {
    EXPECT_FALSE(parse_run_state("Success").has_value());
    EXPECT_FALSE(parse_task_state("").has_value());
    EXPECT_FALSE(parse_attempt_state("timedout").has_value());
    EXPECT_FALSE(parse_run_state("pending").has_value());  // a task state, not a run state
}

TEST(TaskState, TerminalAndSatisfied) {
    EXPECT_TRUE(is_terminal(TaskState::kUpstreamFailed));
    EXPECT_TRUE(is_terminal(TaskState::kSkipped));
    EXPECT_FALSE(is_terminal(TaskState::kUpForRetry));
    EXPECT_FALSE(is_terminal(TaskState::kRunning));
    EXPECT_TRUE(is_satisfied(TaskState::kSkipped));
    EXPECT_FALSE(is_satisfied(TaskState::kFailed));
    EXPECT_TRUE(is_terminal(RunState::kFailed));
    EXPECT_FALSE(is_terminal(RunState::kQueued));
}

}  // namespace
}  // namespace millrace
