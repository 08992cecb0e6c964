#include "log/consumer_offsets.h"

#include <gtest/gtest.h>

#include "log/tests/log_test_dir.h"

namespace millrace {

TEST(ConsumerOffsets, CommitsSurviveReopen) {
    LogTestDir dir;
    {
        ConsumerOffsets offsets(dir.path() + "/_consumers");
        auto none = offsets.fetch("reader", "events", 0);
        ASSERT_TRUE(none.ok());
        EXPECT_FALSE(none->has_value());
        ASSERT_TRUE(offsets.commit("reader", "events", 0, 42).ok());
        ASSERT_TRUE(offsets.commit("reader", "events", 1, 7).ok());
        ASSERT_TRUE(offsets.commit("reader", "events", 0, 43).ok());
        ASSERT_TRUE(offsets.commit("other", "clicks", 0, 1).ok());
    }
    ConsumerOffsets offsets(dir.path() + "/_consumers");
    EXPECT_EQ(**offsets.fetch("reader", "events", 0), 43);
    EXPECT_EQ(**offsets.fetch("reader", "events", 1), 7);
    EXPECT_EQ(**offsets.fetch("other", "clicks", 0), 1);
    ASSERT_TRUE(offsets.forget_topic("events").ok());
    EXPECT_FALSE(offsets.fetch("reader", "events", 0)->has_value());
}

TEST(ConsumerOffsets, ListsEveryConsumerOfATopic) {
    LogTestDir dir;
    ConsumerOffsets offsets(dir.path() + "/_consumers");
    EXPECT_TRUE(offsets.for_topic("events").empty());
    ASSERT_TRUE(offsets.commit("billing", "events", 1, 5).ok());
    ASSERT_TRUE(offsets.commit("billing", "clicks", 0, 9).ok());
    ASSERT_TRUE(offsets.commit("audit", "events", 0, 2).ok());
    // Another process's commits (read-only beside the writer) show up too.
    ConsumerOffsets reader(dir.path() + "/_consumers", true);
    const auto events = reader.for_topic("events");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events.at("audit").at(0), 2);
    EXPECT_EQ(events.at("billing").size(), 1u);
    EXPECT_EQ(events.at("billing").at(1), 5);
}

TEST(ConsumerOffsets, RejectsBadNames) {
    LogTestDir dir;
    ConsumerOffsets offsets(dir.path());
    auto status = offsets.commit("../evil", "t", 0, 1);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace millrace
