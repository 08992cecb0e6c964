#include "log/topic.h"

#include <algorithm>
#include <future>

#include "common/json_string.h"
#include "log/consumer_offsets.h"
#include "log/crc32c.h"
#include "log/durability_flusher.h"

namespace millrace {

Topic::Topic(std::string name, std::string dir, TopicConfig config,
             std::vector<std::shared_ptr<Partition>> partitions, DurabilityFlusher& flusher)
    : name_(std::move(name)),
      dir_(std::move(dir)),
      config_(std::move(config)),
      partitions_(std::move(partitions)),
      flusher_(flusher) {}

PartitionId Topic::partition_for_key(std::string_view key) const {
    return static_cast<PartitionId>(crc32c(key.data(), key.size()) %
                                    static_cast<uint32_t>(partitions_.size()));
}

Result<std::vector<PartitionAppend>> Topic::append(std::span<const RecordInput> records) {
    std::vector<PartitionAppend> appends;
    if (records.empty()) return appends;
    const auto count = static_cast<uint32_t>(partitions_.size());
    const auto sticky =
        static_cast<PartitionId>(round_robin_.fetch_add(1, std::memory_order_relaxed) % count);
    bool any_key = false;
    for (const RecordInput& record : records) any_key = any_key || record.key.has_value();
    if (!any_key || count == 1) {
        MILLRACE_ASSIGN_OR_RETURN(AppendResult result, partitions_[sticky]->append(records));
        appends.push_back({sticky, result.first, result.last});
        return appends;
    }
    std::vector<std::vector<RecordInput>> groups(count);
    for (const RecordInput& record : records) {
        const PartitionId id = record.key ? partition_for_key(*record.key) : sticky;
        groups[static_cast<std::size_t>(id)].push_back(record);
    }
    for (uint32_t id = 0; id < count; ++id) {
        if (groups[id].empty()) continue;
        MILLRACE_ASSIGN_OR_RETURN(AppendResult result, partitions_[id]->append(groups[id]));
        appends.push_back({static_cast<PartitionId>(id), result.first, result.last});
    }
    return appends;
}

void Topic::when_durable(const std::vector<PartitionAppend>& appends,
                         std::function<void(Status)> callback) {
    if (config_.fsync != FsyncPolicy::kAlways || appends.empty()) {
        callback(Status{});
        return;
    }
    struct Countdown {
        std::atomic<std::size_t> remaining;
        std::function<void(Status)> callback;
        std::mutex mutex;
        std::optional<Error> error;
    };
    auto countdown = std::make_shared<Countdown>();
    countdown->remaining = appends.size();
    countdown->callback = std::move(callback);
    for (const PartitionAppend& append : appends) {
        const auto& partition = partitions_[append.partition];
        partition->when_durable(append.last + 1, [countdown](Status status) {
            if (!status.ok()) {
                std::lock_guard lock(countdown->mutex);
                if (!countdown->error) countdown->error = std::move(status).error();
            }
            if (countdown->remaining.fetch_sub(1) == 1) {
                Status result;
                if (countdown->error) result = std::move(*countdown->error);
                countdown->callback(std::move(result));
            }
        });
        flusher_.request(partition);
    }
}

Status Topic::wait_durable(const std::vector<PartitionAppend>& appends) {
    std::promise<Status> promise;
    std::future<Status> future = promise.get_future();
    when_durable(appends, [&promise](Status status) { promise.set_value(std::move(status)); });
    return future.get();
}

std::string Topic::describe_json(ConsumerOffsets* consumers) const {
    std::string out = "{\"name\":";
    append_json_string(out, name_);
    out += ",\"config\":" + topic_config_to_json(config_) + ",\"partitions\":[";
    for (const auto& partition : partitions_) {
        if (partition->id() > 0) out += ',';
        out += "{\"partition\":" + std::to_string(partition->id()) +
               ",\"start_offset\":" + std::to_string(partition->start_offset()) +
               ",\"end_offset\":" + std::to_string(partition->end_offset()) +
               ",\"durable_offset\":" + std::to_string(partition->durable_offset()) +
               ",\"size_bytes\":" + std::to_string(partition->size_bytes()) +
               ",\"segments\":" + std::to_string(partition->segment_count()) + "}";
    }
    out += ']';
    if (consumers != nullptr) {
        out += ",\"consumers\":[";
        bool first = true;
        for (const auto& [consumer, positions] : consumers->for_topic(name_)) {
            if (!first) out += ',';
            first = false;
            out += "{\"consumer\":";
            append_json_string(out, consumer);
            out += ",\"partitions\":[";
            bool first_partition = true;
            for (const auto& [id, offset] : positions) {
                if (id < 0 || id >= partition_count()) continue;
                if (!first_partition) out += ',';
                first_partition = false;
                const Offset lag = std::max<Offset>(0, partitions_[id]->end_offset() - offset);
                out += "{\"partition\":" + std::to_string(id) +
                       ",\"offset\":" + std::to_string(offset) + ",\"lag\":" + std::to_string(lag) +
                       "}";
            }
            out += "]}";
        }
        out += ']';
    }
    out += '}';
    return out;
}

Status Topic::sync_all() {
    for (const auto& partition : partitions_) MILLRACE_TRY(partition->sync());
    return {};
}

}  // namespace millrace
