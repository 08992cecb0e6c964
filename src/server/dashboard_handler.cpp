#include "server/dashboard_handler.h"

#include "common/json_string.h"
#include "server/dashboard_assets.h"

namespace millrace {

HttpResponse DashboardHandler::asset(std::string_view name) {
    for (const DashboardAsset& file : dashboard_assets()) {
        if (file.name != name) continue;
        HttpResponse response;
        response.content_type = std::string(file.content_type);
        response.body = std::string(file.body);
        // The files change with the binary: revalidate rather than keep a stale copy.
        response.headers.emplace_back("Cache-Control", "no-cache");
        response.headers.emplace_back("X-Content-Type-Options", "nosniff");
        response.headers.emplace_back(
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
        return response;
    }
    return json_error(404, "no dashboard file `" + std::string(name) + "`");
}

void DashboardHandler::add_routes(Router& router) {
    router.add(
        HttpMethod::kGet, "/v1/info", "info",
        [this](HttpRequest&, HttpResponder respond) {
            std::string out = "{\"project\":";
            append_json_string(out, info_.project);
            out += info_.jobs ? ",\"jobs\":true" : ",\"jobs\":false";
            out += info_.feature_views ? ",\"feature_views\":true" : ",\"feature_views\":false";
            out += ",\"pipelines\":[";
            for (std::size_t i = 0; i < info_.pipelines.size(); ++i) {
                if (i > 0) out += ",";
                append_json_string(out, info_.pipelines[i]);
            }
            out += "]}";
            respond(json_response(std::move(out)));
        },
        "admin");
    router.add(HttpMethod::kGet, "/", "dashboard",
               [](HttpRequest&, HttpResponder respond) { respond(asset("index.html")); });
    router.add(
        HttpMethod::kGet, "/ui/{file}", "dashboard_file",
        [](HttpRequest& request, HttpResponder respond) { respond(asset(request.param("file"))); });
}

}  // namespace millrace
