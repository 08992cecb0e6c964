#include "connectors/dead_letter_topic.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "common/file_lock.h"
#include "common/json_string.h"
#include "formats/json_encoder.h"
#include "log/log.h"
#include "log/topic.h"
#include "net/http_client.h"
#include "net/http_url.h"

namespace millrace {

namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 20;
constexpr std::size_t kAppendRecords = 1000;

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string DeadLetterTopic::default_topic(std::string_view pipeline) {
    std::string name = "dlq.";
    for (char c : pipeline) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        name += plain ? c : '-';
    }
    if (name.size() > 200) name.resize(200);
    return name;
}

DeadLetterTopic::RemoteAppender DeadLetterTopic::through_server(std::string data_dir) {
    return [data_dir = std::move(data_dir)](const std::string& topic,
                                            std::string_view lines) -> Status {
        const std::optional<LockHolder> holder = FileLock::read_holder(Log::lock_path(data_dir));
        if (!holder || holder->address.empty()) {
            return Error(ErrorCode::kUnavailable,
                         "the log is held by a process without an HTTP address");
        }
        MILLRACE_ASSIGN_OR_RETURN(HttpUrl url, HttpUrl::parse("http://" + holder->address));
        HttpClient client(url, std::chrono::minutes(1));
        MILLRACE_ASSIGN_OR_RETURN(HttpReply described,
                                  client.request("GET", "/v1/topics/" + topic));
        if (described.status == 404) {
            std::string body = "{\"name\":";
            append_json_string(body, topic);
            body += '}';
            MILLRACE_ASSIGN_OR_RETURN(
                HttpReply created, client.request("POST", "/v1/topics", body, "application/json"));
            // 409: made meanwhile by someone else.
            if (created.status != 201 && created.status != 409) {
                return Error(ErrorCode::kUnavailable,
                             fmt::format("{} answered {} creating topic `{}`: {}", url.authority(),
                                         created.status, topic, created.body));
            }
        }
        MILLRACE_ASSIGN_OR_RETURN(HttpReply reply, client.request("POST", "/v1/ingest/" + topic,
                                                                  lines, "application/x-ndjson"));
        if (reply.status != 200) {
            return Error(ErrorCode::kUnavailable, fmt::format("{} answered {}: {}", url.authority(),
                                                              reply.status, reply.body));
        }
        return {};
    };
}

DeadLetterTopic::DeadLetterTopic(std::string topic, LogOpener open_log)
    : topic_name_(std::move(topic)), open_log_(std::move(open_log)) {}

Result<std::unique_ptr<DeadLetterTopic>> DeadLetterTopic::create(std::string topic,
                                                                 LogOpener open_log) {
    if (!open_log) {
        return Error(ErrorCode::kInternal, "dead-letter topic `" + topic + "` has no log");
    }
    return std::make_unique<DeadLetterTopic>(std::move(topic), std::move(open_log));
}

DeadLetterTopic::~DeadLetterTopic() {
    if (spill_ != nullptr) std::fclose(spill_);
}

void DeadLetterTopic::add(std::string_view envelope) {
    buffer_.append(envelope);
    buffer_ += '\n';
    ++pending_;
    // A failed spill keeps the envelopes in memory; pre_commit() tries again and reports it.
    if (buffer_.size() >= kBufferBytes) (void)spill();
}

Status DeadLetterTopic::write(Batch batch) {
    if (batch.num_rows() == 0) return {};
    std::string lines;
    JsonEncoder encoder;
    encoder.encode(batch, lines);  // one line per row
    buffer_ += lines;
    pending_ += batch.num_rows();
    if (buffer_.size() >= kBufferBytes) MILLRACE_TRY(spill());
    return {};
}

Status DeadLetterTopic::spill() {
    if (buffer_.empty()) return {};
    if (spill_ == nullptr) {
        spill_ = std::tmpfile();
        if (spill_ == nullptr) {
            return Error(ErrorCode::kIo, fmt::format("cannot stage dead letters for `{}`: {}",
                                                     topic_name_, std::strerror(errno)));
        }
    }
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), spill_) != buffer_.size()) {
        return Error(ErrorCode::kIo, fmt::format("cannot stage dead letters for `{}`: {}",
                                                 topic_name_, std::strerror(errno)));
    }
    buffer_.clear();
    return {};
}

void DeadLetterTopic::clear_staged() {
    buffer_.clear();
    if (spill_ != nullptr) {
        std::fclose(spill_);  // an anonymous file: closing it frees it
        spill_ = nullptr;
    }
    pending_ = 0;
}

Status DeadLetterTopic::pre_commit(uint64_t commit_id) {
    MILLRACE_TRY(ids_.check_pre_commit(commit_id));
    skip_commit_ = false;
    prepared_ = pending_ > 0;
    if (pending_ > 0) {
        if (spill_ != nullptr) {
            MILLRACE_TRY(spill());
            if (std::fflush(spill_) != 0) {
                return Error(ErrorCode::kIo, fmt::format("cannot stage dead letters for `{}`: {}",
                                                         topic_name_, std::strerror(errno)));
            }
        }
        if (!topic_) {
            Result<Log*> log = open_log_();
            if (!log.ok() && log.error().code() == ErrorCode::kUnavailable && remote_) {
                through_remote_ = true;
            } else if (!log.ok() && log.error().code() == ErrorCode::kUnavailable) {
                skip_commit_ = true;
                warning_ = fmt::format("dead letters not written to topic `{}`: {}", topic_name_,
                                       log.error().message());
            } else {
                if (!log.ok()) {
                    return std::move(log).error().with_context("dead-letter topic `" + topic_name_ +
                                                               "`");
                }
                MILLRACE_ASSIGN_OR_RETURN(topic_,
                                          log.value()->ensure_topic(topic_name_, TopicConfig{}));
            }
        }
    }
    ids_.pre_committed(commit_id);
    return {};
}

Status DeadLetterTopic::append_chunk(const std::string& chunk) {
    std::vector<RecordInput> records;
    const int64_t timestamp = now_ms();
    std::size_t start = 0;
    while (start < chunk.size()) {
        std::size_t end = chunk.find('\n', start);
        if (end == std::string::npos) end = chunk.size();
        RecordInput record;
        record.value = std::string_view(chunk).substr(start, end - start);
        record.timestamp_ms = timestamp;
        records.push_back(record);
        start = end + 1;
    }
    if (records.empty()) return {};
    if (through_remote_) return remote_(topic_name_, chunk);
    MILLRACE_ASSIGN_OR_RETURN(std::vector<PartitionAppend> appends, topic_->append(records));
    return topic_->wait_durable(appends);
}

Status DeadLetterTopic::append_staged() {
    if (spill_ != nullptr) {
        // Staged envelopes in order: the spill file first, then what is still buffered.
        MILLRACE_TRY(spill());
        std::rewind(spill_);
        std::string chunk;
        std::size_t lines = 0;
        char* line = nullptr;
        std::size_t capacity = 0;
        ssize_t length = 0;
        Status status;
        while (status.ok() && (length = ::getline(&line, &capacity, spill_)) > 0) {
            chunk.append(line, static_cast<std::size_t>(length));
            if (++lines == kAppendRecords || chunk.size() >= kBufferBytes) {
                status = append_chunk(chunk);
                chunk.clear();
                lines = 0;
            }
        }
        std::free(line);
        MILLRACE_TRY(status);
        return append_chunk(chunk);
    }
    std::size_t start = 0;
    while (start < buffer_.size()) {
        // Cut at the line end after kAppendRecords records (or the end).
        std::size_t end = start;
        for (std::size_t n = 0; n < kAppendRecords && end < buffer_.size(); ++n) {
            end = buffer_.find('\n', end);
            end = end == std::string::npos ? buffer_.size() : end + 1;
        }
        MILLRACE_TRY(append_chunk(buffer_.substr(start, end - start)));
        start = end;
    }
    return {};
}

Status DeadLetterTopic::commit(uint64_t commit_id) {
    MILLRACE_ASSIGN_OR_RETURN(bool replay, ids_.check_commit(commit_id));
    if (replay) return {};
    if (!prepared_ && pending_ > 0) {
        // Every envelope came after pre_commit: they wait for the next commit.
        ids_.committed(commit_id);
        return {};
    }
    if (pending_ > 0 && !skip_commit_) {
        Status appended = append_staged();
        if (!appended.ok() && through_remote_) {
            // The sinks are committed: the dead letters stay in the run's file, and the
            // report says why they are not in the topic.
            warning_ = fmt::format("dead letters not written to topic `{}` through the server: {}",
                                   topic_name_, appended.error().message());
        } else {
            MILLRACE_TRY(appended);
            published_ += pending_;
        }
    }
    clear_staged();
    skip_commit_ = false;
    prepared_ = false;
    through_remote_ = false;
    ids_.committed(commit_id);
    return {};
}

void DeadLetterTopic::abort() {
    clear_staged();
    skip_commit_ = false;
    prepared_ = false;
    through_remote_ = false;
    ids_.aborted();
}

}  // namespace millrace
