#include "pipeline/stream_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/crash_point.h"
#include "common/durable_file.h"
#include "common/mapped_file.h"
#include "common/metrics_registry.h"
#include "connectors/dead_letter_writer.h"
#include "connectors/file_source.h"
#include "connectors/kafka_source.h"
#include "connectors/streaming_file_source.h"
#include "connectors/streaming_lake_source.h"
#include "connectors/streaming_topic_source.h"
#include "connectors/topic_sink.h"
#include "exec/plan_builder.h"
#include "exec/watermark_tracker.h"
#include "log/append_signal.h"
#include "log/log.h"
#include "pipeline/checkpoint_decision.h"
#include "pipeline/checkpoint_store.h"
#include "pipeline/checkpoint_writer.h"
#include "pipeline/commit_counter.h"
#include "pipeline/keyed_stage.h"
#include "pipeline/pipeline_metrics.h"
#include "pipeline/prepared_run.h"
#include "pipeline/source_fan_out.h"
#include "pipeline/state_plan.h"

namespace millrace {

namespace {

/// Collects nothing: the sink of a plan built only to see whether it can be built.
class DiscardSink final : public BatchSink {
public:
    Status push(Batch) override { return {}; }
    Status finish() override { return {}; }
};

/// A file source read whole before the streams start (not a watched folder).
bool bounded_file(const SourceSpec& source) {
    return source.kind == SourceKind::kFile && !source.watch;
}

/// A windowed GROUP BY at the top of the plan, under projections only: what early results may
/// come from (anything else above it would keep rows a later one cannot replace).
bool windowed_aggregate_at_top(const sql::LogicalNode& plan) {
    const sql::LogicalNode* node = &plan;
    while (node->kind == sql::LogicalNode::Kind::kProject && node->dedup_micros == 0 &&
           !node->children.empty())
        node = node->children[0].get();
    return node->kind == sql::LogicalNode::Kind::kAggregate && window_end_key(*node);
}

/// One file of a `reload: true` source as the last check saw it.
struct FileStamp {
    std::string path;
    uintmax_t size = 0;
    int64_t mtime = 0;  // nanoseconds, as the file system reports them
    bool operator==(const FileStamp&) const = default;
};

/// The files a file source's path or glob names now, with their sizes and mtimes; empty when
/// none can be listed (a file between a delete and a rename).
std::vector<FileStamp> file_stamps(const SourceSpec& source) {
    std::vector<FileStamp> out;
    Result<std::vector<std::string>> files = expand_file_pattern(source.path);
    if (!files.ok()) return out;
    for (const std::string& path : *files) {
        std::error_code ec;
        const uintmax_t size = std::filesystem::file_size(path, ec);
        if (ec) return {};
        const auto mtime = std::filesystem::last_write_time(path, ec);
        if (ec) return {};
        out.push_back(
            FileStamp{path, size,
                      std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch())
                          .count()});
    }
    return out;
}

// The saved state of a sink's plan: what ExecutablePlan::serialize_state() returned,
//
//   "millrace-upsert-state 1\n", u64 operators, then per operator: u64 size, size bytes
//
// (integers little-endian). A checkpoint holds one per sink (`sink-<n>.state`); before
// checkpoints, upserting aggregates kept theirs in `<data_dir>/state/<pipeline>/sink-<n>.state`,
// which a run without a checkpoint still restores.
std::string upsert_state_path(const Project& project, const PipelineSpec& pipeline,
                              std::size_t sink_index) {
    return fmt::format("{}/state/{}/sink-{}.state", project.data_dir, pipeline.name, sink_index);
}

constexpr std::string_view kUpsertStateMagic = "millrace-upsert-state 1\n";

/// A key group's changes since the previous checkpoint (KeyGroupSnapshot::changes): the
/// layout of a plan's saved state (plan_state_parts) under its own first line, whose first entry
/// holds one byte per operator (1: the entry after it is that operator's changes, 0: its whole
/// state).
constexpr std::string_view kStateChangesMagic = "millrace-state-changes 1\n";

/// Older key-group files a checkpoint may link (a key group's whole state and the changes laid
/// over it since) before the next one rewrites every key group.
constexpr std::size_t kMaxLinkedStateFiles = 24;

/// Files of changes a sink plan's whole state (the part outside a keyed stage) may have laid
/// over it before a checkpoint writes it whole again, whatever their size.
constexpr std::size_t kMaxPlanChangeFiles = 128;

void put_u64(std::string& out, uint64_t value) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

Result<std::vector<std::string>> decode_plan_state(const std::string& path,
                                                   const std::string& bytes) {
    auto corrupt = [&](std::string_view why) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{}: {}; it holds the operator state of an earlier run of this "
                                 "sink's plan (remove the pipeline's checkpoints to start from "
                                 "nothing)",
                                 path, why));
    };
    std::size_t at = kUpsertStateMagic.size();
    if (bytes.compare(0, at, kUpsertStateMagic) != 0) return corrupt("not a saved state");
    auto get_u64 = [&](uint64_t& value) {
        if (bytes.size() - at < 8) return false;
        value = 0;
        for (int i = 0; i < 8; ++i)
            value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
        at += 8;
        return true;
    };
    uint64_t count = 0;
    if (!get_u64(count) || count > bytes.size()) return corrupt("truncated");
    std::vector<std::string> states;
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t size = 0;
        if (!get_u64(size) || size > bytes.size() - at) return corrupt("truncated");
        states.push_back(bytes.substr(at, size));
        at += size;
    }
    if (at != bytes.size()) return corrupt("trailing bytes");
    return states;
}

/// A plan's saved state (`changes` null: "millrace-upsert-state 1\n", u64 operators, then per
/// operator u64 size and its bytes) or its changes (kStateChangesMagic, the flags as the first
/// entry, then the same), as parts to be written one after the other: the frames between the
/// states, and the states themselves, moved in (a large state is neither copied into one
/// string nor kept twice).
std::vector<std::string> plan_state_parts(std::vector<std::string>&& states,
                                          const std::vector<uint8_t>* changes) {
    std::vector<std::string> parts;
    parts.reserve(2 * states.size() + 1);
    std::string frame(changes ? kStateChangesMagic : kUpsertStateMagic);
    put_u64(frame, states.size() + (changes ? 1 : 0));
    if (changes) {
        put_u64(frame, changes->size());
        frame.append(changes->begin(), changes->end());
    }
    for (std::string& state : states) {
        put_u64(frame, state.size());
        parts.push_back(std::move(frame));
        frame.clear();
        if (!state.empty()) parts.push_back(std::move(state));
    }
    if (states.empty()) parts.push_back(std::move(frame));
    return parts;
}

/// A key-group section: a whole state (`changes` left empty) or changes.
Result<std::vector<std::string>> decode_plan_section(const std::string& path,
                                                     const std::string& bytes,
                                                     std::vector<uint8_t>& changes) {
    changes.clear();
    if (bytes.compare(0, kStateChangesMagic.size(), kStateChangesMagic) != 0)
        return decode_plan_state(path, bytes);
    MILLRACE_ASSIGN_OR_RETURN(std::vector<std::string> entries,
                              decode_plan_state(path, std::string(kUpsertStateMagic) +
                                                          bytes.substr(kStateChangesMagic.size())));
    if (entries.empty() || entries[0].size() + 1 != entries.size()) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{}: state changes that do not list their operators", path));
    }
    changes.assign(entries[0].begin(), entries[0].end());
    entries.erase(entries.begin());
    return entries;
}

Status restore_plan_state(const std::string& path, const std::string& bytes, ExecutablePlan& plan) {
    MILLRACE_ASSIGN_OR_RETURN(std::vector<std::string> states, decode_plan_state(path, bytes));
    // Fitted by stateful operator: a column added above the state may add a projection.
    Result<std::vector<std::string>> fitted = fit_operator_states(states, plan);
    Status restored = fitted.ok() ? plan.restore_state(*fitted) : Status(std::move(fitted).error());
    if (!restored.ok()) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{}: {}; it holds the operator state of an earlier run of this "
                                 "sink's plan (remove the pipeline's checkpoints to start from "
                                 "nothing)",
                                 path, restored.error().message()));
    }
    return {};
}

/// Lays a plan's saved changes (plan_state_parts with flags) over its restored state, fitted to the
/// plan as restore_plan_state fits a whole state.
Status apply_plan_changes(const std::string& path, const std::string& bytes, ExecutablePlan& plan) {
    std::vector<uint8_t> flags;
    MILLRACE_ASSIGN_OR_RETURN(std::vector<std::string> states,
                              decode_plan_section(path, bytes, flags));
    Status applied;
    if (flags.empty()) {
        applied = Error(ErrorCode::kCorruption, "a whole state where changes were listed");
    } else {
        Result<std::vector<std::string>> fitted = fit_operator_states(states, plan);
        if (!fitted.ok()) {
            applied = Status(std::move(fitted).error());
        } else {
            // The flags follow their entries: the saved non-empty ones pair up in order with
            // the fitted non-empty ones.
            std::vector<uint8_t> saved_flags;
            for (std::size_t i = 0; i < states.size(); ++i)
                if (!states[i].empty()) saved_flags.push_back(flags[i]);
            ExecutablePlan::StateChanges changes;
            std::size_t next = 0;
            for (const std::string& state : *fitted)
                changes.changes.push_back(state.empty() ? 0 : saved_flags[next++]);
            changes.states = std::move(fitted).value();
            applied = plan.apply_state_changes(changes);
        }
    }
    if (!applied.ok()) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{}: {}; it holds the operator state changes of an earlier run "
                                 "of this sink's plan (remove the pipeline's checkpoints to start "
                                 "from nothing)",
                                 path, applied.error().message()));
    }
    return {};
}

Status restore_legacy_upsert_state(const std::string& path, ExecutablePlan& plan) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return {};
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return restore_plan_state(path, buffer.str(), plan);
}

/// The name of a sink's staging folder: the view it implements and where it writes, so that
/// what it staged follows it when other sinks are added, removed or reordered. (Its operator
/// state is saved under SinkStateShape::identity, which adds the plan's fingerprints.)
std::string state_identity(const SinkSpec& sink) {
    return fmt::format("{}->{}", sink.from, sink_target(sink));
}

/// Test hook (StreamOptions::test_sink_delay): waits before every batch it passes on, as a
/// slow sink would, so tests can check that the queues stay within their capacity and nothing
/// is lost while the sink holds the pipeline's thread back.
class DelayedSink final : public BatchSink {
public:
    DelayedSink(BatchSink& next, std::chrono::milliseconds delay) : next_(next), delay_(delay) {}
    Status push(Batch batch) override {
        std::this_thread::sleep_for(delay_);
        return next_.push(std::move(batch));
    }
    Status finish() override { return next_.finish(); }
    Status on_control(const ControlSignal& signal) override { return next_.on_control(signal); }

private:
    BatchSink& next_;
    std::chrono::milliseconds delay_;
};

std::chrono::milliseconds sink_delay(const StreamOptions& options) {
    if (options.test_sink_delay.count() > 0) return options.test_sink_delay;
    const char* text = std::getenv("MILLRACE_TEST_SINK_DELAY_MS");
    if (text == nullptr) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(std::strtol(text, nullptr, 10));
}

/// One streaming (topic) source in the run: its reader, the plan inputs it feeds, its
/// watermark, and the fan-out that applies its checks.
struct StreamInput {
    PreparedSource* source = nullptr;
    StreamingTopicSource* topic = nullptr;  // null for a generator or a kafka source
    KafkaSource* kafka = nullptr;           // a kafka source
    StreamingFileSource* files = nullptr;   // a watched folder
    StreamingLakeSource* lake = nullptr;    // a lake table followed
    std::size_t files_before = 0;           // files it had read before this run
    bool ended = false;                     // a generator past its limit
    std::vector<const ScanInput*> inputs;
    std::unique_ptr<SourceFanOut> fan_out;
    std::unique_ptr<WatermarkTracker> watermark;
    std::optional<std::size_t> event_column;  // index in the source's schema
    std::optional<int64_t> sent;              // the last watermark sent into the plans
    /// The tracker before the end of input moved it to the end of time (what the stop's
    /// checkpoint saves, so the next run judges lateness as this one did).
    std::optional<WatermarkTracker::State> before_end;
    SourceReport* report = nullptr;
};

/// Between the decoder and the source's fan-out: records later than the watermark go to the
/// dead letters with reason `late`; the others update their partition's watermark.
class LateFilter final : public DecodeSink, public SourceReader::Listener {
public:
    LateFilter(StreamInput& input, DeadLetterWriter& dead_letters, const Clock& clock)
        : input_(input), dead_letters_(dead_letters), clock_(clock) {}

    void on_unit_start(const std::string& where) override { input_.fan_out->on_unit_start(where); }
    void on_unit_set_aside(const std::string& where, const std::string& reason) override {
        input_.fan_out->on_unit_set_aside(where, reason);
    }
    void on_error(RowError error) override { input_.fan_out->on_error(std::move(error)); }

    Status on_batch(Batch batch) override {
        if (!input_.event_column) return input_.fan_out->on_batch(std::move(batch));
        const Column& times = batch.column(*input_.event_column);
        const auto values = times.values<int64_t>();
        const int64_t now = clock_.now_micros();
        const std::size_t partition = input_.topic   ? input_.topic->current_partition()
                                      : input_.kafka ? input_.kafka->current_partition()
                                                     : 0;
        std::vector<uint32_t> keep;
        keep.reserve(batch.num_rows());
        for (std::size_t row = 0; row < batch.num_rows(); ++row) {
            if (times.is_null(row)) {
                // No event time, no window: its checks (not_null) or the plan decide about it.
                keep.push_back(static_cast<uint32_t>(row));
                continue;
            }
            if (input_.watermark->is_late(values[row])) {
                ++input_.report->rows_read;
                ++input_.report->rows_late;
                dead_letters_.add_late(input_.source->spec->name,
                                       input_.source->spec->kind == SourceKind::kGenerator
                                           ? std::string()
                                           : input_.source->spec->topic,
                                       partition, row_to_json(batch, row));
                continue;
            }
            // Per record, so what is late depends on the order of the records, not on how
            // polls happen to cut them into batches.
            input_.watermark->observe(partition, values[row], now);
            input_.watermark->advance(now);
            keep.push_back(static_cast<uint32_t>(row));
        }
        if (keep.size() == batch.num_rows()) return input_.fan_out->on_batch(std::move(batch));
        if (keep.empty()) return {};
        return input_.fan_out->on_batch(batch.take(keep));
    }

private:
    StreamInput& input_;
    DeadLetterWriter& dead_letters_;
    const Clock& clock_;
};

/// Wakes an idle run when the log gets an append (log/append_signal.h), or after a timeout.
class AppendWaiter {
public:
    /// Returns at the first append after generation `seen` (at once when there was one), or
    /// after `timeout`.
    void wait(AppendSignal& appends, uint64_t seen, std::chrono::milliseconds timeout) {
        bool add = false;
        {
            std::lock_guard lock(wake_->mutex);
            wake_->woken = false;
            // One waiter in the signal's list at a time: an idle run waits every 20 ms, and a
            // waiter leaves the list only when an append fires it.
            add = !wake_->waiting;
            wake_->waiting = true;
        }
        if (add) {
            appends.wait_once(seen, wake_, [weak = std::weak_ptr<Wake>(wake_)] {
                const std::shared_ptr<Wake> wake = weak.lock();
                if (!wake) return;
                std::lock_guard lock(wake->mutex);
                wake->waiting = false;
                wake->woken = true;
                wake->condition.notify_one();
            });
        }
        std::unique_lock lock(wake_->mutex);
        wake_->condition.wait_for(lock, timeout, [&] { return wake_->woken; });
    }

private:
    struct Wake {
        std::mutex mutex;
        std::condition_variable condition;
        bool waiting = false;  // in the signal's list, not fired yet
        bool woken = false;
    };
    // Held weakly by the signal's list: a callback that fires after the run ended finds it
    // gone.
    std::shared_ptr<Wake> wake_ = std::make_shared<Wake>();
};

/// Sends `input`'s watermark into its plans when it moved.
Status send_watermark(StreamInput& input, uint64_t& sent_count) {
    const std::optional<int64_t> watermark = input.watermark->watermark();
    if (!watermark || (input.sent && *input.sent >= *watermark)) return {};
    input.sent = watermark;
    ++sent_count;
    for (const ScanInput* scan : input.inputs)
        MILLRACE_TRY(scan->entry->on_control(ControlSignal::watermark(*watermark)));
    return {};
}

}  // namespace

PlanOptions streaming_plan_options(const PipelineSpec& pipeline) {
    PlanOptions options;
    for (const SourceSpec& source : pipeline.sources) {
        if (!bounded_file(source)) options.unbounded_sources.insert(source.name);
        if (source.event_time) options.event_time[source.name] = *source.event_time;
    }
    if (pipeline.state_ttl) options.state_ttl_micros = pipeline.state_ttl->count();
    return options;
}

bool sink_takes_early_results(const SinkSpec& sink) {
    return sink_takes_upserts(sink) || (sink.kind == SinkKind::kLake && sink.upsert);
}

bool sink_takes_upserts(const SinkSpec& sink) {
    // A keyed topic (of the log or of a Kafka cluster) is a changelog: its readers (a
    // compacting consumer, a topic source feeding an online sink) keep the newest record per
    // key. A blackhole takes anything (it keeps nothing).
    return sink.kind == SinkKind::kOnline || sink.kind == SinkKind::kBlackhole ||
           ((sink.kind == SinkKind::kTopic || sink.kind == SinkKind::kKafka) && !sink.key.empty());
}

Status check_streaming_plan(const sql::LogicalNode& plan, const PipelineSpec& pipeline,
                            const SinkSpec& sink) {
    const std::string& origin = sink.from;
    if (sink.emit_every) {
        if (!sink_takes_early_results(sink)) {
            return Error(ErrorCode::kUnsupported,
                         fmt::format("`emit:` makes `{}` emit the changed groups of its open "
                                     "windows before they close, as updates that the window's "
                                     "final row replaces, and {} only appends rows (each early "
                                     "result would stay as another row); write it to an online "
                                     "sink, a topic sink with a `key:` column or a lake table "
                                     "with `mode: upsert`, or remove `emit:` (see "
                                     "docs/streaming.md, \"Early results\")",
                                     origin, sink_target(sink)),
                         sink.emit_location);
        }
        if (!windowed_aggregate_at_top(plan)) {
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("`emit:` fires a windowed GROUP BY early, and `{}` does not "
                                     "end in one (a GROUP BY ... window_end over tumble(), hop(), "
                                     "cumulate() or session() with only projections above it: a "
                                     "HAVING, join or aggregate over early results would keep "
                                     "rows that the window's final row cannot replace); remove "
                                     "`emit:` or write the windowed view itself to the sink",
                                     origin),
                         sink.emit_location);
        }
    }
    ExecContext context;
    DiscardSink discard;
    const bool upserts = sink_takes_upserts(sink);
    auto built = build_plan(plan, discard, context, origin,
                            upserts ? PlanMode::kStreamingUpsert : PlanMode::kStreaming,
                            streaming_plan_options(pipeline));
    if (built.ok()) {
        for (const ScanInput& input : (*built)->inputs()) {
            const SourceSpec* source = pipeline.find_source(input.source);
            if (source == nullptr || !source->reload || input.reloadable_build) continue;
            return Error(ErrorCode::kUnsupported,
                         fmt::format("source `{}`: `reload: true` reads it again when its files "
                                     "change, which only the right side of a lookup join can "
                                     "take (JOIN {} ON ..., through filters and projections); "
                                     "`{}` reads it otherwise and would see its rows twice",
                                     source->name, source->name, origin),
                         source->location);
        }
        return {};
    }
    if (!upserts && has_unwindowed_aggregate(plan)) {
        return Error(ErrorCode::kUnsupported,
                     fmt::format("`{}`: a GROUP BY without window_end is a continuously updated "
                                 "table (each changed group is emitted again as an upsert), and "
                                 "{} only appends rows, so it cannot take the updates; write it to "
                                 "an online sink (the store upserts by key) or a topic sink with a "
                                 "`key:` column, or aggregate over a "
                                 "window (GROUP BY window_start, window_end of tumble() or hop(), "
                                 "see docs/streaming.md)",
                                 origin, sink_target(sink)));
    }
    return std::move(built).error();
}

Result<StreamReport> run_streaming_pipeline(const Project& project, const PipelineSpec& pipeline,
                                            const StreamOptions& options) {
    using Clock = std::chrono::steady_clock;
    const auto started = Clock::now();
    if (pipeline.mode != PipelineMode::kStreaming) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("pipeline `{}` is mode: batch", pipeline.name), pipeline.location);
    }
    // Before anything is opened: preparing recovers the sinks' staged commits, which must not
    // happen under a run that is still going.
    MILLRACE_ASSIGN_OR_RETURN(const FileLock run_lock,
                              lock_streaming_run(project.data_dir, pipeline.name));
    // Declared first so that it outlives the operators `prepared` ends up owning.
    ExecContext context;
    MILLRACE_ASSIGN_OR_RETURN(Prepared prepared,
                              prepare_run(project, pipeline, true, "", options.shared));
    for (const PreparedSink& sink : prepared.sinks) {
        Status status = check_streaming_plan(*sink.plan, pipeline, *sink.spec);
        if (!status.ok()) return std::move(status).error().with_location(sink.spec->from_location);
    }
    AbortUnlessCommitted abort_guard(prepared.sinks);
    StreamReport report;
    report.run.pipeline = pipeline.name;
    // The newest complete checkpoint: the run goes on from its state, positions and commits.
    CheckpointStore checkpoints(project.data_dir, pipeline.name, options.checkpoints_retained);
    // Settled first: a checkpoint decided by the Kafka transaction is complete only if that
    // committed (pipeline/checkpoint_decision.h).
    MILLRACE_ASSIGN_OR_RETURN(
        std::optional<CheckpointMetadata> restored,
        settle_latest_checkpoint(checkpoints, prepared.kafka_transaction.get()));
    std::string restored_folder = restored ? checkpoints.folder(restored->id) : std::string();
    if (options.from_savepoint) {
        // An older state than the latest checkpoint's, chosen by the user: the sinks get what
        // was committed after it once more (as any engine restoring a savepoint).
        MILLRACE_ASSIGN_OR_RETURN(CheckpointMetadata savepoint,
                                  CheckpointStore::read_folder(*options.from_savepoint));
        restored = std::move(savepoint);
        restored_folder = *options.from_savepoint;
    }
    if (restored) report.restored_checkpoint = restored->id;
    // Which saved state the current sinks keep (pipeline/state_plan.h): state that would be
    // dropped (a view edited or removed) refuses the start unless the caller allows it.
    std::vector<SinkStateShape> shapes;
    for (const PreparedSink& sink : prepared.sinks)
        shapes.push_back(sink_state_shape(*sink.plan, *sink.spec));
    StatePlan state_plan =
        plan_state(pipeline, shapes, restored ? &*restored : nullptr, restored_folder);
    state_plan.from_savepoint = options.from_savepoint.has_value();
    if (state_plan.drops_state()) {
        if (!options.allow_state_drop) return Error(ErrorCode::kConfig, state_plan.refusal());
        for (const StateDecision& d : state_plan.decisions) {
            if (d.fate == StateFate::kDropped)
                report.dropped_state.push_back(
                    fmt::format("{} -> {}: {}", d.view, d.target, d.explanation));
        }
    }
    if (options.savepoint_to) {
        // Refused before the run, not after it: a savepoint is never overwritten.
        std::error_code exists_error;
        if (std::filesystem::exists(*options.savepoint_to + "/_metadata", exists_error)) {
            return Error(ErrorCode::kAlreadyExists,
                         fmt::format("{} already holds a savepoint; name a new folder",
                                     *options.savepoint_to));
        }
    }
    const std::string dead_letter_path =
        prepared.dead_letter_sink != nullptr && prepared.dead_letter_sink->kind == SinkKind::kFile
            ? prepared.dead_letter_sink->path
            : fmt::format("{}/dead_letter/{}.ndjson", project.data_dir, pipeline.name);
    MILLRACE_ASSIGN_OR_RETURN(
        std::unique_ptr<DeadLetterWriter> dead_letters,
        DeadLetterWriter::open_append(
            dead_letter_path, pipeline.name,
            restored ? std::optional<uint64_t>(restored->dead_letter_bytes) : std::nullopt,
            prepared.input_files));
    MILLRACE_TRY(open_dead_letter_topic(prepared, project, pipeline, *dead_letters));
    if (options.memory_limit_bytes) {
        context.memory_limit_bytes = *options.memory_limit_bytes;
    } else if (pipeline.state_limit_bytes) {
        context.memory_limit_bytes = static_cast<std::size_t>(*pipeline.state_limit_bytes);
        context.limit_name = fmt::format("the pipeline's state_limit in {}", pipeline.file);
    }
    context.clock = prepared.clock.get();
    context.dead_letter = [&](DeadLetterRow row) {
        dead_letters->add_row("evaluate", "view", row.origin, row.reason, row.row_json);
    };
    MILLRACE_TRY(build_sink_plans(prepared, context, *dead_letters, PlanMode::kStreaming,
                                  streaming_plan_options(pipeline)));
    // Every sink first settles what a dead run left: the restored checkpoint's commit is rolled
    // forward where it had not happened, anything staged after it is dropped.
    for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
        PreparedSink& sink = prepared.sinks[i];
        if (sink.spec->kind == SinkKind::kFile) continue;
        if (sink.spec->kind == SinkKind::kTopic) {
            MILLRACE_TRY(static_cast<TopicSink&>(*sink.output)
                             .stage_in(checkpoints.sink_staging(state_identity(*sink.spec))));
        }
        Status recovered = sink.output->recover(restored ? restored->id : 0);
        if (!recovered.ok()) {
            return std::move(recovered).error().with_context(
                fmt::format("recovering sink {} from checkpoint {}", sink_target(*sink.spec),
                            restored ? restored->id : 0));
        }
    }
    std::vector<bool> upserting(prepared.sinks.size(), false);
    for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
        upserting[i] = sink_takes_upserts(*prepared.sinks[i].spec) &&
                       has_unwindowed_aggregate(*prepared.sinks[i].plan);
    }
    // Parallel execution (docs/streaming.md, "Parallelism and key groups"): a sink plan with a
    // keyed operator is cut at it; the part below (the prefix) stays whole on this thread and
    // its output is a KeyedStage, which runs one copy of the part above per key group on
    // `parallelism` subtasks. The prefix replaces the sink's executable, so everything below
    // (inputs, watermarks, barriers) reaches the stage through it.
    if (pipeline.parallelism &&
        *pipeline.parallelism > pipeline.max_parallelism.value_or(kDefaultMaxKeyGroups)) {
        return Error(ErrorCode::kConfig,
                     fmt::format("pipeline `{}`: parallelism {} is above max_parallelism {} "
                                 "(the number of key groups; every subtask owns at least one): "
                                 "raise max_parallelism",
                                 pipeline.name, *pipeline.parallelism,
                                 pipeline.max_parallelism.value_or(kDefaultMaxKeyGroups)),
                     pipeline.location);
    }
    std::vector<std::unique_ptr<DelayedSink>> delayed;
    std::vector<std::unique_ptr<KeyedStage>> stages(prepared.sinks.size());
    for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
        PreparedSink& sink = prepared.sinks[i];
        std::optional<ExchangePoint> point = find_exchange_point(*sink.plan);
        if (!point) continue;
        BatchSink* end = sink.checked ? static_cast<BatchSink*>(sink.checked.get())
                                      : static_cast<BatchSink*>(sink.input.get());
        if (const std::chrono::milliseconds delay = sink_delay(options); delay.count() > 0) {
            delayed.push_back(std::make_unique<DelayedSink>(*end, delay));
            end = delayed.back().get();
        }
        const PlanMode mode =
            sink_takes_upserts(*sink.spec) ? PlanMode::kStreamingUpsert : PlanMode::kStreaming;
        KeyedStage::Options stage_options;
        stage_options.parallelism = static_cast<uint32_t>(pipeline.parallelism.value_or(1));
        stage_options.max_key_groups =
            static_cast<uint32_t>(pipeline.max_parallelism.value_or(kDefaultMaxKeyGroups));
        stage_options.plan_options = streaming_plan_options(pipeline);
        stage_options.plan_options.emit_early = sink.spec->emit_every.has_value();
        if (options.queue_capacity) stage_options.queue_capacity = *options.queue_capacity;
        MILLRACE_ASSIGN_OR_RETURN(
            stages[i], KeyedStage::create(*sink.plan, *point, *end, context, sink.spec->from, mode,
                                          stage_options));
        MILLRACE_ASSIGN_OR_RETURN(
            sink.executable, build_plan(*point->keyed->children[0], *stages[i], context,
                                        sink.spec->from, mode, streaming_plan_options(pipeline)));
    }

    std::map<std::string, std::vector<const ScanInput*>> inputs;
    for (PreparedSink& sink : prepared.sinks) {
        for (const ScanInput& input : sink.executable->inputs()) {
            if (input.source.empty()) {
                MILLRACE_TRY(input.entry->push(Batch(input.schema, {}, 1)));
                MILLRACE_TRY(input.entry->finish());
                continue;
            }
            inputs[input.source].push_back(&input);
        }
    }
    report.run.sources.reserve(prepared.sources.size());  // StreamInput keeps pointers
    for (PreparedSource& source : prepared.sources) {
        SourceReport source_report;
        source_report.name = source.spec->name;
        source_report.files = source.reader->units();
        source_report.unit = source.reader->unit_name();
        source_report.schema = source.reader->schema();
        report.run.sources.push_back(source_report);
    }
    // Bounded (file) sources first, whole: the build sides of lookup joins.
    for (std::size_t i = 0; i < prepared.sources.size(); ++i) {
        PreparedSource& source = prepared.sources[i];
        if (!bounded_file(*source.spec)) continue;
        auto it = inputs.find(source.spec->name);
        if (it == inputs.end()) continue;
        SourceFanOut fan_out(*source.spec, source.checks, it->second, *dead_letters,
                             report.run.sources[i]);
        MILLRACE_TRY(source.reader->read_to_end(fan_out, &fan_out));
        report.run.sources[i].bytes = source.reader->bytes_read();
        MILLRACE_TRY(fan_out.finish());
    }
    // `reload: true` file sources (docs/streaming.md, "Lookup joins"): checked every
    // poll_interval, read again whole once a change held still for one interval (a file being
    // written waits), into the joins' build ports, which swap to the new rows when it ends.
    // Only the build side of a lookup join can take that: anything else would see the rows
    // twice.
    struct LookupReload {
        std::size_t source = 0;
        std::vector<FileStamp> loaded;                  // what the build side holds
        std::optional<std::vector<FileStamp>> changed;  // seen once, waiting to hold still
        Clock::time_point next_check;
        bool warned = false;
    };
    std::vector<LookupReload> reloads;
    for (std::size_t i = 0; i < prepared.sources.size(); ++i) {
        const SourceSpec& spec = *prepared.sources[i].spec;
        if (!bounded_file(spec) || !spec.reload) continue;
        auto it = inputs.find(spec.name);
        if (it == inputs.end()) continue;
        for (const ScanInput* input : it->second) {
            if (!input->reloadable_build) {
                return Error(ErrorCode::kUnsupported,
                             fmt::format("source `{}`: `reload: true` reads it again when its "
                                         "files change, which only the right side of a lookup "
                                         "join can take (JOIN {} ON ..., through filters and "
                                         "projections); a plan that reads it otherwise would "
                                         "see its rows twice",
                                         spec.name, spec.name),
                             spec.location);
            }
        }
        reloads.push_back(LookupReload{i, file_stamps(spec), std::nullopt,
                                       Clock::now() + spec.poll_interval, false});
    }
    auto reload_source = [&](LookupReload& lookup) -> Status {
        PreparedSource& source = prepared.sources[lookup.source];
        const SourceSpec& spec = *source.spec;
        Result<std::unique_ptr<FileSource>> reader = FileSource::open(spec);
        if (!reader.ok() || !(*(*reader)->schema() == *source.reader->schema())) {
            // The join keeps the rows it has; a later change is tried again.
            if (!lookup.warned) {
                std::fprintf(stderr,
                             "source `%s`: its files changed but cannot be read again (%s); the "
                             "lookup join keeps the rows it has\n",
                             spec.name.c_str(),
                             reader.ok() ? "the inferred schema changed; declare `schema:`"
                                         : reader.error().message().c_str());
                lookup.warned = true;
            }
            return {};
        }
        SourceFanOut fan_out(spec, source.checks, inputs.at(spec.name), *dead_letters,
                             report.run.sources[lookup.source]);
        MILLRACE_TRY((*reader)->read_to_end(fan_out, &fan_out));
        MILLRACE_TRY(fan_out.failure());
        MILLRACE_TRY(fan_out.finish());
        report.run.sources[lookup.source].bytes += (*reader)->bytes_read();
        lookup.warned = false;
        ++report.lookup_reloads;
        return {};
    };
    auto check_reloads = [&](Clock::time_point now) -> Status {
        for (LookupReload& lookup : reloads) {
            if (now < lookup.next_check) continue;
            const SourceSpec& spec = *prepared.sources[lookup.source].spec;
            lookup.next_check = now + spec.poll_interval;
            std::vector<FileStamp> stamps = file_stamps(spec);
            if (stamps.empty() || stamps == lookup.loaded) {
                lookup.changed.reset();
                continue;
            }
            if (!lookup.changed || *lookup.changed != stamps) {
                lookup.changed = std::move(stamps);  // wait one interval for it to hold still
                continue;
            }
            MILLRACE_TRY(reload_source(lookup));
            lookup.loaded = std::move(*lookup.changed);
            lookup.changed.reset();
        }
        return {};
    };
    // Operator state after the file sources: restoring replaces what they built (a join's
    // build side is in the checkpoint as it was).
    for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
        PreparedSink& sink = prepared.sinks[i];
        if (!restored) {
            if (upserting[i]) {
                const std::string legacy = upsert_state_path(project, pipeline, i);
                std::error_code ec;
                if (stages[i] && std::filesystem::exists(legacy, ec)) {
                    return Error(ErrorCode::kUnsupported,
                                 fmt::format("{} holds the state of sink `{}` as an older "
                                             "build saved it, not split into key groups; run "
                                             "that build once more to stop it with a "
                                             "checkpoint, or remove the file to start from "
                                             "nothing",
                                             legacy, sink.spec->from));
                }
                MILLRACE_TRY(restore_legacy_upsert_state(legacy, *sink.executable));
            }
            continue;
        }
        const StateDecision* decision = state_plan.for_sink(i);
        // A new sink, one with no state at the stop, or one whose state is dropped.
        if (decision == nullptr || decision->fate != StateFate::kKept) continue;
        const std::vector<const CheckpointState*> groups =
            restored->find_key_groups(decision->saved_identity);
        if (stages[i] && groups.empty()) {
            return Error(ErrorCode::kUnsupported,
                         fmt::format("checkpoint {} in {} holds the state of sink `{}` as one "
                                     "piece, as builds before key groups saved it; this build "
                                     "restores keyed state only by key group (restore it with "
                                     "the build that wrote it and stop with a savepoint there, "
                                     "or remove the pipeline's checkpoints to start from "
                                     "nothing)",
                                     restored->id, restored_folder, sink.spec->from));
        }
        if (!stages[i] && !groups.empty()) {
            return Error(ErrorCode::kUnsupported,
                         fmt::format("checkpoint {} in {} holds the state of sink `{}` by key "
                                     "group, but its plan has no keyed stage now",
                                     restored->id, restored_folder, sink.spec->from));
        }
        const std::string path = restored_folder + "/" + decision->saved_file;
        MILLRACE_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
        MILLRACE_TRY(restore_plan_state(path, bytes, *sink.executable));
        for (const CheckpointState* changes :
             restored->find_state_changes(decision->saved_identity)) {
            const std::string changes_path = restored_folder + "/" + changes->file;
            MILLRACE_ASSIGN_OR_RETURN(std::string changes_bytes, read_file(changes_path));
            MILLRACE_TRY(apply_plan_changes(changes_path, changes_bytes, *sink.executable));
        }
        std::map<std::string, std::string> group_files;  // key groups share files
        for (const CheckpointState* group : groups) {
            if (group->max_key_groups != stages[i]->max_key_groups()) {
                return Error(ErrorCode::kUnsupported,
                             fmt::format("checkpoint {} in {} holds the state of sink `{}` in "
                                         "{} key groups, but the pipeline has "
                                         "max_parallelism: {}; keys would move between key "
                                         "groups, so set max_parallelism: {} to restore it",
                                         restored->id, restored_folder, sink.spec->from,
                                         group->max_key_groups, stages[i]->max_key_groups(),
                                         group->max_key_groups));
            }
            const std::string group_path = restored_folder + "/" + group->file;
            auto file = group_files.find(group_path);
            if (file == group_files.end()) {
                MILLRACE_ASSIGN_OR_RETURN(std::string file_bytes, read_file(group_path));
                file = group_files.emplace(group_path, std::move(file_bytes)).first;
            }
            if (group->offset > file->second.size() ||
                group->length > file->second.size() - group->offset) {
                return Error(ErrorCode::kCorruption,
                             fmt::format("{}: key group {} lies past the end of the file; the "
                                         "checkpoint cannot be restored",
                                         group_path, *group->key_group));
            }
            // A key group's entries come in the order they were saved: its whole state, then
            // the changes of each later checkpoint.
            std::vector<uint8_t> changes;
            MILLRACE_ASSIGN_OR_RETURN(
                std::vector<std::string> states,
                decode_plan_section(group_path, file->second.substr(group->offset, group->length),
                                    changes));
            Status restored_group =
                changes.empty() ? stages[i]->restore(*group->key_group, states)
                                : stages[i]->apply_changes(*group->key_group, states, changes);
            if (!restored_group.ok()) {
                return Error(ErrorCode::kCorruption,
                             fmt::format("{}: {}", group_path, restored_group.error().message()));
            }
        }
    }
    // A restored join holds the build side it had at the checkpoint; a reloading one takes the
    // files as they are now.
    if (restored) {
        for (LookupReload& lookup : reloads) MILLRACE_TRY(reload_source(lookup));
    }
    std::vector<std::unique_ptr<StreamInput>> streams;
    const int64_t start_micros = prepared.clock->now_micros();
    for (std::size_t i = 0; i < prepared.sources.size(); ++i) {
        PreparedSource& source = prepared.sources[i];
        if (bounded_file(*source.spec)) continue;
        auto stream = std::make_unique<StreamInput>();
        stream->source = &source;
        if (source.spec->kind == SourceKind::kTopic)
            stream->topic = static_cast<StreamingTopicSource*>(source.reader.get());
        if (source.spec->kind == SourceKind::kKafka)
            stream->kafka = static_cast<KafkaSource*>(source.reader.get());
        if (source.spec->kind == SourceKind::kLake)
            stream->lake = static_cast<StreamingLakeSource*>(source.reader.get());
        stream->report = &report.run.sources[i];
        if (auto it = inputs.find(source.spec->name); it != inputs.end())
            stream->inputs = it->second;
        stream->fan_out = std::make_unique<SourceFanOut>(
            *source.spec, source.checks, stream->inputs, *dead_letters, *stream->report);
        if (source.spec->event_time) {
            stream->event_column = source.reader->schema()->index_of(*source.spec->event_time);
            if (!stream->event_column ||
                source.reader->schema()->field(*stream->event_column).type !=
                    DataType::kTimestamp) {
                return Error(ErrorCode::kConfig,
                             fmt::format("source `{}`: event_time `{}` is not a timestamp column "
                                         "of its schema",
                                         source.spec->name, *source.spec->event_time),
                             source.spec->event_time_location);
            }
        }
        // A watched folder: one watermark partition for all its files, read one after another
        // in mtime order, so a file of older events than those already read is late.
        if (source.spec->kind == SourceKind::kFile) {
            stream->files = static_cast<StreamingFileSource*>(source.reader.get());
            stream->files_before = stream->files->units();
        }
        stream->watermark = std::make_unique<WatermarkTracker>(
            stream->files ? 1 : source.reader->units(), source.spec->watermark_delay.count(),
            source.spec->allowed_lateness.count(), source.spec->idle_timeout.count(), start_micros);
        // A topic source goes on from the checkpoint's offsets and watermark (its consumer
        // offsets, committed after the checkpoint, may be ahead of them after a crash); a
        // watched folder from the number of files it had read (its progress file, committed
        // after the checkpoint, may be ahead of it); a Kafka source from the checkpoint's
        // offsets of the partitions the group assigns it (KafkaSource::resume_from); a generator
        // from the records it had made, with the event times of the run that made them.
        const bool generator = source.spec->kind == SourceKind::kGenerator;
        const CheckpointSource* saved = restored && (stream->topic || stream->files ||
                                                     stream->kafka || stream->lake || generator)
                                            ? restored->find_source(source.spec->name)
                                            : nullptr;
        if (saved != nullptr && stream->kafka) stream->kafka->resume_from(saved->offsets);
        // A lake source from its (snapshot, files done, whole) position.
        if (saved != nullptr && stream->lake) {
            Status sought =
                saved->offsets.size() != 3
                    ? Status(Error(ErrorCode::kCorruption,
                                   fmt::format("lake source `{}` has {} position numbers, not 3",
                                               saved->name, saved->offsets.size())))
                    : stream->lake->seek(SourcePosition{static_cast<std::size_t>(saved->offsets[0]),
                                                        static_cast<uint64_t>(saved->offsets[1]),
                                                        static_cast<uint64_t>(saved->offsets[2])});
            if (!sought.ok()) {
                return std::move(sought).error().with_context(
                    fmt::format("restoring checkpoint {}", restored->id));
            }
        }
        if (saved != nullptr) {
            for (std::size_t p = 0; p < saved->offsets.size(); ++p) {
                Status sought = {};
                if (stream->topic && p < stream->topic->units()) {
                    sought = stream->topic->seek(
                        SourcePosition{p, static_cast<uint64_t>(saved->offsets[p]), 0});
                } else if (stream->files && p == 0) {
                    sought = stream->files->seek(
                        SourcePosition{static_cast<std::size_t>(saved->offsets[0]), 0, 0});
                    stream->files_before = stream->files->units();
                } else if (generator && p == 0) {
                    SourcePosition position{0, static_cast<uint64_t>(saved->offsets[0]), 0};
                    position.origin_micros = saved->origin_micros;
                    sought = source.reader->seek(position);
                }
                if (!sought.ok()) {
                    return std::move(sought).error().with_context(
                        fmt::format("restoring checkpoint {}", restored->id));
                }
            }
            stream->watermark->restore(WatermarkTracker::State{saved->watermark, saved->max_events},
                                       start_micros);
            stream->sent = saved->watermark;  // the restored operators have seen it
        }
        streams.push_back(std::move(stream));
    }

    // A key group whose state did not change is linked from an older checkpoint, where the
    // watermark its operators saved is older; the restored watermark goes to the stage again
    // so that every key group judges time as the uninterrupted run did (a watermark an
    // operator has seen already changes nothing).
    if (restored) {
        for (std::size_t i = 0; i < stages.size(); ++i) {
            if (!stages[i]) continue;
            std::optional<int64_t> watermark;
            bool known = true;
            for (const ScanInput& input : prepared.sinks[i].executable->inputs()) {
                for (const auto& stream : streams) {
                    if (stream->source->spec->name != input.source) continue;
                    if (!stream->sent) {
                        known = false;
                    } else {
                        watermark = watermark ? std::min(*watermark, *stream->sent) : *stream->sent;
                    }
                }
            }
            if (known && watermark)
                MILLRACE_TRY(stages[i]->on_control(ControlSignal::watermark(*watermark)));
        }
    }

    std::optional<PipelineMetrics> metrics;
    if (options.shared.metrics != nullptr) metrics.emplace(*options.shared.metrics, pipeline.name);
    // Per keyed stage (docs/metrics.md): counters move by what happened since the last call.
    struct StageMetrics {
        Counter* records_in = nullptr;
        Counter* records_out = nullptr;
        Counter* backpressure = nullptr;
        Gauge* queue_fill = nullptr;
        Gauge* queue_capacity = nullptr;
        Gauge* state_bytes = nullptr;
        Gauge* parallelism = nullptr;
        uint64_t in = 0, out = 0, blocked = 0;
    };
    std::vector<StageMetrics> stage_metrics(stages.size());
    if (options.shared.metrics != nullptr) {
        MetricsRegistry& registry = *options.shared.metrics;
        for (std::size_t i = 0; i < stages.size(); ++i) {
            if (!stages[i]) continue;
            const MetricLabels labels{{"pipeline", pipeline.name},
                                      {"operator", state_identity(*prepared.sinks[i].spec)}};
            StageMetrics& m = stage_metrics[i];
            m.records_in = &registry.counter("millrace_stream_operator_records_in_total",
                                             "Rows that reached a keyed operator", labels);
            m.records_out = &registry.counter("millrace_stream_operator_records_out_total",
                                              "Rows a keyed operator emitted", labels);
            m.backpressure = &registry.counter(
                "millrace_stream_operator_backpressure_microseconds_total",
                "Time the pipeline's thread waited for room in a keyed operator's queues", labels);
            m.queue_fill = &registry.gauge("millrace_stream_operator_queue_fill",
                                           "Batches waiting in the fullest subtask queue of a "
                                           "keyed operator",
                                           labels);
            m.queue_capacity = &registry.gauge("millrace_stream_operator_queue_capacity",
                                               "Batches one subtask queue of a keyed operator "
                                               "holds",
                                               labels);
            m.state_bytes = &registry.gauge("millrace_stream_operator_state_bytes",
                                            "Bytes of a keyed operator's state at the last "
                                            "checkpoint",
                                            labels);
            m.parallelism = &registry.gauge("millrace_stream_operator_parallelism",
                                            "Subtasks of a keyed operator", labels);
            m.queue_capacity->set(static_cast<double>(stages[i]->queue_capacity()));
            m.parallelism->set(static_cast<double>(stages[i]->parallelism()));
        }
    }
    auto publish_stage_metrics = [&]() {
        for (std::size_t i = 0; i < stages.size(); ++i) {
            StageMetrics& m = stage_metrics[i];
            if (!stages[i] || m.records_in == nullptr) continue;
            const KeyedStageStats& stats = stages[i]->stats();
            const uint64_t in = stats.records_in.load(std::memory_order_relaxed);
            const uint64_t out = stats.records_out.load(std::memory_order_relaxed);
            const uint64_t blocked = stats.backpressure_micros.load(std::memory_order_relaxed);
            m.records_in->increment(in - m.in);
            m.records_out->increment(out - m.out);
            m.backpressure->increment(blocked - m.blocked);
            m.in = in;
            m.out = out;
            m.blocked = blocked;
            m.queue_fill->set(
                static_cast<double>(stats.queue_fill.load(std::memory_order_relaxed)));
            m.state_bytes->set(
                static_cast<double>(stats.state_bytes.load(std::memory_order_relaxed)));
        }
    };
    // Counts for those watching the run (`/v1/pipelines`); cheap: a few sums per poll round.
    auto publish_progress = [&]() {
        StreamProgress* progress = options.progress;
        std::size_t state_keys = 0;
        for (const PreparedSink& sink : prepared.sinks) state_keys += sink.executable->state_keys();
        // Keyed operators run in their stages, with subtask contexts of their own.
        uint64_t state_bytes = context.memory_used_bytes;
        for (const auto& stage : stages) {
            if (!stage) continue;
            state_keys += stage->state_keys_now();
            state_bytes += stage->state_bytes_now();
        }
        report.state_keys_peak = std::max<uint64_t>(report.state_keys_peak, state_keys);
        report.state_keys_end = state_keys;
        report.state_peak_bytes =
            std::max<uint64_t>({report.state_peak_bytes, context.memory_peak_bytes, state_bytes});
        report.state_limit_bytes = context.memory_limit_bytes;
        if (metrics) metrics->update_state(state_bytes, state_keys, context.memory_limit_bytes);
        std::optional<int64_t> watermark;
        for (const auto& stream : streams) {
            // An ended source's end-of-time watermark is no event time to show.
            if (!stream->sent || *stream->sent == WatermarkTracker::kEndOfTime) continue;
            watermark = watermark ? std::min(*watermark, *stream->sent) : *stream->sent;
        }
        if (metrics && watermark) {
            metrics->update_watermark(*watermark, prepared.clock->now_micros());
        }
        if (progress == nullptr) return;
        progress->state_bytes.store(state_bytes, std::memory_order_relaxed);
        progress->state_keys.store(state_keys, std::memory_order_relaxed);
        progress->state_limit_bytes.store(context.memory_limit_bytes, std::memory_order_relaxed);
        uint64_t in = 0, late = 0, filtered = 0, out = 0;
        for (const SourceReport& source : report.run.sources) {
            in += source.rows_read + source.rows_rejected;
            late += source.rows_late;
            filtered += source.rows_dropped_by_checks;
        }
        for (const PreparedSink& sink : prepared.sinks) out += sink.output->rows_written();
        progress->records_in.store(in, std::memory_order_relaxed);
        progress->records_out.store(out, std::memory_order_relaxed);
        progress->late.store(late, std::memory_order_relaxed);
        progress->filtered.store(filtered, std::memory_order_relaxed);
        progress->dead_lettered.store(dead_letters->count(), std::memory_order_relaxed);
        progress->commits.store(report.commits, std::memory_order_relaxed);
        if (watermark) progress->watermark_micros.store(*watermark, std::memory_order_relaxed);
    };
    // A checkpoint. The runner moves every batch on this one thread, so when it injects the
    // barrier into the plans between two polls, the barrier is aligned at once on every
    // operator: everything before it is in the state, nothing after it. The state is
    // serialized there, and the positions and dead letters taken; then the checkpoint's writer
    // thread writes the state files while this thread pre-commits every sink with the
    // checkpoint's id; then the writer writes the metadata (the checkpoint is complete), and
    // this thread commits every sink and the consumer offsets (for lag reports only: a restore
    // seeks to the checkpoint's). When every sink can take the next rows before the commit
    // (Sink::overlaps_commits), the run goes on reading while the writer works and commits
    // once it is done (asynchronous checkpoints, docs/streaming.md); otherwise it waits.
    // `final`: the stop, after the input ended (windows were emitted; only upserting state is
    // kept). `all_sinks`: file sinks commit too (the stop). Both wait.
    // This run's last complete checkpoint: what unchanged key groups point at.
    std::optional<CheckpointMetadata> previous_metadata;
    CheckpointWriter writer(checkpoints);
    // A run that fails while a checkpoint is in flight: a complete one keeps what its sinks
    // staged for the next run to commit (recover), as a failed commit does.
    struct SettleInFlight {
        CheckpointWriter& writer;
        AbortUnlessCommitted& abort_guard;
        ~SettleInFlight() {
            if (writer.busy() && writer.wait().completed) abort_guard.committed();
        }
    } settle_in_flight{writer, abort_guard};
    const bool overlapping = prepared.kafka_transaction == nullptr &&
                             std::all_of(prepared.sinks.begin(), prepared.sinks.end(),
                                         [](const PreparedSink& sink) {
                                             // File sinks take part in the stop's checkpoint only,
                                             // which waits anyway.
                                             return sink.spec->kind == SinkKind::kFile ||
                                                    sink.output->overlaps_commits();
                                         }) &&
                             prepared.dead_letter_topic->overlaps_commits();
    struct InFlight {
        uint64_t id = 0;
        bool all_sinks = false;
        Clock::time_point began;
        uint64_t state_bytes = 0;
        /// How long the run's thread stopped for it, when it did not wait for the commits.
        std::optional<std::chrono::microseconds> pause;
    };
    std::optional<InFlight> in_flight;
    // Commit ids are taken from the pipeline's counter in blocks (commit_counter.h).
    constexpr uint64_t kReservedCommitIds = 64;
    uint64_t next_id = 1;
    uint64_t last_reserved_id = 0;
    // Consumer offsets are committed for lag reports only (a restore seeks to the checkpoint's
    // offsets): at most once a second, and at the stop, not at every checkpoint.
    std::optional<std::chrono::steady_clock::time_point> offsets_committed;
    // The state of a sink's plan (below its keyed stage, if any) into checkpoint `id`: whole
    // at this run's first checkpoint and when no operator of the plan can tell its changes;
    // otherwise the changes since the previous checkpoint in a file of their own, the older
    // files hard-linked from the previous checkpoint (incremental checkpoints). Whole again
    // once the files of changes hold more than twice what the run's operators hold (changes
    // that overwrite each other, as an aggregate's do: a restore would read the same keys
    // many times), or past kMaxPlanChangeFiles files. State that only grows (a join's
    // buffered rows) is its changes, so it is not rewritten for their number alone.
    std::vector<uint8_t> plan_saved(prepared.sinks.size(), 0);
    std::vector<uint64_t> plan_changes_bytes(prepared.sinks.size(), 0);
    auto save_plan_state = [&](std::size_t i, CheckpointWrite& write, uint64_t& written) -> Status {
        const uint64_t id = write.metadata.id;
        CheckpointMetadata& metadata = write.metadata;
        ExecutablePlan& plan = *prepared.sinks[i].executable;
        const std::string& identity = shapes[i].identity;
        const CheckpointState* base =
            previous_metadata ? previous_metadata->find_state(identity) : nullptr;
        std::vector<const CheckpointState*> chain;
        if (base != nullptr) chain = previous_metadata->find_state_changes(identity);
        std::optional<std::vector<std::string>> whole;
        const bool outweighs =
            plan_changes_bytes[i] > 2 * std::max<uint64_t>(context.memory_used_bytes, 1 << 20);
        if (plan_saved[i] == 0 || base == nullptr || chain.size() + 1 >= kMaxPlanChangeFiles ||
            outweighs) {
            MILLRACE_ASSIGN_OR_RETURN(whole, plan.serialize_state());
        } else {
            MILLRACE_ASSIGN_OR_RETURN(ExecutablePlan::StateChanges changes,
                                      plan.serialize_state_changes());
            if (std::none_of(changes.changes.begin(), changes.changes.end(),
                             [](uint8_t flag) { return flag != 0; })) {
                whole = std::move(changes.states);  // no operator told its changes
            } else {
                CheckpointWrite::File file{fmt::format("sink-{}.{}.changes", i, id), {}};
                file.parts = plan_state_parts(std::move(changes.states), &changes.changes);
                const uint64_t bytes = file.bytes();
                written += bytes;
                plan_changes_bytes[i] += bytes;
                metadata.states.push_back(*base);
                write.links.emplace_back(previous_metadata->id, base->file);
                for (const CheckpointState* older : chain) {
                    metadata.states.push_back(*older);
                    write.links.emplace_back(previous_metadata->id, older->file);
                    ++report.linked_state_files;
                }
                ++report.linked_state_files;
                CheckpointState entry{identity, file.name, std::nullopt, 0};
                entry.changes = true;
                metadata.states.push_back(std::move(entry));
                write.files.push_back(std::move(file));
                return {};
            }
        }
        CheckpointWrite::File file{fmt::format("sink-{}.state", i), {}};
        file.parts = plan_state_parts(std::move(*whole), nullptr);
        written += file.bytes();
        metadata.states.push_back(CheckpointState{identity, file.name, std::nullopt, 0});
        write.files.push_back(std::move(file));
        plan.mark_state_saved();
        plan_saved[i] = 1;
        plan_changes_bytes[i] = 0;
        return {};
    };
    // The second half of a checkpoint, once its writer is done: the commits.
    auto finish_checkpoint = [&]() -> Status {
        const InFlight taken = *in_flight;
        in_flight.reset();
        CheckpointWriter::Outcome outcome = writer.wait();
        if (!outcome.status.ok()) {
            // Complete, but retention failed: what its sinks staged stays for the next run.
            if (outcome.completed) abort_guard.committed();
            return std::move(outcome.status);
        }
        const uint64_t id = taken.id;
        // The Kafka transaction, when it decides the checkpoint, before every other sink.
        if (Status decided = commit_checkpoint_decision(prepared, id); !decided.ok()) {
            abort_guard.committed();  // as below: the next run settles what was staged
            return std::move(decided).error().with_context(fmt::format(
                "committing checkpoint {} (the next run finds out whether it did)", id));
        }
        crash_point("checkpoint-decided");
        for (PreparedSink& sink : prepared.sinks) {
            if (!taken.all_sinks && sink.spec->kind == SinkKind::kFile) continue;
            Status committed = sink.output->commit(id);
            if (!committed.ok()) {
                // The checkpoint is complete: what its sinks staged must stay for the next
                // run to commit (recover), not be aborted with the failed run.
                abort_guard.committed();
                return std::move(committed).error().with_context(
                    fmt::format("committing checkpoint {} to sink {} (the next run commits it)", id,
                                sink_target(*sink.spec)));
            }
            crash_point("sink-committed");
        }
        // The dead letters of the records the sinks just committed (at-least-once: a replay
        // of this checkpoint publishes them again).
        MILLRACE_TRY(prepared.dead_letter_topic->commit(id));
        const bool commit_offsets = taken.all_sinks || !offsets_committed ||
                                    Clock::now() - *offsets_committed >= std::chrono::seconds(1);
        if (commit_offsets) offsets_committed = Clock::now();
        for (auto& stream : streams) {
            if (stream->topic && commit_offsets)
                MILLRACE_TRY(stream->topic->commit_offsets(*prepared.log));
            if (stream->files) MILLRACE_TRY(stream->files->commit_progress());
            // The group's offsets too, so that a rebalance hands a partition to another
            // member (another `serve` sharing the group) from this checkpoint, not from
            // where the run started. Not fatal: the coordinator refuses commits while the
            // group rebalances, and the next checkpoint commits again (at-least-once).
            if (stream->kafka) {
                if (Status committed = stream->kafka->commit_offsets(); !committed.ok()) {
                    std::fprintf(stderr, "%s (the next checkpoint commits again)\n",
                                 committed.error().message().c_str());
                }
            }
        }
        crash_point("checkpoint-end");
        previous_metadata = std::move(outcome.metadata);
        ++report.checkpoints;
        report.last_checkpoint_duration =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - taken.began);
        report.last_checkpoint_state_bytes = taken.state_bytes;
        report.longest_checkpoint_duration =
            std::max(report.longest_checkpoint_duration, report.last_checkpoint_duration);
        report.checkpoint_state_bytes += taken.state_bytes;
        report.largest_checkpoint_state_bytes =
            std::max(report.largest_checkpoint_state_bytes, taken.state_bytes);
        report.last_checkpoint_pause = taken.pause.value_or(report.last_checkpoint_duration);
        report.longest_checkpoint_pause =
            std::max(report.longest_checkpoint_pause, report.last_checkpoint_pause);
        for (const auto& stream : streams) {
            if (stream->source != nullptr && stream->source->reader != nullptr)
                stream->report->bytes = stream->source->reader->bytes_read();
        }
        if (metrics) {
            metrics->update_checkpoint(report.last_checkpoint_duration.count(),
                                       report.last_checkpoint_pause.count(), taken.state_bytes);
            metrics->update(report.run);
        }
        if (options.progress != nullptr) {
            options.progress->last_commit_micros.store(prepared.clock->now_micros(),
                                                       std::memory_order_relaxed);
        }
        publish_progress();
        return {};
    };
    auto take_checkpoint = [&](bool final, bool all_sinks) -> Result<uint64_t> {
        // One checkpoint at a time: the previous one's commits first (its metadata is what
        // this one's unchanged state points at).
        if (in_flight) MILLRACE_TRY(finish_checkpoint());
        const auto checkpoint_began = Clock::now();
        uint64_t state_bytes_written = 0;
        if (next_id > last_reserved_id) {
            MILLRACE_ASSIGN_OR_RETURN(
                next_id, reserve_commit_ids(project.data_dir, pipeline.name, kReservedCommitIds));
            last_reserved_id = next_id + kReservedCommitIds - 1;
        }
        const uint64_t id = next_id++;
        crash_point("checkpoint-start");
        if (!final) {
            // The barrier makes the upserting aggregates emit the groups changed since the
            // last checkpoint (at the end, finishing their inputs does).
            for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
                for (const ScanInput& input : prepared.sinks[i].executable->inputs()) {
                    const SourceSpec* source = pipeline.find_source(input.source);
                    if (source == nullptr || bounded_file(*source)) continue;
                    const bool ended = std::any_of(streams.begin(), streams.end(), [&](auto& s) {
                        return s->ended && s->source->spec == source;
                    });
                    if (!ended) MILLRACE_TRY(input.entry->on_control(ControlSignal::barrier(id)));
                }
            }
        }
        CheckpointWrite write;
        CheckpointMetadata& metadata = write.metadata;
        metadata.id = id;
        metadata.final = final;
        metadata.created_micros = prepared.clock->now_micros();
        for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
            if (final && !upserting[i]) continue;
            const std::string& identity = shapes[i].identity;
            MILLRACE_TRY(save_plan_state(i, write, state_bytes_written));
            if (!stages[i]) continue;
            // Per key group: the ones that changed since this run's previous checkpoint into
            // one new file, the others pointed at their sections of the older files (hard-linked
            // here): incremental checkpoints.
            MILLRACE_ASSIGN_OR_RETURN(std::vector<KeyGroupSnapshot> groups,
                                      stages[i]->snapshot(id));
            const std::string group_file = fmt::format("sink-{}-kg.{}.state", i, id);
            // The key groups' sections one after the other, as parts (not copied into one
            // string).
            CheckpointWrite::File kg_file{group_file, {}};
            uint64_t kg_bytes = 0;
            auto append_section = [&](std::vector<std::string>&& states,
                                      const std::vector<uint8_t>* changes) {
                for (std::string& part : plan_state_parts(std::move(states), changes)) {
                    kg_bytes += part.size();
                    kg_file.parts.push_back(std::move(part));
                }
            };
            std::set<std::string> older_files;
            for (KeyGroupSnapshot& group : groups) {
                CheckpointState entry{identity,        group_file,
                                      group.key_group, stages[i]->max_key_groups(),
                                      kg_bytes,        0};
                if (group.states && group.changes.empty()) {
                    append_section(std::move(*group.states), nullptr);
                    entry.length = kg_bytes - entry.offset;
                    metadata.states.push_back(std::move(entry));
                    continue;
                }
                // Unchanged, or changed since the previous checkpoint: the entries that
                // restored it there (its whole state and the changes since), then these
                // changes.
                bool found = false;
                if (previous_metadata) {
                    for (const CheckpointState* before :
                         previous_metadata->find_key_groups(identity)) {
                        if (before->key_group != group.key_group) continue;
                        metadata.states.push_back(*before);
                        older_files.insert(before->file);
                        found = true;
                    }
                }
                if (!found) {
                    return Error(ErrorCode::kInternal,
                                 fmt::format("key group {} of sink `{}` has no saved state",
                                             group.key_group, prepared.sinks[i].spec->from));
                }
                if (group.states) {
                    append_section(std::move(*group.states), &group.changes);
                    entry.length = kg_bytes - entry.offset;
                    metadata.states.push_back(std::move(entry));
                }
            }
            if (kg_bytes > 0) {
                state_bytes_written += kg_bytes;
                write.files.push_back(std::move(kg_file));
            }
            for (const std::string& older : older_files) {
                write.links.emplace_back(previous_metadata->id, older);
                ++report.linked_state_files;
            }
            // A key group unchanged for long keeps an old file alive, and each checkpoint adds
            // a file of changes; past kMaxLinkedStateFiles the next checkpoint writes every key
            // group whole again, so a checkpoint holds, and a restore reads, a bounded number
            // of files.
            if (older_files.size() >= kMaxLinkedStateFiles) stages[i]->request_full_snapshot();
        }
        for (const auto& stream : streams) {
            CheckpointSource source;
            source.name = stream->source->spec->name;
            if (stream->topic) {
                for (Offset offset : stream->topic->offsets()) source.offsets.push_back(offset);
            } else if (stream->kafka) {
                source.offsets = stream->kafka->offsets();
            } else if (stream->lake) {
                const SourcePosition at = stream->lake->position();
                source.offsets = {static_cast<int64_t>(at.unit), static_cast<int64_t>(at.offset),
                                  static_cast<int64_t>(at.line)};
            } else if (stream->files) {
                source.offsets.push_back(static_cast<int64_t>(stream->files->position().unit));
            } else if (stream->source->spec->kind == SourceKind::kGenerator) {
                const SourcePosition position = stream->source->reader->position();
                source.offsets.push_back(static_cast<int64_t>(position.offset));
                source.origin_micros = position.origin_micros;
            } else {
                continue;
            }
            const WatermarkTracker::State state =
                stream->before_end ? *stream->before_end : stream->watermark->state();
            source.watermark = state.watermark;
            source.max_events = state.max_events;
            metadata.sources.push_back(std::move(source));
        }
        MILLRACE_ASSIGN_OR_RETURN(metadata.dead_letter_bytes, dead_letters->sync());
        metadata.decided_by = checkpoint_decision(prepared);
        // The writer writes the state while this thread pre-commits the sinks; the metadata
        // waits for both.
        in_flight = InFlight{id, all_sinks, checkpoint_began, state_bytes_written};
        writer.start(std::move(write));
        // File sinks write one file, committed once at the stop; the others every checkpoint.
        for (PreparedSink& sink : prepared.sinks) {
            if (all_sinks || sink.spec->kind != SinkKind::kFile)
                MILLRACE_TRY(sink.output->pre_commit(id));
        }
        MILLRACE_TRY(prepared.dead_letter_topic->pre_commit(id));
        crash_point("sinks-pre-committed");
        writer.sinks_ready();
        if (final || all_sinks || !overlapping) {
            MILLRACE_TRY(finish_checkpoint());
        } else {
            in_flight->pause = std::chrono::duration_cast<std::chrono::microseconds>(
                Clock::now() - checkpoint_began);
        }
        return id;
    };

    constexpr std::size_t kPollRecords = 4096;
    const std::chrono::milliseconds commit_interval =
        options.commit_interval ? *options.commit_interval
        : pipeline.checkpoint_interval
            ? std::chrono::duration_cast<std::chrono::milliseconds>(*pipeline.checkpoint_interval)
            : std::chrono::milliseconds(10000);
    auto last_data = Clock::now();
    auto last_commit = Clock::now();
    // Whether anything moved since the last checkpoint: an idle pipeline (a server's, waiting
    // for records) takes no checkpoint, which would only repeat the last one.
    bool moved = false;
    uint64_t watermarks_checkpointed = 0;
    // The end of one source's input: its windows close, its plan inputs finish.
    auto end_stream = [&](StreamInput& stream) -> Status {
        stream.ended = true;
        stream.before_end = stream.watermark->state();
        stream.watermark->finish();
        MILLRACE_TRY(send_watermark(stream, report.watermarks));
        stream.report->bytes = stream.source->reader->bytes_read();
        if (stream.files) stream.report->files = stream.files->units() - stream.files_before;
        return stream.fan_out->finish();
    };
    // A first run pins where it starts (a `start_from: latest` source's offsets, the
    // dead-letter file's length), so that a crash before the first interval restarts there.
    // So does a run from a savepoint: a crash before its first interval restarts from the
    // savepoint, not from the (newer) latest checkpoint.
    // And a run that dropped state, so that a crash before its first interval does not meet
    // the dropped state again.
    if (!restored || options.from_savepoint || state_plan.drops_state())
        MILLRACE_TRY(take_checkpoint(false, false));
    // The control signal `signal` into sink i's plan, through each of its inputs that can
    // still bring rows (not a bounded file, not an ended source).
    auto signal_inputs = [&](std::size_t i, const ControlSignal& signal) -> Status {
        for (const ScanInput& input : prepared.sinks[i].executable->inputs()) {
            const SourceSpec* source = pipeline.find_source(input.source);
            if (source == nullptr || bounded_file(*source)) continue;
            const bool ended = std::any_of(streams.begin(), streams.end(), [&](auto& s) {
                return s->ended && s->source->spec == source;
            });
            if (!ended) MILLRACE_TRY(input.entry->on_control(signal));
        }
        return {};
    };
    // `emit: { every: ... }` (docs/streaming.md, "Early results"): each such sink's plan gets
    // an early-fire tick this often, by the clock of the checkpoint interval, between polls.
    // A tick with no record read since the previous one has nothing to emit and is skipped; one
    // that goes out counts as movement, so the next checkpoint commits what it emitted.
    std::vector<std::optional<Clock::time_point>> next_fire(prepared.sinks.size());
    std::vector<bool> read_since_fire(prepared.sinks.size(), false);
    for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
        if (const auto& every = prepared.sinks[i].spec->emit_every)
            next_fire[i] = Clock::now() + *every;
    }
    auto fire_early = [&](Clock::time_point now) -> Status {
        for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
            if (!next_fire[i] || now < *next_fire[i]) continue;
            next_fire[i] = now + *prepared.sinks[i].spec->emit_every;
            if (!read_since_fire[i]) continue;
            read_since_fire[i] = false;
            moved = true;
            ++report.early_fires;
            MILLRACE_TRY(signal_inputs(i, ControlSignal::early_fire()));
        }
        return {};
    };
    // Sinks that show a row as soon as it is written (the online store) get an upserting
    // aggregate's changed groups once the run has caught up with its input, not only at the
    // next checkpoint: a publish (ControlSignal::kPublish) after each such poll round. While a
    // backlog is read (full polls) the groups go out at the checkpoints as before, so a hot
    // key is not written once per poll.
    std::vector<std::size_t> published;
    for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
        if (upserting[i] && prepared.sinks[i].spec->kind == SinkKind::kOnline)
            published.push_back(i);
    }
    auto publish = [&]() -> Status {
        for (std::size_t i : published) MILLRACE_TRY(signal_inputs(i, ControlSignal::publish()));
        return {};
    };
    // An idle run waits for the next append to the log (or 20 ms, for sources that are not
    // topics of this process's log) instead of sleeping through it.
    AppendWaiter append_waiter;
    while (true) {
        MILLRACE_TRY(check_reloads(Clock::now()));
        bool any_data = false;
        bool caught_up = true;  // no source returned a full poll
        bool all_ended = !streams.empty();
        const uint64_t appends_seen = prepared.log ? prepared.log->appends().generation() : 0;
        for (auto& stream : streams) {
            if (stream->ended) continue;
            LateFilter filter(*stream, *dead_letters, *prepared.clock);
            const uint64_t read_before = stream->report->rows_read + stream->report->rows_rejected;
            MILLRACE_ASSIGN_OR_RETURN(PollResult result,
                                      stream->source->reader->poll(filter, kPollRecords, &filter));
            MILLRACE_TRY(stream->fan_out->failure());
            if (result == PollResult::kEnd) {
                MILLRACE_TRY(end_stream(*stream));
                continue;
            }
            all_ended = false;
            any_data = any_data || result == PollResult::kData;
            if (stream->report->rows_read + stream->report->rows_rejected - read_before >=
                kPollRecords)
                caught_up = false;
            const int64_t now = prepared.clock->now_micros();
            if (stream->event_column) {
                stream->watermark->advance(now);
            } else {
                stream->watermark->advance_to(now);  // processing time
            }
            MILLRACE_TRY(send_watermark(*stream, report.watermarks));
            crash_point("after-poll");
        }
        if (any_data) read_since_fire.assign(read_since_fire.size(), true);
        MILLRACE_TRY(fire_early(Clock::now()));
        if (any_data && caught_up && !published.empty()) MILLRACE_TRY(publish());
        for (auto& stage : stages) {
            if (stage) MILLRACE_TRY(stage->poll());
        }
        // The commits of a checkpoint whose writer is done.
        if (in_flight && writer.done()) MILLRACE_TRY(finish_checkpoint());
        publish_stage_metrics();
        publish_progress();
        const auto now = Clock::now();
        if (any_data) last_data = now;
        moved = moved || any_data || report.watermarks != watermarks_checkpointed;
        // A checkpoint still being written puts the next one off (rather than wait for it):
        // it is taken once the writer is done, at the end of a poll round.
        if (now - last_commit >= commit_interval && !in_flight) {
            if (moved) {
                MILLRACE_TRY(take_checkpoint(false, false));
                ++report.commits;
                moved = false;
                watermarks_checkpointed = report.watermarks;
                // The interval runs from the end of a checkpoint: one that took longer than
                // the interval still leaves the next interval to the records, instead of a
                // checkpoint after every poll.
                last_commit = Clock::now();
            } else {
                last_commit = now;
            }
        }
        if (all_ended) break;  // nothing more can come
        if (options.should_stop && options.should_stop()) break;
        if (options.duration && now - started >= *options.duration) break;
        if (options.until_idle && now - last_data >= options.idle_for) break;
        if (!any_data) {
            if (prepared.log) {
                append_waiter.wait(prepared.log->appends(), appends_seen,
                                   std::chrono::milliseconds(20));
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
    }
    if (options.savepoint_to) {
        // Stop with a savepoint: the input does not end, so open windows stay open in the
        // savepoint (and in the checkpoint it copies, which the next run restores).
        crash_point("before-final-checkpoint");
        MILLRACE_ASSIGN_OR_RETURN(const uint64_t id, take_checkpoint(false, true));
        MILLRACE_TRY(checkpoints.copy_to(id, *options.savepoint_to));
        report.savepoint = id;
    } else {
        // Stopping ends the input: every open window is emitted (the next run goes on from
        // the stop's checkpoint with no window open), then the stop's checkpoint commits
        // everything.
        for (auto& stream : streams) {
            if (!stream->ended) MILLRACE_TRY(end_stream(*stream));
        }
        crash_point("before-final-checkpoint");
        MILLRACE_TRY(take_checkpoint(true, true));
    }
    ++report.commits;
    abort_guard.committed();
    MILLRACE_TRY(dead_letters->finish());
    // A Kafka source's group offsets move once everything before them committed (a crash
    // in between reads those records again: at-least-once for Kafka sources).
    for (auto& stream : streams) {
        if (stream->kafka) MILLRACE_TRY(stream->kafka->commit_offsets());
    }
    finish_dead_letter_topic(prepared, report.run);
    if (prepared.owned_log) prepared.owned_log->stop();
    for (PreparedSink& sink : prepared.sinks) {
        report.run.sinks.push_back(sink_report(sink));
    }
    publish_stage_metrics();
    for (std::size_t i = 0; i < stages.size(); ++i) {
        if (!stages[i]) continue;
        const KeyedStageStats& stats = stages[i]->stats();
        StageReport stage;
        stage.sink = prepared.sinks[i].spec->from;
        stage.parallelism = stages[i]->parallelism();
        stage.key_groups = stages[i]->max_key_groups();
        stage.records_in = stats.records_in.load();
        stage.records_out = stats.records_out.load();
        stage.queue_peak = stats.queue_peak.load();
        stage.queue_capacity = stages[i]->queue_capacity();
        stage.backpressure_micros = stats.backpressure_micros.load();
        stage.state_bytes = stats.state_bytes.load();
        report.stages.push_back(std::move(stage));
    }
    report.run.dead_letters = dead_letters->count();
    report.run.dead_letter_path = dead_letters->path();
    report.run.dead_letter_reasons = dead_letters->reasons();
    report.run.duration =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    return report;
}

}  // namespace millrace
