#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/ast.h"
#include "sql/function_resources.h"
#include "sql/logical_plan.h"

namespace millrace::sql {

/// What names a query may read: a pipeline's sources and views. The binder asks for a relation
/// by name and gets its plan (a scan for a source, the bound plan of a view, which may itself
/// read views); the catalog detects cycles between views.
class Catalog {
public:
    virtual ~Catalog() = default;
    /// The plan of relation `name`; kNotFound when there is none.
    virtual Result<LogicalPlan> relation(std::string_view name) = 0;
    /// Every name `relation` accepts (for "did you mean" hints).
    virtual std::vector<std::string> relation_names() const = 0;
    /// What functions reading outside data (ip_country()) may use; null: none configured.
    virtual const FunctionResources* function_resources() const { return nullptr; }
};

/// Binds a parsed SELECT against a catalog: resolves names (qualified, aliased, `*`), types
/// every expression with PostgreSQL's implicit casts (untyped string literals take the type of
/// what they meet; integers widen to int64 and float64), checks aggregates and GROUP BY, and
/// builds the logical plan. Errors point at the offending token (line:column in `sql`) and
/// suggest the nearest column or function name.
Result<LogicalPlan> bind_select(const SelectStmt& stmt, std::string_view sql, Catalog& catalog);

/// Binds a standalone boolean expression over `schema` (checks' `expect:`); the result is an
/// expression over the schema's columns.
Result<BoundExpr> bind_predicate(const AstExpr& expr, std::string_view sql, const Schema& schema);

}  // namespace millrace::sql
