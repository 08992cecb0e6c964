#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace millrace {

/// A transaction outside Millrace whose commit, not the checkpoint's metadata file, decides
/// whether a streaming checkpoint is complete: the "last resource" of a two-phase commit
/// (docs/streaming.md, "Kafka sinks: the last resource"). It is the one output that cannot
/// stage across a crash (a Kafka transaction left open by a dead producer is aborted by the next
/// one), so it commits last of the preparation and first of the commits, and carries the
/// checkpoint's id inside the transaction as a marker that a restarted run reads back:
///
///   other sinks pre_commit(id) -> _metadata `decided_by <kind> <name>` -> commit(id) here
///   (records + marker id, atomically) -> other sinks commit(id)
///
/// On restart, a newest checkpoint decided by it is complete exactly when its id is among
/// committed_markers(): ids only grow and each is committed at most once, so a marker equal to
/// it can only come from its own commit. One thread.
class CheckpointDecider {
public:
    virtual ~CheckpointDecider() = default;

    /// What `_metadata` names it by: a kind ("kafka") and a name (the transactional.id).
    virtual std::string kind() const = 0;
    virtual std::string name() const = 0;
    /// Whether the checkpoint being taken holds records of it (an open transaction), so that
    /// its commit decides the checkpoint; without any, the metadata decides as usual.
    virtual bool deciding() const = 0;
    /// Commits the open transaction with marker `id`; a no-op when nothing is open or `id` was
    /// committed already. On failure the outcome is unknown until committed_markers() says.
    virtual Status commit(uint64_t id) = 0;
    /// Ends whatever a dead run left open (a Kafka producer with the same transactional.id
    /// aborts it, or finishes one whose commit was decided), then answers the markers its
    /// committed transactions left, one per place a marker is kept (empty: none committed).
    virtual Result<std::vector<uint64_t>> committed_markers() = 0;
};

}  // namespace millrace
