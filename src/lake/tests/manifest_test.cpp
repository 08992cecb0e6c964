#include "lake/manifest.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(Manifest, RoundTripsStatisticsOfEveryTypeExactly) {
    Schema schema({{"b", DataType::kBool, true},
                   {"i", DataType::kInt32, true},
                   {"l", DataType::kInt64, false},
                   {"f", DataType::kFloat64, true},
                   {"s", DataType::kString, true},
                   {"y", DataType::kBytes, true},
                   {"t", DataType::kTimestamp, true},
                   {"d", DataType::kDate, true}});
    Manifest m;
    m.snapshot_id = 7;
    m.parent_id = 6;
    m.operation = "append";
    m.schema_text =
        "b: bool, i: int32, l: int64 not null, f: double, s: string, y: bytes, "
        "t: timestamp, d: date";
    m.partition_by = {"date(t)"};
    m.writers["sink"] = 42;
    DataFile f;
    f.path = "day=2026-11-23/part-1.parquet";
    f.partition = {{"day", "2026-11-23"}};
    f.rows = 10;
    f.bytes = 999;
    auto stats = [&](Value lo, Value hi) {
        ColumnStatistics s;
        s.min = std::move(lo);
        s.max = std::move(hi);
        s.row_count = 10;
        s.null_count = 1;
        return s;
    };
    f.columns = {stats(Value::boolean(false), Value::boolean(true)),
                 stats(Value::int32(-5), Value::int32(5)),
                 stats(Value::int64(-9'007'199'254'740'993), Value::int64(INT64_MAX)),
                 stats(Value::float64(0.1), Value::float64(1e300)),
                 stats(Value::string("\"quoted\" é"), Value::string("z")),
                 stats(Value::bytes(std::string("\x00\xff", 2)), Value::bytes("b")),
                 stats(Value::timestamp(-1), Value::timestamp(1'795'404'600'000'001)),
                 stats(Value::date(-3), Value::date(20000))};
    m.files = {f};
    auto parsed = Manifest::parse(m.to_json(schema), "v7.json");
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_EQ(parsed->snapshot_id, 7u);
    EXPECT_EQ(parsed->writers.at("sink"), 42u);
    ASSERT_EQ(parsed->files.size(), 1u);
    const DataFile& g = parsed->files[0];
    EXPECT_EQ(g.path, f.path);
    EXPECT_EQ(g.partition, f.partition);
    for (std::size_t c = 0; c < f.columns.size(); ++c) {
        EXPECT_EQ(g.columns[c].min, f.columns[c].min) << c;
        EXPECT_EQ(g.columns[c].max, f.columns[c].max) << c;
        EXPECT_EQ(g.columns[c].null_count, 1u);
    }
}

TEST(Manifest, RejectsCorruptOrEscapingManifests) {
    EXPECT_EQ(Manifest::parse("{ torn", "v1.json").error().code(), ErrorCode::kCorruption);
    EXPECT_EQ(Manifest::parse(R"({"snapshot_id": 1, "schema": "a: int64", "files": [
                                   {"path": "../../etc/passwd", "rows": 1}]})",
                              "v1.json")
                  .error()
                  .code(),
              ErrorCode::kCorruption);
}

}  // namespace
}  // namespace millrace
