#include "exec/input_aligner.h"

#include <fmt/format.h>

namespace millrace {

InputAligner::InputAligner(std::size_t ports, Deliver deliver, Forward forward, std::string owner)
    : ports_(ports),
      deliver_(std::move(deliver)),
      forward_(std::move(forward)),
      owner_(std::move(owner)) {}

Status InputAligner::arrive(std::size_t port, PortInput input) {
    Port& p = ports_[port];
    // Behind a barrier that waits for the other inputs: it belongs to the next checkpoint.
    if (p.barrier) {
        p.held.push_back(std::move(input));
        return {};
    }
    if (input.batch) return deliver_(port, std::move(input));
    if (!input.signal) {
        p.finished = true;
        MILLRACE_TRY(deliver_(port, std::move(input)));
        // A finished input sends no more barriers: one waiting on the others may be complete.
        MILLRACE_TRY(try_align());
        return forward_watermark();
    }
    const ControlSignal signal = *input.signal;
    if (signal.kind == ControlSignal::Kind::kWatermark) {
        if (!p.watermark || signal.watermark_micros > *p.watermark)
            p.watermark = signal.watermark_micros;
        return forward_watermark();
    }
    // Processing-time ticks order nothing: out at once (exec/control_signal.h).
    if (signal.kind == ControlSignal::Kind::kPublish ||
        signal.kind == ControlSignal::Kind::kEarlyFire)
        return forward_(signal);
    for (const Port& other : ports_) {
        if (other.barrier && *other.barrier != signal.checkpoint_id) {
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("{} got checkpoint barrier {} on one input while barrier {} "
                                     "waits on another",
                                     owner_, signal.checkpoint_id, *other.barrier));
        }
    }
    p.barrier = signal.checkpoint_id;
    return try_align();
}

Status InputAligner::try_align() {
    std::optional<uint64_t> id;
    for (const Port& p : ports_) {
        if (p.barrier) {
            id = p.barrier;
        } else if (!p.finished) {
            return {};  // an open input has not delivered it yet
        }
    }
    if (!id) return {};
    for (Port& p : ports_) p.barrier.reset();
    MILLRACE_TRY(forward_(ControlSignal::barrier(*id)));
    // What waited behind the barrier, input by input in arrival order (input 0 first: a join's
    // build side, whose rows the probe rows may need).
    for (std::size_t port = 0; port < ports_.size(); ++port) {
        std::vector<PortInput> held = std::move(ports_[port].held);
        ports_[port].held.clear();
        for (std::size_t i = 0; i < held.size(); ++i) {
            if (ports_[port].barrier) {
                // The next barrier among the held input: the rest waits again, in order.
                for (std::size_t j = i; j < held.size(); ++j)
                    ports_[port].held.push_back(std::move(held[j]));
                break;
            }
            MILLRACE_TRY(arrive(port, std::move(held[i])));
        }
    }
    return {};
}

Status InputAligner::forward_watermark() {
    std::optional<int64_t> low;
    for (const Port& p : ports_) {
        if (p.finished) continue;
        if (!p.watermark) return {};
        if (!low || *p.watermark < *low) low = p.watermark;
    }
    if (!low || (forwarded_watermark_ && *low <= *forwarded_watermark_)) return {};
    forwarded_watermark_ = low;
    return forward_(ControlSignal::watermark(*low));
}

}  // namespace millrace
