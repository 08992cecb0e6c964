#include "common/yaml_document.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace millrace {
namespace {

// Parses or fails the test.
ConfigNode parse_ok(std::string_view text, const YamlLimits& limits = {}) {
    auto document = YamlDocument::parse(text, "p.yaml", limits);
    EXPECT_TRUE(document.ok()) << document.error().to_string();
    if (!document.ok()) return ConfigNode();
    return document->root();
}

Error parse_error(std::string_view text, const YamlLimits& limits = {}) {
    auto document = YamlDocument::parse(text, "p.yaml", limits);
    EXPECT_FALSE(document.ok());
    if (document.ok()) return Error(ErrorCode::kInternal, "parsed");
    return document.error();
}

constexpr std::string_view kPipeline = R"(name: order_metrics
mode: streaming                    # or batch
sources:
  orders:
    topic: orders
    schema: { order_id: string not null, amount: double }
    watermark_delay: 5s
views:
  enriched: |
    SELECT o.*
      FROM orders o
checks:
  orders:
    - not_null: [order_id, amount]
    - expect: "amount >= 0"
      on_fail: 'dead_letter'
sinks:
  - { from: enriched, topic: out }
)";

TEST(YamlDocument, BuildsTreeWithLocations) {
    const ConfigNode root = parse_ok(kPipeline);
    ASSERT_TRUE(root.is_map());
    EXPECT_EQ(root.location().to_string(), "p.yaml:1:1");
    ASSERT_EQ(root.size(), 6u);
    EXPECT_EQ(root.entries()[0].key, "name");
    EXPECT_EQ(root.entries()[5].key, "sinks");  // document order
    EXPECT_EQ(root.entries()[2].key_location.to_string(), "p.yaml:3:1");

    const ConfigNode* mode = root.find("mode");
    ASSERT_NE(mode, nullptr);
    EXPECT_EQ(mode->scalar(), "streaming");
    EXPECT_EQ(mode->location().to_string(), "p.yaml:2:7");

    const ConfigNode* orders = root.find("sources")->find("orders");
    ASSERT_NE(orders, nullptr);
    EXPECT_EQ(orders->location().to_string(), "p.yaml:5:5");
    const ConfigNode* schema = orders->find("schema");
    ASSERT_TRUE(schema->is_map());
    EXPECT_EQ(schema->location().to_string(), "p.yaml:6:13");  // the `{`
    EXPECT_EQ(schema->entries()[0].key_location.to_string(), "p.yaml:6:15");
    const ConfigNode& spec = schema->entries()[0].value;
    EXPECT_EQ(spec.scalar(), "string not null");
    EXPECT_EQ(spec.location().to_string(), "p.yaml:6:25");
    EXPECT_EQ(spec.location_in_scalar(1, 8).to_string(), "p.yaml:6:32");  // `not`
}

TEST(YamlDocument, KnowsScalarStyles) {
    const ConfigNode root = parse_ok(kPipeline);
    const ConfigNode& enriched = *root.find("views")->find("enriched");
    EXPECT_EQ(enriched.style(), ScalarStyle::kLiteral);
    EXPECT_EQ(enriched.scalar(), "SELECT o.*\n  FROM orders o\n");
    EXPECT_EQ(enriched.location().to_string(), "p.yaml:9:13");
    EXPECT_EQ(enriched.location_in_scalar(1, 1).to_string(), "p.yaml:10:5");
    EXPECT_EQ(enriched.location_in_scalar(2, 8).to_string(), "p.yaml:11:12");  // `orders`

    const ConfigNode& checks = *root.find("checks")->find("orders");
    const ConfigNode& expect = *checks.items()[1].find("expect");
    EXPECT_EQ(expect.style(), ScalarStyle::kDoubleQuoted);
    EXPECT_EQ(expect.location().to_string(), "p.yaml:15:15");
    EXPECT_EQ(expect.location_in_scalar(1, 8).to_string(), "p.yaml:15:23");  // `>=`
    EXPECT_EQ(checks.items()[1].find("on_fail")->style(), ScalarStyle::kSingleQuoted);
    EXPECT_EQ(root.find("name")->style(), ScalarStyle::kPlain);

    const ConfigNode folded = parse_ok("k: >-\n   folded\n   text\n");
    EXPECT_EQ(folded.find("k")->style(), ScalarStyle::kFolded);
    EXPECT_EQ(folded.find("k")->scalar(), "folded text");
    EXPECT_EQ(folded.find("k")->location_in_scalar(1, 3).to_string(), "p.yaml:2:6");

    // Leading empty lines belong to the text; the indentation comes from the first real line.
    const ConfigNode blank_first = parse_ok("k: |  # comment\n\n  \n    SELECT 1\n");
    EXPECT_EQ(blank_first.find("k")->scalar(), "\n\nSELECT 1\n");
    EXPECT_EQ(blank_first.find("k")->location_in_scalar(3, 8).to_string(), "p.yaml:4:12");
}

TEST(YamlDocument, NullsAndEmptyValues) {
    const ConfigNode root = parse_ok("a: ~\nb:\nc: null\nd: nullable\n");
    EXPECT_TRUE(root.find("a")->is_null());
    EXPECT_EQ(root.find("a")->location().to_string(), "p.yaml:1:4");
    EXPECT_TRUE(root.find("b")->is_null());
    EXPECT_EQ(root.find("b")->location().to_string(), "p.yaml:2:1");  // its key, not line 3
    EXPECT_TRUE(root.find("c")->is_null());
    EXPECT_EQ(root.find("d")->scalar(), "nullable");
    const ConfigNode quoted = parse_ok("a: 'null'\n");
    EXPECT_EQ(quoted.find("a")->scalar(), "null");
}

TEST(YamlDocument, EmptyDocumentIsNull) {
    EXPECT_TRUE(parse_ok("").is_null());
    EXPECT_TRUE(parse_ok("# only a comment\n").is_null());
    const ConfigNode root = parse_ok("---\n");
    EXPECT_TRUE(root.is_null());
}

TEST(YamlDocument, PropertiesDoNotShiftLocations) {
    const ConfigNode root = parse_ok("a: &x !!str \"v\"\nb: !!map\n  k: 1\nc: *x\n");
    const ConfigNode& a = *root.find("a");
    EXPECT_EQ(a.style(), ScalarStyle::kDoubleQuoted);
    EXPECT_EQ(a.location().to_string(), "p.yaml:1:13");
    EXPECT_EQ(root.find("b")->location().to_string(), "p.yaml:3:3");
    EXPECT_EQ(root.find("c")->scalar(), "v");
}

TEST(YamlDocument, AliasesAreCopies) {
    const ConfigNode root =
        parse_ok("base: &base { format: json, topic: t }\nx: *base\ny: [*base, *base]\n");
    ASSERT_TRUE(root.find("x")->is_map());
    EXPECT_EQ(root.find("x")->find("topic")->scalar(), "t");
    EXPECT_EQ(root.find("y")->items()[1].find("format")->scalar(), "json");
    const ConfigNode keyed = parse_ok("k: &k name\n*k : value\n");
    EXPECT_EQ(keyed.find("name")->scalar(), "value");
}

TEST(YamlDocument, WindowsLineEndingsAndByteOrderMark) {
    const ConfigNode root = parse_ok("\xEF\xBB\xBFname: a\r\nsql: |\r\n  SELECT 1\r\nx: \"q\"\r\n");
    EXPECT_EQ(root.find("name")->location().to_string(), "p.yaml:1:7");
    EXPECT_EQ(root.find("sql")->location_in_scalar(1, 8).to_string(), "p.yaml:3:10");
    EXPECT_EQ(root.find("x")->location().to_string(), "p.yaml:4:4");
}

TEST(YamlDocument, MultibyteTextCountsBytes) {
    const ConfigNode root = parse_ok("name: \xe8\xae\xa2\xe5\x8d\x95\nb: x\n");
    EXPECT_EQ(root.find("name")->scalar(), "\xe8\xae\xa2\xe5\x8d\x95");
    EXPECT_EQ(root.find("b")->location().to_string(), "p.yaml:2:4");
}

TEST(YamlDocument, SyntaxErrorsHaveLocations) {
    Error unclosed = parse_error("a: [1, 2\nb: 3\n");
    EXPECT_EQ(unclosed.code(), ErrorCode::kParse);
    EXPECT_EQ(unclosed.location().file, "p.yaml");
    EXPECT_GT(unclosed.location().line, 0);

    Error bad_indent = parse_error("a:\n  b: 1\n c: 2\n");
    EXPECT_EQ(bad_indent.code(), ErrorCode::kParse);
    EXPECT_EQ(bad_indent.location().line, 3);

    Error undefined_alias = parse_error("a: *nothing\n");
    EXPECT_EQ(undefined_alias.code(), ErrorCode::kParse);
    EXPECT_EQ(undefined_alias.location().to_string(), "p.yaml:1:4");
}

TEST(YamlDocument, DuplicateKeysAreErrors) {
    Error error = parse_error("a: 1\nb:\n  c: 1\n  c: 2\n");
    EXPECT_EQ(error.code(), ErrorCode::kParse);
    EXPECT_EQ(error.location().to_string(), "p.yaml:4:3");
    EXPECT_NE(error.message().find("duplicate key `c`"), std::string::npos);
}

TEST(YamlDocument, KeysMustBeScalars) {
    EXPECT_EQ(parse_error("{[a]: 1}\n").location().to_string(), "p.yaml:1:2");
    EXPECT_EQ(parse_error("? {a: 1}\n: x\n").code(), ErrorCode::kParse);
    EXPECT_EQ(parse_error("~: x\n").code(), ErrorCode::kParse);
    EXPECT_EQ(parse_error("a: &s [1]\n*s : x\n").code(), ErrorCode::kParse);
}

TEST(YamlDocument, OneDocumentPerFile) {
    Error error = parse_error("a: 1\n---\nb: 2\n");
    EXPECT_EQ(error.code(), ErrorCode::kParse);
    EXPECT_EQ(error.location().line, 2);
}

TEST(YamlDocument, RejectsNulAndInvalidUtf8) {
    Error nul = parse_error(std::string_view("a: 1\nb: x\0y\n", 12));
    EXPECT_EQ(nul.code(), ErrorCode::kParse);
    EXPECT_EQ(nul.location().to_string(), "p.yaml:2:5");
    Error latin1 = parse_error("a: 1\nname: caf\xe9\n");
    EXPECT_EQ(latin1.code(), ErrorCode::kParse);
    EXPECT_EQ(latin1.location().to_string(), "p.yaml:2:10");
    EXPECT_EQ(parse_error("\xff\xfe"
                          "a\0:\0",
                          {})
                  .code(),
              ErrorCode::kParse);  // UTF-16
}

TEST(YamlDocument, DeepFlowNestingIsRefusedWithoutRecursing) {
    const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
    Error error = parse_error(deep);
    EXPECT_EQ(error.code(), ErrorCode::kResourceExhausted);
    EXPECT_EQ(error.location().to_string(), "p.yaml:1:65");
    EXPECT_EQ(parse_error("- " + std::string(100'000, '[') + std::string(100'000, ']')).code(),
              ErrorCode::kResourceExhausted);
    // Unclosed, yaml-cpp reads them as the start of a complex key, which is refused early.
    EXPECT_EQ(parse_error(std::string(100'000, '[')).code(), ErrorCode::kParse);
    EXPECT_EQ(parse_error("a: " + std::string(100'000, '{')).code(), ErrorCode::kParse);

    const std::string ok = std::string(64, '[') + std::string(64, ']');
    EXPECT_TRUE(parse_ok(ok).is_sequence());
    const std::string too_deep = std::string(65, '[') + std::string(65, ']');
    EXPECT_EQ(parse_error(too_deep).code(), ErrorCode::kResourceExhausted);
}

TEST(YamlDocument, DeepBlockNestingIsRefused) {
    std::string text;
    for (int i = 0; i < 80; ++i) text += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
    Error error = parse_error(text);
    EXPECT_EQ(error.code(), ErrorCode::kResourceExhausted);
    EXPECT_EQ(error.location().line, 65);
}

TEST(YamlDocument, AliasBombsAreRefused) {
    // The "billion laughs": each level holds nine aliases of the one before.
    std::string text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i < 10; ++i) {
        const std::string previous = "*a" + std::to_string(i - 1);
        text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int k = 0; k < 9; ++k) text += (k ? ", " : "") + previous;
        text += "]\n";
    }
    Error error = parse_error(text);
    EXPECT_EQ(error.code(), ErrorCode::kResourceExhausted);
    EXPECT_NE(error.message().find("nodes"), std::string::npos);
}

TEST(YamlDocument, AliasedLongTextIsBounded) {
    std::string text = "big: &big " + std::string(100'000, 'x') + "\nlist: [";
    for (int i = 0; i < 400; ++i) text += i ? ", *big" : "*big";
    text += "]\n";
    Error error = parse_error(text);
    EXPECT_EQ(error.code(), ErrorCode::kResourceExhausted);
    EXPECT_NE(error.message().find("bytes"), std::string::npos);
}

TEST(YamlDocument, AliasesCannotNestPastTheDepthLimit) {
    std::string text = "a0: &a0 " + std::string(60, '[') + std::string(60, ']') + "\n";
    for (int i = 1; i < 10; ++i) {
        text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" +
                std::to_string(i - 1) + "]\n";
    }
    EXPECT_EQ(parse_error(text).code(), ErrorCode::kResourceExhausted);
}

TEST(YamlDocument, RecursiveAliasIsAnError) {
    Error error = parse_error("a: &x [1, *x]\n");
    EXPECT_EQ(error.code(), ErrorCode::kParse);
    EXPECT_NE(error.message().find("`*x`"), std::string::npos);
    EXPECT_EQ(error.location().to_string(), "p.yaml:1:11");
}

TEST(YamlDocument, RespectsLimits) {
    YamlLimits limits;
    limits.max_bytes = 10;
    EXPECT_EQ(parse_error("key: value\n", limits).code(), ErrorCode::kResourceExhausted);
    limits = YamlLimits{};
    limits.max_nodes = 5;
    EXPECT_TRUE(parse_ok("[1, 2, 3, 4]", limits).is_sequence());
    Error error = parse_error("[1, 2, 3, 4, 5]", limits);
    EXPECT_EQ(error.code(), ErrorCode::kResourceExhausted);
    EXPECT_EQ(error.location().to_string(), "p.yaml:1:14");  // the node over the limit
}

TEST(YamlDocument, LoadReadsFiles) {
    const std::string path =
        testing::TempDir() + "yaml_document_test_" + std::to_string(::getpid()) + ".yaml";
    std::ofstream(path) << "name: x\nbad: [\n";
    auto document = YamlDocument::load(path);
    ASSERT_FALSE(document.ok());
    EXPECT_EQ(document.error().location().file, path);
    std::ofstream(path) << "name: x\n";
    auto good = YamlDocument::load(path);
    ASSERT_TRUE(good.ok()) << good.error().to_string();
    EXPECT_EQ(good->file(), path);
    EXPECT_EQ(good->root().find("name")->location().to_string(), path + ":1:7");
    std::remove(path.c_str());

    auto missing = YamlDocument::load(path);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace millrace
