#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace millrace {

/// The event-time watermark of one streaming source (docs/architecture.md §5): per partition the
/// greatest event time seen minus `delay` and `allowed_lateness`; the source's watermark is the
/// minimum over its partitions, except that a partition which delivered nothing for
/// `idle_timeout` stops holding it back (until it delivers again; when every partition is idle,
/// the furthest one sets it). A record whose event time is
/// below the watermark is late: every window it could belong to may already have been emitted.
///
/// The watermark never moves back, whatever partitions do (an idle partition waking up with
/// older data makes its records late instead). Before any partition has delivered a record the
/// watermark is unknown (nullopt). finish() moves it to the end of time (the source has ended or
/// the run stops): every window closes.
///
/// Times are microseconds; `now` is the caller's processing-time clock, passed in so that tests
/// drive it. Single-threaded.
class WatermarkTracker {
public:
    static constexpr int64_t kEndOfTime = std::numeric_limits<int64_t>::max();

    WatermarkTracker(std::size_t partitions, int64_t delay_micros, int64_t lateness_micros,
                     int64_t idle_timeout_micros, int64_t now_micros);

    /// True when `event_micros` is late against the watermark as it stands (the record goes to
    /// the dead letters and is not observed).
    bool is_late(int64_t event_micros) const {
        return watermark_.has_value() && event_micros < *watermark_;
    }
    /// A record of `partition` with event time `event_micros` arrived at `now_micros`.
    void observe(std::size_t partition, int64_t event_micros, int64_t now_micros);
    /// Recomputes the watermark at `now_micros` (idle partitions drop out); returns it.
    std::optional<int64_t> advance(int64_t now_micros);
    /// Sets the watermark to `micros` when that is later (processing time: the source's
    /// watermark is the clock).
    void advance_to(int64_t micros);
    /// The end of input: the watermark becomes kEndOfTime.
    void finish() { watermark_ = kEndOfTime; }

    std::optional<int64_t> watermark() const { return watermark_; }
    /// Partitions that stop holding the watermark back at `now_micros`.
    std::size_t idle_partitions(int64_t now_micros) const;

    /// What a checkpoint saves: the watermark and each partition's greatest event time.
    /// Activity times are processing time and are not saved: a restore counts every
    /// partition as active from `now_micros`, as a new tracker does.
    struct State {
        std::optional<int64_t> watermark;
        std::vector<std::optional<int64_t>> max_events;  // per partition
    };
    State state() const;
    /// Replaces the tracker's state with a saved one (partitions beyond the saved ones start
    /// empty; saved ones beyond this tracker's are dropped).
    void restore(const State& state, int64_t now_micros);

private:
    struct Partition {
        std::optional<int64_t> max_event;
        int64_t last_activity = 0;
    };
    bool idle(const Partition& partition, int64_t now_micros) const;

    std::vector<Partition> partitions_;
    int64_t holdback_ = 0;  // delay + allowed lateness
    int64_t idle_timeout_ = 0;
    std::optional<int64_t> watermark_;
};

}  // namespace millrace
