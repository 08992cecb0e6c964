#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "formats/parquet/parquet_writer.h"
#include "lake/lake_table.h"
#include "types/batch.h"

namespace millrace {

struct LakeWriterOptions {
    /// Stable across restarts of the same sink: it names the staging folder and the
    /// writer -> last checkpoint entry that makes replayed commits no-ops.
    std::string writer_id = "default";
    /// Overwrite: a commit replaces every file of the partitions it writes (idempotent re-runs
    /// of a day); append: it adds files.
    bool overwrite_partitions = false;
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
///                        folders and swap the manifest (the atomic commit point). Idempotent:
///                        calling it again, e.g. after a crash and restore, is a no-op.
///   abort()              drop open files and pre-committed-but-uncommitted checkpoints.
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
    /// Returns the snapshot id that holds the checkpoint's files.
    Result<uint64_t> commit(uint64_t checkpoint_id);
    Status abort();

    /// Checkpoints pre-committed by this writer_id and not yet committed, ascending.
    Result<std::vector<uint64_t>> pending_checkpoints() const;

    /// Rows written since the last pre_commit.
    uint64_t pending_rows() const;

    class Impl;

private:
    explicit LakeWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
