#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "sql/ast.h"

namespace millrace::sql {

/// Parses one SELECT statement (PostgreSQL syntax, by libpg_query) into our AST. Errors carry
/// the 1-based line and column of the offending token inside `sql` (no file: the caller maps
/// them into the file the SQL came from). Anything but a single SELECT is an error naming what
/// was found.
Result<std::unique_ptr<SelectStmt>> parse_select(std::string_view sql);

/// Parses a standalone expression (a check's `expect:`, a partition expression).
Result<AstExprPtr> parse_expression(std::string_view sql);

/// The 1-based line and column of byte `offset` in `text`.
SourceLocation location_in_text(std::string_view text, int offset);

}  // namespace millrace::sql
