#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "connectors/source.h"
#include "lake/lake_table.h"
#include "project/project.h"

namespace millrace {

/// A lake table followed as an unbounded source (a `lake:` source in a `mode: streaming`
/// pipeline, docs/lake.md "Following a table in a streaming pipeline"). What it delivers, as
/// Flink's Iceberg streaming source does:
///  - by default the table's current snapshot when the pipeline first starts (deletes applied),
///    then the rows each later snapshot appended (LakeTable::plan with appended_after);
///  - `incremental: true`: only the rows appended after `start_snapshot` (default 0: every
///    snapshot's), then each later snapshot's;
///  - `start_from: latest`: only the snapshots committed after the pipeline first started;
///  - `changelog: true`: each later snapshot's row changes (LakeTable::scan_changes), deletes
///    included, with one more column `_change` ('insert' or 'delete'); the starting snapshot,
///    when read whole, comes as inserts.
/// A compaction (`replace`) adds no rows and delivers nothing. The table's metadata is read
/// for new snapshots at most every `poll_interval`; poll() answers kIdle in between and when
/// nothing is new. The source never ends.
///
/// A poll delivers one data file (one file's deletes or inserts for a changelog), so a
/// snapshot of many files is spread over polls and checkpoints may fall inside it. The
/// position, saved in the pipeline's checkpoints, is three numbers:
///
///   SourcePosition { unit:   snapshot S,
///                    offset: data files done of the step after the position,
///                    line:   0 = S is delivered, the next step is snapshot S+1's changes;
///                            1 = the step is the whole of snapshot S (the first read) }
///
/// A step's files come in a fixed order (a whole snapshot's oldest first, by sequence number,
/// then manifest order; a snapshot's added files in manifest order), which never changes for a
/// committed snapshot, so seek() to a saved position delivers exactly the rows after it: nothing
/// read twice, nothing skipped. A snapshot the position needs that was expired (`lake
/// expire-snapshots`) is an error naming it, never skipped; so is a table whose current
/// snapshot is before the position (rolled back, or made anew). One thread at a time.
class StreamingLakeSource final : public SourceReader {
public:
    /// Opens `spec.table` under `data_dir` (errors as LakeSource::open) and pins the starting
    /// position from the table's current snapshot; a restored run seek()s to its checkpoint's.
    static Result<std::unique_ptr<StreamingLakeSource>> open(const SourceSpec& spec,
                                                             const std::string& data_dir);

    const std::string& name() const override { return name_; }
    const std::shared_ptr<const Schema>& schema() const override { return schema_; }
    Result<PollResult> poll(DecodeSink& sink, std::size_t max_records, Listener* listener) override;
    SourcePosition position() const override {
        return SourcePosition{static_cast<std::size_t>(snapshot_), files_done_, whole_ ? 1u : 0u};
    }
    /// kInvalidArgument for a position this source cannot have made; kNotFound (naming the
    /// snapshot and what to do) when its snapshot was expired, kOutOfRange when it is after the
    /// table's current snapshot.
    Status seek(const SourcePosition& position) override;
    std::size_t units() const override { return 1; }  // one watermark partition
    std::string unit_name() const override { return "table"; }
    uint64_t bytes_read() const override { return bytes_read_; }

    /// The last snapshot delivered whole (with position().line 1: the one being read whole).
    uint64_t snapshot_id() const { return snapshot_; }

private:
    StreamingLakeSource(std::string name, LakeTable table)
        : name_(std::move(name)), table_(std::move(table)) {}

    /// The files of the current step, planned once per step.
    Status plan_step();
    /// An error for a snapshot of the position that the table no longer lists.
    Error expired(uint64_t snapshot, const Error& cause) const;
    /// Moves to the next step once the current one is delivered.
    void step_done();

    std::string name_;
    std::string table_name_;
    LakeTable table_;
    std::shared_ptr<const Schema> schema_;
    bool changelog_ = false;
    int64_t poll_interval_micros_ = 1'000'000;
    // The position (see the class comment).
    uint64_t snapshot_ = 0;
    uint64_t files_done_ = 0;
    bool whole_ = false;
    // The table's current snapshot as last read, and when (steady clock, microseconds).
    uint64_t current_ = 0;
    std::optional<int64_t> checked_micros_;
    // The plan of the current step (appends and whole snapshots; a changelog scans per file).
    std::optional<LakeTable::ScanPlan> plan_;
    uint64_t bytes_read_ = 0;
};

}  // namespace millrace
