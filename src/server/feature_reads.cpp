#include <span>

#include "common/suggest.h"
#include "server/feature_json.h"
#include "server/feature_json_input.h"
#include "server/feature_serving.h"

namespace millrace::serving {

HttpResponse FeatureServing::get_view(HttpRequest& request, const RequestContext& context) const {
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

// One key of a batch: an object of entity values, or a scalar for a single-entity view.
std::optional<std::string> FeatureServing::batch_key(const FeatureView& view,
                                                     simdjson::dom::element element,
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
                return "unknown key " + backticks(field.key) + " of view " + backticks(view.name) +
                       did_you_mean(field.key, names);
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
std::optional<HttpResponse> FeatureServing::select_from_json(const ViewState& view,
                                                             simdjson::dom::object body,
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

std::optional<HttpResponse> FeatureServing::max_age_from_json(
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

HttpResponse FeatureServing::batch(HttpRequest& request, const RequestContext& context) const {
    const ViewState* view = find_view(request.param("view"));
    if (view == nullptr) return unknown_view(request.param("view"));
    thread_local simdjson::dom::parser parser;
    simdjson::dom::object body;
    if (auto error = parse_object_body(
            parser, request.body, "the request body must be a JSON object with `keys`", body)) {
        return *error;
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
    out.reserve(64 + keys.size() * (96 + 24 * selection.size()));
    out += "{\"view\":";
    out += view->name_json;
    out += ",\"results\":[";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const std::size_t start = out.size();
        out += i == 0 ? "{" : ",{";
        append_lookup(out, *view, view->entity_keys, keys[i], lookups[i], selection);
        out += '}';
        if (i == 0) {
            // The first result tells the size of the rest (same view, same features): the body
            // is written once, without regrowing (and copying) it along the way.
            out.reserve(out.size() + (out.size() - start + 8) * (keys.size() - 1) * 5 / 4 + 8);
        }
    }
    out += "]}\n";
    return response;
}

}  // namespace millrace::serving
