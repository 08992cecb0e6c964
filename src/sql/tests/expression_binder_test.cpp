#include "sql/expression_binder.h"

#include <gtest/gtest.h>

#include <string>

#include "sql/binder.h"
#include "sql/parser.h"

namespace millrace::sql {
namespace {

const Schema& orders() {
    static const Schema schema(std::vector<Field>{{"id", DataType::kInt64, false},
                                                  {"store", DataType::kString, true},
                                                  {"amount", DataType::kFloat64, true}});
    return schema;
}

Result<BoundExpr> bind_text(const std::string& text) {
    auto parsed = parse_expression(text);
    if (!parsed.ok()) return std::move(parsed).error();
    return bind_predicate(*parsed.value(), text, orders());
}

std::string or_chain(std::size_t terms) {
    std::string text;
    for (std::size_t i = 0; i < terms; ++i) {
        if (i > 0) text += " OR ";
        text += "id = " + std::to_string(i * 3);
    }
    return text;
}

TEST(ExpressionBinder, OrChainOfEqualitiesBecomesOneInList) {
    for (std::size_t terms : {std::size_t{5000}, std::size_t{50000}}) {
        auto bound = bind_text(or_chain(terms));
        ASSERT_TRUE(bound.ok()) << bound.error().to_string();
        ASSERT_EQ(bound->kind, BoundExpr::Kind::kIn) << terms;
        ASSERT_EQ(bound->args.size(), terms + 1);
        EXPECT_EQ(bound->args[0].kind, BoundExpr::Kind::kColumn);
        EXPECT_FALSE(bound->negated);
        EXPECT_TRUE(bound->args[terms].is_column_free());
    }
}

TEST(ExpressionBinder, OrChainKeepsOtherTermsAndGroupsPerExpression) {
    auto bound =
        bind_text("id = 1 OR store = 'a' OR 3 = id OR amount > 2 OR store = 'b' OR id = NULL");
    ASSERT_TRUE(bound.ok()) << bound.error().to_string();
    ASSERT_EQ(bound->kind, BoundExpr::Kind::kOr);
    ASSERT_EQ(bound->args.size(), 3u);
    EXPECT_EQ(bound->args[0].kind, BoundExpr::Kind::kIn);
    EXPECT_EQ(bound->args[0].args.size(), 4u);  // id IN (1, 3, NULL)
    EXPECT_EQ(bound->args[1].kind, BoundExpr::Kind::kIn);
    EXPECT_EQ(bound->args[1].args.size(), 3u);               // store IN ('a', 'b')
    EXPECT_EQ(bound->args[2].kind, BoundExpr::Kind::kCall);  // amount > 2

    // One equality per expression stays as written.
    auto single = bind_text("id = 1 OR store = 'a'");
    ASSERT_TRUE(single.ok());
    EXPECT_EQ(single->kind, BoundExpr::Kind::kOr);
    EXPECT_EQ(single->args[0].kind, BoundExpr::Kind::kCall);
}

TEST(ExpressionBinder, DeepNestingIsABoundedParseError) {
    // Right-nested ORs are not flattened by PostgreSQL's grammar: nesting is bounded, with a
    // parse error, never a stack overflow, however deep the input goes.
    for (int depth : {300, 5000, 50000}) {
        std::string text;
        for (int i = 1; i < depth; ++i) text += "id = " + std::to_string(i) + " OR (";
        text += "id = 0" + std::string(static_cast<std::size_t>(depth - 1), ')');
        auto bound = bind_text(text);
        ASSERT_FALSE(bound.ok()) << depth;
        EXPECT_EQ(bound.error().code(), ErrorCode::kParse) << depth;
    }
}

}  // namespace
}  // namespace millrace::sql
