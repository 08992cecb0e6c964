#include "exec/input_aligner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace millrace {
namespace {

using ::testing::ElementsAre;

/// Records what comes out of an aligner as text: "b<port>:<rows>", "end<port>", "wm<t>",
/// "barrier<id>", "publish", "fire".
class Recorder {
public:
    explicit Recorder(std::size_t ports)
        : aligner(
              ports,
              [this](std::size_t port, PortInput input) -> Status {
                  events.push_back(input.batch ? "b" + std::to_string(port) + ":" +
                                                     std::to_string(input.batch->num_rows())
                                               : "end" + std::to_string(port));
                  return {};
              },
              [this](const ControlSignal& s) -> Status {
                  events.push_back(s.kind == ControlSignal::Kind::kWatermark
                                       ? "wm" + std::to_string(s.watermark_micros)
                                   : s.kind == ControlSignal::Kind::kPublish
                                       ? std::string("publish")
                                   : s.kind == ControlSignal::Kind::kEarlyFire
                                       ? std::string("fire")
                                       : "barrier" + std::to_string(s.checkpoint_id));
                  return {};
              },
              "test") {}
    std::vector<std::string> events;
    InputAligner aligner;
};

Batch rows(std::size_t n) { return Batch(std::make_shared<const Schema>(), {}, n); }

TEST(InputAlignerTest, HoldsInputBehindABarrierUntilEveryOpenInputDeliveredIt) {
    Recorder r(3);
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(rows(1))).ok());
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::barrier(1))).ok());
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(rows(2))).ok());  // held
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(rows(3))).ok());
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(ControlSignal::barrier(1))).ok());
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::end()).ok());  // held
    EXPECT_THAT(r.events, ElementsAre("b0:1", "b1:3"));
    // The third input ends instead: the barrier is complete.
    ASSERT_TRUE(r.aligner.arrive(2, PortInput::end()).ok());
    EXPECT_THAT(r.events, ElementsAre("b0:1", "b1:3", "end2", "barrier1", "b0:2", "end1"));
}

TEST(InputAlignerTest, PublishPassesAtOnceUnlessBehindABarrier) {
    Recorder r(2);
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::publish())).ok());
    EXPECT_THAT(r.events, ElementsAre("publish"));
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::barrier(1))).ok());
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::publish())).ok());  // held
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(ControlSignal::publish())).ok());
    EXPECT_THAT(r.events, ElementsAre("publish", "publish"));
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(ControlSignal::barrier(1))).ok());
    EXPECT_THAT(r.events, ElementsAre("publish", "publish", "barrier1", "publish"));
}

TEST(InputAlignerTest, WatermarkIsTheMinimumOfTheOpenInputs) {
    Recorder r(2);
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::watermark(10))).ok());
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(ControlSignal::watermark(4))).ok());
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(ControlSignal::watermark(3))).ok());  // late
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(ControlSignal::watermark(12))).ok());
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::end()).ok());
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::watermark(20))).ok());
    EXPECT_THAT(r.events, ElementsAre("wm4", "wm10", "end1", "wm20"));
}

TEST(InputAlignerTest, ANewBarrierAmongHeldInputWaitsAgain) {
    Recorder r(2);
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::barrier(1))).ok());
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(rows(1))).ok());
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::barrier(2))).ok());
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(rows(2))).ok());
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(ControlSignal::barrier(1))).ok());
    EXPECT_THAT(r.events, ElementsAre("barrier1", "b0:1"));
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(ControlSignal::barrier(2))).ok());
    EXPECT_THAT(r.events, ElementsAre("barrier1", "b0:1", "barrier2", "b0:2"));
}

TEST(InputAlignerTest, DifferentBarriersOnTwoInputsAreAnError) {
    Recorder r(2);
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::barrier(1))).ok());
    Status status = r.aligner.arrive(1, PortInput::of(ControlSignal::barrier(2)));
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kInvalidArgument);
}

TEST(InputAlignerTest, AnEarlyFireGoesOutAsItArrivesUnlessBehindABarrier) {
    Recorder r(2);
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::early_fire())).ok());
    EXPECT_THAT(r.events, ElementsAre("fire"));  // no waiting for the other input
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(ControlSignal::early_fire())).ok());
    EXPECT_THAT(r.events, ElementsAre("fire", "fire"));
    // Behind a barrier it waits with the rest of its input.
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::barrier(3))).ok());
    ASSERT_TRUE(r.aligner.arrive(0, PortInput::of(ControlSignal::early_fire())).ok());
    EXPECT_THAT(r.events, ElementsAre("fire", "fire"));
    ASSERT_TRUE(r.aligner.arrive(1, PortInput::of(ControlSignal::barrier(3))).ok());
    EXPECT_THAT(r.events, ElementsAre("fire", "fire", "barrier3", "fire"));
}

}  // namespace
}  // namespace millrace
