#include <fmt/format.h>

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

}  // namespace millrace::sql
