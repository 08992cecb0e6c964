#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/sink.h"

namespace millrace {

class Log;
class Topic;

/// Writes a plan's rows to a log topic, one JSON object per record (the format the ingestion
/// server stores, so a topic source or `millrace topic consume` reads them back). Each written
/// Batch becomes one append (one RecordBatch per partition); pre_commit() waits until everything
/// is durable under the topic's fsync policy. A missing topic is created with default settings.
/// Optional `key_column` sets each record's key (partitioning).
///
/// At-least-once by default: appended records are visible to readers at once, abort() cannot
/// take them back, and a re-run appends them again.
///
/// Transactional once stage_in() named a folder (a streaming run's checkpoints): write() only
/// buffers, so readers never see a record before its commit; pre_commit(id) writes the buffered
/// records to `<folder>/<id>.records` (durably); commit(id) appends them, syncs the partitions
/// and removes the file. A commit with no records writes no file. Exactly once across crashes,
/// because the append is checked before it is made:
///
///   <id>.records   "millrace-topic-commit 2\n", u32 partition count, then each partition's
///                  end offset when the commit was pre-committed (i64; the sink appends only
///                  in commit(), so the commit's records are at or after it), u64 count, then
///                  per record i32 partition (keyed: the key's partition; unkeyed: round robin
///                  per record), i64 timestamp_ms, u8 has_key, u32 + key, u32 + value
///                  (little-endian)
///
/// A commit(id) replayed after a crash (recover()) reads each partition from those offsets and
/// appends only the records of the commit not found there in order, so an append the dead run
/// made is not made again, and a file whose removal a crash undid costs a scan, not a
/// duplicate. This relies on no other writer appending records byte-equal to the commit's to
/// the same partition in between; a pipeline's output topic should be its own. (Files staged
/// by older versions, "millrace-topic-commit 1" with `<id>.intent` and `<id>.done` beside them,
/// are still replayed.)
class TopicSink final : public Sink {
public:
    static Result<std::unique_ptr<TopicSink>> create(Log& log, const std::string& topic,
                                                     std::string key_column, const Schema& schema);
    /// Makes the sink transactional (see above), staging in `folder` (created if missing).
    Status stage_in(std::string folder);
    Status write(Batch batch) override;
    Status pre_commit(uint64_t commit_id) override;
    Status commit(uint64_t commit_id) override;
    /// Staged: drops the buffered and pre-committed records. Otherwise forgets the appends not
    /// yet waited for; they stay in the topic.
    void abort() override;
    /// Staged: finishes commit `committed` if a dead run pre-committed it and did not finish
    /// appending it, and drops every other staged commit.
    Status recover(uint64_t committed) override;
    uint64_t rows_written() const override { return rows_; }
    /// Rows written after pre_commit(id) are staged (or appended) for the next commit.
    bool overlaps_commits() const override { return true; }
    DeliveryGuarantee guarantee() const override {
        return staging_.empty() ? DeliveryGuarantee::kAtLeastOnce
                                : DeliveryGuarantee::kTransactional;
    }

private:
    struct StagedRecord {
        int32_t partition = 0;
        int64_t timestamp_ms = 0;
        std::optional<std::string> key;
        std::string value;
    };
    /// Appends the records of `<commit_id>.records` not yet in the topic, syncs them and
    /// removes the file.
    Status append_staged(uint64_t commit_id);
    std::string staged_path(uint64_t commit_id, std::string_view suffix) const;
    /// Removes every file of the staging folder (a finished commit, stale ones).
    void remove_staged() const;

    std::string staging_;
    std::vector<StagedRecord> staged_;
    uint64_t unkeyed_ = 0;
    std::shared_ptr<Topic> topic_;
    std::optional<std::size_t> key_index_;
    std::string buffer_;
    uint64_t rows_ = 0;
    struct Pending;
    std::shared_ptr<Pending> pending_;
    CommitIds ids_;
};

}  // namespace millrace
