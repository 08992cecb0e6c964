#include "common/logger.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

namespace millrace {
namespace {

// Collects lines; the logger calls the sink under its own mutex, so no lock is needed here.
struct Lines {
    std::vector<std::string> lines;
    Logger::Sink sink() {
        return [this](std::string_view line) { lines.emplace_back(line); };
    }
};

constexpr int64_t kNow = 1'795'460'181'123'456;  // 2026-11-23T18:56:21.123456Z

TEST(Logger, WritesOneJsonLinePerEvent) {
    ManualClock clock(kNow);
    Lines out;
    Logger logger(out.sink(), LogLevel::kInfo, &clock);
    logger.info("cli", "project loaded", {{"pipelines", 3}, {"dir", "examples/demo"}});
    ASSERT_EQ(out.lines.size(), 1u);
    EXPECT_EQ(out.lines[0],
              "{\"ts\":\"2026-11-23T18:56:21.123456Z\",\"level\":\"info\",\"component\":\"cli\","
              "\"msg\":\"project loaded\",\"pipelines\":3,\"dir\":\"examples/demo\"}\n");
}

TEST(Logger, RendersEveryValueKind) {
    ManualClock clock(0);
    Lines out;
    Logger logger(out.sink(), LogLevel::kDebug, &clock);
    const std::string owned = "x\"y";
    logger.debug("t", "m",
                 {{"i", -5},
                  {"u", uint64_t{18'446'744'073'709'551'615u}},
                  {"small", static_cast<uint8_t>(7)},
                  {"d", 0.25},
                  {"f", 2.0f},
                  {"yes", true},
                  {"no", false},
                  {"s", owned},
                  {"null_text", static_cast<const char*>(nullptr)}});
    ASSERT_EQ(out.lines.size(), 1u);
    EXPECT_NE(out.lines[0].find(",\"i\":-5,\"u\":18446744073709551615,\"small\":7,\"d\":0.25,"
                                "\"f\":2,\"yes\":true,\"no\":false,\"s\":\"x\\\"y\","
                                "\"null_text\":\"\"}"),
              std::string::npos)
        << out.lines[0];
}

TEST(Logger, NonFiniteDoublesStayValidJson) {
    ManualClock clock(0);
    Lines out;
    Logger logger(out.sink(), LogLevel::kInfo, &clock);
    logger.info("t", "m",
                {{"nan", std::numeric_limits<double>::quiet_NaN()},
                 {"inf", std::numeric_limits<double>::infinity()},
                 {"ninf", -std::numeric_limits<double>::infinity()}});
    EXPECT_NE(out.lines[0].find("\"nan\":\"NaN\",\"inf\":\"Infinity\",\"ninf\":\"-Infinity\""),
              std::string::npos);
}

TEST(Logger, EscapesComponentMessageAndKeys) {
    ManualClock clock(0);
    Lines out;
    Logger logger(out.sink(), LogLevel::kInfo, &clock);
    logger.error("a\"b", "line1\nline2\xff", {{"k\\", "v"}});
    EXPECT_NE(out.lines[0].find("\"level\":\"error\",\"component\":\"a\\\"b\","
                                "\"msg\":\"line1\\nline2\xef\xbf\xbd\",\"k\\\\\":\"v\"}"),
              std::string::npos)
        << out.lines[0];
}

TEST(Logger, FiltersByLevel) {
    ManualClock clock(0);
    Lines out;
    Logger logger(out.sink(), LogLevel::kWarn, &clock);
    EXPECT_FALSE(logger.enabled(LogLevel::kInfo));
    EXPECT_TRUE(logger.enabled(LogLevel::kError));
    logger.debug("t", "no");
    logger.info("t", "no");
    logger.warn("t", "yes");
    logger.error("t", "yes");
    EXPECT_EQ(out.lines.size(), 2u);
    EXPECT_NE(out.lines[0].find("\"level\":\"warn\""), std::string::npos);

    Logger child = logger.with_fields({{"run_id", 1}});
    logger.set_min_level(LogLevel::kDebug);  // shared with copies and children
    EXPECT_EQ(child.min_level(), LogLevel::kDebug);
    child.debug("t", "now yes");
    EXPECT_EQ(out.lines.size(), 3u);
}

TEST(Logger, ChildLoggersCarryFixedFields) {
    ManualClock clock(0);
    Lines out;
    Logger root(out.sink(), LogLevel::kInfo, &clock);
    Logger pipeline = root.with_fields({{"pipeline", "order_metrics"}});
    Logger run = pipeline.with_fields({{"run_id", 42}});
    run.info("stream", "started", {{"parallelism", 2}});
    pipeline.info("stream", "stopped");
    root.info("stream", "bare");
    ASSERT_EQ(out.lines.size(), 3u);
    EXPECT_NE(out.lines[0].find("\"msg\":\"started\",\"pipeline\":\"order_metrics\","
                                "\"run_id\":42,\"parallelism\":2}"),
              std::string::npos);
    EXPECT_NE(out.lines[1].find("\"msg\":\"stopped\",\"pipeline\":\"order_metrics\"}"),
              std::string::npos);
    EXPECT_NE(out.lines[2].find("\"msg\":\"bare\"}"), std::string::npos);
}

TEST(Logger, ConcurrentLinesNeverInterleave) {
    ManualClock clock(0);
    Lines out;
    Logger logger(out.sink(), LogLevel::kInfo, &clock);
    constexpr int kThreads = 4;
    constexpr int kPerThread = 500;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&logger, t] {
            for (int i = 0; i < kPerThread; ++i) {
                logger.info("t", "event", {{"thread", t}, {"i", i}});
            }
        });
    }
    for (auto& thread : threads) thread.join();
    ASSERT_EQ(out.lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
    for (const std::string& line : out.lines) {
        ASSERT_EQ(line.front(), '{');
        ASSERT_EQ(line.substr(line.size() - 2), "}\n");
        ASSERT_EQ(line.find('\n'), line.size() - 1);
    }
}

TEST(Logger, WritesToAFile) {
    ManualClock clock(0);
    std::FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    {
        Logger logger(file, LogLevel::kInfo, &clock);
        logger.info("t", "one");
        logger.info("t", "two");
    }
    std::rewind(file);
    char buffer[512] = {};
    const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, file);
    std::fclose(file);
    const std::string text(buffer, n);
    EXPECT_EQ(text,
              "{\"ts\":\"1970-01-01T00:00:00.000000Z\",\"level\":\"info\",\"component\":\"t\","
              "\"msg\":\"one\"}\n"
              "{\"ts\":\"1970-01-01T00:00:00.000000Z\",\"level\":\"info\",\"component\":\"t\","
              "\"msg\":\"two\"}\n");
}

TEST(Logger, WithoutAClockUsesSystemTime) {
    Lines out;
    Logger logger(out.sink());
    logger.info("t", "m");
    ASSERT_EQ(out.lines.size(), 1u);
    EXPECT_EQ(out.lines[0].substr(0, 9), "{\"ts\":\"20");
}

TEST(Logger, TextFormatForPeople) {
    ManualClock clock(kNow);
    Lines out;
    Logger logger(out.sink(), LogLevel::kInfo, &clock);
    Logger child = logger.with_fields({{"pipeline", "orders"}});
    logger.set_format(LogFormat::kText);  // copies and children follow
    child.warn("run", "rule", {{"rows", 3}, {"observed", "1 duplicate rows"}, {"ok", false}});
    ASSERT_EQ(out.lines.size(), 1u);
    EXPECT_EQ(out.lines[0],
              "2026-11-23T18:56:21.123456Z warn  run: rule pipeline=orders rows=3 "
              "observed=\"1 duplicate rows\" ok=false\n");
    EXPECT_EQ(parse_log_format("JSON"), LogFormat::kJson);
    EXPECT_EQ(parse_log_format("text"), LogFormat::kText);
    EXPECT_EQ(parse_log_format("xml"), std::nullopt);
}

TEST(Logger, LevelNames) {
    EXPECT_EQ(log_level_name(LogLevel::kDebug), "debug");
    EXPECT_EQ(log_level_name(LogLevel::kWarn), "warn");
    EXPECT_EQ(parse_log_level("INFO"), LogLevel::kInfo);
    EXPECT_EQ(parse_log_level("warning"), LogLevel::kWarn);
    EXPECT_EQ(parse_log_level("Error"), LogLevel::kError);
    EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
    EXPECT_EQ(parse_log_level("verbose"), std::nullopt);
}

}  // namespace
}  // namespace millrace
