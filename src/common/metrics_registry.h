#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace millrace {

/// A count that only goes up (records, bytes, errors). Lock-free; safe from any thread.
class Counter {
public:
    void increment(uint64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
    uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> value_{0};
};

/// A value that goes up and down (queue depth, lag, watermark). Lock-free; safe from any thread.
class Gauge {
public:
    void set(double value) { value_.store(value, std::memory_order_relaxed); }
    void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

/// Counts observations into fixed buckets (latencies, sizes) and keeps their sum.
/// Bucket i counts observations v with bounds[i-1] < v <= bounds[i]; one more bucket counts
/// the rest (+Inf, also NaN). observe() is lock-free and safe from any thread; readers may see
/// an observation in its bucket before it shows in sum().
class Histogram {
public:
    /// `bounds` must be finite and strictly increasing (checked: a programming error otherwise).
    explicit Histogram(std::vector<double> bounds);

    void observe(double value);

    const std::vector<double>& bounds() const { return bounds_; }
    /// Observations in bucket `index` alone (not cumulative); index bounds().size() is +Inf.
    uint64_t bucket_count(std::size_t index) const;
    /// Total observations: the sum of all buckets.
    uint64_t count() const;
    double sum() const { return sum_.load(std::memory_order_relaxed); }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
    std::atomic<double> sum_{0.0};
};

/// `start, start*factor, ...`: `count` bucket bounds growing geometrically (start > 0,
/// factor > 1, count >= 1; checked).
std::vector<double> exponential_buckets(double start, double factor, int count);

enum class MetricKind { kCounter, kGauge, kHistogram };

/// "counter", "gauge", "histogram": the `# TYPE` of a family.
std::string_view metric_kind_name(MetricKind kind);

/// One label of a metric: {"pipeline", "order_metrics"}.
struct MetricLabel {
    std::string name;
    std::string value;
};
using MetricLabels = std::vector<MetricLabel>;

/// Every metric of the process, rendered for Prometheus at /metrics (docs/architecture.md §8).
///
/// Metrics are grouped in families: a name, help text, a kind and a fixed set of label names;
/// each distinct set of label values is one metric of the family. Asking for a metric returns a
/// reference that stays valid for the registry's lifetime, so hot paths look it up once, keep
/// it, and update it without locks or lookups:
///
///   Counter& records_in = registry.counter("millrace_records_in_total", "Records read.",
///                                          {{"pipeline", "p1"}, {"source", "orders"}});
///   records_in.increment(batch.num_rows());
///
/// Asking again with the same name and label values returns the same metric; label order does
/// not matter. Reusing a name with another kind, other label names or (for histograms) other
/// bounds is a programming error and fails a MILLRACE_CHECK, as do invalid metric or label
/// names. Label values are free text (they are escaped when rendered). The first help text
/// given for a family wins.
///
/// Thread safety: creating metrics and rendering take a mutex; updating a metric is lock-free.
class MetricsRegistry {
public:
    MetricsRegistry();
    ~MetricsRegistry();
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    Counter& counter(std::string_view name, std::string_view help, const MetricLabels& labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, const MetricLabels& labels = {});
    Histogram& histogram(std::string_view name, std::string_view help, const MetricLabels& labels,
                         std::vector<double> bounds);

    /// The Prometheus text exposition format, version 0.0.4: for each family, sorted by name,
    /// `# HELP` and `# TYPE` lines, then one sample line per metric sorted by label values
    /// (histograms: cumulative `_bucket{le="..."}` lines ending with `+Inf`, then `_sum` and
    /// `_count`).
    std::string render_prometheus() const;

private:
    struct Metric;
    struct Family;

    Metric& find_or_create(MetricKind kind, std::string_view name, std::string_view help,
                           const MetricLabels& labels, std::vector<double> bounds);

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

}  // namespace millrace
