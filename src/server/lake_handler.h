#pragma once

#include <string>

#include "server/router.h"

namespace millrace {

/// The lake tables of a project, read-only, in the "admin" group (for the dashboard and scripts):
///
///   GET /v1/lake/tables                 {"tables": [{"name", "snapshot_id", "operation",
///                                       "committed_at", "files", "rows", "bytes"}]}; a table
///                                       that cannot be read has {"name", "error"} instead
///   GET /v1/lake/tables/{table}?limit=  {"name", "schema": [{"name", "type"}], "partition_by",
///                                       "snapshot_id", "snapshots": [...]}: the snapshot history,
///                                       newest first, at most `limit` (default 100)
///
/// Threads: each request opens the table (the lake's files are its only state), so any number
/// of requests may run at once beside writers.
class LakeHandler {
public:
    explicit LakeHandler(std::string data_dir);
    void add_routes(Router& router);

    HttpResponse list() const;
    HttpResponse describe(const HttpRequest& request) const;

private:
    std::string data_dir_;
};

}  // namespace millrace
