#include "exec/expression_evaluator.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <unordered_set>

#include "common/clock.h"
#include "exec/operand.h"
#include "exec/scalar_functions.h"
#include "types/value_cast.h"

namespace millrace {

using sql::BoundExpr;
using sql::Function;

namespace {

using Kind = BoundExpr::Kind;

/// Calls f(T{}) with T the physical type of `type` (std::string_view for string/bytes).
template <typename F>
decltype(auto) dispatch(DataType type, F&& f) {
    switch (type) {
        case DataType::kBool:
            return f(uint8_t{});
        case DataType::kInt32:
        case DataType::kDate:
            return f(int32_t{});
        case DataType::kInt64:
        case DataType::kTimestamp:
            return f(int64_t{});
        case DataType::kFloat64:
            return f(double{});
        case DataType::kString:
        case DataType::kBytes:
            return f(std::string_view{});
    }
    return f(int64_t{});
}

template <typename T>
T get(const Operand& a, std::size_t i) {
    if constexpr (std::is_same_v<T, std::string_view>) {
        return a.str(i);
    } else {
        return a.get<T>(i);
    }
}

template <typename T>
void append(ColumnBuilder& out, T v) {
    if constexpr (std::is_same_v<T, std::string_view>) {
        out.append_string(v);
    } else {
        out.append<T>(v);
    }
}

template <typename T>
bool checked_arith(Function f, T a, T b, T& out, const char*& error) {
    if constexpr (std::is_same_v<T, double>) {
        switch (f) {
            case Function::kAdd:
                out = a + b;
                break;
            case Function::kSubtract:
                out = a - b;
                break;
            case Function::kMultiply:
                out = a * b;
                break;
            case Function::kDivide:
                if (b == 0) {
                    error = "division by zero";
                    return false;
                }
                out = a / b;
                break;
            case Function::kModulo:
                if (b == 0) {
                    error = "division by zero";
                    return false;
                }
                out = std::fmod(a, b);
                break;
            default:
                out = 0;
        }
        return true;
    } else {
        bool overflow = false;
        switch (f) {
            case Function::kAdd:
                overflow = __builtin_add_overflow(a, b, &out);
                break;
            case Function::kSubtract:
                overflow = __builtin_sub_overflow(a, b, &out);
                break;
            case Function::kMultiply:
                overflow = __builtin_mul_overflow(a, b, &out);
                break;
            case Function::kDivide:
            case Function::kModulo:
                if (b == 0) {
                    error = "division by zero";
                    return false;
                }
                if (b == -1) {  // avoid INT_MIN / -1 trapping
                    if (f == Function::kModulo) {
                        out = 0;
                        return true;
                    }
                    overflow = __builtin_sub_overflow(T{0}, a, &out);
                    break;
                }
                out = f == Function::kDivide ? a / b : a % b;
                break;
            default:
                out = 0;
        }
        if (overflow) {
            error = std::is_same_v<T, int32_t> ? "integer out of range" : "bigint out of range";
            return false;
        }
        return true;
    }
}

template <typename T>
ColumnPtr arithmetic(Function f, const Operand& a, const Operand& b, std::size_t n, DataType type,
                     RowErrors& errors) {
    ColumnBuilder out(type, n);
    bool nulls = a.col->has_nulls() || b.col->has_nulls();
    for (std::size_t i = 0; i < n; ++i) {
        if (nulls && (a.null(i) || b.null(i))) {
            out.append_null();
            continue;
        }
        T result;
        const char* error = nullptr;
        if (!checked_arith<T>(f, a.get<T>(i), b.get<T>(i), result, error)) [[unlikely]] {
            errors.add(static_cast<uint32_t>(i), error);
            out.append_null();
            continue;
        }
        out.append<T>(result);
    }
    return std::make_shared<const Column>(out.finish());
}

template <typename T, typename Cmp>
void compare_loop(const Operand& a, const Operand& b, std::size_t n, ColumnBuilder& out, Cmp cmp) {
    bool nulls = a.col->has_nulls() || b.col->has_nulls();
    for (std::size_t i = 0; i < n; ++i) {
        if (nulls && (a.null(i) || b.null(i))) {
            out.append_null();
            continue;
        }
        out.append<uint8_t>(cmp(get<T>(a, i), get<T>(b, i)) ? 1 : 0);
    }
}

template <typename T>
int three_way(T x, T y) {
    if constexpr (std::is_same_v<T, double>) {
        // PostgreSQL orders NaN above every number and equal to itself.
        bool xn = std::isnan(x), yn = std::isnan(y);
        if (xn || yn) return xn && yn ? 0 : (xn ? 1 : -1);
    }
    return x < y ? -1 : (y < x ? 1 : 0);
}

ColumnPtr comparison(Function f, const Operand& a, const Operand& b, std::size_t n, DataType type) {
    ColumnBuilder out(DataType::kBool, n);
    dispatch(type, [&](auto tag) {
        using T = decltype(tag);
        if (f == Function::kIsDistinct || f == Function::kIsNotDistinct) {
            bool want_distinct = f == Function::kIsDistinct;
            for (std::size_t i = 0; i < n; ++i) {
                bool an = a.null(i), bn = b.null(i);
                bool distinct =
                    (an || bn) ? an != bn : three_way<T>(get<T>(a, i), get<T>(b, i)) != 0;
                out.append<uint8_t>(distinct == want_distinct ? 1 : 0);
            }
            return 0;
        }
        switch (f) {
            case Function::kEqual:
                compare_loop<T>(a, b, n, out, [](T x, T y) { return three_way<T>(x, y) == 0; });
                break;
            case Function::kNotEqual:
                compare_loop<T>(a, b, n, out, [](T x, T y) { return three_way<T>(x, y) != 0; });
                break;
            case Function::kLess:
                compare_loop<T>(a, b, n, out, [](T x, T y) { return three_way<T>(x, y) < 0; });
                break;
            case Function::kLessEqual:
                compare_loop<T>(a, b, n, out, [](T x, T y) { return three_way<T>(x, y) <= 0; });
                break;
            case Function::kGreater:
                compare_loop<T>(a, b, n, out, [](T x, T y) { return three_way<T>(x, y) > 0; });
                break;
            default:
                compare_loop<T>(a, b, n, out, [](T x, T y) { return three_way<T>(x, y) >= 0; });
                break;
        }
        return 0;
    });
    return std::make_shared<const Column>(out.finish());
}

/// Fast casts between fixed-width types and from text; anything else goes through cast_value.
ColumnPtr cast_column(const Operand& a, std::size_t n, DataType from, DataType to,
                      RowErrors& errors) {
    ColumnBuilder out(to, n);
    auto fail = [&](std::size_t i, const Error& error) {
        errors.add(static_cast<uint32_t>(i), error.message());
        out.append_null();
    };
    for (std::size_t i = 0; i < n; ++i) {
        if (a.null(i)) {
            out.append_null();
            continue;
        }
        if (is_integer(from) && to == DataType::kFloat64) {
            out.append_double(from == DataType::kInt32 ? a.get<int32_t>(i)
                                                       : static_cast<double>(a.get<int64_t>(i)));
            continue;
        }
        if (from == DataType::kInt32 && to == DataType::kInt64) {
            out.append_int64(a.get<int32_t>(i));
            continue;
        }
        if (from == DataType::kDate && to == DataType::kTimestamp) {
            out.append_timestamp(int64_t{a.get<int32_t>(i)} * 86400000000LL);
            continue;
        }
        if (from == DataType::kTimestamp && to == DataType::kDate) {
            int64_t ts = a.get<int64_t>(i);
            int64_t day =
                ts >= 0 ? ts / 86400000000LL : -((-ts + 86400000000LL - 1) / 86400000000LL);
            out.append_date(static_cast<int32_t>(day));
            continue;
        }
        Value value = a.value(i);
        Result<Value> cast = cast_value(value, to);
        if (!cast.ok()) {
            fail(i, cast.error());
            continue;
        }
        out.append_value(cast.value());
    }
    return std::make_shared<const Column>(out.finish());
}

/// Lists longer than this are answered with a hash set; shorter ones compare item by item.
constexpr std::size_t kInListHashThreshold = 8;

/// x IN (constants...) with a hash set of the constants, built once per call from the bound
/// constants (no per-item columns). Same answers as the item-by-item loop: PostgreSQL's float
/// equality (NaN equals NaN, -0 equals 0), nulls as SQL requires.
ColumnPtr in_constant_set(const BoundExpr& expr, const Operand& probe, std::size_t n) {
    ColumnBuilder out(DataType::kBool, n);
    bool null_item = false;
    dispatch(expr.args[0].type, [&](auto tag) {
        using T = decltype(tag);
        std::unordered_set<T> set;
        set.reserve(expr.args.size());
        bool nan_item = false;
        for (std::size_t k = 1; k < expr.args.size(); ++k) {
            const Value& v = expr.args[k].constant;
            if (v.is_null()) {
                null_item = true;
            } else if constexpr (std::is_same_v<T, std::string_view>) {
                set.insert(std::string_view(v.as_string()));
            } else if constexpr (std::is_same_v<T, double>) {
                if (std::isnan(v.as_double())) {
                    nan_item = true;
                } else {
                    set.insert(v.as_double());
                }
            } else if constexpr (std::is_same_v<T, uint8_t>) {
                set.insert(v.as_bool() ? 1 : 0);
            } else if constexpr (std::is_same_v<T, int32_t>) {
                set.insert(v.as_int32());
            } else {
                set.insert(v.as_int64());
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (probe.null(i)) {
                out.append_null();
                continue;
            }
            const T x = get<T>(probe, i);
            bool found = false;
            if constexpr (std::is_same_v<T, double>) {
                found = std::isnan(x) ? nan_item : set.contains(x);
            } else {
                found = set.contains(x);
            }
            if (found) {
                out.append_bool(!expr.negated);
            } else if (null_item) {
                out.append_null();
            } else {
                out.append_bool(expr.negated);
            }
        }
        return 0;
    });
    return std::make_shared<const Column>(out.finish());
}

bool is_constant_list(const BoundExpr& expr) {
    for (std::size_t k = 1; k < expr.args.size(); ++k) {
        if (expr.args[k].kind != Kind::kConstant) return false;
    }
    return true;
}

}  // namespace

Value Operand::value(std::size_t i) const {
    std::size_t row = constant ? 0 : i;
    if (col->is_null(row)) return Value::null();
    switch (col->type()) {
        case DataType::kBool:
            return Value::boolean(col->value<uint8_t>(row) != 0);
        case DataType::kInt32:
            return Value::int32(col->value<int32_t>(row));
        case DataType::kInt64:
            return Value::int64(col->value<int64_t>(row));
        case DataType::kFloat64:
            return Value::float64(col->value<double>(row));
        case DataType::kString:
            return Value::string(std::string(col->string_at(row)));
        case DataType::kBytes:
            return Value::bytes(std::string(col->string_at(row)));
        case DataType::kTimestamp:
            return Value::timestamp(col->value<int64_t>(row));
        case DataType::kDate:
            return Value::date(col->value<int32_t>(row));
    }
    return Value::null();
}

ColumnPtr ExpressionEvaluator::constant_column(const Value& value, DataType type,
                                               std::size_t rows) {
    ColumnBuilder out(type, rows);
    for (std::size_t i = 0; i < rows; ++i) {
        if (value.is_null()) {
            out.append_null();
        } else {
            out.append_value(value);
        }
    }
    return std::make_shared<const Column>(out.finish());
}

ColumnPtr ExpressionEvaluator::evaluate(const BoundExpr& expr, const Batch& batch,
                                        RowErrors& errors) {
    const std::size_t n = batch.num_rows();
    switch (expr.kind) {
        case Kind::kColumn:
            return batch.column_ptr(expr.column);
        case Kind::kConstant:
            return constant_column(expr.constant, expr.type, n);
        case Kind::kAggregate:
            MILLRACE_CHECK(false, "aggregate left in an expression: " + expr.to_string());
            return nullptr;
        case Kind::kAnd:
        case Kind::kOr:
            return and_or(expr, batch, errors);
        case Kind::kIn:
            if (expr.args.size() > kInListHashThreshold + 1 && is_constant_list(expr)) {
                const bool constant_probe = expr.args[0].kind == Kind::kConstant;
                Operand probe{constant_probe
                                  ? constant_column(expr.args[0].constant, expr.args[0].type, 1)
                                  : evaluate(expr.args[0], batch, errors),
                              constant_probe};
                return in_constant_set(expr, probe, n);
            }
            break;
        default:
            break;
    }
    // Evaluate arguments; constants stay one row wide.
    std::vector<Operand> args;
    args.reserve(expr.args.size());
    for (const BoundExpr& arg : expr.args) {
        if (arg.kind == Kind::kConstant) {
            args.push_back(Operand{constant_column(arg.constant, arg.type, 1), true});
        } else {
            args.push_back(Operand{evaluate(arg, batch, errors), false});
        }
    }
    switch (expr.kind) {
        case Kind::kCast:
            return cast_column(args[0], n, expr.args[0].type, expr.type, errors);
        case Kind::kNot: {
            ColumnBuilder out(DataType::kBool, n);
            for (std::size_t i = 0; i < n; ++i) {
                if (args[0].null(i)) {
                    out.append_null();
                } else {
                    out.append_bool(args[0].get<uint8_t>(i) == 0);
                }
            }
            return std::make_shared<const Column>(out.finish());
        }
        case Kind::kIsNull: {
            ColumnBuilder out(DataType::kBool, n);
            for (std::size_t i = 0; i < n; ++i) out.append_bool(args[0].null(i) != expr.negated);
            return std::make_shared<const Column>(out.finish());
        }
        case Kind::kCoalesce: {
            ColumnBuilder out(expr.type, n);
            for (std::size_t i = 0; i < n; ++i) {
                bool done = false;
                for (const Operand& a : args) {
                    if (!a.null(i)) {
                        out.append_from(*a.col, a.constant ? 0 : i);
                        done = true;
                        break;
                    }
                }
                if (!done) out.append_null();
            }
            return std::make_shared<const Column>(out.finish());
        }
        case Kind::kCase: {
            ColumnBuilder out(expr.type, n);
            std::size_t pairs = (args.size() - 1) / 2;
            for (std::size_t i = 0; i < n; ++i) {
                const Operand* chosen = &args.back();
                for (std::size_t p = 0; p < pairs; ++p) {
                    const Operand& when = args[2 * p];
                    if (!when.null(i) && when.get<uint8_t>(i) != 0) {
                        chosen = &args[2 * p + 1];
                        break;
                    }
                }
                if (chosen->null(i)) {
                    out.append_null();
                } else {
                    out.append_from(*chosen->col, chosen->constant ? 0 : i);
                }
            }
            return std::make_shared<const Column>(out.finish());
        }
        case Kind::kIn: {
            // x IN (a, b, ...): true if any equal; else null if x or any item is null; else false.
            ColumnBuilder out(DataType::kBool, n);
            DataType type = expr.args[0].type;
            dispatch(type, [&](auto tag) {
                using T = decltype(tag);
                for (std::size_t i = 0; i < n; ++i) {
                    if (args[0].null(i)) {
                        out.append_null();
                        continue;
                    }
                    T x = get<T>(args[0], i);
                    bool found = false, saw_null = false;
                    for (std::size_t k = 1; k < args.size(); ++k) {
                        if (args[k].null(i)) {
                            saw_null = true;
                            continue;
                        }
                        if (three_way<T>(x, get<T>(args[k], i)) == 0) {
                            found = true;
                            break;
                        }
                    }
                    if (found) {
                        out.append_bool(!expr.negated);
                    } else if (saw_null) {
                        out.append_null();
                    } else {
                        out.append_bool(expr.negated);
                    }
                }
                return 0;
            });
            return std::make_shared<const Column>(out.finish());
        }
        case Kind::kCall:
            break;
        default:
            MILLRACE_CHECK(false, "unhandled expression kind");
    }
    const Function f = expr.function;
    const ScalarKernel kernel = find_scalar_kernel(f);
    MILLRACE_CHECK(kernel != nullptr,
                   fmt::format("no kernel for function {}", sql::function_name(f)));
    KernelContext context{errors};
    if (f == Function::kNow || f == Function::kCurrentDate)
        context.statement_time_micros = statement_time();
    return kernel(expr, args, n, context);
}

ColumnPtr arithmetic_kernel(const BoundExpr& expr, const std::vector<Operand>& args, std::size_t n,
                            KernelContext& context) {
    return dispatch(expr.type, [&](auto tag) -> ColumnPtr {
        using T = decltype(tag);
        if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t> ||
                      std::is_same_v<T, double>) {
            return arithmetic<T>(expr.function, args[0], args[1], n, expr.type, context.errors);
        } else {
            MILLRACE_CHECK(false, "arithmetic on a non-numeric type");
            return nullptr;
        }
    });
}

ColumnPtr comparison_kernel(const BoundExpr& expr, const std::vector<Operand>& args, std::size_t n,
                            KernelContext&) {
    return comparison(expr.function, args[0], args[1], n, expr.args[0].type);
}

ColumnPtr ExpressionEvaluator::and_or(const BoundExpr& expr, const Batch& batch,
                                      RowErrors& errors) {
    // Three-valued: AND is false if any false, else null if any null, else true (OR mirrored).
    // The arguments are folded in one at a time, so a chain of thousands of terms holds one
    // argument's column at a time, not all of them.
    const bool is_and = expr.kind == Kind::kAnd;
    const std::size_t n = batch.num_rows();
    enum : uint8_t { kOpen = 0, kSawNull = 1, kDecided = 2 };
    std::vector<uint8_t> state(n, kOpen);
    for (const BoundExpr& arg : expr.args) {
        const bool constant = arg.kind == Kind::kConstant;
        Operand a{
            constant ? constant_column(arg.constant, arg.type, 1) : evaluate(arg, batch, errors),
            constant};
        for (std::size_t i = 0; i < n; ++i) {
            if (state[i] == kDecided) continue;
            if (a.null(i)) {
                state[i] = kSawNull;
            } else if ((a.get<uint8_t>(i) != 0) != is_and) {
                state[i] = kDecided;
            }
        }
    }
    ColumnBuilder out(DataType::kBool, n);
    for (std::size_t i = 0; i < n; ++i) {
        if (state[i] == kDecided) {
            out.append_bool(!is_and);
        } else if (state[i] == kSawNull) {
            out.append_null();
        } else {
            out.append_bool(is_and);
        }
    }
    return std::make_shared<const Column>(out.finish());
}

Result<Value> ExpressionEvaluator::evaluate_constant(const BoundExpr& expr) {
    auto schema = std::make_shared<const Schema>();
    Batch one(schema, {}, 1);
    RowErrors errors;
    ExpressionEvaluator evaluator;
    ColumnPtr column = evaluator.evaluate(expr, one, errors);
    if (!errors.empty()) return Error(ErrorCode::kInvalidArgument, errors.entries()[0].message);
    Operand operand{column, false};
    return operand.value(0);
}

int64_t ExpressionEvaluator::statement_time() {
    if (!statement_time_) statement_time_ = SystemClock().now_micros();
    return *statement_time_;
}

void fold_constants(BoundExpr& expr, int64_t statement_time_micros) {
    for (BoundExpr& arg : expr.args) fold_constants(arg, statement_time_micros);
    if (expr.kind == Kind::kCall &&
        (expr.function == Function::kNow || expr.function == Function::kCurrentDate)) {
        BoundExpr folded = BoundExpr::constant_of(
            statement_time_value(expr.function, statement_time_micros), expr.type);
        folded.location = expr.location;
        expr = std::move(folded);
        return;
    }
    if (expr.kind == Kind::kConstant || expr.kind == Kind::kAggregate || expr.kind == Kind::kColumn)
        return;
    if (!expr.is_column_free()) return;
    Result<Value> value = ExpressionEvaluator::evaluate_constant(expr);
    if (!value.ok()) return;
    BoundExpr folded = BoundExpr::constant_of(std::move(value).value(), expr.type);
    folded.location = expr.location;
    expr = std::move(folded);
}

}  // namespace millrace
