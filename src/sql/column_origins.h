#pragma once

#include <string>
#include <vector>

#include "sql/logical_plan.h"

namespace millrace::sql {

/// How an output column derives from a source column (OpenLineage's column lineage subtypes).
enum class ColumnDerivation : uint8_t {
    kIdentity,        // the value passes through unchanged
    kTransformation,  // computed from it row by row (arithmetic, functions, casts)
    kAggregation,     // an aggregate over it (count, sum, ...) or a group key's value
};

/// One source column an output column is computed from.
struct ColumnOrigin {
    std::string source;  // the pipeline source the plan's scan reads
    std::string column;  // its column
    ColumnDerivation derivation = ColumnDerivation::kIdentity;
    bool operator==(const ColumnOrigin&) const = default;
};

/// For each output column of `plan` (a bound plan whose views are inlined down to its scans),
/// the source columns whose values it is computed from, each once, in the order first met:
/// direct lineage only (columns that only filter, join or sort rows are not listed). A column
/// computed from constants alone (count(*), a literal) has none.
std::vector<std::vector<ColumnOrigin>> column_origins(const LogicalNode& plan);

}  // namespace millrace::sql
