#include "connectors/topic_sink.h"

#include <fmt/format.h>

#include "formats/json_encoder.h"
#include "log/log.h"
#include "log/topic.h"
#include "types/value.h"

namespace millrace {

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
    MILLRACE_TRY(topic_->wait_durable(pending_->appends));
    pending_->appends.clear();
    ids_.pre_committed(commit_id);
    return {};
}

Status TopicSink::commit(uint64_t commit_id) {
    MILLRACE_ASSIGN_OR_RETURN(bool replay, ids_.check_commit(commit_id));
    if (!replay) ids_.committed(commit_id);
    return {};
}

void TopicSink::abort() {
    pending_->appends.clear();
    ids_.aborted();
}

}  // namespace millrace
