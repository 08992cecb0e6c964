#pragma once

// The feature serving routes behind FeatureHandler, one class whose members are defined by
// concern: feature_serving.cpp (set-up, route table, helpers every route shares),
// feature_reads.cpp (GET /v1/features/{view} and the batch POST), feature_upserts.cpp (the
// upsert POST), feature_yaml_routes.cpp (routes declared in YAML) and feast_protocol.cpp
// (/get-online-features). JSON values become keys and features through server/feature_json_input.h.
// Internal to server/: only those files include it.

#include <simdjson.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/metrics_registry.h"
#include "online/online_store.h"
#include "server/feature_route.h"
#include "server/http_message.h"
#include "server/rate_limiter.h"
#include "server/router.h"
#include "server/serving_config.h"

namespace millrace {

class TrafficCapture;

namespace serving {

using Clock_ = std::chrono::steady_clock;

inline constexpr std::size_t kMaxUpsertRows = 100'000;
inline constexpr std::string_view kEpoch = "1970-01-01T00:00:00Z";

struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
        return std::hash<std::string_view>{}(text);
    }
};

/// A view as served: metric counters and names pre-rendered as JSON.
struct ViewState {
    const FeatureView* view = nullptr;
    std::array<Counter*, 3> keys_by_status{};  // PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE
    std::vector<std::string> feature_names;
    std::vector<std::string> feature_keys;  // `"name":` per feature
    std::vector<std::string> entity_keys;   // `"name":` per entity
    std::string name_json;                  // `"view"`
};

/// A YAML route as served.
struct RouteState {
    FeatureRoute route;
    const ViewState* view = nullptr;
    std::unique_ptr<RateLimiter> limiter;
    std::chrono::microseconds timeout{0};
    std::vector<std::string> feature_keys;  // `"response name":`
    std::vector<std::string> entity_keys;   // `"param":`
};

/// Which features a request selected: indexes into the view's features.
using Selection = std::vector<int>;

struct RequestContext {
    Clock_::time_point start;
    std::chrono::microseconds timeout;
    std::string_view cache_control = "no-cache";
    bool etag = false;     // GET lookups
    bool capture = false;  // lookups, not upserts
};

/// The metrics index of a lookup status (PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE).
int status_index(FeatureStatus status);

/// The request's path and query as captured for replay.
std::string request_target(const HttpRequest& request);

Clock_::time_point start_of(const HttpRequest& request);

std::string timeout_message(std::chrono::microseconds timeout);

/// The serving routes' state and handlers. Built once before the server starts; afterwards
/// every member is read-only (the rate limiters and the store are thread-safe), so handlers run
/// on any number of server threads at once.
class FeatureServing {
public:
    FeatureServing(OnlineStore& store, ServingConfig config, std::vector<FeatureRoute> routes,
                   const Clock& clock, MetricsRegistry& metrics, TrafficCapture* capture);
    FeatureServing(const FeatureServing&) = delete;
    FeatureServing& operator=(const FeatureServing&) = delete;

    void add_routes(Router& router);

private:
    // ---- shared by every route (feature_serving.cpp) ----

    // Adds the caching headers, answers 304 for a matching If-None-Match, records the request
    // for replay, and responds.
    void finish(HttpRequest& request, HttpResponder respond, const RequestContext& context,
                HttpResponse response);

    const ViewState* find_view(std::string_view name) const;

    HttpResponse unknown_view(std::string_view name) const;

    HttpResponse unknown_feature(const ViewState& view, std::string_view name) const;

    // `features=a,b` (or a JSON list) into indexes; all features when empty.
    std::optional<HttpResponse> select_features(const ViewState& view, std::string_view list,
                                                Selection& selection) const;

    static void all_features(const ViewState& view, Selection& selection);

    static std::optional<HttpResponse> parse_max_age(std::string_view text,
                                                     std::optional<std::chrono::microseconds>& out);

    // A store failure (I/O, corruption) or a lookup past the timeout.
    std::optional<HttpResponse> check_lookups(const RequestContext& context,
                                              const std::vector<FeatureLookup>& lookups) const;

    void count(const ViewState& view, const std::vector<FeatureLookup>& lookups) const;

    // `"key":{...},"status":"...","event_timestamp":...,"features":{...}` for one key.
    static void append_lookup(std::string& out, const ViewState& view,
                              const std::vector<std::string>& entity_keys,
                              const std::vector<Value>& key, const FeatureLookup& lookup,
                              const Selection& selection);

    // `"key":{...},"status":"...","event_timestamp":...` (no trailing comma).
    static void append_key_status_time(std::string& out,
                                       const std::vector<std::string>& entity_keys,
                                       const std::vector<Value>& key, const FeatureLookup& lookup);

    static void append_event_time(std::string& out, const FeatureLookup& lookup);

    // Reads the key of a single-key GET from the query: one parameter per entity, named after
    // it (`key=` too for a single-entity view).
    std::optional<HttpResponse> key_from_query(const FeatureView& view,
                                               const std::vector<std::string>* params,
                                               const HttpRequest& request,
                                               std::vector<Value>& key) const;

    // ---- single and batch reads (feature_reads.cpp) ----
    HttpResponse get_view(HttpRequest& request, const RequestContext& context) const;

    // ---- YAML routes (feature_yaml_routes.cpp) ----
    HttpResponse serve_route(const RouteState& route, HttpRequest& request,
                             const RequestContext& context) const;

    // ---- shared by the JSON-body routes (feature_serving.cpp) ----
    // Parses a request body as one JSON object; a 400 naming the position when it is not JSON,
    // or saying `not_an_object` when it is JSON of another kind.
    static std::optional<HttpResponse> parse_object_body(simdjson::dom::parser& parser,
                                                         const std::string& body,
                                                         std::string_view not_an_object,
                                                         simdjson::dom::object& object);

    static std::string too_many_keys(std::size_t count, std::size_t limit);

    // ---- batch reads (feature_reads.cpp) ----
    // One key of a batch: an object of entity values, or a scalar for a single-entity view.
    std::optional<std::string> batch_key(const FeatureView& view, simdjson::dom::element element,
                                         std::vector<Value>& key) const;

    // `"features": [...]` of a request body into a selection (all when absent).
    std::optional<HttpResponse> select_from_json(const ViewState& view, simdjson::dom::object body,
                                                 Selection& selection) const;

    static std::optional<HttpResponse> max_age_from_json(
        simdjson::dom::object body, std::optional<std::chrono::microseconds>& max_age);

    HttpResponse batch(HttpRequest& request, const RequestContext& context) const;

    // ---- upserts (feature_upserts.cpp) ----
    HttpResponse upsert(HttpRequest& request) const;

    // One upserted row: entity keys, features, optional event_timestamp; the reason otherwise.
    static std::optional<std::string> upsert_one(const FeatureView& view,
                                                 simdjson::dom::parser& parser,
                                                 std::string_view text, int64_t now_us,
                                                 std::vector<Value>& key, FeatureRow& row);

    // ---- the Feast protocol (feast_protocol.cpp) ----
    struct FeastColumn {
        const ViewState* view;
        int feature;  // index in the view
        std::string name;
    };

    struct FeastView {
        const ViewState* view;
        std::vector<std::vector<Value>> keys;  // per row
        std::vector<FeatureLookup> lookups;
    };

    HttpResponse feast(HttpRequest& request, const RequestContext& context) const;

    // ---- state, set up by the constructor and read-only afterwards ----
    OnlineStore& store_;
    ServingConfig config_;
    const Clock& clock_;
    TrafficCapture* capture_;
    std::unordered_map<std::string, ViewState, NameHash, std::equal_to<>> views_;
    std::vector<std::string> view_names_;
    std::vector<std::unique_ptr<RouteState>> routes_;
};

}  // namespace serving

}  // namespace millrace
