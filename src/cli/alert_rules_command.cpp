#include "cli/alert_rules_command.h"

#include <cstdio>
#include <vector>

#include "alerts/prometheus_rules.h"
#include "project/project_loader.h"

namespace millrace {

int run_alert_rules_command(const std::string& project_dir) {
    std::vector<Error> errors;
    Result<Project> project = load_project(project_dir, &errors);
    if (!project.ok() && errors.empty()) errors.push_back(project.error());
    if (!errors.empty()) {
        for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        return 1;
    }
    std::fputs(prometheus_rules_yaml(*project).c_str(), stdout);
    return 0;
}

}  // namespace millrace
