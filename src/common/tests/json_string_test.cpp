#include "common/json_string.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(JsonString, PlainTextIsQuoted) {
    EXPECT_EQ(json_string("hello world"), "\"hello world\"");
    EXPECT_EQ(json_string(""), "\"\"");
}

TEST(JsonString, EscapesQuotesBackslashesAndNamedControls) {
    EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_string("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
}

TEST(JsonString, EscapesOtherControlsAsUnicode) {
    EXPECT_EQ(json_string(std::string_view("\x00\x01\x1f", 3)), "\"\\u0000\\u0001\\u001f\"");
    EXPECT_EQ(json_string("\x7f"), "\"\x7f\"");  // DEL needs no escape in JSON
}

TEST(JsonString, KeepsValidUtf8) {
    EXPECT_EQ(json_string("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80"),
              "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"");
}

TEST(JsonString, ReplacesInvalidUtf8) {
    const std::string replacement = "\xef\xbf\xbd";
    EXPECT_EQ(json_string("a\xff"
                          "b"),
              "\"a" + replacement + "b\"");
    EXPECT_EQ(json_string("\xc3"), "\"" + replacement + "\"");                    // truncated
    EXPECT_EQ(json_string("\xc0\xaf"), "\"" + replacement + replacement + "\"");  // overlong
    EXPECT_EQ(json_string("\xed\xa0\x80"),                                        // surrogate
              "\"" + replacement + replacement + replacement + "\"");
}

TEST(JsonString, AppendsToExistingText) {
    std::string out = "{\"k\":";
    append_json_string(out, "v\n");
    EXPECT_EQ(out, "{\"k\":\"v\\n\"");
}

}  // namespace
}  // namespace millrace
