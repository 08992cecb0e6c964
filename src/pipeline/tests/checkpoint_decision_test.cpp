#include "pipeline/checkpoint_decision.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace millrace {
namespace {

/// A transaction whose last committed marker the test sets; counts how often it was asked.
class FakeDecider final : public CheckpointDecider {
public:
    std::string kind() const override { return "kafka"; }
    std::string name() const override { return name_; }
    bool deciding() const override { return false; }
    Status commit(uint64_t id) override {
        markers_ = {id};
        return {};
    }
    Result<std::vector<uint64_t>> committed_markers() override {
        ++asked_;
        if (unavailable_) return Error(ErrorCode::kUnavailable, "brokers down");
        return markers_;
    }

    std::string name_ = "millrace-live-1";
    std::vector<uint64_t> markers_;
    bool unavailable_ = false;
    int asked_ = 0;
};

class CheckpointDecisionTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-decision-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    /// Checkpoint `id`, decided by the fake's transaction when `decided`.
    void complete(CheckpointStore& store, uint64_t id, bool decided) {
        CheckpointMetadata m;
        m.id = id;
        if (decided) m.decided_by = CheckpointDecision{"kafka", "millrace-live-1"};
        ASSERT_TRUE(store.write_state(id, "sink-0.state", std::to_string(id)).ok());
        ASSERT_TRUE(store.complete(m).ok());
    }

    std::string dir_;
    FakeDecider decider_;
};

TEST_F(CheckpointDecisionTest, ACheckpointNotDecidedByATransactionIsCompleteAsBefore) {
    CheckpointStore store(dir_, "live");
    auto none = settle_latest_checkpoint(store, nullptr);
    ASSERT_TRUE(none.ok()) << none.error().to_string();
    EXPECT_FALSE(none->has_value());
    complete(store, 3, true);
    complete(store, 4, false);
    // A pipeline without the transaction settles a checkpoint its metadata decided.
    auto settled = settle_latest_checkpoint(store, nullptr);
    ASSERT_TRUE(settled.ok()) << settled.error().to_string();
    EXPECT_EQ((*settled)->id, 4u);
    settled = settle_latest_checkpoint(store, &decider_);
    ASSERT_TRUE(settled.ok()) << settled.error().to_string();
    EXPECT_EQ((*settled)->id, 4u);
    EXPECT_EQ(decider_.asked_, 1) << "asked anyway: that ends what the dead run left open";
}

// The crash fell after the transaction committed: its marker is the checkpoint's id.
TEST_F(CheckpointDecisionTest, ACommittedTransactionCompletesItsCheckpoint) {
    CheckpointStore store(dir_, "live");
    complete(store, 6, true);
    complete(store, 7, true);
    decider_.markers_ = {7};
    auto settled = settle_latest_checkpoint(store, &decider_);
    ASSERT_TRUE(settled.ok()) << settled.error().to_string();
    EXPECT_EQ((*settled)->id, 7u);
    EXPECT_EQ(*store.complete_ids(), (std::vector<uint64_t>{6, 7}));
}

// The marker was kept in another sink's topic before the sinks were reordered: any place that
// holds the checkpoint's id says it committed (ids are committed once each).
TEST_F(CheckpointDecisionTest, AMarkerInAnyOfItsPlacesCompletesTheCheckpoint) {
    CheckpointStore store(dir_, "live");
    complete(store, 8, true);
    decider_.markers_ = {3, 8};
    auto settled = settle_latest_checkpoint(store, &decider_);
    ASSERT_TRUE(settled.ok()) << settled.error().to_string();
    EXPECT_EQ((*settled)->id, 8u);
}

// The crash fell between `_metadata` and the commit: the marker is the previous checkpoint's,
// so the newest is removed and the one before it restored.
TEST_F(CheckpointDecisionTest, AnUncommittedTransactionDropsItsCheckpoint) {
    CheckpointStore store(dir_, "live");
    complete(store, 5, false);
    complete(store, 6, true);
    complete(store, 7, true);
    decider_.markers_ = {6};
    auto settled = settle_latest_checkpoint(store, &decider_);
    ASSERT_TRUE(settled.ok()) << settled.error().to_string();
    EXPECT_EQ((*settled)->id, 6u);
    EXPECT_EQ(*store.complete_ids(), (std::vector<uint64_t>{5, 6}));
    EXPECT_FALSE(std::filesystem::exists(store.folder(7)));
    EXPECT_EQ(decider_.asked_, 1);
    // Settling again (a crash right after) changes nothing more.
    settled = settle_latest_checkpoint(store, &decider_);
    ASSERT_TRUE(settled.ok());
    EXPECT_EQ((*settled)->id, 6u);
}

// No transaction ever committed (or the marker belongs to older, removed checkpoints): every
// decided checkpoint goes, down to one the metadata decided, or to none.
TEST_F(CheckpointDecisionTest, DropsEveryUncommittedCheckpointDownToOneThatCompleted) {
    CheckpointStore store(dir_, "live", 5);
    complete(store, 2, false);
    complete(store, 3, true);
    complete(store, 4, true);
    auto settled = settle_latest_checkpoint(store, &decider_);
    ASSERT_TRUE(settled.ok()) << settled.error().to_string();
    EXPECT_EQ((*settled)->id, 2u);
    EXPECT_EQ(decider_.asked_, 1) << "the marker is read once";

    CheckpointStore other(dir_, "other");
    complete(other, 9, true);
    decider_.markers_ = {40};  // another id: not this checkpoint's commit
    settled = settle_latest_checkpoint(other, &decider_);
    ASSERT_TRUE(settled.ok()) << settled.error().to_string();
    EXPECT_FALSE(settled->has_value());
}

// Nothing but the transaction can say whether the checkpoint completed: without it, or with
// another one, the run refuses to guess; with the brokers down, it fails and keeps everything.
TEST_F(CheckpointDecisionTest, RefusesToGuessWithoutTheDecidingTransaction) {
    CheckpointStore store(dir_, "live");
    complete(store, 3, true);
    auto settled = settle_latest_checkpoint(store, nullptr);
    ASSERT_FALSE(settled.ok());
    EXPECT_EQ(settled.error().code(), ErrorCode::kConfig);
    decider_.name_ = "millrace-live-2";
    settled = settle_latest_checkpoint(store, &decider_);
    ASSERT_FALSE(settled.ok());
    EXPECT_EQ(settled.error().code(), ErrorCode::kConfig);
    decider_.name_ = "millrace-live-1";
    decider_.unavailable_ = true;
    settled = settle_latest_checkpoint(store, &decider_);
    ASSERT_FALSE(settled.ok());
    EXPECT_EQ(settled.error().code(), ErrorCode::kUnavailable);
    EXPECT_EQ(*store.complete_ids(), (std::vector<uint64_t>{3}));
}

}  // namespace
}  // namespace millrace
