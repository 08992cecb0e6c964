#include "pipeline/state_plan.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace millrace {
namespace {

using sql::LogicalNode;

/// SELECT <key>, count(*) FROM tx GROUP BY <key> [WHERE amount > <threshold>], with a projection
/// above it adding `extra` columns (a sink column).
std::unique_ptr<LogicalNode> aggregate_plan(DataType key_type, int threshold, int extra) {
    auto source = std::make_shared<const Schema>(
        std::vector<Field>{{"account", key_type, false}, {"amount", DataType::kFloat64, false}});
    auto scan = std::make_unique<LogicalNode>();
    scan->kind = LogicalNode::Kind::kScan;
    scan->source = "tx";
    scan->source_schema = source;
    scan->columns = {0, 1};
    scan->schema = source;
    if (threshold > 0) {
        scan->filters.push_back(
            sql::BoundExpr::constant_of(Value::int64(threshold), DataType::kInt64));
    }
    auto aggregate = std::make_unique<LogicalNode>();
    aggregate->kind = LogicalNode::Kind::kAggregate;
    aggregate->group_keys.push_back(sql::BoundExpr::column_ref(0, key_type, "account"));
    sql::AggregateCall count;
    count.function = sql::Aggregate::kCount;
    count.type = DataType::kInt64;
    aggregate->aggregates.push_back(count);
    aggregate->schema = std::make_shared<const Schema>(
        std::vector<Field>{{"account", key_type, false}, {"n", DataType::kInt64, false}});
    aggregate->children.push_back(std::move(scan));
    auto project = std::make_unique<LogicalNode>();
    project->kind = LogicalNode::Kind::kProject;
    std::vector<Field> fields = aggregate->schema->fields();
    project->exprs.push_back(sql::BoundExpr::column_ref(0, key_type, "account"));
    project->exprs.push_back(sql::BoundExpr::column_ref(1, DataType::kInt64, "n"));
    for (int i = 0; i < extra; ++i) {
        project->exprs.push_back(sql::BoundExpr::column_ref(1, DataType::kInt64, "n"));
        fields.push_back(Field{"extra" + std::to_string(i), DataType::kInt64, false});
    }
    project->schema = std::make_shared<const Schema>(std::move(fields));
    project->children.push_back(std::move(aggregate));
    return project;
}

class StatePlanTest : public ::testing::Test {
protected:
    StatePlanTest() {
        pipeline_.name = "live";
        SourceSpec source;
        source.name = "tx";
        source.kind = SourceKind::kTopic;
        pipeline_.sources.push_back(source);
        ViewSpec view;
        view.name = "totals";
        pipeline_.views.push_back(view);
        sink_.kind = SinkKind::kTopic;
        sink_.from = "totals";
        sink_.topic = "totals_out";
        sink_.key = {"account"};
    }

    SinkStateShape shape(DataType key_type, int threshold, int extra) const {
        return sink_state_shape(*aggregate_plan(key_type, threshold, extra), sink_);
    }

    /// A checkpoint holding the state of `saved`.
    static CheckpointMetadata checkpoint(const std::vector<SinkStateShape>& saved) {
        CheckpointMetadata metadata;
        metadata.id = 7;
        for (std::size_t i = 0; i < saved.size(); ++i)
            metadata.states.push_back({saved[i].identity, "sink-" + std::to_string(i) + ".state"});
        return metadata;
    }

    PipelineSpec pipeline_;
    SinkSpec sink_;
};

TEST_F(StatePlanTest, IdentityNamesTheViewAndTargetAndFingerprintsThePlan) {
    const SinkStateShape s = shape(DataType::kString, 0, 0);
    EXPECT_EQ(s.name, "totals->topic totals_out");
    EXPECT_EQ(s.identity.rfind("totals->topic totals_out@", 0), 0u) << s.identity;
    EXPECT_TRUE(s.upserting);
    EXPECT_TRUE(s.stateful());
    EXPECT_NE(s.layout.find("upserting aggregate keys (account string) values (count() int64)"),
              std::string::npos)
        << s.layout;
}

TEST_F(StatePlanTest, UnchangedPlanKeepsItsState) {
    const SinkStateShape s = shape(DataType::kString, 0, 0);
    const CheckpointMetadata saved = checkpoint({s});
    const StatePlan plan = plan_state(pipeline_, {s}, &saved, "/nowhere");
    ASSERT_EQ(plan.decisions.size(), 1u);
    EXPECT_EQ(plan.decisions[0].fate, StateFate::kKept);
    EXPECT_EQ(plan.decisions[0].saved_file, "sink-0.state");
    EXPECT_FALSE(plan.drops_state());
}

TEST_F(StatePlanTest, ColumnAddedAboveTheStateKeepsIt) {
    const CheckpointMetadata saved = checkpoint({shape(DataType::kString, 0, 0)});
    const SinkStateShape wider = shape(DataType::kString, 0, 2);
    const StatePlan plan = plan_state(pipeline_, {wider}, &saved, "/nowhere");
    EXPECT_EQ(plan.decisions[0].fate, StateFate::kKept);
    EXPECT_FALSE(plan.drops_state());
}

TEST_F(StatePlanTest, FilterBelowTheStateIsSqlChanged) {
    const CheckpointMetadata saved = checkpoint({shape(DataType::kString, 0, 0)});
    const StatePlan plan = plan_state(pipeline_, {shape(DataType::kString, 10, 0)}, &saved, "/x");
    EXPECT_EQ(plan.decisions[0].fate, StateFate::kDropped);
    EXPECT_EQ(plan.decisions[0].reason, DropReason::kSqlChanged);
    EXPECT_TRUE(plan.drops_state());
    EXPECT_NE(plan.refusal().find("sql_changed"), std::string::npos);
    EXPECT_NE(plan.refusal().find("--allow-state-drop"), std::string::npos);
}

TEST_F(StatePlanTest, KeyOfAnotherTypeIsLayoutChanged) {
    const CheckpointMetadata saved = checkpoint({shape(DataType::kString, 0, 0)});
    const StatePlan plan = plan_state(pipeline_, {shape(DataType::kInt64, 0, 0)}, &saved, "/x");
    EXPECT_EQ(plan.decisions[0].fate, StateFate::kDropped);
    EXPECT_EQ(plan.decisions[0].reason, DropReason::kLayoutChanged);
    EXPECT_NE(plan.decisions[0].explanation.find("account int64"), std::string::npos);
}

TEST_F(StatePlanTest, RemovedSinkAndRemovedView) {
    const CheckpointMetadata saved = checkpoint({shape(DataType::kString, 0, 0)});
    StatePlan plan = plan_state(pipeline_, {}, &saved, "/x");
    ASSERT_EQ(plan.decisions.size(), 1u);
    EXPECT_EQ(plan.decisions[0].reason, DropReason::kSinkRemoved);
    pipeline_.views.clear();
    plan = plan_state(pipeline_, {}, &saved, "/x");
    EXPECT_EQ(plan.decisions[0].reason, DropReason::kViewRemoved);
    EXPECT_EQ(plan.decisions[0].view, "totals");
}

TEST_F(StatePlanTest, NewSinkStartsEmptyWithoutRefusal) {
    const CheckpointMetadata saved = checkpoint({});
    const StatePlan plan = plan_state(pipeline_, {shape(DataType::kString, 0, 0)}, &saved, "/x");
    EXPECT_EQ(plan.decisions[0].fate, StateFate::kNew);
    EXPECT_FALSE(plan.drops_state());
    const StatePlan nothing = plan_state(pipeline_, {shape(DataType::kString, 0, 0)}, nullptr, "");
    EXPECT_EQ(nothing.decisions[0].fate, StateFate::kNew);
    EXPECT_FALSE(nothing.checkpoint.has_value());
}

TEST_F(StatePlanTest, IdentityWithoutFingerprintsIsRestoredAsBefore) {
    CheckpointMetadata saved;
    saved.id = 3;
    saved.states.push_back({"totals->topic totals_out", "sink-0.state"});
    const StatePlan plan = plan_state(pipeline_, {shape(DataType::kString, 0, 0)}, &saved, "/x");
    EXPECT_EQ(plan.decisions[0].fate, StateFate::kKept);
}

TEST_F(StatePlanTest, JsonSaysWhetherItIsCompatible) {
    const CheckpointMetadata saved = checkpoint({shape(DataType::kString, 0, 0)});
    const StatePlan plan = plan_state(pipeline_, {shape(DataType::kString, 10, 0)}, &saved, "/x");
    const std::string json = plan.to_json(false);
    EXPECT_NE(json.find("\"compatible\":false"), std::string::npos) << json;
    EXPECT_NE(json.find("\"reason\":\"sql_changed\""), std::string::npos) << json;
}

}  // namespace
}  // namespace millrace
