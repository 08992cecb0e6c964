#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "pipeline/dataset_rules.h"
#include "project/project.h"
#include "sql/column_origins.h"
#include "sql/function_resources.h"

namespace millrace {

class Clock;
struct FeatureView;

struct RunOptions {
    /// Bytes the run's buffering operators (joins, sorts, top-N, aggregates) may hold together
    /// (ExecContext::memory_limit_bytes).
    std::size_t memory_limit_bytes = std::size_t{4} << 30;
    /// Tells concurrent runs of one pipeline apart (the scheduler's run id): lake sinks stage
    /// their files under a writer id that includes it. "" = the pipeline and sink alone.
    std::string run_tag;
    /// The project's clock (owned by the caller, cli/): now() and current_date of every plan
    /// and check of the run are its reading when the run starts planning. Null: the system
    /// clock.
    const Clock* clock = nullptr;
};

struct SourceReport {
    std::string name;
    std::size_t files = 0;  // input units: files or topic partitions
    std::string unit = "file";
    uint64_t bytes = 0;
    uint64_t rows_read = 0;      // records decoded into rows
    uint64_t rows_rejected = 0;  // records that failed to decode (dead-lettered)
    uint64_t rows_failed_checks = 0;
    uint64_t rows_dropped_by_checks = 0;
    /// Streaming: records later than the watermark (in rows_read, and dead-lettered as `late`).
    uint64_t rows_late = 0;
    uint64_t check_warnings = 0;
    /// Files set aside whole (unreadable, corrupt), with the reason; their records are in
    /// neither rows_read nor rows_rejected, and each has a dead-letter record (stage "file").
    struct BadFile {
        std::string path;
        std::string reason;
    };
    std::vector<BadFile> bad_files;
    /// Rows the source's checks let through into the plans that read it.
    uint64_t rows_out = 0;
    /// Of rows_rejected, those an `on_error: drop` source dropped (not dead-lettered).
    uint64_t rows_rejected_dropped = 0;

    /// The accounting of a source's records: in = out + filtered + dead_lettered + late, each
    /// term counted where it happens (balanced() checks the sum).
    uint64_t records_in() const { return rows_read + rows_rejected; }
    uint64_t records_out() const { return rows_out; }
    uint64_t records_filtered() const { return rows_dropped_by_checks + rows_rejected_dropped; }
    uint64_t records_dead_lettered() const {
        return rows_rejected - rows_rejected_dropped + rows_failed_checks;
    }
    uint64_t records_late() const { return rows_late; }
    bool balanced() const {
        return records_in() ==
               records_out() + records_filtered() + records_dead_lettered() + records_late();
    }

    /// The columns the source was read with (declared or taken from the data); lineage
    /// reports them.
    std::shared_ptr<const Schema> schema;
};

struct SinkReport {
    std::string from;
    std::string target;  // e.g. "file out/daily.csv"
    uint64_t rows_written = 0;
    std::shared_ptr<const Schema> schema;  // the columns of the rows written
    /// Per column of `schema`, the source columns its values are computed from (column-level
    /// lineage; empty when the sink has no plan).
    std::vector<std::vector<sql::ColumnOrigin>> column_origins;
};

/// What the row-level checks of a view did to the rows its sinks read.
struct ViewCheckReport {
    std::string name;
    uint64_t rows_failed_checks = 0;  // dead-lettered
    uint64_t rows_dropped_by_checks = 0;
    uint64_t check_warnings = 0;
};

/// What a batch run did, for the CLI and tests: counts that add up per source
/// (records = rows_read + rows_rejected).
struct RunReport {
    std::string pipeline;
    std::vector<SourceReport> sources;
    std::vector<SinkReport> sinks;
    std::vector<ViewCheckReport> views;  // views with checks, by name
    std::vector<RuleResult> rules;       // every dataset rule, passed or not
    uint64_t dead_letters = 0;
    std::string dead_letter_path;
    std::map<std::string, uint64_t> dead_letter_reasons;
    /// The pipeline's dead-letter topic, the envelopes its commits appended to it, and why
    /// some were left out (the log held by another process); see connectors/dead_letter_topic.h.
    std::string dead_letter_topic;
    uint64_t dead_letters_published = 0;
    std::string dead_letter_warning;
    std::chrono::microseconds duration{0};
};

/// Runs a `mode: batch` pipeline to completion: reads each bounded source once (files in
/// order, decoding into Batches), applies the source's checks, feeds every sink's plan (the
/// SQL of its view, bound, optimized and built into operators), and writes each sink; records
/// that fail to decode, fail a check or fail evaluation go to the dead-letter file with their
/// reason. Outputs appear atomically at the end; on failure none is left half-written.
Result<RunReport> run_batch_pipeline(const Project& project, const PipelineSpec& pipeline,
                                     const RunOptions& options);

/// What `millrace run` refuses in a pipeline whatever its data, apart from SQL errors: a
/// streaming pipeline, sources other than files and topics (kafka), checks on a view no sink
/// reads (or on any view of a streaming pipeline), dead
/// letters sent anywhere but a file or topic. Each problem is appended to `errors` at the
/// location of what is refused, so `millrace validate` reports exactly what `run` would.
void check_batch_support(const PipelineSpec& pipeline, std::vector<Error>& errors);

/// What `millrace run` refuses in a `mode: streaming` pipeline before any data moves: kafka
/// sources, checks on views, dead letters anywhere but a file or topic, kafka sinks to more
/// than one cluster (brokers and properties must match: one Kafka transaction commits them).
/// Appended to `errors` at the location of what is refused.
void check_streaming_support(const PipelineSpec& pipeline, std::vector<Error>& errors);

/// Checks a pipeline's SQL without running it (`millrace validate`): binds every view and
/// check against the sources' schemas (declared, or inferred from the files when present).
/// Sources whose schema cannot be known without data are noted in `skipped` instead.
/// With `feature_views`, online sinks are checked too: the view exists and the sink's columns
/// map onto its keys, features and event time. `resources`: the project's settings for
/// functions that read outside data (function_resources()); without them ip_country() is an
/// error.
/// `project`: where lake sources' tables are (their schemas are the tables'). An unknown table is
/// an error at `table:`, unless a lake sink of the project writes it (its first run has not
/// happened: said in `skipped`). nullptr skips the SQL of pipelines with lake sources.
Status check_pipeline_sql(const PipelineSpec& pipeline, std::vector<std::string>& skipped,
                          const std::vector<FeatureView>* feature_views = nullptr,
                          const sql::FunctionResources* resources = nullptr,
                          const Project* project = nullptr);

/// The file holding the snapshot up to which an incremental lake source of `pipeline` was
/// processed (connectors/lake_source.h): beside the pipeline's commit id.
std::string lake_source_progress_path(const std::string& data_dir, const std::string& pipeline,
                                      const std::string& source);

/// The optimized logical plan of every sink of a pipeline, as text (`millrace explain`).
Result<std::string> explain_pipeline(const Project& project, const PipelineSpec& pipeline);

}  // namespace millrace
