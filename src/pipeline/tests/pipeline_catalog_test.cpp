#include "pipeline/pipeline_catalog.h"

#include <gtest/gtest.h>

#include "project/pipeline_parser.h"

namespace millrace {
namespace {

PipelineSpec parse(const std::string& yaml) {
    std::vector<Error> errors;
    auto spec = parse_pipeline(yaml, "p.yaml", "/tmp", &errors);
    EXPECT_TRUE(spec.ok() && errors.empty()) << (errors.empty() ? "" : errors[0].to_string());
    return std::move(spec).value();
}

std::map<std::string, std::shared_ptr<const Schema>> schemas() {
    return {
        {"orders", std::make_shared<const Schema>(std::vector<Field>{
                       {"id", DataType::kInt64, false}, {"amount", DataType::kFloat64, true}})}};
}

constexpr const char* kHeader = R"(name: p
mode: batch
sources:
  orders:
    file: { path: orders.csv, format: csv }
    schema: { id: int64 not null, amount: double }
)";

TEST(PipelineCatalog, ViewsOverViews) {
    PipelineSpec spec = parse(std::string(kHeader) + R"(views:
  big: SELECT id, amount FROM orders WHERE amount > 10
  bigger: SELECT id FROM big WHERE amount > 100
sinks:
  - { from: bigger, file: { path: out.csv, format: csv } }
)");
    PipelineCatalog catalog(spec, schemas());
    ASSERT_TRUE(catalog.bind_all_views().ok());
    auto plan = catalog.relation("bigger");
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ((*plan)->schema->size(), 1u);
}

TEST(PipelineCatalog, CycleIsAnErrorNamingTheChain) {
    PipelineSpec spec = parse(std::string(kHeader) + R"(views:
  a: SELECT * FROM b
  b: SELECT * FROM c
  c: SELECT * FROM a
sinks:
  - { from: a, file: { path: out.csv, format: csv } }
)");
    PipelineCatalog catalog(spec, schemas());
    Status status = catalog.bind_all_views();
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message().find("a -> b -> c -> a"), std::string::npos)
        << status.error().to_string();
}

TEST(PipelineCatalog, ErrorsPointIntoTheFile) {
    PipelineSpec spec = parse(std::string(kHeader) + R"(views:
  v: |
    SELECT id,
           amout
    FROM orders
sinks:
  - { from: v, file: { path: out.csv, format: csv } }
)");
    PipelineCatalog catalog(spec, schemas());
    Status status = catalog.bind_all_views();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().location().file, "p.yaml");
    EXPECT_EQ(status.error().location().line, 10);
    EXPECT_EQ(status.error().location().column, 12);
    EXPECT_NE(status.error().message().find("did you mean `amount`"), std::string::npos);
}

}  // namespace
}  // namespace millrace
