#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "lineage/run_event.h"
#include "project/project.h"

namespace millrace {

/// What `millrace lineage <project>` prints: the graph the project declares (sources → views →
/// sinks per pipeline, feature views and what fills them, jobs and the pipelines and
/// materializations their tasks run) as sections and as `from -> to` edges, then the last run
/// of each job name the lineage events record (`<data_dir>/lineage/`: sent and waiting),
/// with datasets the events name that the project does not. Errors only for a project whose
/// feature views or jobs do not load.
Result<std::string> describe_lineage(const Project& project);

/// One node of the lineage graph. `id` is `<kind>:<name>`, unique in the graph: `topic:orders`,
/// `lake:order_metrics`, `file:/abs/in/*.csv`, `feature_view:user_features`,
/// `kafka:broker:9092/orders`, `view:<pipeline>.<view>`, `pipeline:<name>`,
/// `materialize:<feature view>`, `job:<name>`.
struct LineageNode {
    std::string id;
    std::string kind;  // topic, kafka, file, lake, feature_view, view, pipeline, materialize, job
    std::string name;
    std::string pipeline;  // a view's pipeline; "" for the others
};

/// An edge: `data` (rows flow from -> to: a source into the views that read it, a view into
/// the next view and into its sinks, a lake table into the materialization of a feature view)
/// or `runs` (a job runs a pipeline or a materialization; a pipeline runs its views).
struct LineageEdge {
    std::string from;
    std::string to;
    std::string kind;  // "data" or "runs"
};

/// The graph the project declares: sources -> views -> sinks -> feature views, and the jobs
/// running the pipelines and materializations.
struct LineageGraph {
    std::vector<LineageNode> nodes;  // datasets first, in declaration order
    std::vector<LineageEdge> edges;

    const LineageNode* find(std::string_view id) const;
    /// Every node `id` reads from, transitively, over `data` edges (nearest first).
    std::vector<std::string> upstream(std::string_view id) const;
    /// Every node that reads from `id`, transitively, over `data` edges (nearest first).
    std::vector<std::string> downstream(std::string_view id) const;
};

/// The node of a dataset as the graph names it (`lake:daily`, `topic:orders`).
LineageNode lineage_dataset_node(const Project& project, const LineageDataset& dataset);

/// The project's lineage graph. Errors only for a project whose feature views or jobs do not
/// load.
Result<LineageGraph> build_lineage_graph(const Project& project);

}  // namespace millrace
