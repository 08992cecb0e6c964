#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exec/tests/query_fixture.h"

namespace millrace {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class OperatorsTest : public ::testing::Test, public millrace::testing::QueryFixture {
protected:
    void SetUp() override {
        add_table("orders",
                  {{"id", DataType::kInt64, false},
                   {"store", DataType::kString, true},
                   {"amount", DataType::kFloat64, true}},
                  {{Value::int64(1), Value::string("a"), Value::float64(10)},
                   {Value::int64(2), Value::string("b"), Value::float64(5)},
                   {Value::int64(3), Value::string("a"), Value::null()},
                   {Value::int64(4), Value::null(), Value::float64(1)},
                   {Value::int64(5), Value::string("z"), Value::float64(2)}});
        add_table("stores",
                  {{"store", DataType::kString, false}, {"city", DataType::kString, true}},
                  {{Value::string("a"), Value::string("Paris")},
                   {Value::string("b"), Value::string("Berlin")},
                   {Value::string("c"), Value::string("Rome")}});
    }
};

TEST_F(OperatorsTest, AggregateNullSemantics) {
    EXPECT_THAT(
        query(
            "SELECT store, count(*), count(amount), sum(amount), avg(amount), min(amount), max(id) "
            "FROM orders GROUP BY store ORDER BY store"),
        ElementsAre("a|2|1|10|10|10|3", "b|1|1|5|5|5|2", "z|1|1|2|2|2|5", "NULL|1|1|1|1|1|4"));
}

TEST_F(OperatorsTest, GlobalAggregateOverNoRows) {
    EXPECT_THAT(query("SELECT count(*), sum(amount), max(store) FROM orders WHERE id > 100"),
                ElementsAre("0|NULL|NULL"));
    EXPECT_THAT(query("SELECT store, count(*) FROM orders WHERE id > 100 GROUP BY store"),
                ElementsAre());
}

TEST_F(OperatorsTest, CountDistinctAndHaving) {
    EXPECT_THAT(query("SELECT count(DISTINCT store), count(store) FROM orders"),
                ElementsAre("3|4"));
    EXPECT_THAT(query("SELECT store FROM orders GROUP BY store HAVING count(*) > 1"),
                ElementsAre("a"));
}

TEST_F(OperatorsTest, JoinTypes) {
    EXPECT_THAT(query("SELECT o.id, s.city FROM orders o JOIN stores s ON o.store = s.store"),
                UnorderedElementsAre("1|Paris", "2|Berlin", "3|Paris"));
    EXPECT_THAT(query("SELECT o.id, s.city FROM orders o LEFT JOIN stores s ON o.store = s.store"),
                UnorderedElementsAre("1|Paris", "2|Berlin", "3|Paris", "4|NULL", "5|NULL"));
    EXPECT_THAT(query("SELECT o.id, s.city FROM orders o RIGHT JOIN stores s ON o.store = s.store"),
                UnorderedElementsAre("1|Paris", "2|Berlin", "3|Paris", "NULL|Rome"));
    EXPECT_THAT(
        query("SELECT o.id, s.city FROM orders o FULL JOIN stores s ON o.store = s.store"),
        UnorderedElementsAre("1|Paris", "2|Berlin", "3|Paris", "4|NULL", "5|NULL", "NULL|Rome"));
}

TEST_F(OperatorsTest, JoinWithResidualCondition) {
    EXPECT_THAT(query("SELECT o.id, s.city FROM orders o LEFT JOIN stores s ON o.store = s.store "
                      "AND o.amount > 6"),
                UnorderedElementsAre("1|Paris", "2|NULL", "3|NULL", "4|NULL", "5|NULL"));
}

TEST_F(OperatorsTest, JoinOverMemoryLimitFailsClearly) {
    memory_limit = 16;
    EXPECT_THAT(query("SELECT o.id FROM orders o JOIN stores s ON o.store = s.store"),
                ElementsAre(HasSubstr("memory limit")));
}

TEST_F(OperatorsTest, AggregateOverMemoryLimitFailsClearly) {
    memory_limit = 64;
    EXPECT_THAT(query("SELECT id, count(*) FROM orders GROUP BY id"),
                ElementsAre(HasSubstr("memory limit")));
}

TEST_F(OperatorsTest, OrChainsOfEqualitiesInHavingAndOnAggregates) {
    EXPECT_THAT(query("SELECT store FROM orders GROUP BY store HAVING sum(id) = 4 OR sum(id) = 5 "
                      "OR sum(id) = 2 ORDER BY store"),
                ElementsAre("a", "b", "z", "NULL"));
    EXPECT_THAT(query("SELECT store, count(*) FROM orders GROUP BY store HAVING count(*) = 2 OR "
                      "count(*) = 3"),
                ElementsAre("a|2"));
}

TEST_F(OperatorsTest, SortNullsAndLimit) {
    EXPECT_THAT(query("SELECT amount FROM orders ORDER BY amount"),
                ElementsAre("1", "2", "5", "10", "NULL"));
    EXPECT_THAT(query("SELECT amount FROM orders ORDER BY amount DESC"),
                ElementsAre("NULL", "10", "5", "2", "1"));
    EXPECT_THAT(query("SELECT id FROM orders ORDER BY id DESC LIMIT 2 OFFSET 1"),
                ElementsAre("4", "3"));
    EXPECT_THAT(query("SELECT id FROM orders ORDER BY amount NULLS FIRST, id LIMIT 2"),
                ElementsAre("3", "4"));
}

TEST_F(OperatorsTest, OrderByExpressionNotInSelect) {
    EXPECT_THAT(query("SELECT id FROM orders ORDER BY -id LIMIT 2"), ElementsAre("5", "4"));
}

TEST_F(OperatorsTest, UnionAllAndDistinct) {
    EXPECT_THAT(query("SELECT store FROM orders WHERE id < 3 UNION ALL SELECT store FROM stores"),
                UnorderedElementsAre("a", "b", "a", "b", "c"));
    EXPECT_THAT(query("SELECT DISTINCT store FROM orders WHERE store IS NOT NULL ORDER BY store"),
                ElementsAre("a", "b", "z"));
    EXPECT_THAT(query("SELECT store FROM orders UNION SELECT store FROM stores ORDER BY 1"),
                ElementsAre("a", "b", "c", "z", "NULL"));
}

TEST_F(OperatorsTest, SubqueryInFrom) {
    EXPECT_THAT(query("SELECT t.store, t.n FROM (SELECT store, count(*) AS n FROM orders GROUP BY "
                      "store) t WHERE t.n > 1"),
                ElementsAre("a|2"));
}

TEST_F(OperatorsTest, SelectWithoutFrom) {
    EXPECT_THAT(query("SELECT 1 + 2, 'x' || 'y'"), ElementsAre("3|xy"));
}

TEST_F(OperatorsTest, TumbleWindowsInBatch) {
    add_table("events", {{"ts", DataType::kTimestamp, false}, {"v", DataType::kInt64, false}},
              {{Value::timestamp(10'000'000), Value::int64(1)},
               {Value::timestamp(70'000'000), Value::int64(2)},
               {Value::timestamp(80'000'000), Value::int64(3)}});
    EXPECT_THAT(
        query(
            "SELECT window_start, window_end, sum(v) FROM tumble(events, ts, INTERVAL '1 minute') "
            "GROUP BY window_start, window_end ORDER BY window_start"),
        ElementsAre("1970-01-01T00:00:00Z|1970-01-01T00:01:00Z|1",
                    "1970-01-01T00:01:00Z|1970-01-01T00:02:00Z|5"));
}

TEST_F(OperatorsTest, ControlSignalsTravelThroughAPlanInOrder) {
    // Filter, aggregate, project and sort forward what they are given, in order.
    testing::RowCollector sink;
    ExecContext context;
    auto planned = plan(
        "SELECT store, count(*) AS n FROM orders WHERE amount > 1 GROUP BY store ORDER BY store",
        sink, context);
    ASSERT_TRUE(planned.ok()) << planned.error().to_string();
    BatchSink& entry = *planned.value()->inputs()[0].entry;
    ASSERT_TRUE(entry.on_control(ControlSignal::watermark(5)).ok());
    ASSERT_TRUE(entry.on_control(ControlSignal::barrier(1)).ok());
    ASSERT_TRUE(entry.on_control(ControlSignal::watermark(9)).ok());
    EXPECT_THAT(sink.signals, ElementsAre(ControlSignal::watermark(5), ControlSignal::barrier(1),
                                          ControlSignal::watermark(9)));
    EXPECT_TRUE(sink.rows.empty());
}

TEST_F(OperatorsTest, UnionForwardsABarrierOnceEveryInputDeliveredIt) {
    testing::RowCollector sink;
    ExecContext context;
    auto planned = plan("SELECT id FROM orders UNION ALL SELECT id FROM orders UNION ALL SELECT 7",
                        sink, context);
    ASSERT_TRUE(planned.ok()) << planned.error().to_string();
    const auto& inputs = planned.value()->inputs();
    ASSERT_EQ(inputs.size(), 3u);
    ASSERT_TRUE(inputs[0].entry->on_control(ControlSignal::barrier(4)).ok());
    ASSERT_TRUE(inputs[1].entry->on_control(ControlSignal::watermark(3)).ok());
    ASSERT_TRUE(inputs[1].entry->on_control(ControlSignal::barrier(4)).ok());
    EXPECT_TRUE(sink.signals.empty());
    // The last input finishes instead of sending the barrier: the barrier is complete.
    ASSERT_TRUE(inputs[2].entry->push(Batch(inputs[2].schema, {}, 1)).ok());
    ASSERT_TRUE(inputs[2].entry->finish().ok());
    EXPECT_THAT(sink.signals, ElementsAre(ControlSignal::barrier(4)));
    EXPECT_THAT(sink.rows, ElementsAre("7"));
}

}  // namespace
}  // namespace millrace
