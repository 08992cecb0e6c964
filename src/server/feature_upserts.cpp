#include <cctype>

#include "common/json_string.h"
#include "common/suggest.h"
#include "server/feature_json_input.h"
#include "server/feature_serving.h"
#include "server/json_syntax.h"
#include "server/record_splitter.h"

namespace millrace::serving {

HttpResponse FeatureServing::upsert(HttpRequest& request) const {
    const ViewState* view = find_view(request.param("view"));
    if (view == nullptr) return unknown_view(request.param("view"));
    const FeatureView& spec = *view->view;
    if (!is_json_media_type(request.header("Content-Type"))) {
        return json_error(415,
                          "Content-Type must be application/json or application/x-ndjson, got `" +
                              std::string(request.header("Content-Type")) + "`");
    }
    auto split = split_json_records(request.body);
    if (!split.ok()) return json_error(400, split.error().message());
    const std::vector<std::string_view>& rows = *split;
    if (rows.empty()) return json_error(400, "the request has no rows");
    if (rows.size() > kMaxUpsertRows) {
        return json_error(413,
                          "more than " + std::to_string(kMaxUpsertRows) + " rows in one request");
    }
    thread_local simdjson::dom::parser parser;
    std::vector<RecordError> errors;
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
            errors.push_back({index, std::move(*problem)});
        } else {
            ++upserted;
        }
    }
    std::string body = "{\"upserted\":" + std::to_string(upserted) +
                       ",\"unchanged\":" + std::to_string(unchanged.size()) +
                       ",\"rejected\":" + std::to_string(errors.size()) + ",\"unchanged_rows\":[";
    for (std::size_t i = 0; i < unchanged.size(); ++i) {
        if (i > 0) body += ',';
        body += std::to_string(unchanged[i]);
    }
    body += "],\"errors\":";
    append_record_errors(body, errors);
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
std::optional<std::string> FeatureServing::upsert_one(const FeatureView& view,
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

}  // namespace millrace::serving
