#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "lineage/lineage_outbox.h"

namespace millrace {

class Counter;
class Gauge;
class Logger;
class MetricsRegistry;

/// Delivers a project's lineage outbox in the background of a long-running process
/// (`millrace serve`): a pass every `interval`, and after a failed pass waits that double each
/// time (1 s, 2 s, 4 s, ... up to `max_backoff`) so a collector that is down is neither
/// hammered nor given up on. Events recorded by any process (runs started by the scheduler
/// included) are picked up from the outbox. Without a url it only keeps the outbox-depth gauge.
///
/// Metrics: millrace_lineage_outbox_events (gauge), millrace_lineage_events_delivered_total,
/// millrace_lineage_events_rejected_total, millrace_lineage_delivery_failures_total.
///
/// Threads: one worker thread; wake() and stop() from any thread; stop() (or the destructor)
/// ends a pass in progress after its current event.
class LineageDeliverer {
public:
    LineageDeliverer(std::string data_dir, std::string url, MetricsRegistry& metrics,
                     const Logger& logger,
                     std::chrono::milliseconds interval = std::chrono::seconds(1),
                     std::chrono::milliseconds max_backoff = std::chrono::seconds(60));
    ~LineageDeliverer();
    LineageDeliverer(const LineageDeliverer&) = delete;
    LineageDeliverer& operator=(const LineageDeliverer&) = delete;

    void start();
    /// Runs a pass now (an event was just recorded).
    void wake();
    void stop();

private:
    void loop();

    LineageOutbox outbox_;
    std::string url_;
    const Logger& logger_;
    std::chrono::milliseconds interval_;
    std::chrono::milliseconds max_backoff_;
    Gauge& depth_;
    Counter& delivered_;
    Counter& rejected_;
    Counter& failures_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool woken_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace millrace
