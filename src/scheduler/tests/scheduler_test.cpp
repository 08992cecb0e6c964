#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "common/yaml_document.h"
#include "scheduler/job_parser.h"

namespace millrace {
namespace {

constexpr int64_t kDay = int64_t{86400} * 1'000'000;

struct Fixture {
    Project project;
    std::string dir;

    explicit Fixture(const char* name) {
        dir = (std::filesystem::temp_directory_path() /
               ("millrace-sched-" + std::to_string(::getpid()) + "-" + name))
                  .string();
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        project.name = "p";
        project.root_dir = dir;
        project.data_dir = dir + "/data";
    }
    ~Fixture() { std::filesystem::remove_all(dir); }

    JobDefinition job(const std::string& text) {
        auto doc = YamlDocument::parse(text, "jobs/j.yaml");
        EXPECT_TRUE(doc.ok());
        std::vector<Error> errors;
        auto job = parse_job(doc->root(), "jobs/j.yaml", text, project, errors);
        EXPECT_TRUE(job.ok()) << job.error().to_string();
        return *job;
    }
};

const char* kDiamond = R"(name: j
tasks:
  a: { kind: shell, command: x }
  b: { kind: shell, command: x, depends_on: [a], retries: 2, retry_delay: 1ms }
  c: { kind: shell, command: x, depends_on: [a] }
  d: { kind: shell, command: x, depends_on: [b, c] }
)";

// The most tasks running at one instant.
int peak_overlap(const std::vector<TaskRecord>& tasks) {
    std::vector<std::pair<int64_t, int>> edges;
    for (const TaskRecord& t : tasks) {
        edges.emplace_back(t.started_at, 1);
        edges.emplace_back(t.finished_at, -1);
    }
    std::sort(edges.begin(), edges.end());
    int active = 0, peak = 0;
    for (auto& [time, delta] : edges) peak = std::max(peak, active += delta);
    return peak;
}

std::map<std::string, std::string> states(const RunSummary& summary) {
    std::map<std::string, std::string> out;
    for (const TaskRecord& t : summary.tasks) out[t.task] = t.state;
    return out;
}

TEST(Scheduler, RunsTheDagInDependencyOrderWithRetries) {
    Fixture f("diamond");
    SystemClock clock;
    std::mutex mutex;
    std::vector<std::string> order;
    SchedulerOptions options;
    options.fake_runner = [&](const TaskDefinition& task, int attempt) {
        std::lock_guard lock(mutex);
        order.push_back(task.name + std::to_string(attempt));
        // b fails on its first attempt, then succeeds.
        return FakeTaskOutcome{task.name == "b" && attempt == 1 ? 1 : 0, ""};
    };
    Scheduler scheduler(f.project, {f.job(kDiamond)}, options, clock);
    ASSERT_TRUE(scheduler.start().ok());
    auto id = scheduler.submit_run("j", 0, kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(id.ok()) << id.error().to_string();
    EXPECT_EQ(*id, "j@1970-01-01T00:00:00Z");
    auto summary = scheduler.wait_run(*id);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(summary->run.state, "success");
    EXPECT_EQ(order.front(), "a1");
    EXPECT_EQ(order.back(), "d1");
    EXPECT_NE(std::find(order.begin(), order.end(), "b2"), order.end());
    for (const TaskRecord& t : summary->tasks) {
        EXPECT_EQ(t.attempts, t.task == "b" ? 2 : 1) << t.task;
    }
    // The same interval never runs twice.
    auto again = scheduler.submit_run("j", 0, kDay, Scheduler::Lane::kManual);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
}

TEST(Scheduler, UpstreamFailedPropagatesAndRerunResumes) {
    Fixture f("upstream");
    SystemClock clock;
    bool c_fails = true;
    SchedulerOptions options;
    options.fake_runner = [&](const TaskDefinition& task, int) {
        return FakeTaskOutcome{task.name == "c" && c_fails ? 1 : 0, "boom"};
    };
    Scheduler scheduler(f.project, {f.job(kDiamond)}, options, clock);
    ASSERT_TRUE(scheduler.start().ok());
    auto id = scheduler.submit_run("j", kDay, 2 * kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(id.ok());
    auto summary = scheduler.wait_run(*id);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(summary->run.state, "failed");
    auto s = states(*summary);
    EXPECT_EQ(s["a"], "success");
    EXPECT_EQ(s["b"], "success");
    EXPECT_EQ(s["c"], "failed");
    EXPECT_EQ(s["d"], "upstream_failed");

    c_fails = false;
    ASSERT_TRUE(scheduler.rerun(*id, "").ok());
    summary = scheduler.wait_run(*id);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(summary->run.state, "success");
    for (const TaskRecord& t : summary->tasks) {
        EXPECT_EQ(t.attempts, t.task == "c" ? 2 : 1) << t.task;  // a, b not re-run
    }
}

TEST(Scheduler, JobConcurrencyLimitHolds) {
    Fixture f("limit");
    SystemClock clock;
    std::string text = "name: j\nmax_active_tasks: 3\ntasks:\n";
    for (int i = 0; i < 20; ++i) {
        text += "  t" + std::to_string(i) + ": { kind: shell, command: \"sleep 0.02\" }\n";
    }
    SchedulerOptions options;
    Scheduler scheduler(f.project, {f.job(text)}, options, clock);
    ASSERT_TRUE(scheduler.start().ok());
    auto id = scheduler.submit_run("j", 0, kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(id.ok());
    auto summary = scheduler.wait_run(*id);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(summary->run.state, "success");
    // At no instant were more than 3 tasks between start and finish.
    EXPECT_LE(peak_overlap(summary->tasks), 3);
}

TEST(Scheduler, PoolsAreSharedAcrossJobs) {
    Fixture f("pools");
    SystemClock clock;
    auto job = [&](const char* name) {
        std::string text = std::string("name: ") + name + "\npools: { db: 1 }\ntasks:\n";
        for (int i = 0; i < 3; ++i) {
            text += "  t" + std::to_string(i) +
                    ": { kind: shell, command: \"sleep 0.03\", pool: db }\n";
        }
        return f.job(text);
    };
    Scheduler scheduler(f.project, {job("j1"), job("j2")}, SchedulerOptions{}, clock);
    ASSERT_TRUE(scheduler.start().ok());
    auto a = scheduler.submit_run("j1", 0, kDay, Scheduler::Lane::kManual);
    auto b = scheduler.submit_run("j2", 0, kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(a.ok() && b.ok());
    auto first = scheduler.wait_run(*a);
    auto second = scheduler.wait_run(*b);
    ASSERT_TRUE(first.ok() && second.ok());
    std::vector<TaskRecord> all = first->tasks;
    all.insert(all.end(), second->tasks.begin(), second->tasks.end());
    EXPECT_EQ(peak_overlap(all), 1);
}

TEST(Scheduler, BackfillHasItsOwnRunBudget) {
    Fixture f("lanes");
    SystemClock clock;
    SchedulerOptions options;
    options.backfill_max_active_runs = 1;
    Scheduler scheduler(f.project,
                        {f.job("name: j\nmax_active_runs: 1\ntasks:\n  a: { kind: shell, "
                               "command: \"sleep 0.2\" }\n")},
                        options, clock);
    ASSERT_TRUE(scheduler.start().ok());
    // Two backfill runs queue behind each other; a manual run does not wait for them.
    auto b1 = scheduler.submit_run("j", 0, kDay, Scheduler::Lane::kBackfill);
    auto b2 = scheduler.submit_run("j", kDay, 2 * kDay, Scheduler::Lane::kBackfill);
    auto live = scheduler.submit_run("j", 5 * kDay, 6 * kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(b1.ok() && b2.ok() && live.ok());
    auto s1 = scheduler.wait_run(*b1);
    auto s2 = scheduler.wait_run(*b2);
    auto s3 = scheduler.wait_run(*live);
    ASSERT_TRUE(s1.ok() && s2.ok() && s3.ok());
    EXPECT_GE(s2->run.started_at, s1->run.finished_at);  // backfill: one at a time
    EXPECT_LT(s3->run.started_at, s1->run.finished_at);  // the live run did not wait
}

TEST(Scheduler, TimeoutKillsTheProcessGroup) {
    Fixture f("timeout");
    SystemClock clock;
    const std::string marker = f.dir + "/survived";
    SchedulerOptions options;
    Scheduler scheduler(
        f.project,
        {f.job(
            "name: j\ntasks:\n  slow: { kind: shell, timeout: 200ms, command: \"(sleep 1; touch " +
            marker + ") & sleep 5\" }\n")},
        options, clock);
    ASSERT_TRUE(scheduler.start().ok());
    auto id = scheduler.submit_run("j", 0, kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(id.ok());
    auto summary = scheduler.wait_run(*id);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(summary->run.state, "failed");
    EXPECT_NE(summary->tasks[0].message.find("timed out"), std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    EXPECT_FALSE(std::filesystem::exists(marker)) << "the background child outlived the timeout";
}

TEST(Scheduler, IntervalsFollowTheCron) {
    Fixture f("intervals");
    SystemClock clock;
    Scheduler scheduler(f.project,
                        {f.job("name: j\nschedule: \"@daily\"\ntasks:\n  a: { kind: shell, "
                               "command: x }\n")},
                        SchedulerOptions{}, clock);
    auto intervals = scheduler.intervals("j", 10 * kDay, 13 * kDay);
    ASSERT_TRUE(intervals.ok());
    ASSERT_EQ(intervals->size(), 3u);
    EXPECT_EQ((*intervals)[0], std::make_pair(10 * kDay, 11 * kDay));
    EXPECT_EQ((*intervals)[2], std::make_pair(12 * kDay, 13 * kDay));
    auto latest = scheduler.latest_interval("j", 13 * kDay + 5);
    ASSERT_TRUE(latest.ok());
    EXPECT_EQ(*latest, std::make_pair(12 * kDay, 13 * kDay));
}

TEST(Scheduler, CronFiresWithAManualClock) {
    Fixture f("cron");
    ManualClock clock(10 * kDay - 1000);
    std::atomic<int> ran{0};
    SchedulerOptions options;
    options.fake_runner = [&](const TaskDefinition&, int) {
        ++ran;
        return FakeTaskOutcome{};
    };
    Scheduler scheduler(f.project,
                        {f.job("name: j\nschedule: \"@daily\"\ntasks:\n  a: { kind: shell, "
                               "command: x }\n")},
                        options, clock);
    ASSERT_TRUE(scheduler.start().ok());
    ASSERT_TRUE(scheduler.enable_schedules().ok());
    EXPECT_EQ(ran.load(), 0);  // a new job without catchup waits for its next interval
    clock.set_micros(10 * kDay + 10);
    auto summary = scheduler.wait_run(Scheduler::run_id_for("j", 9 * kDay));
    // The loop sees the clock move within its 1 s timer granularity.
    for (int i = 0; i < 40 && !summary.ok(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        summary = scheduler.wait_run(Scheduler::run_id_for("j", 9 * kDay));
    }
    ASSERT_TRUE(summary.ok()) << summary.error().to_string();
    EXPECT_EQ(summary->run.state, "success");
    EXPECT_EQ(summary->run.interval_end, 10 * kDay);
    EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace millrace
