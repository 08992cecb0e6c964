#pragma once

#include <cstdint>
#include <functional>
#include <limits>
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

struct TableMetadata;
struct ObjectStoreConfig;
class TableStorage;

/// A lake table: an Apache Iceberg (format version 2) table of Parquet files in Hive-style
/// partition folders, file-based (no catalog), docs/lake.md. On disk:
///
///   <data_dir>/lake/<table>/
///     metadata/
///       v1.metadata.json        schema, partition spec (iceberg_metadata.h): the empty table
///                               (create()), or with the first snapshot (a prepared table)
///       v2.metadata.json        one more per commit: snapshots, logs, current-snapshot-id.
///                               Created with link(2) from a fsynced temporary file, which fails
///                               when the name exists: THE commit point, taken by at most one
///                               committer per version (optimistic concurrency, see commit()).
///       version-hint.text       "2\n": the newest version a committer saw, a hint only:
///                               readers start there and look further up for newer versions
///       snap-<id>-<attempt>-<uuid>.avro   manifest list of snapshot <id> (iceberg_manifest.h)
///       <uuid>-m0.avro          a manifest: data files with partition tuple and statistics
///     _staging/                 see staging_folder.h: named and private writer folders
///     _staging/<writer_id>/
///       open/…                  files a LakeWriter is writing (not yet pre-committed)
///       ckpt-<id>/…             files pre-committed for checkpoint <id> (closed, fsynced)
///       ckpt-<id>.json          the pre-commit record: staged → final paths, rows, statistics
///       done-<id>               marks the last committed checkpoint that wrote no rows (such
///                               commits make no snapshot)
///     day=2026-11-23/
///       part-<random>-<n>.parquet   committed data files (and files of older snapshots)
///       part-<random>-deletes.parquet   position delete files: (file_path, pos) rows of one
///                               data file of the folder (delete_rows())
///       part-<random>-<writer>-eqdeletes.parquet   equality delete files: the key rows of an
///                               upsert commit in this partition (LakeWriterOptions::upsert_key)
///
/// Readers list files from the manifests of the current snapshot (or an older one, AS OF a
/// snapshot id), so they never see staged files or files of a commit that did not happen.
/// Files dropped by an overwrite or a compaction stay on disk for older snapshots until
/// expire_snapshots() and remove_orphan_files() delete them.
///
/// Snapshot ids are 1, 2, 3... (equal to Iceberg sequence numbers); snapshot 0 is the empty
/// table. A LakeTable object is a handle: cheap, immutable, safe to share between threads. Each
/// read goes to the metadata on disk, so it sees the latest commit. Any number of threads and
/// processes may commit to one table at once.
class LakeTable {
public:
    /// Creates `<data_dir>/lake/<name>/` with snapshot 0 (metadata v1). kAlreadyExists if the
    /// table exists (of two concurrent creators, one wins, the other gets kAlreadyExists).
    /// With `storage` (an S3 bucket and prefix), the table's files live there and its commit
    /// pointer in the folder (table_storage.h); open() finds out by itself later.
    /// `float_columns` names double columns of `schema` whose Iceberg type is `float` (a table
    /// created through the REST catalog with float columns; see float_ids()).
    static Result<LakeTable> create(const std::string& data_dir, const std::string& name,
                                    const Schema& schema,
                                    const std::vector<std::string>& partition_by = {},
                                    const ObjectStoreConfig* storage = nullptr,
                                    const std::vector<std::string>& float_columns = {});
    /// Opens an existing table (kNotFound otherwise; kUnsupported, naming `millrace lake
    /// upgrade`, for a table in the format of Millrace before Iceberg).
    static Result<LakeTable> open(const std::string& data_dir, const std::string& name);
    /// Names of the tables under `<data_dir>/lake/`, sorted.
    static Result<std::vector<std::string>> list(const std::string& data_dir);
    /// A handle on a table that does not exist yet (kAlreadyExists when it does): it reads as the
    /// empty table, and its first commit() creates it, in the same metadata version (v1) as its
    /// first snapshot. A writer that fails before committing so leaves no table behind (call
    /// remove_if_uncreated() to tidy the folder its staging made). When a concurrent writer
    /// created the table first, the commit lands on top of theirs if the schemas are equal.
    static Result<LakeTable> prepare(const std::string& data_dir, const std::string& name,
                                     const Schema& schema,
                                     const std::vector<std::string>& partition_by = {},
                                     const ObjectStoreConfig* storage = nullptr);
    /// Renames table `from` to `to` (the Iceberg REST catalog's rename, `millrace lake rename`):
    /// the folder moves with one rename(2) that never replaces (kAlreadyExists when `to`
    /// exists, kNotFound when `from` does not), then relocate() makes the metadata name the new
    /// folder. A writer committing to the old name meanwhile fails (its run can be retried);
    /// run it when no pipeline writes the table. `from` == `to` only relocates (what finishes a
    /// rename whose relocation failed). kUnsupported for a table in an object store.
    static Result<LakeTable> rename(const std::string& data_dir, const std::string& from,
                                    const std::string& to);
    /// Rewrites the metadata so that its location, manifest lists and manifests name the folder
    /// the table is in now (a new metadata version; the snapshots, their ids and files stay):
    /// what other engines need after the folder moved. Millrace itself reads a moved table
    /// before that too. A no-op when the metadata names this folder already.
    Status relocate() const;
    /// A prepared table: creates it empty (snapshot 0) unless a commit created it already.
    Status ensure_created() const;
    /// A prepared table that no commit created: removes its folder when nothing but empty
    /// staging folders is left in it. No-op otherwise.
    void remove_if_uncreated() const;

    const std::string& name() const { return name_; }
    /// The table folder (writers' staging; for a table in an object store also its catalog
    /// entry, table_storage.h).
    const std::string& path() const { return path_; }
    /// Whether the table's files live in an object store rather than under path().
    bool in_object_store() const { return storage_ != nullptr; }
    /// Moves (local) or uploads (object store) a closed, staged file to `relative` (a path under
    /// the table, as DataFile::path). Nothing references it until a commit does.
    Status place_file(const std::string& staged, const std::string& relative) const;
    const std::shared_ptr<const Schema>& schema() const { return schema_; }
    /// The field id of each column of schema() (Iceberg column ids: what data files are matched
    /// by, so they survive renames, drops and reorders).
    const std::vector<int32_t>& field_ids() const { return *field_ids_; }
    /// The field ids of the columns whose Iceberg type is `float` (double columns to Millrace,
    /// written as Parquet FLOAT with 4-byte bounds: TableMetadata::float_ids).
    const std::vector<int32_t>& float_ids() const { return *float_ids_; }
    /// The positions in schema() of those columns (ParquetWriterOptions::float_columns).
    std::vector<std::size_t> float_columns() const;
    const PartitionSpec& partition_spec() const { return spec_; }

    /// Converts a table of the pre-Iceberg format (`_manifest/`) in place: its current snapshot
    /// becomes Iceberg snapshot 1 (same files, writers and progress); older snapshots are not
    /// carried over. `_manifest/` is renamed `_manifest.pre-iceberg/`. Safe to re-run after a
    /// crash. kInvalidArgument when there is nothing to upgrade.
    static Result<LakeTable> upgrade(const std::string& data_dir, const std::string& name);

    /// One schema change (schema evolution by field id, docs/lake.md). Columns are named as the
    /// table's current schema names them.
    struct SchemaChange {
        enum class Kind { kAddColumn, kRenameColumn, kDropColumn, kMoveColumn, kWiden };
        Kind kind = Kind::kAddColumn;
        std::string column;
        /// kAddColumn: the new column's type (it is nullable: older files read as null).
        DataType type = DataType::kString;
        /// kRenameColumn: the new name. kMoveColumn: the column to follow ("" = first).
        std::string to;
    };
    /// Applies `changes` in order as one new schema (with a new schema id; the old schemas stay
    /// in the metadata), committed like a snapshot (optimistic, retried on a concurrent commit;
    /// no new snapshot: data files are not touched). Added columns get new field ids (never
    /// reused); renamed, moved and widened columns keep theirs, so files written before read
    /// right. Widening: int32 to int64, and a `float` column (float_ids()) to double (the type
    /// kFloat64 names double). kInvalidArgument naming the column for a change that
    /// does not apply (unknown or taken name, a partition column renamed, dropped or widened, the
    /// last column dropped, a key column of live equality deletes dropped, another widening).
    /// Returns the new schema id. Handles opened before keep the schema they were opened with.
    Result<int64_t> alter(const std::vector<SchemaChange>& changes) const;
    /// The current schema id.
    Result<int64_t> schema_id() const;

    /// The current snapshot's id (0 for the empty table).
    Result<uint64_t> current_snapshot_id() const;
    /// The current snapshot, or an older one (AS OF). Metadata that does not read is
    /// kCorruption, naming the file, what is wrong and the newest intact older snapshot to read
    /// explicitly instead: an older snapshot is never served in place of the one asked.
    Result<Manifest> snapshot(std::optional<uint64_t> snapshot_id = std::nullopt) const;
    /// Every readable snapshot the metadata still lists, oldest first, snapshot 0 included.
    /// Corrupt ones are left out (read snapshot(id) for why), so the intact ones stay listed.
    Result<std::vector<Manifest>> history() const;

    struct ScanOptions {
        std::vector<std::string> columns;  // empty = all, in schema order
        std::vector<ColumnPredicate> predicates;
        std::optional<uint64_t> snapshot_id;  // AS OF; default the current snapshot
        /// Incremental: only the rows that the commits after this snapshot, up to snapshot_id
        /// (or the current one), appended: the data files each of those snapshots added, as
        /// written (Iceberg's incremental append scan: deletes and upserts of the range do not
        /// take rows away, and a compaction adds no rows).
        std::optional<uint64_t> appended_after;
        /// Benchmarks and tests only (bench/lake/lake_plan_bench.cpp): false makes plan() keep
        /// every file, ignoring the manifests' column statistics, to measure what pruning saves.
        /// The SQL engine, the pipelines and the CLI never clear it.
        bool use_statistics = true;
    };
    /// What a scan reads, chosen from the manifests alone (no data file is opened): the files
    /// of the snapshot (or of the incremental range) whose column statistics do not rule out
    /// every predicate, and the delete files that may apply to them.
    struct ScanPlan {
        uint64_t snapshot_id = 0;
        std::vector<DataFile> files;    // to read, in manifest order
        std::vector<DataFile> deletes;  // the snapshot's live delete files (none: incremental)
        std::size_t files_total = 0;    // data files considered
        std::size_t files_skipped = 0;  // ruled out by manifest statistics
    };
    /// Plans a scan: reads the metadata, manifest list and manifests and prunes by statistics.
    /// kNotFound for a predicate on a column the table does not have.
    Result<ScanPlan> plan(const ScanOptions& options) const;
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
    /// Reads the files of a plan (scan() is plan() then this), with the plan's deletes applied;
    /// `options` gives the columns and predicates. A reader that delivers a snapshot a file at a
    /// time (the streaming lake source) plans once and reads a plan of one file per call.
    Result<ScanStats> read(const ScanPlan& plan, const ScanOptions& options,
                           const std::function<Status(Batch)>& on_batch) const;

    /// Whether a row of a change scan was added or taken away.
    enum class ChangeKind { kInsert, kDelete };
    struct ChangeStats {
        std::size_t snapshots = 0;  // snapshots of the range that changed rows
        std::size_t files = 0;      // data files read
        uint64_t inserted = 0;
        uint64_t deleted = 0;
        bool more = false;  // stopped at ChangeWindow::max_files with files left to read
    };
    using ChangeConsumer = std::function<Status(Batch, ChangeKind, uint64_t snapshot_id)>;
    /// A part of a change scan, counted in the data files it reads (a file with deletes read
    /// for its deleted rows, a file added read for its inserts; files nothing touched do not
    /// count): the first `skip_files` are passed over unread, and the scan stops before reading
    /// one more than `max_files` (ChangeStats::more). What a reader that resumes part-way
    /// through a snapshot's changes uses; the default is the whole range.
    struct ChangeWindow {
        std::size_t skip_files = 0;
        std::size_t max_files = std::numeric_limits<std::size_t>::max();
    };
    /// The row changes of the snapshots after `after`, up to `upto`, snapshot by snapshot, oldest
    /// first (a changelog scan). Per snapshot, first the rows it deleted: rows live in its parent
    /// snapshot that are not live in it, because of the position or equality delete files it
    /// added or because it dropped their data file (an overwrite, a delete that emptied a file);
    /// each such row is delivered once, with its values as it was live. Then the rows it
    /// appended, as written (the data files it added). A compaction (operation `replace`)
    /// changes no rows and delivers nothing. An upsert of a key that existed is so a delete of
    /// the old row and an insert of the new one; of a new key, an insert only. A data file
    /// touched by new deletes is read twice (live before, live after) to find exactly which rows
    /// went. kInvalidArgument when `after` > `upto`, kNotFound when either snapshot is unknown
    /// (expired: the rows changed since cannot be told).
    Result<ChangeStats> scan_changes(uint64_t after, uint64_t upto,
                                     const std::vector<std::string>& columns,
                                     const ChangeConsumer& on_batch) const;
    Result<ChangeStats> scan_changes(uint64_t after, uint64_t upto,
                                     const std::vector<std::string>& columns,
                                     const ChangeConsumer& on_batch,
                                     const ChangeWindow& window) const;

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
    /// Merges small files per partition into one, and rewrites the files that have deletes
    /// without the deleted rows (their delete files go), and commits the swap as a new snapshot
    /// (Iceberg operation `replace`). When a
    /// concurrent commit replaced some of the files meanwhile, the merge is redone on the newer
    /// snapshot (a few attempts, then kUnavailable).
    Result<CompactResult> compact(const CompactOptions& options) const;

    /// Drops snapshots older than `older_than_ms` (epoch milliseconds) from the metadata, but
    /// always keeps the newest `retain_last` (at least 1) and the current one; their data files,
    /// manifests and manifest lists that no kept snapshot uses are deleted after the commit.
    struct ExpireResult {
        std::size_t snapshots_expired = 0;
        std::size_t files_deleted = 0;
    };
    Result<ExpireResult> expire_snapshots(int64_t older_than_ms, std::size_t retain_last) const;
    /// Deletes files under the table folder that no snapshot in the metadata references
    /// (data files and metadata files), leaving `_staging/`, metadata versions and anything
    /// modified less than `older_than_ms` ago alone (a commit in progress writes such files).
    Result<std::size_t> remove_orphan_files(int64_t min_age_ms) const;

    /// Row-level delete (merge-on-read): `matches` gets every live row of the current snapshot,
    /// a Batch at a time (all columns, schema order), and returns the indices of the rows to
    /// delete. Each data file with matches gets one position delete file (Iceberg's
    /// `file_path`, `pos` rows, in the data file's partition folder); a data file all of whose
    /// rows are deleted is dropped instead. One snapshot, operation `delete`. A concurrent
    /// commit that dropped a file meanwhile makes the delete start over (a few times).
    struct DeleteResult {
        uint64_t snapshot_id = 0;  // the new snapshot, or the current one when nothing matched
        uint64_t rows_deleted = 0;
        std::size_t delete_files = 0;
        std::size_t files_removed = 0;
    };
    using RowMatcher = std::function<Result<std::vector<uint32_t>>(const Batch&)>;
    Result<DeleteResult> delete_rows(const RowMatcher& matches) const;

    /// The file that holds snapshot `id`'s list of files (its manifest list), for messages;
    /// the current metadata file for snapshot 0 or an unknown id.
    std::string snapshot_file(uint64_t snapshot_id) const;
    /// The table's Iceberg schema JSON (data files carry it and its field ids).
    std::string iceberg_schema() const;

    // ---- used by LakeWriter ----

    /// One change to the table, applied atomically by commit().
    struct Change {
        std::vector<std::string> removed;  // live paths to drop (a conflict when not live)
        std::vector<DataFile> added;
        /// Delete files to add (DataFile::content); a position delete file's referenced file
        /// must be live after the change (a conflict otherwise). Delete files of data files the
        /// change drops, and of replaced partitions, are dropped with them.
        std::vector<DataFile> added_deletes;
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
        /// Writer checkpoints to record as they are (lake upgrade carries them over).
        std::map<std::string, uint64_t> writers;
    };
    /// Commits `change` as a new snapshot with optimistic concurrency: reads the newest metadata
    /// version N, writes the manifest(s) and manifest list, then creates v<N+1>.metadata.json
    /// with link(2), which never replaces a file. When another committer took N+1 first, the
    /// change is re-applied to the newer snapshot and tried again (with a random back-off, a
    /// bounded number of times, then kUnavailable); its own manifest files are deleted. Never a
    /// lost or half-made commit. kUnavailable (a conflict) at once when a `removed` file is no
    /// longer live; kCorruption when the current metadata does not read.
    Result<uint64_t> commit(const Change& change) const;

    /// The newest metadata version as it is on disk, for the Iceberg REST catalog, which
    /// serves and edits the metadata JSON whole (catalog_commit.h).
    struct MetadataFile {
        int64_t version = 0;
        std::string path;  // absolute: <location>/metadata/v<version>.metadata.json
        std::string json;
    };
    Result<MetadataFile> current_metadata_file() const;
    /// Creates metadata version `version` holding `json` with link(2), as commit() does; false
    /// when another committer created that version first (the caller re-reads and retries).
    Result<bool> commit_metadata_file(int64_t version, std::string_view json) const;

    struct Metadata;

private:
    Result<CompactResult> compact_once(const CompactOptions& options) const;
    Result<DeleteResult> delete_once(const RowMatcher& matches) const;

    /// The newest metadata version, parsed.
    Result<Metadata> load() const;
    /// Snapshot `id` as the metadata lists it, without the corruption hint snapshot() adds.
    /// Statistics are keyed to this handle's columns, or with `metadata_columns` to the
    /// metadata's current schema.
    Result<Manifest> read_snapshot(const Metadata& metadata, uint64_t id,
                                   bool metadata_columns = false) const;
    /// kTypeMismatch unless every column of this handle is in `metadata`'s current schema
    /// (by field id) with its type or a wider one (int to long, float to double).
    Status check_still_writable(const TableMetadata& metadata,
                                const std::vector<int32_t>& ids) const;
    /// The newest snapshot below `below` that reads, or nullopt.
    std::optional<Result<Manifest>> newest_intact_snapshot(const Metadata& metadata,
                                                           uint64_t below) const;
    /// "; the newest intact snapshot is …" for corruption messages.
    std::string intact_hint(const Metadata* metadata, uint64_t below) const;

    // File access that goes to the object store for a table that lives in one.
    std::string version_file(int64_t version) const;
    Result<std::string> read_metadata(const std::string& path) const;
    /// A manifest list or manifest the metadata names (absolute, under `location`): read from
    /// this handle's folder, wherever the table was when the path was written.
    Result<std::string> read_metadata_at(const std::string& path,
                                         const std::string& location) const;
    Result<bool> create_version(int64_t version, std::string_view json) const;
    Status write_table_file(const std::string& path, std::string_view bytes) const;
    void remove_table_file(const std::string& path) const;
    Result<std::size_t> remove_orphan_objects(const std::set<std::string>& live,
                                              int64_t min_age_ms) const;

    LakeTable(std::string name, std::string path, std::shared_ptr<const Schema> schema,
              PartitionSpec spec, std::vector<int32_t> field_ids = {})
        : name_(std::move(name)),
          path_(std::move(path)),
          schema_(std::move(schema)),
          spec_(std::move(spec)) {
        if (schema_ && field_ids.size() != schema_->size()) {
            field_ids.resize(schema_->size());
            for (std::size_t i = 0; i < field_ids.size(); ++i) {
                field_ids[i] = static_cast<int32_t>(i + 1);
            }
        }
        field_ids_ = std::make_shared<const std::vector<int32_t>>(std::move(field_ids));
        float_ids_ = std::make_shared<const std::vector<int32_t>>();
    }

    std::string name_;
    std::string path_;
    std::shared_ptr<const Schema> schema_;
    PartitionSpec spec_;
    std::shared_ptr<const std::vector<int32_t>> field_ids_;
    std::shared_ptr<const std::vector<int32_t>> float_ids_;
    /// prepare(): the metadata of the table to create with the first commit.
    std::shared_ptr<const TableMetadata> pending_;
    /// Set when the table's files live in an object store.
    std::shared_ptr<const TableStorage> storage_;
};

/// A data file name no other writer will pick: "part-<16 random hex>-<suffix>.parquet".
std::string data_file_name(std::string_view suffix);

/// The values of `columns` at `row` as one byte string, equal exactly when the values are
/// (null equals null, as in equality deletes): what upserts and equality deletes match keys by.
std::string row_key(const Batch& batch, const std::vector<std::size_t>& columns, std::size_t row);
/// row_key() appended to `key` (a buffer the caller reuses across rows).
void append_row_key(std::string& key, const Batch& batch, const std::vector<std::size_t>& columns,
                    std::size_t row);

}  // namespace millrace
