#pragma once

#include <string>

#include "common/result.h"
#include "lake/lake_table.h"

namespace millrace {

/// `millrace lake delete <table> --where "<SQL>"`: deletes the rows of a lake table for which
/// the boolean SQL expression `where` (over the table's columns, PostgreSQL semantics: a null
/// result keeps the row) is true, as Iceberg position delete files in one snapshot
/// (LakeTable::delete_rows). Errors in the expression carry the file name `<where>` and its
/// line:column; a row the expression fails on (a bad cast, division by zero) fails the delete
/// before anything is committed.
Result<LakeTable::DeleteResult> delete_lake_rows(const LakeTable& table, const std::string& where);

}  // namespace millrace
