#include "exec/window_aggregate_operator.h"

#include <limits>

#include "exec/operator_state.h"

namespace millrace {

/// Where every window's aggregate emits: straight to the operator's output. A window's finish()
/// is the end of that window only, not of the stream, so it is not passed on.
class WindowAggregateOperator::WindowOutput final : public BatchSink {
public:
    explicit WindowOutput(WindowAggregateOperator& owner) : owner_(owner) {}
    Status push(Batch batch) override { return owner_.emit(std::move(batch)); }
    Status finish() override { return {}; }

private:
    WindowAggregateOperator& owner_;
};

WindowAggregateOperator::WindowAggregateOperator(std::vector<sql::BoundExpr> keys,
                                                 std::vector<sql::AggregateCall> aggregates,
                                                 std::shared_ptr<const Schema> schema,
                                                 std::size_t window_end_key, ExecContext& context,
                                                 std::string origin)
    : keys_(std::move(keys)),
      aggregates_(std::move(aggregates)),
      schema_(std::move(schema)),
      end_column_(keys_.at(window_end_key).column),
      context_(context),
      origin_(std::move(origin)),
      window_output_(std::make_unique<WindowOutput>(*this)) {}

WindowAggregateOperator::~WindowAggregateOperator() = default;

HashAggregateOperator* WindowAggregateOperator::window_for(int64_t end) {
    auto it = windows_.find(end);
    if (it == windows_.end()) {
        auto window =
            std::make_unique<HashAggregateOperator>(keys_, aggregates_, schema_, context_, origin_);
        window->set_output(window_output_.get());
        window->set_tracks_changes(emit_early_);
        // Opened since the last save: the next changes hold all of its groups.
        if (tracking_saves_) window->mark_state_saved();
        it = windows_.emplace(end, std::move(window)).first;
    }
    return it->second.get();
}

Status WindowAggregateOperator::push(Batch batch) {
    const std::size_t rows = batch.num_rows();
    if (rows == 0) return {};
    const Column& ends = batch.column(end_column_);
    const auto values = ends.values<int64_t>();
    // Rows of one batch usually fall into one or two windows: group their indexes per window.
    std::map<int64_t, std::vector<uint32_t>> by_window;
    for (std::size_t row = 0; row < rows; ++row) {
        if (ends.is_null(row)) {
            MILLRACE_TRY(context_.row_error(DeadLetterRow{
                origin_, "the window's time column is null, so the row is in no window",
                row_to_json(batch, row)}));
            continue;
        }
        const int64_t end = values[row];
        if (watermark_ && end <= *watermark_) {
            // Its window was emitted already: the same reason as a record the source found late.
            MILLRACE_TRY(
                context_.row_error(DeadLetterRow{origin_, "late", row_to_json(batch, row)}));
            continue;
        }
        by_window[end].push_back(static_cast<uint32_t>(row));
    }
    for (auto& [end, indexes] : by_window) {
        HashAggregateOperator* window = window_for(end);
        if (indexes.size() == rows) {
            MILLRACE_TRY(window->push(std::move(batch)));
            break;
        }
        MILLRACE_TRY(window->push(batch.take(indexes)));
    }
    return {};
}

Status WindowAggregateOperator::emit_until(int64_t watermark) {
    while (!windows_.empty() && windows_.begin()->first <= watermark) {
        std::unique_ptr<HashAggregateOperator> window = std::move(windows_.begin()->second);
        windows_.erase(windows_.begin());
        MILLRACE_TRY(window->finish());
    }
    return {};
}

Status WindowAggregateOperator::on_control(const ControlSignal& signal) {
    if (signal.kind == ControlSignal::Kind::kWatermark) {
        if (!watermark_ || signal.watermark_micros > *watermark_) {
            watermark_ = signal.watermark_micros;
            MILLRACE_TRY(emit_until(signal.watermark_micros));
        }
    } else if (signal.kind == ControlSignal::Kind::kEarlyFire && emit_early_) {
        for (auto& [end, window] : windows_) MILLRACE_TRY(window->emit_changed());
    }
    return output_->on_control(signal);
}

Status WindowAggregateOperator::finish() {
    MILLRACE_TRY(emit_until(std::numeric_limits<int64_t>::max()));
    return output_->finish();
}

// State body:
//
//   +-----------+----------------+---------+------------------------------------+
//   | has_wm u8 | watermark i64  | n u64   | n x (window_end i64, state bytes)  |
//   +-----------+----------------+---------+------------------------------------+
//
// Each window's bytes are its HashAggregateOperator's own state (with its own envelope; when
// firing early, with the list of groups changed since the window's last emission).
std::size_t WindowAggregateOperator::state_keys() const {
    std::size_t keys = 0;
    for (const auto& [end, window] : windows_) keys += window->groups();
    return keys;
}

Result<std::string> WindowAggregateOperator::serialize_state() const {
    StateWriter out(OperatorStateKind::kWindowAggregate);
    out.u8(watermark_ ? 1 : 0);
    out.i64(watermark_.value_or(0));
    out.u64(windows_.size());
    // Every window's state first, then one string of the right size: a checkpoint of a large
    // window state copies it once more, not once per doubling (BENCHMARKS.md, Nexmark q5/q7).
    std::vector<std::string> states;
    states.reserve(windows_.size());
    std::size_t total = 0;
    for (const auto& [end, window] : windows_) {
        MILLRACE_ASSIGN_OR_RETURN(std::string state, window->serialize_state());
        total += 16 + state.size();
        states.push_back(std::move(state));
    }
    out.reserve(total);
    std::size_t index = 0;
    for (const auto& [end, window] : windows_) {
        out.i64(end);
        out.bytes(states[index]);
        std::string().swap(states[index++]);  // freed as it is copied
    }
    return std::move(out).finish();
}

Status WindowAggregateOperator::restore_state(std::string_view bytes) {
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kWindowAggregate));
    MILLRACE_ASSIGN_OR_RETURN(uint8_t has_watermark, in.u8());
    MILLRACE_ASSIGN_OR_RETURN(int64_t watermark, in.i64());
    if (has_watermark > 1) return in.corrupt("watermark flag");
    MILLRACE_ASSIGN_OR_RETURN(uint64_t count, in.count(16));
    windows_.clear();
    watermark_.reset();
    if (has_watermark == 1) watermark_ = watermark;
    for (uint64_t i = 0; i < count; ++i) {
        MILLRACE_ASSIGN_OR_RETURN(int64_t end, in.i64());
        MILLRACE_ASSIGN_OR_RETURN(std::string_view state, in.bytes());
        if (windows_.count(end) != 0) return in.corrupt("a window saved twice");
        MILLRACE_TRY(window_for(end)->restore_state(state));
    }
    return in.expect_end();
}

// State changes (serialize_state_changes):
//
//   +-----------+----------------+---------+--------------------------------------------------+
//   | has_wm u8 | watermark i64  | n u64   | n x (window_end i64, whole u8, state bytes)      |
//   +-----------+----------------+---------+--------------------------------------------------+
//
// Only the windows rows reached since the last save are listed: with `whole` 0, the bytes are
// the window's HashAggregateOperator state changes; with 1, its whole state (it could not
// tell its changes: groups waiting for an early firing). The windows the watermark closed
// since the last save are not listed: applying drops every window the watermark has passed.
void WindowAggregateOperator::mark_state_saved() {
    tracking_saves_ = true;
    saved_watermark_ = watermark_;
    for (auto& [end, window] : windows_) window->mark_state_saved();
}

bool WindowAggregateOperator::state_changed_since_save() const {
    if (!tracking_saves_) return false;
    if (watermark_ != saved_watermark_) return true;
    for (const auto& [end, window] : windows_)
        if (window->state_changed_since_save()) return true;
    return false;
}

Result<std::optional<std::string>> WindowAggregateOperator::serialize_state_changes() {
    if (!tracking_saves_) return std::optional<std::string>();
    std::vector<std::pair<int64_t, std::string>> changed;
    std::vector<uint8_t> whole;
    std::size_t total = 0;
    for (auto& [end, window] : windows_) {
        if (!window->state_changed_since_save()) continue;
        MILLRACE_ASSIGN_OR_RETURN(std::optional<std::string> changes,
                                  window->serialize_state_changes());
        if (changes) {
            whole.push_back(0);
            changed.emplace_back(end, std::move(*changes));
        } else {
            MILLRACE_ASSIGN_OR_RETURN(std::string state, window->serialize_state());
            window->mark_state_saved();
            whole.push_back(1);
            changed.emplace_back(end, std::move(state));
        }
        total += 17 + changed.back().second.size();
    }
    StateWriter out(OperatorStateKind::kWindowAggregate);
    out.u8(watermark_ ? 1 : 0);
    out.i64(watermark_.value_or(0));
    out.u64(changed.size());
    out.reserve(total);
    for (std::size_t i = 0; i < changed.size(); ++i) {
        out.i64(changed[i].first);
        out.u8(whole[i]);
        out.bytes(changed[i].second);
        std::string().swap(changed[i].second);
    }
    saved_watermark_ = watermark_;
    return std::optional<std::string>(std::move(out).finish());
}

Status WindowAggregateOperator::apply_state_changes(std::string_view bytes) {
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kWindowAggregate));
    MILLRACE_ASSIGN_OR_RETURN(uint8_t has_watermark, in.u8());
    MILLRACE_ASSIGN_OR_RETURN(int64_t watermark, in.i64());
    if (has_watermark > 1) return in.corrupt("watermark flag");
    if (has_watermark == 1) {
        if (watermark_ && watermark < *watermark_) return in.corrupt("a watermark that went back");
        watermark_ = watermark;
        // Emitted since the state the changes are laid over: dropped, not emitted again.
        while (!windows_.empty() && windows_.begin()->first <= watermark)
            windows_.erase(windows_.begin());
    } else if (watermark_) {
        return in.corrupt("changes without the watermark of the state they follow");
    }
    MILLRACE_ASSIGN_OR_RETURN(uint64_t count, in.count(17));
    std::optional<int64_t> previous;
    for (uint64_t i = 0; i < count; ++i) {
        MILLRACE_ASSIGN_OR_RETURN(int64_t end, in.i64());
        MILLRACE_ASSIGN_OR_RETURN(uint8_t whole, in.u8());
        MILLRACE_ASSIGN_OR_RETURN(std::string_view state, in.bytes());
        if (whole > 1) return in.corrupt("window state flag");
        if (previous && end <= *previous) return in.corrupt("windows out of order");
        if (watermark_ && end <= *watermark_) return in.corrupt("a window the watermark closed");
        previous = end;
        if (whole == 1) {
            windows_.erase(end);
            MILLRACE_TRY(window_for(end)->restore_state(state));
        } else {
            MILLRACE_TRY(window_for(end)->apply_state_changes(state));
        }
    }
    return in.expect_end();
}

}  // namespace millrace
