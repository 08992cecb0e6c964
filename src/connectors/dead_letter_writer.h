#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "connectors/file_sink.h"
#include "connectors/staged_output.h"

namespace millrace {

/// The dead-letter queue of a batch run: one NDJSON line per rejected record, with where it
/// came from and why (docs/architecture.md §9):
///
///   {"pipeline":"retail","source":"sales","file":"…/sales_20261101.csv","line":17,"record":15,
///    "stage":"decode","reason":"field `amount`: expected double, got \"abc\"","raw":"…"}
///   {"pipeline":"retail","source":"sales","file":"…/sales_20261102.csv","stage":"file",
///    "reason":"malformed CSV header, …"}
///   {"pipeline":"retail","source":"sales","stage":"check","check":"not_null(amount)",…,"row":{…}}
///   {"pipeline":"retail","view":"daily","stage":"evaluate","reason":"division by zero","row":{…}}
///
/// Every record also carries `"time"` (when it was dead-lettered, UTC); a decode error read
/// from a topic partition also `"topic"`, `"partition"` and `"offset"`, and one whose bytes are
/// not UTF-8 also `"raw_base64"` (the exact bytes; `raw` has U+FFFD in their place).
///
/// Counts per reason are kept for the run report. A batch run's (create()) is written like a
/// StagedOutput: whole on finish(), or not at all. A streaming run's (open_append()) is one
/// file that grows across runs: each checkpoint records its length after sync(), and a restore
/// cuts it back to that length, so the records a replay writes again appear once. With
/// set_topic(), each record is also staged, as the same JSON object, in the pipeline's
/// dead-letter topic (committed with the run's other sinks).
class DeadLetterTopic;

class DeadLetterWriter {
public:
    /// `inputs`: files the run reads, which `path` must not be.
    static Result<std::unique_ptr<DeadLetterWriter>> create(
        std::string path, std::string pipeline, std::span<const std::string> inputs = {});
    /// Appends to `path` (created if missing), first cut to `keep_bytes` when it is longer
    /// (nullopt: keep it whole).
    static Result<std::unique_ptr<DeadLetterWriter>> open_append(
        std::string path, std::string pipeline, std::optional<uint64_t> keep_bytes,
        std::span<const std::string> inputs = {});
    /// An appending writer: writes what was added and fsyncs it; returns the file's length.
    Result<uint64_t> sync();
    /// An appending writer: the file's length when it was opened (after the cut).
    uint64_t start_bytes() const { return start_bytes_; }
    ~DeadLetterWriter() { abort(); }

    void add_decode_error(const std::string& source, const std::string& file, uint64_t line,
                          uint64_t record, const std::string& reason, const std::string& raw);
    /// A whole file set aside (stage "file"): it could not be read, none of its records were.
    void add_bad_file(const std::string& source, const std::string& file,
                      const std::string& reason);
    void add_row(const std::string& stage, const std::string& origin_key, const std::string& origin,
                 const std::string& reason, const std::string& row_json,
                 const std::string& check = "");
    /// A record behind its source's watermark (stage "late", reason "late"), with the topic
    /// partition it was read from when `topic` is not empty.
    void add_late(const std::string& source, const std::string& topic, std::size_t partition,
                  const std::string& row_json);
    Status finish();
    void abort();
    /// Also stages every record in `topic` (not owned; null: none).
    void set_topic(DeadLetterTopic* topic) { topic_ = topic; }

    uint64_t count() const { return count_; }
    const std::string& path() const { return path_; }
    /// Records per reason (reasons with their column values cut to the first few words).
    const std::map<std::string, uint64_t>& reasons() const { return reasons_; }

private:
    /// `{"pipeline":…,"<origin_key>":<origin>` — the start every record shares.
    void begin_record(std::string_view origin_key, const std::string& origin);
    /// Closes the record, counts it under `reason_key` and flushes a full buffer.
    void end_record(const std::string& reason_key);
    Status flush();
    std::string path_;
    std::optional<StagedOutput> output_;
    std::FILE* file_ = nullptr;
    bool append_ = false;  // open_append(): file_ is ours, not output_'s
    uint64_t start_bytes_ = 0;
    uint64_t bytes_ = 0;                    // the file's length, appending
    std::optional<uint64_t> synced_bytes_;  // the length at the last sync()
    std::string pipeline_;
    std::string buffer_;
    std::size_t record_start_ = 0;  // where the record being built starts in buffer_
    DeadLetterTopic* topic_ = nullptr;
    uint64_t count_ = 0;
    std::map<std::string, uint64_t> reasons_;
    Status error_;
};

}  // namespace millrace
