#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "connectors/source.h"
#include "formats/decode_sink.h"
#include "project/project.h"
#include "types/schema.h"

namespace millrace {

/// A bounded source of files: one path or a glob (`data/sales_*.csv`), CSV or NDJSON/JSON,
/// read in sorted file order. The schema is the declared one, or inferred from the first file
/// (CSV header and values, JSON records). Records that do not decode go to the sink's
/// on_error with the file they came from (see FileRowError).
///
/// A file that cannot be read at all (unreadable, a corrupt Parquet file, a CSV header that
/// lacks a declared column) is set aside whole, none of its records delivered, and reported to
/// the listener's on_unit_set_aside with the reason, as long as the source's max_bad_files
/// allows; one more fails the read. Errors from the sink are never blamed on a file.
///
/// A bounded SourceReader: the files are the ones the pattern matched at open. A poll delivers
/// one whole file (the unit that can be set aside whole), and positions fall on file
/// boundaries: {unit: i, offset: 0} is the start of file i. Seeking into the middle of a file
/// is refused (the decoders cannot resume mid-file yet).
class FileSource final : public SourceReader {
public:
    /// Expands the pattern and settles the schema. kNotFound when no file matches.
    static Result<std::unique_ptr<FileSource>> open(const SourceSpec& spec);

    const std::string& name() const override { return name_; }
    const std::shared_ptr<const Schema>& schema() const override { return schema_; }
    const std::vector<std::string>& files() const { return files_; }
    uint64_t bytes_read() const override { return bytes_read_; }
    /// Files set aside before position().
    std::size_t bad_files() const { return bad_files_; }
    std::size_t units() const override { return files_.size(); }
    std::string unit_name() const override { return "file"; }

    Result<PollResult> poll(DecodeSink& sink, std::size_t max_records, Listener* listener) override;
    Status read_to_end(DecodeSink& sink, Listener* listener) override {
        return read(sink, listener, 0);
    }
    SourcePosition position() const override { return SourcePosition{next_, 0, 0}; }
    Status seek(const SourcePosition& position) override;

    /// Decodes the files from position() on into `sink`, batch by batch, in file order. With
    /// several files and `threads` > 1, files are decoded in parallel by worker threads (at most
    /// threads + 1 files decoded ahead of the consumer, so memory stays bounded) while the calling
    /// thread hands the results to `sink` in order; the sink is only ever called from the calling
    /// thread. threads = 0 means one per core.
    Status read(DecodeSink& sink, Listener* listener, unsigned threads);

private:
    /// Decodes one file into `sink` (any thread). A file's own errors carry no source or file
    /// context (they become the reason of a set-aside file); set_aside() adds it when failing.
    Status decode_file(const std::string& path, DecodeSink& sink, uint64_t& bytes) const;
    /// Decodes file `index` into `sink` on the calling thread, or sets it aside.
    Status read_file(std::size_t index, DecodeSink& sink, Listener* listener);
    /// File `index` could not be decoded: sets it aside (ok) within the budget, else the error.
    Status set_aside(std::size_t index, Error error, Listener* listener);

    std::string name_;
    DataFormat format_ = DataFormat::kCsv;
    std::vector<std::string> files_;
    std::shared_ptr<const Schema> schema_;
    uint64_t bytes_read_ = 0;
    int64_t bad_file_budget_ = 0;
    std::string budget_text_;  // "max_bad_files: 2", or the percentage it came from
    bool budget_is_share_ = false;
    std::size_t bad_files_ = 0;
    std::vector<bool> set_aside_;  // per file
    std::size_t next_ = 0;         // the file the next poll reads
};

/// Decodes one whole file of `format` through `schema` into `sink` (any thread) and adds the
/// bytes it read to `bytes`. The file's own errors carry no source or file context.
Status decode_source_file(const std::string& path, DataFormat format,
                          const std::shared_ptr<const Schema>& schema, DecodeSink& sink,
                          uint64_t& bytes);

/// Delivers one file of source `source` into `sink` as a file source does: a Parquet file is
/// decoded whole before any of it is delivered, CSV and JSON stream. On failure
/// `can_set_aside` says whether nothing of the file reached the sink and the sink itself did
/// not fail, so that the file can be set aside whole (the error is then the file's, without
/// context); an error after records were delivered names the source and file.
Status deliver_source_file(const std::string& source, const std::string& path, DataFormat format,
                           const std::shared_ptr<const Schema>& schema, DecodeSink& sink,
                           uint64_t& bytes, bool& can_set_aside);

/// Expands a path or glob pattern into the sorted list of regular files it names.
Result<std::vector<std::string>> expand_file_pattern(const std::string& pattern);

}  // namespace millrace
