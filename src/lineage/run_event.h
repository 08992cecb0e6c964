#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace millrace {

/// The state transition an OpenLineage run event reports.
enum class RunEventType { kStart, kComplete, kFail };

/// "START", "COMPLETE", "FAIL": the spec's eventType.
std::string_view enum_name(RunEventType type);

/// An input column an output column's values are computed from (the columnLineage facet).
struct LineageInputField {
    std::string name_space;  // the input dataset's namespace and name
    std::string name;
    std::string field;
    std::string subtype;  // IDENTITY, TRANSFORMATION or AGGREGATION (all DIRECT)
};

/// One column of a dataset's schema facet.
struct LineageField {
    std::string name;
    std::string type;                       // Millrace's type name: int64, string, timestamp...
    std::vector<LineageInputField> inputs;  // outputs: the columnLineage facet's inputFields
};

/// A dataset as OpenLineage names it: a namespace naming the data source and a name unique in
/// it (docs/lineage.md lists the names Millrace gives topics, files, lake tables and feature
/// views).
struct LineageDataset {
    std::string name_space;
    std::string name;
    std::vector<LineageField> fields;   // empty = no schema facet
    std::optional<uint64_t> row_count;  // outputs: the outputStatistics facet
};

/// The run that started this one (a scheduled job's run starting a pipeline task).
struct ParentRun {
    std::string run_id;  // UUID
    std::string job_namespace;
    std::string job_name;
};

/// One OpenLineage RunEvent (spec 2-0-2), the facets Millrace fills: jobType, documentation
/// and sql on the job, schema on the datasets, columnLineage and outputStatistics on outputs,
/// parent and errorMessage on the run.
struct RunEvent {
    RunEventType type = RunEventType::kStart;
    int64_t event_time_micros = 0;
    std::string run_id;  // a UUID, the same for every event of one run
    std::string job_namespace;
    std::string job_name;
    std::string job_type;         // PIPELINE, MATERIALIZE, JOB
    std::string processing_type;  // BATCH or STREAMING
    std::string description;      // "" = no documentation facet
    std::string sql;              // "" = no sql facet
    std::string error_message;    // kFail
    std::optional<ParentRun> parent;
    std::vector<LineageDataset> inputs;
    std::vector<LineageDataset> outputs;
};

/// The producer URI every event names.
inline constexpr std::string_view kLineageProducer = "https://github.com/millrace/millrace";
inline constexpr std::string_view kRunEventSchemaUrl =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

/// The event as one line of JSON (no trailing newline).
std::string run_event_json(const RunEvent& event);

/// A fresh UUIDv7 (RFC 9562): the first 48 bits are `unix_millis`, the rest random, so run ids
/// sort by start time.
std::string new_uuid_v7(int64_t unix_millis);

/// A UUIDv7 derived from `name` alone: `unix_millis` in the time bits and a 74-bit hash of the
/// name in the others. A scheduled job's run id (`<job>@<interval start>`) maps to the same
/// UUID in the scheduler and in the `millrace run` it starts, which names it as its parent.
std::string uuid_v7_for_name(std::string_view name, int64_t unix_millis);

}  // namespace millrace
