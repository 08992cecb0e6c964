#include "net/http_response_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace millrace {
namespace {

/// Feeds `input` in pieces of `step` bytes the way a socket would, keeping unconsumed bytes.
Status feed(HttpResponseParser& parser, const std::string& input, std::size_t step) {
    std::string pending;
    for (std::size_t at = 0; at < input.size() && !parser.done(); at += step) {
        pending += input.substr(at, step);
        auto used = parser.parse(pending);
        if (!used.ok()) return used.error();
        pending.erase(0, *used);
    }
    return {};
}

TEST(HttpResponseParser, ContentLengthInAnySplit) {
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
        "{\"a\":12345}";
    for (std::size_t step : {1u, 2u, 7u, 1000u}) {
        HttpResponseParser parser(true);
        ASSERT_TRUE(feed(parser, response, step).ok());
        ASSERT_TRUE(parser.done()) << step;
        EXPECT_EQ(parser.status(), 200);
        EXPECT_EQ(parser.body(), "{\"a\":12345}");
        EXPECT_TRUE(parser.keep_alive());
    }
}

TEST(HttpResponseParser, StopsAtTheEndOfTheResponse) {
    HttpResponseParser parser;
    const std::string two = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n";
    auto used = parser.parse(two);
    ASSERT_TRUE(used.ok());
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(*used, 27u);
    EXPECT_EQ(parser.status(), 204);
}

TEST(HttpResponseParser, ChunkedWithExtensionsAndTrailers) {
    const std::string response =
        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
        "5;name=x\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n";
    for (std::size_t step : {1u, 3u, 1000u}) {
        HttpResponseParser parser(true);
        ASSERT_TRUE(feed(parser, response, step).ok());
        ASSERT_TRUE(parser.done());
        EXPECT_EQ(parser.status(), 404);
        EXPECT_EQ(parser.body(), "helloabcdefghijklmnopqrstuvwxyz");
        EXPECT_EQ(parser.body_bytes(), 31u);
    }
}

TEST(HttpResponseParser, BodyNotKeptIsStillCounted) {
    HttpResponseParser parser(false);
    ASSERT_TRUE(feed(parser, "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nabcd", 1000).ok());
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(parser.body(), "");
    EXPECT_EQ(parser.body_bytes(), 4u);
}

TEST(HttpResponseParser, ConnectionCloseAndHttp10) {
    HttpResponseParser parser;
    ASSERT_TRUE(
        feed(parser, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 99).ok());
    EXPECT_TRUE(parser.done());
    EXPECT_FALSE(parser.keep_alive());
    parser.reset();
    ASSERT_TRUE(feed(parser, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 99).ok());
    EXPECT_FALSE(parser.keep_alive());
    parser.reset();
    ASSERT_TRUE(
        feed(parser, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 99)
            .ok());
    EXPECT_TRUE(parser.keep_alive());
}

TEST(HttpResponseParser, ReadUntilClose) {
    HttpResponseParser parser(true);
    ASSERT_TRUE(feed(parser, "HTTP/1.1 200 OK\r\n\r\nsome body", 4).ok());
    EXPECT_FALSE(parser.done());
    ASSERT_TRUE(parser.finish_at_eof().ok());
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(parser.body(), "some body");
    EXPECT_FALSE(parser.keep_alive());
}

TEST(HttpResponseParser, InterimResponsesAreSkipped) {
    HttpResponseParser parser(true);
    ASSERT_TRUE(
        feed(parser,
             "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", 5)
            .ok());
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(parser.status(), 201);
    EXPECT_EQ(parser.body(), "ok");
}

TEST(HttpResponseParser, HeadResponsesHaveNoBody) {
    HttpResponseParser parser;
    parser.reset(/*head_request=*/true);
    ASSERT_TRUE(feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", 99).ok());
    EXPECT_TRUE(parser.done());
}

TEST(HttpResponseParser, EarlyCloseIsAnError) {
    HttpResponseParser parser;
    ASSERT_TRUE(feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 99).ok());
    EXPECT_EQ(parser.finish_at_eof().error().code(), ErrorCode::kParse);
    parser.reset();
    EXPECT_EQ(parser.finish_at_eof().error().code(), ErrorCode::kParse);
}

TEST(HttpResponseParser, MalformedInputIsAnErrorNotACrash) {
    for (const std::string bad :
         {"SMTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
          "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
          "HTTP/1.1 99 Low\r\n\r\n", "HTTP/1.1\r\n\r\n"}) {
        HttpResponseParser parser;
        EXPECT_EQ(feed(parser, bad, 1000).error().code(), ErrorCode::kParse) << bad;
    }
    HttpResponseParser parser;
    EXPECT_FALSE(feed(parser, "HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'a'), 4096).ok());
}

}  // namespace
}  // namespace millrace
