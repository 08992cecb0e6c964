#include "net/http_url.h"

#include <gtest/gtest.h>

#include "net/http_client.h"

namespace millrace {
namespace {

TEST(HttpUrl, HostPortAndPrefix) {
    auto url = HttpUrl::parse("http://127.0.0.1:8080");
    ASSERT_TRUE(url.ok());
    EXPECT_EQ(url->host, "127.0.0.1");
    EXPECT_EQ(url->port, 8080);
    EXPECT_EQ(url->path_prefix, "");
    EXPECT_EQ(url->authority(), "127.0.0.1:8080");
    url = HttpUrl::parse("http://staging/api/");
    ASSERT_TRUE(url.ok());
    EXPECT_EQ(url->host, "staging");
    EXPECT_EQ(url->port, 80);
    EXPECT_EQ(url->path_prefix, "/api");
    url = HttpUrl::parse("http://[::1]:9000/");
    ASSERT_TRUE(url.ok());
    EXPECT_EQ(url->host, "::1");
    EXPECT_EQ(url->port, 9000);
}

TEST(HttpUrl, RejectsWhatItCannotServe) {
    for (const char* bad :
         {"https://x", "ftp://x", "127.0.0.1:80", "http://", "http://:80", "http://x:0",
          "http://x:70000", "http://x:8a", "http://u@x", "http://x/p?q=1", "http://[::1"}) {
        auto url = HttpUrl::parse(bad);
        ASSERT_FALSE(url.ok()) << bad;
        EXPECT_EQ(url.error().code(), ErrorCode::kInvalidArgument);
    }
}

TEST(HttpEndpoint, SplitsServerAndTarget) {
    auto endpoint = HttpEndpoint::parse("http://hooks.local:9000/a/b?x=1&y=2#frag");
    ASSERT_TRUE(endpoint.ok());
    EXPECT_EQ(endpoint->server.authority(), "hooks.local:9000");
    EXPECT_EQ(endpoint->server.path_prefix, "");
    EXPECT_EQ(endpoint->target, "/a/b?x=1&y=2");
    endpoint = HttpEndpoint::parse("http://[::1]:81");
    ASSERT_TRUE(endpoint.ok());
    EXPECT_EQ(endpoint->server.host, "::1");
    EXPECT_EQ(endpoint->target, "/");
    endpoint = HttpEndpoint::parse("http://h?q=1");
    ASSERT_TRUE(endpoint.ok());
    EXPECT_EQ(endpoint->target, "/?q=1");
    for (const char* bad : {"https://h/x", "h/x", "http:///x", "http://h:0/x"}) {
        EXPECT_FALSE(HttpEndpoint::parse(bad).ok()) << bad;
    }
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(HttpClient, UnreachableServerIsUnavailable) {
    auto url = HttpUrl::parse("http://127.0.0.1:1");
    ASSERT_TRUE(url.ok());
    HttpClient client(*url, std::chrono::milliseconds(500));
    auto response = client.request("POST", "/v1/x", "{}");
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace millrace
