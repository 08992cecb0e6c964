#include "pipeline/dataset_rules.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "project/pipeline_parser.h"
#include "types/column_builder.h"

namespace millrace {
namespace {

constexpr int64_t kHour = 3'600'000'000;

PipelineSpec pipeline(const std::string& checks) {
    const std::string text = R"(name: p
sources:
  s:
    topic: t
    schema: { id: int64, status: string, ts: timestamp }
checks:
  s:
)" + checks + R"(
sinks:
  - { from: s, topic: out }
)";
    std::vector<Error> errors;
    auto spec = parse_pipeline(text, "p.yaml", "/", &errors);
    EXPECT_TRUE(spec.ok()) << (errors.empty() ? "" : errors.front().to_string());
    return spec.ok() ? std::move(spec).value() : PipelineSpec{};
}

/// ids 1, 2, 2, null; statuses a, b, x, a; times 1h, 3h, 2h, null.
Batch rows() {
    auto schema = std::make_shared<const Schema>(std::vector<Field>{
        {"id", DataType::kInt64}, {"status", DataType::kString}, {"ts", DataType::kTimestamp}});
    ColumnBuilder id(DataType::kInt64), status(DataType::kString), ts(DataType::kTimestamp);
    for (int64_t v : {1, 2, 2}) id.append_int64(v);
    id.append_null();
    for (const char* v : {"a", "b", "x", "a"}) status.append_string(v);
    for (int64_t v : {1, 3, 2}) ts.append_timestamp(v * kHour);
    ts.append_null();
    return Batch(schema,
                 {std::make_shared<const Column>(id.finish()),
                  std::make_shared<const Column>(status.finish()),
                  std::make_shared<const Column>(ts.finish())},
                 4);
}

std::vector<RuleResult> judge(const PipelineSpec& spec, int64_t now = 4 * kHour) {
    const Batch batch = rows();
    auto rules = DatasetRules::bind(spec, "s", batch.schema());
    EXPECT_TRUE(rules.ok()) << rules.error().to_string();
    if (!rules.ok()) return {};
    rules->fold(now);
    rules->observe(batch);
    return rules->results(now);
}

TEST(DatasetRules, RowCountAgainstItsBounds) {
    auto results =
        judge(pipeline("    - row_count: { min: 1, max: 4 }\n"
                       "    - row_count: { max: 3 }\n      severity: warn"));
    ASSERT_EQ(results.size(), 2u);
    EXPECT_TRUE(results[0].passed);
    EXPECT_EQ(results[0].observed, "4 rows");
    EXPECT_EQ(results[0].bound, "min 1, max 4");
    EXPECT_FALSE(results[1].passed);
    EXPECT_EQ(results[1].severity, CheckSeverity::kWarn);
}

TEST(DatasetRules, UniqueCountsDuplicatesAndIgnoresNullKeys) {
    auto results = judge(pipeline("    - unique: [id]\n    - unique: [id, status]"));
    ASSERT_EQ(results.size(), 2u);
    EXPECT_FALSE(results[0].passed);
    EXPECT_EQ(results[0].observed, "1 duplicate rows");
    EXPECT_EQ(results[0].rule, "unique(id)");
    EXPECT_TRUE(results[1].passed) << results[1].observed;
}

TEST(DatasetRules, MostlyIsTheFractionPassing) {
    auto results = judge(
        pipeline("    - not_null: [id]\n      mostly: 0.75\n"
                 "    - accepted_values: { column: status, values: [a, b] }\n      mostly: 0.8\n"
                 "    - expect: \"id > 1\"\n      mostly: 0.5"));
    ASSERT_EQ(results.size(), 3u);
    EXPECT_TRUE(results[0].passed) << results[0].observed;  // 3 of 4
    EXPECT_EQ(results[0].observed, "0.75 passing (3 of 4 rows)");
    EXPECT_FALSE(results[1].passed) << results[1].observed;  // 3 of 4 < 0.8
    EXPECT_EQ(results[1].bound, "mostly >= 0.8");
    EXPECT_TRUE(results[2].passed) << results[2].observed;  // 2 of 4 (null is not true)
}

TEST(DatasetRules, RegexWithMostlySearchesEachValue) {
    auto results =
        judge(pipeline("    - regex: { column: status, pattern: \"^[ab]$\" }\n      mostly: 0.75\n"
                       "    - regex: { column: status, pattern: \"a\" }\n      mostly: 0.75\n"
                       "      name: mostly_a"));
    ASSERT_EQ(results.size(), 2u);
    EXPECT_TRUE(results[0].passed) << results[0].observed;
    EXPECT_EQ(results[0].rule, "regex(status)");
    EXPECT_EQ(results[0].observed, "0.75 passing (3 of 4 rows)");
    EXPECT_FALSE(results[1].passed) << results[1].observed;  // 2 of 4
    EXPECT_EQ(results[1].rule, "mostly_a");
}

TEST(DatasetRules, FreshnessUsesTheRunsClock) {
    const PipelineSpec spec = pipeline("    - freshness: { column: ts, max_age: 1h }");
    auto fresh = judge(spec, 4 * kHour);  // newest is 3h: 1h old
    ASSERT_EQ(fresh.size(), 1u);
    EXPECT_TRUE(fresh[0].passed);
    EXPECT_EQ(fresh[0].observed, "age 1h");
    auto stale = judge(spec, 4 * kHour + 1'000'000);
    EXPECT_FALSE(stale[0].passed);
    EXPECT_EQ(stale[0].observed, "age 1h 1s");
    EXPECT_EQ(stale[0].bound, "max_age 1h");
}

TEST(DatasetRules, ColumnsAreCheckedWhenBound) {
    const PipelineSpec spec = pipeline("    - freshness: { column: status, max_age: 1h }");
    auto rules = DatasetRules::bind(spec, "s", rows().schema());
    ASSERT_FALSE(rules.ok());
    EXPECT_NE(rules.error().message().find("not a timestamp"), std::string::npos);
    EXPECT_EQ(rules.error().location().line, 8);
}

TEST(DatasetRules, AgesReadAsDurations) {
    EXPECT_EQ(format_age(0), "0s");
    EXPECT_EQ(format_age(90 * 1'000'000), "1m 30s");
    EXPECT_EQ(format_age(26 * kHour), "1d 2h");
}

}  // namespace
}  // namespace millrace
