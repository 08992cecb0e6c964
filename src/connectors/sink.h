#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "exec/operator.h"
#include "types/batch.h"

namespace millrace {

/// What a sink promises about the rows of a commit when a run fails, is killed or is replayed.
enum class DeliveryGuarantee {
    /// Nothing is visible before commit(id); after it, all of the commit's rows are, once. A
    /// sink destroyed or aborted before commit leaves its target as it was.
    kTransactional,
    /// Rows may become visible before commit, but writing the same rows again leaves the
    /// target as one write would (upserts keyed by entity and event time).
    kIdempotent,
    /// Rows may become visible before commit and a replay may write them again.
    kAtLeastOnce,
};

std::string_view delivery_guarantee_name(DeliveryGuarantee guarantee);

/// The contract every pipeline output implements: the lake writer's two-phase protocol.
///
///   write(batch)*      rows of the current commit
///   pre_commit(id)     make them durable but not yet visible (a transactional sink); after it
///                      returns, the commit can no longer fail for want of data
///   commit(id)         make them visible. Calling it again with the id of the last commit is a
///                      no-op (a replay after a restore)
///   abort()            drop whatever was written or pre-committed and not committed
///
/// Destroying a sink without commit() is an abort (a failed or killed run). Commit ids grow
/// and come from a counter persisted with the pipeline (see pipeline/commit_counter.h), never
/// from a clock. One thread at a time.
class Sink {
public:
    virtual ~Sink() = default;

    virtual Status write(Batch batch) = 0;
    virtual Status pre_commit(uint64_t commit_id) = 0;
    virtual Status commit(uint64_t commit_id) = 0;
    virtual void abort() = 0;
    /// A restarted streaming run's first call, before any write: `committed` is the commit id
    /// of the checkpoint the run restores (0: none). A sink that stages across a crash
    /// commits it if the dead run pre-committed it and did not finish committing it (roll
    /// forward: the checkpoint was complete) and drops whatever else it staged (commits no
    /// checkpoint completed). Afterwards commit(`committed`) is a no-op. Default: nothing
    /// survives a crash, so there is nothing to do.
    virtual Status recover(uint64_t committed) {
        (void)committed;
        return {};
    }

    /// Whether write() may be called between pre_commit(id) and commit(id), its rows going to
    /// a later commit (an idempotent sink: harmlessly to this one). A streaming run whose sinks
    /// all do completes each checkpoint on a thread of its own while its records go on
    /// (asynchronous checkpoints, docs/streaming.md); otherwise it waits for the commit.
    virtual bool overlaps_commits() const { return false; }

    /// Rows handed to write() so far.
    virtual uint64_t rows_written() const = 0;
    virtual DeliveryGuarantee guarantee() const = 0;
};

/// The end of a plan feeding a Sink: push() writes, finish() does nothing, because the run
/// commits every sink together once all of its plans have finished.
class SinkInput final : public BatchSink {
public:
    explicit SinkInput(Sink& sink) : sink_(sink) {}
    Status push(Batch batch) override { return sink_.write(std::move(batch)); }
    Status finish() override { return {}; }

private:
    Sink& sink_;
};

/// Shared bookkeeping of the commit ids a sink has seen, so each implementation answers
/// out-of-order calls the same way.
class CommitIds {
public:
    /// kInvalidArgument unless `id` is newer than the last commit.
    Status check_pre_commit(uint64_t id) const;
    /// True when `id` is the last commit (a replay: do nothing); kInvalidArgument when `id` was
    /// not pre-committed.
    Result<bool> check_commit(uint64_t id) const;
    void pre_committed(uint64_t id) { pre_committed_ = id; }
    void committed(uint64_t id) {
        committed_ = id;
        pre_committed_ = 0;
    }
    void aborted() { pre_committed_ = 0; }
    uint64_t last_committed() const { return committed_; }

private:
    uint64_t pre_committed_ = 0;  // 0: none
    uint64_t committed_ = 0;      // 0: none
};

}  // namespace millrace
