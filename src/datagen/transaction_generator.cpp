#include "datagen/transaction_generator.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace millrace {

namespace {

constexpr std::array<std::string_view, 8> kCategories = {
    "grocery", "fuel", "restaurants", "electronics", "travel", "fashion", "gaming", "pharmacy"};
constexpr std::array<std::string_view, 6> kCountries = {"DE", "FR", "US", "BR", "NG", "IN"};
constexpr std::array<std::string_view, 6> kCurrencies = {"EUR", "EUR", "USD", "BRL", "NGN", "INR"};

}  // namespace

TransactionGenerator::TransactionGenerator(TransactionGeneratorOptions options)
    : options_(options),
      state_(options.seed * 0x9e3779b97f4a7c15ULL + 0x7472616e73ULL),
      now_micros_(options.start_micros) {}

std::shared_ptr<const Schema> TransactionGenerator::schema() {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"transaction_id", DataType::kInt64, false},
        {"account_id", DataType::kString, false},
        {"card_id", DataType::kString, false},
        {"merchant_id", DataType::kString, false},
        {"merchant_category", DataType::kString, false},
        {"device_id", DataType::kString, false},
        {"amount", DataType::kFloat64, false},
        {"currency", DataType::kString, false},
        {"country", DataType::kString, false},
        {"ts", DataType::kTimestamp, false},
    });
}

uint64_t TransactionGenerator::next() {
    // splitmix64
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void TransactionGenerator::append(BatchBuilder& builder, uint64_t count) {
    char text[32];
    for (uint64_t i = 0; i < count; ++i) {
        now_micros_ += static_cast<int64_t>(next() % (2 * options_.mean_step_micros + 1));
        // Skewed: the square of a uniform number favours low account ids.
        const double u = uniform();
        const auto account = static_cast<uint64_t>(u * u * options_.accounts);
        const uint64_t merchant = next() % options_.merchants;
        // Home country by account; 1 in 50 transactions from elsewhere on a new device.
        const bool away = next() % 50 == 0;
        const std::size_t country = away ? next() % kCountries.size() : account % kCountries.size();
        builder.column(0).append_int64(static_cast<int64_t>(generated_ + 1));
        builder.column(1).append_string(
            {text, static_cast<std::size_t>(std::snprintf(
                       text, sizeof(text), "a-%06llu", static_cast<unsigned long long>(account)))});
        builder.column(2).append_string(
            {text,
             static_cast<std::size_t>(std::snprintf(
                 text, sizeof(text), "c-%06llu-%llu", static_cast<unsigned long long>(account),
                 static_cast<unsigned long long>(next() % 16 == 0 ? 2 : 1)))});
        builder.column(3).append_string({text, static_cast<std::size_t>(std::snprintf(
                                                   text, sizeof(text), "m-%05llu",
                                                   static_cast<unsigned long long>(merchant)))});
        builder.column(4).append_string(kCategories[merchant % kCategories.size()]);
        const uint64_t device = away ? 1000 + next() % 100'000 : next() % 2;
        builder.column(5).append_string({text, static_cast<std::size_t>(std::snprintf(
                                                   text, sizeof(text), "d-%06llu-%llu",
                                                   static_cast<unsigned long long>(account),
                                                   static_cast<unsigned long long>(device)))});
        // exp of a normal-ish (sum of uniforms) sum: mostly tens, sometimes thousands.
        const double normal = uniform() + uniform() + uniform() - 1.5;
        const double amount = std::round(std::exp(3.0 + 2.0 * normal) * 100.0) / 100.0 + 0.01;
        builder.column(6).append_double(amount);
        builder.column(7).append_string(kCurrencies[country]);
        builder.column(8).append_string(kCountries[country]);
        builder.column(9).append_timestamp(now_micros_);
        builder.commit_row();
        ++generated_;
    }
}

}  // namespace millrace
