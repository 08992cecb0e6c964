#pragma once

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

private:
    struct Source {
        Counter* counters[5] = {};
        uint64_t seen[5] = {};
        Gauge* rate = nullptr;
    };
    MetricsRegistry& registry_;
    std::string pipeline_;
    std::map<std::string, Source> sources_;
    Gauge* state_[3] = {};  // bytes, keys, limit
};

}  // namespace millrace
