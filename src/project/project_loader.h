#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "project/project.h"

namespace millrace {

/// Loads the project in directory `dir`: reads `<dir>/millrace.yaml`, expands its `include`
/// patterns (glob(3), relative to `dir`, each pattern's matches sorted, a file matched twice
/// loaded once) and loads every included file as a pipeline, feature view, job or serving route.
/// What a file defines comes from its top-level `kind:` (pipeline, feature_view, job, route),
/// else from its folder (pipelines/, features/, jobs/, routes/), else from the keys it has
/// (a route has both `path` and `view`).
///
/// millrace.yaml:
///
///   name: food-delivery                 # required
///   description: ...                    # optional
///   data_dir: ./data                    # default "data", relative to dir
///   listen: { http: 127.0.0.1:8080 }    # the default; `kafka: 127.0.0.1:9092` adds the
///                                       # Kafka listener (docs/kafka.md)
///   kafka: { advertised: host:9092, auto_create_topics: false, partitions: 1,
///            max_request_bytes: 104857600, initial_rebalance_delay: 3s }   # optional
///   include: [pipelines/*.yaml, features/*.yaml, jobs/*.yaml]
///   topics:                             # optional; created by `millrace serve`
///     events: { partitions: 4, fsync: always, on_error: dead_letter,
///               schema: "id: string not null", capture: { ip: remote_addr } }
///   serving:                            # optional; kept as written, read by `millrace serve`
///     max_batch_keys: 1000              #   (server/serving_config.h; docs/serving.md)
///     auth: { tokens: [ { token_env: MILLRACE_TOKEN, scopes: [features] } ] }
///
/// It goes on after a problem and collects them all into `all_errors` (when not null), each
/// with file:line:column: YAML syntax, unknown keys, missing keys, values of the wrong kind,
/// bad type specs and durations (see parse_pipeline), an include naming a file that does not
/// exist (kNotFound), files it cannot tell the kind of, and pipelines, feature views, jobs or
/// routes defined twice (kConfig). Feature views, jobs and routes keep their documents as
/// ConfigNodes for the subsystem that reads them; only their names are checked here. A glob
/// pattern that matches nothing is not an error; it is recorded in Project::warnings.
///
/// Returns the Project when nothing was wrong, else the first error. Paths in the Project
/// (root_dir, data_dir, file sources and sinks) are absolute; file names in error locations are
/// as the user would type them (`dir` joined with the relative path).
Result<Project> load_project(const std::string& dir, std::vector<Error>* all_errors);

}  // namespace millrace
