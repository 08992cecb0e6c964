#include "pipeline/pipeline_metrics.h"

#include <gtest/gtest.h>

#include "common/metrics_registry.h"

namespace millrace {
namespace {

TEST(PipelineMetrics, ExportsTheAccountingOfEachSourceAsItGrows) {
    MetricsRegistry registry;
    PipelineMetrics metrics(registry, "orders");
    RunReport report;
    SourceReport source;
    source.name = "events";
    source.rows_read = 8;  // 1 late, 1 failed a check, 1 dropped by a check, 5 out
    source.rows_rejected = 2;
    source.rows_late = 1;
    source.rows_failed_checks = 1;
    source.rows_dropped_by_checks = 1;
    source.rows_out = 5;
    ASSERT_TRUE(source.balanced());
    report.sources.push_back(source);
    metrics.update(report);
    // A later commit of the same run: the counters add only what grew.
    report.sources[0].rows_read += 10;
    report.sources[0].rows_out += 10;
    metrics.update(report);
    const std::string text = registry.render_prometheus();
    auto has = [&](const std::string& line) {
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
    };
    has(R"(millrace_pipeline_records_total{pipeline="orders",source="events",outcome="in"} 20)");
    has(R"(millrace_pipeline_records_total{pipeline="orders",source="events",outcome="out"} 15)");
    has(R"(millrace_pipeline_records_total{pipeline="orders",source="events",outcome="filtered"} 1)");
    has(R"(millrace_pipeline_records_total{pipeline="orders",source="events",outcome="dead_lettered"} 3)");
    has(R"(millrace_pipeline_records_total{pipeline="orders",source="events",outcome="late"} 1)");
    has(R"(millrace_pipeline_dead_letter_rate{pipeline="orders",source="events"} 0.15)");
}

TEST(PipelineMetrics, AnUnbalancedReportIsNotBalanced) {
    SourceReport source;
    source.rows_read = 3;
    source.rows_out = 2;
    EXPECT_FALSE(source.balanced());
    source.rows_dropped_by_checks = 1;
    EXPECT_TRUE(source.balanced());
    source.rows_rejected = 2;
    source.rows_rejected_dropped = 1;  // one dead-lettered, one dropped
    EXPECT_EQ(source.records_dead_lettered(), 1u);
    EXPECT_EQ(source.records_filtered(), 2u);
    EXPECT_TRUE(source.balanced());
}

}  // namespace
}  // namespace millrace
