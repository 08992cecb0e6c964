#include "formats/parquet/parquet_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>

#include "common/mapped_file.h"
#include "formats/parquet/file_metadata.h"
#include "formats/parquet/parquet_reader.h"
#include "types/value.h"

namespace millrace {
namespace {

std::string temp_path(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("millrace-parquet-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

std::shared_ptr<const Schema> all_types_schema() {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"b", DataType::kBool, true},
        {"i32", DataType::kInt32, true},
        {"i64", DataType::kInt64, false},
        {"f64", DataType::kFloat64, true},
        {"s", DataType::kString, true},
        {"by", DataType::kBytes, true},
        {"ts", DataType::kTimestamp, true},
        {"d", DataType::kDate, false},
    });
}

// Rows with every type, nulls every 7th row in nullable columns, a few repeated values (so
// dictionaries pay off) and edge values (empty strings, negative numbers, -0.0, NaN).
Batch make_batch(std::size_t rows, std::size_t seed) {
    BatchBuilder builder(all_types_schema());
    for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t i = r + seed;
        const bool null = i % 7 == 3;
        auto& b = builder;
        null ? b.column(0).append_null() : b.column(0).append_bool(i % 3 == 0);
        null ? b.column(1).append_null()
             : b.column(1).append_int32(static_cast<int32_t>(i % 100) - 50);
        b.column(2).append_int64(static_cast<int64_t>(i) * 1'000'003 - 7);
        if (null) {
            b.column(3).append_null();
        } else if (i % 50 == 1) {
            b.column(3).append_double(-0.0);
        } else {
            b.column(3).append_double(static_cast<double>(i) / 8.0 - 3.0);
        }
        null ? b.column(4).append_null()
             : b.column(4).append_string(
                   i % 11 == 0 ? "" : "city-" + std::to_string(i % 13) + "\xc3\xa9");
        null ? b.column(5).append_null()
             : b.column(5).append_string(std::string("\x00\xff", 2) + std::to_string(i));
        null ? b.column(6).append_null()
             : b.column(6).append_timestamp(1'767'225'600'000'000 +
                                            static_cast<int64_t>(i) * 1'000'001);
        b.column(7).append_date(static_cast<int32_t>(i % 40000) - 1000);
        b.commit_row();
    }
    return builder.finish();
}

void expect_same(const Batch& expected, const Batch& actual) {
    ASSERT_EQ(expected.num_rows(), actual.num_rows());
    ASSERT_EQ(expected.schema(), actual.schema());
    for (std::size_t c = 0; c < expected.num_columns(); ++c) {
        for (std::size_t r = 0; r < expected.num_rows(); ++r) {
            ASSERT_EQ(expected.value_at(r, c), actual.value_at(r, c))
                << "row " << r << " column " << expected.schema().field(c).name;
        }
    }
}

Batch read_all(const std::string& path) {
    auto reader = ParquetReader::open(path);
    EXPECT_TRUE(reader.ok()) << reader.error().to_string();
    BatchBuilder builder((*reader)->schema());
    for (std::size_t g = 0; g < (*reader)->num_row_groups(); ++g) {
        auto batch = (*reader)->read_row_group(g);
        EXPECT_TRUE(batch.ok()) << batch.error().to_string();
        for (std::size_t r = 0; r < batch->num_rows(); ++r) {
            for (std::size_t c = 0; c < batch->num_columns(); ++c) {
                builder.column(c).append_from(batch->column(c), r);
            }
            builder.commit_row();
        }
    }
    return builder.finish();
}

struct Case {
    ParquetCodec codec;
    bool dictionary;
};

class ParquetWriterRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(ParquetWriterRoundTrip, EveryTypeWithNulls) {
    ParquetWriterOptions options;
    options.codec = GetParam().codec;
    options.dictionary = GetParam().dictionary;
    options.row_group_rows = 1000;
    options.page_bytes = 2000;  // many pages per chunk
    const std::string path = temp_path("round_trip.parquet");
    auto writer = ParquetWriter::open(path, all_types_schema(), options);
    ASSERT_TRUE(writer.ok());
    Batch first = make_batch(1500, 0);
    Batch second = make_batch(777, 1500);
    ASSERT_TRUE((*writer)->write(first).ok());
    ASSERT_TRUE((*writer)->write(second).ok());
    ASSERT_TRUE((*writer)->close().ok());

    auto reader = ParquetReader::open(path);
    ASSERT_TRUE(reader.ok()) << reader.error().to_string();
    EXPECT_EQ((*reader)->num_rows(), 2277u);
    EXPECT_EQ((*reader)->num_row_groups(), 3u);
    EXPECT_EQ(*(*reader)->schema(), *all_types_schema());
    EXPECT_EQ((*reader)->metadata("millrace.schema"), schema_metadata_text(*all_types_schema()));

    Batch all = read_all(path);
    BatchBuilder expected(all_types_schema());
    for (const Batch* b : {&first, &second}) {
        for (std::size_t r = 0; r < b->num_rows(); ++r) {
            for (std::size_t c = 0; c < b->num_columns(); ++c) {
                expected.column(c).append_from(b->column(c), r);
            }
            expected.commit_row();
        }
    }
    expect_same(expected.finish(), all);
}

INSTANTIATE_TEST_SUITE_P(Codecs, ParquetWriterRoundTrip,
                         ::testing::Values(Case{ParquetCodec::kUncompressed, true},
                                           Case{ParquetCodec::kSnappy, true},
                                           Case{ParquetCodec::kZstd, true},
                                           Case{ParquetCodec::kZstd, false}));

TEST(ParquetWriter, StatisticsMatchTheData) {
    const std::string path = temp_path("stats.parquet");
    auto writer = ParquetWriter::open(path, all_types_schema());
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->write(make_batch(100, 0)).ok());
    ASSERT_TRUE((*writer)->close().ok());
    const auto& stats = (*writer)->statistics();
    EXPECT_EQ(stats[1].min, Value::int32(-50));
    EXPECT_EQ(stats[1].max, Value::int32(49));
    EXPECT_EQ(stats[1].null_count, 14u);  // i % 7 == 3 for i < 100
    EXPECT_EQ(stats[4].min, Value::string(""));
    EXPECT_EQ(stats[4].max, Value::string("city-9\xc3\xa9"));
    EXPECT_EQ(stats[3].min, Value::float64(-3.0));

    auto reader = ParquetReader::open(path);
    ASSERT_TRUE(reader.ok());
    for (std::size_t c = 0; c < stats.size(); ++c) {
        const ColumnStatistics read = (*reader)->file_statistics(c);
        EXPECT_EQ(read.null_count, stats[c].null_count) << c;
        EXPECT_EQ(read.max, stats[c].max) << c;
        if (c != 3) {  // the file holds -0.0 for a zero min
            EXPECT_EQ(read.min, stats[c].min) << c;
        }
    }
}

TEST(ParquetWriter, DictionaryFallsBackToPlain) {
    auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"s", DataType::kString, false}});
    BatchBuilder builder(schema);
    for (int i = 0; i < 20000; ++i) {
        builder.column(0).append_string("unique-value-" + std::to_string(i));
        builder.commit_row();
    }
    Batch batch = builder.finish();
    ParquetWriterOptions options;
    options.max_dictionary_bytes = 1000;
    const std::string path = temp_path("fallback.parquet");
    auto writer = ParquetWriter::open(path, schema, options);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->write(batch).ok());
    ASSERT_TRUE((*writer)->close().ok());
    expect_same(batch, read_all(path));
}

TEST(ParquetWriter, AllNullAndEmptyFiles) {
    auto schema = std::make_shared<const Schema>(std::vector<Field>{{"x", DataType::kInt64, true}});
    BatchBuilder builder(schema);
    for (int i = 0; i < 100; ++i) {
        builder.column(0).append_null();
        builder.commit_row();
    }
    Batch batch = builder.finish();
    const std::string path = temp_path("nulls.parquet");
    auto writer = ParquetWriter::open(path, schema);
    ASSERT_TRUE((*writer)->write(batch).ok());
    ASSERT_TRUE((*writer)->close().ok());
    expect_same(batch, read_all(path));

    const std::string empty = temp_path("empty.parquet");
    auto empty_writer = ParquetWriter::open(empty, schema);
    ASSERT_TRUE((*empty_writer)->close().ok());
    auto reader = ParquetReader::open(empty);
    ASSERT_TRUE(reader.ok()) << reader.error().to_string();
    EXPECT_EQ((*reader)->num_rows(), 0u);
}

TEST(ParquetWriter, RejectsNullsInNotNullColumns) {
    auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"x", DataType::kInt64, false}});
    ColumnBuilder builder(DataType::kInt64);
    builder.append_int64(1);
    builder.append_null();
    Batch batch(schema, {std::make_shared<const Column>(builder.finish())}, 2);
    auto writer = ParquetWriter::open(temp_path("notnull.parquet"), schema);
    EXPECT_EQ((*writer)->write(batch).error().code(), ErrorCode::kTypeMismatch);
}

// The physical type of column `c` in the footer of the file at `path`.
std::optional<parquet::PhysicalType> physical_type(const std::string& path, std::size_t c) {
    auto bytes = read_file(path);
    if (!bytes.ok() || bytes->size() < 12) return std::nullopt;
    uint32_t length = 0;
    std::memcpy(&length, bytes->data() + bytes->size() - 8, 4);
    auto metadata = parquet::parse_file_metadata(
        std::string_view(*bytes).substr(bytes->size() - 8 - length, length));
    if (!metadata.ok() || metadata->schema.size() <= c + 1) return std::nullopt;
    return metadata->schema[c + 1].type;
}

// Double columns listed in float_columns are written as FLOAT (Iceberg `float` columns): each
// value rounded to float, NaN, infinities, -0.0 and nulls kept, dictionary and plain pages,
// statistics of the rounded values without NaN; they read back as doubles.
TEST(ParquetWriter, WritesDoubleColumnsAsFloat) {
    auto schema = std::make_shared<const Schema>(
        std::vector<Field>{{"d", DataType::kFloat64, true}, {"f", DataType::kFloat64, true}});
    BatchBuilder builder(schema);
    std::vector<double> values;
    for (int i = 0; i < 3000; ++i) {
        double v = i % 3 == 0 ? 0.1 * i : (i % 3 == 1 ? 1e-3 * (i % 17) : -2.5e10 / (i + 1));
        if (i == 5) v = std::nan("");
        if (i == 6) v = -0.0;
        if (i == 7) v = std::numeric_limits<double>::infinity();
        if (i == 8) v = 1e300;  // beyond float's range: rounds to +inf
        values.push_back(v);
        for (std::size_t c = 0; c < 2; ++c) {
            if (i % 11 == 4) {
                builder.column(c).append_null();
            } else {
                builder.column(c).append_double(v);
            }
        }
        builder.commit_row();
    }
    Batch batch = builder.finish();
    for (bool dictionary : {true, false}) {
        const std::string path = temp_path(dictionary ? "float-dict.parquet" : "float.parquet");
        ParquetWriterOptions options;
        options.float_columns = {1};
        options.dictionary = dictionary;
        options.page_bytes = 1000;  // several pages
        auto writer = ParquetWriter::open(path, schema, options);
        ASSERT_TRUE(writer.ok()) << writer.error().to_string();
        ASSERT_TRUE((*writer)->write(batch).ok());
        ASSERT_TRUE((*writer)->close().ok());
        EXPECT_EQ(physical_type(path, 0), parquet::PhysicalType::kDouble);
        EXPECT_EQ(physical_type(path, 1), parquet::PhysicalType::kFloat);
        Batch read = read_all(path);
        ASSERT_EQ(read.num_rows(), batch.num_rows());
        EXPECT_EQ(read.schema().field(1).type, DataType::kFloat64);
        for (std::size_t r = 0; r < read.num_rows(); ++r) {
            ASSERT_EQ(read.column(1).is_null(r), batch.column(1).is_null(r)) << r;
            if (read.column(1).is_null(r)) continue;
            const double want = static_cast<float>(values[r]);
            const double got = read.column(1).value<double>(r);
            if (std::isnan(want)) {
                EXPECT_TRUE(std::isnan(got)) << r;
            } else {
                EXPECT_EQ(got, want) << r;
                EXPECT_EQ(std::signbit(got), std::signbit(want)) << r;
            }
            EXPECT_EQ(read.value_at(r, 0).to_string(), batch.value_at(r, 0).to_string());
        }
        float lo = std::numeric_limits<float>::infinity();
        for (double v : values) {
            if (!std::isnan(v)) lo = std::min(lo, static_cast<float>(v));
        }
        const ColumnStatistics& stats = (*writer)->statistics()[1];
        EXPECT_EQ(stats.min, Value::float64(lo));
        EXPECT_EQ(stats.max, Value::float64(std::numeric_limits<double>::infinity()));
        auto reader = ParquetReader::open(path);
        ASSERT_TRUE(reader.ok());
        EXPECT_EQ((*reader)->file_statistics(1).min, Value::float64(lo));
        EXPECT_EQ((*reader)->file_statistics(1).null_count, stats.null_count);
        // Row groups are skipped by the FLOAT statistics.
        EXPECT_FALSE(*(*reader)->row_group_may_match(
            0, std::vector<ColumnPredicate>{{"f", CompareOp::kLt, Value::float64(lo - 1)}}));
        EXPECT_TRUE(*(*reader)->row_group_may_match(
            0, std::vector<ColumnPredicate>{{"f", CompareOp::kLe, Value::float64(lo)}}));
    }
}

TEST(ParquetWriter, RefusesFloatForAColumnThatIsNotDouble) {
    ParquetWriterOptions options;
    options.float_columns = {1};  // i32
    auto writer = ParquetWriter::open(temp_path("notfloat.parquet"), all_types_schema(), options);
    ASSERT_FALSE(writer.ok());
    EXPECT_EQ(writer.error().code(), ErrorCode::kInvalidArgument);
    options.float_columns = {99};
    EXPECT_FALSE(
        ParquetWriter::open(temp_path("notfloat.parquet"), all_types_schema(), options).ok());
}

TEST(ParquetWriter, RejectsAnotherSchema) {
    const std::string path = temp_path("schema.parquet");
    auto writer = ParquetWriter::open(path, all_types_schema());
    auto other = std::make_shared<const Schema>(std::vector<Field>{{"x", DataType::kInt64, true}});
    Batch batch = Batch::empty(other);
    EXPECT_EQ((*writer)->write(batch).error().code(), ErrorCode::kTypeMismatch);
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(ParquetWriter, ThreadsDoNotChangeTheBytes) {
    std::string files[2];
    for (std::size_t threads : {1u, 3u}) {
        ParquetWriterOptions options;
        options.threads = threads;
        options.row_group_rows = 700;
        const std::string path = temp_path("threads" + std::to_string(threads) + ".parquet");
        auto writer = ParquetWriter::open(path, all_types_schema(), options);
        ASSERT_TRUE((*writer)->write(make_batch(2000, 5)).ok());
        ASSERT_TRUE((*writer)->close().ok());
        files[threads == 1 ? 0 : 1] = *read_file(path);
    }
    EXPECT_EQ(files[0], files[1]);
}

}  // namespace
}  // namespace millrace
