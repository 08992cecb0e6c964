#include "kafka/group_coordinator.h"

#include <gtest/gtest.h>

#include <future>

#include "kafka/apis.h"

namespace millrace::kafka {

namespace {

const ApiSpec& api(ApiKey key) { return *find_api(static_cast<int16_t>(key)); }

/// The coordinator on a running EventLoop driven by a ManualClock; every call waits for the
/// loop to have run it, replies that arrive later are collected in futures.
class GroupCoordinatorTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(loop_.open().ok());
        loop_.start();
        run([this] { groups_.start(); });
    }
    void TearDown() override { loop_.stop(); }

    void run(std::function<void()> fn) {
        std::promise<void> done;
        loop_.post([&] {
            fn();
            done.set_value();
        });
        done.get_future().get();
    }

    std::shared_future<Struct> join(const std::string& member, int16_t version = 2) {
        auto promise = std::make_shared<std::promise<Struct>>();
        Struct request(api(ApiKey::kJoinGroup).request);
        request.set("GroupId", std::string("g")).set("SessionTimeoutMs", 10000);
        request.set("RebalanceTimeoutMs", 30000).set("MemberId", member);
        request.set("ProtocolType", std::string("consumer"));
        request.add("Protocols")
            .set("Name", std::string("range"))
            .set("Metadata", std::string("m-" + member));
        run([&] {
            groups_.join(request, version, "client", "127.0.0.1",
                         [promise](Struct reply) { promise->set_value(std::move(reply)); });
        });
        return promise->get_future().share();
    }

    Struct call(ApiKey key, const std::string& member, int64_t generation) {
        Struct request(api(key).request);
        request.set("GroupId", std::string("g"));
        if (key == ApiKey::kLeaveGroup) {
            request.set("MemberId", member);
        } else {
            request.set("MemberId", member).set("GenerationId", generation);
        }
        auto promise = std::make_shared<std::promise<Struct>>();
        auto reply = [promise](Struct answer) { promise->set_value(std::move(answer)); };
        run([&] {
            if (key == ApiKey::kHeartbeat) groups_.heartbeat(request, reply);
            if (key == ApiKey::kSyncGroup) groups_.sync(request, reply);
            if (key == ApiKey::kLeaveGroup) groups_.leave(request, 1, reply);
        });
        return promise->get_future().get();
    }

    /// Moves the clock and lets the loop fire what is due.
    void advance(int64_t millis) {
        clock_.advance_micros(millis * 1000);
        run([] {});
        run([] {});
    }

    ManualClock clock_{1'000'000'000};
    EventLoop loop_{clock_};
    GroupCoordinator groups_{loop_, clock_, std::chrono::milliseconds(0)};
};

TEST_F(GroupCoordinatorTest, SecondMemberTriggersARebalanceAndTheLeaderSeesBoth) {
    Struct first = join("").get();
    ASSERT_EQ(first.integer("ErrorCode"), 0);
    const std::string a = first.string("MemberId");
    EXPECT_EQ(first.string("Leader"), a);
    EXPECT_EQ(first.integer("GenerationId"), 1);
    EXPECT_EQ(call(ApiKey::kSyncGroup, a, 1).integer("ErrorCode"), 0);
    EXPECT_EQ(call(ApiKey::kHeartbeat, a, 1).integer("ErrorCode"), 0);

    auto second = join("");
    EXPECT_EQ(call(ApiKey::kHeartbeat, a, 1).integer("ErrorCode"), 27);  // rebalance
    Struct again = join(a).get();
    Struct joined = second.get();
    EXPECT_EQ(again.integer("GenerationId"), 2);
    EXPECT_EQ(joined.integer("GenerationId"), 2);
    EXPECT_EQ(again.array("Members").size(), 2u);  // the leader gets every subscription
    EXPECT_TRUE(joined.array("Members").empty());
    EXPECT_EQ(call(ApiKey::kHeartbeat, a, 1).integer("ErrorCode"), 22);  // old generation
}

TEST_F(GroupCoordinatorTest, FollowersWaitForTheLeadersAssignment) {
    const std::string a = join("").get().string("MemberId");
    auto b_join = join("");
    Struct a_join = join(a).get();
    const std::string b = b_join.get().string("MemberId");
    auto promise = std::make_shared<std::promise<Struct>>();
    Struct b_sync(api(ApiKey::kSyncGroup).request);
    b_sync.set("GroupId", std::string("g")).set("MemberId", b).set("GenerationId", 2);
    run([&] {
        groups_.sync(b_sync, [promise](Struct reply) { promise->set_value(std::move(reply)); });
    });
    auto follower = promise->get_future();
    Struct leader_sync(api(ApiKey::kSyncGroup).request);
    leader_sync.set("GroupId", std::string("g")).set("MemberId", a).set("GenerationId", 2);
    leader_sync.add("Assignments").set("MemberId", a).set("Assignment", std::string("p0"));
    leader_sync.add("Assignments").set("MemberId", b).set("Assignment", std::string("p1"));
    auto leader_promise = std::make_shared<std::promise<Struct>>();
    run([&] {
        groups_.sync(leader_sync, [leader_promise](Struct reply) {
            leader_promise->set_value(std::move(reply));
        });
    });
    EXPECT_EQ(leader_promise->get_future().get().string("Assignment"), "p0");
    EXPECT_EQ(follower.get().string("Assignment"), "p1");
}

TEST_F(GroupCoordinatorTest, SessionTimeoutAndLeaveStartARebalance) {
    const std::string a = join("").get().string("MemberId");
    auto b_join = join("");
    join(a).get();
    const std::string b = b_join.get().string("MemberId");
    // b stops heartbeating; a keeps going until b's session (10 s) expires.
    for (int i = 0; i < 12; ++i) {
        advance(1000);
        call(ApiKey::kHeartbeat, a, 2);
    }
    EXPECT_EQ(call(ApiKey::kHeartbeat, b, 2).integer("ErrorCode"), 25);  // expired: unknown
    EXPECT_EQ(call(ApiKey::kHeartbeat, a, 2).integer("ErrorCode"), 27);
    Struct alone = join(a).get();
    EXPECT_EQ(alone.integer("GenerationId"), 3);
    EXPECT_EQ(alone.array("Members").size(), 1u);
    EXPECT_EQ(call(ApiKey::kLeaveGroup, a, 0).integer("ErrorCode"), 0);
    EXPECT_EQ(groups_.check_commit("g", -1, ""), 0);  // empty again: simple commits allowed
}

TEST_F(GroupCoordinatorTest, JoinV4AsksForAMemberIdFirst) {
    Struct first = join("", 4).get();
    EXPECT_EQ(first.integer("ErrorCode"), 79);
    const std::string id = first.string("MemberId");
    ASSERT_FALSE(id.empty());
    Struct joined = join(id, 4).get();
    EXPECT_EQ(joined.integer("ErrorCode"), 0);
    EXPECT_EQ(joined.string("MemberId"), id);
    EXPECT_EQ(join("made-up-id", 4).get().integer("ErrorCode"), 25);
}

}  // namespace

}  // namespace millrace::kafka
