#include "exec/scalar_functions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/check.h"
#include "exec/expression_evaluator.h"
#include "exec/log_functions.h"
#include "exec/utf8_text.h"
#include "types/column_builder.h"
#include "types/time_codec.h"
#include "types/value_cast.h"

namespace millrace {

using sql::Function;

namespace {

constexpr int64_t kMicrosPerDay = 86400000000LL;

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

int64_t trunc_timestamp(int64_t ts, std::string_view unit) {
    if (unit == "microseconds") return ts;
    if (unit == "milliseconds") return floor_div(ts, 1000) * 1000;
    if (unit == "second") return floor_div(ts, 1000000) * 1000000;
    if (unit == "minute") return floor_div(ts, 60000000) * 60000000;
    if (unit == "hour") return floor_div(ts, 3600000000LL) * 3600000000LL;
    int64_t day = floor_div(ts, kMicrosPerDay);
    if (unit == "day") return day * kMicrosPerDay;
    if (unit == "week") {
        // ISO weeks start on Monday; 1970-01-01 was a Thursday.
        int64_t monday = day - ((day + 3) % 7 + 7) % 7;
        return monday * kMicrosPerDay;
    }
    int year = 0;
    unsigned month = 0, dom = 0;
    civil_from_days(static_cast<int32_t>(day), &year, &month, &dom);
    if (unit == "month") return int64_t{days_from_civil(year, month, 1)} * kMicrosPerDay;
    if (unit == "quarter")
        return int64_t{days_from_civil(year, ((month - 1) / 3) * 3 + 1, 1)} * kMicrosPerDay;
    return int64_t{days_from_civil(year, 1, 1)} * kMicrosPerDay;  // year
}

double extract_field(int64_t ts, std::string_view field) {
    int64_t day = floor_div(ts, kMicrosPerDay);
    int64_t micros_of_day = ts - day * kMicrosPerDay;
    if (field == "epoch") return static_cast<double>(ts) / 1e6;
    if (field == "microseconds" || field == "microsecond")
        return static_cast<double>(micros_of_day % 60000000);
    if (field == "milliseconds" || field == "millisecond")
        return static_cast<double>((micros_of_day % 60000000) / 1000);
    if (field == "second") return static_cast<double>((micros_of_day / 1000000) % 60);
    if (field == "minute") return static_cast<double>((micros_of_day / 60000000) % 60);
    if (field == "hour") return static_cast<double>(micros_of_day / 3600000000LL);
    int year = 0;
    unsigned month = 0, dom = 0;
    civil_from_days(static_cast<int32_t>(day), &year, &month, &dom);
    if (field == "day") return dom;
    if (field == "month") return month;
    if (field == "quarter") return (month - 1) / 3 + 1;
    if (field == "year") return year;
    int64_t dow = ((day + 4) % 7 + 7) % 7;  // 0 = Sunday
    if (field == "dow") return static_cast<double>(dow);
    if (field == "isodow") return static_cast<double>(dow == 0 ? 7 : dow);
    if (field == "doy") return day - days_from_civil(year, 1, 1) + 1;
    if (field == "week") {
        // ISO week number: the week with the year's first Thursday is week 1.
        int64_t iso_dow = dow == 0 ? 7 : dow;
        int64_t thursday = day - iso_dow + 4;
        int ty = 0;
        unsigned tm = 0, td = 0;
        civil_from_days(static_cast<int32_t>(thursday), &ty, &tm, &td);
        return static_cast<double>((thursday - days_from_civil(ty, 1, 1)) / 7 + 1);
    }
    return 0;
}

/// Simple (one to one) case mapping of the alphabets users' data most often holds: ASCII,
/// Latin-1, Latin Extended-A, Greek and Cyrillic. Other code points are kept as they are.
}  // namespace

Value statement_time_value(Function function, int64_t micros) {
    if (function == Function::kNow) return Value::timestamp(micros);
    int64_t days = micros / kMicrosPerDay;
    if (micros % kMicrosPerDay < 0) --days;
    return Value::date(static_cast<int32_t>(days));
}

namespace {

/// The state of one row loop: what a strict kernel's row body reads and writes.
struct RowLoop {
    const sql::BoundExpr& expr;
    const std::vector<Operand>& args;
    ColumnBuilder& out;
    std::string& scratch;
    RowErrors& errors;
};

/// The body of a strict function F (null in any argument → null out) for row `i`, whose
/// arguments are all non-null. The switch is on a constant, so each kernel keeps one case.
template <Function F>
void strict_row(RowLoop& loop, std::size_t i) {
    const sql::BoundExpr& expr = loop.expr;
    const std::vector<Operand>& args = loop.args;
    ColumnBuilder& out = loop.out;
    std::string& scratch = loop.scratch;
    constexpr Function f = F;
    auto fail = [&](std::size_t row, std::string message) {
        loop.errors.add(static_cast<uint32_t>(row), std::move(message));
        out.append_null();
    };
    (void)expr;
    (void)scratch;
    (void)fail;
    switch (f) {
        case Function::kNegate:
            switch (expr.type) {
                case DataType::kInt32: {
                    int32_t v = args[0].get<int32_t>(i);
                    if (v == INT32_MIN) {
                        fail(i, "integer out of range");
                    } else {
                        out.append_int32(-v);
                    }
                    break;
                }
                case DataType::kInt64: {
                    int64_t v = args[0].get<int64_t>(i);
                    if (v == INT64_MIN) {
                        fail(i, "bigint out of range");
                    } else {
                        out.append_int64(-v);
                    }
                    break;
                }
                default:
                    out.append_double(-args[0].get<double>(i));
                    break;
            }
            break;
        case Function::kTimestampAddMicros:
        case Function::kTimestampSubtractMicros: {
            int64_t ts = args[0].get<int64_t>(i), d = args[1].get<int64_t>(i), r = 0;
            bool overflow = f == Function::kTimestampAddMicros ? __builtin_add_overflow(ts, d, &r)
                                                               : __builtin_sub_overflow(ts, d, &r);
            if (overflow) {
                fail(i, "timestamp out of range");
            } else {
                out.append_timestamp(r);
            }
            break;
        }
        case Function::kDateAddDays:
            out.append_date(args[0].get<int32_t>(i) + args[1].get<int32_t>(i));
            break;
        case Function::kDateSubtractDays:
            out.append_date(args[0].get<int32_t>(i) - args[1].get<int32_t>(i));
            break;
        case Function::kDateDiffDays:
            out.append_int32(args[0].get<int32_t>(i) - args[1].get<int32_t>(i));
            break;
        case Function::kTimestampDiffMicros:
            out.append_int64(args[0].get<int64_t>(i) - args[1].get<int64_t>(i));
            break;
        case Function::kLike:
        case Function::kILike:
            out.append_bool(like_match(args[0].str(i), args[1].str(i), f == Function::kILike));
            break;
        case Function::kConcat:
            scratch.assign(args[0].str(i));
            scratch.append(args[1].str(i));
            out.append_string(scratch);
            break;
        case Function::kLower:
        case Function::kUpper:
            scratch.clear();
            append_case_mapped(scratch, args[0].str(i), f == Function::kUpper);
            out.append_string(scratch);
            break;
        case Function::kLength:
            out.append_int32(static_cast<int32_t>(utf8_length(args[0].str(i))));
            break;
        case Function::kReverse: {
            std::string_view s = args[0].str(i);
            scratch.clear();
            // reverse by code points
            std::size_t end = s.size();
            while (end > 0) {
                std::size_t start = end - 1;
                while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
                scratch.append(s.substr(start, end - start));
                end = start;
            }
            out.append_string(scratch);
            break;
        }
        case Function::kSubstr: {
            std::string_view s = args[0].str(i);
            int64_t start = args[1].get<int32_t>(i);  // 1-based
            int64_t end = std::numeric_limits<int64_t>::max();
            if (args.size() == 3) {
                int64_t length = args[2].get<int32_t>(i);
                if (length < 0) {
                    fail(i, "negative substring length not allowed");
                    break;
                }
                end = start + length;
            }
            int64_t from = std::max<int64_t>(start, 1);
            if (end <= from) {
                out.append_string("");
                break;
            }
            std::size_t b = utf8_offset(s, from - 1);
            std::size_t e =
                end == std::numeric_limits<int64_t>::max() ? s.size() : utf8_offset(s, end - 1);
            out.append_string(s.substr(b, e - b));
            break;
        }
        case Function::kTrim:
        case Function::kLtrim:
        case Function::kRtrim: {
            std::string_view chars = args.size() == 2 ? args[1].str(i) : std::string_view(" ");
            out.append_string(
                trim_chars(args[0].str(i), chars, f != Function::kRtrim, f != Function::kLtrim));
            break;
        }
        case Function::kReplace: {
            std::string_view s = args[0].str(i), from = args[1].str(i), to = args[2].str(i);
            if (from.empty()) {
                out.append_string(s);
                break;
            }
            scratch.clear();
            std::size_t pos = 0;
            while (true) {
                std::size_t hit = s.find(from, pos);
                if (hit == std::string_view::npos) break;
                scratch.append(s.substr(pos, hit - pos));
                scratch.append(to);
                pos = hit + from.size();
            }
            scratch.append(s.substr(pos));
            out.append_string(scratch);
            break;
        }
        case Function::kLeft:
        case Function::kRight: {
            std::string_view s = args[0].str(i);
            int64_t k = args[1].get<int32_t>(i);
            int64_t len = static_cast<int64_t>(utf8_length(s));
            int64_t take = k >= 0 ? std::min(k, len) : std::max<int64_t>(len + k, 0);
            if (f == Function::kLeft) {
                out.append_string(s.substr(0, utf8_offset(s, take)));
            } else {
                out.append_string(s.substr(utf8_offset(s, len - take)));
            }
            break;
        }
        case Function::kStrpos: {
            std::string_view s = args[0].str(i);
            std::size_t hit = s.find(args[1].str(i));
            out.append_int32(hit == std::string_view::npos
                                 ? 0
                                 : static_cast<int32_t>(utf8_length(s.substr(0, hit)) + 1));
            break;
        }
        case Function::kStartsWith:
            out.append_bool(args[0].str(i).starts_with(args[1].str(i)));
            break;
        case Function::kSplitPart: {
            std::string_view s = args[0].str(i), delim = args[1].str(i);
            int32_t index = args[2].get<int32_t>(i);
            if (index == 0) {
                fail(i, "field position must not be zero");
                break;
            }
            std::vector<std::string_view> parts;
            if (delim.empty()) {
                parts.push_back(s);
            } else {
                std::size_t pos = 0;
                while (true) {
                    std::size_t hit = s.find(delim, pos);
                    if (hit == std::string_view::npos) {
                        parts.push_back(s.substr(pos));
                        break;
                    }
                    parts.push_back(s.substr(pos, hit - pos));
                    pos = hit + delim.size();
                }
            }
            int64_t k = index > 0 ? index - 1 : static_cast<int64_t>(parts.size()) + index;
            out.append_string(k >= 0 && k < static_cast<int64_t>(parts.size())
                                  ? parts[static_cast<std::size_t>(k)]
                                  : std::string_view());
            break;
        }
        case Function::kLpad:
        case Function::kRpad: {
            std::string_view s = args[0].str(i);
            int64_t width = args[1].get<int32_t>(i);
            std::string_view fill = args.size() == 3 ? args[2].str(i) : std::string_view(" ");
            int64_t len = static_cast<int64_t>(utf8_length(s));
            if (width <= len) {
                out.append_string(s.substr(0, utf8_offset(s, std::max<int64_t>(width, 0))));
                break;
            }
            std::string pad;
            if (!fill.empty()) {
                for (int64_t k = 0; k < width - len; ++k)
                    pad.push_back(fill[static_cast<std::size_t>(k) % fill.size()]);
            }
            scratch = f == Function::kLpad ? pad + std::string(s) : std::string(s) + pad;
            out.append_string(scratch);
            break;
        }
        case Function::kAbs:
            if (expr.type == DataType::kInt32) {
                int32_t v = args[0].get<int32_t>(i);
                if (v == INT32_MIN)
                    fail(i, "integer out of range");
                else
                    out.append_int32(v < 0 ? -v : v);
            } else if (expr.type == DataType::kInt64) {
                int64_t v = args[0].get<int64_t>(i);
                if (v == INT64_MIN)
                    fail(i, "bigint out of range");
                else
                    out.append_int64(v < 0 ? -v : v);
            } else {
                out.append_double(std::fabs(args[0].get<double>(i)));
            }
            break;
        case Function::kSign:
            if (expr.type == DataType::kInt32) {
                int32_t v = args[0].get<int32_t>(i);
                out.append_int32((v > 0) - (v < 0));
            } else if (expr.type == DataType::kInt64) {
                int64_t v = args[0].get<int64_t>(i);
                out.append_int64((v > 0) - (v < 0));
            } else {
                double v = args[0].get<double>(i);
                out.append_double((v > 0) - (v < 0));
            }
            break;
        case Function::kRound: {
            double v = args[0].get<double>(i);
            int32_t digits = args.size() == 2 ? args[1].get<int32_t>(i) : 0;
            double scale = std::pow(10.0, digits);
            out.append_double(std::round(v * scale) / scale);
            break;
        }
        case Function::kFloor:
            out.append_double(std::floor(args[0].get<double>(i)));
            break;
        case Function::kCeil:
            out.append_double(std::ceil(args[0].get<double>(i)));
            break;
        case Function::kSqrt: {
            double v = args[0].get<double>(i);
            if (v < 0)
                fail(i, "cannot take square root of a negative number");
            else
                out.append_double(std::sqrt(v));
            break;
        }
        case Function::kLn: {
            double v = args[0].get<double>(i);
            if (v == 0)
                fail(i, "cannot take logarithm of zero");
            else if (v < 0)
                fail(i, "cannot take logarithm of a negative number");
            else
                out.append_double(std::log(v));
            break;
        }
        case Function::kExp:
            out.append_double(std::exp(args[0].get<double>(i)));
            break;
        case Function::kPower:
            out.append_double(std::pow(args[0].get<double>(i), args[1].get<double>(i)));
            break;
        case Function::kDateTrunc:
            out.append_timestamp(trunc_timestamp(args[1].get<int64_t>(i), args[0].str(i)));
            break;
        case Function::kExtract: {
            std::string_view field = args[0].str(i);
            int64_t ts = expr.args[1].type == DataType::kDate
                             ? int64_t{args[1].get<int32_t>(i)} * kMicrosPerDay
                             : args[1].get<int64_t>(i);
            double v = extract_field(ts, field);
            if (expr.type == DataType::kFloat64) {
                out.append_double(v);
            } else {
                out.append_int64(static_cast<int64_t>(v));
            }
            break;
        }
        case Function::kToDate: {
            int64_t ts = args[0].get<int64_t>(i);
            out.append_date(static_cast<int32_t>(floor_div(ts, kMicrosPerDay)));
            break;
        }
        case Function::kToTimestamp: {
            double seconds = args[0].get<double>(i);
            auto micros = round_to_int64(seconds * 1e6);
            if (!micros)
                fail(i, "timestamp out of range");
            else
                out.append_timestamp(*micros);
            break;
        }
        case Function::kEpoch:
            out.append_double(static_cast<double>(args[0].get<int64_t>(i)) / 1e6);
            break;
        case Function::kTimeBucket: {
            int64_t size = args[1].get<int64_t>(i);
            out.append_timestamp(floor_div(args[0].get<int64_t>(i), size) * size);
            break;
        }
        default:
            MILLRACE_CHECK(false, fmt::format("no kernel for function {}", sql::function_name(f)));
    }
}

template <Function F>
ColumnPtr strict_kernel(const sql::BoundExpr& expr, const std::vector<Operand>& args, std::size_t n,
                        KernelContext& context) {
    ColumnBuilder out(expr.type, n);
    std::string scratch;
    RowLoop loop{expr, args, out, scratch, context.errors};
    for (std::size_t i = 0; i < n; ++i) {
        bool any_null = false;
        for (const Operand& a : args) any_null = any_null || a.null(i);
        if (any_null) {
            out.append_null();
            continue;
        }
        strict_row<F>(loop, i);
    }
    return std::make_shared<const Column>(out.finish());
}

/// concat(): nulls are skipped.
ColumnPtr concat_kernel(const sql::BoundExpr& expr, const std::vector<Operand>& args, std::size_t n,
                        KernelContext&) {
    ColumnBuilder out(expr.type, n);
    std::string scratch;
    for (std::size_t i = 0; i < n; ++i) {
        scratch.clear();
        for (const Operand& a : args) {
            if (!a.null(i)) scratch.append(a.str(i));
        }
        out.append_string(scratch);
    }
    return std::make_shared<const Column>(out.finish());
    return std::make_shared<const Column>(out.finish());
}

/// nullif(a, b): null when a = b, else a.
ColumnPtr nullif_kernel(const sql::BoundExpr& expr, const std::vector<Operand>& args, std::size_t n,
                        KernelContext&) {
    ColumnBuilder out(expr.type, n);
    for (std::size_t i = 0; i < n; ++i) {
        if (args[0].null(i)) {
            out.append_null();
            continue;
        }
        bool equal = !args[1].null(i) && args[0].value(i) == args[1].value(i);
        if (equal) {
            out.append_null();
        } else {
            out.append_from(*args[0].col, args[0].row(i));
        }
    }
    return std::make_shared<const Column>(out.finish());
    return std::make_shared<const Column>(out.finish());
}

/// greatest(), least(): nulls are ignored (PostgreSQL); null only when all are null.
template <Function F>
ColumnPtr greatest_least_kernel(const sql::BoundExpr& expr, const std::vector<Operand>& args,
                                std::size_t n, KernelContext&) {
    constexpr Function f = F;
    ColumnBuilder out(expr.type, n);
    // PostgreSQL ignores nulls; null only when all are null.
    for (std::size_t i = 0; i < n; ++i) {
        const Operand* best = nullptr;
        Value best_value;
        for (const Operand& a : args) {
            if (a.null(i)) continue;
            Value v = a.value(i);
            bool better = best == nullptr;
            if (!better) {
                switch (expr.type) {
                    case DataType::kFloat64:
                        better = f == Function::kGreatest ? v.as_double() > best_value.as_double()
                                                          : v.as_double() < best_value.as_double();
                        break;
                    case DataType::kInt32:
                    case DataType::kDate:
                        better = f == Function::kGreatest ? v.as_int32() > best_value.as_int32()
                                                          : v.as_int32() < best_value.as_int32();
                        break;
                    case DataType::kInt64:
                    case DataType::kTimestamp:
                        better = f == Function::kGreatest ? v.as_int64() > best_value.as_int64()
                                                          : v.as_int64() < best_value.as_int64();
                        break;
                    case DataType::kBool:
                        better = f == Function::kGreatest ? v.as_bool() > best_value.as_bool()
                                                          : v.as_bool() < best_value.as_bool();
                        break;
                    default:
                        better = f == Function::kGreatest ? v.as_string() > best_value.as_string()
                                                          : v.as_string() < best_value.as_string();
                        break;
                }
            }
            if (better) {
                best = &a;
                best_value = std::move(v);
            }
        }
        if (best == nullptr) {
            out.append_null();
        } else {
            out.append_value(best_value);
        }
    }
    return std::make_shared<const Column>(out.finish());
    return std::make_shared<const Column>(out.finish());
}

/// now(), current_date: the statement time (plans fold them before they run).
ColumnPtr statement_time_kernel(const sql::BoundExpr& expr, const std::vector<Operand>&,
                                std::size_t n, KernelContext& context) {
    return ExpressionEvaluator::constant_column(
        statement_time_value(expr.function, context.statement_time_micros), expr.type, n);
}

// ---- the kernel of every sql::Function ---------------------------------------------------------

struct KernelEntry {
    Function id;
    ScalarKernel kernel;
};

using F = Function;

const KernelEntry kKernels[] = {
    {F::kAdd, arithmetic_kernel},
    {F::kSubtract, arithmetic_kernel},
    {F::kMultiply, arithmetic_kernel},
    {F::kDivide, arithmetic_kernel},
    {F::kModulo, arithmetic_kernel},
    {F::kNegate, strict_kernel<F::kNegate>},
    {F::kTimestampAddMicros, strict_kernel<F::kTimestampAddMicros>},
    {F::kTimestampSubtractMicros, strict_kernel<F::kTimestampSubtractMicros>},
    {F::kTimestampDiffMicros, strict_kernel<F::kTimestampDiffMicros>},
    {F::kDateAddDays, strict_kernel<F::kDateAddDays>},
    {F::kDateSubtractDays, strict_kernel<F::kDateSubtractDays>},
    {F::kDateDiffDays, strict_kernel<F::kDateDiffDays>},
    {F::kEqual, comparison_kernel},
    {F::kNotEqual, comparison_kernel},
    {F::kLess, comparison_kernel},
    {F::kLessEqual, comparison_kernel},
    {F::kGreater, comparison_kernel},
    {F::kGreaterEqual, comparison_kernel},
    {F::kIsDistinct, comparison_kernel},
    {F::kIsNotDistinct, comparison_kernel},
    {F::kLike, strict_kernel<F::kLike>},
    {F::kILike, strict_kernel<F::kILike>},
    {F::kConcat, strict_kernel<F::kConcat>},
    {F::kConcatFunction, concat_kernel},
    {F::kLower, strict_kernel<F::kLower>},
    {F::kUpper, strict_kernel<F::kUpper>},
    {F::kLength, strict_kernel<F::kLength>},
    {F::kSubstr, strict_kernel<F::kSubstr>},
    {F::kTrim, strict_kernel<F::kTrim>},
    {F::kLtrim, strict_kernel<F::kLtrim>},
    {F::kRtrim, strict_kernel<F::kRtrim>},
    {F::kReplace, strict_kernel<F::kReplace>},
    {F::kLeft, strict_kernel<F::kLeft>},
    {F::kRight, strict_kernel<F::kRight>},
    {F::kStrpos, strict_kernel<F::kStrpos>},
    {F::kReverse, strict_kernel<F::kReverse>},
    {F::kSplitPart, strict_kernel<F::kSplitPart>},
    {F::kStartsWith, strict_kernel<F::kStartsWith>},
    {F::kLpad, strict_kernel<F::kLpad>},
    {F::kRpad, strict_kernel<F::kRpad>},
    {F::kAbs, strict_kernel<F::kAbs>},
    {F::kRound, strict_kernel<F::kRound>},
    {F::kFloor, strict_kernel<F::kFloor>},
    {F::kCeil, strict_kernel<F::kCeil>},
    {F::kSqrt, strict_kernel<F::kSqrt>},
    {F::kPower, strict_kernel<F::kPower>},
    {F::kLn, strict_kernel<F::kLn>},
    {F::kExp, strict_kernel<F::kExp>},
    {F::kSign, strict_kernel<F::kSign>},
    {F::kGreatest, greatest_least_kernel<F::kGreatest>},
    {F::kLeast, greatest_least_kernel<F::kLeast>},
    {F::kDateTrunc, strict_kernel<F::kDateTrunc>},
    {F::kExtract, strict_kernel<F::kExtract>},
    {F::kToDate, strict_kernel<F::kToDate>},
    {F::kToTimestamp, strict_kernel<F::kToTimestamp>},
    {F::kEpoch, strict_kernel<F::kEpoch>},
    {F::kNullIf, nullif_kernel},
    {F::kTimeBucket, strict_kernel<F::kTimeBucket>},
    {F::kNow, statement_time_kernel},
    {F::kCurrentDate, statement_time_kernel},
    {F::kUaBrowser, user_agent_kernel},
    {F::kUaOs, user_agent_kernel},
    {F::kUaDevice, user_agent_kernel},
    {F::kParseUserAgent, user_agent_kernel},
    {F::kIpCountry, geoip_kernel},
    {F::kIpCity, geoip_kernel},
    {F::kUrlHost, url_kernel},
    {F::kUrlPath, url_kernel},
    {F::kUrlParam, url_kernel},
    {F::kParseUrl, url_kernel},
};

}  // namespace

ScalarKernel find_scalar_kernel(Function id) {
    for (const KernelEntry& entry : kKernels) {
        if (entry.id == id) return entry.kernel;
    }
    return nullptr;
}

}  // namespace millrace
