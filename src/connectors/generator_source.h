#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "connectors/source.h"
#include "datagen/activity_generator.h"
#include "datagen/nexmark_generator.h"
#include "datagen/order_generator.h"
#include "datagen/transaction_generator.h"
#include "project/project.h"

namespace millrace {

class Clock;

/// Synthetic events as an unbounded source (`generator:` in a streaming pipeline), paced by the
/// clock at `rate` records per second from when the source opens (or as fast as they are taken,
/// `paced: false`). Kinds:
///  - `orders`: datagen's OrderGenerator, event times from when the source opens, 1/rate apart
///    on average (so windows close in real time); bad records (bad_fraction) are rejected by the
///    decoder like a topic's.
///  - `activity`: datagen's ActivityGenerator (web and app user events), a day of `rate` per
///    second at a time from midnight UTC of the day the source opens, so event times advance
///    1/rate apart; bad rows (bad_fraction) are rejected by the CSV decoder.
///  - `transactions`: datagen's TransactionGenerator (card payments), timed like orders, written
///    straight into Batches.
///  - `nexmark`: one relation (`events: person | auction | bid`) of datagen's NexmarkGenerator,
///    written straight into Batches; `rate` and `limit` count the events of all three relations
///    (so three sources with one seed and limit make one consistent sequence), event n at a fixed
///    base time plus n/rate.
/// Deterministic from the seed (orders and transactions: apart from their start time). A poll
/// delivers the records due by now (at most max_records), kIdle when none is due, kEnd after
/// `limit`. One partition; the position's offset is the number of records (nexmark: events)
/// generated. One thread at a time.
class GeneratorSource final : public SourceReader {
public:
    /// kConfig for an unknown kind. `clock` must outlive the source.
    static Result<std::unique_ptr<GeneratorSource>> open(const SourceSpec& spec,
                                                         const Clock& clock);
    /// The schema of the records a generator spec makes (kConfig for an unknown kind).
    static Result<std::shared_ptr<const Schema>> schema_of(const SourceSpec& spec);

    const std::string& name() const override { return name_; }
    const std::shared_ptr<const Schema>& schema() const override { return schema_; }
    Result<PollResult> poll(DecodeSink& sink, std::size_t max_records, Listener* listener) override;
    SourcePosition position() const override;
    /// Only the current position (a generator cannot go back).
    Status seek(const SourcePosition& position) override;
    std::size_t units() const override { return 1; }
    std::string unit_name() const override { return "generator"; }
    uint64_t bytes_read() const override { return bytes_; }

private:
    GeneratorSource(const SourceSpec& spec, const Clock& clock);
    /// Records (nexmark: events) generated so far.
    uint64_t generated() const;

    std::string name_;
    std::shared_ptr<const Schema> schema_;
    const Clock& clock_;
    double rate_ = 1000;
    bool paced_ = true;
    std::optional<uint64_t> limit_;
    int64_t started_micros_ = 0;
    std::unique_ptr<OrderGenerator> orders_;
    std::unique_ptr<NexmarkGenerator> nexmark_;
    std::unique_ptr<TransactionGenerator> transactions_;
    std::unique_ptr<ActivityGenerator> activity_;
    uint64_t activity_day_rows_ = 0;
    uint32_t activity_days_ = 0;  // days begun
    uint64_t bytes_ = 0;
    std::string text_;
};

}  // namespace millrace
