#include "server/record_splitter.h"

#include <gtest/gtest.h>

namespace millrace {

using Records = std::vector<std::string_view>;

TEST(RecordSplitter, NdjsonSkipsBlankLines) {
    auto records = split_json_records("{\"a\":1}\r\n\n  {\"b\":2}  \nnot json\n");
    ASSERT_TRUE(records.ok());
    EXPECT_EQ(*records, (Records{"{\"a\":1}", "{\"b\":2}", "not json"}));
    EXPECT_TRUE(split_json_records(" \n \n")->empty());
}

TEST(RecordSplitter, ArraySplitsAtTopLevelCommasOnly) {
    auto records = split_json_records(
        " [ {\"a\":[1,2],\"s\":\"x,]\\\"y\"} , {\"b\":{\"c\":3}}, 7 ,, \"str\" ] \n");
    ASSERT_TRUE(records.ok());
    EXPECT_EQ(*records, (Records{"{\"a\":[1,2],\"s\":\"x,]\\\"y\"}", "{\"b\":{\"c\":3}}", "7", "",
                                 "\"str\""}));
    EXPECT_TRUE(split_json_records("[]")->empty());
    EXPECT_TRUE(split_json_records("[ ]")->empty());
}

TEST(RecordSplitter, BrokenArraysAreParseErrors) {
    EXPECT_EQ(split_json_records("[{\"a\":1}").error().code(), ErrorCode::kParse);
    EXPECT_EQ(split_json_records("[\"unterminated]").error().code(), ErrorCode::kParse);
    EXPECT_EQ(split_json_records("[1] trailing").error().code(), ErrorCode::kParse);
}

}  // namespace millrace
