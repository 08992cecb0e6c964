#include "formats/avro_compatibility.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

std::optional<std::string> why(const char* reader, const char* writer) {
    auto r = AvroSchema::parse(reader);
    auto w = AvroSchema::parse(writer);
    EXPECT_TRUE(r.ok() && w.ok());
    return avro_incompatibility((*r)->root(), (*w)->root());
}

TEST(AvroCompatibility, PrimitivesAndPromotions) {
    EXPECT_FALSE(why(R"("long")", R"("int")"));
    EXPECT_FALSE(why(R"("double")", R"("float")"));
    EXPECT_FALSE(why(R"("bytes")", R"("string")"));
    EXPECT_EQ(why(R"("int")", R"("long")"), "long cannot be read as int");
    EXPECT_TRUE(why(R"("string")", R"("int")"));
}

TEST(AvroCompatibility, RecordFieldsNeedTheWriterOrADefault) {
    const char* v1 = R"({"type":"record","name":"a.Order","fields":[{"name":"id","type":"long"}]})";
    const char* with_default =
        R"({"type":"record","name":"b.Order","fields":[{"name":"id","type":"long"},
            {"name":"note","type":["null","string"],"default":null}]})";
    const char* without =
        R"({"type":"record","name":"Order","fields":[{"name":"id","type":"long"},
            {"name":"amount","type":"double"}]})";
    EXPECT_FALSE(why(with_default, v1));  // names compare unqualified
    EXPECT_FALSE(why(v1, with_default));  // writer fields the reader lacks are skipped
    EXPECT_EQ(why(without, v1), "field `amount` is missing from the writer and has no default");
    EXPECT_TRUE(why(R"({"type":"record","name":"Other","fields":[]})", v1));
}

TEST(AvroCompatibility, UnionsEnumsArraysMapsFixedAndRecursion) {
    EXPECT_FALSE(why(R"(["null","long"])", R"("int")"));
    EXPECT_TRUE(why(R"("long")", R"(["null","long"])"));  // null is not readable as long
    EXPECT_FALSE(why(R"(["null","long","string"])", R"(["null","int"])"));
    EXPECT_FALSE(why(R"({"type":"enum","name":"E","symbols":["A","B","C"]})",
                     R"({"type":"enum","name":"E","symbols":["A","B"]})"));
    EXPECT_EQ(why(R"({"type":"enum","name":"E","symbols":["A"]})",
                  R"({"type":"enum","name":"E","symbols":["A","B"]})"),
              "enum symbol `B` is unknown to the reader");
    EXPECT_FALSE(why(R"({"type":"array","items":"long"})", R"({"type":"array","items":"int"})"));
    EXPECT_TRUE(why(R"({"type":"map","values":"int"})", R"({"type":"map","values":"long"})"));
    EXPECT_TRUE(
        why(R"({"type":"fixed","name":"F","size":4})", R"({"type":"fixed","name":"F","size":8})"));
    const char* list =
        R"({"type":"record","name":"Node","fields":[{"name":"v","type":"long"},
            {"name":"next","type":["null","Node"]}]})";
    EXPECT_FALSE(why(list, list));
}

}  // namespace
}  // namespace millrace
