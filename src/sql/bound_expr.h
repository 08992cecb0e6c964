#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "types/data_type.h"
#include "types/value.h"

namespace millrace::sql {

/// Scalar functions and operators after binding: the evaluator (exec/) has one kernel per
/// entry, chosen by the argument types the binder fixed (arguments of arithmetic and comparisons
/// are cast to one common type first, so kernels never mix types).
enum class Function : uint8_t {
    // arithmetic (numeric; PostgreSQL semantics: integer division truncates, overflow and
    // division by zero are row errors)
    kAdd,
    kSubtract,
    kMultiply,
    kDivide,
    kModulo,
    kNegate,
    // timestamp/date arithmetic with intervals (microseconds) and days
    kTimestampAddMicros,
    kTimestampSubtractMicros,
    kTimestampDiffMicros,
    kDateAddDays,
    kDateSubtractDays,
    kDateDiffDays,
    // comparisons (both arguments of one type); IS [NOT] DISTINCT FROM never returns null
    kEqual,
    kNotEqual,
    kLess,
    kLessEqual,
    kGreater,
    kGreaterEqual,
    kIsDistinct,
    kIsNotDistinct,
    // strings
    kLike,
    kILike,
    kConcat /* || : null if any null */,
    kConcatFunction /* concat(): nulls skipped */,
    kLower,
    kUpper,
    kLength,
    kSubstr,
    kTrim,
    kLtrim,
    kRtrim,
    kReplace,
    kLeft,
    kRight,
    kStrpos,
    kReverse,
    kSplitPart,
    kStartsWith,
    kLpad,
    kRpad,
    // math
    kAbs,
    kRound,
    kFloor,
    kCeil,
    kSqrt,
    kPower,
    kLn,
    kExp,
    kSign,
    kGreatest,
    kLeast,
    // time
    kDateTrunc /* args: unit constant, value */,
    kExtract /* args: field constant, value */,
    kToDate,
    kToTimestamp /* from epoch seconds */,
    kEpoch,
    // null handling
    kNullIf,
    // windows: time_bucket(ts, size micros constant) = start of the tumbling window of ts
    kTimeBucket,
    // the statement's time (now(), current_timestamp) and its UTC date (current_date): read from
    // the execution context's clock once per run, not here, so that binding stays pure and tests
    // can set the time; exec folds them into constants when it builds a plan
    kNow,
    kCurrentDate,
    // log analytics: User-Agent families (uap-core regexes), GeoIP (a MaxMind database: the
    // binder appends its path as a last constant argument) and URL parts. The last value is
    // named in function_registry_test.cpp, which checks that the registry covers every one.
    kUaBrowser,
    kUaOs,
    kUaDevice,
    kParseUserAgent,
    kIpCountry,
    kIpCity,
    kUrlHost,
    kUrlPath,
    kUrlParam,
    kParseUrl,
};

/// Aggregate functions (GROUP BY).
enum class Aggregate : uint8_t {
    kCountStar,
    kCount,
    kCountDistinct,
    kSum,
    kAvg,
    kMin,
    kMax,
    kApproxCountDistinct,
    kApproxPercentile,
    kBoolAnd,
    kBoolOr,
};

/// The name of a function in EXPLAIN and messages (from the registry, function_registry.h).
std::string_view function_name(Function function);
std::string_view aggregate_name(Aggregate aggregate);

/// A typed expression over the columns of one input (a Batch of a known schema).
///
///   kColumn     column index into the input
///   kConstant   constant (Value; null constants still have a type)
///   kCall       function(args...)
///   kCast       cast args[0] to type
///   kCase       args = [when1, then1, ..., whenN, thenN, else]  (else may be a null constant)
///   kAnd/kOr    args (two or more), three-valued logic
///   kNot        args[0]
///   kIsNull     args[0] IS NULL (negated: IS NOT NULL)
///   kIn         args[0] IN (args[1..]) (negated: NOT IN), SQL null semantics
///   kCoalesce   first non-null of args
///   kAggregate  an aggregate call, only inside the binder; replaced by a column of the
///               aggregate's output before a plan is built
struct BoundExpr {
    enum class Kind : uint8_t {
        kColumn,
        kConstant,
        kCall,
        kCast,
        kCase,
        kAnd,
        kOr,
        kNot,
        kIsNull,
        kIn,
        kCoalesce,
        kAggregate,
    };
    Kind kind = Kind::kConstant;
    DataType type = DataType::kInt64;
    bool interval = false;  // an int64 constant of microseconds written as INTERVAL '...'
    std::size_t column = 0;
    Value constant;
    Function function = Function::kAdd;
    Aggregate aggregate = Aggregate::kCount;
    bool negated = false;
    bool distinct = false;  // aggregate(DISTINCT ...)
    int location = -1;      // byte offset in the SQL text
    std::string name;       // kColumn: the column's name (for EXPLAIN and messages)
    std::vector<BoundExpr> args;

    static BoundExpr column_ref(std::size_t index, DataType type, std::string name);
    static BoundExpr constant_of(Value value, DataType type);

    bool is_constant() const { return kind == Kind::kConstant; }
    /// True when no column is referenced anywhere below (a candidate for constant folding).
    bool is_column_free() const;
    bool contains_aggregate() const;
    /// Adds the input columns referenced below to `columns` (as a bitmap indexed by column).
    void collect_columns(std::vector<bool>& columns) const;
    /// Renumbers column references: new index = mapping[old index].
    void remap_columns(const std::vector<std::size_t>& mapping);
    /// Structural equality (used to match GROUP BY keys and ORDER BY expressions).
    bool operator==(const BoundExpr& other) const;
    /// Readable form for EXPLAIN: `(amount > 10)`, `#3:amount`.
    std::string to_string() const;
};

/// Appends the conjuncts of `expr` (the arguments of nested ANDs, or `expr` itself) to `out`.
void split_conjuncts(BoundExpr expr, std::vector<BoundExpr>& out);
/// The AND of `conjuncts` (the single one itself); `conjuncts` must not be empty.
BoundExpr make_conjunction(std::vector<BoundExpr> conjuncts);

}  // namespace millrace::sql
