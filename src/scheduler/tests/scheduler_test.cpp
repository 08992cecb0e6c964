#include "scheduler/scheduler.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "common/event_loop.h"
#include "common/yaml_document.h"
#include "scheduler/job_parser.h"

namespace millrace {
namespace {

constexpr int64_t kDay = int64_t{86400} * 1'000'000;

struct FakeTaskOutcome {
    int exit_code = 0;
    std::string message;
};

// A TaskRunner that starts nothing: `fn` decides each attempt's outcome when it starts, and
// the outcome is reported in the loop's next timer pass, as a very fast process would.
class FunctionTaskRunner final : public TaskRunner {
public:
    using Fn = std::function<FakeTaskOutcome(const TaskDefinition&, int attempt)>;
    FunctionTaskRunner(Fn fn, const Clock& clock) : fn_(std::move(fn)), clock_(clock) {}

    void attach(EventLoop& loop, TaskReporter& reporter) override {
        loop_ = &loop;
        reporter_ = &reporter;
    }
    void start(const TaskAttempt& attempt) override {
        FakeTaskOutcome outcome = fn_(*attempt.task, attempt.attempt);
        loop_->add_timer(clock_.now_micros(), [this, key = attempt.key, outcome] {
            reporter_->attempt_finished(key, outcome.exit_code, outcome.message);
        });
    }
    bool cancel(const AttemptKey&) override { return false; }
    void stop() override {}

private:
    Fn fn_;
    const Clock& clock_;
    EventLoop* loop_ = nullptr;
    TaskReporter* reporter_ = nullptr;
};

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
    for (const TaskRecord& t : summary.tasks) out[t.task] = std::string(to_string(t.state));
    return out;
}

// A task process starts only after its attempt is committed as running: a scheduler killed in
// between leaves an attempt that recovery sees, never a process the store does not know of.
TEST(Scheduler, AnAttemptIsCommittedAsRunningBeforeItsTaskStarts) {
    Fixture f("committed-before-start");
    SystemClock clock;
    const std::string db_path = f.project.data_dir + "/scheduler.db";
    std::vector<std::string> seen;  // what another connection saw as each attempt started
    FunctionTaskRunner::Fn fake = [&](const TaskDefinition& task, int attempt) {
        sqlite3* db = nullptr;
        std::string state = "<none>";
        if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
            sqlite3_busy_timeout(db, 10000);
            sqlite3_stmt* s = nullptr;
            if (sqlite3_prepare_v2(db, "SELECT state FROM attempts WHERE task = ? AND attempt = ?",
                                   -1, &s, nullptr) == SQLITE_OK) {
                sqlite3_bind_text(s, 1, task.name.c_str(), -1, SQLITE_TRANSIENT);
                sqlite3_bind_int(s, 2, attempt);
                if (sqlite3_step(s) == SQLITE_ROW) {
                    state = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
                }
            }
            sqlite3_finalize(s);
        }
        sqlite3_close(db);
        seen.push_back(task.name + std::to_string(attempt) + "=" + state);
        return FakeTaskOutcome{task.name == "b" && attempt == 1 ? 1 : 0, ""};
    };
    Scheduler scheduler(f.project, {f.job(kDiamond)}, SchedulerOptions{}, clock,
                        std::make_unique<FunctionTaskRunner>(fake, clock));
    ASSERT_TRUE(scheduler.start().ok());
    auto id = scheduler.submit_run("j", 0, kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(id.ok()) << id.error().to_string();
    auto summary = scheduler.wait_run(*id);
    ASSERT_TRUE(summary.ok()) << summary.error().to_string();
    EXPECT_EQ(to_string(summary->run.state), "success");
    scheduler.stop();
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (std::vector<std::string>{"a1=running", "b1=running", "b2=running",
                                              "c1=running", "d1=running"}));
}

TEST(Scheduler, RunsTheDagInDependencyOrderWithRetries) {
    Fixture f("diamond");
    SystemClock clock;
    std::mutex mutex;
    std::vector<std::string> order;
    SchedulerOptions options;
    FunctionTaskRunner::Fn fake = [&](const TaskDefinition& task, int attempt) {
        std::lock_guard lock(mutex);
        order.push_back(task.name + std::to_string(attempt));
        // b fails on its first attempt, then succeeds.
        return FakeTaskOutcome{task.name == "b" && attempt == 1 ? 1 : 0, ""};
    };
    Scheduler scheduler(f.project, {f.job(kDiamond)}, options, clock,
                        std::make_unique<FunctionTaskRunner>(fake, clock));
    ASSERT_TRUE(scheduler.start().ok());
    auto id = scheduler.submit_run("j", 0, kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(id.ok()) << id.error().to_string();
    EXPECT_EQ(*id, "j@1970-01-01T00:00:00Z");
    auto summary = scheduler.wait_run(*id);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(to_string(summary->run.state), "success");
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
    FunctionTaskRunner::Fn fake = [&](const TaskDefinition& task, int) {
        return FakeTaskOutcome{task.name == "c" && c_fails ? 1 : 0, "boom"};
    };
    Scheduler scheduler(f.project, {f.job(kDiamond)}, options, clock,
                        std::make_unique<FunctionTaskRunner>(fake, clock));
    ASSERT_TRUE(scheduler.start().ok());
    auto id = scheduler.submit_run("j", kDay, 2 * kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(id.ok());
    auto summary = scheduler.wait_run(*id);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(to_string(summary->run.state), "failed");
    auto s = states(*summary);
    EXPECT_EQ(s["a"], "success");
    EXPECT_EQ(s["b"], "success");
    EXPECT_EQ(s["c"], "failed");
    EXPECT_EQ(s["d"], "upstream_failed");

    c_fails = false;
    ASSERT_TRUE(scheduler.rerun(*id, "").ok());
    summary = scheduler.wait_run(*id);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(to_string(summary->run.state), "success");
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
    EXPECT_EQ(to_string(summary->run.state), "success");
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
    EXPECT_EQ(to_string(summary->run.state), "failed");
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
    FunctionTaskRunner::Fn fake = [&](const TaskDefinition&, int) {
        ++ran;
        return FakeTaskOutcome{};
    };
    Scheduler scheduler(f.project,
                        {f.job("name: j\nschedule: \"@daily\"\ntasks:\n  a: { kind: shell, "
                               "command: x }\n")},
                        options, clock, std::make_unique<FunctionTaskRunner>(fake, clock));
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
    EXPECT_EQ(to_string(summary->run.state), "success");
    EXPECT_EQ(summary->run.interval_end, 10 * kDay);
    EXPECT_EQ(ran.load(), 1);
}

/// A local HTTP receiver for `http` tasks and webhooks: answers `/fail...` with 500 and
/// everything else with 200, and records each request's head (request line and headers) and
/// body.
class Receiver {
public:
    Receiver() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
        socklen_t length = sizeof(address);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        ::listen(fd_, 16);
        thread_ = std::thread([this] { serve(); });
    }
    ~Receiver() {
        stopping_ = true;
        thread_.join();
        ::close(fd_);
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    std::vector<std::pair<std::string, std::string>> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    void serve() {
        while (!stopping_) {
            pollfd entry{fd_, POLLIN, 0};
            if (::poll(&entry, 1, 50) != 1) continue;
            const int client = ::accept(fd_, nullptr, nullptr);
            if (client < 0) continue;
            std::string data;
            char buffer[4096];
            std::size_t header_end = std::string::npos, want = 0;
            while (header_end == std::string::npos || data.size() < header_end + 4 + want) {
                const ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
                if (n <= 0) break;
                data.append(buffer, static_cast<std::size_t>(n));
                if (header_end == std::string::npos &&
                    (header_end = data.find("\r\n\r\n")) != std::string::npos) {
                    const std::size_t at = data.find("Content-Length: ");
                    if (at != std::string::npos && at < header_end) {
                        want = std::stoul(data.substr(at + 16));
                    }
                }
            }
            const std::string head = data.substr(0, header_end);
            const std::string body =
                header_end == std::string::npos ? "" : data.substr(header_end + 4);
            {
                std::lock_guard lock(mutex_);
                requests_.emplace_back(head, body);
            }
            const bool fail = head.find(" /fail") != std::string::npos;
            const std::string response = fail ? "HTTP/1.1 500 Internal Server Error\r\n"
                                                "Content-Length: 0\r\nConnection: close\r\n\r\n"
                                              : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                                "Connection: close\r\n\r\nok";
            (void)::send(client, response.data(), response.size(), MSG_NOSIGNAL);
            ::close(client);
        }
    }

    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::pair<std::string, std::string>> requests_;
};

TEST(Scheduler, HttpTasksAndFailureWebhooksReachALocalReceiver) {
    Fixture f("http");
    Receiver receiver;
    SystemClock clock;
    setenv("MILLRACE_TOKEN", "secret-token", 1);
    const std::string text = "name: j\nwebhooks: [\"" + receiver.url("/hook") +
                             "\"]\ntasks:\n"
                             "  ping: { kind: http, method: POST, url: \"" +
                             receiver.url("/ping?day={{ ds }}") +
                             "\", body: \"day {{ ds }}\" }\n"
                             "  broken: { kind: http, url: \"" +
                             receiver.url("/fail") + "\", depends_on: [ping] }\n";
    Scheduler scheduler(f.project, {f.job(text)}, SchedulerOptions{}, clock);
    ASSERT_TRUE(scheduler.start().ok());
    auto id = scheduler.submit_run("j", kDay, 2 * kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(id.ok()) << id.error().to_string();
    auto summary = scheduler.wait_run(*id);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(to_string(summary->run.state), "failed");
    auto s = states(*summary);
    EXPECT_EQ(s["ping"], "success");
    EXPECT_EQ(s["broken"], "failed");
    // The webhook is sent from its own thread after the run ends.
    std::vector<std::pair<std::string, std::string>> requests;
    for (int i = 0; i < 100; ++i) {
        requests = receiver.requests();
        if (requests.size() >= 3) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    unsetenv("MILLRACE_TOKEN");
    ASSERT_EQ(requests.size(), 3u);
    auto request_line = [](const std::string& head) { return head.substr(0, head.find("\r\n")); };
    EXPECT_EQ(request_line(requests[0].first), "POST /ping?day=1970-01-02 HTTP/1.1");
    EXPECT_EQ(requests[0].second, "day 1970-01-02");
    EXPECT_EQ(request_line(requests[1].first), "GET /fail HTTP/1.1");
    EXPECT_EQ(request_line(requests[2].first), "POST /hook HTTP/1.1");
    // Millrace's own token never goes to a job's receivers.
    for (const auto& [head, body] : requests) {
        EXPECT_EQ(head.find("Authorization"), std::string::npos) << head;
    }
    EXPECT_NE(requests[2].second.find("\"event\":\"failure\""), std::string::npos);
    EXPECT_NE(requests[2].second.find("\"task\":\"broken\""), std::string::npos);
    EXPECT_NE(requests[2].second.find("returned 500, expected 200"), std::string::npos);
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(Scheduler, AFailedStateStoreWriteStopsSchedulingAndSaysWhy) {
    Fixture f("failing-store");
    SystemClock clock;
    std::atomic<int> started{0};
    FunctionTaskRunner::Fn fake = [&](const TaskDefinition&, int) {
        ++started;
        return FakeTaskOutcome{};
    };
    std::mutex mutex;
    std::vector<std::string> events;
    SchedulerOptions options;
    options.on_event = [&](const std::string& line) {
        std::lock_guard lock(mutex);
        events.push_back(line);
    };
    Scheduler scheduler(f.project, {f.job(kDiamond)}, options, clock,
                        std::make_unique<FunctionTaskRunner>(fake, clock));
    ASSERT_TRUE(scheduler.start().ok());
    EXPECT_TRUE(scheduler.health().ok());

    // From now on every attempt write fails, as on a full disk: a trigger installed through a
    // connection of its own (no hook in the store itself).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((f.project.data_dir + "/scheduler.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TRIGGER fail_attempts BEFORE INSERT ON attempts BEGIN "
                           "SELECT RAISE(ABORT, 'injected write failure'); END",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);

    auto id = scheduler.submit_run("j", 0, kDay, Scheduler::Lane::kManual);
    ASSERT_TRUE(id.ok()) << id.error().to_string();  // the claim itself could be written
    auto summary = scheduler.wait_run(*id);
    ASSERT_FALSE(summary.ok());
    EXPECT_NE(summary.error().message().find("injected write failure"), std::string::npos)
        << summary.error().to_string();
    EXPECT_EQ(started.load(), 0);  // the first task's attempt could not be stored: not started

    Status health = scheduler.health();
    ASSERT_FALSE(health.ok());
    EXPECT_NE(health.error().message().find("scheduling stopped"), std::string::npos);
    EXPECT_NE(health.error().message().find("injected write failure"), std::string::npos);
    // Nothing new starts.
    auto next = scheduler.submit_run("j", kDay, 2 * kDay, Scheduler::Lane::kManual);
    ASSERT_FALSE(next.ok());
    EXPECT_EQ(next.error().code(), health.error().code());
    EXPECT_FALSE(scheduler.rerun(*id, "").ok());
    EXPECT_EQ(started.load(), 0);
    std::lock_guard lock(mutex);
    EXPECT_NE(std::find_if(events.begin(), events.end(),
                           [](const std::string& line) {
                               return line.find("scheduling stopped") != std::string::npos;
                           }),
              events.end());
}

}  // namespace
}  // namespace millrace
