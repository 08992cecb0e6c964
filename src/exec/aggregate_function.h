#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "exec/operator_state.h"
#include "sql/logical_plan.h"
#include "types/column_builder.h"

namespace millrace {

/// The running state of one aggregate call for every group of one operator: arrays indexed by
/// group id (struct of arrays, so update is a tight loop over a column and the group ids of a
/// batch, with one virtual call per batch, never per row). Every aggregate implements the full
/// life cycle of a group's state:
///
///   init       resize(groups): new groups start empty (count 0, no value, an empty sketch)
///   update     fold a column of input rows into their groups
///   merge      fold another state's group (partial aggregation: parallel subtasks, windows,
///              a restored checkpoint merged with live state) into one of this state's groups;
///              update(a) then merge(update(b)) finalizes like update(a + b)
///   finalize   append a group's SQL result
///   serialize  write a group's state into an operator's saved state (operator_state.h) and
///   restore    read it back into an empty group: a restored group finalizes and merges like
///              the original
///
/// Created by make_aggregate_state() from the function registry of exec (one factory per
/// sql::Aggregate, aggregate_function.cpp). Owned by its operator; not thread-safe.
class AggregateState {
public:
    virtual ~AggregateState() = default;

    virtual sql::Aggregate function() const = 0;
    /// Grows to `groups` groups; the new ones are empty.
    virtual void resize(std::size_t groups) = 0;
    /// Folds rows [0, n) of `column` into the groups `group_ids[i]` (the groups exist).
    /// `column` is null for count(*). Fails on an overflow (sum of bigint).
    virtual Status update(const Column* column, const uint32_t* group_ids, std::size_t n) = 0;
    /// Folds group `from` of `other` (a state of the same call) into group `into`.
    virtual Status merge(uint32_t into, const AggregateState& other, uint32_t from) = 0;
    virtual void finalize(uint32_t group, ColumnBuilder& out) const = 0;
    virtual void serialize(uint32_t group, StateWriter& out) const = 0;
    /// Reads a group's state written by serialize() into `group`, replacing what it held
    /// (incremental checkpoints lay a group's newer state over its older one).
    virtual Status restore(uint32_t group, StateReader& in) = 0;
    /// Bytes per group of the arrays resize() grows.
    virtual std::size_t bytes_per_group() const = 0;
    /// Bytes the groups hold beyond those arrays (distinct sets, strings, sketches), kept up
    /// to date by update, merge and restore, for the operator's memory reservation.
    std::size_t grown_bytes() const { return grown_bytes_; }

protected:
    std::size_t grown_bytes_ = 0;
};

/// The execution side of one sql::Aggregate: how to create its state for a bound call.
struct AggregateFunction {
    sql::Aggregate id;
    /// `origin` names the plan in errors ("bigint out of range in sum() of <origin>").
    std::unique_ptr<AggregateState> (*create)(const sql::AggregateCall& call,
                                              std::string_view origin) = nullptr;
};

/// The exec entry of `id`, or null when none is registered (a unit test checks that every
/// entry of sql::aggregate_functions() has one).
const AggregateFunction* find_aggregate_function_kernel(sql::Aggregate id);

/// A fresh, empty state for `call`; `call` must be bound (its id registered).
std::unique_ptr<AggregateState> make_aggregate_state(const sql::AggregateCall& call,
                                                     std::string_view origin);

}  // namespace millrace
