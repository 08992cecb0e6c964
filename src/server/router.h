#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics_registry.h"
#include "server/http_message.h"

namespace millrace {

/// Maps (method, path) to handlers. Patterns are paths whose segments are literals or `{name}`
/// parameters: "/v1/topics/{topic}/records". A path that matches no pattern gets 404; one that
/// matches a pattern registered for other methods gets 405. Later subsystems (feature serving,
/// the admin API, YAML-declared routes) add their routes the same way before the server starts.
///
/// Every route counts its requests by status class and observes its latency in the registry:
///   millrace_http_requests_total{route, status="2xx"|"4xx"|"5xx"}
///   millrace_http_request_seconds{route} (histogram)
///
/// Threads: add() before serving; dispatch() from any number of threads.
class Router {
public:
    using Handler = std::function<void(HttpRequest&, HttpResponder)>;

    explicit Router(MetricsRegistry& metrics);
    ~Router();

    /// `name` labels the route's metrics ("ingest", "topic_records").
    void add(HttpMethod method, std::string_view pattern, std::string name, Handler handler);

    /// Finds the route, fills request.params and calls its handler (or responds 404/405).
    void dispatch(HttpRequest& request, HttpResponder responder) const;

private:
    struct Route;
    std::vector<std::unique_ptr<Route>> routes_;
    MetricsRegistry& metrics_;
    Counter* unmatched_;
};

}  // namespace millrace
