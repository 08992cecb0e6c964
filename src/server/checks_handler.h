#pragma once

#include <string>

#include "server/router.h"

namespace millrace {

/// The results of the dataset-level checks that runs recorded in `<data_dir>/checks/*.ndjson`
/// (pipeline/dataset_rules.h), in the "admin" group:
///
///   GET /v1/checks?pipeline=&failed=true&limit=   {"results": [{"run", "at", "pipeline",
///                                                 "dataset", "rule", "observed", "bound",
///                                                 "passed", "severity"}, ...]}, newest first,
///                                                 at most `limit` (default 200, up to 10000)
///
/// A line that is not a JSON object (a torn write by a foreign tool) is skipped and counted in
/// "skipped_lines". Threads: stateless; the files are replaced whole, so a read sees one version.
class ChecksHandler {
public:
    explicit ChecksHandler(std::string data_dir);
    void add_routes(Router& router);

    HttpResponse results(const HttpRequest& request) const;

private:
    std::string data_dir_;
};

}  // namespace millrace
