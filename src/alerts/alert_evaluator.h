#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/durable_outbox.h"
#include "project/project.h"

namespace millrace {

class Clock;
class Gauge;
class Logger;
class MetricsRegistry;

/// One sample of the Prometheus text a MetricsRegistry renders.
struct MetricSample {
    std::string name;  // with its _bucket/_sum/_count suffix for histograms
    std::map<std::string, std::string> labels;
    double value = 0;
};

/// Parses the text format MetricsRegistry::render_prometheus writes (comments skipped).
std::vector<MetricSample> parse_metric_samples(const std::string& text);

/// Evaluates a project's `alerts:` rules (docs/alerts.md) against the metrics of this process
/// every evaluation_interval and notifies the webhook of each change of state:
///
///   inactive --condition holds--> pending --held `for`--> firing --no longer holds--> resolved
///
/// A notification is sent once per firing and once per resolution (deduplicated by rule name),
/// as JSON: {"alert", "status": "firing" | "resolved", "severity", "description", "value",
/// "labels", "project", "starts_at", "ends_at"}. Notifications go through a DurableOutbox in
/// `<data_dir>/alerts/` (nothing lost while the receiver is down; retried with backoff).
///
/// Exports millrace_alerts_firing{alert,severity} (gauge, 1 while firing) and
/// millrace_alert_outbox_messages (gauge).
///
/// Threads: evaluate() from one thread at a time; start() runs it on a thread of its own until
/// stop() (or the destructor).
class AlertEvaluator {
public:
    AlertEvaluator(const Project& project, MetricsRegistry& metrics, const Logger& logger,
                   const Clock& clock);
    ~AlertEvaluator();
    AlertEvaluator(const AlertEvaluator&) = delete;
    AlertEvaluator& operator=(const AlertEvaluator&) = delete;

    /// One evaluation of every rule at the clock's time; notifications are written to the
    /// outbox. Returns how many were written.
    std::size_t evaluate();
    /// One delivery pass of the outbox; "" or why it stopped.
    std::string deliver();

    void start();
    void stop();

private:
    struct RuleState {
        std::optional<int64_t> pending_since;
        bool firing = false;
        int64_t fired_at = 0;
        double value = 0;
        // kJobFailed: the counts seen so far.
        double failed_seen = 0;
        double success_seen = 0;
        bool failed_unresolved = false;
        bool primed = false;
    };

    /// Whether the condition holds now, and the value shown in notifications.
    std::pair<bool, double> condition(const AlertRuleSpec& rule, RuleState& state,
                                      const std::vector<MetricSample>& samples);
    void notify(const AlertRuleSpec& rule, const RuleState& state, bool firing, int64_t now);

    const Project& project_;
    MetricsRegistry& metrics_;
    const Logger& logger_;
    const Clock& clock_;
    DurableOutbox outbox_;
    Gauge& outbox_depth_;
    std::vector<RuleState> states_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace millrace
