#include "common/durable_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace millrace {
namespace {

namespace fs = std::filesystem;

class DurableFile : public testing::Test {
protected:
    void SetUp() override {
        dir_ = testing::TempDir() + "durable_file_test_" + std::to_string(::getpid()) + "_" +
               testing::UnitTest::GetInstance()->current_test_info()->name();
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    static std::string contents(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream out;
        out << in.rdbuf();
        return out.str();
    }

    // Names in the folder, so a test sees any temporary file left behind.
    std::set<std::string> entries() const {
        std::set<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir_)) {
            names.insert(entry.path().filename().string());
        }
        return names;
    }

    std::string dir_;
};

TEST_F(DurableFile, WriteCreatesAndReplacesWithoutLeavingTemporaries) {
    const std::string path = dir_ + "/state.json";
    ASSERT_TRUE(write_file_durably(path, "first").ok());
    EXPECT_EQ(contents(path), "first");
    ASSERT_TRUE(write_file_durably(path, "second, longer").ok());
    EXPECT_EQ(contents(path), "second, longer");
    ASSERT_TRUE(write_file_durably(path, "").ok());
    EXPECT_EQ(contents(path), "");
    EXPECT_EQ(entries(), std::set<std::string>{"state.json"});
}

TEST_F(DurableFile, FailedWriteKeepsTheOldFileAndLeavesNoTemporary) {
    const std::string path = dir_ + "/state.json";
    ASSERT_TRUE(write_file_durably(path, "old").ok());
    // A folder in the way: the rename over it fails after the temporary file was written.
    fs::remove(path);
    fs::create_directories(path + "/inside");
    Status status = write_file_durably(path, "new");
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kIo);
    EXPECT_EQ(entries(), std::set<std::string>{"state.json"});
    EXPECT_TRUE(fs::is_directory(path));
}

TEST_F(DurableFile, TemporaryPathsAreUniquePerCallAndBesideTheTarget) {
    const std::string a = unique_temporary_path(dir_ + "/out.csv");
    const std::string b = unique_temporary_path(dir_ + "/out.csv");
    EXPECT_NE(a, b);
    EXPECT_EQ(a.rfind(dir_ + "/out.csv.tmp-", 0), 0u);
}

TEST_F(DurableFile, CreatesMissingParentsOfAFile) {
    ASSERT_TRUE(create_parent_directories_durably(dir_ + "/a/b/c/out.csv").ok());
    EXPECT_TRUE(fs::is_directory(dir_ + "/a/b/c"));
    EXPECT_FALSE(fs::exists(dir_ + "/a/b/c/out.csv"));
    // Existing folders and a bare file name are fine.
    EXPECT_TRUE(create_parent_directories_durably(dir_ + "/a/b/c/out.csv").ok());
    EXPECT_TRUE(create_parent_directories_durably("out.csv").ok());
}

TEST_F(DurableFile, AFileInThePlaceOfAFolderIsAnError) {
    ASSERT_TRUE(write_file_durably(dir_ + "/taken", "a file").ok());
    // mkdir answers EEXIST for a file too; that must not pass for a created folder.
    Status status = create_directories_durably(dir_ + "/taken");
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kIo);
    EXPECT_FALSE(create_parent_directories_durably(dir_ + "/taken/out.csv").ok());
    EXPECT_EQ(contents(dir_ + "/taken"), "a file");
}

TEST_F(DurableFile, RenameMovesBetweenFoldersAndSyncFileNeedsAFile) {
    ASSERT_TRUE(create_directories_durably(dir_ + "/from").ok());
    ASSERT_TRUE(create_directories_durably(dir_ + "/to").ok());
    ASSERT_TRUE(write_file_durably(dir_ + "/from/part-0", "rows").ok());
    ASSERT_TRUE(sync_file(dir_ + "/from/part-0").ok());
    ASSERT_TRUE(rename_durably(dir_ + "/from/part-0", dir_ + "/to/part-0").ok());
    EXPECT_EQ(contents(dir_ + "/to/part-0"), "rows");
    EXPECT_FALSE(fs::exists(dir_ + "/from/part-0"));
    EXPECT_FALSE(rename_durably(dir_ + "/from/part-0", dir_ + "/to/again").ok());
    EXPECT_FALSE(sync_file(dir_ + "/from/part-0").ok());
}

}  // namespace
}  // namespace millrace
