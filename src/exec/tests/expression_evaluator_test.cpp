#include "exec/expression_evaluator.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "exec/tests/query_fixture.h"

namespace millrace {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ExpressionEvaluatorTest : public ::testing::Test, public millrace::testing::QueryFixture {
protected:
    void SetUp() override {
        add_table("t",
                  {{"a", DataType::kInt32, true},
                   {"b", DataType::kInt64, true},
                   {"x", DataType::kFloat64, true},
                   {"s", DataType::kString, true},
                   {"p", DataType::kBool, true},
                   {"ts", DataType::kTimestamp, true}},
                  {{Value::int32(1), Value::int64(10), Value::float64(1.5), Value::string("Apple"),
                    Value::boolean(true), Value::timestamp(1700000000000000)},
                   {Value::int32(2), Value::int64(0), Value::null(), Value::string("banana"),
                    Value::boolean(false), Value::null()},
                   {Value::null(), Value::int64(-3), Value::float64(-2), Value::null(),
                    Value::null(), Value::timestamp(0)}});
    }
};

TEST_F(ExpressionEvaluatorTest, ArithmeticFollowsPostgres) {
    EXPECT_THAT(query("SELECT a + b, b / 4, 7 / 2, 7 % 3, -b, x * 2 FROM t"),
                ElementsAre("11|2|3|1|-10|3", "2|0|3|1|0|NULL", "NULL|0|3|1|3|-4"));
}

TEST_F(ExpressionEvaluatorTest, DivisionByZeroIsARowError) {
    EXPECT_THAT(query("SELECT a, 100 / b FROM t"), ElementsAre("1|10", "NULL|-33"));
    EXPECT_THAT(dead_letters, ElementsAre("division by zero"));
}

TEST_F(ExpressionEvaluatorTest, OverflowIsARowError) {
    EXPECT_THAT(query("SELECT a * 2147483647 FROM t WHERE a = 2"), ElementsAre());
    EXPECT_THAT(dead_letters, ElementsAre("integer out of range"));
}

TEST_F(ExpressionEvaluatorTest, ThreeValuedLogic) {
    // p: true, false, null
    EXPECT_THAT(
        query("SELECT p AND NULL, p OR NULL, NOT p, p IS NULL, p IS TRUE, p IS NOT FALSE FROM t"),
        ElementsAre("NULL|true|false|false|true|true", "false|NULL|true|false|false|false",
                    "NULL|NULL|NULL|true|false|true"));
    EXPECT_THAT(query("SELECT count(*) FROM t WHERE NOT (a = 1)"), ElementsAre("1"));
}

TEST_F(ExpressionEvaluatorTest, InAndNullSemantics) {
    EXPECT_THAT(query("SELECT a IN (1, 3), a NOT IN (1, NULL), a BETWEEN 1 AND 1 FROM t"),
                ElementsAre("true|false|true", "false|NULL|false", "NULL|NULL|NULL"));
}

TEST_F(ExpressionEvaluatorTest, StringFunctions) {
    EXPECT_THAT(
        query("SELECT lower(s), upper(s), length(s), substr(s, 2, 3), s LIKE 'A%', s ILIKE 'a%', "
              "replace(s, 'an', 'AN'), concat(s, NULL, '!'), s || '?' FROM t WHERE s IS NOT NULL"),
        ElementsAre("apple|APPLE|5|ppl|true|true|Apple|Apple!|Apple?",
                    "banana|BANANA|6|ana|false|false|bANANa|banana!|banana?"));
    EXPECT_THAT(
        query("SELECT trim('  x  '), left('abc', 2), right('abc', 2), split_part('a,b,c', ',', 2), "
              "strpos('hello', 'l'), lpad('7', 3, '0'), coalesce(NULL, 'z'), nullif('a', 'a')"),
        ElementsAre("x|ab|bc|b|3|007|z|NULL"));
}

TEST_F(ExpressionEvaluatorTest, CastsAndBadCasts) {
    EXPECT_THAT(query("SELECT '42'::int, CAST(3.5 AS bigint), '2026-11-23'::date, 1::bool, x::int "
                      "FROM t WHERE a = 1"),
                ElementsAre("42|4|2026-11-23|true|2"));
    EXPECT_THAT(query("SELECT s::int FROM t WHERE s IS NOT NULL"), ElementsAre());
    EXPECT_THAT(dead_letters,
                ElementsAre(HasSubstr("invalid input syntax for type int32: \"Apple\""),
                            HasSubstr("invalid input syntax")));
    EXPECT_THAT(query("SELECT 'abc'::int"), ElementsAre(HasSubstr("ERROR: invalid input syntax")));
}

TEST_F(ExpressionEvaluatorTest, TimeFunctions) {
    EXPECT_THAT(query("SELECT date_trunc('hour', ts), extract(year FROM ts), date(ts), ts + "
                      "INTERVAL '1 day', "
                      "extract(dow FROM ts) FROM t WHERE ts IS NOT NULL"),
                ElementsAre("2023-11-14T22:00:00Z|2023|2023-11-14|2023-11-15T22:13:20Z|2",
                            "1970-01-01T00:00:00Z|1970|1970-01-01|1970-01-02T00:00:00Z|4"));
    EXPECT_THAT(query("SELECT date_trunc('month', ts) FROM t WHERE a = 1"),
                ElementsAre("2023-11-01T00:00:00Z"));
}

TEST_F(ExpressionEvaluatorTest, CaseExpressions) {
    EXPECT_THAT(query("SELECT CASE WHEN a = 1 THEN 'one' WHEN a = 2 THEN 'two' END, CASE a WHEN 1 "
                      "THEN 10 ELSE 0 END FROM t"),
                ElementsAre("one|10", "two|0", "NULL|0"));
}

TEST_F(ExpressionEvaluatorTest, ConstantFolding) {
    sql::BoundExpr sum;
    sum.kind = sql::BoundExpr::Kind::kCall;
    sum.function = sql::Function::kAdd;
    sum.type = DataType::kInt32;
    sum.args.push_back(sql::BoundExpr::constant_of(Value::int32(2), DataType::kInt32));
    sum.args.push_back(sql::BoundExpr::constant_of(Value::int32(3), DataType::kInt32));
    fold_constants(sum, 0);
    ASSERT_TRUE(sum.is_constant());
    EXPECT_EQ(sum.constant, Value::int32(5));
}

/// `column = c1 OR column = c2 ...` built by hand: the OR the binder rewrites into an IN list,
/// evaluated term by term as the oracle.
sql::BoundExpr hand_built_or(std::size_t column, DataType type, const std::vector<Value>& items) {
    sql::BoundExpr disjunction;
    disjunction.kind = sql::BoundExpr::Kind::kOr;
    disjunction.type = DataType::kBool;
    for (const Value& item : items) {
        sql::BoundExpr equal;
        equal.kind = sql::BoundExpr::Kind::kCall;
        equal.function = sql::Function::kEqual;
        equal.type = DataType::kBool;
        equal.args.push_back(sql::BoundExpr::column_ref(column, type, "c"));
        equal.args.push_back(sql::BoundExpr::constant_of(item, type));
        disjunction.args.push_back(std::move(equal));
    }
    return disjunction;
}

std::vector<std::string> as_text(const Column& column) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < column.size(); ++i)
        out.push_back(column.is_null(i) ? "NULL" : (column.value<uint8_t>(i) ? "t" : "f"));
    return out;
}

TEST_F(ExpressionEvaluatorTest, LongOrChainsAnswerLikeTheirTerms) {
    // 6k rows of ints (with nulls), doubles (with NaN and -0) and strings; 5,000-term ORs
    // through the binder (an IN list with a hash set) against the same ORs evaluated term by
    // term.
    std::vector<std::vector<Value>> rows;
    for (int i = 0; i < 6000; ++i) {
        Value d = i % 97 == 0   ? Value::float64(std::nan(""))
                  : i % 89 == 0 ? Value::float64(-0.0)
                                : Value::float64(i * 0.5);
        rows.push_back({i % 50 == 0 ? Value::null() : Value::int64(i), d,
                        Value::string("s" + std::to_string(i))});
    }
    add_table("many",
              {{"i", DataType::kInt64, true},
               {"d", DataType::kFloat64, true},
               {"s", DataType::kString, true}},
              rows);
    const auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"i", DataType::kInt64, true},
                                                          {"d", DataType::kFloat64, true},
                                                          {"s", DataType::kString, true}});
    BatchBuilder builder(schema);
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size(); ++c) builder.column(c).append_value(row[c]);
        builder.commit_row();
    }
    const Batch batch = builder.finish();

    std::vector<Value> ints, doubles, strings;
    std::string int_sql, double_sql, string_sql;
    for (int k = 0; k < 5000; ++k) {
        ints.push_back(Value::int64(k * 7));
        doubles.push_back(Value::float64(k * 1.5));
        strings.push_back(Value::string("s" + std::to_string(k * 11)));
        const char* sep = k > 0 ? " OR " : "";
        int_sql += fmt::format("{}i = {}", sep, k * 7);
        double_sql += fmt::format("{}d = {}", sep, k * 1.5);
        string_sql += fmt::format("{}s = 's{}'", sep, k * 11);
    }
    doubles.push_back(Value::float64(std::nan("")));
    double_sql += " OR d = 'NaN'::float8 OR d = 0";
    doubles.push_back(Value::float64(0));
    ints.push_back(Value::null());
    int_sql += " OR i = NULL";

    struct Case {
        std::size_t column;
        DataType type;
        const std::vector<Value>* items;
        const std::string* sql;
    };
    for (const Case& c : {Case{0, DataType::kInt64, &ints, &int_sql},
                          Case{1, DataType::kFloat64, &doubles, &double_sql},
                          Case{2, DataType::kString, &strings, &string_sql}}) {
        ExpressionEvaluator evaluator;
        RowErrors errors;
        const auto expected =
            as_text(*evaluator.evaluate(hand_built_or(c.column, c.type, *c.items), batch, errors));
        auto parsed = sql::parse_expression(*c.sql);
        ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
        auto bound = sql::bind_predicate(*parsed.value(), *c.sql, *schema);
        ASSERT_TRUE(bound.ok()) << bound.error().to_string();
        sql::BoundExpr predicate = std::move(bound).value();
        fold_constants(predicate, 0);
        ASSERT_EQ(predicate.kind, sql::BoundExpr::Kind::kIn);
        EXPECT_EQ(as_text(*evaluator.evaluate(predicate, batch, errors)), expected) << c.column;
        EXPECT_TRUE(errors.empty());
    }
    // And through a whole query: the rows a 5,000-term OR selects.
    auto selected = query("SELECT count(*), sum(i) FROM many WHERE " + int_sql);
    int64_t count = 0, sum = 0;
    for (int i = 0; i < 6000; ++i) {
        if (i % 50 != 0 && i % 7 == 0 && i / 7 < 5000) {
            ++count;
            sum += i;
        }
    }
    EXPECT_THAT(selected, ElementsAre(fmt::format("{}|{}", count, sum)));
}

TEST_F(ExpressionEvaluatorTest, NowAndCurrentDateReadTheContextClock) {
    ManualClock manual(1'767'323'045'123'456);  // 2026-01-02T03:04:05.123456Z
    clock = &manual;
    EXPECT_THAT(query("SELECT now(), current_timestamp, current_date, now() - INTERVAL '1 day'"),
                ::testing::ElementsAre("2026-01-02T03:04:05.123456Z|2026-01-02T03:04:05.123456Z|"
                                       "2026-01-02|2026-01-01T03:04:05.123456Z"));
    manual.set_micros(-1);  // one microsecond before the epoch: the day before
    EXPECT_THAT(query("SELECT current_date"), ::testing::ElementsAre("1969-12-31"));
}

TEST_F(ExpressionEvaluatorTest, OneContextHasOneStatementTime) {
    ManualClock manual(1'000'000);
    testing::RowCollector first, second;
    ExecContext context;
    context.clock = &manual;
    ASSERT_TRUE(run("SELECT now()", first, context).ok());
    manual.advance_micros(5'000'000);
    ASSERT_TRUE(run("SELECT now()", second, context).ok());
    EXPECT_EQ(first.rows, second.rows);
}

}  // namespace
}  // namespace millrace
