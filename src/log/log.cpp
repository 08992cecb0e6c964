#include "log/log.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "log/atomic_file.h"
#include "log/partition.h"

namespace millrace {

namespace fs = std::filesystem;

Log::Log(std::string dir, const Clock& clock)
    : dir_(std::move(dir)), clock_(clock), flusher_(clock), offsets_(dir_ + "/_consumers") {}

Log::~Log() { stop(); }

Result<std::unique_ptr<Log>> Log::open(const std::string& data_dir, const Clock& clock) {
    std::error_code error;
    fs::create_directories(data_dir + "/log", error);
    if (error) {
        return Error(ErrorCode::kIo, "creating " + data_dir + "/log: " + error.message());
    }
    std::unique_ptr<Log> log(new Log(data_dir + "/log", clock));
    MILLRACE_TRY(log->load());
    return log;
}

Status Log::load() {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir_, error)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("_deleted.")) {
            fs::remove_all(entry.path(), error);
            continue;
        }
        if (!entry.is_directory() || !is_valid_topic_name(name)) continue;
        std::ifstream in(entry.path() / "topic.json");
        if (!in) continue;  // creation did not finish
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
        auto partition = Partition::open(topic_dir + "/" + std::to_string(id), id, config);
        if (!partition.ok()) {
            return std::move(partition).error().with_context("topic `" + name + "`");
        }
        flusher_.track(*partition);
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
    std::lock_guard lock(mutex_);
    if (topics_.contains(name)) {
        return Error(ErrorCode::kAlreadyExists, "topic `" + std::string(name) + "` exists");
    }
    const std::string topic_dir = dir_ + "/" + std::string(name);
    std::error_code error;
    fs::remove_all(topic_dir, error);  // an unfinished creation
    if (::mkdir(topic_dir.c_str(), 0755) != 0) return io_error("creating " + topic_dir);
    MILLRACE_ASSIGN_OR_RETURN(auto topic, open_topic(std::string(name), config));
    MILLRACE_TRY(sync_directory(topic_dir));
    MILLRACE_TRY(write_file_atomically(topic_dir + "/topic.json", topic_config_to_json(config)));
    MILLRACE_TRY(sync_directory(dir_));
    topics_.emplace(std::string(name), topic);
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
        MILLRACE_TRY(sync_directory(dir_));
    }
    std::error_code error;
    fs::remove_all(graveyard, error);
    if (error) return Error(ErrorCode::kIo, "removing " + graveyard + ": " + error.message());
    return offsets_.forget_topic(std::string(name));
}

void Log::stop() {
    flusher_.stop();
    std::lock_guard lock(mutex_);
    for (const auto& [name, topic] : topics_) (void)topic->sync_all();
}

}  // namespace millrace
