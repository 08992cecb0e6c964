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

TEST(GeneratorSource, NexmarkRelationsStraightIntoBatchesUnpaced) {
    ManualClock clock(0);  // never advances: unpaced sources do not wait for it
    SourceSpec spec = orders(10'000'000, 1000);
    spec.generator_kind = "nexmark";
    spec.generator_events = "bid";
    spec.generator_paced = false;
    auto source = GeneratorSource::open(spec, clock);
    ASSERT_TRUE(source.ok()) << source.error().to_string();
    EXPECT_EQ((*source)->schema()->field(0).name, "auction");
    CollectingSink sink;
    std::size_t polls = 0;
    while (*(*source)->poll(sink, 300, nullptr) == PollResult::kData) ++polls;
    EXPECT_EQ(polls, 4u);        // 300 events a poll (all relations counted), up to the limit
    EXPECT_EQ(sink.rows, 920u);  // 46 bids in every 50 events
    EXPECT_EQ((*source)->position().offset, 1000u);
    // A person source with the same seed and limit: the people of the same sequence.
    spec.generator_events = "person";
    auto people = GeneratorSource::open(spec, clock);
    ASSERT_TRUE(people.ok());
    CollectingSink people_sink;
    while (*(*people)->poll(people_sink, 300, nullptr) == PollResult::kData) {
    }
    EXPECT_EQ(people_sink.rows, 20u);
    // events: is required, and only nexmark takes it.
    spec.generator_events = "";
    EXPECT_FALSE(GeneratorSource::schema_of(spec).ok());
}

TEST(GeneratorSource, TransactionsAndActivity) {
    ManualClock clock(1'767'225'600'000'000);
    SourceSpec spec = orders(1000, 500);
    spec.generator_kind = "transactions";
    auto transactions = GeneratorSource::open(spec, clock);
    ASSERT_TRUE(transactions.ok()) << transactions.error().to_string();
    clock.advance_micros(1'000'000);
    CollectingSink sink;
    while (*(*transactions)->poll(sink, 128, nullptr) == PollResult::kData) {
    }
    EXPECT_EQ(sink.rows, 500u);
    EXPECT_TRUE((*transactions)->schema()->index_of("account_id"));

    spec.generator_kind = "activity";
    spec.generator_bad_fraction = 0.1;
    auto activity = GeneratorSource::open(spec, clock);
    ASSERT_TRUE(activity.ok()) << activity.error().to_string();
    clock.advance_micros(1'000'000);
    CollectingSink activity_sink;
    while (*(*activity)->poll(activity_sink, 128, nullptr) == PollResult::kData) {
    }
    EXPECT_EQ(activity_sink.rows + activity_sink.errors.size(), 500u);
    EXPECT_GT(activity_sink.errors.size(), 20u);  // the bad rows are rejected, not lost
    EXPECT_TRUE((*activity)->schema()->index_of("event_time"));
}

}  // namespace
}  // namespace millrace
