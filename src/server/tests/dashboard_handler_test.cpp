#include "server/dashboard_handler.h"

#include <gtest/gtest.h>

#include <regex>

#include "server/dashboard_assets.h"

namespace millrace {
namespace {

HttpResponse get(const Router& router, std::string path) {
    HttpRequest request;
    request.path = std::move(path);
    HttpResponse out;
    router.dispatch(request, [&](HttpResponse response) { out = std::move(response); });
    return out;
}

TEST(DashboardHandler, ServesThePageAndItsFilesFromTheBinary) {
    MetricsRegistry metrics;
    Router router(metrics);
    DashboardHandler handler({"shop", true, false, {"orders", "daily"}});
    handler.add_routes(router);
    HttpResponse page = get(router, "/");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
    EXPECT_NE(page.header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
    // Every file the page refers to is compiled in, with its type.
    const std::regex reference("/ui/([a-z_.]+)");
    int references = 0;
    for (auto it = std::sregex_iterator(page.body.begin(), page.body.end(), reference);
         it != std::sregex_iterator(); ++it) {
        ++references;
        HttpResponse file = get(router, "/ui/" + (*it)[1].str());
        EXPECT_EQ(file.status, 200) << (*it)[1].str();
        EXPECT_FALSE(file.body.empty());
        EXPECT_NE(file.content_type, "application/octet-stream") << (*it)[1].str();
    }
    EXPECT_EQ(references, 2);  // app.css, app.js
    // Nothing is fetched from elsewhere (the SVG namespace is a name, not a place).
    for (const DashboardAsset& asset : dashboard_assets()) {
        const std::string body = std::regex_replace(
            std::string(asset.body), std::regex("http://www\\.w3\\.org/2000/svg"), "");
        EXPECT_EQ(body.find("https://"), std::string::npos) << asset.name;
        EXPECT_EQ(body.find("http://"), std::string::npos) << asset.name;
    }
    EXPECT_EQ(get(router, "/ui/missing.js").status, 404);
    EXPECT_EQ(get(router, "/v1/info").body,
              "{\"project\":\"shop\",\"jobs\":true,\"feature_views\":false,"
              "\"pipelines\":[\"orders\",\"daily\"]}\n");
}

TEST(DashboardHandler, TheDataNeedsTheAdminGroupButThePageDoesNot) {
    MetricsRegistry metrics;
    Router router(metrics);
    DashboardHandler handler({"shop", false, false});
    handler.add_routes(router);
    router.set_guard([](const HttpRequest&, std::string_view group) -> std::optional<HttpResponse> {
        if (group == "admin") return json_error(401, "token required");
        return std::nullopt;
    });
    EXPECT_EQ(get(router, "/").status, 200);
    EXPECT_EQ(get(router, "/ui/app.js").status, 200);
    EXPECT_EQ(get(router, "/v1/info").status, 401);
}

}  // namespace
}  // namespace millrace
