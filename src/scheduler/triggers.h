#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "scheduler/job_definition.h"

namespace millrace {

class EventLoop;

/// The data intervals [start, end) of a scheduled job whose end lies in (from, to].
Result<std::vector<std::pair<int64_t, int64_t>>> job_intervals(const JobDefinition& job,
                                                               int64_t from, int64_t to);
/// The last complete interval at `now` of a scheduled job ((now, now) without a schedule).
Result<std::pair<int64_t, int64_t>> latest_job_interval(const JobDefinition& job, int64_t now);

/// What starts runs besides a caller: cron schedules (with catch-up of missed intervals), file
/// triggers (new matches of a glob) and topic triggers (new records in a log topic). Each is a
/// timer on the event loop that re-arms itself; a firing submits a run through `submit` (the
/// scheduler's own submit, which refuses an interval that already ran and refuses everything
/// once scheduling stopped).
///
/// Threads: everything runs on the loop thread; the jobs map outlives this object.
class Triggers {
public:
    using JobMap = std::map<std::string, std::shared_ptr<const JobDefinition>>;
    /// Starts a scheduled run of `job` for [start, end); the run id or why not.
    using SubmitFn =
        std::function<Result<std::string>(const std::string& job, int64_t start, int64_t end)>;
    using EmitFn = std::function<void(const std::string&)>;
    using TopicRecordsFn = std::function<std::optional<int64_t>(const std::string& topic)>;

    Triggers(EventLoop& loop, const Clock& clock, const JobMap& jobs, SubmitFn submit, EmitFn emit,
             TopicRecordsFn topic_records);

    /// Submits the intervals a scheduled job missed since `last_end` (the end of its newest
    /// run, nullopt when none): all of them with `catchup: true`, else only the latest.
    Status catch_up(const JobDefinition& job, std::optional<int64_t> last_end);
    /// Fires the job's schedule at its next tick after `after`, and again after each firing.
    void arm_cron(const std::string& job, int64_t after);
    /// Starts polling every file and topic trigger of every job.
    void start_polling();

private:
    void poll_topic(const std::string& job, std::size_t index,
                    const std::shared_ptr<int64_t>& baseline);
    void poll_file(const std::string& job, std::size_t index,
                   const std::shared_ptr<std::set<std::string>>& seen);

    EventLoop& loop_;
    const Clock& clock_;
    const JobMap& jobs_;
    SubmitFn submit_;
    EmitFn emit_;
    TopicRecordsFn topic_records_;
};

}  // namespace millrace
