#include "exec/session_window_aggregate_operator.h"

#include <algorithm>
#include <limits>

#include "exec/key_encoder.h"
#include "exec/operator_state.h"

namespace millrace {

/// Where every session's aggregate emits: its one row, with window_start and window_end set to
/// the session's bounds (the aggregate saw them as constants), to the operator's output. A
/// session's finish() is the end of that session only, not of the stream, so it is not passed on.
class SessionWindowAggregateOperator::SessionOutput final : public BatchSink {
public:
    explicit SessionOutput(SessionWindowAggregateOperator& owner) : owner_(owner) {}
    Status push(Batch batch) override {
        const Session* session = owner_.emitting_;
        if (session == nullptr || batch.num_rows() == 0) return owner_.emit(std::move(batch));
        std::vector<std::shared_ptr<const Column>> columns;
        for (std::size_t c = 0; c < batch.num_columns(); ++c)
            columns.push_back(batch.column_ptr(c));
        const std::size_t rows = batch.num_rows();
        columns[owner_.end_key_] = ExpressionEvaluator::constant_column(
            Value::timestamp(session->end), DataType::kTimestamp, rows);
        if (owner_.start_key_) {
            columns[*owner_.start_key_] = ExpressionEvaluator::constant_column(
                Value::timestamp(session->start), DataType::kTimestamp, rows);
        }
        return owner_.emit(Batch(batch.schema_ptr(), std::move(columns), rows));
    }
    Status finish() override { return {}; }

private:
    SessionWindowAggregateOperator& owner_;
};

SessionWindowAggregateOperator::SessionWindowAggregateOperator(
    std::vector<sql::BoundExpr> keys, std::vector<sql::AggregateCall> aggregates,
    std::shared_ptr<const Schema> schema, std::size_t end_key, std::optional<std::size_t> start_key,
    int64_t gap_micros, ExecContext& context, std::string origin)
    : keys_(std::move(keys)),
      aggregates_(std::move(aggregates)),
      schema_(std::move(schema)),
      end_key_(end_key),
      start_key_(start_key),
      end_column_(keys_.at(end_key).column),
      gap_(gap_micros),
      context_(context),
      origin_(std::move(origin)),
      session_output_(std::make_unique<SessionOutput>(*this)) {
    inner_keys_ = keys_;
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (i == end_key_ || (start_key_ && i == *start_key_)) {
            sql::BoundExpr constant;
            constant.kind = sql::BoundExpr::Kind::kConstant;
            constant.type = DataType::kTimestamp;
            constant.constant = Value::timestamp(0);
            inner_keys_[i] = std::move(constant);
        } else {
            group_keys_.push_back(i);
        }
    }
}

SessionWindowAggregateOperator::~SessionWindowAggregateOperator() = default;

uint64_t SessionWindowAggregateOperator::open_session(std::string key, int64_t start, int64_t end) {
    const uint64_t id = next_id_++;
    Session session;
    session.start = start;
    session.end = end;
    session.key = std::move(key);
    session.aggregate = std::make_unique<HashAggregateOperator>(inner_keys_, aggregates_, schema_,
                                                                context_, origin_);
    session.aggregate->set_output(session_output_.get());
    by_key_[session.key].emplace(start, id);
    by_end_.emplace(end, id);
    sessions_.emplace(id, std::move(session));
    return id;
}

void SessionWindowAggregateOperator::set_bounds(uint64_t id, int64_t start, int64_t end) {
    Session& session = sessions_.at(id);
    auto& starts = by_key_[session.key];
    starts.erase(session.start);
    by_end_.erase({session.end, id});
    session.start = start;
    session.end = end;
    starts.emplace(start, id);
    by_end_.emplace(end, id);
}

void SessionWindowAggregateOperator::forget(uint64_t id) {
    auto it = sessions_.find(id);
    auto key = by_key_.find(it->second.key);
    key->second.erase(it->second.start);
    if (key->second.empty()) by_key_.erase(key);
    by_end_.erase({it->second.end, id});
    sessions_.erase(it);
}

Status SessionWindowAggregateOperator::push(Batch batch) {
    const std::size_t rows = batch.num_rows();
    if (rows == 0) return {};
    const Column& ends = batch.column(end_column_);
    const auto values = ends.values<int64_t>();
    errors_.clear();
    // Evaluation errors of the group keys are left to each session's aggregate, which
    // dead-letters those rows with the evaluator's reason.
    std::vector<ColumnPtr> key_columns;
    std::vector<const Column*> key_views;
    for (std::size_t k : group_keys_) {
        key_columns.push_back(evaluator_.evaluate(keys_[k], batch, errors_));
        key_views.push_back(key_columns.back().get());
    }
    // Rows per session, by session id (creation order, so the pushes are repeatable).
    std::map<uint64_t, std::vector<uint32_t>> pending;
    std::string key;
    std::vector<uint64_t> overlapping;
    for (std::size_t row = 0; row < rows; ++row) {
        if (ends.is_null(row)) {
            MILLRACE_TRY(context_.row_error(DeadLetterRow{
                origin_, "the window's time column is null, so the row is in no window",
                row_to_json(batch, row)}));
            continue;
        }
        const int64_t end = values[row];
        if (watermark_ && end <= *watermark_) {
            MILLRACE_TRY(
                context_.row_error(DeadLetterRow{origin_, "late", row_to_json(batch, row)}));
            continue;
        }
        const int64_t start = end - gap_;
        key.clear();
        KeyEncoder::encode(key_views, row, key);
        // Sessions of one key are disjoint and ordered by start: the ones this row's window
        // overlaps start before its end and end after its start.
        overlapping.clear();
        int64_t merged_start = start;
        int64_t merged_end = end;
        if (auto found = by_key_.find(key); found != by_key_.end()) {
            auto it = found->second.lower_bound(end);
            while (it != found->second.begin()) {
                --it;
                const Session& session = sessions_.at(it->second);
                if (session.end <= start) break;
                overlapping.push_back(it->second);
                merged_start = std::min(merged_start, session.start);
                merged_end = std::max(merged_end, session.end);
            }
        }
        uint64_t target = 0;
        if (overlapping.empty()) {
            target = open_session(key, start, end);
        } else {
            // The earliest session absorbs the others (rows still pending for them included).
            target = overlapping.back();
            for (std::size_t i = 0; i + 1 < overlapping.size(); ++i) {
                const uint64_t other = overlapping[i];
                MILLRACE_ASSIGN_OR_RETURN(std::string state,
                                          sessions_.at(other).aggregate->serialize_state());
                MILLRACE_TRY(sessions_.at(target).aggregate->merge_state(state));
                if (auto moved = pending.find(other); moved != pending.end()) {
                    std::vector<uint32_t>& into = pending[target];
                    into.insert(into.end(), moved->second.begin(), moved->second.end());
                    pending.erase(other);
                }
                forget(other);
            }
            const Session& session = sessions_.at(target);
            if (session.start != merged_start || session.end != merged_end)
                set_bounds(target, merged_start, merged_end);
        }
        pending[target].push_back(static_cast<uint32_t>(row));
    }
    for (auto& [id, indexes] : pending) {
        sessions_.at(id).changed = true;
        HashAggregateOperator* aggregate = sessions_.at(id).aggregate.get();
        if (indexes.size() == rows) {
            MILLRACE_TRY(aggregate->push(std::move(batch)));
            break;
        }
        std::sort(indexes.begin(), indexes.end());
        MILLRACE_TRY(aggregate->push(batch.take(indexes)));
    }
    return {};
}

Status SessionWindowAggregateOperator::emit_until(int64_t watermark) {
    while (!by_end_.empty() && by_end_.begin()->first <= watermark) {
        const uint64_t id = by_end_.begin()->second;
        const Session& session = sessions_.at(id);
        emitting_ = &session;
        Status status = session.aggregate->finish();
        emitting_ = nullptr;
        MILLRACE_TRY(std::move(status));
        forget(id);
    }
    return {};
}

Status SessionWindowAggregateOperator::on_control(const ControlSignal& signal) {
    if (signal.kind == ControlSignal::Kind::kWatermark) {
        if (!watermark_ || signal.watermark_micros > *watermark_) {
            watermark_ = signal.watermark_micros;
            MILLRACE_TRY(emit_until(signal.watermark_micros));
        }
    } else if (signal.kind == ControlSignal::Kind::kEarlyFire && emit_early_) {
        for (const auto& [end, id] : by_end_) {
            Session& session = sessions_.at(id);
            if (!session.changed) continue;
            session.changed = false;
            emitting_ = &session;
            Status status = session.aggregate->emit_current();
            emitting_ = nullptr;
            MILLRACE_TRY(std::move(status));
        }
    }
    return output_->on_control(signal);
}

Status SessionWindowAggregateOperator::finish() {
    MILLRACE_TRY(emit_until(std::numeric_limits<int64_t>::max()));
    return output_->finish();
}

// State body:
//
//   +-----------+---------------+-------------+-------+------------------------------------+
//   | has_wm u8 | watermark i64 | next_id u64 | n u64 | n x session                        |
//   +-----------+---------------+-------------+-------+------------------------------------+
//
//   session: id u64 | start i64 | end i64 | group key bytes | aggregate state bytes
//
// The group key is KeyEncoder's encoding of the keys that are not the window's; the aggregate
// state is its HashAggregateOperator's own (with its own envelope). Sessions in id order.
// Firing early, a trailer follows: u64 n, n x id of the sessions changed since their last
// emission (absent otherwise, and optional when read).
Result<std::string> SessionWindowAggregateOperator::serialize_state() const {
    StateWriter out(OperatorStateKind::kSessionWindowAggregate);
    out.u8(watermark_ ? 1 : 0);
    out.i64(watermark_.value_or(0));
    out.u64(next_id_);
    std::vector<uint64_t> ids;
    ids.reserve(sessions_.size());
    for (const auto& entry : sessions_) ids.push_back(entry.first);
    std::sort(ids.begin(), ids.end());
    out.u64(ids.size());
    for (uint64_t id : ids) {
        const Session& session = sessions_.at(id);
        out.u64(id);
        out.i64(session.start);
        out.i64(session.end);
        out.bytes(session.key);
        MILLRACE_ASSIGN_OR_RETURN(std::string state, session.aggregate->serialize_state());
        out.bytes(state);
    }
    if (emit_early_) {
        std::vector<uint64_t> changed;
        for (uint64_t id : ids) {
            if (sessions_.at(id).changed) changed.push_back(id);
        }
        out.u64(changed.size());
        for (uint64_t id : changed) out.u64(id);
    }
    return std::move(out).finish();
}

Status SessionWindowAggregateOperator::restore_state(std::string_view bytes) {
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kSessionWindowAggregate));
    MILLRACE_ASSIGN_OR_RETURN(uint8_t has_watermark, in.u8());
    MILLRACE_ASSIGN_OR_RETURN(int64_t watermark, in.i64());
    if (has_watermark > 1) return in.corrupt("watermark flag");
    MILLRACE_ASSIGN_OR_RETURN(uint64_t next_id, in.u64());
    MILLRACE_ASSIGN_OR_RETURN(uint64_t count, in.count(40));
    sessions_.clear();
    by_key_.clear();
    by_end_.clear();
    watermark_.reset();
    if (has_watermark == 1) watermark_ = watermark;
    for (uint64_t i = 0; i < count; ++i) {
        MILLRACE_ASSIGN_OR_RETURN(uint64_t id, in.u64());
        MILLRACE_ASSIGN_OR_RETURN(int64_t start, in.i64());
        MILLRACE_ASSIGN_OR_RETURN(int64_t end, in.i64());
        MILLRACE_ASSIGN_OR_RETURN(std::string_view key, in.bytes());
        MILLRACE_ASSIGN_OR_RETURN(std::string_view state, in.bytes());
        if (id >= next_id || sessions_.count(id) != 0 || end <= start)
            return in.corrupt("a session's id or bounds");
        // Sessions of one key must not overlap: the merge logic relies on it.
        if (auto found = by_key_.find(std::string(key)); found != by_key_.end()) {
            auto after = found->second.lower_bound(start);
            if (after != found->second.end() && after->first < end)
                return in.corrupt("overlapping sessions");
            if (after != found->second.begin() &&
                sessions_.at(std::prev(after)->second).end > start)
                return in.corrupt("overlapping sessions");
        }
        next_id_ = id;
        const uint64_t opened = open_session(std::string(key), start, end);
        MILLRACE_TRY(sessions_.at(opened).aggregate->restore_state(state));
    }
    next_id_ = next_id;
    if (!in.at_end()) {
        MILLRACE_ASSIGN_OR_RETURN(uint64_t changed, in.count(8));
        for (uint64_t i = 0; i < changed; ++i) {
            MILLRACE_ASSIGN_OR_RETURN(uint64_t id, in.u64());
            auto it = sessions_.find(id);
            if (it == sessions_.end()) return in.corrupt("a changed session that is not open");
            it->second.changed = emit_early_;
        }
    }
    return in.expect_end();
}

}  // namespace millrace
