#include "exec/hash_join_operator.h"

#include <fmt/format.h>

#include <unordered_map>

#include "exec/expression_evaluator.h"
#include "exec/key_encoder.h"

namespace millrace {

namespace {
constexpr uint32_t kNoRow = UINT32_MAX;
}  // namespace

class HashJoinOperator::BuildPort final : public BatchSink {
public:
    explicit BuildPort(HashJoinOperator& join) : join_(join) {}
    Status push(Batch batch) override;
    Status finish() override;

private:
    HashJoinOperator& join_;
};

struct HashJoinOperator::State {
    sql::JoinType type;
    std::vector<sql::BoundExpr> left_keys, right_keys;
    std::optional<sql::BoundExpr> residual;
    std::shared_ptr<const Schema> left_schema, right_schema, schema;
    ExecContext* context;
    std::string origin;
    ExpressionEvaluator evaluator;
    RowErrors errors;

    std::vector<Batch> build_batches;
    std::size_t build_bytes = 0;
    Batch build;  // all build rows, once finished
    bool built = false;
    std::unordered_map<std::string, std::vector<uint32_t>> table;
    std::vector<uint8_t> build_matched;
    std::vector<Batch> waiting_probes;
    bool probe_finished = false;
    std::unique_ptr<BuildPort> port;
    std::string scratch;
};

HashJoinOperator::HashJoinOperator(sql::JoinType type, std::vector<sql::BoundExpr> left_keys,
                                   std::vector<sql::BoundExpr> right_keys,
                                   std::optional<sql::BoundExpr> residual,
                                   std::shared_ptr<const Schema> left_schema,
                                   std::shared_ptr<const Schema> right_schema,
                                   std::shared_ptr<const Schema> schema, ExecContext& context,
                                   std::string origin)
    : state_(std::make_unique<State>()) {
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
    s.port = std::make_unique<BuildPort>(*this);
}

HashJoinOperator::~HashJoinOperator() = default;

BatchSink& HashJoinOperator::build_side() { return *state_->port; }

Status HashJoinOperator::BuildPort::push(Batch batch) {
    State& s = *join_.state_;
    s.build_bytes += batch.memory_bytes();
    if (s.build_bytes > s.context->memory_limit_bytes) {
        return Error(
            ErrorCode::kResourceExhausted,
            fmt::format(
                "the build side of the join in {} holds more than the memory limit of {} MiB; join "
                "a smaller "
                "relation on the right, filter it first, or raise the pipeline's memory_limit",
                s.origin, s.context->memory_limit_bytes >> 20));
    }
    s.build_batches.push_back(std::move(batch));
    return {};
}

Status HashJoinOperator::BuildPort::finish() {
    State& s = *join_.state_;
    s.build = s.build_batches.empty() ? Batch::empty(s.right_schema)
                                      : concat_batches(s.right_schema, s.build_batches);
    s.build_batches.clear();
    s.build_matched.assign(s.build.num_rows(), 0);
    std::vector<ColumnPtr> keys;
    std::vector<const Column*> pointers;
    for (const auto& key : s.right_keys) {
        keys.push_back(s.evaluator.evaluate(key, s.build, s.errors));
        pointers.push_back(keys.back().get());
    }
    s.errors.clear();
    for (std::size_t i = 0; i < s.build.num_rows(); ++i) {
        s.scratch.clear();
        if (!KeyEncoder::encode(pointers, i, s.scratch)) continue;  // null keys never match
        s.table[s.scratch].push_back(static_cast<uint32_t>(i));
    }
    s.built = true;
    std::vector<Batch> waiting = std::move(s.waiting_probes);
    for (const Batch& b : waiting) MILLRACE_TRY(join_.probe(b));
    if (s.probe_finished) return join_.finish();
    return {};
}

Status HashJoinOperator::push(Batch batch) {
    rows_in_ += batch.num_rows();
    if (!state_->built) {
        state_->waiting_probes.push_back(std::move(batch));
        return {};
    }
    return probe(batch);
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
    std::vector<uint32_t> left_rows, right_rows;
    for (std::size_t i = 0; i < n; ++i) {
        if (s.errors.has(static_cast<uint32_t>(i))) continue;
        s.scratch.clear();
        if (!KeyEncoder::encode(pointers, i, s.scratch)) continue;
        auto it = s.table.find(s.scratch);
        if (it == s.table.end()) continue;
        for (uint32_t r : it->second) {
            left_rows.push_back(static_cast<uint32_t>(i));
            right_rows.push_back(r);
        }
    }
    for (const auto& entry : s.errors.entries()) {
        s.context->dead_letter(
            DeadLetterRow{s.origin, entry.message, row_to_json(batch, entry.row)});
    }
    auto assemble = [&](const std::vector<uint32_t>& lrows, const std::vector<uint32_t>& rrows) {
        std::vector<std::shared_ptr<const Column>> columns;
        for (std::size_t c = 0; c < batch.num_columns(); ++c) {
            ColumnBuilder b(batch.column(c).type(), lrows.size());
            for (uint32_t r : lrows) {
                if (r == kNoRow)
                    b.append_null();
                else
                    b.append_from(batch.column(c), r);
            }
            columns.push_back(std::make_shared<const Column>(b.finish()));
        }
        for (std::size_t c = 0; c < s.build.num_columns(); ++c) {
            ColumnBuilder b(s.build.column(c).type(), rrows.size());
            for (uint32_t r : rrows) {
                if (r == kNoRow)
                    b.append_null();
                else
                    b.append_from(s.build.column(c), r);
            }
            columns.push_back(std::make_shared<const Column>(b.finish()));
        }
        return Batch(s.schema, std::move(columns), lrows.size());
    };
    Batch joined = assemble(left_rows, right_rows);
    std::vector<uint8_t> left_matched(n, 0);
    if (s.residual && joined.num_rows() > 0) {
        RowErrors residual_errors;
        ColumnPtr keep = s.evaluator.evaluate(*s.residual, joined, residual_errors);
        std::vector<uint32_t> selection;
        for (std::size_t i = 0; i < joined.num_rows(); ++i) {
            if (!keep->is_null(i) && keep->value<uint8_t>(i))
                selection.push_back(static_cast<uint32_t>(i));
        }
        for (const auto& entry : residual_errors.entries()) {
            s.context->dead_letter(
                DeadLetterRow{s.origin, entry.message, row_to_json(joined, entry.row)});
        }
        std::vector<uint32_t> l2, r2;
        for (uint32_t i : selection) {
            l2.push_back(left_rows[i]);
            r2.push_back(right_rows[i]);
        }
        left_rows = std::move(l2);
        right_rows = std::move(r2);
        if (selection.size() != joined.num_rows()) joined = joined.take(selection);
    }
    for (uint32_t l : left_rows) left_matched[l] = 1;
    for (uint32_t r : right_rows) s.build_matched[r] = 1;
    MILLRACE_TRY(emit(std::move(joined)));
    if (s.type == sql::JoinType::kLeft || s.type == sql::JoinType::kFull) {
        std::vector<uint32_t> lrows, rrows;
        for (std::size_t i = 0; i < n; ++i) {
            if (!left_matched[i] && !s.errors.has(static_cast<uint32_t>(i))) {
                lrows.push_back(static_cast<uint32_t>(i));
                rrows.push_back(kNoRow);
            }
        }
        if (!lrows.empty()) MILLRACE_TRY(emit(assemble(lrows, rrows)));
    }
    return {};
}

Status HashJoinOperator::finish() {
    State& s = *state_;
    s.probe_finished = true;
    if (!s.built) return {};  // finishes when the build side does
    if (s.type == sql::JoinType::kRight || s.type == sql::JoinType::kFull) {
        std::vector<std::shared_ptr<const Column>> columns;
        std::vector<uint32_t> rows;
        for (std::size_t i = 0; i < s.build.num_rows(); ++i) {
            if (!s.build_matched[i]) rows.push_back(static_cast<uint32_t>(i));
        }
        if (!rows.empty()) {
            for (std::size_t c = 0; c < s.left_schema->size(); ++c) {
                ColumnBuilder b(s.left_schema->field(c).type, rows.size());
                for (std::size_t k = 0; k < rows.size(); ++k) b.append_null();
                columns.push_back(std::make_shared<const Column>(b.finish()));
            }
            Batch right = s.build.take(rows);
            for (std::size_t c = 0; c < right.num_columns(); ++c)
                columns.push_back(right.column_ptr(c));
            MILLRACE_TRY(emit(Batch(s.schema, std::move(columns), rows.size())));
        }
    }
    return output_->finish();
}

}  // namespace millrace
