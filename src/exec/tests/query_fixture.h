#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/operator.h"
#include "exec/plan_builder.h"
#include "sql/binder.h"
#include "sql/optimizer.h"
#include "sql/parser.h"
#include "types/batch.h"
#include "types/value.h"

namespace millrace::testing {

/// Collects a plan's output rows as text ("a|1|NULL").
class RowCollector final : public BatchSink {
public:
    Status push(Batch batch) override {
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            std::string row;
            for (std::size_t c = 0; c < batch.num_columns(); ++c) {
                if (c > 0) row += "|";
                row += batch.value_at(r, c).to_string();
            }
            rows.push_back(std::move(row));
        }
        return {};
    }
    Status finish() override {
        ++finished;
        return {};
    }
    Status on_control(const ControlSignal& signal) override {
        signals.push_back(signal);
        return {};
    }
    std::vector<std::string> rows;
    std::vector<ControlSignal> signals;
    int finished = 0;
};

/// In-memory tables and a one-call query runner for operator and evaluator tests.
class QueryFixture : public sql::Catalog {
public:
    void add_table(const std::string& name, std::vector<Field> fields,
                   const std::vector<std::vector<Value>>& rows) {
        auto schema = std::make_shared<const Schema>(std::move(fields));
        BatchBuilder builder(schema);
        for (const auto& row : rows) {
            for (std::size_t c = 0; c < row.size(); ++c) {
                if (row[c].is_null()) {
                    builder.column(c).append_null();
                } else {
                    builder.column(c).append_value(row[c]);
                }
            }
            builder.commit_row();
        }
        tables_[name] = {schema, builder.finish()};
    }

    Result<sql::LogicalPlan> relation(std::string_view name) override {
        auto it = tables_.find(std::string(name));
        if (it == tables_.end()) return Error(ErrorCode::kNotFound, "unknown");
        auto scan = std::make_unique<sql::LogicalNode>();
        scan->kind = sql::LogicalNode::Kind::kScan;
        scan->source = std::string(name);
        scan->source_schema = it->second.first;
        scan->schema = it->second.first;
        for (std::size_t i = 0; i < it->second.first->size(); ++i) scan->columns.push_back(i);
        return scan;
    }
    std::vector<std::string> relation_names() const override {
        std::vector<std::string> names;
        for (const auto& [name, table] : tables_) names.push_back(name);
        return names;
    }

    /// Runs `sql` into `sink` with `context` (its limits and row-error policy as given).
    Status run(const std::string& sql, BatchSink& sink, ExecContext& context) {
        MILLRACE_ASSIGN_OR_RETURN(auto stmt, sql::parse_select(sql));
        MILLRACE_ASSIGN_OR_RETURN(sql::LogicalPlan plan, sql::bind_select(*stmt, sql, *this));
        sql::optimize(plan);
        MILLRACE_ASSIGN_OR_RETURN(auto executable, build_plan(*plan, sink, context, "test"));
        std::vector<std::vector<Batch>> inputs;
        for (const ScanInput& input : executable->inputs()) {
            if (input.source.empty()) {
                inputs.push_back({});
            } else {
                inputs.push_back({tables_[input.source].second});
            }
        }
        return executable->run_with(inputs);
    }

    /// The rows of table `name`, in one batch.
    const Batch& table(const std::string& name) { return tables_[name].second; }

    /// Builds the plan of `sql` pushing into `sink`.
    Result<std::unique_ptr<ExecutablePlan>> plan(const std::string& sql, BatchSink& sink,
                                                 ExecContext& context) {
        MILLRACE_ASSIGN_OR_RETURN(auto stmt, sql::parse_select(sql));
        MILLRACE_ASSIGN_OR_RETURN(sql::LogicalPlan plan, sql::bind_select(*stmt, sql, *this));
        sql::optimize(plan);
        return build_plan(*plan, sink, context, "test");
    }

    /// Runs `sql` over its tables cut into batches of `batch_rows` rows, interrupted: the run's
    /// steps (each input's batches, then its finish(), inputs in the plan's order) stop after
    /// `cut` steps, the plan's state is saved and the plan destroyed; a new plan restores the
    /// state and takes the remaining steps. Rows of both plans go to one collector, as they
    /// would reach a sink across a restart. Rows as text, or "ERROR: message".
    std::vector<std::string> query_resumed(const std::string& sql, std::size_t batch_rows,
                                           std::size_t cut) {
        RowCollector collector;
        std::vector<std::function<Status(ExecutablePlan&)>> steps;
        {
            ExecContext context;
            auto planned = plan(sql, collector, context);
            if (!planned.ok()) return {"ERROR: " + planned.error().message()};
            for (std::size_t i = 0; i < planned.value()->inputs().size(); ++i) {
                const ScanInput input = planned.value()->inputs()[i];
                std::vector<Batch> batches;
                if (input.source.empty()) {
                    batches.push_back(Batch(input.schema, {}, 1));
                } else {
                    const Batch& all = tables_[input.source].second;
                    for (std::size_t start = 0; start < all.num_rows(); start += batch_rows) {
                        std::vector<uint32_t> rows;
                        for (std::size_t r = start;
                             r < std::min(all.num_rows(), start + batch_rows); ++r)
                            rows.push_back(static_cast<uint32_t>(r));
                        batches.push_back(all.take(rows).project(input.columns));
                    }
                }
                for (Batch& b : batches) {
                    steps.push_back(
                        [i, b](ExecutablePlan& p) { return p.inputs()[i].entry->push(b); });
                }
                steps.push_back([i](ExecutablePlan& p) { return p.inputs()[i].entry->finish(); });
            }
        }
        std::vector<std::string> states;
        {
            ExecContext context;
            auto first = plan(sql, collector, context);
            if (!first.ok()) return {"ERROR: " + first.error().message()};
            for (std::size_t s = 0; s < std::min(cut, steps.size()); ++s) {
                Status status = steps[s](*first.value());
                if (!status.ok()) return {"ERROR: " + status.error().message()};
            }
            auto saved = first.value()->serialize_state();
            if (!saved.ok()) return {"ERROR: " + saved.error().message()};
            states = std::move(saved).value();
        }
        ExecContext context;
        auto second = plan(sql, collector, context);
        if (!second.ok()) return {"ERROR: " + second.error().message()};
        Status restored = second.value()->restore_state(states);
        if (!restored.ok()) return {"ERROR: " + restored.error().message()};
        for (std::size_t s = cut; s < steps.size(); ++s) {
            Status status = steps[s](*second.value());
            if (!status.ok()) return {"ERROR: " + status.error().message()};
        }
        return collector.rows;
    }

    /// The number of steps query_resumed() cuts (every batch and finish of every input).
    std::size_t steps_of(const std::string& sql, std::size_t batch_rows) {
        RowCollector collector;
        ExecContext context;
        auto planned = plan(sql, collector, context);
        if (!planned.ok()) return 0;
        std::size_t steps = 0;
        for (const ScanInput& input : planned.value()->inputs()) {
            const std::size_t rows =
                input.source.empty() ? 1 : tables_[input.source].second.num_rows();
            steps += (rows + batch_rows - 1) / batch_rows + 1;
        }
        return steps;
    }

    /// Runs `sql`; rows as text, or "ERROR: message" (its code in `last_error`).
    /// Dead letters go to `dead_letters`.
    std::vector<std::string> query(const std::string& sql) {
        RowCollector collector;
        ExecContext context;
        context.clock = clock;
        context.memory_limit_bytes = memory_limit;
        context.row_error_policy = row_error_policy;
        context.dead_letter = [this](DeadLetterRow row) { dead_letters.push_back(row.reason); };
        Status status = run(sql, collector, context);
        last_error.reset();
        if (!status.ok()) {
            last_error = status.error().code();
            return {"ERROR: " + status.error().message()};
        }
        return collector.rows;
    }

    std::vector<std::string> dead_letters;
    const Clock* clock = nullptr;
    std::size_t memory_limit = std::size_t{1} << 30;
    RowErrorPolicy row_error_policy = RowErrorPolicy::kDeadLetter;
    std::optional<ErrorCode> last_error;

private:
    std::map<std::string, std::pair<std::shared_ptr<const Schema>, Batch>> tables_;
};

/// Cuts a streaming plan's input after a few steps (the first, a third, the last but one),
/// saves its state, restores it into a fresh plan, feeds the rest, and expects the rows of an
/// uninterrupted run; returns those rows. `fixture` provides `streaming_plan(sql, sink,
/// context)`, `feed(plan, from_step, to_step)` and `steps()`, as the streaming operators' test
/// fixtures do.
template <typename Fixture>
std::vector<std::string> expect_state_round_trip(Fixture& fixture, const std::string& sql) {
    std::vector<std::string> uninterrupted;
    {
        RowCollector rows;
        ExecContext context;
        auto plan = fixture.streaming_plan(sql, rows, context);
        EXPECT_TRUE(plan.ok()) << sql;
        if (!plan.ok()) return {};
        EXPECT_TRUE(fixture.feed(**plan, 0, fixture.steps()).ok());
        uninterrupted = rows.rows;
    }
    const std::size_t steps = fixture.steps();
    for (std::size_t cut : {std::size_t{1}, steps / 3, steps - 1}) {
        RowCollector rows;  // one sink across the restart
        std::vector<std::string> saved;
        {
            ExecContext context;
            auto plan = fixture.streaming_plan(sql, rows, context);
            EXPECT_TRUE(plan.ok()) << sql;
            if (!plan.ok()) return {};
            EXPECT_TRUE(fixture.feed(**plan, 0, cut).ok());
            auto state = (*plan)->serialize_state();
            EXPECT_TRUE(state.ok());
            if (!state.ok()) return {};
            saved = std::move(state).value();
        }
        ExecContext context;
        auto plan = fixture.streaming_plan(sql, rows, context);
        EXPECT_TRUE(plan.ok()) << sql;
        if (!plan.ok()) return {};
        EXPECT_TRUE((*plan)->restore_state(saved).ok());
        EXPECT_TRUE(fixture.feed(**plan, cut, steps).ok());
        EXPECT_EQ(rows.rows, uninterrupted) << sql << " cut after step " << cut;
    }
    return uninterrupted;
}

/// Incremental checkpoints: a plan saved whole, then its changes saved twice as the input
/// goes on, is restored from those (the whole state with both changes laid over it) into a
/// new plan that holds exactly the state of the first and, given the rest of the input,
/// emits what an uninterrupted run does. Cuts with no input between two saves included.
template <typename Fixture>
void expect_incremental_round_trip(Fixture& fixture, const std::string& sql) {
    std::vector<std::string> uninterrupted;
    {
        RowCollector rows;
        ExecContext context;
        auto plan = fixture.streaming_plan(sql, rows, context);
        ASSERT_TRUE(plan.ok()) << sql;
        ASSERT_TRUE(fixture.feed(**plan, 0, fixture.steps()).ok());
        uninterrupted = rows.rows;
    }
    const std::size_t steps = fixture.steps();
    const std::vector<std::array<std::size_t, 3>> cuts = {
        {1, steps / 3, 2 * steps / 3}, {steps / 3, steps / 3, steps - 1}, {0, 1, 2}};
    for (const auto& cut : cuts) {
        RowCollector rows;  // one sink across the restart
        std::vector<std::string> whole;
        std::vector<ExecutablePlan::StateChanges> changes;
        std::vector<std::string> live_state;
        {
            ExecContext context;
            auto plan = fixture.streaming_plan(sql, rows, context);
            ASSERT_TRUE(plan.ok()) << sql;
            ASSERT_TRUE(fixture.feed(**plan, 0, cut[0]).ok());
            auto state = (*plan)->serialize_state();
            ASSERT_TRUE(state.ok());
            whole = std::move(state).value();
            (*plan)->mark_state_saved();
            for (std::size_t i = 1; i < cut.size(); ++i) {
                ASSERT_TRUE(fixture.feed(**plan, cut[i - 1], cut[i]).ok());
                auto delta = (*plan)->serialize_state_changes();
                ASSERT_TRUE(delta.ok()) << delta.error().message();
                EXPECT_TRUE(std::any_of(delta->changes.begin(), delta->changes.end(),
                                        [](uint8_t flag) { return flag != 0; }))
                    << sql << ": no operator wrote changes";
                changes.push_back(std::move(delta).value());
            }
            auto state_now = (*plan)->serialize_state();
            ASSERT_TRUE(state_now.ok());
            live_state = std::move(state_now).value();
        }
        ExecContext context;
        auto plan = fixture.streaming_plan(sql, rows, context);
        ASSERT_TRUE(plan.ok()) << sql;
        ASSERT_TRUE((*plan)->restore_state(whole).ok());
        for (const auto& delta : changes) {
            Status applied = (*plan)->apply_state_changes(delta);
            ASSERT_TRUE(applied.ok()) << applied.error().message();
        }
        auto restored_state = (*plan)->serialize_state();
        ASSERT_TRUE(restored_state.ok());
        EXPECT_EQ(*restored_state, live_state) << sql << " cuts " << cut[0] << "/" << cut[2];
        ASSERT_TRUE(fixture.feed(**plan, cut.back(), steps).ok());
        EXPECT_EQ(rows.rows, uninterrupted) << sql << " cuts " << cut[0] << "/" << cut[2];
    }
}

}  // namespace millrace::testing
