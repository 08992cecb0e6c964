#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "connectors/source.h"
#include "formats/decode_sink.h"
#include "project/project.h"
#include "types/schema.h"

namespace millrace {

/// A watched folder read as an unbounded source (a file source with `watch: true` in a
/// `mode: streaming` pipeline). The path is a folder (every file in it) or a glob. Every
/// `poll_interval` the folder is scanned; a file is read once, whole, when it is ready: its size
/// and modification time did not change between two scans (a writer still appending to it holds
/// it back). Dotfiles and names ending in `.tmp` or `.partial` are ignored, so a writer that
/// writes under such a name and renames when done is never read half-written. Among the ready
/// files the oldest (mtime, then name) is read first; one file per poll, decoded and set aside
/// like a FileSource's files.
///
/// Progress is a ledger: every file delivered, in delivery order, appended durably to the
/// progress file as it is delivered, and `commit <n>` lines (commit_progress(), after the sinks
/// committed) saying how many of them are done. position() is {unit: files done, 0, 0} (files
/// are read whole, so positions fall between files); seek() to any position up to the ledger's
/// length makes the files after it pending again, and pending files are read again first, in
/// ledger order, before any new file. So a reader opened later (from the same progress file)
/// reads the same files after a position as the first one did, and a run that stopped without
/// committing reads its uncommitted files again in the same order (at-least-once). A file done
/// is never read again, even if it changed since (a warning says so); a file that vanishes
/// before it is read is skipped with a warning. The source never ends. One thread at a time.
class StreamingFileSource final : public SourceReader {
public:
    /// One file read (or set aside), as the progress file records it.
    struct FileRecord {
        std::string path;
        uint64_t size = 0;
        int64_t mtime_nanos = 0;
        bool operator==(const FileRecord&) const = default;
    };

    /// `progress_path`: the progress file (read now, written by commit_progress); "" keeps
    /// progress in memory only. The schema is the declared one, else inferred from the oldest
    /// file present now (kNotFound when there is none yet).
    static Result<std::unique_ptr<StreamingFileSource>> open(const SourceSpec& spec,
                                                             const std::string& progress_path);

    const std::string& name() const override { return name_; }
    const std::shared_ptr<const Schema>& schema() const override { return schema_; }
    Result<PollResult> poll(DecodeSink& sink, std::size_t max_records, Listener* listener) override;
    SourcePosition position() const override { return SourcePosition{next_, 0, 0}; }
    Status seek(const SourcePosition& position) override;
    std::size_t units() const override { return next_; }
    std::string unit_name() const override { return "file"; }
    uint64_t bytes_read() const override { return bytes_read_; }

    /// The files read or set aside before position(), in the order they were.
    std::vector<FileRecord> files_read() const {
        return {ledger_.begin(), ledger_.begin() + static_cast<std::ptrdiff_t>(next_)};
    }
    /// Files set aside (could not be read at all), this run.
    std::size_t bad_files() const { return bad_files_; }
    /// What the source warned about (also printed to stderr): changed or vanished files.
    const std::vector<std::string>& warnings() const { return warnings_; }
    /// Records position() as done in the progress file, durably: the next reader opened on it
    /// starts there. A no-op without a progress file.
    Status commit_progress();

    /// What a progress file holds: the ledger and how much of it is committed.
    struct Progress {
        std::vector<FileRecord> files;
        std::size_t committed = 0;
        bool operator==(const Progress&) const = default;
    };
    /// The progress file's text, and back (kCorruption for anything else; a last line cut
    /// short by a crash is ignored: that file was not committed).
    static std::string format_progress(const Progress& progress);
    static Result<Progress> parse_progress(const std::string& text, const std::string& path);

private:
    struct Seen {
        uint64_t size = 0;
        int64_t mtime_nanos = 0;
        bool stable = false;  // unchanged since the scan before
    };
    /// Lists the candidate files now: (path -> size, mtime), ignored names left out.
    std::map<std::string, Seen> list_files() const;
    /// Scans the folder, updating seen_ and warning about changed files already read.
    void scan();
    void warn(std::string message);
    /// Appends `text` to the progress file and syncs it (writing the header first when new).
    Status append_progress(const std::string& text);

    std::string name_;
    std::string pattern_;
    DataFormat format_ = DataFormat::kCsv;
    std::shared_ptr<const Schema> schema_;
    std::string progress_path_;
    int64_t poll_interval_micros_ = 1'000'000;
    int64_t last_scan_micros_ = 0;
    bool scanned_ = false;
    int64_t bad_file_budget_ = 0;
    std::size_t bad_files_ = 0;
    uint64_t bytes_read_ = 0;
    std::vector<FileRecord> ledger_;                   // every file delivered, in order
    std::map<std::string, std::size_t> ledger_index_;  // path -> index in ledger_
    std::size_t next_ = 0;                             // ledger_[0, next_) are done
    std::size_t committed_ = 0;                        // the last `commit` written
    std::map<std::string, Seen> seen_;                 // new candidates not read yet
    std::set<std::string> warned_changed_;
    std::vector<std::string> warnings_;
};

/// True when a file at `path` would be read by the watched file source `source` (its folder or
/// glob matches and the name is not ignored): what a sink of the same pipeline must not write.
bool watched_folder_holds(const SourceSpec& source, const std::string& path);

}  // namespace millrace
