#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/sink.h"

namespace millrace {

class Log;
class Topic;

/// The dead-letter topic of a pipeline: one record per rejected input record, its value the
/// JSON envelope the DeadLetterWriter builds (pipeline, source, where it was read, stage,
/// reason, the original bytes or row, time). `millrace dlq count|inspect|replay` reads it.
///
/// Envelopes of the current commit are staged (in memory, spilled to an anonymous temporary
/// file past 1 MiB) and appended to the topic only by commit(id), so a run that fails or is
/// killed before its commit publishes none of its dead letters. The log is opened lazily, on
/// the first commit that has envelopes: most runs have none and need no writer lock. When the
/// log is held by another process, the commit sends the envelopes through that process's HTTP
/// API when it has one (`millrace serve`: set_remote(through_server(data_dir))); otherwise, or
/// when that fails, it leaves them out of the topic and says so in warning() — the run's
/// dead-letter file still holds them.
///
/// At-least-once: a process killed inside commit() may have appended part of the envelopes,
/// and its re-run appends them again. One thread at a time.
class DeadLetterTopic final : public Sink {
public:
    /// Returns the log to append to, opening it for writing if need be; kUnavailable when
    /// another process holds it.
    using LogOpener = std::function<Result<Log*>()>;
    /// Appends newline-separated envelopes to a topic some other way (creating it if need be).
    using RemoteAppender = std::function<Status(const std::string& topic, std::string_view lines)>;

    /// Appends through the ingest API of the process holding `data_dir`'s log (its address is
    /// in the log's writer lock); kUnavailable when the holder has no address.
    static RemoteAppender through_server(std::string data_dir);

    /// `dlq.<pipeline>` (characters a topic name cannot hold become '-').
    static std::string default_topic(std::string_view pipeline);

    static Result<std::unique_ptr<DeadLetterTopic>> create(std::string topic, LogOpener open_log);
    ~DeadLetterTopic() override;
    DeadLetterTopic(const DeadLetterTopic&) = delete;
    DeadLetterTopic& operator=(const DeadLetterTopic&) = delete;

    /// Used when the log is held by another process.
    void set_remote(RemoteAppender remote) { remote_ = std::move(remote); }

    /// Stages one envelope (a JSON object, without a newline) for the next commit.
    void add(std::string_view envelope);

    /// Stages each row as its JSON object (envelopes built by a plan).
    Status write(Batch batch) override;
    Status pre_commit(uint64_t commit_id) override;
    Status commit(uint64_t commit_id) override;
    void abort() override;
    uint64_t rows_written() const override { return published_ + pending_; }
    /// Envelopes added after pre_commit(id) are published by commit(id) when it publishes any
    /// (at-least-once, as a replay is), else kept for the next commit.
    bool overlaps_commits() const override { return true; }
    DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kAtLeastOnce; }

    const std::string& topic() const { return topic_name_; }
    /// Envelopes appended to the topic by the commits so far.
    uint64_t published() const { return published_; }
    /// Why a commit left envelopes out of the topic; empty when none did.
    const std::string& warning() const { return warning_; }

    DeadLetterTopic(std::string topic, LogOpener open_log);

private:
    Status spill();
    Status append_chunk(const std::string& chunk);
    Status append_staged();
    void clear_staged();

    std::string topic_name_;
    LogOpener open_log_;
    RemoteAppender remote_;
    bool through_remote_ = false;  // this commit goes through remote_
    std::shared_ptr<Topic> topic_;
    std::string buffer_;          // staged envelopes, newline-terminated
    std::FILE* spill_ = nullptr;  // staged envelopes past the buffer's bound
    uint64_t pending_ = 0;        // envelopes staged since the last commit
    uint64_t published_ = 0;
    bool skip_commit_ = false;  // pre_commit found the log held elsewhere
    bool prepared_ = false;     // pre_commit had envelopes, so the topic (or remote_) is open
    std::string warning_;
    CommitIds ids_;
};

}  // namespace millrace
