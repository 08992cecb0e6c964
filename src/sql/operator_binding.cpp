#include <fmt/format.h>

#include <optional>
#include <string>
#include <unordered_map>

#include "sql/expression_binder.h"

namespace millrace::sql {

// ExpressionBinder: operators (arithmetic, comparisons, concatenation, time arithmetic).

namespace {

BoundExpr call(Function function, DataType type, std::vector<BoundExpr> args, int location) {
    BoundExpr e;
    e.kind = BoundExpr::Kind::kCall;
    e.function = function;
    e.type = type;
    e.args = std::move(args);
    e.location = location;
    return e;
}

}  // namespace

Result<BoundExpr> ExpressionBinder::bind_comparison(Function function, BoundExpr left,
                                                    BoundExpr right, int location) const {
    std::optional<DataType> type = common_type(left, right);
    if (!type) {
        return error(
            ErrorCode::kTypeMismatch, location,
            fmt::format("cannot compare {} with {}", type_name(left.type), type_name(right.type)));
    }
    if (is_untyped_literal(left) && is_untyped_literal(right)) type = DataType::kString;
    MILLRACE_ASSIGN_OR_RETURN(left, cast(std::move(left), *type, location));
    MILLRACE_ASSIGN_OR_RETURN(right, cast(std::move(right), *type, location));
    std::vector<BoundExpr> args;
    args.push_back(std::move(left));
    args.push_back(std::move(right));
    return call(function, DataType::kBool, std::move(args), location);
}

Result<BoundExpr> ExpressionBinder::bind_operator(const AstExpr& expr,
                                                  std::vector<BoundExpr> args) const {
    const std::string& op = expr.name;
    int location = expr.location;
    if (args.size() == 1) {
        BoundExpr& arg = args[0];
        if (op == "+") return std::move(arg);
        if (op == "-") {
            if (arg.kind == BoundExpr::Kind::kConstant && !arg.constant.is_null()) {
                if (arg.type == DataType::kInt32)
                    return BoundExpr::constant_of(Value::int32(-arg.constant.as_int32()), arg.type);
                if (arg.type == DataType::kInt64 && arg.constant.as_int64() != INT64_MIN) {
                    BoundExpr out =
                        BoundExpr::constant_of(Value::int64(-arg.constant.as_int64()), arg.type);
                    out.interval = arg.interval;
                    return out;
                }
                if (arg.type == DataType::kFloat64)
                    return BoundExpr::constant_of(Value::float64(-arg.constant.as_double()),
                                                  arg.type);
            }
            if (is_untyped_literal(arg)) {
                MILLRACE_ASSIGN_OR_RETURN(arg, cast(std::move(arg), DataType::kFloat64, location));
            }
            if (!is_numeric(arg.type)) {
                return error(ErrorCode::kTypeMismatch, location,
                             fmt::format("operator - cannot negate {}", type_name(arg.type)));
            }
            DataType type = arg.type;
            return call(Function::kNegate, type, std::move(args), location);
        }
        return error(ErrorCode::kUnsupported, location,
                     fmt::format("unsupported prefix operator {}", op));
    }
    BoundExpr& left = args[0];
    BoundExpr& right = args[1];
    static const std::pair<std::string_view, Function> kComparisons[] = {
        {"=", Function::kEqual},        {"<>", Function::kNotEqual},  {"!=", Function::kNotEqual},
        {"<", Function::kLess},         {"<=", Function::kLessEqual}, {">", Function::kGreater},
        {">=", Function::kGreaterEqual}};
    for (const auto& [name, function] : kComparisons) {
        if (op == name)
            return bind_comparison(function, std::move(left), std::move(right), location);
    }
    if (op == "||") {
        for (BoundExpr* e : {&left, &right}) {
            if (e->type != DataType::kString) {
                MILLRACE_ASSIGN_OR_RETURN(*e, cast(std::move(*e), DataType::kString, location));
            }
        }
        return call(Function::kConcat, DataType::kString, std::move(args), location);
    }
    if (op == "+" || op == "-") {
        bool add = op == "+";
        // timestamp ± interval, date ± integer days, date - date
        if (left.interval || right.interval) {
            if (right.interval && (left.type == DataType::kTimestamp ||
                                   left.type == DataType::kDate || is_untyped_literal(left))) {
                MILLRACE_ASSIGN_OR_RETURN(left,
                                          cast(std::move(left), DataType::kTimestamp, location));
                right.interval = false;
                return call(
                    add ? Function::kTimestampAddMicros : Function::kTimestampSubtractMicros,
                    DataType::kTimestamp, std::move(args), location);
            }
            if (add && left.interval &&
                (right.type == DataType::kTimestamp || right.type == DataType::kDate)) {
                MILLRACE_ASSIGN_OR_RETURN(right,
                                          cast(std::move(right), DataType::kTimestamp, location));
                left.interval = false;
                std::swap(args[0], args[1]);
                return call(Function::kTimestampAddMicros, DataType::kTimestamp, std::move(args),
                            location);
            }
            if (left.interval && right.interval) {
                int64_t a = left.constant.as_int64(), b = right.constant.as_int64();
                BoundExpr out =
                    BoundExpr::constant_of(Value::int64(add ? a + b : a - b), DataType::kInt64);
                out.interval = true;
                return out;
            }
            return error(ErrorCode::kTypeMismatch, location,
                         fmt::format("operator {} is not defined for {} and interval", op,
                                     type_name(left.interval ? right.type : left.type)));
        }
        if (left.type == DataType::kDate && (is_integer(right.type) || is_untyped_literal(right))) {
            if (is_untyped_literal(right)) {
                MILLRACE_ASSIGN_OR_RETURN(right,
                                          cast(std::move(right), DataType::kInt32, location));
            }
            if (right.type != DataType::kInt32) {
                MILLRACE_ASSIGN_OR_RETURN(right,
                                          cast(std::move(right), DataType::kInt32, location));
            }
            return call(add ? Function::kDateAddDays : Function::kDateSubtractDays, DataType::kDate,
                        std::move(args), location);
        }
        if (add && is_integer(left.type) && right.type == DataType::kDate) {
            MILLRACE_ASSIGN_OR_RETURN(left, cast(std::move(left), DataType::kInt32, location));
            std::swap(args[0], args[1]);
            return call(Function::kDateAddDays, DataType::kDate, std::move(args), location);
        }
        if (!add && left.type == DataType::kDate && right.type == DataType::kDate) {
            return call(Function::kDateDiffDays, DataType::kInt32, std::move(args), location);
        }
        if (!add && left.type == DataType::kTimestamp && right.type == DataType::kTimestamp) {
            return error(ErrorCode::kUnsupported, location,
                         "timestamp - timestamp (an interval) is not supported; use epoch(a) - "
                         "epoch(b) for seconds");
        }
    }
    Function function;
    if (op == "+")
        function = Function::kAdd;
    else if (op == "-")
        function = Function::kSubtract;
    else if (op == "*")
        function = Function::kMultiply;
    else if (op == "/")
        function = Function::kDivide;
    else if (op == "%")
        function = Function::kModulo;
    else
        return error(ErrorCode::kUnsupported, location, fmt::format("unsupported operator {}", op));
    for (BoundExpr* e : {&left, &right}) {
        if (is_untyped_literal(*e)) {
            DataType other = (e == &left ? right : left).type;
            MILLRACE_ASSIGN_OR_RETURN(
                *e, cast(std::move(*e), is_numeric(other) ? other : DataType::kFloat64, location));
        }
        if (is_null_literal(*e)) e->type = DataType::kInt32;
    }
    if (!is_numeric(left.type) || !is_numeric(right.type)) {
        std::string hint =
            (op == "+" && (left.type == DataType::kString || right.type == DataType::kString))
                ? " (use || to concatenate strings)"
                : "";
        return error(ErrorCode::kTypeMismatch, location,
                     fmt::format("operator {} is not defined for {} and {}: `{}`{}", op,
                                 type_name(left.type), type_name(right.type), expr.to_sql(), hint));
    }
    DataType type = *common_type(left, right);
    if (left.type == DataType::kInt32 && right.type == DataType::kInt32) type = DataType::kInt32;
    MILLRACE_ASSIGN_OR_RETURN(left, cast(std::move(left), type, location));
    MILLRACE_ASSIGN_OR_RETURN(right, cast(std::move(right), type, location));
    return call(function, type, std::move(args), location);
}

// `x = c1 OR y = c2 OR x = c3 ...` with column-free c's: the equalities on one expression
// become one `x IN (c1, c3, ...)` (same three-valued result: true if any equal, else null if x
// or a c is null, else false), which the evaluator answers with one hash lookup per row
// instead of one comparison per term. Other arguments keep their places.
BoundExpr or_of_equalities_as_in(BoundExpr disjunction) {
    struct Group {
        std::size_t first;  // index of its first term in disjunction.args
        std::vector<std::size_t> terms;
    };
    // The probed side of an equality with a column-free other side, or -1.
    auto probed_side = [](const BoundExpr& e) -> int {
        if (e.kind != BoundExpr::Kind::kCall || e.function != Function::kEqual ||
            e.args.size() != 2)
            return -1;
        const bool left_free = e.args[0].is_column_free();
        const bool right_free = e.args[1].is_column_free();
        if (left_free == right_free) return -1;
        return left_free ? 1 : 0;
    };
    std::vector<Group> groups;
    std::unordered_map<std::string, std::vector<std::size_t>> by_text;  // -> group indexes
    for (std::size_t i = 0; i < disjunction.args.size(); ++i) {
        const int side = probed_side(disjunction.args[i]);
        if (side < 0) continue;
        const BoundExpr& probed = disjunction.args[i].args[static_cast<std::size_t>(side)];
        std::vector<std::size_t>& candidates = by_text[probed.to_string()];
        bool placed = false;
        for (std::size_t g : candidates) {
            const BoundExpr& first = disjunction.args[groups[g].first];
            if (first.args[static_cast<std::size_t>(probed_side(first))] == probed) {
                groups[g].terms.push_back(i);
                placed = true;
                break;
            }
        }
        if (!placed) {
            candidates.push_back(groups.size());
            groups.push_back(Group{i, {i}});
        }
    }
    std::vector<std::optional<BoundExpr>> replacement(disjunction.args.size());
    std::vector<uint8_t> absorbed(disjunction.args.size(), 0);
    bool changed = false;
    for (Group& group : groups) {
        if (group.terms.size() < 2) continue;
        changed = true;
        BoundExpr in;
        in.kind = BoundExpr::Kind::kIn;
        in.type = DataType::kBool;
        in.location = disjunction.args[group.first].location;
        for (std::size_t term : group.terms) {
            BoundExpr& equality = disjunction.args[term];
            const auto side = static_cast<std::size_t>(probed_side(equality));
            if (in.args.empty()) in.args.push_back(std::move(equality.args[side]));
            in.args.push_back(std::move(equality.args[1 - side]));
            absorbed[term] = 1;
        }
        replacement[group.first] = std::move(in);
    }
    if (!changed) return disjunction;
    std::vector<BoundExpr> args;
    for (std::size_t i = 0; i < disjunction.args.size(); ++i) {
        if (replacement[i]) {
            args.push_back(std::move(*replacement[i]));
        } else if (!absorbed[i]) {
            args.push_back(std::move(disjunction.args[i]));
        }
    }
    if (args.size() == 1) return std::move(args[0]);
    disjunction.args = std::move(args);
    return disjunction;
}

}  // namespace millrace::sql
