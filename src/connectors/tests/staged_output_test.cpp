#include "connectors/staged_output.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/durable_file.h"
#include "common/mapped_file.h"

namespace millrace {
namespace {

class StagedOutputTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-staged-output-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::size_t files_in_dir() const {
        std::size_t n = 0;
        for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
            (void)entry;
            ++n;
        }
        return n;
    }

    std::string dir_;
};

TEST_F(StagedOutputTest, OutputAppearsOnlyOnCommit) {
    const std::string path = dir_ + "/out.csv";
    ASSERT_TRUE(write_file_durably(path, "previous").ok());
    {
        auto output = StagedOutput::create(path);
        ASSERT_TRUE(output.ok()) << output.error().to_string();
        auto stream = output->stream();
        ASSERT_TRUE(stream.ok());
        std::fputs("half", *stream);
        // Destroyed without commit: a failed run.
    }
    EXPECT_EQ(*read_file(path), "previous");
    EXPECT_EQ(files_in_dir(), 1u);  // no temporary file left
    auto output = StagedOutput::create(path);
    ASSERT_TRUE(output.ok());
    std::fputs("whole", *output->stream());
    ASSERT_TRUE(output->commit().ok());
    EXPECT_EQ(*read_file(path), "whole");
    EXPECT_EQ(files_in_dir(), 1u);
}

TEST_F(StagedOutputTest, AnOutputThatIsAnInputIsRefused) {
    const std::string input = dir_ + "/in.csv";
    ASSERT_TRUE(write_file_durably(input, "data").ok());
    const std::vector<std::string> inputs = {input};
    EXPECT_EQ(StagedOutput::create(input, inputs).error().code(), ErrorCode::kInvalidArgument);
    std::filesystem::create_symlink(input, dir_ + "/link.csv");
    EXPECT_EQ(StagedOutput::create(dir_ + "/link.csv", inputs).error().code(),
              ErrorCode::kInvalidArgument);
    std::filesystem::create_hard_link(input, dir_ + "/hard.csv");
    EXPECT_EQ(StagedOutput::create(dir_ + "/hard.csv", inputs).error().code(),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(*read_file(input), "data");
}

TEST_F(StagedOutputTest, ASymlinkOutputReplacesItsTarget) {
    std::filesystem::create_symlink("target.csv", dir_ + "/link.csv");  // dangling until written
    auto output = StagedOutput::create(dir_ + "/link.csv");
    ASSERT_TRUE(output.ok()) << output.error().to_string();
    std::fputs("rows", *output->stream());
    ASSERT_TRUE(output->commit().ok());
    EXPECT_TRUE(std::filesystem::is_symlink(dir_ + "/link.csv"));
    EXPECT_EQ(*read_file(dir_ + "/target.csv"), "rows");
}

}  // namespace
}  // namespace millrace
