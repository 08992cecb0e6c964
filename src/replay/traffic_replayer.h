#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "replay/captured_request.h"
#include "replay/load_engine.h"

namespace millrace {

struct ReplayOptions {
    std::string from;               // source instance, http://host:port
    std::string topic;              // captured requests (CapturedRequest records)
    std::string target;             // instance to replay against
    double rate = 0;                // requests/s, open loop; 0 = as fast as the connections allow
    std::optional<double> speedup;  // instead of rate: the recorded spacing divided by this
    uint64_t limit = UINT64_MAX;    // replay at most this many (the earliest by ts_us)
    int partition = -1;             // -1: every partition
    bool compare_bodies = false;    // a different body is a mismatch too
    /// With compare_bodies: JSON fields left out of the comparison, bare keys (any depth) or
    /// dotted paths from the top (body_comparator.h), e.g. `event_timestamp`.
    std::vector<std::string> ignored_fields;
    int connections = 8;
    std::chrono::milliseconds timeout{5000};
    std::size_t examples = 5;  // mismatches and malformed records shown in full
    /// "Name: value" headers added to every replayed request (e.g. the target's bearer token;
    /// captured records carry no headers) and to the reads of the source's topic API.
    std::vector<std::string> headers;
    std::vector<std::string> source_headers;
};

/// A request whose replayed response differs from the recorded one.
struct ReplayMismatch {
    int partition = 0;
    int64_t offset = 0;
    std::string method;
    std::string target;
    int expected_status = 0;
    int got_status = 0;         // 0: no response (error says why)
    std::string expected_body;  // truncated
    std::string got_body;       // truncated
    std::string error;
    int64_t first_difference = -1;  // byte offset where the bodies first differ
};

struct ReplayReport {
    std::string from;
    std::string topic;
    uint64_t records_read = 0;
    uint64_t malformed = 0;
    std::vector<std::string> malformed_examples;  // "partition P offset O: reason"
    LoadReport load;
    uint64_t matched = 0;
    uint64_t status_mismatches = 0;  // no response counts here too
    uint64_t body_mismatches = 0;    // with compare_bodies, status equal, body not
    std::vector<ReplayMismatch> examples;

    uint64_t mismatches() const { return status_mismatches + body_mismatches; }
    /// Human report: counts, statuses, latency percentiles, the first mismatches.
    std::string to_text() const;
    std::string to_json() const;
};

/// `millrace replay`: reads captured requests from a source instance's topic API (every partition
/// or one, oldest first, merged by ts_us), then replays them open loop against a target with a
/// LoadEngine and compares each response with the recorded one. Every replayed request carries
/// `X-Millrace-Replay: 1`, so a target that captures traffic can tell replayed requests apart.
/// All captured records are read before the replay starts (memory: --limit bounds it).
class TrafficReplayer {
public:
    explicit TrafficReplayer(ReplayOptions options) : options_(std::move(options)) {}

    /// kInvalidArgument for bad options/URLs, kNotFound for an unknown topic, kIo when the
    /// source or the target cannot be reached; malformed records are counted, not errors.
    Result<ReplayReport> run();

    /// Splits "Name: value"; kInvalidArgument when there is no name or it has CR/LF.
    static Result<std::pair<std::string, std::string>> parse_header(std::string_view header);

private:
    /// A well-formed captured request and where it was read.
    struct Replayable {
        int partition = 0;
        int64_t offset = 0;
        CapturedRequest request;
    };

    Result<std::vector<Replayable>> fetch(ReplayReport& report);

    ReplayOptions options_;
};

}  // namespace millrace
