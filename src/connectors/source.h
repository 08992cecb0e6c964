#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "formats/decode_sink.h"
#include "types/schema.h"

namespace millrace {

/// Where a source reader stands: the input unit it reads (a file of a FileSource, a partition
/// of a TopicSource, by index), the byte offset or record offset within it, and for files the
/// line. Units before `unit` are read, units after it are not started. Saved with a checkpoint
/// and given back to SourceReader::seek to read the same records again.
struct SourcePosition {
    std::size_t unit = 0;
    /// Files: bytes of the unit consumed. Topics: the offset of the next record. Generators:
    /// the records (nexmark: events) generated.
    uint64_t offset = 0;
    /// Files: lines of the unit consumed (0 for Parquet). Topics and generators: 0.
    uint64_t line = 0;
    /// Generators: the event-time origin, the clock's time when the source first opened (the
    /// event times of orders and transactions, and the day of activity, count from it), so that
    /// a generator resumed in a later process goes on with the same event times. Others: none.
    std::optional<int64_t> origin_micros;

    /// "unit:offset:line", e.g. "2:18734:301"; with an origin "unit:offset:line:origin".
    std::string to_string() const;
    /// kInvalidArgument for text that to_string() did not produce.
    static Result<SourcePosition> parse(const std::string& text);
    bool operator==(const SourcePosition&) const = default;
};

/// What one poll produced.
enum class PollResult {
    kData,  // records (or rejected records) were delivered
    kIdle,  // nothing yet; poll again later (an unbounded source at its current end)
    kEnd,   // end of input: every unit is read
};

/// The contract every pipeline input implements. A reader is polled for up to N records into a
/// DecodeSink (batches and RowErrors), reports data / idle / end, exposes its position and can
/// seek back to a saved one. A bounded source is a reader whose end positions are captured when
/// it opens (the files a glob matched, each partition's end offset), so it ends with kEnd and a
/// re-run over the same positions sees the same records. One thread at a time.
class SourceReader {
public:
    virtual ~SourceReader() = default;

    /// Told where records come from, for dead letters and run reports.
    class Listener {
    public:
        virtual ~Listener() = default;
        /// Before the first record of an input unit is delivered: a file path, "topic t
        /// partition p".
        virtual void on_unit_start(const std::string& where) = 0;
        /// A whole input unit was set aside without any of its records being delivered (a
        /// corrupt or unreadable file, within the source's max_bad_files).
        virtual void on_unit_set_aside(const std::string& /*where*/,
                                       const std::string& /*reason*/) {}
    };

    virtual const std::string& name() const = 0;
    virtual const std::shared_ptr<const Schema>& schema() const = 0;

    /// Delivers up to about `max_records` records into `sink`, from position() on. A FileSource
    /// delivers a whole file per poll (the unit that can be set aside whole); a TopicSource at
    /// most `max_records`.
    virtual Result<PollResult> poll(DecodeSink& sink, std::size_t max_records,
                                    Listener* listener) = 0;
    /// Reads from position() to the end, in the same order as polling would. Sources override
    /// it when they can do better (FileSource decodes files in parallel).
    virtual Status read_to_end(DecodeSink& sink, Listener* listener);

    /// The position after the last record delivered.
    virtual SourcePosition position() const = 0;
    /// Moves to a position an earlier position() returned. kInvalidArgument for a position
    /// outside the source's units or bounds.
    virtual Status seek(const SourcePosition& position) = 0;

    /// Input units (files, partitions) and bytes read, for the run report.
    virtual std::size_t units() const = 0;
    virtual std::string unit_name() const = 0;  // "file", "partition"
    virtual uint64_t bytes_read() const = 0;
};

}  // namespace millrace
