#include "exec/hash_join_operator.h"

#include <fmt/format.h>

#include "exec/expression_evaluator.h"
#include "exec/input_aligner.h"
#include "exec/key_encoder.h"
#include "exec/operator_state.h"
#include "sketch/hash.h"

namespace millrace {

namespace {

constexpr uint32_t kNoRow = UINT32_MAX;

/// build_matched values: a build row that never matched, matched, or was dead-lettered (its key
/// failed to evaluate) and so must not come out of a RIGHT/FULL join either.
constexpr uint8_t kUnmatched = 0;
constexpr uint8_t kMatched = 1;
constexpr uint8_t kRejected = 2;

/// The build side's rows by encoded key: open addressing over the distinct keys (kept in one
/// arena), and the rows of one key chained through `next_` in build order. About 24 bytes per
/// distinct key plus its encoding, and 4 per row.
class JoinTable {
public:
    explicit JoinTable(std::size_t rows = 0) : next_(rows, kNoRow) {}

    /// Adds build row `row` under `key`. Rows must come in descending order, so that each chain
    /// runs in ascending (build) order.
    void add(std::string_view key, uint32_t row) {
        const uint32_t k = find_or_insert(key);
        next_[row] = heads_[k];
        heads_[k] = row;
    }
    /// The first build row of `key`, or kNoRow.
    uint32_t first(std::string_view key) const {
        if (slots_.empty()) return kNoRow;
        const uint64_t hash = hash_string(key);
        for (std::size_t slot = hash & mask_;; slot = (slot + 1) & mask_) {
            const uint32_t entry = slots_[slot];
            if (entry == 0) return kNoRow;
            if (hashes_[entry - 1] == hash && key_of(entry - 1) == key) return heads_[entry - 1];
        }
    }
    uint32_t next(uint32_t row) const { return next_[row]; }
    std::size_t memory_bytes() const {
        return arena_.capacity() + offsets_.capacity() * sizeof(uint32_t) +
               hashes_.capacity() * sizeof(uint64_t) + heads_.capacity() * sizeof(uint32_t) +
               slots_.capacity() * sizeof(uint32_t) + next_.capacity() * sizeof(uint32_t);
    }

private:
    std::string_view key_of(uint32_t k) const {
        return std::string_view(arena_).substr(offsets_[k], offsets_[k + 1] - offsets_[k]);
    }
    void grow() {
        const std::size_t capacity = slots_.empty() ? 1024 : slots_.size() * 2;
        slots_.assign(capacity, 0);
        mask_ = capacity - 1;
        for (uint32_t k = 0; k < hashes_.size(); ++k) {
            std::size_t slot = hashes_[k] & mask_;
            while (slots_[slot] != 0) slot = (slot + 1) & mask_;
            slots_[slot] = k + 1;
        }
    }
    uint32_t find_or_insert(std::string_view key) {
        if ((hashes_.size() + 1) * 2 > slots_.size()) grow();
        const uint64_t hash = hash_string(key);
        std::size_t slot = hash & mask_;
        for (; slots_[slot] != 0; slot = (slot + 1) & mask_) {
            const uint32_t k = slots_[slot] - 1;
            if (hashes_[k] == hash && key_of(k) == key) return k;
        }
        const auto k = static_cast<uint32_t>(hashes_.size());
        arena_.append(key);
        offsets_.push_back(static_cast<uint32_t>(arena_.size()));
        hashes_.push_back(hash);
        heads_.push_back(kNoRow);
        slots_[slot] = k + 1;
        return k;
    }

    std::string arena_;
    std::vector<uint32_t> offsets_{0};
    std::vector<uint64_t> hashes_;
    std::vector<uint32_t> heads_;  // per key: its first row
    std::vector<uint32_t> slots_;  // key index + 1; 0 = empty
    std::size_t mask_ = 0;
    std::vector<uint32_t> next_;  // per build row: the next row of its key
};

/// A column of `rows` nulls (the missing side of an outer join's row).
std::shared_ptr<const Column> null_column(DataType type, std::size_t rows) {
    ColumnBuilder b(type, rows);
    for (std::size_t k = 0; k < rows; ++k) b.append_null();
    return std::make_shared<const Column>(b.finish());
}

}  // namespace

/// The build (right) input's port: into the join's InputAligner as port kBuild.
class HashJoinOperator::BuildPort final : public BatchSink {
public:
    explicit BuildPort(InputAligner& inputs) : inputs_(inputs) {}
    Status push(Batch batch) override {
        return inputs_.arrive(kBuild, PortInput::of(std::move(batch)));
    }
    Status finish() override { return inputs_.arrive(kBuild, PortInput::end()); }
    Status on_control(const ControlSignal& signal) override {
        return inputs_.arrive(kBuild, PortInput::of(signal));
    }

private:
    InputAligner& inputs_;
};

struct HashJoinOperator::State {
    State(HashJoinOperator& join, ExecContext& context, const std::string& origin)
        : inputs(
              2,
              [&join](std::size_t port, PortInput input) {
                  if (port == kBuild)
                      return input.batch ? join.build_push(std::move(*input.batch))
                                         : join.build_finish();
                  return input.batch ? join.probe_push(std::move(*input.batch))
                                     : join.probe_finish();
              },
              [&join](const ControlSignal& signal) { return join.output_->on_control(signal); },
              fmt::format("the join in `{}`", origin)),
          build_memory(context,
                       fmt::format("the build side (right input) of the join in `{}`", origin),
                       "join the smaller relation on the right or filter it first"),
          waiting_memory(
              context,
              fmt::format("probe rows waiting for the build side of the join in `{}`", origin),
              "read the right input of the join before its left input") {}

    sql::JoinType type;
    std::vector<sql::BoundExpr> left_keys, right_keys;
    std::optional<sql::BoundExpr> residual;
    std::shared_ptr<const Schema> left_schema, right_schema, schema;
    ExecContext* context;
    std::string origin;
    ExpressionEvaluator evaluator;
    RowErrors errors;
    // Ports kProbe and kBuild: watermarks and aligned barriers.
    InputAligner inputs;

    std::vector<Batch> build_batches;
    std::size_t build_bytes = 0;
    Batch build;  // all build rows, once finished
    bool built = false;
    // A new build side being read while the current one answers probes (reloads).
    std::vector<Batch> reload_batches;
    std::size_t reload_bytes = 0;
    uint64_t reloads = 0;
    JoinTable table;
    std::vector<uint8_t> build_matched;
    std::vector<Batch> waiting_probes;
    bool probe_finished = false;
    std::unique_ptr<BuildPort> port;
    std::string scratch;
    MemoryReservation build_memory;
    MemoryReservation waiting_memory;

    // The pairs of the output batch being assembled: probe row, build row.
    std::vector<uint32_t> left_rows, right_rows;
};

HashJoinOperator::HashJoinOperator(sql::JoinType type, std::vector<sql::BoundExpr> left_keys,
                                   std::vector<sql::BoundExpr> right_keys,
                                   std::optional<sql::BoundExpr> residual,
                                   std::shared_ptr<const Schema> left_schema,
                                   std::shared_ptr<const Schema> right_schema,
                                   std::shared_ptr<const Schema> schema, ExecContext& context,
                                   std::string origin)
    : state_(std::make_unique<State>(*this, context, origin)) {
    State& s = *state_;
    s.type = type;
    s.left_keys = std::move(left_keys);
    s.right_keys = std::move(right_keys);
    s.residual = std::move(residual);
    s.left_schema = std::move(left_schema);
    s.right_schema = std::move(right_schema);
    s.schema = std::move(schema);
    s.context = &context;
    s.origin = std::move(origin);
    s.port = std::make_unique<BuildPort>(s.inputs);
}

HashJoinOperator::~HashJoinOperator() = default;

BatchSink& HashJoinOperator::build_side() { return *state_->port; }

uint64_t HashJoinOperator::build_reloads() const { return state_->reloads; }

Status HashJoinOperator::build_push(Batch batch) {
    State& s = *state_;
    if (s.built) {
        // A reload: the current build side stays until this one is complete.
        if (s.reload_batches.empty()) s.reload_bytes = 0;
        s.reload_bytes += batch.memory_bytes();
        MILLRACE_TRY(s.build_memory.resize(s.build.memory_bytes() + s.table.memory_bytes() +
                                           s.build.num_rows() + s.reload_bytes));
        s.reload_batches.push_back(std::move(batch));
        return {};
    }
    s.build_bytes += batch.memory_bytes();
    MILLRACE_TRY(s.build_memory.resize(s.build_bytes));
    s.build_batches.push_back(std::move(batch));
    return {};
}

Status HashJoinOperator::build_finish() {
    State& s = *state_;
    if (s.built) {
        // The end of a reload: swap in the new rows (none: an empty build side).
        s.build = s.reload_batches.empty() ? Batch::empty(s.right_schema)
                                           : concat_batches(s.right_schema, s.reload_batches);
        s.reload_batches.clear();
        s.reload_batches.shrink_to_fit();
        s.reload_bytes = 0;
        s.build_matched.assign(s.build.num_rows(), kUnmatched);
        ++s.reloads;
        return index_build(true);
    }
    // The batches and their concatenation are both alive while it is made.
    MILLRACE_TRY(s.build_memory.resize(2 * s.build_bytes));
    s.build = s.build_batches.empty() ? Batch::empty(s.right_schema)
                                      : concat_batches(s.right_schema, s.build_batches);
    s.build_batches.clear();
    s.build_batches.shrink_to_fit();
    s.build_matched.assign(s.build.num_rows(), kUnmatched);
    MILLRACE_TRY(index_build(true));
    std::vector<Batch> waiting = std::move(s.waiting_probes);
    s.waiting_probes.clear();
    for (Batch& b : waiting) {
        MILLRACE_TRY(probe(b));
        b = Batch::empty(b.schema_ptr());
    }
    s.waiting_memory.release();
    if (s.probe_finished) return probe_finish();
    return {};
}

Status HashJoinOperator::index_build(bool report_errors) {
    State& s = *state_;
    const std::size_t rows = s.build.num_rows();
    std::vector<ColumnPtr> keys;
    std::vector<const Column*> pointers;
    s.errors.clear();
    for (const auto& key : s.right_keys) {
        keys.push_back(s.evaluator.evaluate(key, s.build, s.errors));
        pointers.push_back(keys.back().get());
    }
    for (const auto& entry : s.errors.entries()) {
        s.build_matched[entry.row] = kRejected;
        // A restored build side reported its bad rows before it was saved.
        if (!report_errors) continue;
        MILLRACE_TRY(s.context->row_error(
            DeadLetterRow{s.origin, entry.message, row_to_json(s.build, entry.row)}));
    }
    // Backwards, so that each key's chain lists its rows in build order.
    s.table = JoinTable(rows);
    for (std::size_t i = rows; i-- > 0;) {
        if (s.build_matched[i] == kRejected) continue;
        s.scratch.clear();
        if (!KeyEncoder::encode(pointers, i, s.scratch)) continue;  // null keys never match
        s.table.add(s.scratch, static_cast<uint32_t>(i));
    }
    keys.clear();
    MILLRACE_TRY(s.build_memory.resize(s.build.memory_bytes() + s.table.memory_bytes() + rows));
    s.built = true;
    return {};
}

Status HashJoinOperator::push(Batch batch) {
    return state_->inputs.arrive(kProbe, PortInput::of(std::move(batch)));
}

Status HashJoinOperator::finish() { return state_->inputs.arrive(kProbe, PortInput::end()); }

Status HashJoinOperator::on_control(const ControlSignal& signal) {
    return state_->inputs.arrive(kProbe, PortInput::of(signal));
}

Status HashJoinOperator::probe_push(Batch batch) {
    if (!state_->built) {
        MILLRACE_TRY(state_->waiting_memory.grow(batch.memory_bytes()));
        state_->waiting_probes.push_back(std::move(batch));
        return {};
    }
    return probe(batch);
}

Status HashJoinOperator::emit_pairs(const Batch& batch, std::vector<uint8_t>& left_matched) {
    State& s = *state_;
    if (s.left_rows.empty()) return {};
    std::vector<std::shared_ptr<const Column>> columns;
    columns.reserve(s.schema->size());
    for (std::size_t c = 0; c < batch.num_columns(); ++c)
        columns.push_back(std::make_shared<const Column>(take_rows(batch.column(c), s.left_rows)));
    for (std::size_t c = 0; c < s.build.num_columns(); ++c)
        columns.push_back(
            std::make_shared<const Column>(take_rows(s.build.column(c), s.right_rows)));
    Batch joined(s.schema, std::move(columns), s.left_rows.size());
    if (s.residual) {
        RowErrors residual_errors;
        ColumnPtr keep = s.evaluator.evaluate(*s.residual, joined, residual_errors);
        for (const auto& entry : residual_errors.entries()) {
            MILLRACE_TRY(s.context->row_error(
                DeadLetterRow{s.origin, entry.message, row_to_json(joined, entry.row)}));
        }
        std::vector<uint32_t> selection;
        for (std::size_t i = 0; i < joined.num_rows(); ++i) {
            if (!keep->is_null(i) && keep->value<uint8_t>(i)) {
                selection.push_back(static_cast<uint32_t>(i));
                left_matched[s.left_rows[i]] = kMatched;
                s.build_matched[s.right_rows[i]] = kMatched;
            }
        }
        if (selection.size() != joined.num_rows()) joined = joined.take(selection);
    } else {
        for (uint32_t l : s.left_rows) left_matched[l] = kMatched;
        for (uint32_t r : s.right_rows) s.build_matched[r] = kMatched;
    }
    s.left_rows.clear();
    s.right_rows.clear();
    return emit(std::move(joined));
}

Status HashJoinOperator::probe(const Batch& batch) {
    State& s = *state_;
    const std::size_t n = batch.num_rows();
    s.errors.clear();
    std::vector<ColumnPtr> keys;
    std::vector<const Column*> pointers;
    for (const auto& key : s.left_keys) {
        keys.push_back(s.evaluator.evaluate(key, batch, s.errors));
        pointers.push_back(keys.back().get());
    }
    RowErrors key_errors = std::move(s.errors);
    s.errors.clear();
    for (const auto& entry : key_errors.entries()) {
        MILLRACE_TRY(s.context->row_error(
            DeadLetterRow{s.origin, entry.message, row_to_json(batch, entry.row)}));
    }
    // The output goes out in batches of at most kOutputBatchRows rows as the probe walks its
    // matches: a key that matches many build rows (a cross join matches all of them) never
    // makes the whole product exist at once.
    std::vector<uint8_t> left_matched(n, kUnmatched);
    s.left_rows.clear();
    s.right_rows.clear();
    for (std::size_t i = 0; i < n; ++i) {
        if (key_errors.has(static_cast<uint32_t>(i))) continue;
        s.scratch.clear();
        if (!KeyEncoder::encode(pointers, i, s.scratch)) continue;
        for (uint32_t r = s.table.first(s.scratch); r != kNoRow; r = s.table.next(r)) {
            s.left_rows.push_back(static_cast<uint32_t>(i));
            s.right_rows.push_back(r);
            if (s.left_rows.size() == kOutputBatchRows)
                MILLRACE_TRY(emit_pairs(batch, left_matched));
        }
    }
    MILLRACE_TRY(emit_pairs(batch, left_matched));
    if (s.type == sql::JoinType::kLeft || s.type == sql::JoinType::kFull) {
        std::vector<uint32_t> rows;
        auto flush = [&]() -> Status {
            if (rows.empty()) return {};
            std::vector<std::shared_ptr<const Column>> columns;
            for (std::size_t c = 0; c < batch.num_columns(); ++c)
                columns.push_back(std::make_shared<const Column>(take_rows(batch.column(c), rows)));
            for (std::size_t c = 0; c < s.right_schema->size(); ++c)
                columns.push_back(null_column(s.right_schema->field(c).type, rows.size()));
            Batch out(s.schema, std::move(columns), rows.size());
            rows.clear();
            return emit(std::move(out));
        };
        for (std::size_t i = 0; i < n; ++i) {
            if (left_matched[i] != kUnmatched || key_errors.has(static_cast<uint32_t>(i))) continue;
            rows.push_back(static_cast<uint32_t>(i));
            if (rows.size() == kOutputBatchRows) MILLRACE_TRY(flush());
        }
        MILLRACE_TRY(flush());
    }
    return {};
}

Status HashJoinOperator::probe_finish() {
    State& s = *state_;
    s.probe_finished = true;
    if (!s.built) return {};  // finishes when the build side does
    if (s.type == sql::JoinType::kRight || s.type == sql::JoinType::kFull) {
        std::vector<uint32_t> rows;
        auto flush = [&]() -> Status {
            if (rows.empty()) return {};
            std::vector<std::shared_ptr<const Column>> columns;
            for (std::size_t c = 0; c < s.left_schema->size(); ++c)
                columns.push_back(null_column(s.left_schema->field(c).type, rows.size()));
            for (std::size_t c = 0; c < s.build.num_columns(); ++c)
                columns.push_back(
                    std::make_shared<const Column>(take_rows(s.build.column(c), rows)));
            Batch out(s.schema, std::move(columns), rows.size());
            rows.clear();
            return emit(std::move(out));
        };
        for (std::size_t i = 0; i < s.build.num_rows(); ++i) {
            if (s.build_matched[i] != kUnmatched) continue;
            rows.push_back(static_cast<uint32_t>(i));
            if (rows.size() == kOutputBatchRows) MILLRACE_TRY(flush());
        }
        MILLRACE_TRY(flush());
    }
    // Every row is out: free the build side before downstream operators buffer more.
    s.table = JoinTable();
    s.build = Batch::empty(s.right_schema);
    s.build_matched = {};
    s.build_memory.release();
    return output_->finish();
}

// State body (after the envelope of exec/operator_state.h):
//
//   u8 built (the build input finished)
//   built:      batch build side (all rows), bytes one byte per build row (0 unmatched,
//               1 matched, 2 rejected: its key failed to evaluate)
//   not built:  u64 batches, then each: batch of the build input so far;
//               u64 batches, then each: batch of probe rows waiting for the build side
//   u8 probe input finished
//
// Input held behind a waiting barrier is not part of the state: it follows the checkpoint.
Result<std::string> HashJoinOperator::serialize_state() const {
    const State& s = *state_;
    StateWriter out(OperatorStateKind::kHashJoin);
    out.u8(s.built ? 1 : 0);
    if (s.built) {
        out.batch(s.build);
        out.bytes(std::string_view(reinterpret_cast<const char*>(s.build_matched.data()),
                                   s.build_matched.size()));
    } else {
        out.u64(s.build_batches.size());
        for (const Batch& b : s.build_batches) out.batch(b);
        out.u64(s.waiting_probes.size());
        for (const Batch& b : s.waiting_probes) out.batch(b);
    }
    out.u8(s.probe_finished ? 1 : 0);
    return std::move(out).finish();
}

Status HashJoinOperator::restore_state(std::string_view bytes) {
    State& s = *state_;
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kHashJoin));
    MILLRACE_ASSIGN_OR_RETURN(uint8_t built, in.u8());
    s.build_batches.clear();
    s.waiting_probes.clear();
    s.build_bytes = 0;
    s.waiting_memory.release();
    if (built != 0) {
        MILLRACE_ASSIGN_OR_RETURN(s.build, in.batch(s.right_schema));
        MILLRACE_ASSIGN_OR_RETURN(std::string_view matched, in.bytes());
        if (matched.size() != s.build.num_rows()) return in.corrupt("build rows and flags differ");
        s.build_matched.assign(matched.begin(), matched.end());
        for (uint8_t flag : s.build_matched) {
            if (flag > kRejected) return in.corrupt("bad build row flag");
        }
        MILLRACE_TRY(index_build(false));
        // The build input had ended: it holds no barrier or watermark back.
        s.inputs.set_finished(kBuild);
    } else {
        s.built = false;
        MILLRACE_ASSIGN_OR_RETURN(uint64_t build_batches, in.count(12));
        for (uint64_t i = 0; i < build_batches; ++i) {
            MILLRACE_ASSIGN_OR_RETURN(Batch b, in.batch(s.right_schema));
            MILLRACE_TRY(build_push(std::move(b)));
        }
        MILLRACE_ASSIGN_OR_RETURN(uint64_t waiting, in.count(12));
        for (uint64_t i = 0; i < waiting; ++i) {
            MILLRACE_ASSIGN_OR_RETURN(Batch b, in.batch(s.left_schema));
            MILLRACE_TRY(s.waiting_memory.grow(b.memory_bytes()));
            s.waiting_probes.push_back(std::move(b));
        }
    }
    MILLRACE_ASSIGN_OR_RETURN(uint8_t probe_finished, in.u8());
    s.probe_finished = probe_finished != 0;
    if (s.probe_finished) s.inputs.set_finished(kProbe);
    return in.expect_end();
}

}  // namespace millrace
