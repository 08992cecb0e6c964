#include "server/feature_views_handler.h"

#include <fmt/format.h>

#include "common/json_string.h"
#include "online/feature_view.h"

namespace millrace {

FeatureViewsHandler::FeatureViewsHandler(const std::vector<FeatureView>& views) : views_(views) {}

void FeatureViewsHandler::add_routes(Router& router) {
    router.add(
        HttpMethod::kGet, "/v1/features", "features_list",
        [this](HttpRequest&, HttpResponder respond) { respond(list()); }, "admin");
}

HttpResponse FeatureViewsHandler::list() const {
    std::string out = "{\"feature_views\":[";
    for (std::size_t v = 0; v < views_.size(); ++v) {
        const FeatureView& view = views_[v];
        if (v > 0) out += ",";
        out += "{\"name\":";
        append_json_string(out, view.name);
        out += ",\"description\":";
        append_json_string(out, view.description);
        out += ",\"owner\":";
        append_json_string(out, view.owner);
        out += ",\"entities\":[";
        for (std::size_t i = 0; i < view.entities.size(); ++i) {
            if (i > 0) out += ",";
            out += "{\"name\":";
            append_json_string(out, view.entities[i].name);
            out += ",\"type\":";
            append_json_string(out, type_name(view.entities[i].type));
            out += "}";
        }
        out += "],\"features\":[";
        for (std::size_t i = 0; i < view.features.size(); ++i) {
            if (i > 0) out += ",";
            out += "{\"name\":";
            append_json_string(out, view.features[i].name);
            out += ",\"type\":";
            append_json_string(out, type_name(view.features[i].type));
            out += "}";
        }
        out += "],\"source\":";
        append_json_string(out, view.source == FeatureSourceKind::kLake ? "lake" : "pipeline");
        out += ",\"lake_table\":";
        append_json_string(out, view.lake_table);
        out += ",\"pipeline\":";
        append_json_string(out, view.pipeline);
        out += ",\"ttl_seconds\":";
        out += view.ttl ? fmt::format("{}", view.ttl->count() / 1'000'000) : "null";
        out += "}";
    }
    out += "]}";
    return json_response(std::move(out));
}

}  // namespace millrace
