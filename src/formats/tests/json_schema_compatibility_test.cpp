#include "formats/json_schema_compatibility.h"

#include <gtest/gtest.h>

#include <iostream>

namespace millrace {
namespace {

/// Whether `reader` reads every document `writer` allows (and the reasons when not).
bool reads(const std::string& reader, const std::string& writer) {
    const std::vector<std::string> reasons = json_schema_incompatibilities(reader, writer);
    for (const std::string& reason : reasons) std::cerr << "  " << reason << "\n";
    return reasons.empty();
}

bool mentions(const std::string& reader, const std::string& writer, const std::string& text) {
    for (const std::string& reason : json_schema_incompatibilities(reader, writer)) {
        if (reason.find(text) != std::string::npos) return true;
    }
    return false;
}

const std::string kOpen = R"({"type":"object","properties":{"id":{"type":"integer"}}})";
const std::string kOpenAdded =
    R"({"type":"object","properties":{"id":{"type":"integer"},"note":{"type":"string"}}})";
const std::string kClosed =
    R"({"type":"object","properties":{"id":{"type":"integer"}},"additionalProperties":false})";
const std::string kClosedAdded =
    R"({"type":"object","properties":{"id":{"type":"integer"},"note":{"type":"string"}},
        "additionalProperties":false})";

TEST(JsonSchemaCompatibility, IdenticalAndTrivialSchemas) {
    EXPECT_TRUE(reads(kOpen, kOpen));
    EXPECT_TRUE(reads("true", kOpen));
    EXPECT_TRUE(reads("{}", kClosed));
    EXPECT_TRUE(reads(kOpen, "false"));
    EXPECT_FALSE(reads(kOpen, "true"));
    EXPECT_FALSE(reads("false", kOpen));
    EXPECT_FALSE(reads("{", kOpen));
}

TEST(JsonSchemaCompatibility, OpenContentModel) {
    // Removing a property from an open model: the reader still takes it as an extra one.
    EXPECT_TRUE(reads(kOpen, kOpenAdded));
    // Adding one: the old writer may have put any value under that name.
    EXPECT_FALSE(reads(kOpenAdded, kOpen));
    EXPECT_TRUE(mentions(kOpenAdded, kOpen, "#/properties/note: added to an open content model"));
    // ... unless the new property takes anything.
    EXPECT_TRUE(reads(R"({"type":"object","properties":{"id":{"type":"integer"},"x":{}}})", kOpen));
}

TEST(JsonSchemaCompatibility, ClosedContentModel) {
    // Adding an optional property to a closed model: the old writer never wrote it.
    EXPECT_TRUE(reads(kClosedAdded, kClosed));
    // Removing one: the closed reader refuses what the old writer wrote.
    EXPECT_FALSE(reads(kClosed, kClosedAdded));
    EXPECT_TRUE(mentions(kClosed, kClosedAdded, "#/properties/note: the writer has this property"));
    // A closed reader of an open writer: the writer may add anything.
    EXPECT_FALSE(reads(kClosed, kOpen));
    EXPECT_TRUE(reads(kOpen, kClosed));
    // A required property added is refused even to a closed model.
    EXPECT_FALSE(reads(R"({"type":"object","properties":{"id":{"type":"integer"},
                           "note":{"type":"string"}},"required":["note"],
                           "additionalProperties":false})",
                       kClosed));
}

TEST(JsonSchemaCompatibility, PartiallyOpenContentModel) {
    // Extra properties must be strings: a new string property reads old data, and old readers
    // read the new property as an extra one.
    const std::string v1 = R"({"type":"object","properties":{"id":{"type":"integer"}},
                               "additionalProperties":{"type":"string"}})";
    const std::string v2 = R"({"type":"object","properties":{"id":{"type":"integer"},
                               "note":{"type":"string"}},"additionalProperties":{"type":"string"}})";
    EXPECT_TRUE(reads(v2, v1));
    EXPECT_TRUE(reads(v1, v2));
    const std::string pattern = R"({"type":"object","properties":{"id":{"type":"integer"}},
        "patternProperties":{"^x_":{"type":"number"}},"additionalProperties":false})";
    const std::string with_x = R"({"type":"object","properties":{"id":{"type":"integer"},
        "x_score":{"type":"integer"}},"additionalProperties":false})";
    EXPECT_TRUE(reads(pattern, with_x));
    EXPECT_FALSE(reads(kClosed, with_x));
}

TEST(JsonSchemaCompatibility, TypesWidenNeverNarrow) {
    const std::string integer = R"({"type":"integer"})";
    const std::string number = R"({"type":"number"})";
    EXPECT_TRUE(reads(number, integer));
    EXPECT_FALSE(reads(integer, number));
    EXPECT_TRUE(reads(R"({"type":["string","null"]})", R"({"type":"string"})"));
    EXPECT_FALSE(reads(R"({"type":"string"})", R"({"type":["string","null"]})"));
    EXPECT_TRUE(mentions(R"({"type":"string"})", R"({"type":["string","null"]})",
                         "#: type \"null\" cannot be read as \"string\""));
    EXPECT_FALSE(reads(R"({"type":"string"})", "{}"));
    // Nested: a property of an array's items.
    const std::string items_number =
        R"({"type":"array","items":{"type":"object","properties":{"v":{"type":"number"}}}})";
    const std::string items_string =
        R"({"type":"array","items":{"type":"object","properties":{"v":{"type":"string"}}}})";
    EXPECT_FALSE(reads(items_number, items_string));
    EXPECT_TRUE(mentions(items_number, items_string, "#/items/properties/v: type \"string\""));
}

TEST(JsonSchemaCompatibility, EnumsAndBounds) {
    EXPECT_TRUE(reads(R"({"enum":["a","b","c"]})", R"({"enum":["a","b"]})"));
    EXPECT_FALSE(reads(R"({"enum":["a"]})", R"({"enum":["a","b"]})"));
    EXPECT_FALSE(reads(R"({"type":"string","enum":["a"]})", R"({"type":"string"})"));
    EXPECT_TRUE(reads(R"({"type":"string","maxLength":10})", R"({"type":"string","maxLength":5})"));
    EXPECT_FALSE(
        reads(R"({"type":"string","maxLength":5})", R"({"type":"string","maxLength":10})"));
    EXPECT_FALSE(reads(R"({"type":"string","maxLength":5})", R"({"type":"string"})"));
    EXPECT_TRUE(reads(R"({"type":"number"})", R"({"type":"number","minimum":0})"));
    EXPECT_FALSE(reads(R"({"type":"number","minimum":1})", R"({"type":"number","minimum":0})"));
    EXPECT_TRUE(
        reads(R"({"type":"integer","multipleOf":2})", R"({"type":"integer","multipleOf":4})"));
    EXPECT_FALSE(reads(R"({"type":"string","pattern":"^a"})", R"({"type":"string"})"));
}

TEST(JsonSchemaCompatibility, CombinatorsAreComparedAsWritten) {
    const std::string one = R"({"anyOf":[{"type":"string"},{"type":"null"}]})";
    const std::string other = R"({"anyOf":[{"type":"string"},{"type":"integer"}]})";
    EXPECT_TRUE(reads(one, one));
    EXPECT_FALSE(reads(one, other));
    EXPECT_TRUE(mentions(one, other, "`anyOf` differs"));
    EXPECT_FALSE(reads(R"({"$ref":"#/definitions/a"})", R"({"$ref":"#/definitions/b"})"));
}

TEST(JsonSchemaCompatibility, DeepNestingIsBounded) {
    auto deep = [](const std::string& leaf) {
        std::string out;
        for (int i = 0; i < 200; ++i) out += R"({"type":"array","items":)";
        out += leaf;
        for (int i = 0; i < 200; ++i) out += "}";
        return out;
    };
    EXPECT_TRUE(reads(deep("{}"), deep("{}")));
    EXPECT_TRUE(
        mentions(deep(R"({"type":"number"})"), deep(R"({"type":"integer"})"), "nested too deeply"));
}

}  // namespace
}  // namespace millrace
