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
            metrics.bytes = &registry_.counter("millrace_pipeline_bytes_total",
                                               "Bytes a pipeline's source read (files, records).",
                                               {{"pipeline", pipeline_}, {"source", source.name}});
        }
        if (source.bytes > metrics.bytes_seen) {
            metrics.bytes->increment(source.bytes - metrics.bytes_seen);
            metrics.bytes_seen = source.bytes;
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

void PipelineMetrics::update_watermark(int64_t watermark_micros, int64_t now_micros) {
    if (watermark_lag_ == nullptr) {
        watermark_lag_ = &registry_.gauge(
            "millrace_pipeline_watermark_lag_seconds",
            "How far a streaming pipeline's watermark (the minimum over its sources) is behind "
            "its clock, seconds.",
            {{"pipeline", pipeline_}});
    }
    watermark_lag_->set(static_cast<double>(now_micros - watermark_micros) / 1e6);
}

void PipelineMetrics::update_checkpoint(int64_t duration_micros, int64_t pause_micros,
                                        uint64_t state_bytes) {
    if (checkpoints_ == nullptr) {
        checkpoints_ = &registry_.counter("millrace_pipeline_checkpoints_total",
                                          "Checkpoints a streaming pipeline completed.",
                                          {{"pipeline", pipeline_}});
        checkpoint_[0] = &registry_.gauge(
            "millrace_pipeline_checkpoint_duration_seconds",
            "The last checkpoint of a streaming pipeline, from its barrier to its commit, "
            "seconds.",
            {{"pipeline", pipeline_}});
        checkpoint_[1] = &registry_.gauge(
            "millrace_pipeline_checkpoint_state_bytes",
            "Bytes of operator state the last checkpoint of a streaming pipeline wrote (key "
            "groups that did not change are linked, not written).",
            {{"pipeline", pipeline_}});
        checkpoint_[2] = &registry_.gauge(
            "millrace_pipeline_checkpoint_pause_seconds",
            "How long a streaming pipeline stopped reading for its last checkpoint (the rest "
            "of it is written on a thread of its own while the pipeline reads on), seconds.",
            {{"pipeline", pipeline_}});
    }
    checkpoints_->increment(1);
    checkpoint_[0]->set(static_cast<double>(duration_micros) / 1e6);
    checkpoint_[1]->set(static_cast<double>(state_bytes));
    checkpoint_[2]->set(static_cast<double>(pause_micros) / 1e6);
}

}  // namespace millrace
