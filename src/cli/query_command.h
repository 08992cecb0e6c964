#pragma once

#include <string>

namespace millrace {

struct QueryOptions {
    std::string sql;
    std::string data_dir;          // explicit --data-dir
    std::string project;           // or a project directory whose data_dir is used (default .)
    std::string format = "table";  // table, csv or json
};

/// `millrace query "<SQL>"`: one SELECT over the lake tables of a data directory, printed as an
/// aligned table (default), CSV or NDJSON. Exit 1 with file-less line:column errors on bad SQL.
int run_query(const QueryOptions& options);

}  // namespace millrace
