#include "alerts/alert_evaluator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/clock.h"
#include "common/logger.h"
#include "common/metrics_registry.h"

namespace millrace {
namespace {

TEST(AlertEvaluator, ParsesTheRegistryText) {
    MetricsRegistry registry;
    registry.counter("a_total", "A.", {{"k", "x\"y"}, {"j", "1"}}).increment(3);
    registry.gauge("b", "B.").set(-1.5);
    const std::vector<MetricSample> samples = parse_metric_samples(registry.render_prometheus());
    ASSERT_EQ(samples.size(), 2u);
    EXPECT_EQ(samples[0].name, "a_total");
    EXPECT_EQ(samples[0].labels.at("k"), "x\"y");
    EXPECT_EQ(samples[0].labels.at("j"), "1");
    EXPECT_EQ(samples[0].value, 3);
    EXPECT_EQ(samples[1].name, "b");
    EXPECT_EQ(samples[1].value, -1.5);
}

class AlertEvaluatorTest : public testing::Test {
protected:
    void SetUp() override {
        project_.name = "p";
        project_.data_dir =
            testing::TempDir() + "alert_evaluator_test_" + std::to_string(::getpid());
        std::filesystem::remove_all(project_.data_dir);
        project_.alerts.webhook = "http://127.0.0.1:1/hook";
    }
    void TearDown() override { std::filesystem::remove_all(project_.data_dir); }

    std::size_t waiting() const {
        std::size_t n = 0;
        std::error_code error;
        for (const auto& entry :
             std::filesystem::directory_iterator(project_.data_dir + "/alerts/outbox", error)) {
            n += entry.path().extension() == ".json";
        }
        return n;
    }

    Project project_;
    MetricsRegistry metrics_;
    Logger logger_{[](std::string_view) {}};
    ManualClock clock_{1'000'000'000};
};

TEST_F(AlertEvaluatorTest, FiresAfterForAndResolvesOnce) {
    AlertRuleSpec rule;
    rule.name = "dead";
    rule.metric = "dl_total";
    rule.labels = {{"topic", "orders"}};
    rule.above = 1;
    rule.for_duration = std::chrono::seconds(10);
    project_.alerts.rules.push_back(rule);
    AlertEvaluator evaluator(project_, metrics_, logger_, clock_);
    Counter& orders = metrics_.counter("dl_total", "x", {{"topic", "orders"}});
    Counter& other = metrics_.counter("dl_total", "x", {{"topic", "other"}});
    other.increment(100);  // another series: not summed
    EXPECT_EQ(evaluator.evaluate(), 0u);
    orders.increment(2);
    EXPECT_EQ(evaluator.evaluate(), 0u);  // pending
    clock_.advance_micros(9'000'000);
    EXPECT_EQ(evaluator.evaluate(), 0u);
    clock_.advance_micros(1'000'000);
    EXPECT_EQ(evaluator.evaluate(), 1u);  // firing after 10 s
    EXPECT_EQ(evaluator.evaluate(), 0u);  // no repeat while firing
    EXPECT_NE(metrics_.render_prometheus().find(
                  "millrace_alerts_firing{alert=\"dead\",severity=\"warning\"} 1"),
              std::string::npos);
    project_.alerts.rules[0].above = 5;   // the condition stops holding
    EXPECT_EQ(evaluator.evaluate(), 1u);  // resolved
    EXPECT_EQ(evaluator.evaluate(), 0u);
    EXPECT_EQ(waiting(), 2u);
    EXPECT_FALSE(evaluator.deliver().empty());  // nobody listens: they wait
    EXPECT_EQ(waiting(), 2u);
}

TEST_F(AlertEvaluatorTest, JobFailuresSinceStartFireUntilASuccess) {
    AlertRuleSpec rule;
    rule.name = "job";
    rule.condition = AlertCondition::kJobFailed;
    rule.job = "nightly";
    project_.alerts.rules.push_back(rule);
    Counter& failed = metrics_.counter("millrace_job_runs_total", "x",
                                       {{"job_name", "nightly"}, {"state", "failed"}});
    Counter& success = metrics_.counter("millrace_job_runs_total", "x",
                                        {{"job_name", "nightly"}, {"state", "success"}});
    failed.increment();  // before the evaluator started: old news
    AlertEvaluator evaluator(project_, metrics_, logger_, clock_);
    EXPECT_EQ(evaluator.evaluate(), 0u);
    failed.increment();
    EXPECT_EQ(evaluator.evaluate(), 1u);
    EXPECT_EQ(evaluator.evaluate(), 0u);
    success.increment();
    EXPECT_EQ(evaluator.evaluate(), 1u);
}

}  // namespace
}  // namespace millrace
