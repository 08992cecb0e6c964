#include "cli/replay_command.h"

#include <cstdio>

#include "replay/traffic_replayer.h"

namespace millrace {

int run_replay(const ReplayCommandOptions& options) {
    ReplayOptions replay;
    replay.from = options.from;
    replay.topic = options.topic;
    replay.target = options.target;
    replay.rate = options.rate;
    if (options.speedup != 0) replay.speedup = options.speedup;
    if (options.limit >= 0) replay.limit = static_cast<uint64_t>(options.limit);
    replay.partition = options.partition;
    replay.compare_bodies = options.compare;
    replay.ignored_fields = options.ignored_fields;
    replay.connections = options.connections;
    replay.headers = options.headers;
    replay.source_headers = options.source_headers;
    if (options.timeout_ms <= 0) {
        std::fprintf(stderr, "millrace replay: --timeout-ms must be positive\n");
        return 1;
    }
    replay.timeout = std::chrono::milliseconds(options.timeout_ms);
    auto report = TrafficReplayer(replay).run();
    if (!report.ok()) {
        std::fprintf(stderr, "millrace replay: %s\n", report.error().message().c_str());
        return 1;
    }
    std::fputs(report->to_text().c_str(), stdout);
    if (options.json) std::printf("%s\n", report->to_json().c_str());
    std::fflush(stdout);
    return options.fail_on_mismatch && report->mismatches() > 0 ? 2 : 0;
}

}  // namespace millrace
