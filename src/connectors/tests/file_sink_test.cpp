#include "connectors/file_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "connectors/file_source.h"
#include "connectors/tests/sink_test_util.h"
#include "types/batch.h"

namespace millrace {
namespace {

class FileSinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-file-sink-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        schema_ = std::make_shared<const Schema>(std::vector<Field>{
            {"id", DataType::kInt64, false},
            {"name", DataType::kString, true},
        });
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    Batch rows(int64_t first, int64_t count) {
        BatchBuilder builder(schema_);
        for (int64_t i = first; i < first + count; ++i) {
            builder.column(0).append_int64(i);
            builder.column(1).append_string("n" + std::to_string(i));
            builder.commit_row();
        }
        return builder.finish();
    }
    /// Reads a written file back through a FileSource.
    std::size_t read_back(const std::string& path, DataFormat format) {
        SourceSpec spec;
        spec.name = "back";
        spec.kind = SourceKind::kFile;
        spec.path = path;
        spec.format = format;
        spec.schema = *schema_;
        auto source = FileSource::open(spec);
        EXPECT_TRUE(source.ok()) << source.error().to_string();
        if (!source.ok()) return 0;
        CollectingSink collected;
        EXPECT_TRUE((*source)->read_to_end(collected, nullptr).ok());
        EXPECT_TRUE(collected.errors.empty());
        return collected.rows;
    }
    std::size_t files_in(const std::string& folder) {
        std::size_t n = 0;
        for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder)) ++n;
        return n;
    }

    std::string dir_;
    std::shared_ptr<const Schema> schema_;
};

TEST_F(FileSinkTest, EveryFormatRoundTripsThroughAFileSource) {
    for (DataFormat format : {DataFormat::kCsv, DataFormat::kJson, DataFormat::kParquet}) {
        const std::string path = dir_ + "/deep/er/out." + std::string(enum_name(format));
        auto sink = FileSink::create(path, format, schema_);
        ASSERT_TRUE(sink.ok()) << sink.error().to_string();
        ASSERT_TRUE((*sink)->write(rows(0, 100)).ok());
        ASSERT_TRUE((*sink)->write(rows(100, 50)).ok());
        ASSERT_TRUE(commit_once(**sink).ok());
        EXPECT_EQ((*sink)->rows_written(), 150u);
        EXPECT_GT((*sink)->bytes_written(), 0u);
        EXPECT_EQ(read_back(path, format), 150u) << enum_name(format);
    }
    EXPECT_EQ(files_in(dir_ + "/deep/er"), 3u) << "no temporary file is left";
}

TEST_F(FileSinkTest, NothingCanBeWrittenAfterPreCommitAndAFileIsCommittedOnce) {
    const std::string path = dir_ + "/out.csv";
    auto sink = FileSink::create(path, DataFormat::kCsv, schema_);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->write(rows(0, 3)).ok());
    ASSERT_TRUE((*sink)->pre_commit(1).ok());
    EXPECT_FALSE((*sink)->write(rows(3, 1)).ok());
    EXPECT_FALSE(std::filesystem::exists(path));
    ASSERT_TRUE((*sink)->commit(1).ok());
    EXPECT_FALSE((*sink)->pre_commit(2).ok()) << "a file sink commits once";
    EXPECT_EQ(read_back(path, DataFormat::kCsv), 3u);
}

TEST_F(FileSinkTest, AbortKeepsThePreviousOutputAndRemovesTheStagedFile) {
    const std::string path = dir_ + "/out.csv";
    {
        auto first = FileSink::create(path, DataFormat::kCsv, schema_);
        ASSERT_TRUE(first.ok());
        ASSERT_TRUE((*first)->write(rows(0, 2)).ok());
        ASSERT_TRUE(commit_once(**first).ok());
    }
    auto second = FileSink::create(path, DataFormat::kCsv, schema_);
    ASSERT_TRUE(second.ok());
    ASSERT_TRUE((*second)->write(rows(0, 9)).ok());
    ASSERT_TRUE((*second)->pre_commit(1).ok());
    (*second)->abort();
    EXPECT_EQ(files_in(dir_), 1u);
    EXPECT_EQ(read_back(path, DataFormat::kCsv), 2u);
    EXPECT_FALSE((*second)->write(rows(0, 1)).ok());
}

TEST_F(FileSinkTest, AnInputIsNeverAnOutput) {
    std::filesystem::create_directories(dir_);
    const std::string input = dir_ + "/in.csv";
    {
        auto sink = FileSink::create(input, DataFormat::kCsv, schema_);
        ASSERT_TRUE(sink.ok());
        ASSERT_TRUE(commit_once(**sink).ok());
    }
    const std::vector<std::string> inputs = {input};
    auto refused = FileSink::create(input, DataFormat::kCsv, schema_, inputs);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace millrace
