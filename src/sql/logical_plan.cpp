#include "sql/logical_plan.h"

#include <fmt/format.h>

namespace millrace::sql {

std::string AggregateCall::to_string() const {
    std::string out = fmt::format("{}(", aggregate_name(function));
    if (distinct) out += "DISTINCT ";
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i > 0) out += ", ";
        out += args[i].to_string();
    }
    return out + ")";
}

std::unique_ptr<LogicalNode> LogicalNode::clone() const {
    auto out = std::make_unique<LogicalNode>();
    out->kind = kind;
    out->schema = schema;
    for (const auto& child : children) out->children.push_back(child->clone());
    out->source = source;
    out->source_schema = source_schema;
    out->columns = columns;
    out->filters = filters;
    out->predicate = predicate;
    out->has_predicate = has_predicate;
    out->exprs = exprs;
    out->session_gap_micros = session_gap_micros;
    out->dedup_micros = dedup_micros;
    out->dedup_keys = dedup_keys;
    out->dedup_time = dedup_time;
    out->group_keys = group_keys;
    out->aggregates = aggregates;
    out->join_type = join_type;
    out->left_keys = left_keys;
    out->right_keys = right_keys;
    out->sort_keys = sort_keys;
    out->limit = limit;
    out->offset = offset;
    return out;
}

std::string LogicalNode::to_string(int indent) const {
    std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
    std::string line;
    auto list = [](const std::vector<BoundExpr>& exprs) {
        std::string out;
        for (std::size_t i = 0; i < exprs.size(); ++i) {
            if (i > 0) out += ", ";
            out += exprs[i].to_string();
        }
        return out;
    };
    switch (kind) {
        case Kind::kScan: {
            std::string cols;
            for (std::size_t i = 0; i < columns.size(); ++i) {
                if (i > 0) cols += ", ";
                cols += source_schema->field(columns[i]).name;
            }
            line = fmt::format("Scan {} [{}]", source, cols);
            if (!filters.empty()) line += " filters: " + list(filters);
            break;
        }
        case Kind::kSingleRow:
            line = "SingleRow";
            break;
        case Kind::kFilter:
            line = "Filter " + predicate.to_string();
            break;
        case Kind::kProject: {
            line = session_gap_micros > 0
                       ? fmt::format("Project (session gap {}us) ", session_gap_micros)
                       : std::string("Project ");
            if (dedup_micros > 0) {
                line = fmt::format("Project (dedup keys: [{}] time: {} within {}us) ",
                                   list(dedup_keys), dedup_time.to_string(), dedup_micros);
            }
            for (std::size_t i = 0; i < exprs.size(); ++i) {
                if (i > 0) line += ", ";
                line += exprs[i].to_string() + " AS " + schema->field(i).name;
            }
            break;
        }
        case Kind::kAggregate: {
            line = "Aggregate keys: [" + list(group_keys) + "] aggregates: [";
            for (std::size_t i = 0; i < aggregates.size(); ++i) {
                if (i > 0) line += ", ";
                line += aggregates[i].to_string();
            }
            line += "]";
            break;
        }
        case Kind::kJoin: {
            static constexpr std::string_view kTypes[] = {"Inner", "Left", "Right", "Full"};
            line = fmt::format("HashJoin {} on [", kTypes[static_cast<int>(join_type)]);
            for (std::size_t i = 0; i < left_keys.size(); ++i) {
                if (i > 0) line += ", ";
                line += left_keys[i].to_string() + " = " + right_keys[i].to_string();
            }
            line += "]";
            if (has_predicate) line += " and " + predicate.to_string();
            break;
        }
        case Kind::kUnionAll:
            line = "UnionAll";
            break;
        case Kind::kSort: {
            line = "Sort ";
            for (std::size_t i = 0; i < sort_keys.size(); ++i) {
                if (i > 0) line += ", ";
                line += fmt::format("{}{}{}", schema->field(sort_keys[i].column).name,
                                    sort_keys[i].descending ? " DESC" : "",
                                    sort_keys[i].nulls_first ? " NULLS FIRST" : " NULLS LAST");
            }
            break;
        }
        case Kind::kLimit:
            line = fmt::format("Limit {} offset {}", limit, offset);
            break;
    }
    std::string out = pad + line + "\n";
    for (const auto& child : children) out += child->to_string(indent + 1);
    return out;
}

}  // namespace millrace::sql
