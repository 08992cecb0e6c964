#pragma once

#include <string>

#include "common/result.h"
#include "exec/operator.h"
#include "sql/function_resources.h"

namespace millrace {

/// What `millrace query` may hold in memory unless told otherwise.
inline constexpr std::size_t kDefaultQueryMemoryLimit = std::size_t{4} << 30;

/// Runs one SELECT over the lake tables of a data directory (`millrace query`): every table
/// under `<data_dir>/lake/` is a relation; `"table@<snapshot>"` (a quoted name) reads the table
/// AS OF that snapshot. Scans read only the columns the query uses and skip files and row
/// groups whose statistics rule out the pushed-down `column <op> constant` filters. Rows go to
/// `output`; the query's schema is passed to `on_schema` first. A row that fails evaluation
/// (division by zero, a bad cast) fails the query. Joins, sorts and aggregates together hold at
/// most `memory_limit_bytes` (ExecContext). Errors in the SQL carry the file name `<query>`.
/// What the scans of a query read: files of the snapshots, and how many of them the pushed-down
/// filters ruled out by their statistics.
struct LakeQueryStats {
    std::size_t files = 0;
    std::size_t files_skipped = 0;
};

/// now() and current_date are `clock`'s reading when the query is planned (null: the system
/// clock), folded into the plan before pruning, so `ts > now() - INTERVAL '1 day'` skips files.
/// `resources`: the project's settings for ip_country() and the like (null: none).
Status query_lake(const std::string& data_dir, const std::string& sql,
                  const std::function<Status(const Schema&)>& on_schema, BatchSink& output,
                  std::size_t memory_limit_bytes = kDefaultQueryMemoryLimit,
                  const Clock* clock = nullptr, LakeQueryStats* stats = nullptr,
                  const sql::FunctionResources* resources = nullptr);

}  // namespace millrace
