#include "connectors/file_source.h"

#include <fmt/format.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>

#include "common/mapped_file.h"
#include "formats/csv_decoder.h"
#include "formats/json_decoder.h"
#include "formats/json_schema_inference.h"

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
    if (spec.format == DataFormat::kParquet) {
        return Error(
            ErrorCode::kUnsupported,
            fmt::format("source `{}`: parquet file sources are not available in this build",
                        spec.name),
            spec.location);
    }
    auto files = expand_file_pattern(spec.path);
    if (!files.ok())
        return Error(ErrorCode::kNotFound,
                     fmt::format("source `{}`: {}", spec.name, files.error().message()),
                     spec.location);
    source->files_ = std::move(files).value();
    if (spec.schema) {
        source->schema_ = std::make_shared<const Schema>(*spec.schema);
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

Status FileSource::read(DecodeSink& sink, Listener* listener) {
    for (const std::string& path : files_) {
        if (listener) listener->on_file(path);
        auto file = MappedFile::open(path);
        if (!file.ok())
            return std::move(file).error().with_context(fmt::format("source `{}`", name_));
        bytes_read_ += file->bytes().size();
        if (format_ == DataFormat::kCsv) {
            CsvDecoder decoder(schema_, CsvOptions{});
            Status status = decoder.decode(file->bytes(), sink);
            if (!status.ok())
                return std::move(status).error().with_context(
                    fmt::format("source `{}`, file {}", name_, path));
        } else {
            JsonDecoder decoder(schema_);
            Status status = decoder.decode(file->bytes(), sink);
            if (status.ok()) status = decoder.flush(sink);
            if (!status.ok())
                return std::move(status).error().with_context(
                    fmt::format("source `{}`, file {}", name_, path));
        }
    }
    return {};
}

}  // namespace millrace
