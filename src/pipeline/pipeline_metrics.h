#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "pipeline/batch_runner.h"

namespace millrace {

class Counter;
class Gauge;
class MetricsRegistry;

/// The record accounting of a pipeline's runs as metrics, per source:
///
///   millrace_pipeline_records_total{pipeline,source,outcome="in|out|filtered|dead_lettered|late"}
///   millrace_pipeline_dead_letter_rate{pipeline,source}   dead_lettered / in of the current run
///   millrace_pipeline_state_bytes{pipeline}         operator state held now (update_state)
///   millrace_pipeline_state_keys{pipeline}          keys in it (groups per open window)
///   millrace_pipeline_state_limit_bytes{pipeline}   the run's state limit
///   millrace_pipeline_bytes_total{pipeline,source}  bytes its sources read
///   millrace_pipeline_watermark_lag_seconds{pipeline}       the clock minus the watermark
///   millrace_pipeline_checkpoints_total{pipeline}           checkpoints completed
///   millrace_pipeline_checkpoint_duration_seconds{pipeline} the last one, barrier to commit
///   millrace_pipeline_checkpoint_state_bytes{pipeline}      operator state it wrote
///
/// so that, for every source, in = out + filtered + dead_lettered + late (SourceReport). update()
/// takes a report whose counts only grow (a streaming run's, after each commit, or a finished
/// run's) and adds what grew since the previous call; a new run starts a new PipelineMetrics.
/// Not thread-safe: one runner calls it (the registry's metrics are).
class PipelineMetrics {
public:
    PipelineMetrics(MetricsRegistry& registry, std::string pipeline)
        : registry_(registry), pipeline_(std::move(pipeline)) {}

    void update(const RunReport& report);
    /// The operator state a streaming run holds now, and its limit.
    void update_state(std::size_t bytes, std::size_t keys, std::size_t limit);
    /// The streaming run's watermark (the minimum over its sources) against its clock.
    void update_watermark(int64_t watermark_micros, int64_t now_micros);
    /// A checkpoint completed: how long it took, how long the run stopped reading for it, and
    /// the operator state it wrote.
    void update_checkpoint(int64_t duration_micros, int64_t pause_micros, uint64_t state_bytes);

private:
    struct Source {
        Counter* counters[5] = {};
        uint64_t seen[5] = {};
        Gauge* rate = nullptr;
        Counter* bytes = nullptr;
        uint64_t bytes_seen = 0;
    };
    MetricsRegistry& registry_;
    std::string pipeline_;
    std::map<std::string, Source> sources_;
    Gauge* state_[3] = {};  // bytes, keys, limit
    Gauge* watermark_lag_ = nullptr;
    Counter* checkpoints_ = nullptr;
    Gauge* checkpoint_[3] = {};  // duration, state bytes, pause
};

}  // namespace millrace
