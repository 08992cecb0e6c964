#include "connectors/lake_sink.h"

#include <fmt/format.h>

#include "lake/lake_table.h"
#include "lake/lake_writer.h"

namespace millrace {

Result<std::unique_ptr<LakeSink>> LakeSink::create(const std::string& data_dir,
                                                   const std::string& table,
                                                   const std::vector<std::string>& partition_by,
                                                   std::shared_ptr<const Schema> schema,
                                                   const std::string& writer_id) {
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
        auto created = LakeTable::create(data_dir, table, *schema, partition_by);
        if (!created.ok() && created.error().code() == ErrorCode::kAlreadyExists) {
            // Another writer created it first (concurrent runs): use theirs.
            return create(data_dir, table, partition_by, std::move(schema), writer_id);
        }
        if (!created.ok()) return std::move(created).error();
        lake.emplace(std::move(created).value());
    } else {
        return std::move(opened).error();
    }
    auto sink = std::make_unique<LakeSink>();
    LakeWriterOptions options;
    options.writer_id = writer_id;
    options.overwrite_partitions = true;
    // A run is all or nothing and a failed run is re-run whole, so its staging is private: runs
    // of one pipeline may write at once (a backfill), and what a killed run staged is dropped
    // by the next writer of the table, never committed.
    options.staging = LakeStaging::kPrivate;
    MILLRACE_ASSIGN_OR_RETURN(sink->writer_, LakeWriter::open(std::move(*lake), options));
    return sink;
}

LakeSink::~LakeSink() {
    if (writer_ && !finished_) (void)writer_->abort();
}

Status LakeSink::push(Batch batch) {
    rows_ += batch.num_rows();
    return writer_->write(batch);
}

Status LakeSink::finish() {
    // One checkpoint per run, in a staging folder of this run alone: its id only has to be
    // unique within the run. Snapshot ids come from the table's manifest counter.
    constexpr uint64_t checkpoint = 1;
    MILLRACE_TRY(writer_->pre_commit(checkpoint));
    MILLRACE_ASSIGN_OR_RETURN(snapshot_id_, writer_->commit(checkpoint));
    finished_ = true;
    return {};
}

}  // namespace millrace
