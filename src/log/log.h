#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/file_lock.h"
#include "common/result.h"
#include "log/append_signal.h"
#include "log/consumer_offsets.h"
#include "log/durability_flusher.h"
#include "log/fwd.h"
#include "log/topic.h"

namespace millrace {

/// How a Log is opened.
enum class LogAccess {
    /// Appends, topic create/delete, consumer commits, recovery and retention. Takes the
    /// writer lock; kUnavailable (naming the holder's pid) when another process has it.
    kReadWrite,
    /// Reads only, beside a writer: no lock, no recovery cut, no flusher work; appends, topic
    /// changes and consumer commits fail with kUnavailable.
    kReadOnly,
};

struct LogOptions {
    LogAccess access = LogAccess::kReadWrite;
    /// Recorded in the writer lock so a second process can say who holds it.
    std::string command = "millrace";
};

/// The embedded durable log (docs/architecture.md §6): every topic under `<data_dir>/log/`.
///
///   <data_dir>/log/
///     _writer.lock                  held (flock) by the one process that writes (FileLock)
///     <topic>/topic.json            TopicConfig (topic_config.h)
///     <topic>/<partition>/          segments (segment.h), durable.checkpoint (partition.h)
///     _consumers/<name>.offsets     consumer positions (consumer_offsets.h)
///
/// One writer per data directory: a second process that opens the log for writing gets
/// kUnavailable naming the holder (pid, command, and its HTTP address once set_address() was
/// called), so it can go through that process or stop. Readers open it read-only beside it.
///
/// A topic exists once its folder does: creation builds `_creating.<topic>.<n>/` (partition
/// folders, topic.json), fsyncs it and renames it into place; deletion renames the folder to
/// `_deleted.<topic>.<n>` first, so a crash never leaves half a topic (leftovers of both are
/// removed on the next writable open).
///
/// Lifecycle: open() loads every topic and runs recovery (only torn tails are cut; damage is
/// kept and listed by damage()); the Log owns one DurabilityFlusher thread; stop() (or the
/// destructor) syncs everything and joins it.
/// Threads: every member is safe from any thread.
class Log {
public:
    /// `clock` must outlive the Log.
    static Result<std::unique_ptr<Log>> open(const std::string& data_dir, const Clock& clock,
                                             const LogOptions& options = {});
    /// `<data_dir>/log/_writer.lock`.
    static std::string lock_path(const std::string& data_dir);
    ~Log();
    Log(const Log&) = delete;
    Log& operator=(const Log&) = delete;

    /// kAlreadyExists when it exists; kInvalidArgument for a bad name or config.
    Result<std::shared_ptr<Topic>> create_topic(std::string_view name, const TopicConfig& config);
    /// The existing topic (its stored config wins), or a new one with `config`.
    Result<std::shared_ptr<Topic>> ensure_topic(std::string_view name, const TopicConfig& config);
    /// nullptr when there is no such topic.
    std::shared_ptr<Topic> find_topic(std::string_view name) const;
    /// Names, sorted.
    std::vector<std::string> list_topics() const;
    /// Removes the topic and its data (kNotFound when absent). Requests holding the Topic may
    /// finish; their appends go nowhere.
    Status delete_topic(std::string_view name);

    /// Commits through it need a writable log (kUnavailable otherwise).
    ConsumerOffsets& consumer_offsets() { return offsets_; }
    /// Bumped after every append to any of the log's partitions (long-polling readers wait on
    /// it rather than poll).
    AppendSignal& appends() { return *appends_; }
    const std::string& dir() const { return dir_; }
    const Clock& clock() const { return clock_; }
    bool read_only() const { return !lock_.has_value(); }

    /// Records in the writer lock where this process takes HTTP requests ("host:port"), so a
    /// second writer can send its records there. No-op when read-only.
    Status set_address(std::string_view address);
    /// One line per damaged range recovery kept ("topic `t` partition p: <file> bytes [a, b)
    /// (offsets [x, y))") and per folder that looks like a topic but has no topic.json.
    std::vector<std::string> damage() const;

    /// Syncs every partition and stops the flusher. Idempotent.
    void stop();

private:
    Log(std::string dir, const Clock& clock, std::optional<FileLock> lock);
    Status load();
    Result<std::shared_ptr<Topic>> open_topic(const std::string& name, TopicConfig config);
    Status check_writable(std::string_view what) const;

    std::string dir_;
    std::optional<FileLock> lock_;  // set when writable
    const Clock& clock_;
    DurabilityFlusher flusher_;
    ConsumerOffsets offsets_;
    std::shared_ptr<AppendSignal> appends_ = std::make_shared<AppendSignal>();
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;
    uint64_t deletions_ = 0;
    uint64_t creations_ = 0;
    std::vector<std::string> unloaded_;  // set by load()
};

}  // namespace millrace
