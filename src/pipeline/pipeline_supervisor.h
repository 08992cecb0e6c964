#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "pipeline/stream_runner.h"
#include "project/project.h"

namespace millrace {

class Clock;
class Logger;
class MetricsRegistry;

/// Where a supervised streaming pipeline is:
///   running     its run is reading and committing
///   restarting  its last run failed; it waits out the backoff before the next attempt
///   failed      its restart budget is used up (`last_error` says why); `start` tries again
///   stopped     stopped by request, or its input ended
enum class PipelineState { kRunning, kRestarting, kFailed, kStopped };

std::string_view enum_name(PipelineState state);

/// A supervised pipeline as `/v1/pipelines` and `millrace pipeline status` show it. Counts are
/// since the pipeline was last started (by `millrace serve` or a start request), summed over
/// its automatic restarts.
struct PipelineStatus {
    std::string name;
    PipelineState state = PipelineState::kStopped;
    int64_t state_since_micros = 0;
    /// The error of the last failed run ("" = none since the last start).
    std::string last_error;
    int64_t last_error_micros = 0;
    /// Why the pipeline is stopped or failed ("stopped by request", "input ended", the budget).
    std::string reason;
    int restarts = 0;  // consecutive restarts counted against the budget
    int restart_budget = 0;
    uint64_t total_restarts = 0;      // every automatic restart since serve started
    int64_t next_restart_micros = 0;  // restarting: when the next attempt starts
    int64_t run_started_micros = 0;   // the current (or last) run
    uint64_t records_in = 0;
    uint64_t records_out = 0;
    uint64_t dead_lettered = 0;
    uint64_t late = 0;
    uint64_t filtered = 0;
    uint64_t commits = 0;
    int64_t last_commit_micros = 0;  // 0 = none yet
    std::optional<int64_t> watermark_micros;
    /// The current run's operator state (0 while none runs) and its limit.
    uint64_t state_bytes = 0;
    uint64_t state_keys = 0;
    uint64_t state_limit_bytes = 0;
};

/// The n-th consecutive restart's wait (n >= 1): min(max, initial * 2^(n-1)), scaled by
/// 1 - jitter/2 for `jitter` in [0, 1), so it lies in (half of that, all of it].
std::chrono::microseconds restart_delay(const RestartPolicy& policy, int restart, double jitter);

/// Runs the streaming pipelines of a project on threads, one each, and restarts a run that
/// fails with capped exponential backoff and jitter (the pipeline's `restart:` policy); after
/// its budget the pipeline is marked failed with the reason. `millrace serve` owns one; the
/// pipelines API (server/pipelines_handler.h) reads and drives it.
///
/// Lifecycle: construct, start_all(), then list/status/stop/start from any thread;
/// stop_all() (or the destructor) stops every run, letting each commit what it has.
/// Threads: every public member is thread-safe. stop() and stop_all() wait until the runs have
/// stopped (a run checks for a stop between polls, then closes its windows and commits).
class PipelineSupervisor {
public:
    /// Runs one pipeline until it fails or `options.should_stop` says stop. Tests substitute
    /// their own; the default is run_streaming_pipeline.
    using Runner = std::function<Result<StreamReport>(const PipelineSpec&, const StreamOptions&)>;

    struct Options {
        /// Passed to every run (shared services, memory limit); should_stop and progress are
        /// set by the supervisor.
        StreamOptions stream;
        Runner runner;
        /// Seeds the jitter; fixed in tests, random otherwise.
        std::optional<uint64_t> seed;
    };

    /// `clock`, `logger` and `metrics` (may be null) must outlive the supervisor; `project`
    /// too when the default runner is used.
    PipelineSupervisor(const Project& project, std::vector<PipelineSpec> pipelines,
                       const Clock& clock, const Logger& logger, MetricsRegistry* metrics,
                       Options options);
    ~PipelineSupervisor();
    PipelineSupervisor(const PipelineSupervisor&) = delete;
    PipelineSupervisor& operator=(const PipelineSupervisor&) = delete;

    /// Starts every pipeline.
    void start_all();
    /// Every pipeline in declaration order.
    std::vector<PipelineStatus> list() const;
    /// kNotFound for a name that is not a supervised pipeline.
    Result<PipelineStatus> status(std::string_view name) const;
    /// Stops it and waits until it has; stopping a stopped or failed pipeline changes nothing.
    Result<PipelineStatus> stop(std::string_view name);
    /// Starts a stopped or failed pipeline with a fresh restart budget; kAlreadyExists when it
    /// is running or restarting, kUnavailable once stop_all() has begun. `allow_state_drop`:
    /// its runs until the next start may drop saved state no current view can use
    /// (StreamOptions::allow_state_drop).
    Result<PipelineStatus> start(std::string_view name, bool allow_state_drop = false);
    /// Stops every pipeline for good (the server is stopping): later starts are refused.
    void stop_all();

private:
    struct Slot;
    Slot* find(std::string_view name) const;
    void launch(Slot& slot);
    void supervise(Slot& slot);
    Result<StreamReport> run_once(const PipelineSpec& spec, const StreamOptions& stream) const;
    PipelineStatus snapshot(const Slot& slot) const;
    PipelineStatus snapshot_locked(const Slot& slot) const;  // slot.mutex held
    Error unknown(std::string_view name) const;

    const Project& project_;
    const Clock& clock_;
    const Logger& logger_;
    MetricsRegistry* metrics_;
    Options options_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::atomic<bool> closed_{false};
    /// Names of the project's batch pipelines, to say why they are not here.
    std::vector<std::string> batch_;
};

}  // namespace millrace
