// libFuzzer target: arbitrary bytes against the feature serving surface.
// - as a route file (routes/*.yaml) through the YAML adapter and parse_feature_route: errors
//   name the file, a route that parses has a key parameter per entity;
// - as the body of POST /v1/features/{view}/batch, /upsert and /get-online-features, and as
//   a query string of GET /v1/features/{view} and a YAML route, dispatched through a Router
//   to a FeatureHandler over a real OnlineStore in a temp dir: every answer is JSON with a
//   status in 200..599, never a crash; 4xx/5xx bodies have an "error".
// - as a JSON text through describe_json_syntax_error (no crash, one line:column message).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/yaml_document.h"
#include "online/online_store.h"
#include "project/project.h"
#include "server/feature_handler.h"
#include "server/json_syntax.h"

namespace {

using namespace millrace;

std::vector<FeatureView> views() {
    FeatureView user;
    user.name = "user_features";
    user.entities = {{"user_id", DataType::kInt64}};
    user.features = {{"clicks", DataType::kInt64, Value::int64(0), ""},
                     {"price", DataType::kFloat64, Value(), ""},
                     {"segment", DataType::kString, Value(), ""},
                     {"seen", DataType::kTimestamp, Value(), ""}};
    user.lake_table = "user_features";
    FeatureView pair;
    pair.name = "user_item";
    pair.entities = {{"user_id", DataType::kInt64}, {"item_id", DataType::kString}};
    pair.features = {{"score", DataType::kFloat64, Value(), ""}};
    pair.lake_table = "user_item";
    return {user, pair};
}

struct Fixture {
    Fixture() {
        dir = (std::filesystem::temp_directory_path() /
               ("millrace-fuzz-serving-" + std::to_string(::getpid())))
                  .string();
        std::filesystem::remove_all(dir);
        auto opened = OnlineStore::open(dir, views(), {}, &metrics);
        if (!opened.ok()) std::abort();
        store = std::move(opened).value();
        router = std::make_unique<Router>(metrics);
        auto document = YamlDocument::parse(
            "name: r\npath: /feature/user\nview: user_features\nkey: {uid: user_id}\n"
            "features: {c: {feature: clicks, type: double, default: 1}, s: segment}\n"
            "rate_limit: {rps: 1000000, burst: 1000000}\n",
            "routes/r.yaml");
        std::vector<Error> errors;
        RouteSpec spec{"r", "routes/r.yaml", document->root().location(), document->root()};
        std::vector<FeatureRoute> routes;
        routes.push_back(*parse_feature_route(spec, store->views(), errors));
        ServingConfig config;
        config.max_batch_keys = 50;
        handler = std::make_unique<FeatureHandler>(*store, config, std::move(routes), clock,
                                                   metrics, nullptr);
        handler->add_routes(*router);
    }
    ~Fixture() { std::filesystem::remove_all(dir); }

    std::string dir;
    MetricsRegistry metrics;
    ManualClock clock{1'795'392'000'000'000};
    std::unique_ptr<OnlineStore> store;
    std::unique_ptr<Router> router;
    std::unique_ptr<FeatureHandler> handler;
};

void check(const HttpResponse& response) {
    if (response.status < 200 || response.status > 599) std::abort();
    // Errors name the problem under "error" (upsert's 400 also carries per-row errors).
    if (response.status >= 400 && response.body.find("\"error\":") == std::string::npos) {
        std::abort();
    }
}

void dispatch(Fixture& fixture, HttpMethod method, std::string path,
              std::vector<std::pair<std::string, std::string>> query, std::string body) {
    HttpRequest request;
    request.method = method;
    request.path = std::move(path);
    request.query = std::move(query);
    request.body = std::move(body);
    request.headers = {{"Content-Type", "application/x-ndjson"}};
    bool answered = false;
    fixture.router->dispatch(request, [&](HttpResponse response) {
        answered = true;
        check(response);
    });
    if (!answered) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Fixture fixture;
    const std::string text(reinterpret_cast<const char*>(data), size);

    auto document = YamlDocument::parse(text, "routes/fuzz.yaml");
    if (document.ok()) {
        RouteSpec spec{"fuzz", "routes/fuzz.yaml", document->root().location(), document->root()};
        std::vector<Error> errors;
        auto route = parse_feature_route(spec, fixture.store->views(), errors);
        for (const Error& error : errors) {
            if (error.location().known() && error.location().file != "routes/fuzz.yaml") {
                std::abort();
            }
        }
        if (route && route->key_params.empty()) std::abort();
    }

    const std::string message = describe_json_syntax_error(text, "fallback");
    if (message.rfind("malformed JSON at line ", 0) != 0) std::abort();

    for (const char* path : {"/v1/features/user_features/batch", "/v1/features/user_item/batch",
                             "/v1/features/user_features/upsert", "/get-online-features"}) {
        dispatch(fixture, HttpMethod::kPost, path, {}, text);
    }
    // The bytes as query values: a key, a feature list, a max age.
    const std::size_t third = text.size() / 3;
    std::vector<std::pair<std::string, std::string>> query = {
        {"user_id", text.substr(0, third)},
        {"item_id", text.substr(third, third)},
        {"features", text.substr(2 * third)}};
    dispatch(fixture, HttpMethod::kGet, "/v1/features/user_features", query, "");
    dispatch(fixture, HttpMethod::kGet, "/v1/features/user_item", query, "");
    dispatch(fixture, HttpMethod::kGet, "/v1/features/user_features",
             {{"key", "1"}, {"max_age", text}}, "");
    dispatch(fixture, HttpMethod::kGet, "/feature/user", {{"uid", text}}, "");
    dispatch(fixture, HttpMethod::kGet, "/v1/features/" + text, {{"key", "1"}}, "");
    return 0;
}
