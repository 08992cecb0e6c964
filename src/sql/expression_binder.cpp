#include "sql/expression_binder.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <unordered_map>

#include "common/suggest.h"
#include "sql/parser.h"
#include "types/value_cast.h"

namespace millrace::sql {

namespace {

bool is_untyped_literal(const BoundExpr& e) {
    return e.kind == BoundExpr::Kind::kConstant && e.type == DataType::kString && !e.interval;
}

bool is_null_literal(const BoundExpr& e) {
    return e.kind == BoundExpr::Kind::kConstant && e.constant.is_null();
}

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

/// `x = c1 OR y = c2 OR x = c3 ...` with column-free c's: the equalities on one expression
/// become one `x IN (c1, c3, ...)` (same three-valued result: true if any equal, else null if x
/// or a c is null, else false), which the evaluator answers with one hash lookup per row
/// instead of one comparison per term. Other arguments keep their places.
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

/// Parses INTERVAL text: '1 minute', '5 seconds', '2 hours 30 minutes', '1 day', '00:01:00'.
std::optional<int64_t> parse_interval(std::string_view text) {
    int64_t total = 0;
    std::size_t i = 0;
    bool any = false;
    auto skip_space = [&] {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    };
    skip_space();
    if (text.find(':') != std::string_view::npos) {
        int h = 0, m = 0;
        double s = 0;
        if (std::sscanf(std::string(text).c_str(), "%d:%d:%lf", &h, &m, &s) >= 2 && h >= -1000000 &&
            h <= 1000000 && m >= -1000000 && m <= 1000000 && std::fabs(s) < 1e9) {
            return (int64_t{h} * 3600 + int64_t{m} * 60) * 1000000 + static_cast<int64_t>(s * 1e6);
        }
        return std::nullopt;
    }
    while (i < text.size()) {
        std::size_t start = i;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
        while (i < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
            ++i;
        if (start == i) return std::nullopt;
        double amount = std::strtod(std::string(text.substr(start, i - start)).c_str(), nullptr);
        skip_space();
        std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        std::string unit = lower(text.substr(unit_start, i - unit_start));
        if (unit.size() > 3 && unit.back() == 's') unit.pop_back();
        double micros = 0;
        if (unit == "microsecond" || unit == "u" || unit == "us")
            micros = 1;
        else if (unit == "millisecond" || unit == "ms")
            micros = 1e3;
        else if (unit == "second" || unit == "sec" || unit == "")
            micros = 1e6;
        else if (unit == "minute" || unit == "min")
            micros = 60e6;
        else if (unit == "hour" || unit == "h")
            micros = 3600e6;
        else if (unit == "day" || unit == "d")
            micros = 86400e6;
        else if (unit == "week" || unit == "w")
            micros = 7 * 86400e6;
        else
            return std::nullopt;
        double part = amount * micros;
        if (!(std::fabs(part) < 1e18) || std::fabs(static_cast<double>(total) + part) >= 1e18)
            return std::nullopt;
        total += static_cast<int64_t>(part);
        any = true;
        skip_space();
        if (i < text.size() && text[i] == ',') ++i;
        skip_space();
    }
    if (!any) return std::nullopt;
    return total;
}

struct FunctionInfo {
    std::string_view name;
    int min_args;
    int max_args;
};

constexpr FunctionInfo kScalarFunctions[] = {
    {"lower", 1, 1},
    {"upper", 1, 1},
    {"length", 1, 1},
    {"char_length", 1, 1},
    {"character_length", 1, 1},
    {"substr", 2, 3},
    {"substring", 2, 3},
    {"trim", 1, 2},
    {"btrim", 1, 2},
    {"ltrim", 1, 2},
    {"rtrim", 1, 2},
    {"replace", 3, 3},
    {"left", 2, 2},
    {"right", 2, 2},
    {"strpos", 2, 2},
    {"reverse", 1, 1},
    {"split_part", 3, 3},
    {"starts_with", 2, 2},
    {"lpad", 2, 3},
    {"rpad", 2, 3},
    {"concat", 1, 100},
    {"abs", 1, 1},
    {"round", 1, 2},
    {"floor", 1, 1},
    {"ceil", 1, 1},
    {"ceiling", 1, 1},
    {"sqrt", 1, 1},
    {"power", 2, 2},
    {"pow", 2, 2},
    {"ln", 1, 1},
    {"exp", 1, 1},
    {"sign", 1, 1},
    {"mod", 2, 2},
    {"greatest", 1, 100},
    {"least", 1, 100},
    {"date_trunc", 2, 2},
    {"extract", 2, 2},
    {"date_part", 2, 2},
    {"date", 1, 1},
    {"to_timestamp", 1, 1},
    {"epoch", 1, 1},
    {"now", 0, 0},
    {"current_date", 0, 0},
    {"coalesce", 1, 100},
    {"nullif", 2, 2},
};

constexpr std::string_view kAggregateFunctions[] = {
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "approx_count_distinct",
    "approx_percentile",
    "percentile_approx",
    "bool_and",
    "bool_or",
    "every",
};

bool is_aggregate_name(std::string_view name) {
    return std::find(std::begin(kAggregateFunctions), std::end(kAggregateFunctions), name) !=
           std::end(kAggregateFunctions);
}

const std::vector<std::string>& function_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& f : kScalarFunctions) out.emplace_back(f.name);
        for (auto name : kAggregateFunctions) out.emplace_back(name);
        return out;
    }();
    return names;
}

constexpr std::string_view kTruncUnits[] = {"microseconds", "milliseconds", "second", "minute",
                                            "hour",         "day",          "week",   "month",
                                            "quarter",      "year"};
constexpr std::string_view kExtractFields[] = {
    "microsecond", "microseconds", "millisecond", "milliseconds", "second", "minute",
    "hour",        "day",          "dow",         "isodow",       "doy",    "week",
    "month",       "quarter",      "year",        "epoch"};

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

Result<BoundExpr> ExpressionBinder::bind_aggregate(const AstExpr& expr, const Scope& scope) {
    if (in_aggregate_) {
        return error(ErrorCode::kInvalidArgument, expr.location,
                     "aggregate function calls cannot be nested");
    }
    in_aggregate_ = true;
    auto args_result = bind_args(expr, scope, false);
    in_aggregate_ = false;
    MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args, std::move(args_result));
    BoundExpr out;
    out.kind = BoundExpr::Kind::kAggregate;
    out.location = expr.location;
    out.distinct = expr.distinct;
    const std::string& name = expr.name;
    auto expect_args = [&](std::size_t n) -> Status {
        if (args.size() != n) {
            return error(ErrorCode::kInvalidArgument, expr.location,
                         fmt::format("{}() takes {} argument{}, got {}", name, n, n == 1 ? "" : "s",
                                     args.size()));
        }
        return {};
    };
    if (name == "count") {
        if (expr.star) {
            out.aggregate = Aggregate::kCountStar;
            out.type = DataType::kInt64;
            return out;
        }
        MILLRACE_TRY(expect_args(1));
        out.aggregate = expr.distinct ? Aggregate::kCountDistinct : Aggregate::kCount;
        out.type = DataType::kInt64;
    } else if (name == "sum" || name == "avg") {
        MILLRACE_TRY(expect_args(1));
        if (is_untyped_literal(args[0])) {
            MILLRACE_ASSIGN_OR_RETURN(args[0],
                                      cast(std::move(args[0]), DataType::kFloat64, expr.location));
        }
        if (!is_numeric(args[0].type)) {
            return error(ErrorCode::kTypeMismatch, expr.location,
                         fmt::format("{}() needs a number, not {}: `{}`", name,
                                     type_name(args[0].type), expr.to_sql()));
        }
        if (expr.distinct)
            return error(
                ErrorCode::kUnsupported, expr.location,
                fmt::format("{}(DISTINCT ...) is not supported; only count(DISTINCT ...)", name));
        out.aggregate = name == "sum" ? Aggregate::kSum : Aggregate::kAvg;
        out.type = name == "avg" || args[0].type == DataType::kFloat64 ? DataType::kFloat64
                                                                       : DataType::kInt64;
    } else if (name == "min" || name == "max") {
        MILLRACE_TRY(expect_args(1));
        out.aggregate = name == "min" ? Aggregate::kMin : Aggregate::kMax;
        out.type = args[0].type;
    } else if (name == "approx_count_distinct") {
        MILLRACE_TRY(expect_args(1));
        out.aggregate = Aggregate::kApproxCountDistinct;
        out.type = DataType::kInt64;
    } else if (name == "approx_percentile" || name == "percentile_approx") {
        MILLRACE_TRY(expect_args(2));
        if (!is_numeric(args[0].type)) {
            return error(ErrorCode::kTypeMismatch, expr.location,
                         fmt::format("{}() needs a number, not {}", name, type_name(args[0].type)));
        }
        MILLRACE_ASSIGN_OR_RETURN(args[1],
                                  cast(std::move(args[1]), DataType::kFloat64, expr.location));
        if (!args[1].is_constant() || args[1].constant.is_null() ||
            args[1].constant.as_double() < 0 || args[1].constant.as_double() > 1) {
            return error(
                ErrorCode::kInvalidArgument, expr.args[1]->location,
                fmt::format("{}() needs a constant fraction between 0 and 1 as its second argument",
                            name));
        }
        out.aggregate = Aggregate::kApproxPercentile;
        out.type = DataType::kFloat64;
    } else {  // bool_and, bool_or, every
        MILLRACE_TRY(expect_args(1));
        MILLRACE_ASSIGN_OR_RETURN(args[0],
                                  cast(std::move(args[0]), DataType::kBool, expr.location));
        out.aggregate = name == "bool_or" ? Aggregate::kBoolOr : Aggregate::kBoolAnd;
        out.type = DataType::kBool;
    }
    if (expr.distinct && out.aggregate != Aggregate::kCountDistinct &&
        out.aggregate != Aggregate::kMin && out.aggregate != Aggregate::kMax &&
        out.aggregate != Aggregate::kApproxCountDistinct) {
        return error(ErrorCode::kUnsupported, expr.location,
                     fmt::format("{}(DISTINCT ...) is not supported", name));
    }
    out.args = std::move(args);
    return out;
}

Result<BoundExpr> ExpressionBinder::bind_function(const AstExpr& expr, const Scope& scope,
                                                  bool allow_aggregates) {
    const std::string& name = expr.name;
    if (is_aggregate_name(name)) {
        if (!allow_aggregates && !in_aggregate_) {
            return error(ErrorCode::kInvalidArgument, expr.location,
                         fmt::format("aggregate function {}() is not allowed here (only in SELECT, "
                                     "HAVING and ORDER BY of a query)",
                                     name));
        }
        return bind_aggregate(expr, scope);
    }
    const FunctionInfo* info = nullptr;
    for (const auto& f : kScalarFunctions) {
        if (f.name == name) info = &f;
    }
    if (info == nullptr) {
        if (name == "tumble" || name == "hop" || name == "session") {
            return error(ErrorCode::kInvalidArgument, expr.location,
                         fmt::format("{}() is a table function: use it in FROM, e.g. FROM "
                                     "{}(events, ts, INTERVAL '1 minute')",
                                     name, name));
        }
        auto hint = closest_match(name, function_names());
        return error(ErrorCode::kNotFound, expr.location,
                     fmt::format("unknown function {}(){}", name,
                                 hint ? fmt::format(", did you mean {}()?", *hint) : ""));
    }
    int count = static_cast<int>(expr.args.size());
    if (count < info->min_args || count > info->max_args) {
        return error(ErrorCode::kInvalidArgument, expr.location,
                     info->min_args == info->max_args
                         ? fmt::format("{}() takes {} argument{}, got {}", name, info->min_args,
                                       info->min_args == 1 ? "" : "s", count)
                         : fmt::format("{}() takes {} to {} arguments, got {}", name,
                                       info->min_args, info->max_args, count));
    }
    MILLRACE_ASSIGN_OR_RETURN(std::vector<BoundExpr> args,
                              bind_args(expr, scope, allow_aggregates));
    int location = expr.location;
    auto need = [&](std::size_t i, DataType type) -> Status {
        if (args[i].type == type && !args[i].interval) return {};
        if (is_untyped_literal(args[i]) || is_null_literal(args[i]) ||
            (is_numeric(type) && is_numeric(args[i].type)) ||
            (type == DataType::kTimestamp && args[i].type == DataType::kDate)) {
            MILLRACE_ASSIGN_OR_RETURN(args[i], cast(std::move(args[i]), type, args[i].location));
            return {};
        }
        return error(ErrorCode::kTypeMismatch, args[i].location >= 0 ? args[i].location : location,
                     fmt::format("argument {} of {}() must be {}, not {}", i + 1, name,
                                 type_name(type), type_name(args[i].type)));
    };
    auto string_fn = [&](Function f, DataType result) -> Result<BoundExpr> {
        MILLRACE_TRY(need(0, DataType::kString));
        return call(f, result, std::move(args), location);
    };
    if (name == "lower") return string_fn(Function::kLower, DataType::kString);
    if (name == "upper") return string_fn(Function::kUpper, DataType::kString);
    if (name == "length" || name == "char_length" || name == "character_length")
        return string_fn(Function::kLength, DataType::kInt32);
    if (name == "reverse") return string_fn(Function::kReverse, DataType::kString);
    if (name == "substr" || name == "substring") {
        MILLRACE_TRY(need(1, DataType::kInt32));
        if (args.size() == 3) MILLRACE_TRY(need(2, DataType::kInt32));
        return string_fn(Function::kSubstr, DataType::kString);
    }
    if (name == "trim" || name == "btrim" || name == "ltrim" || name == "rtrim") {
        if (args.size() == 2) MILLRACE_TRY(need(1, DataType::kString));
        return string_fn(name == "ltrim"   ? Function::kLtrim
                         : name == "rtrim" ? Function::kRtrim
                                           : Function::kTrim,
                         DataType::kString);
    }
    if (name == "replace") {
        MILLRACE_TRY(need(1, DataType::kString));
        MILLRACE_TRY(need(2, DataType::kString));
        return string_fn(Function::kReplace, DataType::kString);
    }
    if (name == "left" || name == "right") {
        MILLRACE_TRY(need(1, DataType::kInt32));
        return string_fn(name == "left" ? Function::kLeft : Function::kRight, DataType::kString);
    }
    if (name == "strpos" || name == "starts_with") {
        MILLRACE_TRY(need(1, DataType::kString));
        return string_fn(name == "strpos" ? Function::kStrpos : Function::kStartsWith,
                         name == "strpos" ? DataType::kInt32 : DataType::kBool);
    }
    if (name == "split_part") {
        MILLRACE_TRY(need(1, DataType::kString));
        MILLRACE_TRY(need(2, DataType::kInt32));
        return string_fn(Function::kSplitPart, DataType::kString);
    }
    if (name == "lpad" || name == "rpad") {
        MILLRACE_TRY(need(1, DataType::kInt32));
        if (args.size() == 3) MILLRACE_TRY(need(2, DataType::kString));
        return string_fn(name == "lpad" ? Function::kLpad : Function::kRpad, DataType::kString);
    }
    if (name == "concat") {
        for (auto& arg : args) {
            if (arg.type != DataType::kString) {
                MILLRACE_ASSIGN_OR_RETURN(arg, cast(std::move(arg), DataType::kString, location));
            }
        }
        return call(Function::kConcatFunction, DataType::kString, std::move(args), location);
    }
    auto numeric_arg = [&](std::size_t i) -> Status {
        if (is_untyped_literal(args[i]) || is_null_literal(args[i]))
            return need(i, DataType::kFloat64);
        if (!is_numeric(args[i].type)) {
            return error(ErrorCode::kTypeMismatch,
                         args[i].location >= 0 ? args[i].location : location,
                         fmt::format("argument {} of {}() must be a number, not {}", i + 1, name,
                                     type_name(args[i].type)));
        }
        return {};
    };
    if (name == "abs" || name == "sign") {
        MILLRACE_TRY(numeric_arg(0));
        DataType type = args[0].type;
        return call(name == "abs" ? Function::kAbs : Function::kSign, type, std::move(args),
                    location);
    }
    if (name == "round") {
        MILLRACE_TRY(numeric_arg(0));
        MILLRACE_TRY(need(0, DataType::kFloat64));
        if (args.size() == 2) MILLRACE_TRY(need(1, DataType::kInt32));
        return call(Function::kRound, DataType::kFloat64, std::move(args), location);
    }
    if (name == "floor" || name == "ceil" || name == "ceiling" || name == "sqrt" || name == "ln" ||
        name == "exp") {
        MILLRACE_TRY(numeric_arg(0));
        MILLRACE_TRY(need(0, DataType::kFloat64));
        Function f = name == "floor"  ? Function::kFloor
                     : name == "sqrt" ? Function::kSqrt
                     : name == "ln"   ? Function::kLn
                     : name == "exp"  ? Function::kExp
                                      : Function::kCeil;
        return call(f, DataType::kFloat64, std::move(args), location);
    }
    if (name == "power" || name == "pow") {
        MILLRACE_TRY(need(0, DataType::kFloat64));
        MILLRACE_TRY(need(1, DataType::kFloat64));
        return call(Function::kPower, DataType::kFloat64, std::move(args), location);
    }
    if (name == "mod") {
        AstExpr op;
        op.kind = AstKind::kOperator;
        op.name = "%";
        op.location = location;
        return bind_operator(op, std::move(args));
    }
    if (name == "greatest" || name == "least" || name == "coalesce") {
        std::vector<BoundExpr*> pointers;
        for (auto& arg : args) pointers.push_back(&arg);
        MILLRACE_TRY(unify(pointers, location, fmt::format("{}()", name)));
        DataType type = args[0].type;
        if (name == "coalesce") {
            BoundExpr out;
            out.kind = BoundExpr::Kind::kCoalesce;
            out.type = type;
            out.location = location;
            out.args = std::move(args);
            return out;
        }
        return call(name == "greatest" ? Function::kGreatest : Function::kLeast, type,
                    std::move(args), location);
    }
    if (name == "nullif") {
        std::vector<BoundExpr*> pointers{&args[0], &args[1]};
        MILLRACE_TRY(unify(pointers, location, "nullif()"));
        DataType type = args[0].type;
        return call(Function::kNullIf, type, std::move(args), location);
    }
    if (name == "date_trunc" || name == "extract" || name == "date_part") {
        if (!args[0].is_constant() || args[0].type != DataType::kString ||
            args[0].constant.is_null()) {
            return error(
                ErrorCode::kInvalidArgument, location,
                fmt::format("the first argument of {}() must be a constant unit such as 'day'",
                            name));
        }
        std::string unit = lower(args[0].constant.as_string());
        if (unit.size() > 1 && unit.back() == 's' && unit != "microseconds" &&
            unit != "milliseconds")
            unit.pop_back();
        if (unit == "microsecond") unit = "microseconds";
        if (unit == "millisecond") unit = "milliseconds";
        bool is_trunc = name == "date_trunc";
        bool known = false;
        if (is_trunc) {
            for (auto u : kTruncUnits) known = known || u == unit;
        } else {
            for (auto u : kExtractFields) known = known || u == unit;
        }
        if (!known) {
            std::vector<std::string> units;
            if (is_trunc) {
                for (auto u : kTruncUnits) units.emplace_back(u);
            } else {
                for (auto u : kExtractFields) units.emplace_back(u);
            }
            auto hint = closest_match(unit, units);
            return error(ErrorCode::kInvalidArgument,
                         args[0].location >= 0 ? args[0].location : location,
                         fmt::format("unknown unit '{}' for {}(){}", unit, name,
                                     hint ? fmt::format(", did you mean '{}'?", *hint) : ""));
        }
        args[0].constant = Value::string(unit);
        if (args[1].type != DataType::kDate || is_trunc)
            MILLRACE_TRY(need(1, DataType::kTimestamp));
        if (is_trunc)
            return call(Function::kDateTrunc, DataType::kTimestamp, std::move(args), location);
        return call(Function::kExtract, unit == "epoch" ? DataType::kFloat64 : DataType::kInt64,
                    std::move(args), location);
    }
    if (name == "date") {
        if (args[0].type != DataType::kDate) MILLRACE_TRY(need(0, DataType::kTimestamp));
        if (args[0].type == DataType::kDate) return std::move(args[0]);
        return call(Function::kToDate, DataType::kDate, std::move(args), location);
    }
    if (name == "to_timestamp") {
        MILLRACE_TRY(need(0, DataType::kFloat64));
        return call(Function::kToTimestamp, DataType::kTimestamp, std::move(args), location);
    }
    if (name == "epoch") {
        MILLRACE_TRY(need(0, DataType::kTimestamp));
        return call(Function::kEpoch, DataType::kFloat64, std::move(args), location);
    }
    if (name == "now") return call(Function::kNow, DataType::kTimestamp, {}, location);
    if (name == "current_date") return call(Function::kCurrentDate, DataType::kDate, {}, location);
    return error(ErrorCode::kInternal, location, fmt::format("function {}() has no binding", name));
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
