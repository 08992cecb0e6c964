#include "server/feature_serving.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "common/json_string.h"
#include "common/suggest.h"
#include "project/duration.h"
#include "server/feature_json.h"
#include "server/json_syntax.h"
#include "server/traffic_capture.h"
#include "types/time_codec.h"

namespace millrace::serving {

namespace {

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

}  // namespace

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

Clock_::time_point start_of(const HttpRequest& request) {
    return request.received == Clock_::time_point{} ? Clock_::now() : request.received;
}

std::string timeout_message(std::chrono::microseconds timeout) {
    return "timed out after " + format_duration(timeout);
}

FeatureServing::FeatureServing(OnlineStore& store, ServingConfig config,
                               std::vector<FeatureRoute> routes, const Clock& clock,
                               MetricsRegistry& metrics, TrafficCapture* capture)
    : store_(store), config_(std::move(config)), clock_(clock), capture_(capture) {
    for (const FeatureView& view : store_.views()) {
        ViewState state;
        state.view = &view;
        for (FeatureStatus status :
             {FeatureStatus::kPresent, FeatureStatus::kNotFound, FeatureStatus::kOutsideMaxAge}) {
            state.keys_by_status[static_cast<std::size_t>(status_index(status))] =
                &metrics.counter("millrace_feature_keys_total",
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

void FeatureServing::add_routes(Router& router) {
    // The lookup routes share their framing: a context (default timeout, no-cache, ETag only
    // for GET, captured for replay), then finish().
    using Lookup = HttpResponse (FeatureServing::*)(HttpRequest&, const RequestContext&) const;
    const auto add_lookup = [&](HttpMethod method, std::string path, std::string metric,
                                Lookup lookup) {
        router.add(
            method, std::move(path), std::move(metric),
            [this, method, lookup](HttpRequest& request, HttpResponder respond) {
                RequestContext context{start_of(request), config_.request_timeout, "no-cache",
                                       method == HttpMethod::kGet, true};
                finish(request, std::move(respond), context, (this->*lookup)(request, context));
            },
            "features");
    };
    add_lookup(HttpMethod::kGet, "/v1/features/{view}", "features_get", &FeatureServing::get_view);
    add_lookup(HttpMethod::kPost, "/v1/features/{view}/batch", "features_batch",
               &FeatureServing::batch);
    router.add(
        HttpMethod::kPost, "/v1/features/{view}/upsert", "features_upsert",
        [this](HttpRequest& request, HttpResponder respond) { respond(upsert(request)); },
        "ingest");
    add_lookup(HttpMethod::kPost, "/get-online-features", "feast_get_online_features",
               &FeatureServing::feast);
    for (const auto& route : routes_) {
        const RouteState* state = route.get();
        router.add(
            HttpMethod::kGet, state->route.path, "route:" + state->route.name,
            [this, state](HttpRequest& request, HttpResponder respond) {
                RequestContext context{start_of(request), state->timeout,
                                       state->route.cache_control, true, true};
                finish(request, std::move(respond), context, serve_route(*state, request, context));
            },
            state->route.group);
    }
}

// Adds the caching headers, answers 304 for a matching If-None-Match, records the request
// for replay, and responds.
void FeatureServing::finish(HttpRequest& request, HttpResponder respond,
                            const RequestContext& context, HttpResponse response) {
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
        const auto latency =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock_::now() - context.start);
        capture_->record(clock_.now_micros(), enum_name(request.method), request_target(request),
                         request.body, response.status, response.body, latency.count());
    }
    respond(std::move(response));
}

const ViewState* FeatureServing::find_view(std::string_view name) const {
    auto it = views_.find(name);
    return it == views_.end() ? nullptr : &it->second;
}

HttpResponse FeatureServing::unknown_view(std::string_view name) const {
    return json_error(404, "unknown feature view " + backticks(name) +
                               (views_.empty() ? "; the project defines no feature view"
                                               : did_you_mean(name, view_names_)));
}

HttpResponse FeatureServing::unknown_feature(const ViewState& view, std::string_view name) const {
    return json_error(400, "unknown feature " + backticks(name) + " of view " +
                               backticks(view.view->name) + did_you_mean(name, view.feature_names));
}

// `features=a,b` (or a JSON list) into indexes; all features when empty.
std::optional<HttpResponse> FeatureServing::select_features(const ViewState& view,
                                                            std::string_view list,
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

void FeatureServing::all_features(const ViewState& view, Selection& selection) {
    selection.clear();
    for (std::size_t i = 0; i < view.view->features.size(); ++i) {
        selection.push_back(static_cast<int>(i));
    }
}

std::optional<HttpResponse> FeatureServing::parse_max_age(
    std::string_view text, std::optional<std::chrono::microseconds>& out) {
    Result<std::chrono::microseconds> parsed = parse_duration(text);
    if (!parsed.ok()) {
        return json_error(400,
                          "invalid max_age " + backticks(text) + ": " + parsed.error().message());
    }
    out = *parsed;
    return std::nullopt;
}

// A store failure (I/O, corruption) or a lookup past the timeout.
std::optional<HttpResponse> FeatureServing::check_lookups(
    const RequestContext& context, const std::vector<FeatureLookup>& lookups) const {
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

void FeatureServing::count(const ViewState& view, const std::vector<FeatureLookup>& lookups) const {
    std::array<uint64_t, 3> counts{};
    for (const FeatureLookup& lookup : lookups)
        ++counts[static_cast<std::size_t>(status_index(lookup.status))];
    for (std::size_t i = 0; i < counts.size(); ++i) {
        if (counts[i] > 0) view.keys_by_status[i]->increment(counts[i]);
    }
}

// `"key":{...},"status":"...","event_timestamp":...,"features":{...}` for one key.
void FeatureServing::append_lookup(std::string& out, const ViewState& view,
                                   const std::vector<std::string>& entity_keys,
                                   const std::vector<Value>& key, const FeatureLookup& lookup,
                                   const Selection& selection) {
    append_key_status_time(out, entity_keys, key, lookup);
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

void FeatureServing::append_key_status_time(std::string& out,
                                            const std::vector<std::string>& entity_keys,
                                            const std::vector<Value>& key,
                                            const FeatureLookup& lookup) {
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
}

void FeatureServing::append_event_time(std::string& out, const FeatureLookup& lookup) {
    if (lookup.row == nullptr) {
        out += "null";
        return;
    }
    // Rows of one view mostly share their event time (one materialization, one source batch):
    // the thread's last rendering is reused instead of formatting the date again per key.
    thread_local int64_t last_time = std::numeric_limits<int64_t>::min();
    thread_local std::string last_text;
    if (lookup.row->event_time_us != last_time || last_text.empty()) {
        last_text.clear();
        append_timestamp(last_text, lookup.row->event_time_us);
        last_time = lookup.row->event_time_us;
    }
    out += '"';
    out += last_text;
    out += '"';
}

// Reads the key of a single-key GET from the query: one parameter per entity, named after
// it (`key=` too for a single-entity view).
std::optional<HttpResponse> FeatureServing::key_from_query(const FeatureView& view,
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

// Parses a request body as one JSON object; a 400 naming the position when it is not JSON, or
// saying `not_an_object` when it is JSON of another kind.
std::optional<HttpResponse> FeatureServing::parse_object_body(simdjson::dom::parser& parser,
                                                              const std::string& body,
                                                              std::string_view not_an_object,
                                                              simdjson::dom::object& object) {
    simdjson::dom::element root;
    if (auto error = parser.parse(body).get(root); error) {
        return json_error(400, describe_json_syntax_error(body, simdjson::error_message(error)));
    }
    if (root.get_object().get(object) != simdjson::SUCCESS) return json_error(400, not_an_object);
    return std::nullopt;
}

std::string FeatureServing::too_many_keys(std::size_t count, std::size_t limit) {
    return std::to_string(count) + " keys in one request; the limit is " + std::to_string(limit) +
           " (serving.max_batch_keys)";
}

}  // namespace millrace::serving
