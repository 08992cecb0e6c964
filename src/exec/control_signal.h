#pragma once

#include <cstdint>

namespace millrace {

/// A signal that travels beside the Batches of a plan, in order with them (BatchSink::on_control).
///
///   kWatermark  every row still to come has an event time >= `watermark_micros`
///               (microseconds since the epoch); event-time windows and timers fire on it.
///   kBarrier    checkpoint `checkpoint_id`: every batch before it belongs to the checkpoint,
///               every batch after it to the next. An operator saves its state
///               (Operator::serialize_state) when the barrier has reached it on every input.
///   kPublish    no checkpoint: operators that hold back updates until a barrier (upserting
///               aggregates) send what changed so far, so a sink that shows rows as they are
///               written (the online store) shows them before the next checkpoint. It changes
///               no state that a checkpoint saves.
///   kEarlyFire  a processing-time tick of a sink's `emit: { every: ... }`: window operators
///               set to fire early emit the groups of their open windows that changed since
///               their last emission (updating results), then forward it. It says nothing about
///               the data, so it needs no alignment: a multi-input operator forwards it as it
///               arrives (twice when it arrives on two inputs; the second finds nothing new).
///
/// One-input operators forward all four unchanged. An operator with several inputs (join, union;
/// exec/input_aligner.h) forwards the minimum of its open inputs' watermarks (an input it has
/// not heard from holds it back) and a barrier once it has arrived on every open input, holding
/// back what arrives behind it on the inputs that delivered it first until then (an aligned
/// barrier), so that state saved at the barrier contains exactly the rows before it. A publish
/// is forwarded at once from each input that is not waiting behind a barrier (several inputs
/// forward it several times, which only finds less to send the second time).
struct ControlSignal {
    enum class Kind : uint8_t { kWatermark, kBarrier, kPublish, kEarlyFire };
    Kind kind = Kind::kWatermark;
    int64_t watermark_micros = 0;  // kWatermark
    uint64_t checkpoint_id = 0;    // kBarrier

    static ControlSignal watermark(int64_t micros) {
        return ControlSignal{Kind::kWatermark, micros, 0};
    }
    static ControlSignal barrier(uint64_t id) { return ControlSignal{Kind::kBarrier, 0, id}; }
    static ControlSignal publish() { return ControlSignal{Kind::kPublish, 0, 0}; }
    static ControlSignal early_fire() { return ControlSignal{Kind::kEarlyFire, 0, 0}; }
    bool operator==(const ControlSignal&) const = default;
};

}  // namespace millrace
