#pragma once

#include <cstdint>
#include <string>

namespace millrace {

struct BenchNexmarkOptions {
    std::string query = "all";  // q0, q1, ... or all
    uint64_t events = 10'000'000;
    int parallelism = 1;              // written into the pipeline's `parallelism:`
    std::string checkpoint_interval;  // "1s": a checkpoint every second; "" = none mid-run
    std::string queries_dir = "bench/nexmark";
    std::string work_dir;  // where the generated projects go; "" = a temporary folder
    uint64_t seed = 42;
    std::string json_out;            // append one JSON line per query here; "" = none
    std::string sink = "blackhole";  // blackhole | csv (a CSV file per query)
};

/// `millrace bench nexmark`: runs Nexmark queries (one `<query>.sql` each in queries_dir, with
/// `-- relations:` and optionally `-- key:` header lines) as streaming pipelines over the nexmark
/// generator, unpaced, to the end of `events` events, and reports per query events/s, events/s
/// per core (CPU time and wall), and p99 end-to-end latency (docs/streaming.md, "Nexmark").
/// A query the runtime refuses is reported with its error; the others still run. Exit code 0
/// when every query that could be built ran, 1 on a setup error or a failed run.
int run_bench_nexmark(const BenchNexmarkOptions& options);

}  // namespace millrace
