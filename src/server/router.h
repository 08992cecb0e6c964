#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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
/// Every route belongs to a group ("ingest", "features", "admin"; "" = open, as /healthz and
/// /metrics are). A guard set with set_guard() sees each matched request with its route's group
/// before the handler does and may answer it instead (bearer-token auth, server/bearer_auth.h):
/// access control lives here, in one place, not in each handler. Its answers are counted in the
/// route's metrics like the handler's.
///
/// Lookup: routes without parameters are found by a hash of the path; the others by a scan in
/// registration order (a literal route registered first wins over a pattern).
///
/// Threads: add() and set_guard() before serving; dispatch() from any number of threads.
class Router {
public:
    using Handler = std::function<void(HttpRequest&, HttpResponder)>;
    /// nullopt lets the request through; a response answers it.
    using Guard =
        std::function<std::optional<HttpResponse>(const HttpRequest&, std::string_view group)>;

    explicit Router(MetricsRegistry& metrics);
    ~Router();

    /// `name` labels the route's metrics ("ingest", "topic_records"); `group` is what the guard
    /// checks ("" = open to everyone).
    void add(HttpMethod method, std::string_view pattern, std::string name, Handler handler,
             std::string group = {});

    void set_guard(Guard guard);

    /// Finds the route, fills request.params and calls its handler (or responds 404/405).
    void dispatch(HttpRequest& request, HttpResponder responder) const;

private:
    struct Route;
    void run(const Route& route, HttpRequest& request, HttpResponder responder) const;

    std::vector<std::unique_ptr<Route>> routes_;
    /// Normalized literal path ("/a/b") -> its routes (one per method).
    std::unordered_map<std::string, std::vector<const Route*>> literal_;
    Guard guard_;
    MetricsRegistry& metrics_;
    Counter* unmatched_;
};

}  // namespace millrace
