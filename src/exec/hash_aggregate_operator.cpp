#include "exec/hash_aggregate_operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "exec/key_encoder.h"
#include "exec/operator_state.h"
#include "sketch/dd_sketch.h"
#include "sketch/hash.h"
#include "sketch/hyper_log_log.h"

namespace millrace {

using sql::Aggregate;

namespace {

/// What a std::unordered_set<std::string> node costs beyond its key's characters (node, hash,
/// bucket pointer, string header).
constexpr std::size_t kSetNodeBytes = 64;

/// The running value of one aggregate for every group (arrays indexed by group id).
struct Accumulator {
    Aggregate function;
    DataType input_type = DataType::kInt64;
    DataType output_type = DataType::kInt64;
    double fraction = 0;  // approx_percentile
    std::vector<int64_t> counts;
    std::vector<int64_t> ints;
    std::vector<double> doubles;
    std::vector<uint8_t> has;
    std::vector<std::string> strings;
    std::vector<std::unordered_set<std::string>> distinct;
    std::vector<HyperLogLog> hll;
    std::vector<DDSketch> quantiles;
    std::vector<uint32_t> counted_sketch_bytes;  // per group: the sketch's size last counted

    /// Bytes per group of the arrays resize() grows (what a group's state holds beyond them,
    /// strings, distinct sets and sketches, is counted as it grows: see `grown_bytes`).
    std::size_t bytes_per_group() const {
        switch (function) {
            case Aggregate::kCountStar:
            case Aggregate::kCount:
                return sizeof(int64_t);
            case Aggregate::kCountDistinct:
                return sizeof(std::unordered_set<std::string>);
            case Aggregate::kApproxCountDistinct:
                return sizeof(HyperLogLog);
            case Aggregate::kApproxPercentile:
                return sizeof(DDSketch);
            case Aggregate::kAvg:
                return 2 * sizeof(int64_t) + sizeof(double);
            default:
                return 1 + (input_type == DataType::kString || input_type == DataType::kBytes
                                ? sizeof(std::string)
                                : sizeof(int64_t));
        }
    }

    void resize(std::size_t groups) {
        switch (function) {
            case Aggregate::kCountStar:
            case Aggregate::kCount:
                counts.resize(groups, 0);
                break;
            case Aggregate::kCountDistinct:
                distinct.resize(groups);
                break;
            case Aggregate::kApproxCountDistinct:
                hll.resize(groups);
                break;
            case Aggregate::kApproxPercentile:
                quantiles.resize(groups);
                break;
            case Aggregate::kAvg:
                counts.resize(groups, 0);
                ints.resize(groups, 0);
                doubles.resize(groups, 0);
                break;
            default:
                has.resize(groups, 0);
                if (input_type == DataType::kString || input_type == DataType::kBytes) {
                    strings.resize(groups);
                } else if (input_type == DataType::kFloat64) {
                    doubles.resize(groups, 0);
                } else {
                    ints.resize(groups, 0);
                }
        }
    }
};

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

}  // namespace

struct HashAggregateOperator::State {
    std::vector<sql::BoundExpr> keys;
    std::vector<sql::AggregateCall> calls;
    std::shared_ptr<const Schema> schema;
    ExecContext* context = nullptr;
    std::string origin;
    ExpressionEvaluator evaluator;
    RowErrors errors;
    std::vector<Accumulator> accumulators;

    // Groups: encoded keys in one arena, open addressing over group ids.
    std::string arena;
    std::vector<uint32_t> key_offsets{0};
    std::vector<uint64_t> group_hashes;
    std::vector<uint32_t> slots;  // group id + 1; 0 = empty
    std::size_t mask = 0;
    std::string scratch;
    std::vector<uint32_t> group_ids;
    std::optional<MemoryReservation> memory;
    // Bytes of per-group state that grows in place: distinct values, min/max strings, sketches.
    std::size_t grown_bytes = 0;
    std::vector<uint32_t> touched_stamp;  // per group: the batch that last touched it
    uint32_t batch_stamp = 0;

    std::size_t group_count() const { return group_hashes.size(); }

    std::string_view key_of(uint32_t group) const {
        return std::string_view(arena).substr(key_offsets[group],
                                              key_offsets[group + 1] - key_offsets[group]);
    }

    void grow() {
        std::size_t capacity = slots.empty() ? 1024 : slots.size() * 2;
        slots.assign(capacity, 0);
        mask = capacity - 1;
        for (uint32_t g = 0; g < group_hashes.size(); ++g) {
            std::size_t slot = group_hashes[g] & mask;
            while (slots[slot] != 0) slot = (slot + 1) & mask;
            slots[slot] = g + 1;
        }
    }

    uint32_t find_or_insert(std::string_view key) {
        if ((group_count() + 1) * 2 > slots.size()) grow();
        uint64_t hash = hash_string(key);
        std::size_t slot = hash & mask;
        while (true) {
            uint32_t entry = slots[slot];
            if (entry == 0) break;
            uint32_t group = entry - 1;
            if (group_hashes[group] == hash && key_of(group) == key) return group;
            slot = (slot + 1) & mask;
        }
        uint32_t group = static_cast<uint32_t>(group_count());
        arena.append(key);
        key_offsets.push_back(static_cast<uint32_t>(arena.size()));
        group_hashes.push_back(hash);
        slots[slot] = group + 1;
        return group;
    }

    Status update(Accumulator& acc, const Column* column, std::size_t n) {
        const uint32_t* gids = group_ids.data();
        switch (acc.function) {
            case Aggregate::kCountStar:
                for (std::size_t i = 0; i < n; ++i) ++acc.counts[gids[i]];
                return {};
            case Aggregate::kCount:
                if (!column->has_nulls()) {
                    for (std::size_t i = 0; i < n; ++i) ++acc.counts[gids[i]];
                } else {
                    for (std::size_t i = 0; i < n; ++i) acc.counts[gids[i]] += column->is_valid(i);
                }
                return {};
            case Aggregate::kCountDistinct: {
                std::vector<const Column*> one{column};
                for (std::size_t i = 0; i < n; ++i) {
                    if (column->is_null(i)) continue;
                    scratch.clear();
                    KeyEncoder::encode(one, i, scratch);
                    if (acc.distinct[gids[i]].insert(scratch).second)
                        grown_bytes += scratch.size() + kSetNodeBytes;
                }
                return {};
            }
            case Aggregate::kApproxCountDistinct:
                for (std::size_t i = 0; i < n; ++i) {
                    if (column->is_null(i)) continue;
                    uint64_t hash = 0;
                    switch (column->type()) {
                        case DataType::kFloat64:
                            hash = hash_double(column->value<double>(i));
                            break;
                        case DataType::kString:
                        case DataType::kBytes:
                            hash = hash_string(column->string_at(i));
                            break;
                        default:
                            hash = hash_int64(as_int64(*column, i));
                            break;
                    }
                    acc.hll[gids[i]].add_hash(hash);
                }
                return {};
            case Aggregate::kApproxPercentile:
                for (std::size_t i = 0; i < n; ++i) {
                    if (column->is_null(i)) continue;
                    double v = column->type() == DataType::kFloat64
                                   ? column->value<double>(i)
                                   : static_cast<double>(as_int64(*column, i));
                    acc.quantiles[gids[i]].add(v);
                }
                return {};
            case Aggregate::kSum:
                if (column->type() == DataType::kFloat64) {
                    const double* v = column->values<double>().data();
                    for (std::size_t i = 0; i < n; ++i) {
                        if (column->is_null(i)) continue;
                        acc.doubles[gids[i]] += v[i];
                        acc.has[gids[i]] = 1;
                    }
                } else {
                    for (std::size_t i = 0; i < n; ++i) {
                        if (column->is_null(i)) continue;
                        int64_t& sum = acc.ints[gids[i]];
                        if (__builtin_add_overflow(sum, as_int64(*column, i), &sum)) {
                            return Error(ErrorCode::kOutOfRange,
                                         fmt::format("bigint out of range in sum() of {}", origin));
                        }
                        acc.has[gids[i]] = 1;
                    }
                }
                return {};
            case Aggregate::kAvg:
                for (std::size_t i = 0; i < n; ++i) {
                    if (column->is_null(i)) continue;
                    uint32_t g = gids[i];
                    ++acc.counts[g];
                    if (column->type() == DataType::kFloat64) {
                        acc.doubles[g] += column->value<double>(i);
                    } else if (__builtin_add_overflow(acc.ints[g], as_int64(*column, i),
                                                      &acc.ints[g])) {
                        return Error(ErrorCode::kOutOfRange,
                                     fmt::format("bigint out of range in avg() of {}", origin));
                    }
                }
                return {};
            case Aggregate::kMin:
            case Aggregate::kMax:
            case Aggregate::kBoolAnd:
            case Aggregate::kBoolOr: {
                bool is_min =
                    acc.function == Aggregate::kMin || acc.function == Aggregate::kBoolAnd;
                for (std::size_t i = 0; i < n; ++i) {
                    if (column->is_null(i)) continue;
                    uint32_t g = gids[i];
                    if (!acc.strings.empty()) {
                        std::string_view v = column->string_at(i);
                        if (!acc.has[g] || (is_min ? v < acc.strings[g] : v > acc.strings[g])) {
                            std::size_t before = acc.strings[g].capacity();
                            acc.strings[g].assign(v);
                            grown_bytes += acc.strings[g].capacity() - before;
                        }
                    } else if (!acc.doubles.empty()) {
                        double v = column->value<double>(i);
                        // NaN sorts above every number (PostgreSQL)
                        auto less = [](double a, double b) {
                            return std::isnan(b) ? !std::isnan(a) : (!std::isnan(a) && a < b);
                        };
                        if (!acc.has[g] ||
                            (is_min ? less(v, acc.doubles[g]) : less(acc.doubles[g], v)))
                            acc.doubles[g] = v;
                    } else {
                        int64_t v = as_int64(*column, i);
                        if (!acc.has[g] || (is_min ? v < acc.ints[g] : v > acc.ints[g]))
                            acc.ints[g] = v;
                    }
                    acc.has[g] = 1;
                }
                return {};
            }
        }
        return {};
    }

    /// Counts what the sketches of the groups `group_ids[0, n)` grew by in this batch.
    void count_sketch_growth(std::size_t n) {
        bool any = false;
        for (const auto& acc : accumulators) {
            any = any || acc.function == Aggregate::kApproxCountDistinct ||
                  acc.function == Aggregate::kApproxPercentile;
        }
        if (!any) return;
        ++batch_stamp;
        touched_stamp.resize(group_count(), 0);
        for (std::size_t i = 0; i < n; ++i) {
            const uint32_t g = group_ids[i];
            if (touched_stamp[g] == batch_stamp) continue;
            touched_stamp[g] = batch_stamp;
            for (auto& acc : accumulators) {
                std::size_t now = 0;
                if (acc.function == Aggregate::kApproxCountDistinct) {
                    now = acc.hll[g].memory_bytes() - sizeof(HyperLogLog);
                } else if (acc.function == Aggregate::kApproxPercentile) {
                    now = acc.quantiles[g].memory_bytes() - sizeof(DDSketch);
                } else {
                    continue;
                }
                acc.counted_sketch_bytes.resize(group_count(), 0);
                grown_bytes = grown_bytes + now - acc.counted_sketch_bytes[g];
                acc.counted_sketch_bytes[g] = static_cast<uint32_t>(now);
            }
        }
    }

    /// Counts the groups against the memory limit: a clear error, never an OOM kill.
    Status account() {
        std::size_t per_group = accumulators.size() * sizeof(uint32_t);
        for (const auto& acc : accumulators) per_group += acc.bytes_per_group();
        const std::size_t bytes = arena.capacity() + slots.size() * sizeof(uint32_t) +
                                  key_offsets.capacity() * sizeof(uint32_t) +
                                  group_hashes.capacity() * sizeof(uint64_t) +
                                  group_count() * per_group + grown_bytes;
        return memory->resize(bytes);
    }

    // State body (after the envelope of exec/operator_state.h):
    //
    //   u32 accumulators, then per accumulator: u8 Aggregate
    //   u64 groups, then per group (in first-seen order): bytes encoded key
    //   per accumulator, per group, by its function:
    //     count(*), count      i64 count
    //     count(DISTINCT)      u64 values, then per value: bytes encoded value (KeyEncoder)
    //     approx_count_distinct bytes HyperLogLog::serialize()
    //     approx_percentile    bytes DDSketch::serialize()
    //     avg                  i64 count, i64 integer sum, f64 double sum
    //     sum, min, max,       u8 has a value, then when it has: bytes (string/bytes input),
    //     bool_and, bool_or    f64 (double input) or i64 (every other input)
    void serialize(StateWriter& out) const {
        out.u32(static_cast<uint32_t>(accumulators.size()));
        for (const auto& acc : accumulators) out.u8(static_cast<uint8_t>(acc.function));
        const std::size_t groups = group_count();
        out.u64(groups);
        for (uint32_t g = 0; g < groups; ++g) out.bytes(key_of(g));
        for (const auto& acc : accumulators) {
            for (uint32_t g = 0; g < groups; ++g) {
                switch (acc.function) {
                    case Aggregate::kCountStar:
                    case Aggregate::kCount:
                        out.i64(acc.counts[g]);
                        break;
                    case Aggregate::kCountDistinct: {
                        // Sorted, so that equal states serialize to equal bytes.
                        std::vector<std::string_view> values(acc.distinct[g].begin(),
                                                             acc.distinct[g].end());
                        std::sort(values.begin(), values.end());
                        out.u64(values.size());
                        for (std::string_view v : values) out.bytes(v);
                        break;
                    }
                    case Aggregate::kApproxCountDistinct:
                        out.bytes(acc.hll[g].serialize());
                        break;
                    case Aggregate::kApproxPercentile:
                        out.bytes(acc.quantiles[g].serialize());
                        break;
                    case Aggregate::kAvg:
                        out.i64(acc.counts[g]);
                        out.i64(acc.ints[g]);
                        out.f64(acc.doubles[g]);
                        break;
                    default:
                        out.u8(acc.has[g]);
                        if (!acc.has[g]) break;
                        if (!acc.strings.empty()) {
                            out.bytes(acc.strings[g]);
                        } else if (!acc.doubles.empty()) {
                            out.f64(acc.doubles[g]);
                        } else {
                            out.i64(acc.ints[g]);
                        }
                }
            }
        }
    }

    Status restore(StateReader& in) {
        MILLRACE_ASSIGN_OR_RETURN(uint32_t stored, in.u32());
        if (stored != accumulators.size()) return in.corrupt("state of another aggregate");
        for (const auto& acc : accumulators) {
            MILLRACE_ASSIGN_OR_RETURN(uint8_t function, in.u8());
            if (function != static_cast<uint8_t>(acc.function))
                return in.corrupt("state of another aggregate");
        }
        arena.clear();
        key_offsets = {0};
        group_hashes.clear();
        slots.clear();
        mask = 0;
        grown_bytes = 0;
        touched_stamp.clear();
        MILLRACE_ASSIGN_OR_RETURN(uint64_t groups, in.count(8));
        for (uint64_t g = 0; g < groups; ++g) {
            MILLRACE_ASSIGN_OR_RETURN(std::string_view key, in.bytes());
            if (find_or_insert(key) != g) return in.corrupt("duplicate group key");
        }
        for (auto& acc : accumulators) {
            acc = Accumulator{acc.function, acc.input_type, acc.output_type, acc.fraction};
            acc.resize(groups);
            for (uint32_t g = 0; g < groups; ++g) {
                switch (acc.function) {
                    case Aggregate::kCountStar:
                    case Aggregate::kCount: {
                        MILLRACE_ASSIGN_OR_RETURN(acc.counts[g], in.i64());
                        break;
                    }
                    case Aggregate::kCountDistinct: {
                        MILLRACE_ASSIGN_OR_RETURN(uint64_t values, in.count(8));
                        for (uint64_t v = 0; v < values; ++v) {
                            MILLRACE_ASSIGN_OR_RETURN(std::string_view value, in.bytes());
                            if (acc.distinct[g].emplace(value).second)
                                grown_bytes += value.size() + kSetNodeBytes;
                        }
                        break;
                    }
                    case Aggregate::kApproxCountDistinct: {
                        MILLRACE_ASSIGN_OR_RETURN(std::string_view bytes, in.bytes());
                        MILLRACE_ASSIGN_OR_RETURN(
                            acc.hll[g],
                            HyperLogLog::deserialize(std::span<const uint8_t>(
                                reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())));
                        break;
                    }
                    case Aggregate::kApproxPercentile: {
                        MILLRACE_ASSIGN_OR_RETURN(std::string_view bytes, in.bytes());
                        MILLRACE_ASSIGN_OR_RETURN(
                            acc.quantiles[g],
                            DDSketch::deserialize(std::span<const uint8_t>(
                                reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())));
                        break;
                    }
                    case Aggregate::kAvg: {
                        MILLRACE_ASSIGN_OR_RETURN(acc.counts[g], in.i64());
                        MILLRACE_ASSIGN_OR_RETURN(acc.ints[g], in.i64());
                        MILLRACE_ASSIGN_OR_RETURN(acc.doubles[g], in.f64());
                        break;
                    }
                    default: {
                        MILLRACE_ASSIGN_OR_RETURN(acc.has[g], in.u8());
                        if (!acc.has[g]) break;
                        if (!acc.strings.empty()) {
                            MILLRACE_ASSIGN_OR_RETURN(std::string_view v, in.bytes());
                            acc.strings[g].assign(v);
                            grown_bytes += acc.strings[g].capacity();
                        } else if (!acc.doubles.empty()) {
                            MILLRACE_ASSIGN_OR_RETURN(acc.doubles[g], in.f64());
                        } else {
                            MILLRACE_ASSIGN_OR_RETURN(acc.ints[g], in.i64());
                        }
                    }
                }
            }
        }
        MILLRACE_TRY(in.expect_end());
        // The sketches are counted as if every group had been touched by one batch.
        group_ids.resize(groups);
        for (uint32_t g = 0; g < groups; ++g) group_ids[g] = g;
        count_sketch_growth(groups);
        return account();
    }

    void append_result(Accumulator& acc, uint32_t g, ColumnBuilder& out) {
        switch (acc.function) {
            case Aggregate::kCountStar:
            case Aggregate::kCount:
                out.append_int64(acc.counts[g]);
                return;
            case Aggregate::kCountDistinct:
                out.append_int64(static_cast<int64_t>(acc.distinct[g].size()));
                return;
            case Aggregate::kApproxCountDistinct:
                out.append_int64(static_cast<int64_t>(acc.hll[g].estimate()));
                return;
            case Aggregate::kApproxPercentile: {
                std::optional<double> q = acc.quantiles[g].quantile(acc.fraction);
                if (q) {
                    out.append_double(*q);
                } else {
                    out.append_null();
                }
                return;
            }
            case Aggregate::kAvg:
                if (acc.counts[g] == 0) {
                    out.append_null();
                } else if (acc.input_type == DataType::kFloat64) {
                    out.append_double(acc.doubles[g] / static_cast<double>(acc.counts[g]));
                } else {
                    out.append_double(static_cast<double>(acc.ints[g]) /
                                      static_cast<double>(acc.counts[g]));
                }
                return;
            default:
                if (!acc.has[g]) {
                    out.append_null();
                    return;
                }
                if (!acc.strings.empty()) {
                    out.append_string(acc.strings[g]);
                } else if (!acc.doubles.empty()) {
                    out.append_double(acc.doubles[g]);
                } else {
                    switch (acc.output_type) {
                        case DataType::kBool:
                            out.append_bool(acc.ints[g] != 0);
                            break;
                        case DataType::kInt32:
                        case DataType::kDate:
                            out.append<int32_t>(static_cast<int32_t>(acc.ints[g]));
                            break;
                        default:
                            out.append<int64_t>(acc.ints[g]);
                            break;
                    }
                }
        }
    }
};

HashAggregateOperator::HashAggregateOperator(std::vector<sql::BoundExpr> keys,
                                             std::vector<sql::AggregateCall> aggregates,
                                             std::shared_ptr<const Schema> schema,
                                             ExecContext& context, std::string origin)
    : state_(std::make_unique<State>()) {
    state_->keys = std::move(keys);
    state_->calls = std::move(aggregates);
    state_->schema = std::move(schema);
    state_->context = &context;
    state_->origin = std::move(origin);
    state_->memory.emplace(context, fmt::format("GROUP BY in `{}`", state_->origin),
                           "group by fewer keys or filter the rows first");
    for (const auto& call : state_->calls) {
        Accumulator acc;
        acc.function = call.function;
        acc.output_type = call.type;
        acc.input_type = call.args.empty() ? DataType::kInt64 : call.args[0].type;
        if (call.function == Aggregate::kApproxPercentile)
            acc.fraction = call.args[1].constant.as_double();
        state_->accumulators.push_back(std::move(acc));
    }
}

HashAggregateOperator::~HashAggregateOperator() = default;

std::size_t HashAggregateOperator::groups() const { return state_->group_count(); }

Status HashAggregateOperator::push(Batch batch) {
    State& s = *state_;
    const std::size_t n = batch.num_rows();
    s.errors.clear();
    std::vector<ColumnPtr> key_columns;
    std::vector<const Column*> key_pointers;
    for (const auto& key : s.keys) {
        key_columns.push_back(s.evaluator.evaluate(key, batch, s.errors));
        key_pointers.push_back(key_columns.back().get());
    }
    std::vector<ColumnPtr> arg_columns;
    for (const auto& call : s.calls) {
        arg_columns.push_back(
            call.args.empty() ? nullptr : s.evaluator.evaluate(call.args[0], batch, s.errors));
    }
    if (!s.errors.empty()) {
        // Rows whose keys or arguments failed leave the aggregate for the dead-letter route.
        std::vector<uint32_t> keep;
        for (std::size_t i = 0; i < n; ++i) {
            if (!s.errors.has(static_cast<uint32_t>(i))) keep.push_back(static_cast<uint32_t>(i));
        }
        for (const auto& entry : s.errors.entries()) {
            MILLRACE_TRY(s.context->row_error(
                DeadLetterRow{s.origin, entry.message, row_to_json(batch, entry.row)}));
        }
        return push(batch.take(keep));
    }
    s.group_ids.resize(n);
    if (s.keys.empty()) {
        if (s.group_count() == 0) s.find_or_insert("");
        std::fill(s.group_ids.begin(), s.group_ids.end(), 0);
    } else {
        const std::size_t stride = KeyEncoder::fixed_row_width(key_pointers);
        if (stride > 0) {
            s.scratch.resize(n * stride);
            KeyEncoder::encode_fixed(key_pointers, n, stride, s.scratch.data());
            const std::string_view keys(s.scratch);
            for (std::size_t i = 0; i < n; ++i)
                s.group_ids[i] = s.find_or_insert(keys.substr(i * stride, stride));
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                s.scratch.clear();
                KeyEncoder::encode(key_pointers, i, s.scratch);
                s.group_ids[i] = s.find_or_insert(s.scratch);
            }
        }
    }
    for (auto& acc : s.accumulators) acc.resize(s.group_count());
    for (std::size_t a = 0; a < s.accumulators.size(); ++a) {
        MILLRACE_TRY(s.update(s.accumulators[a], arg_columns[a].get(), n));
    }
    s.count_sketch_growth(n);
    return s.account();
}

Result<std::string> HashAggregateOperator::serialize_state() const {
    StateWriter out(OperatorStateKind::kHashAggregate);
    state_->serialize(out);
    return std::move(out).finish();
}

Status HashAggregateOperator::restore_state(std::string_view bytes) {
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kHashAggregate));
    return state_->restore(in);
}

Status HashAggregateOperator::finish() {
    State& s = *state_;
    if (s.keys.empty() && s.group_count() == 0) {
        s.find_or_insert("");
        for (auto& acc : s.accumulators) acc.resize(1);
    }
    std::size_t groups = s.group_count();
    for (std::size_t start = 0; start < groups; start += kOutputBatchRows) {
        std::size_t end = std::min(groups, start + kOutputBatchRows);
        std::vector<ColumnBuilder> key_builders;
        for (std::size_t k = 0; k < s.keys.size(); ++k)
            key_builders.emplace_back(s.schema->field(k).type, end - start);
        std::vector<ColumnBuilder> agg_builders;
        for (std::size_t a = 0; a < s.calls.size(); ++a)
            agg_builders.emplace_back(s.calls[a].type, end - start);
        for (std::size_t g = start; g < end; ++g) {
            if (!s.keys.empty())
                KeyEncoder::decode(s.key_of(static_cast<uint32_t>(g)), key_builders);
            for (std::size_t a = 0; a < s.calls.size(); ++a)
                s.append_result(s.accumulators[a], static_cast<uint32_t>(g), agg_builders[a]);
        }
        std::vector<std::shared_ptr<const Column>> columns;
        for (auto& b : key_builders) columns.push_back(std::make_shared<const Column>(b.finish()));
        for (auto& b : agg_builders) columns.push_back(std::make_shared<const Column>(b.finish()));
        MILLRACE_TRY(emit(Batch(s.schema, std::move(columns), end - start)));
    }
    // The groups are out: free them before downstream operators buffer more.
    s.accumulators.clear();
    s.arena = std::string();
    s.key_offsets = {0};
    s.group_hashes = {};
    s.slots = {};
    s.mask = 0;
    s.touched_stamp = {};
    s.grown_bytes = 0;
    s.memory->release();
    return output_->finish();
}

}  // namespace millrace
