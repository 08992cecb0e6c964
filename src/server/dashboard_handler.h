#pragma once

#include <string>
#include <vector>

#include "server/router.h"

namespace millrace {

/// The web dashboard at `/` (docs/dashboard.md): one page of plain JavaScript and CSS compiled
/// into the binary (dashboard_assets.h) that reads the JSON API (/v1/pipelines, /v1/topics,
/// /v1/lake/tables, /v1/features, /v1/jobs, /v1/runs, /v1/checks, /v1/dead-letters,
/// /v1/lineage, /v1/datasets, /metrics) from the browser.
///
///   GET /             index.html
///   GET /ui/{file}    app.js, app.css
///
///   GET /v1/info      {"project", "jobs": bool, "feature_views": bool, "pipelines": [names]}
///                     ("admin" group): which pages have data, so the page asks for no API
///                     this server lacks
///
/// The files are open to everyone (they hold no data); the API calls they make carry the bearer
/// token the user enters, so serving auth applies to the data as to any other client. Responses
/// carry a Content-Security-Policy that allows only this server's own scripts, styles and API.
/// Threads: stateless.
class DashboardHandler {
public:
    /// What this server has, for /v1/info.
    struct Info {
        std::string project;
        bool jobs = false;
        bool feature_views = false;
        std::vector<std::string> pipelines;  // every pipeline of the project, batch ones too
    };

    explicit DashboardHandler(Info info) : info_(std::move(info)) {}
    void add_routes(Router& router);

    /// The response for one file name ("index.html"), 404 when there is none.
    static HttpResponse asset(std::string_view name);

private:
    Info info_;
};

}  // namespace millrace
