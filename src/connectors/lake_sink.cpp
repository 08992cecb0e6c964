#include "connectors/lake_sink.h"

#include <fmt/format.h>

#include <chrono>

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
        MILLRACE_ASSIGN_OR_RETURN(LakeTable created,
                                  LakeTable::create(data_dir, table, *schema, partition_by));
        lake.emplace(std::move(created));
    } else {
        return std::move(opened).error();
    }
    auto sink = std::make_unique<LakeSink>();
    LakeWriterOptions options;
    options.writer_id = writer_id;
    options.overwrite_partitions = true;
    MILLRACE_ASSIGN_OR_RETURN(sink->writer_, LakeWriter::open(std::move(*lake), options));
    // A previous run killed between pre-commit and commit left staged files: drop them.
    MILLRACE_TRY(sink->writer_->abort());
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
    // One checkpoint per run; ids only grow, so a later run never looks like a replay.
    const auto checkpoint =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    MILLRACE_TRY(writer_->pre_commit(checkpoint));
    MILLRACE_ASSIGN_OR_RETURN(snapshot_id_, writer_->commit(checkpoint));
    finished_ = true;
    return {};
}

}  // namespace millrace
