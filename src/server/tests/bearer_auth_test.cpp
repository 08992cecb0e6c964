#include "server/bearer_auth.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

BearerAuth make_auth() {
    return BearerAuth(
        {{"reader-token", static_cast<uint8_t>(RouteGroup::kFeatures)}, {"admin-token", 7}});
}

HttpRequest with_authorization(std::string value) {
    HttpRequest request;
    if (!value.empty()) request.headers.emplace_back("Authorization", std::move(value));
    return request;
}

TEST(BearerAuth, NoTokensNoAuth) {
    BearerAuth auth({});
    EXPECT_FALSE(auth.enabled());
    EXPECT_FALSE(auth.check(HttpRequest{}, "admin").has_value());
}

TEST(BearerAuth, ScopesByGroup) {
    const BearerAuth auth = make_auth();
    EXPECT_FALSE(auth.check(with_authorization("Bearer reader-token"), "features").has_value());
    EXPECT_FALSE(auth.check(with_authorization("bearer  admin-token "), "ingest").has_value());
    auto denied = auth.check(with_authorization("Bearer reader-token"), "ingest");
    ASSERT_TRUE(denied.has_value());
    EXPECT_EQ(denied->status, 403);
    EXPECT_NE(denied->header("WWW-Authenticate").find("insufficient_scope"),
              std::string_view::npos);
    denied = auth.check(with_authorization("Bearer reader-token"), "nonsense");
    ASSERT_TRUE(denied.has_value());
    EXPECT_EQ(denied->status, 403);
}

TEST(BearerAuth, MissingMalformedOrUnknown) {
    const BearerAuth auth = make_auth();
    for (const char* header : {"", "Basic abc", "Bearer", "Bearer ", "Bearer a b", "Token x"}) {
        auto denied = auth.check(with_authorization(header), "features");
        ASSERT_TRUE(denied.has_value()) << header;
        EXPECT_EQ(denied->status, 401) << header;
        EXPECT_TRUE(denied->header("WWW-Authenticate").starts_with("Bearer")) << header;
        EXPECT_TRUE(denied->body.starts_with("{\"error\":")) << header;
    }
    auto denied = auth.check(with_authorization("Bearer reader-tokeN"), "features");
    ASSERT_TRUE(denied.has_value());
    EXPECT_EQ(denied->status, 401);
    EXPECT_NE(denied->header("WWW-Authenticate").find("invalid_token"), std::string_view::npos);
}

}  // namespace
}  // namespace millrace
