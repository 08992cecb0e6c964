#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace millrace {

struct ReplayCommandOptions {
    std::string from;    // --from http://prod:8080
    std::string topic;   // --topic
    std::string target;  // --target http://staging:8080
    double rate = 0;     // --rate, 0 = as fast as the connections allow
    double speedup = 0;  // --speedup, 0 = unset
    int64_t limit = -1;  // --limit, -1 = all
    int partition = -1;  // --partition, -1 = all
    bool compare = false;
    bool fail_on_mismatch = false;
    bool json = false;
    int connections = 8;
    int64_t timeout_ms = 5000;
    std::vector<std::string> headers;         // --header, on replayed requests
    std::vector<std::string> source_headers;  // --from-header, on topic reads
    std::vector<std::string> ignored_fields;  // --ignore-field, with --compare
};

/// `millrace replay`: replays captured requests from a topic of one instance against another and
/// reports latency percentiles and response mismatches. Exit code 0; 2 when there were mismatches
/// and --fail-on-mismatch was given; 1 when the replay could not run.
int run_replay(const ReplayCommandOptions& options);

}  // namespace millrace
