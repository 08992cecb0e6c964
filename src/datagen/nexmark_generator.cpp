#include "datagen/nexmark_generator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "types/time_codec.h"

namespace millrace {

namespace {

// How many auctions are open at once and how many people are active: bids and new auctions pick
// among these recent ones (plus a small lead of ids not created yet, as in the benchmark, so a
// few bids name an auction or a bidder that appears a little later).
constexpr uint64_t kInFlightAuctions = 100;
constexpr uint64_t kActivePeople = 1000;
constexpr uint64_t kAuctionIdLead = 10;
constexpr uint64_t kPersonIdLead = 10;
// 1 in hot_ratio picks are ordinary; the rest go to the first of every `kHotBlock` ids.
constexpr uint64_t kHotAuctionRatio = 2;
constexpr uint64_t kHotBiddersRatio = 4;
constexpr uint64_t kHotSellersRatio = 4;
constexpr uint64_t kHotBlock = 100;
constexpr uint64_t kCategories = 5;
// Average row sizes in bytes that `extra` pads up to.
constexpr std::size_t kPersonBytes = 200;
constexpr std::size_t kAuctionBytes = 500;
constexpr std::size_t kBidBytes = 100;
// Channels: 99 in 100 bids come through one of the four well-known ones.
constexpr uint64_t kHotChannelsRatio = 100;
constexpr std::size_t kChannels = 10'000;

constexpr std::array<std::string_view, 4> kHotChannels = {"Google", "Facebook", "Baidu", "Apple"};
constexpr std::array<std::string_view, 11> kFirstNames = {
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::array<std::string_view, 9> kLastNames = {
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};
constexpr std::array<std::string_view, 10> kCities = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<std::string_view, 6> kStates = {"AZ", "CA", "ID", "OR", "WA", "WY"};

uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The last person created at or before event n, counted from 0.
uint64_t last_person(uint64_t n) { return n / NexmarkGenerator::kTotalProportion; }

// The last auction created at or before event n, counted from 0 (0 before the first one).
uint64_t last_auction(uint64_t n) {
    const uint64_t epoch = n / NexmarkGenerator::kTotalProportion;
    const uint64_t offset = n % NexmarkGenerator::kTotalProportion;
    constexpr uint64_t p = NexmarkGenerator::kPersonProportion;
    constexpr uint64_t a = NexmarkGenerator::kAuctionProportion;
    if (offset < p) return epoch == 0 ? 0 : (epoch - 1) * a + (a - 1);  // this epoch's are ahead
    if (offset >= p + a) return epoch * a + (a - 1);
    return epoch * a + (offset - p);
}

template <typename T>
void append_number(std::string& out, T value) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, end);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    // Generated strings never hold a quote, a backslash or a control character.
    out += ",\"";
    out += name;
    out += "\":\"";
    out += value;
    out.push_back('"');
}

void append_field(std::string& out, std::string_view name, int64_t value) {
    out += ",\"";
    out += name;
    out += "\":";
    append_number(out, value);
}

void append_time(std::string& out, std::string_view name, int64_t micros) {
    out += ",\"";
    out += name;
    out += "\":\"";
    append_timestamp(out, micros);
    out.push_back('"');
}

}  // namespace

/// One event's random stream: splitmix64 from the seed and the event number, so that an event
/// does not depend on which others were generated.
struct NexmarkGenerator::Rng {
    uint64_t state;
    uint64_t next() { return mix(state += 0x9e3779b97f4a7c15ULL); }
    /// Uniform in [0, bound) (bound > 0); the multiply-shift keeps it fast and unbiased enough.
    uint64_t below(uint64_t bound) {
        return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// A price in cents, log-uniform from $1 to $1,000,000 as in the benchmark.
    int64_t price() {
        // 10^(6u) from a table of 4096 steps with linear interpolation between them (within
        // about one millionth of pow's value, for a fraction of its time).
        static const std::array<double, 4097> kPowers = [] {
            std::array<double, 4097> powers{};
            for (std::size_t i = 0; i < powers.size(); ++i)
                powers[i] = std::pow(10.0, 6.0 * static_cast<double>(i) / 4096.0) * 100.0;
            return powers;
        }();
        const uint64_t bits = next() >> 11;  // 53 bits: 12 for the step, 41 for the fraction
        const std::size_t step = bits >> 41;
        const double fraction = static_cast<double>(bits & ((uint64_t{1} << 41) - 1)) * 0x1.0p-41;
        const double value = kPowers[step] + (kPowers[step + 1] - kPowers[step]) * fraction;
        return static_cast<int64_t>(value + 0.5);
    }
};

std::string_view nexmark_relation_name(NexmarkRelation relation) {
    switch (relation) {
        case NexmarkRelation::kPerson:
            return "person";
        case NexmarkRelation::kAuction:
            return "auction";
        case NexmarkRelation::kBid:
            return "bid";
    }
    return "bid";
}

std::optional<NexmarkRelation> parse_nexmark_relation(std::string_view name) {
    if (name == "person") return NexmarkRelation::kPerson;
    if (name == "auction") return NexmarkRelation::kAuction;
    if (name == "bid") return NexmarkRelation::kBid;
    return std::nullopt;
}

NexmarkGenerator::NexmarkGenerator(NexmarkRelation relation, NexmarkGeneratorOptions options)
    : relation_(relation),
      options_(options),
      schema_(schema(relation)),
      micros_per_event_(1e6 / std::max(options.events_per_second, 1e-6)) {
    Rng rng{mix(options_.seed ^ 0x6e65786d61726bULL)};
    // 64 KiB of words: lowercase letters with a space about every eighth character.
    pool_.resize(std::size_t{1} << 16);
    for (char& c : pool_) {
        const uint64_t r = rng.below(27 * 8);
        c = r < 26 * 8 ? static_cast<char>('a' + r % 26) : ' ';
    }
    if (relation_ == NexmarkRelation::kBid) {
        auto word = [&](std::string& out) {
            for (int i = 0; i < 5; ++i) out.push_back(static_cast<char>('a' + rng.below(26)));
        };
        auto base_url = [&]() {
            std::string url = "https://www.nexmark.com/";
            word(url);
            url.push_back('/');
            word(url);
            url.push_back('/');
            word(url);
            url += "/item.htm?query=1";
            return url;
        };
        for (std::string_view name : kHotChannels) {
            channel_names_.emplace_back(name);
            channel_urls_.push_back(base_url());
        }
        for (std::size_t i = 0; i < kChannels; ++i) {
            channel_names_.push_back("channel-" + std::to_string(i));
            channel_urls_.push_back(base_url() + "&channel_id=" + std::to_string(i));
        }
    }
}

std::shared_ptr<const Schema> NexmarkGenerator::schema(NexmarkRelation relation) {
    switch (relation) {
        case NexmarkRelation::kPerson:
            return std::make_shared<const Schema>(std::vector<Field>{
                {"id", DataType::kInt64, false},
                {"name", DataType::kString, false},
                {"email_address", DataType::kString, false},
                {"credit_card", DataType::kString, false},
                {"city", DataType::kString, false},
                {"state", DataType::kString, false},
                {"date_time", DataType::kTimestamp, false},
                {"extra", DataType::kString, false},
            });
        case NexmarkRelation::kAuction:
            return std::make_shared<const Schema>(std::vector<Field>{
                {"id", DataType::kInt64, false},
                {"item_name", DataType::kString, false},
                {"description", DataType::kString, false},
                {"initial_bid", DataType::kInt64, false},
                {"reserve", DataType::kInt64, false},
                {"date_time", DataType::kTimestamp, false},
                {"expires", DataType::kTimestamp, false},
                {"seller", DataType::kInt64, false},
                {"category", DataType::kInt64, false},
                {"extra", DataType::kString, false},
            });
        case NexmarkRelation::kBid:
            break;
    }
    return std::make_shared<const Schema>(std::vector<Field>{
        {"auction", DataType::kInt64, false},
        {"bidder", DataType::kInt64, false},
        {"price", DataType::kInt64, false},
        {"channel", DataType::kString, false},
        {"url", DataType::kString, false},
        {"date_time", DataType::kTimestamp, false},
        {"extra", DataType::kString, false},
    });
}

NexmarkRelation NexmarkGenerator::relation_of(uint64_t event_number) {
    const uint64_t offset = event_number % kTotalProportion;
    if (offset < kPersonProportion) return NexmarkRelation::kPerson;
    if (offset < kPersonProportion + kAuctionProportion) return NexmarkRelation::kAuction;
    return NexmarkRelation::kBid;
}

uint64_t NexmarkGenerator::count_in(NexmarkRelation relation, uint64_t events) {
    const uint64_t epochs = events / kTotalProportion;
    const uint64_t rest = events % kTotalProportion;
    constexpr uint64_t p = kPersonProportion;
    constexpr uint64_t a = kAuctionProportion;
    switch (relation) {
        case NexmarkRelation::kPerson:
            return epochs * p + std::min(rest, p);
        case NexmarkRelation::kAuction:
            return epochs * a + (rest > p ? std::min(rest - p, a) : 0);
        case NexmarkRelation::kBid:
            break;
    }
    return epochs * kBidProportion + (rest > p + a ? rest - p - a : 0);
}

int64_t NexmarkGenerator::event_time(uint64_t event_number) const {
    return options_.base_micros +
           static_cast<int64_t>(static_cast<double>(event_number) * micros_per_event_);
}

std::string_view NexmarkGenerator::text(Rng& rng, std::size_t length) const {
    length = std::min(length, pool_.size());
    return std::string_view(pool_).substr(rng.below(pool_.size() - length + 1), length);
}

std::string_view NexmarkGenerator::extra(Rng& rng, std::size_t size, std::size_t average) const {
    if (size >= average) return {};
    const std::size_t wanted = average - size;
    const std::size_t delta = (wanted + 2) / 5;  // about 20%
    return text(rng, wanted - delta + rng.below(2 * delta + 1));
}

int64_t NexmarkGenerator::next_person_id(Rng& rng, uint64_t n) const {
    const uint64_t people = last_person(n) + 1;
    const uint64_t active = std::min(people, kActivePeople);
    return static_cast<int64_t>(people - active + rng.below(active + kPersonIdLead));
}

int64_t NexmarkGenerator::next_auction_id(Rng& rng, uint64_t n) const {
    const uint64_t last = last_auction(n);
    const uint64_t first = last > kInFlightAuctions ? last - kInFlightAuctions : 0;
    return static_cast<int64_t>(first + rng.below(last - first + 1 + kAuctionIdLead));
}

NexmarkGenerator::Person NexmarkGenerator::make_person(uint64_t n) {
    Rng rng{mix(options_.seed) ^ (n * 0xd1342543de82ef95ULL)};
    Person person;
    person.id = static_cast<int64_t>(last_person(n)) + kFirstPersonId;
    person.first = kFirstNames[rng.below(kFirstNames.size())];
    person.last = kLastNames[rng.below(kLastNames.size())];
    scratch_.clear();
    scratch_ += text(rng, 7);
    scratch_.push_back('@');
    scratch_ += text(rng, 5);
    scratch_ += ".com";
    const std::size_t email_size = scratch_.size();
    for (int group = 0; group < 4; ++group) {
        if (group > 0) scratch_.push_back(' ');
        const uint64_t digits = rng.below(10'000);
        char buffer[4] = {
            static_cast<char>('0' + digits / 1000), static_cast<char>('0' + digits / 100 % 10),
            static_cast<char>('0' + digits / 10 % 10), static_cast<char>('0' + digits % 10)};
        scratch_.append(buffer, 4);
    }
    person.email = std::string_view(scratch_).substr(0, email_size);
    person.card = std::string_view(scratch_).substr(email_size);
    const uint64_t place = rng.below(kCities.size());
    person.city = kCities[place];
    person.state = kStates[rng.below(kStates.size())];
    person.time = event_time(n);
    const std::size_t size = 8 + person.first.size() + 1 + person.last.size() +
                             person.email.size() + person.card.size() + person.city.size() +
                             person.state.size() + 8;
    person.extra = extra(rng, size, kPersonBytes);
    return person;
}

NexmarkGenerator::Auction NexmarkGenerator::make_auction(uint64_t n) {
    Rng rng{mix(options_.seed) ^ (n * 0xd1342543de82ef95ULL)};
    Auction auction;
    auction.id = static_cast<int64_t>(last_auction(n)) + kFirstAuctionId;
    auction.item_name = text(rng, 6 + rng.below(15));
    auction.description = text(rng, 20 + rng.below(81));
    auction.initial_bid = rng.price();
    auction.reserve = auction.initial_bid + rng.price();
    auction.time = event_time(n);
    // Open for up to twice the time it takes for the in-flight auctions to turn over.
    const uint64_t turnover = kInFlightAuctions * kTotalProportion / kAuctionProportion;
    const int64_t horizon = event_time(n + turnover) - auction.time;
    auction.expires =
        auction.time + 1 +
        static_cast<int64_t>(rng.below(static_cast<uint64_t>(std::max<int64_t>(2 * horizon, 1))));
    auction.seller = rng.below(kHotSellersRatio) > 0
                         ? static_cast<int64_t>(last_person(n) / kHotBlock * kHotBlock)
                         : next_person_id(rng, n);
    auction.seller += kFirstPersonId;
    auction.category = kFirstCategoryId + static_cast<int64_t>(rng.below(kCategories));
    const std::size_t size =
        8 + auction.item_name.size() + auction.description.size() + 8 + 8 + 8 + 8 + 8 + 8;
    auction.extra = extra(rng, size, kAuctionBytes);
    return auction;
}

NexmarkGenerator::Bid NexmarkGenerator::make_bid(uint64_t n) {
    Rng rng{mix(options_.seed) ^ (n * 0xd1342543de82ef95ULL)};
    Bid bid;
    bid.auction = rng.below(kHotAuctionRatio) > 0
                      ? static_cast<int64_t>(last_auction(n) / kHotBlock * kHotBlock)
                      : next_auction_id(rng, n);
    bid.auction += kFirstAuctionId;
    bid.bidder = rng.below(kHotBiddersRatio) > 0
                     ? static_cast<int64_t>(last_person(n) / kHotBlock * kHotBlock + 1)
                     : next_person_id(rng, n);
    bid.bidder += kFirstPersonId;
    bid.price = rng.price();
    const std::size_t channel = rng.below(kHotChannelsRatio) > 0
                                    ? rng.below(kHotChannels.size())
                                    : kHotChannels.size() + rng.below(kChannels);
    bid.channel = channel_names_[channel];
    bid.url = channel_urls_[channel];
    bid.time = event_time(n);
    const std::size_t size = 8 + 8 + 8 + bid.channel.size() + bid.url.size() + 8;
    bid.extra = extra(rng, size, kBidBytes);
    return bid;
}

uint64_t NexmarkGenerator::next_of_relation(uint64_t n) const {
    const uint64_t epoch = n / kTotalProportion;
    const uint64_t offset = n % kTotalProportion;
    uint64_t first = 0;
    uint64_t end = kPersonProportion;
    if (relation_ == NexmarkRelation::kAuction) {
        first = kPersonProportion;
        end = kPersonProportion + kAuctionProportion;
    } else if (relation_ == NexmarkRelation::kBid) {
        first = kPersonProportion + kAuctionProportion;
        end = kTotalProportion;
    }
    if (offset < first) return epoch * kTotalProportion + first;
    if (offset < end) return n;
    return (epoch + 1) * kTotalProportion + first;
}

uint64_t NexmarkGenerator::append(BatchBuilder& builder, uint64_t events) {
    const uint64_t end = next_event_ + events;
    uint64_t rows = 0;
    for (uint64_t n = next_of_relation(next_event_); n < end; n = next_of_relation(n + 1)) {
        switch (relation_) {
            case NexmarkRelation::kPerson: {
                const Person p = make_person(n);
                builder.column(0).append_int64(p.id);
                // The name is first + " " + last: appended in one piece from a small buffer.
                char name[32];
                const std::size_t length = p.first.size() + 1 + p.last.size();
                std::copy(p.first.begin(), p.first.end(), name);
                name[p.first.size()] = ' ';
                std::copy(p.last.begin(), p.last.end(), name + p.first.size() + 1);
                builder.column(1).append_string(std::string_view(name, length));
                builder.column(2).append_string(p.email);
                builder.column(3).append_string(p.card);
                builder.column(4).append_string(p.city);
                builder.column(5).append_string(p.state);
                builder.column(6).append_timestamp(p.time);
                builder.column(7).append_string(p.extra);
                break;
            }
            case NexmarkRelation::kAuction: {
                const Auction a = make_auction(n);
                builder.column(0).append_int64(a.id);
                builder.column(1).append_string(a.item_name);
                builder.column(2).append_string(a.description);
                builder.column(3).append_int64(a.initial_bid);
                builder.column(4).append_int64(a.reserve);
                builder.column(5).append_timestamp(a.time);
                builder.column(6).append_timestamp(a.expires);
                builder.column(7).append_int64(a.seller);
                builder.column(8).append_int64(a.category);
                builder.column(9).append_string(a.extra);
                break;
            }
            case NexmarkRelation::kBid: {
                const Bid b = make_bid(n);
                builder.column(0).append_int64(b.auction);
                builder.column(1).append_int64(b.bidder);
                builder.column(2).append_int64(b.price);
                builder.column(3).append_string(b.channel);
                builder.column(4).append_string(b.url);
                builder.column(5).append_timestamp(b.time);
                builder.column(6).append_string(b.extra);
                break;
            }
        }
        builder.commit_row();
        ++rows;
    }
    next_event_ = end;
    return rows;
}

uint64_t NexmarkGenerator::append_ndjson(std::string& out, uint64_t events) {
    const uint64_t end = next_event_ + events;
    uint64_t rows = 0;
    for (uint64_t n = next_of_relation(next_event_); n < end; n = next_of_relation(n + 1)) {
        switch (relation_) {
            case NexmarkRelation::kPerson: {
                const Person p = make_person(n);
                out += "{\"id\":";
                append_number(out, p.id);
                out += ",\"name\":\"";
                out += p.first;
                out.push_back(' ');
                out += p.last;
                out.push_back('"');
                append_field(out, "email_address", p.email);
                append_field(out, "credit_card", p.card);
                append_field(out, "city", p.city);
                append_field(out, "state", p.state);
                append_time(out, "date_time", p.time);
                append_field(out, "extra", p.extra);
                break;
            }
            case NexmarkRelation::kAuction: {
                const Auction a = make_auction(n);
                out += "{\"id\":";
                append_number(out, a.id);
                append_field(out, "item_name", a.item_name);
                append_field(out, "description", a.description);
                append_field(out, "initial_bid", a.initial_bid);
                append_field(out, "reserve", a.reserve);
                append_time(out, "date_time", a.time);
                append_time(out, "expires", a.expires);
                append_field(out, "seller", a.seller);
                append_field(out, "category", a.category);
                append_field(out, "extra", a.extra);
                break;
            }
            case NexmarkRelation::kBid: {
                const Bid b = make_bid(n);
                out += "{\"auction\":";
                append_number(out, b.auction);
                append_field(out, "bidder", b.bidder);
                append_field(out, "price", b.price);
                append_field(out, "channel", b.channel);
                append_field(out, "url", b.url);
                append_time(out, "date_time", b.time);
                append_field(out, "extra", b.extra);
                break;
            }
        }
        out += "}\n";
        ++rows;
    }
    next_event_ = end;
    return rows;
}

}  // namespace millrace
