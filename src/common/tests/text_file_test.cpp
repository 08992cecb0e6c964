#include "common/text_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace millrace {
namespace {

std::string temp_path(const std::string& name) {
    return testing::TempDir() + "text_file_test_" + std::to_string(::getpid()) + "_" + name;
}

TEST(ReadTextFile, ReadsWholeFile) {
    const std::string path = temp_path("ok");
    std::ofstream(path) << "hello\nworld\n";
    auto text = read_text_file(path, 1024);
    ASSERT_TRUE(text.ok()) << text.error().to_string();
    EXPECT_EQ(*text, "hello\nworld\n");
    std::remove(path.c_str());
}

TEST(ReadTextFile, MissingFileIsNotFound) {
    auto text = read_text_file(temp_path("missing"), 1024);
    ASSERT_FALSE(text.ok());
    EXPECT_EQ(text.error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(text.error().location().file, temp_path("missing"));
}

TEST(ReadTextFile, DirectoryIsAnIoError) {
    auto text = read_text_file(testing::TempDir(), 1024);
    ASSERT_FALSE(text.ok());
    EXPECT_EQ(text.error().code(), ErrorCode::kIo);
}

TEST(ReadTextFile, RefusesFilesOverTheLimit) {
    const std::string path = temp_path("big");
    std::ofstream(path) << std::string(100, 'x');
    auto text = read_text_file(path, 99);
    ASSERT_FALSE(text.ok());
    EXPECT_EQ(text.error().code(), ErrorCode::kResourceExhausted);
    EXPECT_TRUE(read_text_file(path, 100).ok());
    std::remove(path.c_str());
}

TEST(ReadTextFile, ReadsNonRegularFilesUpToTheLimit) {
    auto text = read_text_file("/dev/zero", 4096);
    ASSERT_FALSE(text.ok());
    EXPECT_EQ(text.error().code(), ErrorCode::kResourceExhausted);
    auto empty = read_text_file("/dev/null", 4096);
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(*empty, "");
}

}  // namespace
}  // namespace millrace
