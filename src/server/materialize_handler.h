#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/router.h"

namespace millrace {

class Clock;
class LineageRecorder;
class OnlineStore;
struct Project;

/// `POST /v1/admin/materialize/{view}?since_us=<micros>`: loads a lake-sourced feature view into
/// the online store this server holds (what `millrace materialize` asks for when the store is
/// locked by the server). The loading runs on its own thread; the answer (200 with the
/// materialize report as JSON, see pipeline/materialize.h) comes when it is done. 404 for an
/// unknown view, 400 for a view not filled from the lake or a bad since_us, 409 while the same
/// view is being materialized.
class MaterializeHandler {
public:
    /// `project`, `store`, `clock` (the rows' write time; the system clock when null) and
    /// `lineage` (where each load's run events are recorded; none when null) must outlive the
    /// handler.
    MaterializeHandler(const Project& project, OnlineStore& store, const Clock* clock = nullptr,
                       LineageRecorder* lineage = nullptr);
    ~MaterializeHandler();  // waits for running loads
    void add_routes(Router& router);

private:
    void handle(HttpRequest& request, HttpResponder responder);

    const Project& project_;
    OnlineStore& store_;
    const Clock* clock_;
    LineageRecorder* lineage_;
    std::mutex mutex_;
    std::set<std::string> running_;
    std::vector<std::thread> threads_;
};

}  // namespace millrace
