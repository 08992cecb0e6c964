#include "exec/sort_operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "exec/operator_state.h"

namespace millrace {

SortOperator::SortOperator(std::vector<sql::SortKey> keys, std::shared_ptr<const Schema> schema,
                           ExecContext& context, const std::string& origin)
    : keys_(std::move(keys)),
      schema_(std::move(schema)),
      memory_(context, fmt::format("ORDER BY in `{}`", origin),
              "add a LIMIT (which keeps only that many rows), aggregate or filter first") {}

Status SortOperator::push(Batch batch) {
    bytes_ += batch.memory_bytes();
    MILLRACE_TRY(memory_.resize(bytes_));
    batches_.push_back(std::move(batch));
    return {};
}

Status SortOperator::finish() {
    std::size_t rows = 0;
    for (const Batch& b : batches_) rows += b.num_rows();
    // The batches, their concatenation and the permutation are alive together while sorting.
    MILLRACE_TRY(memory_.resize(2 * bytes_ + rows * sizeof(uint32_t)));
    Batch all = batches_.empty() ? Batch::empty(schema_) : concat_batches(schema_, batches_);
    batches_.clear();
    batches_.shrink_to_fit();
    std::vector<uint32_t> order(all.num_rows());
    std::iota(order.begin(), order.end(), 0);
    auto compare = [&](uint32_t a, uint32_t b) {
        for (const sql::SortKey& key : keys_) {
            const Column& c = all.column(key.column);
            bool an = c.is_null(a), bn = c.is_null(b);
            if (an || bn) {
                if (an && bn) continue;
                return an == key.nulls_first;  // a null goes first iff nulls_first
            }
            int cmp = 0;
            switch (c.type()) {
                case DataType::kBool:
                    cmp = int{c.value<uint8_t>(a)} - int{c.value<uint8_t>(b)};
                    break;
                case DataType::kInt32:
                case DataType::kDate: {
                    auto x = c.value<int32_t>(a), y = c.value<int32_t>(b);
                    cmp = x < y ? -1 : (y < x ? 1 : 0);
                    break;
                }
                case DataType::kInt64:
                case DataType::kTimestamp: {
                    auto x = c.value<int64_t>(a), y = c.value<int64_t>(b);
                    cmp = x < y ? -1 : (y < x ? 1 : 0);
                    break;
                }
                case DataType::kFloat64: {
                    double x = c.value<double>(a), y = c.value<double>(b);
                    bool xn = std::isnan(x), yn = std::isnan(y);
                    cmp = (xn || yn) ? (xn == yn ? 0 : (xn ? 1 : -1))
                                     : (x < y ? -1 : (y < x ? 1 : 0));
                    break;
                }
                default: {
                    int r = c.string_at(a).compare(c.string_at(b));
                    cmp = r < 0 ? -1 : (r > 0 ? 1 : 0);
                }
            }
            if (cmp != 0) return key.descending ? cmp > 0 : cmp < 0;
        }
        return false;
    };
    std::stable_sort(order.begin(), order.end(), compare);
    for (std::size_t start = 0; start < order.size(); start += kOutputBatchRows) {
        std::size_t end = std::min(order.size(), start + kOutputBatchRows);
        std::vector<uint32_t> slice(order.begin() + static_cast<std::ptrdiff_t>(start),
                                    order.begin() + static_cast<std::ptrdiff_t>(end));
        MILLRACE_TRY(emit(all.take(slice)));
    }
    all = Batch::empty(schema_);
    bytes_ = 0;
    memory_.release();
    return output_->finish();
}

// State body (after the envelope of exec/operator_state.h):
//
//   u64 batches, then each: batch (the input so far, in arrival order)
Result<std::string> SortOperator::serialize_state() const {
    StateWriter out(OperatorStateKind::kSort);
    out.u64(batches_.size());
    for (const Batch& b : batches_) out.batch(b);
    return std::move(out).finish();
}

Status SortOperator::restore_state(std::string_view bytes) {
    MILLRACE_ASSIGN_OR_RETURN(StateReader in, StateReader::open(bytes, OperatorStateKind::kSort));
    MILLRACE_ASSIGN_OR_RETURN(uint64_t batches, in.count(12));
    batches_.clear();
    bytes_ = 0;
    MILLRACE_TRY(memory_.resize(0));
    for (uint64_t i = 0; i < batches; ++i) {
        MILLRACE_ASSIGN_OR_RETURN(Batch b, in.batch(schema_));
        MILLRACE_TRY(push(std::move(b)));
    }
    return in.expect_end();
}

Status LimitOperator::push(Batch batch) {
    if (done()) return {};
    std::size_t n = batch.num_rows();
    std::size_t begin = 0;
    if (skipped_ < offset_) {
        std::size_t skip = static_cast<std::size_t>(
            std::min<int64_t>(offset_ - skipped_, static_cast<int64_t>(n)));
        skipped_ += static_cast<int64_t>(skip);
        begin = skip;
    }
    std::size_t end = n;
    if (limit_ >= 0)
        end = std::min<std::size_t>(
            n, begin + static_cast<std::size_t>(limit_ - static_cast<int64_t>(emitted_)));
    if (end <= begin) return {};
    emitted_ += end - begin;
    if (begin == 0 && end == n) return emit(std::move(batch));
    std::vector<uint32_t> rows;
    for (std::size_t i = begin; i < end; ++i) rows.push_back(static_cast<uint32_t>(i));
    return emit(batch.take(rows));
}

class UnionOperator::Port final : public BatchSink {
public:
    Port(InputAligner& aligner, std::size_t index) : aligner_(aligner), index_(index) {}
    Status push(Batch batch) override {
        return aligner_.arrive(index_, PortInput::of(std::move(batch)));
    }
    Status finish() override { return aligner_.arrive(index_, PortInput::end()); }
    Status on_control(const ControlSignal& signal) override {
        return aligner_.arrive(index_, PortInput::of(signal));
    }

private:
    InputAligner& aligner_;
    std::size_t index_;
};

UnionOperator::UnionOperator(std::size_t inputs) : remaining_(inputs) {
    aligner_ = std::make_unique<InputAligner>(
        inputs,
        [this](std::size_t, PortInput input) -> Status {
            if (input.batch) return emit(std::move(*input.batch));
            return --remaining_ == 0 ? output_->finish() : Status{};
        },
        [this](const ControlSignal& signal) { return output_->on_control(signal); }, "UNION ALL");
    for (std::size_t i = 0; i < inputs; ++i) ports_.push_back(std::make_unique<Port>(*aligner_, i));
}

UnionOperator::~UnionOperator() = default;

BatchSink& UnionOperator::input(std::size_t i) { return *ports_[i]; }

Status UnionOperator::push(Batch) {
    return Error(ErrorCode::kInternal, "UNION ALL takes its input through input(i)");
}

Status UnionOperator::finish() {
    return Error(ErrorCode::kInternal, "UNION ALL takes its input through input(i)");
}

}  // namespace millrace
