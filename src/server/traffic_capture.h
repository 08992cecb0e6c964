#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/metrics_registry.h"
#include "common/write_health.h"
#include "log/fwd.h"

namespace millrace {

/// Records sampled serving requests into a log topic (traffic replay: real request
/// parameters kept to be replayed against staging or a load test by `millrace replay`). One
/// JSON object per request, in this exact shape (the replay tool reads it):
///
///   {"ts_us": 1700000000000000, "method": "GET", "target": "/feature/user?uid=12",
///    "body": "", "status": 200, "response": "{...}", "latency_us": 180}
///
/// The serving thread only formats the record and pushes it on a bounded in-memory queue
/// (one short critical section); a background thread appends what has queued up in one append
/// every few milliseconds and never waits for durability. When the queue is full, records are
/// dropped and counted (millrace_capture_records_total{outcome="dropped"}): capture must never
/// slow serving down.
///
/// Lifecycle: start the thread in the constructor; stop() appends what is queued and joins
/// (idempotent; the destructor calls it). Threads: record() from any thread.
class TrafficCapture {
public:
    /// `sample` in [0, 1]: the fraction of requests recorded. Failed appends are reported to
    /// `health` (the log's, for /readyz; may be null), which must outlive the object.
    TrafficCapture(std::shared_ptr<Topic> topic, double sample, MetricsRegistry& metrics,
                   std::size_t max_queued = 10'000, WriteHealth* health = nullptr);
    ~TrafficCapture();
    TrafficCapture(const TrafficCapture&) = delete;
    TrafficCapture& operator=(const TrafficCapture&) = delete;

    /// True for the fraction `sample` of calls (a per-thread generator; no shared state).
    bool sampled() const;

    void record(int64_t ts_us, std::string_view method, std::string_view target,
                std::string_view body, int status, std::string_view response, int64_t latency_us);

    void stop();

private:
    void run();

    std::shared_ptr<Topic> topic_;
    double sample_;
    std::size_t max_queued_;
    Counter& captured_;
    Counter& dropped_;
    Counter& failed_;
    WriteHealth* health_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<std::string> queue_;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace millrace
