#include "server/materialize_handler.h"

#include <fmt/format.h>

#include <charconv>

#include "common/suggest.h"
#include "connectors/feature_writer.h"
#include "lineage/lineage_recorder.h"
#include "online/online_store.h"
#include "pipeline/materialize.h"

namespace millrace {

MaterializeHandler::MaterializeHandler(const Project& project, OnlineStore& store,
                                       const Clock* clock, LineageRecorder* lineage)
    : project_(project), store_(store), clock_(clock), lineage_(lineage) {}

MaterializeHandler::~MaterializeHandler() {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        threads.swap(threads_);
    }
    for (std::thread& thread : threads) {
        if (thread.joinable()) thread.join();
    }
}

void MaterializeHandler::add_routes(Router& router) {
    router.add(
        HttpMethod::kPost, "/v1/admin/materialize/{view}", "admin_materialize",
        [this](HttpRequest& request, HttpResponder responder) {
            handle(request, std::move(responder));
        },
        "admin");
}

void MaterializeHandler::handle(HttpRequest& request, HttpResponder responder) {
    const std::string& name = request.param("view");
    const FeatureView* view = store_.find_view(name);
    if (view == nullptr) {
        std::vector<std::string> names;
        for (const FeatureView& v : store_.views()) names.push_back(v.name);
        std::string message = fmt::format("unknown feature view `{}`", name);
        if (auto near = closest_match(name, names)) {
            message += fmt::format("; did you mean `{}`?", *near);
        }
        return responder(json_error(404, message));
    }
    MaterializeOptions options;
    if (const std::string* since = request.query_param("since_us")) {
        int64_t value = 0;
        auto [end, ec] = std::from_chars(since->data(), since->data() + since->size(), value);
        if (ec != std::errc() || end != since->data() + since->size()) {
            return responder(json_error(
                400,
                fmt::format("since_us must be microseconds since the epoch, got `{}`", *since)));
        }
        options.since_us = value;
    }
    {
        std::lock_guard lock(mutex_);
        if (!running_.insert(name).second) {
            return responder(json_error(
                409, fmt::format("feature view `{}` is being materialized already", name)));
        }
        threads_.emplace_back([this, view, options, name, responder = std::move(responder)] {
            std::unique_ptr<FeatureWriter> writer = make_store_feature_writer(store_, clock_);
            const std::string run_id = lineage_ ? lineage_->start_materialize(*view) : "";
            Result<MaterializeReport> report = materialize_view(project_, *view, *writer, options);
            if (lineage_) {
                lineage_->finish_materialize(*view, run_id, report.ok() ? &*report : nullptr,
                                             report.ok() ? "" : report.error().to_string());
            }
            {
                std::lock_guard lock(mutex_);
                running_.erase(name);
            }
            if (!report.ok()) return responder(json_error_for(report.error()));
            responder(json_response(materialize_report_json(*report)));
        });
    }
}

}  // namespace millrace
