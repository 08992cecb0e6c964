#include "sql/bound_expr.h"

#include <fmt/format.h>

namespace millrace::sql {

void split_conjuncts(BoundExpr expr, std::vector<BoundExpr>& out) {
    if (expr.kind == BoundExpr::Kind::kAnd) {
        for (auto& arg : expr.args) split_conjuncts(std::move(arg), out);
        return;
    }
    out.push_back(std::move(expr));
}

BoundExpr make_conjunction(std::vector<BoundExpr> conjuncts) {
    if (conjuncts.size() == 1) return std::move(conjuncts[0]);
    BoundExpr out;
    out.kind = BoundExpr::Kind::kAnd;
    out.type = DataType::kBool;
    out.args = std::move(conjuncts);
    return out;
}

BoundExpr BoundExpr::column_ref(std::size_t index, DataType type, std::string name) {
    BoundExpr e;
    e.kind = Kind::kColumn;
    e.column = index;
    e.type = type;
    e.name = std::move(name);
    return e;
}

BoundExpr BoundExpr::constant_of(Value value, DataType type) {
    BoundExpr e;
    e.kind = Kind::kConstant;
    e.constant = std::move(value);
    e.type = type;
    return e;
}

bool BoundExpr::is_column_free() const {
    if (kind == Kind::kColumn || kind == Kind::kAggregate) return false;
    for (const auto& arg : args) {
        if (!arg.is_column_free()) return false;
    }
    return true;
}

bool BoundExpr::contains_aggregate() const {
    if (kind == Kind::kAggregate) return true;
    for (const auto& arg : args) {
        if (arg.contains_aggregate()) return true;
    }
    return false;
}

void BoundExpr::collect_columns(std::vector<bool>& columns) const {
    if (kind == Kind::kColumn) {
        if (column >= columns.size()) columns.resize(column + 1, false);
        columns[column] = true;
    }
    for (const auto& arg : args) arg.collect_columns(columns);
}

void BoundExpr::remap_columns(const std::vector<std::size_t>& mapping) {
    if (kind == Kind::kColumn) column = mapping[column];
    for (auto& arg : args) arg.remap_columns(mapping);
}

bool BoundExpr::operator==(const BoundExpr& other) const {
    if (kind != other.kind || type != other.type || interval != other.interval ||
        negated != other.negated || distinct != other.distinct ||
        args.size() != other.args.size()) {
        return false;
    }
    switch (kind) {
        case Kind::kColumn:
            if (column != other.column) return false;
            break;
        case Kind::kConstant:
            if (!(constant == other.constant)) return false;
            break;
        case Kind::kCall:
            if (function != other.function) return false;
            break;
        case Kind::kAggregate:
            if (aggregate != other.aggregate) return false;
            break;
        default:
            break;
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (!(args[i] == other.args[i])) return false;
    }
    return true;
}

std::string BoundExpr::to_string() const {
    auto join = [&](std::string_view separator, std::size_t from = 0) {
        std::string out;
        for (std::size_t i = from; i < args.size(); ++i) {
            if (i > from) out += separator;
            out += args[i].to_string();
        }
        return out;
    };
    switch (kind) {
        case Kind::kColumn:
            return name.empty() ? fmt::format("#{}", column) : fmt::format("#{}:{}", column, name);
        case Kind::kConstant:
            if (interval) return fmt::format("interval({}us)", constant.as_int64());
            if (!constant.is_null() && (type == DataType::kString || type == DataType::kTimestamp ||
                                        type == DataType::kDate)) {
                return fmt::format("'{}'", constant.to_string());
            }
            return constant.to_string();
        case Kind::kCall: {
            Function f = function;
            bool infix = f <= Function::kModulo ||
                         (f >= Function::kEqual && f <= Function::kGreaterEqual) ||
                         f == Function::kConcat;
            if (infix && args.size() == 2)
                return fmt::format("({} {} {})", args[0].to_string(), function_name(f),
                                   args[1].to_string());
            return fmt::format("{}({})", function_name(f), join(", "));
        }
        case Kind::kCast:
            return fmt::format("CAST({} AS {})", args[0].to_string(), type_name(type));
        case Kind::kCase:
            return fmt::format("CASE({})", join(", "));
        case Kind::kAnd:
            return "(" + join(" AND ") + ")";
        case Kind::kOr:
            return "(" + join(" OR ") + ")";
        case Kind::kNot:
            return "NOT " + args[0].to_string();
        case Kind::kIsNull:
            return fmt::format("({} IS {}NULL)", args[0].to_string(), negated ? "NOT " : "");
        case Kind::kIn:
            return fmt::format("({} {}IN ({}))", args[0].to_string(), negated ? "NOT " : "",
                               join(", ", 1));
        case Kind::kCoalesce:
            return fmt::format("coalesce({})", join(", "));
        case Kind::kAggregate:
            return fmt::format("{}({}{})", aggregate_name(aggregate), distinct ? "DISTINCT " : "",
                               join(", "));
    }
    return "?";
}

}  // namespace millrace::sql
