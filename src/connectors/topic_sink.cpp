#include "connectors/topic_sink.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <map>

#include "common/crash_point.h"
#include "common/durable_file.h"
#include "common/mapped_file.h"
#include "formats/json_encoder.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/partition_reader.h"
#include "log/topic.h"
#include "types/value.h"

namespace millrace {

namespace {

constexpr std::string_view kStagedMagic = "millrace-topic-commit 2\n";
// Written by older versions, with the partitions' offsets in a separate `<id>.intent` file.
constexpr std::string_view kStagedMagicV1 = "millrace-topic-commit 1\n";

void put_fixed(std::string& out, uint64_t value, int width) {
    for (int i = 0; i < width; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

/// Reads what put_fixed wrote, bounds-checked.
class StagedReader {
public:
    explicit StagedReader(std::string_view bytes) : bytes_(bytes) {}
    bool fixed(uint64_t& value, int width) {
        if (bytes_.size() - at_ < static_cast<std::size_t>(width)) return false;
        value = 0;
        for (int i = 0; i < width; ++i)
            value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[at_ + i])) << (8 * i);
        at_ += static_cast<std::size_t>(width);
        return true;
    }
    bool text(std::string& out) {
        uint64_t size = 0;
        if (!fixed(size, 4) || size > bytes_.size() - at_) return false;
        out.assign(bytes_.substr(at_, size));
        at_ += size;
        return true;
    }
    bool skip(std::string_view expected) {
        if (bytes_.substr(at_, expected.size()) != expected) return false;
        at_ += expected.size();
        return true;
    }
    bool at_end() const { return at_ == bytes_.size(); }

private:
    std::string_view bytes_;
    std::size_t at_ = 0;
};

}  // namespace

struct TopicSink::Pending {
    std::vector<PartitionAppend> appends;
};

Result<std::unique_ptr<TopicSink>> TopicSink::create(Log& log, const std::string& topic,
                                                     std::string key_column, const Schema& schema) {
    auto sink = std::make_unique<TopicSink>();
    MILLRACE_ASSIGN_OR_RETURN(sink->topic_, log.ensure_topic(topic, TopicConfig{}));
    if (!key_column.empty()) {
        sink->key_index_ = schema.index_of(key_column);
        if (!sink->key_index_)
            return Error(
                ErrorCode::kNotFound,
                fmt::format("topic sink `{}`: unknown key column `{}`", topic, key_column));
    }
    sink->pending_ = std::make_shared<Pending>();
    return sink;
}

Status TopicSink::stage_in(std::string folder) {
    MILLRACE_TRY(create_directories_durably(folder));
    staging_ = std::move(folder);
    return {};
}

std::string TopicSink::staged_path(uint64_t commit_id, std::string_view suffix) const {
    return fmt::format("{}/{}.{}", staging_, commit_id, suffix);
}

Status TopicSink::write(Batch batch) {
    const std::size_t n = batch.num_rows();
    if (n == 0) return {};
    buffer_.clear();
    JsonEncoder encoder;
    encoder.encode(batch, buffer_);  // one line per row
    std::vector<std::string> keys;
    std::vector<RecordInput> records;
    records.reserve(n);
    if (key_index_) {
        keys.reserve(n);
        for (std::size_t r = 0; r < n; ++r)
            keys.push_back(batch.value_at(r, *key_index_).to_string());
    }
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    std::size_t start = 0;
    if (!staging_.empty()) {
        // Held back until the commit: readers never see a record of an unfinished checkpoint.
        const auto partitions = static_cast<uint64_t>(topic_->partition_count());
        for (std::size_t r = 0; r < n; ++r) {
            const std::size_t end = buffer_.find('\n', start);
            StagedRecord record;
            record.value = buffer_.substr(start, end - start);
            record.timestamp_ms = now_ms;
            if (key_index_) {
                record.partition = topic_->partition_for_key(keys[r]);
                record.key = std::move(keys[r]);
            } else {
                record.partition = static_cast<int32_t>(unkeyed_++ % partitions);
            }
            staged_.push_back(std::move(record));
            start = end + 1;
        }
        rows_ += n;
        return {};
    }
    for (std::size_t r = 0; r < n; ++r) {
        std::size_t end = buffer_.find('\n', start);
        RecordInput record;
        record.value = std::string_view(buffer_).substr(start, end - start);
        record.timestamp_ms = now_ms;
        if (key_index_) record.key = std::string_view(keys[r]);
        records.push_back(record);
        start = end + 1;
    }
    MILLRACE_ASSIGN_OR_RETURN(std::vector<PartitionAppend> appends, topic_->append(records));
    for (auto& a : appends) pending_->appends.push_back(a);
    rows_ += n;
    return {};
}

Status TopicSink::pre_commit(uint64_t commit_id) {
    MILLRACE_TRY(ids_.check_pre_commit(commit_id));
    if (!staging_.empty()) {
        // Nothing to append: no file, and commit() has nothing to do.
        if (staged_.empty()) {
            ids_.pre_committed(commit_id);
            return {};
        }
        std::string out(kStagedMagic);
        const int32_t partitions = topic_->partition_count();
        put_fixed(out, static_cast<uint32_t>(partitions), 4);
        for (int32_t p = 0; p < partitions; ++p)
            put_fixed(out, static_cast<uint64_t>(topic_->partition(p)->end_offset()), 8);
        put_fixed(out, staged_.size(), 8);
        for (const StagedRecord& record : staged_) {
            put_fixed(out, static_cast<uint32_t>(record.partition), 4);
            put_fixed(out, static_cast<uint64_t>(record.timestamp_ms), 8);
            out.push_back(record.key ? '\1' : '\0');
            const std::string empty;
            const std::string& key = record.key ? *record.key : empty;
            put_fixed(out, key.size(), 4);
            out += key;
            put_fixed(out, record.value.size(), 4);
            out += record.value;
        }
        MILLRACE_TRY(write_file_durably(staged_path(commit_id, "records"), out));
        staged_.clear();
        ids_.pre_committed(commit_id);
        return {};
    }
    MILLRACE_TRY(topic_->wait_durable(pending_->appends));
    pending_->appends.clear();
    ids_.pre_committed(commit_id);
    return {};
}

Status TopicSink::commit(uint64_t commit_id) {
    MILLRACE_ASSIGN_OR_RETURN(bool replay, ids_.check_commit(commit_id));
    if (replay) return {};
    std::error_code error;
    if (!staging_.empty() && std::filesystem::exists(staged_path(commit_id, "records"), error))
        MILLRACE_TRY(append_staged(commit_id));
    ids_.committed(commit_id);
    return {};
}

Status TopicSink::append_staged(uint64_t commit_id) {
    std::error_code error;
    // Old format: the commit finished appending.
    if (std::filesystem::exists(staged_path(commit_id, "done"), error)) return {};
    const std::string records_path = staged_path(commit_id, "records");
    MILLRACE_ASSIGN_OR_RETURN(std::string bytes, read_file(records_path));
    StagedReader reader(bytes);
    auto corrupt = [&] {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{} is not a topic sink's staged commit", records_path));
    };
    const int32_t partitions = topic_->partition_count();
    // Where each partition ended before the first append of this commit: whatever of the
    // commit a dead run appended is at or after it.
    std::vector<Offset> from(static_cast<std::size_t>(partitions), 0);
    const bool v1 = reader.skip(kStagedMagicV1);
    if (!v1) {
        uint64_t staged_partitions = 0;
        // A topic may have gained partitions since; the commit's records are in the old ones.
        if (!reader.skip(kStagedMagic) || !reader.fixed(staged_partitions, 4) ||
            staged_partitions > static_cast<uint64_t>(partitions))
            return corrupt();
        for (uint64_t p = 0; p < staged_partitions; ++p) {
            uint64_t value = 0;
            if (!reader.fixed(value, 8)) return corrupt();
            from[p] = static_cast<Offset>(value);
        }
    }
    uint64_t count = 0;
    if (!reader.fixed(count, 8) || count > bytes.size()) return corrupt();
    std::map<int32_t, std::vector<StagedRecord>> by_partition;
    for (uint64_t i = 0; i < count; ++i) {
        StagedRecord record;
        uint64_t partition = 0;
        uint64_t timestamp = 0;
        uint64_t has_key = 0;
        std::string key;
        if (!reader.fixed(partition, 4) || !reader.fixed(timestamp, 8) ||
            !reader.fixed(has_key, 1) || !reader.text(key) || !reader.text(record.value) ||
            partition >= static_cast<uint64_t>(partitions)) {
            return corrupt();
        }
        record.partition = static_cast<int32_t>(partition);
        record.timestamp_ms = static_cast<int64_t>(timestamp);
        if (has_key != 0) record.key = std::move(key);
        by_partition[record.partition].push_back(std::move(record));
    }
    if (!reader.at_end()) return corrupt();

    const std::string intent = staged_path(commit_id, "intent");
    if (v1 && std::filesystem::exists(intent, error)) {
        MILLRACE_ASSIGN_OR_RETURN(std::string text, read_file(intent));
        std::size_t at = 0;
        while (at < text.size()) {
            std::size_t end = text.find('\n', at);
            if (end == std::string::npos) end = text.size();
            const std::string_view line = std::string_view(text).substr(at, end - at);
            const std::size_t space = line.find(' ');
            int32_t partition = 0;
            Offset offset = 0;
            if (space == std::string_view::npos ||
                std::from_chars(line.data(), line.data() + space, partition).ec != std::errc() ||
                std::from_chars(line.data() + space + 1, line.data() + line.size(), offset).ec !=
                    std::errc() ||
                partition < 0 || partition >= partitions) {
                return Error(ErrorCode::kCorruption,
                             fmt::format("{}: bad line `{}`", intent, line));
            }
            from[static_cast<std::size_t>(partition)] = offset;
            at = end + 1;
        }
    } else if (v1) {
        // An old-format commit whose appends never began.
        for (int32_t p = 0; p < partitions; ++p)
            from[static_cast<std::size_t>(p)] = topic_->partition(p)->end_offset();
    }

    for (const auto& [partition, records] : by_partition) {
        const std::shared_ptr<Partition>& target = topic_->partition(partition);
        // The commit's records already in the partition, in order (another writer's records
        // in between are passed over).
        std::size_t present = 0;
        const Offset start =
            std::max(from[static_cast<std::size_t>(partition)], target->start_offset());
        PartitionReader scan(target, start, target->end_offset());
        std::vector<RecordView> views;
        while (present < records.size()) {
            MILLRACE_ASSIGN_OR_RETURN(bool more, scan.next(views));
            if (!more) break;
            for (const RecordView& view : views) {
                if (present == records.size()) break;
                const StagedRecord& want = records[present];
                const bool same_key = want.key ? (view.key && *view.key == *want.key) : !view.key;
                if (same_key && view.value == want.value) ++present;
            }
        }
        // The rest, in batches well under the log's batch size limit.
        std::vector<RecordInput> inputs;
        std::size_t batch_bytes = 0;
        auto flush = [&]() -> Status {
            if (inputs.empty()) return {};
            auto appended = target->append(inputs);
            if (!appended.ok()) return std::move(appended).error();
            inputs.clear();
            batch_bytes = 0;
            return {};
        };
        for (std::size_t i = present; i < records.size(); ++i) {
            RecordInput input;
            if (records[i].key) input.key = std::string_view(*records[i].key);
            input.value = records[i].value;
            input.timestamp_ms = records[i].timestamp_ms;
            inputs.push_back(input);
            batch_bytes += records[i].value.size() + (records[i].key ? records[i].key->size() : 0);
            if (inputs.size() >= 4096 || batch_bytes >= (std::size_t{4} << 20))
                MILLRACE_TRY(flush());
        }
        MILLRACE_TRY(flush());
        MILLRACE_TRY(target->sync());
    }
    crash_point("topic-sink-appended");  // between the appends and the file's removal
    // Without a sync: a removal a crash undoes leaves a file whose replay finds every record
    // already appended.
    remove_staged();
    return {};
}

void TopicSink::remove_staged() const {
    std::error_code error;
    std::vector<std::filesystem::path> stale;
    for (const auto& entry : std::filesystem::directory_iterator(staging_, error))
        stale.push_back(entry.path());
    for (const auto& path : stale) std::filesystem::remove(path, error);
}

Status TopicSink::recover(uint64_t committed) {
    if (staging_.empty()) return {};
    std::error_code error;
    if (committed != 0 && std::filesystem::exists(staged_path(committed, "records"), error))
        MILLRACE_TRY(append_staged(committed));
    // Every other staged commit belongs to a checkpoint that never completed.
    remove_staged();
    MILLRACE_TRY(sync_directory(staging_));
    staged_.clear();
    if (committed != 0) ids_.committed(committed);
    return {};
}

void TopicSink::abort() {
    pending_->appends.clear();
    staged_.clear();
    ids_.aborted();
}

}  // namespace millrace
