#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "types/schema.h"

namespace millrace {

struct OrderGeneratorOptions {
    uint64_t seed = 42;
    double bad_fraction = 0.0;                     // share of records made deliberately bad
    int64_t start_micros = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
    int64_t mean_step_micros = 1'000;              // mean event-time gap between orders
    uint32_t users = 10'000;
    uint32_t restaurants = 500;
};

/// Generates the food-delivery order events of the real-time order-monitoring scenario
/// (examples/order-monitoring), as NDJSON or CSV text, deterministically from a seed. With
/// bad_fraction > 0 it mixes in the bad records real feeds carry: malformed JSON / ragged CSV rows,
/// wrong types, missing required fields, invalid UTF-8, impossible timestamps. Used by `millrace
/// generate`, the demo, benchmarks and tests.
class OrderGenerator {
public:
    explicit OrderGenerator(OrderGeneratorOptions options = {});

    /// { order_id: string not null, user_id: string, restaurant_id: string,
    ///   timestamp: timestamp not null, status: string, amount: double not null, items: int32,
    ///   city: string }
    static std::shared_ptr<const Schema> schema();

    void append_ndjson(std::string& out, uint64_t count);
    /// Writes the header line first when `header` is true.
    void append_csv(std::string& out, uint64_t count, bool header);

    uint64_t generated() const { return generated_; }
    uint64_t bad() const { return bad_; }

private:
    // The random parts of one order; bad_kind 0 = a good record, 1..bad_kinds = a kind of bad.
    struct Order {
        uint64_t id;
        uint64_t user;
        uint64_t restaurant;
        uint64_t cents;
        int bad_kind;
    };
    Order next_order(int bad_kinds);
    uint64_t next();
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    bool make_bad() { return options_.bad_fraction > 0 && uniform() < options_.bad_fraction; }

    OrderGeneratorOptions options_;
    uint64_t state_;
    int64_t now_micros_;
    uint64_t generated_ = 0;
    uint64_t bad_ = 0;
};

}  // namespace millrace
