#include "server/router.h"

namespace millrace {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
        if (end > start) parts.push_back(path.substr(start, end - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return parts;
}

}  // namespace

struct Router::Route {
    HttpMethod method;
    std::vector<std::string> segments;  // "{name}" = parameter
    std::string name;
    Handler handler;
    Counter* ok;
    Counter* client_error;
    Counter* server_error;
    Histogram* latency;
};

Router::Router(MetricsRegistry& metrics)
    : metrics_(metrics),
      unmatched_(&metrics.counter("millrace_http_unmatched_requests_total",
                                  "Requests whose path or method matched no route.")) {}

Router::~Router() = default;

void Router::add(HttpMethod method, std::string_view pattern, std::string name, Handler handler) {
    auto route = std::make_unique<Route>();
    route->method = method;
    for (std::string_view part : split_path(pattern)) route->segments.emplace_back(part);
    const char* help = "HTTP requests by route and status class.";
    route->ok = &metrics_.counter("millrace_http_requests_total", help,
                                  {{"route", name}, {"status", "2xx"}});
    route->client_error = &metrics_.counter("millrace_http_requests_total", help,
                                            {{"route", name}, {"status", "4xx"}});
    route->server_error = &metrics_.counter("millrace_http_requests_total", help,
                                            {{"route", name}, {"status", "5xx"}});
    route->latency = &metrics_.histogram("millrace_http_request_seconds",
                                         "HTTP request latency by route, seconds.",
                                         {{"route", name}}, exponential_buckets(0.0001, 2, 16));
    route->name = std::move(name);
    route->handler = std::move(handler);
    routes_.push_back(std::move(route));
}

void Router::dispatch(HttpRequest& request, HttpResponder responder) const {
    const std::vector<std::string_view> parts = split_path(request.path);
    bool path_matched = false;
    for (const auto& route : routes_) {
        if (route->segments.size() != parts.size()) continue;
        std::vector<std::pair<std::string, std::string>> params;
        bool match = true;
        for (std::size_t i = 0; i < parts.size() && match; ++i) {
            const std::string& segment = route->segments[i];
            if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
                params.emplace_back(segment.substr(1, segment.size() - 2),
                                    url_decode(parts[i], false));
            } else {
                match = segment == parts[i];
            }
        }
        if (!match) continue;
        path_matched = true;
        if (route->method != request.method) continue;
        request.params = std::move(params);
        const auto start = std::chrono::steady_clock::now();
        const Route* matched = route.get();
        route->handler(request, [matched, start,
                                 responder = std::move(responder)](HttpResponse response) {
            const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
            matched->latency->observe(elapsed.count());
            if (response.status >= 500) {
                matched->server_error->increment();
            } else if (response.status >= 400) {
                matched->client_error->increment();
            } else {
                matched->ok->increment();
            }
            responder(std::move(response));
        });
        return;
    }
    unmatched_->increment();
    if (path_matched) {
        responder(json_error(405, "method " + std::string(enum_name(request.method)) +
                                      " is not allowed on " + request.path));
    } else {
        responder(json_error(404, "no route for " + request.path));
    }
}

}  // namespace millrace
