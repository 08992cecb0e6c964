#include "sql/column_origins.h"

#include <algorithm>

namespace millrace::sql {

namespace {

using Origins = std::vector<std::vector<ColumnOrigin>>;

// The stronger of two derivations: an aggregate of a computed value is an aggregation.
ColumnDerivation stronger(ColumnDerivation a, ColumnDerivation b) { return std::max(a, b); }

void add(std::vector<ColumnOrigin>& into, ColumnOrigin origin) {
    for (ColumnOrigin& have : into) {
        if (have.source == origin.source && have.column == origin.column) {
            have.derivation = stronger(have.derivation, origin.derivation);
            return;
        }
    }
    into.push_back(std::move(origin));
}

// The origins of an expression over an input whose columns have `input` origins: a bare
// column keeps its input's derivation; anything computed is at least a transformation.
void expression_origins(const BoundExpr& expr, const Origins& input, ColumnDerivation at_least,
                        std::vector<ColumnOrigin>& into) {
    if (expr.kind == BoundExpr::Kind::kColumn) {
        if (expr.column >= input.size()) return;
        for (ColumnOrigin origin : input[expr.column]) {
            origin.derivation = stronger(origin.derivation, at_least);
            add(into, std::move(origin));
        }
        return;
    }
    for (const BoundExpr& arg : expr.args) {
        expression_origins(arg, input, stronger(at_least, ColumnDerivation::kTransformation), into);
    }
}

Origins walk(const LogicalNode& node) {
    using Kind = LogicalNode::Kind;
    switch (node.kind) {
        case Kind::kScan: {
            Origins out;
            for (std::size_t column : node.columns) {
                out.push_back({ColumnOrigin{node.source, node.source_schema->field(column).name,
                                            ColumnDerivation::kIdentity}});
            }
            return out;
        }
        case Kind::kSingleRow:
            return {};
        case Kind::kFilter:
        case Kind::kSort:
        case Kind::kLimit:
            return walk(*node.children[0]);
        case Kind::kProject: {
            const Origins input = walk(*node.children[0]);
            Origins out(node.exprs.size());
            for (std::size_t i = 0; i < node.exprs.size(); ++i) {
                expression_origins(node.exprs[i], input, ColumnDerivation::kIdentity, out[i]);
            }
            return out;
        }
        case Kind::kAggregate: {
            const Origins input = walk(*node.children[0]);
            Origins out(node.group_keys.size() + node.aggregates.size());
            for (std::size_t i = 0; i < node.group_keys.size(); ++i) {
                expression_origins(node.group_keys[i], input, ColumnDerivation::kIdentity, out[i]);
            }
            for (std::size_t a = 0; a < node.aggregates.size(); ++a) {
                for (const BoundExpr& arg : node.aggregates[a].args) {
                    if (arg.kind == BoundExpr::Kind::kConstant) continue;  // a percentile's q
                    expression_origins(arg, input, ColumnDerivation::kAggregation,
                                       out[node.group_keys.size() + a]);
                }
            }
            return out;
        }
        case Kind::kJoin: {
            Origins out = walk(*node.children[0]);
            Origins right = walk(*node.children[1]);
            for (auto& column : right) out.push_back(std::move(column));
            return out;
        }
        case Kind::kUnionAll: {
            Origins out(node.schema->size());
            for (const auto& child : node.children) {
                const Origins origins = walk(*child);
                for (std::size_t i = 0; i < out.size() && i < origins.size(); ++i) {
                    for (const ColumnOrigin& origin : origins[i]) add(out[i], origin);
                }
            }
            return out;
        }
    }
    return {};
}

}  // namespace

std::vector<std::vector<ColumnOrigin>> column_origins(const LogicalNode& plan) {
    Origins out = walk(plan);
    out.resize(plan.schema->size());
    return out;
}

}  // namespace millrace::sql
