#pragma once

#include <string>
#include <vector>

namespace millrace {

class Clock;

struct RunCommandOptions {
    std::string project_dir;
    std::string pipeline;
    std::string memory_limit;       // e.g. 4G, 512M; "" = default
    std::vector<std::string> vars;  // name=value for {{ name }} in file paths
    const Clock* clock = nullptr;   // now() and current_date; null = the system clock
};

/// `millrace run <project> <pipeline>`: runs a batch pipeline and prints rows read/rejected per
/// source, rows written per sink, dead letters with their reasons and where they went, and the
/// time taken. Exit 0 on success, 1 on any error (printed as file:line:column: error: ...).
int run_pipeline_command(const RunCommandOptions& options);

/// `millrace explain <project> <pipeline>`: prints the optimized plan of every sink.
int run_explain_command(const RunCommandOptions& options);

}  // namespace millrace
