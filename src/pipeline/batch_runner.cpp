#include "pipeline/batch_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/clock.h"
#include "common/mapped_file.h"
#include "common/suggest.h"
#include "connectors/blackhole_sink.h"
#include "connectors/dead_letter_topic.h"
#include "connectors/dead_letter_writer.h"
#include "connectors/feature_writer.h"
#include "connectors/file_sink.h"
#include "connectors/file_source.h"
#include "connectors/generator_source.h"
#include "connectors/kafka_sink.h"
#include "connectors/kafka_source.h"
#include "connectors/lake_sink.h"
#include "connectors/lake_source.h"
#include "connectors/online_sink.h"
#include "connectors/streaming_file_source.h"
#include "connectors/streaming_lake_source.h"
#include "connectors/streaming_topic_source.h"
#include "connectors/topic_sink.h"
#include "connectors/topic_source.h"
#include "exec/plan_builder.h"
#include "log/log.h"
#include "log/topic.h"
#include "pipeline/commit_counter.h"
#include "pipeline/dataset_rules.h"
#include "pipeline/pipeline_catalog.h"
#include "pipeline/prepared_run.h"
#include "pipeline/source_fan_out.h"
#include "pipeline/stream_runner.h"
#include "sql/optimizer.h"
#include "storage/object_store.h"

namespace millrace {

SinkReport sink_report(const PreparedSink& sink) {
    SinkReport report{sink.spec->from, sink_target(*sink.spec), sink.output->rows_written(),
                      sink.plan ? sink.plan->schema : nullptr};
    if (sink.plan) report.column_origins = sql::column_origins(*sink.plan);
    return report;
}

std::string sink_target(const SinkSpec& sink) {
    switch (sink.kind) {
        case SinkKind::kFile:
            return fmt::format("file {}", sink.path);
        case SinkKind::kLake:
            return fmt::format("lake table {}", sink.table);
        case SinkKind::kOnline:
            return fmt::format("online feature view {}", sink.feature_view);
        case SinkKind::kTopic:
            return fmt::format("topic {}", sink.topic);
        case SinkKind::kKafka:
            return fmt::format("kafka topic {}", sink.topic);
        case SinkKind::kBlackhole:
            return "blackhole";
    }
    return "?";
}

namespace {

/// The two-phase-commit writer id of a lake sink: its staging folder. Runs of one pipeline for
/// different intervals (a backfill with --concurrency) must not share it; a retried run keeps
/// its id and so takes over what its failed attempt staged.
std::string lake_writer_id(const std::string& pipeline, std::size_t sink, const std::string& tag) {
    std::string id = fmt::format("{}-{}", pipeline, sink);
    if (tag.empty()) return id;
    id += '-';
    for (char c : tag) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_';
        id += plain ? c : '-';
    }
    return id;
}

/// A streaming lake sink's writer id: named after the view it writes, not its position, so that
/// what a killed run pre-committed is found by the restarted one even if sinks were added or
/// reordered in between (the table's staging holds one folder per writer id).
std::string streaming_lake_writer_id(const std::string& pipeline, const std::string& view) {
    std::string id = pipeline + "-";
    for (char c : view) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_';
        id += plain ? c : '-';
    }
    return id;
}

/// The feature view an online sink names, with a did-you-mean when there is none.
Result<const FeatureView*> find_feature_view(const std::vector<FeatureView>& views,
                                             const SinkSpec& sink) {
    std::vector<std::string> names;
    for (const FeatureView& view : views) {
        if (view.name == sink.feature_view) return &view;
        names.push_back(view.name);
    }
    std::string message =
        fmt::format("online sink: feature view `{}` is not defined", sink.feature_view);
    if (auto near = closest_match(sink.feature_view, names)) {
        message += fmt::format("; did you mean `{}`?", *near);
    } else if (names.empty()) {
        message += " (add a features/*.yaml file and include it in millrace.yaml)";
    }
    return Error(ErrorCode::kNotFound, std::move(message), sink.location);
}

}  // namespace

namespace {

/// What neither runtime takes: generators in batch runs, checks on views, dead letters to a lake
/// table or the online store.
void check_common_support(const PipelineSpec& pipeline, std::vector<Error>& errors) {
    const std::string_view runs = pipeline.mode == PipelineMode::kBatch ? "batch" : "streaming";
    for (const SourceSpec& source : pipeline.sources) {
        if (source.kind == SourceKind::kFile || source.kind == SourceKind::kTopic ||
            source.kind == SourceKind::kKafka)
            continue;
        // A generator never ends: only a streaming run can take one.
        if (source.kind == SourceKind::kGenerator && pipeline.mode == PipelineMode::kStreaming)
            continue;
        // A lake table: read as of a snapshot (batch), or followed snapshot by snapshot.
        if (source.kind == SourceKind::kLake) continue;
        errors.emplace_back(ErrorCode::kUnsupported,
                            fmt::format("source `{}`: {} sources are not available to {} runs "
                                        "in this build; use a file, topic or kafka source",
                                        source.name, enum_name(source.kind), runs),
                            source.location);
    }
    for (const CheckSpec& check : pipeline.checks) {
        if (pipeline.mode == PipelineMode::kStreaming && check.dataset_level()) {
            errors.emplace_back(ErrorCode::kUnsupported,
                                fmt::format("check {} on `{}`: dataset rules (row_count, unique, "
                                            "freshness, `mostly`) run in batch pipelines only",
                                            enum_name(check.kind), check.target),
                                check.location);
            continue;
        }
        if (pipeline.find_source(check.target) != nullptr) continue;
        if (pipeline.mode == PipelineMode::kStreaming) {
            errors.emplace_back(ErrorCode::kUnsupported,
                                fmt::format("checks on views (`{}`) run in batch pipelines only; "
                                            "put the check on a source or filter in the view",
                                            check.target),
                                check.location);
            continue;
        }
        // A view's checks run on the rows its sinks read; a view only other views read has
        // no such place.
        const bool read_by_sink =
            std::any_of(pipeline.sinks.begin(), pipeline.sinks.end(),
                        [&](const SinkSpec& sink) { return sink.from == check.target; });
        if (!read_by_sink) {
            errors.emplace_back(ErrorCode::kUnsupported,
                                fmt::format("checks on view `{}`: no sink reads the view, and its "
                                            "checks run on the rows its sinks read; add a sink "
                                            "from it or put the check on the view that is sunk",
                                            check.target),
                                check.location);
        }
    }
    for (const SinkSpec& sink : pipeline.sinks) {
        if (sink.from != kDeadLetterName || sink.kind == SinkKind::kFile ||
            sink.kind == SinkKind::kTopic) {
            continue;
        }
        errors.emplace_back(ErrorCode::kUnsupported,
                            fmt::format("dead letters of a {} run go to a file or topic sink; "
                                        "{} is not available in this build",
                                        runs, sink_target(sink)),
                            sink.location);
    }
}

}  // namespace

void check_batch_support(const PipelineSpec& pipeline, std::vector<Error>& errors) {
    if (pipeline.mode != PipelineMode::kBatch) {
        errors.emplace_back(ErrorCode::kUnsupported,
                            fmt::format("pipeline `{}` has mode: streaming; it runs with the "
                                        "streaming runtime (`millrace run`), not as a batch run",
                                        pipeline.name),
                            pipeline.location);
        return;
    }
    check_common_support(pipeline, errors);
}

void check_streaming_support(const PipelineSpec& pipeline, std::vector<Error>& errors) {
    check_common_support(pipeline, errors);
    // Exactly-once: every kafka: sink commits in the pipeline's one Kafka transaction
    // (connectors/kafka_transaction.h), so all of them must reach the same cluster alike.
    const SinkSpec* first = nullptr;
    for (const SinkSpec& sink : pipeline.sinks) {
        if (sink.kind != SinkKind::kKafka) continue;
        if (first == nullptr) {
            first = &sink;
        } else if (sink.brokers != first->brokers || sink.properties != first->properties) {
            errors.push_back(Error(
                ErrorCode::kConfig,
                fmt::format("sink {}: the kafka sinks of a streaming pipeline commit in one Kafka "
                            "transaction, so they must name the same brokers and properties as "
                            "the first one ({}; another cluster cannot commit atomically with it)",
                            sink_target(sink), sink_target(*first)),
                sink.location));
        }
    }
}

namespace {

/// A file sink writing into a watched folder would have its rows read back as input at the
/// next scan: refused at the sink.
Status check_watched_folders(const PipelineSpec& pipeline) {
    if (pipeline.mode != PipelineMode::kStreaming) return {};
    for (const SourceSpec& source : pipeline.sources) {
        if (source.kind != SourceKind::kFile || !source.watch) continue;
        for (const SinkSpec& sink : pipeline.sinks) {
            if (sink.kind != SinkKind::kFile || !watched_folder_holds(source, sink.path)) continue;
            return Error(ErrorCode::kConfig,
                         fmt::format("the file sink of `{}` writes {}, in the folder that source "
                                     "`{}` watches: its rows would be read back as input; write "
                                     "it outside the folder",
                                     sink.from, sink.path, source.name),
                         sink.location);
        }
    }
    return {};
}

}  // namespace

std::string streaming_file_progress_path(const Project& project, const std::string& pipeline,
                                         const std::string& source) {
    return fmt::format("{}/state/{}/files-{}.progress", project.data_dir, pipeline, source);
}

Result<Prepared> prepare_run(const Project& project, const PipelineSpec& pipeline,
                             bool open_outputs, const std::string& run_tag,
                             const SharedServices& shared) {
    const bool streaming = pipeline.mode == PipelineMode::kStreaming;
    {
        std::vector<Error> unsupported;
        if (streaming) {
            check_streaming_support(pipeline, unsupported);
        } else {
            check_batch_support(pipeline, unsupported);
        }
        if (!unsupported.empty()) return unsupported.front();
    }
    Prepared prepared;
    std::map<std::string, std::shared_ptr<const Schema>> schemas;
    bool needs_log = false;
    bool writes_log = false;
    for (const SourceSpec& source : pipeline.sources)
        needs_log = needs_log || source.kind == SourceKind::kTopic;
    for (const SinkSpec& sink : pipeline.sinks)
        writes_log = writes_log || (open_outputs && sink.kind == SinkKind::kTopic);
    if (shared.log != nullptr) {
        prepared.log = shared.log;  // a server's log: appends are seen as they happen
        prepared.log_writable = true;
    } else if (needs_log || writes_log) {
        // Topic sources read beside a running `millrace serve`; topic sinks need the log's
        // writer lock (kUnavailable naming the process that holds it).
        LogOptions log_options;
        // A streaming run commits its consumer offsets and sees appends as they happen, which
        // only the log's writer does.
        // (`explain` only needs schemas: it reads beside a server like a batch run.)
        log_options.access = writes_log || (streaming && open_outputs) ? LogAccess::kReadWrite
                                                                       : LogAccess::kReadOnly;
        prepared.log_writable = log_options.access == LogAccess::kReadWrite;
        log_options.command = "millrace run " + pipeline.name;
        auto log = Log::open(project.data_dir, *prepared.clock, log_options);
        if (!log.ok()) return std::move(log).error().with_context("opening the log");
        prepared.owned_log = std::move(log).value();
        prepared.log = prepared.owned_log.get();
    }
    for (const SourceSpec& source : pipeline.sources) {
        std::unique_ptr<SourceReader> reader;
        if (source.kind == SourceKind::kFile && source.watch && streaming) {
            // A watched folder: its progress (the files read) is kept beside the pipeline's
            // other state; only a run that writes its outputs saves it.
            MILLRACE_ASSIGN_OR_RETURN(
                reader, StreamingFileSource::open(
                            source, open_outputs ? streaming_file_progress_path(
                                                       project, pipeline.name, source.name)
                                                 : std::string()));
        } else if (source.kind == SourceKind::kFile) {
            MILLRACE_ASSIGN_OR_RETURN(auto files, FileSource::open(source));
            // File sinks and dead letters must not write over what the run reads.
            prepared.input_files.insert(prepared.input_files.end(), files->files().begin(),
                                        files->files().end());
            reader = std::move(files);
        } else if (source.kind == SourceKind::kTopic && streaming && open_outputs) {
            MILLRACE_ASSIGN_OR_RETURN(
                reader,
                StreamingTopicSource::open(source, *prepared.log,
                                           StreamingTopicSource::consumer_name(pipeline.name)));
        } else if (source.kind == SourceKind::kTopic) {
            MILLRACE_ASSIGN_OR_RETURN(reader, TopicSource::open(source, *prepared.log));
        } else if (source.kind == SourceKind::kKafka) {
            MILLRACE_ASSIGN_OR_RETURN(
                reader, KafkaSource::open(
                            source, StreamingTopicSource::consumer_name(pipeline.name),
                            streaming ? KafkaSource::Mode::kUnbounded : KafkaSource::Mode::kBounded,
                            open_outputs));
        } else if (source.kind == SourceKind::kGenerator && streaming) {
            MILLRACE_ASSIGN_OR_RETURN(reader, GeneratorSource::open(source, *prepared.clock));
        } else if (source.kind == SourceKind::kLake && streaming) {
            // Followed from its position in the pipeline's checkpoints (the run seeks to it).
            MILLRACE_ASSIGN_OR_RETURN(reader, StreamingLakeSource::open(source, project.data_dir));
        } else if (source.kind == SourceKind::kLake) {
            // Only a run that commits its sinks moves an incremental source's progress.
            MILLRACE_ASSIGN_OR_RETURN(
                reader,
                LakeSource::open(source, project.data_dir,
                                 open_outputs ? lake_source_progress_path(
                                                    project.data_dir, pipeline.name, source.name)
                                              : std::string()));
        } else {
            return Error(ErrorCode::kUnsupported,
                         fmt::format("source `{}`: {} sources are not available to batch runs in "
                                     "this build; use a file or topic source",
                                     source.name, enum_name(source.kind)),
                         source.location);
        }
        schemas[source.name] = reader->schema();
        PreparedSource p;
        p.spec = &source;
        MILLRACE_ASSIGN_OR_RETURN(p.checks, bind_checks(pipeline, source, *reader->schema()));
        if (!streaming) {
            MILLRACE_ASSIGN_OR_RETURN(DatasetRules rules,
                                      DatasetRules::bind(pipeline, source.name, *reader->schema()));
            MILLRACE_TRY(rules.load_references(project.data_dir));
            if (!rules.empty()) prepared.rules.emplace(source.name, std::move(rules));
        }
        p.reader = std::move(reader);
        prepared.sources.push_back(std::move(p));
    }
    MILLRACE_TRY(check_function_resources(project));
    MILLRACE_TRY(check_watched_folders(pipeline));
    PipelineCatalog catalog(pipeline, schemas, function_resources(project));
    MILLRACE_TRY(catalog.bind_all_views());
    for (const SinkSpec& sink : pipeline.sinks) {
        if (sink.from == kDeadLetterName) {
            if (sink.kind != SinkKind::kFile && sink.kind != SinkKind::kTopic) {
                return Error(
                    ErrorCode::kUnsupported,
                    fmt::format("dead letters of a batch run go to a file or topic sink; {} is not "
                                "available in this build",
                                sink_target(sink)),
                    sink.location);
            }
            prepared.dead_letter_sink = &sink;
            continue;
        }
        auto plan = catalog.relation(sink.from);
        if (!plan.ok()) {
            Error e = std::move(plan).error();
            if (!e.location().known()) e = std::move(e).with_location(sink.from_location);
            return e;
        }
        PreparedSink p;
        p.spec = &sink;
        p.plan = std::move(plan).value();
        sql::optimize(p.plan);
        if (pipeline.find_view(sink.from) != nullptr) {
            MILLRACE_ASSIGN_OR_RETURN(p.checks, bind_checks(pipeline, sink.from, *p.plan->schema));
            if (prepared.rules.count(sink.from) == 0) {
                MILLRACE_ASSIGN_OR_RETURN(DatasetRules rules,
                                          DatasetRules::bind(pipeline, sink.from, *p.plan->schema));
                MILLRACE_TRY(rules.load_references(project.data_dir));
                if (!rules.empty()) prepared.rules.emplace(sink.from, std::move(rules));
            }
            p.has_rules = prepared.rules.count(sink.from) > 0;
        }
        if (sink.kind == SinkKind::kLake) {
            for (const std::string& column : sink.key) {
                if (!p.plan->schema->index_of(column)) {
                    return Error(ErrorCode::kConfig,
                                 fmt::format("sink {}: upsert key column `{}` is not a column of "
                                             "`{}`",
                                             sink_target(sink), column, sink.from),
                                 sink.location);
                }
            }
        }
        if (sink.kind == SinkKind::kOnline) {
            if (prepared.feature_views.empty()) {
                MILLRACE_ASSIGN_OR_RETURN(prepared.feature_views,
                                          load_feature_views(project, nullptr));
            }
            MILLRACE_ASSIGN_OR_RETURN(p.feature_view,
                                      find_feature_view(prepared.feature_views, sink));
            auto mapped = OnlineSink::map_columns(*p.feature_view, *p.plan->schema, sink.key,
                                                  sink.event_time);
            if (!mapped.ok()) {
                return Error(
                    mapped.error().code(),
                    fmt::format("sink {}: {}", sink_target(sink), mapped.error().message()),
                    sink.location);
            }
        } else if (open_outputs && sink.kind == SinkKind::kFile) {
            MILLRACE_ASSIGN_OR_RETURN(
                p.output,
                FileSink::create(sink.path, sink.format, p.plan->schema, prepared.input_files));
        } else if (open_outputs && sink.kind == SinkKind::kLake) {
            std::optional<ObjectStoreConfig> storage;
            if (project.lake_storage) {
                storage =
                    ObjectStoreConfig{project.lake_storage->storage, project.lake_storage->endpoint,
                                      project.lake_storage->region};
            }
            MILLRACE_ASSIGN_OR_RETURN(
                p.output,
                LakeSink::create(
                    project.data_dir, sink.table, sink.partition_by, p.plan->schema,
                    streaming ? streaming_lake_writer_id(pipeline.name, sink.from)
                              : lake_writer_id(pipeline.name, prepared.sinks.size(), run_tag),
                    sink.upsert ? LakeSinkMode::kUpsert
                    : streaming ? LakeSinkMode::kAppend
                                : LakeSinkMode::kOverwrite,
                    sink.key, storage ? &*storage : nullptr, sink.add_columns));
        } else if (sink.kind == SinkKind::kBlackhole) {
            if (open_outputs) p.output = std::make_unique<BlackholeSink>();
        } else if (sink.kind == SinkKind::kKafka) {
            for (const std::string& column : sink.key) {
                if (!p.plan->schema->index_of(column)) {
                    return Error(ErrorCode::kConfig,
                                 fmt::format("sink {}: key column `{}` is not a column of `{}`",
                                             sink_target(sink), column, sink.from),
                                 sink.location);
                }
            }
            if (open_outputs && streaming) {
                // Exactly-once: every kafka: sink of a streaming run writes through the
                // pipeline's one transaction, which must then reach one cluster only.
                if (!prepared.kafka_transaction) {
                    MILLRACE_ASSIGN_OR_RETURN(
                        const std::string id,
                        kafka_transactional_id(project.data_dir, pipeline.name));
                    const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(
                        pipeline.checkpoint_interval.value_or(std::chrono::seconds(10)));
                    MILLRACE_ASSIGN_OR_RETURN(prepared.kafka_transaction,
                                              KafkaTransaction::create(sink, id, interval));
                } else if (!prepared.kafka_transaction->serves(sink)) {
                    return Error(ErrorCode::kConfig,
                                 fmt::format("sink {}: the kafka sinks of a streaming pipeline "
                                             "commit in one Kafka transaction, so they must name "
                                             "the same brokers and properties (another cluster "
                                             "cannot commit atomically with the first)",
                                             sink_target(sink)),
                                 sink.location);
                }
                MILLRACE_ASSIGN_OR_RETURN(
                    p.output,
                    KafkaSink::create(sink, *p.plan->schema, prepared.kafka_transaction.get()));
            } else if (open_outputs) {
                MILLRACE_ASSIGN_OR_RETURN(p.output, KafkaSink::create(sink, *p.plan->schema));
            }
        } else if (open_outputs) {
            MILLRACE_ASSIGN_OR_RETURN(
                p.output, TopicSink::create(*prepared.log, sink.topic,
                                            sink.key.empty() ? std::string() : sink.key.front(),
                                            *p.plan->schema));
        }
        prepared.sinks.push_back(std::move(p));
    }
    if (open_outputs && !prepared.feature_views.empty() && shared.online != nullptr) {
        prepared.features.writer = make_store_feature_writer(*shared.online);
    } else if (open_outputs && !prepared.feature_views.empty()) {
        auto opened = open_feature_writer(project, prepared.feature_views);
        if (!opened.ok()) return std::move(opened).error().with_context("opening the online store");
        prepared.features = std::move(opened).value();
    }
    return prepared;
}

Status build_sink_plans(Prepared& prepared, ExecContext& context, DeadLetterWriter& dead_letters,
                        PlanMode mode, const PlanOptions& options) {
    for (PreparedSink& sink : prepared.sinks) {
        if (sink.feature_view != nullptr) {
            const std::string from = sink.spec->from;
            DeadLetterWriter* writer = &dead_letters;
            MILLRACE_ASSIGN_OR_RETURN(
                sink.output,
                OnlineSink::create(
                    *prepared.features.writer, *sink.feature_view, *sink.plan->schema,
                    sink.spec->key, sink.spec->event_time,
                    [writer, from](const std::string& reason, const Batch& batch, std::size_t row) {
                        writer->add_row("sink", "view", from, reason, row_to_json(batch, row));
                    }));
        }
        sink.input = std::make_unique<SinkInput>(*sink.output);
        BatchSink* end = sink.input.get();
        if (!sink.checks.empty() || sink.has_rules) {
            // The first sink reading the view records its failures and feeds its dataset
            // rules; the others only filter.
            const bool first = prepared.view_checks.count(sink.spec->from) == 0;
            CheckCounts* counts = &prepared.view_checks[sink.spec->from];
            DatasetRules* rules = nullptr;
            if (first && sink.has_rules) rules = &prepared.rules.at(sink.spec->from);
            sink.checked = std::make_unique<CheckedInput>(sink.checks, sink.spec->from, *sink.input,
                                                          first ? &dead_letters : nullptr,
                                                          first ? counts : nullptr, rules);
            end = sink.checked.get();
        }
        const PlanMode sink_mode = mode == PlanMode::kStreaming && sink_takes_upserts(*sink.spec)
                                       ? PlanMode::kStreamingUpsert
                                       : mode;
        MILLRACE_ASSIGN_OR_RETURN(sink.executable, build_plan(*sink.plan, *end, context,
                                                              sink.spec->from, sink_mode, options));
    }
    return {};
}

std::string dead_letter_topic_name(const PipelineSpec& pipeline) {
    for (const SinkSpec& sink : pipeline.sinks) {
        if (sink.from == kDeadLetterName && sink.kind == SinkKind::kTopic) return sink.topic;
    }
    return DeadLetterTopic::default_topic(pipeline.name);
}

CheckpointDecision checkpoint_decision(const Prepared& prepared) {
    const KafkaTransaction* transaction = prepared.kafka_transaction.get();
    if (transaction == nullptr || !transaction->deciding()) return {};
    return CheckpointDecision{transaction->kind(), transaction->name()};
}

Status commit_checkpoint_decision(Prepared& prepared, uint64_t id) {
    if (!prepared.kafka_transaction) return {};
    return prepared.kafka_transaction->commit(id);
}

Status open_dead_letter_topic(Prepared& prepared, const Project& project,
                              const PipelineSpec& pipeline, DeadLetterWriter& dead_letters) {
    Prepared* p = &prepared;
    std::string data_dir = project.data_dir;
    std::string command = "millrace run " + pipeline.name;
    auto open_log = [p, data_dir, command]() -> Result<Log*> {
        if (p->log != nullptr && p->log_writable) return p->log;
        if (!p->dead_letter_log) {
            LogOptions options;
            options.access = LogAccess::kReadWrite;
            options.command = command;
            MILLRACE_ASSIGN_OR_RETURN(p->dead_letter_log, Log::open(data_dir, *p->clock, options));
        }
        return p->dead_letter_log.get();
    };
    MILLRACE_ASSIGN_OR_RETURN(prepared.dead_letter_topic,
                              DeadLetterTopic::create(dead_letter_topic_name(pipeline), open_log));
    // A server holding the log (`millrace serve`) takes the envelopes through its ingest API.
    if (!(prepared.log != nullptr && prepared.log_writable))
        prepared.dead_letter_topic->set_remote(DeadLetterTopic::through_server(project.data_dir));
    dead_letters.set_topic(prepared.dead_letter_topic.get());
    return {};
}

void finish_dead_letter_topic(Prepared& prepared, RunReport& report) {
    if (prepared.dead_letter_topic) {
        report.dead_letter_topic = prepared.dead_letter_topic->topic();
        report.dead_letters_published = prepared.dead_letter_topic->published();
        report.dead_letter_warning = prepared.dead_letter_topic->warning();
    }
    if (prepared.dead_letter_log) prepared.dead_letter_log->stop();
}

Result<RunReport> run_batch_pipeline(const Project& project, const PipelineSpec& pipeline,
                                     const RunOptions& options) {
    auto started = std::chrono::steady_clock::now();
    // Declared first so that it outlives the operators `prepared` ends up owning.
    ExecContext context;
    MILLRACE_ASSIGN_OR_RETURN(Prepared prepared,
                              prepare_run(project, pipeline, true, options.run_tag));
    AbortUnlessCommitted abort_guard(prepared.sinks);
    RunReport report;
    report.pipeline = pipeline.name;
    std::string dead_letter_path =
        prepared.dead_letter_sink != nullptr && prepared.dead_letter_sink->kind == SinkKind::kFile
            ? prepared.dead_letter_sink->path
            : fmt::format("{}/dead_letter/{}.ndjson", project.data_dir, pipeline.name);
    MILLRACE_ASSIGN_OR_RETURN(
        std::unique_ptr<DeadLetterWriter> dead_letters,
        DeadLetterWriter::create(dead_letter_path, pipeline.name, prepared.input_files));
    MILLRACE_TRY(open_dead_letter_topic(prepared, project, pipeline, *dead_letters));

    context.memory_limit_bytes = options.memory_limit_bytes;
    context.clock = options.clock;
    // One instant for the whole run: the plans' now() and the checks' now() are the same.
    const int64_t statement_time = context.statement_time_micros();
    for (PreparedSource& source : prepared.sources) {
        for (BoundCheck& check : source.checks) fold_constants(check.predicate, statement_time);
    }
    for (PreparedSink& sink : prepared.sinks) {
        for (BoundCheck& check : sink.checks) fold_constants(check.predicate, statement_time);
    }
    for (auto& [name, rules] : prepared.rules) rules.fold(statement_time);
    // Rows that fail evaluation inside a plan: origin is the sink's `from`.
    std::string current_origin;
    context.dead_letter = [&](DeadLetterRow row) {
        dead_letters->add_row("evaluate", "view", row.origin, row.reason, row.row_json);
    };
    // now() is one instant per run: plans and the source checks read the same value.
    for (PreparedSink& sink : prepared.sinks) fold_plan_constants(*sink.plan, statement_time);
    MILLRACE_TRY(build_sink_plans(prepared, context, *dead_letters, PlanMode::kBatch));
    // Which plan inputs read each source; sources in the order their first input appears
    // (a join's build side is listed before its probe side, so build inputs are read first).
    std::vector<std::string> order;
    std::map<std::string, std::vector<const ScanInput*>> inputs;
    std::vector<const ScanInput*> single_rows;
    for (PreparedSink& sink : prepared.sinks) {
        for (const ScanInput& input : sink.executable->inputs()) {
            if (input.source.empty()) {
                single_rows.push_back(&input);
                continue;
            }
            if (inputs.find(input.source) == inputs.end()) order.push_back(input.source);
            inputs[input.source].push_back(&input);
        }
    }
    for (const ScanInput* input : single_rows) {
        MILLRACE_TRY(input->entry->push(Batch(input->schema, {}, 1)));
        MILLRACE_TRY(input->entry->finish());
    }
    for (PreparedSource& source : prepared.sources) {
        SourceReport source_report;
        source_report.name = source.spec->name;
        source_report.files = source.reader->units();
        source_report.unit = source.reader->unit_name();
        source_report.schema = source.reader->schema();
        if (inputs.find(source.spec->name) == inputs.end()) {
            report.sources.push_back(source_report);  // no sink reads it
            continue;
        }
        report.sources.push_back(source_report);
    }
    // A source with dataset rules is read even when no sink reads it.
    for (const PreparedSource& source : prepared.sources) {
        const std::string& name = source.spec->name;
        if (prepared.rules.count(name) > 0 && inputs.find(name) == inputs.end()) {
            order.push_back(name);
            inputs[name] = {};
        }
    }
    for (const std::string& name : order) {
        auto it = std::find_if(prepared.sources.begin(), prepared.sources.end(),
                               [&](const PreparedSource& s) { return s.spec->name == name; });
        auto report_it = std::find_if(report.sources.begin(), report.sources.end(),
                                      [&](const SourceReport& s) { return s.name == name; });
        SourceFanOut fan_out(*it->spec, it->checks, inputs[name], *dead_letters, *report_it);
        if (auto rules = prepared.rules.find(name); rules != prepared.rules.end())
            fan_out.set_rules(&rules->second);
        MILLRACE_TRY(it->reader->read_to_end(fan_out, &fan_out));
        report_it->bytes = it->reader->bytes_read();
        MILLRACE_TRY(fan_out.finish());
    }
    // Every row was seen: judge the dataset rules, keep their results, and commit nothing when
    // an error-level rule failed.
    {
        const int64_t now = statement_time;  // the run's clock, as now() in the plans
        for (const auto& [name, rules] : prepared.rules) {
            for (RuleResult& result : rules.results(now)) report.rules.push_back(std::move(result));
        }
        if (!report.rules.empty()) {
            MILLRACE_TRY(record_rule_results(project.data_dir, pipeline.name,
                                             format_utc_timestamp(statement_time), report.rules));
        }
        for (const RuleResult& result : report.rules) {
            if (result.passed || result.severity != CheckSeverity::kError) continue;
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("rule {} on `{}` failed: observed {}, bound {} (severity: "
                                     "error); no sink was committed",
                                     result.rule, result.dataset, result.observed, result.bound),
                         result.location);
        }
    }
    // Every plan has finished: commit the sinks together, pre-committing all of them first so
    // that a sink failing to make its rows durable leaves every target as it was.
    MILLRACE_ASSIGN_OR_RETURN(const uint64_t commit_id,
                              next_commit_id(project.data_dir, pipeline.name));
    for (PreparedSink& sink : prepared.sinks) MILLRACE_TRY(sink.output->pre_commit(commit_id));
    MILLRACE_TRY(prepared.dead_letter_topic->pre_commit(commit_id));
    for (PreparedSink& sink : prepared.sinks) MILLRACE_TRY(sink.output->commit(commit_id));
    MILLRACE_TRY(prepared.dead_letter_topic->commit(commit_id));
    abort_guard.committed();
    MILLRACE_TRY(dead_letters->finish());
    // A kafka source's group offsets move only once every sink committed: a failed run reads
    // the same records again.
    // An incremental lake source's processed snapshot likewise (docs/lake.md).
    for (PreparedSource& source : prepared.sources) {
        if (source.spec->kind == SourceKind::kKafka)
            MILLRACE_TRY(static_cast<KafkaSource*>(source.reader.get())->commit_offsets());
        if (source.spec->kind == SourceKind::kLake)
            MILLRACE_TRY(static_cast<LakeSource*>(source.reader.get())->commit_progress());
    }
    finish_dead_letter_topic(prepared, report);
    if (prepared.owned_log) prepared.owned_log->stop();
    for (PreparedSink& sink : prepared.sinks) {
        report.sinks.push_back(sink_report(sink));
    }
    for (const auto& [view, counts] : prepared.view_checks) {
        report.views.push_back(
            ViewCheckReport{view, counts.failed, counts.dropped, counts.warnings});
    }
    report.dead_letters = dead_letters->count();
    report.dead_letter_path = dead_letters->path();
    report.dead_letter_reasons = dead_letters->reasons();
    report.duration = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    return report;
}

std::string lake_source_progress_path(const std::string& data_dir, const std::string& pipeline,
                                      const std::string& source) {
    return fmt::format("{}/lake-{}.snapshot", pipeline_state_folder(data_dir, pipeline), source);
}

Status check_pipeline_sql(const PipelineSpec& pipeline, std::vector<std::string>& skipped,
                          const std::vector<FeatureView>* feature_views,
                          const sql::FunctionResources* resources, const Project* project) {
    std::map<std::string, std::shared_ptr<const Schema>> schemas;
    MILLRACE_TRY(check_watched_folders(pipeline));
    for (const SourceSpec& source : pipeline.sources) {
        if (pipeline.mode == PipelineMode::kStreaming &&
            (source.kind != SourceKind::kFile || source.watch) && !source.event_time) {
            // Not an error (processing time is a choice), but windows over a column of the data
            // would then close by the wall clock and find rows with older times late.
            skipped.push_back(fmt::format(
                "pipeline `{}`: source `{}` has no event_time, so its watermark is the clock "
                "(processing time): windows over a column of its data close by wall-clock time",
                pipeline.name, source.name));
        }
        if (source.kind == SourceKind::kGenerator) {
            auto schema = GeneratorSource::schema_of(source);
            if (!schema.ok()) return std::move(schema).error();
            schemas[source.name] = *schema;
        } else if (source.kind == SourceKind::kLake) {
            if (project == nullptr) {
                skipped.push_back(fmt::format(
                    "pipeline `{}`: source `{}` reads lake table `{}`; its SQL was not checked",
                    pipeline.name, source.name, source.table));
                return {};
            }
            auto schema = LakeSource::schema_of(source, project->data_dir);
            if (!schema.ok()) {
                // A table the project's own pipelines write may not exist before their first
                // run; any other unknown table is an error at `table:` in the user's file.
                const PipelineSpec* writer = nullptr;
                for (const PipelineSpec& other : project->pipelines) {
                    for (const SinkSpec& sink : other.sinks) {
                        if (sink.kind == SinkKind::kLake && sink.table == source.table)
                            writer = &other;
                    }
                }
                if (writer == nullptr || schema.error().code() != ErrorCode::kConfig)
                    return std::move(schema).error();
                skipped.push_back(fmt::format(
                    "pipeline `{}`: lake table `{}` of source `{}` does not exist yet (pipeline "
                    "`{}` writes it); its SQL was not checked",
                    pipeline.name, source.table, source.name, writer->name));
                return {};
            }
            schemas[source.name] = std::move(schema).value();
        } else if (source.schema) {
            schemas[source.name] = std::make_shared<const Schema>(*source.schema);
        } else if (source.kind == SourceKind::kFile) {
            auto open_reader = [&]() -> Result<std::unique_ptr<SourceReader>> {
                if (source.watch && pipeline.mode == PipelineMode::kStreaming) {
                    MILLRACE_ASSIGN_OR_RETURN(auto watched,
                                              StreamingFileSource::open(source, std::string()));
                    return std::unique_ptr<SourceReader>(std::move(watched));
                }
                MILLRACE_ASSIGN_OR_RETURN(auto files, FileSource::open(source));
                return std::unique_ptr<SourceReader>(std::move(files));
            };
            auto reader = open_reader();
            if (!reader.ok()) {
                skipped.push_back(
                    fmt::format("pipeline `{}`: source `{}` has no declared schema and {}; its SQL "
                                "was not checked",
                                pipeline.name, source.name, reader.error().message()));
                return {};
            }
            schemas[source.name] = reader.value()->schema();
        } else {
            skipped.push_back(fmt::format(
                "pipeline `{}`: source `{}` has no declared schema; its SQL was not checked",
                pipeline.name, source.name));
            return {};
        }
        MILLRACE_TRY(bind_checks(pipeline, source, *schemas[source.name]));
        MILLRACE_TRY(DatasetRules::bind(pipeline, source.name, *schemas[source.name]));
    }
    PipelineCatalog catalog(pipeline, schemas, resources ? *resources : sql::FunctionResources{});
    MILLRACE_TRY(catalog.bind_all_views());
    for (const SinkSpec& sink : pipeline.sinks) {
        if (sink.from == kDeadLetterName) continue;
        auto plan = catalog.relation(sink.from);
        if (!plan.ok()) {
            Error e = std::move(plan).error();
            if (!e.location().known()) e = std::move(e).with_location(sink.from_location);
            return e;
        }
        if (pipeline.find_view(sink.from) != nullptr) {
            MILLRACE_TRY(bind_checks(pipeline, sink.from, *plan.value()->schema));
            MILLRACE_TRY(DatasetRules::bind(pipeline, sink.from, *plan.value()->schema));
        }
        if (pipeline.mode == PipelineMode::kStreaming) {
            // What the streaming runtime cannot run: ORDER BY, LIMIT, joins that build from a
            // topic, unwindowed aggregates into a sink that cannot take updates.
            sql::optimize(plan.value());
            Status streamable = check_streaming_plan(*plan.value(), pipeline, sink);
            if (!streamable.ok())
                return std::move(streamable).error().with_location(sink.from_location);
        }
        if (sink.kind == SinkKind::kTopic && !sink.key.empty() &&
            !plan.value()->schema->index_of(sink.key.front())) {
            return Error(ErrorCode::kConfig,
                         fmt::format("sink {}: key column `{}` is not a column of `{}`",
                                     sink_target(sink), sink.key.front(), sink.from),
                         sink.location);
        }
        if (sink.kind == SinkKind::kLake) {
            for (const std::string& column : sink.key) {
                if (!plan.value()->schema->index_of(column)) {
                    return Error(ErrorCode::kConfig,
                                 fmt::format("sink {}: upsert key column `{}` is not a column of "
                                             "`{}`",
                                             sink_target(sink), column, sink.from),
                                 sink.location);
                }
            }
        }
        if (sink.kind == SinkKind::kOnline && feature_views != nullptr) {
            MILLRACE_ASSIGN_OR_RETURN(const FeatureView* view,
                                      find_feature_view(*feature_views, sink));
            auto mapped =
                OnlineSink::map_columns(*view, *plan.value()->schema, sink.key, sink.event_time);
            if (!mapped.ok()) {
                return Error(
                    mapped.error().code(),
                    fmt::format("sink {}: {}", sink_target(sink), mapped.error().message()),
                    sink.location);
            }
        }
    }
    return {};
}

Result<std::string> explain_pipeline(const Project& project, const PipelineSpec& pipeline) {
    MILLRACE_ASSIGN_OR_RETURN(Prepared prepared, prepare_run(project, pipeline, false, ""));
    std::string out;
    for (const PreparedSink& sink : prepared.sinks) {
        out += fmt::format("sink {} <- {}\n", sink_target(*sink.spec), sink.spec->from);
        out += sink.plan->to_string(1);
    }
    return out;
}

}  // namespace millrace
