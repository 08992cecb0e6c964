#include "server/router.h"

#include <gtest/gtest.h>

namespace millrace {

namespace {

HttpResponse dispatch(const Router& router, HttpMethod method, std::string path) {
    HttpRequest request;
    request.method = method;
    request.path = std::move(path);
    HttpResponse out;
    router.dispatch(request, [&](HttpResponse response) { out = std::move(response); });
    return out;
}

}  // namespace

TEST(Router, MatchesLiteralsAndParameters) {
    MetricsRegistry metrics;
    Router router(metrics);
    router.add(HttpMethod::kGet, "/v1/topics/{topic}/records", "records",
               [](HttpRequest& request, HttpResponder respond) {
                   HttpResponse response;
                   response.body = "records of " + request.param("topic");
                   respond(std::move(response));
               });
    router.add(HttpMethod::kGet, "/v1/topics", "list", [](HttpRequest&, HttpResponder respond) {
        respond(HttpResponse{200, "text/plain", "list"});
    });
    EXPECT_EQ(dispatch(router, HttpMethod::kGet, "/v1/topics/a%20b/records").body,
              "records of a b");
    EXPECT_EQ(dispatch(router, HttpMethod::kGet, "/v1/topics/").body, "list");
    EXPECT_EQ(dispatch(router, HttpMethod::kGet, "/v1/nothing").status, 404);
    const HttpResponse wrong = dispatch(router, HttpMethod::kPost, "/v1/topics");
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(wrong.body, "{\"error\":\"method POST is not allowed on /v1/topics\"}\n");
    const std::string text = metrics.render_prometheus();
    EXPECT_NE(text.find("millrace_http_requests_total{route=\"records\",status=\"2xx\"} 1"),
              std::string::npos);
    EXPECT_NE(text.find("millrace_http_request_seconds_count{route=\"list\"} 1"),
              std::string::npos);
    EXPECT_NE(text.find("millrace_http_unmatched_requests_total 2"), std::string::npos);
}

TEST(Router, HeadIsAnsweredByTheGetRouteUnlessThePathHasAHeadRoute) {
    MetricsRegistry metrics;
    Router router(metrics);
    router.add(HttpMethod::kGet, "/v1/features/{view}", "get",
               [](HttpRequest& request, HttpResponder respond) {
                   respond(HttpResponse{200, "text/plain", "view " + request.param("view")});
               });
    router.add(HttpMethod::kGet, "/metrics", "metrics", [](HttpRequest&, HttpResponder respond) {
        respond(HttpResponse{200, "text/plain", "metrics"});
    });
    router.add(HttpMethod::kHead, "/tables/{t}", "exists", [](HttpRequest&, HttpResponder respond) {
        respond(HttpResponse{204, "text/plain", ""});
    });
    router.add(HttpMethod::kGet, "/tables/{t}", "load", [](HttpRequest&, HttpResponder respond) {
        respond(HttpResponse{200, "text/plain", "table"});
    });
    // The body is the GET's: the server sends its length and drops it.
    EXPECT_EQ(dispatch(router, HttpMethod::kHead, "/v1/features/users").body, "view users");
    EXPECT_EQ(dispatch(router, HttpMethod::kHead, "/metrics").body, "metrics");
    EXPECT_EQ(dispatch(router, HttpMethod::kHead, "/tables/t").status, 204);
    EXPECT_EQ(dispatch(router, HttpMethod::kHead, "/nothing").status, 404);
    EXPECT_EQ(dispatch(router, HttpMethod::kPost, "/metrics").status, 405);
}

TEST(Router, GuardSeesTheRouteGroup) {
    MetricsRegistry metrics;
    Router router(metrics);
    auto ok = [](HttpRequest&, HttpResponder respond) { respond(HttpResponse{}); };
    router.add(HttpMethod::kGet, "/open", "open", ok);
    router.add(HttpMethod::kGet, "/admin/{x}", "admin", ok, "admin");
    router.add(HttpMethod::kGet, "/feature/user", "route:user", ok, "features");
    std::vector<std::string> seen;
    router.set_guard(
        [&](const HttpRequest&, std::string_view group) -> std::optional<HttpResponse> {
            seen.emplace_back(group);
            if (group == "admin") return json_error(403, "no");
            return std::nullopt;
        });
    EXPECT_EQ(dispatch(router, HttpMethod::kGet, "/open").status, 200);
    EXPECT_EQ(dispatch(router, HttpMethod::kGet, "/admin/1").status, 403);
    EXPECT_EQ(dispatch(router, HttpMethod::kGet, "/feature/user/").status, 200);
    EXPECT_EQ(seen, (std::vector<std::string>{"admin", "features"}));
    EXPECT_NE(metrics.render_prometheus().find(
                  "millrace_http_requests_total{route=\"admin\",status=\"4xx\"} 1"),
              std::string::npos);
    const HttpResponse missing = dispatch(router, HttpMethod::kGet, "/feature/usr");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.body,
              "{\"error\":\"no route for /feature/usr; did you mean /feature/user?\"}\n");
    EXPECT_EQ(dispatch(router, HttpMethod::kPost, "/feature/user").status, 405);
}

TEST(HttpMessage, HeadersQueryAndDecoding) {
    HttpRequest request;
    request.headers = {{"Content-Type", "application/json"}};
    request.query = {{"offset", "5"}};
    EXPECT_EQ(request.header("content-type"), "application/json");
    EXPECT_EQ(request.header("missing"), "");
    ASSERT_NE(request.query_param("offset"), nullptr);
    EXPECT_EQ(*request.query_param("offset"), "5");
    EXPECT_EQ(request.query_param("max"), nullptr);
    EXPECT_EQ(url_decode("a+b%2Fc%zz%4", true), "a b/c%zz%4");
    EXPECT_EQ(url_decode("a+b", false), "a+b");
    EXPECT_EQ(json_error(400, "bad \"x\"").body, "{\"error\":\"bad \\\"x\\\"\"}\n");
}

}  // namespace millrace
