#include "lineage/lineage_graph.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "common/text_file.h"
#include "lineage/lineage_outbox.h"
#include "lineage/lineage_recorder.h"
#include "online/feature_view.h"
#include "scheduler/job_definition.h"
#include "scheduler/job_parser.h"

namespace millrace {

namespace {

// A dataset as the graph shows it: its kind and its name ("topic orders", "lake daily").
std::string label(const Project& project, const LineageDataset& dataset) {
    const std::string lake = lake_table_dataset(project, "").name_space;
    if (dataset.name_space == lake) return "lake " + dataset.name;
    if (dataset.name_space == "file") return "file " + dataset.name;
    if (dataset.name_space.rfind("kafka://", 0) == 0) {
        return "kafka " + dataset.name_space.substr(8) + "/" + dataset.name;
    }
    const std::string prefix = "millrace://" + project.name + "/";
    if (dataset.name_space.rfind(prefix, 0) == 0) {
        return dataset.name_space.substr(prefix.size()) + " " + dataset.name;
    }
    return dataset.name_space + " " + dataset.name;
}

// The sources and views a view's SQL names: identifiers of the text that are names of the
// pipeline (a view refers to nothing else).
std::vector<std::string> view_inputs(const PipelineSpec& pipeline, const ViewSpec& view) {
    std::set<std::string> names;
    for (const SourceSpec& source : pipeline.sources) names.insert(source.name);
    for (const ViewSpec& other : pipeline.views) {
        if (other.name != view.name) names.insert(other.name);
    }
    std::vector<std::string> found;
    const std::string& sql = view.sql.text;
    std::size_t i = 0;
    while (i < sql.size()) {
        const auto c = static_cast<unsigned char>(sql[i]);
        if (c == '\'') {  // skip string literals
            i = sql.find('\'', i + 1);
            i = i == std::string::npos ? sql.size() : i + 1;
            continue;
        }
        if (std::isalpha(c) || c == '_' || c == '"') {
            const bool quoted = c == '"';
            std::size_t end = i + 1;
            while (end < sql.size() &&
                   (quoted ? sql[end] != '"'
                           : (std::isalnum(static_cast<unsigned char>(sql[end])) ||
                              sql[end] == '_'))) {
                ++end;
            }
            std::string word = quoted ? sql.substr(i + 1, end - i - 1) : sql.substr(i, end - i);
            if (!quoted) {
                for (char& ch : word) ch = static_cast<char>(std::tolower(ch));
            }
            if (names.count(word) > 0 &&
                std::find(found.begin(), found.end(), word) == found.end()) {
                found.push_back(word);
            }
            i = quoted ? end + 1 : end;
            continue;
        }
        ++i;
    }
    return found;
}

std::vector<std::string> walk(const LineageGraph& graph, std::string_view start, bool forward) {
    std::vector<std::string> out;
    std::set<std::string> seen{std::string(start)};
    std::deque<std::string> queue{std::string(start)};
    while (!queue.empty()) {
        const std::string at = std::move(queue.front());
        queue.pop_front();
        for (const LineageEdge& edge : graph.edges) {
            if (edge.kind != "data") continue;
            const std::string& near = forward ? edge.from : edge.to;
            const std::string& far = forward ? edge.to : edge.from;
            if (near == at && seen.insert(far).second) {
                out.push_back(far);
                queue.push_back(far);
            }
        }
    }
    return out;
}

struct LastRun {
    std::string type;
    std::string time;
    std::string run_id;
    std::string error;
    std::size_t events = 0;
};

}  // namespace

Result<std::string> describe_lineage(const Project& project) {
    std::vector<Error> errors;
    MILLRACE_ASSIGN_OR_RETURN(std::vector<FeatureView> views, load_feature_views(project, &errors));
    std::vector<JobDefinition> jobs;
    for (const JobSpec& spec : project.jobs) {
        MILLRACE_ASSIGN_OR_RETURN(JobDefinition job, load_job(spec, project, errors));
        jobs.push_back(std::move(job));
    }
    const std::string job_namespace =
        project.lineage.job_namespace.empty() ? project.name : project.lineage.job_namespace;

    std::string out =
        fmt::format("lineage of project {} (job namespace {})\n", project.name, job_namespace);
    std::vector<std::pair<std::string, std::string>> edges;
    std::set<std::string> known_datasets;
    auto edge = [&](std::string from, std::string to) {
        std::pair<std::string, std::string> e{std::move(from), std::move(to)};
        if (std::find(edges.begin(), edges.end(), e) == edges.end()) edges.push_back(std::move(e));
    };

    out += "\npipelines\n";
    if (project.pipelines.empty()) out += "  (none)\n";
    for (const PipelineSpec& pipeline : project.pipelines) {
        const std::string job = pipeline_job_name(pipeline.name);
        out += fmt::format("  {} ({})\n", job, enum_name(pipeline.mode));
        for (const SourceSpec& source : pipeline.sources) {
            const std::string dataset = label(project, source_dataset(project, source));
            known_datasets.insert(dataset);
            out += fmt::format("    source {:<20} <- {}\n", source.name, dataset);
            edge(dataset, job);
        }
        for (const ViewSpec& view : pipeline.views) {
            std::string inputs;
            for (const std::string& input : view_inputs(pipeline, view)) {
                inputs += (inputs.empty() ? "" : ", ") + input;
            }
            out += fmt::format("    view   {:<20} <- {}\n", view.name,
                               inputs.empty() ? "(no source)" : inputs);
        }
        for (const SinkSpec& sink : pipeline.sinks) {
            const std::string dataset = label(project, sink_dataset(project, sink));
            known_datasets.insert(dataset);
            out += fmt::format("    sink   {:<20} -> {}\n", sink.from, dataset);
            edge(job, dataset);
        }
    }

    out += "\nfeature views\n";
    if (views.empty()) out += "  (none)\n";
    for (const FeatureView& view : views) {
        const std::string dataset = label(project, feature_view_dataset(project, view.name));
        known_datasets.insert(dataset);
        if (view.source == FeatureSourceKind::kLake) {
            const std::string table = label(project, lake_table_dataset(project, view.lake_table));
            const std::string job = materialize_job_name(view.name);
            out += fmt::format("  {:<22} <- {} ({})\n", view.name, table, job);
            edge(table, job);
            edge(job, dataset);
        } else {
            out += fmt::format("  {:<22} <- {}\n", view.name, pipeline_job_name(view.pipeline));
        }
    }

    out += "\njobs\n";
    if (jobs.empty()) out += "  (none)\n";
    for (const JobDefinition& job : jobs) {
        const std::string name = scheduled_job_name(job.name);
        out += fmt::format("  {}{}\n", name,
                           job.schedule.empty() ? "" : " (schedule " + job.schedule + ")");
        for (const TaskDefinition& task : job.tasks) {
            std::string runs;
            if (task.kind == TaskKind::kPipeline) runs = pipeline_job_name(task.pipeline);
            if (task.kind == TaskKind::kMaterialize) runs = materialize_job_name(task.target);
            if (task.kind == TaskKind::kCompact) runs = "compact lake " + task.target;
            std::string after;
            for (const std::string& upstream : task.depends_on) {
                after += (after.empty() ? " after " : ", ") + upstream;
            }
            out += fmt::format("    task {:<20} {}{}\n", task.name,
                               runs.empty() ? std::string(enum_name(task.kind)) : runs, after);
            if (task.kind == TaskKind::kPipeline || task.kind == TaskKind::kMaterialize) {
                edge(name, runs);
            }
        }
    }

    out += "\nedges\n";
    for (const auto& [from, to] : edges) out += fmt::format("  {} -> {}\n", from, to);

    // The record: the newest event of each job, and datasets events name the project lacks
    // (a pipeline renamed or removed since it ran).
    LineageOutbox outbox(project.data_dir);
    const std::vector<std::string> files = outbox.event_files();
    std::map<std::string, LastRun> last;
    std::set<std::string> unknown;
    simdjson::dom::parser parser;
    for (const std::string& path : files) {
        Result<std::string> text = read_text_file(path, 64u << 20);
        if (!text.ok()) continue;
        simdjson::dom::element root;
        if (parser.parse(*text).get(root)) continue;
        std::string_view type, time, run_id, job_name;
        if (root["eventType"].get(type) || root["eventTime"].get(time) ||
            root["run"]["runId"].get(run_id) || root["job"]["name"].get(job_name)) {
            continue;
        }
        LastRun& entry = last[std::string(job_name)];
        entry.type = type;
        entry.time = time;
        entry.run_id = run_id;
        entry.error.clear();
        ++entry.events;
        std::string_view message;
        if (!root["run"]["facets"]["errorMessage"]["message"].get(message)) {
            entry.error = message;
        }
        for (const char* side : {"inputs", "outputs"}) {
            simdjson::dom::array datasets;
            if (root[side].get(datasets)) continue;
            for (simdjson::dom::element dataset : datasets) {
                std::string_view name_space, name;
                if (dataset["namespace"].get(name_space) || dataset["name"].get(name)) continue;
                const std::string shown = label(
                    project, LineageDataset{std::string(name_space), std::string(name), {}, {}});
                if (known_datasets.count(shown) == 0) unknown.insert(shown);
            }
        }
    }
    out += fmt::format("\nruns ({} lineage event{}, {} waiting in {}/outbox)\n", files.size(),
                       files.size() == 1 ? "" : "s", outbox.depth(), outbox.directory());
    if (last.empty()) out += "  (none recorded yet)\n";
    for (const auto& [job, run] : last) {
        out += fmt::format("  {:<28} {:<8} {}  run {}{}\n", job, run.type, run.time, run.run_id,
                           run.error.empty() ? "" : "  error: " + run.error);
    }
    if (!unknown.empty()) {
        out += "\ndatasets in events that the project no longer names\n";
        for (const std::string& dataset : unknown) out += "  " + dataset + "\n";
    }
    return out;
}

// A dataset's node id: its label with the first space as `:` ("lake daily" -> "lake:daily").
LineageNode lineage_dataset_node(const Project& project, const LineageDataset& dataset) {
    const std::string shown = label(project, dataset);
    const std::size_t space = shown.find(' ');
    LineageNode node;
    node.kind = shown.substr(0, space);
    node.name = space == std::string::npos ? std::string() : shown.substr(space + 1);
    node.id = node.kind + ":" + node.name;
    return node;
}

const LineageNode* LineageGraph::find(std::string_view id) const {
    for (const LineageNode& node : nodes) {
        if (node.id == id) return &node;
    }
    return nullptr;
}

std::vector<std::string> LineageGraph::upstream(std::string_view id) const {
    return walk(*this, id, false);
}

std::vector<std::string> LineageGraph::downstream(std::string_view id) const {
    return walk(*this, id, true);
}

Result<LineageGraph> build_lineage_graph(const Project& project) {
    std::vector<Error> errors;
    MILLRACE_ASSIGN_OR_RETURN(std::vector<FeatureView> views, load_feature_views(project, &errors));
    std::vector<JobDefinition> jobs;
    for (const JobSpec& spec : project.jobs) {
        MILLRACE_ASSIGN_OR_RETURN(JobDefinition job, load_job(spec, project, errors));
        jobs.push_back(std::move(job));
    }
    LineageGraph graph;
    std::map<std::string, std::size_t> index;
    auto node = [&](LineageNode n) -> std::string {
        if (index.emplace(n.id, graph.nodes.size()).second) graph.nodes.push_back(n);
        return n.id;
    };
    auto edge = [&](const std::string& from, const std::string& to, const char* kind) {
        LineageEdge e{from, to, kind};
        for (const LineageEdge& other : graph.edges) {
            if (other.from == e.from && other.to == e.to && other.kind == e.kind) return;
        }
        graph.edges.push_back(std::move(e));
    };
    std::vector<LineageNode> later;  // pipelines, materializations, jobs: after the datasets
    for (const PipelineSpec& pipeline : project.pipelines) {
        const std::string pipeline_id = "pipeline:" + pipeline.name;
        later.push_back({pipeline_id, "pipeline", pipeline.name, ""});
        std::map<std::string, std::string> element;  // source or view name -> node id
        for (const SourceSpec& source : pipeline.sources) {
            element[source.name] =
                node(lineage_dataset_node(project, source_dataset(project, source)));
        }
        for (const ViewSpec& view : pipeline.views) {
            const std::string id = "view:" + pipeline.name + "." + view.name;
            node({id, "view", pipeline.name + "." + view.name, pipeline.name});
            element[view.name] = id;
        }
        for (const ViewSpec& view : pipeline.views) {
            const std::string& id = element[view.name];
            edge(pipeline_id, id, "runs");
            for (const std::string& input : view_inputs(pipeline, view)) {
                edge(element[input], id, "data");
            }
        }
        for (const SinkSpec& sink : pipeline.sinks) {
            const std::string to = node(lineage_dataset_node(project, sink_dataset(project, sink)));
            auto from = element.find(sink.from);
            // The dead letters come from the pipeline as a whole.
            edge(from == element.end() ? pipeline_id : from->second, to, "data");
        }
    }
    for (const FeatureView& view : views) {
        const std::string id =
            node(lineage_dataset_node(project, feature_view_dataset(project, view.name)));
        if (view.source == FeatureSourceKind::kLake) {
            const std::string table =
                node(lineage_dataset_node(project, lake_table_dataset(project, view.lake_table)));
            const std::string materialize = "materialize:" + view.name;
            later.push_back({materialize, "materialize", view.name, ""});
            edge(table, materialize, "data");
            edge(materialize, id, "data");
        }
    }
    for (const JobDefinition& job : jobs) {
        const std::string job_id = "job:" + job.name;
        later.push_back({job_id, "job", job.name, ""});
        for (const TaskDefinition& task : job.tasks) {
            if (task.kind == TaskKind::kPipeline) edge(job_id, "pipeline:" + task.pipeline, "runs");
            if (task.kind == TaskKind::kMaterialize) {
                edge(job_id, "materialize:" + task.target, "runs");
            }
        }
    }
    for (LineageNode& n : later) node(std::move(n));
    // A job naming a pipeline or materialization the project lacks (load_job refuses that
    // today) would leave an edge to nowhere: keep the graph closed.
    std::erase_if(graph.edges, [&](const LineageEdge& e) {
        return index.count(e.from) == 0 || index.count(e.to) == 0;
    });
    return graph;
}

}  // namespace millrace
