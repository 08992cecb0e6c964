#include "server/feature_handler.h"

#include <simdjson.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

#include "common/json_string.h"
#include "common/suggest.h"
#include "online/online_store.h"
#include "project/duration.h"
#include "server/feature_json.h"
#include "server/json_syntax.h"
#include "server/rate_limiter.h"
#include "server/record_splitter.h"
#include "server/traffic_capture.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

using Clock_ = std::chrono::steady_clock;

constexpr std::size_t kMaxUpsertRows = 100'000;
constexpr std::string_view kEpoch = "1970-01-01T00:00:00Z";

std::string backticks(std::string_view text) { return "`" + std::string(text) + "`"; }

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    if (std::optional<std::string> near = closest_match(word, candidates)) {
        return "; did you mean " + backticks(*near) + "?";
    }
    return "";
}

int status_index(FeatureStatus status) {
    switch (status) {
        case FeatureStatus::kPresent:
            return 0;
        case FeatureStatus::kNotFound:
            return 1;
        case FeatureStatus::kOutsideMaxAge:
            return 2;
    }
    return 1;
}

bool is_json_media_type(std::string_view content_type) {
    std::string_view media = content_type.substr(0, content_type.find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    std::string lower(media);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == "application/json" || lower == "application/x-ndjson" ||
           lower == "application/ndjson" || lower == "application/jsonl" ||
           lower == "application/x-jsonlines";
}

// Percent-encodes what a query component must not carry raw (for the captured target).
void append_query_component(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',' ||
            c == ':') {
            out += c;
        } else {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 0xf];
        }
    }
}

std::string request_target(const HttpRequest& request) {
    std::string target = request.path;
    for (std::size_t i = 0; i < request.query.size(); ++i) {
        target += i == 0 ? '?' : '&';
        append_query_component(target, request.query[i].first);
        target += '=';
        append_query_component(target, request.query[i].second);
    }
    return target;
}

/// A JSON scalar as a Value (what convert_entity_key and the upsert conversions take).
std::optional<Value> json_scalar(simdjson::dom::element element) {
    switch (element.type()) {
        case simdjson::dom::element_type::INT64:
            return Value::int64(int64_t(element));
        case simdjson::dom::element_type::UINT64:
            return std::nullopt;  // above int64
        case simdjson::dom::element_type::DOUBLE:
            return Value::float64(double(element));
        case simdjson::dom::element_type::STRING:
            return Value::string(std::string(std::string_view(element)));
        case simdjson::dom::element_type::BOOL:
            return Value::boolean(bool(element));
        case simdjson::dom::element_type::NULL_VALUE:
            return Value();
        default:
            return std::nullopt;
    }
}

std::string json_kind(simdjson::dom::element element) {
    switch (element.type()) {
        case simdjson::dom::element_type::ARRAY:
            return "an array";
        case simdjson::dom::element_type::OBJECT:
            return "an object";
        case simdjson::dom::element_type::UINT64:
            return "a number above the int64 range";
        default:
            return "a " + std::string(simdjson::minify(element));
    }
}

/// A JSON number or RFC 3339 string as a timestamp. Numbers are epoch seconds, milliseconds or
/// microseconds told apart by magnitude (epoch_number_to_micros: the rule of every JSON reader
/// of the project), so 1704067200, 1704067200000 and 1704067200000000 are the same instant.
std::optional<int64_t> timestamp_from_json(simdjson::dom::element element) {
    using simdjson::dom::element_type;
    switch (element.type()) {
        case element_type::INT64:
            return epoch_number_to_micros(int64_t(element));
        case element_type::DOUBLE:
            return epoch_number_to_micros(double(element));
        case element_type::STRING:
            return parse_timestamp(std::string_view(element));
        default:
            return std::nullopt;
    }
}

/// Appends the entity key in JSON `field` to `key`, converted to the entity's type; the reason
/// when it cannot be (a non-scalar, null, or a value of the wrong type).
std::optional<std::string> append_entity_key(const EntityKey& entity, simdjson::dom::element field,
                                             std::vector<Value>& key) {
    if (entity.type == DataType::kTimestamp &&
        field.type() != simdjson::dom::element_type::STRING) {
        // A number is an epoch number, by the same unit rule as event times.
        if (std::optional<int64_t> micros = timestamp_from_json(field)) {
            key.push_back(Value::timestamp(*micros));
            return std::nullopt;
        }
    }
    std::optional<Value> scalar = json_scalar(field);
    if (!scalar || scalar->is_null()) {
        return "key `" + entity.name + "` must be " + std::string(type_name(entity.type)) +
               ", got " + json_kind(field);
    }
    Result<Value> value = convert_entity_key(entity, *scalar);
    if (!value.ok()) return value.error().message();
    key.push_back(std::move(value).value());
    return std::nullopt;
}

/// A JSON value as a stored feature of `type`; kInvalidArgument naming the feature otherwise.
Result<Value> feature_from_json(const FeatureSpec& feature, simdjson::dom::element element) {
    using simdjson::dom::element_type;
    const element_type kind = element.type();
    if (kind == element_type::NULL_VALUE) return Value();
    auto refuse = [&]() -> Result<Value> {
        return Error(ErrorCode::kInvalidArgument,
                     "feature " + backticks(feature.name) + " must be " +
                         std::string(type_name(feature.type)) + ", got " +
                         std::string(simdjson::minify(element)));
    };
    switch (feature.type) {
        case DataType::kBool:
            if (kind == element_type::BOOL) return Value::boolean(bool(element));
            return refuse();
        case DataType::kInt32:
        case DataType::kInt64: {
            int64_t value = 0;
            if (kind == element_type::INT64) {
                value = int64_t(element);
            } else if (kind == element_type::DOUBLE) {
                const double d = double(element);
                if (!(d == std::floor(d)) || d < -9.2e18 || d > 9.2e18) return refuse();
                value = static_cast<int64_t>(d);
            } else {
                return refuse();
            }
            if (feature.type == DataType::kInt64) return Value::int64(value);
            if (value < INT32_MIN || value > INT32_MAX) return refuse();
            return Value::int32(static_cast<int32_t>(value));
        }
        case DataType::kFloat64:
            if (kind == element_type::DOUBLE) return Value::float64(double(element));
            if (kind == element_type::INT64) {
                return Value::float64(static_cast<double>(int64_t(element)));
            }
            if (kind == element_type::UINT64) {
                return Value::float64(static_cast<double>(uint64_t(element)));
            }
            return refuse();
        case DataType::kString:
        case DataType::kBytes:
            if (kind == element_type::STRING) {
                std::string text{std::string_view(element)};
                return feature.type == DataType::kString ? Value::string(std::move(text))
                                                         : Value::bytes(std::move(text));
            }
            return refuse();
        case DataType::kTimestamp:
            if (auto micros = timestamp_from_json(element)) return Value::timestamp(*micros);
            return refuse();
        case DataType::kDate:
            if (kind == element_type::STRING) {
                if (auto days = parse_date(std::string_view(element))) return Value::date(*days);
            }
            return refuse();
    }
    return refuse();
}

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

Clock_::time_point start_of(const HttpRequest& request) {
    return request.received == Clock_::time_point{} ? Clock_::now() : request.received;
}

std::string timeout_message(std::chrono::microseconds timeout) {
    return "timed out after " + format_duration(timeout);
}

}  // namespace

class FeatureHandler::Impl {
public:
    Impl(OnlineStore& store, ServingConfig config, std::vector<FeatureRoute> routes,
         const Clock& clock, MetricsRegistry& metrics, TrafficCapture* capture)
        : store_(store), config_(std::move(config)), clock_(clock), capture_(capture) {
        for (const FeatureView& view : store_.views()) {
            ViewState state;
            state.view = &view;
            for (FeatureStatus status : {FeatureStatus::kPresent, FeatureStatus::kNotFound,
                                         FeatureStatus::kOutsideMaxAge}) {
                state.keys_by_status[static_cast<std::size_t>(status_index(status))] =
                    &metrics.counter(
                        "millrace_feature_keys_total",
                        "Keys looked up by the serving API, by view and status.",
                        {{"view", view.name}, {"status", std::string(enum_name(status))}});
            }
            for (const FeatureSpec& feature : view.features) {
                state.feature_names.push_back(feature.name);
                state.feature_keys.push_back(json_string(feature.name) + ":");
            }
            for (const EntityKey& entity : view.entities) {
                state.entity_keys.push_back(json_string(entity.name) + ":");
            }
            state.name_json = json_string(view.name);
            view_names_.push_back(view.name);
            views_.emplace(view.name, std::move(state));
        }
        for (FeatureRoute& route : routes) {
            auto state = std::make_unique<RouteState>();
            auto view = views_.find(route.view);
            if (view == views_.end()) continue;  // parse_feature_routes checked it
            state->view = &view->second;
            if (route.rate_limit) {
                state->limiter =
                    std::make_unique<RateLimiter>(route.rate_limit->rps, route.rate_limit->burst);
            }
            state->timeout = route.timeout.value_or(config_.request_timeout);
            for (const RouteFeature& feature : route.features) {
                state->feature_keys.push_back(json_string(feature.response_name) + ":");
            }
            for (const std::string& param : route.key_params) {
                state->entity_keys.push_back(json_string(param) + ":");
            }
            state->route = std::move(route);
            routes_.push_back(std::move(state));
        }
    }

    void add_routes(Router& router) {
        router.add(
            HttpMethod::kGet, "/v1/features/{view}", "features_get",
            [this](HttpRequest& request, HttpResponder respond) {
                RequestContext context{start_of(request), config_.request_timeout, "no-cache", true,
                                       true};
                finish(request, std::move(respond), context, get_view(request, context));
            },
            "features");
        router.add(
            HttpMethod::kPost, "/v1/features/{view}/batch", "features_batch",
            [this](HttpRequest& request, HttpResponder respond) {
                RequestContext context{start_of(request), config_.request_timeout, "no-cache",
                                       false, true};
                finish(request, std::move(respond), context, batch(request, context));
            },
            "features");
        router.add(
            HttpMethod::kPost, "/v1/features/{view}/upsert", "features_upsert",
            [this](HttpRequest& request, HttpResponder respond) { respond(upsert(request)); },
            "ingest");
        router.add(
            HttpMethod::kPost, "/get-online-features", "feast_get_online_features",
            [this](HttpRequest& request, HttpResponder respond) {
                RequestContext context{start_of(request), config_.request_timeout, "no-cache",
                                       false, true};
                finish(request, std::move(respond), context, feast(request, context));
            },
            "features");
        for (const auto& route : routes_) {
            const RouteState* state = route.get();
            router.add(
                HttpMethod::kGet, state->route.path, "route:" + state->route.name,
                [this, state](HttpRequest& request, HttpResponder respond) {
                    RequestContext context{start_of(request), state->timeout,
                                           state->route.cache_control, true, true};
                    finish(request, std::move(respond), context,
                           serve_route(*state, request, context));
                },
                state->route.group);
        }
    }

private:
    // Adds the caching headers, answers 304 for a matching If-None-Match, records the request
    // for replay, and responds.
    void finish(HttpRequest& request, HttpResponder respond, const RequestContext& context,
                HttpResponse response) {
        if (response.status == 200) {
            response.headers.emplace_back("Cache-Control", std::string(context.cache_control));
            if (context.etag) {
                std::string etag = body_etag(response.body);
                const std::string_view if_none_match = request.header("If-None-Match");
                if (!if_none_match.empty() && etag_matches(if_none_match, etag)) {
                    response.status = 304;
                    response.body.clear();
                }
                response.headers.emplace_back("ETag", std::move(etag));
            }
        }
        if (capture_ != nullptr && context.capture && capture_->sampled()) {
            const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
                Clock_::now() - context.start);
            capture_->record(clock_.now_micros(), enum_name(request.method),
                             request_target(request), request.body, response.status, response.body,
                             latency.count());
        }
        respond(std::move(response));
    }

    const ViewState* find_view(std::string_view name) const {
        auto it = views_.find(name);
        return it == views_.end() ? nullptr : &it->second;
    }

    HttpResponse unknown_view(std::string_view name) const {
        return json_error(404, "unknown feature view " + backticks(name) +
                                   (views_.empty() ? "; the project defines no feature view"
                                                   : did_you_mean(name, view_names_)));
    }

    HttpResponse unknown_feature(const ViewState& view, std::string_view name) const {
        return json_error(400, "unknown feature " + backticks(name) + " of view " +
                                   backticks(view.view->name) +
                                   did_you_mean(name, view.feature_names));
    }

    // `features=a,b` (or a JSON list) into indexes; all features when empty.
    std::optional<HttpResponse> select_features(const ViewState& view, std::string_view list,
                                                Selection& selection) const {
        selection.clear();
        while (!list.empty()) {
            const std::size_t comma = list.find(',');
            std::string_view name = list.substr(0, comma);
            while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
            while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
            if (!name.empty()) {
                const int index = view.view->feature_index(name);
                if (index < 0) return unknown_feature(view, name);
                selection.push_back(index);
            }
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
        if (selection.empty()) all_features(view, selection);
        return std::nullopt;
    }

    static void all_features(const ViewState& view, Selection& selection) {
        selection.clear();
        for (std::size_t i = 0; i < view.view->features.size(); ++i) {
            selection.push_back(static_cast<int>(i));
        }
    }

    static std::optional<HttpResponse> parse_max_age(
        std::string_view text, std::optional<std::chrono::microseconds>& out) {
        Result<std::chrono::microseconds> parsed = parse_duration(text);
        if (!parsed.ok()) {
            return json_error(
                400, "invalid max_age " + backticks(text) + ": " + parsed.error().message());
        }
        out = *parsed;
        return std::nullopt;
    }

    // A store failure (I/O, corruption) or a lookup past the timeout.
    std::optional<HttpResponse> check_lookups(const RequestContext& context,
                                              const std::vector<FeatureLookup>& lookups) const {
        for (const FeatureLookup& lookup : lookups) {
            if (!lookup.error.empty()) [[unlikely]] {
                return json_error(500, "online store: " + lookup.error);
            }
        }
        if (Clock_::now() - context.start > context.timeout) {
            return json_error(503, timeout_message(context.timeout));
        }
        return std::nullopt;
    }

    void count(const ViewState& view, const std::vector<FeatureLookup>& lookups) const {
        std::array<uint64_t, 3> counts{};
        for (const FeatureLookup& lookup : lookups)
            ++counts[static_cast<std::size_t>(status_index(lookup.status))];
        for (std::size_t i = 0; i < counts.size(); ++i) {
            if (counts[i] > 0) view.keys_by_status[i]->increment(counts[i]);
        }
    }

    // `"key":{...},"status":"...","event_timestamp":...,"features":{...}` for one key.
    static void append_lookup(std::string& out, const ViewState& view,
                              const std::vector<std::string>& entity_keys,
                              const std::vector<Value>& key, const FeatureLookup& lookup,
                              const Selection& selection) {
        out += "\"key\":{";
        for (std::size_t i = 0; i < key.size(); ++i) {
            if (i > 0) out += ',';
            out += entity_keys[i];
            append_feature_value(out, key[i]);
        }
        out += "},\"status\":\"";
        out += enum_name(lookup.status);
        out += "\",\"event_timestamp\":";
        append_event_time(out, lookup);
        out += ",\"features\":{";
        const bool present = lookup.status == FeatureStatus::kPresent && lookup.row != nullptr;
        for (std::size_t i = 0; i < selection.size(); ++i) {
            if (i > 0) out += ',';
            const auto index = static_cast<std::size_t>(selection[i]);
            out += view.feature_keys[index];
            const Value* value =
                present && index < lookup.row->values.size() ? &lookup.row->values[index] : nullptr;
            append_feature_value(out, value != nullptr && !value->is_null()
                                          ? *value
                                          : view.view->features[index].default_value);
        }
        out += '}';
    }

    static void append_event_time(std::string& out, const FeatureLookup& lookup) {
        if (lookup.row == nullptr) {
            out += "null";
            return;
        }
        out += '"';
        append_timestamp(out, lookup.row->event_time_us);
        out += '"';
    }

    // Reads the key of a single-key GET from the query: one parameter per entity, named after
    // it (`key=` too for a single-entity view).
    std::optional<HttpResponse> key_from_query(const FeatureView& view,
                                               const std::vector<std::string>* params,
                                               const HttpRequest& request,
                                               std::vector<Value>& key) const {
        key.clear();
        for (std::size_t i = 0; i < view.entities.size(); ++i) {
            const EntityKey& entity = view.entities[i];
            const std::string& name = params != nullptr ? (*params)[i] : entity.name;
            const std::string* text = request.query_param(name);
            if (text == nullptr && params == nullptr && view.entities.size() == 1) {
                text = request.query_param("key");
            }
            if (text == nullptr) {
                return json_error(
                    400, "missing key parameter " + backticks(name) +
                             (params == nullptr && view.entities.size() == 1 ? " (or `key`)" : ""));
            }
            Result<Value> value = parse_entity_key(entity, *text);
            if (!value.ok()) {
                if (params != nullptr && name != entity.name) {
                    return json_error(
                        400, "query parameter " + backticks(name) + ": " + value.error().message());
                }
                return json_error(400, value.error().message());
            }
            key.push_back(std::move(value).value());
        }
        return std::nullopt;
    }

    HttpResponse get_view(HttpRequest& request, const RequestContext& context) const {
        const ViewState* view = find_view(request.param("view"));
        if (view == nullptr) return unknown_view(request.param("view"));
        thread_local std::vector<std::vector<Value>> keys(1);
        thread_local std::vector<FeatureLookup> lookups;
        thread_local Selection selection;
        keys.resize(1);
        if (auto error = key_from_query(*view->view, nullptr, request, keys[0])) return *error;
        const std::string* features = request.query_param("features");
        if (auto error = select_features(*view, features ? *features : "", selection)) {
            return *error;
        }
        std::optional<std::chrono::microseconds> max_age;
        if (const std::string* text = request.query_param("max_age")) {
            if (auto error = parse_max_age(*text, max_age)) return *error;
        }
        store_.lookup(*view->view, std::span<const std::vector<Value>>(keys.data(), 1),
                      clock_.now_micros(), max_age, lookups);
        count(*view, lookups);
        if (auto error = check_lookups(context, lookups)) return *error;
        HttpResponse response;
        std::string& out = response.body;
        out.reserve(256);
        out += "{\"view\":";
        out += view->name_json;
        out += ',';
        append_lookup(out, *view, view->entity_keys, keys[0], lookups[0], selection);
        out += "}\n";
        return response;
    }

    HttpResponse serve_route(const RouteState& route, HttpRequest& request,
                             const RequestContext& context) const {
        if (route.limiter) {
            const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    Clock_::now().time_since_epoch())
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
        out += "{\"key\":{";
        for (std::size_t i = 0; i < keys[0].size(); ++i) {
            if (i > 0) out += ',';
            out += route.entity_keys[i];
            append_feature_value(out, keys[0][i]);
        }
        out += "},\"status\":\"";
        out += enum_name(lookup.status);
        out += "\",\"event_timestamp\":";
        append_event_time(out, lookup);
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

    // Parses a request body as one JSON document; a 400 naming the position when it is not.
    static std::optional<HttpResponse> parse_body(simdjson::dom::parser& parser,
                                                  const std::string& body,
                                                  simdjson::dom::element& root) {
        if (auto error = parser.parse(body).get(root); error) {
            return json_error(400,
                              describe_json_syntax_error(body, simdjson::error_message(error)));
        }
        return std::nullopt;
    }

    static std::string too_many_keys(std::size_t count, std::size_t limit) {
        return std::to_string(count) + " keys in one request; the limit is " +
               std::to_string(limit) + " (serving.max_batch_keys)";
    }

    // One key of a batch: an object of entity values, or a scalar for a single-entity view.
    std::optional<std::string> batch_key(const FeatureView& view, simdjson::dom::element element,
                                         std::vector<Value>& key) const {
        key.clear();
        simdjson::dom::object object;
        if (element.get_object().get(object) == simdjson::SUCCESS) {
            for (const EntityKey& entity : view.entities) {
                simdjson::dom::element field;
                if (object[entity.name].get(field) != simdjson::SUCCESS) {
                    return "missing key " + backticks(entity.name);
                }
                if (auto error = append_entity_key(entity, field, key)) return error;
            }
            for (auto field : object) {
                bool known = false;
                for (const EntityKey& entity : view.entities) known |= entity.name == field.key;
                if (!known) {
                    std::vector<std::string> names;
                    for (const EntityKey& entity : view.entities) names.push_back(entity.name);
                    return "unknown key " + backticks(field.key) + " of view " +
                           backticks(view.name) + did_you_mean(field.key, names);
                }
            }
            return std::nullopt;
        }
        if (view.entities.size() != 1) {
            return "view " + backticks(view.name) + " has " + std::to_string(view.entities.size()) +
                   " entities; give each key as an object, as in {\"" + view.entities[0].name +
                   "\": ...}";
        }
        return append_entity_key(view.entities[0], element, key);
    }

    // `"features": [...]` of a request body into a selection (all when absent).
    std::optional<HttpResponse> select_from_json(const ViewState& view, simdjson::dom::object body,
                                                 Selection& selection) const {
        simdjson::dom::element features;
        if (body["features"].get(features) != simdjson::SUCCESS || features.is_null()) {
            all_features(view, selection);
            return std::nullopt;
        }
        simdjson::dom::array list;
        if (features.get_array().get(list) != simdjson::SUCCESS) {
            return json_error(400, "`features` must be an array of feature names");
        }
        selection.clear();
        for (simdjson::dom::element item : list) {
            std::string_view name;
            if (item.get_string().get(name) != simdjson::SUCCESS) {
                return json_error(400, "`features` must be an array of feature names");
            }
            const int index = view.view->feature_index(name);
            if (index < 0) return unknown_feature(view, name);
            selection.push_back(index);
        }
        if (selection.empty()) all_features(view, selection);
        return std::nullopt;
    }

    static std::optional<HttpResponse> max_age_from_json(
        simdjson::dom::object body, std::optional<std::chrono::microseconds>& max_age) {
        simdjson::dom::element value;
        if (body["max_age"].get(value) != simdjson::SUCCESS || value.is_null()) {
            return std::nullopt;
        }
        std::string_view text;
        if (value.get_string().get(text) != simdjson::SUCCESS) {
            return json_error(400, "`max_age` must be a duration string such as \"10s\"");
        }
        return parse_max_age(text, max_age);
    }

    HttpResponse batch(HttpRequest& request, const RequestContext& context) const {
        const ViewState* view = find_view(request.param("view"));
        if (view == nullptr) return unknown_view(request.param("view"));
        thread_local simdjson::dom::parser parser;
        simdjson::dom::element root;
        if (auto error = parse_body(parser, request.body, root)) return *error;
        simdjson::dom::object body;
        if (root.get_object().get(body) != simdjson::SUCCESS) {
            return json_error(400, "the request body must be a JSON object with `keys`");
        }
        simdjson::dom::array list;
        if (body["keys"].get_array().get(list) != simdjson::SUCCESS) {
            return json_error(400, "the request body needs `keys`: an array of keys");
        }
        if (list.size() > config_.max_batch_keys) {
            return json_error(413, too_many_keys(list.size(), config_.max_batch_keys));
        }
        thread_local Selection selection;
        if (auto error = select_from_json(*view, body, selection)) return *error;
        std::optional<std::chrono::microseconds> max_age;
        if (auto error = max_age_from_json(body, max_age)) return *error;
        thread_local std::vector<std::vector<Value>> keys;
        thread_local std::vector<FeatureLookup> lookups;
        keys.resize(list.size());
        std::size_t index = 0;
        for (simdjson::dom::element item : list) {
            if (auto problem = batch_key(*view->view, item, keys[index])) {
                return json_error(400, "keys[" + std::to_string(index) + "]: " + *problem);
            }
            ++index;
        }
        store_.lookup(*view->view, std::span<const std::vector<Value>>(keys.data(), keys.size()),
                      clock_.now_micros(), max_age, lookups);
        count(*view, lookups);
        if (auto error = check_lookups(context, lookups)) return *error;
        HttpResponse response;
        std::string& out = response.body;
        out.reserve(64 + keys.size() * (32 + 24 * selection.size()));
        out += "{\"view\":";
        out += view->name_json;
        out += ",\"results\":[";
        for (std::size_t i = 0; i < keys.size(); ++i) {
            out += i == 0 ? "{" : ",{";
            append_lookup(out, *view, view->entity_keys, keys[i], lookups[i], selection);
            out += '}';
        }
        out += "]}\n";
        return response;
    }

    HttpResponse upsert(HttpRequest& request) const {
        const ViewState* view = find_view(request.param("view"));
        if (view == nullptr) return unknown_view(request.param("view"));
        const FeatureView& spec = *view->view;
        if (!is_json_media_type(request.header("Content-Type"))) {
            return json_error(
                415, "Content-Type must be application/json or application/x-ndjson, got `" +
                         std::string(request.header("Content-Type")) + "`");
        }
        auto split = split_json_records(request.body);
        if (!split.ok()) return json_error(400, split.error().message());
        const std::vector<std::string_view>& rows = *split;
        if (rows.empty()) return json_error(400, "the request has no rows");
        if (rows.size() > kMaxUpsertRows) {
            return json_error(
                413, "more than " + std::to_string(kMaxUpsertRows) + " rows in one request");
        }
        thread_local simdjson::dom::parser parser;
        std::vector<std::pair<std::size_t, std::string>> errors;
        std::vector<std::size_t> unchanged;
        std::size_t upserted = 0;
        const int64_t now_us = clock_.now_micros();
        std::vector<Value> key;
        FeatureRow row;
        bool store_failed = false;
        for (std::size_t index = 0; index < rows.size(); ++index) {
            std::optional<std::string> problem =
                upsert_one(spec, parser, rows[index], now_us, key, row);
            if (!problem) {
                Result<UpsertOutcome> stored = store_.upsert_row(spec, key, row);
                if (!stored.ok()) {
                    problem = stored.error().message();
                    store_failed |= stored.error().code() != ErrorCode::kInvalidArgument;
                } else if (*stored == UpsertOutcome::kUnchanged) {
                    unchanged.push_back(index);
                    continue;
                }
            }
            if (problem) {
                errors.emplace_back(index, std::move(*problem));
            } else {
                ++upserted;
            }
        }
        std::string body = "{\"upserted\":" + std::to_string(upserted) +
                           ",\"unchanged\":" + std::to_string(unchanged.size()) +
                           ",\"rejected\":" + std::to_string(errors.size()) +
                           ",\"unchanged_rows\":[";
        for (std::size_t i = 0; i < unchanged.size(); ++i) {
            if (i > 0) body += ',';
            body += std::to_string(unchanged[i]);
        }
        body += "],\"errors\":[";
        for (std::size_t i = 0; i < errors.size(); ++i) {
            if (i > 0) body += ',';
            body += "{\"index\":" + std::to_string(errors[i].first) + ",\"error\":";
            append_json_string(body, errors[i].second);
            body += '}';
        }
        body += ']';
        int status = 200;
        if (errors.size() == rows.size()) {
            // Nothing of the request could be taken: the store failing is the server's fault.
            status = store_failed ? 500 : 400;
            body += store_failed ? ",\"error\":\"the online store could not write\""
                                 : ",\"error\":\"no row of the request is valid\"";
        }
        body += '}';
        return json_response(std::move(body), status);
    }

    // One upserted row: entity keys, features, optional event_timestamp; the reason otherwise.
    static std::optional<std::string> upsert_one(const FeatureView& view,
                                                 simdjson::dom::parser& parser,
                                                 std::string_view text, int64_t now_us,
                                                 std::vector<Value>& key, FeatureRow& row) {
        simdjson::dom::element element;
        if (auto error = parser.parse(text.data(), text.size()).get(element); error) {
            return describe_json_syntax_error(text, simdjson::error_message(error));
        }
        simdjson::dom::object object;
        if (element.get_object().get(object) != simdjson::SUCCESS) {
            return std::string("the row is not a JSON object");
        }
        key.clear();
        row.values.assign(view.features.size(), Value());
        row.event_time_us = now_us;
        row.write_time_us = now_us;
        std::vector<bool> seen_key(view.entities.size(), false);
        for (auto field : object) {
            const std::string_view name = field.key;
            if (name == "event_timestamp") {
                if (field.value.is_null()) continue;
                std::optional<int64_t> micros = timestamp_from_json(field.value);
                if (!micros) {
                    return "`event_timestamp` must be an RFC 3339 string or an epoch number "
                           "(seconds, milliseconds or microseconds) in years 0001 to 9999, got " +
                           std::string(simdjson::minify(field.value));
                }
                row.event_time_us = *micros;
                continue;
            }
            bool is_key = false;
            for (std::size_t i = 0; i < view.entities.size(); ++i) {
                if (view.entities[i].name != name) continue;
                is_key = true;
                seen_key[i] = true;
            }
            if (is_key) continue;
            const int index = view.feature_index(name);
            if (index < 0) {
                std::vector<std::string> names;
                for (const EntityKey& entity : view.entities) names.push_back(entity.name);
                for (const FeatureSpec& feature : view.features) names.push_back(feature.name);
                return "unknown field " + backticks(name) + " for view " + backticks(view.name) +
                       did_you_mean(name, names);
            }
            Result<Value> value =
                feature_from_json(view.features[static_cast<std::size_t>(index)], field.value);
            if (!value.ok()) return value.error().message();
            row.values[static_cast<std::size_t>(index)] = std::move(value).value();
        }
        for (std::size_t i = 0; i < view.entities.size(); ++i) {
            const EntityKey& entity = view.entities[i];
            if (!seen_key[i]) return "missing key " + backticks(entity.name);
            simdjson::dom::element field;
            if (object[entity.name].get(field) != simdjson::SUCCESS) {
                return "missing key " + backticks(entity.name);
            }
            if (auto error = append_entity_key(entity, field, key)) return error;
        }
        return std::nullopt;
    }

    // ---- Feast --------------------------------------------------------------------------

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

    HttpResponse feast(HttpRequest& request, const RequestContext& context) const {
        thread_local simdjson::dom::parser parser;
        simdjson::dom::element root;
        if (auto error = parse_body(parser, request.body, root)) return *error;
        simdjson::dom::object body;
        if (root.get_object().get(body) != simdjson::SUCCESS) {
            return json_error(400, "the request body must be a JSON object");
        }
        bool full_names = false;
        if (simdjson::dom::element flag;
            body["full_feature_names"].get(flag) == simdjson::SUCCESS && !flag.is_null()) {
            if (flag.get_bool().get(full_names) != simdjson::SUCCESS) {
                return json_error(400, "`full_feature_names` must be true or false");
            }
        }
        // The requested features, in order.
        std::vector<std::pair<const ViewState*, int>> wanted;
        std::vector<std::string> response_names;  // when a route renames
        simdjson::dom::element features;
        simdjson::dom::element service;
        const bool has_features =
            body["features"].get(features) == simdjson::SUCCESS && !features.is_null();
        const bool has_service =
            body["feature_service"].get(service) == simdjson::SUCCESS && !service.is_null();
        if (has_features == has_service) {
            return json_error(400,
                              "give either `features` ([\"view:feature\", ...]) or "
                              "`feature_service`");
        }
        if (has_features) {
            simdjson::dom::array list;
            if (features.get_array().get(list) != simdjson::SUCCESS) {
                return json_error(400, "`features` must be an array of \"view:feature\" names");
            }
            for (simdjson::dom::element item : list) {
                std::string_view reference;
                if (item.get_string().get(reference) != simdjson::SUCCESS) {
                    return json_error(400, "`features` must be an array of \"view:feature\" names");
                }
                const std::size_t colon = reference.find(':');
                if (colon == std::string_view::npos) {
                    return json_error(400, "feature reference " + backticks(reference) +
                                               " must be \"view:feature\"");
                }
                const ViewState* view = find_view(reference.substr(0, colon));
                if (view == nullptr) return unknown_view(reference.substr(0, colon));
                const std::string_view name = reference.substr(colon + 1);
                const int index = view->view->feature_index(name);
                if (index < 0) return unknown_feature(*view, name);
                wanted.emplace_back(view, index);
            }
        } else {
            std::string_view name;
            if (service.get_string().get(name) != simdjson::SUCCESS) {
                return json_error(400, "`feature_service` must be a string");
            }
            const RouteState* route = nullptr;
            for (const auto& candidate : routes_) {
                if (candidate->route.name == name) route = candidate.get();
            }
            if (route != nullptr) {
                for (const RouteFeature& feature : route->route.features) {
                    wanted.emplace_back(route->view, feature.feature_index);
                }
            } else if (const ViewState* view = find_view(name)) {
                for (std::size_t i = 0; i < view->view->features.size(); ++i) {
                    wanted.emplace_back(view, static_cast<int>(i));
                }
            } else {
                std::vector<std::string> names = view_names_;
                for (const auto& candidate : routes_) names.push_back(candidate->route.name);
                return json_error(404, "unknown feature service " + backticks(name) +
                                           " (a route or a feature view)" +
                                           did_you_mean(name, names));
            }
        }
        if (wanted.empty()) return json_error(400, "no feature requested");
        std::optional<std::chrono::microseconds> max_age;
        if (auto error = max_age_from_json(body, max_age)) return *error;

        // Entities: column name -> array of values, all of one length.
        simdjson::dom::object entities;
        if (body["entities"].get_object().get(entities) != simdjson::SUCCESS) {
            return json_error(400,
                              "`entities` must be an object of arrays, as in "
                              "{\"user_id\": [1, 2]}");
        }
        std::vector<std::pair<std::string_view, simdjson::dom::array>> columns;
        std::size_t rows = 0;
        for (auto field : entities) {
            simdjson::dom::array values;
            if (field.value.get_array().get(values) != simdjson::SUCCESS) {
                return json_error(400, "entity " + backticks(field.key) + " must be an array");
            }
            if (!columns.empty() && values.size() != rows) {
                return json_error(
                    400, "entity arrays differ in length: " + backticks(columns.front().first) +
                             " has " + std::to_string(rows) + " values, " + backticks(field.key) +
                             " has " + std::to_string(values.size()));
            }
            rows = values.size();
            columns.emplace_back(field.key, values);
        }
        if (columns.empty()) return json_error(400, "`entities` is empty");
        if (rows > config_.max_batch_keys) {
            return json_error(413, too_many_keys(rows, config_.max_batch_keys));
        }

        // One lookup per view, keys built from the entity columns.
        std::vector<FeastView> views;
        for (const auto& [view, feature] : wanted) {
            bool known = false;
            for (const FeastView& done : views) known |= done.view == view;
            if (known) continue;
            FeastView& lookup = views.emplace_back();
            lookup.view = view;
            lookup.keys.assign(rows, {});
            for (const EntityKey& entity : view->view->entities) {
                const simdjson::dom::array* values = nullptr;
                for (const auto& column : columns) {
                    if (column.first == entity.name) values = &column.second;
                }
                if (values == nullptr) {
                    return json_error(400, "missing entity " + backticks(entity.name) + " (view " +
                                               backticks(view->view->name) +
                                               " needs it) in `entities`");
                }
                std::size_t row = 0;
                for (simdjson::dom::element element : *values) {
                    if (auto problem = append_entity_key(entity, element, lookup.keys[row])) {
                        return json_error(400, "entities." + std::string(entity.name) + "[" +
                                                   std::to_string(row) + "]: " + *problem);
                    }
                    ++row;
                }
            }
            store_.lookup(*view->view,
                          std::span<const std::vector<Value>>(lookup.keys.data(), rows),
                          clock_.now_micros(), max_age, lookup.lookups);
            count(*view, lookup.lookups);
            if (auto error = check_lookups(context, lookup.lookups)) return *error;
        }

        HttpResponse response;
        std::string& out = response.body;
        out.reserve(128 + (columns.size() + wanted.size()) * (64 + rows * 40));
        out += "{\"metadata\":{\"feature_names\":[";
        bool first = true;
        for (const auto& column : columns) {
            if (!first) out += ',';
            first = false;
            append_json_string(out, column.first);
        }
        for (const auto& [view, feature] : wanted) {
            out += ',';
            const std::string& name = view->feature_names[static_cast<std::size_t>(feature)];
            append_json_string(out, full_names ? view->view->name + "__" + name : name);
        }
        out += "]},\"results\":[";
        first = true;
        for (const auto& column : columns) {
            if (!first) out += ',';
            first = false;
            out += "{\"values\":[";
            bool first_value = true;
            for (simdjson::dom::element element : column.second) {
                if (!first_value) out += ',';
                first_value = false;
                out += simdjson::minify(element);
            }
            out += "],\"statuses\":[";
            for (std::size_t row = 0; row < rows; ++row)
                out += row == 0 ? "\"PRESENT\"" : ",\"PRESENT\"";
            out += "],\"event_timestamps\":[";
            for (std::size_t row = 0; row < rows; ++row) {
                if (row > 0) out += ',';
                out += '"';
                out += kEpoch;
                out += '"';
            }
            out += "]}";
        }
        for (const auto& [view, feature] : wanted) {
            const FeastView* lookup = nullptr;
            for (const FeastView& candidate : views) {
                if (candidate.view == view) lookup = &candidate;
            }
            const auto index = static_cast<std::size_t>(feature);
            const Value& fallback = view->view->features[index].default_value;
            out += ",{\"values\":[";
            for (std::size_t row = 0; row < rows; ++row) {
                if (row > 0) out += ',';
                const FeatureLookup& found = lookup->lookups[row];
                const Value* value = found.status == FeatureStatus::kPresent && found.row &&
                                             index < found.row->values.size()
                                         ? &found.row->values[index]
                                         : nullptr;
                append_feature_value(out,
                                     value != nullptr && !value->is_null() ? *value : fallback);
            }
            out += "],\"statuses\":[";
            for (std::size_t row = 0; row < rows; ++row) {
                if (row > 0) out += ',';
                out += '"';
                out += enum_name(lookup->lookups[row].status);
                out += '"';
            }
            out += "],\"event_timestamps\":[";
            for (std::size_t row = 0; row < rows; ++row) {
                if (row > 0) out += ',';
                const FeatureLookup& found = lookup->lookups[row];
                out += '"';
                if (found.row != nullptr) {
                    append_timestamp(out, found.row->event_time_us);
                } else {
                    out += kEpoch;
                }
                out += '"';
            }
            out += "]}";
        }
        out += "]}\n";
        return response;
    }

    OnlineStore& store_;
    ServingConfig config_;
    const Clock& clock_;
    TrafficCapture* capture_;
    std::unordered_map<std::string, ViewState, NameHash, std::equal_to<>> views_;
    std::vector<std::string> view_names_;
    std::vector<std::unique_ptr<RouteState>> routes_;
};

FeatureHandler::FeatureHandler(OnlineStore& store, ServingConfig config,
                               std::vector<FeatureRoute> routes, const Clock& clock,
                               MetricsRegistry& metrics, TrafficCapture* capture)
    : impl_(std::make_unique<Impl>(store, std::move(config), std::move(routes), clock, metrics,
                                   capture)) {}

FeatureHandler::~FeatureHandler() = default;

void FeatureHandler::add_routes(Router& router) { impl_->add_routes(router); }

}  // namespace millrace
