#include "scheduler/job_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "common/config_node.h"
#include "common/suggest.h"
#include "common/yaml_document.h"
#include "project/config_reader.h"
#include "scheduler/cron_expression.h"
#include "scheduler/template.h"
#include "scheduler/time_zone.h"

namespace millrace {

namespace {

std::string hash_hex(std::string_view text) {
    uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return fmt::format("{:016x}", hash);
}

// An error at a position inside a scalar (column is 1-based within the scalar's text).
SourceLocation inside(const ConfigNode& node, int column) {
    return node.location_in_scalar(1, std::max(column, 1));
}

class JobParser {
public:
    JobParser(std::vector<Error>& errors, const std::string& file, const Project& project)
        : reader_(errors), file_(file), project_(project) {}

    JobDefinition parse(const ConfigNode& root) {
        job_.file = file_;
        job_.location = root.location();
        what_ = document_what(root, "job");
        MapReader map(reader_, root, what_);
        if (!map.is_map()) return std::move(job_);
        map.allow({"kind"});
        if (const ConfigNode* name = map.required("name")) {
            if (auto text = reader_.non_empty(*name, key_of("name", what_))) {
                if (reader_.resource_name(*text, name->location(), "job name")) job_.name = *text;
            }
        }
        if (const ConfigNode* node = map.optional("description"); present(node)) {
            if (auto text = reader_.scalar(*node, key_of("description", what_))) {
                job_.description = *text;
            }
        }
        std::optional<TimeZone> zone = TimeZone::utc();
        if (const ConfigNode* node = map.optional("timezone"); present(node)) {
            if (auto text = reader_.non_empty(*node, key_of("timezone", what_))) {
                Result<TimeZone> loaded = TimeZone::load(*text);
                if (loaded.ok()) {
                    job_.timezone = *text;
                } else {
                    reader_.error(ErrorCode::kConfig,
                                  key_of("timezone", what_) + ": " + loaded.error().message(),
                                  node->location());
                }
            }
        }
        if (const ConfigNode* node = map.optional("schedule"); present(node)) {
            if (auto text = reader_.non_empty(*node, key_of("schedule", what_))) {
                Result<CronExpression> cron = CronExpression::parse(*text);
                if (cron.ok()) {
                    job_.schedule = *text;
                } else {
                    reader_.error(ErrorCode::kParse,
                                  key_of("schedule", what_) + ": " + cron.error().message(),
                                  inside(*node, cron.error().location().column));
                }
            }
        }
        if (const ConfigNode* node = map.optional("catchup"); present(node)) {
            job_.catchup = read_bool(*node, key_of("catchup", what_)).value_or(false);
        }
        if (const ConfigNode* node = map.optional("start_date"); present(node)) {
            if (auto text = reader_.non_empty(*node, key_of("start_date", what_))) {
                int year = 0, month = 0, day = 0;
                char extra = 0;
                if (std::sscanf(text->c_str(), "%4d-%2d-%2d%c", &year, &month, &day, &extra) != 3 ||
                    month < 1 || month > 12 || day < 1 || day > 31) {
                    reader_.error(ErrorCode::kConfig,
                                  key_of("start_date", what_) + ": expected YYYY-MM-DD, got " +
                                      backticks(*text),
                                  node->location());
                } else {
                    job_.start_date_micros = days_from_civil(year, static_cast<unsigned>(month),
                                                             static_cast<unsigned>(day)) *
                                             86400 * 1'000'000;
                }
            }
        }
        if (const ConfigNode* node = map.optional("max_active_runs"); present(node)) {
            if (auto v = reader_.integer(*node, key_of("max_active_runs", what_), 1, 1000)) {
                job_.max_active_runs = static_cast<int>(*v);
            }
        }
        if (const ConfigNode* node = map.optional("max_active_tasks"); present(node)) {
            if (auto v = reader_.integer(*node, key_of("max_active_tasks", what_), 1, 100000)) {
                job_.max_active_tasks = static_cast<int>(*v);
            }
        }
        if (const ConfigNode* node = map.optional("on_orphan"); present(node)) {
            if (auto v = reader_.choice<OrphanPolicy>(
                    *node, key_of("on_orphan", what_),
                    {{"retry", OrphanPolicy::kRetry}, {"fail", OrphanPolicy::kFail}})) {
                job_.on_orphan = *v;
            }
        }
        if (const ConfigNode* node = map.optional("pools"); present(node)) {
            MapReader pools(reader_, *node, key_of("pools", what_));
            if (pools.is_map()) {
                for (const ConfigEntry& entry : node->entries()) {
                    pools.allow({entry.key});
                    if (auto v = reader_.integer(entry.value, "pool " + backticks(entry.key), 1,
                                                 100000)) {
                        job_.pools[entry.key] = static_cast<int>(*v);
                    }
                }
                pools.finish();
            }
        }
        if (const ConfigNode* node = map.optional("webhooks"); present(node)) {
            if (auto urls = reader_.scalar_list(*node, key_of("webhooks", what_))) {
                for (const std::string& url : *urls) {
                    if (url.rfind("http://", 0) != 0) {
                        reader_.error(
                            ErrorCode::kConfig,
                            "webhook " + backticks(url) + ": only http:// URLs are supported",
                            node->location());
                    } else {
                        job_.webhooks.push_back(url);
                    }
                }
            }
        }
        if (const ConfigNode* node = map.optional("triggers"); present(node)) {
            parse_triggers(*node);
        }
        TaskDefaults defaults;
        if (const ConfigNode* node = map.optional("defaults"); present(node)) {
            MapReader d(reader_, *node, key_of("defaults", what_));
            if (d.is_map()) read_policy(d, defaults.policy, defaults.timeout);
            d.finish();
        }
        if (const ConfigNode* tasks = map.required("tasks")) {
            MapReader tasks_map(reader_, *tasks, key_of("tasks", what_));
            if (tasks_map.is_map()) {
                for (const ConfigEntry& entry : tasks->entries()) {
                    tasks_map.allow({entry.key});
                    parse_task(entry, defaults);
                }
                if (tasks->entries().empty()) {
                    reader_.error(ErrorCode::kConfig, what_ + " has no tasks", tasks->location());
                }
            }
            tasks_map.finish();
        }
        map.finish();
        return std::move(job_);
    }

private:
    struct TaskDefaults {
        RetryPolicy policy;
        std::optional<std::chrono::microseconds> timeout;
    };

    std::optional<bool> read_bool(const ConfigNode& node, const std::string& what) {
        return reader_.choice<bool>(node, what,
                                    {{"true", true},
                                     {"false", false},
                                     {"on", true},
                                     {"off", false},
                                     {"yes", true},
                                     {"no", false}});
    }

    void parse_triggers(const ConfigNode& node) {
        if (!reader_.expect_sequence(node, key_of("triggers", what_))) return;
        for (const ConfigNode& item : node.items()) {
            MapReader trigger(reader_, item, "trigger of " + what_);
            if (!trigger.is_map()) continue;
            if (const ConfigNode* topic = trigger.optional("topic"); present(topic)) {
                TopicTrigger topic_trigger;
                topic_trigger.location = topic->location();
                if (auto text = reader_.non_empty(*topic, "`topic` of a trigger of " + what_)) {
                    topic_trigger.topic = *text;
                }
                if (const ConfigNode* records = trigger.optional("records"); present(records)) {
                    char* end = nullptr;
                    const std::string& text = records->scalar();
                    long long n = std::strtoll(text.c_str(), &end, 10);
                    if (text.empty() || *end != '\0' || n < 1) {
                        reader_.error(ErrorCode::kConfig,
                                      "`records` of a topic trigger must be a whole number >= 1",
                                      records->location());
                    } else {
                        topic_trigger.records = n;
                    }
                }
                if (const ConfigNode* poke = trigger.optional("poke_interval"); present(poke)) {
                    if (auto v = reader_.duration(*poke, "`poke_interval` of a trigger")) {
                        topic_trigger.poke_interval = std::max(*v, std::chrono::microseconds(1000));
                    }
                }
                if (!topic_trigger.topic.empty()) job_.topic_triggers.push_back(topic_trigger);
            } else if (const ConfigNode* file = trigger.optional("file"); present(file)) {
                FileTrigger file_trigger;
                file_trigger.location = file->location();
                if (auto text = reader_.non_empty(*file, "`file` of a trigger of " + what_)) {
                    std::filesystem::path p(*text);
                    file_trigger.pattern =
                        (p.is_absolute() ? p : std::filesystem::path(project_.root_dir) / p)
                            .lexically_normal()
                            .string();
                }
                if (const ConfigNode* poke = trigger.optional("poke_interval"); present(poke)) {
                    if (auto v = reader_.duration(*poke, "`poke_interval` of a trigger")) {
                        file_trigger.poke_interval = std::max(*v, std::chrono::microseconds(1000));
                    }
                }
                if (!file_trigger.pattern.empty()) job_.file_triggers.push_back(file_trigger);
            } else if (const ConfigNode* http = trigger.optional("http"); present(http)) {
                // POST /v1/jobs/{job}/trigger arrives with the HTTP server; `millrace jobs
                // run` triggers a run from the command line meanwhile.
            } else {
                reader_.error(ErrorCode::kConfig,
                              "a trigger is one of `file: <glob>`, `topic: <name>` or `http: true`",
                              trigger.location());
            }
            trigger.finish();
        }
    }

    void read_policy(MapReader& map, RetryPolicy& policy,
                     std::optional<std::chrono::microseconds>& timeout) {
        const std::string& what = map.what();
        if (const ConfigNode* node = map.optional("retries"); present(node)) {
            if (auto v = reader_.integer(*node, key_of("retries", what), 0, 100)) {
                policy.retries = static_cast<int>(*v);
            }
        }
        if (const ConfigNode* node = map.optional("retry_delay"); present(node)) {
            if (auto v = reader_.duration(*node, key_of("retry_delay", what))) policy.delay = *v;
        }
        if (const ConfigNode* node = map.optional("max_retry_delay"); present(node)) {
            if (auto v = reader_.duration(*node, key_of("max_retry_delay", what))) {
                policy.max_delay = *v;
            }
        }
        if (const ConfigNode* node = map.optional("timeout"); present(node)) {
            if (auto v = reader_.duration(*node, key_of("timeout", what))) {
                if (v->count() <= 0) {
                    reader_.error(ErrorCode::kConfig, key_of("timeout", what) + " must be > 0",
                                  node->location());
                } else {
                    timeout = *v;
                }
            }
        }
    }

    void templated(const ConfigNode& node, const std::string& what, std::string& out) {
        auto text = reader_.scalar(node, what);
        if (!text) return;
        Status status = check_template(*text);
        if (!status.ok()) {
            reader_.error(ErrorCode::kConfig, what + ": " + status.error().message(),
                          inside(node, status.error().location().column));
            return;
        }
        out = *text;
    }

    void parse_task(const ConfigEntry& entry, const TaskDefaults& defaults) {
        TaskDefinition task;
        task.name = entry.key;
        task.location = entry.key_location;
        task.retry = defaults.policy;
        task.timeout = defaults.timeout;
        reader_.resource_name(entry.key, entry.key_location, "task name");
        const std::string what = "task " + backticks(entry.key);
        MapReader map(reader_, entry.value, what);
        if (!map.is_map()) return;
        bool kind_ok = false;
        if (const ConfigNode* kind = map.required("kind")) {
            auto k = reader_.choice<TaskKind>(*kind, key_of("kind", what),
                                              {{"pipeline", TaskKind::kPipeline},
                                               {"shell", TaskKind::kShell},
                                               {"http", TaskKind::kHttp},
                                               {"wait_for_file", TaskKind::kWaitForFile},
                                               {"materialize", TaskKind::kMaterialize},
                                               {"compact", TaskKind::kCompact}});
            if (k) {
                task.kind = *k;
                kind_ok = true;
            }
        }
        if (const ConfigNode* deps = map.optional("depends_on"); present(deps)) {
            if (deps->is_scalar()) {
                task.depends_on.push_back(deps->scalar());
                task.depends_on_locations.push_back(deps->location());
            } else if (reader_.expect_sequence(*deps, key_of("depends_on", what))) {
                for (const ConfigNode& item : deps->items()) {
                    if (auto text = reader_.non_empty(item, key_of("depends_on", what))) {
                        task.depends_on.push_back(*text);
                        task.depends_on_locations.push_back(item.location());
                    }
                }
            }
        }
        read_policy(map, task.retry, task.timeout);
        if (const ConfigNode* node = map.optional("sla"); present(node)) {
            if (auto v = reader_.duration(*node, key_of("sla", what))) task.sla = *v;
        }
        if (const ConfigNode* node = map.optional("pool"); present(node)) {
            if (auto text = reader_.non_empty(*node, key_of("pool", what))) task.pool = *text;
        }
        if (!kind_ok) {
            map.allow({"pipeline", "command", "env", "cwd", "url", "method", "body",
                       "expected_status", "path", "poke_interval", "feature_view", "table"});
            map.finish();
            job_.tasks.push_back(std::move(task));
            return;
        }
        switch (task.kind) {
            case TaskKind::kPipeline:
                if (const ConfigNode* node = map.required("pipeline")) {
                    if (auto text = reader_.non_empty(*node, key_of("pipeline", what))) {
                        task.pipeline = *text;
                        if (project_.find_pipeline(*text) == nullptr) {
                            std::vector<std::string> names;
                            for (const auto& p : project_.pipelines) names.push_back(p.name);
                            reader_.error(ErrorCode::kNotFound,
                                          "task " + backticks(task.name) +
                                              " runs unknown pipeline " + backticks(*text) +
                                              did_you_mean(*text, names),
                                          node->location());
                        }
                    }
                }
                break;
            case TaskKind::kShell:
                if (const ConfigNode* node = map.required("command")) {
                    templated(*node, key_of("command", what), task.command);
                }
                if (const ConfigNode* node = map.optional("env"); present(node)) {
                    MapReader env(reader_, *node, key_of("env", what));
                    if (env.is_map()) {
                        for (const ConfigEntry& e : node->entries()) {
                            env.allow({e.key});
                            std::string value;
                            templated(e.value, "env " + backticks(e.key), value);
                            task.env[e.key] = value;
                        }
                    }
                    env.finish();
                }
                task.cwd = project_.root_dir;
                if (const ConfigNode* node = map.optional("cwd"); present(node)) {
                    if (auto text = reader_.non_empty(*node, key_of("cwd", what))) {
                        std::filesystem::path p(*text);
                        task.cwd =
                            (p.is_absolute() ? p : std::filesystem::path(project_.root_dir) / p)
                                .lexically_normal()
                                .string();
                    }
                }
                break;
            case TaskKind::kHttp:
                if (const ConfigNode* node = map.required("url")) {
                    templated(*node, key_of("url", what), task.url);
                    if (!task.url.empty() && task.url.rfind("http://", 0) != 0) {
                        reader_.error(ErrorCode::kConfig,
                                      key_of("url", what) + ": only http:// URLs are supported",
                                      node->location());
                    }
                }
                if (const ConfigNode* node = map.optional("method"); present(node)) {
                    if (auto m = reader_.choice<std::string_view>(*node, key_of("method", what),
                                                                  {{"GET", "GET"},
                                                                   {"POST", "POST"},
                                                                   {"PUT", "PUT"},
                                                                   {"DELETE", "DELETE"},
                                                                   {"HEAD", "HEAD"}})) {
                        task.method = std::string(*m);
                    }
                }
                if (const ConfigNode* node = map.optional("body"); present(node)) {
                    templated(*node, key_of("body", what), task.body);
                }
                if (const ConfigNode* node = map.optional("expected_status"); present(node)) {
                    if (auto v =
                            reader_.integer(*node, key_of("expected_status", what), 100, 599)) {
                        task.expected_status = static_cast<int>(*v);
                    }
                }
                break;
            case TaskKind::kWaitForFile:
                if (const ConfigNode* node = map.required("path")) {
                    templated(*node, key_of("path", what), task.path);
                }
                if (const ConfigNode* node = map.optional("poke_interval"); present(node)) {
                    if (auto v = reader_.duration(*node, key_of("poke_interval", what))) {
                        task.poke_interval = std::max(*v, std::chrono::microseconds(1000));
                    }
                }
                break;
            case TaskKind::kMaterialize:
                if (const ConfigNode* node = map.required("feature_view")) {
                    if (auto text = reader_.non_empty(*node, key_of("feature_view", what))) {
                        task.target = *text;
                        std::vector<std::string> names;
                        bool found = false;
                        for (const auto& v : project_.feature_views) {
                            names.push_back(v.name);
                            found = found || v.name == *text;
                        }
                        if (!found) {
                            reader_.error(ErrorCode::kNotFound,
                                          "task " + backticks(task.name) +
                                              " materializes unknown feature view " +
                                              backticks(*text) + did_you_mean(*text, names),
                                          node->location());
                        }
                    }
                }
                break;
            case TaskKind::kCompact:
                if (const ConfigNode* node = map.required("table")) {
                    if (auto text = reader_.non_empty(*node, key_of("table", what))) {
                        task.target = *text;
                    }
                }
                break;
        }
        map.finish();
        job_.tasks.push_back(std::move(task));
    }

    ConfigReader reader_;
    std::string file_;
    const Project& project_;
    std::string what_;
    JobDefinition job_;
};

}  // namespace

Status link_tasks(JobDefinition& job, std::vector<Error>& errors) {
    const std::size_t before = errors.size();
    std::vector<std::string> names;
    std::unordered_map<std::string, std::size_t> index_of;
    for (const TaskDefinition& task : job.tasks) {
        index_of.emplace(task.name, names.size());
        names.push_back(task.name);
    }
    for (std::size_t i = 0; i < job.tasks.size(); ++i) {
        job.tasks[i].upstream.clear();
        job.tasks[i].downstream.clear();
    }
    for (std::size_t i = 0; i < job.tasks.size(); ++i) {
        TaskDefinition& task = job.tasks[i];
        for (std::size_t d = 0; d < task.depends_on.size(); ++d) {
            const std::string& dep = task.depends_on[d];
            const SourceLocation where =
                d < task.depends_on_locations.size() ? task.depends_on_locations[d] : task.location;
            auto found = index_of.find(dep);
            std::optional<std::size_t> index;
            if (found != index_of.end()) index = found->second;
            if (!index) {
                errors.emplace_back(ErrorCode::kNotFound,
                                    "task " + backticks(task.name) + " depends on unknown task " +
                                        backticks(dep) + did_you_mean(dep, names),
                                    where);
                continue;
            }
            if (*index == i) {
                errors.emplace_back(ErrorCode::kConfig,
                                    "task " + backticks(task.name) +
                                        " depends on itself: " + task.name + " -> " + task.name,
                                    where);
                continue;
            }
            if (task.upstream.size() < 64 &&  // duplicates are harmless but cost a lookup
                std::find(task.upstream.begin(), task.upstream.end(), *index) !=
                    task.upstream.end()) {
                continue;
            }
            task.upstream.push_back(*index);
            job.tasks[*index].downstream.push_back(i);
        }
    }
    // Cycle search: depth-first over upstream edges, naming the first cycle found.
    enum Mark : uint8_t { kNew, kOnPath, kDone };
    std::vector<Mark> marks(job.tasks.size(), kNew);
    std::vector<std::size_t> path;
    bool cycle_found = false;
    auto visit = [&](auto&& self, std::size_t node) -> void {
        if (cycle_found) return;
        marks[node] = kOnPath;
        path.push_back(node);
        for (std::size_t next : job.tasks[node].downstream) {
            if (cycle_found) return;
            if (marks[next] == kOnPath) {
                auto start = std::find(path.begin(), path.end(), next);
                std::string text;
                for (auto it = start; it != path.end(); ++it) text += job.tasks[*it].name + " -> ";
                text += job.tasks[next].name;
                errors.emplace_back(
                    ErrorCode::kConfig,
                    "job " + backticks(job.name) + " has a dependency cycle: " + text,
                    job.tasks[next].location);
                cycle_found = true;
                return;
            }
            if (marks[next] == kNew) self(self, next);
        }
        path.pop_back();
        marks[node] = kDone;
    };
    for (std::size_t i = 0; i < job.tasks.size() && !cycle_found; ++i) {
        if (marks[i] == kNew) visit(visit, i);
    }
    if (errors.size() > before) return errors[before];
    return {};
}

Result<JobDefinition> parse_job(const ConfigNode& root, const std::string& file,
                                const std::string& source_text, const Project& project,
                                std::vector<Error>& errors) {
    const std::size_t before = errors.size();
    JobParser parser(errors, file, project);
    JobDefinition job = parser.parse(root);
    if (errors.size() == before) (void)link_tasks(job, errors);
    if (errors.size() > before) return errors[before];
    job.source_text = source_text;
    job.version = hash_hex(source_text);
    return job;
}

Result<JobDefinition> load_job(const JobSpec& spec, const Project& project,
                               std::vector<Error>& errors) {
    std::ifstream in(spec.file, std::ios::binary);
    if (!in) {
        errors.emplace_back(ErrorCode::kIo, "cannot read " + spec.file);
        return errors.back();
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_job(spec.config, spec.file, text.str(), project, errors);
}

Result<JobDefinition> parse_job_text(const std::string& source_text, const std::string& file,
                                     const Project& project) {
    MILLRACE_ASSIGN_OR_RETURN(YamlDocument doc, YamlDocument::parse(source_text, file));
    std::vector<Error> errors;
    return parse_job(doc.root(), file, source_text, project, errors);
}

}  // namespace millrace
