#include "pipeline/stream_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "common/durable_file.h"
#include "connectors/dead_letter_writer.h"
#include "connectors/kafka_source.h"
#include "connectors/streaming_topic_source.h"
#include "exec/plan_builder.h"
#include "exec/watermark_tracker.h"
#include "pipeline/commit_counter.h"
#include "pipeline/prepared_run.h"
#include "pipeline/source_fan_out.h"

namespace millrace {

namespace {

/// Collects nothing: the sink of a plan built only to see whether it can be built.
class DiscardSink final : public BatchSink {
public:
    Status push(Batch) override { return {}; }
    Status finish() override { return {}; }
};

bool reads_topic(const sql::LogicalNode& node, const PipelineSpec& pipeline) {
    if (node.kind == sql::LogicalNode::Kind::kScan) {
        const SourceSpec* source = pipeline.find_source(node.source);
        return source != nullptr && source->kind != SourceKind::kFile;
    }
    return std::any_of(node.children.begin(), node.children.end(),
                       [&](const auto& child) { return reads_topic(*child, pipeline); });
}

Status check_joins(const sql::LogicalNode& node, const PipelineSpec& pipeline,
                   const std::string& origin) {
    if (node.kind == sql::LogicalNode::Kind::kJoin && reads_topic(*node.children[1], pipeline)) {
        return Error(ErrorCode::kUnsupported,
                     fmt::format("`{}`: the right side of a join in a streaming pipeline is "
                                 "read whole before the left side streams through it, so it must "
                                 "read files, not topics (stream-stream joins are not built yet)",
                                 origin));
    }
    for (const auto& child : node.children) MILLRACE_TRY(check_joins(*child, pipeline, origin));
    return {};
}

bool reads_generator(const sql::LogicalNode& node, const PipelineSpec& pipeline) {
    if (node.kind == sql::LogicalNode::Kind::kScan) {
        const SourceSpec* source = pipeline.find_source(node.source);
        return source != nullptr && source->kind == SourceKind::kGenerator;
    }
    return std::any_of(node.children.begin(), node.children.end(),
                       [&](const auto& child) { return reads_generator(*child, pipeline); });
}

bool has_unwindowed_aggregate(const sql::LogicalNode& node) {
    if (node.kind == sql::LogicalNode::Kind::kAggregate && !window_end_key(node)) return true;
    return std::any_of(node.children.begin(), node.children.end(),
                       [](const auto& child) { return has_unwindowed_aggregate(*child); });
}

// The saved state of an upserting sink plan: what ExecutablePlan::serialize_state() returned,
//
//   "millrace-upsert-state 1\n", u64 operators, then per operator: u64 size, size bytes
//
// (integers little-endian). Without it a second run would start every group from nothing and
// overwrite the table with the new records' aggregates only.
std::string upsert_state_path(const Project& project, const PipelineSpec& pipeline,
                              std::size_t sink_index) {
    return fmt::format("{}/state/{}/sink-{}.state", project.data_dir, pipeline.name, sink_index);
}

constexpr std::string_view kUpsertStateMagic = "millrace-upsert-state 1\n";

void put_u64(std::string& out, uint64_t value) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

Status save_upsert_state(const std::string& path, const ExecutablePlan& plan) {
    MILLRACE_ASSIGN_OR_RETURN(std::vector<std::string> states, plan.serialize_state());
    std::string out(kUpsertStateMagic);
    put_u64(out, states.size());
    for (const std::string& state : states) {
        put_u64(out, state.size());
        out += state;
    }
    MILLRACE_TRY(create_parent_directories_durably(path));
    return write_file_durably(path, out);
}

Status restore_upsert_state(const std::string& path, ExecutablePlan& plan) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return {};
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string bytes = buffer.str();
    auto corrupt = [&](std::string_view why) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{}: {}; it holds the groups of an earlier run of this upserting "
                                 "aggregate (delete it to start the table from nothing)",
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
    Status restored = plan.restore_state(states);
    if (!restored.ok()) return corrupt(restored.error().message());
    return {};
}

/// One streaming (topic) source in the run: its reader, the plan inputs it feeds, its
/// watermark, and the fan-out that applies its checks.
struct StreamInput {
    PreparedSource* source = nullptr;
    StreamingTopicSource* topic = nullptr;  // null for a generator or a kafka source
    KafkaSource* kafka = nullptr;           // a kafka source
    bool ended = false;                     // a generator past its limit
    std::vector<const ScanInput*> inputs;
    std::unique_ptr<SourceFanOut> fan_out;
    std::unique_ptr<WatermarkTracker> watermark;
    std::optional<std::size_t> event_column;  // index in the source's schema
    std::optional<int64_t> sent;              // the last watermark sent into the plans
    SourceReport* report = nullptr;
};

/// Between the decoder and the source's fan-out: records later than the watermark go to the
/// dead letters with reason `late`; the others update their partition's watermark.
class LateFilter final : public DecodeSink, public SourceReader::Listener {
public:
    LateFilter(StreamInput& input, DeadLetterWriter& dead_letters, const Clock& clock)
        : input_(input), dead_letters_(dead_letters), clock_(clock) {}

    void on_unit_start(const std::string& where) override { input_.fan_out->on_unit_start(where); }
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
                dead_letters_.add_row("watermark", "source", input_.source->spec->name, "late",
                                      row_to_json(batch, row));
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

bool sink_takes_upserts(const SinkSpec& sink) {
    // A keyed topic is a changelog: its readers (a compacting consumer, a topic source feeding
    // an online sink) keep the newest record per key.
    return sink.kind == SinkKind::kOnline || (sink.kind == SinkKind::kTopic && !sink.key.empty());
}

Status check_streaming_plan(const sql::LogicalNode& plan, const PipelineSpec& pipeline,
                            const SinkSpec& sink) {
    const std::string& origin = sink.from;
    MILLRACE_TRY(check_joins(plan, pipeline, origin));
    ExecContext context;
    DiscardSink discard;
    const bool upserts = sink_takes_upserts(sink);
    auto built = build_plan(plan, discard, context, origin,
                            upserts ? PlanMode::kStreamingUpsert : PlanMode::kStreaming);
    if (built.ok()) return {};
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
    const std::string dead_letter_path =
        prepared.dead_letter_sink != nullptr && prepared.dead_letter_sink->kind == SinkKind::kFile
            ? prepared.dead_letter_sink->path
            : fmt::format("{}/dead_letter/{}.ndjson", project.data_dir, pipeline.name);
    MILLRACE_ASSIGN_OR_RETURN(
        std::unique_ptr<DeadLetterWriter> dead_letters,
        DeadLetterWriter::create(dead_letter_path, pipeline.name, prepared.input_files));
    context.memory_limit_bytes = options.memory_limit_bytes;
    context.clock = prepared.clock.get();
    context.dead_letter = [&](DeadLetterRow row) {
        dead_letters->add_row("evaluate", "view", row.origin, row.reason, row.row_json);
    };
    MILLRACE_TRY(build_sink_plans(prepared, context, *dead_letters, PlanMode::kStreaming));
    // Upserting aggregates go on from the groups the previous run saved.
    std::vector<bool> upserting(prepared.sinks.size(), false);
    std::vector<bool> keeps_state(prepared.sinks.size(), false);
    for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
        upserting[i] = sink_takes_upserts(*prepared.sinks[i].spec) &&
                       has_unwindowed_aggregate(*prepared.sinks[i].plan);
        // A generator has no offsets: each run makes its records again, so it starts afresh.
        keeps_state[i] = upserting[i] && !reads_generator(*prepared.sinks[i].plan, pipeline);
        if (keeps_state[i]) {
            MILLRACE_TRY(restore_upsert_state(upsert_state_path(project, pipeline, i),
                                              *prepared.sinks[i].executable));
        }
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
        if (source.spec->kind != SourceKind::kFile) continue;
        auto it = inputs.find(source.spec->name);
        if (it == inputs.end()) continue;
        SourceFanOut fan_out(*source.spec, source.checks, it->second, *dead_letters,
                             report.run.sources[i]);
        MILLRACE_TRY(source.reader->read_to_end(fan_out, &fan_out));
        report.run.sources[i].bytes = source.reader->bytes_read();
        MILLRACE_TRY(fan_out.finish());
    }
    std::vector<std::unique_ptr<StreamInput>> streams;
    const int64_t start_micros = prepared.clock->now_micros();
    for (std::size_t i = 0; i < prepared.sources.size(); ++i) {
        PreparedSource& source = prepared.sources[i];
        if (source.spec->kind == SourceKind::kFile) continue;
        auto stream = std::make_unique<StreamInput>();
        stream->source = &source;
        if (source.spec->kind == SourceKind::kTopic)
            stream->topic = static_cast<StreamingTopicSource*>(source.reader.get());
        if (source.spec->kind == SourceKind::kKafka)
            stream->kafka = static_cast<KafkaSource*>(source.reader.get());
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
        stream->watermark = std::make_unique<WatermarkTracker>(
            source.reader->units(), source.spec->watermark_delay.count(),
            source.spec->allowed_lateness.count(), source.spec->idle_timeout.count(), start_micros);
        streams.push_back(std::move(stream));
    }

    auto commit_sinks = [&](bool final) -> Status {
        // File sinks write one file, committed once at the end; the others commit now.
        bool any = false;
        for (PreparedSink& sink : prepared.sinks)
            any = any || final || sink.spec->kind != SinkKind::kFile;
        if (!any) return {};
        MILLRACE_ASSIGN_OR_RETURN(const uint64_t commit_id,
                                  next_commit_id(project.data_dir, pipeline.name));
        if (!final) {
            // A barrier makes the upserting aggregates emit the groups changed since the last
            // commit (at the end, finishing their inputs does).
            for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
                if (!upserting[i]) continue;
                for (const ScanInput& input : prepared.sinks[i].executable->inputs()) {
                    const SourceSpec* source = pipeline.find_source(input.source);
                    if (source == nullptr || source->kind == SourceKind::kFile) continue;
                    MILLRACE_TRY(input.entry->on_control(ControlSignal::barrier(commit_id)));
                }
            }
        }
        for (PreparedSink& sink : prepared.sinks) {
            if (final || sink.spec->kind != SinkKind::kFile)
                MILLRACE_TRY(sink.output->pre_commit(commit_id));
        }
        for (PreparedSink& sink : prepared.sinks) {
            if (final || sink.spec->kind != SinkKind::kFile)
                MILLRACE_TRY(sink.output->commit(commit_id));
        }
        ++report.commits;
        return {};
    };

    constexpr std::size_t kPollRecords = 4096;
    const std::chrono::milliseconds commit_interval =
        options.commit_interval ? *options.commit_interval
        : pipeline.checkpoint_interval
            ? std::chrono::duration_cast<std::chrono::milliseconds>(*pipeline.checkpoint_interval)
            : std::chrono::milliseconds(10000);
    auto last_data = Clock::now();
    auto last_commit = Clock::now();
    // The end of one source's input: its windows close, its plan inputs finish.
    auto end_stream = [&](StreamInput& stream) -> Status {
        stream.ended = true;
        stream.watermark->finish();
        MILLRACE_TRY(send_watermark(stream, report.watermarks));
        stream.report->bytes = stream.source->reader->bytes_read();
        return stream.fan_out->finish();
    };
    while (true) {
        bool any_data = false;
        bool all_ended = !streams.empty();
        for (auto& stream : streams) {
            if (stream->ended) continue;
            LateFilter filter(*stream, *dead_letters, *prepared.clock);
            MILLRACE_ASSIGN_OR_RETURN(PollResult result,
                                      stream->source->reader->poll(filter, kPollRecords, &filter));
            MILLRACE_TRY(stream->fan_out->failure());
            if (result == PollResult::kEnd) {
                MILLRACE_TRY(end_stream(*stream));
                continue;
            }
            all_ended = false;
            any_data = any_data || result == PollResult::kData;
            const int64_t now = prepared.clock->now_micros();
            if (stream->event_column) {
                stream->watermark->advance(now);
            } else {
                stream->watermark->advance_to(now);  // processing time
            }
            MILLRACE_TRY(send_watermark(*stream, report.watermarks));
        }
        const auto now = Clock::now();
        if (any_data) last_data = now;
        if (now - last_commit >= commit_interval) {
            MILLRACE_TRY(commit_sinks(false));
            last_commit = now;
        }
        if (all_ended) break;  // nothing more can come
        if (options.should_stop && options.should_stop()) break;
        if (options.duration && now - started >= *options.duration) break;
        if (options.until_idle && now - last_data >= options.idle_for) break;
        if (!any_data) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // Stopping ends the input: every open window is emitted (state is not checkpointed, so a
    // window held open past the run would be lost), then everything commits.
    for (auto& stream : streams) {
        if (!stream->ended) MILLRACE_TRY(end_stream(*stream));
    }
    MILLRACE_TRY(commit_sinks(true));
    abort_guard.committed();
    // After the sinks (a run killed before this re-reads its records into the previous state)
    // and before the offsets; between the two, records are counted twice: at-least-once, as
    // the rest of this slice, until checkpoints save state and offsets together.
    for (std::size_t i = 0; i < prepared.sinks.size(); ++i) {
        if (keeps_state[i]) {
            MILLRACE_TRY(save_upsert_state(upsert_state_path(project, pipeline, i),
                                           *prepared.sinks[i].executable));
        }
    }
    MILLRACE_TRY(dead_letters->finish());
    MILLRACE_TRY(publish_dead_letters(prepared, *dead_letters));
    // Offsets last: a run killed before this point is read again from the previous offsets
    // (at-least-once until checkpoints), never skipped.
    for (auto& stream : streams) {
        if (stream->topic) MILLRACE_TRY(stream->topic->commit_offsets(*prepared.log));
        if (stream->kafka) MILLRACE_TRY(stream->kafka->commit_offsets());
    }
    if (prepared.owned_log) prepared.owned_log->stop();
    for (PreparedSink& sink : prepared.sinks) {
        report.run.sinks.push_back(SinkReport{sink.spec->from, sink_target(*sink.spec),
                                              sink.output->rows_written(),
                                              sink.plan ? sink.plan->schema : nullptr});
    }
    report.run.dead_letters = dead_letters->count();
    report.run.dead_letter_path = dead_letters->path();
    report.run.dead_letter_reasons = dead_letters->reasons();
    report.run.duration =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    return report;
}

}  // namespace millrace
