#include "connectors/lake_sink.h"

#include <fmt/format.h>

#include <algorithm>

#include "lake/lake_table.h"
#include "lake/lake_writer.h"

namespace millrace {

Result<std::unique_ptr<LakeSink>> LakeSink::create(const std::string& data_dir,
                                                   const std::string& table,
                                                   const std::vector<std::string>& partition_by,
                                                   std::shared_ptr<const Schema> schema,
                                                   const std::string& writer_id, LakeSinkMode mode,
                                                   const std::vector<std::string>& key,
                                                   const ObjectStoreConfig* storage) {
    if (mode == LakeSinkMode::kUpsert && key.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     "lake table `" + table + "`: mode upsert needs `key:` (the key columns)");
    }
    auto opened = LakeTable::open(data_dir, table);
    std::optional<LakeTable> lake;
    if (opened.ok()) {
        lake.emplace(std::move(opened).value());
        if (!(*lake->schema() == *schema)) {
            return Error(ErrorCode::kTypeMismatch,
                         fmt::format("lake table `{}` has schema {}, but the sink writes {}; write "
                                     "to a new table or "
                                     "change the view",
                                     table, lake->schema()->to_string(), schema->to_string()));
        }
    } else if (opened.error().code() == ErrorCode::kNotFound) {
        // The table is created by the first commit, with its first snapshot: a run that fails
        // before committing leaves no table behind.
        auto prepared = LakeTable::prepare(data_dir, table, *schema, partition_by, storage);
        if (!prepared.ok() && prepared.error().code() == ErrorCode::kAlreadyExists) {
            // Another writer created it meanwhile (concurrent runs): use theirs.
            return create(data_dir, table, partition_by, std::move(schema), writer_id, mode, key,
                          storage);
        }
        if (!prepared.ok()) return std::move(prepared).error();
        lake.emplace(std::move(prepared).value());
        if (mode == LakeSinkMode::kAppend) {
            // A streaming pipeline runs until stopped: its table exists (empty) from the start,
            // so that queries while it runs read an empty table, not an unknown one.
            MILLRACE_TRY(lake->ensure_created());
        }
    } else {
        return std::move(opened).error();
    }
    auto sink = std::make_unique<LakeSink>();
    sink->named_ = mode == LakeSinkMode::kAppend;
    sink->table_.emplace(*lake);
    LakeWriterOptions options;
    options.writer_id = writer_id;
    options.overwrite_partitions = mode == LakeSinkMode::kOverwrite;
    if (mode == LakeSinkMode::kUpsert) options.upsert_key = key;
    // A batch run is all or nothing and a failed run is re-run whole, so its staging is private:
    // runs of one pipeline may write at once (a backfill), and what a killed run staged is
    // dropped by the next writer of the table, never committed. A streaming run's checkpoints
    // outlive the process: its staging is named after the sink, so that the restarted run
    // finds what the dead one pre-committed (recover()) and the table records the last commit
    // id of the sink, which makes a replayed commit a no-op.
    options.staging = sink->named_ ? LakeStaging::kNamed : LakeStaging::kPrivate;
    auto writer = LakeWriter::open(std::move(*lake), options);
    if (!writer.ok()) {
        sink->table_->remove_if_uncreated();
        return std::move(writer).error();
    }
    sink->writer_ = std::move(writer).value();
    return sink;
}

LakeSink::~LakeSink() {
    // Anything written and not committed is dropped with the writer's private staging folder;
    // a table that no commit created goes with it. A named folder is left as it is, like after
    // a crash: it may hold the pre-commit of a complete checkpoint, which the next run's
    // recover() commits (and drops the rest).
    if (named_) return;
    if (writer_) (void)writer_->abort();
    writer_.reset();
    if (table_) table_->remove_if_uncreated();
}

Status LakeSink::write(Batch batch) {
    rows_ += batch.num_rows();
    return writer_->write(batch);
}

Status LakeSink::pre_commit(uint64_t commit_id) {
    MILLRACE_TRY(ids_.check_pre_commit(commit_id));
    MILLRACE_TRY(writer_->pre_commit(commit_id));
    ids_.pre_committed(commit_id);
    return {};
}

Status LakeSink::commit(uint64_t commit_id) {
    MILLRACE_ASSIGN_OR_RETURN(bool replay, ids_.check_commit(commit_id));
    if (replay) return {};
    MILLRACE_ASSIGN_OR_RETURN(snapshot_id_, writer_->commit(commit_id));
    // A run that wrote no rows commits no snapshot; it still leaves its (empty) table.
    MILLRACE_TRY(table_->ensure_created());
    ids_.committed(commit_id);
    return {};
}

Status LakeSink::recover(uint64_t committed) {
    MILLRACE_ASSIGN_OR_RETURN(std::vector<uint64_t> pending, writer_->pending_checkpoints());
    if (committed != 0 && std::find(pending.begin(), pending.end(), committed) != pending.end()) {
        // The checkpoint completed and the run died before (or while) committing: roll forward.
        MILLRACE_ASSIGN_OR_RETURN(snapshot_id_, writer_->commit(committed));
    }
    // Anything else staged belongs to a checkpoint that never completed.
    MILLRACE_TRY(writer_->abort());
    if (committed != 0) ids_.committed(committed);
    return {};
}

void LakeSink::abort() {
    // A failed abort leaves staged files in the private folder, which the next writer of the
    // table removes; nothing of them is ever committed.
    (void)writer_->abort();
    ids_.aborted();
}

}  // namespace millrace
