#include "connectors/dead_letter_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/mapped_file.h"

namespace millrace {
namespace {

class DeadLetterWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-dead-letters-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        path_ = dir_ + "/dead_letter/live.ndjson";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string dir_;
    std::string path_;
};

// A streaming run's dead letters: appended across runs; a checkpoint records the synced
// length, and a restore cuts what was written after it, so the replay writes it once.
TEST_F(DeadLetterWriterTest, AppendingWriterIsCutBackToTheCheckpointsLength) {
    uint64_t checkpointed = 0;
    {
        auto writer = DeadLetterWriter::open_append(path_, "live", std::nullopt);
        ASSERT_TRUE(writer.ok()) << writer.error().to_string();
        EXPECT_EQ((*writer)->start_bytes(), 0u);
        (*writer)->add_row("watermark", "source", "orders", "late", R"({"id":1})");
        auto synced = (*writer)->sync();
        ASSERT_TRUE(synced.ok());
        checkpointed = *synced;
        EXPECT_EQ(checkpointed, read_file(path_)->size());
        (*writer)->add_row("watermark", "source", "orders", "late", R"({"id":2})");
        ASSERT_TRUE((*writer)->sync().ok());
        // Killed: the second record was written after the checkpoint.
    }
    {
        auto writer = DeadLetterWriter::open_append(path_, "live", checkpointed);
        ASSERT_TRUE(writer.ok()) << writer.error().to_string();
        EXPECT_EQ((*writer)->start_bytes(), checkpointed);
        (*writer)->add_row("watermark", "source", "orders", "late", R"({"id":2})");
        ASSERT_TRUE((*writer)->finish().ok());
    }
    const std::string text = *read_file(path_);
    EXPECT_EQ(text.find(R"({"id":2})"), text.rfind(R"({"id":2})")) << text;
    EXPECT_NE(text.find(R"({"id":1})"), std::string::npos);
    // Without a checkpoint to restore, earlier runs' dead letters stay.
    auto kept = DeadLetterWriter::open_append(path_, "live", std::nullopt);
    ASSERT_TRUE(kept.ok());
    EXPECT_EQ((*kept)->start_bytes(), text.size());
}

}  // namespace
}  // namespace millrace
