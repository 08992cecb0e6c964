#include "exec/watermark_tracker.h"

#include <algorithm>

namespace millrace {

namespace {

int64_t saturating_sub(int64_t a, int64_t b) {
    if (b > 0 && a < std::numeric_limits<int64_t>::min() + b)
        return std::numeric_limits<int64_t>::min();
    return a - b;
}

}  // namespace

WatermarkTracker::WatermarkTracker(std::size_t partitions, int64_t delay_micros,
                                   int64_t lateness_micros, int64_t idle_timeout_micros,
                                   int64_t now_micros)
    : partitions_(std::max<std::size_t>(partitions, 1)),
      holdback_(std::max<int64_t>(delay_micros, 0) + std::max<int64_t>(lateness_micros, 0)),
      idle_timeout_(idle_timeout_micros) {
    // A partition that has not delivered yet counts as active from the start, so it holds the
    // watermark back for one idle timeout before it is assumed to be empty.
    for (Partition& partition : partitions_) partition.last_activity = now_micros;
}

void WatermarkTracker::observe(std::size_t partition, int64_t event_micros, int64_t now_micros) {
    Partition& p = partitions_[std::min(partition, partitions_.size() - 1)];
    if (!p.max_event || event_micros > *p.max_event) p.max_event = event_micros;
    p.last_activity = now_micros;
}

bool WatermarkTracker::idle(const Partition& partition, int64_t now_micros) const {
    return idle_timeout_ > 0 && now_micros - partition.last_activity >= idle_timeout_;
}

std::size_t WatermarkTracker::idle_partitions(int64_t now_micros) const {
    return static_cast<std::size_t>(
        std::count_if(partitions_.begin(), partitions_.end(),
                      [&](const Partition& partition) { return idle(partition, now_micros); }));
}

std::optional<int64_t> WatermarkTracker::advance(int64_t now_micros) {
    if (watermark_ == kEndOfTime) return watermark_;
    std::optional<int64_t> candidate;
    bool held_back = false;
    for (const Partition& partition : partitions_) {
        if (idle(partition, now_micros)) continue;
        if (!partition.max_event) {
            held_back = true;  // active but silent so far: it may still deliver old records
            break;
        }
        candidate = std::min(candidate.value_or(*partition.max_event), *partition.max_event);
    }
    if (!held_back && !candidate) {
        // Every partition is idle, so none holds the watermark back: it goes as far as the
        // furthest partition allows. (Taking the slowest instead would make the result depend
        // on whether a poll happened in the moment between two partitions turning idle.)
        for (const Partition& partition : partitions_) {
            if (partition.max_event)
                candidate =
                    std::max(candidate.value_or(*partition.max_event), *partition.max_event);
        }
    }
    if (!held_back && candidate) advance_to(saturating_sub(*candidate, holdback_));
    return watermark_;
}

WatermarkTracker::State WatermarkTracker::state() const {
    State state;
    state.watermark = watermark_;
    for (const Partition& partition : partitions_) state.max_events.push_back(partition.max_event);
    return state;
}

void WatermarkTracker::restore(const State& state, int64_t now_micros) {
    watermark_ = state.watermark;
    for (std::size_t p = 0; p < partitions_.size(); ++p) {
        partitions_[p].max_event =
            p < state.max_events.size() ? state.max_events[p] : std::optional<int64_t>();
        partitions_[p].last_activity = now_micros;
    }
}

void WatermarkTracker::advance_to(int64_t micros) {
    if (!watermark_ || micros > *watermark_) watermark_ = micros;
}

}  // namespace millrace
