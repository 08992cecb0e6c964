#include "exec/plan_builder.h"

#include <fmt/format.h>

#include "exec/deduplicate_operator.h"
#include "exec/expression_evaluator.h"
#include "exec/filter_operator.h"
#include "exec/hash_aggregate_operator.h"
#include "exec/hash_join_operator.h"
#include "exec/project_operator.h"
#include "exec/retracting_aggregate_operator.h"
#include "exec/session_window_aggregate_operator.h"
#include "exec/sort_operator.h"
#include "exec/stream_join_operator.h"
#include "exec/top_n_operator.h"
#include "exec/window_aggregate_operator.h"

namespace millrace {

namespace {

using sql::LogicalNode;

/// Where column `column` of `node` comes from through plain column references (projections
/// that pass it on, filters): the node and column that compute it.
std::pair<const LogicalNode*, std::size_t> column_origin(const LogicalNode& node,
                                                         std::size_t column) {
    if (node.kind == LogicalNode::Kind::kFilter) return column_origin(*node.children[0], column);
    if (node.kind == LogicalNode::Kind::kProject && node.session_gap_micros == 0 &&
        column < node.exprs.size() && node.exprs[column].kind == sql::BoundExpr::Kind::kColumn)
        return column_origin(*node.children[0], node.exprs[column].column);
    return {&node, column};
}

/// Whether a key of `aggregate` is the window_start of a session() projection: alone (without
/// window_end) it would group each row by its own time, not by session.
bool groups_by_session_start(const LogicalNode& aggregate) {
    for (const sql::BoundExpr& key : aggregate.group_keys) {
        if (key.kind != sql::BoundExpr::Kind::kColumn) continue;
        auto [origin, column] = column_origin(*aggregate.children[0], key.column);
        if (origin->kind == LogicalNode::Kind::kProject && origin->session_gap_micros > 0 &&
            column + 2 == origin->exprs.size())
            return true;
    }
    return false;
}

/// A session() window's GROUP BY: the gap, and which key is window_start (if any).
struct SessionKeys {
    int64_t gap_micros = 0;
    std::optional<std::size_t> start_key;
};

std::optional<SessionKeys> session_keys(const LogicalNode& aggregate, std::size_t end_key) {
    const LogicalNode& input = *aggregate.children[0];
    auto [origin, column] = column_origin(input, aggregate.group_keys[end_key].column);
    if (origin->kind != LogicalNode::Kind::kProject || origin->session_gap_micros == 0 ||
        column + 1 != origin->exprs.size())
        return std::nullopt;
    SessionKeys out;
    out.gap_micros = origin->session_gap_micros;
    for (std::size_t i = 0; i < aggregate.group_keys.size(); ++i) {
        const sql::BoundExpr& key = aggregate.group_keys[i];
        if (key.kind != sql::BoundExpr::Kind::kColumn) continue;
        auto [o, c] = column_origin(input, key.column);
        if (o == origin && c + 2 == origin->exprs.size()) out.start_key = i;
    }
    return out;
}

/// Whether `node` reads any source in `sources`.
bool reads_any(const LogicalNode& node, const std::set<std::string>& sources) {
    if (node.kind == LogicalNode::Kind::kScan) return sources.count(node.source) != 0;
    for (const auto& child : node.children) {
        if (reads_any(*child, sources)) return true;
    }
    return false;
}

/// Whether every row that arrives at `node`'s output after a watermark W has column `column`
/// >= W: a source's event-time column passed on unchanged, or a window_end (a window's end
/// is after its rows' times, and a window aggregate emits a window before the watermark that
/// passes its end).
bool watermark_bounds(const LogicalNode& node, std::size_t column, const PlanOptions& options) {
    if (column >= node.schema->size() || node.schema->field(column).type != DataType::kTimestamp)
        return false;
    if (node.schema->field(column).name == "window_end") return true;
    auto [origin, origin_column] = column_origin(node, column);
    if (origin->kind != LogicalNode::Kind::kScan) return false;
    auto it = options.event_time.find(origin->source);
    return it != options.event_time.end() &&
           origin->schema->field(origin_column).name == it->second;
}

/// `column + offset` where `column` is one the watermark bounds: the side (0 left, 1 right),
/// the column in that side's schema and the offset (microseconds).
struct TimeTerm {
    int side = 0;
    std::size_t column = 0;
    int64_t offset = 0;
};

std::optional<TimeTerm> time_term(const sql::BoundExpr& expr, const LogicalNode& join,
                                  const PlanOptions& options) {
    const std::size_t left_width = join.children[0]->schema->size();
    const sql::BoundExpr* column = &expr;
    int64_t offset = 0;
    if (expr.kind == sql::BoundExpr::Kind::kCall &&
        (expr.function == sql::Function::kTimestampAddMicros ||
         expr.function == sql::Function::kTimestampSubtractMicros) &&
        expr.args.size() == 2 && expr.args[1].is_constant() && !expr.args[1].constant.is_null()) {
        offset = expr.args[1].constant.as_int64();
        if (expr.function == sql::Function::kTimestampSubtractMicros) offset = -offset;
        column = &expr.args[0];
    }
    if (column->kind != sql::BoundExpr::Kind::kColumn) return std::nullopt;
    TimeTerm term;
    term.side = column->column < left_width ? 0 : 1;
    term.column = column->column - (term.side == 0 ? 0 : left_width);
    term.offset = offset;
    if (!watermark_bounds(*join.children[term.side], term.column, options)) return std::nullopt;
    return term;
}

/// The side (0 left, 1 right) whose columns alone `expr` reads, over the join's columns; -1
/// when it reads none or both.
int side_of(const sql::BoundExpr& expr, std::size_t left_width, std::size_t width) {
    std::vector<bool> columns(width, false);
    expr.collect_columns(columns);
    bool left = false, right = false;
    for (std::size_t i = 0; i < width; ++i) {
        if (!columns[i]) continue;
        (i < left_width ? left : right) = true;
    }
    if (left == right) return -1;
    return left ? 0 : 1;
}

/// The time bounds of a stream join's condition (StreamJoinBounds). Each conjunct `A <= B`
/// (or <, >=, >, =, and the equi-join keys as equalities) where A is `X.t + c` with X.t a
/// column the watermark bounds and B reads only the other side Y: rows of X arriving after
/// watermark W have A >= W + c, so a row of Y can match none of them once W > B - c.
StreamJoinBounds stream_join_bounds(const LogicalNode& join, const PlanOptions& options) {
    StreamJoinBounds bounds;
    const std::size_t left_width = join.children[0]->schema->size();
    const std::size_t width = join.schema->size();
    std::vector<std::pair<sql::BoundExpr, sql::BoundExpr>> less_equal;  // A <= B
    std::vector<sql::BoundExpr> conjuncts;
    if (join.has_predicate) sql::split_conjuncts(join.predicate, conjuncts);
    for (const sql::BoundExpr& c : conjuncts) {
        if (c.kind != sql::BoundExpr::Kind::kCall || c.args.size() != 2) continue;
        switch (c.function) {
            case sql::Function::kLess:
            case sql::Function::kLessEqual:
                less_equal.emplace_back(c.args[0], c.args[1]);
                break;
            case sql::Function::kGreater:
            case sql::Function::kGreaterEqual:
                less_equal.emplace_back(c.args[1], c.args[0]);
                break;
            case sql::Function::kEqual:
                less_equal.emplace_back(c.args[0], c.args[1]);
                less_equal.emplace_back(c.args[1], c.args[0]);
                break;
            default:
                break;
        }
    }
    std::vector<std::size_t> to_right(width, 0);
    std::vector<std::size_t> from_right(width - left_width, 0);
    for (std::size_t i = 0; i < width - left_width; ++i) from_right[i] = i + left_width;
    for (std::size_t i = left_width; i < width; ++i) to_right[i] = i - left_width;
    for (std::size_t i = 0; i < join.left_keys.size() && i < join.right_keys.size(); ++i) {
        sql::BoundExpr right = join.right_keys[i];
        right.remap_columns(from_right);
        less_equal.emplace_back(join.left_keys[i], right);
        less_equal.emplace_back(right, join.left_keys[i]);
    }
    for (auto& [a, b] : less_equal) {
        std::optional<TimeTerm> term = time_term(a, join, options);
        if (!term || b.type != DataType::kTimestamp) continue;
        const int other = side_of(b, left_width, width);
        if (other != 1 - term->side) continue;
        sql::BoundExpr expiry = b;
        if (other == 1) expiry.remap_columns(to_right);
        if (term->offset != 0) {
            sql::BoundExpr shifted;
            shifted.kind = sql::BoundExpr::Kind::kCall;
            shifted.type = DataType::kTimestamp;
            shifted.function = sql::Function::kTimestampSubtractMicros;
            shifted.args.push_back(std::move(expiry));
            sql::BoundExpr amount =
                sql::BoundExpr::constant_of(Value::int64(term->offset), DataType::kInt64);
            shifted.args.push_back(std::move(amount));
            expiry = std::move(shifted);
        }
        bounds.expiry[other].push_back(std::move(expiry));
        if (!bounds.time_column[term->side]) bounds.time_column[term->side] = term->column;
    }
    return bounds;
}

class Builder {
public:
    Builder(ExecContext& context, const std::string& origin,
            std::vector<std::unique_ptr<Operator>>& operators, std::vector<ScanInput>& inputs,
            PlanMode mode, const PlanOptions& options)
        : context_(context),
          origin_(origin),
          operators_(operators),
          inputs_(inputs),
          mode_(mode),
          options_(options),
          exchange_below_(options.exchange_below) {}

    Error unbounded(std::string_view what) const {
        return Error(ErrorCode::kUnsupported,
                     fmt::format("`{}`: {} needs the end of its input, which a streaming pipeline "
                                 "never reaches; aggregate over a window instead (GROUP BY "
                                 "window_start, window_end of tumble() or hop(), see "
                                 "docs/streaming.md)",
                                 origin_, what));
    }

    template <typename T, typename... Args>
    T* make(Args&&... args) {
        auto op = std::make_unique<T>(std::forward<Args>(args)...);
        T* raw = op.get();
        operators_.push_back(std::move(op));
        return raw;
    }

    sql::BoundExpr folded(sql::BoundExpr expr) {
        fold_constants(expr, context_.statement_time_micros());
        return expr;
    }

    /// Builds `node` so that its output goes to `output`.
    Status build(const LogicalNode& node, BatchSink* output) {
        // Only projections may sit above an upserting GROUP BY: a filter (HAVING) or a join
        // there would have to take back rows it let through before, which upserts cannot do.
        const bool at_top = at_top_;
        if (node.kind != LogicalNode::Kind::kProject) at_top_ = false;
        switch (node.kind) {
            case LogicalNode::Kind::kScan: {
                BatchSink* entry = output;
                if (!node.filters.empty()) {
                    sql::BoundExpr predicate = sql::make_conjunction(node.filters);
                    auto* filter =
                        make<FilterOperator>(folded(std::move(predicate)), context_, origin_);
                    filter->set_output(output);
                    entry = filter;
                }
                inputs_.push_back(ScanInput{node.source, node.columns, node.schema, entry});
                return {};
            }
            case LogicalNode::Kind::kSingleRow:
                inputs_.push_back(ScanInput{"", {}, node.schema, output});
                return {};
            case LogicalNode::Kind::kFilter: {
                auto* filter = make<FilterOperator>(folded(node.predicate), context_, origin_);
                filter->set_output(output);
                return build(*node.children[0], filter);
            }
            case LogicalNode::Kind::kProject: {
                if (node.dedup_micros > 0) {
                    // The same operator in batch runs: the first of the duplicates in input
                    // order wins there too.
                    std::vector<sql::BoundExpr> keys;
                    for (const auto& e : node.dedup_keys) keys.push_back(folded(e));
                    auto* dedup =
                        make<DeduplicateOperator>(std::move(keys), folded(node.dedup_time),
                                                  node.dedup_micros, context_, origin_);
                    dedup->set_output(output);
                    return build(*node.children[0], dedup);
                }
                std::vector<sql::BoundExpr> exprs;
                for (const auto& e : node.exprs) exprs.push_back(folded(e));
                auto* project =
                    make<ProjectOperator>(std::move(exprs), node.schema, context_, origin_);
                project->set_output(output);
                return build(*node.children[0], project);
            }
            case LogicalNode::Kind::kAggregate: {
                std::vector<sql::BoundExpr> keys;
                for (const auto& e : node.group_keys) keys.push_back(folded(e));
                std::vector<sql::AggregateCall> calls = node.aggregates;
                for (auto& call : calls) {
                    for (auto& arg : call.args)
                        fold_constants(arg, context_.statement_time_micros());
                }
                Operator* aggregate = nullptr;
                std::optional<std::size_t> end_key = window_end_key(node);
                std::optional<SessionKeys> session;
                if (end_key) session = session_keys(node, *end_key);
                if (!end_key && groups_by_session_start(node)) {
                    return Error(ErrorCode::kInvalidArgument,
                                 fmt::format("`{}`: a GROUP BY over session() windows needs "
                                             "window_end too (GROUP BY ..., window_start, "
                                             "window_end): a session is known by its end",
                                             origin_));
                }
                if (session) {
                    // Sessions are merged per group in batch runs too, by the same operator.
                    aggregate = make<SessionWindowAggregateOperator>(
                        std::move(keys), std::move(calls), node.schema, *end_key,
                        session->start_key, session->gap_micros, context_, origin_);
                } else if (mode_ == PlanMode::kStreamingUpsert && !end_key) {
                    if (at_top) {
                        if (const LogicalNode* inner = upserting_below(node)) {
                            return build_over_upserting(node, std::move(keys), std::move(calls),
                                                        *inner, output);
                        }
                    }
                    if (!at_top) {
                        return Error(ErrorCode::kUnsupported,
                                     fmt::format("`{}`: a GROUP BY without window_end is an "
                                                 "upserting aggregate, so only a projection may "
                                                 "follow it (no HAVING, join, UNION or other "
                                                 "aggregate over it, see docs/streaming.md)",
                                                 origin_));
                    }
                    auto* upserting = make<HashAggregateOperator>(std::move(keys), std::move(calls),
                                                                  node.schema, context_, origin_);
                    upserting->set_upserting(true);
                    aggregate = upserting;
                } else if (mode_ != PlanMode::kBatch) {
                    if (!end_key) return unbounded("GROUP BY without window_end");
                    aggregate =
                        make<WindowAggregateOperator>(std::move(keys), std::move(calls),
                                                      node.schema, *end_key, context_, origin_);
                } else {
                    aggregate = make<HashAggregateOperator>(std::move(keys), std::move(calls),
                                                            node.schema, context_, origin_);
                }
                aggregate->set_output(output);
                if (&node == exchange_below_) return exchange_input(node, aggregate);
                return build(*node.children[0], aggregate);
            }
            case LogicalNode::Kind::kJoin: {
                std::vector<sql::BoundExpr> left_keys, right_keys;
                for (const auto& e : node.left_keys) left_keys.push_back(folded(e));
                for (const auto& e : node.right_keys) right_keys.push_back(folded(e));
                std::optional<sql::BoundExpr> residual;
                if (node.has_predicate) residual = folded(node.predicate);
                if (mode_ != PlanMode::kBatch &&
                    reads_any(*node.children[1], options_.unbounded_sources)) {
                    return build_stream_join(node, std::move(left_keys), std::move(right_keys),
                                             std::move(residual), output);
                }
                auto* join = make<HashJoinOperator>(
                    node.join_type, std::move(left_keys), std::move(right_keys),
                    std::move(residual), node.children[0]->schema, node.children[1]->schema,
                    node.schema, context_, origin_);
                join->set_output(output);
                // Build side first: its scans are listed (and so run) before the probe side's.
                MILLRACE_TRY(build(*node.children[1], &join->build_side()));
                return build(*node.children[0], join);
            }
            case LogicalNode::Kind::kUnionAll: {
                auto* union_op = make<UnionOperator>(node.children.size());
                union_op->set_output(output);
                for (std::size_t i = 0; i < node.children.size(); ++i)
                    MILLRACE_TRY(build(*node.children[i], &union_op->input(i)));
                return {};
            }
            case LogicalNode::Kind::kSort: {
                if (mode_ != PlanMode::kBatch) return unbounded("ORDER BY");
                auto* sort = make<SortOperator>(node.sort_keys, node.schema, context_, origin_);
                sort->set_output(output);
                return build(*node.children[0], sort);
            }
            case LogicalNode::Kind::kLimit: {
                if (mode_ != PlanMode::kBatch) return unbounded("LIMIT");
                auto* limit = make<LimitOperator>(node.limit, node.offset);
                limit->set_output(output);
                const LogicalNode& child = *node.children[0];
                if (child.kind == LogicalNode::Kind::kSort && node.limit >= 0) {
                    // ORDER BY + LIMIT: keep only the rows that can come out, not the input.
                    const int64_t keep =
                        node.limit > INT64_MAX - node.offset ? INT64_MAX : node.limit + node.offset;
                    auto* top =
                        make<TopNOperator>(child.sort_keys, child.schema,
                                           static_cast<std::size_t>(keep), context_, origin_);
                    top->set_output(limit);
                    return build(*child.children[0], top);
                }
                return build(child, limit);
            }
        }
        return Error(ErrorCode::kInternal, "unhandled plan node");
    }

private:
    /// The unwindowed GROUP BY under `node` when only projections stand between them (an
    /// aggregate over an upserting aggregate); null otherwise.
    static const LogicalNode* upserting_below(const LogicalNode& node) {
        const LogicalNode* child = node.children[0].get();
        while (child->kind == LogicalNode::Kind::kProject && child->dedup_micros == 0)
            child = child->children[0].get();
        if (child->kind != LogicalNode::Kind::kAggregate || window_end_key(*child)) return nullptr;
        return child;
    }

    /// An unwindowed GROUP BY over an upserting one (RetractingAggregateOperator): the
    /// projections between them carry the inner group's key through, as trailing columns, so
    /// that each upsert can replace what its inner group contributed before.
    Status build_over_upserting(const LogicalNode& node, std::vector<sql::BoundExpr> keys,
                                std::vector<sql::AggregateCall> calls, const LogicalNode& inner,
                                BatchSink* output) {
        MILLRACE_TRY(RetractingAggregateOperator::supports(calls, origin_));
        const std::size_t carried = inner.group_keys.size();
        auto* outer = make<RetractingAggregateOperator>(std::move(keys), std::move(calls),
                                                        node.schema, carried, context_, origin_);
        outer->set_output(output);
        BatchSink* next = outer;
        for (const LogicalNode* project = node.children[0].get(); project != &inner;
             project = project->children[0].get()) {
            const LogicalNode& below = *project->children[0];
            // Where the inner key sits in this projection's input: the inner aggregate's first
            // columns, or the trailing columns the projection below carried.
            const std::size_t from = &below == &inner ? 0 : below.exprs.size();
            std::vector<sql::BoundExpr> exprs;
            for (const auto& e : project->exprs) exprs.push_back(folded(e));
            std::vector<Field> fields = project->schema->fields();
            for (std::size_t k = 0; k < carried; ++k) {
                const Field& key = inner.schema->field(k);
                exprs.push_back(sql::BoundExpr::column_ref(from + k, key.type, key.name));
                fields.push_back(Field{fmt::format("_inner_key_{}", k), key.type, true});
            }
            auto* carry = make<ProjectOperator>(std::move(exprs),
                                                std::make_shared<const Schema>(std::move(fields)),
                                                context_, origin_);
            carry->set_output(next);
            next = carry;
        }
        // The inner aggregate is built as the top of the plan: an upserting aggregate.
        at_top_ = true;
        return build(inner, next);
    }

    Status build_stream_join(const LogicalNode& node, std::vector<sql::BoundExpr> left_keys,
                             std::vector<sql::BoundExpr> right_keys,
                             std::optional<sql::BoundExpr> residual, BatchSink* output) {
        if (node.join_type != sql::JoinType::kInner) {
            return Error(ErrorCode::kUnsupported,
                         fmt::format("`{}`: a join of two streams must be an inner join (an outer "
                                     "join's unmatched rows would have to be taken back when a "
                                     "match arrives later)",
                                     origin_));
        }
        if (left_keys.empty()) {
            return Error(ErrorCode::kUnsupported,
                         fmt::format("`{}`: a join of two streams needs an equality between "
                                     "them (ON a.k = b.k ...); its rows are kept per key",
                                     origin_));
        }
        StreamJoinBounds bounds = stream_join_bounds(node, options_);
        for (int side = 0; side < 2; ++side) {
            for (auto& e : bounds.expiry[side]) e = folded(std::move(e));
        }
        bounds.ttl_micros = options_.state_ttl_micros;
        const bool bounded = !bounds.expiry[0].empty() && !bounds.expiry[1].empty();
        if (!bounded && !bounds.ttl_micros && mode_ != PlanMode::kStreamingUpsert) {
            return Error(
                ErrorCode::kUnsupported,
                fmt::format("`{}`: this join of two streams has no time bound, so it would keep "
                            "every row of both streams forever; bound it in time on the "
                            "sources' event_time (ON a.k = b.k AND b.ts BETWEEN a.ts AND a.ts + "
                            "INTERVAL '1 hour'), join two windows on window_end, or set the "
                            "pipeline's `state_ttl:` (see docs/streaming.md, \"Stream joins\")",
                            origin_));
        }
        auto* join = make<StreamJoinOperator>(std::move(left_keys), std::move(right_keys),
                                              std::move(residual), node.children[0]->schema,
                                              node.children[1]->schema, node.schema,
                                              std::move(bounds), context_, origin_);
        join->set_output(output);
        MILLRACE_TRY(build(*node.children[1], &join->right_side()));
        return build(*node.children[0], join);
    }

    /// The input of `node`'s operator comes from outside the plan (the exchange), with every
    /// column of `node`'s child.
    Status exchange_input(const LogicalNode& node, BatchSink* entry) {
        const LogicalNode& child = *node.children[0];
        std::vector<std::size_t> columns(child.schema->size());
        for (std::size_t i = 0; i < columns.size(); ++i) columns[i] = i;
        inputs_.push_back(
            ScanInput{std::string(kExchangeSource), std::move(columns), child.schema, entry});
        return {};
    }

    ExecContext& context_;
    const std::string& origin_;
    std::vector<std::unique_ptr<Operator>>& operators_;
    std::vector<ScanInput>& inputs_;
    PlanMode mode_;
    const PlanOptions& options_;
    const LogicalNode* exchange_below_ = nullptr;
    bool at_top_ = true;  // only projections between the plan's output and this node
};

}  // namespace

void fold_plan_constants(sql::LogicalNode& plan, int64_t statement_time_micros) {
    auto fold = [&](sql::BoundExpr& e) { fold_constants(e, statement_time_micros); };
    for (auto& e : plan.filters) fold(e);
    if (plan.kind == LogicalNode::Kind::kFilter || plan.has_predicate) fold(plan.predicate);
    for (auto& e : plan.exprs) fold(e);
    for (auto& e : plan.group_keys) fold(e);
    for (auto& call : plan.aggregates) {
        for (auto& arg : call.args) fold(arg);
    }
    for (auto& e : plan.left_keys) fold(e);
    for (auto& e : plan.dedup_keys) fold(e);
    if (plan.dedup_micros > 0) fold(plan.dedup_time);
    for (auto& e : plan.right_keys) fold(e);
    for (auto& child : plan.children) fold_plan_constants(*child, statement_time_micros);
}

std::optional<std::size_t> window_end_key(const sql::LogicalNode& aggregate) {
    for (std::size_t i = 0; i < aggregate.group_keys.size(); ++i) {
        const sql::BoundExpr& key = aggregate.group_keys[i];
        if (key.kind == sql::BoundExpr::Kind::kColumn && key.type == DataType::kTimestamp &&
            (key.name == "window_end" ||
             (i < aggregate.schema->size() && aggregate.schema->field(i).name == "window_end"))) {
            return i;
        }
    }
    return std::nullopt;
}

Result<std::unique_ptr<ExecutablePlan>> build_plan(const sql::LogicalNode& plan, BatchSink& output,
                                                   ExecContext& context, const std::string& origin,
                                                   PlanMode mode, const PlanOptions& options) {
    auto executable = std::make_unique<ExecutablePlan>();
    Builder builder(context, origin, executable->operators_, executable->inputs_, mode, options);
    MILLRACE_TRY(builder.build(plan, &output));
    return executable;
}

Result<std::vector<std::string>> ExecutablePlan::serialize_state() const {
    std::vector<std::string> states;
    states.reserve(operators_.size());
    for (const auto& op : operators_) {
        MILLRACE_ASSIGN_OR_RETURN(std::string state, op->serialize_state());
        states.push_back(std::move(state));
    }
    return states;
}

Status ExecutablePlan::restore_state(const std::vector<std::string>& states) {
    if (states.size() != operators_.size()) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("saved state of {} operators for a plan of {}", states.size(),
                                 operators_.size()));
    }
    for (std::size_t i = 0; i < states.size(); ++i)
        MILLRACE_TRY(operators_[i]->restore_state(states[i]));
    return {};
}

Status ExecutablePlan::merge_state(const std::vector<std::string>& states) {
    if (states.size() != operators_.size()) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("saved state of {} operators for a plan of {}", states.size(),
                                 operators_.size()));
    }
    for (std::size_t i = 0; i < states.size(); ++i)
        MILLRACE_TRY(operators_[i]->merge_state(states[i]));
    return {};
}

void ExecutablePlan::mark_state_saved() {
    for (const auto& op : operators_) op->mark_state_saved();
}

Result<ExecutablePlan::StateChanges> ExecutablePlan::serialize_state_changes() {
    StateChanges out;
    out.states.reserve(operators_.size());
    for (const auto& op : operators_) {
        MILLRACE_ASSIGN_OR_RETURN(std::optional<std::string> changes,
                                  op->serialize_state_changes());
        out.changes.push_back(changes ? 1 : 0);
        if (changes) {
            out.states.push_back(std::move(*changes));
            continue;
        }
        MILLRACE_ASSIGN_OR_RETURN(std::string state, op->serialize_state());
        out.states.push_back(std::move(state));
    }
    return out;
}

Status ExecutablePlan::apply_state_changes(const StateChanges& changes) {
    if (changes.states.size() != operators_.size() || changes.changes.size() != operators_.size()) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("saved state changes of {} operators for a plan of {}",
                                 changes.states.size(), operators_.size()));
    }
    for (std::size_t i = 0; i < operators_.size(); ++i) {
        if (changes.changes[i]) {
            MILLRACE_TRY(operators_[i]->apply_state_changes(changes.states[i]));
        } else {
            MILLRACE_TRY(operators_[i]->restore_state(changes.states[i]));
        }
    }
    return {};
}

std::size_t ExecutablePlan::state_keys() const {
    std::size_t keys = 0;
    for (const auto& op : operators_) keys += op->state_keys();
    return keys;
}

Status ExecutablePlan::run_with(const std::vector<std::vector<Batch>>& batches) {
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        const ScanInput& input = inputs_[i];
        if (input.source.empty()) {
            MILLRACE_TRY(input.entry->push(Batch(input.schema, {}, 1)));
        } else if (i < batches.size()) {
            for (const Batch& b : batches[i])
                MILLRACE_TRY(input.entry->push(b.project(input.columns)));
        }
        MILLRACE_TRY(input.entry->finish());
    }
    return {};
}

}  // namespace millrace
