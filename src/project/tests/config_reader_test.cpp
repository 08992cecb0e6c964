#include "project/config_reader.h"

#include <gtest/gtest.h>

#include "common/yaml_document.h"

namespace millrace {
namespace {

ConfigNode parse(std::string_view text) {
    auto document = YamlDocument::parse(text, "c.yaml");
    EXPECT_TRUE(document.ok()) << document.error().to_string();
    return document.ok() ? document->root() : ConfigNode();
}

// "code@line:column" for each error, the shape tests compare.
std::vector<std::string> summarize(const std::vector<Error>& errors) {
    std::vector<std::string> out;
    for (const Error& error : errors) {
        out.push_back(std::string(error_code_name(error.code())) + "@" +
                      std::to_string(error.location().line) + ":" +
                      std::to_string(error.location().column));
    }
    return out;
}

using Strings = std::vector<std::string>;

TEST(ConfigReader, KindChecks) {
    const ConfigNode root = parse("m: {a: 1}\ns: [1]\nt: text\nn:\n");
    std::vector<Error> errors;
    ConfigReader reader(errors);
    EXPECT_TRUE(reader.expect_map(*root.find("m"), "m"));
    EXPECT_FALSE(reader.expect_map(*root.find("s"), "s"));
    EXPECT_TRUE(reader.expect_sequence(*root.find("s"), "s"));
    EXPECT_FALSE(reader.expect_sequence(*root.find("t"), "t"));
    EXPECT_EQ(reader.scalar(*root.find("t"), "t"), "text");
    EXPECT_EQ(reader.scalar(*root.find("m"), "m"), std::nullopt);
    EXPECT_EQ(reader.scalar(*root.find("n"), "n"), std::nullopt);
    EXPECT_EQ(summarize(errors), (Strings{"config@2:4", "config@3:4", "config@1:4", "config@4:1"}));
    EXPECT_NE(errors[0].message().find("expected a map for s, got a sequence"), std::string::npos);
}

TEST(ConfigReader, NonEmptyAndLists) {
    const ConfigNode root = parse("e: ''\none: x\nmany: [a, b]\nbad: [a, '', {k: v}]\nm: {}\n");
    std::vector<Error> errors;
    ConfigReader reader(errors);
    EXPECT_EQ(reader.non_empty(*root.find("e"), "e"), std::nullopt);
    EXPECT_EQ(reader.scalar_list(*root.find("one"), "one"), (Strings{"x"}));
    EXPECT_EQ(reader.scalar_list(*root.find("many"), "many"), (Strings{"a", "b"}));
    EXPECT_EQ(reader.scalar_list(*root.find("bad"), "bad"), std::nullopt);
    EXPECT_EQ(reader.scalar_list(*root.find("m"), "m"), std::nullopt);
    EXPECT_EQ(summarize(errors),
              (Strings{"config@1:4", "config@4:10", "config@4:14", "config@5:4"}));
}

TEST(ConfigReader, Integers) {
    const ConfigNode root = parse("a: 8\nb: 0\nc: x8\nd: 99999999999999999999\ne: -3\nf: 8.5\n");
    std::vector<Error> errors;
    ConfigReader reader(errors);
    EXPECT_EQ(reader.integer(*root.find("a"), "a", 1, 64), 8);
    EXPECT_EQ(reader.integer(*root.find("b"), "b", 1, 64), std::nullopt);
    EXPECT_EQ(reader.integer(*root.find("c"), "c", 1, 64), std::nullopt);
    EXPECT_EQ(reader.integer(*root.find("d"), "d", 1, 64), std::nullopt);
    EXPECT_EQ(reader.integer(*root.find("e"), "e", -5, 5), -3);
    EXPECT_EQ(reader.integer(*root.find("f"), "f", 1, 64), std::nullopt);
    EXPECT_EQ(summarize(errors),
              (Strings{"out_of_range@2:4", "config@3:4", "out_of_range@4:4", "config@6:4"}));
}

TEST(ConfigReader, DurationsPointInsideTheScalar) {
    const ConfigNode root = parse("a: 5s\nb: 1m30x\nc: \"10 s\"\n");
    std::vector<Error> errors;
    ConfigReader reader(errors);
    EXPECT_EQ(reader.duration(*root.find("a"), "a"), std::chrono::seconds(5));
    EXPECT_EQ(reader.duration(*root.find("b"), "b"), std::nullopt);
    EXPECT_EQ(reader.duration(*root.find("c"), "c"), std::nullopt);
    EXPECT_EQ(summarize(errors), (Strings{"parse@2:8", "parse@3:7"}));
}

TEST(ConfigReader, ChoicesSuggest) {
    const ConfigNode root = parse("a: streaming\nb: bach\nc: zzz\n");
    std::vector<Error> errors;
    ConfigReader reader(errors);
    enum class Mode { kBatch, kStreaming };
    auto read = [&](const char* key) {
        return reader.choice<Mode>(*root.find(key), key,
                                   {{"batch", Mode::kBatch}, {"streaming", Mode::kStreaming}});
    };
    EXPECT_EQ(read("a"), Mode::kStreaming);
    EXPECT_EQ(read("b"), std::nullopt);
    EXPECT_EQ(read("c"), std::nullopt);
    EXPECT_EQ(summarize(errors), (Strings{"config@2:4", "config@3:4"}));
    EXPECT_NE(errors[0].message().find("did you mean `batch`?"), std::string::npos);
    EXPECT_EQ(errors[1].message().find("did you mean"), std::string::npos);
}

TEST(ConfigReader, Names) {
    std::vector<Error> errors;
    ConfigReader reader(errors);
    const SourceLocation at{"c.yaml", 1, 1};
    EXPECT_TRUE(reader.sql_name("orders_2", at, "a source"));
    EXPECT_TRUE(reader.sql_name("_x", at, "a source"));
    EXPECT_FALSE(reader.sql_name("2orders", at, "a source"));
    EXPECT_FALSE(reader.sql_name("bad-name", at, "a source"));
    EXPECT_FALSE(reader.sql_name("", at, "a source"));
    EXPECT_FALSE(reader.sql_name(std::string(129, 'a'), at, "a source"));
    EXPECT_TRUE(reader.resource_name("food-delivery.v2", at, "a pipeline"));
    EXPECT_FALSE(reader.resource_name("../etc", at, "a pipeline"));
    EXPECT_FALSE(reader.resource_name("a/b", at, "a pipeline"));
    EXPECT_FALSE(reader.resource_name("-x", at, "a pipeline"));
    EXPECT_EQ(errors.size(), 7u);
}

TEST(MapReader, ReportsMissingAndUnknownKeys) {
    const ConfigNode root = parse("name: x\nsorces: {}\nmode:\nzzz: 1\n");
    std::vector<Error> errors;
    ConfigReader reader(errors);
    MapReader map(reader, root, "pipeline `x`");
    ASSERT_TRUE(map.is_map());
    EXPECT_NE(map.required("name"), nullptr);
    EXPECT_EQ(map.required("sources"), nullptr);  // missing
    EXPECT_EQ(map.required("mode"), nullptr);     // null
    EXPECT_NE(map.optional("mode"), nullptr);     // optional returns the null node
    EXPECT_EQ(map.optional("views"), nullptr);
    map.allow({"sinks"});
    EXPECT_EQ(map.key_location("zzz").to_string(), "c.yaml:4:1");
    EXPECT_EQ(map.key_location("absent").to_string(), "c.yaml:1:1");
    map.finish();
    EXPECT_EQ(summarize(errors), (Strings{"config@1:1", "config@3:1", "config@2:1", "config@4:1"}));
    EXPECT_NE(errors[2].message().find("unknown key `sorces` in pipeline `x`; did you mean "
                                       "`sources`?"),
              std::string::npos);
    EXPECT_NE(errors[3].message().find("(expected `name`, `sources`, `mode`, `views` or "
                                       "`sinks`)"),
              std::string::npos)
        << errors[3].message();
}

TEST(MapReader, NotAMap) {
    const ConfigNode root = parse("[1, 2]");
    std::vector<Error> errors;
    ConfigReader reader(errors);
    MapReader map(reader, root, "the project file");
    EXPECT_FALSE(map.is_map());
    EXPECT_EQ(map.optional("name"), nullptr);
    EXPECT_EQ(map.required("name"), nullptr);  // no second error
    map.finish();
    EXPECT_EQ(summarize(errors), (Strings{"config@1:1"}));
}

}  // namespace
}  // namespace millrace
