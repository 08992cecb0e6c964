#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "types/batch.h"

namespace millrace {

/// Key groups: the unit in which a keyed streaming operator's state is partitioned, saved and
/// moved between parallel subtasks. A pipeline has a fixed number of them, its
/// `max_parallelism` (default kDefaultMaxKeyGroups); a row's key group is the hash of its key
/// (the KeyEncoder bytes of the key columns, hashed with sketch/hash.h's hash_bytes, which is
/// the same in every build) modulo that number. Subtask s of P owns the contiguous range
/// key_group_range(s, P, max), so a checkpoint taken at one parallelism restores at any other
/// up to `max_parallelism` by handing each key group's state to the subtask that now owns it.
/// Changing `max_parallelism` moves keys between key groups, so a checkpoint written with
/// another number is refused.
///
/// Why 32 by default and not 128: every key group is its own copy of the operators above the
/// exchange, so each input batch is cut into up to that many pieces; 32 keeps the pieces large
/// at the parallelism one machine has, and still lets a pipeline grow to 32 subtasks.
inline constexpr uint32_t kDefaultMaxKeyGroups = 32;

/// Key groups [begin, end).
struct KeyGroupRange {
    uint32_t begin = 0;
    uint32_t end = 0;
    bool contains(uint32_t group) const { return group >= begin && group < end; }
    uint32_t size() const { return end - begin; }
};

/// The key groups subtask `subtask` of `parallelism` owns (ranges differ in size by at most
/// one; every key group has exactly one owner). Requires parallelism <= max_key_groups.
KeyGroupRange key_group_range(uint32_t subtask, uint32_t parallelism, uint32_t max_key_groups);

/// The subtask of `parallelism` that owns `group` (the inverse of key_group_range).
uint32_t subtask_of(uint32_t group, uint32_t parallelism, uint32_t max_key_groups);

/// The key group of every row of `batch`, keyed by `key_columns` (indexes into the batch),
/// into `out` (resized to the batch's rows). No key columns: every row is in key group 0.
void assign_key_groups(const Batch& batch, std::span<const std::size_t> key_columns,
                       uint32_t max_key_groups, std::vector<uint32_t>& out);

}  // namespace millrace
