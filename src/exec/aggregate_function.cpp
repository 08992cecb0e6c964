#include "exec/aggregate_function.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "common/check.h"
#include "exec/distinct_set.h"
#include "exec/key_encoder.h"
#include "sketch/dd_sketch.h"
#include "sketch/hash.h"
#include "sketch/hyper_log_log.h"

namespace millrace {

using sql::Aggregate;

namespace {

int64_t as_int64(const Column& c, std::size_t row) {
    switch (c.type()) {
        case DataType::kBool:
            return c.value<uint8_t>(row);
        case DataType::kInt32:
        case DataType::kDate:
            return c.value<int32_t>(row);
        default:
            return c.value<int64_t>(row);
    }
}

DataType input_type(const sql::AggregateCall& call) {
    return call.args.empty() ? DataType::kInt64 : call.args[0].type;
}

std::span<const uint8_t> as_span(std::string_view bytes) {
    return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

/// count(*) and count(x): i64 count.
class CountState final : public AggregateState {
public:
    explicit CountState(Aggregate id) : id_(id) {}
    Aggregate function() const override { return id_; }
    void resize(std::size_t groups) override { counts_.resize(groups, 0); }
    Status update(const Column* column, const uint32_t* gids, std::size_t n) override {
        // Raw pointers, hoisted: stores through them cannot make the compiler reload a vector.
        int64_t* counts = counts_.data();
        if (column == nullptr || !column->has_nulls()) {
            for (std::size_t i = 0; i < n; ++i) ++counts[gids[i]];
        } else {
            for (std::size_t i = 0; i < n; ++i) counts[gids[i]] += column->is_valid(i);
        }
        return {};
    }
    Status merge(uint32_t into, const AggregateState& other, uint32_t from) override {
        counts_[into] += static_cast<const CountState&>(other).counts_[from];
        return {};
    }
    void finalize(uint32_t g, ColumnBuilder& out) const override { out.append_int64(counts_[g]); }
    void serialize(uint32_t g, StateWriter& out) const override { out.i64(counts_[g]); }
    Status restore(uint32_t g, StateReader& in) override {
        MILLRACE_ASSIGN_OR_RETURN(counts_[g], in.i64());
        return {};
    }
    std::size_t bytes_per_group() const override { return sizeof(int64_t); }

private:
    Aggregate id_;
    std::vector<int64_t> counts_;
};

/// count(DISTINCT x): per group, the set of encoded values (KeyEncoder) in a DistinctSet.
/// Serialized as u64 values, then each value's bytes, in the set's canonical order so that
/// equal states serialize to equal bytes.
class CountDistinctState final : public AggregateState {
public:
    explicit CountDistinctState(std::string_view origin) : origin_(origin) {}
    Aggregate function() const override { return Aggregate::kCountDistinct; }
    void resize(std::size_t groups) override { sets_.resize(groups); }
    Status update(const Column* column, const uint32_t* gids, std::size_t n) override {
        std::vector<const Column*> one{column};
        for (std::size_t i = 0; i < n; ++i) {
            if (column->is_null(i)) continue;
            scratch_.clear();
            KeyEncoder::encode(one, i, scratch_);
            MILLRACE_TRY(insert(gids[i], scratch_));
        }
        return {};
    }
    Status merge(uint32_t into, const AggregateState& other, uint32_t from) override {
        Status status;
        static_cast<const CountDistinctState&>(other).sets_[from].for_each([&](std::string_view v) {
            if (status.ok()) status = insert(into, v);
        });
        return status;
    }
    void finalize(uint32_t g, ColumnBuilder& out) const override {
        out.append_int64(static_cast<int64_t>(sets_[g].size()));
    }
    void serialize(uint32_t g, StateWriter& out) const override {
        out.u64(sets_[g].size());
        for (std::string_view v : sets_[g].canonical_order()) out.bytes(v);
    }
    Status restore(uint32_t g, StateReader& in) override {
        MILLRACE_ASSIGN_OR_RETURN(uint64_t values, in.count(8));
        grown_bytes_ -= sets_[g].memory_bytes();
        sets_[g].clear();
        for (uint64_t v = 0; v < values; ++v) {
            MILLRACE_ASSIGN_OR_RETURN(std::string_view value, in.bytes());
            MILLRACE_TRY(insert(g, value));
        }
        return {};
    }
    std::size_t bytes_per_group() const override { return sizeof(DistinctSet); }

private:
    Status insert(uint32_t g, std::string_view value) {
        DistinctSet& set = sets_[g];
        const std::size_t before = set.memory_bytes();
        if (set.insert(value) == DistinctSet::Inserted::kFull) {
            return Error(ErrorCode::kResourceExhausted,
                         fmt::format("count(DISTINCT) of {} holds more than 4 GiB of values in "
                                     "one group",
                                     origin_));
        }
        grown_bytes_ += set.memory_bytes() - before;
        return {};
    }
    std::string origin_;
    std::vector<DistinctSet> sets_;
    std::string scratch_;
};

/// A sketch per group (HyperLogLog, DDSketch): what the sketches grow by is counted once per
/// batch for each group the batch touched.
template <typename Sketch>
class SketchState : public AggregateState {
public:
    void resize(std::size_t groups) override {
        sketches_.resize(groups);
        counted_.resize(groups, 0);
        touched_.resize(groups, 0);
    }
    Status merge(uint32_t into, const AggregateState& other, uint32_t from) override {
        MILLRACE_TRY(sketches_[into].merge(static_cast<const SketchState&>(other).sketches_[from]));
        count_growth(into);
        return {};
    }
    void serialize(uint32_t g, StateWriter& out) const override {
        out.bytes(sketches_[g].serialize());
    }
    Status restore(uint32_t g, StateReader& in) override {
        MILLRACE_ASSIGN_OR_RETURN(std::string_view bytes, in.bytes());
        MILLRACE_ASSIGN_OR_RETURN(sketches_[g], Sketch::deserialize(as_span(bytes)));
        count_growth(g);
        return {};
    }
    std::size_t bytes_per_group() const override { return sizeof(Sketch); }

protected:
    /// Counts the growth of the groups of one batch's rows.
    void count_batch_growth(const uint32_t* gids, std::size_t n) {
        ++stamp_;
        for (std::size_t i = 0; i < n; ++i) {
            const uint32_t g = gids[i];
            if (touched_[g] == stamp_) continue;
            touched_[g] = stamp_;
            count_growth(g);
        }
    }
    void count_growth(uint32_t g) {
        const std::size_t now = sketches_[g].memory_bytes() - sizeof(Sketch);
        grown_bytes_ = grown_bytes_ + now - counted_[g];
        counted_[g] = static_cast<uint32_t>(now);
    }

    std::vector<Sketch> sketches_;
    std::vector<uint32_t> counted_;  // per group: the sketch's size last counted
    std::vector<uint32_t> touched_;  // per group: the batch that last touched it
    uint32_t stamp_ = 0;
};

/// approx_count_distinct(x): HyperLogLog of the values' hashes.
class ApproxCountDistinctState final : public SketchState<HyperLogLog> {
public:
    Aggregate function() const override { return Aggregate::kApproxCountDistinct; }
    Status update(const Column* column, const uint32_t* gids, std::size_t n) override {
        // The rows' hashes first, then the adds, each sketch's slot asked for kAhead rows
        // before its add: a batch spreads over many groups' sketches (tens of KiB each), so
        // most adds would otherwise wait on a cache miss one after the other.
        constexpr std::size_t kAhead = 8;
        groups_.clear();
        hashes_.clear();
        for (std::size_t i = 0; i < n; ++i) {
            if (column->is_null(i)) continue;
            groups_.push_back(gids[i]);
            switch (column->type()) {
                case DataType::kFloat64:
                    hashes_.push_back(hash_double(column->value<double>(i)));
                    break;
                case DataType::kString:
                case DataType::kBytes:
                    hashes_.push_back(hash_string(column->string_at(i)));
                    break;
                default:
                    hashes_.push_back(hash_int64(as_int64(*column, i)));
                    break;
            }
        }
        const std::size_t m = groups_.size();
        for (std::size_t k = 0; k < m; ++k) {
            if (k + kAhead < m) sketches_[groups_[k + kAhead]].prefetch(hashes_[k + kAhead]);
            sketches_[groups_[k]].add_hash(hashes_[k]);
        }
        count_batch_growth(gids, n);
        return {};
    }
    void finalize(uint32_t g, ColumnBuilder& out) const override {
        out.append_int64(static_cast<int64_t>(sketches_[g].estimate()));
    }

private:
    std::vector<uint32_t> groups_;  // update(): the group of each row with a value
    std::vector<uint64_t> hashes_;  // and its value's hash
};

/// approx_percentile(x, q): DDSketch of the values; q is a bound constant.
class ApproxPercentileState final : public SketchState<DDSketch> {
public:
    explicit ApproxPercentileState(double fraction) : fraction_(fraction) {}
    Aggregate function() const override { return Aggregate::kApproxPercentile; }
    Status update(const Column* column, const uint32_t* gids, std::size_t n) override {
        for (std::size_t i = 0; i < n; ++i) {
            if (column->is_null(i)) continue;
            double v = column->type() == DataType::kFloat64
                           ? column->value<double>(i)
                           : static_cast<double>(as_int64(*column, i));
            sketches_[gids[i]].add(v);
        }
        count_batch_growth(gids, n);
        return {};
    }
    void finalize(uint32_t g, ColumnBuilder& out) const override {
        std::optional<double> q = sketches_[g].quantile(fraction_);
        if (q) {
            out.append_double(*q);
        } else {
            out.append_null();
        }
    }

private:
    double fraction_;
};

/// avg(x): i64 count, i64 integer sum, f64 double sum.
class AvgState final : public AggregateState {
public:
    AvgState(DataType input, std::string origin) : input_(input), origin_(std::move(origin)) {}
    Aggregate function() const override { return Aggregate::kAvg; }
    void resize(std::size_t groups) override {
        counts_.resize(groups, 0);
        ints_.resize(groups, 0);
        doubles_.resize(groups, 0);
    }
    Status update(const Column* column, const uint32_t* gids, std::size_t n) override {
        int64_t* counts = counts_.data();
        if (column->type() == DataType::kFloat64) {
            double* sums = doubles_.data();
            const double* v = column->values<double>().data();
            for (std::size_t i = 0; i < n; ++i) {
                if (column->is_null(i)) continue;
                ++counts[gids[i]];
                sums[gids[i]] += v[i];
            }
            return {};
        }
        int64_t* sums = ints_.data();
        for (std::size_t i = 0; i < n; ++i) {
            if (column->is_null(i)) continue;
            const uint32_t g = gids[i];
            ++counts[g];
            if (__builtin_add_overflow(sums[g], as_int64(*column, i), &sums[g])) return overflow();
        }
        return {};
    }
    Status merge(uint32_t into, const AggregateState& other, uint32_t from) override {
        const auto& o = static_cast<const AvgState&>(other);
        counts_[into] += o.counts_[from];
        doubles_[into] += o.doubles_[from];
        if (__builtin_add_overflow(ints_[into], o.ints_[from], &ints_[into])) return overflow();
        return {};
    }
    void finalize(uint32_t g, ColumnBuilder& out) const override {
        if (counts_[g] == 0) {
            out.append_null();
        } else if (input_ == DataType::kFloat64) {
            out.append_double(doubles_[g] / static_cast<double>(counts_[g]));
        } else {
            out.append_double(static_cast<double>(ints_[g]) / static_cast<double>(counts_[g]));
        }
    }
    void serialize(uint32_t g, StateWriter& out) const override {
        out.i64(counts_[g]);
        out.i64(ints_[g]);
        out.f64(doubles_[g]);
    }
    Status restore(uint32_t g, StateReader& in) override {
        MILLRACE_ASSIGN_OR_RETURN(counts_[g], in.i64());
        MILLRACE_ASSIGN_OR_RETURN(ints_[g], in.i64());
        MILLRACE_ASSIGN_OR_RETURN(doubles_[g], in.f64());
        return {};
    }
    std::size_t bytes_per_group() const override { return 2 * sizeof(int64_t) + sizeof(double); }

private:
    Error overflow() const {
        return Error(ErrorCode::kOutOfRange,
                     fmt::format("bigint out of range in avg() of {}", origin_));
    }
    DataType input_;
    std::string origin_;
    std::vector<int64_t> counts_, ints_;
    std::vector<double> doubles_;
};

/// One optional value per group, by the input's physical type: sum, min, max, bool_and,
/// bool_or. Serialized as u8 has a value, then when it has: bytes (string/bytes input), f64
/// (double input) or i64 (every other input).
class ValueState : public AggregateState {
public:
    ValueState(Aggregate id, DataType input, DataType output)
        : id_(id),
          output_(output),
          strings_(input == DataType::kString || input == DataType::kBytes),
          doubles_(input == DataType::kFloat64) {}
    Aggregate function() const override { return id_; }
    void resize(std::size_t groups) override {
        has_.resize(groups, 0);
        if (strings_) {
            string_values_.resize(groups);
        } else if (doubles_) {
            double_values_.resize(groups, 0);
        } else {
            int_values_.resize(groups, 0);
        }
    }
    void finalize(uint32_t g, ColumnBuilder& out) const override {
        if (!has_[g]) {
            out.append_null();
        } else if (strings_) {
            out.append_string(string_values_[g]);
        } else if (doubles_) {
            out.append_double(double_values_[g]);
        } else if (output_ == DataType::kBool) {
            out.append_bool(int_values_[g] != 0);
        } else if (output_ == DataType::kInt32 || output_ == DataType::kDate) {
            out.append<int32_t>(static_cast<int32_t>(int_values_[g]));
        } else {
            out.append<int64_t>(int_values_[g]);
        }
    }
    void serialize(uint32_t g, StateWriter& out) const override {
        out.u8(has_[g]);
        if (!has_[g]) return;
        if (strings_) {
            out.bytes(string_values_[g]);
        } else if (doubles_) {
            out.f64(double_values_[g]);
        } else {
            out.i64(int_values_[g]);
        }
    }
    Status restore(uint32_t g, StateReader& in) override {
        MILLRACE_ASSIGN_OR_RETURN(has_[g], in.u8());
        if (!has_[g]) return {};
        if (strings_) {
            MILLRACE_ASSIGN_OR_RETURN(std::string_view v, in.bytes());
            assign_string(g, v);
        } else if (doubles_) {
            MILLRACE_ASSIGN_OR_RETURN(double_values_[g], in.f64());
        } else {
            MILLRACE_ASSIGN_OR_RETURN(int_values_[g], in.i64());
        }
        return {};
    }
    std::size_t bytes_per_group() const override {
        return 1 + (strings_ ? sizeof(std::string) : sizeof(int64_t));
    }

protected:
    void assign_string(uint32_t g, std::string_view v) {
        std::size_t before = string_values_[g].capacity();
        string_values_[g].assign(v);
        grown_bytes_ += string_values_[g].capacity() - before;
    }

    Aggregate id_;
    DataType output_;
    bool strings_;
    bool doubles_;
    std::vector<uint8_t> has_;
    std::vector<std::string> string_values_;
    std::vector<double> double_values_;
    std::vector<int64_t> int_values_;
};

/// sum(x): bigint sums fail on overflow; double sums follow IEEE.
class SumState final : public ValueState {
public:
    SumState(DataType input, DataType output, std::string origin)
        : ValueState(Aggregate::kSum, input, output), origin_(std::move(origin)) {}
    Status update(const Column* column, const uint32_t* gids, std::size_t n) override {
        uint8_t* has = has_.data();
        if (doubles_) {
            double* sums = double_values_.data();
            const double* v = column->values<double>().data();
            for (std::size_t i = 0; i < n; ++i) {
                if (column->is_null(i)) continue;
                sums[gids[i]] += v[i];
                has[gids[i]] = 1;
            }
            return {};
        }
        int64_t* sums = int_values_.data();
        for (std::size_t i = 0; i < n; ++i) {
            if (column->is_null(i)) continue;
            int64_t& sum = sums[gids[i]];
            if (__builtin_add_overflow(sum, as_int64(*column, i), &sum)) return overflow();
            has[gids[i]] = 1;
        }
        return {};
    }
    Status merge(uint32_t into, const AggregateState& other, uint32_t from) override {
        const auto& o = static_cast<const SumState&>(other);
        if (!o.has_[from]) return {};
        if (doubles_) {
            double_values_[into] += o.double_values_[from];
        } else if (__builtin_add_overflow(int_values_[into], o.int_values_[from],
                                          &int_values_[into])) {
            return overflow();
        }
        has_[into] = 1;
        return {};
    }

private:
    Error overflow() const {
        return Error(ErrorCode::kOutOfRange,
                     fmt::format("bigint out of range in sum() of {}", origin_));
    }
    std::string origin_;
};

/// min, max, and bool_and / bool_or (the min / max of booleans).
class ExtremeState final : public ValueState {
public:
    ExtremeState(Aggregate id, DataType input, DataType output)
        : ValueState(id, input, output),
          is_min_(id == Aggregate::kMin || id == Aggregate::kBoolAnd) {}
    Status update(const Column* column, const uint32_t* gids, std::size_t n) override {
        for (std::size_t i = 0; i < n; ++i) {
            if (column->is_null(i)) continue;
            const uint32_t g = gids[i];
            if (strings_) {
                offer_string(g, column->string_at(i));
            } else if (doubles_) {
                offer_double(g, column->value<double>(i));
            } else {
                offer_int(g, as_int64(*column, i));
            }
            has_[g] = 1;
        }
        return {};
    }
    Status merge(uint32_t into, const AggregateState& other, uint32_t from) override {
        const auto& o = static_cast<const ExtremeState&>(other);
        if (!o.has_[from]) return {};
        if (strings_) {
            offer_string(into, o.string_values_[from]);
        } else if (doubles_) {
            offer_double(into, o.double_values_[from]);
        } else {
            offer_int(into, o.int_values_[from]);
        }
        has_[into] = 1;
        return {};
    }

private:
    void offer_string(uint32_t g, std::string_view v) {
        if (!has_[g] || (is_min_ ? v < string_values_[g] : v > string_values_[g]))
            assign_string(g, v);
    }
    void offer_double(uint32_t g, double v) {
        // NaN sorts above every number (PostgreSQL)
        auto less = [](double a, double b) {
            return std::isnan(b) ? !std::isnan(a) : (!std::isnan(a) && a < b);
        };
        if (!has_[g] || (is_min_ ? less(v, double_values_[g]) : less(double_values_[g], v)))
            double_values_[g] = v;
    }
    void offer_int(uint32_t g, int64_t v) {
        if (!has_[g] || (is_min_ ? v < int_values_[g] : v > int_values_[g])) int_values_[g] = v;
    }
    bool is_min_;
};

// ---- the registry of exec: one factory per sql::Aggregate --------------------------------------

const AggregateFunction kAggregateFunctions[] = {
    {Aggregate::kCountStar,
     [](const sql::AggregateCall&, std::string_view) -> std::unique_ptr<AggregateState> {
         return std::make_unique<CountState>(Aggregate::kCountStar);
     }},
    {Aggregate::kCount,
     [](const sql::AggregateCall&, std::string_view) -> std::unique_ptr<AggregateState> {
         return std::make_unique<CountState>(Aggregate::kCount);
     }},
    {Aggregate::kCountDistinct,
     [](const sql::AggregateCall&, std::string_view origin) -> std::unique_ptr<AggregateState> {
         return std::make_unique<CountDistinctState>(origin);
     }},
    {Aggregate::kSum,
     [](const sql::AggregateCall& call,
        std::string_view origin) -> std::unique_ptr<AggregateState> {
         return std::make_unique<SumState>(input_type(call), call.type, std::string(origin));
     }},
    {Aggregate::kAvg,
     [](const sql::AggregateCall& call,
        std::string_view origin) -> std::unique_ptr<AggregateState> {
         return std::make_unique<AvgState>(input_type(call), std::string(origin));
     }},
    {Aggregate::kMin,
     [](const sql::AggregateCall& call, std::string_view) -> std::unique_ptr<AggregateState> {
         return std::make_unique<ExtremeState>(Aggregate::kMin, input_type(call), call.type);
     }},
    {Aggregate::kMax,
     [](const sql::AggregateCall& call, std::string_view) -> std::unique_ptr<AggregateState> {
         return std::make_unique<ExtremeState>(Aggregate::kMax, input_type(call), call.type);
     }},
    {Aggregate::kApproxCountDistinct,
     [](const sql::AggregateCall&, std::string_view) -> std::unique_ptr<AggregateState> {
         return std::make_unique<ApproxCountDistinctState>();
     }},
    {Aggregate::kApproxPercentile,
     [](const sql::AggregateCall& call, std::string_view) -> std::unique_ptr<AggregateState> {
         return std::make_unique<ApproxPercentileState>(call.args[1].constant.as_double());
     }},
    {Aggregate::kBoolAnd,
     [](const sql::AggregateCall& call, std::string_view) -> std::unique_ptr<AggregateState> {
         return std::make_unique<ExtremeState>(Aggregate::kBoolAnd, input_type(call), call.type);
     }},
    {Aggregate::kBoolOr,
     [](const sql::AggregateCall& call, std::string_view) -> std::unique_ptr<AggregateState> {
         return std::make_unique<ExtremeState>(Aggregate::kBoolOr, input_type(call), call.type);
     }},
};

}  // namespace

const AggregateFunction* find_aggregate_function_kernel(Aggregate id) {
    for (const AggregateFunction& f : kAggregateFunctions) {
        if (f.id == id) return &f;
    }
    return nullptr;
}

std::unique_ptr<AggregateState> make_aggregate_state(const sql::AggregateCall& call,
                                                     std::string_view origin) {
    const AggregateFunction* f = find_aggregate_function_kernel(call.function);
    MILLRACE_CHECK(f != nullptr, fmt::format("no exec entry for aggregate {}",
                                             sql::aggregate_name(call.function)));
    return f->create(call, origin);
}

}  // namespace millrace
