#include "sql/expression_binder.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <unordered_map>

#include "common/suggest.h"
#include "sql/function_registry.h"
#include "sql/interval_literal.h"
#include "sql/parser.h"
#include "types/value_cast.h"

namespace millrace::sql {

bool is_untyped_literal(const BoundExpr& e) {
    return e.kind == BoundExpr::Kind::kConstant && e.type == DataType::kString && !e.interval;
}

bool is_null_literal(const BoundExpr& e) {
    return e.kind == BoundExpr::Kind::kConstant && e.constant.is_null();
}

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

BoundExpr call(Function function, DataType type, std::vector<BoundExpr> args, int location) {
    BoundExpr e;
    e.kind = BoundExpr::Kind::kCall;
    e.function = function;
    e.type = type;
    e.args = std::move(args);
    e.location = location;
    return e;
}

/// Why a SQL keyword that PostgreSQL evaluates to a value (USER, CURRENT_TIME, ...) cannot be
/// used, and, when the scope has a column of that name, how to read the column instead.
std::string sql_keyword_message(const AstExpr& expr, const Scope& scope) {
    const std::string& keyword = expr.name;
    std::string bare = keyword;
    if (bare.ends_with("(n)")) bare.resize(bare.size() - 3);
    std::string upper = bare;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string message;
    if (bare == "user" || bare == "current_user" || bare == "session_user" ||
        bare == "current_role") {
        message = fmt::format(
            "`{}` is the SQL keyword {}, which in PostgreSQL is the name of the database user; "
            "Millrace SQL has no database users",
            bare, upper);
    } else if (bare == "current_catalog" || bare == "current_schema") {
        message = fmt::format(
            "`{}` is the SQL keyword {}, PostgreSQL's current database or schema, which Millrace "
            "SQL does not have",
            bare, upper);
    } else if (bare == "current_time" || bare == "localtime") {
        message = fmt::format(
            "{} is a time of day, a type Millrace SQL does not have; use CURRENT_TIMESTAMP (or "
            "now()) and date_trunc or extract",
            upper);
    } else if (keyword.ends_with("(n)")) {
        message =
            fmt::format("{}(precision) is not supported; use {} (microseconds)", upper, upper);
    } else {
        message = fmt::format("the SQL keyword {} is not supported", upper);
    }
    const bool column_exists =
        std::any_of(scope.columns.begin(), scope.columns.end(),
                    [&](const ScopeColumn& c) { return !c.hidden && lower(c.name) == bare; });
    if (column_exists) {
        message += fmt::format(
            ". To read the column `{0}`, quote its name: \"{0}\" (unquoted, {1} is the keyword, "
            "as in PostgreSQL)",
            bare, upper);
    } else if (bare == "user") {
        message += "; a column named user is written \"user\"";
    }
    return message;
}

}  // namespace

Error ExpressionBinder::error(ErrorCode code, int location, std::string message) const {
    return Error(code, std::move(message), location_in_text(sql_, location));
}

std::optional<DataType> ExpressionBinder::common_type(const BoundExpr& a, const BoundExpr& b) {
    if (a.type == b.type && !a.interval && !b.interval) return a.type;
    if (is_null_literal(a)) return b.type;
    if (is_null_literal(b)) return a.type;
    if (is_untyped_literal(a)) return b.type;
    if (is_untyped_literal(b)) return a.type;
    if (is_numeric(a.type) && is_numeric(b.type)) {
        if (a.type == DataType::kFloat64 || b.type == DataType::kFloat64) return DataType::kFloat64;
        return DataType::kInt64;
    }
    if ((a.type == DataType::kDate && b.type == DataType::kTimestamp) ||
        (a.type == DataType::kTimestamp && b.type == DataType::kDate)) {
        return DataType::kTimestamp;
    }
    return std::nullopt;
}

Result<BoundExpr> ExpressionBinder::cast(BoundExpr expr, DataType to, int location) const {
    if (expr.type == to && !expr.interval) return expr;
    if (expr.kind == BoundExpr::Kind::kConstant) {
        if (expr.constant.is_null()) {
            expr.type = to;
            return expr;
        }
        auto value = cast_value(expr.constant, to);
        if (!value.ok())
            return error(value.error().code(), location >= 0 ? location : expr.location,
                         value.error().message());
        BoundExpr out = BoundExpr::constant_of(std::move(value).value(), to);
        out.location = expr.location;
        return out;
    }
    BoundExpr out;
    out.kind = BoundExpr::Kind::kCast;
    out.type = to;
    out.location = location;
    out.args.push_back(std::move(expr));
    return out;
}

Status ExpressionBinder::unify(std::vector<BoundExpr*> exprs, int location,
                               std::string_view what) const {
    if (exprs.empty()) return {};
    // The first typed (non-null, non-text-literal) expression leads, as PostgreSQL resolves.
    const BoundExpr* lead = exprs[0];
    for (BoundExpr* e : exprs) {
        if (!is_null_literal(*e) && !is_untyped_literal(*e)) {
            lead = e;
            break;
        }
    }
    DataType type = lead->type;
    for (BoundExpr* e : exprs) {
        if (is_null_literal(*e)) continue;
        BoundExpr probe = BoundExpr::constant_of(Value::null(), type);
        probe.constant = Value();
        std::optional<DataType> common;
        if (e->type == type) {
            common = type;
        } else {
            BoundExpr typed = BoundExpr::column_ref(0, type, "");
            common = common_type(typed, *e);
        }
        if (!common) {
            return error(ErrorCode::kTypeMismatch, e->location >= 0 ? e->location : location,
                         fmt::format("{} types {} and {} cannot be matched", what, type_name(type),
                                     type_name(e->type)));
        }
        type = *common;
    }
    for (BoundExpr* e : exprs) {
        MILLRACE_ASSIGN_OR_RETURN(*e, cast(std::move(*e), type, e->location));
    }
    return {};
}

Result<BoundExpr> ExpressionBinder::bind_condition(const AstExpr& expr, const Scope& scope,
                                                   std::string_view clause) {
    MILLRACE_ASSIGN_OR_RETURN(BoundExpr bound, bind(expr, scope, false));
    if (is_untyped_literal(bound) || is_null_literal(bound)) {
        MILLRACE_ASSIGN_OR_RETURN(bound, cast(std::move(bound), DataType::kBool, expr.location));
    }
    if (bound.type != DataType::kBool) {
        return error(ErrorCode::kTypeMismatch, expr.location,
                     fmt::format("argument of {} must be boolean, not {}: `{}`", clause,
                                 type_name(bound.type), expr.to_sql()));
    }
    return bound;
}

Result<BoundExpr> ExpressionBinder::bind_column(const AstExpr& expr, const Scope& scope) const {
    const std::string& name = expr.names.back();
    std::string qualifier = expr.names.size() >= 2 ? expr.names[expr.names.size() - 2] : "";
    if (expr.names.size() > 2) {
        return error(ErrorCode::kNotFound, expr.location,
                     fmt::format("column reference `{}` has too many parts", expr.to_sql()));
    }
    auto find = [&](bool case_insensitive) -> Result<std::optional<std::size_t>> {
        std::optional<std::size_t> found;
        for (std::size_t i = 0; i < scope.columns.size(); ++i) {
            const ScopeColumn& column = scope.columns[i];
            if (qualifier.empty() && column.hidden) continue;
            bool name_match =
                case_insensitive ? lower(column.name) == lower(name) : column.name == name;
            bool qualifier_match =
                qualifier.empty() || (case_insensitive ? lower(column.qualifier) == lower(qualifier)
                                                       : column.qualifier == qualifier);
            if (!name_match || !qualifier_match) continue;
            if (found) {
                return error(
                    ErrorCode::kInvalidArgument, expr.location,
                    fmt::format("column reference `{}` is ambiguous (qualify it, e.g. `{}.{}`)",
                                expr.to_sql(),
                                scope.columns[*found].qualifier.empty()
                                    ? "t"
                                    : scope.columns[*found].qualifier,
                                name));
            }
            found = i;
        }
        return found;
    };
    MILLRACE_ASSIGN_OR_RETURN(std::optional<std::size_t> index, find(false));
    if (!index) {
        MILLRACE_ASSIGN_OR_RETURN(index, find(true));
    }
    if (!index) {
        if (!qualifier.empty()) {
            bool qualifier_known =
                std::any_of(scope.columns.begin(), scope.columns.end(),
                            [&](const ScopeColumn& c) { return c.qualifier == qualifier; });
            if (!qualifier_known) {
                std::vector<std::string> qualifiers;
                for (const auto& c : scope.columns) {
                    if (std::find(qualifiers.begin(), qualifiers.end(), c.qualifier) ==
                        qualifiers.end())
                        qualifiers.push_back(c.qualifier);
                }
                auto hint = closest_match(qualifier, qualifiers);
                return error(ErrorCode::kNotFound, expr.location,
                             fmt::format("unknown table `{}`{}", qualifier,
                                         hint ? fmt::format(", did you mean `{}`?", *hint) : ""));
            }
        }
        std::vector<std::string> candidates;
        for (const auto& c : scope.columns) {
            if (qualifier.empty() || c.qualifier == qualifier) candidates.push_back(c.name);
        }
        auto hint = closest_match(name, candidates);
        return error(ErrorCode::kNotFound, expr.location,
                     fmt::format("unknown column `{}`{}", expr.to_sql(),
                                 hint ? fmt::format(", did you mean `{}`?", *hint) : ""));
    }
    const ScopeColumn& column = scope.columns[*index];
    BoundExpr out = BoundExpr::column_ref(*index, column.type, column.name);
    out.location = expr.location;
    return out;
}

Result<BoundExpr> ExpressionBinder::bind_literal(const AstExpr& expr) const {
    BoundExpr out;
    out.kind = BoundExpr::Kind::kConstant;
    out.constant = expr.literal;
    out.type = expr.literal.is_null() ? DataType::kString : expr.literal.type();
    out.location = expr.location;
    return out;
}

Result<std::vector<BoundExpr>> ExpressionBinder::bind_args(const AstExpr& expr, const Scope& scope,
                                                           bool allow_aggregates) {
    std::vector<BoundExpr> args;
    for (const auto& arg : expr.args) {
        if (!arg) {
            args.push_back(BoundExpr::constant_of(Value::null(), DataType::kString));
            continue;
        }
        MILLRACE_ASSIGN_OR_RETURN(BoundExpr bound, bind(*arg, scope, allow_aggregates));
        args.push_back(std::move(bound));
    }
    return args;
}

Result<BoundExpr> ExpressionBinder::bind_aggregate(const AstExpr& expr, const Scope& scope,
                                                   const AggregateFunctionInfo& info) {
    if (in_aggregate_) {
        return error(ErrorCode::kInvalidArgument, expr.location,
                     "aggregate function calls cannot be nested");
    }
    in_aggregate_ = true;
    auto args_result = bind_args(expr, scope, false);
    in_aggregate_ = false;
    MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args, std::move(args_result));
    if (!(expr.star && info.allows_star))
        MILLRACE_TRY(check_arity(expr, info.min_args, info.max_args, args.size()));
    CallBinding call{*this, expr, expr.name, std::move(args), expr.location};
    MILLRACE_ASSIGN_OR_RETURN(BoundExpr out, info.bind(call));
    if (expr.distinct && !aggregate_function(out.aggregate).allows_distinct) {
        return error(ErrorCode::kUnsupported, expr.location,
                     fmt::format("{}(DISTINCT ...) is not supported", expr.name));
    }
    return out;
}

Status ExpressionBinder::check_arity(const AstExpr& expr, int min_args, int max_args,
                                     std::size_t count) const {
    const auto n = static_cast<int>(count);
    if (n >= min_args && n <= max_args) return {};
    return error(ErrorCode::kInvalidArgument, expr.location,
                 min_args == max_args ? fmt::format("{}() takes {} argument{}, got {}", expr.name,
                                                    min_args, min_args == 1 ? "" : "s", n)
                                      : fmt::format("{}() takes {} to {} arguments, got {}",
                                                    expr.name, min_args, max_args, n));
}

Result<BoundExpr> ExpressionBinder::bind_function(const AstExpr& expr, const Scope& scope,
                                                  bool allow_aggregates) {
    const std::string& name = expr.name;
    if (const AggregateFunctionInfo* aggregate = find_aggregate_function(name)) {
        if (!allow_aggregates && !in_aggregate_) {
            return error(ErrorCode::kInvalidArgument, expr.location,
                         fmt::format("aggregate function {}() is not allowed here (only in SELECT, "
                                     "HAVING and ORDER BY of a query)",
                                     name));
        }
        return bind_aggregate(expr, scope, *aggregate);
    }
    if (name == "coalesce") {
        // The function-call spelling of COALESCE (syntax, not a function of the registry).
        MILLRACE_TRY(check_arity(expr, 1, 100, expr.args.size()));
        MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                  bind_args(expr, scope, allow_aggregates));
        std::vector<BoundExpr*> pointers;
        for (auto& arg : args) pointers.push_back(&arg);
        MILLRACE_TRY(unify(pointers, expr.location, "coalesce()"));
        BoundExpr out;
        out.kind = BoundExpr::Kind::kCoalesce;
        out.type = args[0].type;
        out.location = expr.location;
        out.args = std::move(args);
        return out;
    }
    const ScalarFunctionInfo* info = find_scalar_function(name);
    if (info == nullptr || info->bind == nullptr) {
        if (name == "tumble" || name == "hop" || name == "session") {
            return error(ErrorCode::kInvalidArgument, expr.location,
                         fmt::format("{}() is a table function: use it in FROM, e.g. FROM "
                                     "{}(events, ts, INTERVAL '1 minute')",
                                     name, name));
        }
        auto hint = closest_match(name, callable_function_names());
        return error(ErrorCode::kNotFound, expr.location,
                     fmt::format("unknown function {}(){}", name,
                                 hint ? fmt::format(", did you mean {}()?", *hint) : ""));
    }
    MILLRACE_TRY(check_arity(expr, info->min_args, info->max_args, expr.args.size()));
    MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                              bind_args(expr, scope, allow_aggregates));
    CallBinding call{*this, expr, name, std::move(args), expr.location};
    return info->bind(call);
}

Result<BoundExpr> ExpressionBinder::bind(const AstExpr& expr, const Scope& scope,
                                         bool allow_aggregates) {
    switch (expr.kind) {
        case AstKind::kColumn:
            return bind_column(expr, scope);
        case AstKind::kStar:
            return error(ErrorCode::kInvalidArgument, expr.location,
                         "`*` is only allowed in a select list or count(*)");
        case AstKind::kLiteral:
            return bind_literal(expr);
        case AstKind::kInterval: {
            auto micros = parse_interval(expr.text);
            if (!micros) {
                return error(ErrorCode::kInvalidArgument, expr.location,
                             fmt::format("invalid interval '{}': expected e.g. '30 seconds', '1 "
                                         "minute', '2 hours', '1 day'",
                                         expr.text));
            }
            BoundExpr out = BoundExpr::constant_of(Value::int64(*micros), DataType::kInt64);
            out.interval = true;
            out.location = expr.location;
            return out;
        }
        case AstKind::kFunction:
            return bind_function(expr, scope, allow_aggregates);
        case AstKind::kSqlKeyword:
            return error(ErrorCode::kUnsupported, expr.location, sql_keyword_message(expr, scope));
        case AstKind::kOperator: {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                      bind_args(expr, scope, allow_aggregates));
            return bind_operator(expr, std::move(args));
        }
        case AstKind::kAnd:
        case AstKind::kOr:
        case AstKind::kNot: {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                      bind_args(expr, scope, allow_aggregates));
            for (std::size_t i = 0; i < args.size(); ++i) {
                if (is_untyped_literal(args[i]) || is_null_literal(args[i])) {
                    MILLRACE_ASSIGN_OR_RETURN(
                        args[i], cast(std::move(args[i]), DataType::kBool, expr.location));
                }
                if (args[i].type != DataType::kBool) {
                    std::string_view op = expr.kind == AstKind::kAnd  ? "AND"
                                          : expr.kind == AstKind::kOr ? "OR"
                                                                      : "NOT";
                    return error(
                        ErrorCode::kTypeMismatch,
                        expr.args[i]->location >= 0 ? expr.args[i]->location : expr.location,
                        fmt::format("argument of {} must be boolean, not {}: `{}`", op,
                                    type_name(args[i].type), expr.args[i]->to_sql()));
                }
            }
            BoundExpr out;
            out.kind = expr.kind == AstKind::kAnd  ? BoundExpr::Kind::kAnd
                       : expr.kind == AstKind::kOr ? BoundExpr::Kind::kOr
                                                   : BoundExpr::Kind::kNot;
            out.type = DataType::kBool;
            out.location = expr.location;
            out.args = std::move(args);
            if (out.kind == BoundExpr::Kind::kOr) return or_of_equalities_as_in(std::move(out));
            return out;
        }
        case AstKind::kIsNull: {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                      bind_args(expr, scope, allow_aggregates));
            BoundExpr out;
            out.kind = BoundExpr::Kind::kIsNull;
            out.type = DataType::kBool;
            out.negated = expr.negated;
            out.location = expr.location;
            out.args = std::move(args);
            return out;
        }
        case AstKind::kBoolTest: {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                      bind_args(expr, scope, allow_aggregates));
            MILLRACE_ASSIGN_OR_RETURN(BoundExpr arg,
                                      cast(std::move(args[0]), DataType::kBool, expr.location));
            if (arg.type != DataType::kBool)
                return error(ErrorCode::kTypeMismatch, expr.location,
                             "IS TRUE/FALSE needs a boolean");
            // IS TRUE = coalesce(x, false); IS NOT TRUE = NOT coalesce(x, false);
            // IS FALSE = coalesce(NOT x, false); IS NOT FALSE = coalesce(x, true)
            bool negate = expr.name == "IS_NOT_TRUE";
            if (expr.name == "IS_FALSE") {
                BoundExpr n;
                n.kind = BoundExpr::Kind::kNot;
                n.type = DataType::kBool;
                n.args.push_back(std::move(arg));
                arg = std::move(n);
            }
            BoundExpr out;
            out.kind = BoundExpr::Kind::kCoalesce;
            out.type = DataType::kBool;
            out.location = expr.location;
            out.args.push_back(std::move(arg));
            out.args.push_back(BoundExpr::constant_of(Value::boolean(expr.name == "IS_NOT_FALSE"),
                                                      DataType::kBool));
            if (negate) {
                BoundExpr n;
                n.kind = BoundExpr::Kind::kNot;
                n.type = DataType::kBool;
                n.args.push_back(std::move(out));
                return n;
            }
            return out;
        }
        case AstKind::kIn: {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                      bind_args(expr, scope, allow_aggregates));
            std::vector<BoundExpr*> pointers;
            for (auto& arg : args) pointers.push_back(&arg);
            MILLRACE_TRY(unify(pointers, expr.location, "IN"));
            BoundExpr out;
            out.kind = BoundExpr::Kind::kIn;
            out.type = DataType::kBool;
            out.negated = expr.negated;
            out.location = expr.location;
            out.args = std::move(args);
            return out;
        }
        case AstKind::kBetween: {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                      bind_args(expr, scope, allow_aggregates));
            BoundExpr value_copy = args[0];
            MILLRACE_ASSIGN_OR_RETURN(BoundExpr low,
                                      bind_comparison(Function::kGreaterEqual, std::move(args[0]),
                                                      std::move(args[1]), expr.location));
            MILLRACE_ASSIGN_OR_RETURN(BoundExpr high,
                                      bind_comparison(Function::kLessEqual, std::move(value_copy),
                                                      std::move(args[2]), expr.location));
            BoundExpr out;
            out.kind = BoundExpr::Kind::kAnd;
            out.type = DataType::kBool;
            out.location = expr.location;
            out.args.push_back(std::move(low));
            out.args.push_back(std::move(high));
            if (!expr.negated) return out;
            BoundExpr n;
            n.kind = BoundExpr::Kind::kNot;
            n.type = DataType::kBool;
            n.location = expr.location;
            n.args.push_back(std::move(out));
            return n;
        }
        case AstKind::kLike: {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                      bind_args(expr, scope, allow_aggregates));
            for (std::size_t i = 0; i < 2; ++i) {
                if (args[i].type != DataType::kString) {
                    if (is_untyped_literal(args[i]) || is_null_literal(args[i])) {
                        MILLRACE_ASSIGN_OR_RETURN(
                            args[i], cast(std::move(args[i]), DataType::kString, expr.location));
                    } else {
                        return error(ErrorCode::kTypeMismatch, expr.args[i]->location,
                                     fmt::format("LIKE needs strings, not {}: `{}`",
                                                 type_name(args[i].type), expr.args[i]->to_sql()));
                    }
                }
            }
            BoundExpr out = call(expr.name == "ilike" ? Function::kILike : Function::kLike,
                                 DataType::kBool, std::move(args), expr.location);
            if (!expr.negated) return out;
            BoundExpr n;
            n.kind = BoundExpr::Kind::kNot;
            n.type = DataType::kBool;
            n.location = expr.location;
            n.args.push_back(std::move(out));
            return n;
        }
        case AstKind::kCase: {
            // args = [operand|null, when1, then1, ..., else|null]
            std::optional<BoundExpr> operand;
            if (expr.args[0]) {
                MILLRACE_ASSIGN_OR_RETURN(BoundExpr o,
                                          bind(*expr.args[0], scope, allow_aggregates));
                operand = std::move(o);
            }
            BoundExpr out;
            out.kind = BoundExpr::Kind::kCase;
            out.location = expr.location;
            std::size_t pairs = (expr.args.size() - 2) / 2;
            std::vector<BoundExpr> results;
            for (std::size_t i = 0; i < pairs; ++i) {
                const AstExpr& when = *expr.args[1 + 2 * i];
                BoundExpr condition;
                if (operand) {
                    MILLRACE_ASSIGN_OR_RETURN(BoundExpr value, bind(when, scope, allow_aggregates));
                    MILLRACE_ASSIGN_OR_RETURN(
                        condition, bind_comparison(Function::kEqual, *operand, std::move(value),
                                                   when.location));
                } else {
                    MILLRACE_ASSIGN_OR_RETURN(condition, bind_condition(when, scope, "CASE/WHEN"));
                    if (condition.contains_aggregate() && !allow_aggregates) {
                        return error(ErrorCode::kInvalidArgument, when.location,
                                     "aggregate not allowed here");
                    }
                }
                out.args.push_back(std::move(condition));
                MILLRACE_ASSIGN_OR_RETURN(BoundExpr result,
                                          bind(*expr.args[2 + 2 * i], scope, allow_aggregates));
                out.args.push_back(std::move(result));
            }
            if (expr.args.back()) {
                MILLRACE_ASSIGN_OR_RETURN(BoundExpr otherwise,
                                          bind(*expr.args.back(), scope, allow_aggregates));
                out.args.push_back(std::move(otherwise));
            } else {
                out.args.push_back(BoundExpr::constant_of(Value::null(), DataType::kString));
            }
            std::vector<BoundExpr*> pointers;
            for (std::size_t i = 1; i < out.args.size(); i += 2) pointers.push_back(&out.args[i]);
            pointers.push_back(&out.args.back());
            MILLRACE_TRY(unify(pointers, expr.location, "CASE"));
            out.type = out.args.back().type;
            bool all_untyped = true;
            for (auto* p : pointers)
                all_untyped = all_untyped && (is_untyped_literal(*p) || is_null_literal(*p));
            if (all_untyped) out.type = DataType::kString;
            return out;
        }
        case AstKind::kCast: {
            MILLRACE_ASSIGN_OR_RETURN(BoundExpr arg, bind(*expr.args[0], scope, allow_aggregates));
            std::string type_text = lower(expr.text);
            static const std::pair<std::string_view, std::string_view> kPgNames[] = {
                {"int4", "int32"},     {"int8", "int64"},    {"int2", "int32"},
                {"float8", "double"},  {"float4", "double"}, {"numeric", "double"},
                {"decimal", "double"}, {"bool", "bool"},     {"varchar", "string"},
                {"bpchar", "string"},  {"text", "string"},   {"timestamptz", "timestamp"},
                {"smallint", "int32"}};
            for (const auto& [pg, ours] : kPgNames) {
                if (type_text == pg) type_text = ours;
            }
            std::optional<DataType> to = parse_type_name(type_text);
            if (!to) {
                std::vector<std::string> names{"bool",    "int32",  "int64",     "double",
                                               "string",  "bytes",  "timestamp", "date",
                                               "integer", "bigint", "text",      "varchar"};
                auto hint = closest_match(type_text, names);
                return error(ErrorCode::kNotFound, expr.location,
                             fmt::format("unknown type `{}`{}", expr.text,
                                         hint ? fmt::format(", did you mean `{}`?", *hint) : ""));
            }
            bool castable = arg.type == *to || arg.kind == BoundExpr::Kind::kConstant ||
                            *to == DataType::kString || arg.type == DataType::kString ||
                            (is_numeric(arg.type) && is_numeric(*to)) ||
                            (arg.type == DataType::kBool && is_integer(*to)) ||
                            (is_integer(arg.type) && *to == DataType::kBool) ||
                            (arg.type == DataType::kTimestamp && *to == DataType::kDate) ||
                            (arg.type == DataType::kDate && *to == DataType::kTimestamp) ||
                            (arg.type == DataType::kBytes && *to == DataType::kString);
            if (!castable) {
                return error(ErrorCode::kTypeMismatch, expr.location,
                             fmt::format("cannot cast {} to {}: `{}`", type_name(arg.type),
                                         type_name(*to), expr.to_sql()));
            }
            return cast(std::move(arg), *to, expr.location);
        }
        case AstKind::kCoalesce: {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                      bind_args(expr, scope, allow_aggregates));
            std::vector<BoundExpr*> pointers;
            for (auto& arg : args) pointers.push_back(&arg);
            MILLRACE_TRY(unify(pointers, expr.location, "COALESCE"));
            BoundExpr out;
            out.kind = BoundExpr::Kind::kCoalesce;
            out.type = args[0].type;
            out.location = expr.location;
            out.args = std::move(args);
            return out;
        }
        case AstKind::kNullIf: {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                      bind_args(expr, scope, allow_aggregates));
            std::vector<BoundExpr*> pointers{&args[0], &args[1]};
            MILLRACE_TRY(unify(pointers, expr.location, "NULLIF"));
            DataType type = args[0].type;
            return call(Function::kNullIf, type, std::move(args), expr.location);
        }
        case AstKind::kDistinctFrom: {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                                      bind_args(expr, scope, allow_aggregates));
            return bind_comparison(expr.negated ? Function::kIsNotDistinct : Function::kIsDistinct,
                                   std::move(args[0]), std::move(args[1]), expr.location);
        }
    }
    return error(ErrorCode::kInternal, expr.location, "unhandled expression");
}

std::string default_column_name(const AstExpr& expr) {
    switch (expr.kind) {
        case AstKind::kColumn:
            return expr.names.back();
        case AstKind::kFunction:
            return expr.name;
        case AstKind::kCast:
            if (expr.args[0]->kind == AstKind::kColumn ||
                expr.args[0]->kind == AstKind::kFunction || expr.args[0]->kind == AstKind::kCast) {
                return default_column_name(*expr.args[0]);
            }
            return lower(expr.text);
        case AstKind::kCase:
            return "case";
        case AstKind::kCoalesce:
            return "coalesce";
        case AstKind::kNullIf:
            return "nullif";
        case AstKind::kInterval:
            return "interval";
        default:
            return "?column?";
    }
}

}  // namespace millrace::sql
