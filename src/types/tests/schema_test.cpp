#include "types/schema.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(SchemaTest, ParsesCompactFieldSpecs) {
    auto field = parse_field_spec("amount", "double not null");
    ASSERT_TRUE(field.ok());
    EXPECT_EQ(field->type, DataType::kFloat64);
    EXPECT_FALSE(field->nullable);

    field = parse_field_spec("id", "  BIGINT  ");
    ASSERT_TRUE(field.ok());
    EXPECT_EQ(field->type, DataType::kInt64);
    EXPECT_TRUE(field->nullable);

    field = parse_field_spec("x", "double precision NOT NULL");
    ASSERT_TRUE(field.ok());
    EXPECT_EQ(field->type, DataType::kFloat64);
    EXPECT_FALSE(field->nullable);

    field = parse_field_spec("t", "timestamp null");
    ASSERT_TRUE(field.ok());
    EXPECT_TRUE(field->nullable);
}

TEST(SchemaTest, FieldSpecErrorsPointAtTheWord) {
    auto field = parse_field_spec("amount", "dubble not null");
    ASSERT_FALSE(field.ok());
    EXPECT_EQ(field.error().code(), ErrorCode::kParse);
    EXPECT_EQ(field.error().location().column, 1);

    field = parse_field_spec("amount", "double not nul");
    ASSERT_FALSE(field.ok());
    EXPECT_EQ(field.error().location().column, 12);

    field = parse_field_spec("amount", "double primary");
    ASSERT_FALSE(field.ok());
    EXPECT_EQ(field.error().location().column, 8);

    field = parse_field_spec("amount", "   ");
    ASSERT_FALSE(field.ok());
}

TEST(SchemaTest, ParsesOneLineSchemas) {
    auto schema = parse_schema_spec("order_id: string not null, amount: double, ts: timestamp");
    ASSERT_TRUE(schema.ok()) << schema.error().to_string();
    ASSERT_EQ(schema->size(), 3u);
    EXPECT_EQ(schema->field(0).name, "order_id");
    EXPECT_FALSE(schema->field(0).nullable);
    EXPECT_EQ(schema->field(2).type, DataType::kTimestamp);
    EXPECT_EQ(schema->index_of("amount"), 1u);
    EXPECT_EQ(schema->index_of("nope"), std::nullopt);
    EXPECT_EQ(schema->to_string(), "{ order_id: string not null, amount: double, ts: timestamp }");

    auto bad = parse_schema_spec("a: int, b: strin");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().location().column, 12);

    EXPECT_FALSE(parse_schema_spec("a: int, a: string").ok());
    EXPECT_FALSE(parse_schema_spec("a int").ok());
    EXPECT_FALSE(parse_schema_spec("").ok());
}

TEST(SchemaTest, MakeRejectsDuplicatesAndEmptyNames) {
    EXPECT_FALSE(Schema::make({{"a", DataType::kInt32, true}, {"a", DataType::kInt64, true}}).ok());
    EXPECT_FALSE(Schema::make({{"", DataType::kInt32, true}}).ok());
    EXPECT_TRUE(Schema::make({{"a", DataType::kInt32, true}}).ok());
}

TEST(SchemaTest, TypeNamesRoundTrip) {
    for (DataType type :
         {DataType::kBool, DataType::kInt32, DataType::kInt64, DataType::kFloat64,
          DataType::kString, DataType::kBytes, DataType::kTimestamp, DataType::kDate}) {
        EXPECT_EQ(parse_type_name(type_name(type)), type);
    }
    EXPECT_EQ(parse_type_name("TEXT"), DataType::kString);
    EXPECT_EQ(parse_type_name("nope"), std::nullopt);
}

}  // namespace
}  // namespace millrace
