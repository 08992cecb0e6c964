#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "formats/decode_sink.h"
#include "project/project.h"
#include "types/schema.h"

namespace millrace {

/// A bounded source of files: one path or a glob (`data/sales_*.csv`), CSV or NDJSON/JSON,
/// read in sorted file order. The schema is the declared one, or inferred from the first file
/// (CSV header and values, JSON records). Records that do not decode go to the sink's
/// on_error with the file they came from (see FileRowError).
class FileSource {
public:
    /// Expands the pattern and settles the schema. kNotFound when no file matches.
    static Result<std::unique_ptr<FileSource>> open(const SourceSpec& spec);

    const std::string& name() const { return name_; }
    const std::shared_ptr<const Schema>& schema() const { return schema_; }
    const std::vector<std::string>& files() const { return files_; }
    uint64_t bytes_read() const { return bytes_read_; }

    /// Called per file before its records are decoded (so a sink can tag errors with it).
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void on_file(const std::string& path) = 0;
    };

    /// Decodes every file into `sink`, batch by batch, in file order. With several files and
    /// `threads` > 1, files are decoded in parallel by worker threads (at most threads + 1
    /// files decoded ahead of the consumer, so memory stays bounded) while the calling thread
    /// hands the results to `sink` in order; the sink is only ever called from the calling
    /// thread. threads = 0 means one per core.
    Status read(DecodeSink& sink, Listener* listener = nullptr, unsigned threads = 0);

private:
    /// Decodes one file into `sink` (any thread).
    Status decode_file(const std::string& path, DecodeSink& sink, uint64_t& bytes) const;

    std::string name_;
    DataFormat format_ = DataFormat::kCsv;
    std::vector<std::string> files_;
    std::shared_ptr<const Schema> schema_;
    uint64_t bytes_read_ = 0;
};

/// Expands a path or glob pattern into the sorted list of regular files it names.
Result<std::vector<std::string>> expand_file_pattern(const std::string& pattern);

}  // namespace millrace
