#include "exec/retracting_aggregate_operator.h"

#include <fmt/format.h>

#include <map>
#include <unordered_map>

#include "exec/key_encoder.h"
#include "exec/operator_state.h"
#include "types/column_builder.h"

namespace millrace {

namespace {

using sql::Aggregate;

/// Orders values of one type (min and max keep their values sorted, with a count each).
struct ValueLess {
    bool operator()(const Value& a, const Value& b) const {
        switch (a.type()) {
            case DataType::kBool:
                return a.as_bool() < b.as_bool();
            case DataType::kInt32:
            case DataType::kDate:
                return a.as_int32() < b.as_int32();
            case DataType::kInt64:
            case DataType::kTimestamp:
                return a.as_int64() < b.as_int64();
            case DataType::kFloat64:
                return a.as_double() < b.as_double();
            case DataType::kString:
            case DataType::kBytes:
                return a.as_string() < b.as_string();
        }
        return false;
    }
};

int64_t integer_of(const Value& value) {
    return value.type() == DataType::kInt32 || value.type() == DataType::kDate ? value.as_int32()
                                                                               : value.as_int64();
}

/// One aggregate of one outer group: what its contributions add up to.
struct Accumulator {
    int64_t count = 0;  // count(*): rows; the others: non-null arguments
    int64_t integer_sum = 0;
    double real_sum = 0;
    std::map<Value, int64_t, ValueLess> values;  // min, max
};

struct Group {
    std::vector<Value> key;
    int64_t contributions = 0;
    std::vector<Accumulator> accumulators;
    bool changed = false;
};

/// What one inner group adds to its outer group now.
struct Contribution {
    std::string group;        // the outer group's encoded key
    std::vector<Value> key;   // its values
    std::vector<Value> args;  // per aggregate (null for count(*))
};

std::size_t approximate_bytes(const std::string& inner, const Contribution& c) {
    std::size_t bytes = 96 + inner.size() + 2 * c.group.size();
    for (const auto* values : {&c.key, &c.args}) {
        for (const Value& v : *values) {
            bytes += sizeof(Value);
            if (!v.is_null() && (v.type() == DataType::kString || v.type() == DataType::kBytes))
                bytes += v.as_string().size();
        }
    }
    return bytes;
}

}  // namespace

struct RetractingAggregateOperator::State {
    State(ExecContext& context_, std::string origin_)
        : context(context_),
          origin(std::move(origin_)),
          memory(context, fmt::format("the aggregate over an upserting aggregate in `{}`", origin),
                 "raise the limit, or give the inner GROUP BY fewer groups") {}

    std::vector<sql::BoundExpr> keys;
    std::vector<sql::AggregateCall> calls;
    std::shared_ptr<const Schema> schema;
    std::size_t carried = 0;
    ExecContext& context;
    std::string origin;
    ExpressionEvaluator evaluator;
    RowErrors errors;
    MemoryReservation memory;
    std::size_t bytes = 0;

    std::unordered_map<std::string, Contribution> contributions;  // by inner group key
    std::unordered_map<std::string, Group> groups;                // by outer group key
    std::vector<std::string> changed;                             // in first-changed order

    void apply(const Contribution& c, int sign) {
        auto [at, inserted] = groups.try_emplace(c.group);
        Group& group = at->second;
        if (inserted) {
            group.key = c.key;
            group.accumulators.resize(calls.size());
        }
        group.contributions += sign;
        for (std::size_t i = 0; i < calls.size(); ++i) {
            Accumulator& acc = group.accumulators[i];
            const Value& v = c.args[i];
            if (calls[i].function == Aggregate::kCountStar) {
                acc.count += sign;
                continue;
            }
            if (v.is_null()) continue;
            acc.count += sign;
            switch (calls[i].function) {
                case Aggregate::kSum:
                case Aggregate::kAvg:
                    if (v.type() == DataType::kFloat64) {
                        acc.real_sum += sign * v.as_double();
                    } else {
                        acc.integer_sum += sign * integer_of(v);
                    }
                    break;
                case Aggregate::kMin:
                case Aggregate::kMax: {
                    auto value = acc.values.try_emplace(v, 0).first;
                    value->second += sign;
                    if (value->second == 0) acc.values.erase(value);
                    break;
                }
                default:
                    break;
            }
        }
        if (!group.changed) {
            group.changed = true;
            changed.push_back(c.group);
        }
    }

    Value result(const Group& group, std::size_t i) const {
        const Accumulator& acc = group.accumulators[i];
        const sql::AggregateCall& call = calls[i];
        switch (call.function) {
            case Aggregate::kCountStar:
            case Aggregate::kCount:
                return Value::int64(acc.count);
            case Aggregate::kSum:
                if (acc.count == 0) return Value::null();
                return call.type == DataType::kFloat64
                           ? Value::float64(acc.real_sum + static_cast<double>(acc.integer_sum))
                           : Value::int64(acc.integer_sum);
            case Aggregate::kAvg:
                if (acc.count == 0) return Value::null();
                return Value::float64((acc.real_sum + static_cast<double>(acc.integer_sum)) /
                                      static_cast<double>(acc.count));
            case Aggregate::kMin:
                return acc.values.empty() ? Value::null() : acc.values.begin()->first;
            case Aggregate::kMax:
                return acc.values.empty() ? Value::null() : acc.values.rbegin()->first;
            default:
                return Value::null();
        }
    }

    /// The schema of a state's contributions batch: the key columns, then one column per
    /// aggregate argument (count(*): a null bool).
    std::shared_ptr<const Schema> contribution_schema() const {
        std::vector<Field> fields;
        for (std::size_t k = 0; k < keys.size(); ++k)
            fields.push_back(Field{fmt::format("k{}", k), keys[k].type, true});
        for (std::size_t i = 0; i < calls.size(); ++i) {
            const DataType type = calls[i].args.empty() ? DataType::kBool : calls[i].args[0].type;
            fields.push_back(Field{fmt::format("a{}", i), type, true});
        }
        return std::make_shared<const Schema>(std::move(fields));
    }
};

RetractingAggregateOperator::RetractingAggregateOperator(std::vector<sql::BoundExpr> keys,
                                                         std::vector<sql::AggregateCall> aggregates,
                                                         std::shared_ptr<const Schema> schema,
                                                         std::size_t carried_keys,
                                                         ExecContext& context, std::string origin)
    : state_(std::make_unique<State>(context, std::move(origin))) {
    state_->keys = std::move(keys);
    state_->calls = std::move(aggregates);
    state_->schema = std::move(schema);
    state_->carried = carried_keys;
    state_->evaluator.set_statement_time(context.statement_time_micros());
}

RetractingAggregateOperator::~RetractingAggregateOperator() = default;

Status RetractingAggregateOperator::supports(const std::vector<sql::AggregateCall>& aggregates,
                                             const std::string& origin) {
    for (const sql::AggregateCall& call : aggregates) {
        const bool invertible =
            !call.distinct &&
            (call.function == Aggregate::kCountStar || call.function == Aggregate::kCount ||
             call.function == Aggregate::kSum || call.function == Aggregate::kAvg ||
             call.function == Aggregate::kMin || call.function == Aggregate::kMax);
        if (!invertible) {
            return Error(
                ErrorCode::kUnsupported,
                fmt::format("`{}`: {}{} over an upserting aggregate: each update takes the inner "
                            "group's previous row back out, which only count, sum, avg, min and "
                            "max can do (see docs/streaming.md)",
                            origin, aggregate_name(call.function),
                            call.distinct ? "(DISTINCT ...)" : ""));
        }
    }
    return {};
}

Status RetractingAggregateOperator::push(Batch batch) {
    State& s = *state_;
    const std::size_t n = batch.num_rows();
    if (n == 0) return {};
    s.errors.clear();
    std::vector<ColumnPtr> key_columns;
    for (const auto& key : s.keys)
        key_columns.push_back(s.evaluator.evaluate(key, batch, s.errors));
    std::vector<ColumnPtr> arg_columns;
    for (const auto& call : s.calls) {
        arg_columns.push_back(
            call.args.empty() ? nullptr : s.evaluator.evaluate(call.args[0], batch, s.errors));
    }
    std::vector<const Column*> inner_columns;
    for (std::size_t c = batch.num_columns() - s.carried; c < batch.num_columns(); ++c)
        inner_columns.push_back(&batch.column(c));
    std::vector<const Column*> outer_columns;
    for (const auto& column : key_columns) outer_columns.push_back(column.get());
    std::vector<Field> fields;
    std::vector<std::shared_ptr<const Column>> values;
    for (const auto& column : key_columns) {
        fields.push_back(Field{"k", column->type(), true});
        values.push_back(column);
    }
    for (const auto& column : arg_columns) {
        if (!column) continue;
        fields.push_back(Field{"a", column->type(), true});
        values.push_back(column);
    }
    const Batch evaluated(std::make_shared<const Schema>(std::move(fields)), std::move(values), n);

    std::string inner;
    for (std::size_t r = 0; r < n; ++r) {
        inner.clear();
        KeyEncoder::encode(inner_columns, r, inner);
        auto previous = s.contributions.find(inner);
        if (previous != s.contributions.end()) {
            s.apply(previous->second, -1);
            s.bytes -= approximate_bytes(previous->first, previous->second);
        }
        if (s.errors.has(static_cast<uint32_t>(r))) {
            // The row cannot be aggregated: its inner group contributes nothing until its next
            // update (the row goes to the dead letters below).
            if (previous != s.contributions.end()) s.contributions.erase(previous);
            continue;
        }
        Contribution c;
        KeyEncoder::encode(outer_columns, r, c.group);
        std::size_t column = 0;
        for (std::size_t k = 0; k < s.keys.size(); ++k)
            c.key.push_back(evaluated.value_at(r, column++));
        for (std::size_t i = 0; i < s.calls.size(); ++i)
            c.args.push_back(arg_columns[i] ? evaluated.value_at(r, column++) : Value::null());
        s.apply(c, +1);
        s.bytes += approximate_bytes(inner, c);
        if (previous != s.contributions.end()) {
            previous->second = std::move(c);
        } else {
            s.contributions.emplace(inner, std::move(c));
        }
    }
    for (const auto& entry : s.errors.entries()) {
        MILLRACE_TRY(s.context.row_error(
            DeadLetterRow{s.origin, entry.message, row_to_json(batch, entry.row)}));
    }
    return s.memory.resize(s.bytes);
}

Status RetractingAggregateOperator::emit_changed() {
    State& s = *state_;
    if (s.changed.empty()) return {};
    std::vector<ColumnBuilder> builders;
    for (std::size_t c = 0; c < s.schema->size(); ++c)
        builders.emplace_back(s.schema->field(c).type, s.changed.size());
    for (const std::string& key : s.changed) {
        Group& group = s.groups.at(key);
        group.changed = false;
        std::size_t column = 0;
        for (const Value& v : group.key) {
            if (v.is_null()) {
                builders[column++].append_null();
            } else {
                builders[column++].append_value(v);
            }
        }
        for (std::size_t i = 0; i < s.calls.size(); ++i) {
            const Value v = s.result(group, i);
            if (v.is_null()) {
                builders[column++].append_null();
            } else {
                builders[column++].append_value(v);
            }
        }
    }
    std::vector<std::shared_ptr<const Column>> columns;
    for (auto& builder : builders)
        columns.push_back(std::make_shared<const Column>(builder.finish()));
    const std::size_t rows = s.changed.size();
    s.changed.clear();
    return emit(Batch(s.schema, std::move(columns), rows));
}

Status RetractingAggregateOperator::on_control(const ControlSignal& signal) {
    // As the upserting aggregate: what changed goes out before a barrier (so it commits with
    // the checkpoint) and at a publish.
    if (signal.kind == ControlSignal::Kind::kBarrier ||
        signal.kind == ControlSignal::Kind::kPublish)
        MILLRACE_TRY(emit_changed());
    return output_->on_control(signal);
}

Status RetractingAggregateOperator::finish() {
    // The contributions stay: a later run goes on updating the table from saved state.
    MILLRACE_TRY(emit_changed());
    return output_->finish();
}

std::size_t RetractingAggregateOperator::state_keys() const { return state_->contributions.size(); }

// State: u64 contributions, each an inner key (`bytes`), then one batch of their outer key
// values and aggregate arguments (State::contribution_schema), in the same order. The outer
// groups are rebuilt from them.
Result<std::string> RetractingAggregateOperator::serialize_state() const {
    const State& s = *state_;
    StateWriter out(OperatorStateKind::kRetractingAggregate);
    out.u64(s.contributions.size());
    const auto schema = s.contribution_schema();
    std::vector<ColumnBuilder> builders;
    for (std::size_t c = 0; c < schema->size(); ++c)
        builders.emplace_back(schema->field(c).type, s.contributions.size());
    for (const auto& [inner, c] : s.contributions) {
        out.bytes(inner);
        std::size_t column = 0;
        for (const auto* values : {&c.key, &c.args}) {
            for (const Value& v : *values) {
                if (v.is_null()) {
                    builders[column++].append_null();
                } else {
                    builders[column++].append_value(v);
                }
            }
        }
    }
    std::vector<std::shared_ptr<const Column>> columns;
    for (auto& builder : builders)
        columns.push_back(std::make_shared<const Column>(builder.finish()));
    out.batch(Batch(schema, std::move(columns), s.contributions.size()));
    return std::move(out).finish();
}

Status RetractingAggregateOperator::restore_state(std::string_view bytes) {
    if (bytes.empty()) return {};
    State& s = *state_;
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kRetractingAggregate));
    MILLRACE_ASSIGN_OR_RETURN(const uint64_t count, in.count(8));
    std::vector<std::string> inner_keys;
    inner_keys.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
        MILLRACE_ASSIGN_OR_RETURN(std::string_view key, in.bytes());
        inner_keys.emplace_back(key);
    }
    MILLRACE_ASSIGN_OR_RETURN(Batch batch, in.batch(s.contribution_schema()));
    MILLRACE_TRY(in.expect_end());
    if (batch.num_rows() != count) return in.corrupt("contribution count");
    std::vector<const Column*> key_columns;
    for (std::size_t k = 0; k < s.keys.size(); ++k) key_columns.push_back(&batch.column(k));
    s.contributions.clear();
    s.groups.clear();
    s.changed.clear();
    s.bytes = 0;
    for (std::size_t r = 0; r < count; ++r) {
        Contribution c;
        KeyEncoder::encode(key_columns, r, c.group);
        std::size_t column = 0;
        for (std::size_t k = 0; k < s.keys.size(); ++k)
            c.key.push_back(batch.value_at(r, column++));
        for (std::size_t i = 0; i < s.calls.size(); ++i)
            c.args.push_back(batch.value_at(r, column++));
        s.apply(c, +1);
        s.bytes += approximate_bytes(inner_keys[r], c);
        s.contributions.emplace(std::move(inner_keys[r]), std::move(c));
    }
    // Restored groups were emitted by the run that saved them.
    for (const std::string& key : s.changed) s.groups.at(key).changed = false;
    s.changed.clear();
    return s.memory.resize(s.bytes);
}

}  // namespace millrace
