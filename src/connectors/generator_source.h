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
/// Deterministic from the seed and the event-time origin (`start:`, else the clock's time when
/// the source first opened; nexmark does not use it). A poll delivers the records due by now (at
/// most max_records), kIdle when none is due, kEnd after `limit`. One partition; the position's
/// offset is the number of records (nexmark: events) generated, its origin_micros the event-time
/// origin.
///
/// Resumable: seek() to a position that a source of the same spec returned, in this process or
/// an earlier one, makes the records that source went on to make, event times included. Nexmark
/// jumps to the event (each is a function of the seed and its number); the other kinds start
/// again from the seed at the saved origin and generate and discard up to the offset (making
/// them again, without decoding them). Pacing goes on at `rate` from the time of the seek, as if
/// the source had opened then with `offset` records already made: it does not catch up for the time
/// the source was down. One thread at a time.
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
    /// Any position a generator of the same spec returned (see above). kInvalidArgument for a
    /// unit other than 0, an offset past `limit`, or a position without origin_micros for a
    /// kind whose event times depend on it (orders, transactions, activity) unless it is the
    /// current position.
    Status seek(const SourcePosition& position) override;
    std::size_t units() const override { return 1; }
    std::string unit_name() const override { return "generator"; }
    uint64_t bytes_read() const override { return bytes_; }

private:
    GeneratorSource(const SourceSpec& spec, const Clock& clock);
    /// (Re)creates the generator of spec_ at its first record, its event times from `origin`.
    void start_generators(int64_t origin_micros);
    /// Records (nexmark: events) generated so far.
    uint64_t generated() const;
    /// Activity: the next `count` rows as CSV (no header) into `out`, beginning days as needed.
    void append_activity(std::string& out, uint64_t count);
    /// Generates and discards `count` records (what a poll would have delivered).
    void skip(uint64_t count);

    SourceSpec spec_;
    std::string name_;
    std::shared_ptr<const Schema> schema_;
    const Clock& clock_;
    double rate_ = 1000;
    bool paced_ = true;
    std::optional<uint64_t> limit_;
    int64_t origin_micros_ = 0;  // event-time origin (see SourcePosition::origin_micros)
    // Pacing: `paced_records_` records were due at `paced_from_micros_` (the open or the seek).
    int64_t paced_from_micros_ = 0;
    uint64_t paced_records_ = 0;
    bool announced_ = false;  // Listener::on_unit_start was called
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
