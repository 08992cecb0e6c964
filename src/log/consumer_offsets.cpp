#include "log/consumer_offsets.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/durable_file.h"
#include "log/topic_config.h"

namespace millrace {

namespace {
constexpr std::string_view kMagicLine = "millrace-offsets 1";
constexpr std::string_view kSuffix = ".offsets";
}  // namespace

ConsumerOffsets::ConsumerOffsets(std::string dir, bool read_only)
    : dir_(std::move(dir)), read_only_(read_only) {}

Result<ConsumerOffsets::Positions> ConsumerOffsets::load(const std::string& consumer) {
    if (auto it = cache_.find(consumer); it != cache_.end()) return it->second;
    Positions positions;
    std::ifstream in(dir_ + "/" + consumer + std::string(kSuffix));
    if (in) {
        std::string line;
        if (!std::getline(in, line) || line != kMagicLine) {
            return Error(ErrorCode::kCorruption,
                         "consumer offsets of `" + consumer + "`: bad header");
        }
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string topic;
            PartitionId partition = 0;
            Offset offset = 0;
            if (!(fields >> topic >> partition >> offset)) {
                return Error(ErrorCode::kCorruption,
                             "consumer offsets of `" + consumer + "`: bad line `" + line + "`");
            }
            positions[{topic, partition}] = offset;
        }
    }
    cache_[consumer] = positions;
    return positions;
}

Status ConsumerOffsets::store(const std::string& consumer, const Positions& positions) {
    if (read_only_) {
        return Error(ErrorCode::kUnavailable, "consumer offsets in " + dir_ +
                                                  " cannot be committed: the log was opened "
                                                  "read-only (another process may hold it)");
    }
    MILLRACE_TRY(create_directories_durably(dir_));
    std::string text(kMagicLine);
    text += '\n';
    for (const auto& [key, offset] : positions) {
        text += key.first + " " + std::to_string(key.second) + " " + std::to_string(offset) + "\n";
    }
    MILLRACE_TRY(write_file_durably(dir_ + "/" + consumer + std::string(kSuffix), text));
    cache_[consumer] = positions;
    return {};
}

Status ConsumerOffsets::commit(const std::string& consumer, const std::string& topic,
                               PartitionId partition, Offset offset) {
    if (!is_valid_topic_name(consumer)) {
        return Error(ErrorCode::kInvalidArgument, "invalid consumer name `" + consumer + "`");
    }
    std::lock_guard lock(mutex_);
    MILLRACE_ASSIGN_OR_RETURN(Positions positions, load(consumer));
    positions[{topic, partition}] = offset;
    return store(consumer, positions);
}

Result<std::optional<Offset>> ConsumerOffsets::fetch(const std::string& consumer,
                                                     const std::string& topic,
                                                     PartitionId partition) {
    if (!is_valid_topic_name(consumer)) {
        return Error(ErrorCode::kInvalidArgument, "invalid consumer name `" + consumer + "`");
    }
    std::lock_guard lock(mutex_);
    MILLRACE_ASSIGN_OR_RETURN(Positions positions, load(consumer));
    auto it = positions.find({topic, partition});
    if (it == positions.end()) return std::optional<Offset>();
    return std::optional<Offset>(it->second);
}

Status ConsumerOffsets::forget_topic(const std::string& topic) {
    std::lock_guard lock(mutex_);
    std::error_code error;
    if (!std::filesystem::is_directory(dir_, error)) return {};
    for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
        const std::string name = entry.path().filename().string();
        if (!name.ends_with(kSuffix)) continue;
        const std::string consumer = name.substr(0, name.size() - kSuffix.size());
        MILLRACE_ASSIGN_OR_RETURN(Positions positions, load(consumer));
        const std::size_t before = positions.size();
        std::erase_if(positions, [&](const auto& item) { return item.first.first == topic; });
        if (positions.size() != before) MILLRACE_TRY(store(consumer, positions));
    }
    return {};
}

std::map<std::string, std::map<PartitionId, Offset>> ConsumerOffsets::for_topic(
    const std::string& topic) {
    std::map<std::string, std::map<PartitionId, Offset>> out;
    std::lock_guard lock(mutex_);
    std::error_code error;
    if (!std::filesystem::is_directory(dir_, error)) return out;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
        const std::string name = entry.path().filename().string();
        if (!name.ends_with(kSuffix)) continue;
        const std::string consumer = name.substr(0, name.size() - kSuffix.size());
        if (!is_valid_topic_name(consumer)) continue;  // a temporary file of a commit
        auto positions = load(consumer);
        if (!positions.ok()) continue;
        for (const auto& [key, offset] : *positions) {
            if (key.first == topic) out[consumer][key.second] = offset;
        }
    }
    return out;
}

}  // namespace millrace
