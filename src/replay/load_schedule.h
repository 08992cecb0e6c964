#pragma once

#include <cstdint>
#include <optional>

namespace millrace {

/// When request i of a load run is due, in nanoseconds after the run's start.
///
///   fixed rate R:        due(i) = floor(i * 1e9 / R)        (open loop: independent of replies)
///   as fast as possible: due(i) = 0 for every i             (closed loop over the connections)
///   recorded offsets:    due(i) = offset_i / speedup        (the generator supplies offset_i)
///
/// An open-loop run measures request i's latency from start + due(i), its intended send time:
/// when every connection is busy the request waits and the wait counts. "As fast as possible"
/// has no intended time, so its latencies are measured from the actual send. Value type.
class LoadSchedule {
public:
    enum class Kind { kFixedRate, kAsFastAsPossible, kRecordedOffsets };

    /// rate_per_second > 0.
    static LoadSchedule fixed_rate(double rate_per_second);
    static LoadSchedule as_fast_as_possible();
    /// speedup > 0: 2 replays twice as fast as recorded.
    static LoadSchedule recorded_offsets(double speedup);

    Kind kind() const { return kind_; }
    double rate() const { return rate_; }
    bool open_loop() const { return kind_ != Kind::kAsFastAsPossible; }

    /// Nanoseconds after the start when request `index` is due; `recorded_offset_ns` is used by
    /// kRecordedOffsets only (the request's offset from the first recorded request).
    int64_t due_ns(uint64_t index, int64_t recorded_offset_ns = 0) const;

    /// How many requests are due at or before `elapsed_ns` (kFixedRate only): the first index
    /// whose due time is after elapsed_ns.
    uint64_t due_count(int64_t elapsed_ns) const;

private:
    LoadSchedule(Kind kind, double rate, double speedup)
        : kind_(kind), rate_(rate), speedup_(speedup) {}

    Kind kind_;
    double rate_ = 0;
    double speedup_ = 1;
};

}  // namespace millrace
