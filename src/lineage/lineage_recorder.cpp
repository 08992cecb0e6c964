#include "lineage/lineage_recorder.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include "common/clock.h"
#include "online/feature_view.h"
#include "pipeline/batch_runner.h"
#include "pipeline/materialize.h"
#include "scheduler/state_store.h"
#include "types/data_type.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

int64_t now_micros() { return SystemClock().now_micros(); }

std::vector<LineageField> fields_of(const Schema* schema) {
    std::vector<LineageField> fields;
    if (schema == nullptr) return fields;
    for (const Field& field : schema->fields()) {
        fields.push_back(LineageField{field.name, std::string(type_name(field.type))});
    }
    return fields;
}

// Fills each output field's input fields from the sink's column origins: a scan's source
// names a pipeline source, which names the input dataset.
void add_column_lineage(const Project& project, const PipelineSpec& pipeline,
                        const SinkReport& sink, std::vector<LineageField>& fields) {
    static constexpr std::string_view kSubtypes[] = {"IDENTITY", "TRANSFORMATION", "AGGREGATION"};
    for (std::size_t i = 0; i < fields.size() && i < sink.column_origins.size(); ++i) {
        for (const sql::ColumnOrigin& origin : sink.column_origins[i]) {
            const SourceSpec* source = pipeline.find_source(origin.source);
            if (source == nullptr) continue;
            const LineageDataset input = source_dataset(project, *source);
            fields[i].inputs.push_back(
                LineageInputField{input.name_space, input.name, origin.column,
                                  std::string(kSubtypes[static_cast<int>(origin.derivation)])});
        }
    }
}

std::string project_namespace(const Project& project, std::string_view kind) {
    return fmt::format("millrace://{}/{}", project.name, kind);
}

// The job run a `millrace run` started by the scheduler belongs to: MILLRACE_RUN_ID is
// `<job>@<interval start>`.
std::optional<ParentRun> parent_from_environment(const std::string& job_namespace) {
    const char* run_id = std::getenv("MILLRACE_RUN_ID");
    if (run_id == nullptr || *run_id == '\0') return std::nullopt;
    const std::string id = run_id;
    const std::size_t at = id.find('@');
    if (at == std::string::npos || at == 0) return std::nullopt;
    return ParentRun{LineageRecorder::job_run_uuid(id), job_namespace,
                     scheduled_job_name(id.substr(0, at))};
}

}  // namespace

LineageDataset source_dataset(const Project& project, const SourceSpec& source) {
    LineageDataset dataset;
    switch (source.kind) {
        case SourceKind::kTopic:
            dataset.name_space = project_namespace(project, "topic");
            dataset.name = source.topic;
            break;
        case SourceKind::kKafka:
            dataset.name_space =
                "kafka://" + (source.brokers.empty() ? std::string("unknown") : source.brokers[0]);
            dataset.name = source.topic;
            break;
        case SourceKind::kFile:
            dataset.name_space = "file";
            dataset.name = source.path;
            break;
        case SourceKind::kGenerator:
            dataset.name_space = project_namespace(project, "generator");
            dataset.name = source.name;
            break;
        case SourceKind::kLake:
            dataset = lake_table_dataset(project, source.table);
            break;
    }
    if (source.schema) dataset.fields = fields_of(&*source.schema);
    return dataset;
}

LineageDataset sink_dataset(const Project& project, const SinkSpec& sink) {
    switch (sink.kind) {
        case SinkKind::kLake:
            return lake_table_dataset(project, sink.table);
        case SinkKind::kOnline:
            return feature_view_dataset(project, sink.feature_view);
        case SinkKind::kTopic:
            return LineageDataset{project_namespace(project, "topic"), sink.topic, {}, {}};
        case SinkKind::kKafka:
            return LineageDataset{
                "kafka://" + (sink.brokers.empty() ? std::string("unknown") : sink.brokers[0]),
                sink.topic,
                {},
                {}};
        case SinkKind::kFile:
            return LineageDataset{"file", sink.path, {}, {}};
        case SinkKind::kBlackhole:
            return LineageDataset{"blackhole", sink.from, {}, {}};
    }
    return {};
}

LineageDataset lake_table_dataset(const Project& project, const std::string& table) {
    return LineageDataset{"file://" + project.data_dir + "/lake", table, {}, {}};
}

LineageDataset feature_view_dataset(const Project& project, const std::string& view) {
    return LineageDataset{project_namespace(project, "feature_view"), view, {}, {}};
}

std::string pipeline_job_name(const std::string& pipeline) { return "pipeline." + pipeline; }
std::string materialize_job_name(const std::string& view) { return "materialize." + view; }
std::string scheduled_job_name(const std::string& job) { return "job." + job; }

std::string pipeline_sql(const PipelineSpec& pipeline) {
    std::string sql;
    for (const ViewSpec& view : pipeline.views) {
        if (!sql.empty()) sql += '\n';
        sql += fmt::format("CREATE VIEW {} AS {};", view.name, view.sql.text);
    }
    return sql;
}

LineageRecorder::LineageRecorder(const Project& project, Warn warn)
    : project_(project),
      warn_(warn ? std::move(warn) : Warn([](const std::string& line) {
          std::fprintf(stderr, "warning: %s\n", line.c_str());
      })),
      outbox_(project.data_dir),
      job_namespace_(project.lineage.job_namespace.empty() ? project.name
                                                           : project.lineage.job_namespace),
      parent_(parent_from_environment(job_namespace_)) {}

std::string LineageRecorder::job_run_uuid(const std::string& run_id) {
    int64_t millis = 0;
    const std::size_t at = run_id.find('@');
    if (at != std::string::npos) {
        if (std::optional<int64_t> start = parse_timestamp(run_id.substr(at + 1))) {
            millis = *start / 1000;
        }
    }
    return uuid_v7_for_name(run_id, millis);
}

RunEvent LineageRecorder::event(RunEventType type, const std::string& run_id, std::string job_name,
                                std::string job_type) const {
    RunEvent event;
    event.type = type;
    event.event_time_micros = now_micros();
    event.run_id = run_id;
    event.job_namespace = job_namespace_;
    event.job_name = std::move(job_name);
    event.job_type = std::move(job_type);
    event.parent = parent_;
    return event;
}

void LineageRecorder::record(const RunEvent& event) {
    if (Status added = outbox_.add(event); !added.ok()) {
        warn_(fmt::format("lineage event {} of {} not recorded: {}", enum_name(event.type),
                          event.job_name, added.error().message()));
    }
}

std::string LineageRecorder::start_pipeline(const PipelineSpec& pipeline) {
    const std::string run_id = new_uuid_v7(now_micros() / 1000);
    RunEvent start =
        event(RunEventType::kStart, run_id, pipeline_job_name(pipeline.name), "PIPELINE");
    start.processing_type = pipeline.mode == PipelineMode::kStreaming ? "STREAMING" : "BATCH";
    start.description = pipeline.description;
    start.sql = pipeline_sql(pipeline);
    for (const SourceSpec& source : pipeline.sources) {
        start.inputs.push_back(source_dataset(project_, source));
    }
    for (const SinkSpec& sink : pipeline.sinks)
        start.outputs.push_back(sink_dataset(project_, sink));
    record(start);
    return run_id;
}

void LineageRecorder::finish_pipeline(const PipelineSpec& pipeline, const std::string& run_id,
                                      const RunReport* report, const std::string& error) {
    RunEvent finish = event(report != nullptr ? RunEventType::kComplete : RunEventType::kFail,
                            run_id, pipeline_job_name(pipeline.name), "PIPELINE");
    finish.processing_type = pipeline.mode == PipelineMode::kStreaming ? "STREAMING" : "BATCH";
    finish.description = pipeline.description;
    finish.sql = pipeline_sql(pipeline);
    finish.error_message = error;
    for (const SourceSpec& source : pipeline.sources) {
        LineageDataset dataset = source_dataset(project_, source);
        if (report != nullptr) {
            for (const SourceReport& read : report->sources) {
                if (read.name == source.name && read.schema) {
                    dataset.fields = fields_of(read.schema.get());
                }
            }
        }
        finish.inputs.push_back(std::move(dataset));
    }
    // Sinks in file order; the report lists the committed ones in the same order, the
    // dead-letter sink apart.
    std::size_t next_report = 0;
    for (const SinkSpec& sink : pipeline.sinks) {
        LineageDataset dataset = sink_dataset(project_, sink);
        if (report != nullptr && sink.from != kDeadLetterName &&
            next_report < report->sinks.size()) {
            const SinkReport& written = report->sinks[next_report++];
            dataset.fields = fields_of(written.schema.get());
            add_column_lineage(project_, pipeline, written, dataset.fields);
            dataset.row_count = written.rows_written;
        } else if (report != nullptr && sink.from == kDeadLetterName) {
            dataset.row_count = report->dead_letters;
        }
        finish.outputs.push_back(std::move(dataset));
    }
    record(finish);
}

std::string LineageRecorder::start_materialize(const FeatureView& view) {
    const std::string run_id = new_uuid_v7(now_micros() / 1000);
    RunEvent start =
        event(RunEventType::kStart, run_id, materialize_job_name(view.name), "MATERIALIZE");
    start.description = view.description;
    if (view.source == FeatureSourceKind::kLake) {
        start.inputs.push_back(lake_table_dataset(project_, view.lake_table));
    }
    start.outputs.push_back(feature_view_dataset(project_, view.name));
    record(start);
    return run_id;
}

void LineageRecorder::finish_materialize(const FeatureView& view, const std::string& run_id,
                                         const MaterializeReport* report,
                                         const std::string& error) {
    RunEvent finish = event(report != nullptr ? RunEventType::kComplete : RunEventType::kFail,
                            run_id, materialize_job_name(view.name), "MATERIALIZE");
    finish.description = view.description;
    finish.error_message = error;
    if (view.source == FeatureSourceKind::kLake) {
        finish.inputs.push_back(lake_table_dataset(project_, view.lake_table));
    }
    LineageDataset output = feature_view_dataset(project_, view.name);
    for (const EntityKey& key : view.entities) {
        output.fields.push_back(LineageField{key.name, std::string(type_name(key.type))});
    }
    for (const FeatureSpec& feature : view.features) {
        output.fields.push_back(LineageField{feature.name, std::string(type_name(feature.type))});
    }
    if (report != nullptr) output.row_count = report->rows_written;
    finish.outputs.push_back(std::move(output));
    record(finish);
}

void LineageRecorder::job_run_started(const RunRecord& run) {
    RunEvent start =
        event(RunEventType::kStart, job_run_uuid(run.run_id), scheduled_job_name(run.job), "JOB");
    start.parent.reset();
    record(start);
}

void LineageRecorder::job_run_finished(const RunSummary& summary) {
    const bool ok = summary.run.state == RunState::kSuccess;
    RunEvent finish =
        event(ok ? RunEventType::kComplete : RunEventType::kFail, job_run_uuid(summary.run.run_id),
              scheduled_job_name(summary.run.job), "JOB");
    finish.parent.reset();
    if (!ok) {
        std::string failed;
        for (const TaskRecord& task : summary.tasks) {
            if (task.state != TaskState::kFailed) continue;
            failed += fmt::format("{}task `{}` failed{}{}", failed.empty() ? "" : "; ", task.task,
                                  task.message.empty() ? "" : ": ", task.message);
        }
        finish.error_message = failed.empty() ? "run " + summary.run.run_id + " failed" : failed;
    }
    record(finish);
}

void LineageRecorder::deliver_once(std::chrono::milliseconds timeout) {
    if (project_.lineage.url.empty()) return;
    Result<LineageDelivery> delivery = outbox_.deliver(project_.lineage.url, timeout);
    if (!delivery.ok()) {
        warn_("lineage delivery: " + delivery.error().message());
    } else if (!delivery->error.empty()) {
        warn_(fmt::format("lineage delivery to {} stopped: {}; {} event(s) wait in {}/outbox",
                          project_.lineage.url, delivery->error, delivery->pending,
                          outbox_.directory()));
    }
}

}  // namespace millrace
