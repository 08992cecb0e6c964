#pragma once

#include "sql/logical_plan.h"

namespace millrace::sql {

/// Rewrites a bound plan in place, keeping its results:
/// - predicate push-down: WHERE conjuncts move through projections (where they read plain
///   columns), sorts, unions and to the matching side of joins (never to the null-extended side
///   of an outer join), down into the scans' filters, so readers can skip data early;
/// - projection push-down: every scan reads only the columns something above it uses.
/// Constant folding happens when the plan is built into operators (exec/plan_builder.h).
void optimize(LogicalPlan& plan);

}  // namespace millrace::sql
