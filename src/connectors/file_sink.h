#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "connectors/sink.h"
#include "connectors/staged_output.h"
#include "project/project.h"

namespace millrace {

/// Writes the Batches of a plan to one CSV, NDJSON or Parquet (zstd) file: a transactional Sink
/// for one batch run. The file appears whole or not at all (a StagedOutput): rows go to a
/// temporary file in the same directory; pre_commit() finishes the encoding (the Parquet
/// footer, the last buffered rows) and commit() fsyncs the file and renames it over `path`, so
/// a failed or killed run never leaves half a file and a re-run replaces the previous output.
/// One commit per sink: a file is written once. Parent directories are created. A path that is
/// one of `inputs` (the files the run reads) is refused.
class FileSink final : public Sink {
public:
    static Result<std::unique_ptr<FileSink>> create(std::string path, DataFormat format,
                                                    std::shared_ptr<const Schema> schema,
                                                    std::span<const std::string> inputs = {});
    ~FileSink() override;

    Status write(Batch batch) override;
    Status pre_commit(uint64_t commit_id) override;
    Status commit(uint64_t commit_id) override;
    /// Drops the temporary file (a failed run).
    void abort() override;
    uint64_t rows_written() const override { return rows_; }
    DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kTransactional; }

    const std::string& path() const { return path_; }
    uint64_t bytes_written() const { return bytes_; }

private:
    FileSink();
    Status flush_buffer();

    std::string path_;
    std::optional<StagedOutput> output_;
    DataFormat format_ = DataFormat::kCsv;
    std::shared_ptr<const Schema> schema_;
    std::FILE* file_ = nullptr;
    std::unique_ptr<class ParquetWriter> parquet_;
    std::string buffer_;
    uint64_t rows_ = 0;
    uint64_t bytes_ = 0;
    CommitIds ids_;
    bool encoded_ = false;  // pre-committed: nothing more can be written
};

}  // namespace millrace
