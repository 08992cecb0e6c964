#include "pipeline/pipeline_supervisor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "common/clock.h"
#include "common/logger.h"
#include "common/metrics_registry.h"

namespace millrace {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

PipelineSpec streaming(std::string name, int attempts) {
    PipelineSpec spec;
    spec.name = std::move(name);
    spec.mode = PipelineMode::kStreaming;
    spec.restart.attempts = attempts;
    spec.restart.initial = milliseconds(1);
    spec.restart.max = milliseconds(4);
    return spec;
}

// Waits (bounded, never timed) until `done` holds.
template <typename Predicate>
bool eventually(Predicate done) {
    for (int i = 0; i < 6000; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(milliseconds(5));
    }
    return done();
}

// A run that counts some progress and then waits for its stop.
Result<StreamReport> run_until_stopped(const StreamOptions& options) {
    options.progress->records_in = 10;
    options.progress->records_out = 7;
    options.progress->dead_lettered = 2;
    options.progress->late = 1;
    options.progress->commits = 1;
    options.progress->last_commit_micros = 5;
    options.progress->watermark_micros = 42;
    while (!options.should_stop()) std::this_thread::sleep_for(milliseconds(1));
    return StreamReport{};
}

struct Fixture {
    SystemClock clock;
    Logger logger{[](std::string_view) {}};
    MetricsRegistry metrics;
    Project project;
};

TEST(PipelineSupervisor, RestartDelayDoublesUpToTheCap) {
    RestartPolicy policy;
    policy.initial = milliseconds(100);
    policy.max = milliseconds(1000);
    EXPECT_EQ(restart_delay(policy, 1, 0.0), milliseconds(100));
    EXPECT_EQ(restart_delay(policy, 2, 0.0), milliseconds(200));
    EXPECT_EQ(restart_delay(policy, 4, 0.0), milliseconds(800));
    EXPECT_EQ(restart_delay(policy, 5, 0.0), milliseconds(1000));
    EXPECT_EQ(restart_delay(policy, 1'000'000, 0.0), milliseconds(1000));
    // Jitter takes off at most half.
    EXPECT_EQ(restart_delay(policy, 1, 0.5), milliseconds(75));
    EXPECT_GT(restart_delay(policy, 5, 0.999), milliseconds(500));
    EXPECT_EQ(restart_delay(policy, 5, 7.0), milliseconds(500));  // clamped
}

TEST(PipelineSupervisor, MarksFailedAfterItsBudget) {
    Fixture f;
    std::atomic<int> runs{0};
    PipelineSupervisor::Options options;
    options.seed = 7;
    options.runner = [&](const PipelineSpec&, const StreamOptions&) -> Result<StreamReport> {
        ++runs;
        return Error(ErrorCode::kIo, "disk on fire");
    };
    std::vector<PipelineSpec> pipelines;
    pipelines.push_back(streaming("orders", 2));
    PipelineSupervisor supervisor(f.project, std::move(pipelines), f.clock, f.logger, &f.metrics,
                                  std::move(options));
    supervisor.start_all();
    ASSERT_TRUE(
        eventually([&] { return supervisor.status("orders")->state == PipelineState::kFailed; }));
    const PipelineStatus status = *supervisor.status("orders");
    EXPECT_EQ(runs.load(), 3);  // the first run and two restarts
    EXPECT_EQ(status.restarts, 2);
    EXPECT_EQ(status.total_restarts, 2u);
    EXPECT_NE(status.last_error.find("disk on fire"), std::string::npos);
    EXPECT_NE(status.reason.find("failed after 2 restarts"), std::string::npos);
    EXPECT_NE(status.reason.find("disk on fire"), std::string::npos);
    EXPECT_NE(f.metrics.render_prometheus().find(
                  "millrace_pipeline_restarts_total{pipeline=\"orders\"} 2"),
              std::string::npos);
    // A start gives it a fresh budget.
    ASSERT_TRUE(supervisor.start("orders").ok());
    ASSERT_TRUE(
        eventually([&] { return supervisor.status("orders")->state == PipelineState::kFailed; }));
    EXPECT_EQ(runs.load(), 6);
    EXPECT_EQ(supervisor.status("orders")->total_restarts, 4u);
}

TEST(PipelineSupervisor, ConfigErrorFailsAtOnceAndStartCanAllowStateDrop) {
    Fixture f;
    std::atomic<int> runs{0};
    std::atomic<bool> allowed{false};
    PipelineSupervisor::Options options;
    options.seed = 7;
    options.runner = [&](const PipelineSpec&, const StreamOptions& stream) -> Result<StreamReport> {
        ++runs;
        if (!stream.allow_state_drop)
            return Error(ErrorCode::kConfig, "pipeline `orders` would drop saved state");
        allowed = true;
        stream.progress->state_bytes = 1000;
        stream.progress->state_keys = 10;
        stream.progress->state_limit_bytes = 4096;
        while (!stream.should_stop()) std::this_thread::sleep_for(milliseconds(1));
        return StreamReport{};
    };
    std::vector<PipelineSpec> pipelines;
    pipelines.push_back(streaming("orders", 5));
    PipelineSupervisor supervisor(f.project, std::move(pipelines), f.clock, f.logger, &f.metrics,
                                  std::move(options));
    supervisor.start_all();
    ASSERT_TRUE(
        eventually([&] { return supervisor.status("orders")->state == PipelineState::kFailed; }));
    EXPECT_EQ(runs.load(), 1);  // no restarts: the project would fail the same way
    EXPECT_EQ(supervisor.status("orders")->restarts, 0);
    EXPECT_NE(supervisor.status("orders")->reason.find("would drop saved state"),
              std::string::npos);
    ASSERT_TRUE(supervisor.start("orders", /*allow_state_drop=*/true).ok());
    ASSERT_TRUE(eventually([&] { return supervisor.status("orders")->state_keys == 10; }));
    EXPECT_TRUE(allowed.load());
    EXPECT_EQ(supervisor.status("orders")->state_bytes, 1000u);
    EXPECT_EQ(supervisor.status("orders")->state_limit_bytes, 4096u);
    supervisor.stop_all();
}

TEST(PipelineSupervisor, RecoversAfterFailuresAndStopsOnRequest) {
    Fixture f;
    std::atomic<int> runs{0};
    PipelineSupervisor::Options options;
    options.seed = 1;
    options.runner = [&](const PipelineSpec&, const StreamOptions& stream) -> Result<StreamReport> {
        if (++runs <= 2) return Error(ErrorCode::kUnavailable, "broker away");
        return run_until_stopped(stream);
    };
    std::vector<PipelineSpec> pipelines;
    pipelines.push_back(streaming("orders", 5));
    PipelineSupervisor supervisor(f.project, std::move(pipelines), f.clock, f.logger, &f.metrics,
                                  std::move(options));
    supervisor.start_all();
    ASSERT_TRUE(eventually([&] {
        const PipelineStatus s = *supervisor.status("orders");
        return s.state == PipelineState::kRunning && s.records_in == 10;
    }));
    PipelineStatus status = *supervisor.status("orders");
    EXPECT_EQ(status.restarts, 2);
    EXPECT_NE(status.last_error.find("broker away"), std::string::npos);
    EXPECT_EQ(status.records_out, 7u);
    EXPECT_EQ(status.dead_lettered, 2u);
    EXPECT_EQ(status.late, 1u);
    EXPECT_EQ(status.last_commit_micros, 5);
    ASSERT_TRUE(status.watermark_micros.has_value());
    EXPECT_EQ(*status.watermark_micros, 42);
    // Running: a second start is refused.
    Result<PipelineStatus> again = supervisor.start("orders");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);

    Result<PipelineStatus> stopped = supervisor.stop("orders");
    ASSERT_TRUE(stopped.ok());
    EXPECT_EQ(stopped->state, PipelineState::kStopped);
    EXPECT_EQ(stopped->reason, "stopped by request");
    EXPECT_EQ(stopped->records_in, 10u);          // counts survive the stop
    ASSERT_TRUE(supervisor.stop("orders").ok());  // idempotent

    ASSERT_TRUE(supervisor.start("orders").ok());
    ASSERT_TRUE(eventually([&] { return supervisor.status("orders")->records_in == 10; }));
    status = *supervisor.status("orders");
    EXPECT_EQ(status.state, PipelineState::kRunning);
    EXPECT_EQ(status.restarts, 0);
    EXPECT_TRUE(status.last_error.empty());
    supervisor.stop_all();
    EXPECT_EQ(supervisor.status("orders")->state, PipelineState::kStopped);
    // The server is stopping: nothing starts again.
    Result<PipelineStatus> late = supervisor.start("orders");
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code(), ErrorCode::kUnavailable);
}

TEST(PipelineSupervisor, AnExceptionIsAFailedRun) {
    Fixture f;
    PipelineSupervisor::Options options;
    options.runner = [](const PipelineSpec&, const StreamOptions&) -> Result<StreamReport> {
        throw std::runtime_error("out of memory");
    };
    std::vector<PipelineSpec> pipelines;
    pipelines.push_back(streaming("orders", 1));
    PipelineSupervisor supervisor(f.project, std::move(pipelines), f.clock, f.logger, nullptr,
                                  std::move(options));
    supervisor.start_all();
    ASSERT_TRUE(
        eventually([&] { return supervisor.status("orders")->state == PipelineState::kFailed; }));
    EXPECT_NE(supervisor.status("orders")->last_error.find("out of memory"), std::string::npos);
}

TEST(PipelineSupervisor, StopInterruptsTheBackoff) {
    Fixture f;
    PipelineSupervisor::Options options;
    options.runner = [](const PipelineSpec&, const StreamOptions&) -> Result<StreamReport> {
        return Error(ErrorCode::kIo, "no");
    };
    std::vector<PipelineSpec> pipelines;
    pipelines.push_back(streaming("slow", 3));
    pipelines.back().restart.initial = std::chrono::hours(1);
    pipelines.back().restart.max = std::chrono::hours(1);
    PipelineSupervisor supervisor(f.project, std::move(pipelines), f.clock, f.logger, nullptr,
                                  std::move(options));
    supervisor.start_all();
    ASSERT_TRUE(
        eventually([&] { return supervisor.status("slow")->state == PipelineState::kRestarting; }));
    EXPECT_GT(supervisor.status("slow")->next_restart_micros, 0);
    Result<PipelineStatus> stopped = supervisor.stop("slow");  // returns: the wait is cut short
    ASSERT_TRUE(stopped.ok());
    EXPECT_EQ(stopped->state, PipelineState::kStopped);
}

TEST(PipelineSupervisor, UnknownAndBatchPipelines) {
    Fixture f;
    f.project.name = "shop";
    PipelineSpec batch;
    batch.name = "daily";
    f.project.pipelines.push_back(batch);
    PipelineSupervisor::Options options;
    options.runner = [](const PipelineSpec&, const StreamOptions& s) {
        return run_until_stopped(s);
    };
    std::vector<PipelineSpec> pipelines;
    pipelines.push_back(streaming("orders", 1));
    PipelineSupervisor supervisor(f.project, std::move(pipelines), f.clock, f.logger, nullptr,
                                  std::move(options));
    EXPECT_EQ(supervisor.status("orders")->state, PipelineState::kStopped);  // not started yet
    Result<PipelineStatus> missing = supervisor.status("ordrs");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
    EXPECT_NE(missing.error().message().find("did you mean `orders`"), std::string::npos);
    Result<PipelineStatus> batch_status = supervisor.stop("daily");
    ASSERT_FALSE(batch_status.ok());
    EXPECT_NE(batch_status.error().message().find("mode: batch"), std::string::npos);
    EXPECT_EQ(supervisor.list().size(), 1u);
}

}  // namespace
}  // namespace millrace
