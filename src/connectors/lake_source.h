#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "connectors/source.h"
#include "lake/lake_table.h"
#include "project/project.h"

namespace millrace {

/// A lake table as a bounded pipeline source (`lake: { table: t }`, docs/lake.md "A lake table
/// as a pipeline source"). The snapshot to read is pinned when the source opens, so commits made
/// during the run are left for the next one. Three forms:
///  - plain: the rows live in the current snapshot, with position and equality deletes applied
///    (LakeTable::scan, as `millrace query` reads);
///  - `incremental: true`: the rows appended by the snapshots after the one the pipeline last
///    processed, up to the pinned one (LakeTable::scan with appended_after; a compaction adds
///    none). The processed snapshot is kept in the progress file given to open() and moves only
///    by commit_progress(), which a run calls once every sink committed: a failed run reads the
///    same rows again;
///  - with `changelog: true`: the row changes of those snapshots (LakeTable::scan_changes),
///    deleted rows included, with one more column `_change`, 'insert' or 'delete'.
///
/// One input unit (the table); a poll delivers the whole range. Positions: unit 0 before the
/// read, unit 1 after it. One thread at a time.
///
/// The progress file (written with write_file_durably):
///
///   snapshot 7\n            the last snapshot whose changes a committed run delivered
///   table-uuid 3f…\n        the table's Iceberg uuid: a table of the same name made anew (or
///                           another table renamed to it) is refused, not read from snapshot 7
class LakeSource final : public SourceReader {
public:
    /// Opens `spec.table` under `data_dir`: kConfig at the table's place in the user's file for
    /// an unknown table, a progress file that does not parse, a progress snapshot after the
    /// table's current one (a table dropped and made again), or a table that has a `_change`
    /// column while `changelog` asks for one, a progress file of another table (its uuid).
    /// `progress_path` "" (explain, validation): an incremental source starts from `start_snapshot`
    /// (else 0) and commit_progress() is a no-op.
    static Result<std::unique_ptr<LakeSource>> open(const SourceSpec& spec,
                                                    const std::string& data_dir,
                                                    const std::string& progress_path);
    /// The schema a lake source spec delivers (the table's, plus `_change` for a changelog).
    static Result<std::shared_ptr<const Schema>> schema_of(const SourceSpec& spec,
                                                           const std::string& data_dir);

    // Shared with StreamingLakeSource (streaming_lake_source.h), which reads a table the same way.

    /// The table `spec` names: kConfig at `table:` in the user's file for an unknown table
    /// (listing the tables there are).
    static Result<LakeTable> open_table(const SourceSpec& spec, const std::string& data_dir);
    /// The schema `spec` delivers from `table`: kConfig when a changelog's `_change` column is
    /// taken by one of the table's.
    static Result<std::shared_ptr<const Schema>> schema_of(const SourceSpec& spec,
                                                           const LakeTable& table);
    /// A scanned `batch` (the table's columns) under the delivered `schema`, with the `_change`
    /// column ('insert' or 'delete') when `change` is given.
    static Batch as_delivered(const std::shared_ptr<const Schema>& schema, const Batch& batch,
                              std::optional<LakeTable::ChangeKind> change);

    const std::string& name() const override { return name_; }
    const std::shared_ptr<const Schema>& schema() const override { return schema_; }
    Result<PollResult> poll(DecodeSink& sink, std::size_t max_records, Listener* listener) override;
    SourcePosition position() const override { return SourcePosition{done_ ? 1u : 0u, 0, 0}; }
    Status seek(const SourcePosition& position) override;
    std::size_t units() const override { return 1; }
    std::string unit_name() const override { return "table"; }
    uint64_t bytes_read() const override { return 0; }

    /// The snapshot read up to (pinned at open).
    uint64_t snapshot_id() const { return upto_; }
    /// Incremental: the snapshot whose changes were delivered already (nullopt: a plain read).
    std::optional<uint64_t> read_after() const { return after_; }
    /// Rows delivered by the last read (changelog: inserted and deleted ones).
    uint64_t rows() const { return rows_; }
    /// Incremental: records snapshot_id() in the progress file, durably. Call only after every
    /// sink of the run committed. A no-op for a plain source or without a progress file.
    Status commit_progress() const;

    struct Progress {
        uint64_t snapshot = 0;
        std::string table_uuid;
    };
    /// What a progress file records (nullopt when there is no file).
    static Result<std::optional<Progress>> read_progress(const std::string& path);

private:
    LakeSource(std::string name, LakeTable table)
        : name_(std::move(name)), table_(std::move(table)) {}

    std::string name_;
    LakeTable table_;
    std::shared_ptr<const Schema> schema_;
    bool changelog_ = false;
    std::optional<uint64_t> after_;
    uint64_t upto_ = 0;
    std::string progress_path_;
    std::string table_uuid_;
    bool done_ = false;
    uint64_t rows_ = 0;
};

}  // namespace millrace
