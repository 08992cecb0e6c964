#include "project/pipeline_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <regex>

#include "common/config_node.h"
#include "common/suggest.h"
#include "common/yaml_document.h"
#include "project/config_reader.h"
#include "project/pipeline_variables.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

/// "2GB", "512 MiB", "64K", "1048576": a byte count (K, M, G, T are powers of 1024, as
/// --memory-limit reads them). Nullopt for anything else, for 0 and for overflow.
std::optional<uint64_t> parse_state_limit(std::string_view text) {
    std::size_t at = 0;
    uint64_t value = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
        if (value > (UINT64_MAX - 9) / 10) return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(text[at++] - '0');
    }
    if (at == 0) return std::nullopt;
    while (at < text.size() && text[at] == ' ') ++at;
    const std::string_view unit = text.substr(at);
    int shift = 0;
    if (unit.empty() || unit == "B") {
        shift = 0;
    } else if (unit == "K" || unit == "KB" || unit == "KiB") {
        shift = 10;
    } else if (unit == "M" || unit == "MB" || unit == "MiB") {
        shift = 20;
    } else if (unit == "G" || unit == "GB" || unit == "GiB") {
        shift = 30;
    } else if (unit == "T" || unit == "TB" || unit == "TiB") {
        shift = 40;
    } else {
        return std::nullopt;
    }
    if (value == 0 || value > (UINT64_MAX >> shift)) return std::nullopt;
    return value << shift;
}

// The first word of `text` starting at 0-based `position`, if a word starts there.
std::string_view word_at(std::string_view text, std::size_t position) {
    if (position >= text.size()) return {};
    std::size_t end = position;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t') ++end;
    return text.substr(position, end - position);
}

std::size_t first_word_position(std::string_view text) {
    std::size_t position = 0;
    while (position < text.size() && (text[position] == ' ' || text[position] == '\t')) {
        ++position;
    }
    return position;
}

const std::vector<std::string>& canonical_type_names() {
    static const std::vector<std::string> kNames = {"bool",   "int32", "int64",     "double",
                                                    "string", "bytes", "timestamp", "date"};
    return kNames;
}

// What a pipeline reads from or writes to a file: its path and, when given, its format.
struct FileTarget {
    std::string path;
    std::optional<DataFormat> format;
    SourceLocation location;  // the path scalar
};

class PipelineParser {
public:
    PipelineParser(std::vector<Error>& errors, const std::string& file,
                   const std::string& project_dir)
        : reader_(errors), file_(file), project_dir_(project_dir) {}

    PipelineSpec parse(const ConfigNode& root) {
        spec_.file = file_;
        spec_.location = root.location();
        what_ = document_what(root, "pipeline");
        MapReader map(reader_, root, what_);
        if (!map.is_map()) return std::move(spec_);

        if (const ConfigNode* kind = map.optional("kind"); present(kind)) {
            std::optional<std::string> text = reader_.scalar(*kind, key_of("kind", what_));
            if (text && *text != "pipeline") {
                reader_.error(ErrorCode::kConfig,
                              "this file defines a " + backticks(*text) + ", not a pipeline",
                              kind->location());
            }
        }
        if (const ConfigNode* name = map.required("name")) {
            std::optional<std::string> text = reader_.non_empty(*name, key_of("name", what_));
            if (text && reader_.resource_name(*text, name->location(), "a pipeline")) {
                spec_.name = *text;
            }
        }
        if (const ConfigNode* description = map.optional("description"); present(description)) {
            if (auto text = reader_.scalar(*description, key_of("description", what_))) {
                spec_.description = *text;
            }
        }
        {
            DatasetDocs docs;
            parse_docs(map, what_, docs, false);
            spec_.owner = std::move(docs.owner);
            spec_.tags = std::move(docs.tags);
        }
        if (const ConfigNode* mode = map.optional("mode"); present(mode)) {
            if (auto value = reader_.choice<PipelineMode>(
                    *mode, key_of("mode", what_),
                    {{"batch", PipelineMode::kBatch}, {"streaming", PipelineMode::kStreaming}})) {
                spec_.mode = *value;
            }
        }
        if (const ConfigNode* parallelism = map.optional("parallelism"); present(parallelism)) {
            if (auto value = reader_.integer(*parallelism, key_of("parallelism", what_), 1, 4096)) {
                spec_.parallelism = static_cast<int>(*value);
            }
        }
        if (const ConfigNode* max = map.optional("max_parallelism"); present(max)) {
            if (auto value = reader_.integer(*max, key_of("max_parallelism", what_), 1, 4096)) {
                spec_.max_parallelism = static_cast<int>(*value);
                if (spec_.parallelism && *spec_.parallelism > *value) {
                    reader_.error(
                        ErrorCode::kConfig,
                        fmt::format("{} is {}, below the parallelism {}: a subtask "
                                    "owns at least one key group",
                                    key_of("max_parallelism", what_), *value, *spec_.parallelism),
                        max->location());
                }
            }
        }
        if (const ConfigNode* interval = map.optional("checkpoint_interval"); present(interval)) {
            const std::string what = key_of("checkpoint_interval", what_);
            if (auto value = reader_.duration(*interval, what)) {
                if (value->count() == 0) {
                    reader_.error(ErrorCode::kConfig, what + " must be longer than 0",
                                  interval->location());
                } else {
                    spec_.checkpoint_interval = *value;
                }
            }
        }
        if (const ConfigNode* limit = map.optional("state_limit"); present(limit)) {
            const std::string what = key_of("state_limit", what_);
            if (auto text = reader_.scalar(*limit, what)) {
                if (std::optional<uint64_t> bytes = parse_state_limit(*text)) {
                    spec_.state_limit_bytes = *bytes;
                } else {
                    reader_.error(ErrorCode::kConfig,
                                  what + " must be a size above 0 such as 512MB or 2GB, not " +
                                      backticks(*text),
                                  limit->location());
                }
                if (spec_.mode == PipelineMode::kBatch) {
                    reader_.error(ErrorCode::kConfig,
                                  what +
                                      " applies to streaming pipelines (`mode: streaming`); a "
                                      "batch run's memory is limited by `millrace run "
                                      "--memory-limit`",
                                  limit->location());
                }
            }
        }
        if (const ConfigNode* ttl = map.optional("state_ttl"); present(ttl)) {
            const std::string what = key_of("state_ttl", what_);
            if (auto value = reader_.duration(*ttl, what)) {
                if (value->count() == 0) {
                    reader_.error(ErrorCode::kConfig, what + " must be longer than 0",
                                  ttl->location());
                } else {
                    spec_.state_ttl = *value;
                }
            }
        }
        spec_.restart.location = root.location();
        if (const ConfigNode* restart = map.optional("restart"); present(restart)) {
            parse_restart(*restart);
            if (spec_.mode == PipelineMode::kBatch) {
                reader_.error(ErrorCode::kConfig,
                              key_of("restart", what_) +
                                  " applies to streaming pipelines (`mode: streaming`); a batch "
                                  "pipeline is retried by its job task's `retries`",
                              restart->location());
            }
        }
        // Before the sources and sinks, whose paths may use them.
        if (const ConfigNode* vars = map.optional("vars"); present(vars)) parse_vars(*vars);
        if (const ConfigNode* sources = map.required("sources")) parse_sources(*sources);
        if (const ConfigNode* views = map.optional("views"); present(views)) parse_views(*views);
        if (const ConfigNode* checks = map.optional("checks"); present(checks)) {
            parse_checks(*checks);
        }
        if (const ConfigNode* sinks = map.required("sinks")) parse_sinks(*sinks);
        map.finish();
        return std::move(spec_);
    }

private:
    // ---- restart -------------------------------------------------------------------------

    void parse_restart(const ConfigNode& node) {
        const std::string what = key_of("restart", what_);
        MapReader map(reader_, node, what);
        if (!map.is_map()) return;
        RestartPolicy& policy = spec_.restart;
        policy.location = node.location();
        if (const ConfigNode* attempts = map.optional("attempts"); present(attempts)) {
            if (auto value = reader_.integer(*attempts, key_of("attempts", what), 0, 1'000'000)) {
                policy.attempts = static_cast<int>(*value);
            }
        }
        // A zero or negative wait would restart a crashing pipeline in a tight loop.
        auto positive = [&](const char* key, std::chrono::microseconds& target) {
            const ConfigNode* value_node = map.optional(key);
            if (!present(value_node)) return;
            const std::string key_what = key_of(key, what);
            if (auto value = reader_.duration(*value_node, key_what)) {
                if (value->count() <= 0) {
                    reader_.error(ErrorCode::kConfig, key_what + " must be longer than 0",
                                  value_node->location());
                } else {
                    target = *value;
                }
            }
        };
        positive("initial", policy.initial);
        const ConfigNode* max_node = map.optional("max");
        positive("max", policy.max);
        positive("reset_after", policy.reset_after);
        if (policy.max < policy.initial) {
            reader_.error(ErrorCode::kConfig,
                          key_of("max", what) + " must be at least `initial`, the first wait",
                          present(max_node) ? max_node->location() : node.location());
        }
        map.finish();
    }

    // ---- vars ---------------------------------------------------------------------------

    void parse_vars(const ConfigNode& node) {
        const std::string what = key_of("vars", what_);
        if (!reader_.expect_map(node, what)) return;
        for (const ConfigEntry& entry : node.entries()) {
            if (!reader_.sql_name(entry.key, entry.key_location, "a variable")) continue;
            if (auto value = reader_.scalar(entry.value, key_of(entry.key, what))) {
                spec_.variables[entry.key] = *value;
            }
        }
    }

    // ---- sources ------------------------------------------------------------------------

    void parse_sources(const ConfigNode& node) {
        if (!reader_.expect_map(node, key_of("sources", what_))) return;
        if (node.size() == 0) {
            reader_.error(ErrorCode::kConfig, what_ + " has no sources", node.location());
        }
        for (const ConfigEntry& entry : node.entries()) parse_source(entry);
    }

    void parse_source(const ConfigEntry& entry) {
        SourceSpec source;
        source.name = entry.key;
        source.location = entry.key_location;
        const std::string what = "source " + backticks(entry.key);
        check_element_name(entry.key, entry.key_location, "a source");

        MapReader map(reader_, entry.value, what);
        parse_docs(map, what, source.docs, true);
        const ConfigNode* topic = map.optional("topic");
        const ConfigNode* file = map.optional("file");
        const ConfigNode* kafka = map.optional("kafka");
        const ConfigNode* generator = map.optional("generator");
        const ConfigNode* lake = map.optional("lake");
        const ConfigNode* format = map.optional("format");
        const ConfigNode* schema = map.optional("schema");
        const ConfigNode* event_time = map.optional("event_time");
        const ConfigNode* watermark_delay = map.optional("watermark_delay");
        const ConfigNode* allowed_lateness = map.optional("allowed_lateness");
        const ConfigNode* idle_timeout = map.optional("idle_timeout");
        const ConfigNode* start_from = map.optional("start_from");
        const ConfigNode* on_error = map.optional("on_error");
        const ConfigNode* max_bad_files = map.optional("max_bad_files");
        const ConfigNode* watch = map.optional("watch");
        const ConfigNode* poll_interval = map.optional("poll_interval");
        const ConfigNode* reload = map.optional("reload");
        if (!map.is_map()) {
            spec_.sources.push_back(std::move(source));  // known, so references to it resolve
            return;
        }

        const std::optional<std::string_view> kind_key = one_of(map,
                                                                {{"topic", topic},
                                                                 {"file", file},
                                                                 {"kafka", kafka},
                                                                 {"generator", generator},
                                                                 {"lake", lake}},
                                                                what);
        std::optional<DataFormat> explicit_format;
        if (present(format)) {
            // The schema registry's wire format (Avro, or JSON framed: `json_sr`, ksqlDB's name
            // for it) is for records on a topic only.
            if (kind_key == "topic" && format->is_scalar() && format->scalar() == "avro") {
                explicit_format = DataFormat::kAvro;
            } else if (kind_key == "topic" && format->is_scalar() &&
                       format->scalar() == "json_sr") {
                explicit_format = DataFormat::kJsonSr;
            } else {
                explicit_format = read_format(*format, key_of("format", what));
            }
        }
        std::optional<DataFormat> nested_format;
        if (kind_key == "topic") {
            source.kind = SourceKind::kTopic;
            if (auto text = reader_.non_empty(*topic, key_of("topic", what));
                text && reader_.resource_name(*text, topic->location(), "a topic")) {
                source.topic = *text;
            }
        } else if (kind_key == "file") {
            source.kind = SourceKind::kFile;
            FileTarget target = read_file_target(*file, key_of("file", what));
            source.path = target.path;
            source.path_location = target.location;
            nested_format = target.format;
            if (nested_format && explicit_format && *nested_format != *explicit_format) {
                reader_.error(ErrorCode::kConfig,
                              what + " has two formats: " + backticks(enum_name(*nested_format)) +
                                  " in `file` and " + backticks(enum_name(*explicit_format)) +
                                  " in `format`",
                              format->location());
            }
        } else if (kind_key == "kafka") {
            source.kind = SourceKind::kKafka;
            parse_kafka(*kafka, key_of("kafka", what), &source, nullptr);
        } else if (kind_key == "generator") {
            source.kind = SourceKind::kGenerator;
            parse_generator(*generator, key_of("generator", what), source);
        } else if (kind_key == "lake") {
            source.kind = SourceKind::kLake;
            parse_lake_source(*lake, key_of("lake", what), source);
            // The table's schema is the source's: rows come typed, not as text to decode.
            const std::pair<const char*, const ConfigNode*> typed[] = {{"format", format},
                                                                       {"schema", schema}};
            for (const auto& [key, node] : typed) {
                if (!present(node)) continue;
                reader_.error(ErrorCode::kConfig,
                              key_of(key, what) +
                                  " does not apply to a lake source: its rows and columns are "
                                  "the table's",
                              map.key_location(key));
            }
        }

        if (explicit_format || nested_format) {
            source.format = explicit_format ? *explicit_format : *nested_format;
        } else if (kind_key == "file" && !source.path.empty()) {
            if (std::optional<DataFormat> inferred = format_from_extension(source.path)) {
                source.format = *inferred;
            } else {
                reader_.error(ErrorCode::kConfig,
                              "cannot tell the format of " + backticks(source.path) + " for " +
                                  what + "; add `format: csv`, `json`, `ndjson` or `parquet`",
                              file->location());
            }
        }
        if (source.format == DataFormat::kParquet && kind_key && kind_key != "file" &&
            present(format)) {
            reader_.error(ErrorCode::kConfig,
                          "`parquet` is a file format; records on a topic are json, ndjson or "
                          "csv",
                          format->location());
        }

        if (present(schema)) {
            source.schema = parse_schema(*schema, key_of("schema", what));
            source.schema_location = schema->location();
        }
        if (present(event_time)) {
            const std::string event_time_what = key_of("event_time", what);
            std::optional<std::string> column = reader_.non_empty(*event_time, event_time_what);
            if (column && source.schema) check_event_time(*source.schema, *column, *event_time);
            if (column) source.event_time = *column;
            source.event_time_location = event_time->location();
        }
        if (present(watermark_delay)) {
            const std::string delay_what = key_of("watermark_delay", what);
            if (auto delay = reader_.duration(*watermark_delay, delay_what)) {
                source.watermark_delay = *delay;
            }
            if (!present(event_time)) {
                reader_.error(ErrorCode::kConfig,
                              delay_what + " needs an `event_time` column to delay",
                              map.key_location("watermark_delay"));
            }
        }
        if (present(allowed_lateness)) {
            const std::string lateness_what = key_of("allowed_lateness", what);
            if (auto lateness = reader_.duration(*allowed_lateness, lateness_what)) {
                source.allowed_lateness = *lateness;
            }
            if (!present(event_time)) {
                reader_.error(ErrorCode::kConfig,
                              lateness_what + " needs an `event_time` column to measure by",
                              map.key_location("allowed_lateness"));
            }
        }
        if (present(idle_timeout)) {
            if (auto timeout = reader_.duration(*idle_timeout, key_of("idle_timeout", what))) {
                source.idle_timeout = *timeout;
            }
        }
        if (present(start_from)) {
            const std::string start_what = key_of("start_from", what);
            if (auto start = reader_.choice<StartFrom>(
                    *start_from, start_what,
                    {{"earliest", StartFrom::kEarliest}, {"latest", StartFrom::kLatest}})) {
                source.start_from = *start;
            }
            // A lake source in a streaming pipeline starts at the table's current snapshot
            // (read whole) or, with `latest`, after it; a batch run reads it once.
            if (kind_key == "lake" && spec_.mode != PipelineMode::kStreaming) {
                reader_.error(ErrorCode::kConfig,
                              start_what +
                                  " applies to a lake source in a streaming pipeline (a batch "
                                  "run reads the current snapshot, or with `incremental` the "
                                  "snapshots since its last run)",
                              map.key_location("start_from"));
            } else if (kind_key == "lake" && source.start_from == StartFrom::kLatest &&
                       source.start_snapshot) {
                reader_.error(ErrorCode::kConfig,
                              start_what +
                                  " `latest` and `start_snapshot` both say where to start; "
                                  "give one",
                              map.key_location("start_from"));
            }
        }
        if (present(on_error)) {
            if (auto action =
                    reader_.choice<OnRecordError>(*on_error, key_of("on_error", what),
                                                  {{"dead_letter", OnRecordError::kDeadLetter},
                                                   {"drop", OnRecordError::kDrop},
                                                   {"fail", OnRecordError::kFail}})) {
                source.on_error = *action;
            }
        }
        if (present(max_bad_files)) {
            const std::string bad_what = key_of("max_bad_files", what);
            if (kind_key != "file") {
                reader_.error(ErrorCode::kConfig, bad_what + " applies to file sources only",
                              map.key_location("max_bad_files"));
            } else if (max_bad_files->is_scalar() && !max_bad_files->scalar().empty() &&
                       max_bad_files->scalar().back() == '%') {
                // A share of the files: a batch knows how many its glob matched.
                const std::string& text = max_bad_files->scalar();
                double percent = -1;
                const auto [ptr, ec] =
                    std::from_chars(text.data(), text.data() + text.size() - 1, percent);
                if (ec != std::errc() || ptr != text.data() + text.size() - 1 || percent < 0 ||
                    percent > 100) {
                    reader_.error(ErrorCode::kConfig,
                                  "expected a count or a percentage from 0% to 100% for " +
                                      bad_what + ", got " + backticks(text),
                                  max_bad_files->location());
                } else if (spec_.mode == PipelineMode::kStreaming) {
                    reader_.error(ErrorCode::kConfig,
                                  bad_what +
                                      " as a percentage applies to batch pipelines (a streaming "
                                      "source's files arrive one by one): give a count",
                                  max_bad_files->location());
                } else {
                    source.max_bad_fraction = percent / 100;
                }
            } else if (auto value = reader_.integer(*max_bad_files, bad_what, 0, 1'000'000'000)) {
                source.max_bad_files = *value;
            }
        }
        if (present(watch)) {
            const std::string watch_what = key_of("watch", what);
            const std::optional<bool> flag =
                reader_.choice<bool>(*watch, watch_what, {{"true", true}, {"false", false}});
            if (flag && *flag && kind_key != "file") {
                reader_.error(ErrorCode::kConfig, watch_what + " applies to file sources only",
                              map.key_location("watch"));
            } else if (flag && *flag && spec_.mode != PipelineMode::kStreaming) {
                reader_.error(ErrorCode::kConfig,
                              watch_what +
                                  " needs `mode: streaming` (a batch run reads the "
                                  "files that are there when it starts)",
                              map.key_location("watch"));
            } else if (flag) {
                source.watch = *flag;
            }
        }
        if (present(reload)) {
            const std::string reload_what = key_of("reload", what);
            const std::optional<bool> flag =
                reader_.choice<bool>(*reload, reload_what, {{"true", true}, {"false", false}});
            if (flag && *flag && kind_key != "file") {
                reader_.error(ErrorCode::kConfig,
                              reload_what +
                                  " applies to file sources only (the right side of a lookup "
                                  "join)",
                              reload->location());
            } else if (flag && *flag && spec_.mode != PipelineMode::kStreaming) {
                reader_.error(
                    ErrorCode::kConfig,
                    reload_what + " needs `mode: streaming` (a batch run reads the files once)",
                    reload->location());
            } else if (flag && *flag && source.watch) {
                reader_.error(ErrorCode::kConfig,
                              reload_what +
                                  " is for a file read whole before the streams start; a watched "
                                  "folder (`watch: true`) reads each new file as it arrives",
                              reload->location());
            } else if (flag) {
                source.reload = *flag;
            }
        }
        if (present(poll_interval)) {
            const std::string poll_what = key_of("poll_interval", what);
            if (kind_key == "lake" && spec_.mode != PipelineMode::kStreaming) {
                reader_.error(ErrorCode::kConfig,
                              poll_what +
                                  " applies to a lake source in a streaming pipeline (how often "
                                  "it looks for new snapshots)",
                              map.key_location("poll_interval"));
            } else if (kind_key != "lake" && !source.watch && !source.reload) {
                reader_.error(ErrorCode::kConfig,
                              poll_what + " needs `watch: true` or `reload: true`",
                              map.key_location("poll_interval"));
            } else if (auto interval = reader_.duration(*poll_interval, poll_what)) {
                if (interval->count() <= 0) {
                    reader_.error(ErrorCode::kConfig, poll_what + " must be longer than 0",
                                  poll_interval->location());
                } else {
                    source.poll_interval = *interval;
                }
            }
        }
        map.finish();
        spec_.sources.push_back(std::move(source));
    }

    /// `{ table: orders, incremental: true, changelog: true, start_snapshot: 3 }`.
    void parse_lake_source(const ConfigNode& node, const std::string& what, SourceSpec& source) {
        MapReader map(reader_, node, what);
        if (const ConfigNode* table = map.required("table")) {
            if (auto text = reader_.non_empty(*table, key_of("table", what));
                text && reader_.resource_name(*text, table->location(), "a lake table")) {
                source.table = *text;
            }
            source.table_location = table->location();
        }
        auto flag = [&](const char* key, bool& out) {
            const ConfigNode* value = map.optional(key);
            if (!present(value)) return;
            if (auto parsed = reader_.choice<bool>(*value, key_of(key, what),
                                                   {{"true", true}, {"false", false}})) {
                out = *parsed;
            }
        };
        flag("incremental", source.incremental);
        flag("changelog", source.changelog);
        // A streaming changelog may start with the current snapshot read whole (as inserts).
        if (source.changelog && !source.incremental && spec_.mode != PipelineMode::kStreaming) {
            reader_.error(ErrorCode::kConfig,
                          key_of("changelog", what) +
                              " needs `incremental: true` (a changelog is of the snapshots "
                              "since the last run)",
                          map.key_location("changelog"));
        }
        if (const ConfigNode* start = map.optional("start_snapshot"); present(start)) {
            const std::string start_what = key_of("start_snapshot", what);
            if (!source.incremental) {
                reader_.error(ErrorCode::kConfig, start_what + " needs `incremental: true`",
                              map.key_location("start_snapshot"));
            } else if (auto value = reader_.integer(*start, start_what, 0,
                                                    std::numeric_limits<int64_t>::max())) {
                source.start_snapshot = static_cast<uint64_t>(*value);
            }
        }
        map.finish();
    }

    /// `{ kind: orders, rate: 1000/s, seed: 7, bad_fraction: 0.01, limit: 100000 }`;
    /// `{ kind: nexmark, events: bid, rate: 10000000/s, paced: false, limit: 1000000 }`.
    void parse_generator(const ConfigNode& node, const std::string& what, SourceSpec& source) {
        MapReader map(reader_, node, what);
        const ConfigNode* kind = map.required("kind");
        if (kind != nullptr) {
            if (auto name = reader_.choice<std::string>(*kind, key_of("kind", what),
                                                        {{"orders", "orders"},
                                                         {"activity", "activity"},
                                                         {"transactions", "transactions"},
                                                         {"nexmark", "nexmark"}})) {
                source.generator_kind = *name;
            }
        }
        const ConfigNode* events = map.optional("events");
        if (present(events)) {
            if (auto name = reader_.choice<std::string>(
                    *events, key_of("events", what),
                    {{"person", "person"}, {"auction", "auction"}, {"bid", "bid"}})) {
                source.generator_events = *name;
            }
            if (source.generator_kind != "nexmark" && kind != nullptr) {
                reader_.error(ErrorCode::kConfig,
                              key_of("events", what) + " is for kind: nexmark only",
                              events->location());
            }
        } else if (source.generator_kind == "nexmark") {
            reader_.error(ErrorCode::kConfig,
                          key_of("events", what) +
                              " is required for kind: nexmark (person, auction or bid: one "
                              "relation per source)",
                          node.location());
        }
        if (const ConfigNode* paced = map.optional("paced"); present(paced)) {
            if (auto value = reader_.choice<bool>(*paced, key_of("paced", what),
                                                  {{"true", true}, {"false", false}})) {
                source.generator_paced = *value;
            }
        }
        if (const ConfigNode* rate = map.optional("rate"); present(rate)) {
            // "1000/s", "60/m", "5/ms" or a number (per second).
            std::string text = rate->is_scalar() ? std::string(rate->scalar()) : "";
            double per = 1;
            for (const auto& [suffix, factor] :
                 std::initializer_list<std::pair<std::string, double>>{
                     {"/ms", 1000.0}, {"/s", 1.0}, {"/m", 1.0 / 60}, {"/h", 1.0 / 3600}}) {
                if (text.size() > suffix.size() && text.ends_with(suffix)) {
                    text.resize(text.size() - suffix.size());
                    per = factor;
                    break;
                }
            }
            char* end = nullptr;
            const double value = text.empty() ? 0 : std::strtod(text.c_str(), &end);
            if (text.empty() || end != text.c_str() + text.size() || !(value > 0) ||
                value * per > 1e8) {
                reader_.error(ErrorCode::kConfig,
                              key_of("rate", what) +
                                  " must be records per time, e.g. 1000/s, 60/m (at most 1e8/s)",
                              rate->location());
            } else {
                source.generator_rate = value * per;
            }
        }
        if (const ConfigNode* seed = map.optional("seed"); present(seed)) {
            if (auto value = reader_.integer(*seed, key_of("seed", what), 0,
                                             std::numeric_limits<int64_t>::max())) {
                source.generator_seed = static_cast<uint64_t>(*value);
            }
        }
        if (const ConfigNode* limit = map.optional("limit"); present(limit)) {
            if (auto value = reader_.integer(*limit, key_of("limit", what), 1,
                                             std::numeric_limits<int64_t>::max())) {
                source.generator_limit = static_cast<uint64_t>(*value);
            }
        }
        if (const ConfigNode* bad = map.optional("bad_fraction"); present(bad)) {
            const std::string text = bad->is_scalar() ? std::string(bad->scalar()) : "";
            char* end = nullptr;
            const double value = text.empty() ? -1 : std::strtod(text.c_str(), &end);
            if (text.empty() || end != text.c_str() + text.size() || !(value >= 0 && value <= 1)) {
                reader_.error(ErrorCode::kConfig,
                              key_of("bad_fraction", what) + " must be a number from 0 to 1",
                              bad->location());
            } else {
                source.generator_bad_fraction = value;
            }
        }
        if (const ConfigNode* start = map.optional("start"); present(start)) {
            const std::optional<int64_t> micros =
                start->is_scalar() ? parse_timestamp(start->scalar()) : std::nullopt;
            if (!micros) {
                reader_.error(
                    ErrorCode::kConfig,
                    key_of("start", what) + " must be a UTC timestamp such as 2026-11-23T10:30:00Z",
                    start->location());
            } else if (source.generator_kind == "nexmark" && kind != nullptr) {
                reader_.error(ErrorCode::kConfig,
                              key_of("start", what) +
                                  " is not for kind: nexmark (its event n is at "
                                  "2026-01-01T00:00:00Z + n/rate)",
                              start->location());
            } else {
                source.generator_start_micros = *micros;
            }
        }
    }

    /// `kafka: { brokers: h:p[,h:p], topic: t, group: g, start_from: earliest, format: json,
    /// properties: {...} }` of a source, or `kafka: { brokers, topic, key, properties }` of a
    /// sink (exactly one of `source`, `sink` is given).
    void parse_kafka(const ConfigNode& node, const std::string& what, SourceSpec* source,
                     SinkSpec* sink) {
        std::vector<std::string>& brokers_out = source ? source->brokers : sink->brokers;
        std::string& topic_out = source ? source->topic : sink->topic;
        auto& properties_out = source ? source->properties : sink->properties;
        MapReader map(reader_, node, what);
        if (const ConfigNode* brokers = map.required("brokers")) {
            if (brokers->is_scalar()) {
                // "host1:9092,host2:9092", as Kafka tools write it.
                std::string_view rest = brokers->scalar();
                while (!rest.empty()) {
                    const std::size_t comma = rest.find(',');
                    std::string_view broker = rest.substr(0, comma);
                    while (!broker.empty() && broker.front() == ' ') broker.remove_prefix(1);
                    while (!broker.empty() && broker.back() == ' ') broker.remove_suffix(1);
                    if (!broker.empty()) brokers_out.emplace_back(broker);
                    if (comma == std::string_view::npos) break;
                    rest.remove_prefix(comma + 1);
                }
                if (brokers_out.empty()) {
                    reader_.error(ErrorCode::kConfig, key_of("brokers", what) + " is empty",
                                  brokers->location());
                }
            } else if (auto list = reader_.scalar_list(*brokers, key_of("brokers", what))) {
                brokers_out = std::move(*list);
            }
        }
        if (const ConfigNode* topic = map.required("topic")) {
            if (auto text = reader_.non_empty(*topic, key_of("topic", what));
                text && reader_.resource_name(*text, topic->location(), "a topic")) {
                topic_out = *text;
            }
        }
        if (source != nullptr) {
            if (const ConfigNode* group = map.optional("group"); present(group)) {
                if (auto text = reader_.non_empty(*group, key_of("group", what)))
                    source->group = *text;
            }
            if (const ConfigNode* start_from = map.optional("start_from"); present(start_from)) {
                if (auto start = reader_.choice<StartFrom>(
                        *start_from, key_of("start_from", what),
                        {{"earliest", StartFrom::kEarliest}, {"latest", StartFrom::kLatest}})) {
                    source->start_from = *start;
                }
            }
            if (const ConfigNode* format = map.optional("format"); present(format)) {
                if (auto value = reader_.choice<DataFormat>(
                        *format, key_of("format", what),
                        {{"json", DataFormat::kJson}, {"ndjson", DataFormat::kNdjson}})) {
                    source->format = *value;
                }
            }
        } else {
            if (const ConfigNode* key = map.optional("key"); present(key)) {
                if (key->is_scalar()) {
                    if (auto text = reader_.non_empty(*key, key_of("key", what)))
                        sink->key.push_back(*text);
                } else if (auto list = reader_.scalar_list(*key, key_of("key", what))) {
                    sink->key = std::move(*list);
                }
            }
        }
        if (const ConfigNode* properties = map.optional("properties"); present(properties)) {
            const std::string properties_what = key_of("properties", what);
            if (reader_.expect_map(*properties, properties_what)) {
                for (const ConfigEntry& entry : properties->entries()) {
                    if (auto value =
                            reader_.scalar(entry.value, key_of(entry.key, properties_what))) {
                        properties_out[entry.key] = *value;
                    }
                }
            }
        }
        map.finish();
    }

    std::optional<Schema> parse_schema(const ConfigNode& node, const std::string& what) {
        if (node.is_scalar()) {
            // The one-line form: "order_id: string not null, amount: double".
            Result<Schema> parsed = parse_schema_spec(node.scalar());
            if (!parsed.ok()) {
                const Error& failure = parsed.error();
                reader_.error(failure.code(), what + ": " + failure.message(),
                              node.location_in_scalar(1, failure.location().column));
                return std::nullopt;
            }
            return std::move(parsed).value();
        }
        if (!node.is_map()) {
            reader_.error(ErrorCode::kConfig,
                          "expected a map of column types for " + what + ", got " +
                              std::string(node.kind_name()),
                          node.location());
            return std::nullopt;
        }
        if (node.size() == 0) {
            reader_.error(ErrorCode::kConfig, what + " declares no columns", node.location());
            return std::nullopt;
        }
        std::vector<Field> fields;
        bool ok = true;
        for (const ConfigEntry& entry : node.entries()) {
            if (!entry.value.is_scalar()) {
                reader_.error(ErrorCode::kConfig,
                              "expected a type such as `string not null` for column " +
                                  backticks(entry.key) + ", got " +
                                  std::string(entry.value.kind_name()),
                              entry.value.is_null() ? entry.key_location : entry.value.location());
                ok = false;
                continue;
            }
            const std::string& spec = entry.value.scalar();
            Result<Field> field = parse_field_spec(entry.key, spec);
            if (!field.ok()) {
                const Error& failure = field.error();
                const int column = std::max(failure.location().column, 1);
                std::string message = failure.message();
                const auto position = static_cast<std::size_t>(column - 1);
                if (position == first_word_position(spec)) {
                    // The type itself is unknown: suggest the nearest type name.
                    message += did_you_mean(word_at(spec, position), canonical_type_names());
                }
                reader_.error(failure.code(), std::move(message),
                              entry.value.location_in_scalar(1, column));
                ok = false;
                continue;
            }
            fields.push_back(std::move(field).value());
        }
        if (!ok) return std::nullopt;
        Result<Schema> schema = Schema::make(std::move(fields));
        if (!schema.ok()) {
            reader_.error(ErrorCode::kConfig, what + ": " + schema.error().message(),
                          node.location());
            return std::nullopt;
        }
        return std::move(schema).value();
    }

    void check_event_time(const Schema& schema, const std::string& column, const ConfigNode& node) {
        const std::optional<std::size_t> index = schema.index_of(column);
        if (!index) {
            std::vector<std::string> names;
            for (const Field& field : schema.fields()) names.push_back(field.name);
            reader_.error(ErrorCode::kConfig,
                          "event_time " + backticks(column) + " is not a column of the schema" +
                              did_you_mean(column, names),
                          node.location());
            return;
        }
        const Field& field = schema.field(*index);
        if (field.type != DataType::kTimestamp) {
            reader_.error(ErrorCode::kTypeMismatch,
                          "event_time " + backticks(column) + " is a " +
                              std::string(type_name(field.type)) +
                              " column; it must be a "
                              "timestamp",
                          node.location());
        }
    }

    // ---- views --------------------------------------------------------------------------

    void parse_views(const ConfigNode& node) {
        if (!reader_.expect_map(node, key_of("views", what_))) return;
        for (const ConfigEntry& entry : node.entries()) {
            ViewSpec view;
            view.name = entry.key;
            view.location = entry.key_location;
            check_element_name(entry.key, entry.key_location, "a view");
            if (spec_.find_source(entry.key) != nullptr) {
                reader_.error(ErrorCode::kConfig,
                              "view " + backticks(entry.key) +
                                  " has the name of a source; views "
                                  "and sources share one namespace in SQL",
                              entry.key_location);
            }
            const std::string what = "view " + backticks(entry.key);
            if (entry.value.is_scalar() && entry.value.scalar().empty()) {
                reader_.error(ErrorCode::kConfig, what + " has no SQL", entry.value.location());
            } else if (entry.value.is_scalar()) {
                view.sql = SqlText{entry.value.scalar(), entry.value};
            } else if (entry.value.is_map()) {
                // The map form documents the view for the catalog: { sql, description, ... }.
                MapReader fields(reader_, entry.value, what);
                parse_docs(fields, what, view.docs, true);
                if (const ConfigNode* sql = fields.required("sql")) {
                    if (!sql->is_scalar() || sql->scalar().empty()) {
                        reader_.error(ErrorCode::kConfig, what + " has no SQL", sql->location());
                    } else {
                        view.sql = SqlText{sql->scalar(), *sql};
                    }
                }
                fields.finish();
            } else {
                reader_.error(ErrorCode::kConfig,
                              "expected SQL text for " + what + ", got " +
                                  std::string(entry.value.kind_name()),
                              entry.value.is_null() ? entry.key_location : entry.value.location());
            }
            spec_.views.push_back(std::move(view));
        }
    }

    // `description`, `owner` and `tags`: what the catalog shows about a source, view, sink or
    // the pipeline (whose description is read with its other keys).
    void parse_docs(MapReader& map, const std::string& what, DatasetDocs& docs,
                    bool with_description) {
        if (with_description) {
            if (const ConfigNode* node = map.optional("description"); present(node)) {
                if (auto text = reader_.scalar(*node, key_of("description", what))) {
                    docs.description = *text;
                }
            }
        }
        if (const ConfigNode* node = map.optional("owner"); present(node)) {
            if (auto text = reader_.scalar(*node, key_of("owner", what))) docs.owner = *text;
        }
        if (const ConfigNode* node = map.optional("tags"); present(node)) {
            if (auto list = reader_.scalar_list(*node, key_of("tags", what))) docs.tags = *list;
        }
    }

    // ---- checks -------------------------------------------------------------------------

    void parse_checks(const ConfigNode& node) {
        if (!reader_.expect_map(node, key_of("checks", what_))) return;
        for (const ConfigEntry& entry : node.entries()) {
            const SourceSpec* source = spec_.find_source(entry.key);
            if (source == nullptr && spec_.find_view(entry.key) == nullptr) {
                reader_.error(ErrorCode::kConfig,
                              "checks on " + backticks(entry.key) +
                                  ", which is neither a source nor a view of " + what_ +
                                  did_you_mean(entry.key, element_names(false)),
                              entry.key_location);
            }
            const std::string what = "checks of " + backticks(entry.key);
            if (!reader_.expect_sequence(entry.value, what)) continue;
            const Schema* schema = source != nullptr && source->schema ? &*source->schema : nullptr;
            for (std::size_t i = 0; i < entry.value.items().size(); ++i) {
                parse_check(entry.key, schema, entry.value.items()[i], i + 1);
            }
        }
    }

    void parse_check(const std::string& target, const Schema* schema, const ConfigNode& node,
                     std::size_t number) {
        CheckSpec check;
        check.target = target;
        check.location = node.location();
        const std::string what = "check #" + std::to_string(number) + " of " + backticks(target);
        MapReader map(reader_, node, what);
        const ConfigNode* not_null = map.optional("not_null");
        const ConfigNode* expect = map.optional("expect");
        const ConfigNode* accepted = map.optional("accepted_values");
        const ConfigNode* range = map.optional("range");
        const ConfigNode* regex = map.optional("regex");
        const ConfigNode* row_count = map.optional("row_count");
        const ConfigNode* unique = map.optional("unique");
        const ConfigNode* freshness = map.optional("freshness");
        const ConfigNode* referential = map.optional("referential");
        const ConfigNode* on_fail = map.optional("on_fail");
        const ConfigNode* name = map.optional("name");
        const ConfigNode* mostly = map.optional("mostly");
        const ConfigNode* severity = map.optional("severity");
        if (!map.is_map()) return;

        const std::optional<std::string_view> kind = one_of(map,
                                                            {{"not_null", not_null},
                                                             {"expect", expect},
                                                             {"accepted_values", accepted},
                                                             {"range", range},
                                                             {"regex", regex},
                                                             {"row_count", row_count},
                                                             {"unique", unique},
                                                             {"freshness", freshness},
                                                             {"referential", referential}},
                                                            what);
        if (kind == "not_null") {
            check.kind = CheckKind::kNotNull;
            if (auto columns = reader_.scalar_list(*not_null, key_of("not_null", what))) {
                check.columns = std::move(*columns);
                if (schema != nullptr) check_columns(*schema, *not_null, target);
            }
        } else if (kind == "expect") {
            check.kind = CheckKind::kExpect;
            if (auto text = reader_.non_empty(*expect, key_of("expect", what))) {
                check.expression = SqlText{*text, *expect};
            }
        } else if (kind == "accepted_values") {
            check.kind = CheckKind::kAcceptedValues;
            const std::string inner = key_of("accepted_values", what);
            MapReader fields(reader_, *accepted, inner);
            const ConfigNode* column = fields.required("column");
            const ConfigNode* values = fields.required("values");
            if (fields.is_map()) {
                read_rule_column(check, column, inner, schema, target);
                if (values != nullptr) {
                    if (auto list = reader_.scalar_list(*values, key_of("values", inner))) {
                        check.values = std::move(*list);
                    }
                }
                fields.finish();
            }
        } else if (kind == "range") {
            check.kind = CheckKind::kRange;
            const std::string inner = key_of("range", what);
            MapReader fields(reader_, *range, inner);
            const ConfigNode* column = fields.required("column");
            const ConfigNode* min = fields.optional("min");
            const ConfigNode* max = fields.optional("max");
            if (fields.is_map()) {
                read_rule_column(check, column, inner, schema, target);
                if (present(min)) check.min_value = number_text(*min, key_of("min", inner));
                if (present(max)) check.max_value = number_text(*max, key_of("max", inner));
                if (!present(min) && !present(max)) {
                    reader_.error(ErrorCode::kConfig, inner + " needs `min`, `max` or both",
                                  fields.location());
                }
                fields.finish();
            }
        } else if (kind == "regex") {
            check.kind = CheckKind::kRegex;
            const std::string inner = key_of("regex", what);
            MapReader fields(reader_, *regex, inner);
            const ConfigNode* column = fields.required("column");
            const ConfigNode* pattern = fields.required("pattern");
            if (fields.is_map()) {
                read_rule_column(check, column, inner, schema, target);
                if (pattern != nullptr) {
                    if (auto text = reader_.non_empty(*pattern, key_of("pattern", inner))) {
                        if (auto problem = regex_error(*text)) {
                            reader_.error(ErrorCode::kParse,
                                          key_of("pattern", inner) +
                                              " is not a regular "
                                              "expression: " +
                                              *problem,
                                          pattern->location());
                        } else {
                            check.pattern = *text;
                        }
                    }
                }
                fields.finish();
            }
        } else if (kind == "row_count") {
            check.kind = CheckKind::kRowCount;
            const std::string inner = key_of("row_count", what);
            MapReader fields(reader_, *row_count, inner);
            const ConfigNode* min = fields.optional("min");
            const ConfigNode* max = fields.optional("max");
            if (fields.is_map()) {
                constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
                if (present(min))
                    check.min_rows = reader_.integer(*min, key_of("min", inner), 0, kMax);
                if (present(max))
                    check.max_rows = reader_.integer(*max, key_of("max", inner), 0, kMax);
                if (!present(min) && !present(max)) {
                    reader_.error(ErrorCode::kConfig, inner + " needs `min`, `max` or both",
                                  fields.location());
                }
                fields.finish();
            }
        } else if (kind == "unique") {
            check.kind = CheckKind::kUnique;
            if (auto columns = reader_.scalar_list(*unique, key_of("unique", what))) {
                check.columns = std::move(*columns);
                if (schema != nullptr) check_columns(*schema, *unique, target);
            }
        } else if (kind == "freshness") {
            check.kind = CheckKind::kFreshness;
            const std::string inner = key_of("freshness", what);
            MapReader fields(reader_, *freshness, inner);
            const ConfigNode* column = fields.required("column");
            const ConfigNode* max_age = fields.required("max_age");
            if (fields.is_map()) {
                read_rule_column(check, column, inner, schema, target);
                if (max_age != nullptr) {
                    if (auto age = reader_.duration(*max_age, key_of("max_age", inner))) {
                        check.max_age = *age;
                    }
                }
                fields.finish();
            }
        }
        if (kind == "referential") {
            // referential: { column: customer_id, table: customers, key: id }
            check.kind = CheckKind::kReferential;
            const std::string inner = key_of("referential", what);
            MapReader fields(reader_, *referential, inner);
            const ConfigNode* column = fields.required("column");
            const ConfigNode* table = fields.required("table");
            const ConfigNode* key = fields.optional("key");
            if (fields.is_map()) {
                read_rule_column(check, column, inner, schema, target);
                if (table != nullptr) {
                    if (auto text = reader_.non_empty(*table, key_of("table", inner))) {
                        check.ref_table = *text;
                    }
                }
                check.ref_column = check.column;
                if (present(key)) {
                    if (auto text = reader_.non_empty(*key, key_of("key", inner))) {
                        check.ref_column = *text;
                    }
                }
                fields.finish();
            }
        }
        const bool row_kind = kind == "not_null" || kind == "expect" || kind == "accepted_values" ||
                              kind == "range" || kind == "regex";
        if (present(mostly)) {
            if (kind && !row_kind) {
                reader_.error(ErrorCode::kConfig,
                              what +
                                  ": `mostly` is for not_null, expect, accepted_values, range and "
                                  "regex rules",
                              map.key_location("mostly"));
            } else if (!mostly->is_scalar()) {
                reader_.error(ErrorCode::kConfig,
                              key_of("mostly", what) + " must be a number in (0, 1]",
                              mostly->location());
            } else {
                const std::string& text = mostly->scalar();
                char* end = nullptr;
                const double value = std::strtod(text.c_str(), &end);
                if (text.empty() || end != text.c_str() + text.size() || !(value > 0.0) ||
                    value > 1.0) {
                    reader_.error(ErrorCode::kOutOfRange,
                                  key_of("mostly", what) + " must be a number in (0, 1], got " +
                                      backticks(text),
                                  mostly->location());
                } else {
                    check.mostly = value;
                }
            }
        }
        const bool dataset = kind.has_value() && (!row_kind || present(mostly));
        if (present(on_fail)) {
            if (dataset) {
                reader_.error(ErrorCode::kConfig,
                              what +
                                  ": `on_fail` is for row-level checks; a dataset rule takes "
                                  "`severity: warn | error`",
                              map.key_location("on_fail"));
            } else if (auto action =
                           reader_.choice<CheckAction>(*on_fail, key_of("on_fail", what),
                                                       {{"dead_letter", CheckAction::kDeadLetter},
                                                        {"drop", CheckAction::kDrop},
                                                        {"warn", CheckAction::kWarn},
                                                        {"fail", CheckAction::kFail}})) {
                check.on_fail = *action;
            }
        }
        if (present(severity)) {
            if (!dataset) {
                reader_.error(ErrorCode::kConfig,
                              what +
                                  ": `severity` is for dataset rules (row_count, unique, "
                                  "freshness, referential, or a rule with `mostly`); a "
                                  "row-level check takes `on_fail`",
                              map.key_location("severity"));
            } else if (auto level = reader_.choice<CheckSeverity>(
                           *severity, key_of("severity", what),
                           {{"error", CheckSeverity::kError}, {"warn", CheckSeverity::kWarn}})) {
                check.severity = *level;
            }
        }
        if (present(name)) {
            if (auto text = reader_.non_empty(*name, key_of("name", what))) check.name = *text;
        }
        map.finish();
        spec_.checks.push_back(std::move(check));
    }

    // Why `pattern` is not a regular expression std::regex takes; nullopt when it is.
    static std::optional<std::string> regex_error(const std::string& pattern) {
        try {
            std::regex compiled(pattern);
            (void)compiled;
        } catch (const std::regex_error& error) {
            return std::string(error.what());
        }
        return std::nullopt;
    }

    // The `column` of a rule: known to the source's declared schema when there is one.
    void read_rule_column(CheckSpec& check, const ConfigNode* column, const std::string& what,
                          const Schema* schema, const std::string& target) {
        if (column == nullptr) return;
        if (auto text = reader_.non_empty(*column, key_of("column", what))) {
            check.column = *text;
            check.column_location = column->location();
            if (schema != nullptr) check_columns(*schema, *column, target);
        }
    }

    // A number for a range bound, kept as the SQL literal it is compared with.
    std::optional<std::string> number_text(const ConfigNode& node, const std::string& what) {
        if (!node.is_scalar()) {
            reader_.error(ErrorCode::kConfig, what + " must be a number", node.location());
            return std::nullopt;
        }
        const std::string& text = node.scalar();
        char* end = nullptr;
        (void)std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) {
            reader_.error(ErrorCode::kConfig, what + " must be a number, got " + backticks(text),
                          node.location());
            return std::nullopt;
        }
        return text;
    }

    // Every column a not_null check names must be in the source's declared schema.
    void check_columns(const Schema& schema, const ConfigNode& node, const std::string& target) {
        std::vector<std::string> names;
        for (const Field& field : schema.fields()) names.push_back(field.name);
        auto check_one = [&](const ConfigNode& item) {
            const std::string& column = item.scalar();
            if (!schema.index_of(column)) {
                reader_.error(ErrorCode::kConfig,
                              "column " + backticks(column) + " is not in the schema of source " +
                                  backticks(target) + did_you_mean(column, names),
                              item.location());
            }
        };
        if (node.is_scalar()) {
            check_one(node);
        } else {
            for (const ConfigNode& item : node.items()) check_one(item);
        }
    }

    // ---- sinks --------------------------------------------------------------------------

    void parse_sinks(const ConfigNode& node) {
        if (!reader_.expect_sequence(node, key_of("sinks", what_))) return;
        if (node.size() == 0) {
            reader_.error(ErrorCode::kConfig, what_ + " has no sinks", node.location());
        }
        for (std::size_t i = 0; i < node.items().size(); ++i) {
            parse_sink(node.items()[i], i + 1);
        }
    }

    void parse_sink(const ConfigNode& node, std::size_t number) {
        SinkSpec sink;
        sink.location = node.location();
        const std::string what = "sink #" + std::to_string(number);
        MapReader map(reader_, node, what);
        parse_docs(map, what, sink.docs, true);
        const ConfigNode* from = map.required("from");
        const ConfigNode* lake = map.optional("lake");
        const ConfigNode* online = map.optional("online");
        const ConfigNode* topic = map.optional("topic");
        const ConfigNode* file = map.optional("file");
        const ConfigNode* topic_key = map.optional("key");
        const ConfigNode* kafka = map.optional("kafka");
        const ConfigNode* blackhole = map.optional("blackhole");
        const ConfigNode* emit = map.optional("emit");
        if (!map.is_map()) return;

        if (from != nullptr) {
            if (auto text = reader_.non_empty(*from, key_of("from", what))) {
                sink.from = *text;
                sink.from_location = from->location();
                if (spec_.find_source(*text) == nullptr && spec_.find_view(*text) == nullptr &&
                    *text != kDeadLetterName) {
                    reader_.error(ErrorCode::kConfig,
                                  what + " reads from " + backticks(*text) +
                                      ", which is neither a source, a view nor `dead_letter`" +
                                      did_you_mean(*text, element_names(true)),
                                  from->location());
                }
            }
        }
        const std::optional<std::string_view> kind = one_of(map,
                                                            {{"lake", lake},
                                                             {"online", online},
                                                             {"topic", topic},
                                                             {"file", file},
                                                             {"kafka", kafka},
                                                             {"blackhole", blackhole}},
                                                            what);
        if (present(topic_key) && kind && *kind != "topic") {
            reader_.error(ErrorCode::kConfig,
                          key_of("key", what) + " keys a topic sink's records; a " +
                              std::string(*kind) + " sink " +
                              (*kind == "online" || *kind == "kafka"
                                   ? "takes its key inside `" + std::string(*kind) + ":`"
                                   : "has no key"),
                          topic_key->location());
        }
        if (kind == "lake") {
            sink.kind = SinkKind::kLake;
            MapReader lake_map(reader_, *lake, key_of("lake", what));
            if (const ConfigNode* table = lake_map.required("table")) {
                if (auto text = reader_.non_empty(*table, key_of("table", lake_map.what()));
                    text && reader_.resource_name(*text, table->location(), "a lake table")) {
                    sink.table = *text;
                }
            }
            if (const ConfigNode* partition_by = lake_map.optional("partition_by");
                present(partition_by)) {
                if (auto list = reader_.scalar_list(*partition_by,
                                                    key_of("partition_by", lake_map.what()))) {
                    sink.partition_by = std::move(*list);
                }
            }
            if (const ConfigNode* mode = lake_map.optional("mode"); present(mode)) {
                if (auto value = reader_.choice<bool>(*mode, key_of("mode", lake_map.what()),
                                                      {{"overwrite", false}, {"upsert", true}})) {
                    sink.upsert = *value;
                }
            }
            if (const ConfigNode* evolution = lake_map.optional("schema_evolution");
                present(evolution)) {
                if (auto value = reader_.choice<bool>(*evolution,
                                                      key_of("schema_evolution", lake_map.what()),
                                                      {{"none", false}, {"add_columns", true}})) {
                    sink.add_columns = *value;
                }
            }
            const ConfigNode* lake_key = lake_map.optional("key");
            if (present(lake_key)) {
                if (auto list = reader_.scalar_list(*lake_key, key_of("key", lake_map.what()))) {
                    sink.key = std::move(*list);
                }
            }
            if (sink.upsert && sink.key.empty()) {
                reader_.error(ErrorCode::kConfig,
                              lake_map.what() + ": mode upsert needs `key:` (the key columns)",
                              lake_map.location());
            } else if (!sink.upsert && present(lake_key)) {
                reader_.error(
                    ErrorCode::kConfig,
                    key_of("key", lake_map.what()) + " is the upsert key: it needs `mode: upsert`",
                    lake_key->location());
            }
            lake_map.finish();
        } else if (kind == "online") {
            sink.kind = SinkKind::kOnline;
            MapReader online_map(reader_, *online, key_of("online", what));
            if (const ConfigNode* view = online_map.required("feature_view")) {
                if (auto text = reader_.non_empty(*view, key_of("feature_view", online_map.what()));
                    text && reader_.resource_name(*text, view->location(), "a feature view")) {
                    sink.feature_view = *text;
                }
            }
            if (const ConfigNode* key = online_map.optional("key"); key && !key->is_null()) {
                if (auto list = reader_.scalar_list(*key, key_of("key", online_map.what()))) {
                    sink.key = std::move(*list);
                }
            }
            if (const ConfigNode* time = online_map.optional("event_time");
                time && !time->is_null()) {
                if (auto text = reader_.non_empty(*time, key_of("event_time", online_map.what()));
                    text && reader_.sql_name(*text, time->location(), "event time column")) {
                    sink.event_time = *text;
                }
            }
            online_map.finish();
        } else if (kind == "topic") {
            sink.kind = SinkKind::kTopic;
            if (auto text = reader_.non_empty(*topic, key_of("topic", what));
                text && reader_.resource_name(*text, topic->location(), "a topic")) {
                sink.topic = *text;
            }
            if (present(topic_key)) {
                if (auto text = reader_.non_empty(*topic_key, key_of("key", what));
                    text && reader_.sql_name(*text, topic_key->location(), "key column")) {
                    sink.key = {std::string(*text)};
                }
            }
        } else if (kind == "blackhole") {
            // `blackhole: {}`: nothing to configure.
            sink.kind = SinkKind::kBlackhole;
            MapReader(reader_, *blackhole, key_of("blackhole", what)).finish();
        } else if (kind == "kafka") {
            sink.kind = SinkKind::kKafka;
            parse_kafka(*kafka, key_of("kafka", what), nullptr, &sink);
        } else if (kind == "file") {
            sink.kind = SinkKind::kFile;
            FileTarget target = read_file_target(*file, key_of("file", what));
            sink.path = target.path;
            sink.path_location = target.location;
            if (target.format) {
                sink.format = *target.format;
            } else if (!target.path.empty()) {
                if (std::optional<DataFormat> inferred = format_from_extension(target.path)) {
                    sink.format = *inferred;
                } else {
                    reader_.error(ErrorCode::kConfig,
                                  "cannot tell the format of " + backticks(target.path) + " for " +
                                      what + "; add `format: csv`, `json`, `ndjson` or `parquet`",
                                  file->location());
                }
            }
        }
        if (present(topic_key) && kind && *kind != "topic") {
            reader_.error(ErrorCode::kConfig,
                          "`key` beside the target is for topic sinks (the column that keys "
                          "each record); an online sink takes `key` inside `online:`",
                          topic_key->location());
        }
        if (present(emit)) parse_emit(*emit, key_of("emit", what), sink);
        map.finish();
        spec_.sinks.push_back(std::move(sink));
    }

    // `emit: { every: 5s }`: early results of a windowed aggregate. Whether the sink takes
    // updates and the plan has windows is checked with the plan (pipeline/stream_runner.h).
    void parse_emit(const ConfigNode& node, const std::string& what, SinkSpec& sink) {
        MapReader emit_map(reader_, node, what);
        const ConfigNode* every = emit_map.required("every");
        if (!emit_map.is_map()) return;
        if (every != nullptr) {
            const std::string every_what = key_of("every", what);
            if (auto value = reader_.duration(*every, every_what)) {
                if (value->count() <= 0) {
                    reader_.error(ErrorCode::kConfig, every_what + " must be longer than 0",
                                  every->location());
                } else if (spec_.mode != PipelineMode::kStreaming) {
                    reader_.error(ErrorCode::kConfig,
                                  what +
                                      " applies to streaming pipelines (`mode: streaming`): a "
                                      "batch run emits each window once, complete",
                                  node.location());
                } else {
                    sink.emit_every = *value;
                    sink.emit_location = node.location();
                }
            }
        }
        emit_map.finish();
    }

    // ---- shared -------------------------------------------------------------------------

    // Exactly one of `options` must be given: returns its key, or records why not.
    std::optional<std::string_view> one_of(
        const MapReader& map,
        std::initializer_list<std::pair<std::string_view, const ConfigNode*>> options,
        const std::string& what) {
        std::vector<std::string_view> given;
        for (const auto& [key, node] : options) {
            if (node != nullptr) given.push_back(key);
        }
        // In the order the user wrote them, so the error points at the later one.
        auto written_before = [&map](std::string_view a, std::string_view b) {
            const SourceLocation first = map.key_location(a);
            const SourceLocation second = map.key_location(b);
            return std::pair(first.line, first.column) < std::pair(second.line, second.column);
        };
        std::stable_sort(given.begin(), given.end(), written_before);
        if (given.empty()) {
            std::vector<std::string> keys;
            for (const auto& option : options) keys.emplace_back(backticks(option.first));
            std::string list;
            for (std::size_t i = 0; i < keys.size(); ++i) {
                if (i > 0) list += i + 1 == keys.size() ? " or " : ", ";
                list += keys[i];
            }
            reader_.error(ErrorCode::kConfig, what + " needs one of " + list, map.location());
            return std::nullopt;
        }
        if (given.size() > 1) {
            reader_.error(ErrorCode::kConfig,
                          what + " has both " + backticks(given[0]) + " and " +
                              backticks(given[1]) + "; give only one",
                          map.key_location(given[1]));
        }
        return given[0];
    }

    std::optional<DataFormat> read_format(const ConfigNode& node, const std::string& what) {
        return reader_.choice<DataFormat>(node, what,
                                          {{"json", DataFormat::kJson},
                                           {"ndjson", DataFormat::kNdjson},
                                           {"csv", DataFormat::kCsv},
                                           {"parquet", DataFormat::kParquet}});
    }

    // `file: path/to/x.csv` or `file: { path: ..., format: ... }`.
    FileTarget read_file_target(const ConfigNode& node, const std::string& what) {
        FileTarget target;
        std::optional<std::string> path;
        const ConfigNode* path_node = nullptr;
        if (node.is_scalar()) {
            path = reader_.non_empty(node, what);
            path_node = &node;
        } else if (node.is_map()) {
            MapReader map(reader_, node, what);
            path_node = map.required("path");
            if (path_node != nullptr) {
                path = reader_.non_empty(*path_node, key_of("path", what));
            }
            if (const ConfigNode* format = map.optional("format"); present(format)) {
                target.format = read_format(*format, key_of("format", what));
            }
            map.finish();
        } else {
            reader_.error(ErrorCode::kConfig,
                          "expected a path or a map with `path` and `format` for " + what +
                              ", got " + std::string(node.kind_name()),
                          node.location());
        }
        if (path) {
            target.location = path_node->location();
            if (Status variables = check_pipeline_variables(*path, spec_.variables);
                !variables.ok()) {
                reader_.error(
                    variables.error().code(), what + ": " + variables.error().message(),
                    path_node->location_in_scalar(1, variables.error().location().column));
            }
            target.path = resolve_path(project_dir_, *path);
        }
        return target;
    }

    // Sources and views are referred to by SQL; `dead_letter` is taken.
    void check_element_name(const std::string& name, const SourceLocation& location,
                            std::string_view what) {
        if (name == kDeadLetterName) {
            reader_.error(ErrorCode::kConfig,
                          "`dead_letter` is reserved for the records a pipeline rejects; give " +
                              std::string(what) + " another name",
                          location);
            return;
        }
        reader_.sql_name(name, location, what);
    }

    std::vector<std::string> element_names(bool with_dead_letter) const {
        std::vector<std::string> names;
        for (const SourceSpec& source : spec_.sources) names.push_back(source.name);
        for (const ViewSpec& view : spec_.views) names.push_back(view.name);
        if (with_dead_letter) names.emplace_back(kDeadLetterName);
        return names;
    }

    ConfigReader reader_;
    const std::string& file_;
    const std::string& project_dir_;
    PipelineSpec spec_;
    std::string what_;  // "pipeline `name`"
};

}  // namespace

std::string resolve_path(const std::string& base_dir, const std::string& path) {
    std::filesystem::path resolved(path);
    if (resolved.is_relative()) resolved = std::filesystem::path(base_dir) / resolved;
    return resolved.lexically_normal().string();
}

Result<PipelineSpec> parse_pipeline_node(const ConfigNode& root, const std::string& file,
                                         const std::string& project_dir,
                                         std::vector<Error>* errors) {
    std::vector<Error> local;
    std::vector<Error>& sink = errors != nullptr ? *errors : local;
    const std::size_t before = sink.size();
    PipelineSpec spec = PipelineParser(sink, file, project_dir).parse(root);
    if (sink.size() > before) return sink[before];
    return spec;
}

Result<PipelineSpec> parse_pipeline(std::string_view text, const std::string& file,
                                    const std::string& project_dir, std::vector<Error>* errors) {
    Result<YamlDocument> document = YamlDocument::parse(text, file);
    if (!document.ok()) {
        if (errors != nullptr) errors->push_back(document.error());
        return std::move(document).error();
    }
    return parse_pipeline_node(document->root(), file, project_dir, errors);
}

}  // namespace millrace
