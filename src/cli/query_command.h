#pragma once

#include <string>

namespace millrace {

class Clock;

struct QueryOptions {
    std::string sql;
    std::string data_dir;          // explicit --data-dir
    std::string project;           // or a project directory whose data_dir is used (default .)
    std::string format = "table";  // table, csv or json
    std::string memory_limit;      // e.g. 512M, 4G; "" = the default
    const Clock* clock = nullptr;  // now() and current_date; null = the system clock
};

/// `millrace query "<SQL>"`: one SELECT over the lake tables of a data directory, printed as an
/// aligned table (default), CSV or NDJSON. Rows are printed only once the whole query has
/// succeeded; a failed query prints its error (bad SQL as `<query>:line:column: error: ...`)
/// and no rows, and exits 1.
int run_query(const QueryOptions& options);

}  // namespace millrace
