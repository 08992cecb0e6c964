#pragma once

#include <cstdint>
#include <memory>

#include "types/batch.h"
#include "types/schema.h"

namespace millrace {

struct TransactionGeneratorOptions {
    uint64_t seed = 42;
    int64_t start_micros = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
    int64_t mean_step_micros = 1'000;              // mean event-time gap between transactions
    uint32_t accounts = 10'000;
    uint32_t merchants = 2'000;
};

/// Generates card transactions for the real-time fraud-features scenario (per-account counts,
/// sums, maxima and distinct merchants/devices over the last minutes), deterministically from a
/// seed, straight into Batches. Accounts are skewed (low ids are busier, as real card traffic
/// is); an account mostly uses its own card and one of two devices, and now and then another
/// device in another country (what fraud features look for). Amounts are log-normal-ish, a few
/// cents to a few thousand.
class TransactionGenerator {
public:
    explicit TransactionGenerator(TransactionGeneratorOptions options = {});

    /// { transaction_id: int64, account_id: string, card_id: string, merchant_id: string,
    ///   merchant_category: string, device_id: string, amount: double, currency: string,
    ///   country: string, ts: timestamp } (none null)
    static std::shared_ptr<const Schema> schema();

    /// Appends `count` transactions to `builder` (of schema()).
    void append(BatchBuilder& builder, uint64_t count);

    uint64_t generated() const { return generated_; }

private:
    uint64_t next();
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    TransactionGeneratorOptions options_;
    uint64_t state_;
    int64_t now_micros_;
    uint64_t generated_ = 0;
};

}  // namespace millrace
