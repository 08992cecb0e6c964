#pragma once

#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config_node.h"
#include "common/error.h"
#include "types/schema.h"

namespace millrace {

/// The model of a Millrace project (docs/architecture.md §3): what millrace.yaml and the files it
/// includes say, checked and resolved (relative paths made absolute, defaults filled in) by
/// project_loader.h. Plain values; every spec remembers where it was written, so later stages
/// (SQL binding, connector setup) can still point errors at the user's file.

enum class PipelineMode { kBatch, kStreaming };
enum class SourceKind { kTopic, kFile, kKafka, kGenerator, kLake };
/// kAvro and kJsonSr: topic sources only, records in Confluent's wire format (magic byte 0, a
/// 4-byte schema id of the schema registry, then the Avro datum or the JSON document).
enum class DataFormat { kJson, kNdjson, kCsv, kParquet, kAvro, kJsonSr };
/// What a source does with a record it cannot decode or that violates its schema.
enum class OnRecordError { kDeadLetter, kDrop, kFail };
/// not_null, expect, accepted_values and range judge rows (or, with `mostly`, the fraction of
/// rows passing); row_count, unique, freshness and referential judge a whole dataset.
enum class CheckKind {
    kNotNull,
    kExpect,
    kAcceptedValues,
    kRange,
    kRegex,
    kRowCount,
    kUnique,
    kFreshness,
    kReferential
};
/// What a failed dataset-level rule does to the run: `error` fails it (no sink commits).
enum class CheckSeverity { kError, kWarn };
/// What a failed check does with the record.
enum class CheckAction { kDeadLetter, kDrop, kWarn, kFail };
/// kBlackhole: takes the rows and keeps none (benchmarks).
enum class SinkKind { kLake, kOnline, kTopic, kFile, kKafka, kBlackhole };
/// Where a streaming topic source starts when the pipeline has no committed offset yet.
enum class StartFrom { kEarliest, kLatest };

/// The names used in YAML: "batch", "streaming", "topic", "json", "dead_letter", "lake"...
std::string_view enum_name(PipelineMode mode);
std::string_view enum_name(SourceKind kind);
std::string_view enum_name(DataFormat format);
std::string_view enum_name(OnRecordError action);
std::string_view enum_name(CheckKind kind);
std::string_view enum_name(CheckAction action);
std::string_view enum_name(CheckSeverity severity);
std::string_view enum_name(SinkKind kind);

/// The format a file extension implies: .json, .ndjson/.jsonl, .csv, .parquet.
std::optional<DataFormat> format_from_extension(std::string_view path);

/// The name a sink's `from` uses for the records a pipeline dead-letters; reserved, no source
/// or view may take it.
inline constexpr std::string_view kDeadLetterName = "dead_letter";

/// SQL written in a config file (a view's query, a check's expression), kept with the scalar it
/// came from so that a planner's line:column inside the SQL maps back to the file.
struct SqlText {
    std::string text;
    ConfigNode origin;

    /// The file position of (line, column), both 1-based, inside `text`.
    SourceLocation location_of(int line, int column) const;
};

/// What the catalog (`GET /v1/datasets`) shows about a dataset beside its schema: who to ask
/// and what it is for. Optional `description`, `owner` and `tags` on a source, a view (in its
/// map form) and a sink.
struct DatasetDocs {
    std::string description;
    std::string owner;
    std::vector<std::string> tags;
};

/// One input of a pipeline. Which fields matter depends on `kind`.
struct SourceSpec {
    std::string name;
    SourceLocation location;  // the source's key under `sources:`
    DatasetDocs docs;
    SourceKind kind = SourceKind::kTopic;
    std::string topic;                              // kTopic, kKafka
    std::string path;                               // kFile: absolute; may hold {{ vars }}
    SourceLocation path_location;                   // kFile: the path as written
    std::vector<std::string> brokers;               // kKafka: host:port
    std::string group;                              // kKafka: consumer group; "" = default
    std::map<std::string, std::string> properties;  // kKafka: passed to the client as-is
    /// kGenerator (streaming): synthetic events, `generator: { kind: orders, rate: 1000/s }`.
    std::string generator_kind;    // "orders", "transactions", "nexmark" (datagen)
    std::string generator_events;  // nexmark: the relation, "person" | "auction" | "bid"
    bool generator_paced = true;   // false: as fast as the pipeline takes them
    double generator_rate = 1000;  // records per second of the clock
    uint64_t generator_seed = 42;
    double generator_bad_fraction = 0;        // share of deliberately bad records
    std::optional<uint64_t> generator_limit;  // then the source ends
    /// `start:` the event-time origin (orders, transactions: the first event time; activity:
    /// its day); none: the clock's time when the source first opens.
    std::optional<int64_t> generator_start_micros;
    /// kLake: a lake table, `lake: { table: t, incremental: true, changelog: true,
    /// start_snapshot: 3 }` (docs/lake.md, "A lake table as a pipeline source"); in a streaming
    /// pipeline followed snapshot by snapshot (also `start_from`, `poll_interval`).
    std::string table;
    SourceLocation table_location;  // where `table` is written
    bool incremental = false;       // only the rows of the snapshots since the last commit
    bool changelog = false;         // incremental, with deleted rows and a `_change` column
    /// Incremental: the snapshot taken as already processed when the pipeline has none yet.
    std::optional<uint64_t> start_snapshot;
    DataFormat format = DataFormat::kJson;
    /// The declared columns; none means taken from the data (CSV header, Parquet metadata).
    std::optional<Schema> schema;
    SourceLocation schema_location;
    std::optional<std::string> event_time;  // a timestamp column of the schema
    /// Streaming: how far behind the greatest event time seen the watermark stays (needs
    /// event_time), and how much later than the watermark a record may still arrive before it
    /// is a dead letter with reason `late` (windows close that much later).
    std::chrono::microseconds watermark_delay{0};
    std::chrono::microseconds allowed_lateness{0};
    SourceLocation event_time_location;
    /// Streaming: a partition silent this long stops holding the watermark back.
    std::chrono::microseconds idle_timeout{std::chrono::seconds(10)};
    StartFrom start_from = StartFrom::kEarliest;  // streaming topic sources
    OnRecordError on_error = OnRecordError::kDeadLetter;
    /// kFile: files that cannot be read at all (corrupt, unreadable, a bad header) set aside
    /// before the run fails; nullopt = unlimited unless on_error is fail (then 0).
    std::optional<int64_t> max_bad_files;
    /// `max_bad_files: 2%` (batch): the share of the files the glob matches that may be set
    /// aside, rounded down; replaces max_bad_files when given.
    std::optional<double> max_bad_fraction;
    /// kFile in a streaming pipeline: the path (a folder or a glob) is watched, and files that
    /// appear in it are read once each, in order of (mtime, name), as they arrive.
    bool watch = false;
    /// With `watch`: how often the folder is scanned for new files; with `reload`, how often
    /// the files are checked for a change. kLake (streaming): how often the table's metadata is
    /// read for new snapshots.
    std::chrono::microseconds poll_interval{std::chrono::seconds(1)};
    /// kFile in a streaming pipeline, not watched (the build side of a lookup join, read whole
    /// before the streams start): `reload: true` reads it again, whole, when one of its files
    /// changes (size or mtime) or the glob matches other files, and the join swaps to the new
    /// rows between two batches (docs/streaming.md, "Lookup joins").
    bool reload = false;
    int64_t bad_file_budget() const {
        if (max_bad_files) return *max_bad_files;
        return on_error == OnRecordError::kFail ? 0 : std::numeric_limits<int64_t>::max();
    }
};

/// A named SQL query over sources and other views; bound later by the SQL engine.
struct ViewSpec {
    std::string name;
    SourceLocation location;  // the view's key under `views:`
    SqlText sql;
    DatasetDocs docs;  // the map form: `daily: { sql: ..., description: ..., owner: ... }`
};

/// One data-quality rule on a source or view.
struct CheckSpec {
    std::string target;       // a source or view of the pipeline
    SourceLocation location;  // the rule's map
    CheckKind kind = CheckKind::kNotNull;
    std::string name;                  // optional label for results; "" when not given
    std::vector<std::string> columns;  // kNotNull, kUnique
    SqlText expression;                // kExpect: a boolean SQL expression
    CheckAction on_fail = CheckAction::kDeadLetter;
    std::string column;                    // kAcceptedValues, kRange, kRegex, kFreshness
    std::string pattern;                   // kRegex: ECMAScript syntax, searched in the value
    SourceLocation column_location;        // where `column` is written
    std::vector<std::string> values;       // kAcceptedValues
    std::optional<std::string> min_value;  // kRange: SQL literals (numbers)
    std::optional<std::string> max_value;
    std::optional<int64_t> min_rows;  // kRowCount
    std::optional<int64_t> max_rows;
    std::chrono::microseconds max_age{0};  // kFreshness
    std::string ref_table;                 // kReferential: the lake table holding the keys
    std::string ref_column;                // kReferential: its column; default `column`
    /// Row-level kinds with `mostly`: a dataset rule passing when at least this fraction of the
    /// rows pass (rows are then never removed).
    std::optional<double> mostly;
    CheckSeverity severity = CheckSeverity::kError;

    /// Judged on the whole dataset once every row was seen (not row by row).
    bool dataset_level() const {
        return mostly.has_value() || kind == CheckKind::kRowCount || kind == CheckKind::kUnique ||
               kind == CheckKind::kFreshness || kind == CheckKind::kReferential;
    }
};

/// One output of a pipeline. Which fields matter depends on `kind`.
struct SinkSpec {
    SinkKind kind = SinkKind::kTopic;
    SourceLocation location;  // the sink's map
    DatasetDocs docs;         // of the dataset it writes
    std::string from;         // a source, a view, or kDeadLetterName
    SourceLocation from_location;
    std::string table;                      // kLake
    std::vector<std::string> partition_by;  // kLake: SQL expressions, e.g. date(window_start)
    bool upsert = false;                    // kLake: `mode: upsert` (with `key:`)
    bool add_columns = false;          // kLake: `schema_evolution: add_columns` (new output columns
                                       // are added to the table; otherwise they are refused)
    std::string feature_view;          // kOnline
    std::vector<std::string> key;      // kOnline: columns feeding the view's entity keys;
                                       // empty = the entity names. kLake (upsert): the
                                       // key columns. kTopic: the one column
                                       // that keys each record (`key:`), or empty. kKafka:
                                       // the columns keying each record
    std::string event_time;            // kOnline: a timestamp column; "" = write time
    std::string topic;                 // kTopic, kKafka
    std::vector<std::string> brokers;  // kKafka: host:port
    std::map<std::string, std::string> properties;  // kKafka: passed to the client as-is
    std::string path;                               // kFile: absolute; may hold {{ vars }}
    SourceLocation path_location;                   // kFile: the path as written
    DataFormat format = DataFormat::kJson;          // kFile
    /// `emit: { every: 5s }` (streaming): a windowed aggregate also emits the changed groups of
    /// its open windows this often (processing time), as updates; only into a sink that
    /// replaces rows by key (docs/streaming.md, "Early results").
    std::optional<std::chrono::microseconds> emit_every;
    SourceLocation emit_location;  // the `emit:` value
};

/// `restart:` of a streaming pipeline: how `millrace serve` restarts it after a failure. The
/// n-th consecutive restart waits min(max, initial * 2^(n-1)), jittered down by up to half so
/// that pipelines failing together do not retry together; after `attempts` restarts without a
/// run lasting `reset_after`, the pipeline is marked failed with the last error.
struct RestartPolicy {
    int attempts = 5;
    std::chrono::microseconds initial{1'000'000};
    std::chrono::microseconds max{60'000'000};
    /// A run that stayed up this long clears the count of consecutive failures.
    std::chrono::microseconds reset_after{600'000'000};
    SourceLocation location;  // the `restart:` map, or the pipeline's root when not given
};

/// A pipeline file (pipelines/*.yaml): sources → views → checks → sinks.
struct PipelineSpec {
    std::string name;
    std::string file;         // as opened, for messages
    SourceLocation location;  // the document's root map
    std::string description;
    std::string owner;
    std::vector<std::string> tags;
    PipelineMode mode = PipelineMode::kBatch;
    /// Subtasks of each keyed stage of a streaming pipeline; default 1 (docs/streaming.md).
    std::optional<int> parallelism;
    /// Key groups of a streaming pipeline's keyed state: the most subtasks it can ever be
    /// rescaled to (pipeline/key_groups.h); default 32.
    std::optional<int> max_parallelism;
    std::optional<std::chrono::microseconds> checkpoint_interval;  // default: runtime's
    RestartPolicy restart;                                         // streaming only
    /// `state_limit: 2GB`: bytes the operator state of a streaming run may hold (open windows,
    /// aggregate groups, join build sides); default: the run's --memory-limit, else 4 GiB.
    std::optional<uint64_t> state_limit_bytes;
    /// `state_ttl:` (streaming): how long, in event time past the watermark, a stream join
    /// without a time bound keeps a row (docs/streaming.md, "Stream joins").
    std::optional<std::chrono::microseconds> state_ttl;
    /// `vars:`: variables its file paths may use, with their defaults (pipeline_variables.h).
    std::map<std::string, std::string> variables;
    std::vector<SourceSpec> sources;  // in file order
    std::vector<ViewSpec> views;      // in file order
    std::vector<CheckSpec> checks;    // grouped by target, in file order
    std::vector<SinkSpec> sinks;      // in file order

    const SourceSpec* find_source(std::string_view source_name) const;
    const ViewSpec* find_view(std::string_view view_name) const;
};

/// A feature view file (features/*.yaml). Only its name is interpreted so far; the whole
/// document is kept for the online store to read.
struct FeatureViewSpec {
    std::string name;
    std::string file;
    SourceLocation location;
    ConfigNode config;  // the document's root map
};

/// A job file (jobs/*.yaml). Only its name is interpreted so far; the whole document is kept
/// for the scheduler to read.
struct JobSpec {
    std::string name;
    std::string file;
    SourceLocation location;
    ConfigNode config;  // the document's root map
};

/// A serving route file (routes/*.yaml): a YAML-declared HTTP endpoint over a feature view
/// (`GET /feature/user?uid=123`). Only its name is interpreted here; the whole document is kept
/// for the server (server/feature_route.h) to read against the project's feature views.
struct RouteSpec {
    std::string name;
    std::string file;
    SourceLocation location;
    ConfigNode config;  // the document's root map
};

/// When a topic's appends are forced to disk (see log/topic_config.h).
enum class TopicFsync { kAlways, kInterval, kNever };
/// What ingestion does with a record that is not JSON or breaks the topic's schema.
enum class TopicOnError { kReject, kDeadLetter };

/// A topic declared under `topics:` in millrace.yaml; `millrace serve` creates the missing
/// ones in the log when it starts (the log's stored settings win for existing topics).
struct TopicSpec {
    std::string name;
    SourceLocation location;  // the topic's key under `topics:`
    int32_t partitions = 1;
    TopicFsync fsync = TopicFsync::kInterval;
    std::chrono::microseconds fsync_interval{50'000};
    std::optional<int64_t> segment_bytes;
    std::optional<int64_t> retention_bytes;
    std::optional<std::chrono::microseconds> retention;
    std::string schema;  // one-line column spec ("id: int64 not null, ..."); "" = any JSON object
    TopicOnError on_error = TopicOnError::kReject;
    /// {record field, source}: source is `remote_addr` or `header:<Name>`.
    std::vector<std::pair<std::string, std::string>> capture;
    /// Produced records must be framed with a registered schema id (TopicConfig).
    bool require_schema = false;
};

/// The Kafka listener: `listen.kafka` and the `kafka:` block (docs/kafka.md).
struct KafkaSpec {
    std::string listen;  // host:port; empty = no Kafka listener
    SourceLocation listen_location;
    std::string advertised;  // host:port clients dial; empty = the listen address
    bool auto_create_topics = false;
    int32_t default_partitions = 1;
    int64_t max_request_bytes = int64_t{100} << 20;
    std::chrono::microseconds initial_rebalance_delay{3'000'000};
};

/// `lineage:` in millrace.yaml: where OpenLineage run events go besides the outbox
/// (`<data_dir>/lineage/outbox/`, always written; docs/lineage.md).
struct LineageSpec {
    std::string url;  // http://host:port/path the events are POSTed to; "" = outbox only
    SourceLocation url_location;
    std::string job_namespace;  // the events' job namespace; "" = the project's name
};

/// What an alert rule watches.
enum class AlertCondition {
    kMetric,       // the sum of a metric's matching series is above or below a threshold
    kCheckFailed,  // a quality rule's latest result failed (millrace_check_passing == 0)
    kJobFailed,    // a job run failed since the last success of that job
};

/// One rule under `alerts: { rules: [...] }` (docs/alerts.md).
struct AlertRuleSpec {
    std::string name;
    SourceLocation location;
    AlertCondition condition = AlertCondition::kMetric;
    std::string severity = "warning";  // warning | critical
    std::string description;
    std::string metric;                         // kMetric: a family name
    std::map<std::string, std::string> labels;  // kMetric: series must have these label values
    std::optional<double> above;                // kMetric: exactly one of above, below
    std::optional<double> below;
    std::string pipeline;  // kCheckFailed: "" = any pipeline
    std::string job;       // kJobFailed: "" = any job
    /// The condition must hold this long before the alert fires (0: at the first evaluation).
    std::chrono::microseconds for_duration{0};
};

/// `alerts:` in millrace.yaml: rules `millrace serve` evaluates, and the webhook their firing
/// and resolved notifications go to (through a durable outbox).
struct AlertsSpec {
    std::string webhook;  // http://host:port/path
    SourceLocation location;
    std::chrono::microseconds evaluation_interval{std::chrono::seconds(1)};
    std::vector<AlertRuleSpec> rules;
};

/// A whole project: millrace.yaml plus everything it includes.
/// `lake: { storage: s3://bucket/prefix, endpoint: http://host:port, region: us-east-1 }`:
/// new lake tables keep their files in that S3-compatible store (lake/table_storage.h).
/// Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
/// AWS_SESSION_TOKEN), never from the project.
struct LakeStorageSpec {
    std::string storage;
    std::string endpoint;
    std::string region = "us-east-1";
    SourceLocation location;
};

struct Project {
    std::string name;
    std::string description;
    std::string root_dir;            // absolute, normalized
    std::string data_dir;            // absolute; default <root_dir>/data
    std::string listen_http;         // host:port; default 127.0.0.1:8080
    SourceLocation listen_location;  // of `listen.http`; unknown when defaulted
    /// `geoip: { database: path }`: the MaxMind database of ip_country()/ip_city(), absolute;
    /// empty when not set.
    std::string geoip_database;
    SourceLocation geoip_location;
    KafkaSpec kafka;
    LineageSpec lineage;
    AlertsSpec alerts;
    /// Where new lake tables live; nullopt: under data_dir (the default).
    std::optional<LakeStorageSpec> lake_storage;
    std::vector<TopicSpec> topics;
    std::vector<PipelineSpec> pipelines;
    std::vector<FeatureViewSpec> feature_views;
    std::vector<JobSpec> jobs;
    std::vector<RouteSpec> routes;
    /// The `serving:` block of millrace.yaml as written (server/serving_config.h reads it);
    /// nullopt when absent.
    std::optional<ConfigNode> serving;
    /// Things worth telling the user that do not stop the project from loading, e.g. an
    /// include pattern that matched no file.
    std::vector<Error> warnings;

    const PipelineSpec* find_pipeline(std::string_view pipeline_name) const;
};

}  // namespace millrace
