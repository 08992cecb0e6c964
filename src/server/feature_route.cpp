#include "server/feature_route.h"

#include <algorithm>
#include <map>

#include "common/config_node.h"
#include "common/suggest.h"
#include "project/config_reader.h"
#include "project/project.h"
#include "types/value_cast.h"

namespace millrace {

namespace {

// "; known: `a`, `b`" (up to 10 names) for an unknown-name message without a near miss.
std::string known_names(const std::vector<std::string>& names) {
    std::string out = "; known: ";
    for (std::size_t i = 0; i < names.size() && i < 10; ++i) {
        if (i > 0) out += ", ";
        out += backticks(names[i]);
    }
    if (names.size() > 10) out += ", ...";
    return out;
}

std::string unknown_hint(std::string_view word, const std::vector<std::string>& names) {
    std::string hint = did_you_mean(word, names);
    return hint.empty() && !names.empty() ? known_names(names) : hint;
}

class RouteParser {
public:
    RouteParser(const RouteSpec& spec, const std::vector<FeatureView>& views,
                std::vector<Error>& errors)
        : spec_(spec), views_(views), reader_(errors), before_(errors.size()) {}

    std::optional<FeatureRoute> parse() {
        route_.name = spec_.name;
        route_.file = spec_.file;
        route_.location = spec_.location;
        const std::string what = "route " + backticks(spec_.name);
        MapReader map(reader_, spec_.config, what);
        if (!map.is_map()) return std::nullopt;
        map.allow({"name", "kind", "description"});
        if (const ConfigNode* path = map.required("path")) parse_path(*path, what);
        const FeatureView* view = nullptr;
        if (const ConfigNode* node = map.required("view")) view = parse_view(*node, what);
        if (const ConfigNode* group = map.optional("group"); present(group)) {
            if (auto choice = reader_.choice<std::string_view>(
                    *group, key_of("group", what),
                    {{"features", "features"}, {"ingest", "ingest"}, {"admin", "admin"}})) {
                route_.group = std::string(*choice);
            }
        }
        const ConfigNode* key = map.optional("key");
        const ConfigNode* features = map.optional("features");
        if (view != nullptr) {
            parse_key(key, *view, what);
            parse_features(features, *view, what);
        }
        if (const ConfigNode* limit = map.optional("rate_limit"); present(limit)) {
            parse_rate_limit(*limit, key_of("rate_limit", what));
        }
        if (const ConfigNode* timeout = map.optional("timeout"); present(timeout)) {
            if (auto value = reader_.duration(*timeout, key_of("timeout", what))) {
                if (value->count() <= 0) {
                    reader_.error(ErrorCode::kConfig,
                                  key_of("timeout", what) + " must be greater than 0",
                                  timeout->location());
                } else {
                    route_.timeout = *value;
                }
            }
        }
        if (const ConfigNode* cache = map.optional("cache_control"); present(cache)) {
            if (auto text = reader_.non_empty(*cache, key_of("cache_control", what))) {
                if (text->find_first_of("\r\n") != std::string::npos) {
                    reader_.error(ErrorCode::kConfig,
                                  key_of("cache_control", what) + " must be one line",
                                  cache->location());
                } else {
                    route_.cache_control = *text;
                }
            }
        }
        map.finish();
        if (reader_.error_count() > before_) return std::nullopt;
        return std::move(route_);
    }

private:
    void parse_path(const ConfigNode& node, const std::string& what) {
        std::optional<std::string> path = reader_.non_empty(node, key_of("path", what));
        if (!path) return;
        std::string problem;
        if (path->front() != '/') {
            problem = "must start with `/`";
        } else if (path->find_first_of("?#{}% \t") != std::string::npos) {
            problem = "must be a literal path (no query, `{}`, `%` or spaces)";
        } else if (path->find("//") != std::string::npos ||
                   (path->size() > 1 && path->back() == '/')) {
            problem = "must not have empty segments or a trailing `/`";
        } else if (path->starts_with("/v1/") || *path == "/v1" || *path == "/metrics" ||
                   *path == "/healthz" || *path == "/get-online-features" || *path == "/" ||
                   path->starts_with("/ui/")) {
            problem = "is reserved for Millrace's own API";
        }
        if (!problem.empty()) {
            reader_.error(ErrorCode::kConfig,
                          key_of("path", what) + " " + backticks(*path) + " " + problem,
                          node.location());
            return;
        }
        route_.path = *path;
    }

    const FeatureView* parse_view(const ConfigNode& node, const std::string& what) {
        std::optional<std::string> name = reader_.non_empty(node, key_of("view", what));
        if (!name) return nullptr;
        std::vector<std::string> names;
        for (const FeatureView& view : views_) {
            if (view.name == *name) {
                route_.view = view.name;
                return &view;
            }
            names.push_back(view.name);
        }
        reader_.error(ErrorCode::kConfig,
                      "unknown feature view " + backticks(*name) + " for " + what +
                          (names.empty() ? "; the project defines no feature view"
                                         : unknown_hint(*name, names)),
                      node.location());
        return nullptr;
    }

    void parse_key(const ConfigNode* node, const FeatureView& view, const std::string& what) {
        route_.key_params.assign(view.entities.size(), std::string());
        std::vector<std::string> entity_names;
        for (const EntityKey& entity : view.entities) entity_names.push_back(entity.name);
        if (!present(node)) {
            route_.key_params = entity_names;
            return;
        }
        const std::string key_what = key_of("key", what);
        if (node->is_scalar()) {
            if (view.entities.size() != 1) {
                reader_.error(ErrorCode::kConfig,
                              key_what + ": view " + backticks(view.name) + " has " +
                                  std::to_string(view.entities.size()) +
                                  " entities; map each query parameter to one, as in `key: { " +
                                  "uid: " + view.entities.front().name + " }`",
                              node->location());
                return;
            }
            if (auto name = reader_.non_empty(*node, key_what);
                name && reader_.sql_name(*name, node->location(), "a query parameter")) {
                route_.key_params[0] = *name;
            }
            return;
        }
        if (!reader_.expect_map(*node, key_what)) return;
        bool bad_entry = false;  // then a missing entity is most likely that one, misspelled
        for (const ConfigEntry& entry : node->entries()) {
            std::optional<std::string> entity = reader_.non_empty(
                entry.value, "the entity of query parameter " + backticks(entry.key));
            if (!entity) {
                bad_entry = true;
                continue;
            }
            auto it = std::find(entity_names.begin(), entity_names.end(), *entity);
            if (it == entity_names.end()) {
                reader_.error(ErrorCode::kConfig,
                              "unknown entity " + backticks(*entity) + " of view " +
                                  backticks(view.name) + " in " + key_what +
                                  unknown_hint(*entity, entity_names),
                              entry.value.location());
                bad_entry = true;
                continue;
            }
            const auto index = static_cast<std::size_t>(it - entity_names.begin());
            if (!route_.key_params[index].empty()) {
                reader_.error(ErrorCode::kConfig,
                              "entity " + backticks(*entity) + " is mapped twice in " + key_what,
                              entry.value.location());
                continue;
            }
            route_.key_params[index] = entry.key;
        }
        for (std::size_t i = 0; i < entity_names.size(); ++i) {
            if (route_.key_params[i].empty() && !bad_entry) {
                reader_.error(ErrorCode::kConfig,
                              key_what + " does not map entity " + backticks(entity_names[i]) +
                                  " of view " + backticks(view.name) +
                                  "; every entity needs a query parameter",
                              node->location());
            }
        }
    }

    // The feature of `view` named by `node`, or -1 (error recorded).
    int feature_of(const ConfigNode& node, const FeatureView& view, const std::string& what) {
        std::optional<std::string> name = reader_.non_empty(node, what);
        if (!name) return -1;
        const int index = view.feature_index(*name);
        if (index >= 0) return index;
        std::vector<std::string> names;
        for (const FeatureSpec& feature : view.features) names.push_back(feature.name);
        reader_.error(ErrorCode::kConfig,
                      "unknown feature " + backticks(*name) + " of view " + backticks(view.name) +
                          " for " + what + unknown_hint(*name, names),
                      node.location());
        return -1;
    }

    // The view's feature as is: its name, type and default.
    static RouteFeature plain(const FeatureView& view, int index, std::string response_name) {
        RouteFeature feature;
        feature.response_name = std::move(response_name);
        feature.feature_index = index;
        feature.type = view.features[static_cast<std::size_t>(index)].type;
        feature.default_value = view.features[static_cast<std::size_t>(index)].default_value;
        return feature;
    }

    void parse_features(const ConfigNode* node, const FeatureView& view, const std::string& what) {
        const std::string features_what = key_of("features", what);
        if (!present(node)) {
            for (std::size_t i = 0; i < view.features.size(); ++i) {
                route_.features.push_back(plain(view, static_cast<int>(i), view.features[i].name));
            }
            return;
        }
        std::map<std::string, SourceLocation> seen;
        auto add = [&](RouteFeature feature, const SourceLocation& location) {
            auto [it, inserted] = seen.emplace(feature.response_name, location);
            if (!inserted) {
                reader_.error(ErrorCode::kConfig,
                              "response name " + backticks(feature.response_name) +
                                  " is used twice in " + features_what + " (first at " +
                                  it->second.to_string() + ")",
                              location);
                return;
            }
            route_.features.push_back(std::move(feature));
        };
        if (node->is_sequence() || node->is_scalar()) {
            std::vector<const ConfigNode*> items;
            if (node->is_scalar()) {
                items.push_back(node);
            } else {
                for (const ConfigNode& item : node->items()) items.push_back(&item);
            }
            for (const ConfigNode* item : items) {
                const int index = feature_of(*item, view, "an item of " + features_what);
                if (index >= 0) add(plain(view, index, item->scalar()), item->location());
            }
            return;
        }
        if (!reader_.expect_map(*node, features_what)) return;
        for (const ConfigEntry& entry : node->entries()) {
            const std::string entry_what = "feature " + backticks(entry.key) + " of " + what;
            if (!reader_.sql_name(entry.key, entry.key_location, "a response name")) continue;
            if (entry.value.is_null()) {  // `clicks_30d:` = as is
                const int index = view.feature_index(entry.key);
                if (index < 0) {
                    feature_of(ConfigNode::scalar(entry.key, entry.key_location), view, entry_what);
                    continue;
                }
                add(plain(view, index, entry.key), entry.key_location);
                continue;
            }
            if (entry.value.is_scalar()) {
                const int index = feature_of(entry.value, view, entry_what);
                if (index >= 0) add(plain(view, index, entry.key), entry.key_location);
                continue;
            }
            MapReader map(reader_, entry.value, entry_what);
            if (!map.is_map()) continue;
            int index = -1;
            if (const ConfigNode* feature = map.optional("feature"); present(feature)) {
                index = feature_of(*feature, view, key_of("feature", entry_what));
            } else {
                index = view.feature_index(entry.key);
                if (index < 0) {
                    feature_of(ConfigNode::scalar(entry.key, entry.key_location), view, entry_what);
                }
            }
            const ConfigNode* type = map.optional("type");
            const ConfigNode* default_node = map.optional("default");
            map.finish();
            if (index < 0) continue;
            RouteFeature feature = plain(view, index, entry.key);
            const DataType stored = feature.type;
            bool ok = true;
            if (present(type)) {
                std::optional<std::string> text =
                    reader_.non_empty(*type, key_of("type", entry_what));
                std::optional<DataType> parsed = text ? parse_type_name(*text) : std::nullopt;
                if (text && !parsed) {
                    reader_.error(ErrorCode::kConfig,
                                  "unknown type " + backticks(*text) + " for " +
                                      key_of("type", entry_what) +
                                      "; expected bool, int32, int64, double, string, bytes, "
                                      "timestamp or date",
                                  type->location());
                    ok = false;
                } else if (parsed && !can_convert_feature(stored, *parsed)) {
                    reader_.error(
                        ErrorCode::kConfig,
                        "cannot serve feature " +
                            backticks(view.features[static_cast<std::size_t>(index)].name) + " (" +
                            std::string(type_name(stored)) + ") as " +
                            std::string(type_name(*parsed)) + " for " + entry_what,
                        type->location());
                    ok = false;
                } else if (parsed) {
                    feature.type = *parsed;
                    feature.convert = *parsed != stored;
                }
            }
            if (!ok) continue;
            if (present(default_node)) {
                std::optional<std::string> text =
                    reader_.scalar(*default_node, key_of("default", entry_what));
                if (!text) continue;
                Result<Value> value = cast_value(Value::string(*text), feature.type);
                if (!value.ok()) {
                    reader_.error(ErrorCode::kConfig,
                                  "invalid " + key_of("default", entry_what) + " for type " +
                                      std::string(type_name(feature.type)) + ": " +
                                      value.error().message(),
                                  default_node->location());
                    continue;
                }
                feature.default_value = std::move(value).value();
            } else if (feature.convert && !feature.default_value.is_null()) {
                Result<Value> value = cast_value(feature.default_value, feature.type);
                feature.default_value = value.ok() ? std::move(value).value() : Value();
            }
            add(std::move(feature), entry.key_location);
        }
    }

    void parse_rate_limit(const ConfigNode& node, const std::string& what) {
        MapReader map(reader_, node, what);
        if (!map.is_map()) return;
        RateLimitSpec limit;
        bool ok = true;
        if (const ConfigNode* rps = map.required("rps")) {
            std::optional<double> value;
            if (rps->is_scalar()) value = parse_double_text(rps->scalar());
            if (!value || !(*value > 0) || *value > 1e9) {
                reader_.error(ErrorCode::kConfig,
                              key_of("rps", what) +
                                  " must be a number of requests per second "
                                  "greater than 0",
                              rps->location());
                ok = false;
            } else {
                limit.rps = *value;
            }
        } else {
            ok = false;
        }
        if (const ConfigNode* burst = map.optional("burst"); present(burst)) {
            if (auto value = reader_.integer(*burst, key_of("burst", what), 1, 1'000'000'000)) {
                limit.burst = *value;
            } else {
                ok = false;
            }
        } else if (ok) {
            limit.burst = std::max<int64_t>(1, static_cast<int64_t>(limit.rps));  // one second
        }
        map.finish();
        if (ok) route_.rate_limit = limit;
    }

    const RouteSpec& spec_;
    const std::vector<FeatureView>& views_;
    ConfigReader reader_;
    std::size_t before_;
    FeatureRoute route_;
};

}  // namespace

bool can_convert_feature(DataType from, DataType to) {
    if (from == to || to == DataType::kString) return true;
    switch (to) {
        case DataType::kFloat64:
            return is_integer(from) || from == DataType::kBool;
        case DataType::kInt64:
            return from == DataType::kInt32 || from == DataType::kBool;
        case DataType::kDate:
            return from == DataType::kTimestamp;
        default:
            return false;
    }
}

std::optional<FeatureRoute> parse_feature_route(const RouteSpec& spec,
                                                const std::vector<FeatureView>& views,
                                                std::vector<Error>& errors) {
    return RouteParser(spec, views, errors).parse();
}

std::vector<FeatureRoute> parse_feature_routes(const Project& project,
                                               const std::vector<FeatureView>& views,
                                               std::vector<Error>& errors) {
    std::vector<FeatureRoute> routes;
    std::map<std::string, SourceLocation> paths;
    for (const RouteSpec& spec : project.routes) {
        std::optional<FeatureRoute> route = parse_feature_route(spec, views, errors);
        if (!route) continue;
        const ConfigNode* path_node = spec.config.find("path");
        auto [it, inserted] = paths.emplace(route->path, path_node->location());
        if (!inserted) {
            errors.emplace_back(ErrorCode::kConfig,
                                "path " + backticks(route->path) + " of route " +
                                    backticks(route->name) + " is already served by the route at " +
                                    it->second.to_string(),
                                path_node->location());
            continue;
        }
        routes.push_back(std::move(*route));
    }
    return routes;
}

}  // namespace millrace
