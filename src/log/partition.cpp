#include "log/partition.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "common/durable_file.h"
#include "log/crc32c.h"
#include "log/segment.h"

namespace millrace {

namespace {

/// Base offsets of the `<20 digits>.log` files in `dir`, sorted.
Result<std::vector<Offset>> list_segments(const std::string& dir) {
    DIR* handle = ::opendir(dir.c_str());
    if (handle == nullptr) return io_error("listing " + dir);
    std::vector<Offset> bases;
    while (const dirent* entry = ::readdir(handle)) {
        const std::string_view name = entry->d_name;
        if (name.size() != 24 || !name.ends_with(".log")) continue;
        if (name.find_first_not_of("0123456789") != 20) continue;
        bases.push_back(std::strtoll(std::string(name.substr(0, 20)).c_str(), nullptr, 10));
    }
    ::closedir(handle);
    std::sort(bases.begin(), bases.end());
    return bases;
}

constexpr std::string_view kTransactionsMagic = "millrace-transactions 1";

constexpr std::string_view kCheckpointMagic = "millrace-durable 1";

struct Checkpoint {
    Offset segment = 0;
    uint64_t position = 0;
    Offset end_offset = 0;
};

/// The durable checkpoint, or nullopt when there is none (a partition from before checkpoints,
/// or one that was never synced). A damaged checkpoint is an error: guessing could cut data.
Result<std::optional<Checkpoint>> read_checkpoint(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::optional<Checkpoint>();
    std::string magic;
    Checkpoint checkpoint;
    if (!std::getline(in, magic) || magic != kCheckpointMagic ||
        !(in >> checkpoint.segment >> checkpoint.position >> checkpoint.end_offset) ||
        checkpoint.segment < 0 || checkpoint.end_offset < checkpoint.segment) {
        return Error(ErrorCode::kCorruption,
                     path +
                         " is damaged; move it aside to recover without it (a torn tail is "
                         "then told from damage by the scan alone)");
    }
    return std::optional<Checkpoint>(checkpoint);
}

}  // namespace

Partition::Partition(std::string dir, PartitionId id, TopicConfig config, bool read_only)
    : dir_(std::move(dir)), id_(id), config_(std::move(config)), read_only_(read_only) {}

Partition::~Partition() = default;

Result<std::shared_ptr<Partition>> Partition::open(std::string dir, PartitionId id,
                                                   TopicConfig config, bool read_only) {
    if (!read_only) MILLRACE_TRY(create_directories_durably(dir));
    std::shared_ptr<Partition> partition(
        new Partition(std::move(dir), id, std::move(config), read_only));
    MILLRACE_TRY(partition->load());
    return partition;
}

Status Partition::load() {
    MILLRACE_ASSIGN_OR_RETURN(std::vector<Offset> bases, list_segments(dir_));
    if (bases.empty() && read_only_) {
        return Error(ErrorCode::kCorruption, "partition " + dir_ + " has no segment");
    }
    MILLRACE_ASSIGN_OR_RETURN(std::optional<Checkpoint> checkpoint,
                              read_checkpoint(dir_ + "/durable.checkpoint"));
    if (bases.empty()) {
        // A new partition; or one whose segments are gone, whose offsets must not be reused.
        const Offset base = checkpoint ? checkpoint->end_offset : 0;
        MILLRACE_ASSIGN_OR_RETURN(auto segment, Segment::create(dir_, base));
        segments_.push_back(std::move(segment));
        MILLRACE_TRY(sync_directory(dir_));
    }
    for (std::size_t i = 0; i < bases.size(); ++i) {
        SegmentOpenOptions options;
        options.active = i + 1 == bases.size();
        options.read_only = read_only_;
        if (options.active) {
            if (checkpoint && checkpoint->segment == bases[i]) {
                options.durable_position = checkpoint->position;
            }
            if (checkpoint) options.assigned_end = checkpoint->end_offset;
        } else {
            options.durable_position = std::numeric_limits<uint64_t>::max();
            options.assigned_end = bases[i + 1];
        }
        MILLRACE_ASSIGN_OR_RETURN(auto segment, Segment::open(dir_, bases[i], options));
        if (options.active) truncated_bytes_ = segment->truncated_bytes();
        segments_.push_back(std::move(segment));
    }
    if (!read_only_) MILLRACE_TRY(segments_.back()->sync());
    durable_ = segments_.back()->next_offset();
    durable_segment_ = segments_.back()->base_offset();
    durable_position_ = segments_.back()->size();
    if (checkpoint && checkpoint->segment == durable_segment_ &&
        checkpoint->position == durable_position_ && checkpoint->end_offset == durable_) {
        checkpointed_ = durable_;  // still true: no need to write it again
    }
    return load_transactions();
}

Status Partition::load_transactions() {
    const std::string path = dir_ + "/transactions";
    std::ifstream in(path);
    if (!in) return {};
    std::string line;
    if (!std::getline(in, line) || line != kTransactionsMagic) {
        return Error(ErrorCode::kCorruption, path + " is damaged (bad first line)");
    }
    // Entries beyond the end were about records a crash cut off (a torn tail): they never were.
    const Offset end = segments_.back()->next_offset();
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::istringstream fields(line);
        std::string kind;
        AbortedTransaction entry;
        fields >> kind >> entry.producer_id >> entry.first_offset;
        if (kind == "aborted") fields >> entry.last_offset;
        if (!fields || (kind != "open" && kind != "aborted")) {
            return Error(ErrorCode::kCorruption, path + " is damaged: \"" + line + "\"");
        }
        if (entry.first_offset >= end) continue;
        if (kind == "open") {
            open_transactions_[entry.producer_id] = entry.first_offset;
        } else {
            aborted_.push_back(entry);
        }
    }
    return {};
}

Status Partition::save_transactions_locked() {
    if (removed_.load(std::memory_order_acquire)) return {};
    // Aborted transactions that retention removed entirely matter to no reader any more.
    const Offset start = segments_.front()->base_offset();
    std::erase_if(aborted_, [&](const AbortedTransaction& t) { return t.last_offset < start; });
    std::string text = std::string(kTransactionsMagic) + "\n";
    for (const auto& [producer, first] : open_transactions_) {
        text += "open " + std::to_string(producer) + " " + std::to_string(first) + "\n";
    }
    for (const AbortedTransaction& t : aborted_) {
        text += "aborted " + std::to_string(t.producer_id) + " " + std::to_string(t.first_offset) +
                " " + std::to_string(t.last_offset) + "\n";
    }
    return write_file_durably(dir_ + "/transactions", text);
}

std::vector<PartitionDamage> Partition::damage() const {
    std::lock_guard lock(mutex_);
    std::vector<PartitionDamage> out;
    for (const auto& segment : segments_) {
        for (const SegmentDamage& damage : segment->damage()) {
            out.push_back({segment->describe(damage), damage.first_offset, damage.end_offset});
        }
    }
    return out;
}

Status Partition::save_checkpoint() {
    if (read_only_ || removed_.load(std::memory_order_acquire)) return {};
    std::lock_guard checkpoint_lock(checkpoint_mutex_);
    Checkpoint checkpoint;
    {
        std::lock_guard lock(durable_mutex_);
        if (durable_ == checkpointed_) return {};
        checkpoint = {durable_segment_, durable_position_, durable_};
    }
    const std::string text =
        std::string(kCheckpointMagic) + "\n" + std::to_string(checkpoint.segment) + " " +
        std::to_string(checkpoint.position) + " " + std::to_string(checkpoint.end_offset) + "\n";
    MILLRACE_TRY(write_file_durably(dir_ + "/durable.checkpoint", text));
    std::lock_guard lock(durable_mutex_);
    checkpointed_ = checkpoint.end_offset;
    return {};
}

Status Partition::roll_locked() {
    const std::shared_ptr<Segment>& active = segments_.back();
    MILLRACE_TRY(active->seal());
    MILLRACE_ASSIGN_OR_RETURN(auto next, Segment::create(dir_, active->next_offset()));
    segments_.push_back(std::move(next));
    return sync_directory(dir_);
}

Result<AppendResult> Partition::append(std::span<const RecordInput> records) {
    if (records.empty()) return AppendResult{end_offset(), end_offset() - 1};
    // The encoding buffer is the calling thread's, reused from append to append (no allocation
    // and no page faults per batch); one that grew past a large batch is given back.
    constexpr std::size_t kKeptBufferBytes = 4u << 20;
    thread_local std::string batch;
    batch.clear();
    record_batch::encode(records, batch);
    Result<AppendResult> result = append_encoded(batch);
    if (batch.capacity() > kKeptBufferBytes) std::string().swap(batch);
    return result;
}

Result<AppendResult> Partition::append_encoded(std::string& batch) {
    if (batch.size() > record_batch::kMaxBatchSize) {
        // Recovery would take a larger batch for a corrupt length and cut it off.
        return Error(ErrorCode::kResourceExhausted,
                     "record batch of " + std::to_string(batch.size()) + " bytes exceeds " +
                         std::to_string(record_batch::kMaxBatchSize));
    }
    if (read_only_) {
        return Error(ErrorCode::kUnavailable, "partition " + dir_ + " is open read-only");
    }
    Result<AppendResult> appended = [&]() -> Result<AppendResult> {
        std::lock_guard lock(mutex_);
        const record_batch::Header sent = record_batch::read_header(batch.data());
        if (sent.control()) {
            return Error(ErrorCode::kInvalidArgument,
                         "control batches are appended by append_marker");
        }
        if (sent.transactional() && !open_transactions_.contains(sent.producer_id)) {
            // Durable before the batch: after a crash the transaction is known to be open (and
            // its end is written), whether the batch made it or not.
            open_transactions_[sent.producer_id] = segments_.back()->next_offset();
            MILLRACE_TRY(save_transactions_locked());
        }
        return append_locked(batch);
    }();
    if (appended.ok() && signal_) signal_->notify();  // outside the lock: waiters read
    return appended;
}

Result<AppendResult> Partition::append_marker(int64_t producer_id, int16_t epoch, bool commit,
                                              int64_t timestamp_ms) {
    if (read_only_) {
        return Error(ErrorCode::kUnavailable, "partition " + dir_ + " is open read-only");
    }
    std::string batch;
    record_batch::encode_control(producer_id, epoch, commit, timestamp_ms, batch);
    Result<AppendResult> appended = [&]() -> Result<AppendResult> {
        std::lock_guard lock(mutex_);
        MILLRACE_ASSIGN_OR_RETURN(AppendResult done, append_locked(batch));
        auto open = open_transactions_.find(producer_id);
        if (open != open_transactions_.end()) {
            if (!commit) aborted_.push_back({producer_id, open->second, done.last});
            open_transactions_.erase(open);
            MILLRACE_TRY(save_transactions_locked());
        }
        return done;
    }();
    // The marker moves the last stable offset: read_committed readers may go on.
    if (appended.ok() && signal_) signal_->notify();
    return appended;
}

Offset Partition::stable_offset() const {
    std::lock_guard lock(mutex_);
    Offset stable = segments_.back()->next_offset();
    for (const auto& [producer, first] : open_transactions_) stable = std::min(stable, first);
    return stable;
}

std::vector<AbortedTransaction> Partition::aborted_transactions(Offset from, Offset to) const {
    std::lock_guard lock(mutex_);
    std::vector<AbortedTransaction> out;
    for (const AbortedTransaction& t : aborted_) {
        if (t.last_offset >= from && t.first_offset <= to) out.push_back(t);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.first_offset < b.first_offset; });
    return out;
}

Result<AppendResult> Partition::append_locked(std::string& batch) {
    if (segments_.back()->size() > 0 &&
        segments_.back()->size() + batch.size() > static_cast<uint64_t>(config_.segment_bytes)) {
        MILLRACE_TRY(roll_locked());
    }
    Segment& active = *segments_.back();
    const Offset base = active.next_offset();
    record_batch::set_base_offset(batch.data(), base);
    const record_batch::Header header = record_batch::read_header(batch.data());
    MILLRACE_TRY(active.append(batch, header));
    return AppendResult{base, header.last_offset()};
}

Offset Partition::start_offset() const {
    std::lock_guard lock(mutex_);
    return segments_.front()->base_offset();
}

Offset Partition::end_offset() const {
    std::lock_guard lock(mutex_);
    return segments_.back()->next_offset();
}

Offset Partition::durable_offset() const {
    std::lock_guard lock(durable_mutex_);
    return durable_;
}

uint64_t Partition::size_bytes() const {
    std::lock_guard lock(mutex_);
    uint64_t total = 0;
    for (const auto& segment : segments_) total += segment->size();
    return total;
}

int Partition::segment_count() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(segments_.size());
}

Status Partition::sync() {
    if (read_only_) return {};
    std::lock_guard sync_lock(sync_mutex_);
    std::shared_ptr<Segment> active;
    Offset target = 0;
    uint64_t position = 0;
    {
        std::lock_guard lock(mutex_);
        active = segments_.back();
        target = active->next_offset();
        position = active->size();
    }
    Status status = active->sync();
    std::vector<std::pair<Offset, DurableCallback>> due;
    {
        std::lock_guard lock(durable_mutex_);
        if (status.ok() && target >= durable_) {
            durable_ = target;
            durable_segment_ = active->base_offset();
            durable_position_ = position;
        }
        auto keep = std::partition(waiters_.begin(), waiters_.end(),
                                   [&](const auto& waiter) { return waiter.first > target; });
        due.assign(std::make_move_iterator(keep), std::make_move_iterator(waiters_.end()));
        waiters_.erase(keep, waiters_.end());
    }
    for (auto& [offset, callback] : due) callback(status);
    return status;
}

void Partition::when_durable(Offset end, DurableCallback callback) {
    {
        std::lock_guard lock(durable_mutex_);
        if (durable_ < end) {
            waiters_.emplace_back(end, std::move(callback));
            return;
        }
    }
    callback(Status{});
}

Result<Offset> Partition::read(Offset from, Offset bound, std::size_t max_records,
                               std::size_t max_bytes, std::string& buffer,
                               std::vector<RecordView>& out) const {
    // Records of open transactions may still be aborted: no reader gets past the first one.
    bound = std::max(from, std::min(bound, stable_offset()));
    MILLRACE_ASSIGN_OR_RETURN(const bool any,
                              read_raw(from, bound, max_records, max_bytes, buffer));
    if (!any) return from;
    // Batches compressed by a Kafka client are expanded first, so the views borrow the records.
    std::string expanded;
    MILLRACE_ASSIGN_OR_RETURN(const bool compressed,
                              record_batch::decompress_all(buffer, expanded));
    if (compressed) buffer.swap(expanded);
    const std::size_t first = out.size();
    std::size_t at = 0;
    Offset scanned = from;  // past the last batch read
    std::vector<AbortedTransaction> aborted;
    bool aborted_loaded = false;
    while (at < buffer.size()) {
        const record_batch::Header header = record_batch::read_header(buffer.data() + at);
        const std::string_view batch(buffer.data() + at, header.total_size());
        at += header.total_size();
        scanned = std::max(scanned, header.last_offset() + 1);
        if (header.transactional() && !header.control()) {
            if (!aborted_loaded) {
                aborted = aborted_transactions(from, bound);
                aborted_loaded = true;
            }
            const bool dropped = std::any_of(aborted.begin(), aborted.end(), [&](const auto& t) {
                return t.producer_id == header.producer_id &&
                       header.base_offset >= t.first_offset && header.base_offset <= t.last_offset;
            });
            if (dropped) continue;
        }
        MILLRACE_TRY(record_batch::decode(batch, from, out));
    }
    while (out.size() > first && out.back().offset >= bound) out.pop_back();
    if (out.size() - first > max_records) {
        out.resize(first + max_records);
        return out.back().offset + 1;
    }
    // Markers and aborted batches yield no records, but the reader moves past them.
    return buffer.empty() ? bound : std::min(scanned, bound);
}

Result<bool> Partition::read_batches(Offset from, std::size_t max_bytes,
                                     std::string& buffer) const {
    Offset bound = std::numeric_limits<Offset>::max();
    MILLRACE_ASSIGN_OR_RETURN(
        const bool any,
        read_raw(from, bound, std::numeric_limits<std::size_t>::max(), max_bytes, buffer));
    return any && !buffer.empty();
}

Result<bool> Partition::read_raw(Offset from, Offset& bound, std::size_t max_records,
                                 std::size_t max_bytes, std::string& buffer) const {
    std::vector<std::shared_ptr<Segment>> segments;
    {
        std::lock_guard lock(mutex_);
        segments = segments_;
    }
    const Offset start = segments.front()->base_offset();
    const Offset end = segments.back()->next_offset();
    if (from < start || from > end) {
        return Error(ErrorCode::kOutOfRange,
                     "offset " + std::to_string(from) + " is outside the partition's range [" +
                         std::to_string(start) + ", " + std::to_string(end) + "]");
    }
    bound = std::min(bound, end);
    buffer.clear();
    if (from >= bound || max_records == 0) return false;
    std::size_t index = segments.size() - 1;
    while (index > 0 && segments[index]->base_offset() > from) --index;

    std::size_t records = 0;
    bool done = false;
    for (; index < segments.size() && !done; ++index) {
        const Segment& segment = *segments[index];
        uint64_t position = segment.position_for(from);
        const uint64_t size = segment.size();
        while (position < size) {
            char header_bytes[record_batch::kHeaderSize];
            MILLRACE_ASSIGN_OR_RETURN(std::size_t got,
                                      segment.read(position, header_bytes, sizeof(header_bytes)));
            const record_batch::Header header = record_batch::read_header(header_bytes);
            if (const SegmentDamage* damage = segment.damage_at(position, from)) {
                if (!buffer.empty()) {
                    done = true;  // hand out what precedes it; the next read reports it
                    break;
                }
                return Error(ErrorCode::kCorruption,
                             "damaged log data: " + segment.describe(*damage) +
                                 "; records from offset " + std::to_string(damage->end_offset) +
                                 " on are intact (read from there to skip it)");
            }
            if (const uint64_t after = segment.skip_damage(position); after != position) {
                position = after;
                continue;
            }
            if (got != sizeof(header_bytes) || header.batch_length < 0 ||
                header.total_size() > record_batch::kMaxBatchSize ||
                header.total_size() > size - position) {
                return Error(ErrorCode::kCorruption, "bad batch header in " + segment.log_path() +
                                                         " at byte " + std::to_string(position));
            }
            if (header.base_offset >= bound) {
                done = true;
                break;
            }
            if (header.last_offset() >= from) {
                const std::size_t at = buffer.size();
                buffer.resize(at + header.total_size());
                MILLRACE_ASSIGN_OR_RETURN(
                    got, segment.read(position, buffer.data() + at, header.total_size()));
                if (got != header.total_size()) {
                    return Error(ErrorCode::kCorruption, "short batch in " + segment.log_path() +
                                                             " at byte " +
                                                             std::to_string(position));
                }
                // Recovery checked the active segment; this catches damage that appeared in a
                // sealed one since (its indexes load without a scan), so it is never read as data.
                if (crc32c(buffer.data() + at + 21, header.total_size() - 21) != header.crc) {
                    if (at > 0) {
                        buffer.resize(at);  // hand out what precedes it first
                        done = true;
                        break;
                    }
                    return Error(
                        ErrorCode::kCorruption,
                        "damaged log data: " + segment.log_path() + " bytes [" +
                            std::to_string(position) + ", " +
                            std::to_string(position + header.total_size()) +
                            ") fail their CRC (offsets [" + std::to_string(header.base_offset) +
                            ", " + std::to_string(header.last_offset() + 1) +
                            ")); records from offset " + std::to_string(header.last_offset() + 1) +
                            " on are intact (read from there to skip it)");
                }
                records += static_cast<std::size_t>(header.record_count);
                if (header.last_offset() + 1 >= bound || records >= max_records ||
                    buffer.size() >= max_bytes) {
                    done = true;
                    break;
                }
            }
            position += header.total_size();
        }
    }
    return true;
}

Offset Partition::offset_for_time(int64_t timestamp_ms) const {
    std::lock_guard lock(mutex_);
    for (const auto& segment : segments_) {
        if (segment->max_timestamp() >= timestamp_ms)
            return segment->offset_before_time(timestamp_ms);
    }
    return segments_.back()->next_offset();
}

Result<int> Partition::apply_retention(int64_t now_ms) {
    if (read_only_) return 0;
    std::vector<std::shared_ptr<Segment>> removed;
    {
        std::lock_guard lock(mutex_);
        // An idle topic's active segment would otherwise outlive its age: roll it when all of it
        // is past retention, so the loop below can delete it.
        const Segment& active = *segments_.back();
        if (config_.retention_ms >= 0 && active.size() > 0 &&
            active.max_timestamp() < now_ms - config_.retention_ms) {
            MILLRACE_TRY(roll_locked());
        }
        uint64_t total = 0;
        for (const auto& segment : segments_) total += segment->size();
        std::size_t drop = 0;
        while (drop + 1 < segments_.size()) {
            const Segment& oldest = *segments_[drop];
            const bool too_big = config_.retention_bytes >= 0 &&
                                 total > static_cast<uint64_t>(config_.retention_bytes);
            const bool too_old =
                config_.retention_ms >= 0 && oldest.max_timestamp() < now_ms - config_.retention_ms;
            if (!too_big && !too_old) break;
            total -= oldest.size();
            ++drop;
        }
        removed.assign(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(drop));
        segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    for (const auto& segment : removed) MILLRACE_TRY(segment->remove_files());
    if (!removed.empty()) MILLRACE_TRY(sync_directory(dir_));
    return static_cast<int>(removed.size());
}

}  // namespace millrace
