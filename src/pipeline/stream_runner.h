#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "exec/plan_builder.h"
#include "pipeline/batch_runner.h"
#include "project/project.h"

namespace millrace {

class MetricsRegistry;

namespace sql {
struct LogicalNode;
}

class Log;
class OnlineStore;

/// What a process that already holds the project's stores lends a run (`millrace serve`): its
/// log (so records ingested over HTTP are seen as they are appended) and its online store.
/// Null: the run opens its own.
struct SharedServices {
    Log* log = nullptr;
    OnlineStore* online = nullptr;
    /// The server's metrics: the run's record accounting after every commit (PipelineMetrics).
    MetricsRegistry* metrics = nullptr;
};

/// What a running streaming pipeline has done so far, published by the runner after every poll
/// and commit for others to read while it runs (`/v1/pipelines`). Counts are since the run
/// started. Threads: written by the run's thread, read from any thread.
struct StreamProgress {
    std::atomic<uint64_t> records_in{0};         // records read (rows read + rejected)
    std::atomic<uint64_t> records_out{0};        // rows the sinks took
    std::atomic<uint64_t> dead_lettered{0};      // dead letters, late ones included
    std::atomic<uint64_t> late{0};               // records later than the watermark
    std::atomic<uint64_t> filtered{0};           // rows dropped by checks
    std::atomic<uint64_t> commits{0};            // sink commits
    std::atomic<int64_t> last_commit_micros{0};  // wall clock of the last commit; 0 = none
    /// The lowest watermark of the unbounded sources; INT64_MIN = none yet.
    std::atomic<int64_t> watermark_micros{INT64_MIN};
    /// Operator state held now (bytes against the state limit, and keys) and the limit.
    std::atomic<uint64_t> state_bytes{0};
    std::atomic<uint64_t> state_keys{0};
    std::atomic<uint64_t> state_limit_bytes{0};
};

struct StreamOptions {
    /// Bytes the run's buffering operators (open windows, aggregate groups, join build sides)
    /// may hold together: its state limit. Nullopt: the pipeline's `state_limit`, else 4 GiB.
    std::optional<std::size_t> memory_limit_bytes;
    /// Stop once this much time has passed (`--duration 30s`).
    std::optional<std::chrono::milliseconds> duration;
    /// Stop once no source has delivered a record for `idle_for` (`--until-idle`).
    bool until_idle = false;
    std::chrono::milliseconds idle_for{2000};
    /// How often the sinks that can commit more than once (lake, topic, online) commit what
    /// the closed windows produced; file sinks and the dead-letter file commit once, at the end.
    /// Default: the pipeline's checkpoint_interval, else 10 s.
    std::optional<std::chrono::milliseconds> commit_interval;
    /// Complete checkpoints kept in `<data_dir>/checkpoints/<pipeline>/` (the newest ones).
    std::size_t checkpoints_retained = 3;
    /// Stop with a savepoint: at the stop the input does not end (open windows stay open);
    /// a checkpoint is taken and copied to this folder.
    std::optional<std::string> savepoint_to;
    /// Start from the savepoint (or checkpoint folder) here instead of the latest checkpoint.
    std::optional<std::string> from_savepoint;
    /// Start even when the checkpoint holds state the current views cannot use (a view edited
    /// or removed, pipeline/state_plan.h): that state is dropped. Without it such a start fails
    /// with ErrorCode::kConfig and the plan's explanation.
    bool allow_state_drop = false;
    /// Batches each parallel subtask's input queue holds (KeyedStage::Options); default 8.
    std::optional<std::size_t> queue_capacity;
    /// Test hook: every batch a keyed stage hands its sink waits this long first (a slow sink,
    /// to show backpressure). Also set by MILLRACE_TEST_SINK_DELAY_MS.
    std::chrono::milliseconds test_sink_delay{0};
    SharedServices shared;
    /// Asked between polls; true stops the run as `duration` would (a signal, a server stop).
    std::function<bool()> should_stop;
    /// When set, the run publishes its counts here as it goes; must outlive the run.
    StreamProgress* progress = nullptr;
};

/// What one keyed stage (pipeline/keyed_stage.h) of a streaming run did.
struct StageReport {
    std::string sink;  // the view the sink reads
    uint32_t parallelism = 1;
    uint32_t key_groups = 0;
    uint64_t records_in = 0;
    uint64_t records_out = 0;
    uint64_t queue_peak = 0;      // the most batches that waited in one subtask's queue
    uint64_t queue_capacity = 0;  // what one queue holds
    uint64_t backpressure_micros = 0;
    uint64_t state_bytes = 0;
};

/// What a streaming run did: the batch report's counts (records = rows read + rejected per
/// source; late records are in rows_late and in the dead letters with reason `late`) and the
/// sink commits it made.
struct StreamReport {
    RunReport run;
    uint64_t commits = 0;
    uint64_t watermarks = 0;   // watermark advances sent into the plans
    uint64_t checkpoints = 0;  // checkpoints completed (a first run also takes one at start)
    /// The checkpoint the run went on from, if any.
    std::optional<uint64_t> restored_checkpoint;
    /// With savepoint_to: the checkpoint copied there.
    std::optional<uint64_t> savepoint;
    /// The most operator state the run held at once (bytes against its state limit, and keys,
    /// sampled after every poll) and the limit.
    uint64_t state_peak_bytes = 0;
    uint64_t state_keys_peak = 0;
    uint64_t state_keys_end = 0;  // keys held at the last sample (the stop's checkpoint)
    uint64_t state_limit_bytes = 0;
    /// The last checkpoint: from its barrier to its commit, and the operator state it wrote.
    std::chrono::microseconds last_checkpoint_duration{0};
    uint64_t last_checkpoint_state_bytes = 0;
    /// Over every checkpoint of the run: the longest (barrier to commit), the operator state
    /// written in all and the most one wrote.
    std::chrono::microseconds longest_checkpoint_duration{0};
    /// How long the run's thread stopped reading for a checkpoint (the last one, the longest):
    /// the barrier, serializing the state and pre-committing the sinks, and with a sink that
    /// cannot take rows before the commit, the whole checkpoint.
    std::chrono::microseconds last_checkpoint_pause{0};
    std::chrono::microseconds longest_checkpoint_pause{0};
    uint64_t checkpoint_state_bytes = 0;
    uint64_t largest_checkpoint_state_bytes = 0;
    /// With allow_state_drop: the states dropped, "<view> -> <target>: <why>".
    std::vector<std::string> dropped_state;
    /// Key-group state files linked from the previous checkpoint instead of written.
    uint64_t linked_state_files = 0;
    /// Times a `reload: true` file source was read again because its files changed.
    uint64_t lookup_reloads = 0;
    /// Early-fire ticks sent into the plans of sinks with `emit: { every: ... }`.
    uint64_t early_fires = 0;
    std::vector<StageReport> stages;
};

/// Runs a `mode: streaming` pipeline (docs/streaming.md): file sources are read first, whole
/// (lookup tables, the build sides of joins); topic sources are read unbounded from the
/// pipeline's committed offsets, with per-partition watermarks on the source's event_time
/// (processing time without one), and records later than the watermark go to the dead letters
/// with reason `late`. Windowed aggregates emit each window once the watermark passes its end.
/// Every `commit_interval` the run takes a checkpoint (pipeline/checkpoint_store.h): operator
/// state, topic offsets and watermarks, the dead-letter file's length, and a two-phase commit
/// of the lake, topic and online sinks tied to it. A run starts from the newest complete
/// checkpoint, first rolling its sink commits forward and dropping what was staged after it,
/// so a run killed at any moment and restarted leaves every sink as an uninterrupted run
/// would (docs/streaming.md, "Checkpoints and exactly-once"). When the run stops (duration,
/// idle, should_stop) the input ends: every open window is emitted and a last checkpoint
/// commits everything.
Result<StreamReport> run_streaming_pipeline(const Project& project, const PipelineSpec& pipeline,
                                            const StreamOptions& options);

/// What a streaming plan of `pipeline` is built with: which sources are unbounded (a join whose
/// right side reads one is a stream join), their event-time columns, the `state_ttl`.
PlanOptions streaming_plan_options(const PipelineSpec& pipeline);

/// Whether `sink` takes updates by key (the online store: a feature view's entity key), so a
/// streaming GROUP BY without window_end may feed it as an upserting aggregate. Files and lake
/// tables only append.
bool sink_takes_upserts(const SinkSpec& sink);

/// Whether `sink` may take a window's early results (`emit: { every: ... }`): a sink that
/// replaces a row by its key, so the window's final row replaces its early ones: what
/// sink_takes_upserts() accepts, and a lake table with `mode: upsert`.
bool sink_takes_early_results(const SinkSpec& sink);

/// What a streaming sink plan may not contain, whatever the data: operators that answer only at
/// the end of input (ORDER BY, LIMIT, and a GROUP BY without window_end unless `sink` takes
/// upserts) and joins of two streams whose condition bounds neither side in time, unless the
/// pipeline sets `state_ttl` (their state would grow forever); and `emit:` on a sink that cannot
/// take early results or whose plan has no windowed GROUP BY (at the `emit:` value).
/// Errors name the sink's `from`.
Status check_streaming_plan(const sql::LogicalNode& plan, const PipelineSpec& pipeline,
                            const SinkSpec& sink);

}  // namespace millrace
