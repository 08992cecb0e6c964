#include "datagen/pos_sales_generator.h"

#include <array>
#include <charconv>
#include <cmath>

#include "types/time_codec.h"

namespace millrace {

namespace {

constexpr std::array<std::string_view, 8> kCategories = {
    "grocery", "produce", "dairy", "bakery", "beverages", "household", "electronics", "apparel"};
// Per category: the lowest and highest unit price in cents.
constexpr std::array<std::array<uint64_t, 2>, 8> kPriceRanges = {{{99, 1'499},
                                                                  {49, 699},
                                                                  {79, 899},
                                                                  {99, 1'299},
                                                                  {59, 2'499},
                                                                  {149, 3'999},
                                                                  {999, 99'999},
                                                                  {499, 14'999}}};
// Payment types with cumulative weights out of 100.
constexpr std::array<std::string_view, 4> kPaymentTypes = {"card", "cash", "mobile", "gift_card"};
constexpr std::array<uint64_t, 4> kPaymentCumulative = {55, 80, 97, 100};

constexpr int64_t kMicrosPerDay = 86'400'000'000;
constexpr int64_t kOpenMicros = 8 * 3'600'000'000LL;      // 08:00
constexpr int64_t kTradingMicros = 14 * 3'600'000'000LL;  // until 22:00

template <typename T>
void append_number(std::string& out, T value) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, end);
}

void append_padded(std::string& out, uint64_t value, int width) {
    char buffer[24];
    int n = 0;
    do {
        buffer[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value > 0 || n < width);
    while (n > 0) out.push_back(buffer[--n]);
}

void append_cents(std::string& out, uint64_t cents) {
    append_number(out, cents / 100);
    out.push_back('.');
    append_padded(out, cents % 100, 2);
}

// A product's fixed attributes, derived from its number alone (not from the stream), so every
// day and every seed agree on them.
uint64_t product_mix(uint64_t product) {
    uint64_t z = product * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
    z = (z ^ (z >> 31)) * 0xd6e8feb86659fd93ULL;
    return z ^ (z >> 32);
}

}  // namespace

PosSalesGenerator::PosSalesGenerator(PosSalesGeneratorOptions options)
    : options_(options), state_(options.seed), day_(options.start_day) {}

std::shared_ptr<const Schema> PosSalesGenerator::schema() {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"sale_id", DataType::kInt64, false},
        {"store_id", DataType::kInt32, true},
        {"sold_at", DataType::kTimestamp, false},
        {"product_id", DataType::kString, false},
        {"category", DataType::kString, false},
        {"quantity", DataType::kInt32, false},
        {"unit_price", DataType::kFloat64, false},
        {"amount", DataType::kFloat64, true},
        {"payment_type", DataType::kString, false},
    });
}

std::string PosSalesGenerator::file_name(int32_t day) {
    int year;
    unsigned month;
    unsigned day_of_month;
    civil_from_days(day, &year, &month, &day_of_month);
    std::string name = "sales_";
    append_padded(name, static_cast<uint64_t>(year), 4);
    append_padded(name, month, 2);
    append_padded(name, day_of_month, 2);
    name += ".csv";
    return name;
}

uint64_t PosSalesGenerator::next() {
    // splitmix64, as OrderGenerator.
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void PosSalesGenerator::begin_day(uint32_t day_index, uint64_t rows) {
    day_ = options_.start_day + static_cast<int32_t>(day_index);
    day_rows_ = rows;
    day_done_ = 0;
}

uint64_t PosSalesGenerator::append_csv(std::string& out, uint64_t count) {
    const uint64_t n = std::min(count, day_rows_ - day_done_);
    const int64_t open = static_cast<int64_t>(day_) * kMicrosPerDay + kOpenMicros;
    const double step = static_cast<double>(kTradingMicros) / static_cast<double>(day_rows_);
    const uint32_t stores = options_.stores == 0 ? 1 : options_.stores;
    const uint32_t products = options_.products == 0 ? 1 : options_.products;
    for (uint64_t i = 0; i < n; ++i, ++day_done_) {
        const uint64_t sale_id = ++generated_;
        // Whole seconds, rising through the day: slot start plus a jitter within the slot.
        const auto slot = static_cast<int64_t>(static_cast<double>(day_done_) * step);
        const auto jitter = static_cast<int64_t>(uniform() * step);
        const int64_t sold_at = (open + slot + jitter) / 1'000'000 * 1'000'000;
        // Skewed stores: store k has weight ~ 1 / sqrt(k).
        const double u = uniform();
        const auto store =
            1 + std::min<uint64_t>(stores - 1, static_cast<uint64_t>(u * u * stores));
        const uint64_t product = next() % products;
        const uint64_t attributes = product_mix(product);
        const std::size_t category = attributes % kCategories.size();
        const auto [low, high] = kPriceRanges[category];
        const uint64_t unit_cents = low + (attributes >> 8) % (high - low + 1);
        const uint64_t quantity_roll = next() % 100;
        const uint64_t quantity = quantity_roll < 60 ? 1 : quantity_roll < 85 ? 2 : 3 + next() % 10;
        const uint64_t payment_roll = next() % 100;
        std::size_t payment = 0;
        while (payment_roll >= kPaymentCumulative[payment]) ++payment;
        const bool null_store = uniform() < options_.null_fraction;
        const bool null_amount = uniform() < options_.null_fraction;
        const int bad_kind =
            options_.bad_fraction > 0 && uniform() < options_.bad_fraction ? 1 + next() % 4 : 0;

        append_number(out, sale_id);
        out.push_back(',');
        if (!null_store || bad_kind != 0) append_number(out, store);
        out.push_back(',');
        if (bad_kind == 1) {
            out += "2026-11-31T25:61:00Z";  // no such day or time
        } else {
            append_timestamp(out, sold_at);
        }
        out += ",P";
        append_padded(out, product, 5);
        out.push_back(',');
        out += kCategories[category];
        out.push_back(',');
        append_number(out, quantity);
        out.push_back(',');
        append_cents(out, unit_cents);
        out.push_back(',');
        if (bad_kind == 2) {
            out += "12.3O";  // a letter O for a zero: not a number
        } else if (!null_amount || bad_kind != 0) {
            append_cents(out, unit_cents * quantity);
        }
        if (bad_kind != 3) {  // bad kind 3: payment_type missing, one field short
            out.push_back(',');
            out += kPaymentTypes[payment];
        }
        if (bad_kind == 4) out += ",EXTRA";  // one field too many
        out.push_back('\n');
        if (bad_kind != 0) {
            ++bad_;
        } else {
            null_store_ += null_store ? 1 : 0;
            null_amount_ += null_amount ? 1 : 0;
        }
    }
    return n;
}

}  // namespace millrace
