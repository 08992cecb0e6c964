#include "pipeline/pipeline_catalog.h"

#include <gtest/gtest.h>

#include "common/config_node.h"
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

TEST(PipelineCatalog, ErrorsInSqlWithoutAFilePositionStillSayWhere) {
    PipelineSpec spec = parse(std::string(kHeader) + R"(views:
  v: SELECT amout FROM orders
sinks:
  - { from: v, file: { path: out.csv, format: csv } }
)");
    spec.views[0].sql.origin = ConfigNode();  // SQL that did not come from a YAML scalar
    PipelineCatalog catalog(spec, schemas());
    Status status = catalog.bind_all_views();
    ASSERT_FALSE(status.ok());
    // Never a bare "1:8": the view's place in the file, and the position inside its SQL.
    EXPECT_EQ(status.error().location().file, "p.yaml");
    EXPECT_NE(status.error().message().find("view `v`"), std::string::npos);
    EXPECT_NE(status.error().message().find("line 1, column 8"), std::string::npos)
        << status.error().to_string();
}

TEST(PipelineCatalog, UserColumnNeedsQuotesAndTheErrorSaysSo) {
    PipelineSpec spec = parse(R"(name: p
mode: batch
sources:
  logins:
    file: { path: logins.csv, format: csv }
    schema: { id: int64 not null, user: string }
views:
  bare: SELECT id, user FROM logins
  quoted: SELECT id, "user" FROM logins WHERE "user" <> 'root'
sinks:
  - { from: quoted, file: { path: out.csv, format: csv } }
)");
    std::map<std::string, std::shared_ptr<const Schema>> logins = {
        {"logins", std::make_shared<const Schema>(std::vector<Field>{
                       {"id", DataType::kInt64, false}, {"user", DataType::kString, true}})}};
    PipelineCatalog catalog(spec, logins);
    auto quoted = catalog.relation("quoted");
    ASSERT_TRUE(quoted.ok()) << quoted.error().to_string();
    EXPECT_EQ((*quoted)->schema->field(1).name, "user");
    auto bare = catalog.relation("bare");
    ASSERT_FALSE(bare.ok());
    EXPECT_EQ(bare.error().code(), ErrorCode::kUnsupported);
    EXPECT_EQ(bare.error().location().file, "p.yaml");
    EXPECT_EQ(bare.error().location().line, 8);
    EXPECT_EQ(bare.error().location().column, 20);
    EXPECT_NE(bare.error().message().find("quote its name: \"user\""), std::string::npos)
        << bare.error().to_string();
    EXPECT_EQ(bare.error().message().find("SVFOP"), std::string::npos);
}

}  // namespace
}  // namespace millrace
