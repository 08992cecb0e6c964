#include "log/log.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/durable_file.h"
#include "log/partition.h"
#include "log/segment.h"

namespace millrace {

namespace fs = std::filesystem;

Log::Log(std::string dir, const Clock& clock, std::optional<FileLock> lock)
    : dir_(std::move(dir)),
      lock_(std::move(lock)),
      clock_(clock),
      flusher_(clock),
      offsets_(dir_ + "/_consumers", !lock_.has_value()) {}

Log::~Log() { stop(); }

std::string Log::lock_path(const std::string& data_dir) { return data_dir + "/log/_writer.lock"; }

Result<std::unique_ptr<Log>> Log::open(const std::string& data_dir, const Clock& clock,
                                       const LogOptions& options) {
    std::optional<FileLock> lock;
    if (options.access == LogAccess::kReadWrite) {
        MILLRACE_TRY(create_directories_durably(data_dir + "/log"));
        auto acquired = FileLock::try_acquire(lock_path(data_dir), options.command);
        if (!acquired.ok()) {
            if (acquired.error().code() != ErrorCode::kUnavailable) return acquired.error();
            const std::optional<LockHolder> holder = FileLock::read_holder(lock_path(data_dir));
            const std::string advice =
                holder && !holder->address.empty()
                    ? "; stop it or send records through its HTTP API at http://" + holder->address
                    : "; stop it or wait for it to finish";
            return Error(ErrorCode::kUnavailable, "data directory `" + data_dir +
                                                      "` log is in use by " +
                                                      FileLock::describe_holder(holder) + advice);
        }
        lock = std::move(acquired).value();
    }
    std::unique_ptr<Log> log(new Log(data_dir + "/log", clock, std::move(lock)));
    MILLRACE_TRY(log->load());
    return log;
}

Status Log::check_writable(std::string_view what) const {
    if (lock_) return {};
    const std::string lock_file = dir_ + "/_writer.lock";
    std::string why = "the log in " + dir_ + " was opened read-only";
    if (FileLock::locked(lock_file)) {
        why +=
            " (it is held by " + FileLock::describe_holder(FileLock::read_holder(lock_file)) + ")";
    }
    return Error(ErrorCode::kUnavailable, std::string(what) + ": " + why);
}

Status Log::set_address(std::string_view address) {
    if (!lock_) return {};
    return lock_->set_address(address);
}

std::vector<std::string> Log::damage() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out = unloaded_;
    for (const auto& [name, topic] : topics_) {
        for (PartitionId p = 0; p < topic->partition_count(); ++p) {
            for (const PartitionDamage& damage : topic->partition(p)->damage()) {
                out.push_back("topic `" + name + "` partition " + std::to_string(p) + ": " +
                              damage.description);
            }
        }
    }
    return out;
}

Status Log::load() {
    std::error_code error;
    if (read_only() && !fs::exists(dir_, error)) return {};  // nothing written yet
    for (const auto& entry : fs::directory_iterator(dir_, error)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("_deleted.") || name.starts_with("_creating.")) {
            // A deletion or creation a crash interrupted; a reader leaves them to the writer.
            if (!read_only()) fs::remove_all(entry.path(), error);
            continue;
        }
        if (!entry.is_directory() || !is_valid_topic_name(name)) continue;
        std::ifstream in(entry.path() / "topic.json");
        if (!in) {
            // Creation renames a complete folder into place, so this is not one of ours (or
            // an older version's unfinished creation): leave it, report it, and refuse to
            // create a topic over it.
            unloaded_.push_back(entry.path().string() + " has no topic.json; not loaded, kept");
            continue;
        }
        std::stringstream text;
        text << in.rdbuf();
        auto config = topic_config_from_json(text.str());
        if (!config.ok()) return std::move(config).error().with_context("topic `" + name + "`");
        MILLRACE_ASSIGN_OR_RETURN(auto topic, open_topic(name, std::move(config).value()));
        topics_.emplace(name, std::move(topic));
    }
    if (error) return Error(ErrorCode::kIo, "listing " + dir_ + ": " + error.message());
    return {};
}

Result<std::shared_ptr<Topic>> Log::open_topic(const std::string& name, TopicConfig config) {
    const std::string topic_dir = dir_ + "/" + name;
    std::vector<std::shared_ptr<Partition>> partitions;
    for (PartitionId id = 0; id < config.partitions; ++id) {
        auto partition =
            Partition::open(topic_dir + "/" + std::to_string(id), id, config, read_only());
        if (!partition.ok()) {
            return std::move(partition).error().with_context("topic `" + name + "`");
        }
        (*partition)->set_append_signal(appends_);
        if (!read_only()) flusher_.track(*partition);
        partitions.push_back(std::move(partition).value());
    }
    return std::make_shared<Topic>(name, topic_dir, std::move(config), std::move(partitions),
                                   flusher_);
}

Result<std::shared_ptr<Topic>> Log::create_topic(std::string_view name, const TopicConfig& config) {
    if (!is_valid_topic_name(name)) {
        return Error(ErrorCode::kInvalidArgument,
                     "invalid topic name `" + std::string(name) +
                         "`: use 1-200 letters, digits, '.', '_' or '-', not starting with '.' "
                         "or '_'");
    }
    MILLRACE_TRY(config.validate());
    MILLRACE_TRY(check_writable("creating topic `" + std::string(name) + "`"));
    std::lock_guard lock(mutex_);
    if (topics_.contains(name)) {
        return Error(ErrorCode::kAlreadyExists, "topic `" + std::string(name) + "` exists");
    }
    const std::string topic_dir = dir_ + "/" + std::string(name);
    std::error_code error;
    if (fs::exists(topic_dir, error)) {
        return Error(ErrorCode::kAlreadyExists,
                     topic_dir +
                         " exists but is not a topic (no topic.json); move it aside to "
                         "create topic `" +
                         std::string(name) + "`");
    }
    // Built aside and renamed into place: a failure or crash midway leaves no topic folder,
    // only a `_creating.` one that is removed here or on the next open.
    const std::string building =
        dir_ + "/_creating." + std::string(name) + "." + std::to_string(++creations_);
    Status built = [&]() -> Status {
        fs::remove_all(building, error);
        if (::mkdir(building.c_str(), 0755) != 0) return io_error("creating " + building);
        for (PartitionId id = 0; id < config.partitions; ++id) {
            const std::string partition_dir = building + "/" + std::to_string(id);
            if (::mkdir(partition_dir.c_str(), 0755) != 0) {
                return io_error("creating " + partition_dir);
            }
            MILLRACE_ASSIGN_OR_RETURN(auto segment, Segment::create(partition_dir, 0));
            MILLRACE_TRY(segment->sync());
            MILLRACE_TRY(sync_directory(partition_dir));
        }
        MILLRACE_TRY(write_file_durably(building + "/topic.json", topic_config_to_json(config)));
        if (std::rename(building.c_str(), topic_dir.c_str()) != 0) {
            return io_error("renaming " + building + " to " + topic_dir);
        }
        return sync_directory(dir_);
    }();
    if (!built.ok()) {
        fs::remove_all(building, error);
        return std::move(built).error();
    }
    auto topic = open_topic(std::string(name), config);
    if (!topic.ok()) {
        // In place but not openable (out of descriptors, say): take it away again.
        const std::string graveyard =
            dir_ + "/_deleted." + std::string(name) + "." + std::to_string(++deletions_);
        if (std::rename(topic_dir.c_str(), graveyard.c_str()) == 0) {
            (void)sync_directory(dir_);
            fs::remove_all(graveyard, error);
        }
        return topic;
    }
    topics_.emplace(std::string(name), *topic);
    return topic;
}

Result<std::shared_ptr<Topic>> Log::ensure_topic(std::string_view name, const TopicConfig& config) {
    if (auto topic = find_topic(name)) return topic;
    auto created = create_topic(name, config);
    if (!created.ok() && created.error().code() == ErrorCode::kAlreadyExists) {
        return find_topic(name);
    }
    return created;
}

std::shared_ptr<Topic> Log::find_topic(std::string_view name) const {
    std::lock_guard lock(mutex_);
    auto it = topics_.find(name);
    return it == topics_.end() ? nullptr : it->second;
}

std::vector<std::string> Log::list_topics() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const auto& [name, topic] : topics_) names.push_back(name);
    return names;
}

Status Log::delete_topic(std::string_view name) {
    MILLRACE_TRY(check_writable("deleting topic `" + std::string(name) + "`"));
    std::shared_ptr<Topic> topic;
    std::string graveyard;
    {
        std::lock_guard lock(mutex_);
        auto it = topics_.find(name);
        if (it == topics_.end()) {
            return Error(ErrorCode::kNotFound, "no topic `" + std::string(name) + "`");
        }
        topic = it->second;
        topics_.erase(it);
        graveyard = dir_ + "/_deleted." + std::string(name) + "." + std::to_string(++deletions_);
        if (std::rename(topic->dir().c_str(), graveyard.c_str()) != 0) {
            return io_error("renaming " + topic->dir());
        }
        for (PartitionId p = 0; p < topic->partition_count(); ++p) {
            topic->partition(p)->mark_removed();
        }
        MILLRACE_TRY(sync_directory(dir_));
    }
    std::error_code error;
    fs::remove_all(graveyard, error);
    if (error) return Error(ErrorCode::kIo, "removing " + graveyard + ": " + error.message());
    return offsets_.forget_topic(std::string(name));
}

void Log::stop() {
    flusher_.stop();
    if (read_only()) return;
    std::lock_guard lock(mutex_);
    for (const auto& [name, topic] : topics_) {
        // Nothing to report to at shutdown; what is not synced here is a torn tail at the next
        // open, cut only beyond the checkpoint.
        if (!topic->sync_all().ok()) continue;
        for (PartitionId p = 0; p < topic->partition_count(); ++p) {
            (void)topic->partition(p)->save_checkpoint();
        }
    }
}

}  // namespace millrace
