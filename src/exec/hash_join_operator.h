#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace millrace {

/// Hash join: the right input is the build side (materialized and hashed on its keys), the left
/// input probes it. Input arrives through two ports: build() receives the right side and must
/// finish before the probe side's rows are joined (probe batches that arrive earlier wait).
/// Null keys never match. LEFT/FULL emit unmatched probe rows with nulls; RIGHT/FULL emit
/// unmatched build rows at the end. The output streams: at most kOutputBatchRows rows per
/// batch, pushed downstream as the probe walks its matches, so a join whose product is much
/// larger than its inputs (a cross join) never holds that product. The build side, and probe
/// rows that arrive before it is complete, count against ExecContext's memory limit: beyond it
/// the join fails with kResourceExhausted naming itself and the limit (never an OOM kill).
///
/// Control signals: a watermark goes downstream as the minimum of both inputs' latest ones; a
/// checkpoint barrier once it has arrived on both inputs (aligned: batches, signals and the end
/// of an input that arrive behind a barrier wait until the other input's barrier comes, so the
/// state saved at the barrier holds exactly the rows before it). A finished input counts as
/// having delivered every later barrier and holds no watermark back.
///
/// Reloading the build side (a streaming lookup join whose file changed, `reload: true`): rows
/// pushed into the build port after it finished start a new build side, collected beside the
/// current one, which goes on answering probes; when the build port finishes again the new rows
/// replace it in one step, between two probe batches. Rows already joined are not emitted again.
///
/// State (serialize_state): the build side, which build rows matched, and probe rows waiting
/// for the build side.
///
/// Output columns: the left columns, then the right columns.
class HashJoinOperator final : public Operator {
public:
    HashJoinOperator(sql::JoinType type, std::vector<sql::BoundExpr> left_keys,
                     std::vector<sql::BoundExpr> right_keys, std::optional<sql::BoundExpr> residual,
                     std::shared_ptr<const Schema> left_schema,
                     std::shared_ptr<const Schema> right_schema,
                     std::shared_ptr<const Schema> schema, ExecContext& context,
                     std::string origin);
    ~HashJoinOperator() override;

    /// The probe (left) port.
    Status push(Batch batch) override;
    Status finish() override;
    Status on_control(const ControlSignal& signal) override;
    /// The build (right) port.
    BatchSink& build_side();
    /// Times the build side was replaced after it was first built.
    uint64_t build_reloads() const;

    Result<std::string> serialize_state() const override;
    Status restore_state(std::string_view bytes) override;

private:
    struct State;
    class BuildPort;
    /// Input ports; the build side is port 0 so that, after a barrier, its held rows are
    /// delivered before the probe rows that may need them.
    static constexpr std::size_t kBuild = 0;
    static constexpr std::size_t kProbe = 1;
    Status build_push(Batch batch);
    Status build_finish();
    Status probe_push(Batch batch);
    Status probe_finish();
    /// Hashes the build side's keys; dead-letters the rows whose key fails when `report_errors`.
    Status index_build(bool report_errors);
    Status probe(const Batch& batch);
    /// Emits the pending (probe row, build row) pairs of `batch` that pass the residual.
    Status emit_pairs(const Batch& batch, std::vector<uint8_t>& left_matched);
    std::unique_ptr<State> state_;
};

}  // namespace millrace
