#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace millrace {

/// Where one streaming source stood at a checkpoint: the next offset of every partition and
/// its watermark tracker (WatermarkTracker::State), so that a restore neither re-reads nor
/// skips a record and judges lateness as the run before did.
struct CheckpointSource {
    std::string name;
    /// Per partition: a topic's next offsets; a watched folder's files read; a generator's
    /// records (nexmark: events) generated.
    std::vector<int64_t> offsets;
    std::optional<int64_t> watermark;                // unknown before the first record
    std::vector<std::optional<int64_t>> max_events;  // per partition
    /// A generator's event-time origin (SourcePosition::origin_micros); none for the others.
    std::optional<int64_t> origin_micros;
};

/// The saved state of one sink's plan, under the identity of the operators it belongs to
/// (the view the sink reads and its target: `daily_revenue->lake:revenue`), so that adding or
/// removing another sink keeps it.
///
/// A keyed state (the operators above a plan's exchange, pipeline/keyed_stage.h) is saved as
/// one entry per key group: `key_group` of `max_key_groups`, so that a restore with another
/// parallelism hands each key group to whichever subtask now owns it. Its bytes are the
/// section [offset, offset + length) of `file` (the key groups of one plan share a file per
/// checkpoint that changed them; see CheckpointStore).
struct CheckpointState {
    std::string identity;
    std::string file;  // inside the checkpoint's folder
    std::optional<uint32_t> key_group;
    uint32_t max_key_groups = 0;  // with key_group
    uint64_t offset = 0;          // with key_group
    uint64_t length = 0;          // with key_group
    /// A plan's state saved incrementally (docs/streaming.md, "Incremental checkpoints"): the
    /// changes since the entry before it of the same identity, laid over it on restore. The
    /// first entry of an identity is its whole state.
    bool changes = false;
};

/// The external transaction whose commit decides a checkpoint (connectors/checkpoint_decider.h):
/// its kind ("kafka") and name (the transactional.id).
struct CheckpointDecision {
    std::string kind;  // empty: none (the metadata alone decides)
    std::string name;
    bool empty() const { return kind.empty(); }
    bool operator==(const CheckpointDecision&) const = default;
};

/// What makes a checkpoint complete: the metadata file, written last; for a checkpoint
/// `decided_by` an external transaction, the metadata and that transaction's commit.
struct CheckpointMetadata {
    uint64_t id = 0;  // also the commit id every sink was pre-committed with
    int64_t created_micros = 0;
    /// Bytes of the pipeline's dead-letter file that belong to the checkpoint: a restore cuts
    /// the file back to this length (what follows is written again by the replay).
    uint64_t dead_letter_bytes = 0;
    /// The stop of a run, not an interval: windows were emitted and are not in the state.
    bool final = false;
    /// Set when the checkpoint is complete only if this transaction committed with its id as
    /// marker (the last resource of the two-phase commit); see pipeline/checkpoint_decision.h.
    CheckpointDecision decided_by;
    std::vector<CheckpointSource> sources;
    std::vector<CheckpointState> states;

    const CheckpointSource* find_source(std::string_view name) const;
    /// The entry of `identity` that is not per key group.
    const CheckpointState* find_state(std::string_view identity) const;
    /// The per-key-group entries of `identity`.
    std::vector<const CheckpointState*> find_key_groups(std::string_view identity) const;
    /// The changes laid over find_state(identity), in the order they were saved.
    std::vector<const CheckpointState*> find_state_changes(std::string_view identity) const;

    std::string to_text() const;
    /// kCorruption (naming `path`) for anything that is not what to_text() wrote.
    static Result<CheckpointMetadata> parse(std::string_view text, const std::string& path);
};

/// The checkpoints of one streaming pipeline, in `<data_dir>/checkpoints/<pipeline>/`:
///
///   <data_dir>/checkpoints/<pipeline>/
///     7/                     one folder per checkpoint, named by its id
///       sink-0.state         state files, written first (each synced; the folder synced
///                            once, by complete(), before the metadata)
///       sink-2.state
///       _metadata            written LAST, atomically (write_file_durably): its presence is
///                            what makes the checkpoint complete
///     8/                     a checkpoint being written, or one a crash interrupted: no
///       sink-0.state         _metadata, so it is ignored and removed by the next open()
///     sinks/<identity>/      what transactional sinks stage between pre_commit and commit
///
/// `_metadata` is text, one field per line, names percent-encoded (`%20` for a space):
///
///   millrace-checkpoint 1
///   id 7                   also the commit id every sink was pre-committed with
///   created_micros 1764979200000000
///   dead_letter_bytes 5120
///   final 0
///   decided_by kafka millrace-orders-3f2a9c01d4e5b677     (only when a transaction decides)
///   source orders offsets 120,98 watermark 1764979100000000 max_events 1764979160000000,-
///   source clicks offsets 5000 watermark - max_events - origin 1764979000000000
///   state daily->lake:revenue sink-0.state
///   state daily->lake:revenue sink-0-kg.7.state key_group 5/32 at 0:118
///   state daily->lake:revenue sink-0-kg.4.state key_group 6/32 at 240:97
///   state daily->lake:revenue sink-0-kg.5.state key_group 6/32 at 80:31
///   end
///
/// A generator's line (`clicks`) ends with its event-time origin; checkpoints of builds before
/// resumable generators have no line for a generator (its run started it afresh, and saved no
/// state of the plans reading it), so they restore as they did then.
///
/// Key groups (keyed state, pipeline/keyed_stage.h): checkpoint 7 wrote the key groups that
/// changed since the run's previous checkpoint into one file, `sink-0-kg.7.state`, and points
/// the unchanged ones at their sections of the older file that holds them, `sink-0-kg.4.state`,
/// which it hard-links into its own folder (link_state): every checkpoint folder holds every
/// file its metadata names, so retention can remove any folder. A key group listed more than
/// once (6 above) is restored from its entries in order: the first holds its whole state, each
/// later one the changes of a later checkpoint laid over it (a section that starts
/// `millrace-state-changes 1`; see "Incremental checkpoints" in docs/streaming.md).
///
/// Ids grow (they are the pipeline's commit ids); the newest `retain` complete checkpoints
/// are kept, older ones removed once a newer one is complete. While the newest is decided by
/// an external transaction, the one before it is kept too (`retain` 1 keeps 2): it is what a
/// restart falls back to when that transaction never committed. One process per pipeline at a
/// time (the lake sink's named staging and the consumer name enforce it); one thread at a time
/// (a streaming run hands it to its CheckpointWriter's thread while a checkpoint is written).
class CheckpointStore {
public:
    static constexpr std::size_t kDefaultRetained = 3;

    CheckpointStore(const std::string& data_dir, const std::string& pipeline,
                    std::size_t retain = kDefaultRetained);

    /// The pipeline's checkpoint folder.
    const std::string& root() const { return root_; }
    /// The folder of checkpoint `id`.
    std::string folder(uint64_t id) const;
    /// A folder for what the sink with state identity `identity` stages between pre_commit and
    /// commit (named after what it writes, not its position among the sinks).
    std::string sink_staging(std::string_view identity) const;

    /// The newest complete checkpoint, if any. Removes the folders of incomplete ones (no
    /// metadata: a crash during a checkpoint) on the way.
    Result<std::optional<CheckpointMetadata>> latest();

    /// Writes one state file of checkpoint `id` (its folder is created on first use); complete()
    /// syncs it.
    Status write_state(uint64_t id, const std::string& file, std::string_view bytes);
    /// The same, for a file whose bytes are `pieces` one after the other (a large state is
    /// written from where it lies, not copied into one string first).
    Status write_state(uint64_t id, const std::string& file,
                       const std::vector<std::string_view>& pieces);
    /// Incremental checkpoints: state file `file` of checkpoint `id` is the same bytes as
    /// `file` of checkpoint `previous`, so it is hard-linked to it instead of written again
    /// (copied where the file system cannot link). Retention removes folders, never the
    /// contents of a file another checkpoint links, so the newer checkpoint keeps its state.
    Status link_state(uint64_t previous, uint64_t id, const std::string& file);
    Result<std::string> read_state(uint64_t id, const std::string& file) const;

    /// Completes a checkpoint: writes its metadata atomically, then removes the checkpoints
    /// beyond the newest `retain`. `completed` (if given) is set once the metadata is written,
    /// so a caller can tell a failed retention from a checkpoint that is not complete.
    Status complete(const CheckpointMetadata& metadata, bool* completed = nullptr);

    /// Removes complete checkpoint `id` (one whose deciding transaction never committed): its
    /// metadata first, durably, so a crash halfway leaves an incomplete folder.
    Status remove(uint64_t id);

    /// Ids of the complete checkpoints, ascending.
    Result<std::vector<uint64_t>> complete_ids() const;

    /// Copies complete checkpoint `id` to `folder` (a savepoint): state files first, the
    /// metadata last and atomically, as a checkpoint is written. kAlreadyExists when `folder`
    /// already holds a savepoint (a savepoint is never overwritten).
    Status copy_to(uint64_t id, const std::string& folder) const;
    /// The metadata of the checkpoint or savepoint in `folder`; kNotFound without one.
    static Result<CheckpointMetadata> read_folder(const std::string& folder);

private:
    Status apply_retention(bool keep_previous);
    /// Creates checkpoint `id`'s folder (see write_state).
    Status create_folder(uint64_t id) const;
    /// fsyncs the state files of checkpoint `id` written since the last complete().
    Status sync_state_files(uint64_t id);
    std::string root_;
    std::size_t retain_;
    std::vector<std::string> unsynced_;  // state files written, not yet synced
};

/// The pipeline name as a folder name: characters other than letters, digits, `-`, `_` and `.`
/// become `-`.
std::string pipeline_folder_name(const std::string& pipeline);

}  // namespace millrace
