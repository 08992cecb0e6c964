#include <span>

#include "common/json_string.h"
#include "common/suggest.h"
#include "server/feature_json.h"
#include "server/feature_json_input.h"
#include "server/feature_serving.h"
#include "types/time_codec.h"

namespace millrace::serving {

HttpResponse FeatureServing::feast(HttpRequest& request, const RequestContext& context) const {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::object body;
    if (auto error = parse_object_body(parser, request.body,
                                       "the request body must be a JSON object", body)) {
        return *error;
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
                return json_error(
                    400, "feature reference " + backticks(reference) + " must be \"view:feature\"");
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
                                       " (a route or a feature view)" + did_you_mean(name, names));
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
        store_.lookup(*view->view, std::span<const std::vector<Value>>(lookup.keys.data(), rows),
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
            append_feature_value(out, value != nullptr && !value->is_null() ? *value : fallback);
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

}  // namespace millrace::serving
