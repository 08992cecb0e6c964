#include "connectors/generator_source.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "formats/decode_sink.h"

namespace millrace {
namespace {

SourceSpec orders(double rate, std::optional<uint64_t> limit) {
    SourceSpec spec;
    spec.name = "orders";
    spec.kind = SourceKind::kGenerator;
    spec.generator_kind = "orders";
    spec.generator_rate = rate;
    spec.generator_seed = 7;
    spec.generator_limit = limit;
    return spec;
}

TEST(GeneratorSource, DeliversWhatTheRateMakesDueThenEndsAtItsLimit) {
    ManualClock clock(1'000'000'000);
    auto source = GeneratorSource::open(orders(100, 250), clock);
    ASSERT_TRUE(source.ok()) << source.error().to_string();
    CollectingSink sink;
    EXPECT_EQ(*(*source)->poll(sink, 1000, nullptr), PollResult::kIdle);  // nothing due yet
    clock.advance_micros(1'000'000);
    EXPECT_EQ(*(*source)->poll(sink, 1000, nullptr), PollResult::kData);
    EXPECT_EQ(sink.rows, 100u);
    EXPECT_EQ(*(*source)->poll(sink, 1000, nullptr), PollResult::kIdle);
    clock.advance_micros(10'000'000);  // 1000 due, 250 allowed, 60 per poll
    std::size_t polls = 0;
    while (*(*source)->poll(sink, 60, nullptr) == PollResult::kData) ++polls;
    EXPECT_EQ(polls, 3u);
    EXPECT_EQ(sink.rows, 250u);
    EXPECT_EQ((*source)->position().offset, 250u);
    EXPECT_EQ(*(*source)->poll(sink, 60, nullptr), PollResult::kEnd);
    // Event times start at the clock and are ordered.
    const Batch& first = sink.batches.front();
    const auto index = first.schema().index_of("timestamp");
    ASSERT_TRUE(index);
    EXPECT_GE(first.column(*index).values<int64_t>()[0], 1'000'000'000);
}

TEST(GeneratorSource, TheSameSeedGivesTheSameRecords) {
    auto rows = [] {
        ManualClock clock(0);
        auto source = GeneratorSource::open(orders(1000, 50), clock);
        CollectingSink sink;
        clock.advance_micros(1'000'000);
        while (*(*source)->poll(sink, 1000, nullptr) == PollResult::kData) {
        }
        std::string text;
        for (const Batch& batch : sink.batches) text += batch.to_string(1000);
        return text;
    };
    EXPECT_EQ(rows(), rows());
}

TEST(GeneratorSource, UnknownKindIsAConfigError) {
    ManualClock clock(0);
    SourceSpec spec = orders(1, std::nullopt);
    spec.generator_kind = "bids";
    auto source = GeneratorSource::open(spec, clock);
    ASSERT_FALSE(source.ok());
    EXPECT_EQ(source.error().code(), ErrorCode::kConfig);
}

}  // namespace
}  // namespace millrace
