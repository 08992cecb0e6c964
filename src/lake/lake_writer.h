#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "formats/parquet/parquet_writer.h"
#include "lake/lake_table.h"
#include "types/batch.h"

namespace millrace {

/// Where a LakeWriter stages its files, and so what survives it (staging_folder.h).
enum class LakeStaging {
    /// `_staging/<writer_id>/`: pre-committed checkpoints survive a crash and the restarted
    /// writer (same id) commits or aborts them; commits record writer -> checkpoint so that a
    /// replayed commit is a no-op. One live writer per id (another gets kUnavailable).
    kNamed,
    /// A folder of this writer object alone, removed when it ends or, after a crash, by the next
    /// writer of the table: nothing it staged is ever committed by anyone else. Nothing is
    /// recorded per writer in the snapshot. For batch jobs, which redo or resume a failed run
    /// themselves; any number may run at once, even with one writer_id.
    kPrivate,
};

struct LakeWriterOptions {
    /// Names the staging folder (kNamed: stable across restarts of the same sink) and the
    /// data files.
    std::string writer_id = "default";
    LakeStaging staging = LakeStaging::kNamed;
    /// Overwrite: the first commit of this writer into a partition replaces the partition's
    /// files; its later commits into the same partition append (so a job committing in several
    /// steps replaces each partition once, with all of its rows). Append: commits add files.
    bool overwrite_partitions = false;
    /// Partition folders an earlier run of the same job already replaced (a resumed job passes
    /// what the interrupted run recorded), so they are appended to, not replaced again.
    std::set<std::string> replaced_partitions;
    /// Upsert (merge-on-read): the key columns. Each commit then holds one row per key (the
    /// last one written) and an equality delete file per partition with the commit's keys, so
    /// that older rows with those keys are deleted and the table holds one row per key. Every
    /// partition source column must be a key column (the old row of a key is then in the same
    /// partition as the new one). The commit's rows are held in memory until pre_commit, or
    /// once they take `upsert_spill_bytes`, deduplicated and spilled to runs sorted by key in
    /// the staging folder, which pre_commit merges (memory stays bounded for any commit size).
    std::vector<std::string> upsert_key;
    std::size_t upsert_spill_bytes = std::size_t{256} << 20;
    /// A new file is started in a partition after this many rows.
    uint64_t max_file_rows = 8ull << 20;
    ParquetWriterOptions parquet;
};

/// Writes Batches into a LakeTable with two-phase commit, as the streaming runtime's
/// checkpoints drive it (and batch pipelines do once at the end):
///
///   write(batch)*        rows routed to partition files under _staging/<writer>/open/
///   pre_commit(ckpt)     on the checkpoint barrier: close the files (fsync), move them to
///                        _staging/<writer>/ckpt-<ckpt>/ and write the durable pre-commit
///                        record. After it returns the checkpoint's data survives a crash.
///   commit(ckpt)         when the checkpoint is complete: move the files into their partition
///                        folders and create the next metadata version (the atomic commit
///                        point). Idempotent: calling it again, e.g. after a crash and restore,
///                        is a no-op.
///   abort()              drop open files and pre-committed-but-uncommitted checkpoints.
///
/// A commit that fails (say the disk fills while the metadata is written) leaves the table as it
/// was and the checkpoint's files back in staging, where abort() or the end of a private writer
/// drops them: they are never adopted by a later commit of another writer.
///
/// After a crash, the runtime calls commit(c) for the last completed checkpoint c (the record
/// survived in staging), then abort() for anything newer. pending_checkpoints() lists the
/// records found. Not thread-safe: one writer per sink instance.
class LakeWriter {
public:
    static Result<std::unique_ptr<LakeWriter>> open(LakeTable table,
                                                    LakeWriterOptions options = {});
    ~LakeWriter();
    LakeWriter(const LakeWriter&) = delete;
    LakeWriter& operator=(const LakeWriter&) = delete;

    Status write(const Batch& batch);
    Status pre_commit(uint64_t checkpoint_id);
    /// Returns the snapshot id that holds the checkpoint's files. `progress` entries are set
    /// (or erased, nullopt) in the same commit (Manifest::progress).
    Result<uint64_t> commit(uint64_t checkpoint_id,
                            const std::map<std::string, std::optional<std::string>>& progress = {});
    Status abort();

    /// Checkpoints pre-committed by this writer_id and not yet committed, ascending.
    Result<std::vector<uint64_t>> pending_checkpoints() const;

    /// Rows written since the last pre_commit.
    uint64_t pending_rows() const;
    /// Partition folders this writer (and the runs named in the options) replaced so far.
    const std::set<std::string>& replaced_partitions() const;
    /// Partition folders of the rows written or pre-committed and not yet committed.
    std::set<std::string> staged_partitions() const;

    class Impl;

private:
    explicit LakeWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
