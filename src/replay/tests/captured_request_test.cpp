#include "replay/captured_request.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(CapturedRequest, ParsesTheCapturedFormat) {
    auto request = parse_captured_request(
        R"({"ts_us": 1732406400000000, "method": "POST", "target": "/v1/features/u/batch",
            "body": "{\"keys\":[1,2]}", "status": 200, "response": "{\"rows\":[]}",
            "latency_us": 180})");
    ASSERT_TRUE(request.ok()) << request.error().to_string();
    EXPECT_EQ(request->ts_us, 1732406400000000);
    EXPECT_EQ(request->method, "POST");
    EXPECT_EQ(request->target, "/v1/features/u/batch");
    EXPECT_EQ(request->body, "{\"keys\":[1,2]}");
    EXPECT_EQ(request->status, 200);
    EXPECT_EQ(request->response, "{\"rows\":[]}");
    EXPECT_EQ(request->latency_us, 180);
}

TEST(CapturedRequest, OptionalFieldsDefault) {
    auto request = parse_captured_request(R"({"method":"GET","target":"/healthz","status":200})");
    ASSERT_TRUE(request.ok());
    EXPECT_EQ(request->body, "");
    EXPECT_EQ(request->response, "");
    EXPECT_EQ(request->ts_us, 0);
}

TEST(CapturedRequest, MalformedRecordsAreParseErrors) {
    for (const char* bad : {
             "not json",
             "[1,2]",
             R"({"target":"/x","status":200})",
             R"({"method":"get","target":"/x","status":200})",
             R"({"method":"GET","target":"x","status":200})",
             R"({"method":"GET","target":"/a b","status":200})",
             R"({"method":"GET","target":"/a\r\nX: y","status":200})",
             R"({"method":"GET","target":"/x"})",
             R"({"method":"GET","target":"/x","status":"200"})",
             R"({"method":"GET","target":"/x","status":42})",
             R"({"method":"GET","target":"/x","status":200,"body":5})",
         }) {
        auto request = parse_captured_request(bad);
        ASSERT_FALSE(request.ok()) << bad;
        EXPECT_EQ(request.error().code(), ErrorCode::kParse) << bad;
    }
}

TEST(CapturedRequest, TopicPageKeepsMalformedRecordsAsErrors) {
    auto page = parse_topic_records_page(
        R"({"topic":"t","partition":1,"start_offset":0,"end_offset":3,"next_offset":3,"records":[
            {"offset":0,"timestamp":1,"key":null,"value":{"method":"GET","target":"/a","status":200}},
            {"offset":1,"timestamp":1,"key":"k","value":"not an object"},
            {"offset":2,"timestamp":1,"key":null,"value":{"method":"GET","status":200}}]})");
    ASSERT_TRUE(page.ok()) << page.error().to_string();
    EXPECT_EQ(page->partition, 1);
    EXPECT_EQ(page->next_offset, 3);
    ASSERT_EQ(page->records.size(), 3u);
    ASSERT_TRUE(page->records[0].request.has_value());
    EXPECT_EQ(page->records[0].request->target, "/a");
    EXPECT_FALSE(page->records[1].request.has_value());
    EXPECT_FALSE(page->records[1].error.empty());
    EXPECT_FALSE(page->records[2].request.has_value());
    EXPECT_EQ(page->records[2].offset, 2);
}

TEST(CapturedRequest, BadPagesAndDescriptions) {
    EXPECT_FALSE(parse_topic_records_page("{\"error\":\"unknown topic\"}").ok());
    EXPECT_FALSE(parse_topic_records_page("<html>").ok());
    auto ranges = parse_topic_description(
        R"({"name":"t","config":{},"partitions":[{"partition":0,"start_offset":2,"end_offset":9},
            {"partition":1,"start_offset":0,"end_offset":0}]})");
    ASSERT_TRUE(ranges.ok());
    ASSERT_EQ(ranges->size(), 2u);
    EXPECT_EQ((*ranges)[0].start_offset, 2);
    EXPECT_EQ((*ranges)[0].end_offset, 9);
    EXPECT_FALSE(parse_topic_description("{}").ok());
}

}  // namespace
}  // namespace millrace
