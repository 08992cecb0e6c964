#include "connectors/input_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace millrace {
namespace {

TEST(InputFile, ReadsRegularFilesAndFifos) {
    const std::string dir = (std::filesystem::temp_directory_path() /
                             ("millrace-input-file-" + std::to_string(::getpid())))
                                .string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::string text;
    for (int i = 0; i < 100000; ++i) text += "line " + std::to_string(i) + "\n";
    std::ofstream(dir + "/plain.txt") << text;
    auto plain = InputFile::open(dir + "/plain.txt");
    ASSERT_TRUE(plain.ok());
    EXPECT_TRUE(plain->is_regular());
    EXPECT_EQ(plain->bytes(), text);

    // A FIFO has no size to map: it is streamed to its end.
    ASSERT_EQ(::mkfifo((dir + "/pipe").c_str(), 0644), 0);
    std::thread writer([&] { std::ofstream(dir + "/pipe") << text; });
    auto piped = InputFile::open(dir + "/pipe");
    writer.join();
    ASSERT_TRUE(piped.ok()) << piped.error().to_string();
    EXPECT_FALSE(piped->is_regular());
    EXPECT_EQ(piped->bytes(), text);

    EXPECT_EQ(InputFile::open(dir).error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(InputFile::open(dir + "/missing").error().code(), ErrorCode::kNotFound);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace millrace
