#include "sql/optimizer.h"

#include <algorithm>

namespace millrace::sql {

namespace {

constexpr std::size_t kDropped = static_cast<std::size_t>(-1);
using Node = LogicalNode;

std::vector<bool> columns_of(const BoundExpr& expr) {
    std::vector<bool> used;
    expr.collect_columns(used);
    return used;
}

/// Puts `conjuncts` as a Filter on top of `node` (or nothing when empty).
void wrap_filter(LogicalPlan& node, std::vector<BoundExpr> conjuncts) {
    if (conjuncts.empty()) return;
    auto filter = std::make_unique<Node>();
    filter->kind = Node::Kind::kFilter;
    filter->schema = node->schema;
    filter->predicate = make_conjunction(std::move(conjuncts));
    filter->has_predicate = true;
    filter->children.push_back(std::move(node));
    node = std::move(filter);
}

/// Pushes `conjuncts` (over node's output) as far down into `node` as they may go; what cannot
/// go further stays as a Filter at the lowest possible point.
void push_down(LogicalPlan& node, std::vector<BoundExpr> conjuncts) {
    switch (node->kind) {
        case Node::Kind::kScan:
            for (auto& c : conjuncts) node->filters.push_back(std::move(c));
            return;
        case Node::Kind::kFilter: {
            std::vector<BoundExpr> all;
            split_conjuncts(std::move(node->predicate), all);
            for (auto& c : conjuncts) all.push_back(std::move(c));
            LogicalPlan child = std::move(node->children[0]);
            node = std::move(child);
            push_down(node, std::move(all));
            return;
        }
        case Node::Kind::kProject: {
            if (node->dedup_micros > 0) {
                // Which rows are duplicates depends on every row: filter after, not before.
                push_down(node->children[0], {});
                wrap_filter(node, std::move(conjuncts));
                return;
            }
            std::vector<BoundExpr> down, here;
            for (auto& c : conjuncts) {
                std::vector<bool> used = columns_of(c);
                bool simple = true;
                std::vector<std::size_t> mapping(node->exprs.size(), 0);
                for (std::size_t i = 0; i < used.size(); ++i) {
                    if (!used[i]) continue;
                    if (node->exprs[i].kind != BoundExpr::Kind::kColumn) {
                        simple = false;
                        break;
                    }
                    mapping[i] = node->exprs[i].column;
                }
                if (simple) {
                    c.remap_columns(mapping);
                    down.push_back(std::move(c));
                } else {
                    here.push_back(std::move(c));
                }
            }
            push_down(node->children[0], std::move(down));
            wrap_filter(node, std::move(here));
            return;
        }
        case Node::Kind::kSort:
            push_down(node->children[0], std::move(conjuncts));
            return;
        case Node::Kind::kUnionAll: {
            for (auto& child : node->children) {
                std::vector<BoundExpr> copy = conjuncts;
                push_down(child, std::move(copy));
            }
            return;
        }
        case Node::Kind::kJoin: {
            std::size_t left_width = node->children[0]->schema->size();
            bool left_ok =
                node->join_type == JoinType::kInner || node->join_type == JoinType::kLeft;
            bool right_ok =
                node->join_type == JoinType::kInner || node->join_type == JoinType::kRight;
            std::vector<BoundExpr> left, right, here;
            std::vector<std::size_t> right_mapping(node->schema->size(), 0);
            for (std::size_t i = left_width; i < node->schema->size(); ++i)
                right_mapping[i] = i - left_width;
            for (auto& c : conjuncts) {
                std::vector<bool> used = columns_of(c);
                bool uses_left = false, uses_right = false;
                for (std::size_t i = 0; i < used.size(); ++i) {
                    if (used[i]) (i < left_width ? uses_left : uses_right) = true;
                }
                if (!uses_right && uses_left && left_ok) {
                    left.push_back(std::move(c));
                } else if (!uses_left && uses_right && right_ok) {
                    c.remap_columns(right_mapping);
                    right.push_back(std::move(c));
                } else {
                    here.push_back(std::move(c));
                }
            }
            // The join's own ON conjuncts that read one side only of an inner join go down too.
            if (node->join_type == JoinType::kInner && node->has_predicate) {
                std::vector<BoundExpr> residual;
                split_conjuncts(std::move(node->predicate), residual);
                std::vector<BoundExpr> keep;
                for (auto& c : residual) {
                    std::vector<bool> used = columns_of(c);
                    bool uses_left = false, uses_right = false;
                    for (std::size_t i = 0; i < used.size(); ++i) {
                        if (used[i]) (i < left_width ? uses_left : uses_right) = true;
                    }
                    if (!uses_right && uses_left) {
                        left.push_back(std::move(c));
                    } else if (!uses_left && uses_right) {
                        c.remap_columns(right_mapping);
                        right.push_back(std::move(c));
                    } else {
                        keep.push_back(std::move(c));
                    }
                }
                node->has_predicate = !keep.empty();
                if (!keep.empty()) node->predicate = make_conjunction(std::move(keep));
            }
            push_down(node->children[0], std::move(left));
            push_down(node->children[1], std::move(right));
            wrap_filter(node, std::move(here));
            return;
        }
        default:
            for (auto& child : node->children) push_down(child, {});
            wrap_filter(node, std::move(conjuncts));
            return;
    }
}

void mark(const BoundExpr& expr, std::vector<bool>& needed) {
    std::vector<bool> used = columns_of(expr);
    if (used.size() > needed.size()) needed.resize(used.size(), false);
    for (std::size_t i = 0; i < used.size(); ++i) needed[i] = needed[i] || used[i];
}

std::shared_ptr<const Schema> keep_fields(const Schema& schema,
                                          const std::vector<std::size_t>& kept) {
    std::vector<Field> fields;
    for (std::size_t i : kept) fields.push_back(schema.field(i));
    return std::make_shared<const Schema>(std::move(fields));
}

/// Drops the columns nothing above uses. `needed[i]` says whether output column i is used.
/// Returns the old → new index of every output column (kDropped for dropped ones).
std::vector<std::size_t> prune(Node& node, std::vector<bool> needed) {
    const std::size_t width = node.schema->size();
    needed.resize(width, false);
    std::vector<std::size_t> identity(width);
    for (std::size_t i = 0; i < width; ++i) identity[i] = i;
    switch (node.kind) {
        case Node::Kind::kScan: {
            for (const auto& f : node.filters) mark(f, needed);
            std::vector<std::size_t> kept;
            for (std::size_t i = 0; i < width; ++i) {
                if (needed[i]) kept.push_back(i);
            }
            if (kept.empty() && width > 0) kept.push_back(0);  // rows still need counting
            std::vector<std::size_t> mapping(width, kDropped);
            std::vector<std::size_t> columns;
            for (std::size_t k = 0; k < kept.size(); ++k) {
                mapping[kept[k]] = k;
                columns.push_back(node.columns[kept[k]]);
            }
            for (auto& f : node.filters) f.remap_columns(mapping);
            node.schema = keep_fields(*node.schema, kept);
            node.columns = std::move(columns);
            return mapping;
        }
        case Node::Kind::kSingleRow:
            return identity;
        case Node::Kind::kFilter: {
            mark(node.predicate, needed);
            std::vector<std::size_t> mapping = prune(*node.children[0], needed);
            node.predicate.remap_columns(mapping);
            node.schema = node.children[0]->schema;
            return mapping;
        }
        case Node::Kind::kLimit: {
            std::vector<std::size_t> mapping = prune(*node.children[0], needed);
            node.schema = node.children[0]->schema;
            return mapping;
        }
        case Node::Kind::kSort: {
            for (const auto& key : node.sort_keys) needed[key.column] = true;
            std::vector<std::size_t> mapping = prune(*node.children[0], needed);
            for (auto& key : node.sort_keys) key.column = mapping[key.column];
            node.schema = node.children[0]->schema;
            return mapping;
        }
        case Node::Kind::kProject: {
            std::vector<bool> child_needed;
            for (const auto& e : node.exprs) mark(e, child_needed);
            for (const auto& e : node.dedup_keys) mark(e, child_needed);
            if (node.dedup_micros > 0) mark(node.dedup_time, child_needed);
            std::vector<std::size_t> mapping = prune(*node.children[0], child_needed);
            for (auto& e : node.exprs) e.remap_columns(mapping);
            for (auto& e : node.dedup_keys) e.remap_columns(mapping);
            if (node.dedup_micros > 0) node.dedup_time.remap_columns(mapping);
            return identity;
        }
        case Node::Kind::kAggregate: {
            std::vector<bool> child_needed;
            for (const auto& e : node.group_keys) mark(e, child_needed);
            for (const auto& a : node.aggregates) {
                for (const auto& e : a.args) mark(e, child_needed);
            }
            std::vector<std::size_t> mapping = prune(*node.children[0], child_needed);
            for (auto& e : node.group_keys) e.remap_columns(mapping);
            for (auto& a : node.aggregates) {
                for (auto& e : a.args) e.remap_columns(mapping);
            }
            return identity;
        }
        case Node::Kind::kUnionAll: {
            for (auto& child : node.children) {
                std::vector<bool> all(child->schema->size(), true);
                prune(*child, all);
            }
            return identity;
        }
        case Node::Kind::kJoin: {
            std::size_t left_width = node.children[0]->schema->size();
            std::size_t right_width = node.children[1]->schema->size();
            if (node.has_predicate) mark(node.predicate, needed);
            std::vector<bool> left_needed(needed.begin(),
                                          needed.begin() + static_cast<std::ptrdiff_t>(left_width));
            std::vector<bool> right_needed(needed.begin() + static_cast<std::ptrdiff_t>(left_width),
                                           needed.end());
            for (const auto& k : node.left_keys) mark(k, left_needed);
            for (const auto& k : node.right_keys) mark(k, right_needed);
            std::vector<std::size_t> left_map = prune(*node.children[0], left_needed);
            std::vector<std::size_t> right_map = prune(*node.children[1], right_needed);
            for (auto& k : node.left_keys) k.remap_columns(left_map);
            for (auto& k : node.right_keys) k.remap_columns(right_map);
            std::size_t new_left = node.children[0]->schema->size();
            std::vector<std::size_t> mapping(left_width + right_width, kDropped);
            std::vector<std::size_t> kept;
            for (std::size_t i = 0; i < left_width; ++i) {
                if (left_map[i] != kDropped) mapping[i] = left_map[i];
            }
            for (std::size_t i = 0; i < right_width; ++i) {
                if (right_map[i] != kDropped) mapping[left_width + i] = new_left + right_map[i];
            }
            if (node.has_predicate) node.predicate.remap_columns(mapping);
            std::vector<Field> fields;
            // Keep the join's own nullability (outer joins) but the children's new column sets.
            std::vector<Field> old = node.schema->fields();
            std::vector<std::pair<std::size_t, std::size_t>> order;  // (new index, old index)
            for (std::size_t i = 0; i < mapping.size(); ++i) {
                if (mapping[i] != kDropped) order.push_back({mapping[i], i});
            }
            std::sort(order.begin(), order.end());
            for (const auto& [n, o] : order) fields.push_back(old[o]);
            node.schema = std::make_shared<const Schema>(std::move(fields));
            return mapping;
        }
    }
    return identity;
}

}  // namespace

void optimize(LogicalPlan& plan) {
    push_down(plan, {});
    std::vector<bool> all(plan->schema->size(), true);
    prune(*plan, all);
}

}  // namespace millrace::sql
