#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "scheduler/child_process.h"
#include "scheduler/http_tasks.h"
#include "scheduler/task_runner.h"

namespace millrace {

/// The scheduler's real TaskRunner:
///   - `shell`, `pipeline`, `materialize` and `compact` tasks run as child processes
///     (`/bin/sh -c`, or this executable's `run` / `materialize` / `lake compact`) in a process
///     group of their own, watched through their pidfd on the event loop; a timeout kills the
///     group;
///   - `http` tasks send one request each (HttpTasks);
///   - `wait_for_file` tasks poll a glob on a loop timer every `poke_interval`.
///
/// Spawning: ChildProcess::spawn blocks its caller until the child has exec'ed (log file included),
/// so only the first start of a loop iteration happens on the loop thread (no hand-off latency);
/// the rest of a burst goes to kSpawnThreads spawner threads, whose processes the loop takes
/// over when they are posted back.
class ProcessTaskRunner final : public TaskRunner {
public:
    /// `millrace_binary`: the executable `pipeline`, `materialize` and `compact` tasks run.
    ProcessTaskRunner(std::string millrace_binary, std::string project_dir, const Clock& clock);
    ~ProcessTaskRunner() override;

    void attach(EventLoop& loop, TaskReporter& reporter) override;
    void begin_iteration() override { launches_this_iteration_ = 0; }
    void start(const TaskAttempt& attempt) override;
    bool cancel(const AttemptKey& key) override;
    void stop() override;

private:
    struct SpawnJob {
        AttemptKey key;
        ChildProcess::Options options;
    };
    struct Running {
        AttemptKey key;
        ChildProcess process;
    };

    static constexpr int kSpawnThreads = 2;

    void start_process(const TaskAttempt& attempt);
    void start_http(const TaskAttempt& attempt);
    void poke(const AttemptKey& key, const std::string& pattern, std::chrono::microseconds interval,
              const std::string& log_path);
    void run_spawner();
    void on_spawned(const AttemptKey& key, Result<ChildProcess> child, int64_t started,
                    const std::string& log_path);
    void on_exit(int pidfd);
    void fail(const TaskAttempt& attempt, const std::string& message);
    static std::string key_text(const AttemptKey& key);

    std::string millrace_binary_;
    std::string project_dir_;
    const Clock& clock_;
    EventLoop* loop_ = nullptr;
    TaskReporter* reporter_ = nullptr;
    std::unique_ptr<HttpTasks> http_;

    int launches_this_iteration_ = 0;
    std::unordered_map<int, Running> by_pidfd_;    // loop thread
    std::map<std::string, int> pidfd_by_attempt_;  // key_text -> pidfd
    std::set<std::string> pokes_;                  // wait_for_file attempts still polling

    std::mutex spawn_mutex_;
    std::condition_variable spawn_cv_;
    std::deque<SpawnJob> spawn_queue_;  // bounded by the running-task limits
    bool spawners_stopping_ = false;
    std::vector<std::thread> spawners_;
};

}  // namespace millrace
