#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "log/consumer_offsets.h"
#include "log/durability_flusher.h"
#include "log/fwd.h"
#include "log/topic.h"

namespace millrace {

/// The embedded durable log (ARCHITECTURE.md §6): every topic under `<data_dir>/log/`.
///
///   <data_dir>/log/
///     <topic>/topic.json            TopicConfig (topic_config.h), written atomically, last
///     <topic>/<partition>/          segments (segment.h)
///     _consumers/<name>.offsets     consumer positions (consumer_offsets.h)
///
/// A topic exists once its topic.json does: creation makes the partition folders first and
/// writes topic.json last; deletion renames the folder to `_deleted.<topic>.<n>` first, so a
/// crash never leaves half a topic (leftovers are removed on the next open).
///
/// Lifecycle: open() loads every topic and runs recovery (torn tails are cut); the Log owns
/// one DurabilityFlusher thread; stop() (or the destructor) syncs everything and joins it.
/// Threads: every member is safe from any thread.
class Log {
public:
    /// `clock` must outlive the Log.
    static Result<std::unique_ptr<Log>> open(const std::string& data_dir, const Clock& clock);
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

    ConsumerOffsets& consumer_offsets() { return offsets_; }
    const std::string& dir() const { return dir_; }
    const Clock& clock() const { return clock_; }

    /// Syncs every partition and stops the flusher. Idempotent.
    void stop();

private:
    Log(std::string dir, const Clock& clock);
    Status load();
    Result<std::shared_ptr<Topic>> open_topic(const std::string& name, TopicConfig config);

    std::string dir_;
    const Clock& clock_;
    DurabilityFlusher flusher_;
    ConsumerOffsets offsets_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;
    uint64_t deletions_ = 0;
};

}  // namespace millrace
