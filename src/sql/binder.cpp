#include "sql/binder.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/suggest.h"
#include "sql/expression_binder.h"
#include "sql/function_registry.h"
#include "sql/parser.h"

namespace millrace::sql {

namespace {

/// A relation being built: its plan and the names its columns go by.
struct BoundRelation {
    LogicalPlan plan;
    Scope scope;
};

std::shared_ptr<const Schema> make_schema(std::vector<Field> fields) {
    // Output names may repeat in SQL (`SELECT a, a`); a Schema may not, so repeats get a suffix.
    std::set<std::string> seen;
    for (auto& field : fields) {
        std::string name = field.name;
        for (int i = 2; seen.count(name) > 0; ++i) name = fmt::format("{}_{}", field.name, i);
        field.name = name;
        seen.insert(name);
    }
    return std::make_shared<const Schema>(std::move(fields));
}

LogicalPlan make_project(LogicalPlan child, std::vector<BoundExpr> exprs,
                         const std::vector<std::string>& names) {
    auto node = std::make_unique<LogicalNode>();
    node->kind = LogicalNode::Kind::kProject;
    std::vector<Field> fields;
    for (std::size_t i = 0; i < exprs.size(); ++i) {
        bool nullable = true;
        if (exprs[i].kind == BoundExpr::Kind::kColumn)
            nullable = child->schema->field(exprs[i].column).nullable;
        if (exprs[i].kind == BoundExpr::Kind::kConstant) nullable = exprs[i].constant.is_null();
        fields.push_back(Field{names[i], exprs[i].type, nullable});
    }
    node->schema = make_schema(std::move(fields));
    node->exprs = std::move(exprs);
    node->children.push_back(std::move(child));
    return node;
}

/// The side of a join an expression reads: 1 left only, 2 right only, 3 both, 0 neither.
int sides(const BoundExpr& expr, std::size_t left_width) {
    std::vector<bool> used;
    expr.collect_columns(used);
    int out = 0;
    for (std::size_t i = 0; i < used.size(); ++i) {
        if (used[i]) out |= i < left_width ? 1 : 2;
    }
    return out;
}

class SelectBinder {
public:
    SelectBinder(std::string_view sql, Catalog& catalog)
        : exprs_(sql, catalog.function_resources()), catalog_(catalog) {}

    Error error(ErrorCode code, int location, std::string message) const {
        return exprs_.error(code, location, std::move(message));
    }

    Result<BoundRelation> bind_table(const FromItem& item) {
        auto plan = catalog_.relation(item.name);
        if (!plan.ok()) {
            Error e = std::move(plan).error();
            if (e.code() != ErrorCode::kNotFound) {
                if (e.location().known()) return e;
                return error(e.code(), item.location, e.message());
            }
            auto hint = closest_match(item.name, catalog_.relation_names());
            return error(ErrorCode::kNotFound, item.location,
                         fmt::format("unknown source or view `{}`{}", item.name,
                                     hint ? fmt::format(", did you mean `{}`?", *hint) : ""));
        }
        BoundRelation out;
        out.plan = std::move(plan).value();
        std::string qualifier = item.alias.empty() ? item.name : item.alias;
        for (const Field& field : out.plan->schema->fields()) {
            out.scope.columns.push_back(ScopeColumn{qualifier, field.name, field.type, false});
        }
        return out;
    }

    /// A window size or slide: a positive INTERVAL constant, in microseconds.
    Result<int64_t> bind_window_interval(const AstExpr& expr, const Scope& scope,
                                         const std::string& function, std::string_view what) {
        MILLRACE_ASSIGN_OR_RETURN(BoundExpr size, exprs_.bind(expr, scope, false));
        if (!size.interval || size.constant.is_null() || size.constant.as_int64() <= 0) {
            return error(ErrorCode::kInvalidArgument, expr.location,
                         fmt::format("the window {} of {}() must be a positive INTERVAL, e.g. "
                                     "INTERVAL '1 minute'",
                                     what, function));
        }
        return size.constant.as_int64();
    }

    /// tumble(source, time, size) and hop(source, time, slide, size): the source's columns plus
    /// window_start and window_end. A tumbling window is [time_bucket(time, size), + size); a
    /// hopping row is in size/slide windows, [time_bucket(time, slide) - i * slide, + size) for
    /// i in [0, size/slide), built as a UNION ALL of one projection per i so that every
    /// operator downstream (and the batch runtime) sees plain rows. session(source, time, gap)
    /// gives each row its own window [time, time + gap) in a projection marked with the gap: a
    /// GROUP BY over it merges the overlapping windows of each group into sessions.
    /// dedup(source, key [, key ...], time_column, INTERVAL '<within>'): the source's rows
    /// minus duplicates, a row being one when a row of the same keys was kept whose time is
    /// less than `within` from its own. A projection of the source's columns marked with the
    /// keys, the time and the interval (LogicalNode::dedup_micros).
    Result<BoundRelation> bind_dedup(const FromItem& item) {
        if (item.args.size() < 4 || item.args[0]->kind != AstKind::kColumn ||
            item.args[0]->names.size() != 1) {
            return error(ErrorCode::kInvalidArgument, item.location,
                         "dedup() takes (source, key [, key ...], time_column, INTERVAL "
                         "'<within>')");
        }
        FromItem table;
        table.kind = FromItem::Kind::kTable;
        table.name = item.args[0]->names[0];
        table.location = item.args[0]->location;
        MILLRACE_ASSIGN_OR_RETURN(BoundRelation input, bind_table(table));
        const std::size_t n = item.args.size();
        std::vector<BoundExpr> keys;
        for (std::size_t i = 1; i + 2 < n; ++i) {
            MILLRACE_ASSIGN_OR_RETURN(BoundExpr key,
                                      exprs_.bind(*item.args[i], input.scope, false));
            keys.push_back(std::move(key));
        }
        MILLRACE_ASSIGN_OR_RETURN(BoundExpr time,
                                  exprs_.bind(*item.args[n - 2], input.scope, false));
        if (time.type != DataType::kTimestamp) {
            return error(ErrorCode::kTypeMismatch, item.args[n - 2]->location,
                         fmt::format("the time column of dedup() must be a timestamp, not {}",
                                     type_name(time.type)));
        }
        MILLRACE_ASSIGN_OR_RETURN(
            const int64_t within,
            bind_window_interval(*item.args[n - 1], input.scope, "dedup", "interval"));
        std::vector<std::string> names;
        std::vector<BoundExpr> exprs;
        for (std::size_t c = 0; c < input.scope.columns.size(); ++c) {
            names.push_back(input.scope.columns[c].name);
            exprs.push_back(
                BoundExpr::column_ref(c, input.scope.columns[c].type, input.scope.columns[c].name));
        }
        BoundRelation out;
        out.plan = make_project(std::move(input.plan), std::move(exprs), names);
        out.plan->dedup_micros = within;
        out.plan->dedup_keys = std::move(keys);
        out.plan->dedup_time = std::move(time);
        std::string qualifier = item.alias.empty() ? table.name : item.alias;
        for (const Field& field : out.plan->schema->fields()) {
            out.scope.columns.push_back(ScopeColumn{qualifier, field.name, field.type, false});
        }
        return out;
    }

    Result<BoundRelation> bind_table_function(const FromItem& item) {
        std::string name = item.name;
        if (name == "dedup") return bind_dedup(item);
        if (name != "tumble" && name != "hop" && name != "session" && name != "cumulate") {
            return error(
                ErrorCode::kNotFound, item.location,
                fmt::format(
                    "unknown table function {}(); windows are tumble(source, "
                    "time_column, INTERVAL '<size>'), hop(source, "
                    "time_column, INTERVAL '<slide>', INTERVAL '<size>'), "
                    "cumulate(source, time_column, INTERVAL '<step>', INTERVAL "
                    "'<size>') and session(source, time_column, INTERVAL '<gap>'); dedup(source, "
                    "key, time_column, INTERVAL '<within>') drops duplicates",
                    name));
        }
        const bool cumulate = name == "cumulate";
        const bool hop = name == "hop" || cumulate;  // both take a slide (cumulate: its step)
        const bool session = name == "session";
        const std::size_t arity = hop ? 4 : 3;
        if (item.args.size() != arity || item.args[0]->kind != AstKind::kColumn ||
            item.args[0]->names.size() != 1) {
            return error(ErrorCode::kInvalidArgument, item.location,
                         cumulate  ? "cumulate() takes (source, time_column, INTERVAL '<step>', "
                                     "INTERVAL '<size>')"
                         : hop     ? "hop() takes (source, time_column, INTERVAL '<slide>', "
                                     "INTERVAL '<size>')"
                         : session ? "session() takes (source, time_column, INTERVAL '<gap>')"
                                   : "tumble() takes (source, time_column, INTERVAL '<size>')");
        }
        FromItem table;
        table.kind = FromItem::Kind::kTable;
        table.name = item.args[0]->names[0];
        table.location = item.args[0]->location;
        MILLRACE_ASSIGN_OR_RETURN(BoundRelation input, bind_table(table));
        MILLRACE_ASSIGN_OR_RETURN(BoundExpr time, exprs_.bind(*item.args[1], input.scope, false));
        if (time.type == DataType::kDate) {
            MILLRACE_ASSIGN_OR_RETURN(
                time, exprs_.cast(std::move(time), DataType::kTimestamp, item.args[1]->location));
        }
        if (time.type != DataType::kTimestamp) {
            return error(ErrorCode::kTypeMismatch, item.args[1]->location,
                         fmt::format("the time column of {}() must be a timestamp, not {}", name,
                                     type_name(time.type)));
        }
        int64_t slide = 0;
        if (hop) {
            MILLRACE_ASSIGN_OR_RETURN(slide, bind_window_interval(*item.args[2], input.scope, name,
                                                                  cumulate ? "step" : "slide"));
        }
        MILLRACE_ASSIGN_OR_RETURN(const int64_t size,
                                  bind_window_interval(*item.args[arity - 1], input.scope, name,
                                                       session ? "gap" : "size"));
        if (!hop) slide = size;
        constexpr int64_t kMaxWindowsPerRow = 100;
        if (size % slide != 0 || size / slide > kMaxWindowsPerRow) {
            return error(ErrorCode::kInvalidArgument, item.args[arity - 1]->location,
                         fmt::format("the size of a {}() window must be a whole multiple of its "
                                     "{}, at most {} of them (a row is in up to size/{} windows)",
                                     name, cumulate ? "step" : "slide", kMaxWindowsPerRow,
                                     cumulate ? "step" : "slide"));
        }
        auto micros = [](int64_t v) {
            BoundExpr e;
            e.kind = BoundExpr::Kind::kConstant;
            e.type = DataType::kInt64;
            e.constant = Value::int64(v);
            return e;
        };
        auto add = [](BoundExpr timestamp, BoundExpr amount) {
            BoundExpr e;
            e.kind = BoundExpr::Kind::kCall;
            e.function = Function::kTimestampAddMicros;
            e.type = DataType::kTimestamp;
            e.args.push_back(std::move(timestamp));
            e.args.push_back(std::move(amount));
            return e;
        };
        std::vector<std::string> names;
        for (const ScopeColumn& column : input.scope.columns) names.push_back(column.name);
        names.push_back("window_start");
        names.push_back("window_end");
        std::vector<LogicalPlan> branches;
        if (session) {
            std::vector<BoundExpr> exprs;
            for (std::size_t c = 0; c < input.scope.columns.size(); ++c) {
                exprs.push_back(BoundExpr::column_ref(c, input.scope.columns[c].type,
                                                      input.scope.columns[c].name));
            }
            exprs.push_back(time);
            exprs.push_back(add(time, micros(size)));
            branches.push_back(make_project(std::move(input.plan), std::move(exprs), names));
            branches.back()->session_gap_micros = size;
        }
        // cumulate(source, time, step, size): windows that all start at time_bucket(time, size)
        // and end step, 2 * step, ... size later; a row is in those that end after it, each
        // branch a projection over the rows its window holds.
        for (int64_t i = 1; cumulate && i <= size / slide; ++i) {
            std::vector<BoundExpr> exprs;
            for (std::size_t c = 0; c < input.scope.columns.size(); ++c) {
                exprs.push_back(BoundExpr::column_ref(c, input.scope.columns[c].type,
                                                      input.scope.columns[c].name));
            }
            BoundExpr start;
            start.kind = BoundExpr::Kind::kCall;
            start.function = Function::kTimeBucket;
            start.type = DataType::kTimestamp;
            start.args.push_back(time);
            start.args.push_back(micros(size));
            BoundExpr end = add(start, micros(i * slide));
            LogicalPlan child = i == size / slide ? std::move(input.plan) : input.plan->clone();
            if (i < size / slide) {
                auto filter = std::make_unique<LogicalNode>();
                filter->kind = LogicalNode::Kind::kFilter;
                filter->schema = child->schema;
                filter->predicate.kind = BoundExpr::Kind::kCall;
                filter->predicate.function = Function::kLess;
                filter->predicate.type = DataType::kBool;
                filter->predicate.args.push_back(time);
                filter->predicate.args.push_back(end);
                filter->has_predicate = true;
                filter->children.push_back(std::move(child));
                child = std::move(filter);
            }
            exprs.push_back(std::move(start));
            exprs.push_back(std::move(end));
            branches.push_back(make_project(std::move(child), std::move(exprs), names));
        }
        for (int64_t i = 0; !session && !cumulate && i < size / slide; ++i) {
            std::vector<BoundExpr> exprs;
            for (std::size_t c = 0; c < input.scope.columns.size(); ++c) {
                exprs.push_back(BoundExpr::column_ref(c, input.scope.columns[c].type,
                                                      input.scope.columns[c].name));
            }
            BoundExpr start;
            start.kind = BoundExpr::Kind::kCall;
            start.function = Function::kTimeBucket;
            start.type = DataType::kTimestamp;
            start.args.push_back(time);
            start.args.push_back(micros(slide));
            if (i > 0) start = add(std::move(start), micros(-i * slide));
            BoundExpr end = add(start, micros(size));
            exprs.push_back(std::move(start));
            exprs.push_back(std::move(end));
            LogicalPlan child = i + 1 == size / slide ? std::move(input.plan) : input.plan->clone();
            branches.push_back(make_project(std::move(child), std::move(exprs), names));
        }
        BoundRelation out;
        if (branches.size() == 1) {
            out.plan = std::move(branches.front());
        } else {
            auto node = std::make_unique<LogicalNode>();
            node->kind = LogicalNode::Kind::kUnionAll;
            node->schema = branches.front()->schema;
            for (LogicalPlan& branch : branches) node->children.push_back(std::move(branch));
            out.plan = std::move(node);
        }
        std::string qualifier = item.alias.empty() ? table.name : item.alias;
        for (const Field& field : out.plan->schema->fields()) {
            out.scope.columns.push_back(ScopeColumn{qualifier, field.name, field.type, false});
        }
        return out;
    }

    Result<BoundRelation> bind_join(BoundRelation left, BoundRelation right,
                                    FromItem::JoinType type, const AstExpr* condition,
                                    const std::vector<std::string>& using_columns, int location) {
        std::size_t left_width = left.scope.columns.size();
        Scope scope;
        scope.columns = left.scope.columns;
        for (const auto& column : right.scope.columns) scope.columns.push_back(column);
        std::vector<BoundExpr> conjuncts;
        if (condition) {
            MILLRACE_ASSIGN_OR_RETURN(BoundExpr on,
                                      exprs_.bind_condition(*condition, scope, "JOIN/ON"));
            split_conjuncts(std::move(on), conjuncts);
        }
        for (const std::string& name : using_columns) {
            std::optional<std::size_t> l, r;
            for (std::size_t i = 0; i < left_width; ++i) {
                if (!left.scope.columns[i].hidden && left.scope.columns[i].name == name) l = i;
            }
            for (std::size_t i = 0; i < right.scope.columns.size(); ++i) {
                if (right.scope.columns[i].name == name) r = i;
            }
            if (!l || !r)
                return error(
                    ErrorCode::kNotFound, location,
                    fmt::format("column `{}` named in USING is not on both sides of the join",
                                name));
            scope.columns[left_width + *r].hidden = true;
            AstExpr eq;
            eq.kind = AstKind::kOperator;
            eq.name = "=";
            eq.location = location;
            BoundExpr a = BoundExpr::column_ref(*l, scope.columns[*l].type, name);
            BoundExpr b =
                BoundExpr::column_ref(left_width + *r, scope.columns[left_width + *r].type, name);
            std::vector<BoundExpr> args;
            args.push_back(std::move(a));
            args.push_back(std::move(b));
            AstExpr op;
            op.kind = AstKind::kOperator;
            op.name = "=";
            op.location = location;
            // Reuse the comparison typing rules through a bound "=".
            auto bound = bind_equality(std::move(args), location);
            if (!bound.ok()) return std::move(bound).error();
            conjuncts.push_back(std::move(bound).value());
        }
        auto node = std::make_unique<LogicalNode>();
        node->kind = LogicalNode::Kind::kJoin;
        switch (type) {
            case FromItem::JoinType::kInner:
            case FromItem::JoinType::kCross:
                node->join_type = JoinType::kInner;
                break;
            case FromItem::JoinType::kLeft:
                node->join_type = JoinType::kLeft;
                break;
            case FromItem::JoinType::kRight:
                node->join_type = JoinType::kRight;
                break;
            case FromItem::JoinType::kFull:
                node->join_type = JoinType::kFull;
                break;
        }
        std::vector<BoundExpr> residual;
        std::vector<std::size_t> right_mapping(scope.columns.size(), 0);
        for (std::size_t i = left_width; i < scope.columns.size(); ++i)
            right_mapping[i] = i - left_width;
        for (auto& conjunct : conjuncts) {
            if (conjunct.kind == BoundExpr::Kind::kCall && conjunct.function == Function::kEqual) {
                int a = sides(conjunct.args[0], left_width);
                int b = sides(conjunct.args[1], left_width);
                if ((a == 1 && b == 2) || (a == 2 && b == 1)) {
                    BoundExpr l = std::move(conjunct.args[a == 1 ? 0 : 1]);
                    BoundExpr r = std::move(conjunct.args[a == 1 ? 1 : 0]);
                    r.remap_columns(right_mapping);
                    node->left_keys.push_back(std::move(l));
                    node->right_keys.push_back(std::move(r));
                    continue;
                }
            }
            residual.push_back(std::move(conjunct));
        }
        if (!residual.empty()) {
            node->predicate = make_conjunction(std::move(residual));
            node->has_predicate = true;
        }
        std::vector<Field> fields;
        bool left_nullable =
            node->join_type == JoinType::kRight || node->join_type == JoinType::kFull;
        bool right_nullable =
            node->join_type == JoinType::kLeft || node->join_type == JoinType::kFull;
        for (const Field& f : left.plan->schema->fields())
            fields.push_back(Field{f.name, f.type, f.nullable || left_nullable});
        for (const Field& f : right.plan->schema->fields())
            fields.push_back(Field{f.name, f.type, f.nullable || right_nullable});
        node->schema = make_schema(std::move(fields));
        node->children.push_back(std::move(left.plan));
        node->children.push_back(std::move(right.plan));
        BoundRelation out;
        out.plan = std::move(node);
        out.scope = std::move(scope);
        return out;
    }

    Result<BoundExpr> bind_equality(std::vector<BoundExpr> args, int location) {
        std::optional<DataType> type = ExpressionBinder::common_type(args[0], args[1]);
        if (!type) {
            return error(ErrorCode::kTypeMismatch, location,
                         fmt::format("cannot compare {} with {}", type_name(args[0].type),
                                     type_name(args[1].type)));
        }
        MILLRACE_ASSIGN_OR_RETURN(args[0], exprs_.cast(std::move(args[0]), *type, location));
        MILLRACE_ASSIGN_OR_RETURN(args[1], exprs_.cast(std::move(args[1]), *type, location));
        BoundExpr eq;
        eq.kind = BoundExpr::Kind::kCall;
        eq.function = Function::kEqual;
        eq.type = DataType::kBool;
        eq.location = location;
        eq.args = std::move(args);
        return eq;
    }

    Result<BoundRelation> bind_from_item(const FromItem& item) {
        switch (item.kind) {
            case FromItem::Kind::kTable:
                return bind_table(item);
            case FromItem::Kind::kFunction:
                return bind_table_function(item);
            case FromItem::Kind::kSubquery: {
                if (item.alias.empty())
                    return error(ErrorCode::kInvalidArgument, item.location,
                                 "a subquery in FROM needs an alias");
                SelectBinder inner(exprs_.sql(), catalog_);
                MILLRACE_ASSIGN_OR_RETURN(LogicalPlan plan, inner.bind(*item.subquery));
                BoundRelation out;
                for (const Field& field : plan->schema->fields())
                    out.scope.columns.push_back(
                        ScopeColumn{item.alias, field.name, field.type, false});
                out.plan = std::move(plan);
                return out;
            }
            case FromItem::Kind::kJoin: {
                MILLRACE_ASSIGN_OR_RETURN(BoundRelation left, bind_from_item(*item.left));
                MILLRACE_ASSIGN_OR_RETURN(BoundRelation right, bind_from_item(*item.right));
                return bind_join(std::move(left), std::move(right), item.join_type,
                                 item.condition.get(), item.using_columns, item.location);
            }
        }
        return error(ErrorCode::kInternal, item.location, "unhandled FROM item");
    }

    Result<BoundRelation> bind_from(const std::vector<FromItem>& items) {
        if (items.empty()) {
            BoundRelation out;
            out.plan = std::make_unique<LogicalNode>();
            out.plan->kind = LogicalNode::Kind::kSingleRow;
            out.plan->schema = std::make_shared<const Schema>();
            return out;
        }
        MILLRACE_ASSIGN_OR_RETURN(BoundRelation current, bind_from_item(items[0]));
        for (std::size_t i = 1; i < items.size(); ++i) {
            MILLRACE_ASSIGN_OR_RETURN(BoundRelation next, bind_from_item(items[i]));
            MILLRACE_ASSIGN_OR_RETURN(
                current, bind_join(std::move(current), std::move(next), FromItem::JoinType::kCross,
                                   nullptr, {}, items[i].location));
        }
        return current;
    }

    /// Replaces group keys and aggregates by columns of the Aggregate node's output.
    Result<BoundExpr> rewrite_after_aggregate(BoundExpr expr, const std::vector<BoundExpr>& keys,
                                              std::vector<AggregateCall>& aggregates,
                                              const Scope& input) {
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (expr == keys[i]) {
                BoundExpr out = BoundExpr::column_ref(
                    i, keys[i].type, keys[i].kind == BoundExpr::Kind::kColumn ? keys[i].name : "");
                out.location = expr.location;
                return out;
            }
        }
        if (expr.kind == BoundExpr::Kind::kAggregate) {
            AggregateCall call{expr.aggregate, expr.args, expr.type, expr.distinct};
            std::size_t index = aggregates.size();
            for (std::size_t i = 0; i < aggregates.size(); ++i) {
                const AggregateCall& a = aggregates[i];
                if (a.function == call.function && a.distinct == call.distinct &&
                    a.args.size() == call.args.size() &&
                    std::equal(a.args.begin(), a.args.end(), call.args.begin())) {
                    index = i;
                }
            }
            if (index == aggregates.size()) aggregates.push_back(std::move(call));
            return BoundExpr::column_ref(keys.size() + index, expr.type, "");
        }
        if (expr.kind == BoundExpr::Kind::kColumn) {
            return error(ErrorCode::kInvalidArgument, expr.location,
                         fmt::format("column `{}` must appear in the GROUP BY clause or be used in "
                                     "an aggregate function",
                                     input.columns[expr.column].name));
        }
        for (auto& arg : expr.args) {
            MILLRACE_ASSIGN_OR_RETURN(
                arg, rewrite_after_aggregate(std::move(arg), keys, aggregates, input));
        }
        return expr;
    }

    static bool has_aggregate(const AstExpr& expr) {
        if (expr.kind == AstKind::kFunction) {
            if (is_aggregate_function_name(expr.name)) return true;
        }
        for (const auto& arg : expr.args) {
            if (arg && has_aggregate(*arg)) return true;
        }
        return false;
    }

    Result<int64_t> bind_count(const AstExpr& expr, std::string_view clause) {
        Scope empty;
        MILLRACE_ASSIGN_OR_RETURN(BoundExpr bound, exprs_.bind(expr, empty, false));
        if (bound.kind != BoundExpr::Kind::kConstant || !is_integer(bound.type) ||
            bound.constant.is_null()) {
            if (bound.kind == BoundExpr::Kind::kConstant && bound.constant.is_null()) return -1;
            return error(ErrorCode::kInvalidArgument, expr.location,
                         fmt::format("{} must be a constant integer", clause));
        }
        int64_t v =
            bound.type == DataType::kInt32 ? bound.constant.as_int32() : bound.constant.as_int64();
        if (v < 0)
            return error(ErrorCode::kInvalidArgument, expr.location,
                         fmt::format("{} must not be negative", clause));
        return v;
    }

    Result<LogicalPlan> bind_set_operation(const SelectStmt& stmt) {
        if (stmt.set_op == SelectStmt::SetOp::kIntersect ||
            stmt.set_op == SelectStmt::SetOp::kExcept) {
            return error(ErrorCode::kUnsupported, stmt.location,
                         "INTERSECT and EXCEPT are not supported yet; use a join");
        }
        SelectBinder left_binder(exprs_.sql(), catalog_);
        SelectBinder right_binder(exprs_.sql(), catalog_);
        MILLRACE_ASSIGN_OR_RETURN(LogicalPlan left, left_binder.bind(*stmt.left));
        MILLRACE_ASSIGN_OR_RETURN(LogicalPlan right, right_binder.bind(*stmt.right));
        if (left->schema->size() != right->schema->size()) {
            return error(
                ErrorCode::kInvalidArgument, stmt.right->location,
                fmt::format("each UNION query must have the same number of columns ({} and {})",
                            left->schema->size(), right->schema->size()));
        }
        std::vector<Field> fields;
        std::vector<BoundExpr> left_exprs, right_exprs;
        bool left_cast = false, right_cast = false;
        for (std::size_t i = 0; i < left->schema->size(); ++i) {
            const Field& l = left->schema->field(i);
            const Field& r = right->schema->field(i);
            BoundExpr le = BoundExpr::column_ref(i, l.type, l.name);
            BoundExpr re = BoundExpr::column_ref(i, r.type, r.name);
            std::optional<DataType> type = ExpressionBinder::common_type(le, re);
            if (!type) {
                return error(ErrorCode::kTypeMismatch, stmt.right->location,
                             fmt::format("UNION types {} and {} cannot be matched (column {} `{}`)",
                                         type_name(l.type), type_name(r.type), i + 1, l.name));
            }
            left_cast = left_cast || l.type != *type;
            right_cast = right_cast || r.type != *type;
            MILLRACE_ASSIGN_OR_RETURN(le, exprs_.cast(std::move(le), *type, stmt.location));
            MILLRACE_ASSIGN_OR_RETURN(re, exprs_.cast(std::move(re), *type, stmt.location));
            left_exprs.push_back(std::move(le));
            right_exprs.push_back(std::move(re));
            fields.push_back(Field{l.name, *type, l.nullable || r.nullable});
        }
        std::vector<std::string> names;
        for (const Field& f : fields) names.push_back(f.name);
        if (left_cast) left = make_project(std::move(left), std::move(left_exprs), names);
        if (right_cast) right = make_project(std::move(right), std::move(right_exprs), names);
        auto node = std::make_unique<LogicalNode>();
        node->kind = LogicalNode::Kind::kUnionAll;
        node->schema = make_schema(std::move(fields));
        node->children.push_back(std::move(left));
        node->children.push_back(std::move(right));
        LogicalPlan plan = std::move(node);
        if (stmt.set_op == SelectStmt::SetOp::kUnion) plan = make_distinct(std::move(plan));
        // ORDER BY / LIMIT of the whole set operation: by output name or position.
        Scope scope;
        for (const Field& f : plan->schema->fields())
            scope.columns.push_back(ScopeColumn{"", f.name, f.type, false});
        if (!stmt.order_by.empty()) {
            std::vector<SortKey> keys;
            for (const OrderItem& item : stmt.order_by) {
                MILLRACE_ASSIGN_OR_RETURN(std::size_t column, output_column(*item.expr, scope));
                keys.push_back(
                    SortKey{column, item.descending, item.nulls_first.value_or(item.descending)});
            }
            auto sort = std::make_unique<LogicalNode>();
            sort->kind = LogicalNode::Kind::kSort;
            sort->schema = plan->schema;
            sort->sort_keys = std::move(keys);
            sort->children.push_back(std::move(plan));
            plan = std::move(sort);
        }
        return add_limit(std::move(plan), stmt);
    }

    Result<std::size_t> output_column(const AstExpr& expr, const Scope& scope) {
        if (expr.kind == AstKind::kLiteral && !expr.literal.is_null() &&
            expr.literal.type() == DataType::kInt32) {
            int32_t position = expr.literal.as_int32();
            if (position < 1 || static_cast<std::size_t>(position) > scope.columns.size()) {
                return error(ErrorCode::kOutOfRange, expr.location,
                             fmt::format("position {} is not in the select list (1 to {})",
                                         position, scope.columns.size()));
            }
            return static_cast<std::size_t>(position - 1);
        }
        MILLRACE_ASSIGN_OR_RETURN(BoundExpr bound, exprs_.bind(expr, scope, false));
        if (bound.kind != BoundExpr::Kind::kColumn) {
            return error(ErrorCode::kInvalidArgument, expr.location,
                         "ORDER BY of a UNION must name an output column or position");
        }
        return bound.column;
    }

    static LogicalPlan make_distinct(LogicalPlan plan) {
        auto node = std::make_unique<LogicalNode>();
        node->kind = LogicalNode::Kind::kAggregate;
        node->schema = plan->schema;
        for (std::size_t i = 0; i < plan->schema->size(); ++i) {
            node->group_keys.push_back(
                BoundExpr::column_ref(i, plan->schema->field(i).type, plan->schema->field(i).name));
        }
        node->children.push_back(std::move(plan));
        return node;
    }

    Result<LogicalPlan> add_limit(LogicalPlan plan, const SelectStmt& stmt) {
        if (!stmt.limit && !stmt.offset) return plan;
        int64_t limit = -1, offset = 0;
        if (stmt.limit) {
            MILLRACE_ASSIGN_OR_RETURN(limit, bind_count(*stmt.limit, "LIMIT"));
        }
        if (stmt.offset) {
            MILLRACE_ASSIGN_OR_RETURN(offset, bind_count(*stmt.offset, "OFFSET"));
            if (offset < 0) offset = 0;
        }
        auto node = std::make_unique<LogicalNode>();
        node->kind = LogicalNode::Kind::kLimit;
        node->schema = plan->schema;
        node->limit = limit;
        node->offset = offset;
        node->children.push_back(std::move(plan));
        return node;
    }

    Result<LogicalPlan> bind(const SelectStmt& stmt) {
        if (stmt.set_op != SelectStmt::SetOp::kNone) return bind_set_operation(stmt);
        MILLRACE_ASSIGN_OR_RETURN(BoundRelation from, bind_from(stmt.from));
        LogicalPlan plan = std::move(from.plan);
        const Scope& input = from.scope;
        if (stmt.where) {
            if (has_aggregate(*stmt.where)) {
                return error(ErrorCode::kInvalidArgument, stmt.where->location,
                             "aggregate functions are not allowed in WHERE (use HAVING)");
            }
            MILLRACE_ASSIGN_OR_RETURN(BoundExpr predicate,
                                      exprs_.bind_condition(*stmt.where, input, "WHERE"));
            auto filter = std::make_unique<LogicalNode>();
            filter->kind = LogicalNode::Kind::kFilter;
            filter->schema = plan->schema;
            filter->predicate = std::move(predicate);
            filter->has_predicate = true;
            filter->children.push_back(std::move(plan));
            plan = std::move(filter);
        }

        // The select list, with * expanded: (expression AST or column index, name).
        struct Item {
            const AstExpr* expr = nullptr;
            std::optional<std::size_t> column;  // expanded star
            std::string name;
        };
        std::vector<Item> items;
        for (const SelectItem& select_item : stmt.items) {
            if (select_item.expr->kind == AstKind::kStar) {
                const auto& names = select_item.expr->names;
                bool any = false;
                for (std::size_t i = 0; i < input.columns.size(); ++i) {
                    const ScopeColumn& c = input.columns[i];
                    if (names.empty() ? c.hidden : c.qualifier != names[0]) continue;
                    items.push_back(Item{nullptr, i, c.name});
                    any = true;
                }
                if (!names.empty() && !any) {
                    return error(ErrorCode::kNotFound, select_item.expr->location,
                                 fmt::format("unknown table `{}` in `{}.*`", names[0], names[0]));
                }
                if (names.empty() && stmt.from.empty()) {
                    return error(ErrorCode::kInvalidArgument, select_item.expr->location,
                                 "SELECT * needs a FROM clause");
                }
                continue;
            }
            items.push_back(Item{select_item.expr.get(), std::nullopt,
                                 select_item.alias.empty() ? default_column_name(*select_item.expr)
                                                           : select_item.alias});
        }

        bool aggregating = !stmt.group_by.empty() || (stmt.having != nullptr);
        for (const Item& item : items)
            aggregating = aggregating || (item.expr && has_aggregate(*item.expr));
        for (const OrderItem& o : stmt.order_by)
            aggregating = aggregating || has_aggregate(*o.expr);

        auto bind_item = [&](const Item& item, const Scope& scope,
                             bool allow_aggregates) -> Result<BoundExpr> {
            if (item.column) {
                const ScopeColumn& c = scope.columns[*item.column];
                return BoundExpr::column_ref(*item.column, c.type, c.name);
            }
            return exprs_.bind(*item.expr, scope, allow_aggregates);
        };

        std::vector<BoundExpr> outputs;
        std::vector<std::string> names;
        std::optional<BoundExpr> having;
        std::vector<BoundExpr> keys;
        std::vector<AggregateCall> aggregates;
        const Scope* order_scope = &input;
        if (aggregating) {
            for (const auto& g : stmt.group_by) {
                const AstExpr* key_expr = g.get();
                if (g->kind == AstKind::kLiteral && !g->literal.is_null() &&
                    g->literal.type() == DataType::kInt32) {
                    int32_t position = g->literal.as_int32();
                    if (position < 1 || static_cast<std::size_t>(position) > items.size()) {
                        return error(ErrorCode::kOutOfRange, g->location,
                                     fmt::format("GROUP BY position {} is not in the select list",
                                                 position));
                    }
                    const Item& item = items[static_cast<std::size_t>(position - 1)];
                    if (item.column) {
                        keys.push_back(BoundExpr::column_ref(*item.column,
                                                             input.columns[*item.column].type,
                                                             input.columns[*item.column].name));
                        continue;
                    }
                    key_expr = item.expr;
                } else if (g->kind == AstKind::kColumn && g->names.size() == 1) {
                    // A name that is not an input column may be an output alias (PostgreSQL).
                    bool is_input = std::any_of(
                        input.columns.begin(), input.columns.end(),
                        [&](const ScopeColumn& c) { return !c.hidden && c.name == g->names[0]; });
                    if (!is_input) {
                        for (const Item& item : items) {
                            if (item.expr && item.name == g->names[0]) key_expr = item.expr;
                        }
                    }
                }
                if (has_aggregate(*key_expr))
                    return error(ErrorCode::kInvalidArgument, key_expr->location,
                                 "aggregate functions are not allowed in GROUP BY");
                MILLRACE_ASSIGN_OR_RETURN(BoundExpr key, exprs_.bind(*key_expr, input, false));
                if (std::find(keys.begin(), keys.end(), key) == keys.end())
                    keys.push_back(std::move(key));
            }
            for (const Item& item : items) {
                MILLRACE_ASSIGN_OR_RETURN(BoundExpr bound, bind_item(item, input, true));
                MILLRACE_ASSIGN_OR_RETURN(
                    bound, rewrite_after_aggregate(std::move(bound), keys, aggregates, input));
                outputs.push_back(std::move(bound));
                names.push_back(item.name);
            }
            if (stmt.having) {
                MILLRACE_ASSIGN_OR_RETURN(BoundExpr h, exprs_.bind(*stmt.having, input, true));
                if (h.type != DataType::kBool) {
                    return error(ErrorCode::kTypeMismatch, stmt.having->location,
                                 fmt::format("argument of HAVING must be boolean, not {}",
                                             type_name(h.type)));
                }
                MILLRACE_ASSIGN_OR_RETURN(
                    h, rewrite_after_aggregate(std::move(h), keys, aggregates, input));
                having = std::move(h);
            }
        } else {
            for (const Item& item : items) {
                MILLRACE_ASSIGN_OR_RETURN(BoundExpr bound, bind_item(item, input, false));
                outputs.push_back(std::move(bound));
                names.push_back(item.name);
            }
        }

        // ORDER BY: an output position, an output name, an output expression, or (without
        // DISTINCT) any expression over the input, computed as a hidden output column.
        std::vector<SortKey> sort_keys;
        std::size_t visible = outputs.size();
        Scope output_scope;
        for (std::size_t i = 0; i < outputs.size(); ++i)
            output_scope.columns.push_back(ScopeColumn{"", names[i], outputs[i].type, false});
        for (const OrderItem& order : stmt.order_by) {
            const AstExpr& e = *order.expr;
            std::optional<std::size_t> column;
            if (e.kind == AstKind::kLiteral && !e.literal.is_null() &&
                e.literal.type() == DataType::kInt32) {
                int32_t position = e.literal.as_int32();
                if (position < 1 || static_cast<std::size_t>(position) > visible) {
                    return error(
                        ErrorCode::kOutOfRange, e.location,
                        fmt::format("ORDER BY position {} is not in the select list", position));
                }
                column = static_cast<std::size_t>(position - 1);
            } else if (e.kind == AstKind::kColumn && e.names.size() == 1) {
                for (std::size_t i = 0; i < visible && !column; ++i) {
                    if (names[i] == e.names[0]) column = i;
                }
            }
            if (!column) {
                MILLRACE_ASSIGN_OR_RETURN(BoundExpr bound,
                                          exprs_.bind(e, *order_scope, aggregating));
                if (aggregating) {
                    MILLRACE_ASSIGN_OR_RETURN(
                        bound, rewrite_after_aggregate(std::move(bound), keys, aggregates, input));
                }
                for (std::size_t i = 0; i < outputs.size() && !column; ++i) {
                    if (outputs[i] == bound) column = i;
                }
                if (!column) {
                    if (stmt.distinct) {
                        return error(ErrorCode::kInvalidArgument, e.location,
                                     "for SELECT DISTINCT, ORDER BY expressions must appear in the "
                                     "select list");
                    }
                    column = outputs.size();
                    outputs.push_back(std::move(bound));
                    names.push_back(fmt::format("_order_{}", column.value()));
                }
            }
            sort_keys.push_back(
                SortKey{*column, order.descending, order.nulls_first.value_or(order.descending)});
        }

        if (aggregating) {
            auto aggregate = std::make_unique<LogicalNode>();
            aggregate->kind = LogicalNode::Kind::kAggregate;
            std::vector<Field> fields;
            for (std::size_t i = 0; i < keys.size(); ++i) {
                std::string name = keys[i].kind == BoundExpr::Kind::kColumn
                                       ? keys[i].name
                                       : fmt::format("_key_{}", i);
                fields.push_back(Field{name, keys[i].type, true});
            }
            for (std::size_t i = 0; i < aggregates.size(); ++i) {
                const bool nullable = aggregate_function(aggregates[i].function).nullable;
                fields.push_back(Field{fmt::format("_agg_{}", i), aggregates[i].type, nullable});
            }
            aggregate->schema = make_schema(std::move(fields));
            aggregate->group_keys = std::move(keys);
            aggregate->aggregates = std::move(aggregates);
            aggregate->children.push_back(std::move(plan));
            plan = std::move(aggregate);
            if (having) {
                auto filter = std::make_unique<LogicalNode>();
                filter->kind = LogicalNode::Kind::kFilter;
                filter->schema = plan->schema;
                filter->predicate = std::move(*having);
                filter->has_predicate = true;
                filter->children.push_back(std::move(plan));
                plan = std::move(filter);
            }
        }
        plan = make_project(std::move(plan), std::move(outputs), names);
        if (stmt.distinct) plan = make_distinct(std::move(plan));
        if (!sort_keys.empty()) {
            auto sort = std::make_unique<LogicalNode>();
            sort->kind = LogicalNode::Kind::kSort;
            sort->schema = plan->schema;
            sort->sort_keys = std::move(sort_keys);
            sort->children.push_back(std::move(plan));
            plan = std::move(sort);
        }
        MILLRACE_ASSIGN_OR_RETURN(plan, add_limit(std::move(plan), stmt));
        if (plan->schema->size() > visible) {
            std::vector<BoundExpr> exprs;
            std::vector<std::string> visible_names;
            for (std::size_t i = 0; i < visible; ++i) {
                exprs.push_back(BoundExpr::column_ref(i, plan->schema->field(i).type,
                                                      plan->schema->field(i).name));
                visible_names.push_back(plan->schema->field(i).name);
            }
            plan = make_project(std::move(plan), std::move(exprs), visible_names);
        }
        return plan;
    }

private:
    ExpressionBinder exprs_;
    Catalog& catalog_;
};

}  // namespace

Result<LogicalPlan> bind_select(const SelectStmt& stmt, std::string_view sql, Catalog& catalog) {
    SelectBinder binder(sql, catalog);
    return binder.bind(stmt);
}

Result<BoundExpr> bind_predicate(const AstExpr& expr, std::string_view sql, const Schema& schema) {
    ExpressionBinder binder(sql);
    Scope scope;
    for (const Field& field : schema.fields())
        scope.columns.push_back(ScopeColumn{"", field.name, field.type, false});
    return binder.bind_condition(expr, scope, "a check");
}

}  // namespace millrace::sql
