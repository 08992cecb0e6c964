#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "net/http_url.h"
#include "replay/latency_histogram.h"
#include "replay/load_schedule.h"

namespace millrace {

/// One request to send. The engine reuses one instance: a generator overwrites every field it
/// uses (call clear() first when in doubt) and the engine serializes it at send time.
struct HttpRequestSpec {
    std::string method = "GET";
    std::string target;  // origin form: "/path?query" (the URL's path prefix goes in front)
    std::vector<std::pair<std::string, std::string>> headers;  // besides Host and Content-Length
    std::string body;
    int64_t recorded_offset_ns = 0;  // LoadSchedule::kRecordedOffsets: offset from the first

    void clear();
};

/// How a request ended.
enum class RequestOutcome {
    kResponse,    // a complete response (any status)
    kTimeout,     // no complete response within the request timeout
    kIoError,     // the connection failed or closed mid-response
    kParseError,  // the response was not valid HTTP/1.1
    kUnsent,      // the run ended before a connection was free to send it
};

/// Passed to the response callback, valid only during the call.
struct RequestResult {
    uint64_t index = 0;
    RequestOutcome outcome = RequestOutcome::kResponse;
    int status = 0;          // kResponse only
    std::string_view body;   // kResponse with LoadOptions::keep_bodies
    int64_t latency_ns = 0;  // kResponse: from the intended send time (open loop)
    std::string_view error;  // a reason when not kResponse
};

/// Fills `request` with request number `index` (0, 1, 2, ...); false when there are no more.
using RequestGenerator = std::function<bool(uint64_t index, HttpRequestSpec& request)>;
using ResponseCallback = std::function<void(const RequestResult& result)>;

struct LoadOptions {
    HttpUrl target;
    LoadSchedule schedule = LoadSchedule::fixed_rate(1000);
    int connections = 32;
    /// Requests due at or after start + duration are not sent (none: until the generator ends).
    std::optional<std::chrono::nanoseconds> duration;
    uint64_t max_requests = UINT64_MAX;
    std::chrono::milliseconds request_timeout{5000};
    std::chrono::milliseconds connect_timeout{2000};
    /// Hand response bodies to the callback (otherwise they are counted and dropped).
    bool keep_bodies = false;
};

/// What a run measured. Latencies in nanoseconds, of complete responses of any status.
struct LoadReport {
    std::string target;
    std::string schedule;     // "fixed_rate", "as_fast_as_possible" or "recorded_offsets"
    double offered_rate = 0;  // fixed_rate: the rate; otherwise sent / sending time
    int connections = 0;
    uint64_t sent = 0;
    uint64_t completed = 0;  // complete responses
    std::map<int, uint64_t> by_status;
    uint64_t connect_errors = 0;  // failed connection attempts (initial and reconnects)
    uint64_t timeouts = 0;
    uint64_t io_errors = 0;
    uint64_t parse_errors = 0;
    uint64_t unsent = 0;         // due, but the run ended before a connection was free
    double elapsed_seconds = 0;  // start to the last completion, at least the duration
    double achieved_rate = 0;    // completed / elapsed_seconds
    std::string aborted;         // why the run stopped early ("" when it did not)
    std::string last_error;      // the last connection error's text, for messages
    LatencyHistogram latency;
    /// Open loop: how late each request went out (actual send - intended send). Large values
    /// mean every connection was busy (the server is slow) or this process did not get the CPU;
    /// the latencies include it either way.
    LatencyHistogram send_lag;

    uint64_t non_2xx() const;
    /// Requests that did not get a 2xx response.
    uint64_t failed() const;
    /// One JSON object (latencies in microseconds).
    std::string to_json() const;
    /// One human line: rates, counts and percentiles.
    std::string summary() const;
};

/// An open-loop HTTP/1.1 load generator on the calling thread (epoll, non-blocking sockets):
///
///   - opens `connections` keep-alive connections before the clock starts;
///   - request i is due at start + schedule.due_ns(i); when it is due it goes out on a free
///     connection, or waits for one (one outstanding request per connection, no pipelining);
///   - its latency runs from the due time to the last byte of the response, so waiting for a
///     connection counts (no coordinated omission);
///   - a failed connection is re-opened (after 100 ms when connecting fails); requests in flight
///     on it are counted as errors, never retried;
///   - the run ends when the generator, max_requests or duration says so and every request in
///     flight has finished or timed out; or, with nothing answered and no connection open for
///     request_timeout + connect_timeout, it gives up (LoadReport::aborted).
///
/// run() fails only when no connection can be opened at the start (or on a socket/epoll setup
/// failure). stop() may be called from any thread or a signal handler: the run then stops
/// sending and finishes what is in flight. One run at a time per engine.
class LoadEngine {
public:
    explicit LoadEngine(LoadOptions options);

    Result<LoadReport> run(const RequestGenerator& generator,
                           const ResponseCallback& on_result = {});
    void stop() { stop_.store(true, std::memory_order_relaxed); }

private:
    LoadOptions options_;
    std::atomic<bool> stop_{false};
};

}  // namespace millrace
