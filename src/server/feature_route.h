#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "online/feature_view.h"
#include "types/data_type.h"
#include "types/value.h"

namespace millrace {

struct Project;
struct RouteSpec;

/// One feature a YAML route serves: which feature of the view, under which response name, as
/// which type, and what to serve when the row is missing, expired or the value null.
struct RouteFeature {
    std::string response_name;
    int feature_index = -1;            // in the view
    DataType type = DataType::kInt64;  // served type
    bool convert = false;              // type differs from the view's: cast_value on each read
    Value default_value;               // already of `type` (or null)
};

/// A token bucket: `rps` tokens per second, at most `burst` saved up.
struct RateLimitSpec {
    double rps = 0;
    int64_t burst = 1;
};

/// A YAML-declared serving route (routes/*.yaml: routes registered from YAML):
///
///   name: user
///   path: /feature/user            # GET; a literal path, not under /v1/
///   view: user_features
///   group: features                # auth scope: features (default), ingest or admin
///   key: { uid: user_id }          # query parameter -> entity; every entity mapped.
///                                  # Default: each entity's own name; a single-entity view
///                                  # may say `key: uid`.
///   features:                      # in response order; default: all, names as-is
///     clicks_30d: clicks_30d                     # response name: feature
///     avg_price: { feature: avg_viewed_price, type: double, default: 0.0 }
///     heat: { feature: product_heat, type: double }
///     # or a list of feature names: [clicks_30d, avg_viewed_price]
///   rate_limit: { rps: 2000, burst: 400 }   # 429 + Retry-After beyond it
///   timeout: 50ms                  # default: serving.request_timeout
///   cache_control: "private, max-age=5"     # default "no-cache"
///
/// Type conversions allowed (checked at load): to the same type; int32/int64/bool to double;
/// int32/bool to int64; anything to string; timestamp to date. A default is written as text and
/// read as the served type; without one the view's default is served (converted).
struct FeatureRoute {
    std::string name;
    std::string file;
    SourceLocation location;
    std::string path;
    std::string view;
    std::string group = "features";
    std::vector<std::string> key_params;  // per entity of the view, in entity order
    std::vector<RouteFeature> features;
    std::optional<RateLimitSpec> rate_limit;
    std::optional<std::chrono::microseconds> timeout;
    std::string cache_control = "no-cache";
};

/// True when a route may serve a feature of type `from` as `to`.
bool can_convert_feature(DataType from, DataType to);

/// Reads one route file against the project's feature views. Errors (all of them) go to
/// `errors` with file:line:column; unknown views, entities and features get a did-you-mean.
std::optional<FeatureRoute> parse_feature_route(const RouteSpec& spec,
                                                const std::vector<FeatureView>& views,
                                                std::vector<Error>& errors);

/// Every route of the project; also reports two routes with the same path.
std::vector<FeatureRoute> parse_feature_routes(const Project& project,
                                               const std::vector<FeatureView>& views,
                                               std::vector<Error>& errors);

}  // namespace millrace
