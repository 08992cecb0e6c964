#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "exec/operator.h"
#include "exec/plan_builder.h"
#include "pipeline/key_groups.h"
#include "sql/logical_plan.h"

namespace millrace {

/// Where a streaming sink plan's key changes: its first keyed operator (a window, session or
/// upserting GROUP BY, reached from the plan's output through projections and filters only)
/// and the columns of that operator's input that decide a row's key group (its group keys
/// without window_start and window_end, which depend on time, not on the key).
struct ExchangePoint {
    const sql::LogicalNode* keyed = nullptr;
    std::vector<std::size_t> key_columns;
};

/// The exchange point of `plan`, or none when the plan runs whole on one thread: it has no
/// keyed operator, something other than a projection or filter sits above it, its input holds
/// another GROUP BY, or a group key is an expression rather than a column.
std::optional<ExchangePoint> find_exchange_point(const sql::LogicalNode& plan);

/// One key group's state at a snapshot: what ExecutablePlan::serialize_state() returned for
/// its copy of the operators above the exchange, or nothing when nothing reached or left that
/// copy, and its state did not change at a watermark (ExecutablePlan::state_changed_since_save),
/// since the stage's previous snapshot (the checkpoint links the previous file). After
/// the stage's first (full) snapshot, a key group that changed gives its changes since the
/// previous snapshot (ExecutablePlan::serialize_state_changes: `changes[i]` set where
/// `states[i]` holds operator i's changes rather than its whole state); `changes` is empty
/// for a whole state.
struct KeyGroupSnapshot {
    uint32_t key_group = 0;
    std::optional<std::vector<std::string>> states;
    std::vector<uint8_t> changes;
};

/// What a stage has done (the /metrics families of docs/metrics.md). Written by the run's
/// thread, read from any.
struct KeyedStageStats {
    std::atomic<uint64_t> records_in{0};           // rows routed into the key groups
    std::atomic<uint64_t> records_out{0};          // rows the key groups emitted towards the sink
    std::atomic<uint64_t> queue_fill{0};           // batches waiting in the fullest subtask queue
    std::atomic<uint64_t> queue_peak{0};           // the most that ever waited in one queue
    std::atomic<uint64_t> backpressure_micros{0};  // the run's thread waiting for queue room
    std::atomic<uint64_t> state_bytes{0};          // the key groups' state at the last snapshot
};

/// The parallel part of a streaming sink plan: the operators above its exchange point, built
/// once per key group (build_plan's `exchange_below`), and `parallelism` subtasks, each owning
/// a contiguous range of key groups (key_groups.h). The stage is the output of the plan below
/// the exchange (the "prefix", which stays on the run's thread): every batch it receives is
/// split by key group and each subtask's rows go to it through a bounded queue, so a subtask
/// that falls behind (or a slow sink, see below) blocks the run's thread, which stops polling
/// the sources (backpressure) and memory stays bounded by the queues.
///
/// Control signals: a watermark, a publish and an early-fire tick go to every key group; since the
/// prefix already merged its inputs (exec/input_aligner.h), each subtask has exactly one upstream
/// channel, the queue, so its input watermark is the prefix's output watermark and a barrier is
/// aligned once it comes out of the queue. A barrier waits until every subtask processed it and
/// snapshotted its key groups (snapshot()). finish() ends every key group, then the output once.
///
/// Output: what the key groups emit, and the rows they dead-letter, travel back to the run's
/// thread through one bounded reply queue and are pushed into `output` (the sink) and the
/// ExecContext's dead-letter route there, so sinks and the dead-letter writer stay
/// single-threaded and commit once per checkpoint as before. At parallelism 1 there are no
/// threads: the one subtask runs on the run's thread and the output order is deterministic;
/// at 2 or more, rows of different subtasks interleave in arrival order.
///
/// Threads: push/finish/on_control/poll/snapshot/restore are called from the run's thread
/// only; each subtask's operators run on its own thread.
class KeyedStage final : public BatchSink {
public:
    struct Options {
        uint32_t parallelism = 1;
        uint32_t max_key_groups = kDefaultMaxKeyGroups;
        /// Batches each subtask's input queue holds (and the reply queue per subtask).
        std::size_t queue_capacity = 8;
        /// What the keyed operators are built with (state_ttl, early firing); its
        /// `exchange_below` is set by the stage.
        PlanOptions plan_options;
    };

    /// Builds one copy of `plan` above `point` per key group, pushing into `output`, with the
    /// subtasks' ExecContexts derived from `context` (its clock, statement time and dead-letter
    /// route; its memory limit split between the subtasks).
    static Result<std::unique_ptr<KeyedStage>> create(const sql::LogicalNode& plan,
                                                      const ExchangePoint& point, BatchSink& output,
                                                      ExecContext& context,
                                                      const std::string& origin, PlanMode mode,
                                                      const Options& options);
    ~KeyedStage() override;
    KeyedStage(const KeyedStage&) = delete;
    KeyedStage& operator=(const KeyedStage&) = delete;

    Status push(Batch batch) override;
    Status finish() override;
    Status on_control(const ControlSignal& signal) override;
    /// Moves what the subtasks emitted so far into the output (the run calls it every poll
    /// round) and reports a subtask's failure.
    Status poll();

    /// The key groups' state for checkpoint `id`: what the subtasks saved when barrier `id`
    /// passed them, or (no such barrier: the stage's input ended) their state now. The first
    /// snapshot of a stage has every key group's state; later ones the changed ones, and the
    /// whole state of a sixteenth of the key groups in turn (so that no key group's changes pile
    /// up, and no snapshot rewrites them all).
    Result<std::vector<KeyGroupSnapshot>> snapshot(uint64_t id);
    /// The next snapshot has every key group's state, changed or not.
    void request_full_snapshot();
    /// Incremental snapshots rewrite a key group's whole state every kRollingRewrite
    /// snapshots, a different share of the key groups each time (snapshot n rewrites the key
    /// groups whose id modulo kRollingRewrite is n modulo it), so the changes laid over a whole
    /// state stay few without a snapshot that rewrites every key group at once (which would
    /// be the pipeline's slowest checkpoint).
    static constexpr uint64_t kRollingRewrite = 16;
    /// Restores one key group's state (`states` as in KeyGroupSnapshot), before any input.
    Status restore(uint32_t key_group, const std::vector<std::string>& states);
    /// Lays a key group's saved changes (KeyGroupSnapshot with `changes`) over what restore()
    /// and earlier changes restored, in the order they were saved.
    Status apply_changes(uint32_t key_group, const std::vector<std::string>& states,
                         const std::vector<uint8_t>& changes);

    uint32_t parallelism() const;
    uint32_t max_key_groups() const;
    std::size_t queue_capacity() const;
    const KeyedStageStats& stats() const;
    /// Bytes of operator state (against the subtasks' memory limits) and keys the key groups
    /// hold now, as of each subtask's last handled message; safe from the run's thread.
    uint64_t state_bytes_now() const;
    uint64_t state_keys_now() const;

private:
    struct Impl;
    explicit KeyedStage(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
