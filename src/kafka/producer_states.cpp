#include "kafka/producer_states.h"

#include <fstream>
#include <sstream>

#include "common/durable_file.h"
#include "kafka/apis.h"
#include "log/partition.h"
#include "log/record_batch.h"

namespace millrace::kafka {

namespace {

constexpr std::size_t kRetainedBatches = 5;
constexpr Offset kRebuildWindow = 100'000;
constexpr int64_t kFirstProducerId = 1000;

struct ProducerFields {
    int64_t producer_id = -1;
    int16_t epoch = -1;
    int32_t base_sequence = -1;
};

ProducerFields producer_fields(const char* batch) {
    auto byte = [batch](int at) {
        return static_cast<uint64_t>(static_cast<unsigned char>(batch[at]));
    };
    uint64_t id = 0;
    for (int i = 0; i < 8; ++i) id = (id << 8) | byte(43 + i);
    ProducerFields fields;
    fields.producer_id = static_cast<int64_t>(id);
    fields.epoch = static_cast<int16_t>((byte(51) << 8) | byte(52));
    fields.base_sequence =
        static_cast<int32_t>((byte(53) << 24) | (byte(54) << 16) | (byte(55) << 8) | byte(56));
    return fields;
}

int32_t last_sequence(int32_t first, int32_t count) {
    // Sequences wrap from INT32_MAX to 0.
    const int64_t last = static_cast<int64_t>(first) + count - 1;
    return static_cast<int32_t>(last > INT32_MAX ? last - INT32_MAX - 1 : last);
}

int32_t next_sequence(int32_t last) { return last == INT32_MAX ? 0 : last + 1; }

}  // namespace

ProducerStates::ProducerStates(std::string log_dir)
    : path_(log_dir + "/_kafka/producer_ids"), next_id_(kFirstProducerId) {}

Status ProducerStates::load() {
    std::ifstream in(path_);
    if (!in) return {};
    int64_t next = 0;
    if (in >> next && next > next_id_) next_id_ = next;
    return {};
}

Result<int64_t> ProducerStates::new_producer() {
    std::lock_guard lock(mutex_);
    const int64_t id = next_id_;
    MILLRACE_TRY(create_parent_directories_durably(path_));
    MILLRACE_TRY(write_file_durably(path_, std::to_string(id + 1) + "\n"));
    next_id_ = id + 1;
    return id;
}

std::optional<int16_t> ProducerStates::bump_epoch(int64_t producer_id, int16_t epoch) {
    std::lock_guard lock(mutex_);
    if (producer_id < kFirstProducerId || producer_id >= next_id_ || epoch < 0 ||
        epoch >= INT16_MAX - 1) {
        return std::nullopt;
    }
    return static_cast<int16_t>(epoch + 1);
}

void ProducerStates::remember(const Key& key, int16_t epoch, const BatchMetadata& batch) {
    Entry& entry = entries_[key];
    if (entry.epoch != epoch) entry.batches.clear();
    entry.epoch = epoch;
    entry.batches.push_back(batch);
    while (entry.batches.size() > kRetainedBatches) entry.batches.pop_front();
}

Status ProducerStates::rebuild(const std::string& topic, Partition& partition) {
    if (!rebuilt_.insert({topic, partition.id()}).second) return {};
    const Offset end = partition.end_offset();
    Offset from = std::max(partition.start_offset(), end - kRebuildWindow);
    std::string buffer;
    while (from < end) {
        auto read = partition.read_batches(from, 1 << 20, buffer);
        if (!read.ok()) {
            if (read.error().code() != ErrorCode::kCorruption) return read.error();
            ++from;  // a damaged range: skip on
            continue;
        }
        if (!*read) break;
        for (std::size_t at = 0; at + record_batch::kHeaderSize <= buffer.size();) {
            const record_batch::Header header = record_batch::read_header(buffer.data() + at);
            const ProducerFields fields = producer_fields(buffer.data() + at);
            if (fields.producer_id >= 0 && fields.base_sequence >= 0) {
                remember(
                    {fields.producer_id, topic, partition.id()}, fields.epoch,
                    {fields.base_sequence, last_sequence(fields.base_sequence, header.record_count),
                     header.base_offset, header.last_offset()});
            }
            from = header.last_offset() + 1;
            at += header.total_size();
        }
    }
    return {};
}

Result<ProduceOutcome> ProducerStates::append(const std::string& topic, Partition& partition,
                                              std::vector<std::string>& batches) {
    ProduceOutcome outcome;
    const bool idempotent = std::any_of(batches.begin(), batches.end(), [](const std::string& b) {
        return producer_fields(b.data()).producer_id >= 0;
    });
    std::unique_lock lock(mutex_, std::defer_lock);
    if (idempotent) {
        lock.lock();
        MILLRACE_TRY(rebuild(topic, partition));
    }
    for (std::string& batch : batches) {
        const ProducerFields fields = producer_fields(batch.data());
        const record_batch::Header header = record_batch::read_header(batch.data());
        const Key key{fields.producer_id, topic, partition.id()};
        if (fields.producer_id >= 0 && fields.base_sequence >= 0) {
            auto found = entries_.find(key);
            if (found != entries_.end()) {
                const Entry& entry = found->second;
                if (fields.epoch < entry.epoch) {
                    outcome.error = static_cast<int16_t>(KafkaError::kInvalidProducerEpoch);
                    return outcome;
                }
                if (fields.epoch == entry.epoch && !entry.batches.empty()) {
                    const int32_t last = last_sequence(fields.base_sequence, header.record_count);
                    const BatchMetadata* duplicate = nullptr;
                    for (const BatchMetadata& seen : entry.batches) {
                        if (seen.first_sequence == fields.base_sequence &&
                            seen.last_sequence == last) {
                            duplicate = &seen;
                        }
                    }
                    if (duplicate != nullptr) {
                        if (outcome.base_offset < 0) outcome.base_offset = duplicate->base_offset;
                        outcome.last_offset = duplicate->last_offset;
                        continue;
                    }
                    if (fields.base_sequence != next_sequence(entry.batches.back().last_sequence)) {
                        outcome.error = static_cast<int16_t>(KafkaError::kOutOfOrderSequenceNumber);
                        return outcome;
                    }
                }
            }
        }
        MILLRACE_ASSIGN_OR_RETURN(AppendResult appended, partition.append_encoded(batch));
        if (outcome.base_offset < 0) outcome.base_offset = appended.first;
        outcome.last_offset = appended.last;
        outcome.appended = true;
        if (fields.producer_id >= 0 && fields.base_sequence >= 0) {
            remember(
                key, fields.epoch,
                {fields.base_sequence, last_sequence(fields.base_sequence, header.record_count),
                 appended.first, appended.last});
        }
    }
    return outcome;
}

void ProducerStates::forget_topic(const std::string& topic) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const auto& item) { return std::get<1>(item.first) == topic; });
    std::erase_if(rebuilt_, [&](const auto& item) { return item.first == topic; });
}

}  // namespace millrace::kafka
