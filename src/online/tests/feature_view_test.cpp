#include "online/feature_view.h"

#include <gtest/gtest.h>

#include "common/yaml_document.h"
#include "project/project.h"

namespace millrace {
namespace {

struct Parsed {
    std::optional<FeatureView> view;
    std::vector<Error> errors;
};

Parsed parse(std::string_view yaml) {
    Result<YamlDocument> document = YamlDocument::parse(yaml, "features/v.yaml");
    EXPECT_TRUE(document.ok()) << document.error().message();
    FeatureViewSpec spec{"user_features", "features/v.yaml", document->root().location(),
                         document->root()};
    Parsed parsed;
    parsed.view = parse_feature_view(spec, parsed.errors);
    return parsed;
}

TEST(FeatureViewTest, ParsesEveryPart) {
    Parsed parsed = parse(R"(name: user_features
description: Per-user features
owner: ml-platform
entities: { user_id: int64 }
features:
  clicks_30d: { type: int64, default: 0, description: Clicks in the last 30 days }
  avg_viewed_price: { type: double, default: 0.5 }
  segment: string
ttl: 2d
source:
  lake: { table: user_features, event_time: computed_at }
)");
    ASSERT_TRUE(parsed.view) << parsed.errors.front().to_string();
    const FeatureView& view = *parsed.view;
    EXPECT_EQ(view.owner, "ml-platform");
    ASSERT_EQ(view.entities.size(), 1u);
    EXPECT_EQ(view.entities[0].name, "user_id");
    EXPECT_EQ(view.entities[0].type, DataType::kInt64);
    ASSERT_EQ(view.features.size(), 3u);
    EXPECT_EQ(view.features[0].default_value, Value::int64(0));
    EXPECT_EQ(view.features[0].description, "Clicks in the last 30 days");
    EXPECT_EQ(view.features[1].type, DataType::kFloat64);
    EXPECT_EQ(view.features[1].default_value, Value::float64(0.5));
    EXPECT_TRUE(view.features[2].default_value.is_null());
    EXPECT_EQ(view.features[2].type, DataType::kString);
    EXPECT_EQ(view.ttl, std::chrono::hours(48));
    EXPECT_EQ(view.source, FeatureSourceKind::kLake);
    EXPECT_EQ(view.lake_table, "user_features");
    EXPECT_EQ(view.event_time, "computed_at");
    EXPECT_EQ(view.feature_index("segment"), 2);
    EXPECT_EQ(view.feature_index("nope"), -1);
}

TEST(FeatureViewTest, MaxEventTimeSkew) {
    Parsed parsed = parse(R"(name: v
entities: [user_id]
features: { score: double }
max_event_time_skew: 1h
source: { pipeline: scoring }
)");
    ASSERT_TRUE(parsed.view) << parsed.errors.front().to_string();
    EXPECT_EQ(parsed.view->max_event_time_skew, std::chrono::hours(1));
    parsed = parse(
        "name: v\nentities: [user_id]\nfeatures: { score: double }\n"
        "source: { pipeline: scoring }\n");
    ASSERT_TRUE(parsed.view);
    EXPECT_EQ(parsed.view->max_event_time_skew, std::chrono::hours(24));
    parsed = parse(
        "name: v\nentities: [user_id]\nfeatures: { score: double }\n"
        "source: { pipeline: scoring }\nmax_event_time_skew: soon\n");
    EXPECT_FALSE(parsed.view);
    ASSERT_FALSE(parsed.errors.empty());
    EXPECT_EQ(parsed.errors[0].location().line, 5);
}

TEST(FeatureViewTest, ListOfEntitiesMeansInt64AndPipelineSource) {
    Parsed parsed = parse(R"(name: v
entities: [user_id, item_id]
features: { score: double }
source: { pipeline: scoring }
)");
    ASSERT_TRUE(parsed.view);
    ASSERT_EQ(parsed.view->entities.size(), 2u);
    EXPECT_EQ(parsed.view->entities[1].type, DataType::kInt64);
    EXPECT_EQ(parsed.view->source, FeatureSourceKind::kPipeline);
    EXPECT_EQ(parsed.view->pipeline, "scoring");
}

TEST(FeatureViewTest, ReportsEveryErrorWithItsPosition) {
    Parsed parsed = parse(R"(name: v
entities: { user_id: dobule }
features:
  clicks: { type: int64, default: many }
  price: { typ: double }
ttl: 0s
source: { lake: { table: t }, pipeline: p }
colour: blue
)");
    EXPECT_FALSE(parsed.view);
    std::vector<std::string> messages;
    for (const Error& error : parsed.errors) messages.push_back(error.to_string());
    auto has = [&](std::string_view needle, int line) {
        for (const Error& error : parsed.errors) {
            if (error.message().find(needle) != std::string::npos &&
                error.location().line == line) {
                return true;
            }
        }
        return false;
    };
    EXPECT_TRUE(has("unknown type `dobule`; did you mean `double`?", 2))
        << ::testing::PrintToString(messages);
    EXPECT_TRUE(has("invalid input syntax for type int64", 4))
        << ::testing::PrintToString(messages);
    EXPECT_TRUE(has("missing `type`", 5)) << ::testing::PrintToString(messages);
    EXPECT_TRUE(has("must be positive", 6)) << ::testing::PrintToString(messages);
    EXPECT_TRUE(has("exactly one of", 7)) << ::testing::PrintToString(messages);
    EXPECT_TRUE(has("colour", 8)) << ::testing::PrintToString(messages);
}

TEST(FeatureViewTest, RefusesFloatKeysAndNameClashes) {
    Parsed parsed = parse(R"(name: v
entities: { score: double, user_id: int64 }
features: { user_id: int64 }
source: { pipeline: p }
)");
    EXPECT_FALSE(parsed.view);
    ASSERT_GE(parsed.errors.size(), 2u);
    EXPECT_NE(parsed.errors[0].message().find("cannot be a double"), std::string::npos);
    EXPECT_EQ(parsed.errors[0].location().line, 2);
    EXPECT_NE(parsed.errors[1].message().find("both an entity key and a feature"),
              std::string::npos);
}

TEST(FeatureViewTest, LayoutFingerprintFollowsTypesAndOrder) {
    Parsed a = parse(
        "name: v\nentities: { id: int64 }\nfeatures: { x: int64, y: double }\n"
        "source: { pipeline: p }\n");
    Parsed b = parse(
        "name: v\nentities: { id: int64 }\nfeatures: { x: double, y: double }\n"
        "source: { pipeline: p }\n");
    Parsed c = parse(
        "name: v\nentities: { id: int64 }\nfeatures: { x: int64, y: double }\n"
        "ttl: 1h\nsource: { lake: { table: t } }\n");
    ASSERT_TRUE(a.view && b.view && c.view);
    EXPECT_NE(a.view->layout_fingerprint(), b.view->layout_fingerprint());
    EXPECT_EQ(a.view->layout_fingerprint(), c.view->layout_fingerprint());
}

}  // namespace
}  // namespace millrace
