#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "types/schema.h"

namespace millrace {

struct ActivityGeneratorOptions {
    uint64_t seed = 42;
    double bad_fraction = 0.0;   // share of rows made malformed
    int32_t start_day = 20'758;  // days since 1970-01-01
    uint32_t users = 10'000;
    uint32_t products = 2'000;
};

/// Generates the user-activity log of the online feature platform example (web and app events
/// that recommendations learn from), one CSV file per day, `activity_YYYYMMDD.csv`,
/// deterministically from a seed. Columns (schema()):
///
///   event_id,event_time,user_id,session_id,event_type,product_id,category,price
///   1,2026-11-01T00:00:03Z,17,17-0,view,431,electronics,199.99
///
/// Event types: view 70%, click 20%, add_to_cart 7%, purchase 3%. Users and products are
/// skewed (low ids are busier, as real traffic is); a product always has the same category and
/// price. A bad_fraction of rows is malformed: a user id that is not a number, a missing field,
/// or an impossible timestamp.
class ActivityGenerator {
public:
    static constexpr std::string_view kCsvHeader =
        "event_id,event_time,user_id,session_id,event_type,product_id,category,price\n";

    explicit ActivityGenerator(ActivityGeneratorOptions options = {});

    /// { event_id: int64 not null, event_time: timestamp not null, user_id: int64 not null,
    ///   session_id: string, event_type: string not null, product_id: int64 not null,
    ///   category: string, price: double }
    static std::shared_ptr<const Schema> schema();
    /// "activity_YYYYMMDD.csv" for a day given as days since 1970-01-01.
    static std::string file_name(int32_t day);

    /// Starts day start_day + day_index with `rows` rows in total.
    void begin_day(uint32_t day_index, uint64_t rows);
    int32_t day() const { return day_; }
    /// Appends up to `count` more rows of the day; returns how many (0 when it is complete).
    uint64_t append_csv(std::string& out, uint64_t count);

    uint64_t generated() const { return generated_; }
    uint64_t bad() const { return bad_; }

private:
    uint64_t next();
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    ActivityGeneratorOptions options_;
    uint64_t state_;
    int32_t day_;
    uint64_t day_rows_ = 0;
    uint64_t day_done_ = 0;
    uint64_t generated_ = 0;
    uint64_t bad_ = 0;
};

}  // namespace millrace
