#pragma once

#include <string>

#include "common/result.h"
#include "project/project.h"

namespace millrace {

/// What `millrace lineage <project>` prints: the graph the project declares (sources → views →
/// sinks per pipeline, feature views and what fills them, jobs and the pipelines and
/// materializations their tasks run) as sections and as `from -> to` edges, then the last run
/// of each job name the lineage events record (`<data_dir>/lineage/`: sent and waiting),
/// with datasets the events name that the project does not. Errors only for a project whose
/// feature views or jobs do not load.
Result<std::string> describe_lineage(const Project& project);

}  // namespace millrace
