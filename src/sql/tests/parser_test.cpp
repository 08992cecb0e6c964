#include "sql/parser.h"

#include <gtest/gtest.h>

namespace millrace::sql {
namespace {

TEST(Parser, SelectWithClauses) {
    auto stmt = parse_select(
        "SELECT a.x AS y, count(*) FROM t a LEFT JOIN u ON a.id = u.id WHERE x > 1 GROUP BY 1 "
        "HAVING count(*) > 1 ORDER BY 2 DESC NULLS LAST LIMIT 10 OFFSET 2");
    ASSERT_TRUE(stmt.ok()) << stmt.error().to_string();
    const SelectStmt& s = **stmt;
    ASSERT_EQ(s.items.size(), 2u);
    EXPECT_EQ(s.items[0].alias, "y");
    EXPECT_EQ(s.items[0].expr->kind, AstKind::kColumn);
    EXPECT_EQ(s.items[1].expr->kind, AstKind::kFunction);
    EXPECT_TRUE(s.items[1].expr->star);
    ASSERT_EQ(s.from.size(), 1u);
    EXPECT_EQ(s.from[0].kind, FromItem::Kind::kJoin);
    EXPECT_EQ(s.from[0].join_type, FromItem::JoinType::kLeft);
    EXPECT_EQ(s.from[0].left->alias, "a");
    ASSERT_TRUE(s.where);
    EXPECT_EQ(s.group_by.size(), 1u);
    ASSERT_TRUE(s.having);
    ASSERT_EQ(s.order_by.size(), 1u);
    EXPECT_TRUE(s.order_by[0].descending);
    EXPECT_EQ(s.order_by[0].nulls_first, false);
    ASSERT_TRUE(s.limit);
    ASSERT_TRUE(s.offset);
}

TEST(Parser, ExpressionForms) {
    auto stmt = parse_select(
        "SELECT x BETWEEN 1 AND 2, x NOT LIKE 'a%', x NOT IN (1, 2), CAST(y AS bigint), y::date, "
        "CASE WHEN x > 1 THEN 'a' ELSE 'b' END, coalesce(a, b), nullif(a, b), x IS NOT NULL, "
        "INTERVAL '1 minute', 3000000000, 1.5, NULL, true, 'it''s'");
    ASSERT_TRUE(stmt.ok()) << stmt.error().to_string();
    const auto& items = (*stmt)->items;
    EXPECT_EQ(items[0].expr->kind, AstKind::kBetween);
    EXPECT_EQ(items[1].expr->kind, AstKind::kLike);
    EXPECT_TRUE(items[1].expr->negated);
    EXPECT_EQ(items[2].expr->kind, AstKind::kIn);
    EXPECT_TRUE(items[2].expr->negated);
    EXPECT_EQ(items[3].expr->kind, AstKind::kCast);
    EXPECT_EQ(items[3].expr->text, "int8");
    EXPECT_EQ(items[4].expr->text, "date");
    EXPECT_EQ(items[5].expr->kind, AstKind::kCase);
    EXPECT_EQ(items[6].expr->kind, AstKind::kCoalesce);
    EXPECT_EQ(items[7].expr->kind, AstKind::kNullIf);
    EXPECT_EQ(items[8].expr->kind, AstKind::kIsNull);
    EXPECT_EQ(items[9].expr->kind, AstKind::kInterval);
    EXPECT_EQ(items[10].expr->literal, Value::int64(3000000000));
    EXPECT_EQ(items[11].expr->literal, Value::float64(1.5));
    EXPECT_TRUE(items[12].expr->literal.is_null());
    EXPECT_EQ(items[13].expr->literal, Value::boolean(true));
    EXPECT_EQ(items[14].expr->literal, Value::string("it's"));
}

TEST(Parser, SyntaxErrorPointsAtToken) {
    auto stmt = parse_select("SELECT a,\n  b FROM FROM t");
    ASSERT_FALSE(stmt.ok());
    EXPECT_EQ(stmt.error().code(), ErrorCode::kParse);
    EXPECT_EQ(stmt.error().location().line, 2);
    EXPECT_EQ(stmt.error().location().column, 10);
}

TEST(Parser, SqlValueKeywordsAreNamedNotEnumerated) {
    // USER, CURRENT_TIME, ... parse (the binder explains each); "user" quoted is a column.
    struct Case {
        const char* sql;
        const char* name;
    };
    for (const Case& c :
         {Case{"SELECT user", "user"}, Case{"SELECT current_user", "current_user"},
          Case{"SELECT session_user", "session_user"}, Case{"SELECT current_role", "current_role"},
          Case{"SELECT current_catalog", "current_catalog"},
          Case{"SELECT current_schema", "current_schema"},
          Case{"SELECT current_time", "current_time"},
          Case{"SELECT current_time(3)", "current_time(n)"}, Case{"SELECT localtime", "localtime"},
          Case{"SELECT localtime(2)", "localtime(n)"},
          Case{"SELECT current_timestamp(3)", "current_timestamp(n)"},
          Case{"SELECT localtimestamp(3)", "localtimestamp(n)"}}) {
        auto stmt = parse_select(c.sql);
        ASSERT_TRUE(stmt.ok()) << c.sql << ": " << stmt.error().to_string();
        EXPECT_EQ((*stmt)->items[0].expr->kind, AstKind::kSqlKeyword) << c.sql;
        EXPECT_EQ((*stmt)->items[0].expr->name, c.name);
    }
    auto quoted = parse_select("SELECT \"user\" FROM t");
    ASSERT_TRUE(quoted.ok());
    EXPECT_EQ(quoted.value()->items[0].expr->kind, AstKind::kColumn);
    EXPECT_EQ(quoted.value()->items[0].expr->names.back(), "user");
}

TEST(Parser, ReservedWordAsANameSaysToQuoteIt) {
    auto stmt = parse_select("SELECT id, order FROM t");
    ASSERT_FALSE(stmt.ok());
    EXPECT_NE(stmt.error().message().find("written \"order\""), std::string::npos)
        << stmt.error().message();
    auto table = parse_select("SELECT * FROM user");
    ASSERT_FALSE(table.ok());
    EXPECT_NE(table.error().message().find("written \"user\""), std::string::npos)
        << table.error().message();
    EXPECT_TRUE(parse_select("SELECT id, \"order\" FROM \"user\"").ok());
    // Other syntax errors get no such hint.
    auto other = parse_select("SELECT a FROM FROM t");
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().message().find("reserved word"), std::string::npos);
}

TEST(Parser, RejectsOtherStatements) {
    auto stmt = parse_select("DELETE FROM t");
    ASSERT_FALSE(stmt.ok());
    EXPECT_NE(stmt.error().message().find("DELETE"), std::string::npos);
    EXPECT_FALSE(parse_select("SELECT 1; SELECT 2").ok());
    EXPECT_FALSE(parse_select("").ok());
}

TEST(Parser, UnionAndTableFunction) {
    auto stmt = parse_select("SELECT 1 UNION ALL SELECT 2");
    ASSERT_TRUE(stmt.ok());
    EXPECT_EQ((*stmt)->set_op, SelectStmt::SetOp::kUnionAll);
    auto window = parse_select("SELECT * FROM tumble(orders, ts, INTERVAL '1 minute')");
    ASSERT_TRUE(window.ok()) << window.error().to_string();
    EXPECT_EQ((*window)->from[0].kind, FromItem::Kind::kFunction);
    EXPECT_EQ((*window)->from[0].name, "tumble");
    EXPECT_EQ((*window)->from[0].args.size(), 3u);
}

TEST(Parser, StandaloneExpressionLocations) {
    auto expr = parse_expression("amount >= ");
    ASSERT_FALSE(expr.ok());
    EXPECT_EQ(expr.error().location().line, 1);
    auto ok = parse_expression("amount >= 0");
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ((*ok)->args[0]->location, 0);
}

}  // namespace
}  // namespace millrace::sql
