#include "pipeline/checkpoint_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace millrace {
namespace {

class CheckpointWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-checkpoint-writer-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    /// Checkpoint `id` with one state file, "sink-0.state", of `parts`.
    static CheckpointWrite checkpoint(uint64_t id, std::vector<std::string> parts) {
        CheckpointWrite write;
        write.metadata.id = id;
        write.metadata.created_micros = 1764979200000000;
        write.metadata.states.push_back(CheckpointState{"v->lake:t", "sink-0.state"});
        write.files.push_back(CheckpointWrite::File{"sink-0.state", std::move(parts)});
        return write;
    }

    /// Writes `write` through `writer` as the runner does when its sinks pre-commit at once.
    static Status complete(CheckpointWriter& writer, CheckpointWrite write) {
        writer.start(std::move(write));
        writer.sinks_ready();
        return writer.wait().status;
    }

    /// Waits (up to 10 s) for `path` to exist.
    static bool appears(const std::string& path) {
        for (int i = 0; i < 1000; ++i) {
            if (std::filesystem::exists(path)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    std::string dir_;
};

TEST_F(CheckpointWriterTest, WritesTheStateAtOnceAndTheMetadataOnlyOnceTheSinksAreReady) {
    CheckpointStore store(dir_, "live");
    CheckpointWriter writer(store);
    EXPECT_FALSE(writer.busy());
    writer.start(checkpoint(1, {"millrace-", "upsert-state ", "bytes"}));
    EXPECT_TRUE(writer.busy());
    ASSERT_TRUE(appears(store.folder(1) + "/sink-0.state"));
    // The state is there, the sinks are not pre-committed yet: no metadata, not complete.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(writer.done());
    EXPECT_FALSE(std::filesystem::exists(store.folder(1) + "/_metadata"));
    writer.sinks_ready();
    CheckpointWriter::Outcome outcome = writer.wait();
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error().to_string();
    EXPECT_TRUE(outcome.completed);
    EXPECT_EQ(outcome.metadata.id, 1u);
    EXPECT_FALSE(writer.busy());
    auto latest = store.latest();
    ASSERT_TRUE(latest.ok()) << latest.error().to_string();
    ASSERT_TRUE(latest->has_value());
    EXPECT_EQ((*latest)->id, 1u);
    auto bytes = store.read_state(1, "sink-0.state");
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(*bytes, "millrace-upsert-state bytes");  // the parts, one after the other
}

TEST_F(CheckpointWriterTest, DoneOnceCompleteAndLinksTheOlderCheckpointsFiles) {
    CheckpointStore store(dir_, "live");
    CheckpointWriter writer(store);
    ASSERT_TRUE(complete(writer, checkpoint(1, {"whole"})).ok());
    CheckpointWrite second = checkpoint(2, {"changes"});
    second.files[0].name = "sink-0.2.changes";
    second.links.emplace_back(1, "sink-0.state");
    writer.start(std::move(second));
    writer.sinks_ready();
    for (int i = 0; i < 1000 && !writer.done(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(writer.done());
    CheckpointWriter::Outcome outcome = writer.wait();
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error().to_string();
    EXPECT_EQ(*store.read_state(2, "sink-0.state"), "whole");
    EXPECT_EQ(*store.read_state(2, "sink-0.2.changes"), "changes");
}

TEST_F(CheckpointWriterTest, ACheckpointWhoseSinksNeverGotReadyIsAbandonedIncomplete) {
    CheckpointStore store(dir_, "live");
    {
        CheckpointWriter writer(store);
        ASSERT_TRUE(complete(writer, checkpoint(1, {"state"})).ok());
        writer.start(checkpoint(2, {"state"}));
        // A sink failed to pre-commit: the runner waits without saying the sinks are ready.
        CheckpointWriter::Outcome outcome = writer.wait();
        EXPECT_TRUE(outcome.status.ok());
        EXPECT_FALSE(outcome.completed);
        // And one left in flight when the run fails is abandoned by the destructor.
        writer.start(checkpoint(3, {"state"}));
    }
    EXPECT_FALSE(std::filesystem::exists(store.folder(2) + "/_metadata"));
    EXPECT_FALSE(std::filesystem::exists(store.folder(3) + "/_metadata"));
    auto latest = store.latest();
    ASSERT_TRUE(latest.ok());
    ASSERT_TRUE(latest->has_value());
    EXPECT_EQ((*latest)->id, 1u);
    EXPECT_FALSE(std::filesystem::exists(store.folder(2)));  // removed as incomplete
}

TEST_F(CheckpointWriterTest, AFailedWriteIsReportedAndTheCheckpointIsNotComplete) {
    CheckpointStore store(dir_, "live");
    CheckpointWriter writer(store);
    CheckpointWrite write = checkpoint(1, {"state"});
    write.links.emplace_back(7, "sink-0.state");  // checkpoint 7 does not exist
    writer.start(std::move(write));
    writer.sinks_ready();
    CheckpointWriter::Outcome outcome = writer.wait();
    EXPECT_FALSE(outcome.status.ok());
    EXPECT_FALSE(outcome.completed);
    EXPECT_FALSE(std::filesystem::exists(store.folder(1) + "/_metadata"));
}

}  // namespace
}  // namespace millrace
