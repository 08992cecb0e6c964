#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "types/schema.h"

namespace millrace {

struct PosSalesGeneratorOptions {
    uint64_t seed = 42;
    double bad_fraction = 0.0;    // share of rows made malformed (see PosSalesGenerator)
    double null_fraction = 0.01;  // share of rows with an empty store_id, and again for amount
    int32_t start_day = 20'758;   // 2026-11-01, days since 1970-01-01
    uint32_t stores = 20;
    uint32_t products = 2'000;
};

/// Generates the point-of-sale rows of the retail "daily sales per store" batch
/// scenario (examples/retail-daily-sales): one CSV file per day, `sales_YYYYMMDD.csv`,
/// deterministically from a seed. Columns (schema()):
///
///   sale_id,store_id,sold_at,product_id,category,quantity,unit_price,amount,payment_type
///   1,7,2026-11-01T08:00:04Z,P00431,dairy,2,3.49,6.98,card
///
/// sale_id counts up across days; sold_at rises through the trading day (08:00-22:00 UTC);
/// stores are skewed (low store ids are busier); a product always has the same category and
/// unit price; amount = quantity * unit_price exactly in cents. Valid rows carry nulls (empty
/// fields): about null_fraction of rows have no store_id, as many no amount. A bad_fraction of
/// rows is malformed as real feeds are: a non-numeric amount, a wrong field count (a field
/// missing or one too many), or an impossible sold_at.
///
/// Use: begin_day(d, rows), then append_csv() in chunks until `rows` are written.
class PosSalesGenerator {
public:
    static constexpr std::string_view kCsvHeader =
        "sale_id,store_id,sold_at,product_id,category,quantity,unit_price,amount,payment_type\n";

    explicit PosSalesGenerator(PosSalesGeneratorOptions options = {});

    /// { sale_id: int64 not null, store_id: int32, sold_at: timestamp not null,
    ///   product_id: string not null, category: string not null, quantity: int32 not null,
    ///   unit_price: double not null, amount: double, payment_type: string not null }
    static std::shared_ptr<const Schema> schema();
    /// "sales_YYYYMMDD.csv" for a day given as days since 1970-01-01.
    static std::string file_name(int32_t day);

    /// Starts day start_day + day_index, which will have `rows` rows in total.
    void begin_day(uint32_t day_index, uint64_t rows);
    int32_t day() const { return day_; }
    /// Appends up to `count` more rows of the current day (fewer when the day is complete);
    /// returns how many were appended. The header is not included (see kCsvHeader).
    uint64_t append_csv(std::string& out, uint64_t count);

    uint64_t generated() const { return generated_; }
    uint64_t bad() const { return bad_; }
    uint64_t null_store() const { return null_store_; }
    uint64_t null_amount() const { return null_amount_; }

private:
    uint64_t next();
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    PosSalesGeneratorOptions options_;
    uint64_t state_;
    int32_t day_;
    uint64_t day_rows_ = 0;
    uint64_t day_done_ = 0;
    uint64_t generated_ = 0;
    uint64_t bad_ = 0;
    uint64_t null_store_ = 0;
    uint64_t null_amount_ = 0;
};

}  // namespace millrace
