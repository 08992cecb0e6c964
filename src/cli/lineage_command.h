#pragma once

#include <string>

namespace millrace {

struct LineageCommandOptions {
    std::string project_dir;
    /// Send the outbox to `lineage: { url }` first (one pass; what fails waits).
    bool deliver = false;
};

/// `millrace lineage <project>`: prints the lineage graph (lineage/lineage_graph.h). Exit 1 when
/// the project does not load or, with --deliver, when events are still waiting afterwards.
int run_lineage_command(const LineageCommandOptions& options);

}  // namespace millrace
