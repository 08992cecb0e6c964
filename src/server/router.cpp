#include "server/router.h"

#include <algorithm>

#include "common/suggest.h"

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

bool is_parameter(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// "/a/b" for the segments {a, b}; "/" for none.
std::string join_path(const std::vector<std::string_view>& segments) {
    if (segments.empty()) return "/";
    std::string path;
    for (std::string_view segment : segments) {
        path += '/';
        path += segment;
    }
    return path;
}

// True when `path` is already as join_path(split_path(path)) would make it.
bool is_normalized(std::string_view path) {
    if (path.empty() || path.front() != '/') return false;
    if (path.size() > 1 && path.back() == '/') return false;
    return path.find("//") == std::string_view::npos;
}

}  // namespace

struct Router::Route {
    HttpMethod method;
    std::vector<std::string> segments;  // "{name}" = parameter
    std::string name;
    std::string group;
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

void Router::add(HttpMethod method, std::string_view pattern, std::string name, Handler handler,
                 std::string group) {
    auto route = std::make_unique<Route>();
    route->method = method;
    route->group = std::move(group);
    const std::vector<std::string_view> parts = split_path(pattern);
    bool literal = true;
    for (std::string_view part : parts) {
        route->segments.emplace_back(part);
        if (is_parameter(part)) literal = false;
    }
    if (literal) literal_[join_path(parts)].push_back(route.get());
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

void Router::set_guard(Guard guard) { guard_ = std::move(guard); }

void Router::dispatch(HttpRequest& request, HttpResponder responder) const {
    // Fast path: a literal route (YAML feature routes, /metrics), found without splitting.
    {
        auto it = is_normalized(request.path) ? literal_.find(request.path)
                                              : literal_.find(join_path(split_path(request.path)));
        if (it != literal_.end()) {
            const Route* get = nullptr;
            for (const Route* route : it->second) {
                if (route->method == request.method) {
                    request.params.clear();
                    return run(*route, request, std::move(responder));
                }
                if (route->method == HttpMethod::kGet && get == nullptr) get = route;
            }
            // HEAD is GET without the body (RFC 9110 9.3.2): the server drops the body.
            if (request.method == HttpMethod::kHead && get != nullptr) {
                request.params.clear();
                return run(*get, request, std::move(responder));
            }
        }
    }
    const std::vector<std::string_view> parts = split_path(request.path);
    bool path_matched = false;
    const Route* head_as_get = nullptr;  // HEAD answered by a GET route of the path
    std::vector<std::pair<std::string, std::string>> head_params;
    for (const auto& route : routes_) {
        if (route->segments.size() != parts.size()) continue;
        std::vector<std::pair<std::string, std::string>> params;
        bool match = true;
        for (std::size_t i = 0; i < parts.size() && match; ++i) {
            const std::string& segment = route->segments[i];
            if (is_parameter(segment)) {
                params.emplace_back(segment.substr(1, segment.size() - 2),
                                    url_decode(parts[i], false));
            } else {
                match = segment == parts[i];
            }
        }
        if (!match) continue;
        path_matched = true;
        if (route->method != request.method) {
            if (request.method == HttpMethod::kHead && route->method == HttpMethod::kGet &&
                head_as_get == nullptr) {
                head_as_get = route.get();
                head_params = std::move(params);
            }
            continue;
        }
        request.params = std::move(params);
        return run(*route, request, std::move(responder));
    }
    if (head_as_get != nullptr) {
        request.params = std::move(head_params);
        return run(*head_as_get, request, std::move(responder));
    }
    unmatched_->increment();
    if (path_matched) {
        responder(json_error(405, "method " + std::string(enum_name(request.method)) +
                                      " is not allowed on " + request.path));
    } else {
        // A near miss of a literal route (a YAML feature route such as /feature/user) is
        // named; parameterized API routes are documented, not guessed.
        std::vector<std::string> paths;
        paths.reserve(literal_.size());
        for (const auto& [path, routes] : literal_) paths.push_back(path);
        std::sort(paths.begin(), paths.end());
        std::string message = "no route for " + request.path;
        if (std::optional<std::string> near = closest_match(request.path, paths)) {
            message += "; did you mean " + *near + "?";
        }
        responder(json_error(404, message));
    }
}

void Router::run(const Route& route, HttpRequest& request, HttpResponder responder) const {
    const auto start = std::chrono::steady_clock::now();
    const Route* matched = &route;
    HttpResponder observed = [matched, start,
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
    };
    if (guard_ && !route.group.empty()) {
        if (std::optional<HttpResponse> denied = guard_(request, route.group)) {
            return observed(std::move(*denied));
        }
    }
    route.handler(request, std::move(observed));
}

}  // namespace millrace
