#include "sql/binder.h"

#include <gtest/gtest.h>

#include "sql/column_origins.h"
#include "sql/optimizer.h"
#include "sql/parser.h"

namespace millrace::sql {
namespace {

class TestCatalog final : public Catalog {
public:
    TestCatalog() {
        tables_["orders"] =
            std::make_shared<const Schema>(std::vector<Field>{{"id", DataType::kInt64, false},
                                                              {"store", DataType::kString, true},
                                                              {"amount", DataType::kFloat64, true},
                                                              {"ts", DataType::kTimestamp, true},
                                                              {"qty", DataType::kInt32, true}});
        tables_["logins"] = std::make_shared<const Schema>(
            std::vector<Field>{{"id", DataType::kInt64, false}, {"user", DataType::kString, true}});
        tables_["stores"] = std::make_shared<const Schema>(std::vector<Field>{
            {"store", DataType::kString, false}, {"city", DataType::kString, true}});
    }
    Result<LogicalPlan> relation(std::string_view name) override {
        auto it = tables_.find(std::string(name));
        if (it == tables_.end()) return Error(ErrorCode::kNotFound, "no such table");
        auto scan = std::make_unique<LogicalNode>();
        scan->kind = LogicalNode::Kind::kScan;
        scan->source = std::string(name);
        scan->source_schema = it->second;
        scan->schema = it->second;
        for (std::size_t i = 0; i < it->second->size(); ++i) scan->columns.push_back(i);
        return scan;
    }
    std::vector<std::string> relation_names() const override {
        return {"orders", "logins", "stores"};
    }

private:
    std::map<std::string, std::shared_ptr<const Schema>> tables_;
};

Result<LogicalPlan> bind(const std::string& sql) {
    TestCatalog catalog;
    auto stmt = parse_select(sql);
    if (!stmt.ok()) return std::move(stmt).error();
    return bind_select(**stmt, sql, catalog);
}

TEST(Binder, TypesAndNames) {
    auto plan =
        bind("SELECT id, amount * 2 AS doubled, qty + 1, qty + id, store || '!' FROM orders");
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    const Schema& s = *(*plan)->schema;
    EXPECT_EQ(s.field(0).name, "id");
    EXPECT_EQ(s.field(1).name, "doubled");
    EXPECT_EQ(s.field(1).type, DataType::kFloat64);
    EXPECT_EQ(s.field(2).type, DataType::kInt32);
    EXPECT_EQ(s.field(3).type, DataType::kInt64);
    EXPECT_EQ(s.field(4).type, DataType::kString);
}

TEST(Binder, UserIsTheKeywordAndQuotedUserTheColumn) {
    auto quoted =
        bind("SELECT \"user\", id FROM logins WHERE \"user\" <> 'root' ORDER BY \"user\"");
    ASSERT_TRUE(quoted.ok()) << quoted.error().to_string();
    EXPECT_EQ((*quoted)->schema->field(0).name, "user");

    auto bare = bind("SELECT id FROM logins WHERE user = 'root'");
    ASSERT_FALSE(bare.ok());
    EXPECT_EQ(bare.error().code(), ErrorCode::kUnsupported);
    EXPECT_EQ(bare.error().location().line, 1);
    EXPECT_EQ(bare.error().location().column, 29);
    EXPECT_NE(bare.error().message().find("quote its name: \"user\""), std::string::npos)
        << bare.error().message();

    // Every such keyword gets a sentence, never PostgreSQL's enum name.
    for (const char* sql :
         {"SELECT user FROM orders", "SELECT current_user", "SELECT session_user",
          "SELECT current_role", "SELECT current_catalog", "SELECT current_schema",
          "SELECT current_time", "SELECT current_time(3)", "SELECT localtime",
          "SELECT localtime(1)", "SELECT current_timestamp(3)", "SELECT localtimestamp(3)"}) {
        auto plan = bind(sql);
        ASSERT_FALSE(plan.ok()) << sql;
        EXPECT_EQ(plan.error().code(), ErrorCode::kUnsupported) << sql;
        EXPECT_EQ(plan.error().message().find("SVFOP"), std::string::npos)
            << plan.error().message();
    }
}

TEST(Binder, UnknownColumnSuggests) {
    auto plan = bind("SELECT amout FROM orders");
    ASSERT_FALSE(plan.ok());
    EXPECT_EQ(plan.error().code(), ErrorCode::kNotFound);
    EXPECT_NE(plan.error().message().find("did you mean `amount`"), std::string::npos);
    EXPECT_EQ(plan.error().location().line, 1);
    EXPECT_EQ(plan.error().location().column, 8);
}

TEST(Binder, UnknownTableAndFunctionSuggest) {
    auto table = bind("SELECT 1 FROM ordres");
    ASSERT_FALSE(table.ok());
    EXPECT_NE(table.error().message().find("did you mean `orders`"), std::string::npos);
    auto function = bind("SELECT lowr(store) FROM orders");
    ASSERT_FALSE(function.ok());
    EXPECT_NE(function.error().message().find("did you mean lower()"), std::string::npos);
}

TEST(Binder, TypeErrorsNameTypes) {
    auto plan = bind("SELECT store + 1 FROM orders");
    ASSERT_FALSE(plan.ok());
    EXPECT_EQ(plan.error().code(), ErrorCode::kTypeMismatch);
    EXPECT_NE(plan.error().message().find("string and int32"), std::string::npos);
    auto where = bind("SELECT id FROM orders WHERE amount");
    ASSERT_FALSE(where.ok());
    EXPECT_NE(where.error().message().find("must be boolean"), std::string::npos);
    auto literal = bind("SELECT id FROM orders WHERE ts > 'yesterday-ish'");
    ASSERT_FALSE(literal.ok());
    EXPECT_NE(literal.error().message().find("invalid input syntax for type timestamp"),
              std::string::npos);
}

TEST(Binder, StringLiteralTakesTypeOfOtherSide) {
    auto plan = bind("SELECT id FROM orders WHERE ts >= '2026-11-01' AND qty = '3'");
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
}

TEST(Binder, GroupByRules) {
    EXPECT_TRUE(bind("SELECT store, count(*), sum(amount) FROM orders GROUP BY store").ok());
    EXPECT_TRUE(bind("SELECT store AS s, count(*) FROM orders GROUP BY 1").ok());
    EXPECT_TRUE(
        bind("SELECT date_trunc('day', ts) AS day, count(*) FROM orders GROUP BY day").ok());
    auto missing = bind("SELECT store, amount FROM orders GROUP BY store");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message().find("must appear in the GROUP BY"), std::string::npos);
    auto nested = bind("SELECT sum(count(*)) FROM orders");
    ASSERT_FALSE(nested.ok());
    auto in_where = bind("SELECT id FROM orders WHERE count(*) > 1");
    ASSERT_FALSE(in_where.ok());
}

TEST(Binder, JoinsAndAmbiguity) {
    auto plan = bind("SELECT o.id, s.city FROM orders o JOIN stores s ON o.store = s.store");
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    auto ambiguous = bind("SELECT store FROM orders o JOIN stores s ON o.store = s.store");
    ASSERT_FALSE(ambiguous.ok());
    EXPECT_NE(ambiguous.error().message().find("ambiguous"), std::string::npos);
    auto using_join = bind("SELECT store, city FROM orders JOIN stores USING (store)");
    ASSERT_TRUE(using_join.ok()) << using_join.error().to_string();
}

TEST(Binder, StarExpansion) {
    auto plan = bind("SELECT o.*, s.city FROM orders o LEFT JOIN stores s ON o.store = s.store");
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ((*plan)->schema->size(), 6u);
    EXPECT_TRUE((*plan)->schema->field(5).nullable);  // null-extended by the LEFT JOIN
}

TEST(Binder, OptimizerPushesFiltersAndPrunesColumns) {
    auto plan = bind(
        "SELECT o.id, s.city FROM orders o JOIN stores s ON o.store = s.store WHERE o.amount > 10 "
        "AND s.city = 'Paris'");
    ASSERT_TRUE(plan.ok());
    optimize(*plan);
    std::string text = (*plan)->to_string();
    EXPECT_NE(text.find("Scan orders [id, store, amount] filters: (#2:amount > 10"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("Scan stores [store, city] filters:"), std::string::npos) << text;
    EXPECT_EQ(text.find("Filter"), std::string::npos) << text;
}

TEST(Binder, LeftJoinKeepsRightSideFilterAbove) {
    auto plan = bind(
        "SELECT o.id FROM orders o LEFT JOIN stores s ON o.store = s.store WHERE s.city IS NULL");
    ASSERT_TRUE(plan.ok());
    optimize(*plan);
    std::string text = (*plan)->to_string();
    EXPECT_NE(text.find("Filter (#"), std::string::npos) << text;
}

TEST(Binder, UnionTypesUnify) {
    auto plan = bind("SELECT qty FROM orders UNION ALL SELECT id FROM orders");
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ((*plan)->schema->field(0).type, DataType::kInt64);
    auto bad = bind("SELECT store FROM orders UNION ALL SELECT id FROM orders");
    ASSERT_FALSE(bad.ok());
}

// Column lineage: which source columns each output column is computed from, and how.
std::string origins_text(const std::string& sql) {
    auto plan = bind(sql);
    if (!plan.ok()) return plan.error().to_string();
    optimize(*plan);
    std::string out;
    const auto origins = column_origins(**plan);
    for (std::size_t i = 0; i < origins.size(); ++i) {
        out += (i > 0 ? "; " : "") + (*plan)->schema->field(i).name + " <-";
        for (const ColumnOrigin& o : origins[i]) {
            static const char* const kNames[] = {"identity", "transformation", "aggregation"};
            out += " " + o.source + "." + o.column + "(" + kNames[static_cast<int>(o.derivation)] +
                   ")";
        }
    }
    return out;
}

TEST(ColumnOrigins, ProjectionsCarryTheirColumnsThrough) {
    EXPECT_EQ(origins_text("SELECT id, amount * 2 AS doubled, store || '!' AS s, 1 AS one FROM "
                           "orders WHERE qty > 1"),
              "id <- orders.id(identity); doubled <- orders.amount(transformation); s <- "
              "orders.store(transformation); one <-");
}

TEST(ColumnOrigins, AggregatesAndGroupKeys) {
    EXPECT_EQ(origins_text("SELECT store, count(*) AS n, sum(amount * qty) AS total FROM orders "
                           "GROUP BY store"),
              "store <- orders.store(identity); n <-; total <- orders.amount(aggregation) "
              "orders.qty(aggregation)");
}

TEST(ColumnOrigins, JoinsAndUnionsCombineTheirSides) {
    EXPECT_EQ(origins_text("SELECT o.id, s.city FROM orders o JOIN stores s ON o.store = s.store"),
              "id <- orders.id(identity); city <- stores.city(identity)");
    EXPECT_EQ(origins_text("SELECT id FROM orders UNION ALL SELECT id + 1 FROM logins"),
              "id <- orders.id(identity) logins.id(transformation)");
}

}  // namespace
}  // namespace millrace::sql
