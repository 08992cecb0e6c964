#include "sql/function_registry.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/check.h"
#include "common/suggest.h"
#include "sql/expression_binder.h"

namespace millrace::sql {

// ---- CallBinding -------------------------------------------------------------------------------

Status CallBinding::need(std::size_t i, DataType type) {
    if (args[i].type == type && !args[i].interval) return {};
    if (is_untyped_literal(args[i]) || is_null_literal(args[i]) ||
        (is_numeric(type) && is_numeric(args[i].type)) ||
        (type == DataType::kTimestamp && args[i].type == DataType::kDate)) {
        MILLRACE_ASSIGN_OR_RETURN(args[i], binder.cast(std::move(args[i]), type, args[i].location));
        return {};
    }
    return error(ErrorCode::kTypeMismatch, args[i].location >= 0 ? args[i].location : location,
                 fmt::format("argument {} of {}() must be {}, not {}", i + 1, name, type_name(type),
                             type_name(args[i].type)));
}

Status CallBinding::numeric(std::size_t i) {
    if (is_untyped_literal(args[i]) || is_null_literal(args[i])) return need(i, DataType::kFloat64);
    if (!is_numeric(args[i].type)) {
        return error(ErrorCode::kTypeMismatch, args[i].location >= 0 ? args[i].location : location,
                     fmt::format("argument {} of {}() must be a number, not {}", i + 1, name,
                                 type_name(args[i].type)));
    }
    return {};
}

Status CallBinding::unify(std::string_view what) {
    std::vector<BoundExpr*> pointers;
    for (auto& arg : args) pointers.push_back(&arg);
    return binder.unify(std::move(pointers), location, what);
}

BoundExpr CallBinding::call(Function function, DataType type) {
    BoundExpr e;
    e.kind = BoundExpr::Kind::kCall;
    e.function = function;
    e.type = type;
    e.args = std::move(args);
    e.location = location;
    return e;
}

Error CallBinding::error(ErrorCode code, int at, std::string message) const {
    return binder.error(code, at, std::move(message));
}

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

constexpr std::string_view kTruncUnits[] = {"microseconds", "milliseconds", "second", "minute",
                                            "hour",         "day",          "week",   "month",
                                            "quarter",      "year"};
constexpr std::string_view kExtractFields[] = {
    "microsecond", "microseconds", "millisecond", "milliseconds", "second", "minute",
    "hour",        "day",          "dow",         "isodow",       "doy",    "week",
    "month",       "quarter",      "year",        "epoch"};

// ---- scalar type rules -------------------------------------------------------------------------

/// No string function takes a bool: kBool in string_rule's argument list means "no argument".
constexpr DataType kNoArgument = DataType::kBool;

/// f(string[, Second[, Third]]) → Result.
template <Function F, DataType Result, DataType Second = kNoArgument, DataType Third = kNoArgument>
millrace::Result<BoundExpr> string_rule(CallBinding& c) {
    if constexpr (Second != kNoArgument) {
        if (c.args.size() >= 2) MILLRACE_TRY(c.need(1, Second));
    }
    if constexpr (Third != kNoArgument) {
        if (c.args.size() >= 3) MILLRACE_TRY(c.need(2, Third));
    }
    MILLRACE_TRY(c.need(0, DataType::kString));
    return c.call(F, Result);
}

/// parse_user_agent(ua, part): part is 'browser', 'os' or 'device', a constant, so a typo is a
/// planning error rather than a null per row.
millrace::Result<BoundExpr> parse_user_agent_rule(CallBinding& c) {
    MILLRACE_TRY(c.need(0, DataType::kString));
    MILLRACE_TRY(c.need(1, DataType::kString));
    const BoundExpr& part = c.args[1];
    const std::string value =
        part.is_constant() && !part.constant.is_null() ? lower(part.constant.as_string()) : "";
    if (value != "browser" && value != "os" && value != "device") {
        return c.error(ErrorCode::kInvalidArgument, part.location >= 0 ? part.location : c.location,
                       "the second argument of parse_user_agent() is 'browser', 'os' or "
                       "'device' (or call ua_browser(), ua_os(), ua_device())");
    }
    c.args.pop_back();
    return c.call(value == "browser" ? Function::kUaBrowser
                  : value == "os"    ? Function::kUaOs
                                     : Function::kUaDevice,
                  DataType::kString);
}

/// ip_country(ip), ip_city(ip): the project's MaxMind database is appended as a constant
/// argument, so the kernel reads that file; without one the call is an error here, at
/// validate time, not a failure per row.
template <Function F>
millrace::Result<BoundExpr> geoip_rule(CallBinding& c) {
    MILLRACE_TRY(c.need(0, DataType::kString));
    const FunctionResources* resources = c.binder.resources();
    if (resources == nullptr || resources->geoip_database.empty()) {
        return c.error(ErrorCode::kInvalidArgument, c.location,
                       fmt::format("{}() needs a MaxMind GeoIP database (.mmdb): set `geoip: {{ "
                                   "database: path/to/GeoLite2-City.mmdb }}` in millrace.yaml",
                                   c.name));
    }
    c.args.push_back(
        BoundExpr::constant_of(Value::string(resources->geoip_database), DataType::kString));
    return c.call(F, DataType::kString);
}

millrace::Result<BoundExpr> concat_rule(CallBinding& c) {
    for (auto& arg : c.args) {
        if (arg.type != DataType::kString) {
            MILLRACE_ASSIGN_OR_RETURN(arg,
                                      c.binder.cast(std::move(arg), DataType::kString, c.location));
        }
    }
    return c.call(Function::kConcatFunction, DataType::kString);
}

/// abs, sign: the argument's numeric type.
template <Function F>
millrace::Result<BoundExpr> same_numeric_rule(CallBinding& c) {
    MILLRACE_TRY(c.numeric(0));
    DataType type = c.args[0].type;
    return c.call(F, type);
}

/// floor, ceil, sqrt, ln, exp, round: double in, double out.
template <Function F>
millrace::Result<BoundExpr> double_rule(CallBinding& c) {
    MILLRACE_TRY(c.numeric(0));
    MILLRACE_TRY(c.need(0, DataType::kFloat64));
    if (F == Function::kRound && c.args.size() == 2) MILLRACE_TRY(c.need(1, DataType::kInt32));
    return c.call(F, DataType::kFloat64);
}

millrace::Result<BoundExpr> power_rule(CallBinding& c) {
    MILLRACE_TRY(c.need(0, DataType::kFloat64));
    MILLRACE_TRY(c.need(1, DataType::kFloat64));
    return c.call(Function::kPower, DataType::kFloat64);
}

millrace::Result<BoundExpr> mod_rule(CallBinding& c) {
    AstExpr op;
    op.kind = AstKind::kOperator;
    op.name = "%";
    op.location = c.location;
    return c.binder.bind_operator(op, std::move(c.args));
}

/// greatest, least, nullif: the arguments' common type.
template <Function F>
millrace::Result<BoundExpr> unified_rule(CallBinding& c) {
    MILLRACE_TRY(c.unify(fmt::format("{}()", c.name)));
    DataType type = c.args[0].type;
    return c.call(F, type);
}

/// date_trunc('unit', ts), extract('field', ts) / date_part: a constant, known unit.
template <Function F>
millrace::Result<BoundExpr> time_unit_rule(CallBinding& c) {
    auto& args = c.args;
    if (!args[0].is_constant() || args[0].type != DataType::kString || args[0].constant.is_null()) {
        return c.error(
            ErrorCode::kInvalidArgument, c.location,
            fmt::format("the first argument of {}() must be a constant unit such as 'day'",
                        c.name));
    }
    std::string unit = lower(args[0].constant.as_string());
    if (unit.size() > 1 && unit.back() == 's' && unit != "microseconds" && unit != "milliseconds")
        unit.pop_back();
    if (unit == "microsecond") unit = "microseconds";
    if (unit == "millisecond") unit = "milliseconds";
    constexpr bool is_trunc = F == Function::kDateTrunc;
    std::vector<std::string> units;
    if (is_trunc) {
        for (auto u : kTruncUnits) units.emplace_back(u);
    } else {
        for (auto u : kExtractFields) units.emplace_back(u);
    }
    if (std::find(units.begin(), units.end(), unit) == units.end()) {
        auto hint = closest_match(unit, units);
        return c.error(ErrorCode::kInvalidArgument,
                       args[0].location >= 0 ? args[0].location : c.location,
                       fmt::format("unknown unit '{}' for {}(){}", unit, c.name,
                                   hint ? fmt::format(", did you mean '{}'?", *hint) : ""));
    }
    args[0].constant = Value::string(unit);
    if (args[1].type != DataType::kDate || is_trunc) MILLRACE_TRY(c.need(1, DataType::kTimestamp));
    if (is_trunc) return c.call(Function::kDateTrunc, DataType::kTimestamp);
    return c.call(Function::kExtract, unit == "epoch" ? DataType::kFloat64 : DataType::kInt64);
}

millrace::Result<BoundExpr> date_rule(CallBinding& c) {
    if (c.args[0].type == DataType::kDate) return std::move(c.args[0]);
    MILLRACE_TRY(c.need(0, DataType::kTimestamp));
    return c.call(Function::kToDate, DataType::kDate);
}

/// One argument of type `In`, result `Out`.
template <Function F, DataType In, DataType Out>
millrace::Result<BoundExpr> unary_rule(CallBinding& c) {
    MILLRACE_TRY(c.need(0, In));
    return c.call(F, Out);
}

/// No arguments.
template <Function F, DataType Out>
millrace::Result<BoundExpr> nullary_rule(CallBinding& c) {
    return c.call(F, Out);
}

// ---- aggregate type rules ----------------------------------------------------------------------

BoundExpr aggregate_of(CallBinding& c, Aggregate id, DataType type) {
    BoundExpr out;
    out.kind = BoundExpr::Kind::kAggregate;
    out.location = c.location;
    out.distinct = c.expr.distinct;
    out.aggregate = id;
    out.type = type;
    out.args = std::move(c.args);
    return out;
}

millrace::Result<BoundExpr> count_rule(CallBinding& c) {
    if (c.expr.star) return aggregate_of(c, Aggregate::kCountStar, DataType::kInt64);
    return aggregate_of(c, c.expr.distinct ? Aggregate::kCountDistinct : Aggregate::kCount,
                        DataType::kInt64);
}

template <Aggregate A>
millrace::Result<BoundExpr> sum_avg_rule(CallBinding& c) {
    if (is_untyped_literal(c.args[0])) {
        MILLRACE_ASSIGN_OR_RETURN(
            c.args[0], c.binder.cast(std::move(c.args[0]), DataType::kFloat64, c.location));
    }
    if (!is_numeric(c.args[0].type)) {
        return c.error(ErrorCode::kTypeMismatch, c.location,
                       fmt::format("{}() needs a number, not {}: `{}`", c.name,
                                   type_name(c.args[0].type), c.expr.to_sql()));
    }
    if (c.expr.distinct) {
        return c.error(
            ErrorCode::kUnsupported, c.location,
            fmt::format("{}(DISTINCT ...) is not supported; only count(DISTINCT ...)", c.name));
    }
    const DataType type = A == Aggregate::kAvg || c.args[0].type == DataType::kFloat64
                              ? DataType::kFloat64
                              : DataType::kInt64;
    return aggregate_of(c, A, type);
}

/// min, max: the argument's type.
template <Aggregate A>
millrace::Result<BoundExpr> same_type_aggregate_rule(CallBinding& c) {
    DataType type = c.args[0].type;
    return aggregate_of(c, A, type);
}

millrace::Result<BoundExpr> approx_count_distinct_rule(CallBinding& c) {
    return aggregate_of(c, Aggregate::kApproxCountDistinct, DataType::kInt64);
}

millrace::Result<BoundExpr> approx_percentile_rule(CallBinding& c) {
    if (!is_numeric(c.args[0].type)) {
        return c.error(
            ErrorCode::kTypeMismatch, c.location,
            fmt::format("{}() needs a number, not {}", c.name, type_name(c.args[0].type)));
    }
    MILLRACE_ASSIGN_OR_RETURN(c.args[1],
                              c.binder.cast(std::move(c.args[1]), DataType::kFloat64, c.location));
    const BoundExpr& q = c.args[1];
    if (!q.is_constant() || q.constant.is_null() || q.constant.as_double() < 0 ||
        q.constant.as_double() > 1) {
        return c.error(
            ErrorCode::kInvalidArgument, c.expr.args[1]->location,
            fmt::format("{}() needs a constant fraction between 0 and 1 as its second argument",
                        c.name));
    }
    return aggregate_of(c, Aggregate::kApproxPercentile, DataType::kFloat64);
}

template <Aggregate A>
millrace::Result<BoundExpr> bool_aggregate_rule(CallBinding& c) {
    MILLRACE_ASSIGN_OR_RETURN(c.args[0],
                              c.binder.cast(std::move(c.args[0]), DataType::kBool, c.location));
    return aggregate_of(c, A, DataType::kBool);
}

// ---- the tables --------------------------------------------------------------------------------

using F = Function;
using T = DataType;
constexpr int kVariadic = 100;

/// Operators first, then the callable functions in the order "did you mean" prefers on ties.
const ScalarFunctionInfo kScalarTable[] = {
    // operators and syntax (bound by ExpressionBinder)
    {F::kAdd, "+"},
    {F::kSubtract, "-"},
    {F::kMultiply, "*"},
    {F::kDivide, "/"},
    {F::kNegate, "negate"},
    {F::kTimestampAddMicros, "timestamp_add"},
    {F::kTimestampSubtractMicros, "timestamp_subtract"},
    {F::kTimestampDiffMicros, "timestamp_diff"},
    {F::kDateAddDays, "date_add"},
    {F::kDateSubtractDays, "date_subtract"},
    {F::kDateDiffDays, "date_diff"},
    {F::kEqual, "="},
    {F::kNotEqual, "<>"},
    {F::kLess, "<"},
    {F::kLessEqual, "<="},
    {F::kGreater, ">"},
    {F::kGreaterEqual, ">="},
    {F::kIsDistinct, "is_distinct_from"},
    {F::kIsNotDistinct, "is_not_distinct_from"},
    {F::kLike, "like"},
    {F::kILike, "ilike"},
    {F::kConcat, "||"},
    {F::kTimeBucket, "time_bucket"},
    // functions
    {F::kLower, "lower", {"lower"}, 1, 1, string_rule<F::kLower, T::kString>},
    {F::kUpper, "upper", {"upper"}, 1, 1, string_rule<F::kUpper, T::kString>},
    {F::kLength,
     "length",
     {"length", "char_length", "character_length"},
     1,
     1,
     string_rule<F::kLength, T::kInt32>},
    {F::kSubstr,
     "substr",
     {"substr", "substring"},
     2,
     3,
     string_rule<F::kSubstr, T::kString, T::kInt32, T::kInt32>},
    {F::kTrim, "trim", {"trim", "btrim"}, 1, 2, string_rule<F::kTrim, T::kString, T::kString>},
    {F::kLtrim, "ltrim", {"ltrim"}, 1, 2, string_rule<F::kLtrim, T::kString, T::kString>},
    {F::kRtrim, "rtrim", {"rtrim"}, 1, 2, string_rule<F::kRtrim, T::kString, T::kString>},
    {F::kReplace,
     "replace",
     {"replace"},
     3,
     3,
     string_rule<F::kReplace, T::kString, T::kString, T::kString>},
    {F::kLeft, "left", {"left"}, 2, 2, string_rule<F::kLeft, T::kString, T::kInt32>},
    {F::kRight, "right", {"right"}, 2, 2, string_rule<F::kRight, T::kString, T::kInt32>},
    {F::kStrpos, "strpos", {"strpos"}, 2, 2, string_rule<F::kStrpos, T::kInt32, T::kString>},
    {F::kReverse, "reverse", {"reverse"}, 1, 1, string_rule<F::kReverse, T::kString>},
    {F::kSplitPart,
     "split_part",
     {"split_part"},
     3,
     3,
     string_rule<F::kSplitPart, T::kString, T::kString, T::kInt32>},
    {F::kStartsWith,
     "starts_with",
     {"starts_with"},
     2,
     2,
     string_rule<F::kStartsWith, T::kBool, T::kString>},
    {F::kLpad, "lpad", {"lpad"}, 2, 3, string_rule<F::kLpad, T::kString, T::kInt32, T::kString>},
    {F::kRpad, "rpad", {"rpad"}, 2, 3, string_rule<F::kRpad, T::kString, T::kInt32, T::kString>},
    {F::kConcatFunction, "concat", {"concat"}, 1, kVariadic, concat_rule},
    {F::kAbs, "abs", {"abs"}, 1, 1, same_numeric_rule<F::kAbs>},
    {F::kRound, "round", {"round"}, 1, 2, double_rule<F::kRound>},
    {F::kFloor, "floor", {"floor"}, 1, 1, double_rule<F::kFloor>},
    {F::kCeil, "ceil", {"ceil", "ceiling"}, 1, 1, double_rule<F::kCeil>},
    {F::kSqrt, "sqrt", {"sqrt"}, 1, 1, double_rule<F::kSqrt>},
    {F::kPower, "power", {"power", "pow"}, 2, 2, power_rule},
    {F::kLn, "ln", {"ln"}, 1, 1, double_rule<F::kLn>},
    {F::kExp, "exp", {"exp"}, 1, 1, double_rule<F::kExp>},
    {F::kSign, "sign", {"sign"}, 1, 1, same_numeric_rule<F::kSign>},
    {F::kModulo, "%", {"mod"}, 2, 2, mod_rule},
    {F::kGreatest, "greatest", {"greatest"}, 1, kVariadic, unified_rule<F::kGreatest>},
    {F::kLeast, "least", {"least"}, 1, kVariadic, unified_rule<F::kLeast>},
    {F::kDateTrunc, "date_trunc", {"date_trunc"}, 2, 2, time_unit_rule<F::kDateTrunc>},
    {F::kExtract, "extract", {"extract", "date_part"}, 2, 2, time_unit_rule<F::kExtract>},
    {F::kToDate, "date", {"date"}, 1, 1, date_rule},
    {F::kToTimestamp,
     "to_timestamp",
     {"to_timestamp"},
     1,
     1,
     unary_rule<F::kToTimestamp, T::kFloat64, T::kTimestamp>},
    {F::kEpoch, "epoch", {"epoch"}, 1, 1, unary_rule<F::kEpoch, T::kTimestamp, T::kFloat64>},
    {F::kNow, "now", {"now"}, 0, 0, nullary_rule<F::kNow, T::kTimestamp>},
    {F::kCurrentDate,
     "current_date",
     {"current_date"},
     0,
     0,
     nullary_rule<F::kCurrentDate, T::kDate>},
    {F::kNullIf, "nullif", {"nullif"}, 2, 2, unified_rule<F::kNullIf>},
    // log analytics
    {F::kUaBrowser, "ua_browser", {"ua_browser"}, 1, 1, string_rule<F::kUaBrowser, T::kString>},
    {F::kUaOs, "ua_os", {"ua_os"}, 1, 1, string_rule<F::kUaOs, T::kString>},
    {F::kUaDevice, "ua_device", {"ua_device"}, 1, 1, string_rule<F::kUaDevice, T::kString>},
    {F::kParseUserAgent, "parse_user_agent", {"parse_user_agent"}, 2, 2, parse_user_agent_rule},
    {F::kIpCountry, "ip_country", {"ip_country"}, 1, 1, geoip_rule<F::kIpCountry>},
    {F::kIpCity, "ip_city", {"ip_city"}, 1, 1, geoip_rule<F::kIpCity>},
    {F::kUrlHost, "url_host", {"url_host"}, 1, 1, string_rule<F::kUrlHost, T::kString>},
    {F::kUrlPath, "url_path", {"url_path"}, 1, 1, string_rule<F::kUrlPath, T::kString>},
    {F::kUrlParam,
     "url_param",
     {"url_param", "url_query_param"},
     2,
     2,
     string_rule<F::kUrlParam, T::kString, T::kString>},
    {F::kParseUrl,
     "parse_url",
     {"parse_url"},
     2,
     3,
     string_rule<F::kParseUrl, T::kString, T::kString, T::kString>},
};

using A = Aggregate;

const AggregateFunctionInfo kAggregateTable[] = {
    {A::kCount, "count", {"count"}, 1, 1, count_rule, true, true, false},
    {A::kSum, "sum", {"sum"}, 1, 1, sum_avg_rule<A::kSum>},
    {A::kAvg, "avg", {"avg"}, 1, 1, sum_avg_rule<A::kAvg>},
    {A::kMin, "min", {"min"}, 1, 1, same_type_aggregate_rule<A::kMin>, false, true},
    {A::kMax, "max", {"max"}, 1, 1, same_type_aggregate_rule<A::kMax>, false, true},
    {A::kApproxCountDistinct,
     "approx_count_distinct",
     {"approx_count_distinct"},
     1,
     1,
     approx_count_distinct_rule,
     false,
     true,
     false},
    {A::kApproxPercentile,
     "approx_percentile",
     {"approx_percentile", "percentile_approx"},
     2,
     2,
     approx_percentile_rule},
    {A::kBoolAnd, "bool_and", {"bool_and", "every"}, 1, 1, bool_aggregate_rule<A::kBoolAnd>},
    {A::kBoolOr, "bool_or", {"bool_or"}, 1, 1, bool_aggregate_rule<A::kBoolOr>},
    // chosen by count's rule
    {A::kCountStar, "count_star", {}, 0, 0, nullptr, false, false, false},
    {A::kCountDistinct, "count_distinct", {}, 1, 1, nullptr, false, true, false},
};

/// Entries by id, built once; a missing or doubled id stops the program at its first call
/// (and fails the registry's unit test).
template <typename Info, typename Id, std::size_t N>
std::vector<const Info*> index_by_id(const Info (&table)[N]) {
    std::vector<const Info*> by_id(N, nullptr);
    for (const Info& info : table) {
        const auto i = static_cast<std::size_t>(info.id);
        MILLRACE_CHECK(i < N && by_id[i] == nullptr, "function registry: bad or doubled id");
        by_id[i] = &info;
    }
    return by_id;
}

const std::vector<const ScalarFunctionInfo*>& scalar_by_id() {
    static const auto by_id = index_by_id<ScalarFunctionInfo, Function>(kScalarTable);
    return by_id;
}

const std::vector<const AggregateFunctionInfo*>& aggregate_by_id() {
    static const auto by_id = index_by_id<AggregateFunctionInfo, Aggregate>(kAggregateTable);
    return by_id;
}

template <typename Info>
const Info* find_by_name(std::span<const Info> table, std::string_view name) {
    if (name.empty()) return nullptr;
    for (const Info& info : table) {
        for (std::string_view n : info.names) {
            if (n == name) return &info;
        }
    }
    return nullptr;
}

}  // namespace

std::span<const ScalarFunctionInfo> scalar_functions() { return kScalarTable; }
std::span<const AggregateFunctionInfo> aggregate_functions() { return kAggregateTable; }

const ScalarFunctionInfo& scalar_function(Function id) {
    return *scalar_by_id().at(static_cast<std::size_t>(id));
}

const AggregateFunctionInfo& aggregate_function(Aggregate id) {
    return *aggregate_by_id().at(static_cast<std::size_t>(id));
}

const ScalarFunctionInfo* find_scalar_function(std::string_view name) {
    return find_by_name(scalar_functions(), name);
}

const AggregateFunctionInfo* find_aggregate_function(std::string_view name) {
    return find_by_name(aggregate_functions(), name);
}

const std::vector<std::string>& callable_function_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& f : kScalarTable) {
            for (std::string_view n : f.names) {
                if (!n.empty()) out.emplace_back(n);
            }
        }
        out.emplace_back("coalesce");  // syntax, bound by ExpressionBinder
        for (const auto& f : kAggregateTable) {
            for (std::string_view n : f.names) {
                if (!n.empty()) out.emplace_back(n);
            }
        }
        return out;
    }();
    return names;
}

std::string_view function_name(Function function) {
    const auto i = static_cast<std::size_t>(function);
    return i < scalar_by_id().size() ? scalar_by_id()[i]->display : "?";
}

std::string_view aggregate_name(Aggregate aggregate) {
    const auto i = static_cast<std::size_t>(aggregate);
    return i < aggregate_by_id().size() ? aggregate_by_id()[i]->display : "?";
}

}  // namespace millrace::sql
