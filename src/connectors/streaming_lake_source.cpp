#include "connectors/streaming_lake_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "connectors/lake_source.h"

namespace millrace {

namespace {

int64_t steady_micros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Result<std::unique_ptr<StreamingLakeSource>> StreamingLakeSource::open(
    const SourceSpec& spec, const std::string& data_dir) {
    MILLRACE_ASSIGN_OR_RETURN(LakeTable table, LakeSource::open_table(spec, data_dir));
    std::unique_ptr<StreamingLakeSource> source(new StreamingLakeSource(spec.name, table));
    source->table_name_ = spec.table;
    MILLRACE_ASSIGN_OR_RETURN(source->schema_, LakeSource::schema_of(spec, source->table_));
    source->changelog_ = spec.changelog;
    source->poll_interval_micros_ = std::max<int64_t>(1, spec.poll_interval.count());
    auto current = source->table_.current_snapshot_id();
    if (!current.ok()) {
        return std::move(current).error().with_context(
            fmt::format("source `{}`: reading lake table `{}`", spec.name, spec.table));
    }
    source->current_ = *current;
    source->checked_micros_ = steady_micros();
    if (spec.start_from == StartFrom::kLatest) {
        source->snapshot_ = *current;
    } else if (spec.incremental) {
        const uint64_t after = spec.start_snapshot.value_or(0);
        if (after > *current) {
            return Error(ErrorCode::kConfig,
                         fmt::format("source `{}`: start_snapshot {} is after table `{}`'s "
                                     "current snapshot, {}",
                                     spec.name, after, spec.table, *current),
                         spec.location);
        }
        source->snapshot_ = after;
    } else {
        // The table as it is now, read whole, then what follows (snapshot 0 is empty).
        source->snapshot_ = *current;
        source->whole_ = *current > 0;
    }
    return source;
}

Error StreamingLakeSource::expired(uint64_t snapshot, const Error& cause) const {
    return Error(ErrorCode::kNotFound,
                 fmt::format("source `{}`: snapshot {} of lake table `{}`, where the pipeline "
                             "stands, is no longer in the table's metadata (expired by `lake "
                             "expire-snapshots`?): the rows committed after it cannot be told "
                             "apart from older ones, so the source stops instead of skipping "
                             "them ({}). To go on from the table as it is now, remove the "
                             "pipeline's checkpoints (<data_dir>/checkpoints/<pipeline>) and "
                             "restart (with `start_from: latest` to read only new snapshots); "
                             "expire with a `--retain-last` that keeps the snapshots a "
                             "streaming pipeline has not read yet",
                             name_, snapshot, table_name_, cause.message()));
}

Status StreamingLakeSource::plan_step() {
    LakeTable::ScanOptions options;
    if (whole_) {
        options.snapshot_id = snapshot_;
    } else {
        options.snapshot_id = snapshot_ + 1;
        options.appended_after = snapshot_;
    }
    auto plan = table_.plan(options);
    if (!plan.ok()) {
        if (plan.error().code() == ErrorCode::kNotFound) return expired(snapshot_, plan.error());
        return std::move(plan).error().with_context("reading " + name_);
    }
    if (files_done_ > plan->files.size()) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: position {} is past the {} data files of "
                                 "snapshot {} of lake table `{}`",
                                 name_, position().to_string(), plan->files.size(),
                                 *options.snapshot_id, table_name_));
    }
    // A whole snapshot oldest data first (by sequence number, then manifest order): the order
    // the rows were committed in, so event times read in order and the watermark is not ahead
    // of older files. Fixed for a snapshot, so positions stay valid across restarts.
    std::stable_sort(
        plan->files.begin(), plan->files.end(),
        [](const DataFile& a, const DataFile& b) { return a.sequence_number < b.sequence_number; });
    plan_ = std::move(plan).value();
    return {};
}

void StreamingLakeSource::step_done() {
    if (whole_) {
        whole_ = false;
    } else {
        ++snapshot_;
    }
    files_done_ = 0;
    plan_.reset();
}

Result<PollResult> StreamingLakeSource::poll(DecodeSink& sink, std::size_t /*max_records*/,
                                             Listener* listener) {
    bool moved = false;
    while (true) {
        if (!whole_ && snapshot_ >= current_) {
            // Caught up: the metadata is read again once per poll_interval.
            const int64_t now = steady_micros();
            if (checked_micros_ && now - *checked_micros_ < poll_interval_micros_)
                return moved ? PollResult::kData : PollResult::kIdle;
            checked_micros_ = now;
            auto current = table_.current_snapshot_id();
            if (!current.ok()) return std::move(current).error().with_context("reading " + name_);
            if (*current < snapshot_) {
                return Error(ErrorCode::kOutOfRange,
                             fmt::format("source `{}`: the pipeline has read lake table `{}` up "
                                         "to snapshot {}, but the table's current snapshot is {} "
                                         "(was it rolled back, or made anew?)",
                                         name_, table_name_, snapshot_, *current));
            }
            current_ = *current;
            if (snapshot_ >= current_) return moved ? PollResult::kData : PollResult::kIdle;
        }
        if (changelog_ && !whole_) {
            // One data file's changes of snapshot_ + 1 per poll.
            if (listener != nullptr && files_done_ == 0) {
                listener->on_unit_start(
                    fmt::format("lake table {} snapshot {}", table_name_, snapshot_ + 1));
            }
            auto changes = table_.scan_changes(
                snapshot_, snapshot_ + 1, {},
                [&](Batch batch, LakeTable::ChangeKind kind, uint64_t) -> Status {
                    return sink.on_batch(LakeSource::as_delivered(schema_, batch, kind));
                },
                LakeTable::ChangeWindow{static_cast<std::size_t>(files_done_), 1});
            if (!changes.ok()) {
                if (changes.error().code() == ErrorCode::kNotFound)
                    return expired(snapshot_, changes.error());
                return std::move(changes).error().with_context("reading " + name_);
            }
            files_done_ += changes->files;
            if (!changes->more) step_done();
            if (changes->files > 0) return PollResult::kData;
            moved = true;  // a snapshot that changed no rows (a compaction)
            continue;
        }
        if (!plan_) MILLRACE_TRY(plan_step());
        if (files_done_ == plan_->files.size()) {
            step_done();  // no file left (or none: a compaction appends none)
            moved = true;
            continue;
        }
        LakeTable::ScanPlan one;
        one.snapshot_id = plan_->snapshot_id;
        one.files.push_back(plan_->files[files_done_]);
        one.deletes = plan_->deletes;  // a whole snapshot's; an incremental plan has none
        one.files_total = 1;
        if (listener != nullptr) {
            listener->on_unit_start(fmt::format("lake table {} snapshot {} file {}", table_name_,
                                                plan_->snapshot_id, one.files.front().path));
        }
        const std::optional<LakeTable::ChangeKind> change =
            changelog_ ? std::optional(LakeTable::ChangeKind::kInsert) : std::nullopt;
        auto read = table_.read(one, {}, [&](Batch batch) -> Status {
            return sink.on_batch(LakeSource::as_delivered(schema_, batch, change));
        });
        if (!read.ok()) return std::move(read).error().with_context("reading " + name_);
        bytes_read_ += one.files.front().bytes;
        if (++files_done_ == plan_->files.size()) step_done();
        return PollResult::kData;
    }
}

Status StreamingLakeSource::seek(const SourcePosition& position) {
    if (position.line > 1 || (position.line == 1 && position.unit == 0)) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: {} is not a position of a lake source "
                                 "(snapshot:files:whole, whole 0 or 1)",
                                 name_, position.to_string()));
    }
    const uint64_t snapshot = position.unit;
    auto current = table_.current_snapshot_id();
    if (!current.ok()) return std::move(current).error().with_context("reading " + name_);
    if (snapshot > *current) {
        return Error(ErrorCode::kOutOfRange,
                     fmt::format("source `{}`: the pipeline has read lake table `{}` up to "
                                 "snapshot {}, but the table's current snapshot is {} (was it "
                                 "rolled back, or made anew?); remove the pipeline's "
                                 "checkpoints to read it from the start",
                                 name_, table_name_, snapshot, *current));
    }
    // The snapshot the position stands on must still be listed: a plan from it tells the rows
    // after it apart, and a whole read reads it.
    if (snapshot > 0) {
        auto listed = table_.snapshot(snapshot);
        if (!listed.ok()) {
            if (listed.error().code() == ErrorCode::kNotFound)
                return expired(snapshot, listed.error());
            return std::move(listed).error().with_context("reading " + name_);
        }
    }
    snapshot_ = snapshot;
    files_done_ = position.offset;
    whole_ = position.line == 1;
    current_ = *current;
    checked_micros_ = steady_micros();
    plan_.reset();
    return {};
}

}  // namespace millrace
