#include "project/project_loader.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "common/config_node.h"
#include "common/suggest.h"
#include "common/yaml_document.h"
#include "project/config_reader.h"
#include "project/pipeline_parser.h"

namespace millrace {

namespace {

constexpr std::string_view kProjectFile = "millrace.yaml";
constexpr std::string_view kDefaultDataDir = "data";
constexpr std::string_view kDefaultListenHttp = "127.0.0.1:8080";

enum class FileKind { kPipeline, kFeatureView, kJob, kRoute };

bool has_glob_characters(std::string_view pattern) {
    return pattern.find_first_of("*?[") != std::string_view::npos;
}

// Escapes glob metacharacters so that a directory name is matched literally.
std::string escape_glob(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// "host:port" or "[v6-address]:port", with a port in 1..65535.
bool is_valid_listen_address(std::string_view address) {
    std::size_t colon = std::string_view::npos;
    if (!address.empty() && address.front() == '[') {
        const std::size_t close = address.find(']');
        if (close == std::string_view::npos || close < 2 || close + 1 >= address.size() ||
            address[close + 1] != ':') {
            return false;
        }
        colon = close + 1;
    } else {
        colon = address.rfind(':');
        if (colon == std::string_view::npos || colon == 0) return false;
        if (address.substr(0, colon).find(':') != std::string_view::npos) return false;
    }
    const std::string_view port = address.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    int value = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    return value >= 1 && value <= 65535;
}

struct Definition {
    std::string kind_name;  // "pipeline", "feature view", "job"
    SourceLocation location;
};

class ProjectLoader {
public:
    ProjectLoader(const std::string& dir, std::vector<Error>& errors)
        : dir_(dir), errors_(errors), reader_(errors) {}

    Project load() {
        std::error_code failure;
        std::filesystem::path root = std::filesystem::absolute(dir_, failure);
        if (failure) {
            reader_.error(ErrorCode::kIo, "cannot resolve project directory: " + failure.message(),
                          SourceLocation{dir_, 0, 0});
            return std::move(project_);
        }
        root = root.lexically_normal();
        if (!root.has_filename() && root.has_parent_path() && root != root.root_path()) {
            root = root.parent_path();  // "/a/b/" -> "/a/b"
        }
        project_.root_dir = root.string();
        project_.data_dir = resolve_path(project_.root_dir, std::string(kDefaultDataDir));
        project_.listen_http = std::string(kDefaultListenHttp);

        const std::string project_file = display_path(std::string(kProjectFile));
        Result<YamlDocument> document = YamlDocument::load(project_file);
        if (!document.ok()) {
            Error error = std::move(document).error();
            if (error.code() == ErrorCode::kNotFound) {
                reader_.error(ErrorCode::kNotFound,
                              "no millrace.yaml in " + backticks(dir_) +
                                  "; a project directory has one at its root",
                              SourceLocation{project_file, 0, 0});
            } else {
                reader_.add(std::move(error));
            }
            return std::move(project_);
        }
        parse_project_file(document->root());
        return std::move(project_);
    }

private:
    // The path of a file of the project as the user would type it: `dir` joined with the path
    // relative to the project root.
    std::string display_path(const std::string& relative) const {
        return (std::filesystem::path(dir_) / relative).lexically_normal().string();
    }

    void parse_project_file(const ConfigNode& root) {
        MapReader map(reader_, root, "the project file");
        if (!map.is_map()) return;
        if (const ConfigNode* name = map.required("name")) {
            if (auto text = reader_.non_empty(*name, key_of("name", "the project"));
                text && reader_.resource_name(*text, name->location(), "the project")) {
                project_.name = *text;
            }
        }
        if (const ConfigNode* description = map.optional("description"); present(description)) {
            if (auto text = reader_.scalar(*description, key_of("description", "the project"))) {
                project_.description = *text;
            }
        }
        if (const ConfigNode* data_dir = map.optional("data_dir"); present(data_dir)) {
            if (auto text = reader_.non_empty(*data_dir, key_of("data_dir", "the project"))) {
                project_.data_dir = resolve_path(project_.root_dir, *text);
            }
        }
        if (const ConfigNode* listen = map.optional("listen"); present(listen)) {
            parse_listen(*listen);
        }
        if (const ConfigNode* topics = map.optional("topics"); present(topics)) {
            parse_topics(*topics);
        }
        if (const ConfigNode* kafka = map.optional("kafka"); present(kafka)) {
            parse_kafka(*kafka);
        }
        if (const ConfigNode* geoip = map.optional("geoip"); present(geoip)) {
            MapReader geo(reader_, *geoip, "`geoip` of the project");
            if (geo.is_map()) {
                if (const ConfigNode* database = geo.required("database")) {
                    if (auto text = reader_.non_empty(*database, key_of("database", "`geoip`"))) {
                        project_.geoip_database = resolve_path(project_.root_dir, *text);
                        project_.geoip_location = database->location();
                    }
                }
                geo.finish();
            }
        }
        if (const ConfigNode* lineage = map.optional("lineage"); present(lineage)) {
            parse_lineage(*lineage);
        }
        if (const ConfigNode* lake = map.optional("lake"); present(lake)) {
            parse_lake(*lake);
        }
        if (const ConfigNode* alerts = map.optional("alerts"); present(alerts)) {
            parse_alerts(*alerts);
        }
        if (const ConfigNode* serving = map.optional("serving"); present(serving)) {
            if (reader_.expect_map(*serving, "`serving` of the project")) {
                project_.serving = *serving;
            }
        }
        std::vector<std::string> files;
        if (const ConfigNode* include = map.optional("include"); present(include)) {
            files = expand_includes(*include);
        }
        map.finish();
        for (const std::string& path : files) load_file(path);
    }

    // lake:
    //   storage: s3://bucket/prefix     # where new lake tables keep their files
    //   endpoint: http://127.0.0.1:9000 # path-style S3 requests go there (plain HTTP only)
    //   region: us-east-1               # the SigV4 signing region (default us-east-1)
    void parse_lake(const ConfigNode& node) {
        MapReader map(reader_, node, "`lake` of the project");
        if (!map.is_map()) return;
        LakeStorageSpec spec;
        spec.location = node.location();
        bool ok = true;
        if (const ConfigNode* storage = map.required("storage")) {
            auto text = reader_.non_empty(*storage, key_of("storage", "`lake`"));
            ok = ok && text.has_value();
            if (text) {
                spec.storage = *text;
                if (!spec.storage.starts_with("s3://") || spec.storage.size() <= 5 ||
                    spec.storage[5] == '/') {
                    reader_.error(ErrorCode::kConfig,
                                  "`storage` of `lake` must be s3://<bucket>/<prefix>, not `" +
                                      spec.storage + "`",
                                  storage->location());
                    ok = false;
                }
            }
        } else {
            ok = false;
        }
        if (const ConfigNode* endpoint = map.required("endpoint")) {
            auto text = reader_.non_empty(*endpoint, key_of("endpoint", "`lake`"));
            ok = ok && text.has_value();
            if (text) {
                spec.endpoint = *text;
                if (spec.endpoint.starts_with("https://")) {
                    reader_.error(ErrorCode::kConfig,
                                  "`endpoint` of `lake`: https is not supported (no TLS); use an "
                                  "http:// endpoint, e.g. behind a local TLS-terminating proxy",
                                  endpoint->location());
                    ok = false;
                } else if (!spec.endpoint.starts_with("http://")) {
                    reader_.error(ErrorCode::kConfig,
                                  "`endpoint` of `lake` must be an http://host:port URL, not `" +
                                      spec.endpoint + "`",
                                  endpoint->location());
                    ok = false;
                }
            }
        } else {
            ok = false;
        }
        if (const ConfigNode* region = map.optional("region"); present(region)) {
            if (auto text = reader_.non_empty(*region, key_of("region", "`lake`"))) {
                spec.region = *text;
            }
        }
        map.finish();
        if (ok) project_.lake_storage = std::move(spec);
    }

    // topics:
    //   events:
    //     partitions: 4
    //     fsync: always            # always | interval | never, or a duration (interval)
    //     fsync_interval: 50ms
    //     segment_bytes: 268435456
    //     retention_bytes: 10000000000
    //     retention: 168h
    //     schema: "id: string not null, n: int64"   # or a map of column specs
    //     on_error: dead_letter    # reject | dead_letter
    //     capture: { client_ip: remote_addr, user_agent: "header:User-Agent" }
    void parse_topics(const ConfigNode& node) {
        if (!reader_.expect_map(node, "`topics` of the project")) return;
        for (const ConfigEntry& entry : node.entries()) {
            TopicSpec topic;
            topic.name = entry.key;
            topic.location = entry.key_location;
            const std::string what = "topic " + backticks(entry.key);
            if (!reader_.resource_name(entry.key, entry.key_location, "a topic")) continue;
            if (entry.value.is_null()) {
                project_.topics.push_back(std::move(topic));
                continue;
            }
            MapReader map(reader_, entry.value, what);
            if (!map.is_map()) continue;
            if (const ConfigNode* value = map.optional("partitions"); present(value)) {
                if (auto n = reader_.integer(*value, key_of("partitions", what), 1, 1024)) {
                    topic.partitions = static_cast<int32_t>(*n);
                }
            }
            if (const ConfigNode* value = map.optional("fsync"); present(value)) {
                const std::string text = value->is_scalar() ? value->scalar() : "";
                if (text == "always") {
                    topic.fsync = TopicFsync::kAlways;
                } else if (text == "never") {
                    topic.fsync = TopicFsync::kNever;
                } else if (text == "interval") {
                    topic.fsync = TopicFsync::kInterval;
                } else if (auto interval = reader_.duration(*value, key_of("fsync", what))) {
                    topic.fsync = TopicFsync::kInterval;
                    topic.fsync_interval = *interval;
                }
            }
            if (const ConfigNode* value = map.optional("fsync_interval"); present(value)) {
                if (auto interval = reader_.duration(*value, key_of("fsync_interval", what))) {
                    topic.fsync_interval = *interval;
                }
            }
            if (const ConfigNode* value = map.optional("segment_bytes"); present(value)) {
                topic.segment_bytes =
                    reader_.integer(*value, key_of("segment_bytes", what), 4096, int64_t{1} << 30);
            }
            if (const ConfigNode* value = map.optional("retention_bytes"); present(value)) {
                topic.retention_bytes = reader_.integer(*value, key_of("retention_bytes", what), 0,
                                                        std::numeric_limits<int64_t>::max());
            }
            if (const ConfigNode* value = map.optional("retention"); present(value)) {
                topic.retention = reader_.duration(*value, key_of("retention", what));
            }
            if (const ConfigNode* value = map.optional("schema"); present(value)) {
                std::string spec;
                if (value->is_scalar()) {
                    spec = value->scalar();
                } else if (value->is_map()) {
                    for (const ConfigEntry& column : value->entries()) {
                        if (!spec.empty()) spec += ", ";
                        spec += column.key + ": " +
                                (column.value.is_scalar() ? column.value.scalar() : "?");
                    }
                }
                Result<Schema> parsed = parse_schema_spec(spec);
                if (parsed.ok()) {
                    topic.schema = spec;
                } else {
                    reader_.error(ErrorCode::kConfig,
                                  key_of("schema", what) + ": " + parsed.error().message(),
                                  value->location());
                }
            }
            if (const ConfigNode* value = map.optional("on_error"); present(value)) {
                if (auto action = reader_.choice<TopicOnError>(
                        *value, key_of("on_error", what),
                        {{"reject", TopicOnError::kReject},
                         {"dead_letter", TopicOnError::kDeadLetter}})) {
                    topic.on_error = *action;
                }
            }
            if (const ConfigNode* value = map.optional("capture"); present(value)) {
                if (reader_.expect_map(*value, key_of("capture", what))) {
                    for (const ConfigEntry& capture : value->entries()) {
                        const std::string source =
                            capture.value.is_scalar() ? capture.value.scalar() : "";
                        if (source != "remote_addr" &&
                            (!source.starts_with("header:") || source.size() == 7)) {
                            reader_.error(ErrorCode::kConfig,
                                          "capture " + backticks(capture.key) + " of " + what +
                                              ": expected remote_addr or header:<Name>",
                                          capture.value.location());
                            continue;
                        }
                        topic.capture.emplace_back(capture.key, source);
                    }
                }
            }
            if (const ConfigNode* value = map.optional("require_schema"); present(value)) {
                if (auto flag = reader_.choice<bool>(*value, key_of("require_schema", what),
                                                     {{"true", true}, {"false", false}}))
                    topic.require_schema = *flag;
            }
            map.finish();
            project_.topics.push_back(std::move(topic));
        }
    }

    // lineage: { url: http://127.0.0.1:5000/api/v1/lineage, namespace: shop }
    void parse_lineage(const ConfigNode& node) {
        MapReader map(reader_, node, "`lineage` of the project");
        if (!map.is_map()) return;
        if (const ConfigNode* url = map.optional("url"); present(url)) {
            const std::string what = key_of("url", map.what());
            if (auto text = reader_.non_empty(*url, what)) {
                // The one HTTP client speaks plain HTTP; https would fail at every delivery.
                if (text->rfind("http://", 0) == 0 && text->size() > 7) {
                    project_.lineage.url = *text;
                    project_.lineage.url_location = url->location();
                } else {
                    reader_.error(ErrorCode::kConfig,
                                  "invalid URL " + backticks(*text) + " for " + what +
                                      "; expected http://host:port/path (no TLS)",
                                  url->location());
                }
            }
        }
        if (const ConfigNode* name = map.optional("namespace"); present(name)) {
            if (auto text = reader_.non_empty(*name, key_of("namespace", map.what()))) {
                project_.lineage.job_namespace = *text;
            }
        }
        map.finish();
    }

    // alerts:
    //   webhook: http://127.0.0.1:9000/hooks/alerts
    //   evaluation_interval: 5s
    //   rules:
    //     - name: dead_letters
    //       metric: { name: millrace_ingest_records_total, labels: { outcome: dead_letter }, above:
    //       100 } for: 5m severity: critical
    //     - { name: orders_quality, check_failed: { pipeline: orders } }
    //     - { name: nightly_failed, job_failed: { job: nightly } }
    void parse_alerts(const ConfigNode& node) {
        MapReader map(reader_, node, "`alerts` of the project");
        if (!map.is_map()) return;
        AlertsSpec& alerts = project_.alerts;
        alerts.location = map.location();
        if (const ConfigNode* webhook = map.required("webhook")) {
            const std::string what = key_of("webhook", map.what());
            if (auto text = reader_.non_empty(*webhook, what)) {
                if (text->rfind("http://", 0) == 0 && text->size() > 7) {
                    alerts.webhook = *text;
                } else {
                    reader_.error(ErrorCode::kConfig,
                                  "invalid URL " + backticks(*text) + " for " + what +
                                      "; expected http://host:port/path (no TLS)",
                                  webhook->location());
                }
            }
        }
        if (const ConfigNode* interval = map.optional("evaluation_interval"); present(interval)) {
            if (auto value =
                    reader_.duration(*interval, key_of("evaluation_interval", map.what()))) {
                alerts.evaluation_interval = *value;
            }
        }
        if (const ConfigNode* rules = map.required("rules")) {
            if (reader_.expect_sequence(*rules, key_of("rules", map.what()))) {
                std::size_t number = 0;
                for (const ConfigNode& item : rules->items()) parse_alert_rule(item, ++number);
            }
        }
        map.finish();
    }

    void parse_alert_rule(const ConfigNode& node, std::size_t number) {
        const std::string what = "alert rule #" + std::to_string(number);
        MapReader map(reader_, node, what);
        if (!map.is_map()) return;
        AlertRuleSpec rule;
        rule.location = map.location();
        if (const ConfigNode* name = map.required("name")) {
            if (auto text = reader_.non_empty(*name, key_of("name", what))) {
                for (const AlertRuleSpec& other : project_.alerts.rules) {
                    if (other.name == *text) {
                        reader_.error(ErrorCode::kConfig,
                                      "alert rule " + backticks(*text) + " is defined twice",
                                      name->location());
                    }
                }
                rule.name = *text;
            }
        }
        if (const ConfigNode* severity = map.optional("severity"); present(severity)) {
            if (auto level = reader_.choice<std::string>(
                    *severity, key_of("severity", what),
                    {{"warning", "warning"}, {"critical", "critical"}})) {
                rule.severity = *level;
            }
        }
        if (const ConfigNode* text = map.optional("description"); present(text)) {
            if (auto value = reader_.scalar(*text, key_of("description", what))) {
                rule.description = *value;
            }
        }
        if (const ConfigNode* duration = map.optional("for"); present(duration)) {
            if (auto value = reader_.duration(*duration, key_of("for", what))) {
                rule.for_duration = *value;
            }
        }
        const ConfigNode* metric = map.optional("metric");
        const ConfigNode* check_failed = map.optional("check_failed");
        const ConfigNode* job_failed = map.optional("job_failed");
        const int conditions =
            int(metric != nullptr) + int(check_failed != nullptr) + int(job_failed != nullptr);
        if (conditions != 1) {
            reader_.error(ErrorCode::kConfig,
                          what + " needs exactly one of `metric`, `check_failed` or `job_failed`",
                          map.location());
        } else if (metric != nullptr) {
            rule.condition = AlertCondition::kMetric;
            const std::string inner = key_of("metric", what);
            MapReader fields(reader_, *metric, inner);
            if (fields.is_map()) {
                if (const ConfigNode* name = fields.required("name")) {
                    if (auto text = reader_.non_empty(*name, key_of("name", inner))) {
                        rule.metric = *text;
                    }
                }
                if (const ConfigNode* labels = fields.optional("labels"); present(labels)) {
                    if (reader_.expect_map(*labels, key_of("labels", inner))) {
                        for (const ConfigEntry& entry : labels->entries()) {
                            if (auto value =
                                    reader_.scalar(entry.value, key_of(entry.key, inner))) {
                                rule.labels[entry.key] = *value;
                            }
                        }
                    }
                }
                auto threshold = [&](const char* key) -> std::optional<double> {
                    const ConfigNode* value = fields.optional(key);
                    if (!present(value)) return std::nullopt;
                    const std::string text = value->is_scalar() ? value->scalar() : "";
                    char* end = nullptr;
                    const double number = std::strtod(text.c_str(), &end);
                    if (text.empty() || end != text.c_str() + text.size()) {
                        reader_.error(ErrorCode::kConfig, key_of(key, inner) + " must be a number",
                                      value->location());
                        return std::nullopt;
                    }
                    return number;
                };
                rule.above = threshold("above");
                rule.below = threshold("below");
                if (rule.above.has_value() == rule.below.has_value()) {
                    reader_.error(ErrorCode::kConfig, inner + " needs one of `above` or `below`",
                                  fields.location());
                }
                fields.finish();
            }
        } else {
            const bool check = check_failed != nullptr;
            rule.condition = check ? AlertCondition::kCheckFailed : AlertCondition::kJobFailed;
            const ConfigNode& body = check ? *check_failed : *job_failed;
            const std::string inner = key_of(check ? "check_failed" : "job_failed", what);
            if (!body.is_null()) {
                MapReader fields(reader_, body, inner);
                if (fields.is_map()) {
                    const char* key = check ? "pipeline" : "job";
                    if (const ConfigNode* value = fields.optional(key); present(value)) {
                        if (auto text = reader_.non_empty(*value, key_of(key, inner))) {
                            (check ? rule.pipeline : rule.job) = *text;
                        }
                    }
                    fields.finish();
                }
            }
        }
        map.finish();
        project_.alerts.rules.push_back(std::move(rule));
    }

    void parse_listen(const ConfigNode& node) {
        MapReader map(reader_, node, "`listen` of the project");
        if (const ConfigNode* http = map.optional("http"); present(http)) {
            const std::string what = key_of("http", map.what());
            if (auto text = reader_.non_empty(*http, what)) {
                if (is_valid_listen_address(*text)) {
                    project_.listen_http = *text;
                    project_.listen_location = http->location();
                } else {
                    reader_.error(ErrorCode::kConfig,
                                  "invalid address " + backticks(*text) + " for " + what +
                                      "; expected host:port, as in 127.0.0.1:8080",
                                  http->location());
                }
            }
        }
        if (const ConfigNode* kafka = map.optional("kafka"); present(kafka)) {
            const std::string what = key_of("kafka", map.what());
            if (auto text = reader_.non_empty(*kafka, what)) {
                if (is_valid_listen_address(*text)) {
                    project_.kafka.listen = *text;
                    project_.kafka.listen_location = kafka->location();
                } else {
                    reader_.error(ErrorCode::kConfig,
                                  "invalid address " + backticks(*text) + " for " + what +
                                      "; expected host:port, as in 127.0.0.1:9092",
                                  kafka->location());
                }
            }
        }
        map.finish();
    }

    void parse_kafka(const ConfigNode& node) {
        MapReader map(reader_, node, "`kafka` of the project");
        KafkaSpec& kafka = project_.kafka;
        if (const ConfigNode* value = map.optional("advertised"); present(value)) {
            const std::string what = key_of("advertised", map.what());
            if (auto text = reader_.non_empty(*value, what)) {
                if (is_valid_listen_address(*text)) {
                    kafka.advertised = *text;
                } else {
                    reader_.error(ErrorCode::kConfig,
                                  "invalid address " + backticks(*text) + " for " + what +
                                      "; expected host:port, as in kafka.example.com:9092",
                                  value->location());
                }
            }
        }
        if (const ConfigNode* value = map.optional("auto_create_topics"); present(value)) {
            if (auto flag = reader_.choice<bool>(*value, key_of("auto_create_topics", map.what()),
                                                 {{"true", true}, {"false", false}})) {
                kafka.auto_create_topics = *flag;
            }
        }
        if (const ConfigNode* value = map.optional("partitions"); present(value)) {
            if (auto n = reader_.integer(*value, key_of("partitions", map.what()), 1, 1024)) {
                kafka.default_partitions = static_cast<int32_t>(*n);
            }
        }
        if (const ConfigNode* value = map.optional("max_request_bytes"); present(value)) {
            if (auto n = reader_.integer(*value, key_of("max_request_bytes", map.what()), 1024,
                                         int64_t{1} << 30)) {
                kafka.max_request_bytes = *n;
            }
        }
        if (const ConfigNode* value = map.optional("initial_rebalance_delay"); present(value)) {
            if (auto delay =
                    reader_.duration(*value, key_of("initial_rebalance_delay", map.what()))) {
                kafka.initial_rebalance_delay = *delay;
            }
        }
        map.finish();
    }

    // The files the `include` patterns name, in pattern order, each pattern's matches sorted.
    std::vector<std::string> expand_includes(const ConfigNode& node) {
        std::vector<const ConfigNode*> patterns;
        if (node.is_scalar()) {
            patterns.push_back(&node);
        } else if (node.is_sequence()) {
            for (const ConfigNode& item : node.items()) patterns.push_back(&item);
        } else {
            reader_.error(ErrorCode::kConfig,
                          "expected a pattern or a sequence of patterns for `include` of the "
                          "project, got " +
                              std::string(node.kind_name()),
                          node.location());
            return {};
        }
        const std::string project_file =
            (std::filesystem::path(project_.root_dir) / kProjectFile).string();
        std::set<std::string> seen = {project_file};
        std::vector<std::string> files;
        for (const ConfigNode* item : patterns) {
            std::optional<std::string> pattern =
                reader_.non_empty(*item, "an item of `include` of the project");
            if (!pattern) continue;
            for (std::string& match : expand_pattern(*pattern, *item)) {
                if (seen.insert(match).second) files.push_back(std::move(match));
            }
        }
        return files;
    }

    // Absolute paths of the regular files `pattern` matches, sorted.
    std::vector<std::string> expand_pattern(const std::string& pattern, const ConfigNode& node) {
        const bool absolute = std::filesystem::path(pattern).is_absolute();
        const std::string full =
            absolute ? pattern : escape_glob(project_.root_dir) + "/" + pattern;
        glob_t matches{};
        const int status = ::glob(full.c_str(), GLOB_MARK, nullptr, &matches);
        std::vector<std::string> files;
        bool matched_a_directory = false;
        if (status == 0) {
            for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
                std::string path = matches.gl_pathv[i];
                if (!path.empty() && path.back() == '/') {  // GLOB_MARK: a directory
                    matched_a_directory = true;
                    continue;
                }
                files.push_back(std::filesystem::path(path).lexically_normal().string());
            }
        }
        ::globfree(&matches);
        if (status == GLOB_NOSPACE || status == GLOB_ABORTED) {
            reader_.error(ErrorCode::kIo,
                          "cannot expand include pattern " + backticks(pattern) +
                              (status == GLOB_NOSPACE ? ": out of memory"
                                                      : ": a directory could not be read"),
                          node.location());
            return {};
        }
        std::sort(files.begin(), files.end());
        if (files.empty()) {
            if (matched_a_directory && !has_glob_characters(pattern)) {
                reader_.error(
                    ErrorCode::kConfig,
                    "included path " + backticks(pattern) +
                        " is a directory; include its files with a pattern such as " +
                        backticks(std::filesystem::path(pattern).lexically_normal().string() +
                                  "/*.yaml"),
                    node.location());
            } else if (has_glob_characters(pattern)) {
                project_.warnings.emplace_back(
                    ErrorCode::kNotFound,
                    "include pattern " + backticks(pattern) + " matches no file", node.location());
            } else {
                reader_.error(ErrorCode::kNotFound,
                              "included file " + backticks(pattern) + " does not exist",
                              node.location());
            }
        }
        return files;
    }

    void load_file(const std::string& absolute_path) {
        const std::filesystem::path path(absolute_path);
        const std::filesystem::path relative = path.lexically_relative(project_.root_dir);
        const bool inside = !relative.empty() && *relative.begin() != "..";
        const std::string file = inside ? display_path(relative.string()) : absolute_path;

        Result<YamlDocument> document = YamlDocument::load(file);
        if (!document.ok()) {
            reader_.add(std::move(document).error());
            return;
        }
        const ConfigNode& root = document->root();
        if (!root.is_map()) {
            reader_.error(ErrorCode::kConfig,
                          "expected a map at the top of " + backticks(file) + ", got " +
                              std::string(root.kind_name()),
                          root.location());
            return;
        }
        const std::optional<FileKind> kind =
            kind_of(root, path.parent_path().filename().string(), file);
        if (!kind) return;
        switch (*kind) {
            case FileKind::kPipeline: {
                note_definition(root, "pipeline", pipeline_names_);
                Result<PipelineSpec> pipeline =
                    parse_pipeline_node(root, file, project_.root_dir, &errors_);
                if (pipeline.ok()) project_.pipelines.push_back(std::move(pipeline).value());
                break;
            }
            case FileKind::kFeatureView: {
                std::optional<std::string> name = read_definition(root, "feature view");
                note_definition(root, "feature view", feature_view_names_);
                if (name) {
                    project_.feature_views.push_back(
                        FeatureViewSpec{*name, file, root.location(), root});
                }
                break;
            }
            case FileKind::kJob: {
                std::optional<std::string> name = read_definition(root, "job");
                note_definition(root, "job", job_names_);
                if (name) project_.jobs.push_back(JobSpec{*name, file, root.location(), root});
                break;
            }
            case FileKind::kRoute: {
                std::optional<std::string> name = read_definition(root, "route");
                note_definition(root, "route", route_names_);
                if (name) {
                    project_.routes.push_back(RouteSpec{*name, file, root.location(), root});
                }
                break;
            }
        }
    }

    std::optional<FileKind> kind_of(const ConfigNode& root, const std::string& folder,
                                    const std::string& file) {
        if (const ConfigNode* kind = root.find("kind"); present(kind)) {
            return reader_.choice<FileKind>(*kind, "`kind` of " + backticks(file),
                                            {{"pipeline", FileKind::kPipeline},
                                             {"feature_view", FileKind::kFeatureView},
                                             {"job", FileKind::kJob},
                                             {"route", FileKind::kRoute}});
        }
        if (folder == "pipelines") return FileKind::kPipeline;
        if (folder == "features" || folder == "feature_views") return FileKind::kFeatureView;
        if (folder == "jobs") return FileKind::kJob;
        if (folder == "routes") return FileKind::kRoute;
        auto has = [&root](std::initializer_list<std::string_view> keys) {
            return std::any_of(keys.begin(), keys.end(),
                               [&root](std::string_view key) { return root.find(key); });
        };
        if (has({"sources", "sinks", "views"})) return FileKind::kPipeline;
        // Before feature views: a route has `features:` too.
        if (root.find("path") && root.find("view")) return FileKind::kRoute;
        if (has({"features", "entity", "entities"})) return FileKind::kFeatureView;
        if (has({"schedule", "steps", "tasks", "command"})) return FileKind::kJob;
        reader_.error(ErrorCode::kConfig,
                      "cannot tell what " + backticks(file) +
                          " defines; add `kind: pipeline`, `kind: feature_view`, `kind: job` or "
                          "`kind: route`",
                      root.location());
        return std::nullopt;
    }

    // The name of a feature view, job or route; the rest of its document is kept for later.
    std::optional<std::string> read_definition(const ConfigNode& root,
                                               const std::string& kind_name) {
        const ConfigNode* name = root.find("name");
        if (!present(name)) {
            reader_.error(ErrorCode::kConfig, "the " + kind_name + " is missing `name`",
                          root.location());
            return std::nullopt;
        }
        std::optional<std::string> text =
            reader_.non_empty(*name, key_of("name", "the " + kind_name));
        if (!text || !reader_.resource_name(*text, name->location(), "a " + kind_name)) {
            return std::nullopt;
        }
        return text;
    }

    // Reports a second definition of the same name, pointing at it and naming the first.
    void note_definition(const ConfigNode& root, const std::string& kind_name,
                         std::map<std::string, SourceLocation>& names) {
        const ConfigNode* name = root.find("name");
        if (name == nullptr || !name->is_scalar() || name->scalar().empty()) return;
        auto [it, inserted] = names.emplace(name->scalar(), name->location());
        if (!inserted) {
            reader_.error(ErrorCode::kConfig,
                          kind_name + " " + backticks(name->scalar()) + " is already defined at " +
                              it->second.to_string(),
                          name->location());
        }
    }

    const std::string& dir_;
    std::vector<Error>& errors_;
    ConfigReader reader_;
    Project project_;
    std::map<std::string, SourceLocation> pipeline_names_;
    std::map<std::string, SourceLocation> feature_view_names_;
    std::map<std::string, SourceLocation> job_names_;
    std::map<std::string, SourceLocation> route_names_;
};

}  // namespace

Result<Project> load_project(const std::string& dir, std::vector<Error>* all_errors) {
    std::vector<Error> local;
    std::vector<Error>& errors = all_errors != nullptr ? *all_errors : local;
    const std::size_t before = errors.size();
    Project project = ProjectLoader(dir, errors).load();
    if (errors.size() > before) return errors[before];
    return project;
}

}  // namespace millrace
