#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "formats/parquet/column_statistics.h"
#include "formats/parquet/parquet_writer.h"
#include "lake/manifest.h"
#include "lake/partition_spec.h"
#include "types/batch.h"

namespace millrace {

/// A lake table: Parquet files in Hive-style partition folders plus a manifest per snapshot,
/// swapped atomically on commit (docs/architecture.md §6). On disk:
///
///   <data_dir>/lake/<table>/
///     _manifest/
///       v0000000000.json        snapshot 0: the empty table (schema, partition_by)
///       v0000000001.json        snapshot 1: every live file, with rows and column statistics
///       current                 "1\n": the committed snapshot. Replaced by write-temp + fsync +
///                               rename + fsync(folder): THE commit point. Manifests with a
///                               higher id than `current` are leftovers of a crashed commit
///                               and are never read.
///       .lock                   flock()ed by committers (one commit at a time per table) and by
///                               create (one creator)
///     _staging/                 see staging_folder.h: named and private writer folders
///     _staging/<writer_id>/
///       open/…                  files a LakeWriter is writing (not yet pre-committed)
///       ckpt-<id>/…             files pre-committed for checkpoint <id> (closed, fsynced)
///       ckpt-<id>.json          the pre-commit record: staged → final paths, rows, statistics
///       done-<id>               marks the last committed checkpoint that wrote no rows (such
///                               commits make no snapshot)
///     day=2026-11-23/
///       part-<random>-<n>.parquet   committed data files (and files of older snapshots)
///
/// Readers list files from the manifest `current` names (or an older one, AS OF a snapshot id),
/// so they never see staged files or files of a commit that did not reach `current`. Files
/// dropped by an overwrite or a compaction stay on disk for older snapshots (no vacuum yet).
///
/// A LakeTable object is a handle: cheap, immutable, safe to share between threads. Each read
/// goes to the manifest on disk, so it sees the latest commit. One process writes a table at a
/// time (the lock serializes commits; concurrent appenders would each need their own writer_id).
class LakeTable {
public:
    /// Creates `<data_dir>/lake/<name>/` with snapshot 0. kAlreadyExists if it has a manifest.
    static Result<LakeTable> create(const std::string& data_dir, const std::string& name,
                                    const Schema& schema,
                                    const std::vector<std::string>& partition_by = {});
    /// Opens an existing table (kNotFound otherwise).
    static Result<LakeTable> open(const std::string& data_dir, const std::string& name);
    /// Names of the tables under `<data_dir>/lake/`, sorted.
    static Result<std::vector<std::string>> list(const std::string& data_dir);

    const std::string& name() const { return name_; }
    /// The table folder.
    const std::string& path() const { return path_; }
    const std::shared_ptr<const Schema>& schema() const { return schema_; }
    const PartitionSpec& partition_spec() const { return spec_; }

    /// The id `current` names.
    Result<uint64_t> current_snapshot_id() const;
    /// The committed manifest, or the one of an older snapshot (AS OF). A manifest that does not
    /// parse is kCorruption, naming the file, what is wrong and the newest intact older snapshot
    /// to read explicitly instead: an older snapshot is never served in place of the one asked.
    Result<Manifest> snapshot(std::optional<uint64_t> snapshot_id = std::nullopt) const;
    /// Every readable committed snapshot, oldest first. Corrupt manifests are left out (read
    /// snapshot(id) for why), so the intact ones stay listed.
    Result<std::vector<Manifest>> history() const;

    struct ScanOptions {
        std::vector<std::string> columns;  // empty = all, in schema order
        std::vector<ColumnPredicate> predicates;
        std::optional<uint64_t> snapshot_id;  // AS OF; default the current snapshot
    };
    struct ScanStats {
        uint64_t snapshot_id = 0;
        std::size_t files = 0;
        std::size_t files_skipped = 0;  // ruled out by manifest statistics
        std::size_t row_groups_skipped = 0;
        uint64_t rows = 0;
    };
    /// Reads the snapshot's files (those the predicates do not rule out), one Batch per row
    /// group, in manifest order. Predicates only skip; callers still filter the rows.
    Result<ScanStats> scan(const ScanOptions& options,
                           const std::function<Status(Batch)>& on_batch) const;

    struct CompactOptions {
        uint64_t small_file_bytes = 32ull << 20;  // files below this are merged...
        std::size_t min_files = 2;                // ...when a partition has at least this many
        ParquetWriterOptions parquet;
    };
    struct CompactResult {
        uint64_t snapshot_id = 0;  // the new snapshot (or the current one when nothing to do)
        std::size_t files_removed = 0;
        std::size_t files_added = 0;
    };
    /// Merges small files per partition into one and commits the swap as a new snapshot. When a
    /// concurrent commit replaced some of the files meanwhile, the merge is redone on the newer
    /// snapshot (a few attempts, then kUnavailable).
    Result<CompactResult> compact(const CompactOptions& options) const;

    // ---- used by LakeWriter ----

    std::string manifest_path(uint64_t snapshot_id) const;

    /// One change to the table, applied atomically by commit().
    struct Change {
        std::vector<std::string> removed;  // live paths to drop (a conflict when not live)
        std::vector<DataFile> added;
        /// Partition folders whose live files this commit drops (an overwrite); "" is the
        /// unpartitioned root.
        std::set<std::string> replaced_partitions;
        std::string operation;
        /// With `checkpoint`: record writer -> checkpoint, and skip the commit (returning the
        /// current id) when the manifest already shows this writer at `checkpoint` or later.
        std::string writer;
        std::optional<uint64_t> checkpoint;
        /// Progress entries to set (a value) or erase (nullopt), see Manifest::progress.
        std::map<std::string, std::optional<std::string>> progress;
    };
    /// Commits `change` under the table lock as snapshot current + 1: the new manifest is written,
    /// then `current` is swapped to name it. kUnavailable (a conflict) when a `removed` file is no
    /// longer live. Commits of any number of writers (threads or
    /// processes) serialize on the lock; each sees the previous one's files.
    Result<uint64_t> commit(const Change& change) const;

private:
    Result<CompactResult> compact_once(const CompactOptions& options) const;
    /// The manifest of `id`, without the corruption hint snapshot() adds.
    Result<Manifest> read_snapshot(uint64_t id) const;
    /// One past the highest manifest id on disk (0 when none).
    uint64_t manifests_end() const;
    /// The newest snapshot below `below` whose manifest reads, or nullopt.
    std::optional<Result<Manifest>> newest_intact_snapshot(uint64_t below) const;

    LakeTable(std::string name, std::string path, std::shared_ptr<const Schema> schema,
              PartitionSpec spec)
        : name_(std::move(name)),
          path_(std::move(path)),
          schema_(std::move(schema)),
          spec_(std::move(spec)) {}

    std::string name_;
    std::string path_;
    std::shared_ptr<const Schema> schema_;
    PartitionSpec spec_;
};

/// A data file name no other writer will pick: "part-<16 random hex>-<suffix>.parquet".
std::string data_file_name(std::string_view suffix);

}  // namespace millrace
