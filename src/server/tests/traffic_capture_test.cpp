#include "server/traffic_capture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/clock.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/record_batch.h"
#include "log/topic.h"
#include "log/topic_config.h"

namespace millrace {
namespace {

class TrafficCaptureTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-capture-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        auto log = Log::open(dir_, clock_);
        ASSERT_TRUE(log.ok()) << log.error().to_string();
        log_ = std::move(log).value();
        auto topic = log_->ensure_topic("feature_requests", TopicConfig{});
        ASSERT_TRUE(topic.ok());
        topic_ = std::move(topic).value();
    }
    void TearDown() override {
        topic_.reset();
        if (log_) log_->stop();
        log_.reset();
        std::filesystem::remove_all(dir_);
    }

    std::vector<std::string> records() const {
        std::string buffer;
        std::vector<RecordView> views;
        const auto& partition = topic_->partition(0);
        auto read = partition->read(0, partition->end_offset(), 1000, 1 << 20, buffer, views);
        EXPECT_TRUE(read.ok());
        std::vector<std::string> out;
        for (const RecordView& view : views) out.emplace_back(view.value);
        return out;
    }

    std::string dir_;
    SystemClock clock_;
    MetricsRegistry metrics_;
    std::unique_ptr<Log> log_;
    std::shared_ptr<Topic> topic_;
};

TEST_F(TrafficCaptureTest, RecordsInTheReplayFormat) {
    TrafficCapture capture(topic_, 1.0, metrics_);
    EXPECT_TRUE(capture.sampled());
    capture.record(1700000000000001, "GET", "/feature/user?uid=12", "", 200,
                   "{\"key\":{\"uid\":12}}\n", 180);
    capture.record(1700000000000002, "POST", "/get-online-features", "{\"a\":\"b\"}", 400,
                   "{\"error\":\"x\"}\n", 7);
    capture.stop();
    capture.stop();  // idempotent
    EXPECT_EQ(
        records(),
        (std::vector<std::string>{
            "{\"ts_us\":1700000000000001,\"method\":\"GET\",\"target\":\"/feature/user?uid=12\","
            "\"body\":\"\",\"status\":200,\"response\":\"{\\\"key\\\":{\\\"uid\\\":12}}\\n\","
            "\"latency_us\":180}",
            "{\"ts_us\":1700000000000002,\"method\":\"POST\",\"target\":\"/get-online-features\","
            "\"body\":\"{\\\"a\\\":\\\"b\\\"}\",\"status\":400,\"response\":\"{\\\"error\\\":"
            "\\\"x\\\"}\\n\",\"latency_us\":7}"}));
    EXPECT_NE(
        metrics_.render_prometheus().find("millrace_capture_records_total{outcome=\"captured\"} 2"),
        std::string::npos);
}

TEST_F(TrafficCaptureTest, BoundedQueueDropsAndSampling) {
    TrafficCapture none(topic_, 0.0, metrics_);
    EXPECT_FALSE(none.sampled());
    none.stop();
    TrafficCapture capture(topic_, 1.0, metrics_, /*max_queued=*/2);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&capture] {
            for (int i = 0; i < 200; ++i) capture.record(1, "GET", "/x", "", 200, "{}", 1);
        });
    }
    for (auto& thread : threads) thread.join();
    capture.stop();
    const std::string text = metrics_.render_prometheus();
    const uint64_t kept = records().size();
    EXPECT_LE(kept, 800u);
    EXPECT_NE(
        text.find("millrace_capture_records_total{outcome=\"captured\"} " + std::to_string(kept)),
        std::string::npos)
        << text;
}

}  // namespace
}  // namespace millrace
