#include "types/batch.h"

#include <gtest/gtest.h>

#include "types/value.h"

namespace millrace {
namespace {

std::shared_ptr<const Schema> test_schema() {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"id", DataType::kInt64, false},
        {"name", DataType::kString, true},
        {"amount", DataType::kFloat64, true},
        {"ok", DataType::kBool, true},
        {"ts", DataType::kTimestamp, true},
        {"day", DataType::kDate, true},
        {"blob", DataType::kBytes, true},
        {"n", DataType::kInt32, true},
    });
}

void append_row(BatchBuilder& b, int64_t id, bool nulls) {
    b.column(0).append_int64(id);
    if (nulls) {
        for (std::size_t c = 1; c < 8; ++c) b.column(c).append_null();
    } else {
        b.column(1).append_string("name" + std::to_string(id));
        b.column(2).append_double(id * 1.5);
        b.column(3).append_bool(id % 2 == 0);
        b.column(4).append_timestamp(id * 1000);
        b.column(5).append_date(static_cast<int32_t>(id));
        b.column(6).append_string(std::string("\0\xff", 2));
        b.column(7).append_int32(static_cast<int32_t>(-id));
    }
    b.commit_row();
}

TEST(BatchTest, BuildsColumnsWithNulls) {
    BatchBuilder builder(test_schema());
    for (int64_t i = 0; i < 100; ++i) append_row(builder, i, i % 10 == 3);
    Batch batch = builder.finish();
    ASSERT_EQ(batch.num_rows(), 100u);
    EXPECT_EQ(batch.column(0).null_count(), 0u);
    EXPECT_EQ(batch.column(0).validity(), nullptr);
    EXPECT_EQ(batch.column(1).null_count(), 10u);
    EXPECT_TRUE(batch.column(1).is_null(3));
    EXPECT_FALSE(batch.column(1).is_null(4));
    EXPECT_EQ(batch.column(1).string_at(4), "name4");
    EXPECT_EQ(batch.column(1).string_at(3), "");
    EXPECT_EQ(batch.value_at(5, 2), Value::float64(7.5));
    EXPECT_EQ(batch.value_at(4, 3), Value::boolean(true));
    EXPECT_EQ(batch.value_at(6, 6), Value::bytes(std::string("\0\xff", 2)));
    EXPECT_EQ(batch.value_at(13, 4), Value::null());
    EXPECT_EQ(batch.column(0).values<int64_t>()[99], 99);
    // The builder starts over.
    EXPECT_EQ(builder.num_rows(), 0u);
    append_row(builder, 7, false);
    EXPECT_EQ(builder.finish().value_at(0, 1), Value::string("name7"));
}

TEST(BatchTest, RollbackDropsAPartialRow) {
    BatchBuilder builder(test_schema());
    append_row(builder, 1, false);
    builder.column(0).append_int64(2);
    builder.column(1).append_null();
    builder.column(2).append_double(3);
    builder.rollback_row();
    append_row(builder, 3, false);
    Batch batch = builder.finish();
    ASSERT_EQ(batch.num_rows(), 2u);
    EXPECT_EQ(batch.value_at(1, 0), Value::int64(3));
    EXPECT_EQ(batch.value_at(1, 1), Value::string("name3"));
    EXPECT_EQ(batch.column(1).null_count(), 0u);
}

TEST(BatchTest, TruncateKeepsNullCountsAndValidity) {
    ColumnBuilder column(DataType::kString);
    column.append_string("a");
    column.append_null();
    column.append_string("b");
    column.append_null();
    column.truncate(2);
    column.append_string("c");
    Column built = column.finish();
    ASSERT_EQ(built.size(), 3u);
    EXPECT_EQ(built.null_count(), 1u);
    EXPECT_TRUE(built.is_null(1));
    EXPECT_FALSE(built.is_null(2));
    EXPECT_EQ(built.string_at(2), "c");
}

TEST(BatchTest, ProjectAndTake) {
    BatchBuilder builder(test_schema());
    for (int64_t i = 0; i < 10; ++i) append_row(builder, i, i == 2);
    Batch batch = builder.finish();
    std::vector<std::size_t> columns = {1, 0};
    Batch projected = batch.project(columns);
    EXPECT_EQ(projected.schema().field(0).name, "name");
    EXPECT_EQ(&projected.column(1), &batch.column(0));  // shared, not copied
    std::vector<uint32_t> rows = {9, 2, 2};
    Batch taken = batch.take(rows);
    ASSERT_EQ(taken.num_rows(), 3u);
    EXPECT_EQ(taken.value_at(0, 0), Value::int64(9));
    EXPECT_EQ(taken.value_at(1, 1), Value::null());
    EXPECT_EQ(taken.value_at(2, 0), Value::int64(2));
    EXPECT_EQ(Batch::empty(test_schema()).num_rows(), 0u);
}

TEST(BatchTest, ManyNullsAcrossGrowth) {
    ColumnBuilder column(DataType::kInt64);
    for (int i = 0; i < 10000; ++i) {
        if (i % 3 == 0) {
            column.append_null();
        } else {
            column.append_int64(i);
        }
    }
    Column built = column.finish();
    EXPECT_EQ(built.null_count(), 3334u);
    for (int i = 0; i < 10000; ++i) {
        ASSERT_EQ(built.is_null(i), i % 3 == 0) << i;
        if (i % 3 != 0) {
            ASSERT_EQ(built.value<int64_t>(i), i);
        }
    }
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(BufferTest, AppendCopiesEveryShortLengthExactly) {
    const std::string source = "0123456789abcdefghijklmnopqrstuv";
    for (std::size_t length = 0; length <= source.size(); ++length) {
        Buffer buffer;
        buffer.push<uint8_t>('x');
        buffer.append(source.data(), length);
        buffer.push<uint8_t>('y');
        ASSERT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), buffer.size()),
                  "x" + source.substr(0, length) + "y")
            << length;
    }
}

// append_rows() equals append_from() row by row, for every physical width, with and without
// nulls on either side, after rows already appended.
TEST(BatchTest, AppendRowsEqualsAppendFromForEveryWidth) {
    const std::vector<uint32_t> rows = {7, 0, 3, 3, 9, 1};
    for (DataType type : {DataType::kBool, DataType::kInt32, DataType::kInt64, DataType::kFloat64,
                          DataType::kString}) {
        for (bool source_nulls : {false, true}) {
            ColumnBuilder source(type);
            for (int i = 0; i < 10; ++i) {
                if (source_nulls && i % 3 == 0) {
                    source.append_null();
                } else if (type == DataType::kString) {
                    source.append_string(std::string(static_cast<std::size_t>(i) * 5, 'a' + i));
                } else {
                    source.append_value(type == DataType::kBool      ? Value::boolean(i % 2 == 0)
                                        : type == DataType::kInt32   ? Value::int32(i * 11)
                                        : type == DataType::kFloat64 ? Value::float64(i * 0.5)
                                                                     : Value::int64(i * 1000));
                }
            }
            const Column column = source.finish();
            for (bool builder_nulls : {false, true}) {
                ColumnBuilder bulk(type);
                ColumnBuilder one_by_one(type);
                if (builder_nulls) {
                    bulk.append_null();
                    one_by_one.append_null();
                }
                bulk.append_rows(column, rows);
                for (uint32_t row : rows) one_by_one.append_from(column, row);
                const Column a = bulk.finish();
                const Column b = one_by_one.finish();
                ASSERT_EQ(a.size(), b.size());
                EXPECT_EQ(a.null_count(), b.null_count());
                for (std::size_t i = 0; i < a.size(); ++i) {
                    EXPECT_EQ(a.is_null(i), b.is_null(i)) << type_name(type) << " row " << i;
                    if (a.is_null(i)) continue;
                    if (type == DataType::kString) {
                        EXPECT_EQ(a.string_at(i), b.string_at(i)) << i;
                    } else if (fixed_width(type) == 1) {
                        EXPECT_EQ(a.value<uint8_t>(i), b.value<uint8_t>(i)) << i;
                    } else if (fixed_width(type) == 4) {
                        EXPECT_EQ(a.value<int32_t>(i), b.value<int32_t>(i)) << i;
                    } else {
                        EXPECT_EQ(a.value<int64_t>(i), b.value<int64_t>(i)) << i;
                    }
                }
            }
        }
    }
}

}  // namespace
}  // namespace millrace
