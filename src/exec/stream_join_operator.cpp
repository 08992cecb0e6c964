#include "exec/stream_join_operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "exec/expression_evaluator.h"
#include "exec/input_aligner.h"
#include "exec/key_encoder.h"
#include "exec/operator_state.h"

namespace millrace {

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
/// A row's time column value when it has none (null, or no time column).
constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

struct RowRef {
    uint64_t batch = 0;
    uint32_t row = 0;
};

/// One arrived batch of an input, kept while any of its rows is buffered.
struct StoredBatch {
    Batch batch;
    std::vector<std::string> keys;
    std::vector<int64_t> times;    // kNoTime: none
    std::vector<int64_t> expiry;   // kNever: none
    std::vector<uint8_t> alive;    // buffered (not dropped, not rejected)
    std::vector<uint8_t> pending;  // TTL rows waiting for the first watermark to stamp them
    uint32_t live = 0;
    std::size_t bytes = 0;
};

int64_t saturating_add(int64_t a, int64_t b) {
    if (b > 0 && a > kNever - b) return kNever;
    if (b < 0 && a < kNoTime - b) return kNoTime;
    return a + b;
}

}  // namespace

struct StreamJoinOperator::State {
    struct Side {
        std::map<uint64_t, StoredBatch> batches;
        uint64_t next_id = 0;
        std::unordered_map<std::string, std::vector<RowRef>> index;
        std::multimap<int64_t, RowRef> expiry;
        std::vector<RowRef> pending;  // TTL rows that arrived before any watermark
        std::multiset<int64_t> times;
        std::size_t rows = 0;
        bool finished = false;

        /// Row `row` of stored batch `id` becomes findable: by key, by expiry (or waiting for a
        /// first watermark) and by time.
        void index_row(const StoredBatch& stored, uint64_t id, uint32_t row) {
            const RowRef ref{id, row};
            index[stored.keys[row]].push_back(ref);
            if (stored.pending[row]) {
                pending.push_back(ref);
            } else if (stored.expiry[row] != kNever) {
                expiry.emplace(stored.expiry[row], ref);
            }
            if (stored.times[row] != kNoTime) times.insert(stored.times[row]);
        }
    };

    State(StreamJoinOperator& join, ExecContext& context, const std::string& origin)
        : inputs(
              2,
              [&join](std::size_t port, PortInput input) {
                  const int side = static_cast<int>(port);
                  return input.batch ? join.side_push(side, std::move(*input.batch))
                                     : join.side_finish(side);
              },
              [&join](const ControlSignal& signal) {
                  if (signal.kind == ControlSignal::Kind::kWatermark)
                      return join.on_watermark(signal.watermark_micros);
                  return join.output_->on_control(signal);
              },
              fmt::format("the join in `{}`", origin)),
          memory(context, fmt::format("the buffered rows of the stream join in `{}`", origin),
                 "bound the join in time (an interval or window condition) or set a shorter "
                 "state_ttl") {}

    std::vector<sql::BoundExpr> keys[2];
    std::optional<sql::BoundExpr> residual;
    std::shared_ptr<const Schema> schemas[2];
    std::shared_ptr<const Schema> schema;
    StreamJoinBounds bounds;
    ExecContext* context = nullptr;
    std::string origin;
    ExpressionEvaluator evaluator;
    InputAligner inputs;
    MemoryReservation memory;
    std::size_t bytes = 0;
    Side sides[2];
    std::optional<int64_t> watermark;
    std::optional<int64_t> forwarded;
    uint64_t expired = 0;
    std::unique_ptr<RightPort> port;
    // Output rows waiting to go out together (at most about kOutputBatchRows).
    std::vector<Batch> out;
    std::size_t out_rows = 0;
    // Incremental checkpoints: whether a save was marked, and what was stored then.
    struct Saves {
        bool tracking = false;
        std::optional<int64_t> watermark;
        uint64_t next_id[2] = {0, 0};
        bool finished[2] = {false, false};
        bool pending = false;  // rows waiting for a first watermark were saved
    } saves;
};

class StreamJoinOperator::RightPort final : public BatchSink {
public:
    explicit RightPort(InputAligner& inputs) : inputs_(inputs) {}
    Status push(Batch batch) override { return inputs_.arrive(1, PortInput::of(std::move(batch))); }
    Status finish() override { return inputs_.arrive(1, PortInput::end()); }
    Status on_control(const ControlSignal& signal) override {
        return inputs_.arrive(1, PortInput::of(signal));
    }

private:
    InputAligner& inputs_;
};

StreamJoinOperator::StreamJoinOperator(
    std::vector<sql::BoundExpr> left_keys, std::vector<sql::BoundExpr> right_keys,
    std::optional<sql::BoundExpr> residual, std::shared_ptr<const Schema> left_schema,
    std::shared_ptr<const Schema> right_schema, std::shared_ptr<const Schema> schema,
    StreamJoinBounds bounds, ExecContext& context, std::string origin)
    : state_(std::make_unique<State>(*this, context, origin)) {
    State& s = *state_;
    s.keys[0] = std::move(left_keys);
    s.keys[1] = std::move(right_keys);
    s.residual = std::move(residual);
    s.schemas[0] = std::move(left_schema);
    s.schemas[1] = std::move(right_schema);
    s.schema = std::move(schema);
    s.bounds = std::move(bounds);
    s.context = &context;
    s.origin = std::move(origin);
    s.port = std::make_unique<RightPort>(s.inputs);
}

StreamJoinOperator::~StreamJoinOperator() = default;

BatchSink& StreamJoinOperator::right_side() { return *state_->port; }

Status StreamJoinOperator::push(Batch batch) {
    return state_->inputs.arrive(0, PortInput::of(std::move(batch)));
}

Status StreamJoinOperator::finish() { return state_->inputs.arrive(0, PortInput::end()); }

Status StreamJoinOperator::on_control(const ControlSignal& signal) {
    return state_->inputs.arrive(0, PortInput::of(signal));
}

std::size_t StreamJoinOperator::buffered_rows(int side) const { return state_->sides[side].rows; }

uint64_t StreamJoinOperator::expired_rows() const { return state_->expired; }

Status StreamJoinOperator::side_push(int side, Batch batch) {
    State& s = *state_;
    const std::size_t n = batch.num_rows();
    if (n == 0) return {};
    const int other = 1 - side;
    RowErrors errors;
    std::vector<ColumnPtr> key_columns;
    std::vector<const Column*> pointers;
    for (const auto& key : s.keys[side]) {
        key_columns.push_back(s.evaluator.evaluate(key, batch, errors));
        pointers.push_back(key_columns.back().get());
    }
    std::vector<ColumnPtr> expiry_columns;
    for (const auto& e : s.bounds.expiry[side])
        expiry_columns.push_back(s.evaluator.evaluate(e, batch, errors));
    for (const auto& entry : errors.entries()) {
        MILLRACE_TRY(s.context->row_error(
            DeadLetterRow{s.origin, entry.message, row_to_json(batch, entry.row)}));
    }
    StoredBatch stored;
    stored.keys.resize(n);
    stored.times.assign(n, kNoTime);
    stored.expiry.assign(n, kNever);
    stored.alive.assign(n, 0);
    stored.pending.assign(n, 0);
    if (s.bounds.time_column[side]) {
        const Column& times = batch.column(*s.bounds.time_column[side]);
        const auto values = times.values<int64_t>();
        for (std::size_t i = 0; i < n; ++i) {
            if (!times.is_null(i)) stored.times[i] = values[i];
        }
    }
    // Pairs with the other input's rows, grouped by the stored batch they are in.
    std::map<uint64_t, std::pair<std::vector<uint32_t>, std::vector<uint32_t>>> pairs;
    auto flush_group = [&](uint64_t id, std::vector<uint32_t>& mine,
                           std::vector<uint32_t>& theirs) -> Status {
        if (mine.empty()) return {};
        const Batch& stored_batch = s.sides[other].batches.at(id).batch;
        const Batch& left = side == 0 ? batch : stored_batch;
        const Batch& right = side == 0 ? stored_batch : batch;
        const std::vector<uint32_t>& left_rows = side == 0 ? mine : theirs;
        const std::vector<uint32_t>& right_rows = side == 0 ? theirs : mine;
        std::vector<std::shared_ptr<const Column>> columns;
        columns.reserve(s.schema->size());
        for (std::size_t c = 0; c < left.num_columns(); ++c)
            columns.push_back(std::make_shared<const Column>(take_rows(left.column(c), left_rows)));
        for (std::size_t c = 0; c < right.num_columns(); ++c)
            columns.push_back(
                std::make_shared<const Column>(take_rows(right.column(c), right_rows)));
        Batch joined(s.schema, std::move(columns), mine.size());
        mine.clear();
        theirs.clear();
        if (s.residual) {
            RowErrors residual_errors;
            ColumnPtr keep = s.evaluator.evaluate(*s.residual, joined, residual_errors);
            for (const auto& entry : residual_errors.entries()) {
                MILLRACE_TRY(s.context->row_error(
                    DeadLetterRow{s.origin, entry.message, row_to_json(joined, entry.row)}));
            }
            std::vector<uint32_t> selection;
            for (std::size_t i = 0; i < joined.num_rows(); ++i) {
                if (!keep->is_null(i) && keep->value<uint8_t>(i))
                    selection.push_back(static_cast<uint32_t>(i));
            }
            if (selection.size() != joined.num_rows()) joined = joined.take(selection);
        }
        if (joined.num_rows() == 0) return {};
        s.out_rows += joined.num_rows();
        s.out.push_back(std::move(joined));
        if (s.out_rows >= kOutputBatchRows) {
            Batch all = s.out.size() == 1 ? std::move(s.out[0]) : concat_batches(s.schema, s.out);
            s.out.clear();
            s.out_rows = 0;
            MILLRACE_TRY(emit(std::move(all)));
        }
        return {};
    };
    const int64_t watermark = s.watermark.value_or(kNoTime);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const uint32_t row = static_cast<uint32_t>(i);
        if (errors.has(row)) continue;
        std::string& key = stored.keys[i];
        if (!KeyEncoder::encode(pointers, i, key)) continue;  // null keys never match
        auto it = s.sides[other].index.find(key);
        if (it != s.sides[other].index.end()) {
            for (const RowRef& ref : it->second) {
                auto& group = pairs[ref.batch];
                group.first.push_back(row);
                group.second.push_back(ref.row);
                if (group.first.size() >= kOutputBatchRows)
                    MILLRACE_TRY(flush_group(ref.batch, group.first, group.second));
            }
        }
        // How long the row stays: its time bounds, the TTL.
        int64_t expiry = kNever;
        for (const ColumnPtr& e : expiry_columns) {
            expiry = std::min(expiry, e->is_null(i) ? kNoTime : e->values<int64_t>()[i]);
        }
        if (s.bounds.ttl_micros) {
            if (s.watermark) {
                expiry = std::min(expiry, saturating_add(*s.watermark, *s.bounds.ttl_micros));
            } else {
                stored.pending[i] = 1;
            }
        }
        // Already past the watermark: no later row can match it.
        if (expiry != kNever && s.watermark && expiry < watermark) continue;
        stored.expiry[i] = expiry;
        stored.alive[i] = 1;
        ++kept;
    }
    for (auto& [id, group] : pairs) MILLRACE_TRY(flush_group(id, group.first, group.second));
    if (!s.out.empty()) {
        Batch all = s.out.size() == 1 ? std::move(s.out[0]) : concat_batches(s.schema, s.out);
        s.out.clear();
        s.out_rows = 0;
        MILLRACE_TRY(emit(std::move(all)));
    }
    if (kept == 0 || s.sides[other].finished) return {};
    // Buffer the kept rows (a finished other input will send nothing they could match).
    State::Side& mine = s.sides[side];
    const uint64_t id = mine.next_id++;
    stored.live = static_cast<uint32_t>(kept);
    stored.batch = std::move(batch);
    stored.bytes = stored.batch.memory_bytes();
    for (const std::string& key : stored.keys) stored.bytes += key.size() + 32;
    s.bytes += stored.bytes;
    MILLRACE_TRY(s.memory.resize(s.bytes));
    for (std::size_t i = 0; i < n; ++i) {
        if (stored.alive[i]) mine.index_row(stored, id, static_cast<uint32_t>(i));
    }
    mine.rows += kept;
    mine.batches.emplace(id, std::move(stored));
    return {};
}

Status StreamJoinOperator::side_finish(int side) {
    State& s = *state_;
    s.sides[side].finished = true;
    if (s.sides[0].finished && s.sides[1].finished) return output_->finish();
    return {};
}

void StreamJoinOperator::expire_until(int64_t watermark) {
    State& s = *state_;
    for (State::Side& side : s.sides) {
        if (side.expiry.empty() || side.expiry.begin()->first >= watermark) continue;
        // Every buffered row goes (a window join at its window's end, the end of the input):
        // dropped all at once.
        if (side.expiry.size() == side.rows && side.pending.empty() &&
            std::prev(side.expiry.end())->first < watermark) {
            s.expired += side.rows;
            for (const auto& [id, stored] : side.batches) s.bytes -= stored.bytes;
            side.batches.clear();
            side.index.clear();
            side.expiry.clear();
            side.times.clear();
            side.rows = 0;
            continue;
        }
        // Keys that lost rows: their lists are compacted once, after the loop. Erasing each
        // row from its list as it expires would cost the list's length per row, which for a
        // hot key (a window join's rows all share their window) is quadratic. The keys are
        // those of the stored batches, which are erased after the compaction.
        std::unordered_set<std::string_view> touched;
        std::vector<uint64_t> emptied;
        while (!side.expiry.empty() && side.expiry.begin()->first < watermark) {
            const RowRef ref = side.expiry.begin()->second;
            side.expiry.erase(side.expiry.begin());
            StoredBatch& stored = side.batches.find(ref.batch)->second;
            stored.alive[ref.row] = 0;
            touched.insert(stored.keys[ref.row]);
            if (stored.times[ref.row] != kNoTime)
                side.times.erase(side.times.find(stored.times[ref.row]));
            --side.rows;
            ++s.expired;
            if (--stored.live == 0) emptied.push_back(ref.batch);
        }
        // In arrival order (a restored state lists its rows so too, and so emits its pairs in
        // the order an uninterrupted run would): erase_if keeps the order of the rest.
        for (std::string_view key : touched) {
            auto rows = side.index.find(std::string(key));
            if (rows == side.index.end()) continue;
            std::erase_if(rows->second, [&](const RowRef& ref) {
                return side.batches.find(ref.batch)->second.alive[ref.row] == 0;
            });
            if (rows->second.empty()) side.index.erase(rows);
        }
        for (uint64_t id : emptied) {
            auto found = side.batches.find(id);
            s.bytes -= found->second.bytes;
            side.batches.erase(found);
        }
    }
}

Status StreamJoinOperator::on_watermark(int64_t watermark) {
    State& s = *state_;
    if (s.watermark && watermark <= *s.watermark) return {};
    s.watermark = watermark;
    for (State::Side& side : s.sides) {
        // TTL rows that arrived before the first watermark start their time now.
        for (const RowRef& ref : side.pending) {
            StoredBatch& stored = side.batches.at(ref.batch);
            stored.pending[ref.row] = 0;
            stored.expiry[ref.row] =
                std::min(stored.expiry[ref.row], saturating_add(watermark, *s.bounds.ttl_micros));
            side.expiry.emplace(stored.expiry[ref.row], ref);
        }
        side.pending.clear();
    }
    expire_until(watermark);
    MILLRACE_TRY(s.memory.resize(s.bytes));
    int64_t out = watermark;
    for (const State::Side& side : s.sides) {
        if (!side.times.empty()) out = std::min(out, *side.times.begin());
    }
    if (s.forwarded && out <= *s.forwarded) return {};
    s.forwarded = out;
    return output_->on_control(ControlSignal::watermark(out));
}

// State body:
//
//   has_wm u8, wm i64, has_fwd u8, fwd i64, expired u64,
//   then per input (left, right):
//     finished u8, batches u64, per batch:
//       batch (the buffered rows only), then per row: key bytes, expiry i64, pending u8
//
// Time column values and indexes are rebuilt from the rows. State changes
// (serialize_state_changes) have the same layout, with per input only the batches stored
// since the last save.
namespace {

/// The first fields of a state and of its changes: the watermark, the watermark last sent on,
/// the rows expired so far.
struct Header {
    std::optional<int64_t> watermark;
    std::optional<int64_t> forwarded;
    uint64_t expired = 0;
};

template <typename S>
void write_header(StateWriter& out, const S& s) {
    out.u8(s.watermark ? 1 : 0);
    out.i64(s.watermark.value_or(0));
    out.u8(s.forwarded ? 1 : 0);
    out.i64(s.forwarded.value_or(0));
    out.u64(s.expired);
}

Result<Header> read_header(StateReader& in) {
    MILLRACE_ASSIGN_OR_RETURN(uint8_t has_watermark, in.u8());
    MILLRACE_ASSIGN_OR_RETURN(int64_t watermark, in.i64());
    MILLRACE_ASSIGN_OR_RETURN(uint8_t has_forwarded, in.u8());
    MILLRACE_ASSIGN_OR_RETURN(int64_t forwarded, in.i64());
    Header header;
    MILLRACE_ASSIGN_OR_RETURN(header.expired, in.u64());
    if (has_watermark > 1 || has_forwarded > 1) return in.corrupt("watermark flag");
    if (has_watermark == 1) header.watermark = watermark;
    if (has_forwarded == 1) header.forwarded = forwarded;
    return header;
}

void write_stored(StateWriter& out, const StoredBatch& stored) {
    std::vector<uint32_t> rows;
    for (std::size_t i = 0; i < stored.alive.size(); ++i) {
        if (stored.alive[i]) rows.push_back(static_cast<uint32_t>(i));
    }
    out.batch(rows.size() == stored.alive.size() ? stored.batch : stored.batch.take(rows));
    for (uint32_t r : rows) {
        out.bytes(stored.keys[r]);
        out.i64(stored.expiry[r]);
        out.u8(stored.pending[r]);
    }
}

}  // namespace

Result<std::string> StreamJoinOperator::serialize_state() const {
    const State& s = *state_;
    StateWriter out(OperatorStateKind::kStreamJoin);
    write_header(out, s);
    out.reserve(s.bytes + 64);  // sized once: a large state is not copied at every doubling
    for (const State::Side& side : s.sides) {
        out.u8(side.finished ? 1 : 0);
        out.u64(side.batches.size());
        for (const auto& [id, stored] : side.batches) write_stored(out, stored);
    }
    return std::move(out).finish();
}

Status StreamJoinOperator::read_batches(StateReader& in, int side_index) {
    State& s = *state_;
    State::Side& side = s.sides[side_index];
    MILLRACE_ASSIGN_OR_RETURN(uint8_t finished, in.u8());
    if (finished > 1) return in.corrupt("finished flag");
    side.finished = finished == 1;
    if (side.finished) s.inputs.set_finished(static_cast<std::size_t>(side_index));
    MILLRACE_ASSIGN_OR_RETURN(uint64_t count, in.count(12));
    for (uint64_t b = 0; b < count; ++b) {
        StoredBatch stored;
        MILLRACE_ASSIGN_OR_RETURN(stored.batch, in.batch(s.schemas[side_index]));
        const std::size_t n = stored.batch.num_rows();
        if (n == 0) return in.corrupt("an empty buffered batch");
        stored.keys.resize(n);
        stored.times.assign(n, kNoTime);
        stored.expiry.assign(n, kNever);
        stored.alive.assign(n, 1);
        stored.pending.assign(n, 0);
        stored.live = static_cast<uint32_t>(n);
        if (s.bounds.time_column[side_index]) {
            const std::size_t c = *s.bounds.time_column[side_index];
            if (c >= stored.batch.num_columns()) return in.corrupt("time column");
            const Column& times = stored.batch.column(c);
            for (std::size_t i = 0; i < n; ++i) {
                if (!times.is_null(i)) stored.times[i] = times.values<int64_t>()[i];
            }
        }
        const uint64_t id = side.next_id++;
        for (std::size_t i = 0; i < n; ++i) {
            MILLRACE_ASSIGN_OR_RETURN(std::string_view key, in.bytes());
            MILLRACE_ASSIGN_OR_RETURN(stored.expiry[i], in.i64());
            MILLRACE_ASSIGN_OR_RETURN(stored.pending[i], in.u8());
            if (stored.pending[i] > 1) return in.corrupt("pending flag");
            stored.keys[i] = std::string(key);
            side.index_row(stored, id, static_cast<uint32_t>(i));
        }
        stored.bytes = stored.batch.memory_bytes();
        for (const std::string& key : stored.keys) stored.bytes += key.size() + 32;
        s.bytes += stored.bytes;
        side.rows += n;
        side.batches.emplace(id, std::move(stored));
    }
    return {};
}

Status StreamJoinOperator::restore_state(std::string_view bytes) {
    State& s = *state_;
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kStreamJoin));
    MILLRACE_ASSIGN_OR_RETURN(const Header header, read_header(in));
    s.watermark = header.watermark;
    s.forwarded = header.forwarded;
    s.expired = header.expired;
    s.bytes = 0;
    for (int side_index = 0; side_index < 2; ++side_index) {
        s.sides[side_index] = State::Side();
        MILLRACE_TRY(read_batches(in, side_index));
    }
    MILLRACE_TRY(s.memory.resize(s.bytes));
    return in.expect_end();
}

void StreamJoinOperator::mark_state_saved() {
    State& s = *state_;
    s.saves.tracking = true;
    s.saves.watermark = s.watermark;
    s.saves.pending = false;
    for (int side = 0; side < 2; ++side) {
        s.saves.next_id[side] = s.sides[side].next_id;
        s.saves.finished[side] = s.sides[side].finished;
        s.saves.pending = s.saves.pending || !s.sides[side].pending.empty();
    }
}

bool StreamJoinOperator::state_changed_since_save() const {
    const State& s = *state_;
    if (!s.saves.tracking) return false;
    if (s.watermark != s.saves.watermark) return true;
    for (int side = 0; side < 2; ++side) {
        if (s.sides[side].next_id != s.saves.next_id[side] ||
            s.sides[side].finished != s.saves.finished[side])
            return true;
    }
    return false;
}

Result<std::optional<std::string>> StreamJoinOperator::serialize_state_changes() {
    State& s = *state_;
    // Rows saved before any watermark (a state TTL's) take their expiry from the next one,
    // which the changes do not carry: the caller saves the whole state, and that is a save.
    if (!s.saves.tracking || s.saves.pending) {
        if (s.saves.tracking) mark_state_saved();
        return std::optional<std::string>();
    }
    StateWriter out(OperatorStateKind::kStreamJoin);
    write_header(out, s);
    std::size_t size = 64;
    for (int side_index = 0; side_index < 2; ++side_index) {
        const State::Side& side = s.sides[side_index];
        for (auto it = side.batches.lower_bound(s.saves.next_id[side_index]);
             it != side.batches.end(); ++it)
            size += it->second.bytes;
    }
    out.reserve(size);  // sized once, as serialize_state
    for (int side_index = 0; side_index < 2; ++side_index) {
        const State::Side& side = s.sides[side_index];
        out.u8(side.finished ? 1 : 0);
        auto first = side.batches.lower_bound(s.saves.next_id[side_index]);
        out.u64(static_cast<uint64_t>(std::distance(first, side.batches.end())));
        for (auto it = first; it != side.batches.end(); ++it) write_stored(out, it->second);
    }
    mark_state_saved();
    return std::optional<std::string>(std::move(out).finish());
}

Status StreamJoinOperator::apply_state_changes(std::string_view bytes) {
    State& s = *state_;
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kStreamJoin));
    MILLRACE_ASSIGN_OR_RETURN(const Header header, read_header(in));
    if (s.watermark && (!header.watermark || *header.watermark < *s.watermark))
        return in.corrupt("changes whose watermark is behind the state's");
    for (const State::Side& side : s.sides) {
        if (!side.pending.empty()) return in.corrupt("changes over rows waiting for a watermark");
    }
    // What that watermark dropped since the state they are laid over, then what arrived.
    if (header.watermark) {
        s.watermark = header.watermark;
        expire_until(*header.watermark);
    }
    s.forwarded = header.forwarded;
    s.expired = header.expired;
    for (int side_index = 0; side_index < 2; ++side_index)
        MILLRACE_TRY(read_batches(in, side_index));
    MILLRACE_TRY(s.memory.resize(s.bytes));
    return in.expect_end();
}

}  // namespace millrace
