#include "server/json_syntax.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(JsonSyntax, NamesLineAndColumn) {
    EXPECT_EQ(describe_json_syntax_error("{\"a\" 1}", "x"),
              "malformed JSON at line 1, column 6: expected `:` after an object key");
    EXPECT_EQ(describe_json_syntax_error("{\"keys\":[1,\n  2,]}", "x"),
              "malformed JSON at line 2, column 5: expected a value (object, array, string, "
              "number, true, false or null)");
    EXPECT_EQ(describe_json_syntax_error("[1, 2", "x"),
              "malformed JSON at line 1, column 6: expected `,` or `]` in the array");
    EXPECT_EQ(describe_json_syntax_error("\"abc", "x"),
              "malformed JSON at line 1, column 5: unterminated string");
    EXPECT_EQ(describe_json_syntax_error("{} {}", "x"),
              "malformed JSON at line 1, column 4: unexpected text after the JSON value");
    EXPECT_EQ(describe_json_syntax_error("-", "x"),
              "malformed JSON at line 1, column 2: invalid number");
    EXPECT_EQ(describe_json_syntax_error(std::string(2000, '['), "x").substr(0, 36),
              "malformed JSON at line 1, column 102");
    // Valid text: the fallback reason at the start.
    EXPECT_EQ(describe_json_syntax_error("[1]", "number out of range"),
              "malformed JSON at line 1, column 1: number out of range");
}

}  // namespace
}  // namespace millrace
