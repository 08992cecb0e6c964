#include "server/checks_handler.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

namespace millrace {

namespace {

struct Line {
    std::string at;  // RFC 3339, so text order is time order
    uint64_t run = 0;
    std::string pipeline;
    std::size_t index = 0;  // position in its file: later lines of one run stay later
    std::string json;
};

}  // namespace

ChecksHandler::ChecksHandler(std::string data_dir) : data_dir_(std::move(data_dir)) {}

void ChecksHandler::add_routes(Router& router) {
    router.add(
        HttpMethod::kGet, "/v1/checks", "checks_results",
        [this](HttpRequest& request, HttpResponder respond) { respond(results(request)); },
        "admin");
}

HttpResponse ChecksHandler::results(const HttpRequest& request) const {
    std::string only_pipeline;
    if (const std::string* p = request.query_param("pipeline")) only_pipeline = *p;
    bool failed_only = false;
    if (const std::string* f = request.query_param("failed")) {
        if (*f != "true" && *f != "false") return json_error(400, "failed must be true or false");
        failed_only = *f == "true";
    }
    int64_t limit = 200;
    if (const std::string* text = request.query_param("limit")) {
        auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
        if (ec != std::errc() || ptr != text->data() + text->size() || limit < 1 || limit > 10000) {
            return json_error(400, "limit must be an integer from 1 to 10000");
        }
    }
    std::vector<Line> lines;
    uint64_t skipped = 0;
    const std::filesystem::path dir = std::filesystem::path(data_dir_) / "checks";
    std::error_code error;
    simdjson::dom::parser parser;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
        if (entry.path().extension() != ".ndjson") continue;
        if (!only_pipeline.empty() && entry.path().stem() != only_pipeline) continue;
        std::ifstream in(entry.path());
        std::string text;
        std::size_t index = 0;
        while (std::getline(in, text)) {
            if (text.empty()) continue;
            simdjson::dom::object object;
            if (parser.parse(text).get_object().get(object) != simdjson::SUCCESS) {
                ++skipped;
                continue;
            }
            bool passed = true;
            if (failed_only && object["passed"].get_bool().get(passed) == simdjson::SUCCESS &&
                passed) {
                continue;
            }
            Line line;
            std::string_view at, pipeline;
            if (object["at"].get_string().get(at) == simdjson::SUCCESS) line.at = at;
            if (object["pipeline"].get_string().get(pipeline) == simdjson::SUCCESS) {
                line.pipeline = pipeline;
            }
            if (object["run"].get_uint64().get(line.run) != simdjson::SUCCESS) {
                line.run = 0;  // sorts oldest
            }
            line.index = index++;
            line.json = simdjson::minify(object);
            lines.push_back(std::move(line));
        }
    }
    std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
        return std::tie(b.at, b.pipeline, b.run, b.index) <
               std::tie(a.at, a.pipeline, a.run, a.index);
    });
    if (lines.size() > static_cast<std::size_t>(limit))
        lines.resize(static_cast<std::size_t>(limit));
    std::string out = "{\"results\":[";
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) out += ",";
        out += lines[i].json;
    }
    out += fmt::format("],\"skipped_lines\":{}}}", skipped);
    return json_response(std::move(out));
}

}  // namespace millrace
