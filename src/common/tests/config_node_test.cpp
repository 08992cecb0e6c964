#include "common/config_node.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

SourceLocation at(int line, int column) { return SourceLocation{"f.yaml", line, column}; }

TEST(ConfigNode, DefaultIsNull) {
    ConfigNode node;
    EXPECT_TRUE(node.is_null());
    EXPECT_EQ(node.kind_name(), "null");
    EXPECT_EQ(node.size(), 0u);
    EXPECT_EQ(node.find("x"), nullptr);
}

TEST(ConfigNode, BuildsAndFindsEntries) {
    std::vector<ConfigEntry> entries;
    entries.push_back({"name", at(1, 1), ConfigNode::scalar("orders", at(1, 7))});
    entries.push_back(
        {"tags", at(2, 1),
         ConfigNode::sequence({ConfigNode::scalar("a", at(2, 8)), ConfigNode::null(at(2, 11))},
                              at(2, 7))});
    const ConfigNode map = ConfigNode::map(std::move(entries), at(1, 1));
    EXPECT_TRUE(map.is_map());
    EXPECT_EQ(map.kind_name(), "a map");
    EXPECT_EQ(map.size(), 2u);
    ASSERT_NE(map.find("name"), nullptr);
    EXPECT_EQ(map.find("name")->scalar(), "orders");
    EXPECT_EQ(map.find("missing"), nullptr);
    const ConfigNode* tags = map.find("tags");
    ASSERT_NE(tags, nullptr);
    EXPECT_EQ(tags->kind(), ConfigKind::kSequence);
    EXPECT_EQ(tags->items().size(), 2u);
    EXPECT_TRUE(tags->items()[1].is_null());
    EXPECT_EQ(map.entries()[1].key_location.to_string(), "f.yaml:2:1");

    const ConfigNode copy = map;  // deep copy
    EXPECT_EQ(copy.find("tags")->items()[0].scalar(), "a");
    EXPECT_EQ(copy.find("tags")->location().to_string(), "f.yaml:2:7");
}

TEST(ConfigNode, LocatesPositionsInPlainAndQuotedScalars) {
    const ConfigNode plain = ConfigNode::scalar("dubble not null", at(4, 13));
    EXPECT_EQ(plain.location_in_scalar(1, 1).to_string(), "f.yaml:4:13");
    EXPECT_EQ(plain.location_in_scalar(1, 8).to_string(), "f.yaml:4:20");
    EXPECT_EQ(plain.location_in_scalar(0, 0).to_string(), "f.yaml:4:13");  // clamped
    EXPECT_EQ(plain.location_in_scalar(3, 2).to_string(), "f.yaml:4:13");  // folded line

    const ConfigNode quoted =
        ConfigNode::scalar("amount >= 0", at(9, 15), ScalarStyle::kDoubleQuoted, 9, 16);
    EXPECT_EQ(quoted.style(), ScalarStyle::kDoubleQuoted);
    EXPECT_EQ(quoted.location_in_scalar(1, 8).to_string(), "f.yaml:9:23");
}

TEST(ConfigNode, LocatesPositionsInLiteralBlocks) {
    // enriched: |          <- line 10, `|` at column 13
    //     SELECT o.*       <- line 11, text starts at column 5
    //     FROM orders o
    const ConfigNode block =
        ConfigNode::scalar("SELECT o.*\nFROM orders o\n", at(10, 13), ScalarStyle::kLiteral, 11, 5);
    EXPECT_EQ(block.location_in_scalar(1, 1).to_string(), "f.yaml:11:5");
    EXPECT_EQ(block.location_in_scalar(2, 6).to_string(), "f.yaml:12:10");
    const ConfigNode folded =
        ConfigNode::scalar("SELECT 1 FROM t\n", at(10, 13), ScalarStyle::kFolded, 11, 5);
    EXPECT_EQ(folded.location_in_scalar(2, 6).to_string(), "f.yaml:10:13");
}

TEST(ConfigNodeDeathTest, WrongKindAccessIsAProgrammingError) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const ConfigNode scalar = ConfigNode::scalar("x", at(1, 1));
    EXPECT_DEATH((void)scalar.items(), "items\\(\\) on a scalar");
    EXPECT_DEATH((void)scalar.entries(), "entries\\(\\) on a scalar");
    EXPECT_DEATH((void)ConfigNode().scalar(), "scalar\\(\\) on null");
}

TEST(ConfigNode, PresentMeansGivenWithAValue) {
    const ConfigNode value = ConfigNode::scalar("1", at(1, 1));
    const ConfigNode empty = ConfigNode::null(at(1, 1));
    EXPECT_TRUE(present(&value));
    EXPECT_FALSE(present(&empty));
    EXPECT_FALSE(present(nullptr));
}

}  // namespace
}  // namespace millrace
