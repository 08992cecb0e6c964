#include "exec/hash_aggregate_operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "exec/aggregate_function.h"
#include "exec/key_encoder.h"
#include "exec/operator_state.h"
#include "sketch/hash.h"

namespace millrace {

namespace {

/// The stamp of a group that rows updated since the last watermark: the next watermark, the
/// first that accounts for those rows, becomes its stamp.
constexpr int64_t kPending = std::numeric_limits<int64_t>::min();

int64_t saturating_add(int64_t a, int64_t b) {
    if (b > 0 && a > std::numeric_limits<int64_t>::max() - b)
        return std::numeric_limits<int64_t>::max();
    return a + b;
}

}  // namespace

struct HashAggregateOperator::State {
    std::vector<sql::BoundExpr> keys;
    std::vector<sql::AggregateCall> calls;
    std::shared_ptr<const Schema> schema;
    ExecContext* context = nullptr;
    std::string origin;
    ExpressionEvaluator evaluator;
    RowErrors errors;
    std::vector<std::unique_ptr<AggregateState>> accumulators;  // one per call

    // Groups: encoded keys in one arena, open addressing over group ids.
    std::string arena;
    std::vector<uint32_t> key_offsets{0};
    std::vector<uint64_t> group_hashes;
    std::vector<uint32_t> slots;  // group id + 1; 0 = empty
    std::size_t mask = 0;
    std::string scratch;
    std::vector<uint32_t> group_ids;
    std::optional<MemoryReservation> memory;
    // Upserting mode (or early firing, `tracks`): which groups changed since the last emit, as
    // flags and in order.
    bool upserting = false;
    bool tracks = false;
    std::vector<uint8_t> changed_flags;
    std::vector<uint32_t> changed;
    // State TTL (upserting mode): per group, the watermark of its last update (the first
    // watermark after it); the groups still kPending; the watermark from which a pass over the
    // groups can find one to drop.
    std::optional<int64_t> ttl;
    std::optional<int64_t> watermark;
    std::vector<int64_t> stamps;
    std::vector<uint32_t> pending;
    int64_t next_scan = std::numeric_limits<int64_t>::min();
    uint64_t expired = 0;
    // Incremental checkpoints: once the state was saved (mark_state_saved), the groups updated
    // or stamped by the state TTL since the last save, as flags and in order, and the keys of
    // the groups the state TTL dropped since then.
    bool tracking_saves = false;
    std::vector<uint8_t> unsaved_flags;
    std::vector<uint32_t> unsaved;
    std::vector<std::string> dropped;
    std::size_t dropped_bytes = 0;

    std::size_t group_count() const { return group_hashes.size(); }

    std::string_view key_of(uint32_t group) const {
        return std::string_view(arena).substr(key_offsets[group],
                                              key_offsets[group + 1] - key_offsets[group]);
    }

    void grow() {
        std::size_t capacity = slots.empty() ? 1024 : slots.size() * 2;
        slots.assign(capacity, 0);
        mask = capacity - 1;
        for (uint32_t g = 0; g < group_hashes.size(); ++g) {
            std::size_t slot = group_hashes[g] & mask;
            while (slots[slot] != 0) slot = (slot + 1) & mask;
            slots[slot] = g + 1;
        }
    }

    /// The group of `key`, if there is one.
    std::optional<uint32_t> find(std::string_view key) const {
        if (slots.empty()) return std::nullopt;
        const uint64_t hash = hash_string(key);
        for (std::size_t slot = hash & mask; slots[slot] != 0; slot = (slot + 1) & mask) {
            const uint32_t group = slots[slot] - 1;
            if (group_hashes[group] == hash && key_of(group) == key) return group;
        }
        return std::nullopt;
    }

    uint32_t find_or_insert(std::string_view key) {
        if ((group_count() + 1) * 2 > slots.size()) grow();
        uint64_t hash = hash_string(key);
        std::size_t slot = hash & mask;
        while (true) {
            uint32_t entry = slots[slot];
            if (entry == 0) break;
            uint32_t group = entry - 1;
            if (group_hashes[group] == hash && key_of(group) == key) return group;
            slot = (slot + 1) & mask;
        }
        uint32_t group = static_cast<uint32_t>(group_count());
        arena.append(key);
        key_offsets.push_back(static_cast<uint32_t>(arena.size()));
        group_hashes.push_back(hash);
        slots[slot] = group + 1;
        return group;
    }

    /// Counts the groups against the memory limit: a clear error, never an OOM kill.
    Status account() {
        std::size_t per_group = accumulators.size() * sizeof(uint32_t);
        std::size_t grown_bytes = 0;
        for (const auto& acc : accumulators) {
            per_group += acc->bytes_per_group();
            grown_bytes += acc->grown_bytes();
        }
        const std::size_t bytes = arena.capacity() + slots.size() * sizeof(uint32_t) +
                                  key_offsets.capacity() * sizeof(uint32_t) +
                                  group_hashes.capacity() * sizeof(uint64_t) +
                                  group_count() * per_group + grown_bytes + dropped_bytes +
                                  unsaved_flags.capacity() + unsaved.capacity() * sizeof(uint32_t);
        return memory->resize(bytes);
    }

    // State body (after the envelope of exec/operator_state.h):
    //
    //   u32 accumulators, then per accumulator: u8 Aggregate
    //   u64 groups, then per group (in first-seen order): bytes encoded key
    //   per accumulator, per group: the group's state as its AggregateState::serialize writes
    //   it (each format is drawn beside its class in exec/aggregate_function.cpp):
    //     count(*), count      i64 count
    //     count(DISTINCT)      u64 values, then per value: bytes encoded value (KeyEncoder)
    //     approx_count_distinct bytes HyperLogLog::serialize()
    //     approx_percentile    bytes DDSketch::serialize()
    //     avg                  i64 count, i64 integer sum, f64 double sum
    //     sum, min, max,       u8 has a value, then when it has: bytes (string/bytes input),
    //     bool_and, bool_or    f64 (double input) or i64 (every other input)
    void serialize(StateWriter& out) const {
        const std::size_t groups = group_count();
        // Sized once up front (keys, then about 16 bytes per accumulator state, more for
        // sketches as they come): a large state is not copied at every doubling.
        out.reserve(arena.size() + groups * (8 + 16 * accumulators.size() + 8) + 64);
        out.u32(static_cast<uint32_t>(accumulators.size()));
        for (const auto& acc : accumulators) out.u8(static_cast<uint8_t>(acc->function()));
        out.u64(groups);
        for (uint32_t g = 0; g < groups; ++g) out.bytes(key_of(g));
        for (const auto& acc : accumulators) {
            for (uint32_t g = 0; g < groups; ++g) acc->serialize(g, out);
        }
        // Optional trailer (absent when neither applies, so a plain aggregate's state is as
        // before):
        //   u8 flags (1: changed groups follow, 2: the state TTL's fields follow)
        //   flags & 1: u64 n, n x u32 group (changed since the last emit, in order)
        //   flags & 2: u8 has watermark, i64 watermark, i64 next pass, per group i64 stamp
        const bool with_changed = tracks && (!upserting || !changed.empty());
        const bool with_ttl = ttl.has_value();
        if (!with_changed && !with_ttl) return;
        out.u8(static_cast<uint8_t>((with_changed ? 1 : 0) | (with_ttl ? 2 : 0)));
        if (with_changed) {
            out.u64(changed.size());
            for (uint32_t g : changed) out.u32(g);
        }
        if (with_ttl) {
            out.u8(watermark ? 1 : 0);
            out.i64(watermark.value_or(0));
            out.i64(next_scan);
            for (uint32_t g = 0; g < groups; ++g) out.i64(g < stamps.size() ? stamps[g] : kPending);
        }
    }

    // State changes (serialize_state_changes: what changed since the last save, laid over the
    // state saved then by apply_changes):
    //
    //   u32 accumulators, then per accumulator: u8 Aggregate
    //   u64 d, then d x bytes key     groups the state TTL dropped since the last save, in order
    //                                 (applied first: a key may be dropped and then start afresh
    //                                 among the updated groups)
    //   u64 n, then n x bytes key     groups updated (or stamped by the state TTL) since the
    //                                 last save, in the order first noted
    //   per accumulator, per updated group: its state, as in the state body
    //   u8 has TTL, then when 1:      u8 has watermark, i64 watermark, i64 next pass, then per
    //                                 updated group: i64 stamp (its last update's watermark)
    //
    // Version 1 (exec/operator_state.h) had neither the dropped groups nor the TTL section.
    void serialize_changes(StateWriter& out) const {
        out.u32(static_cast<uint32_t>(accumulators.size()));
        for (const auto& acc : accumulators) out.u8(static_cast<uint8_t>(acc->function()));
        out.u64(dropped.size());
        for (const std::string& key : dropped) out.bytes(key);
        out.u64(unsaved.size());
        for (uint32_t g : unsaved) out.bytes(key_of(g));
        for (const auto& acc : accumulators) {
            for (uint32_t g : unsaved) acc->serialize(g, out);
        }
        out.u8(ttl ? 1 : 0);
        if (!ttl) return;
        out.u8(watermark ? 1 : 0);
        out.i64(watermark.value_or(0));
        out.i64(next_scan);
        for (uint32_t g : unsaved) out.i64(g < stamps.size() ? stamps[g] : kPending);
    }

    /// Notes group `g` for the next state changes (once saved, mark_state_saved).
    void note_unsaved(uint32_t g) {
        if (!tracking_saves) return;
        if (unsaved_flags.size() <= g) unsaved_flags.resize(group_count(), 0);
        if (unsaved_flags[g] != 0) return;
        unsaved_flags[g] = 1;
        unsaved.push_back(g);
    }

    void clear_unsaved() {
        for (uint32_t g : unsaved) unsaved_flags[g] = 0;
        unsaved.clear();
        dropped.clear();
        dropped.shrink_to_fit();
        dropped_bytes = 0;
    }

    /// Fresh, empty accumulators for the calls.
    std::vector<std::unique_ptr<AggregateState>> make_accumulators() const {
        std::vector<std::unique_ptr<AggregateState>> out;
        for (const auto& call : calls) out.push_back(make_aggregate_state(call, origin));
        return out;
    }

    void clear_groups() {
        changed.clear();
        changed_flags.clear();
        stamps.clear();
        pending.clear();
        tracking_saves = false;
        unsaved.clear();
        unsaved_flags.clear();
        dropped.clear();
        dropped_bytes = 0;
        arena.clear();
        key_offsets = {0};
        group_hashes.clear();
        slots.clear();
        mask = 0;
    }

    Status read_functions(StateReader& in) const {
        MILLRACE_ASSIGN_OR_RETURN(uint32_t stored, in.u32());
        if (stored != accumulators.size()) return in.corrupt("state of another aggregate");
        for (const auto& acc : accumulators) {
            MILLRACE_ASSIGN_OR_RETURN(uint8_t function, in.u8());
            if (function != static_cast<uint8_t>(acc->function()))
                return in.corrupt("state of another aggregate");
        }
        return {};
    }

    /// Lays state changes over the groups: the dropped groups go, the updated ones are
    /// replaced and new ones added, with their state TTL stamps.
    Status apply_changes(StateReader& in) {
        MILLRACE_TRY(read_functions(in));
        if (in.version() >= 2) {
            MILLRACE_ASSIGN_OR_RETURN(uint64_t count, in.count(8));
            std::vector<uint8_t> gone(group_count(), 0);
            bool any = false;
            for (uint64_t i = 0; i < count; ++i) {
                MILLRACE_ASSIGN_OR_RETURN(std::string_view key, in.bytes());
                // Absent when it was dropped twice, or started and dropped between two saves.
                if (const std::optional<uint32_t> group = find(key)) {
                    gone[*group] = 1;
                    any = true;
                }
            }
            if (any) {
                std::vector<uint32_t> keep;
                for (uint32_t g = 0; g < gone.size(); ++g) {
                    if (gone[g] == 0) keep.push_back(g);
                }
                MILLRACE_TRY(compact(keep));
            }
        }
        MILLRACE_ASSIGN_OR_RETURN(uint64_t count, in.count(8));
        std::vector<uint32_t> ids;
        ids.reserve(count);
        std::vector<uint8_t> seen(group_count(), 0);
        for (uint64_t i = 0; i < count; ++i) {
            MILLRACE_ASSIGN_OR_RETURN(std::string_view key, in.bytes());
            const uint32_t group = find_or_insert(key);
            seen.resize(group_count(), 0);
            if (seen[group] != 0) return in.corrupt("a group changed twice");
            seen[group] = 1;
            ids.push_back(group);
        }
        for (auto& acc : accumulators) {
            acc->resize(group_count());
            for (uint32_t g : ids) MILLRACE_TRY(acc->restore(g, in));
        }
        uint8_t has_ttl = 0;
        std::vector<int64_t> saved_stamps;
        std::optional<int64_t> saved_watermark;
        int64_t saved_next_scan = 0;
        if (in.version() >= 2) {
            MILLRACE_ASSIGN_OR_RETURN(has_ttl, in.u8());
            if (has_ttl > 1) return in.corrupt("state TTL flag");
        }
        if (has_ttl == 1) {
            MILLRACE_ASSIGN_OR_RETURN(uint8_t has_watermark, in.u8());
            if (has_watermark > 1) return in.corrupt("watermark flag");
            MILLRACE_ASSIGN_OR_RETURN(int64_t watermark_value, in.i64());
            if (has_watermark == 1) saved_watermark = watermark_value;
            MILLRACE_ASSIGN_OR_RETURN(saved_next_scan, in.i64());
            saved_stamps.resize(ids.size());
            for (std::size_t i = 0; i < ids.size(); ++i) {
                MILLRACE_ASSIGN_OR_RETURN(saved_stamps[i], in.i64());
            }
        }
        MILLRACE_TRY(in.expect_end());
        if (ttl) {
            // Saved without a TTL: the updated groups count as updated at the next watermark.
            stamps.resize(group_count(), kPending);
            for (std::size_t i = 0; i < ids.size(); ++i)
                stamps[ids[i]] = has_ttl == 1 ? saved_stamps[i] : kPending;
            if (has_ttl == 1) {
                watermark = saved_watermark;
                next_scan = saved_next_scan;
            }
            pending.clear();
            for (uint32_t g = 0; g < group_count(); ++g) {
                if (stamps[g] == kPending) pending.push_back(g);
            }
        }
        // Changes are written only when no group waits to be emitted (serialize_state_changes),
        // so none waits after them: what waited in the state below was emitted since.
        for (uint32_t g : changed) changed_flags[g] = 0;
        changed.clear();
        return account();
    }

    Status restore(StateReader& in) {
        MILLRACE_TRY(read_functions(in));
        clear_groups();
        accumulators = make_accumulators();
        MILLRACE_ASSIGN_OR_RETURN(uint64_t groups, in.count(8));
        for (uint64_t g = 0; g < groups; ++g) {
            MILLRACE_ASSIGN_OR_RETURN(std::string_view key, in.bytes());
            if (find_or_insert(key) != g) return in.corrupt("duplicate group key");
        }
        for (auto& acc : accumulators) {
            acc->resize(groups);
            for (uint32_t g = 0; g < groups; ++g) MILLRACE_TRY(acc->restore(g, in));
        }
        if (ttl) {
            // Saved without a TTL: every group counts as updated at the next watermark.
            stamps.assign(groups, kPending);
            pending.resize(groups);
            for (uint32_t g = 0; g < groups; ++g) pending[g] = g;
            watermark.reset();
            next_scan = std::numeric_limits<int64_t>::min();
        }
        if (!in.at_end()) MILLRACE_TRY(restore_trailer(in, groups));
        MILLRACE_TRY(in.expect_end());
        return account();
    }

    /// The trailer serialize() draws; what this operator does not use is read and ignored (a
    /// state saved with early firing or a TTL restores into an operator without them).
    Status restore_trailer(StateReader& in, uint64_t groups) {
        MILLRACE_ASSIGN_OR_RETURN(uint8_t flags, in.u8());
        if (flags == 0 || flags > 3) return in.corrupt("aggregate trailer flags");
        if (flags & 1) {
            MILLRACE_ASSIGN_OR_RETURN(uint64_t count, in.count(4));
            if (count > groups) return in.corrupt("more changed groups than groups");
            if (tracks) changed_flags.assign(groups, 0);
            for (uint64_t i = 0; i < count; ++i) {
                MILLRACE_ASSIGN_OR_RETURN(uint32_t group, in.u32());
                if (group >= groups) return in.corrupt("a changed group that does not exist");
                if (!tracks) continue;
                if (changed_flags[group] != 0) return in.corrupt("a group changed twice");
                changed_flags[group] = 1;
                changed.push_back(group);
            }
        }
        if (flags & 2) {
            MILLRACE_ASSIGN_OR_RETURN(uint8_t has_watermark, in.u8());
            MILLRACE_ASSIGN_OR_RETURN(int64_t saved_watermark, in.i64());
            MILLRACE_ASSIGN_OR_RETURN(int64_t saved_next_scan, in.i64());
            if (has_watermark > 1) return in.corrupt("watermark flag");
            std::vector<int64_t> saved(groups);
            for (uint64_t g = 0; g < groups; ++g) {
                MILLRACE_ASSIGN_OR_RETURN(saved[g], in.i64());
            }
            if (ttl) {
                stamps = std::move(saved);
                pending.clear();
                for (uint32_t g = 0; g < groups; ++g) {
                    if (stamps[g] == kPending) pending.push_back(g);
                }
                if (has_watermark == 1) watermark = saved_watermark;
                next_scan = saved_next_scan;
            }
        }
        return {};
    }

    /// Keeps only the groups `keep` (ascending), renumbered in that order (the changed list
    /// too, less the groups it drops: the state TTL emits them first). Once saved
    /// (tracking_saves), the groups it drops are noted for the next state changes and the
    /// groups noted before keep their note.
    Status compact(const std::vector<uint32_t>& keep) {
        constexpr uint32_t kGone = std::numeric_limits<uint32_t>::max();
        std::vector<uint32_t> renumbered(group_count(), kGone);
        for (uint32_t i = 0; i < keep.size(); ++i) renumbered[keep[i]] = i;
        const bool tracking = tracking_saves;
        std::vector<std::string> dropped_keys = std::move(dropped);
        std::size_t dropped_size = dropped_bytes;
        if (tracking) {
            for (uint32_t g = 0; g < renumbered.size(); ++g) {
                if (renumbered[g] != kGone) continue;
                dropped_keys.emplace_back(key_of(g));
                dropped_size += key_of(g).size() + sizeof(std::string);
            }
        }
        const std::vector<uint32_t> old_unsaved = std::move(unsaved);
        const std::vector<uint32_t> old_changed = std::move(changed);
        const std::string old_arena = std::move(arena);
        const std::vector<uint32_t> old_offsets = std::move(key_offsets);
        const std::vector<int64_t> old_stamps = std::move(stamps);
        std::vector<std::unique_ptr<AggregateState>> old_accumulators = std::move(accumulators);
        clear_groups();
        accumulators = make_accumulators();
        for (uint32_t g : keep) {
            find_or_insert(std::string_view(old_arena).substr(old_offsets[g],
                                                              old_offsets[g + 1] - old_offsets[g]));
            if (ttl) stamps.push_back(g < old_stamps.size() ? old_stamps[g] : kPending);
        }
        for (std::size_t a = 0; a < accumulators.size(); ++a) {
            accumulators[a]->resize(keep.size());
            for (uint32_t i = 0; i < keep.size(); ++i)
                MILLRACE_TRY(accumulators[a]->merge(i, *old_accumulators[a], keep[i]));
        }
        for (uint32_t g = 0; g < stamps.size(); ++g) {
            if (stamps[g] == kPending) pending.push_back(g);
        }
        tracking_saves = tracking;
        dropped = std::move(dropped_keys);
        dropped_bytes = dropped_size;
        for (uint32_t g : old_unsaved) {
            if (renumbered[g] != kGone) note_unsaved(renumbered[g]);
        }
        changed_flags.assign(old_changed.empty() ? 0 : group_count(), 0);
        for (uint32_t g : old_changed) {
            if (renumbered[g] == kGone) continue;
            changed_flags[renumbered[g]] = 1;
            changed.push_back(renumbered[g]);
        }
        // Shrink what the dropped groups held before counting it again.
        arena.shrink_to_fit();
        key_offsets.shrink_to_fit();
        group_hashes.shrink_to_fit();
        return account();
    }

    /// Folds every group of `other` (a state of the same calls) into the matching group here.
    Status merge(const State& other) {
        const std::size_t groups = other.group_count();
        std::vector<uint32_t> into(groups);
        for (uint32_t g = 0; g < groups; ++g) into[g] = find_or_insert(other.key_of(g));
        for (std::size_t a = 0; a < accumulators.size(); ++a) {
            accumulators[a]->resize(group_count());
            for (uint32_t g = 0; g < groups; ++g)
                MILLRACE_TRY(accumulators[a]->merge(into[g], *other.accumulators[a], g));
        }
        for (uint32_t g : into) note_unsaved(g);
        // Merged-in groups count as updated at the next watermark.
        if (ttl) {
            stamps.resize(group_count(), 0);
            for (uint32_t g : into) {
                if (stamps[g] != kPending) {
                    stamps[g] = kPending;
                    pending.push_back(g);
                }
            }
        }
        return account();
    }
};

HashAggregateOperator::HashAggregateOperator(std::vector<sql::BoundExpr> keys,
                                             std::vector<sql::AggregateCall> aggregates,
                                             std::shared_ptr<const Schema> schema,
                                             ExecContext& context, std::string origin)
    : state_(std::make_unique<State>()) {
    state_->keys = std::move(keys);
    state_->calls = std::move(aggregates);
    state_->schema = std::move(schema);
    state_->context = &context;
    state_->origin = std::move(origin);
    state_->memory.emplace(context, fmt::format("GROUP BY in `{}`", state_->origin),
                           "group by fewer keys or filter the rows first");
    state_->accumulators = state_->make_accumulators();
}

HashAggregateOperator::~HashAggregateOperator() = default;

std::size_t HashAggregateOperator::groups() const { return state_->group_count(); }

Status HashAggregateOperator::push(Batch batch) {
    State& s = *state_;
    const std::size_t n = batch.num_rows();
    s.errors.clear();
    std::vector<ColumnPtr> key_columns;
    std::vector<const Column*> key_pointers;
    for (const auto& key : s.keys) {
        key_columns.push_back(s.evaluator.evaluate(key, batch, s.errors));
        key_pointers.push_back(key_columns.back().get());
    }
    std::vector<ColumnPtr> arg_columns;
    for (const auto& call : s.calls) {
        arg_columns.push_back(
            call.args.empty() ? nullptr : s.evaluator.evaluate(call.args[0], batch, s.errors));
    }
    if (!s.errors.empty()) {
        // Rows whose keys or arguments failed leave the aggregate for the dead-letter route.
        std::vector<uint32_t> keep;
        for (std::size_t i = 0; i < n; ++i) {
            if (!s.errors.has(static_cast<uint32_t>(i))) keep.push_back(static_cast<uint32_t>(i));
        }
        for (const auto& entry : s.errors.entries()) {
            MILLRACE_TRY(s.context->row_error(
                DeadLetterRow{s.origin, entry.message, row_to_json(batch, entry.row)}));
        }
        return push(batch.take(keep));
    }
    s.group_ids.resize(n);
    if (s.keys.empty()) {
        if (s.group_count() == 0) s.find_or_insert("");
        std::fill(s.group_ids.begin(), s.group_ids.end(), 0);
    } else {
        const std::size_t stride = KeyEncoder::fixed_row_width(key_pointers);
        if (stride > 0) {
            s.scratch.resize(n * stride);
            KeyEncoder::encode_fixed(key_pointers, n, stride, s.scratch.data());
            const std::string_view keys(s.scratch);
            for (std::size_t i = 0; i < n; ++i)
                s.group_ids[i] = s.find_or_insert(keys.substr(i * stride, stride));
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                s.scratch.clear();
                KeyEncoder::encode(key_pointers, i, s.scratch);
                s.group_ids[i] = s.find_or_insert(s.scratch);
            }
        }
    }
    for (auto& acc : s.accumulators) acc->resize(s.group_count());
    for (std::size_t a = 0; a < s.accumulators.size(); ++a) {
        MILLRACE_TRY(s.accumulators[a]->update(arg_columns[a].get(), s.group_ids.data(), n));
    }
    if (s.ttl) {
        // Stamped by the next watermark (on_control); new groups are not kPending yet.
        s.stamps.resize(s.group_count(), 0);
        for (std::size_t i = 0; i < n; ++i) {
            int64_t& stamp = s.stamps[s.group_ids[i]];
            if (stamp != kPending) {
                stamp = kPending;
                s.pending.push_back(s.group_ids[i]);
            }
        }
    }
    if (s.tracking_saves) {
        for (std::size_t i = 0; i < n; ++i) s.note_unsaved(s.group_ids[i]);
    }
    if (s.tracks) {
        s.changed_flags.resize(s.group_count(), 0);
        for (std::size_t i = 0; i < n; ++i) {
            const uint32_t group = s.group_ids[i];
            if (s.changed_flags[group] == 0) {
                s.changed_flags[group] = 1;
                s.changed.push_back(group);
            }
        }
    }
    return s.account();
}

Result<std::string> HashAggregateOperator::serialize_state() const {
    StateWriter out(OperatorStateKind::kHashAggregate);
    state_->serialize(out);
    return std::move(out).finish();
}

Status HashAggregateOperator::restore_state(std::string_view bytes) {
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kHashAggregate));
    return state_->restore(in);
}

bool HashAggregateOperator::state_changed_since_save() const {
    const State& s = *state_;
    return s.tracking_saves && (!s.unsaved.empty() || !s.dropped.empty());
}

void HashAggregateOperator::mark_state_saved() {
    state_->tracking_saves = true;
    state_->clear_unsaved();
}

Result<std::optional<std::string>> HashAggregateOperator::serialize_state_changes() {
    State& s = *state_;
    if (!s.tracking_saves) return std::optional<std::string>();
    // Groups changed since the last emit (early firing, or a snapshot outside a barrier) are
    // listed by group number, which only the whole state keeps: the caller saves that, and it
    // counts as a save.
    if (s.tracks && !s.changed.empty()) {
        s.clear_unsaved();
        return std::optional<std::string>();
    }
    StateWriter out(OperatorStateKind::kHashAggregate);
    s.serialize_changes(out);
    s.clear_unsaved();
    return std::optional<std::string>(std::move(out).finish());
}

Status HashAggregateOperator::apply_state_changes(std::string_view bytes) {
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kHashAggregate));
    return state_->apply_changes(in);
}

Status HashAggregateOperator::merge_state(std::string_view bytes) {
    State other;
    other.calls = state_->calls;
    other.origin = state_->origin;
    other.accumulators = other.make_accumulators();
    // The state being merged holds memory too until it is folded in.
    other.memory.emplace(*state_->context,
                         fmt::format("merging a GROUP BY state in `{}`", state_->origin),
                         "group by fewer keys or filter the rows first");
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kHashAggregate));
    MILLRACE_TRY(other.restore(in));
    return state_->merge(other);
}

Status HashAggregateOperator::emit_groups(const std::vector<uint32_t>& groups) {
    State& s = *state_;
    for (std::size_t start = 0; start < groups.size(); start += kOutputBatchRows) {
        std::size_t end = std::min(groups.size(), start + kOutputBatchRows);
        std::vector<ColumnBuilder> key_builders;
        for (std::size_t k = 0; k < s.keys.size(); ++k)
            key_builders.emplace_back(s.schema->field(k).type, end - start);
        std::vector<ColumnBuilder> agg_builders;
        for (std::size_t a = 0; a < s.calls.size(); ++a)
            agg_builders.emplace_back(s.calls[a].type, end - start);
        for (std::size_t i = start; i < end; ++i) {
            const uint32_t g = groups[i];
            if (!s.keys.empty()) KeyEncoder::decode(s.key_of(g), key_builders);
            for (std::size_t a = 0; a < s.calls.size(); ++a)
                s.accumulators[a]->finalize(g, agg_builders[a]);
        }
        std::vector<std::shared_ptr<const Column>> columns;
        for (auto& b : key_builders) columns.push_back(std::make_shared<const Column>(b.finish()));
        for (auto& b : agg_builders) columns.push_back(std::make_shared<const Column>(b.finish()));
        MILLRACE_TRY(emit(Batch(s.schema, std::move(columns), end - start)));
    }
    return {};
}

void HashAggregateOperator::set_upserting(bool upserting) {
    state_->upserting = upserting;
    state_->tracks = state_->tracks || upserting;
}

void HashAggregateOperator::set_tracks_changes(bool tracks) {
    state_->tracks = tracks || state_->upserting;
}

void HashAggregateOperator::set_state_ttl(int64_t ttl_micros) {
    state_->ttl = std::max<int64_t>(ttl_micros, 1);
}

uint64_t HashAggregateOperator::expired_groups() const { return state_->expired; }

Status HashAggregateOperator::expire(int64_t watermark) {
    State& s = *state_;
    const int64_t ttl = *s.ttl;
    // The groups updated since the previous watermark were last updated at this one.
    if (!s.pending.empty()) {
        // A stamp is state: the next state changes carry it.
        for (uint32_t g : s.pending) {
            s.stamps[g] = watermark;
            s.note_unsaved(g);
        }
        s.pending.clear();
        s.next_scan = std::min(s.next_scan, saturating_add(watermark, ttl + ttl / 8));
    }
    if (watermark < s.next_scan) return {};
    std::vector<uint32_t> keep;
    keep.reserve(s.group_count());
    int64_t oldest = std::numeric_limits<int64_t>::max();
    for (uint32_t g = 0; g < s.group_count(); ++g) {
        const int64_t stamp = s.stamps[g];
        // Expired once the watermark is more than `ttl` past its last update's.
        if (saturating_add(stamp, ttl) < watermark) continue;
        keep.push_back(g);
        oldest = std::min(oldest, stamp);
    }
    // The next pass finds something to drop no earlier than an eighth of the TTL after the
    // oldest kept group expires: one pass per such step, whatever the number of watermarks.
    s.next_scan =
        keep.empty() ? std::numeric_limits<int64_t>::max() : saturating_add(oldest, ttl + ttl / 8);
    if (keep.size() == s.group_count()) return {};
    // Their last updates go out first: a group is never dropped with an update unsent.
    if (!s.changed.empty()) MILLRACE_TRY(emit_changed());
    s.expired += s.group_count() - keep.size();
    return s.compact(keep);
}

Status HashAggregateOperator::emit_current() {
    std::vector<uint32_t> all(state_->group_count());
    for (uint32_t g = 0; g < all.size(); ++g) all[g] = g;
    return emit_groups(all);
}

std::size_t HashAggregateOperator::changed_groups() const { return state_->changed.size(); }

Status HashAggregateOperator::emit_changed() {
    State& s = *state_;
    std::vector<uint32_t> groups = std::move(s.changed);
    s.changed.clear();
    for (uint32_t g : groups) s.changed_flags[g] = 0;
    return emit_groups(groups);
}

Status HashAggregateOperator::on_control(const ControlSignal& signal) {
    State& s = *state_;
    // Before a barrier (a sink commit follows) the updates so far go out, so they commit too;
    // a publish sends them early, to a sink that shows rows as they are written.
    if (s.upserting && (signal.kind == ControlSignal::Kind::kBarrier ||
                        signal.kind == ControlSignal::Kind::kPublish))
        MILLRACE_TRY(emit_changed());
    // The end of input (the end-of-time watermark) is no passing of time: the groups stay for
    // the next run.
    if (s.ttl && signal.kind == ControlSignal::Kind::kWatermark &&
        signal.watermark_micros != std::numeric_limits<int64_t>::max() &&
        (!s.watermark || signal.watermark_micros > *s.watermark)) {
        s.watermark = signal.watermark_micros;
        MILLRACE_TRY(expire(signal.watermark_micros));
    }
    return output_->on_control(signal);
}

Status HashAggregateOperator::finish() {
    State& s = *state_;
    if (s.upserting) {
        // The groups stay: the table goes on being updated by a later run from saved state.
        MILLRACE_TRY(emit_changed());
        return output_->finish();
    }
    if (s.keys.empty() && s.group_count() == 0) {
        s.find_or_insert("");
        for (auto& acc : s.accumulators) acc->resize(1);
    }
    std::vector<uint32_t> all(s.group_count());
    for (uint32_t g = 0; g < all.size(); ++g) all[g] = g;
    MILLRACE_TRY(emit_groups(all));
    // The groups are out: free them before downstream operators buffer more.
    s.accumulators.clear();
    s.arena = std::string();
    s.key_offsets = {0};
    s.group_hashes = {};
    s.slots = {};
    s.mask = 0;
    s.memory->release();
    return output_->finish();
}

}  // namespace millrace
