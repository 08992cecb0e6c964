#include "server/readiness.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/clock.h"
#include "common/write_health.h"

namespace millrace {
namespace {

class ReadinessTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-readiness-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::create_directories(dir_ + "/log");
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string dir_;
    ManualClock clock_{1'000'000'000};
};

TEST_F(ReadinessTest, ReadyWhenEveryComponentCanWrite) {
    WriteHealth log;
    Readiness readiness({{"log", dir_ + "/log", &log, {}, {}},
                         {"lake", dir_ + "/lake/not/created/yet", nullptr, {}, {}}},
                        {.min_free_bytes = 0}, clock_);
    HttpResponse response = readiness.response();
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_TRUE(response.body.starts_with(
        "{\"status\":\"ready\",\"components\":{\"log\":{\"status\":\"ok\",\"free_bytes\":"))
        << response.body;
    EXPECT_EQ(response.body.find("failing"), std::string::npos);
    // The probe file is gone.
    EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/log"));
}

TEST_F(ReadinessTest, ARecordedWriteFailureIsReportedUntilAWriteOrProbeSucceeds) {
    WriteHealth log;
    Status store_probe;  // what the injected store probe answers
    std::optional<std::string> store_failure;
    Readiness readiness({{"log", dir_ + "/log", &log, {}, {}},
                         {"online_store", dir_, nullptr, [&] { return store_probe; },
                          [&] { return store_failure; }}},
                        {.min_free_bytes = 0}, clock_);
    ASSERT_EQ(readiness.response().status, 200);
    // A failed fsync between two probes: reported with its message at once.
    log.failed("writing /data/log/clicks-0/00000000000000000000.log: No space left on device");
    store_failure = "online store /data/online: IO error: No space left on device";
    HttpResponse response = readiness.response();
    EXPECT_EQ(response.status, 503);
    EXPECT_NE(response.body.find("\"status\":\"not ready\""), std::string::npos);
    EXPECT_NE(response.body.find("\"log\":{\"status\":\"failing\""), std::string::npos)
        << response.body;
    EXPECT_NE(response.body.find("last write failed: writing /data/log/clicks-0/"),
              std::string::npos);
    EXPECT_NE(response.body.find("\"failing\":[\"log\",\"online_store\"]"), std::string::npos)
        << response.body;
    // The store's own probe failing keeps it failing after its recorded failure is gone.
    store_failure.reset();
    store_probe = Error(ErrorCode::kIo, "online store: IO error: No space left on device");
    clock_.advance_micros(2'000'000);  // the next probe is due
    response = readiness.response();
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(response.body.find("\"log\":{\"status\":\"failing\""), std::string::npos)
        << "a passing probe cleared the log's older failure: " << response.body;
    EXPECT_NE(response.body.find("\"failing\":[\"online_store\"]"), std::string::npos)
        << response.body;
    store_probe = Status();
    clock_.advance_micros(2'000'000);
    EXPECT_EQ(readiness.response().status, 200);
    // A later success of the component clears its failure too.
    log.failed("disk full");
    EXPECT_EQ(readiness.response().status, 503);
    log.succeeded();
    EXPECT_EQ(readiness.response().status, 200);
}

TEST_F(ReadinessTest, FreeSpaceBelowTheFloorAndUnwritableDirectories) {
    Readiness low({{"log", dir_ + "/log", nullptr, {}, {}}}, {.min_free_bytes = int64_t{1} << 60},
                  clock_);
    HttpResponse response = low.response();
    EXPECT_EQ(response.status, 503);
    EXPECT_NE(response.body.find("bytes free in " + dir_ + "/log, below the floor of"),
              std::string::npos)
        << response.body;
    // A directory nobody may create files in (not even root): /proc.
    Readiness unwritable({{"lake", "/proc", nullptr, {}, {}}}, {.min_free_bytes = 0}, clock_);
    response = unwritable.response();
    EXPECT_EQ(response.status, 503);
    EXPECT_NE(response.body.find("cannot write in"), std::string::npos) << response.body;
}

}  // namespace
}  // namespace millrace
