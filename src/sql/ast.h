#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "types/value.h"

namespace millrace::sql {

/// The syntax tree of one SELECT statement, as the user wrote it: names unresolved, types
/// unknown. parser.h builds it from libpg_query's parse tree so nothing past the parser depends
/// on PostgreSQL's node layout. Every node keeps `location`, the byte offset of its first token
/// in the SQL text (-1 when unknown), so binding errors can point at line:column.
struct AstExpr;
using AstExprPtr = std::unique_ptr<AstExpr>;

enum class AstKind {
    kColumn,    // names = [qualifier..., column]
    kStar,      // names = [] for *, [qualifier] for t.*
    kLiteral,   // literal (null, bool, int32/int64, double, string); text = the typed text
    kFunction,  // name, args, distinct, star (count(*))
    kOperator,  // name = "+", "=", "||", "~~" (LIKE), ...; args 1 (prefix) or 2
    kAnd,
    kOr,
    kNot,
    kIsNull,        // args[0]; negated = IS NOT NULL
    kBoolTest,      // args[0]; name = IS_TRUE, IS_NOT_TRUE, IS_FALSE, IS_NOT_FALSE
    kIn,            // args[0] IN (args[1..]); negated = NOT IN
    kBetween,       // args[0] BETWEEN args[1] AND args[2]; negated
    kLike,          // args[0] LIKE args[1]; negated; name = "like" or "ilike"
    kCase,          // args = [operand or null, when1, then1, when2, then2, ..., else or null]
    kCast,          // args[0]; type_name
    kCoalesce,      // args
    kNullIf,        // args[0], args[1]
    kDistinctFrom,  // args[0] IS [NOT] DISTINCT FROM args[1]; negated = IS NOT DISTINCT FROM
    kInterval,      // text = '1 minute' (INTERVAL literal)
    kSqlKeyword,    // a keyword that is a value in SQL but not here: name = `user`,
                    // `current_user`, `current_time`, ... (the binder explains; see docs/sql.md)
};

struct AstExpr {
    AstKind kind = AstKind::kLiteral;
    int location = -1;
    std::vector<std::string> names;  // kColumn, kStar
    std::string name;                // function or operator name, lower case
    Value literal;                   // kLiteral
    std::string text;                // kInterval text, kCast type name
    std::vector<AstExprPtr> args;    // see AstKind; null entries where noted
    bool negated = false;
    bool distinct = false;  // f(DISTINCT x)
    bool star = false;      // count(*)

    /// The expression as SQL text, for column names and messages.
    std::string to_sql() const;
};

struct SelectStmt;

/// One item of a FROM clause.
struct FromItem {
    enum class Kind { kTable, kJoin, kSubquery, kFunction };
    Kind kind = Kind::kTable;
    int location = -1;
    std::string name;   // kTable: relation name; kFunction: function name
    std::string alias;  // "" when none
    // kJoin
    enum class JoinType { kInner, kLeft, kRight, kFull, kCross };
    JoinType join_type = JoinType::kInner;
    std::unique_ptr<FromItem> left, right;
    AstExprPtr condition;  // ON; null for CROSS or USING
    std::vector<std::string> using_columns;
    // kSubquery
    std::unique_ptr<SelectStmt> subquery;
    // kFunction: arguments (the first is usually a relation name as a column reference)
    std::vector<AstExprPtr> args;
};

struct SelectItem {
    AstExprPtr expr;
    std::string alias;  // "" when none
};

struct OrderItem {
    AstExprPtr expr;
    bool descending = false;
    std::optional<bool> nulls_first;  // default: NULLS LAST for ASC, FIRST for DESC (PostgreSQL)
};

/// SELECT ... or a UNION ALL of them.
struct SelectStmt {
    int location = -1;
    // a set operation when set_op != kNone: left and right are the operands
    enum class SetOp { kNone, kUnionAll, kUnion, kIntersect, kExcept };
    SetOp set_op = SetOp::kNone;
    std::unique_ptr<SelectStmt> left, right;

    bool distinct = false;
    std::vector<SelectItem> items;
    std::vector<FromItem> from;  // comma-separated items are cross joined
    AstExprPtr where;
    std::vector<AstExprPtr> group_by;
    AstExprPtr having;
    std::vector<OrderItem> order_by;  // also on set operations
    AstExprPtr limit, offset;
};

}  // namespace millrace::sql
