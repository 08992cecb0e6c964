#include "server/http_message.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace millrace {
namespace {

TEST(HttpMessage, ErrorBodiesCarryTheMessageOnce) {
    EXPECT_EQ(json_error(500, "disk full").body, "{\"error\":\"disk full\"}\n");
    // A message that went through Error::to_string() upstream loses its "error: " prefix.
    Error full(ErrorCode::kIo, "writing /data/log/x.log: No space left on device");
    EXPECT_EQ(json_error(500, full.to_string()).body,
              "{\"error\":\"writing /data/log/x.log: No space left on device\"}\n");
    EXPECT_EQ(json_error(500, full).body,
              "{\"error\":\"writing /data/log/x.log: No space left on device\"}\n");
    EXPECT_EQ(json_error_for(full).status, 500);
    EXPECT_EQ(json_error_for(full).body, json_error(500, full).body);
    // With a location: kept, the "error: " dropped.
    Error located(ErrorCode::kConfig, "bad value", SourceLocation{"jobs/a.yaml", 3, 7});
    EXPECT_EQ(json_error(400, located.to_string()).body,
              "{\"error\":\"jobs/a.yaml:3:7: bad value\"}\n");
    EXPECT_EQ(json_error_for(located).body, "{\"error\":\"jobs/a.yaml:3:7: bad value\"}\n");
    // "error: " inside a sentence stays.
    EXPECT_EQ(json_error(400, "the parser said: error: x").body,
              "{\"error\":\"the parser said: error: x\"}\n");
}

TEST(HttpMessage, JsonMediaTypes) {
    EXPECT_TRUE(is_json_media_type("application/json"));
    EXPECT_TRUE(is_json_media_type("Application/X-NDJSON; charset=utf-8"));
    EXPECT_TRUE(is_json_media_type("application/jsonl "));
    EXPECT_FALSE(is_json_media_type("text/csv"));
    EXPECT_FALSE(is_json_media_type(""));
    EXPECT_FALSE(is_json_media_type("application/json-seq"));
    EXPECT_TRUE(is_json_media_type("application/json-seq", true));
}

}  // namespace
}  // namespace millrace
