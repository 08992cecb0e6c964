#include "server/catalog_handler.h"

#include <fmt/format.h>
#include <glob.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <type_traits>

#include "common/json_string.h"
#include "common/suggest.h"
#include "lake/lake_table.h"
#include "lake/manifest.h"
#include "lineage/lineage_recorder.h"
#include "log/log.h"
#include "log/schema_registry.h"
#include "log/topic.h"
#include "types/data_type.h"
#include "types/schema.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

constexpr std::string_view kKinds[] = {"topic", "kafka", "file", "lake", "view", "feature_view"};
// A dead-letter file is read from its end, at most this much of it per request.
constexpr std::uintmax_t kDeadLetterTailBytes = 16u << 20;

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        std::size_t end = i;
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
        if (end > i) out.push_back(lower(text.substr(i, end - i)));
        i = end;
    }
    return out;
}

std::optional<int64_t> parse_limit(const HttpRequest& request, int64_t fallback, int64_t max,
                                   HttpResponse& error) {
    const std::string* text = request.query_param("limit");
    if (text == nullptr) return fallback;
    int64_t limit = 0;
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || ptr != text->data() + text->size() || limit < 1 || limit > max) {
        error = json_error(400, fmt::format("limit must be an integer from 1 to {}", max));
        return std::nullopt;
    }
    return limit;
}

void append_string_array(std::string& out, const std::vector<std::string>& values) {
    out += "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ",";
        append_json_string(out, values[i]);
    }
    out += "]";
}

void append_columns(std::string& out, const std::vector<std::pair<std::string, std::string>>& c) {
    out += "[";
    for (std::size_t i = 0; i < c.size(); ++i) {
        if (i > 0) out += ",";
        out += "{\"name\":";
        append_json_string(out, c[i].first);
        out += ",\"type\":";
        append_json_string(out, c[i].second);
        out += "}";
    }
    out += "]";
}

std::vector<std::pair<std::string, std::string>> columns_of(const Schema& schema) {
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t i = 0; i < schema.size(); ++i) {
        const Field& field = schema.field(i);
        out.emplace_back(field.name,
                         std::string(type_name(field.type)) + (field.nullable ? "" : " not null"));
    }
    return out;
}

void append_entry(std::string& out, const CatalogHandler::Entry& e) {
    out += "{\"id\":";
    append_json_string(out, e.id);
    out += ",\"kind\":";
    append_json_string(out, e.kind);
    out += ",\"name\":";
    append_json_string(out, e.name);
    out += ",\"description\":";
    append_json_string(out, e.docs.description);
    out += ",\"owner\":";
    append_json_string(out, e.docs.owner);
    out += ",\"tags\":";
    append_string_array(out, e.docs.tags);
    out += ",\"columns\":";
    append_columns(out, e.columns);
    out += ",\"pipelines\":";
    append_string_array(out, e.pipelines);
}

// The first description and owner given win; tags add up.
void merge_docs(DatasetDocs& into, const DatasetDocs& from) {
    if (into.description.empty()) into.description = from.description;
    if (into.owner.empty()) into.owner = from.owner;
    for (const std::string& tag : from.tags) {
        if (std::find(into.tags.begin(), into.tags.end(), tag) == into.tags.end()) {
            into.tags.push_back(tag);
        }
    }
}

template <typename T>
void add_unique(std::vector<T>& into, std::type_identity_t<T> value) {
    if (std::find(into.begin(), into.end(), value) == into.end()) into.push_back(std::move(value));
}

int64_t micros_of(std::filesystem::file_time_type time) {
    const auto system = std::chrono::file_clock::to_sys(time);
    return std::chrono::duration_cast<std::chrono::microseconds>(system.time_since_epoch()).count();
}

// The newest modification time of the regular files under `dir` (one level of folders down,
// as a topic's partitions are laid out), or nullopt when there are none.
std::optional<int64_t> newest_file_under(const std::filesystem::path& dir) {
    std::optional<int64_t> newest;
    std::error_code error;
    for (std::filesystem::recursive_directory_iterator it(dir, error), end; !error && it != end;
         it.increment(error)) {
        if (it.depth() > 1) {
            it.disable_recursion_pending();
            continue;
        }
        std::error_code stat_error;
        if (!it->is_regular_file(stat_error)) continue;
        const auto time = it->last_write_time(stat_error);
        if (stat_error) continue;
        const int64_t micros = micros_of(time);
        if (!newest || micros > *newest) newest = micros;
    }
    return newest;
}

// The newest modification time of the files a path or glob names.
std::optional<int64_t> newest_matching(const std::string& pattern) {
    if (pattern.find("{{") != std::string::npos) return std::nullopt;  // variables unfilled
    glob_t found{};
    std::optional<int64_t> newest;
    if (::glob(pattern.c_str(), 0, nullptr, &found) == 0) {
        for (std::size_t i = 0; i < found.gl_pathc; ++i) {
            std::error_code error;
            const auto time = std::filesystem::last_write_time(found.gl_pathv[i], error);
            if (error) continue;
            const int64_t micros = micros_of(time);
            if (!newest || micros > *newest) newest = micros;
        }
    }
    ::globfree(&found);
    return newest;
}

// One recorded check result (a line of `<data_dir>/checks/<pipeline>.ndjson`).
struct CheckLine {
    std::string at;
    std::string rule;
    std::string json;
};

// Where a pipeline's dead letters go: its `dead_letter` file sink, else the default file.
std::string dead_letter_path(const Project& project, const PipelineSpec& pipeline) {
    for (const SinkSpec& sink : pipeline.sinks) {
        if (sink.from == kDeadLetterName && sink.kind == SinkKind::kFile) return sink.path;
    }
    return fmt::format("{}/dead_letter/{}.ndjson", project.data_dir, pipeline.name);
}

// The last `max_bytes` of a file, from the first whole line in them.
std::string read_tail(const std::string& path, std::uintmax_t max_bytes, bool& truncated) {
    std::error_code error;
    const std::uintmax_t size = std::filesystem::file_size(path, error);
    truncated = false;
    if (error) return {};
    std::ifstream in(path, std::ios::binary);
    const std::uintmax_t start = size > max_bytes ? size - max_bytes : 0;
    in.seekg(static_cast<std::streamoff>(start));
    std::string text(static_cast<std::size_t>(size - start), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (start > 0) {
        truncated = true;
        const std::size_t newline = text.find('\n');
        text.erase(0, newline == std::string::npos ? text.size() : newline + 1);
    }
    return text;
}

}  // namespace

CatalogHandler::CatalogHandler(const Project& project, const Log* log,
                               const SchemaRegistry* registry, const Clock& clock)
    : project_(project),
      log_(log),
      registry_(registry),
      clock_(clock),
      graph_(build_lineage_graph(project)) {
    std::vector<Error> errors;
    Result<std::vector<FeatureView>> views = load_feature_views(project, &errors);
    if (views.ok()) feature_views_ = std::move(views).value();
}

void CatalogHandler::add_routes(Router& router) {
    router.add(
        HttpMethod::kGet, "/v1/datasets", "datasets",
        [this](HttpRequest& request, HttpResponder respond) { respond(search(request)); }, "admin");
    router.add(
        HttpMethod::kGet, "/v1/datasets/{dataset}", "dataset",
        [this](HttpRequest& request, HttpResponder respond) { respond(describe(request)); },
        "admin");
    router.add(
        HttpMethod::kGet, "/v1/lineage", "lineage",
        [this](HttpRequest& request, HttpResponder respond) { respond(lineage(request)); },
        "admin");
    router.add(
        HttpMethod::kGet, "/v1/dead-letters", "dead_letters",
        [this](HttpRequest& request, HttpResponder respond) { respond(dead_letters(request)); },
        "admin");
}

std::vector<CatalogHandler::Entry> CatalogHandler::entries() const {
    std::vector<Entry> out;
    std::map<std::string, std::size_t> index;
    auto entry = [&](const LineageNode& node) -> Entry& {
        auto [it, added] = index.emplace(node.id, out.size());
        if (added) {
            Entry e;
            e.id = node.id;
            e.kind = node.kind;
            e.name = node.name;
            out.push_back(std::move(e));
        }
        return out[it->second];
    };
    for (const PipelineSpec& pipeline : project_.pipelines) {
        for (const SourceSpec& source : pipeline.sources) {
            if (source.kind == SourceKind::kGenerator) continue;
            Entry& e = entry(lineage_dataset_node(project_, source_dataset(project_, source)));
            merge_docs(e.docs, source.docs);
            add_unique(e.pipelines, pipeline.name);
            add_unique(e.checked_as, {pipeline.name, source.name});
            if (e.columns.empty() && source.schema) e.columns = columns_of(*source.schema);
            if (source.kind == SourceKind::kFile) add_unique(e.paths, source.path);
        }
        for (const ViewSpec& view : pipeline.views) {
            Entry& e = entry({"view:" + pipeline.name + "." + view.name, "view",
                              pipeline.name + "." + view.name, pipeline.name});
            merge_docs(e.docs, view.docs);
            // A view is its pipeline's: the pipeline's owner and tags hold for it too.
            merge_docs(e.docs, DatasetDocs{"", pipeline.owner, pipeline.tags});
            add_unique(e.pipelines, pipeline.name);
            add_unique(e.checked_as, {pipeline.name, view.name});
        }
        for (const SinkSpec& sink : pipeline.sinks) {
            Entry& e = entry(lineage_dataset_node(project_, sink_dataset(project_, sink)));
            merge_docs(e.docs, sink.docs);
            if (sink.from != kDeadLetterName) {
                // The view a sink writes documents the dataset too, and its checks are the
                // dataset's.
                if (const ViewSpec* view = pipeline.find_view(sink.from)) {
                    merge_docs(e.docs, view->docs);
                }
                add_unique(e.checked_as, {pipeline.name, sink.from});
            }
            if (sink.from != kDeadLetterName) {
                // What a pipeline writes is its owner's, as its views are.
                merge_docs(e.docs, DatasetDocs{"", pipeline.owner, pipeline.tags});
            }
            add_unique(e.pipelines, pipeline.name);
            if (sink.kind == SinkKind::kFile) add_unique(e.paths, sink.path);
        }
    }
    for (const FeatureView& view : feature_views_) {
        Entry& e = entry(lineage_dataset_node(project_, feature_view_dataset(project_, view.name)));
        merge_docs(e.docs, DatasetDocs{view.description, view.owner, view.tags});
        e.columns.clear();
        for (const EntityKey& key : view.entities) {
            e.columns.emplace_back(key.name, std::string(type_name(key.type)) + " (entity)");
        }
        for (const FeatureSpec& feature : view.features) {
            e.columns.emplace_back(feature.name, std::string(type_name(feature.type)));
        }
    }
    // What the data directory holds beside what the project names: tables and topics made by
    // other means (the ingest API, `millrace topic create`, a pipeline since removed).
    if (Result<std::vector<std::string>> tables = LakeTable::list(project_.data_dir); tables.ok()) {
        for (const std::string& name : *tables) {
            Entry& e = entry(lineage_dataset_node(project_, lake_table_dataset(project_, name)));
            Result<LakeTable> table = LakeTable::open(project_.data_dir, name);
            if (table.ok() && table->schema()) e.columns = columns_of(*table->schema());
        }
    }
    if (log_ != nullptr) {
        for (const std::string& name : log_->list_topics()) {
            if (name.rfind("__", 0) == 0) continue;  // internal topics
            Entry& e = entry({"topic:" + name, "topic", name, ""});
            if (e.columns.empty()) {
                if (std::shared_ptr<Topic> topic = log_->find_topic(name)) {
                    if (!topic->config().schema.empty()) {
                        if (Result<Schema> schema = parse_schema_spec(topic->config().schema);
                            schema.ok()) {
                            e.columns = columns_of(*schema);
                        }
                    }
                }
            }
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.name, a.kind) < std::tie(b.name, b.kind);
    });
    return out;
}

HttpResponse CatalogHandler::search(const HttpRequest& request) const {
    HttpResponse error;
    std::optional<int64_t> limit = parse_limit(request, 100, 1000, error);
    if (!limit) return error;
    std::string kind;
    if (const std::string* k = request.query_param("kind")) {
        kind = *k;
        if (std::find(std::begin(kKinds), std::end(kKinds), kind) == std::end(kKinds)) {
            return json_error(400,
                              "kind must be one of topic, kafka, file, lake, view, "
                              "feature_view");
        }
    }
    std::vector<std::string> terms;
    if (const std::string* q = request.query_param("q")) {
        if (q->size() > 1000) return json_error(400, "q is longer than 1000 characters");
        terms = words(*q);
    }
    std::vector<Entry> all = entries();
    // Ranked: a name matching every word first, then anything else that matches.
    std::vector<std::pair<int, const Entry*>> found;
    for (const Entry& e : all) {
        if (!kind.empty() && e.kind != kind) continue;
        const std::string name = lower(e.name);
        std::string text =
            name + "\n" + e.kind + "\n" + lower(e.docs.description) + "\n" + lower(e.docs.owner);
        for (const std::string& tag : e.docs.tags) text += "\n" + lower(tag);
        for (const auto& column : e.columns) text += "\n" + lower(column.first);
        for (const std::string& pipeline : e.pipelines) text += "\n" + lower(pipeline);
        bool all_match = true;
        bool in_name = true;
        for (const std::string& term : terms) {
            if (text.find(term) == std::string::npos) all_match = false;
            if (name.find(term) == std::string::npos) in_name = false;
        }
        if (all_match) found.emplace_back(in_name ? 0 : 1, &e);
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out = "{\"datasets\":[";
    for (std::size_t i = 0; i < found.size() && i < static_cast<std::size_t>(*limit); ++i) {
        if (i > 0) out += ",";
        append_entry(out, *found[i].second);
        out += "}";
    }
    out += fmt::format("],\"total\":{}}}", found.size());
    return json_response(std::move(out));
}

HttpResponse CatalogHandler::describe(const HttpRequest& request) const {
    const std::string& wanted = request.param("dataset");
    std::vector<Entry> all = entries();
    const Entry* found = nullptr;
    std::vector<std::string> ids;
    std::vector<std::string> same_name;
    for (const Entry& e : all) {
        ids.push_back(e.id);
        if (e.id == wanted) found = &e;
        if (e.name == wanted) same_name.push_back(e.id);
    }
    if (found == nullptr && same_name.size() == 1) {
        for (const Entry& e : all) {
            if (e.id == same_name.front()) found = &e;
        }
    }
    if (found == nullptr && same_name.size() > 1) {
        std::string names;
        for (const std::string& id : same_name) names += (names.empty() ? "" : ", ") + id;
        return json_error(409, fmt::format("{} names {} datasets ({}): ask for one by its id",
                                           backticks(wanted), same_name.size(), names));
    }
    if (found == nullptr) {
        return json_error(
            404, fmt::format("no dataset {}{}", backticks(wanted), did_you_mean(wanted, ids)));
    }
    const Entry& e = *found;
    std::string out;
    append_entry(out, e);

    // Schema history and freshness, by kind.
    std::optional<int64_t> last_write;
    out += ",\"schema_history\":[";
    if (e.kind == "lake") {
        Result<LakeTable> table = LakeTable::open(project_.data_dir, e.name);
        Result<std::vector<Manifest>> history =
            table.ok() ? table->history() : Result<std::vector<Manifest>>(table.error());
        if (history.ok()) {
            // Oldest first; a snapshot appears when its schema differs from the one before.
            std::string previous;
            bool first = true;
            for (const Manifest& m : *history) {
                if (m.schema_text == previous) continue;
                previous = m.schema_text;
                Result<Schema> schema = manifest_schema(m);
                if (!schema.ok()) continue;
                if (!first) out += ",";
                first = false;
                out += fmt::format("{{\"snapshot_id\":{},\"committed_at\":\"{}\",\"columns\":",
                                   m.snapshot_id, format_timestamp(m.committed_at_micros));
                append_columns(out, columns_of(*schema));
                out += "}";
            }
            if (!history->empty()) last_write = history->back().committed_at_micros;
        }
    } else if (e.kind == "topic" && registry_ != nullptr) {
        // The schema registry's versions of the topic's subjects (TopicNameStrategy).
        bool first = true;
        for (const std::string& subject : {e.name + "-value", e.name + "-key"}) {
            RegistryError registry_error;
            std::optional<std::vector<int32_t>> versions =
                registry_->versions(subject, registry_error);
            if (!versions) continue;
            for (int32_t version : *versions) {
                std::optional<RegisteredSchema> schema =
                    registry_->version(subject, std::to_string(version), registry_error);
                if (!schema) continue;
                if (!first) out += ",";
                first = false;
                out += "{\"subject\":";
                append_json_string(out, subject);
                out += fmt::format(",\"version\":{},\"id\":{},\"schema\":", schema->version,
                                   schema->id);
                append_json_string(out, schema->schema);
                out += "}";
            }
        }
    }
    out += "]";
    if (e.kind == "topic" && log_ != nullptr) {
        if (std::shared_ptr<Topic> topic = log_->find_topic(e.name)) {
            int64_t records = 0;
            for (int32_t p = 0; p < topic->partition_count(); ++p) {
                records += topic->partition(p)->end_offset() - topic->partition(p)->start_offset();
            }
            out +=
                fmt::format(",\"partitions\":{},\"records\":{}", topic->partition_count(), records);
            if (records > 0) last_write = newest_file_under(topic->dir());
        }
    }
    if (e.kind == "file") {
        for (const std::string& path : e.paths) {
            std::optional<int64_t> newest = newest_matching(path);
            if (newest && (!last_write || *newest > *last_write)) last_write = newest;
        }
    }
    if (last_write) {
        const int64_t age = std::max<int64_t>(0, clock_.now_micros() - *last_write);
        out += fmt::format(",\"freshness\":{{\"last_write_at\":\"{}\",\"age_seconds\":{:.3f}}}",
                           format_timestamp(*last_write), static_cast<double>(age) / 1e6);
    } else {
        out += ",\"freshness\":null";
    }

    // The newest result of each rule on the dataset (as the sources, views and sinks naming it
    // were checked).
    std::map<std::tuple<std::string, std::string, std::string>, CheckLine> newest;
    simdjson::dom::parser parser;
    std::set<std::string> pipelines;
    for (const auto& [pipeline, element] : e.checked_as) pipelines.insert(pipeline);
    for (const std::string& pipeline : pipelines) {
        std::ifstream in(std::filesystem::path(project_.data_dir) / "checks" /
                         (pipeline + ".ndjson"));
        std::string text;
        while (std::getline(in, text)) {
            simdjson::dom::object object;
            if (text.empty() || parser.parse(text).get_object().get(object)) continue;
            std::string_view dataset, rule, at;
            if (object["dataset"].get_string().get(dataset) ||
                object["rule"].get_string().get(rule)) {
                continue;
            }
            const std::pair<std::string, std::string> key{pipeline, std::string(dataset)};
            if (std::find(e.checked_as.begin(), e.checked_as.end(), key) == e.checked_as.end()) {
                continue;
            }
            if (object["at"].get_string().get(at)) at = "";
            CheckLine& line = newest[{pipeline, std::string(dataset), std::string(rule)}];
            if (line.json.empty() || std::string(at) >= line.at) {
                line = CheckLine{std::string(at), std::string(rule), simdjson::minify(object)};
            }
        }
    }
    std::vector<const CheckLine*> checks;
    for (const auto& [key, line] : newest) checks.push_back(&line);
    std::stable_sort(checks.begin(), checks.end(),
                     [](const CheckLine* a, const CheckLine* b) { return a->at > b->at; });
    out += ",\"checks\":[";
    for (std::size_t i = 0; i < checks.size(); ++i) {
        if (i > 0) out += ",";
        out += checks[i]->json;
    }
    out += "],\"lineage\":{\"upstream\":";
    if (graph_.ok()) {
        append_string_array(out, graph_->upstream(e.id));
        out += ",\"downstream\":";
        append_string_array(out, graph_->downstream(e.id));
    } else {
        out += "[],\"downstream\":[],\"error\":";
        append_json_string(out, graph_.error().to_string());
    }
    out += "}}";
    return json_response(std::move(out));
}

HttpResponse CatalogHandler::lineage(const HttpRequest& request) const {
    if (!graph_.ok()) return json_error(500, graph_.error());
    const LineageGraph& graph = *graph_;
    const std::string* dataset = request.query_param("dataset");
    const std::string* pipeline = request.query_param("pipeline");
    if (dataset != nullptr && pipeline != nullptr) {
        return json_error(400, "ask for a dataset or a pipeline, not both");
    }
    std::string focus;
    std::vector<std::string> upstream, downstream;
    if (dataset != nullptr) {
        std::vector<std::string> ids, same_name;
        for (const LineageNode& node : graph.nodes) {
            if (node.kind == "pipeline" || node.kind == "job" || node.kind == "materialize") {
                continue;
            }
            ids.push_back(node.id);
            if (node.id == *dataset) focus = node.id;
            if (node.name == *dataset) same_name.push_back(node.id);
        }
        if (focus.empty() && same_name.size() == 1) focus = same_name.front();
        if (focus.empty() && same_name.size() > 1) {
            std::string names;
            for (const std::string& id : same_name) names += (names.empty() ? "" : ", ") + id;
            return json_error(409, fmt::format("{} names {} datasets ({}): ask for one by its id",
                                               backticks(*dataset), same_name.size(), names));
        }
        if (focus.empty()) {
            return json_error(404, fmt::format("no dataset {} in the lineage graph{}",
                                               backticks(*dataset), did_you_mean(*dataset, ids)));
        }
        upstream = graph.upstream(focus);
        downstream = graph.downstream(focus);
    } else if (pipeline != nullptr) {
        std::vector<std::string> names;
        for (const PipelineSpec& p : project_.pipelines) names.push_back(p.name);
        if (std::find(names.begin(), names.end(), *pipeline) == names.end()) {
            return json_error(404, fmt::format("no pipeline {}{}", backticks(*pipeline),
                                               did_you_mean(*pipeline, names)));
        }
        focus = "pipeline:" + *pipeline;
        // What its views (and its dead letters) read from and feed, outside the pipeline.
        std::set<std::string> own{focus};
        for (const LineageNode& node : graph.nodes) {
            if (node.kind == "view" && node.pipeline == *pipeline) own.insert(node.id);
        }
        for (const std::string& id : own) {
            for (std::string& up : graph.upstream(id)) {
                if (own.count(up) == 0) add_unique(upstream, std::move(up));
            }
            for (const LineageEdge& edge : graph.edges) {
                if (edge.kind == "data" && edge.from == id && own.count(edge.to) == 0) {
                    add_unique(downstream, edge.to);
                    for (std::string& down : graph.downstream(edge.to)) {
                        add_unique(downstream, std::move(down));
                    }
                }
            }
        }
    }
    std::string out = "{\"nodes\":[";
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
        const LineageNode& node = graph.nodes[i];
        if (i > 0) out += ",";
        out += "{\"id\":";
        append_json_string(out, node.id);
        out += ",\"kind\":";
        append_json_string(out, node.kind);
        out += ",\"name\":";
        append_json_string(out, node.name);
        if (!node.pipeline.empty()) {
            out += ",\"pipeline\":";
            append_json_string(out, node.pipeline);
        }
        out += "}";
    }
    out += "],\"edges\":[";
    for (std::size_t i = 0; i < graph.edges.size(); ++i) {
        const LineageEdge& edge = graph.edges[i];
        if (i > 0) out += ",";
        out += "{\"from\":";
        append_json_string(out, edge.from);
        out += ",\"to\":";
        append_json_string(out, edge.to);
        out += ",\"kind\":";
        append_json_string(out, edge.kind);
        out += "}";
    }
    out += "]";
    if (!focus.empty()) {
        out += ",\"focus\":";
        append_json_string(out, focus);
        out += ",\"upstream\":";
        append_string_array(out, upstream);
        out += ",\"downstream\":";
        append_string_array(out, downstream);
    }
    out += "}";
    return json_response(std::move(out));
}

HttpResponse CatalogHandler::dead_letters(const HttpRequest& request) const {
    HttpResponse error;
    std::optional<int64_t> limit = parse_limit(request, 200, 5000, error);
    if (!limit) return error;
    std::string only_pipeline, stage, source;
    std::vector<std::string> terms;
    if (const std::string* p = request.query_param("pipeline")) {
        only_pipeline = *p;
        std::vector<std::string> names;
        for (const PipelineSpec& pipeline : project_.pipelines) names.push_back(pipeline.name);
        if (std::find(names.begin(), names.end(), only_pipeline) == names.end()) {
            return json_error(404, fmt::format("no pipeline {}{}", backticks(only_pipeline),
                                               did_you_mean(only_pipeline, names)));
        }
    }
    if (const std::string* s = request.query_param("stage")) stage = *s;
    if (const std::string* s = request.query_param("source")) source = *s;
    if (const std::string* q = request.query_param("q")) {
        if (q->size() > 1000) return json_error(400, "q is longer than 1000 characters");
        terms = words(*q);
    }
    struct Letter {
        std::string time;
        std::size_t order = 0;  // file order, so equal times keep their order
        std::string json;
    };
    std::vector<Letter> letters;
    std::map<std::string, uint64_t> reasons;
    std::map<std::string, uint64_t> stages;
    uint64_t skipped = 0;
    bool truncated_any = false;
    std::string files = "[";
    simdjson::dom::parser parser;
    std::size_t order = 0;
    for (const PipelineSpec& pipeline : project_.pipelines) {
        if (!only_pipeline.empty() && pipeline.name != only_pipeline) continue;
        const std::string path = dead_letter_path(project_, pipeline);
        if (path.find("{{") != std::string::npos) continue;  // written per run's variables
        std::error_code size_error;
        const std::uintmax_t bytes = std::filesystem::file_size(path, size_error);
        if (size_error) continue;
        if (files.size() > 1) files += ",";
        files += "{\"pipeline\":";
        append_json_string(files, pipeline.name);
        files += ",\"path\":";
        append_json_string(files, path);
        files += fmt::format(",\"bytes\":{}}}", bytes);
        bool truncated = false;
        const std::string text = read_tail(path, kDeadLetterTailBytes, truncated);
        truncated_any = truncated_any || truncated;
        std::size_t start = 0;
        while (start < text.size()) {
            std::size_t end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            const std::string_view line(text.data() + start, end - start);
            start = end + 1;
            if (line.empty()) continue;
            simdjson::dom::object object;
            if (parser.parse(line.data(), line.size()).get_object().get(object)) {
                ++skipped;
                continue;
            }
            std::string_view value;
            if (!stage.empty() && (object["stage"].get_string().get(value) || value != stage)) {
                continue;
            }
            if (!source.empty() && (object["source"].get_string().get(value) || value != source)) {
                continue;
            }
            if (!terms.empty()) {
                const std::string haystack = lower(line);
                bool all = true;
                for (const std::string& term : terms) {
                    if (haystack.find(term) == std::string::npos) all = false;
                }
                if (!all) continue;
            }
            std::string_view reason, stage_value, time;
            if (object["reason"].get_string().get(reason)) reason = "";
            if (object["stage"].get_string().get(stage_value)) stage_value = "";
            if (object["time"].get_string().get(time)) time = "";
            ++reasons[std::string(reason)];
            ++stages[std::string(stage_value)];
            std::string json = simdjson::minify(object);
            if (object["pipeline"].error() == simdjson::NO_SUCH_FIELD) {
                // Older lines lack it; the file says whose they are.
                std::string named = "{\"pipeline\":";
                append_json_string(named, pipeline.name);
                json = named + (json.size() > 2 ? "," + json.substr(1) : "}");
            }
            letters.push_back({std::string(time), order++, std::move(json)});
        }
    }
    files += "]";
    std::stable_sort(letters.begin(), letters.end(), [](const Letter& a, const Letter& b) {
        return std::tie(b.time, b.order) < std::tie(a.time, a.order);
    });
    const std::size_t matched = letters.size();
    if (letters.size() > static_cast<std::size_t>(*limit)) {
        letters.resize(static_cast<std::size_t>(*limit));
    }
    std::string out = "{\"dead_letters\":[";
    for (std::size_t i = 0; i < letters.size(); ++i) {
        if (i > 0) out += ",";
        out += letters[i].json;
    }
    // The most frequent reasons first.
    std::vector<std::pair<std::string, uint64_t>> by_count(reasons.begin(), reasons.end());
    std::stable_sort(by_count.begin(), by_count.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (by_count.size() > 50) by_count.resize(50);
    out += fmt::format("],\"matched\":{},\"reasons\":[", matched);
    for (std::size_t i = 0; i < by_count.size(); ++i) {
        if (i > 0) out += ",";
        out += "{\"reason\":";
        append_json_string(out, by_count[i].first);
        out += fmt::format(",\"count\":{}}}", by_count[i].second);
    }
    out += "],\"stages\":{";
    bool first = true;
    for (const auto& [name, count] : stages) {
        if (!first) out += ",";
        first = false;
        append_json_string(out, name);
        out += fmt::format(":{}", count);
    }
    out += fmt::format("}},\"files\":{},\"skipped_lines\":{},\"truncated\":{}}}", files, skipped,
                       truncated_any ? "true" : "false");
    return json_response(std::move(out));
}

}  // namespace millrace
