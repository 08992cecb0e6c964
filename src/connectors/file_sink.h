#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "connectors/staged_output.h"
#include "exec/operator.h"
#include "project/project.h"

namespace millrace {

/// Writes the Batches of a plan to one CSV, NDJSON or Parquet (zstd) file. The file appears whole
/// or not at all (a StagedOutput): rows go to a temporary file in the same directory, which is
/// flushed, fsynced and renamed over `path` on finish() (so a failed or killed run never leaves
/// half a file, and a re-run replaces the previous output). Parent directories are created. A
/// path that is one of `inputs` (the files the run reads) is refused.
class FileSink final : public BatchSink {
public:
    static Result<std::unique_ptr<FileSink>> create(std::string path, DataFormat format,
                                                    std::shared_ptr<const Schema> schema,
                                                    std::span<const std::string> inputs = {});
    ~FileSink() override;

    Status push(Batch batch) override;
    Status finish() override;
    /// Drops the temporary file (a failed run).
    void abort();

    const std::string& path() const { return path_; }
    uint64_t rows_written() const { return rows_; }
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
    bool finished_ = false;
};

}  // namespace millrace
