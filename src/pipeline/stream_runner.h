#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/result.h"
#include "pipeline/batch_runner.h"
#include "project/project.h"

namespace millrace {

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
};

struct StreamOptions {
    /// Bytes the run's buffering operators (open windows, join build sides) may hold together.
    std::size_t memory_limit_bytes = std::size_t{4} << 30;
    /// Stop once this much time has passed (`--duration 30s`).
    std::optional<std::chrono::milliseconds> duration;
    /// Stop once no source has delivered a record for `idle_for` (`--until-idle`).
    bool until_idle = false;
    std::chrono::milliseconds idle_for{2000};
    /// How often the sinks that can commit more than once (lake, topic, online) commit what
    /// the closed windows produced; file sinks and the dead-letter file commit once, at the end.
    /// Default: the pipeline's checkpoint_interval, else 10 s.
    std::optional<std::chrono::milliseconds> commit_interval;
    SharedServices shared;
    /// Asked between polls; true stops the run as `duration` would (a signal, a server stop).
    std::function<bool()> should_stop;
    /// When set, the run publishes its counts here as it goes; must outlive the run.
    StreamProgress* progress = nullptr;
};

/// What a streaming run did: the batch report's counts (records = rows read + rejected per
/// source; late records are in rows_late and in the dead letters with reason `late`) and the
/// sink commits it made.
struct StreamReport {
    RunReport run;
    uint64_t commits = 0;
    uint64_t watermarks = 0;  // watermark advances sent into the plans
};

/// Runs a `mode: streaming` pipeline (docs/streaming.md): file sources are read first, whole
/// (lookup tables, the build sides of joins); topic sources are read unbounded from the
/// pipeline's committed offsets, with per-partition watermarks on the source's event_time
/// (processing time without one), and records later than the watermark go to the dead letters
/// with reason `late`. Windowed aggregates emit each window once the watermark passes its end.
/// Lake, topic and online sinks commit every `commit_interval`; when the run stops (duration,
/// idle, should_stop) the input ends: every open window is emitted, every sink commits, and the
/// topic sources' offsets are committed for the next run to start from.
Result<StreamReport> run_streaming_pipeline(const Project& project, const PipelineSpec& pipeline,
                                            const StreamOptions& options);

/// Whether `sink` takes updates by key (the online store: a feature view's entity key), so a
/// streaming GROUP BY without window_end may feed it as an upserting aggregate. Files and lake
/// tables only append.
bool sink_takes_upserts(const SinkSpec& sink);

/// What a streaming sink plan may not contain, whatever the data: operators that answer only at
/// the end of input (ORDER BY, LIMIT, and a GROUP BY without window_end unless `sink` takes
/// upserts) and joins whose build (right) side reads a topic (it would never finish building).
/// Errors name the sink's `from`.
Status check_streaming_plan(const sql::LogicalNode& plan, const PipelineSpec& pipeline,
                            const SinkSpec& sink);

}  // namespace millrace
