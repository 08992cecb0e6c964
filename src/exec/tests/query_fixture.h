#pragma once

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
    std::vector<std::string> rows;
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

    /// Runs `sql`; rows as text, or "ERROR: message" (its code in `last_error`).
    /// Dead letters go to `dead_letters`.
    std::vector<std::string> query(const std::string& sql) {
        RowCollector collector;
        ExecContext context;
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
    std::size_t memory_limit = std::size_t{1} << 30;
    RowErrorPolicy row_error_policy = RowErrorPolicy::kDeadLetter;
    std::optional<ErrorCode> last_error;

private:
    std::map<std::string, std::pair<std::shared_ptr<const Schema>, Batch>> tables_;
};

}  // namespace millrace::testing
