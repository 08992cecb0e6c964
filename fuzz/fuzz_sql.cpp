// Fuzzes the SQL path end to end: parse (libpg_query → our AST), bind against a fixed catalog,
// optimize, build operators and run them over two tiny tables. Any SQL text must end in a
// result or an Error, never a crash, a failed check or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "exec/plan_builder.h"
#include "sql/binder.h"
#include "sql/optimizer.h"
#include "sql/parser.h"
#include "types/batch.h"
#include "types/value.h"

namespace {

using namespace millrace;

class Catalog final : public sql::Catalog {
public:
    Catalog() {
        auto orders =
            std::make_shared<const Schema>(std::vector<Field>{{"id", DataType::kInt64, false},
                                                              {"store", DataType::kString, true},
                                                              {"amount", DataType::kFloat64, true},
                                                              {"ts", DataType::kTimestamp, true},
                                                              {"qty", DataType::kInt32, true},
                                                              {"ok", DataType::kBool, true},
                                                              {"day", DataType::kDate, true}});
        BatchBuilder b(orders);
        for (int i = 0; i < 4; ++i) {
            b.column(0).append_int64(i == 3 ? INT64_MAX : i);
            if (i == 2)
                b.column(1).append_null();
            else
                b.column(1).append_string(i == 1 ? "b" : "a");
            if (i == 1)
                b.column(2).append_null();
            else
                b.column(2).append_double(i * 2.5 - 1);
            b.column(3).append_timestamp(int64_t{i} * 3600000000LL);
            if (i == 0)
                b.column(4).append_null();
            else
                b.column(4).append_int32(i == 3 ? INT32_MAX : i);
            b.column(5).append_bool(i % 2 == 0);
            b.column(6).append_date(i * 40);
            b.commit_row();
        }
        tables_["orders"] = {orders, b.finish()};
        auto stores = std::make_shared<const Schema>(std::vector<Field>{
            {"store", DataType::kString, false}, {"city", DataType::kString, true}});
        BatchBuilder s(stores);
        s.column(0).append_string("a");
        s.column(1).append_string("Paris");
        s.commit_row();
        s.column(0).append_string("c");
        s.column(1).append_null();
        s.commit_row();
        tables_["stores"] = {stores, s.finish()};
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
    std::vector<std::string> relation_names() const override { return {"orders", "stores"}; }
    const Batch& table(const std::string& name) { return tables_[name].second; }

private:
    std::map<std::string, std::pair<std::shared_ptr<const Schema>, Batch>> tables_;
};

class Discard final : public BatchSink {
public:
    Status push(Batch batch) override {
        rows += batch.num_rows();
        return {};
    }
    Status finish() override { return {}; }
    std::size_t rows = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size > 4096) return 0;
    static Catalog* catalog = new Catalog();
    std::string sql(reinterpret_cast<const char*>(data), size);
    auto stmt = sql::parse_select(sql);
    if (!stmt.ok()) return 0;
    auto plan = sql::bind_select(**stmt, sql, *catalog);
    if (!plan.ok()) return 0;
    sql::optimize(*plan);
    (void)(*plan)->to_string();
    Discard sink;
    ExecContext context;
    context.memory_limit_bytes = std::size_t{64} << 20;
    auto executable = build_plan(**plan, sink, context, "fuzz");
    if (!executable.ok()) return 0;
    std::vector<std::vector<Batch>> inputs;
    std::size_t scans = 0;
    for (const ScanInput& input : (*executable)->inputs()) {
        inputs.push_back(input.source.empty() ? std::vector<Batch>{}
                                              : std::vector<Batch>{catalog->table(input.source)});
        ++scans;
    }
    if (scans > 6) return 0;  // cross joins of many scans grow without bound
    (void)(*executable)->run_with(inputs);
    return 0;
}
