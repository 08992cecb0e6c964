#include "formats/parquet/parquet_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/mapped_file.h"
#include "formats/parquet/parquet_writer.h"

namespace millrace {
namespace {

std::string temp_path(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("millrace-parquet-reader-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

void write_bytes(const std::string& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// 3 row groups of 1000 rows: id = 0..2999, name = "n<id % 10>" (nullable, every 5th null).
std::string write_sample(const std::string& name) {
    auto schema = std::make_shared<const Schema>(
        std::vector<Field>{{"id", DataType::kInt64, false}, {"name", DataType::kString, true}});
    BatchBuilder builder(schema);
    for (int i = 0; i < 3000; ++i) {
        builder.column(0).append_int64(i);
        if (i % 5 == 0) {
            builder.column(1).append_null();
        } else {
            builder.column(1).append_string("n" + std::to_string(i % 10));
        }
        builder.commit_row();
    }
    ParquetWriterOptions options;
    options.row_group_rows = 1000;
    const std::string path = temp_path(name);
    auto writer = ParquetWriter::open(path, schema, options);
    EXPECT_TRUE((*writer)->write(builder.finish()).ok());
    EXPECT_TRUE((*writer)->close().ok());
    return path;
}

TEST(ParquetReader, ProjectionAndRowGroupSkipping) {
    auto reader = ParquetReader::open(write_sample("sample.parquet"));
    ASSERT_TRUE(reader.ok());
    ParquetScanOptions scan;
    scan.columns = {1};
    scan.predicates = {{"id", CompareOp::kGe, Value::int64(2500)}};
    std::size_t rows = 0;
    auto skipped = (*reader)->scan(scan, [&](Batch batch) {
        EXPECT_EQ(batch.num_columns(), 1u);
        EXPECT_EQ(batch.schema().field(0).name, "name");
        rows += batch.num_rows();
        return Status();
    });
    ASSERT_TRUE(skipped.ok());
    EXPECT_EQ(*skipped, 2u);
    EXPECT_EQ(rows, 1000u);

    auto may = (*reader)->row_group_may_match(
        0, std::vector<ColumnPredicate>{{"name", CompareOp::kEq, Value::string("zzz")}});
    ASSERT_TRUE(may.ok());
    EXPECT_FALSE(*may);
    auto unknown = (*reader)->row_group_may_match(
        0, std::vector<ColumnPredicate>{{"nope", CompareOp::kEq, Value::int64(1)}});
    EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

TEST(ParquetReader, StatisticsPredicates) {
    ColumnStatistics stats;
    stats.min = Value::int64(10);
    stats.max = Value::int64(20);
    stats.row_count = 5;
    EXPECT_TRUE(statistics_may_match(stats, CompareOp::kEq, Value::int64(10)));
    EXPECT_FALSE(statistics_may_match(stats, CompareOp::kEq, Value::int64(21)));
    EXPECT_FALSE(statistics_may_match(stats, CompareOp::kLt, Value::int64(10)));
    EXPECT_TRUE(statistics_may_match(stats, CompareOp::kLe, Value::int64(10)));
    EXPECT_FALSE(statistics_may_match(stats, CompareOp::kGt, Value::int64(20)));
    EXPECT_TRUE(statistics_may_match(stats, CompareOp::kGe, Value::int64(20)));
    EXPECT_FALSE(statistics_may_match(stats, CompareOp::kEq, Value()));
    stats.null_count = 5;
    EXPECT_FALSE(statistics_may_match(stats, CompareOp::kNe, Value::int64(1)));
}

TEST(ParquetReader, RejectsTruncatedFilesAtEveryLength) {
    const std::string path = write_sample("whole.parquet");
    auto whole = read_file(path);
    ASSERT_TRUE(whole.ok());
    const std::string cut = temp_path("cut.parquet");
    for (std::size_t size = 0; size < whole->size(); size += 97) {
        write_bytes(cut, std::string_view(*whole).substr(0, size));
        auto reader = ParquetReader::open(cut);
        ASSERT_FALSE(reader.ok()) << size;
        EXPECT_EQ(reader.error().code(), ErrorCode::kCorruption);
        EXPECT_NE(reader.error().message().find("cut.parquet"), std::string::npos);
    }
}

TEST(ParquetReader, CorruptBytesNeverCrash) {
    const std::string path = write_sample("good.parquet");
    auto whole = read_file(path);
    ASSERT_TRUE(whole.ok());
    const std::string bad = temp_path("bad.parquet");
    int errors = 0;
    for (std::size_t at = 4; at + 8 < whole->size(); at += 13) {
        std::string bytes = *whole;
        bytes[at] = static_cast<char>(bytes[at] ^ 0x5A);
        write_bytes(bad, bytes);
        auto reader = ParquetReader::open(bad);
        if (!reader.ok()) {
            ++errors;
            continue;
        }
        for (std::size_t g = 0; g < (*reader)->num_row_groups(); ++g) {
            auto batch = (*reader)->read_row_group(g);
            if (!batch.ok()) {
                ++errors;
                EXPECT_NE(batch.error().message().find("bad.parquet"), std::string::npos);
            }
        }
    }
    EXPECT_GT(errors, 0);
}

TEST(ParquetReader, ClearErrors) {
    const std::string text = temp_path("text.parquet");
    write_bytes(text, "id,name\n1,a\n");
    auto reader = ParquetReader::open(text);
    EXPECT_EQ(reader.error().code(), ErrorCode::kCorruption);
    EXPECT_NE(reader.error().message().find("text.parquet: bad magic"), std::string::npos);

    // A footer length larger than the file.
    std::string bytes = "PAR1";
    bytes += std::string(20, '\0');
    bytes += std::string("\xff\xff\x00\x00", 4);
    bytes += "PAR1";
    write_bytes(text, bytes);
    reader = ParquetReader::open(text);
    EXPECT_NE(reader.error().message().find("footer length"), std::string::npos);

    EXPECT_EQ(ParquetReader::open(temp_path("missing.parquet")).error().code(),
              ErrorCode::kNotFound);
}

}  // namespace
}  // namespace millrace
