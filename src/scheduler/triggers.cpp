#include "scheduler/triggers.h"

#include <glob.h>

#include "common/event_loop.h"
#include "scheduler/cron_expression.h"
#include "scheduler/time_zone.h"

namespace millrace {

namespace {

constexpr int64_t kMicros = 1'000'000;
// How far back a cron expression is searched for its previous tick.
constexpr int64_t kCronLookback = int64_t{400} * 86400 * kMicros;
// At most this many intervals per query (a backfill of minutely runs over years is a mistake).
constexpr std::size_t kMaxIntervals = 100000;

std::set<std::string> glob_paths(const std::string& pattern) {
    std::set<std::string> paths;
    glob_t matches{};
    if (::glob(pattern.c_str(), 0, nullptr, &matches) == 0) {
        for (std::size_t i = 0; i < matches.gl_pathc; ++i) paths.insert(matches.gl_pathv[i]);
    }
    ::globfree(&matches);
    return paths;
}

}  // namespace

Result<std::vector<std::pair<int64_t, int64_t>>> job_intervals(const JobDefinition& job,
                                                               int64_t from, int64_t to) {
    if (job.schedule.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     "job `" + job.name + "` has no schedule, so no intervals");
    }
    MILLRACE_ASSIGN_OR_RETURN(CronExpression cron, CronExpression::parse(job.schedule));
    MILLRACE_ASSIGN_OR_RETURN(TimeZone zone, TimeZone::load(job.timezone));
    std::vector<std::pair<int64_t, int64_t>> out;
    std::optional<int64_t> previous = cron.last_at_or_before(from, zone, kCronLookback);
    std::optional<int64_t> t = cron.next_after(from, zone);
    if (!previous) previous = t;
    while (t && *t <= to && out.size() < kMaxIntervals) {
        if (*previous < *t) out.emplace_back(*previous, *t);
        previous = t;
        t = cron.next_after(*t, zone);
    }
    return out;
}

Result<std::pair<int64_t, int64_t>> latest_job_interval(const JobDefinition& job, int64_t now) {
    if (job.schedule.empty()) return std::make_pair(now, now);
    MILLRACE_ASSIGN_OR_RETURN(CronExpression cron, CronExpression::parse(job.schedule));
    MILLRACE_ASSIGN_OR_RETURN(TimeZone zone, TimeZone::load(job.timezone));
    std::optional<int64_t> end = cron.last_at_or_before(now, zone, kCronLookback);
    if (!end) return Error(ErrorCode::kNotFound, "job `" + job.name + "` never fired yet");
    std::optional<int64_t> start = cron.last_at_or_before(*end - 1, zone, kCronLookback);
    return std::make_pair(start.value_or(*end), *end);
}

Triggers::Triggers(EventLoop& loop, const Clock& clock, const JobMap& jobs, SubmitFn submit,
                   EmitFn emit, TopicRecordsFn topic_records)
    : loop_(loop),
      clock_(clock),
      jobs_(jobs),
      submit_(std::move(submit)),
      emit_(std::move(emit)),
      topic_records_(std::move(topic_records)) {}

Status Triggers::catch_up(const JobDefinition& job, std::optional<int64_t> last) {
    const int64_t now = clock_.now_micros();
    if (!job.catchup || (!last && !job.start_date_micros)) {
        // Only the latest complete interval, if it has no run yet.
        Result<std::pair<int64_t, int64_t>> latest = latest_job_interval(job, now);
        if (!latest.ok()) return {};
        if (last && *last >= latest->second) return {};
        if (!job.catchup && !last) return {};  // a new job starts with the next interval
        Result<std::string> id = submit_(job.name, latest->first, latest->second);
        if (!id.ok() && id.error().code() != ErrorCode::kAlreadyExists) {
            emit_("catchup of " + job.name + ": " + id.error().message());
        }
        return {};
    }
    const int64_t from = last ? *last : *job.start_date_micros;
    MILLRACE_ASSIGN_OR_RETURN(auto missed, job_intervals(job, from, now));
    for (const auto& [start, end] : missed) {
        if (start < from) continue;
        Result<std::string> id = submit_(job.name, start, end);
        if (id.ok()) emit_("catchup: " + *id);
    }
    return {};
}

void Triggers::arm_cron(const std::string& job_name, int64_t after) {
    auto it = jobs_.find(job_name);
    if (it == jobs_.end()) return;
    Result<CronExpression> cron = CronExpression::parse(it->second->schedule);
    Result<TimeZone> zone = TimeZone::load(it->second->timezone);
    if (!cron.ok() || !zone.ok()) return;
    std::optional<int64_t> next = cron->next_after(after, *zone);
    if (!next) return;
    std::optional<int64_t> previous = cron->last_at_or_before(*next - 1, *zone, kCronLookback);
    const int64_t start = previous.value_or(*next);
    loop_.add_timer(*next, [this, job_name, start, end = *next] {
        Result<std::string> id = submit_(job_name, start, end);
        emit_("cron: " + (id.ok() ? *id : id.error().message()));
        arm_cron(job_name, end);
    });
}

void Triggers::start_polling() {
    for (const auto& [name, job] : jobs_) {
        for (std::size_t t = 0; t < job->topic_triggers.size(); ++t) {
            const TopicTrigger& trigger = job->topic_triggers[t];
            if (!topic_records_) {
                emit_("topic trigger of " + name + " on `" + trigger.topic +
                      "` is idle: it needs the embedded log (run `millrace serve`)");
                continue;
            }
            auto baseline = std::make_shared<int64_t>(topic_records_(trigger.topic).value_or(0));
            poll_topic(name, t, baseline);
        }
    }
    for (const auto& [name, job] : jobs_) {
        for (std::size_t t = 0; t < job->file_triggers.size(); ++t) {
            auto seen =
                std::make_shared<std::set<std::string>>(glob_paths(job->file_triggers[t].pattern));
            poll_file(name, t, seen);
        }
    }
}

// `records` new records since the last firing start one run.
void Triggers::poll_topic(const std::string& job_name, std::size_t index,
                          const std::shared_ptr<int64_t>& baseline) {
    auto it = jobs_.find(job_name);
    if (it == jobs_.end()) return;
    const TopicTrigger& trigger = it->second->topic_triggers[index];
    std::optional<int64_t> records = topic_records_(trigger.topic);
    if (records) {
        if (*records < *baseline) *baseline = *records;  // the topic was recreated
        if (*records - *baseline >= trigger.records) {
            const int64_t now = clock_.now_micros();
            Result<std::string> id = submit_(job_name, now, now);
            emit_("topic trigger: " + std::to_string(*records - *baseline) + " new records in `" +
                  trigger.topic + "` -> " + (id.ok() ? *id : id.error().message()));
            *baseline = *records;
        }
    }
    loop_.add_timer(clock_.now_micros() + trigger.poke_interval.count(),
                    [this, job_name, index, baseline] { poll_topic(job_name, index, baseline); });
}

// New matches since the last poll start one run.
void Triggers::poll_file(const std::string& job_name, std::size_t index,
                         const std::shared_ptr<std::set<std::string>>& seen) {
    auto it = jobs_.find(job_name);
    if (it == jobs_.end()) return;
    const FileTrigger& trigger = it->second->file_triggers[index];
    std::set<std::string> now_paths = glob_paths(trigger.pattern);
    std::vector<std::string> fresh;
    for (const std::string& path : now_paths) {
        if (!seen->count(path)) fresh.push_back(path);
    }
    *seen = std::move(now_paths);
    if (!fresh.empty()) {
        const int64_t now = clock_.now_micros();
        Result<std::string> id = submit_(job_name, now, now);
        emit_("file trigger: " + fresh.front() +
              (fresh.size() > 1 ? " (+" + std::to_string(fresh.size() - 1) + " more)" : "") +
              " -> " + (id.ok() ? *id : id.error().message()));
    }
    loop_.add_timer(clock_.now_micros() + trigger.poke_interval.count(),
                    [this, job_name, index, seen] { poll_file(job_name, index, seen); });
}

}  // namespace millrace
