#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace millrace {

/// Where a scan of the plan takes its input: the runner reads `source` (only `columns`, indexes
/// into the source's schema, in that order) and pushes Batches of `schema` into `entry`, then
/// finishes it. Scans are listed in the order they must run: a join's build side before its
/// probe side.
struct ScanInput {
    std::string source;  // "" for the single-row input of SELECT without FROM
    std::vector<std::size_t> columns;
    std::shared_ptr<const Schema> schema;
    BatchSink* entry = nullptr;
    /// The build side of a hash join (a lookup join), reached through filters and projections
    /// only: the input may be read again, whole, after it finished, and the join swaps to the
    /// new rows when it finishes again (HashJoinOperator, "Reloading the build side").
    bool reloadable_build = false;
};

/// Which runtime the operators are built for. kStreaming runs over unbounded input: a GROUP BY
/// that includes window_end becomes a WindowAggregateOperator (windows emitted as the watermark
/// passes them); operators that could only answer at the end of input (an unwindowed GROUP BY,
/// ORDER BY, LIMIT) are refused with kUnsupported. kStreamingUpsert is kStreaming for a sink
/// that takes updates by key (online store, keyed topic): a GROUP BY without window_end at the
/// top of the plan (only projections above it) becomes an upserting HashAggregateOperator that
/// emits the groups changed since its last emit at each barrier and at the end.
enum class PlanMode { kBatch, kStreaming, kStreamingUpsert };

/// What a streaming plan needs to know about its sources beyond the SQL.
struct PlanOptions {
    /// Sources read unbounded (topics, watched folders, generators). A join whose right side
    /// reads one is a stream-stream join (StreamJoinOperator); one whose right side reads only
    /// bounded files is a lookup join (HashJoinOperator, the files read first).
    std::set<std::string> unbounded_sources;
    /// Each source's event-time column: the columns the watermark bounds, besides window_end.
    std::map<std::string, std::string> event_time;
    /// `state_ttl`: how far past the watermark a stream join keeps a row without a time bound,
    /// and an upserting aggregate a group no row updated (HashAggregateOperator::set_state_ttl).
    std::optional<int64_t> state_ttl_micros;
    /// A sink's `emit: { every: ... }`: window and session aggregates emit their open windows'
    /// changed groups on each ControlSignal::kEarlyFire.
    bool emit_early = false;
    /// See build_plan.
    const sql::LogicalNode* exchange_below = nullptr;
};

/// The index of the window_end column among an Aggregate node's group keys (a column named
/// window_end, as tumble() and hop() add), if there is one.
std::optional<std::size_t> window_end_key(const sql::LogicalNode& aggregate);

/// A logical plan turned into connected operators, ending in a caller's sink.
class ExecutablePlan {
public:
    const std::vector<ScanInput>& inputs() const { return inputs_; }
    /// Runs the inputs without a reader: pushes `batches[i]` into input i (tests, `SELECT`
    /// over in-memory data).
    Status run_with(const std::vector<std::vector<Batch>>& batches);

    /// The state of every operator, one entry per operator in build order (empty for stateless
    /// ones): what a checkpoint saves once a barrier has passed the whole plan.
    Result<std::vector<std::string>> serialize_state() const;
    /// Restores what serialize_state() returned for a plan built from the same logical plan,
    /// before any input; ErrorCode::kCorruption when it does not fit this plan.
    Status restore_state(const std::vector<std::string>& states);
    /// Folds in what serialize_state() of another plan built from the same logical plan
    /// returned (Operator::merge_state), e.g. the partial aggregates of a parallel subtask.
    /// kUnsupported when an operator with state cannot merge (sort, join, top-N).
    Status merge_state(const std::vector<std::string>& states);
    /// Keys the operators' state holds now (Operator::state_keys), summed.
    std::size_t state_keys() const;

    /// Incremental checkpoints (Operator::serialize_state_changes): the caller saved
    /// serialize_state(); from now on the operators note what changes.
    void mark_state_saved();
    /// Per operator in build order: its changes since the last save (`changes[i]` set) or,
    /// for an operator that cannot tell, its whole state, as serialize_state() gives it.
    struct StateChanges {
        std::vector<std::string> states;
        std::vector<uint8_t> changes;
    };
    Result<StateChanges> serialize_state_changes();
    /// Lays what serialize_state_changes() returned over the restored state.
    Status apply_state_changes(const StateChanges& changes);
    /// Whether an operator's state changed since the last save without rows reaching it
    /// (Operator::state_changed_since_save).
    bool state_changed_since_save() const;

private:
    friend Result<std::unique_ptr<ExecutablePlan>> build_plan(const sql::LogicalNode&, BatchSink&,
                                                              ExecContext&, const std::string&,
                                                              PlanMode, const PlanOptions&);
    std::vector<std::unique_ptr<Operator>> operators_;
    std::vector<ScanInput> inputs_;
};

/// Folds every expression of `plan` (filters pushed into scans included): column-free
/// subexpressions become constants and now()/current_date the statement time
/// `statement_time_micros`. A run does this once, before it reads scan filters for pruning
/// (a lake scan skips files only on `column <op> constant`), so that the plan's operators, the
/// pruning and the checks of a run all see one instant.
void fold_plan_constants(sql::LogicalNode& plan, int64_t statement_time_micros);

/// The `source` of the ScanInput that stands for the node below a plan's exchange (build_plan's
/// `exchange_below`): a name no pipeline source can have.
inline constexpr std::string_view kExchangeSource = "<exchange>";

/// Builds the operators of `plan` (constant folding included) pushing into `output`. `origin`
/// names the plan in dead-letter records (the view or sink).
///
/// `options.exchange_below`: a node of `plan` (by address) whose operator is built but whose
/// input subtree is not; instead the plan gets a ScanInput with source kExchangeSource and the
/// schema of that node's child, fed by the caller (the streaming runtime builds the subtree
/// once, as its own plan, and one copy of the part above it per key group).
Result<std::unique_ptr<ExecutablePlan>> build_plan(const sql::LogicalNode& plan, BatchSink& output,
                                                   ExecContext& context, const std::string& origin,
                                                   PlanMode mode = PlanMode::kBatch,
                                                   const PlanOptions& options = {});

}  // namespace millrace
