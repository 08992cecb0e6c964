#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "lineage/lineage_outbox.h"
#include "lineage/run_event.h"
#include "project/project.h"

namespace millrace {

struct FeatureView;
struct MaterializeReport;
struct RunReport;
struct RunRecord;
struct RunSummary;

/// The OpenLineage names of Millrace's datasets (docs/lineage.md): a log topic is
/// (`millrace://<project>/topic`, topic), a Kafka topic (`kafka://<first broker>`, topic), a
/// file (`file`, its absolute path or pattern), a lake table (`file://<data_dir>/lake`, table)
/// and a feature view (`millrace://<project>/feature_view`, view).
LineageDataset source_dataset(const Project& project, const SourceSpec& source);
LineageDataset sink_dataset(const Project& project, const SinkSpec& sink);
LineageDataset lake_table_dataset(const Project& project, const std::string& table);
LineageDataset feature_view_dataset(const Project& project, const std::string& view);

/// Job names: `pipeline.<name>`, `materialize.<feature view>`, `job.<name>`.
std::string pipeline_job_name(const std::string& pipeline);
std::string materialize_job_name(const std::string& view);
std::string scheduled_job_name(const std::string& job);

/// The SQL facet of a pipeline: each view as `CREATE VIEW <name> AS <sql>;`.
std::string pipeline_sql(const PipelineSpec& pipeline);

/// Records the run events of one process's runs (pipelines, materializations, scheduled job
/// runs) in the project's lineage outbox. Recording never fails a run: a write that fails is
/// reported through `warn` and the run goes on.
///
/// A `millrace run` or `millrace materialize` started by a scheduled job's task (the scheduler
/// sets MILLRACE_RUN_ID) names that job run as its parent.
///
/// Threads: the recorder may be shared; every method is safe to call concurrently.
class LineageRecorder {
public:
    using Warn = std::function<void(const std::string&)>;

    /// `warn` = "" prints `warning: ...` to stderr.
    explicit LineageRecorder(const Project& project, Warn warn = nullptr);

    const std::string& job_namespace() const { return job_namespace_; }
    LineageOutbox& outbox() { return outbox_; }

    /// Records START and returns the run's id (a fresh UUIDv7).
    std::string start_pipeline(const PipelineSpec& pipeline);
    /// Records COMPLETE with the report's schemas and row counts, or FAIL with `error` when
    /// `report` is null.
    void finish_pipeline(const PipelineSpec& pipeline, const std::string& run_id,
                         const RunReport* report, const std::string& error);

    std::string start_materialize(const FeatureView& view);
    void finish_materialize(const FeatureView& view, const std::string& run_id,
                            const MaterializeReport* report, const std::string& error);

    /// A scheduled job's run: its UUID is derived from the run id, so the pipeline runs it
    /// starts (in other processes) can name it as their parent.
    void job_run_started(const RunRecord& run);
    void job_run_finished(const RunSummary& summary);

    /// With `lineage: { url }`: one delivery pass, bounded by `timeout` per event and stopping
    /// at the first failure (the rest waits in the outbox). For commands about to exit; a
    /// server delivers in the background (LineageDeliverer). Outcome via `warn`.
    void deliver_once(std::chrono::milliseconds timeout = std::chrono::seconds(2));

    /// The UUID of a scheduled job's run id `<job>@<interval start>`.
    static std::string job_run_uuid(const std::string& run_id);

private:
    void record(const RunEvent& event);
    RunEvent event(RunEventType type, const std::string& run_id, std::string job_name,
                   std::string job_type) const;

    const Project& project_;
    Warn warn_;
    LineageOutbox outbox_;
    std::string job_namespace_;
    std::optional<ParentRun> parent_;
};

}  // namespace millrace
