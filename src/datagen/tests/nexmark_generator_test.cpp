#include "datagen/nexmark_generator.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "types/value.h"

namespace millrace {
namespace {

Batch generate(NexmarkRelation relation, uint64_t events, NexmarkGeneratorOptions options = {},
               uint64_t chunk = 1000) {
    NexmarkGenerator generator(relation, options);
    BatchBuilder builder(generator.schema());
    for (uint64_t done = 0; done < events; done += chunk)
        generator.append(builder, std::min(chunk, events - done));
    return builder.finish();
}

TEST(NexmarkGeneratorTest, ProportionsAreOnePersonThreeAuctionsFortySixBids) {
    constexpr uint64_t kEvents = 50'000;
    const Batch people = generate(NexmarkRelation::kPerson, kEvents);
    const Batch auctions = generate(NexmarkRelation::kAuction, kEvents);
    const Batch bids = generate(NexmarkRelation::kBid, kEvents);
    EXPECT_EQ(people.num_rows(), 1000u);
    EXPECT_EQ(auctions.num_rows(), 3000u);
    EXPECT_EQ(bids.num_rows(), 46'000u);
    for (auto relation :
         {NexmarkRelation::kPerson, NexmarkRelation::kAuction, NexmarkRelation::kBid}) {
        for (uint64_t events : {0u, 1u, 3u, 4u, 5u, 49u, 50u, 51u, 123u}) {
            EXPECT_EQ(NexmarkGenerator::count_in(relation, events),
                      generate(relation, events).num_rows())
                << nexmark_relation_name(relation) << " " << events;
        }
    }
    // Ids start at 1000 and count up by one per new person / auction.
    EXPECT_EQ(people.column(0).value<int64_t>(0), 1000);
    EXPECT_EQ(people.column(0).value<int64_t>(999), 1999);
    EXPECT_EQ(auctions.column(0).value<int64_t>(0), 1000);
    EXPECT_EQ(auctions.column(0).value<int64_t>(2999), 3999);
}

TEST(NexmarkGeneratorTest, DeterministicBySeedAndIndependentOfChunking) {
    NexmarkGeneratorOptions options;
    options.seed = 7;
    const Batch a = generate(NexmarkRelation::kBid, 10'000, options, 1000);
    const Batch b = generate(NexmarkRelation::kBid, 10'000, options, 37);
    ASSERT_EQ(a.num_rows(), b.num_rows());
    EXPECT_EQ(a.to_string(a.num_rows()), b.to_string(b.num_rows()));
    options.seed = 8;
    const Batch c = generate(NexmarkRelation::kBid, 10'000, options);
    EXPECT_NE(a.to_string(100), c.to_string(100));

    // Starting part-way gives the same rows as the tail of a run from the start.
    NexmarkGenerator late(NexmarkRelation::kBid, NexmarkGeneratorOptions{.seed = 7});
    late.seek(5000);
    BatchBuilder builder(late.schema());
    late.append(builder, 5000);
    const Batch tail = builder.finish();
    const uint64_t skipped = NexmarkGenerator::count_in(NexmarkRelation::kBid, 5000);
    ASSERT_EQ(tail.num_rows(), a.num_rows() - skipped);
    for (std::size_t column = 0; column < tail.num_columns(); ++column) {
        EXPECT_EQ(tail.value_at(0, column).to_string(), a.value_at(skipped, column).to_string());
    }
}

TEST(NexmarkGeneratorTest, HotKeysAndRealisticSizes) {
    const Batch bids = generate(NexmarkRelation::kBid, 100'000);
    std::map<int64_t, uint64_t> per_auction;
    std::map<int64_t, uint64_t> per_bidder;
    std::set<std::string> channels;
    std::size_t bytes = 0;
    int64_t previous_time = INT64_MIN;
    for (std::size_t row = 0; row < bids.num_rows(); ++row) {
        ++per_auction[bids.column(0).value<int64_t>(row)];
        ++per_bidder[bids.column(1).value<int64_t>(row)];
        channels.insert(std::string(bids.column(3).string_at(row)));
        EXPECT_GE(bids.column(0).value<int64_t>(row), 1000);
        EXPECT_GE(bids.column(1).value<int64_t>(row), 1000);
        EXPECT_GE(bids.column(2).value<int64_t>(row), 100);  // at least $1 in cents
        const int64_t time = bids.column(5).value<int64_t>(row);
        EXPECT_GE(time, previous_time);  // event time never goes back
        previous_time = time;
        bytes += 24 + 8 + bids.column(3).string_at(row).size() +
                 bids.column(4).string_at(row).size() + bids.column(6).string_at(row).size();
    }
    // Half of the bids go to hot auctions (ids that are multiples of 100 past 1000), three in
    // four to hot bidders.
    uint64_t hot_auction_bids = 0;
    for (auto [auction, count] : per_auction) {
        if ((auction - 1000) % 100 == 0) hot_auction_bids += count;
    }
    EXPECT_GT(hot_auction_bids, bids.num_rows() * 45 / 100);
    EXPECT_LT(hot_auction_bids, bids.num_rows() * 60 / 100);
    uint64_t hot_bidder_bids = 0;
    for (auto [bidder, count] : per_bidder) {
        if ((bidder - 1001) % 100 == 0) hot_bidder_bids += count;
    }
    EXPECT_GT(hot_bidder_bids, bids.num_rows() * 70 / 100);
    EXPECT_GT(channels.size(), 100u);  // 1 in 100 bids from one of 10,000 channels
    const double average = static_cast<double>(bytes) / static_cast<double>(bids.num_rows());
    EXPECT_GT(average, 85);
    EXPECT_LT(average, 130);

    const Batch people = generate(NexmarkRelation::kPerson, 100'000);
    std::size_t person_bytes = 0;
    for (std::size_t row = 0; row < people.num_rows(); ++row) {
        for (std::size_t column : {1, 2, 3, 4, 5, 7})
            person_bytes += people.column(column).string_at(row).size();
        EXPECT_EQ(people.column(3).string_at(row).size(), 19u);  // "dddd dddd dddd dddd"
        EXPECT_NE(people.column(2).string_at(row).find('@'), std::string_view::npos);
    }
    EXPECT_GT(person_bytes / people.num_rows() + 16, 170u);

    const Batch auctions = generate(NexmarkRelation::kAuction, 100'000);
    for (std::size_t row = 0; row < auctions.num_rows(); ++row) {
        EXPECT_GT(auctions.column(6).value<int64_t>(row), auctions.column(5).value<int64_t>(row));
        EXPECT_GE(auctions.column(4).value<int64_t>(row), auctions.column(3).value<int64_t>(row));
        const int64_t category = auctions.column(8).value<int64_t>(row);
        EXPECT_GE(category, 10);
        EXPECT_LE(category, 14);
    }
}

TEST(NexmarkGeneratorTest, EventTimeAdvancesWithTheRate) {
    NexmarkGeneratorOptions options;
    options.events_per_second = 1000;
    NexmarkGenerator generator(NexmarkRelation::kPerson, options);
    EXPECT_EQ(generator.event_time(0), options.base_micros);
    EXPECT_EQ(generator.event_time(1000), options.base_micros + 1'000'000);
    const Batch people = generate(NexmarkRelation::kPerson, 200, options);
    ASSERT_EQ(people.num_rows(), 4u);
    EXPECT_EQ(people.column(6).value<int64_t>(1), options.base_micros + 50'000);  // event 50
}

TEST(NexmarkGeneratorTest, NdjsonHoldsTheSameRows) {
    NexmarkGenerator generator(NexmarkRelation::kAuction);
    std::string out;
    EXPECT_EQ(generator.append_ndjson(out, 100), 6u);
    const Batch auctions = generate(NexmarkRelation::kAuction, 100);
    std::size_t lines = 0;
    for (char c : out) lines += c == '\n';
    EXPECT_EQ(lines, 6u);
    const std::string first = out.substr(0, out.find('\n'));
    EXPECT_EQ(first.rfind("{\"id\":1000,\"item_name\":\"", 0), 0u) << first;
    EXPECT_NE(first.find(std::string(auctions.column(2).string_at(0))), std::string::npos);
    EXPECT_NE(first.find("\"date_time\":\"2026-01-01T00:00:00"), std::string::npos) << first;
}

TEST(NexmarkGeneratorTest, RelationNames) {
    EXPECT_EQ(parse_nexmark_relation("bid"), NexmarkRelation::kBid);
    EXPECT_EQ(parse_nexmark_relation("person"), NexmarkRelation::kPerson);
    EXPECT_EQ(parse_nexmark_relation("auction"), NexmarkRelation::kAuction);
    EXPECT_FALSE(parse_nexmark_relation("bids"));
    EXPECT_EQ(nexmark_relation_name(NexmarkRelation::kAuction), "auction");
}

}  // namespace
}  // namespace millrace
