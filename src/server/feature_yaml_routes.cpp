#include <span>

#include "common/suggest.h"
#include "server/feature_json.h"
#include "server/feature_serving.h"

namespace millrace::serving {

HttpResponse FeatureServing::serve_route(const RouteState& route, HttpRequest& request,
                                         const RequestContext& context) const {
    if (route.limiter) {
        const auto now_ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock_::now().time_since_epoch())
                .count();
        const RateLimiter::Decision decision = route.limiter->try_acquire(now_ns);
        if (!decision.allowed) {
            HttpResponse response = json_error(
                429, "rate limit of route " + backticks(route.route.name) + " exceeded (" +
                         std::to_string(route.route.rate_limit->rps) + " requests/s, burst " +
                         std::to_string(route.route.rate_limit->burst) + ")");
            response.headers.emplace_back("Retry-After",
                                          std::to_string(decision.retry_after_seconds));
            return response;
        }
    }
    const ViewState& view = *route.view;
    thread_local std::vector<std::vector<Value>> keys(1);
    thread_local std::vector<FeatureLookup> lookups;
    keys.resize(1);
    if (auto error = key_from_query(*view.view, &route.route.key_params, request, keys[0])) {
        return *error;
    }
    std::optional<std::chrono::microseconds> max_age;
    if (const std::string* text = request.query_param("max_age")) {
        if (auto error = parse_max_age(*text, max_age)) return *error;
    }
    store_.lookup(*view.view, std::span<const std::vector<Value>>(keys.data(), 1),
                  clock_.now_micros(), max_age, lookups);
    count(view, lookups);
    if (auto error = check_lookups(context, lookups)) return *error;
    const FeatureLookup& lookup = lookups[0];
    HttpResponse response;
    std::string& out = response.body;
    out.reserve(256);
    out += '{';
    append_key_status_time(out, route.entity_keys, keys[0], lookup);
    out += ",\"features\":{";
    const bool present = lookup.status == FeatureStatus::kPresent && lookup.row != nullptr;
    for (std::size_t i = 0; i < route.route.features.size(); ++i) {
        const RouteFeature& feature = route.route.features[i];
        if (i > 0) out += ',';
        out += route.feature_keys[i];
        const auto index = static_cast<std::size_t>(feature.feature_index);
        const Value* value =
            present && index < lookup.row->values.size() ? &lookup.row->values[index] : nullptr;
        if (value == nullptr || value->is_null()) {
            append_feature_value(out, feature.default_value);
        } else if (feature.convert) {
            append_converted_value(out, *value, feature.type, feature.default_value);
        } else {
            append_feature_value(out, *value);
        }
    }
    out += "}}\n";
    return response;
}

}  // namespace millrace::serving
