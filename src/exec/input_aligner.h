#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "exec/control_signal.h"
#include "types/batch.h"

namespace millrace {

/// One thing that arrives at an input of a multi-input operator: a batch, a control signal, or
/// (neither) the end of that input.
struct PortInput {
    std::optional<Batch> batch;
    std::optional<ControlSignal> signal;

    static PortInput of(Batch batch) { return PortInput{std::move(batch), std::nullopt}; }
    static PortInput of(const ControlSignal& signal) { return PortInput{std::nullopt, signal}; }
    static PortInput end() { return PortInput{}; }
};

/// Merges the control signals of an operator's inputs (ports) into one stream, as
/// control_signal.h describes: a watermark goes out as the minimum over the open inputs once each
/// has sent one (a finished input holds nothing back); a checkpoint barrier goes out once it has
/// arrived on every open input, and whatever arrives on an input behind its barrier (batches,
/// signals, its end) waits until then and is delivered afterwards in arrival order. A publish or
/// early-fire tick orders nothing and goes out as it arrives (held only behind a barrier). Batches
/// and ends of input go to `deliver`, signals out to `forward`. Used by HashJoinOperator and
/// UnionOperator; single-threaded like them.
class InputAligner {
public:
    using Deliver = std::function<Status(std::size_t port, PortInput input)>;
    using Forward = std::function<Status(const ControlSignal& signal)>;

    /// `owner` names the operator in errors ("the join in `v`").
    InputAligner(std::size_t ports, Deliver deliver, Forward forward, std::string owner);

    Status arrive(std::size_t port, PortInput input);
    /// Marks `port` as finished without delivering anything (a restored operator whose input
    /// had ended before the checkpoint).
    void set_finished(std::size_t port) { ports_[port].finished = true; }

private:
    struct Port {
        bool finished = false;
        std::optional<int64_t> watermark;
        std::optional<uint64_t> barrier;  // arrived, waiting for the other inputs
        std::vector<PortInput> held;      // arrived behind `barrier`
    };
    Status try_align();
    Status forward_watermark();

    std::vector<Port> ports_;
    Deliver deliver_;
    Forward forward_;
    std::string owner_;
    std::optional<int64_t> forwarded_watermark_;
};

}  // namespace millrace
