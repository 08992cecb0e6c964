#include "cli/lineage_command.h"

#include <cstdio>
#include <vector>

#include "lineage/lineage_graph.h"
#include "lineage/lineage_outbox.h"
#include "project/project_loader.h"

namespace millrace {

int run_lineage_command(const LineageCommandOptions& options) {
    std::vector<Error> errors;
    Result<Project> project = load_project(options.project_dir, &errors);
    if (!project.ok() && errors.empty()) errors.push_back(project.error());
    if (!errors.empty()) {
        for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        return 1;
    }
    int status = 0;
    if (options.deliver) {
        if (project->lineage.url.empty()) {
            std::fprintf(stderr,
                         "error: --deliver needs `lineage: { url: ... }` in the project file\n");
            return 1;
        }
        LineageOutbox outbox(project->data_dir);
        Result<LineageDelivery> delivery =
            outbox.deliver(project->lineage.url, std::chrono::seconds(5));
        if (!delivery.ok()) {
            std::fprintf(stderr, "%s\n", delivery.error().to_string().c_str());
            return 1;
        }
        std::printf("delivered %zu event(s) to %s, %zu rejected, %zu waiting\n",
                    delivery->delivered, project->lineage.url.c_str(), delivery->rejected,
                    delivery->pending);
        if (!delivery->error.empty()) {
            std::fprintf(stderr, "delivery stopped: %s\n", delivery->error.c_str());
        }
        if (delivery->pending > 0) status = 1;
    }
    Result<std::string> graph = describe_lineage(*project);
    if (!graph.ok()) {
        std::fprintf(stderr, "%s\n", graph.error().to_string().c_str());
        return 1;
    }
    std::fputs(graph->c_str(), stdout);
    return status;
}

}  // namespace millrace
