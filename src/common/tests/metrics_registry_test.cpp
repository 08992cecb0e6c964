#include "common/metrics_registry.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>
#include <vector>

namespace millrace {
namespace {

TEST(MetricsRegistry, SameNameAndLabelsGiveTheSameMetric) {
    MetricsRegistry registry;
    Counter& a = registry.counter("millrace_records_in_total", "Records read.",
                                  {{"pipeline", "p1"}, {"source", "orders"}});
    Counter& b = registry.counter("millrace_records_in_total", "Records read.",
                                  {{"source", "orders"}, {"pipeline", "p1"}});
    Counter& c = registry.counter("millrace_records_in_total", "Records read.",
                                  {{"pipeline", "p2"}, {"source", "orders"}});
    EXPECT_EQ(&a, &b);
    EXPECT_NE(&a, &c);
    a.increment();
    b.increment(4);
    EXPECT_EQ(a.value(), 5u);
    EXPECT_EQ(c.value(), 0u);
}

TEST(MetricsRegistry, MetricsStayPutWhileOthersAreAdded) {
    MetricsRegistry registry;
    Gauge& first = registry.gauge("millrace_lag", "Lag.", {{"source", "s0"}});
    for (int i = 1; i < 1000; ++i) {
        registry.gauge("millrace_lag", "Lag.", {{"source", "s" + std::to_string(i)}});
        registry.counter("millrace_c" + std::to_string(i) + "_total", "x");
    }
    first.set(3);
    EXPECT_EQ(&first, &registry.gauge("millrace_lag", "Lag.", {{"source", "s0"}}));
    EXPECT_EQ(registry.gauge("millrace_lag", "Lag.", {{"source", "s0"}}).value(), 3);
}

TEST(MetricsRegistry, RendersCountersAndGauges) {
    MetricsRegistry registry;
    registry
        .counter("millrace_records_in_total", "Records read by a source.",
                 {{"pipeline", "p1"}, {"source", "orders"}})
        .increment(42);
    registry
        .counter("millrace_records_in_total", "Records read by a source.",
                 {{"pipeline", "p1"}, {"source", "bad\"na\\me\nx"}})
        .increment();
    Gauge& lag = registry.gauge("millrace_consumer_lag", "Records behind.\nSecond \\ line");
    lag.set(10);
    lag.add(-2.5);
    registry.gauge("millrace_up", "Up.").set(1);
    EXPECT_EQ(registry.render_prometheus(),
              "# HELP millrace_consumer_lag Records behind.\\nSecond \\\\ line\n"
              "# TYPE millrace_consumer_lag gauge\n"
              "millrace_consumer_lag 7.5\n"
              "# HELP millrace_records_in_total Records read by a source.\n"
              "# TYPE millrace_records_in_total counter\n"
              "millrace_records_in_total{pipeline=\"p1\",source=\"bad\\\"na\\\\me\\nx\"} 1\n"
              "millrace_records_in_total{pipeline=\"p1\",source=\"orders\"} 42\n"
              "# HELP millrace_up Up.\n"
              "# TYPE millrace_up gauge\n"
              "millrace_up 1\n");
}

TEST(MetricsRegistry, RendersHistograms) {
    MetricsRegistry registry;
    Histogram& latency = registry.histogram("millrace_request_seconds", "Request latency.",
                                            {{"route", "features"}}, {0.005, 0.01, 0.1, 1});
    latency.observe(0.001);
    latency.observe(0.005);  // bounds are inclusive
    latency.observe(0.05);
    latency.observe(0.5);
    latency.observe(7);
    EXPECT_EQ(latency.count(), 5u);
    EXPECT_EQ(latency.bucket_count(0), 2u);
    EXPECT_EQ(latency.bucket_count(4), 1u);
    EXPECT_EQ(registry.render_prometheus(),
              "# HELP millrace_request_seconds Request latency.\n"
              "# TYPE millrace_request_seconds histogram\n"
              "millrace_request_seconds_bucket{route=\"features\",le=\"0.005\"} 2\n"
              "millrace_request_seconds_bucket{route=\"features\",le=\"0.01\"} 2\n"
              "millrace_request_seconds_bucket{route=\"features\",le=\"0.1\"} 3\n"
              "millrace_request_seconds_bucket{route=\"features\",le=\"1\"} 4\n"
              "millrace_request_seconds_bucket{route=\"features\",le=\"+Inf\"} 5\n"
              "millrace_request_seconds_sum{route=\"features\"} 7.556\n"
              "millrace_request_seconds_count{route=\"features\"} 5\n");
}

TEST(MetricsRegistry, RendersUnlabelledHistogramAndSpecialValues) {
    MetricsRegistry registry;
    Histogram& sizes = registry.histogram("millrace_batch_rows", "Rows per batch.", {},
                                          exponential_buckets(1000, 10, 3));
    sizes.observe(std::numeric_limits<double>::quiet_NaN());
    registry.gauge("millrace_watermark", "W.").set(-std::numeric_limits<double>::infinity());
    EXPECT_EQ(registry.render_prometheus(),
              "# HELP millrace_batch_rows Rows per batch.\n"
              "# TYPE millrace_batch_rows histogram\n"
              "millrace_batch_rows_bucket{le=\"1000\"} 0\n"
              "millrace_batch_rows_bucket{le=\"10000\"} 0\n"
              "millrace_batch_rows_bucket{le=\"100000\"} 0\n"
              "millrace_batch_rows_bucket{le=\"+Inf\"} 1\n"
              "millrace_batch_rows_sum NaN\n"
              "millrace_batch_rows_count 1\n"
              "# HELP millrace_watermark W.\n"
              "# TYPE millrace_watermark gauge\n"
              "millrace_watermark -Inf\n");
}

TEST(MetricsRegistry, EmptyRegistryRendersNothing) {
    MetricsRegistry registry;
    EXPECT_EQ(registry.render_prometheus(), "");
}

TEST(MetricsRegistry, ConcurrentUpdatesAddUp) {
    MetricsRegistry registry;
    constexpr int kThreads = 4;
    constexpr int kPerThread = 20'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&registry] {
            // Every thread looks the metrics up itself, racing on creation too.
            Counter& counter =
                registry.counter("millrace_events_total", "Events.", {{"pipeline", "p"}});
            Gauge& gauge = registry.gauge("millrace_in_flight", "In flight.");
            Histogram& histogram = registry.histogram("millrace_sizes", "Sizes.", {}, {1, 2, 3});
            for (int i = 0; i < kPerThread; ++i) {
                counter.increment();
                gauge.add(1);
                histogram.observe(i % 4);
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(registry.counter("millrace_events_total", "Events.", {{"pipeline", "p"}}).value(),
              uint64_t{kThreads * kPerThread});
    EXPECT_EQ(registry.gauge("millrace_in_flight", "In flight.").value(), kThreads * kPerThread);
    Histogram& histogram = registry.histogram("millrace_sizes", "Sizes.", {}, {1, 2, 3});
    EXPECT_EQ(histogram.count(), uint64_t{kThreads * kPerThread});
    for (std::size_t bucket = 0; bucket < 4; ++bucket) {
        // values 0 and 1 both land in le=1; 2 in le=2; 3 in le=3; nothing above.
        const uint64_t expected = bucket == 0   ? kThreads * kPerThread / 2
                                  : bucket == 3 ? 0
                                                : kThreads * kPerThread / 4;
        EXPECT_EQ(histogram.bucket_count(bucket), expected) << bucket;
    }
    EXPECT_EQ(histogram.sum(), kThreads * (kPerThread / 4) * (0 + 1 + 2 + 3));
}

TEST(MetricsRegistry, ExponentialBuckets) {
    EXPECT_EQ(exponential_buckets(0.001, 2, 4), (std::vector<double>{0.001, 0.002, 0.004, 0.008}));
}

TEST(MetricsRegistryDeathTest, MisuseIsAProgrammingError) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    MetricsRegistry registry;
    registry.counter("millrace_x_total", "X.", {{"pipeline", "p"}});
    EXPECT_DEATH(registry.gauge("millrace_x_total", "X."), "is a counter, not a gauge");
    EXPECT_DEATH(registry.counter("millrace_x_total", "X.", {{"source", "s"}}), "no label");
    EXPECT_DEATH(registry.counter("millrace_x_total", "X."), "other label names");
    EXPECT_DEATH(registry.counter("bad-name", "X."), "invalid metric name");
    EXPECT_DEATH(registry.counter("millrace_y", "Y.", {{"__reserved", "v"}}), "invalid label");
    EXPECT_DEATH(registry.counter("millrace_y", "Y.", {{"a", "1"}, {"a", "2"}}), "given twice");
    EXPECT_DEATH(registry.histogram("millrace_h", "H.", {{"le", "1"}}, {1}), "reserved");
    EXPECT_DEATH(registry.histogram("millrace_h", "H.", {}, {2, 1}), "strictly increasing");
    registry.histogram("millrace_h2", "H.", {}, {1, 2});
    EXPECT_DEATH(registry.histogram("millrace_h2", "H.", {}, {1, 3}), "other bucket bounds");
}

}  // namespace
}  // namespace millrace
