#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "pipeline/checkpoint_store.h"
#include "project/project.h"
#include "sql/logical_plan.h"

namespace millrace {

class ExecutablePlan;

/// What the operator state of one sink's plan is, derived from the view it implements: where
/// it belongs (`name`: the view and the sink's target, as the sink's staging folder is named),
/// what it was built from (a fingerprint of the optimized plan below and including its stateful
/// operators) and how its bytes are laid out (the stateful operators' kinds, key and value
/// types). A checkpoint saves the state under `identity`:
///
///   <view>-><target>@<plan fingerprint>.<layout fingerprint>      16 hex digits each
///
/// so an edit of the view's SQL, of a view it reads, or of a source's schema gives the state a
/// new identity, while adding a column computed above the last stateful operator (a column of
/// the sink) or another sink leaves it as it was.
struct SinkStateShape {
    std::string view;      // the sink's `from`
    std::string target;    // sink_target()
    std::string name;      // "<view>-><target>"
    std::string identity;  // name@plan.layout
    /// The stateful operators, one per line ("window aggregate keys (city string, window_end
    /// timestamp) values (count() int64)"); empty for a plan without state.
    std::string layout;
    bool upserting = false;  // an unwindowed GROUP BY feeding an online or keyed sink
    bool stateful() const { return !layout.empty(); }
};

/// Whether `plan` has a GROUP BY without a window (an upserting aggregate in a streaming run).
bool has_unwindowed_aggregate(const sql::LogicalNode& plan);

/// The shape of a sink's plan in a streaming run.
SinkStateShape sink_state_shape(const sql::LogicalNode& plan, const SinkSpec& sink);

/// What becomes of one piece of state when a changed project starts from a checkpoint.
enum class StateFate {
    kKept,       // restored: same identity
    kDropped,    // in the checkpoint, not restored (see DropReason)
    kNew,        // no state saved for it: starts empty
    kStateless,  // the plan holds no state
};

enum class DropReason {
    kViewRemoved,    // no sink reads the view any more, and the view is gone
    kSinkRemoved,    // the view is still there, the sink that wrote it is not
    kSqlChanged,     // same sink, same state layout, but the plan it was built from changed
    kLayoutChanged,  // same sink, but its stateful operators' keys or aggregates changed
};

std::string_view enum_name(StateFate fate);
std::string_view enum_name(DropReason reason);

struct StateDecision {
    std::string view;
    std::string target;
    StateFate fate = StateFate::kNew;
    std::optional<DropReason> reason;  // kDropped only
    std::string explanation;           // one sentence for people
    std::optional<std::size_t> sink;   // index of the new pipeline's sink, if any
    std::string saved_identity;        // the checkpoint's identity (kept, dropped)
    std::string saved_file;            // the checkpoint's state file (kept, dropped)
    std::optional<uint64_t> bytes;     // of the saved state, when its file could be sized
};

/// Which state of a checkpoint a pipeline's current sinks keep, drop and start empty, and
/// why (`millrace pipeline plan`; every streaming run applies the same plan when it restores).
struct StatePlan {
    std::string pipeline;
    std::optional<uint64_t> checkpoint;  // the checkpoint or savepoint id; none: nothing saved
    std::string folder;                  // where it is
    bool from_savepoint = false;
    bool final = false;  // the stop of a run: windows were emitted, only upserting state saved
    std::vector<StateDecision> decisions;
    /// Source positions the checkpoint holds that the pipeline no longer reads, and sources the
    /// checkpoint does not know (they start from their `start_from`).
    std::vector<std::string> sources_removed;
    std::vector<std::string> sources_new;

    /// Whether some saved state would not be restored: an incompatible change, refused
    /// unless the caller allows the drop.
    bool drops_state() const;
    /// The decision for sink `index` of the pipeline, if any.
    const StateDecision* for_sink(std::size_t index) const;
    /// The plan as people read it, one line per state.
    std::string to_text() const;
    /// The plan as one JSON object (`pipeline plan --json`, format in docs/streaming.md).
    std::string to_json(bool allowed) const;
    /// Why a run refuses to start: the dropped states and how to go on anyway.
    std::string refusal() const;
};

/// Compares the state of `saved` (a checkpoint's or savepoint's metadata, in `folder`; null
/// when there is none) with the pipeline's current sinks, in pipeline order.
StatePlan plan_state(const PipelineSpec& pipeline, const std::vector<SinkStateShape>& sinks,
                     const CheckpointMetadata* saved, const std::string& folder);

/// `millrace pipeline plan`: plans every sink of `pipeline` (as a run would, without opening
/// its outputs) and compares them with the savepoint in `from_savepoint`, else with the
/// latest complete checkpoint. Reads only: it never removes an incomplete checkpoint that a
/// running pipeline may be writing.
Result<StatePlan> plan_pipeline_state(const Project& project, const PipelineSpec& pipeline,
                                      const std::optional<std::string>& from_savepoint);

/// Fits the per-operator state saved for a plan (ExecutablePlan::serialize_state) to `plan`,
/// a plan with the same stateful operators in the same order whose stateless operators may
/// differ (a column added to a projection may add or remove one): the saved stateful
/// entries go to `plan`'s stateful operators in order. kCorruption when the stateful
/// operators do not pair up by kind. Call before any input.
Result<std::vector<std::string>> fit_operator_states(const std::vector<std::string>& saved,
                                                     const ExecutablePlan& plan);

}  // namespace millrace
