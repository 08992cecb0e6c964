#pragma once

#include <string>

namespace millrace {

class Clock;

struct CheckCommandOptions {
    std::string project_dir;
    /// A source or view with checks, or a lake table a checked view is written to (its rules
    /// are then judged on the table at rest); "" = every checked source and view.
    std::string dataset;
    const Clock* clock = nullptr;
};

/// `millrace check <project> [dataset]`: judges the quality rules on the data the sources hold
/// now (pipeline/quality_check.h) and prints each result. Exit 1 when an error-level rule
/// failed, a pipeline could not be read, or `dataset` has no checks.
int run_check_command(const CheckCommandOptions& options);

}  // namespace millrace
