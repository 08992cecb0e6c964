#include "exec/plan_builder.h"

#include <fmt/format.h>

#include "exec/expression_evaluator.h"
#include "exec/filter_operator.h"
#include "exec/hash_aggregate_operator.h"
#include "exec/hash_join_operator.h"
#include "exec/project_operator.h"
#include "exec/session_window_aggregate_operator.h"
#include "exec/sort_operator.h"
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

class Builder {
public:
    Builder(ExecContext& context, const std::string& origin,
            std::vector<std::unique_ptr<Operator>>& operators, std::vector<ScanInput>& inputs,
            PlanMode mode, const LogicalNode* exchange_below)
        : context_(context),
          origin_(origin),
          operators_(operators),
          inputs_(inputs),
          mode_(mode),
          exchange_below_(exchange_below) {}

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
                                                   PlanMode mode,
                                                   const sql::LogicalNode* exchange_below) {
    auto executable = std::make_unique<ExecutablePlan>();
    Builder builder(context, origin, executable->operators_, executable->inputs_, mode,
                    exchange_below);
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
