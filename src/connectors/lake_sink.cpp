#include "connectors/lake_sink.h"

#include <fmt/format.h>

#include <algorithm>

#include "lake/lake_table.h"
#include "lake/lake_writer.h"
#include "types/column_builder.h"

namespace millrace {

namespace {

std::string column_list(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        out += (i == 0 ? "`" : i + 1 == names.size() ? " and `" : ", `") + names[i] + "`";
    }
    return out;
}

}  // namespace

Result<LakeTable> LakeSink::evolve_table(const std::string& data_dir, const LakeTable& table,
                                         const Schema& output, bool add_columns) {
    // Columns the output has and the table lacks: added (with `schema_evolution:
    // add_columns`), or the sink is refused; never written nowhere.
    auto missing = [&](const LakeTable& t) {
        std::vector<LakeTable::SchemaChange> changes;
        for (const Field& field : output.fields()) {
            if (t.schema()->index_of(field.name)) continue;
            LakeTable::SchemaChange change;
            change.kind = LakeTable::SchemaChange::Kind::kAddColumn;
            change.column = field.name;
            change.type = field.type;
            changes.push_back(std::move(change));
        }
        return changes;
    };
    std::vector<LakeTable::SchemaChange> changes = missing(table);
    if (changes.empty()) return table;
    if (!add_columns) {
        std::vector<std::string> names;
        for (const auto& change : changes) names.push_back(change.column);
        const bool many = names.size() > 1;
        return Error(
            ErrorCode::kTypeMismatch,
            fmt::format("the sink writes column{} {} that lake table `{}` does not have "
                        "(its schema is {}): set `schema_evolution: add_columns` on the "
                        "lake sink to add {} to the table, or leave {} out of the view",
                        many ? "s" : "", column_list(names), table.name(),
                        table.schema()->to_string(), many ? "them" : "it", many ? "them" : "it"));
    }
    auto altered = table.alter(changes);
    MILLRACE_ASSIGN_OR_RETURN(LakeTable reopened, LakeTable::open(data_dir, table.name()));
    // A concurrent writer that added the same columns first is as good as this one.
    if (!altered.ok() && !missing(reopened).empty()) return std::move(altered).error();
    return reopened;
}

Result<std::vector<LakeSink::ColumnSource>> LakeSink::column_sources(const LakeTable& table,
                                                                     const Schema& output) {
    std::vector<ColumnSource> sources;
    bool identity = table.schema()->size() == output.size();
    for (std::size_t c = 0; c < table.schema()->size(); ++c) {
        const Field& field = table.schema()->field(c);
        ColumnSource source;
        source.output = output.index_of(field.name);
        if (!source.output) {
            if (!field.nullable) {
                return Error(ErrorCode::kTypeMismatch,
                             fmt::format("lake table `{}` has column `{}` (not null), which the "
                                         "sink does not write",
                                         table.name(), field.name));
            }
        } else {
            const DataType type = output.field(*source.output).type;
            if (type != field.type &&
                !(type == DataType::kInt32 && field.type == DataType::kInt64)) {
                return Error(
                    ErrorCode::kTypeMismatch,
                    fmt::format("lake table `{}` column `{}` is {}, but the sink writes "
                                "{}; write to a new table or change the view",
                                table.name(), field.name, type_name(field.type), type_name(type)));
            }
            if (*source.output != c || type != field.type) identity = false;
        }
        if (!source.output) identity = false;
        sources.push_back(source);
    }
    if (identity) sources.clear();
    return sources;
}

Result<std::unique_ptr<LakeSink>> LakeSink::create(
    const std::string& data_dir, const std::string& table,
    const std::vector<std::string>& partition_by, std::shared_ptr<const Schema> schema,
    const std::string& writer_id, LakeSinkMode mode, const std::vector<std::string>& key,
    const ObjectStoreConfig* storage, bool add_columns) {
    if (mode == LakeSinkMode::kUpsert && key.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     "lake table `" + table + "`: mode upsert needs `key:` (the key columns)");
    }
    auto opened = LakeTable::open(data_dir, table);
    std::optional<LakeTable> lake;
    std::vector<ColumnSource> adapt;
    if (opened.ok()) {
        lake.emplace(std::move(opened).value());
        if (!(*lake->schema() == *schema)) {
            MILLRACE_ASSIGN_OR_RETURN(LakeTable evolved,
                                      evolve_table(data_dir, *lake, *schema, add_columns));
            lake.emplace(std::move(evolved));
            MILLRACE_ASSIGN_OR_RETURN(adapt, column_sources(*lake, *schema));
        }
    } else if (opened.error().code() == ErrorCode::kNotFound) {
        // The table is created by the first commit, with its first snapshot: a run that fails
        // before committing leaves no table behind.
        auto prepared = LakeTable::prepare(data_dir, table, *schema, partition_by, storage);
        if (!prepared.ok() && prepared.error().code() == ErrorCode::kAlreadyExists) {
            // Another writer created it meanwhile (concurrent runs): use theirs.
            return create(data_dir, table, partition_by, std::move(schema), writer_id, mode, key,
                          storage, add_columns);
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
    sink->adapt_ = std::move(adapt);
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
    if (adapt_.empty()) return writer_->write(batch);
    // The output in the table's column order and types: missing columns as nulls, int32
    // widened to int64.
    const auto& table_schema = table_->schema();
    std::vector<std::shared_ptr<const Column>> columns;
    for (std::size_t c = 0; c < adapt_.size(); ++c) {
        const DataType type = table_schema->field(c).type;
        if (!adapt_[c].output) {
            ColumnBuilder builder(type, batch.num_rows());
            for (std::size_t r = 0; r < batch.num_rows(); ++r) builder.append_null();
            columns.push_back(std::make_shared<const Column>(builder.finish()));
            continue;
        }
        const auto& column = batch.column_ptr(*adapt_[c].output);
        if (column->type() == type) {
            columns.push_back(column);
            continue;
        }
        ColumnBuilder builder(type, batch.num_rows());
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            if (column->is_null(r)) {
                builder.append_null();
            } else {
                builder.append_int64(column->value<int32_t>(r));
            }
        }
        columns.push_back(std::make_shared<const Column>(builder.finish()));
    }
    return writer_->write(Batch(table_schema, std::move(columns), batch.num_rows()));
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
