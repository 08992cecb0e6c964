#include "connectors/generator_source.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

/// What each of `polls` polls of up to `records` delivers: its rows as text, then the reasons
/// and raw bytes of its rejected records.
std::vector<std::string> read_polls(SourceReader& source, std::size_t polls, std::size_t records) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < polls; ++i) {
        CollectingSink sink;
        auto result = source.poll(sink, records, nullptr);
        EXPECT_TRUE(result.ok()) << result.error().to_string();
        if (!result.ok() || *result != PollResult::kData) break;
        std::string text;
        for (const Batch& batch : sink.batches) text += batch.to_string(records);
        for (const RowError& error : sink.errors)
            text += "error " + error.reason + " " + error.raw + "\n";
        out.push_back(std::move(text));
    }
    return out;
}

SourceSpec resumable(const std::string& kind) {
    SourceSpec spec = orders(1000, 2000);
    spec.generator_kind = kind;
    spec.generator_paced = false;
    if (kind == "nexmark") spec.generator_events = "bid";
    if (kind == "orders" || kind == "activity") spec.generator_bad_fraction = 0.05;
    // Activity makes a day of `rate` per second: 0.01/s is 864 rows a day, so the 2000 records
    // cross two day boundaries.
    if (kind == "activity") spec.generator_rate = 0.01;
    return spec;
}

TEST(GeneratorSource, ResumedAtASavedPositionMakesWhatAnUninterruptedSourceMakes) {
    constexpr int64_t kOpened = 1'767'225'600'000'000 + 3'600'000'000;
    for (const std::string kind : {"orders", "transactions", "activity", "nexmark"}) {
        SCOPED_TRACE(kind);
        const SourceSpec spec = resumable(kind);
        ManualClock clock(kOpened);
        auto whole = GeneratorSource::open(spec, clock);
        ASSERT_TRUE(whole.ok()) << whole.error().to_string();
        const std::vector<std::string> expected = read_polls(**whole, 100, 100);
        ASSERT_EQ(expected.size(), 20u);  // 2000 records, 100 a poll

        for (const std::size_t polls : {std::size_t{0}, std::size_t{7}, std::size_t{20}}) {
            SCOPED_TRACE(polls);
            auto first = GeneratorSource::open(spec, clock);
            ASSERT_TRUE(first.ok());
            EXPECT_EQ(read_polls(**first, polls, 100).size(), polls);
            const SourcePosition saved = (*first)->position();
            EXPECT_EQ(saved.offset, polls * 100);
            ASSERT_TRUE(saved.origin_micros);
            // A later process: another time on the clock, the position through its text form.
            ManualClock later(kOpened + 86'400'000'000 * 3 + 12'345);
            auto resumed = GeneratorSource::open(spec, later);
            ASSERT_TRUE(resumed.ok());
            auto parsed = SourcePosition::parse(saved.to_string());
            ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
            ASSERT_TRUE((*resumed)->seek(*parsed).ok());
            EXPECT_EQ((*resumed)->position(), saved);
            const std::vector<std::string> rest = read_polls(**resumed, 100, 100);
            EXPECT_EQ(rest, std::vector<std::string>(expected.begin() + polls, expected.end()));
            CollectingSink sink;
            EXPECT_EQ(*(*resumed)->poll(sink, 100, nullptr), PollResult::kEnd);
        }
    }
}

TEST(GeneratorSource, SeeksBackAndForthInOneProcess) {
    ManualClock clock(1'767'225'600'000'000);
    auto source = GeneratorSource::open(resumable("orders"), clock);
    ASSERT_TRUE(source.ok());
    const SourcePosition start = (*source)->position();
    const std::vector<std::string> expected = read_polls(**source, 5, 100);
    const SourcePosition later = (*source)->position();
    ASSERT_TRUE((*source)->seek(start).ok());  // back to the start: the same records again
    EXPECT_EQ(read_polls(**source, 5, 100), expected);
    ASSERT_TRUE((*source)->seek(start).ok());
    SourcePosition mid = start;
    mid.offset = 300;  // forward, past records never delivered
    ASSERT_TRUE((*source)->seek(mid).ok());
    EXPECT_EQ(read_polls(**source, 2, 100),
              std::vector<std::string>(expected.begin() + 3, expected.end()));
    EXPECT_EQ((*source)->position(), later);
}

TEST(GeneratorSource, PacingGoesOnFromTheSeekNotFromTheFirstOpen) {
    ManualClock clock(1'000'000'000);
    SourceSpec spec = orders(100, std::nullopt);
    auto first = GeneratorSource::open(spec, clock);
    ASSERT_TRUE(first.ok());
    clock.advance_micros(2'000'000);
    EXPECT_EQ(read_polls(**first, 1, 1000).size(), 1u);
    const SourcePosition saved = (*first)->position();
    EXPECT_EQ(saved.offset, 200u);
    // Restarted an hour later: the 200 records are made again at once (skipped), but the hour
    // the source was down is not caught up: nothing more is due until time passes.
    clock.advance_micros(3'600'000'000);
    auto resumed = GeneratorSource::open(spec, clock);
    ASSERT_TRUE(resumed.ok());
    ASSERT_TRUE((*resumed)->seek(saved).ok());
    CollectingSink sink;
    EXPECT_EQ(*(*resumed)->poll(sink, 1000, nullptr), PollResult::kIdle);
    clock.advance_micros(500'000);
    EXPECT_EQ(*(*resumed)->poll(sink, 1000, nullptr), PollResult::kData);
    EXPECT_EQ(sink.rows, 50u);
    EXPECT_EQ((*resumed)->position().offset, 250u);
    // Event times go on from the first run's origin, not from the restart.
    const auto index = sink.batches.front().schema().index_of("timestamp");
    ASSERT_TRUE(index);
    EXPECT_LT(sink.batches.front().column(*index).values<int64_t>()[0],
              1'000'000'000 + 3'600'000'000);
}

TEST(GeneratorSource, StartFixesTheEventTimeOrigin) {
    auto first_time = [](int64_t clock_micros) {
        ManualClock clock(clock_micros);
        SourceSpec spec = resumable("orders");
        spec.generator_start_micros = 1'795'430'400'000'000;  // 2026-11-23T10:00:00Z
        auto source = GeneratorSource::open(spec, clock);
        EXPECT_EQ((*source)->position().origin_micros, spec.generator_start_micros);
        CollectingSink sink;
        EXPECT_EQ(*(*source)->poll(sink, 10, nullptr), PollResult::kData);
        const auto index = sink.batches.front().schema().index_of("timestamp");
        return sink.batches.front().column(*index).values<int64_t>()[0];
    };
    // Whenever it opens, the first order is at `start` (plus its first random step).
    EXPECT_EQ(first_time(0), first_time(1'000'000'000'000));
    EXPECT_GE(first_time(0), 1'795'430'400'000'000);
    EXPECT_LT(first_time(0), 1'795'430'400'000'000 + 10'000);
}

TEST(GeneratorSource, RefusesPositionsItCannotHaveMade) {
    ManualClock clock(0);
    auto source = GeneratorSource::open(orders(1000, 100), clock);
    ASSERT_TRUE(source.ok());
    SourcePosition position = (*source)->position();
    position.unit = 1;
    EXPECT_EQ((*source)->seek(position).error().code(), ErrorCode::kInvalidArgument);
    position = (*source)->position();
    position.offset = 101;  // past the limit
    EXPECT_EQ((*source)->seek(position).error().code(), ErrorCode::kInvalidArgument);
    // Without the origin an orders generator cannot know its event times (nexmark can).
    EXPECT_EQ((*source)->seek(SourcePosition{0, 10, 0}).error().code(),
              ErrorCode::kInvalidArgument);
    SourceSpec spec = resumable("nexmark");
    auto nexmark = GeneratorSource::open(spec, clock);
    ASSERT_TRUE(nexmark.ok());
    EXPECT_TRUE((*nexmark)->seek(SourcePosition{0, 10, 0}).ok());
    EXPECT_EQ((*nexmark)->position().offset, 10u);
}

}  // namespace
}  // namespace millrace
