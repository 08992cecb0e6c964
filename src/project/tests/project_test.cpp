#include "project/project.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(Project, EnumNamesAreTheYamlWords) {
    EXPECT_EQ(enum_name(PipelineMode::kStreaming), "streaming");
    EXPECT_EQ(enum_name(SourceKind::kKafka), "kafka");
    EXPECT_EQ(enum_name(DataFormat::kNdjson), "ndjson");
    EXPECT_EQ(enum_name(OnRecordError::kDeadLetter), "dead_letter");
    EXPECT_EQ(enum_name(CheckKind::kNotNull), "not_null");
    EXPECT_EQ(enum_name(CheckAction::kWarn), "warn");
    EXPECT_EQ(enum_name(SinkKind::kOnline), "online");
}

TEST(Project, FormatFromExtension) {
    EXPECT_EQ(format_from_extension("ref/restaurants.csv"), DataFormat::kCsv);
    EXPECT_EQ(format_from_extension("/a/b.JSON"), DataFormat::kJson);
    EXPECT_EQ(format_from_extension("x.jsonl"), DataFormat::kNdjson);
    EXPECT_EQ(format_from_extension("x.ndjson"), DataFormat::kNdjson);
    EXPECT_EQ(format_from_extension("lake/part-0.parquet"), DataFormat::kParquet);
    EXPECT_EQ(format_from_extension("x.txt"), std::nullopt);
    EXPECT_EQ(format_from_extension("dir.csv/file"), std::nullopt);
    EXPECT_EQ(format_from_extension("noext"), std::nullopt);
}

TEST(Project, FindsByName) {
    PipelineSpec pipeline;
    pipeline.sources.push_back(SourceSpec{.name = "orders"});
    pipeline.views.push_back(ViewSpec{.name = "enriched"});
    EXPECT_NE(pipeline.find_source("orders"), nullptr);
    EXPECT_EQ(pipeline.find_source("enriched"), nullptr);
    EXPECT_NE(pipeline.find_view("enriched"), nullptr);
    Project project;
    project.pipelines.push_back(std::move(pipeline));
    project.pipelines.back().name = "p";
    EXPECT_EQ(project.find_pipeline("p"), &project.pipelines[0]);
    EXPECT_EQ(project.find_pipeline("q"), nullptr);
}

TEST(Project, SqlTextLocatesInsideItsScalar) {
    SqlText sql{"SELECT 1", ConfigNode::scalar("SELECT 1", SourceLocation{"p.yaml", 3, 12})};
    EXPECT_EQ(sql.location_of(1, 8).to_string(), "p.yaml:3:19");
    SqlText empty;
    EXPECT_EQ(empty.location_of(1, 1).to_string(), "");
}

}  // namespace
}  // namespace millrace
