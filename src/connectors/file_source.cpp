#include "connectors/file_source.h"

#include <fmt/format.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/cpu_count.h"
#include "common/mapped_file.h"
#include "formats/csv_decoder.h"
#include "formats/json_decoder.h"
#include "formats/json_schema_inference.h"
#include "formats/parquet/parquet_reader.h"

namespace millrace {

Result<std::vector<std::string>> expand_file_pattern(const std::string& pattern) {
    glob_t matches{};
    int status = ::glob(pattern.c_str(), GLOB_MARK, nullptr, &matches);
    std::vector<std::string> files;
    if (status == 0) {
        for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
            std::string path = matches.gl_pathv[i];
            if (!path.empty() && path.back() == '/') continue;  // a directory
            files.push_back(std::move(path));
        }
    }
    ::globfree(&matches);
    std::sort(files.begin(), files.end());
    if (files.empty())
        return Error(ErrorCode::kNotFound, fmt::format("no file matches `{}`", pattern));
    return files;
}

Result<std::unique_ptr<FileSource>> FileSource::open(const SourceSpec& spec) {
    auto source = std::make_unique<FileSource>();
    source->name_ = spec.name;
    source->format_ = spec.format;
    source->bad_file_budget_ = spec.bad_file_budget();
    auto files = expand_file_pattern(spec.path);
    if (!files.ok())
        return Error(ErrorCode::kNotFound,
                     fmt::format("source `{}`: {}", spec.name, files.error().message()),
                     spec.location);
    source->files_ = std::move(files).value();
    source->set_aside_.assign(source->files_.size(), false);
    if (spec.max_bad_fraction) {
        const std::size_t count = source->files_.size();
        source->bad_file_budget_ =
            static_cast<int64_t>(std::floor(*spec.max_bad_fraction * static_cast<double>(count)));
        source->budget_is_share_ = true;
        source->budget_text_ =
            fmt::format("max_bad_files: {:g}% of {} file{} = {}", *spec.max_bad_fraction * 100,
                        count, count == 1 ? "" : "s", source->bad_file_budget_);
    } else {
        source->budget_text_ = fmt::format("max_bad_files: {}", source->bad_file_budget_);
    }
    if (spec.schema) {
        source->schema_ = std::make_shared<const Schema>(*spec.schema);
        return source;
    }
    if (spec.format == DataFormat::kParquet) {
        // A Parquet file carries its schema.
        auto reader = ParquetReader::open(source->files_[0]);
        if (!reader.ok())
            return Error(reader.error().code(),
                         fmt::format("source `{}`: {}", spec.name, reader.error().message()),
                         spec.location);
        source->schema_ = (*reader)->schema();
        return source;
    }
    // Infer from the start of the first file.
    MILLRACE_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(source->files_[0]));
    std::string_view sample = file.bytes().substr(0, std::size_t{1} << 20);
    Result<Schema> inferred = spec.format == DataFormat::kCsv
                                  ? infer_csv_schema(sample, CsvOptions{})
                                  : infer_json_schema(sample);
    if (!inferred.ok()) {
        return Error(
            inferred.error().code(),
            fmt::format("source `{}`: cannot infer a schema from {}: {} (declare `schema:`)",
                        spec.name, source->files_[0], inferred.error().message()),
            spec.location);
    }
    source->schema_ = std::make_shared<const Schema>(std::move(inferred).value());
    return source;
}

Status FileSource::decode_file(const std::string& path, DecodeSink& sink, uint64_t& bytes) const {
    return decode_source_file(path, format_, schema_, sink, bytes);
}

Status decode_source_file(const std::string& path, DataFormat format,
                          const std::shared_ptr<const Schema>& schema, DecodeSink& sink,
                          uint64_t& bytes) {
    if (format == DataFormat::kParquet) {
        auto reader = ParquetReader::open(path);
        if (!reader.ok()) return std::move(reader).error();
        // Columns by name, so files written with another column order still line up.
        std::vector<std::size_t> columns;
        for (const Field& field : schema->fields()) {
            auto index = (*reader)->schema()->index_of(field.name);
            if (!index) {
                return Error(ErrorCode::kNotFound, fmt::format("no column `{}`", field.name));
            }
            if ((*reader)->schema()->field(*index).type != field.type) {
                return Error(ErrorCode::kTypeMismatch,
                             fmt::format("column `{}` is {}, the source declares {}", field.name,
                                         type_name((*reader)->schema()->field(*index).type),
                                         type_name(field.type)));
            }
            columns.push_back(*index);
        }
        struct stat info {};
        if (::stat(path.c_str(), &info) == 0) bytes += static_cast<uint64_t>(info.st_size);
        for (std::size_t group = 0; group < (*reader)->num_row_groups(); ++group) {
            MILLRACE_ASSIGN_OR_RETURN(Batch batch, (*reader)->read_row_group(group, columns));
            Batch renamed(
                schema,
                [&] {
                    std::vector<std::shared_ptr<const Column>> cols;
                    for (std::size_t c = 0; c < batch.num_columns(); ++c)
                        cols.push_back(batch.column_ptr(c));
                    return cols;
                }(),
                batch.num_rows());
            MILLRACE_TRY(sink.on_batch(std::move(renamed)));
        }
        return {};
    }
    auto file = MappedFile::open(path);
    if (!file.ok()) return std::move(file).error();
    bytes += file->bytes().size();
    Status status;
    if (format == DataFormat::kCsv) {
        CsvDecoder decoder(schema, CsvOptions{});
        status = decoder.decode(file->bytes(), sink);
    } else {
        JsonDecoder decoder(schema);
        status = decoder.decode(file->bytes(), sink);
        if (status.ok()) status = decoder.flush(sink);
    }
    return status;
}

namespace {

/// Passes records on to the real sink and remembers whether it failed (then the error is the
/// sink's, not the file's) or was given anything (then the file can no longer be set aside).
class ForwardingSink final : public DecodeSink {
public:
    explicit ForwardingSink(DecodeSink& sink) : sink_(sink) {}
    Status on_batch(Batch batch) override {
        delivered_ = true;
        Status status = sink_.on_batch(std::move(batch));
        if (!status.ok()) sink_failed_ = true;
        return status;
    }
    void on_error(RowError error) override {
        delivered_ = true;
        sink_.on_error(std::move(error));
    }
    bool sink_failed() const { return sink_failed_; }
    bool delivered() const { return delivered_; }

private:
    DecodeSink& sink_;
    bool sink_failed_ = false;
    bool delivered_ = false;
};

}  // namespace

Status FileSource::set_aside(std::size_t index, Error error, Listener* listener) {
    const std::string& path = files_[index];
    if (static_cast<int64_t>(bad_files_) >= bad_file_budget_) {
        std::string context = fmt::format("source `{}`, file {}", name_, path);
        if (bad_file_budget_ > 0 || budget_is_share_) {
            context += fmt::format(" ({} file{} set aside already, {})", bad_files_,
                                   bad_files_ == 1 ? "" : "s", budget_text_);
        }
        if (error.location().file.empty() && error.location().line > 0) {
            // A decoder's line number: within this file.
            SourceLocation where = error.location();
            where.file = path;
            error = Error(error.code(), error.message(), where);
        }
        return std::move(error).with_context(context);
    }
    ++bad_files_;
    set_aside_[index] = true;
    if (listener) listener->on_unit_set_aside(path, error.message());
    return {};
}

Status deliver_source_file(const std::string& source, const std::string& path, DataFormat format,
                           const std::shared_ptr<const Schema>& schema, DecodeSink& sink,
                           uint64_t& bytes, bool& can_set_aside) {
    can_set_aside = false;
    if (format == DataFormat::kParquet) {
        // A Parquet file can turn out corrupt in a later row group: decode it whole before
        // delivering any of it, so that it can still be set aside.
        CollectingSink collected;
        uint64_t decoded = 0;
        if (Status status = decode_source_file(path, format, schema, collected, decoded);
            !status.ok()) {
            can_set_aside = true;
            return status;
        }
        bytes += decoded;
        for (RowError& error : collected.errors) sink.on_error(std::move(error));
        for (Batch& batch : collected.batches) MILLRACE_TRY(sink.on_batch(std::move(batch)));
        return {};
    }
    // CSV and JSON fail a whole file only before its first record (unreadable, bad header), so
    // they stream.
    ForwardingSink forward(sink);
    uint64_t decoded = 0;
    Status status = decode_source_file(path, format, schema, forward, decoded);
    if (status.ok() || forward.sink_failed()) {
        bytes += decoded;
        return status;
    }
    if (forward.delivered()) {
        bytes += decoded;
        return std::move(status).error().with_context(
            fmt::format("source `{}`, file {}", source, path));
    }
    can_set_aside = true;
    return status;
}

Status FileSource::read_file(std::size_t index, DecodeSink& sink, Listener* listener) {
    const std::string& path = files_[index];
    if (listener) listener->on_unit_start(path);
    bool can_set_aside = false;
    Status status =
        deliver_source_file(name_, path, format_, schema_, sink, bytes_read_, can_set_aside);
    if (status.ok() || !can_set_aside) return status;
    return set_aside(index, std::move(status).error(), listener);
}

Result<PollResult> FileSource::poll(DecodeSink& sink, std::size_t /*max_records*/,
                                    Listener* listener) {
    if (next_ >= files_.size()) return PollResult::kEnd;
    MILLRACE_TRY(read_file(next_, sink, listener));
    ++next_;
    return PollResult::kData;
}

Status FileSource::seek(const SourcePosition& position) {
    if (position.unit > files_.size() || position.offset != 0 || position.line != 0) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: cannot seek to {} ({} files; positions are at the "
                                 "start of a file)",
                                 name_, position.to_string(), files_.size()));
    }
    next_ = position.unit;
    // Files after the position are read again, and may be set aside again.
    bad_files_ = 0;
    for (std::size_t i = 0; i < files_.size(); ++i) {
        if (i >= next_) set_aside_[i] = false;
        if (set_aside_[i]) ++bad_files_;
    }
    return {};
}

Status FileSource::read(DecodeSink& sink, Listener* listener, unsigned threads) {
    if (threads == 0) threads = usable_cores();
    if (files_.size() - next_ < 2 || threads < 2) return SourceReader::read_to_end(sink, listener);
    // Parallel: workers decode whole files into CollectingSinks; this thread replays them in
    // file order into `sink`.
    struct FileResult {
        CollectingSink collected;
        Status status;
        uint64_t bytes = 0;
        bool done = false;
    };
    std::vector<FileResult> results(files_.size());
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t next = next_, consumed = next_;
    bool stop = false;
    const std::size_t window = threads + 1;
    auto work = [&] {
        while (true) {
            std::size_t index;
            {
                std::unique_lock lock(mutex);
                changed.wait(lock, [&] {
                    return stop || next >= files_.size() || next < consumed + window;
                });
                if (stop || next >= files_.size()) return;
                index = next++;
            }
            FileResult& result = results[index];
            result.status = decode_file(files_[index], result.collected, result.bytes);
            {
                std::lock_guard lock(mutex);
                result.done = true;
            }
            changed.notify_all();
        }
    };
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < std::min<std::size_t>(threads, files_.size() - next_); ++t)
        workers.emplace_back(work);
    Status status;
    for (std::size_t i = next_; i < files_.size() && status.ok(); ++i) {
        {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return results[i].done; });
        }
        FileResult& result = results[i];
        if (listener) listener->on_unit_start(files_[i]);
        if (!result.status.ok()) {
            // Decoded into memory, so nothing of it reached the sink: set it aside whole.
            status = set_aside(i, std::move(result.status).error(), listener);
        } else {
            bytes_read_ += result.bytes;
            for (RowError& error : result.collected.errors) sink.on_error(std::move(error));
            for (Batch& batch : result.collected.batches) {
                status = sink.on_batch(std::move(batch));
                if (!status.ok()) break;
            }
        }
        result.collected = CollectingSink();
        if (status.ok()) next_ = i + 1;
        {
            std::lock_guard lock(mutex);
            consumed = i + 1;
            if (!status.ok()) stop = true;
        }
        changed.notify_all();
    }
    {
        std::lock_guard lock(mutex);
        stop = true;
    }
    changed.notify_all();
    for (std::thread& worker : workers) worker.join();
    return status;
}

}  // namespace millrace
