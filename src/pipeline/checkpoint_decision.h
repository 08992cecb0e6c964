#pragma once

#include <optional>

#include "common/result.h"
#include "connectors/checkpoint_decider.h"
#include "pipeline/checkpoint_store.h"

namespace millrace {

/// The checkpoint a restarted streaming run restores: the newest complete one, once settled.
/// With a `decider`, its markers are read first in any case: that fences the dead run's
/// producer and ends the transaction it left open at once.
/// A checkpoint whose metadata says it is `decided_by` an external transaction (the pipeline's
/// Kafka transaction, connectors/kafka_transaction.h) is complete only if that transaction
/// committed with its id as marker: `decider` ends whatever the dead run left open, then
/// answers its committed markers. When none is the checkpoint's id, the dead run's commit
/// never happened (the checkpoint's records were aborted with its transaction), so the
/// checkpoint is removed and the one before it is settled the same way; the other sinks then
/// drop what they staged for the removed one (their recover() of the earlier id), which no
/// sink committed: they commit only after the transaction.
///
/// kConfig when a checkpoint names a transaction `decider` is not (null, or another kind or
/// name: the pipeline's Kafka sinks were removed or reconfigured), since nothing else can
/// tell whether it completed.
Result<std::optional<CheckpointMetadata>> settle_latest_checkpoint(CheckpointStore& checkpoints,
                                                                   CheckpointDecider* decider);

}  // namespace millrace
