#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace millrace {

struct ServeOptions {
    std::string project_dir;
    std::string listen;               // host:port; overrides the project's listen.http when set
    std::string log_format = "json";  // json | text
    int threads = 0;                  // 0 = one per core
    std::size_t max_body_bytes = std::size_t{16} << 20;
    int64_t header_timeout_ms = 10'000;
    int64_t body_timeout_ms = 30'000;
    /// Streaming pipelines may drop saved state no current view can use (`pipeline plan`).
    bool allow_state_drop = false;
};

/// `millrace serve <project>`: opens the project's log, creates its declared topics, serves
/// HTTP (ingest, topics, /metrics, /healthz) on listen.http until SIGINT or SIGTERM, then stops
/// gracefully (no new requests, pending fsyncs done). With feature views it also opens the
/// online store and serves it (server/feature_handler.h, YAML routes, the `serving:` block:
/// limits, bearer-token auth for every route group, traffic capture; docs/serving.md).
int run_serve(const ServeOptions& options);

}  // namespace millrace
