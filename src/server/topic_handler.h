#pragma once

#include "log/fwd.h"
#include "server/router.h"

namespace millrace {

/// Topic administration and reading over HTTP:
///
///   GET    /v1/topics                 {"topics": [<describe>, ...]}
///   POST   /v1/topics                 body {"name": "t", "partitions": 4, "fsync": "always",
///                                     "fsync_interval_ms", "segment_bytes", "retention_bytes",
///                                     "retention_ms", "schema", "on_error", "capture"}
///                                     → 201 <describe>, 409 when it exists, 400 when invalid
///   GET    /v1/topics/{t}             <describe> (Topic::describe_json)
///   DELETE /v1/topics/{t}             {"deleted": "t"}
///   GET    /v1/topics/{t}/records?partition=0&offset=0&max=100
///       {"topic", "partition", "start_offset", "end_offset", "next_offset",
///        "records": [{"offset", "timestamp", "key", "value"}]}
///
/// A record's value is embedded as JSON when it is JSON, else as a string. An offset below the
/// partition's start (removed by retention) reads from the start; max is capped at 10000.
/// Threads: any server thread.
class TopicHandler {
public:
    explicit TopicHandler(Log& log);

    void add_routes(Router& router);

private:
    HttpResponse list() const;
    HttpResponse create(const HttpRequest& request);
    HttpResponse describe(const HttpRequest& request) const;
    HttpResponse remove(const HttpRequest& request);
    HttpResponse records(const HttpRequest& request) const;

    Log& log_;
};

/// GET /healthz ({"status": "ok"}) and GET /metrics (Prometheus text format).
void add_status_routes(Router& router, const MetricsRegistry& metrics);

}  // namespace millrace
