#include "pipeline/pipeline_supervisor.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "common/clock.h"
#include "common/logger.h"
#include "common/metrics_registry.h"
#include "common/suggest.h"

namespace millrace {

std::string_view enum_name(PipelineState state) {
    switch (state) {
        case PipelineState::kRunning:
            return "running";
        case PipelineState::kRestarting:
            return "restarting";
        case PipelineState::kFailed:
            return "failed";
        case PipelineState::kStopped:
            return "stopped";
    }
    return "stopped";
}

std::chrono::microseconds restart_delay(const RestartPolicy& policy, int restart, double jitter) {
    int64_t delay = std::max<int64_t>(policy.initial.count(), 1);
    const int64_t cap = std::max<int64_t>(policy.max.count(), delay);
    // Doubling stops at the cap, so no power of two can overflow.
    for (int i = 1; i < restart && delay < cap; ++i) delay = std::min(cap, delay * 2);
    delay = std::min(cap, delay);
    jitter = std::clamp(jitter, 0.0, 1.0);
    const auto jittered = static_cast<int64_t>(static_cast<double>(delay) * (1.0 - jitter / 2));
    return std::chrono::microseconds(std::max<int64_t>(1, jittered));
}

/// One pipeline: its spec, its supervising thread and what it is doing. The fields under
/// `mutex` change only with it held; `control` serializes start and stop requests.
struct PipelineSupervisor::Slot {
    PipelineSpec spec;
    std::thread thread;
    std::mutex control;
    mutable std::mutex mutex;
    std::condition_variable wake;  // a stop request during a backoff wait
    std::atomic<bool> stop_requested{false};
    bool allow_state_drop = false;  // set by start(), read by its supervising thread
    // Guarded by `mutex`:
    PipelineState state = PipelineState::kStopped;
    int64_t state_since = 0;
    std::string last_error;
    int64_t last_error_at = 0;
    std::string reason = "not started";
    int restarts = 0;
    uint64_t total_restarts = 0;
    int64_t next_restart_at = 0;
    int64_t run_started_at = 0;
    /// The current run's counts, and those of earlier runs since the last start.
    std::unique_ptr<StreamProgress> progress = std::make_unique<StreamProgress>();
    PipelineStatus carried;
    Counter* restarts_metric = nullptr;
    Gauge* up_metric = nullptr;
};

PipelineSupervisor::PipelineSupervisor(const Project& project, std::vector<PipelineSpec> pipelines,
                                       const Clock& clock, const Logger& logger,
                                       MetricsRegistry* metrics, Options options)
    : project_(project),
      clock_(clock),
      logger_(logger),
      metrics_(metrics),
      options_(std::move(options)) {
    if (!options_.runner) {
        const Project* owner = &project_;
        options_.runner = [owner](const PipelineSpec& spec, const StreamOptions& stream) {
            return run_streaming_pipeline(*owner, spec, stream);
        };
    }
    for (PipelineSpec& spec : pipelines) {
        auto slot = std::make_unique<Slot>();
        slot->spec = std::move(spec);
        slot->state_since = clock_.now_micros();
        if (metrics_ != nullptr) {
            slot->restarts_metric =
                &metrics_->counter("millrace_pipeline_restarts_total",
                                   "Automatic restarts of a streaming pipeline after a failed run.",
                                   {{"pipeline", slot->spec.name}});
            slot->up_metric = &metrics_->gauge(
                "millrace_pipeline_up", "1 while a streaming pipeline's run is running, else 0.",
                {{"pipeline", slot->spec.name}});
        }
        slots_.push_back(std::move(slot));
    }
    for (const PipelineSpec& spec : project_.pipelines) {
        if (spec.mode == PipelineMode::kBatch) batch_.push_back(spec.name);
    }
}

PipelineSupervisor::~PipelineSupervisor() { stop_all(); }

void PipelineSupervisor::start_all() {
    for (auto& slot : slots_) {
        // Only a shutdown that has begun refuses a start here; say so rather than drop it.
        if (Result<PipelineStatus> started = start(slot->spec.name); !started.ok()) {
            logger_.warn("stream", "streaming pipeline not started",
                         {{"pipeline", slot->spec.name}, {"error", started.error().message()}});
        }
    }
}

PipelineSupervisor::Slot* PipelineSupervisor::find(std::string_view name) const {
    for (const auto& slot : slots_) {
        if (slot->spec.name == name) return slot.get();
    }
    return nullptr;
}

Error PipelineSupervisor::unknown(std::string_view name) const {
    if (std::find(batch_.begin(), batch_.end(), name) != batch_.end()) {
        return Error(ErrorCode::kNotFound,
                     fmt::format("pipeline `{}` is mode: batch; the server runs only streaming "
                                 "pipelines (run it with `millrace run` or a job)",
                                 name));
    }
    std::vector<std::string> names;
    for (const auto& slot : slots_) names.push_back(slot->spec.name);
    std::string message =
        fmt::format("no streaming pipeline `{}` in project `{}`", name, project_.name);
    if (auto near = closest_match(std::string(name), names)) {
        message += fmt::format("; did you mean `{}`?", *near);
    }
    return Error(ErrorCode::kNotFound, std::move(message));
}

PipelineStatus PipelineSupervisor::snapshot(const Slot& slot) const {
    std::lock_guard lock(slot.mutex);
    return snapshot_locked(slot);
}

PipelineStatus PipelineSupervisor::snapshot_locked(const Slot& slot) const {
    PipelineStatus status = slot.carried;
    status.name = slot.spec.name;
    status.state = slot.state;
    status.state_since_micros = slot.state_since;
    status.last_error = slot.last_error;
    status.last_error_micros = slot.last_error_at;
    status.reason = slot.reason;
    status.restarts = slot.restarts;
    status.restart_budget = slot.spec.restart.attempts;
    status.total_restarts = slot.total_restarts;
    status.next_restart_micros =
        slot.state == PipelineState::kRestarting ? slot.next_restart_at : 0;
    status.run_started_micros = slot.run_started_at;
    const StreamProgress& p = *slot.progress;
    status.records_in += p.records_in.load(std::memory_order_relaxed);
    status.records_out += p.records_out.load(std::memory_order_relaxed);
    status.dead_lettered += p.dead_lettered.load(std::memory_order_relaxed);
    status.late += p.late.load(std::memory_order_relaxed);
    status.filtered += p.filtered.load(std::memory_order_relaxed);
    status.commits += p.commits.load(std::memory_order_relaxed);
    if (const int64_t at = p.last_commit_micros.load(std::memory_order_relaxed); at != 0) {
        status.last_commit_micros = at;
    }
    if (const int64_t w = p.watermark_micros.load(std::memory_order_relaxed); w != INT64_MIN) {
        status.watermark_micros = w;
    }
    // State is what the current run holds, not a sum over runs.
    status.state_bytes = p.state_bytes.load(std::memory_order_relaxed);
    status.state_keys = p.state_keys.load(std::memory_order_relaxed);
    if (const uint64_t limit = p.state_limit_bytes.load(std::memory_order_relaxed); limit != 0)
        status.state_limit_bytes = limit;
    return status;
}

std::vector<PipelineStatus> PipelineSupervisor::list() const {
    std::vector<PipelineStatus> out;
    out.reserve(slots_.size());
    for (const auto& slot : slots_) out.push_back(snapshot(*slot));
    return out;
}

Result<PipelineStatus> PipelineSupervisor::status(std::string_view name) const {
    const Slot* slot = find(name);
    if (slot == nullptr) return unknown(name);
    return snapshot(*slot);
}

Result<PipelineStatus> PipelineSupervisor::stop(std::string_view name) {
    Slot* slot = find(name);
    if (slot == nullptr) return unknown(name);
    std::lock_guard control(slot->control);
    {
        std::lock_guard lock(slot->mutex);
        slot->stop_requested = true;
    }
    slot->wake.notify_all();
    if (slot->thread.joinable()) slot->thread.join();
    return snapshot(*slot);
}

Result<PipelineStatus> PipelineSupervisor::start(std::string_view name, bool allow_state_drop) {
    Slot* slot = find(name);
    if (slot == nullptr) return unknown(name);
    std::lock_guard control(slot->control);
    if (closed_) {
        return Error(ErrorCode::kUnavailable,
                     fmt::format("pipeline `{}` cannot start: the server is stopping", name));
    }
    {
        std::lock_guard lock(slot->mutex);
        if (slot->state == PipelineState::kRunning || slot->state == PipelineState::kRestarting) {
            return Error(ErrorCode::kAlreadyExists,
                         fmt::format("pipeline `{}` is already {}", name, enum_name(slot->state)));
        }
    }
    // The previous supervising thread has finished its last state change; collect it.
    if (slot->thread.joinable()) slot->thread.join();
    {
        std::lock_guard lock(slot->mutex);
        slot->stop_requested = false;
        slot->allow_state_drop = allow_state_drop;
        slot->restarts = 0;
        slot->last_error.clear();
        slot->last_error_at = 0;
        slot->reason.clear();
        slot->carried = PipelineStatus{};
        slot->progress = std::make_unique<StreamProgress>();
        slot->state = PipelineState::kRunning;
        slot->state_since = clock_.now_micros();
        slot->run_started_at = slot->state_since;
    }
    launch(*slot);
    return snapshot(*slot);
}

void PipelineSupervisor::stop_all() {
    closed_ = true;  // a start that takes a slot's control lock after this sees it
    // Every run is asked first, so they wind down together; then each is asked again under its
    // control lock (a start that was already past the check above has launched it anew).
    auto request_stop = [](Slot& slot) {
        {
            std::lock_guard lock(slot.mutex);
            slot.stop_requested = true;
        }
        slot.wake.notify_all();
    };
    for (auto& slot : slots_) request_stop(*slot);
    for (auto& slot : slots_) {
        std::lock_guard control(slot->control);
        request_stop(*slot);
        if (slot->thread.joinable()) slot->thread.join();
    }
}

Result<StreamReport> PipelineSupervisor::run_once(const PipelineSpec& spec,
                                                  const StreamOptions& stream) const {
    // A library that throws (an allocation that fails) must not take the server down with its
    // thread: the run fails like any other and the restart policy applies.
    try {
        return options_.runner(spec, stream);
    } catch (const std::exception& error) {
        return Error(ErrorCode::kInternal, fmt::format("pipeline `{}` stopped on an exception: {}",
                                                       spec.name, error.what()));
    }
}

void PipelineSupervisor::launch(Slot& slot) {
    slot.thread = std::thread([this, &slot] { supervise(slot); });
}

void PipelineSupervisor::supervise(Slot& slot) {
    const RestartPolicy& policy = slot.spec.restart;
    std::mt19937_64 random(options_.seed ? *options_.seed
                                         : std::random_device{}() ^
                                               static_cast<uint64_t>(clock_.now_micros()));
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto set_state = [&](PipelineState state) {  // with slot.mutex held
        slot.state = state;
        slot.state_since = clock_.now_micros();
        if (slot.up_metric != nullptr) slot.up_metric->set(state == PipelineState::kRunning);
    };
    std::unique_lock lock(slot.mutex);
    while (true) {
        if (slot.stop_requested) {
            set_state(PipelineState::kStopped);
            slot.reason = "stopped by request";
            break;
        }
        set_state(PipelineState::kRunning);
        slot.run_started_at = slot.state_since;
        StreamOptions stream = options_.stream;
        stream.progress = slot.progress.get();
        stream.allow_state_drop = stream.allow_state_drop || slot.allow_state_drop;
        stream.should_stop = [&slot] { return slot.stop_requested.load(); };
        lock.unlock();
        logger_.info("stream", "streaming pipeline started", {{"pipeline", slot.spec.name}});
        const auto began = std::chrono::steady_clock::now();
        Result<StreamReport> report = run_once(slot.spec, stream);
        const auto ran = std::chrono::steady_clock::now() - began;
        lock.lock();
        // This run's counts move into the carried totals; the next run starts from zero.
        PipelineStatus counted = snapshot_locked(slot);
        counted.state_bytes = 0;  // the run is over; its state is in its checkpoint
        counted.state_keys = 0;
        slot.carried = counted;
        slot.progress = std::make_unique<StreamProgress>();
        if (report.ok()) {
            set_state(PipelineState::kStopped);
            slot.reason = slot.stop_requested ? "stopped by request" : "input ended";
            uint64_t read = 0, late = 0;
            for (const SourceReport& source : report->run.sources) {
                read += source.rows_read;
                late += source.rows_late;
            }
            logger_.info("stream", "streaming pipeline stopped",
                         {{"pipeline", slot.spec.name},
                          {"rows_read", static_cast<int64_t>(read)},
                          {"late", static_cast<int64_t>(late)},
                          {"dead_letters", static_cast<int64_t>(report->run.dead_letters)},
                          {"commits", static_cast<int64_t>(report->commits)},
                          {"reason", slot.reason}});
            break;
        }
        slot.last_error = report.error().to_string();
        slot.last_error_at = clock_.now_micros();
        logger_.error("stream", "streaming pipeline failed",
                      {{"pipeline", slot.spec.name}, {"error", slot.last_error}});
        if (slot.stop_requested) {
            set_state(PipelineState::kStopped);
            slot.reason = "stopped by request";
            break;
        }
        // A project that does not fit (state its views cannot use, a bad source column) fails
        // the same way on every restart: it waits for a person, not for a backoff.
        if (report.error().code() == ErrorCode::kConfig) {
            set_state(PipelineState::kFailed);
            slot.reason = fmt::format("not restarted (a restart would meet the same project): {}",
                                      slot.last_error);
            logger_.error("stream", "streaming pipeline marked failed",
                          {{"pipeline", slot.spec.name}, {"reason", slot.reason}});
            break;
        }
        // A run that stayed up long enough was healthy: its failure starts a new count.
        if (ran >= policy.reset_after) slot.restarts = 0;
        if (slot.restarts >= policy.attempts) {
            set_state(PipelineState::kFailed);
            slot.reason = fmt::format(
                "failed after {} restart{} (restart.attempts: {}); last error: {}", slot.restarts,
                slot.restarts == 1 ? "" : "s", policy.attempts, slot.last_error);
            logger_.error("stream", "streaming pipeline marked failed",
                          {{"pipeline", slot.spec.name}, {"reason", slot.reason}});
            break;
        }
        ++slot.restarts;
        ++slot.total_restarts;
        if (slot.restarts_metric != nullptr) slot.restarts_metric->increment();
        const std::chrono::microseconds delay = restart_delay(policy, slot.restarts, unit(random));
        set_state(PipelineState::kRestarting);
        slot.next_restart_at = slot.state_since + delay.count();
        logger_.warn("stream", "restarting streaming pipeline",
                     {{"pipeline", slot.spec.name},
                      {"attempt", static_cast<int64_t>(slot.restarts)},
                      {"of", static_cast<int64_t>(policy.attempts)},
                      {"delay_ms", static_cast<int64_t>(delay.count() / 1000)}});
        slot.wake.wait_for(lock, delay, [&slot] { return slot.stop_requested.load(); });
    }
}

}  // namespace millrace
