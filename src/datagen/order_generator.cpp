#include "datagen/order_generator.h"

#include <array>
#include <charconv>
#include <string_view>

#include "types/time_codec.h"

namespace millrace {

namespace {

constexpr std::array<std::string_view, 5> kStatuses = {"created", "accepted", "picked_up",
                                                       "delivered", "cancelled"};
constexpr std::array<std::string_view, 8> kCities = {"Berlin", "Paris",   "Shanghai", "São Paulo",
                                                     "Lagos",  "Toronto", "Mumbai",   "Sydney"};

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

void append_amount(std::string& out, uint64_t cents) {
    append_number(out, cents / 100);
    out.push_back('.');
    append_padded(out, cents % 100, 2);
}

}  // namespace

OrderGenerator::OrderGenerator(OrderGeneratorOptions options)
    : options_(options), state_(options.seed), now_micros_(options.start_micros) {}

std::shared_ptr<const Schema> OrderGenerator::schema() {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"order_id", DataType::kString, false},
        {"user_id", DataType::kString, true},
        {"restaurant_id", DataType::kString, true},
        {"timestamp", DataType::kTimestamp, false},
        {"status", DataType::kString, true},
        {"amount", DataType::kFloat64, false},
        {"items", DataType::kInt32, true},
        {"city", DataType::kString, true},
    });
}

uint64_t OrderGenerator::next() {
    // splitmix64: tiny, fast and good enough for test data.
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

OrderGenerator::Order OrderGenerator::next_order(int bad_kinds) {
    Order order;
    order.id = generated_++;
    now_micros_ += static_cast<int64_t>(next() % (2 * options_.mean_step_micros + 1));
    order.user = next() % options_.users;
    order.restaurant = next() % options_.restaurants;
    order.cents = 500 + next() % 9500;
    order.bad_kind = make_bad() ? static_cast<int>(next() % bad_kinds) + 1 : 0;
    if (order.bad_kind != 0) ++bad_;
    return order;
}

void OrderGenerator::append_ndjson(std::string& out, uint64_t count) {
    for (uint64_t i = 0; i < count; ++i) {
        const auto [id, user, restaurant, cents, bad_kind] = next_order(5);
        const std::size_t start = out.size();
        out += "{\"order_id\":\"o-";
        append_padded(out, id, 9);
        out += "\",\"user_id\":\"u-";
        append_padded(out, user, 6);
        out += "\",\"restaurant_id\":\"r-";
        append_padded(out, restaurant, 4);
        out += "\",\"timestamp\":\"";
        if (bad_kind == 1) {
            out += "2026-02-30T25:00:00Z";  // no such time
        } else {
            append_timestamp(out, now_micros_);
        }
        out += "\",\"status\":\"";
        out += kStatuses[next() % kStatuses.size()];
        out += "\",\"amount\":";
        if (bad_kind == 2) {
            out += "\"twelve\"";  // wrong type
        } else {
            append_amount(out, cents);
        }
        out += ",\"items\":";
        append_number(out, 1 + next() % 6);
        out += ",\"city\":\"";
        if (bad_kind == 3) {
            out += "Bad\xC3\x28";  // invalid UTF-8
        } else {
            out += kCities[restaurant % kCities.size()];
        }
        out += "\"}\n";
        if (bad_kind == 4) {
            out.resize(out.size() - 12);  // cut short: malformed JSON
            out += "\n";
        } else if (bad_kind == 5) {
            // Missing the required order_id.
            out.erase(start + 1, std::string_view("\"order_id\":\"o-000000000\",").size());
        }
    }
}

void OrderGenerator::append_csv(std::string& out, uint64_t count, bool header) {
    if (header) out += "order_id,user_id,restaurant_id,timestamp,status,amount,items,city\n";
    for (uint64_t i = 0; i < count; ++i) {
        const auto [id, user, restaurant, cents, bad_kind] = next_order(4);
        if (bad_kind != 4) {
            out += "o-";
            append_padded(out, id, 9);
        }  // bad kind 4: empty order_id = null in a not-null column
        out += ",u-";
        append_padded(out, user, 6);
        out += ",r-";
        append_padded(out, restaurant, 4);
        out.push_back(',');
        if (bad_kind == 1) {
            out += "2026-13-01T00:00:00Z";
        } else {
            append_timestamp(out, now_micros_);
        }
        out.push_back(',');
        out += kStatuses[next() % kStatuses.size()];
        out.push_back(',');
        if (bad_kind == 2) {
            out += "n/a";
        } else {
            append_amount(out, cents);
        }
        out.push_back(',');
        append_number(out, 1 + next() % 6);
        if (bad_kind != 3) {  // bad kind 3: a ragged row with one field missing
            out.push_back(',');
            out += kCities[restaurant % kCities.size()];
        }
        out.push_back('\n');
    }
}

}  // namespace millrace
