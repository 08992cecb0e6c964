#include "server/feature_views_handler.h"

#include <gtest/gtest.h>

#include "online/feature_view.h"

namespace millrace {
namespace {

TEST(FeatureViewsHandler, ListsEveryViewWithItsKeysAndFeatures) {
    FeatureView user;
    user.name = "user_features";
    user.description = "Per-user \"activity\"";
    user.owner = "ml";
    user.entities = {{"user_id", DataType::kInt64}};
    user.features = {{"clicks", DataType::kInt64, {}, ""}, {"score", DataType::kFloat64, {}, ""}};
    user.ttl = std::chrono::hours(1);
    user.lake_table = "users";
    FeatureView city;
    city.name = "city_orders";
    city.source = FeatureSourceKind::kPipeline;
    city.pipeline = "order_metrics";
    std::vector<FeatureView> views{user, city};
    FeatureViewsHandler handler(views);
    MetricsRegistry metrics;
    Router router(metrics);
    handler.add_routes(router);
    HttpRequest request;
    request.path = "/v1/features";
    HttpResponse out;
    router.dispatch(request, [&](HttpResponse response) { out = std::move(response); });
    EXPECT_EQ(out.status, 200);
    EXPECT_EQ(out.body,
              "{\"feature_views\":[{\"name\":\"user_features\",\"description\":\"Per-user "
              "\\\"activity\\\"\",\"owner\":\"ml\",\"entities\":[{\"name\":\"user_id\",\"type\":"
              "\"int64\"}],\"features\":[{\"name\":\"clicks\",\"type\":\"int64\"},{\"name\":"
              "\"score\",\"type\":\"double\"}],\"source\":\"lake\",\"lake_table\":\"users\","
              "\"pipeline\":\"\",\"ttl_seconds\":3600},{\"name\":\"city_orders\",\"description\":"
              "\"\",\"owner\":\"\",\"entities\":[],\"features\":[],\"source\":\"pipeline\","
              "\"lake_table\":\"\",\"pipeline\":\"order_metrics\",\"ttl_seconds\":null}]}\n");
}

}  // namespace
}  // namespace millrace
