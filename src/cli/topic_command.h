#pragma once

#include <string>

namespace millrace {

struct TopicCommandOptions {
    std::string action;    // create, list, describe, produce, consume, delete
    std::string name;      // topic
    std::string data_dir;  // --data-dir
    std::string project;   // --project (its data_dir)
    int partitions = 1;
    std::string fsync = "interval";  // always, interval, never
    int64_t fsync_interval_ms = 50;
    std::string schema;
    std::string on_error = "reject";
    std::string key_field;    // produce: JSON field whose value is the key
    int partition = -1;       // consume: -1 = all
    int64_t offset = 0;       // consume: first offset
    int64_t max = -1;         // consume: at most this many records per partition (-1: all)
    std::string consumer;     // consume: commit/resume under this consumer name
    std::string input = "-";  // produce: NDJSON file or - for stdin
};

/// `millrace topic create|list|describe|produce|consume|delete`, working on a data directory
/// directly (not through a running server; do not run it against the data directory of a
/// running `millrace serve`). produce reads NDJSON (one record per line, stored as is) and
/// syncs before exiting; consume prints one record value per line.
int run_topic(const TopicCommandOptions& options);

}  // namespace millrace
