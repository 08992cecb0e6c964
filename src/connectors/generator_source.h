#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "connectors/source.h"
#include "datagen/order_generator.h"
#include "project/project.h"

namespace millrace {

class Clock;

/// Synthetic events as an unbounded source (`generator:` in a streaming pipeline): datagen's
/// OrderGenerator, paced by the clock at `rate` records per second from when the source opens,
/// with event times that start at that moment and advance 1/rate apart on average (so windows
/// close in real time). Deterministic from the seed apart from that start. A poll delivers the
/// records due by now (at most max_records), kIdle when none is due, kEnd after `limit`.
/// Bad records (bad_fraction) are rejected by the decoder like a topic's. One partition; the
/// position's offset is the number of records generated. One thread at a time.
class GeneratorSource final : public SourceReader {
public:
    /// kConfig for an unknown kind. `clock` must outlive the source.
    static Result<std::unique_ptr<GeneratorSource>> open(const SourceSpec& spec,
                                                         const Clock& clock);

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

    std::string name_;
    std::shared_ptr<const Schema> schema_;
    const Clock& clock_;
    double rate_ = 1000;
    std::optional<uint64_t> limit_;
    int64_t started_micros_ = 0;
    OrderGenerator generator_;
    uint64_t bytes_ = 0;
    std::string text_;
};

}  // namespace millrace
