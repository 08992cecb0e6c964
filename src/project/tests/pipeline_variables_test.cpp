#include "project/pipeline_variables.h"

#include <gtest/gtest.h>

#include "project/pipeline_parser.h"

namespace millrace {
namespace {

PipelineSpec parse_ok(std::string_view text) {
    std::vector<Error> errors;
    Result<PipelineSpec> spec = parse_pipeline(text, "p.yaml", "/proj", &errors);
    EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].to_string());
    return spec.ok() ? std::move(spec).value() : PipelineSpec{};
}

constexpr std::string_view kDaily = R"(name: daily
vars: { ds_nodash: "*", region: eu }
sources:
  sales: { file: "in/{{ region }}/sales_{{ ds_nodash }}.csv" }
sinks:
  - { from: sales, file: "out/{{region}}.csv" }
)";

TEST(PipelineVariables, DefaultsFillPaths) {
    PipelineSpec spec = parse_ok(kDaily);
    EXPECT_EQ(spec.variables.at("region"), "eu");
    Result<PipelineSpec> bound = bind_pipeline_variables(spec, {});
    ASSERT_TRUE(bound.ok()) << bound.error().to_string();
    EXPECT_EQ(bound->sources[0].path, "/proj/in/eu/sales_*.csv");
    EXPECT_EQ(bound->sinks[0].path, "/proj/out/eu.csv");
}

TEST(PipelineVariables, DsSetsDsNodashAndGivenValuesWin) {
    PipelineSpec spec = parse_ok(kDaily);
    Result<PipelineSpec> bound =
        bind_pipeline_variables(spec, {{"ds", "2026-11-03"}, {"region", "us"}});
    ASSERT_TRUE(bound.ok()) << bound.error().to_string();
    EXPECT_EQ(bound->sources[0].path, "/proj/in/us/sales_20261103.csv");
    bound = bind_pipeline_variables(spec, {{"ds", "2026-11-03"}, {"ds_nodash", "x"}});
    ASSERT_TRUE(bound.ok());
    EXPECT_EQ(bound->sources[0].path, "/proj/in/eu/sales_x.csv");
}

TEST(PipelineVariables, UnknownGivenVariableIsAnError) {
    PipelineSpec spec = parse_ok(kDaily);
    Result<PipelineSpec> bound = bind_pipeline_variables(spec, {{"dss", "1"}});
    ASSERT_FALSE(bound.ok());
    EXPECT_EQ(bound.error().code(), ErrorCode::kInvalidArgument);
}

TEST(PipelineVariables, MissingValueFailsRunButValidateAssumesAnyFile) {
    PipelineSpec spec = parse_ok(R"(name: p
sources:
  s: { file: "in/{{ ds }}.csv" }
sinks:
  - { from: s, file: out.csv }
)");
    Result<PipelineSpec> bound = bind_pipeline_variables(spec, {});
    ASSERT_FALSE(bound.ok());
    EXPECT_EQ(bound.error().location().line, 3);
    std::vector<std::string> assumed;
    bound = bind_pipeline_variables(spec, {}, &assumed);
    ASSERT_TRUE(bound.ok());
    EXPECT_EQ(bound->sources[0].path, "/proj/in/*.csv");
    ASSERT_EQ(assumed.size(), 1u);
    EXPECT_NE(assumed[0].find("{{ ds }}"), std::string::npos);
}

TEST(PipelineVariables, UnknownVariableInPathIsAConfigErrorAtItsBraces) {
    std::vector<Error> errors;
    (void)parse_pipeline(R"(name: p
sources:
  s: { file: "in/{{ day }}.csv" }
sinks:
  - { from: s, file: out.csv }
)",
                         "p.yaml", "/proj", &errors);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].code(), ErrorCode::kConfig);
    EXPECT_EQ(errors[0].location().line, 3);
    EXPECT_EQ(errors[0].location().column, 18);
    EXPECT_TRUE(check_pipeline_variables("a_{{ ds }}", {}).ok());
    EXPECT_FALSE(check_pipeline_variables("a_{{ ds", {}).ok());
}

TEST(PipelineVariables, ParsesAssignments) {
    auto values = parse_variable_assignments({"ds=2026-11-03", "x=a=b"});
    ASSERT_TRUE(values.ok());
    EXPECT_EQ(values->at("x"), "a=b");
    EXPECT_FALSE(parse_variable_assignments({"novalue"}).ok());
    EXPECT_FALSE(parse_variable_assignments({"=x"}).ok());
}

}  // namespace
}  // namespace millrace
