#include "datagen/activity_generator.h"

#include <array>
#include <charconv>
#include <cmath>

#include "types/time_codec.h"

namespace millrace {

namespace {

constexpr std::array<std::string_view, 6> kCategories = {"electronics", "apparel", "home",
                                                         "beauty",      "sports",  "books"};
constexpr int64_t kMicrosPerDay = 86'400'000'000;

template <typename T>
void append_number(std::string& out, T value) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, end);
}

uint64_t mix(uint64_t value) {
    uint64_t z = value * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
    z = (z ^ (z >> 31)) * 0xd6e8feb86659fd93ULL;
    return z ^ (z >> 32);
}

}  // namespace

ActivityGenerator::ActivityGenerator(ActivityGeneratorOptions options)
    : options_(options),
      state_(options.seed * 0x2545f4914f6cdd1dULL + 1),
      day_(options.start_day) {}

std::shared_ptr<const Schema> ActivityGenerator::schema() {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"event_id", DataType::kInt64, false},
        {"event_time", DataType::kTimestamp, false},
        {"user_id", DataType::kInt64, false},
        {"session_id", DataType::kString, true},
        {"event_type", DataType::kString, false},
        {"product_id", DataType::kInt64, false},
        {"category", DataType::kString, true},
        {"price", DataType::kFloat64, true},
    });
}

std::string ActivityGenerator::file_name(int32_t day) {
    int year = 0;
    unsigned month = 0;
    unsigned dom = 0;
    civil_from_days(day, &year, &month, &dom);
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "activity_%04d%02u%02u.csv", year, month, dom);
    return buffer;
}

uint64_t ActivityGenerator::next() {  // xorshift64*
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dULL;
}

void ActivityGenerator::begin_day(uint32_t day_index, uint64_t rows) {
    day_ = options_.start_day + static_cast<int32_t>(day_index);
    day_rows_ = rows;
    day_done_ = 0;
}

uint64_t ActivityGenerator::append_csv(std::string& out, uint64_t count) {
    uint64_t appended = 0;
    while (appended < count && day_done_ < day_rows_) {
        const uint64_t event_id = generated_ + 1;
        // Events spread evenly over the day, in time order.
        const int64_t time = int64_t{day_} * kMicrosPerDay +
                             static_cast<int64_t>(day_done_ * (kMicrosPerDay / 1'000'000) /
                                                  std::max<uint64_t>(1, day_rows_)) *
                                 1'000'000;
        const double u = uniform();
        const uint64_t user = 1 + static_cast<uint64_t>(options_.users * u * u);
        const double p = uniform();
        const uint64_t product = 1 + static_cast<uint64_t>(options_.products * p * std::sqrt(p));
        const uint64_t product_bits = mix(product);
        const std::string_view category = kCategories[product_bits % kCategories.size()];
        const uint64_t price_cents = 199 + (product_bits >> 8) % 49'800;
        const double t = uniform();
        const std::string_view type = t < 0.70   ? "view"
                                      : t < 0.90 ? "click"
                                      : t < 0.97 ? "add_to_cart"
                                                 : "purchase";
        const uint64_t session = (next() >> 60) % 3;
        const bool bad = options_.bad_fraction > 0 && uniform() < options_.bad_fraction;
        const uint64_t bad_kind = bad ? next() % 3 : 0;

        append_number(out, event_id);
        out.push_back(',');
        if (bad && bad_kind == 2) {
            out += "2026-13-45T99:00:00Z";
        } else {
            append_timestamp(out, time);
        }
        out.push_back(',');
        if (bad && bad_kind == 0) out.push_back('u');
        append_number(out, user);
        out.push_back(',');
        append_number(out, user);
        out.push_back('-');
        append_number(out, session);
        out.push_back(',');
        out += type;
        out.push_back(',');
        append_number(out, product);
        out.push_back(',');
        out += category;
        if (!(bad && bad_kind == 1)) {  // kind 1: the price field is missing
            out.push_back(',');
            append_number(out, price_cents / 100);
            out.push_back('.');
            const uint64_t cents = price_cents % 100;
            out.push_back(static_cast<char>('0' + cents / 10));
            out.push_back(static_cast<char>('0' + cents % 10));
        }
        out.push_back('\n');
        if (bad) ++bad_;
        ++generated_;
        ++day_done_;
        ++appended;
    }
    return appended;
}

}  // namespace millrace
