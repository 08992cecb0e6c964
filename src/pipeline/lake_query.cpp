#include "pipeline/lake_query.h"

#include <fmt/format.h>

#include "exec/plan_builder.h"
#include "lake/lake_table.h"
#include "sql/binder.h"
#include "sql/optimizer.h"
#include "sql/parser.h"

namespace millrace {

namespace {

/// Lake tables as SQL relations.
class LakeCatalog final : public sql::Catalog {
public:
    LakeCatalog(std::string data_dir, const sql::FunctionResources* resources)
        : data_dir_(std::move(data_dir)), resources_(resources) {}
    const sql::FunctionResources* function_resources() const override { return resources_; }

    Result<sql::LogicalPlan> relation(std::string_view name) override {
        std::string table(name);
        std::optional<uint64_t> snapshot;
        std::optional<uint64_t> after;
        if (auto at = table.find('@'); at != std::string::npos) {
            // table@<id> (AS OF), table@<a>..<b> (rows appended after a, up to b) or
            // table@<a>.. (up to the current snapshot).
            auto number = [](const std::string& digits) -> std::optional<uint64_t> {
                if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
                    return std::nullopt;
                }
                return std::strtoull(digits.c_str(), nullptr, 10);
            };
            const std::string spec = table.substr(at + 1);
            const std::size_t dots = spec.find("..");
            std::optional<uint64_t> first = number(spec.substr(0, dots));
            bool ok = first.has_value();
            if (dots == std::string::npos) {
                snapshot = first;
            } else {
                after = first;
                const std::string last = spec.substr(dots + 2);
                if (!last.empty()) {
                    snapshot = number(last);
                    ok = ok && snapshot.has_value();
                }
            }
            if (!ok) {
                return Error(ErrorCode::kInvalidArgument,
                             fmt::format("`{}`: a snapshot is written table@<id>, e.g. \"{}@3\"; "
                                         "the rows appended between two snapshots "
                                         "table@<from>..<to> (or table@<from>.. up to the "
                                         "current one)",
                                         name, table.substr(0, at)));
            }
            table.resize(at);
        }
        auto opened = LakeTable::open(data_dir_, table);
        if (!opened.ok()) {
            // Only a missing table is "unknown"; a table that exists but cannot be read says
            // why (a corrupt manifest names its file and the intact snapshots).
            if (opened.error().code() != ErrorCode::kNotFound) return std::move(opened).error();
            return Error(ErrorCode::kNotFound, fmt::format("unknown lake table `{}`", table));
        }
        auto scan = std::make_unique<sql::LogicalNode>();
        scan->kind = sql::LogicalNode::Kind::kScan;
        scan->source = std::string(name);
        scan->source_schema = opened->schema();
        scan->schema = opened->schema();
        for (std::size_t i = 0; i < opened->schema()->size(); ++i) scan->columns.push_back(i);
        tables_.emplace(std::string(name), Entry{std::move(opened).value(), snapshot, after});
        return scan;
    }

    std::vector<std::string> relation_names() const override {
        auto names = LakeTable::list(data_dir_);
        return names.ok() ? names.value() : std::vector<std::string>{};
    }

    struct Entry {
        LakeTable table;
        std::optional<uint64_t> snapshot;
        std::optional<uint64_t> appended_after;  // table@<a>..<b>
    };
    const Entry& entry(const std::string& name) const { return tables_.at(name); }

private:
    std::string data_dir_;
    const sql::FunctionResources* resources_;
    std::map<std::string, Entry> tables_;
};

/// `#col op constant` conjuncts of a scan's filters, for file and row-group skipping.
std::vector<ColumnPredicate> predicates_of(const sql::LogicalNode& scan) {
    std::vector<ColumnPredicate> out;
    for (const sql::BoundExpr& f : scan.filters) {
        if (f.kind != sql::BoundExpr::Kind::kCall || f.args.size() != 2) continue;
        const sql::BoundExpr& a = f.args[0];
        const sql::BoundExpr& b = f.args[1];
        if (a.kind != sql::BoundExpr::Kind::kColumn || b.kind != sql::BoundExpr::Kind::kConstant ||
            b.constant.is_null())
            continue;
        CompareOp op;
        switch (f.function) {
            case sql::Function::kEqual:
                op = CompareOp::kEq;
                break;
            case sql::Function::kLess:
                op = CompareOp::kLt;
                break;
            case sql::Function::kLessEqual:
                op = CompareOp::kLe;
                break;
            case sql::Function::kGreater:
                op = CompareOp::kGt;
                break;
            case sql::Function::kGreaterEqual:
                op = CompareOp::kGe;
                break;
            default:
                continue;
        }
        out.push_back(ColumnPredicate{scan.schema->field(a.column).name, op, b.constant});
    }
    return out;
}

/// The SQL's line:column errors name where the SQL came from: the command line.
Error in_query_text(Error error) {
    if (!error.location().file.empty() || error.location().line == 0) return error;
    SourceLocation location = error.location();
    location.file = "<query>";
    return Error(error.code(), error.message(), std::move(location));
}

}  // namespace

Status query_lake(const std::string& data_dir, const std::string& sql,
                  const std::function<Status(const Schema&)>& on_schema, BatchSink& output,
                  std::size_t memory_limit_bytes, const Clock* clock, LakeQueryStats* stats,
                  const sql::FunctionResources* resources) {
    auto stmt = sql::parse_select(sql);
    if (!stmt.ok()) return in_query_text(std::move(stmt).error());
    LakeCatalog catalog(data_dir, resources);
    auto bound = sql::bind_select(*stmt.value(), sql, catalog);
    if (!bound.ok()) return in_query_text(std::move(bound).error());
    sql::LogicalPlan plan = std::move(bound).value();
    sql::optimize(plan);
    MILLRACE_TRY(on_schema(*plan->schema));
    ExecContext context;
    context.clock = clock;
    context.memory_limit_bytes = memory_limit_bytes;
    // now() becomes a constant before the scans' filters are read for file skipping.
    fold_plan_constants(*plan, context.statement_time_micros());
    // A query has no dead-letter output: a row that fails evaluation fails the query, as in
    // PostgreSQL (an aggregate over the other rows would be a wrong answer).
    context.row_error_policy = RowErrorPolicy::kFail;
    MILLRACE_ASSIGN_OR_RETURN(auto executable, build_plan(*plan, output, context, "query"));
    // Scan nodes in the order build_plan listed the inputs, to read their pushed filters.
    std::vector<const sql::LogicalNode*> scans;
    std::function<void(const sql::LogicalNode&)> collect = [&](const sql::LogicalNode& node) {
        if (node.kind == sql::LogicalNode::Kind::kScan ||
            node.kind == sql::LogicalNode::Kind::kSingleRow) {
            scans.push_back(&node);
            return;
        }
        if (node.kind == sql::LogicalNode::Kind::kJoin) {
            collect(*node.children[1]);
            collect(*node.children[0]);
            return;
        }
        for (const auto& child : node.children) collect(*child);
    };
    collect(*plan);
    for (std::size_t i = 0; i < executable->inputs().size(); ++i) {
        const ScanInput& input = executable->inputs()[i];
        if (input.source.empty()) {
            MILLRACE_TRY(input.entry->push(Batch(input.schema, {}, 1)));
            MILLRACE_TRY(input.entry->finish());
            continue;
        }
        const auto& entry = catalog.entry(input.source);
        LakeTable::ScanOptions options;
        for (std::size_t c : input.columns)
            options.columns.push_back(entry.table.schema()->field(c).name);
        if (i < scans.size() && scans[i]->kind == sql::LogicalNode::Kind::kScan)
            options.predicates = predicates_of(*scans[i]);
        options.snapshot_id = entry.snapshot;
        options.appended_after = entry.appended_after;
        MILLRACE_ASSIGN_OR_RETURN(LakeTable::ScanStats scanned,
                                  entry.table.scan(options, [&](Batch batch) {
                                      Batch renamed(
                                          input.schema,
                                          [&] {
                                              std::vector<std::shared_ptr<const Column>> cols;
                                              for (std::size_t c = 0; c < batch.num_columns(); ++c)
                                                  cols.push_back(batch.column_ptr(c));
                                              return cols;
                                          }(),
                                          batch.num_rows());
                                      return input.entry->push(std::move(renamed));
                                  }));
        if (stats != nullptr) {
            stats->files += scanned.files;
            stats->files_skipped += scanned.files_skipped;
        }
        MILLRACE_TRY(input.entry->finish());
    }
    return {};
}

}  // namespace millrace
