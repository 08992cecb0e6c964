#include "server/pipelines_handler.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "common/clock.h"
#include "common/logger.h"
#include "pipeline/pipeline_supervisor.h"

namespace millrace {
namespace {

// Stops and starts answer from the handler's worker: wait (bounded) for the answer.
HttpResponse dispatch(const Router& router, HttpMethod method, std::string path) {
    HttpRequest request;
    request.method = method;
    request.path = std::move(path);
    auto answer = std::make_shared<std::promise<HttpResponse>>();
    std::future<HttpResponse> future = answer->get_future();
    router.dispatch(request, [answer](HttpResponse response) { answer->set_value(response); });
    if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
        ADD_FAILURE() << "no answer";
        return {};
    }
    return future.get();
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

class PipelinesHandlerTest : public ::testing::Test {
protected:
    PipelinesHandlerTest() {
        PipelineSpec spec;
        spec.name = "orders";
        spec.mode = PipelineMode::kStreaming;
        spec.restart.attempts = 0;  // the first failure marks it failed
        std::vector<PipelineSpec> pipelines{spec};
        PipelineSupervisor::Options options;
        options.runner = [this](const PipelineSpec&,
                                const StreamOptions& stream) -> Result<StreamReport> {
            if (fail_) return Error(ErrorCode::kIo, "disk full");
            stream.progress->records_in = 12;
            stream.progress->dead_lettered = 3;
            stream.progress->watermark_micros = clock_.now_micros() - 5'000'000;
            ran_ = true;
            while (!stream.should_stop()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return StreamReport{};
        };
        supervisor_ = std::make_unique<PipelineSupervisor>(project_, std::move(pipelines), clock_,
                                                           logger_, nullptr, std::move(options));
        handler_ = std::make_unique<PipelinesHandler>(*supervisor_, clock_);
        handler_->add_routes(router_);
    }

    template <typename Predicate>
    bool eventually(Predicate done) {
        for (int i = 0; i < 6000 && !done(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return done();
    }

    ManualClock clock_{1'800'000'000'000'000};
    Logger logger_{[](std::string_view) {}};
    MetricsRegistry metrics_;
    Project project_;
    Router router_{metrics_};
    std::atomic<bool> fail_{false};
    std::atomic<bool> ran_{false};
    std::unique_ptr<PipelineSupervisor> supervisor_;
    std::unique_ptr<PipelinesHandler> handler_;
};

TEST_F(PipelinesHandlerTest, ListsStopsAndStarts) {
    supervisor_->start_all();
    ASSERT_TRUE(eventually([&] { return ran_.load(); }));
    HttpResponse list = dispatch(router_, HttpMethod::kGet, "/v1/pipelines");
    EXPECT_EQ(list.status, 200);
    EXPECT_TRUE(list.body.starts_with("{\"pipelines\":[{\"name\":\"orders\",\"state\":\"running\""))
        << list.body;
    EXPECT_TRUE(contains(list.body, "\"records\":{\"in\":12,\"out\":0,\"dead_lettered\":3"))
        << list.body;
    EXPECT_TRUE(contains(list.body, "\"watermark_lag_ms\":5000")) << list.body;
    EXPECT_TRUE(contains(list.body, "\"last_commit_at\":null")) << list.body;

    HttpResponse again = dispatch(router_, HttpMethod::kPost, "/v1/pipelines/orders/start");
    EXPECT_EQ(again.status, 409) << again.body;
    HttpResponse stopped = dispatch(router_, HttpMethod::kPost, "/v1/pipelines/orders/stop");
    EXPECT_EQ(stopped.status, 200);
    EXPECT_TRUE(contains(stopped.body, "\"state\":\"stopped\",")) << stopped.body;
    EXPECT_TRUE(contains(stopped.body, "\"reason\":\"stopped by request\"")) << stopped.body;
    HttpResponse one = dispatch(router_, HttpMethod::kGet, "/v1/pipelines/orders");
    EXPECT_EQ(one.status, 200);
    EXPECT_TRUE(one.body.starts_with("{\"name\":\"orders\",\"state\":\"stopped\"")) << one.body;

    // A run that fails with no restart budget is marked failed with the reason.
    fail_ = true;
    EXPECT_EQ(dispatch(router_, HttpMethod::kPost, "/v1/pipelines/orders/start").status, 200);
    ASSERT_TRUE(
        eventually([&] { return supervisor_->status("orders")->state == PipelineState::kFailed; }));
    HttpResponse failed = dispatch(router_, HttpMethod::kGet, "/v1/pipelines/orders");
    EXPECT_TRUE(contains(failed.body, "\"state\":\"failed\"")) << failed.body;
    EXPECT_TRUE(contains(failed.body, "\"last_error\":\"error: disk full\"")) << failed.body;
    EXPECT_TRUE(contains(failed.body, "failed after 0 restarts")) << failed.body;
}

TEST_F(PipelinesHandlerTest, UnknownPipelinesAreNotFound) {
    HttpResponse missing = dispatch(router_, HttpMethod::kGet, "/v1/pipelines/nope");
    EXPECT_EQ(missing.status, 404);
    EXPECT_TRUE(contains(missing.body, "no streaming pipeline `nope`")) << missing.body;
    EXPECT_EQ(dispatch(router_, HttpMethod::kPost, "/v1/pipelines/nope/stop").status, 404);
    EXPECT_EQ(dispatch(router_, HttpMethod::kGet, "/v1/pipelines/orders/stop").status, 405);
}

TEST_F(PipelinesHandlerTest, AfterFinishStopsAndStartsAre503) {
    handler_->finish();
    EXPECT_EQ(dispatch(router_, HttpMethod::kPost, "/v1/pipelines/orders/start").status, 503);
    EXPECT_EQ(dispatch(router_, HttpMethod::kGet, "/v1/pipelines").status, 200);
}

TEST_F(PipelinesHandlerTest, RoutesAreInTheAdminGroup) {
    router_.set_guard(
        [](const HttpRequest&, std::string_view group) -> std::optional<HttpResponse> {
            if (group == "admin") return json_error(401, "token required");
            return std::nullopt;
        });
    EXPECT_EQ(dispatch(router_, HttpMethod::kGet, "/v1/pipelines").status, 401);
    EXPECT_EQ(dispatch(router_, HttpMethod::kPost, "/v1/pipelines/orders/stop").status, 401);
}

}  // namespace
}  // namespace millrace
