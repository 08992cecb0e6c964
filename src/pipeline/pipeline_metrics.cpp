#include "pipeline/pipeline_metrics.h"

#include <algorithm>

#include "common/metrics_registry.h"

namespace millrace {

namespace {

constexpr const char* kOutcomes[5] = {"in", "out", "filtered", "dead_lettered", "late"};
constexpr std::string_view kRecordsHelp =
    "Records of a pipeline's source by outcome: in = out + filtered + dead_lettered + late.";

}  // namespace

void PipelineMetrics::update(const RunReport& report) {
    for (const SourceReport& source : report.sources) {
        auto [it, added] = sources_.try_emplace(source.name);
        Source& metrics = it->second;
        if (added) {
            for (int i = 0; i < 5; ++i) {
                metrics.counters[i] = &registry_.counter(
                    "millrace_pipeline_records_total", kRecordsHelp,
                    {{"pipeline", pipeline_}, {"source", source.name}, {"outcome", kOutcomes[i]}});
            }
            metrics.rate = &registry_.gauge(
                "millrace_pipeline_dead_letter_rate",
                "Fraction of a source's records dead-lettered in the pipeline's current or last "
                "run.",
                {{"pipeline", pipeline_}, {"source", source.name}});
        }
        const uint64_t now[5] = {source.records_in(), source.records_out(),
                                 source.records_filtered(), source.records_dead_lettered(),
                                 source.records_late()};
        for (int i = 0; i < 5; ++i) {
            if (now[i] > metrics.seen[i]) metrics.counters[i]->increment(now[i] - metrics.seen[i]);
            metrics.seen[i] = std::max(metrics.seen[i], now[i]);
        }
        if (now[0] > 0) {
            metrics.rate->set(static_cast<double>(now[3]) / static_cast<double>(now[0]));
        }
    }
}

void PipelineMetrics::update_state(std::size_t bytes, std::size_t keys, std::size_t limit) {
    if (state_[0] == nullptr) {
        state_[0] = &registry_.gauge(
            "millrace_pipeline_state_bytes",
            "Bytes of operator state (open windows, aggregate groups, join build sides) a "
            "streaming pipeline's run holds.",
            {{"pipeline", pipeline_}});
        state_[1] = &registry_.gauge(
            "millrace_pipeline_state_keys",
            "Keys in a streaming pipeline's operator state (aggregate groups, counted once per "
            "open window; open sessions).",
            {{"pipeline", pipeline_}});
        state_[2] = &registry_.gauge(
            "millrace_pipeline_state_limit_bytes",
            "The state limit of a streaming pipeline's run (state_limit, else --memory-limit).",
            {{"pipeline", pipeline_}});
    }
    state_[0]->set(static_cast<double>(bytes));
    state_[1]->set(static_cast<double>(keys));
    state_[2]->set(static_cast<double>(limit));
}

}  // namespace millrace
