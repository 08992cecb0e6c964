#include "connectors/file_sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/durable_file.h"
#include "formats/csv_decoder.h"
#include "formats/csv_encoder.h"
#include "formats/json_encoder.h"
#include "formats/parquet/parquet_writer.h"

namespace millrace {

namespace {
constexpr std::size_t kFlushBytes = std::size_t{1} << 20;

Error io_error(std::string_view what, const std::string& path) {
    return Error(ErrorCode::kIo, fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}
}  // namespace

Result<std::unique_ptr<FileSink>> FileSink::create(std::string path, DataFormat format,
                                                   std::shared_ptr<const Schema> schema,
                                                   std::span<const std::string> inputs) {
    std::unique_ptr<FileSink> sink(new FileSink());
    sink->path_ = std::move(path);
    sink->format_ = format;
    sink->schema_ = std::move(schema);
    MILLRACE_TRY(create_parent_directories_durably(sink->path_));
    MILLRACE_ASSIGN_OR_RETURN(StagedOutput output, StagedOutput::create(sink->path_, inputs));
    sink->output_.emplace(std::move(output));
    if (format == DataFormat::kParquet) {
        ParquetWriterOptions options;
        options.sync = true;
        MILLRACE_ASSIGN_OR_RETURN(sink->parquet_, ParquetWriter::open(sink->output_->temp_path(),
                                                                      sink->schema_, options));
        return sink;
    }
    MILLRACE_ASSIGN_OR_RETURN(sink->file_, sink->output_->stream());
    if (format == DataFormat::kCsv) {
        CsvEncoder encoder{CsvOptions{}};
        encoder.write_header(*sink->schema_, sink->buffer_);
    }
    return sink;
}

FileSink::~FileSink() { abort(); }

FileSink::FileSink() = default;

void FileSink::abort() {
    if (ids_.last_committed() != 0) return;
    parquet_.reset();
    file_ = nullptr;  // owned by output_
    output_.reset();  // removes the temporary file
    ids_.aborted();
}

Status FileSink::flush_buffer() {
    if (buffer_.empty()) return {};
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
        return io_error("cannot write", output_->temp_path());
    bytes_ += buffer_.size();
    buffer_.clear();
    return {};
}

Status FileSink::write(Batch batch) {
    if (encoded_ || !output_) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("file sink {}: written after pre_commit or abort", path_));
    }
    rows_ += batch.num_rows();
    if (parquet_) return parquet_->write(batch);
    if (format_ == DataFormat::kCsv) {
        CsvEncoder encoder{CsvOptions{}};
        encoder.encode(batch, buffer_);
    } else {
        JsonEncoder encoder;
        encoder.encode(batch, buffer_);
    }
    if (buffer_.size() >= kFlushBytes) return flush_buffer();
    return {};
}

Status FileSink::pre_commit(uint64_t commit_id) {
    MILLRACE_TRY(ids_.check_pre_commit(commit_id));
    if (ids_.last_committed() != 0 || !output_) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("file sink {}: a file is committed once", path_));
    }
    if (!encoded_) {
        if (parquet_) {
            MILLRACE_TRY(parquet_->close());
            bytes_ = parquet_->bytes_written();
            parquet_.reset();
        } else {
            MILLRACE_TRY(flush_buffer());
        }
        file_ = nullptr;
        encoded_ = true;
    }
    ids_.pre_committed(commit_id);
    return {};
}

Status FileSink::commit(uint64_t commit_id) {
    MILLRACE_ASSIGN_OR_RETURN(bool replay, ids_.check_commit(commit_id));
    if (replay) return {};
    MILLRACE_TRY(output_->commit());
    ids_.committed(commit_id);
    return {};
}

}  // namespace millrace
