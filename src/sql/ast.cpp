#include "sql/ast.h"

#include <fmt/format.h>

namespace millrace::sql {

namespace {

std::string join_args(const std::vector<AstExprPtr>& args, std::size_t from = 0) {
    std::string out;
    for (std::size_t i = from; i < args.size(); ++i) {
        if (i > from) out += ", ";
        out += args[i] ? args[i]->to_sql() : "NULL";
    }
    return out;
}

}  // namespace

std::string AstExpr::to_sql() const {
    switch (kind) {
        case AstKind::kColumn: {
            std::string out;
            for (std::size_t i = 0; i < names.size(); ++i) {
                if (i > 0) out += '.';
                out += names[i];
            }
            return out;
        }
        case AstKind::kStar:
            return names.empty() ? "*" : names[0] + ".*";
        case AstKind::kLiteral:
            if (literal.is_null()) return "NULL";
            if (literal.type() == DataType::kString) return "'" + literal.as_string() + "'";
            return literal.to_string();
        case AstKind::kFunction:
            if (star) return name + "(*)";
            return fmt::format("{}({}{})", name, distinct ? "DISTINCT " : "", join_args(args));
        case AstKind::kOperator:
            if (args.size() == 1) return fmt::format("{}{}", name, args[0]->to_sql());
            if (args.size() != 2) return name;
            return fmt::format("{} {} {}", args[0]->to_sql(), name, args[1]->to_sql());
        case AstKind::kAnd:
        case AstKind::kOr: {
            std::string out;
            for (std::size_t i = 0; i < args.size(); ++i) {
                if (i > 0) out += kind == AstKind::kAnd ? " AND " : " OR ";
                out += args[i]->to_sql();
            }
            return out;
        }
        case AstKind::kNot:
            return "NOT " + args[0]->to_sql();
        case AstKind::kIsNull:
            return args[0]->to_sql() + (negated ? " IS NOT NULL" : " IS NULL");
        case AstKind::kBoolTest:
            return args[0]->to_sql() + " " + name;
        case AstKind::kIn:
            return fmt::format("{} {}IN ({})", args[0]->to_sql(), negated ? "NOT " : "",
                               join_args(args, 1));
        case AstKind::kBetween:
            return fmt::format("{} {}BETWEEN {} AND {}", args[0]->to_sql(), negated ? "NOT " : "",
                               args[1]->to_sql(), args[2]->to_sql());
        case AstKind::kLike:
            return fmt::format("{} {}{} {}", args[0]->to_sql(), negated ? "NOT " : "",
                               name == "ilike" ? "ILIKE" : "LIKE", args[1]->to_sql());
        case AstKind::kCase:
            return "CASE ... END";
        case AstKind::kCast:
            return fmt::format("CAST({} AS {})", args[0]->to_sql(), text);
        case AstKind::kCoalesce:
            return fmt::format("coalesce({})", join_args(args));
        case AstKind::kNullIf:
            return fmt::format("nullif({})", join_args(args));
        case AstKind::kDistinctFrom:
            return fmt::format("{} IS {}DISTINCT FROM {}", args[0]->to_sql(), negated ? "NOT " : "",
                               args[1]->to_sql());
        case AstKind::kInterval:
            return fmt::format("INTERVAL '{}'", text);
        case AstKind::kSqlKeyword:
            return name;
    }
    return "?";
}

}  // namespace millrace::sql
