#include "lake/partition_spec.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(PartitionSpec, FoldersForDaysHoursAndColumns) {
    auto schema = std::make_shared<const Schema>(std::vector<Field>{
        {"ts", DataType::kTimestamp, true},
        {"store", DataType::kString, true},
        {"n", DataType::kInt32, true},
    });
    auto spec = PartitionSpec::parse({"date(ts)", "HOUR( ts ) as h", "store", "n"}, *schema);
    ASSERT_TRUE(spec.ok()) << spec.error().to_string();
    BatchBuilder builder(schema);
    builder.column(0).append_timestamp(1'795'404'600'000'000);  // 2026-11-23T03:30:00Z
    builder.column(1).append_string("a/b=c%");
    builder.column(2).append_int32(-4);
    builder.commit_row();
    builder.column(0).append_timestamp(-1);  // 1969-12-31T23:59:59.999999Z
    builder.column(1).append_null();
    builder.column(2).append_null();
    builder.commit_row();
    const auto folders = spec->folders(builder.finish());
    EXPECT_EQ(folders[0], "day=2026-11-23/h=2026-11-23-03/store=a%2Fb%3Dc%25/n=-4");
    EXPECT_EQ(folders[1],
              "day=1969-12-31/h=1969-12-31-23/store=__HIVE_DEFAULT_PARTITION__/"
              "n=__HIVE_DEFAULT_PARTITION__");
    EXPECT_EQ(
        PartitionSpec::split_folder("day=2026-11-23/n=4"),
        (std::vector<std::pair<std::string, std::string>>{{"day", "2026-11-23"}, {"n", "4"}}));
}

TEST(PartitionSpec, IcebergHashMatchesTheSpecificationsVectors) {
    // Appendix B of the Iceberg table specification.
    EXPECT_EQ(PartitionSpec::iceberg_hash(Value::int32(34)), 2017239379);
    EXPECT_EQ(PartitionSpec::iceberg_hash(Value::int64(34)), 2017239379);
    EXPECT_EQ(PartitionSpec::iceberg_hash(Value::date(17486)), -653330422);     // 2017-11-16
    EXPECT_EQ(PartitionSpec::iceberg_hash(Value::timestamp(1510871468000000)),  // 22:31:08Z
              -2047944441);
    EXPECT_EQ(PartitionSpec::iceberg_hash(Value::string("iceberg")), 1210000089);
    EXPECT_EQ(PartitionSpec::iceberg_hash(Value::bytes(std::string("\x00\x01\x02\x03", 4))),
              -188683207);
}

TEST(PartitionSpec, BucketAndTruncateFoldersAndValues) {
    auto schema = std::make_shared<const Schema>(std::vector<Field>{
        {"id", DataType::kInt32, true},
        {"name", DataType::kString, true},
        {"n", DataType::kInt64, true},
    });
    auto spec =
        PartitionSpec::parse({"bucket(16, id)", "truncate(2, name)", "truncate(10, n)"}, *schema);
    ASSERT_TRUE(spec.ok()) << spec.error().to_string();
    EXPECT_EQ(PartitionSpec::transform(spec->items()[0]), "bucket[16]");
    EXPECT_EQ(PartitionSpec::transform(spec->items()[1]), "truncate[2]");
    BatchBuilder builder(schema);
    builder.column(0).append_int32(34);
    builder.column(1).append_string("\xc3\xa9t\xc3\xa9");  // "été": two code points are "ét"
    builder.column(2).append_int64(-1);
    builder.commit_row();
    const auto folders = spec->folders(builder.finish());
    EXPECT_EQ(folders[0], "id_bucket=3/name_trunc=\xc3\xa9t/n_trunc=-10");  // the spec's example
    auto values = spec->partition_values(folders[0], *schema);
    ASSERT_TRUE(values.ok()) << values.error().to_string();
    EXPECT_EQ((*values)[0], Value::int32(3));
    EXPECT_EQ((*values)[1], Value::string("\xc3\xa9t"));
    EXPECT_EQ((*values)[2], Value::int64(-10));
    EXPECT_EQ(PartitionSpec::parse({"bucket(0, id)"}, *schema).error().code(),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(PartitionSpec::parse({"bucket(x)"}, *schema).error().code(),
              ErrorCode::kInvalidArgument);
}

TEST(PartitionSpec, RejectsWhatItCannotPartitionBy) {
    Schema schema({{"x", DataType::kFloat64, true}, {"d", DataType::kDate, true}});
    EXPECT_EQ(PartitionSpec::parse({"x"}, schema).error().code(), ErrorCode::kTypeMismatch);
    EXPECT_EQ(PartitionSpec::parse({"hour(d)"}, schema).error().code(), ErrorCode::kTypeMismatch);
    EXPECT_EQ(PartitionSpec::parse({"date(d"}, schema).error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(PartitionSpec::parse({"date(d)", "d as day"}, schema).error().code(),
              ErrorCode::kInvalidArgument);
    EXPECT_TRUE(PartitionSpec::parse({"date(d)"}, schema).ok());
}

}  // namespace
}  // namespace millrace
