#include "lineage/lineage_outbox.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "common/text_file.h"

namespace millrace {
namespace {

class LineageOutboxTest : public testing::Test {
protected:
    void SetUp() override {
        dir_ = testing::TempDir() + "lineage_outbox_test_" + std::to_string(::getpid()) + "_" +
               testing::UnitTest::GetInstance()->current_test_info()->name();
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    static RunEvent event(RunEventType type, int64_t micros) {
        RunEvent e;
        e.type = type;
        e.event_time_micros = micros;
        e.run_id = new_uuid_v7(micros / 1000);
        e.job_namespace = "ns";
        e.job_name = "pipeline.p";
        e.job_type = "PIPELINE";
        return e;
    }

    std::string dir_;
};

TEST_F(LineageOutboxTest, EventsWaitInWriteOrder) {
    LineageOutbox outbox(dir_);
    EXPECT_EQ(outbox.depth(), 0u);
    ASSERT_TRUE(outbox.add(event(RunEventType::kStart, 2'000'000)).ok());
    ASSERT_TRUE(outbox.add(event(RunEventType::kComplete, 2'000'000)).ok());
    ASSERT_TRUE(outbox.add(event(RunEventType::kStart, 1'000'000)).ok());
    EXPECT_EQ(outbox.depth(), 3u);
    const std::vector<std::string> files = outbox.event_files();
    ASSERT_EQ(files.size(), 3u);
    // Oldest event first; at the same time, the order they were written in.
    auto type_of = [](const std::string& path) {
        Result<std::string> text = read_text_file(path, 1 << 20);
        return text.ok() ? text->substr(0, 30) : std::string();
    };
    EXPECT_NE(files[0].find("00000000000001000000-"), std::string::npos) << files[0];
    EXPECT_NE(type_of(files[1]).find("START"), std::string::npos);
    EXPECT_NE(type_of(files[2]).find("COMPLETE"), std::string::npos);
}

TEST_F(LineageOutboxTest, UnreachableCollectorKeepsEverything) {
    // A port nobody listens on: bind one, note it, close it.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/x";

    LineageOutbox outbox(dir_);
    ASSERT_TRUE(outbox.add(event(RunEventType::kStart, 1'000'000)).ok());
    Result<LineageDelivery> delivery = outbox.deliver(url, std::chrono::milliseconds(500));
    ASSERT_TRUE(delivery.ok()) << delivery.error().to_string();
    EXPECT_EQ(delivery->delivered, 0u);
    EXPECT_EQ(delivery->pending, 1u);
    EXPECT_FALSE(delivery->error.empty());
    EXPECT_EQ(outbox.depth(), 1u);
}

TEST_F(LineageOutboxTest, BadUrlIsAnError) {
    LineageOutbox outbox(dir_);
    ASSERT_TRUE(outbox.add(event(RunEventType::kStart, 1'000'000)).ok());
    EXPECT_FALSE(outbox.deliver("https://collector/x", std::chrono::milliseconds(100)).ok());
    EXPECT_EQ(outbox.depth(), 1u);
}

}  // namespace
}  // namespace millrace
