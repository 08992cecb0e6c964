#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace millrace {

struct LakeOptions {
    std::string action;  // list, describe, files, history, compact, import, ... (run_lake)
    std::string table;
    std::string to;                    // rename: the new name
    std::string data_dir;              // explicit --data-dir
    std::string project;               // or a project directory whose data_dir is used
    std::optional<uint64_t> snapshot;  // describe/files AS OF
    bool deletes = false;              // files: the delete files instead of the data files
    std::string where;                 // delete: the SQL predicate of the rows to delete
    // import
    std::string input;
    std::string schema;                     // for NDJSON/CSV input
    std::vector<std::string> partition_by;  // with --create
    bool create = false;
    bool overwrite = false;
    uint64_t commit_rows = 0;  // 0 = one commit at the end
    std::string writer_id = "import";
    std::string compression = "zstd";  // zstd, snappy or none
    // alter: applied in this order (adds, renames, widenings, moves, drops), as one new schema
    std::vector<std::string> add_columns;     // "name: type"
    std::vector<std::string> rename_columns;  // "old=new"
    std::vector<std::string> widen_columns;   // "name: type"
    std::vector<std::string> move_columns;    // "name first" | "name after other"
    std::vector<std::string> drop_columns;
    // compact
    uint64_t small_file_bytes = 32ull << 20;
    // expire-snapshots, remove-orphan-files
    std::optional<int64_t> older_than_seconds;
    std::size_t retain_last = 1;
};

/// `millrace lake list|describe|files|history|compact|import|delete|alter|rename|
/// expire-snapshots|remove-orphan-files|upgrade`: inspects and maintains lake tables (src/lake).
/// `import` loads a Parquet, NDJSON or CSV file through a LakeWriter, committing every
/// --commit-rows rows (the crash test drives it). Returns the exit code.
int run_lake(const LakeOptions& options);

}  // namespace millrace
