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
