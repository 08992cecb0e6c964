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

}  // namespace millrace
