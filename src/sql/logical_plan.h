#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sql/bound_expr.h"
#include "types/schema.h"

namespace millrace::sql {

/// One aggregate of an Aggregate node: function(args) [DISTINCT], output type.
struct AggregateCall {
    Aggregate function = Aggregate::kCount;
    std::vector<BoundExpr> args;  // over the Aggregate's input; approx_percentile: [value, q]
    DataType type = DataType::kInt64;
    bool distinct = false;
    std::string to_string() const;
};

struct SortKey {
    std::size_t column = 0;
    bool descending = false;
    bool nulls_first = false;
};

enum class JoinType : uint8_t { kInner, kLeft, kRight, kFull };

/// A bound, typed relational plan. Each node produces `schema`; expressions refer to column
/// indexes of the node's input (for a Join: the left columns followed by the right columns).
///
///   kScan      a pipeline source: reads `columns` (indexes into the source's schema) and keeps
///              the rows where every `filters` conjunct is true (pushed-down predicates, over
///              the scan's output)
///   kSingleRow one row of no columns (SELECT without FROM)
///   kFilter    children[0] rows where `predicate` is true
///   kProject   one output column per `exprs`
///   kAggregate output = group keys, then aggregates; no keys = one row even for no input
///   kJoin      hash join on left_keys[i] = right_keys[i] (children[0] = left, children[1] =
///              right); `predicate` (may be absent) must also hold for a pair to match
///   kUnionAll  the rows of every child (same column types)
///   kSort      children[0] sorted by `sort_keys`
///   kLimit     `offset` rows skipped, then at most `limit` rows (limit < 0: all)
struct LogicalNode {
    enum class Kind : uint8_t {
        kScan,
        kSingleRow,
        kFilter,
        kProject,
        kAggregate,
        kJoin,
        kUnionAll,
        kSort,
        kLimit,
    };
    Kind kind = Kind::kScan;
    std::shared_ptr<const Schema> schema;
    std::vector<std::unique_ptr<LogicalNode>> children;

    // kScan
    std::string source;
    std::shared_ptr<const Schema> source_schema;
    std::vector<std::size_t> columns;
    std::vector<BoundExpr> filters;
    // kFilter; kJoin residual (kind kConstant true when none)
    BoundExpr predicate;
    bool has_predicate = false;
    // kProject
    std::vector<BoundExpr> exprs;
    /// kProject made by session(): its last two columns are a row's own provisional window
    /// [time, time + gap), which a GROUP BY over them merges into sessions per key (the
    /// operator that does so is chosen by this mark). 0 for every other projection.
    int64_t session_gap_micros = 0;
    /// kProject made by dedup(): passes its input's columns on, keeping a row only when no row
    /// of the same `dedup_keys` was kept whose `dedup_time` is less than `dedup_micros` from
    /// its own (the first of the duplicates to arrive wins). 0 for every other projection.
    /// Filters are not pushed below it (that would change which rows are duplicates).
    int64_t dedup_micros = 0;
    std::vector<BoundExpr> dedup_keys;
    BoundExpr dedup_time;
    // kAggregate
    std::vector<BoundExpr> group_keys;
    std::vector<AggregateCall> aggregates;
    // kJoin
    JoinType join_type = JoinType::kInner;
    std::vector<BoundExpr> left_keys, right_keys;
    // kSort
    std::vector<SortKey> sort_keys;
    // kLimit
    int64_t limit = -1;
    int64_t offset = 0;

    std::unique_ptr<LogicalNode> clone() const;
    /// The plan as an indented tree, one node per line (EXPLAIN).
    std::string to_string(int indent = 0) const;
};

using LogicalPlan = std::unique_ptr<LogicalNode>;

}  // namespace millrace::sql
