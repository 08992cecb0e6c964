#include "pipeline/checkpoint_decision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace millrace {

namespace {

/// Whether checkpoint `id`, decided by `decision`, completed: its transaction committed with
/// `id` as marker. `markers` are read from `decider` once, on first use.
Result<bool> committed(uint64_t id, const CheckpointDecision& decision, const std::string& folder,
                       CheckpointDecider* decider, std::optional<std::vector<uint64_t>>& markers) {
    if (decider == nullptr || decider->kind() != decision.kind ||
        decider->name() != decision.name) {
        return Error(ErrorCode::kConfig,
                     fmt::format("checkpoint {} in {} is complete only if the {} transaction `{}` "
                                 "committed it, and this pipeline {}; restore the pipeline's kafka "
                                 "sinks as they were (brokers, properties) so the run can ask, or "
                                 "remove the checkpoint's folder to restore the one before it (its "
                                 "records may then be written twice)",
                                 id, folder, decision.kind, decision.name,
                                 decider == nullptr
                                     ? std::string("no longer writes through one")
                                     : fmt::format("now writes through `{}`", decider->name())));
    }
    if (!markers) {
        MILLRACE_ASSIGN_OR_RETURN(std::vector<uint64_t> committed, decider->committed_markers());
        markers = std::move(committed);
    }
    if (std::find(markers->begin(), markers->end(), id) != markers->end()) return true;
    std::fprintf(stderr,
                 "checkpoint %llu was not committed by %s transaction `%s` (its last commit was "
                 "checkpoint %s): dropped, restoring the one before it\n",
                 static_cast<unsigned long long>(id), decision.kind.c_str(), decision.name.c_str(),
                 markers->empty()
                     ? "none"
                     : std::to_string(*std::max_element(markers->begin(), markers->end())).c_str());
    return false;
}

}  // namespace

Result<std::optional<CheckpointMetadata>> settle_latest_checkpoint(CheckpointStore& checkpoints,
                                                                   CheckpointDecider* decider) {
    std::optional<std::vector<uint64_t>> markers;  // read once
    // At once, whatever the newest checkpoint: reading fences the dead run's producer and ends
    // the transaction it left open, which would otherwise hold read_committed consumers back
    // until the brokers time it out.
    if (decider != nullptr) {
        MILLRACE_ASSIGN_OR_RETURN(std::vector<uint64_t> committed, decider->committed_markers());
        markers = std::move(committed);
    }
    while (true) {
        MILLRACE_ASSIGN_OR_RETURN(std::optional<CheckpointMetadata> newest, checkpoints.latest());
        if (!newest || newest->decided_by.empty()) return newest;
        MILLRACE_ASSIGN_OR_RETURN(const bool complete,
                                  committed(newest->id, newest->decided_by,
                                            checkpoints.folder(newest->id), decider, markers));
        if (complete) return newest;
        // Its transaction never committed (init_transactions aborted it): the checkpoint did
        // not complete.
        MILLRACE_TRY(checkpoints.remove(newest->id));
    }
}

}  // namespace millrace
