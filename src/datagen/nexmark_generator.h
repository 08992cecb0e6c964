#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "types/batch.h"
#include "types/schema.h"

namespace millrace {

/// The three relations of the Nexmark benchmark's online auction: people register, open
/// auctions, and bid on them.
enum class NexmarkRelation { kPerson, kAuction, kBid };

/// "person" / "auction" / "bid", and back (nullopt for another name).
std::string_view nexmark_relation_name(NexmarkRelation relation);
std::optional<NexmarkRelation> parse_nexmark_relation(std::string_view name);

struct NexmarkGeneratorOptions {
    uint64_t seed = 42;
    /// Event time of event 0; event n is at base + n / events_per_second. A fixed default (not
    /// the clock) so that two runs with one seed make the same events, times included.
    int64_t base_micros = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
    /// The event-time rate: how far apart the events of all three relations are in event time
    /// (the benchmark's "first event rate"; 10M/s is Flink's Nexmark default).
    double events_per_second = 10'000'000;
};

/// The Nexmark benchmark's event generator (the semantics of the public Beam and Flink Nexmark
/// generators, written afresh): one sequence of events numbered 0, 1, 2, ... in which, out of
/// every 50, one is a new person, three are new auctions and 46 are bids. Ids start at 1000.
/// Bids and auctions are skewed towards hot keys: half of the bids go to one "hot" auction in
/// every hundred recent ones, three in four come from a hot bidder, three in four auctions from
/// a hot seller; the others pick among the recent (in-flight) auctions and the active people.
/// Field sizes are the benchmark's: people about 200 bytes, auctions 500, bids 100, padded by
/// `extra`.
///
/// Each event is a function of the seed and its number only (its own random stream), so a
/// generator for one relation makes exactly the rows of that relation in the full sequence,
/// without making the others, and can start at any event number. The rows go straight into
/// Batches (no text in between); append_ndjson writes the same rows as NDJSON for batch runs
/// over files.
class NexmarkGenerator {
public:
    static constexpr uint64_t kPersonProportion = 1;
    static constexpr uint64_t kAuctionProportion = 3;
    static constexpr uint64_t kBidProportion = 46;
    static constexpr uint64_t kTotalProportion =
        kPersonProportion + kAuctionProportion + kBidProportion;
    static constexpr int64_t kFirstPersonId = 1000;
    static constexpr int64_t kFirstAuctionId = 1000;
    static constexpr int64_t kFirstCategoryId = 10;

    NexmarkGenerator(NexmarkRelation relation, NexmarkGeneratorOptions options = {});

    /// person: { id, name, email_address, credit_card, city, state, date_time, extra }
    /// auction: { id, item_name, description, initial_bid, reserve, date_time, expires, seller,
    ///            category, extra }
    /// bid: { auction, bidder, price, channel, url, date_time, extra }
    /// (ids and prices int64, times timestamps, the rest strings; none null.)
    static std::shared_ptr<const Schema> schema(NexmarkRelation relation);
    /// Which relation event `n` of the sequence belongs to.
    static NexmarkRelation relation_of(uint64_t event_number);
    /// How many of the events [0, events) belong to `relation`.
    static uint64_t count_in(NexmarkRelation relation, uint64_t events);

    NexmarkRelation relation() const { return relation_; }
    const std::shared_ptr<const Schema>& schema() const { return schema_; }
    int64_t event_time(uint64_t event_number) const;

    /// The next event number to look at (all relations counted).
    uint64_t position() const { return next_event_; }
    void seek(uint64_t event_number) { next_event_ = event_number; }

    /// Goes through the next `events` events of the sequence and appends the rows of this
    /// generator's relation among them to `builder` (of schema()); returns the rows appended.
    uint64_t append(BatchBuilder& builder, uint64_t events);
    /// The same rows as NDJSON lines (timestamps as RFC 3339 text).
    uint64_t append_ndjson(std::string& out, uint64_t events);

private:
    struct Rng;
    struct Person {
        int64_t id;
        std::string_view first;
        std::string_view last;
        std::string_view email;  // into scratch_
        std::string_view card;   // into scratch_
        std::string_view city;
        std::string_view state;
        int64_t time;
        std::string_view extra;
    };
    struct Auction {
        int64_t id;
        std::string_view item_name;
        std::string_view description;
        int64_t initial_bid;
        int64_t reserve;
        int64_t time;
        int64_t expires;
        int64_t seller;
        int64_t category;
        std::string_view extra;
    };
    struct Bid {
        int64_t auction;
        int64_t bidder;
        int64_t price;
        std::string_view channel;
        std::string_view url;
        int64_t time;
        std::string_view extra;
    };

    Person make_person(uint64_t n);
    Auction make_auction(uint64_t n);
    Bid make_bid(uint64_t n);
    /// `length` pseudo-random lowercase letters (and some spaces) from the text pool.
    std::string_view text(Rng& rng, std::size_t length) const;
    /// Padding that brings a row of `size` bytes to about `average` bytes (±20%).
    std::string_view extra(Rng& rng, std::size_t size, std::size_t average) const;
    int64_t next_person_id(Rng& rng, uint64_t n) const;
    int64_t next_auction_id(Rng& rng, uint64_t n) const;
    /// The next event number >= n of this generator's relation.
    uint64_t next_of_relation(uint64_t n) const;

    NexmarkRelation relation_;
    NexmarkGeneratorOptions options_;
    std::shared_ptr<const Schema> schema_;
    double micros_per_event_;
    uint64_t next_event_ = 0;
    std::string pool_;  // random text that strings are cut from
    std::vector<std::string> channel_urls_;
    std::vector<std::string> channel_names_;
    std::string scratch_;
};

}  // namespace millrace
