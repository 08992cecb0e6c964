#include "server/feature_handler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/yaml_document.h"
#include "online/online_store.h"
#include "project/project.h"
#include "server/bearer_auth.h"

namespace millrace {
namespace {

constexpr int64_t kNow = 1'795'392'000'000'000;  // 2026-11-23T00:00:00Z
constexpr int64_t kHour = 3'600'000'000;

FeatureView user_view() {
    FeatureView view;
    view.name = "user_features";
    view.entities = {{"user_id", DataType::kInt64}};
    view.features = {{"clicks_30d", DataType::kInt64, Value::int64(0), ""},
                     {"avg_viewed_price", DataType::kFloat64, Value::float64(0), ""},
                     {"product_heat", DataType::kInt64, Value(), ""},
                     {"segment", DataType::kString, Value(), ""}};
    view.ttl = std::chrono::hours(24);
    view.lake_table = "user_features";
    return view;
}

FeatureView pair_view() {
    FeatureView view;
    view.name = "user_item";
    view.entities = {{"user_id", DataType::kInt64}, {"item_id", DataType::kString}};
    view.features = {{"score", DataType::kFloat64, Value::float64(-1), ""}};
    view.lake_table = "user_item";
    return view;
}

FeatureRoute route_of(std::string_view yaml) {
    auto document = YamlDocument::parse(yaml, "routes/r.yaml");
    EXPECT_TRUE(document.ok());
    RouteSpec spec{"user", "routes/r.yaml", document->root().location(), document->root()};
    std::vector<Error> errors;
    auto route = parse_feature_route(spec, {user_view(), pair_view()}, errors);
    for (const Error& error : errors) ADD_FAILURE() << error.to_string();
    if (!route) {
        ADD_FAILURE() << "route did not parse";
        route.emplace();
    }
    return std::move(*route);
}

class FeatureHandlerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-feature-handler-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        auto store = OnlineStore::open(dir_, {user_view(), pair_view()}, {}, &metrics_);
        ASSERT_TRUE(store.ok()) << store.error().to_string();
        store_ = std::move(store).value();
        const FeatureView& user = *store_->find_view("user_features");
        ASSERT_TRUE(store_
                        ->upsert_row(user, {Value::int64(1)},
                                     FeatureRow{kNow - kHour,
                                                kNow - kHour,
                                                {Value::int64(5), Value::float64(12.5),
                                                 Value::int64(7), Value::string("a\"b")}})
                        .ok());
        ASSERT_TRUE(store_
                        ->upsert_row(user, {Value::int64(2)},
                                     FeatureRow{kNow - 48 * kHour,
                                                kNow - 48 * kHour,
                                                {Value::int64(9), Value(), Value(), Value()}})
                        .ok());
        const FeatureView& pair = *store_->find_view("user_item");
        ASSERT_TRUE(store_
                        ->upsert_row(pair, {Value::int64(1), Value::string("x")},
                                     FeatureRow{kNow, kNow, {Value::float64(0.75)}})
                        .ok());
    }

    void TearDown() override {
        handler_.reset();
        router_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    void start(ServingConfig config = {}, std::vector<FeatureRoute> routes = {},
               std::vector<ServingToken> tokens = {}) {
        router_ = std::make_unique<Router>(metrics_);
        auth_ = std::make_unique<BearerAuth>(std::move(tokens));
        if (auth_->enabled()) {
            router_->set_guard([this](const HttpRequest& request, std::string_view group) {
                return auth_->check(request, group);
            });
        }
        handler_ = std::make_unique<FeatureHandler>(*store_, std::move(config), std::move(routes),
                                                    clock_, metrics_, nullptr);
        handler_->add_routes(*router_);
    }

    HttpResponse call(HttpMethod method, std::string path,
                      std::vector<std::pair<std::string, std::string>> query = {},
                      std::string body = {},
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
        HttpRequest request;
        request.method = method;
        request.path = std::move(path);
        request.query = std::move(query);
        request.body = std::move(body);
        request.headers = std::move(headers);
        HttpResponse out;
        out.status = 0;
        router_->dispatch(request, [&](HttpResponse response) { out = std::move(response); });
        EXPECT_NE(out.status, 0);
        return out;
    }

    HttpResponse get(std::string path, std::vector<std::pair<std::string, std::string>> query = {},
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
        return call(HttpMethod::kGet, std::move(path), std::move(query), {}, std::move(headers));
    }

    HttpResponse post(std::string path, std::string body,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
        return call(HttpMethod::kPost, std::move(path), {}, std::move(body), std::move(headers));
    }

    std::string dir_;
    MetricsRegistry metrics_;
    ManualClock clock_{kNow};
    std::unique_ptr<OnlineStore> store_;
    std::unique_ptr<Router> router_;
    std::unique_ptr<BearerAuth> auth_;
    std::unique_ptr<FeatureHandler> handler_;
};

TEST_F(FeatureHandlerTest, GetPresentMissingAndExpired) {
    start();
    HttpResponse response = get("/v1/features/user_features", {{"user_id", "1"}});
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body,
              "{\"view\":\"user_features\",\"key\":{\"user_id\":1},\"status\":\"PRESENT\","
              "\"event_timestamp\":\"2026-11-22T23:00:00Z\",\"features\":{\"clicks_30d\":5,"
              "\"avg_viewed_price\":12.5,\"product_heat\":7,\"segment\":\"a\\\"b\"}}\n");
    EXPECT_EQ(response.header("Cache-Control"), "no-cache");
    EXPECT_EQ(response.header("ETag").size(), 18u);

    response = get("/v1/features/user_features", {{"key", "3"}});
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body,
              "{\"view\":\"user_features\",\"key\":{\"user_id\":3},\"status\":\"NOT_FOUND\","
              "\"event_timestamp\":null,\"features\":{\"clicks_30d\":0,\"avg_viewed_price\":0.0,"
              "\"product_heat\":null,\"segment\":null}}\n");

    response = get("/v1/features/user_features", {{"user_id", "2"}, {"features", "clicks_30d"}});
    EXPECT_EQ(response.body,
              "{\"view\":\"user_features\",\"key\":{\"user_id\":2},\"status\":\"OUTSIDE_MAX_AGE\","
              "\"event_timestamp\":\"2026-11-21T00:00:00Z\",\"features\":{\"clicks_30d\":0}}\n");

    // max_age narrows the TTL.
    response = get("/v1/features/user_features",
                   {{"user_id", "1"}, {"features", "clicks_30d"}, {"max_age", "10m"}});
    EXPECT_NE(response.body.find("OUTSIDE_MAX_AGE"), std::string::npos) << response.body;

    // Multi-entity view: one parameter per entity.
    response = get("/v1/features/user_item", {{"user_id", "1"}, {"item_id", "x"}});
    EXPECT_EQ(response.body,
              "{\"view\":\"user_item\",\"key\":{\"user_id\":1,\"item_id\":\"x\"},\"status\":"
              "\"PRESENT\",\"event_timestamp\":\"2026-11-23T00:00:00Z\",\"features\":{\"score\":"
              "0.75}}\n");

    const std::string text = metrics_.render_prometheus();
    EXPECT_NE(text.find("millrace_feature_keys_total{view=\"user_features\",status=\"PRESENT\"} 1"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("millrace_http_requests_total{route=\"features_get\",status=\"2xx\"} 5"),
              std::string::npos);
}

TEST_F(FeatureHandlerTest, GetBadInput) {
    start();
    auto expect_error = [&](HttpResponse response, int status, std::string_view message) {
        EXPECT_EQ(response.status, status) << response.body;
        EXPECT_EQ(response.body, "{\"error\":\"" + std::string(message) + "\"}\n");
    };
    expect_error(get("/v1/features/user_feature", {{"user_id", "1"}}), 404,
                 "unknown feature view `user_feature`; did you mean `user_features`?");
    expect_error(get("/v1/features/user_features"), 400,
                 "missing key parameter `user_id` (or `key`)");
    expect_error(get("/v1/features/user_features", {{"user_id", "abc"}}), 400,
                 "key `user_id` must be an int64, got `abc`");
    expect_error(get("/v1/features/user_item", {{"user_id", "1"}}), 400,
                 "missing key parameter `item_id`");
    expect_error(get("/v1/features/user_features", {{"user_id", "1"}, {"features", "clickz_30d"}}),
                 400,
                 "unknown feature `clickz_30d` of view `user_features`; did you mean "
                 "`clicks_30d`?");
    const HttpResponse bad_age =
        get("/v1/features/user_features", {{"user_id", "1"}, {"max_age", "soon"}});
    EXPECT_EQ(bad_age.status, 400);
}

TEST_F(FeatureHandlerTest, ETagAnd304) {
    start();
    const HttpResponse first = get("/v1/features/user_features", {{"user_id", "1"}});
    const std::string etag(first.header("ETag"));
    const HttpResponse again =
        get("/v1/features/user_features", {{"user_id", "1"}}, {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(again.header("ETag"), etag);
    const HttpResponse other =
        get("/v1/features/user_features", {{"user_id", "1"}}, {{"If-None-Match", "\"nope\""}});
    EXPECT_EQ(other.status, 200);
}

TEST_F(FeatureHandlerTest, Batch) {
    ServingConfig config;
    config.max_batch_keys = 3;
    start(config);
    HttpResponse response = post("/v1/features/user_features/batch",
                                 R"({"keys":[3,{"user_id":1},"2"],"features":["clicks_30d"]})");
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.body,
              "{\"view\":\"user_features\",\"results\":["
              "{\"key\":{\"user_id\":3},\"status\":\"NOT_FOUND\",\"event_timestamp\":null,"
              "\"features\":{\"clicks_30d\":0}},"
              "{\"key\":{\"user_id\":1},\"status\":\"PRESENT\",\"event_timestamp\":"
              "\"2026-11-22T23:00:00Z\",\"features\":{\"clicks_30d\":5}},"
              "{\"key\":{\"user_id\":2},\"status\":\"OUTSIDE_MAX_AGE\",\"event_timestamp\":"
              "\"2026-11-21T00:00:00Z\",\"features\":{\"clicks_30d\":0}}]}\n");
    EXPECT_EQ(response.header("Cache-Control"), "no-cache");
    // Event times alternating between rows are each rendered (no stale reuse of the last one).
    response =
        post("/v1/features/user_features/batch", R"({"keys":[1,2,1],"features":["clicks_30d"]})");
    const std::string first = "\"event_timestamp\":\"2026-11-22T23:00:00Z\"";
    const std::string second = "\"event_timestamp\":\"2026-11-21T00:00:00Z\"";
    const std::size_t a = response.body.find(first);
    const std::size_t b = response.body.find(second, a);
    ASSERT_NE(a, std::string::npos) << response.body;
    ASSERT_NE(b, std::string::npos) << response.body;
    EXPECT_NE(response.body.find(first, b), std::string::npos) << response.body;

    response = post("/v1/features/user_item/batch",
                    R"({"keys":[{"user_id":1,"item_id":"x"}],"max_age":"1h"})");
    EXPECT_NE(response.body.find("\"score\":0.75"), std::string::npos) << response.body;

    EXPECT_EQ(post("/v1/features/user_features/batch", R"({"keys":[1,2,3,4]})").status, 413);
    response = post("/v1/features/user_features/batch", "{\"keys\":[1,\n2,]}");
    EXPECT_EQ(response.status, 400);
    EXPECT_NE(response.body.find("line 2, column 3"), std::string::npos) << response.body;
    response = post("/v1/features/user_features/batch", R"({"keys":[1,"abc"]})");
    EXPECT_EQ(response.body,
              "{\"error\":\"keys[1]: key `user_id` must be an int64, got `abc`\"}\n");
    response = post("/v1/features/user_item/batch", R"({"keys":[1]})");
    EXPECT_EQ(response.status, 400);
    response = post("/v1/features/user_item/batch", R"({"keys":[{"user_id":1,"itm_id":"x"}]})");
    EXPECT_EQ(response.status, 400);
    EXPECT_NE(response.body.find("missing key `item_id`"), std::string::npos) << response.body;
    EXPECT_EQ(post("/v1/features/user_features/batch", R"({"kees":[1]})").status, 400);
    EXPECT_EQ(post("/v1/features/user_features/batch", R"({"keys":[1],"features":["x"]})").status,
              400);
    EXPECT_EQ(post("/v1/features/nope/batch", R"({"keys":[1]})").status, 404);
}

TEST_F(FeatureHandlerTest, Upsert) {
    start();
    const std::vector<std::pair<std::string, std::string>> ndjson = {
        {"Content-Type", "application/x-ndjson"}};
    HttpResponse response = post("/v1/features/user_features/upsert",
                                 "{\"user_id\":4,\"clicks_30d\":3,\"segment\":\"z\","
                                 "\"event_timestamp\":\"2026-11-22T12:00:00Z\"}\n"
                                 "{\"user_id\":\"x\"}\n"
                                 "{\"user_id\":5,\"clicks_30d\":1.5}\n"
                                 "{\"user_id\":6,\"click_30d\":1}\n"
                                 "{\"clicks_30d\":1}\n"
                                 "[1]\n"
                                 "{\"user_id\":7,\"avg_viewed_price\":2,\"event_timestamp\":"
                                 "1795348800000000}\n"
                                 "{\"user_id\":8,\n",
                                 ndjson);
    EXPECT_EQ(response.status, 200);
    EXPECT_TRUE(response.body.starts_with("{\"upserted\":2,\"unchanged\":0,\"rejected\":6,"))
        << response.body;
    for (int index : {1, 2, 3, 4, 5, 7}) {
        EXPECT_NE(response.body.find("{\"index\":" + std::to_string(index) + ","),
                  std::string::npos)
            << index << " " << response.body;
    }
    EXPECT_NE(response.body.find("did you mean `clicks_30d`?"), std::string::npos);
    response = get("/v1/features/user_features", {{"user_id", "4"}});
    EXPECT_NE(response.body.find("\"event_timestamp\":\"2026-11-22T12:00:00Z\",\"features\":{"
                                 "\"clicks_30d\":3,\"avg_viewed_price\":0.0,\"product_heat\":null,"
                                 "\"segment\":\"z\"}"),
              std::string::npos)
        << response.body;
    response = get("/v1/features/user_features", {{"user_id", "7"}});
    EXPECT_NE(response.body.find("\"avg_viewed_price\":2.0"), std::string::npos) << response.body;

    // A JSON array works too; nothing good is 400; other media types are 415.
    response = post("/v1/features/user_item/upsert", R"([{"user_id":2,"item_id":"y","score":1}])",
                    {{"Content-Type", "application/json"}});
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(post("/v1/features/user_features/upsert", "{\"user_id\":\"q\"}", ndjson).status, 400);
    EXPECT_EQ(post("/v1/features/user_features/upsert", "{\"user_id\":1}").status, 415);
    EXPECT_EQ(post("/v1/features/user_features/upsert", "", ndjson).status, 400);
}

TEST_F(FeatureHandlerTest, UpsertReadsEpochNumbersByMagnitude) {
    // One rule for every JSON path: seconds, milliseconds and microseconds are told apart by
    // magnitude (epoch_number_to_micros), so all four rows carry the same instant.
    start();
    HttpResponse response = post("/v1/features/user_features/upsert",
                                 R"([{"user_id":11,"clicks_30d":1,"event_timestamp":1795348800},
                                     {"user_id":12,"clicks_30d":1,"event_timestamp":1795348800000},
                                     {"user_id":13,"clicks_30d":1,"event_timestamp":1795348800000000},
                                     {"user_id":14,"clicks_30d":1,"event_timestamp":1795348800.5}])",
                                 {{"Content-Type", "application/json"}});
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_TRUE(response.body.starts_with("{\"upserted\":4,")) << response.body;
    for (const char* user : {"11", "12", "13"}) {
        response = get("/v1/features/user_features", {{"user_id", user}});
        EXPECT_NE(response.body.find("\"event_timestamp\":\"2026-11-22T12:00:00Z\""),
                  std::string::npos)
            << user << " " << response.body;
    }
    response = get("/v1/features/user_features", {{"user_id", "14"}});
    EXPECT_NE(response.body.find("\"event_timestamp\":\"2026-11-22T12:00:00.500000Z\""),
              std::string::npos)
        << response.body;
}

TEST_F(FeatureHandlerTest, UpsertRejectsEventTimesFromTheFuture) {
    start();
    const std::vector<std::pair<std::string, std::string>> ndjson = {
        {"Content-Type", "application/x-ndjson"}};
    // 9999-12-31 and int64 max would pin the key forever: rejected per row, nothing stored.
    HttpResponse response = post("/v1/features/user_features/upsert",
                                 "{\"user_id\":10,\"clicks_30d\":1,"
                                 "\"event_timestamp\":\"9999-12-31T00:00:00Z\"}\n"
                                 "{\"user_id\":11,\"clicks_30d\":1,"
                                 "\"event_timestamp\":9223372036854775807}\n"
                                 "{\"user_id\":12,\"clicks_30d\":1,"
                                 "\"event_timestamp\":\"2026-11-23T02:00:00Z\"}\n"
                                 "{\"user_id\":13,\"clicks_30d\":1,"
                                 "\"event_timestamp\":\"2026-11-25T00:00:00Z\"}\n",
                                 ndjson);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_TRUE(response.body.starts_with("{\"upserted\":1,\"unchanged\":0,\"rejected\":3,"))
        << response.body;
    for (int index : {0, 1, 3}) {
        EXPECT_NE(response.body.find("{\"index\":" + std::to_string(index) + ","),
                  std::string::npos)
            << index << " " << response.body;
    }
    EXPECT_NE(response.body.find("max_event_time_skew"), std::string::npos) << response.body;
    for (const char* user : {"10", "11", "13"}) {
        EXPECT_NE(get("/v1/features/user_features", {{"user_id", user}}).body.find("NOT_FOUND"),
                  std::string::npos)
            << user;
    }
    // One row alone, from the future: a 400 with the reason.
    response = post("/v1/features/user_features/upsert",
                    "{\"user_id\":10,\"event_timestamp\":\"9999-12-31T00:00:00Z\"}", ndjson);
    EXPECT_EQ(response.status, 400);
    EXPECT_NE(response.body.find("is more than 1d ahead of the clock"), std::string::npos)
        << response.body;
    // The key is not pinned: a normal row is stored and served.
    response = post(
        "/v1/features/user_features/upsert",
        "{\"user_id\":10,\"clicks_30d\":4,\"event_timestamp\":\"2026-11-22T00:00:00Z\"}", ndjson);
    EXPECT_TRUE(response.body.starts_with("{\"upserted\":1,")) << response.body;
    EXPECT_NE(get("/v1/features/user_features", {{"user_id", "10"}}).body.find("\"clicks_30d\":4"),
              std::string::npos);
}

TEST_F(FeatureHandlerTest, UpsertSaysWhichRowsChangedNothing) {
    start();
    const std::vector<std::pair<std::string, std::string>> ndjson = {
        {"Content-Type", "application/x-ndjson"}};
    // User 1's row is from 2026-11-22T23:00Z: an older one changes nothing and says so.
    HttpResponse response = post("/v1/features/user_features/upsert",
                                 "{\"user_id\":1,\"clicks_30d\":99,"
                                 "\"event_timestamp\":\"2026-11-22T00:00:00Z\"}\n"
                                 "{\"user_id\":20,\"clicks_30d\":1}\n",
                                 ndjson);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.body,
              "{\"upserted\":1,\"unchanged\":1,\"rejected\":0,\"unchanged_rows\":[0],"
              "\"errors\":[]}\n");
    EXPECT_NE(get("/v1/features/user_features", {{"user_id", "1"}}).body.find("\"clicks_30d\":5"),
              std::string::npos);
    // Only unchanged rows: still 200 (nothing was wrong with them).
    response = post("/v1/features/user_features/upsert",
                    "{\"user_id\":1,\"event_timestamp\":\"2020-01-01T00:00:00Z\"}", ndjson);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_TRUE(response.body.starts_with("{\"upserted\":0,\"unchanged\":1,")) << response.body;
}

TEST_F(FeatureHandlerTest, EpochNumbersFollowOneUnitRule) {
    start();
    const std::vector<std::pair<std::string, std::string>> ndjson = {
        {"Content-Type", "application/x-ndjson"}};
    // Seconds, milliseconds and microseconds of 2026-11-22T12:00:00Z, told apart by magnitude;
    // the same rule for timestamp features.
    HttpResponse response = post("/v1/features/user_features/upsert",
                                 "{\"user_id\":30,\"event_timestamp\":1795348800}\n"
                                 "{\"user_id\":31,\"event_timestamp\":1795348800000}\n"
                                 "{\"user_id\":32,\"event_timestamp\":1795348800000000}\n"
                                 "{\"user_id\":33,\"event_timestamp\":1795348800.5}\n"
                                 "{\"user_id\":34,\"event_timestamp\":true}\n",
                                 ndjson);
    EXPECT_TRUE(response.body.starts_with("{\"upserted\":4,\"unchanged\":0,\"rejected\":1,"))
        << response.body;
    for (const char* user : {"30", "31", "32"}) {
        EXPECT_NE(get("/v1/features/user_features", {{"user_id", user}})
                      .body.find("\"event_timestamp\":\"2026-11-22T12:00:00Z\""),
                  std::string::npos)
            << user;
    }
    EXPECT_NE(get("/v1/features/user_features", {{"user_id", "33"}})
                  .body.find("\"event_timestamp\":\"2026-11-22T12:00:00.500000Z\""),
              std::string::npos);
}

TEST_F(FeatureHandlerTest, TimestampKeysFromJsonNumbersFollowTheSameRule) {
    FeatureView daily;
    daily.name = "daily";
    daily.entities = {{"day", DataType::kTimestamp}};
    daily.features = {{"n", DataType::kInt64, Value::int64(0), ""}};
    daily.lake_table = "daily";
    store_.reset();
    auto store = OnlineStore::open(dir_, {user_view(), pair_view(), daily}, {}, &metrics_);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    store_ = std::move(store).value();
    start();
    // Epoch seconds as the key of the push, milliseconds in the batch, microseconds in Feast:
    // one instant, 2026-11-23T00:00:00Z.
    HttpResponse response = post("/v1/features/daily/upsert", "{\"day\":1795392000,\"n\":7}",
                                 {{"Content-Type", "application/json"}});
    EXPECT_TRUE(response.body.starts_with("{\"upserted\":1,")) << response.body;
    EXPECT_NE(get("/v1/features/daily", {{"day", "2026-11-23T00:00:00Z"}}).body.find("\"n\":7"),
              std::string::npos);
    response = post("/v1/features/daily/batch", "{\"keys\":[1795392000000]}");
    EXPECT_NE(response.body.find("\"status\":\"PRESENT\""), std::string::npos) << response.body;
    response = post("/get-online-features",
                    "{\"features\":[\"daily:n\"],\"entities\":{\"day\":[1795392000000000]}}");
    EXPECT_NE(response.body.find("{\"values\":[7],\"statuses\":[\"PRESENT\"]"), std::string::npos)
        << response.body;
}

TEST_F(FeatureHandlerTest, YamlRoute) {
    FeatureRoute route = route_of(R"(name: user
path: /feature/user
view: user_features
key: { uid: user_id }
features:
  clicks_30d: clicks_30d
  avg_price: { feature: avg_viewed_price, type: double, default: 1.5 }
  heat: { feature: product_heat, type: double }
  heat_text: { feature: product_heat, type: string, default: none }
cache_control: "private, max-age=5"
)");
    std::vector<FeatureRoute> routes;
    routes.push_back(std::move(route));
    start({}, std::move(routes));
    HttpResponse response = get("/feature/user", {{"uid", "1"}});
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body,
              "{\"key\":{\"uid\":1},\"status\":\"PRESENT\",\"event_timestamp\":"
              "\"2026-11-22T23:00:00Z\",\"features\":{\"clicks_30d\":5,\"avg_price\":12.5,"
              "\"heat\":7.0,\"heat_text\":\"7\"}}\n");
    EXPECT_EQ(response.header("Cache-Control"), "private, max-age=5");
    response = get("/feature/user", {{"uid", "3"}});
    EXPECT_EQ(response.body,
              "{\"key\":{\"uid\":3},\"status\":\"NOT_FOUND\",\"event_timestamp\":null,"
              "\"features\":{\"clicks_30d\":0,\"avg_price\":1.5,\"heat\":null,"
              "\"heat_text\":\"none\"}}\n");
    response = get("/feature/user", {{"user_id", "3"}});
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(response.body, "{\"error\":\"missing key parameter `uid`\"}\n");
    response = get("/feature/user", {{"uid", "x"}});
    EXPECT_EQ(response.status, 400);
    EXPECT_NE(response.body.find("must be an int64, got `x`"), std::string::npos);
    response = get("/feature/usr", {{"uid", "1"}});
    EXPECT_EQ(response.status, 404);
    EXPECT_NE(response.body.find("did you mean /feature/user?"), std::string::npos)
        << response.body;
    EXPECT_NE(metrics_.render_prometheus().find(
                  "millrace_http_requests_total{route=\"route:user\",status=\"2xx\"} 2"),
              std::string::npos);
}

TEST_F(FeatureHandlerTest, RouteRateLimitAndTimeout) {
    std::vector<FeatureRoute> routes;
    routes.push_back(
        route_of("name: limited\npath: /limited\nview: user_features\nrate_limit: { rps: 0.001, "
                 "burst: 2 }\n"));
    routes.push_back(route_of("name: slow\npath: /slow\nview: user_features\ntimeout: 1us\n"));
    start({}, std::move(routes));
    EXPECT_EQ(get("/limited", {{"user_id", "1"}}).status, 200);
    EXPECT_EQ(get("/limited", {{"user_id", "1"}}).status, 200);
    const HttpResponse limited = get("/limited", {{"user_id", "1"}});
    EXPECT_EQ(limited.status, 429);
    EXPECT_FALSE(limited.header("Retry-After").empty());
    EXPECT_TRUE(limited.body.starts_with("{\"error\":"));
    // A request that arrived a second ago (queued behind others) is past its timeout.
    HttpRequest request;
    request.path = "/slow";
    request.query = {{"user_id", "1"}};
    request.received = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    HttpResponse slow;
    router_->dispatch(request, [&](HttpResponse response) { slow = std::move(response); });
    EXPECT_EQ(slow.status, 503);
    EXPECT_EQ(slow.body, "{\"error\":\"timed out after 1us\"}\n");
}

TEST_F(FeatureHandlerTest, AuthByRouteGroup) {
    start({}, {},
          {{"reader", static_cast<uint8_t>(RouteGroup::kFeatures)},
           {"writer", static_cast<uint8_t>(RouteGroup::kIngest)}});
    EXPECT_EQ(get("/v1/features/user_features", {{"user_id", "1"}}).status, 401);
    EXPECT_EQ(
        get("/v1/features/user_features", {{"user_id", "1"}}, {{"Authorization", "Bearer reader"}})
            .status,
        200);
    EXPECT_EQ(
        get("/v1/features/user_features", {{"user_id", "1"}}, {{"Authorization", "Bearer writer"}})
            .status,
        403);
    const std::string row = "{\"user_id\":9,\"clicks_30d\":1}";
    EXPECT_EQ(post("/v1/features/user_features/upsert", row,
                   {{"Content-Type", "application/json"}, {"Authorization", "Bearer reader"}})
                  .status,
              403);
    EXPECT_EQ(post("/v1/features/user_features/upsert", row,
                   {{"Content-Type", "application/json"}, {"Authorization", "Bearer writer"}})
                  .status,
              200);
}

TEST_F(FeatureHandlerTest, FeastShape) {
    std::vector<FeatureRoute> routes;
    routes.push_back(
        route_of("name: user\npath: /feature/user\nview: user_features\nfeatures: [segment]\n"));
    start({}, std::move(routes));
    HttpResponse response = post("/get-online-features", R"({
        "features": ["user_features:clicks_30d", "user_features:segment"],
        "entities": {"user_id": [1, 3]}})");
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.body,
              "{\"metadata\":{\"feature_names\":[\"user_id\",\"clicks_30d\",\"segment\"]},"
              "\"results\":["
              "{\"values\":[1,3],\"statuses\":[\"PRESENT\",\"PRESENT\"],\"event_timestamps\":"
              "[\"1970-01-01T00:00:00Z\",\"1970-01-01T00:00:00Z\"]},"
              "{\"values\":[5,0],\"statuses\":[\"PRESENT\",\"NOT_FOUND\"],\"event_timestamps\":"
              "[\"2026-11-22T23:00:00Z\",\"1970-01-01T00:00:00Z\"]},"
              "{\"values\":[\"a\\\"b\",null],\"statuses\":[\"PRESENT\",\"NOT_FOUND\"],"
              "\"event_timestamps\":[\"2026-11-22T23:00:00Z\",\"1970-01-01T00:00:00Z\"]}]}\n");

    response = post("/get-online-features",
                    R"({"feature_service": "user", "entities": {"user_id": [2]},
                        "full_feature_names": true})");
    EXPECT_EQ(response.body,
              "{\"metadata\":{\"feature_names\":[\"user_id\",\"user_features__segment\"]},"
              "\"results\":["
              "{\"values\":[2],\"statuses\":[\"PRESENT\"],\"event_timestamps\":"
              "[\"1970-01-01T00:00:00Z\"]},"
              "{\"values\":[null],\"statuses\":[\"OUTSIDE_MAX_AGE\"],\"event_timestamps\":"
              "[\"2026-11-21T00:00:00Z\"]}]}\n");

    // Two views, one of them with two entities.
    response = post("/get-online-features",
                    R"({"features": ["user_item:score", "user_features:clicks_30d"],
                        "entities": {"user_id": [1], "item_id": ["x"]}, "max_age": "1h"})");
    EXPECT_NE(response.body.find("\"feature_names\":[\"user_id\",\"item_id\",\"score\","
                                 "\"clicks_30d\"]"),
              std::string::npos)
        << response.body;
    EXPECT_NE(response.body.find("{\"values\":[0.75]"), std::string::npos);

    EXPECT_EQ(post("/get-online-features", R"({"features":["user_features:clickz"],
        "entities":{"user_id":[1]}})")
                  .status,
              400);
    EXPECT_EQ(post("/get-online-features", R"({"features":["user_featres:clicks_30d"],
        "entities":{"user_id":[1]}})")
                  .status,
              404);
    EXPECT_EQ(post("/get-online-features", R"({"features":["user_item:score"],
        "entities":{"user_id":[1]}})")
                  .status,
              400);  // item_id missing
    EXPECT_EQ(post("/get-online-features", R"({"features":["user_item:score"],
        "entities":{"user_id":[1],"item_id":["a","b"]}})")
                  .status,
              400);  // lengths differ
    EXPECT_EQ(post("/get-online-features", R"({"features":["clicks_30d"],
        "entities":{"user_id":[1]}})")
                  .status,
              400);  // no view
    EXPECT_EQ(post("/get-online-features", R"({"entities":{"user_id":[1]}})").status, 400);
    EXPECT_EQ(post("/get-online-features", R"({"feature_service":"nope",
        "entities":{"user_id":[1]}})")
                  .status,
              404);
    EXPECT_EQ(post("/get-online-features", "{").status, 400);
}

}  // namespace
}  // namespace millrace
