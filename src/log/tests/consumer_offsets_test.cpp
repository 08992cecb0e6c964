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

TEST(ConsumerOffsets, RejectsBadNames) {
    LogTestDir dir;
    ConsumerOffsets offsets(dir.path());
    auto status = offsets.commit("../evil", "t", 0, 1);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace millrace
