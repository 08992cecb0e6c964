#include "server/feature_route.h"

#include <gtest/gtest.h>

#include "common/yaml_document.h"
#include "project/project.h"

namespace millrace {
namespace {

using Strings = std::vector<std::string>;

FeatureView user_view() {
    FeatureView view;
    view.name = "user_features";
    view.entities = {{"user_id", DataType::kInt64}};
    view.features = {{"clicks_30d", DataType::kInt64, Value::int64(0), ""},
                     {"avg_viewed_price", DataType::kFloat64, Value::float64(0), ""},
                     {"product_heat", DataType::kInt64, Value(), ""},
                     {"segment", DataType::kString, Value(), ""},
                     {"seen_at", DataType::kTimestamp, Value(), ""}};
    return view;
}

FeatureView pair_view() {
    FeatureView view;
    view.name = "user_item";
    view.entities = {{"user_id", DataType::kInt64}, {"item_id", DataType::kString}};
    view.features = {{"score", DataType::kFloat64, Value(), ""}};
    return view;
}

RouteSpec spec_of(std::string_view yaml, std::vector<Error>& errors) {
    auto document = YamlDocument::parse(yaml, "routes/r.yaml");
    EXPECT_TRUE(document.ok());
    const ConfigNode& root = document->root();
    const ConfigNode* name = root.find("name");
    return RouteSpec{name != nullptr && name->is_scalar() ? name->scalar() : "r", "routes/r.yaml",
                     root.location(), root};
    (void)errors;
}

std::optional<FeatureRoute> parse(std::string_view yaml, Strings* messages = nullptr) {
    std::vector<Error> errors;
    RouteSpec spec = spec_of(yaml, errors);
    std::optional<FeatureRoute> route =
        parse_feature_route(spec, {user_view(), pair_view()}, errors);
    if (messages != nullptr) {
        for (const Error& error : errors) {
            messages->push_back(error.location().to_string() + " " + error.message());
        }
    } else {
        for (const Error& error : errors) ADD_FAILURE() << error.to_string();
    }
    return route;
}

// "line:column" of each error.
Strings positions(std::string_view yaml) {
    Strings messages;
    EXPECT_FALSE(parse(yaml, &messages).has_value());
    Strings out;
    for (const std::string& message : messages) {
        const std::size_t space = message.find(' ');
        const std::string where = message.substr(0, space);
        out.push_back(where.substr(where.find(':') + 1));
    }
    return out;
}

TEST(FeatureRoute, ReadsTheSeedRoute) {
    auto route = parse(R"(name: user
path: /feature/user
view: user_features
group: features
key: { uid: user_id }
features:
  clicks_30d: clicks_30d
  avg_price: { feature: avg_viewed_price, type: double, default: 0.5 }
  heat: { feature: product_heat, type: double }
  seen: { feature: seen_at, type: string }
rate_limit: { rps: 2000, burst: 400 }
timeout: 50ms
cache_control: "private, max-age=5"
)");
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->path, "/feature/user");
    EXPECT_EQ(route->view, "user_features");
    EXPECT_EQ(route->key_params, Strings{"uid"});
    ASSERT_EQ(route->features.size(), 4u);
    EXPECT_EQ(route->features[0].response_name, "clicks_30d");
    EXPECT_FALSE(route->features[0].convert);
    EXPECT_EQ(route->features[0].default_value, Value::int64(0));
    EXPECT_EQ(route->features[1].response_name, "avg_price");
    EXPECT_EQ(route->features[1].feature_index, 1);
    EXPECT_EQ(route->features[1].default_value, Value::float64(0.5));
    EXPECT_EQ(route->features[2].type, DataType::kFloat64);
    EXPECT_TRUE(route->features[2].convert);
    EXPECT_TRUE(route->features[2].default_value.is_null());
    EXPECT_EQ(route->features[3].type, DataType::kString);
    ASSERT_TRUE(route->rate_limit.has_value());
    EXPECT_EQ(route->rate_limit->rps, 2000);
    EXPECT_EQ(route->rate_limit->burst, 400);
    EXPECT_EQ(route->timeout, std::chrono::milliseconds(50));
    EXPECT_EQ(route->cache_control, "private, max-age=5");
}

TEST(FeatureRoute, Defaults) {
    auto route = parse("name: r\npath: /f/u\nview: user_features\n");
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->group, "features");
    EXPECT_EQ(route->key_params, Strings{"user_id"});
    EXPECT_EQ(route->features.size(), 5u);
    EXPECT_EQ(route->cache_control, "no-cache");
    EXPECT_FALSE(route->rate_limit.has_value());
    EXPECT_FALSE(route->timeout.has_value());
    // An int default converted with the feature.
    route = parse(
        "name: r\npath: /f/u\nview: user_features\nkey: uid\n"
        "features: { c: { feature: clicks_30d, type: double } }\n");
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->key_params, Strings{"uid"});
    EXPECT_EQ(route->features[0].default_value, Value::float64(0));
    // A list of names; rate limit burst defaults to one second of requests.
    route = parse(
        "name: r\npath: /f/u\nview: user_features\nfeatures: [segment, clicks_30d]\n"
        "rate_limit: { rps: 50 }\n");
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->features[0].response_name, "segment");
    EXPECT_EQ(route->features[1].feature_index, 0);
    EXPECT_EQ(route->rate_limit->burst, 50);
}

TEST(FeatureRoute, MultiEntityKeys) {
    auto route = parse("name: r\npath: /ui\nview: user_item\nkey: { u: user_id, i: item_id }\n");
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->key_params, (Strings{"u", "i"}));
    route = parse("name: r\npath: /ui\nview: user_item\nkey: { i: item_id, u: user_id }\n");
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->key_params, (Strings{"u", "i"}));  // entity order
}

TEST(FeatureRoute, ErrorsPointAtTheValue) {
    EXPECT_EQ(positions("name: r\npath: feature/user\nview: user_features\n"), Strings{"2:7"});
    EXPECT_EQ(positions("name: r\npath: /v1/features/x\nview: user_features\n"), Strings{"2:7"});
    EXPECT_EQ(positions("name: r\npath: /a?b=1\nview: user_features\n"), Strings{"2:7"});
    EXPECT_EQ(positions("name: r\nview: user_features\n"), Strings{"1:1"});  // no path
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_featurs\n"), Strings{"3:7"});
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\ngroup: feature\n"),
              Strings{"4:8"});
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\nkey: { uid: usr_id }\n"),
              Strings{"4:13"});
    EXPECT_EQ(positions("name: r\npath: /ui\nview: user_item\nkey: { u: user_id }\n"),
              Strings{"4:6"});  // item_id not mapped
    EXPECT_EQ(positions("name: r\npath: /ui\nview: user_item\nkey: u\n"), Strings{"4:6"});
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\nfeatures: [clicks]\n"),
              Strings{"4:12"});
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\n"
                        "features:\n  p: { feature: avg_viewed_price, type: int64 }\n"),
              Strings{"5:41"});  // double -> int64 cannot be done
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\n"
                        "features:\n  p: { feature: segment, type: double }\n"),
              Strings{"5:32"});  // string -> double cannot be done
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\n"
                        "features:\n  c: { feature: clicks_30d, type: nope }\n"),
              Strings{"5:35"});
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\n"
                        "features:\n  c: { feature: clicks_30d, default: abc }\n"),
              Strings{"5:38"});
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\n"
                        "features:\n  c: { feature: clicks_30d, colour: red }\n"),
              Strings{"5:29"});
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\nrate_limit: { rps: 0 }\n"),
              Strings{"4:20"});
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\ntimeout: 5 ms\n"),
              Strings{"4:11"});
    EXPECT_EQ(positions("name: r\npath: /a\nview: user_features\ncolour: red\n"), Strings{"4:1"});
}

TEST(FeatureRoute, CollectsEveryErrorWithHints) {
    Strings messages;
    EXPECT_FALSE(parse("name: r\npath: a\nview: user_features\n"
                       "features: { x: clicks_3d, y: { feature: segmnt } }\n"
                       "timeout: 0\n",
                       &messages)
                     .has_value());
    ASSERT_EQ(messages.size(), 4u);
    EXPECT_NE(messages[1].find("did you mean `clicks_30d`?"), std::string::npos) << messages[1];
    EXPECT_NE(messages[2].find("did you mean `segment`?"), std::string::npos) << messages[2];
    messages.clear();
    EXPECT_FALSE(parse("name: r\npath: /a\nview: user_featurs\n", &messages).has_value());
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_NE(messages[0].find("did you mean `user_features`?"), std::string::npos);
}

TEST(FeatureRoute, Conversions) {
    EXPECT_TRUE(can_convert_feature(DataType::kInt64, DataType::kFloat64));
    EXPECT_TRUE(can_convert_feature(DataType::kInt32, DataType::kInt64));
    EXPECT_TRUE(can_convert_feature(DataType::kBool, DataType::kFloat64));
    EXPECT_TRUE(can_convert_feature(DataType::kTimestamp, DataType::kString));
    EXPECT_TRUE(can_convert_feature(DataType::kTimestamp, DataType::kDate));
    EXPECT_FALSE(can_convert_feature(DataType::kFloat64, DataType::kInt64));
    EXPECT_FALSE(can_convert_feature(DataType::kString, DataType::kInt64));
    EXPECT_FALSE(can_convert_feature(DataType::kInt64, DataType::kInt32));
}

TEST(FeatureRoute, DuplicatePathsAcrossRoutes) {
    std::vector<Error> errors;
    Project project;
    project.routes.push_back(spec_of("name: a\npath: /x\nview: user_features\n", errors));
    project.routes.push_back(spec_of("name: b\npath: /x\nview: user_features\n", errors));
    std::vector<FeatureRoute> routes = parse_feature_routes(project, {user_view()}, errors);
    EXPECT_EQ(routes.size(), 1u);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].code(), ErrorCode::kConfig);
    EXPECT_EQ(errors[0].location().to_string(), "routes/r.yaml:2:7");
}

TEST(FeatureRoute, TheDashboardsPathsAreReserved) {
    for (const char* path : {"/", "/ui/app.js", "/v1/pipelines"}) {
        Strings messages;
        EXPECT_FALSE(
            parse(std::string("name: r\npath: ") + path + "\nview: user_features\n", &messages)
                .has_value())
            << path;
        ASSERT_EQ(messages.size(), 1u) << path;
        EXPECT_NE(messages[0].find("reserved for Millrace's own API"), std::string::npos);
    }
}

}  // namespace
}  // namespace millrace
