#include "online/feature_view.h"

#include <fmt/format.h>

#include "common/config_node.h"
#include "common/suggest.h"
#include "project/config_reader.h"
#include "project/project.h"
#include "types/value_cast.h"

namespace millrace {

int FeatureView::feature_index(std::string_view feature) const {
    for (std::size_t i = 0; i < features.size(); ++i) {
        if (features[i].name == feature) return static_cast<int>(i);
    }
    return -1;
}

std::string FeatureView::layout_fingerprint() const {
    std::string out = "v1;";
    for (const EntityKey& key : entities) {
        fmt::format_to(std::back_inserter(out), "k:{}:{};", key.name, type_name(key.type));
    }
    for (const FeatureSpec& feature : features) {
        fmt::format_to(std::back_inserter(out), "f:{}:{};", feature.name, type_name(feature.type));
    }
    return out;
}

namespace {

class FeatureViewParser {
public:
    FeatureViewParser(std::vector<Error>& errors) : reader_(errors) {}

    std::optional<FeatureView> parse(const FeatureViewSpec& spec) {
        const std::size_t errors_before = reader_.error_count();
        FeatureView view;
        view.name = spec.name;
        view.file = spec.file;
        view.location = spec.location;
        what_ = "feature view " + backticks(spec.name);
        MapReader map(reader_, spec.config, what_);
        if (!map.is_map()) return std::nullopt;
        map.allow({"kind", "name"});
        if (const ConfigNode* node = map.optional("description"); present(node)) {
            if (auto text = reader_.scalar(*node, key_of("description", what_))) {
                view.description = *text;
            }
        }
        if (const ConfigNode* node = map.optional("owner"); present(node)) {
            if (auto text = reader_.scalar(*node, key_of("owner", what_))) view.owner = *text;
        }
        if (const ConfigNode* node = map.optional("tags"); present(node)) {
            if (auto list = reader_.scalar_list(*node, key_of("tags", what_))) view.tags = *list;
        }
        const ConfigNode* entities = map.optional("entities");
        if (entities == nullptr) entities = map.optional("entity");
        if (!present(entities)) {
            reader_.error(ErrorCode::kConfig, what_ + " is missing `entities` (its key columns)",
                          map.location());
        } else {
            parse_entities(*entities, view);
        }
        if (const ConfigNode* node = map.required("features")) parse_features(*node, view);
        if (const ConfigNode* node = map.optional("ttl"); present(node)) {
            if (auto ttl = reader_.duration(*node, key_of("ttl", what_))) {
                if (ttl->count() <= 0) {
                    reader_.error(ErrorCode::kConfig,
                                  key_of("ttl", what_) + " must be positive (omit it for no TTL)",
                                  node->location());
                } else {
                    view.ttl = *ttl;
                }
            }
        }
        if (const ConfigNode* node = map.required("source")) parse_source(*node, view);
        if (const ConfigNode* node = map.optional("max_event_time_skew"); present(node)) {
            if (auto skew = reader_.duration(*node, key_of("max_event_time_skew", what_))) {
                view.max_event_time_skew = *skew;
            }
        }
        map.finish();
        check_names(view);
        if (reader_.error_count() != errors_before) return std::nullopt;
        return view;
    }

private:
    std::optional<DataType> type_of(const ConfigNode& node, std::string_view what) {
        std::optional<std::string> text = reader_.non_empty(node, what);
        if (!text) return std::nullopt;
        std::optional<DataType> type = parse_type_name(*text);
        if (!type) {
            std::vector<std::string> names;
            for (DataType t :
                 {DataType::kBool, DataType::kInt32, DataType::kInt64, DataType::kFloat64,
                  DataType::kString, DataType::kBytes, DataType::kTimestamp, DataType::kDate}) {
                names.emplace_back(type_name(t));
            }
            std::string message = fmt::format("{}: unknown type {}", what, backticks(*text));
            if (auto near = closest_match(*text, names)) {
                message += fmt::format("; did you mean {}?", backticks(*near));
            }
            reader_.error(ErrorCode::kConfig, std::move(message), node.location());
        }
        return type;
    }

    void parse_entities(const ConfigNode& node, FeatureView& view) {
        const std::string what = key_of("entities", what_);
        if (node.is_scalar()) {  // `entities: user_id`
            if (reader_.sql_name(node.scalar(), node.location(), "entity key")) {
                view.entities.push_back({node.scalar(), DataType::kInt64});
            }
        } else if (node.is_sequence()) {  // `entities: [user_id, item_id]` (int64 keys)
            for (const ConfigNode& item : node.items()) {
                if (auto name = reader_.non_empty(item, what);
                    name && reader_.sql_name(*name, item.location(), "entity key")) {
                    view.entities.push_back({*name, DataType::kInt64});
                }
            }
        } else if (node.is_map()) {  // `entities: { user_id: int64 }`
            for (const ConfigEntry& entry : node.entries()) {
                if (!reader_.sql_name(entry.key, entry.key_location, "entity key")) continue;
                std::optional<DataType> type = type_of(
                    entry.value, fmt::format("type of entity key {}", backticks(entry.key)));
                if (!type) continue;
                if (*type == DataType::kFloat64 || *type == DataType::kBytes) {
                    reader_.error(ErrorCode::kConfig,
                                  fmt::format("entity key {} cannot be a {} (use an integer, "
                                              "string, date or timestamp)",
                                              backticks(entry.key), type_name(*type)),
                                  entry.value.location());
                    continue;
                }
                view.entities.push_back({entry.key, *type});
            }
        } else {
            reader_.error(ErrorCode::kConfig,
                          what +
                              " must be a map of key columns to types, e.g. "
                              "`{ user_id: int64 }`",
                          node.location());
            return;
        }
        if (view.entities.empty() && node.size() == 0) {
            reader_.error(ErrorCode::kConfig, what + " must name at least one key column",
                          node.location());
        }
    }

    void parse_features(const ConfigNode& node, FeatureView& view) {
        const std::string what = key_of("features", what_);
        if (!node.is_map()) {
            reader_.error(ErrorCode::kConfig,
                          what +
                              " must be a map of feature names to types or "
                              "`{ type, default, description }`",
                          node.location());
            return;
        }
        if (node.entries().empty()) {
            reader_.error(ErrorCode::kConfig, what + " must name at least one feature",
                          node.location());
        }
        for (const ConfigEntry& entry : node.entries()) {
            if (!reader_.sql_name(entry.key, entry.key_location, "feature name")) continue;
            const std::string feature_what = "feature " + backticks(entry.key);
            FeatureSpec feature;
            feature.name = entry.key;
            const ConfigNode* default_node = nullptr;
            if (entry.value.is_scalar()) {
                std::optional<DataType> type = type_of(entry.value, "type of " + feature_what);
                if (!type) continue;
                feature.type = *type;
            } else {
                MapReader map(reader_, entry.value, feature_what);
                if (!map.is_map()) continue;
                const ConfigNode* type_node = map.required("type");
                std::optional<DataType> type;
                if (type_node != nullptr) type = type_of(*type_node, key_of("type", feature_what));
                default_node = map.optional("default");
                if (const ConfigNode* d = map.optional("description"); present(d)) {
                    if (auto text = reader_.scalar(*d, key_of("description", feature_what))) {
                        feature.description = *text;
                    }
                }
                map.finish();
                if (!type) continue;
                feature.type = *type;
            }
            if (present(default_node)) {
                if (auto text = reader_.scalar(*default_node, key_of("default", feature_what))) {
                    Result<Value> value = cast_value(Value::string(*text), feature.type);
                    if (!value.ok()) {
                        reader_.error(ErrorCode::kConfig,
                                      fmt::format("{}: {}", key_of("default", feature_what),
                                                  value.error().message()),
                                      default_node->location());
                        continue;
                    }
                    feature.default_value = std::move(*value);
                }
            }
            view.features.push_back(std::move(feature));
        }
    }

    void parse_source(const ConfigNode& node, FeatureView& view) {
        const std::string what = key_of("source", what_);
        MapReader map(reader_, node, what);
        if (!map.is_map()) return;
        const ConfigNode* lake = map.optional("lake");
        const ConfigNode* pipeline = map.optional("pipeline");
        if (present(lake) == present(pipeline)) {
            reader_.error(ErrorCode::kConfig,
                          what +
                              " must have exactly one of `lake: { table, event_time }` or "
                              "`pipeline: <name>`",
                          map.location());
        } else if (present(lake)) {
            view.source = FeatureSourceKind::kLake;
            MapReader lake_map(reader_, *lake, key_of("lake", what));
            if (const ConfigNode* table = lake_map.required("table")) {
                if (auto text = reader_.non_empty(*table, key_of("table", lake_map.what()));
                    text && reader_.resource_name(*text, table->location(), "a lake table")) {
                    view.lake_table = *text;
                }
            }
            if (const ConfigNode* time = lake_map.optional("event_time"); present(time)) {
                if (auto text = reader_.non_empty(*time, key_of("event_time", lake_map.what()));
                    text && reader_.sql_name(*text, time->location(), "event time column")) {
                    view.event_time = *text;
                }
            }
            lake_map.finish();
        } else {
            view.source = FeatureSourceKind::kPipeline;
            if (auto text = reader_.non_empty(*pipeline, key_of("pipeline", what));
                text && reader_.resource_name(*text, pipeline->location(), "a pipeline")) {
                view.pipeline = *text;
            }
        }
        map.finish();
    }

    void check_names(const FeatureView& view) {
        std::vector<std::string> seen;
        for (const EntityKey& key : view.entities) seen.push_back(key.name);
        for (const FeatureSpec& feature : view.features) {
            for (const std::string& name : seen) {
                if (name == feature.name) {
                    reader_.error(ErrorCode::kConfig,
                                  fmt::format("{}: {} is both an entity key and a feature", what_,
                                              backticks(name)),
                                  view.location);
                }
            }
        }
    }

    ConfigReader reader_;
    std::string what_;
};

}  // namespace

std::optional<FeatureView> parse_feature_view(const FeatureViewSpec& spec,
                                              std::vector<Error>& errors) {
    return FeatureViewParser(errors).parse(spec);
}

Result<std::vector<FeatureView>> load_feature_views(const Project& project,
                                                    std::vector<Error>* all_errors) {
    std::vector<Error> errors;
    std::vector<FeatureView> views;
    for (const FeatureViewSpec& spec : project.feature_views) {
        if (std::optional<FeatureView> view = parse_feature_view(spec, errors)) {
            views.push_back(std::move(*view));
        }
    }
    // A pipeline-sourced view must name a pipeline of the project.
    std::vector<std::string> pipeline_names;
    for (const PipelineSpec& pipeline : project.pipelines) pipeline_names.push_back(pipeline.name);
    for (const FeatureView& view : views) {
        if (view.source != FeatureSourceKind::kPipeline) continue;
        if (project.find_pipeline(view.pipeline) != nullptr) continue;
        std::string message = fmt::format("feature view {}: source pipeline {} is not defined",
                                          backticks(view.name), backticks(view.pipeline));
        if (auto near = closest_match(view.pipeline, pipeline_names)) {
            message += fmt::format("; did you mean {}?", backticks(*near));
        }
        errors.emplace_back(ErrorCode::kConfig, std::move(message), view.location);
    }
    if (all_errors != nullptr) all_errors->insert(all_errors->end(), errors.begin(), errors.end());
    if (!errors.empty()) return errors.front();
    return views;
}

}  // namespace millrace
