#include "cli/materialize_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "common/suggest.h"
#include "connectors/feature_writer.h"
#include "lineage/lineage_recorder.h"
#include "net/http_client.h"
#include "online/feature_view.h"
#include "online/online_store.h"
#include "pipeline/materialize.h"
#include "project/duration.h"
#include "project/project_loader.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

void print_error(const Error& error) { std::fprintf(stderr, "%s\n", error.to_string().c_str()); }

Result<std::optional<int64_t>> parse_since(const std::string& text) {
    if (text.empty()) return std::optional<int64_t>();
    if (std::optional<int64_t> at = parse_timestamp(text)) return std::optional<int64_t>(*at);
    if (Result<std::chrono::microseconds> back = parse_duration(text); back.ok()) {
        const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        return std::optional<int64_t>(now - back->count());
    }
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("--since `{}`: expected a timestamp (2026-11-01T00:00:00Z) or a "
                             "duration back from now (7d, 12h)",
                             text));
}

/// Materializes through a running server that holds the store.
int materialize_through_server(const Project& project, const std::vector<const FeatureView*>& views,
                               std::optional<int64_t> since, const Error& lock_error) {
    const std::string url = "http://" + project.listen_http;
    Result<HttpUrl> endpoint = HttpUrl::parse(url);
    if (!endpoint.ok()) {
        print_error(endpoint.error());
        return 1;
    }
    HttpClient client(*endpoint, std::chrono::hours(1));
    std::printf("the online store is held by millrace serve; materializing through %s\n",
                url.c_str());
    for (const FeatureView* view : views) {
        std::string target = fmt::format("/v1/admin/materialize/{}", view->name);
        if (since) target += fmt::format("?since_us={}", *since);
        Result<HttpReply> response = client.request("POST", target);
        if (!response.ok()) {
            std::fprintf(stderr, "error: %s\n  and %s\n", lock_error.message().c_str(),
                         response.error().message().c_str());
            return 1;
        }
        if (response->status != 200) {
            std::fprintf(stderr, "error: %s answered %d: %s\n", url.c_str(), response->status,
                         response->body.c_str());
            return 1;
        }
        Result<MaterializeReport> report = parse_materialize_report(response->body);
        if (!report.ok()) {
            print_error(report.error());
            return 1;
        }
        std::printf("  %s\n", format_materialize_report(*report).c_str());
    }
    return 0;
}

}  // namespace

int run_materialize_command(const MaterializeCommandOptions& options) {
    std::vector<Error> errors;
    Result<Project> loaded = load_project(options.project_dir, &errors);
    if (!loaded.ok() && errors.empty()) errors.push_back(loaded.error());
    if (!errors.empty()) {
        for (const Error& error : errors) print_error(error);
        return 1;
    }
    const Project& project = *loaded;
    Result<std::vector<FeatureView>> all_views = load_feature_views(project, &errors);
    if (!all_views.ok()) {
        for (const Error& error : errors) print_error(error);
        return 1;
    }
    Result<std::optional<int64_t>> since = parse_since(options.since);
    if (!since.ok()) {
        print_error(since.error());
        return 1;
    }

    // The views to load: those named, else every lake-sourced one.
    std::vector<std::string> selected = options.views;
    std::vector<std::string> names;
    for (const FeatureView& view : *all_views) names.push_back(view.name);
    if (selected.empty()) {
        for (const FeatureView& view : *all_views) {
            if (view.source == FeatureSourceKind::kLake) selected.push_back(view.name);
        }
        if (selected.empty()) {
            std::fprintf(
                stderr,
                "error: project `%s` has no feature view with a lake source "
                "(feature views: %s)\n",
                project.name.c_str(),
                names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")).c_str());
            return 1;
        }
    }
    for (const std::string& name : selected) {
        const auto it = std::find(names.begin(), names.end(), name);
        if (it == names.end()) {
            std::string hint;
            if (auto near = closest_match(name, names))
                hint = fmt::format("; did you mean `{}`?", *near);
            std::fprintf(stderr, "error: project `%s` has no feature view `%s`%s\n",
                         project.name.c_str(), name.c_str(), hint.c_str());
            return 1;
        }
    }

    const std::string dir = OnlineStore::directory(project.data_dir);
    OnlineStoreOptions store_options;
    if (options.rebuild) store_options.rebuild_views = selected;
    Result<std::unique_ptr<OnlineStore>> store =
        OnlineStore::open(dir, *all_views, store_options, nullptr);
    if (!store.ok() && store.error().code() == ErrorCode::kCorruption && options.rebuild) {
        // Move the damaged store aside (kept for inspection) and start a new one.
        const std::string aside =
            fmt::format("{}.corrupt-{}", dir,
                        std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
        std::error_code ec;
        std::filesystem::rename(dir, aside, ec);
        if (ec) {
            std::fprintf(stderr, "error: cannot move the corrupt store %s aside: %s\n", dir.c_str(),
                         ec.message().c_str());
            return 1;
        }
        std::printf("moved the corrupt online store to %s; building a new one\n", aside.c_str());
        for (const FeatureView& view : *all_views) {
            if (view.source == FeatureSourceKind::kPipeline) {
                std::printf("  note: feature view %s is filled by pipeline %s; run it again\n",
                            view.name.c_str(), view.pipeline.c_str());
            } else if (std::find(selected.begin(), selected.end(), view.name) == selected.end()) {
                selected.push_back(view.name);
            }
        }
        store = OnlineStore::open(dir, *all_views, store_options, nullptr);
    }
    std::vector<const FeatureView*> views;
    for (const std::string& name : selected) {
        for (const FeatureView& view : *all_views) {
            if (view.name == name) views.push_back(&view);
        }
    }
    if (!store.ok()) {
        if (store.error().code() == ErrorCode::kUnavailable && !options.rebuild) {
            return materialize_through_server(project, views, *since, store.error());
        }
        print_error(store.error());
        if (store.error().code() == ErrorCode::kUnavailable) {
            std::fprintf(stderr, "--rebuild drops rows; stop millrace serve first\n");
        }
        return 1;
    }
    std::unique_ptr<FeatureWriter> writer = make_store_feature_writer(**store);
    std::printf("materializing into %s\n", dir.c_str());
    LineageRecorder lineage(project);
    for (const FeatureView* view : views) {
        MaterializeOptions materialize_options;
        materialize_options.since_us = *since;
        const std::string lineage_run = lineage.start_materialize(*view);
        Result<MaterializeReport> report =
            materialize_view(project, *view, *writer, materialize_options);
        lineage.finish_materialize(*view, lineage_run, report.ok() ? &*report : nullptr,
                                   report.ok() ? "" : report.error().to_string());
        if (!report.ok()) {
            lineage.deliver_once();
            print_error(report.error());
            return 1;
        }
        std::printf("  %s\n", format_materialize_report(*report).c_str());
    }
    lineage.deliver_once();
    return 0;
}

}  // namespace millrace
