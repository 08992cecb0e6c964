#include "exec/expression_evaluator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
    fold_constants(sum);
    ASSERT_TRUE(sum.is_constant());
    EXPECT_EQ(sum.constant, Value::int32(5));
}

}  // namespace
}  // namespace millrace
