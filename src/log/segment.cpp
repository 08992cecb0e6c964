#include "log/segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "common/durable_file.h"

namespace millrace {

namespace {

constexpr std::size_t kIndexEntrySize = 8;
constexpr std::size_t kTimeEntrySize = 12;

void put_be32(std::string& out, uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}
void put_be64(std::string& out, uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}
uint32_t get_be32(const char* in) {
    const auto* b = reinterpret_cast<const unsigned char*>(in);
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}
uint64_t get_be64(const char* in) { return (uint64_t{get_be32(in)} << 32) | get_be32(in + 4); }

Status write_all(int fd, const char* data, std::size_t size, const std::string& what) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error("writing " + what);
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return {};
}

Result<std::string> read_whole(int fd, const std::string& what) {
    struct stat info {};
    if (::fstat(fd, &info) != 0) return io_error("stat " + what);
    std::string out(static_cast<std::size_t>(info.st_size), '\0');
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t n =
            ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error("reading " + what);
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    out.resize(done);
    return out;
}

}  // namespace

std::string segment_path_prefix(const std::string& dir, Offset base) {
    char name[32];
    std::snprintf(name, sizeof(name), "%020" PRId64, base);
    return dir + "/" + name;
}

Segment::Segment(std::string path_prefix, Offset base)
    : prefix_(std::move(path_prefix)),
      base_(base),
      next_offset_(base),
      max_timestamp_(std::numeric_limits<int64_t>::min()) {}

Segment::~Segment() {
    for (int fd : {log_fd_, index_fd_, time_fd_}) {
        if (fd >= 0) ::close(fd);
    }
}

Status Segment::open_files(bool truncate, bool read_only) {
    if (read_only) {
        log_fd_ = ::open((prefix_ + ".log").c_str(), O_RDONLY | O_CLOEXEC);
        if (log_fd_ < 0) return io_error("opening " + prefix_ + ".log");
        // A reader keeps its indexes in memory only; the index files may be absent or behind.
        index_fd_ = ::open((prefix_ + ".index").c_str(), O_RDONLY | O_CLOEXEC);
        time_fd_ = ::open((prefix_ + ".timeindex").c_str(), O_RDONLY | O_CLOEXEC);
        return {};
    }
    const int flags = O_RDWR | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0);
    log_fd_ = ::open((prefix_ + ".log").c_str(), flags, 0644);
    if (log_fd_ < 0) return io_error("opening " + prefix_ + ".log");
    index_fd_ = ::open((prefix_ + ".index").c_str(), flags | O_APPEND, 0644);
    if (index_fd_ < 0) return io_error("opening " + prefix_ + ".index");
    time_fd_ = ::open((prefix_ + ".timeindex").c_str(), flags | O_APPEND, 0644);
    if (time_fd_ < 0) return io_error("opening " + prefix_ + ".timeindex");
    return {};
}

Result<std::shared_ptr<Segment>> Segment::create(const std::string& dir, Offset base) {
    std::shared_ptr<Segment> segment(new Segment(segment_path_prefix(dir, base), base));
    MILLRACE_TRY(segment->open_files(true, false));
    return segment;
}

Result<std::shared_ptr<Segment>> Segment::open(const std::string& dir, Offset base,
                                               const SegmentOpenOptions& options) {
    std::shared_ptr<Segment> segment(new Segment(segment_path_prefix(dir, base), base));
    MILLRACE_TRY(segment->open_files(false, options.read_only));
    bool indexes_ok = false;
    if (!options.active && segment->index_fd_ >= 0 && segment->time_fd_ >= 0) {
        MILLRACE_TRY(segment->load_indexes(indexes_ok));
    }
    if (!indexes_ok) MILLRACE_TRY(segment->recover(options));
    return segment;
}

Status Segment::load_indexes(bool& ok) {
    ok = false;
    MILLRACE_ASSIGN_OR_RETURN(std::string index_bytes, read_whole(index_fd_, prefix_ + ".index"));
    MILLRACE_ASSIGN_OR_RETURN(std::string time_bytes, read_whole(time_fd_, prefix_ + ".timeindex"));
    struct stat info {};
    if (::fstat(log_fd_, &info) != 0) return io_error("stat " + prefix_ + ".log");
    const auto log_size = static_cast<uint64_t>(info.st_size);
    if (index_bytes.size() % kIndexEntrySize != 0 || time_bytes.size() % kTimeEntrySize != 0 ||
        time_bytes.empty() || log_size == 0) {
        return {};
    }
    std::vector<IndexEntry> index;
    for (std::size_t at = 0; at < index_bytes.size(); at += kIndexEntrySize) {
        IndexEntry entry{get_be32(index_bytes.data() + at), get_be32(index_bytes.data() + at + 4)};
        if (entry.position >= log_size ||
            (!index.empty() && (entry.relative_offset <= index.back().relative_offset ||
                                entry.position <= index.back().position))) {
            return {};
        }
        index.push_back(entry);
    }
    std::vector<TimeEntry> times;
    for (std::size_t at = 0; at < time_bytes.size(); at += kTimeEntrySize) {
        times.push_back({static_cast<int64_t>(get_be64(time_bytes.data() + at)),
                         get_be32(time_bytes.data() + at + 8)});
    }
    // The seal entry holds the segment's end: its relative offset is the record count.
    const TimeEntry& last = times.back();
    index_ = std::move(index);
    time_index_ = std::move(times);
    times.clear();
    time_index_.pop_back();
    next_offset_.store(base_ + last.relative_offset, std::memory_order_release);
    max_timestamp_.store(last.timestamp, std::memory_order_release);
    size_.store(log_size, std::memory_order_release);
    ok = true;
    return {};
}

void Segment::add_index_entries(const record_batch::Header& header, uint64_t position,
                                std::string& index_bytes, std::string& time_bytes) {
    const auto relative = static_cast<uint32_t>(header.base_offset - base_);
    {
        std::lock_guard lock(index_mutex_);
        index_.push_back({relative, static_cast<uint32_t>(position)});
        time_index_.push_back({max_timestamp_.load(std::memory_order_relaxed), relative});
    }
    put_be32(index_bytes, relative);
    put_be32(index_bytes, static_cast<uint32_t>(position));
    put_be64(time_bytes, static_cast<uint64_t>(max_timestamp_.load(std::memory_order_relaxed)));
    put_be32(time_bytes, relative);
}

Result<bool> Segment::valid_batch_at(uint64_t position, uint64_t file_size, Offset next,
                                     record_batch::Header& header, std::string& batch) const {
    if (file_size - position < record_batch::kHeaderSize) return false;
    char header_bytes[record_batch::kHeaderSize];
    MILLRACE_ASSIGN_OR_RETURN(std::size_t got, read(position, header_bytes, sizeof(header_bytes)));
    if (got != sizeof(header_bytes)) return false;
    header = record_batch::read_header(header_bytes);
    if (header.magic != record_batch::kMagic || header.batch_length < 0 ||
        header.total_size() < record_batch::kHeaderSize ||
        header.total_size() > record_batch::kMaxBatchSize ||
        header.total_size() > file_size - position || header.base_offset < next ||
        header.last_offset_delta < 0 ||
        header.last_offset() - base_ > std::numeric_limits<uint32_t>::max() - 1) {
        return false;
    }
    batch.resize(header.total_size());
    MILLRACE_ASSIGN_OR_RETURN(got, read(position, batch.data(), batch.size()));
    return got == batch.size() && record_batch::validate(batch).ok();
}

Result<std::optional<uint64_t>> Segment::find_next_batch(uint64_t from, uint64_t file_size,
                                                         Offset next) const {
    // Reads the rest of the file in chunks and tries every byte position whose header looks
    // plausible (magic 2, sane length, offsets ahead); only those pay for a CRC check.
    constexpr std::size_t kChunk = std::size_t{1} << 20;
    std::string chunk;
    std::string batch;
    record_batch::Header header;
    for (uint64_t start = from; start + record_batch::kHeaderSize <= file_size;) {
        const std::size_t want = static_cast<std::size_t>(
            std::min<uint64_t>(kChunk + record_batch::kHeaderSize, file_size - start));
        chunk.resize(want);
        MILLRACE_ASSIGN_OR_RETURN(std::size_t got, read(start, chunk.data(), want));
        if (got < record_batch::kHeaderSize) break;
        const std::size_t candidates = got - record_batch::kHeaderSize + 1;
        for (std::size_t i = 0; i < candidates && i < kChunk; ++i) {
            if (chunk[i + 16] != record_batch::kMagic) continue;
            const record_batch::Header h = record_batch::read_header(chunk.data() + i);
            // The offsets a damaged range can hold are bounded by its bytes (a record takes
            // more than one), which also rejects a batch whose base offset (outside the CRC)
            // was hit.
            const uint64_t skipped = start + i - from;
            if (h.batch_length < 0 || h.base_offset < next ||
                static_cast<uint64_t>(h.base_offset - next) > skipped ||
                h.total_size() > record_batch::kMaxBatchSize ||
                h.total_size() > file_size - (start + i)) {
                continue;
            }
            MILLRACE_ASSIGN_OR_RETURN(bool valid,
                                      valid_batch_at(start + i, file_size, next, header, batch));
            if (valid) return std::optional<uint64_t>(start + i);
        }
        start += kChunk;
    }
    return std::optional<uint64_t>();
}

Status Segment::recover(const SegmentOpenOptions& options) {
    {
        std::lock_guard lock(index_mutex_);
        index_.clear();
        time_index_.clear();
    }
    damage_.clear();
    struct stat info {};
    if (::fstat(log_fd_, &info) != 0) return io_error("stat " + prefix_ + ".log");
    const auto file_size = static_cast<uint64_t>(info.st_size);
    uint64_t position = 0;
    Offset next = base_;
    int64_t max_timestamp = std::numeric_limits<int64_t>::min();
    max_timestamp_.store(max_timestamp, std::memory_order_relaxed);
    uint64_t since_index = kIndexIntervalBytes;  // the first batch always gets an entry
    std::string batch;
    std::string ignored_index;
    std::string ignored_time;
    record_batch::Header header;
    uint64_t end = file_size;  // bytes of the file this segment keeps
    while (position < file_size) {
        MILLRACE_ASSIGN_OR_RETURN(bool valid,
                                  valid_batch_at(position, file_size, next, header, batch));
        if (!valid || header.base_offset != next) {
            MILLRACE_ASSIGN_OR_RETURN(std::optional<uint64_t> resume,
                                      find_next_batch(position, file_size, next));
            if (!resume) {
                // Nothing valid follows. Beyond the durable position of the segment being
                // written, that is the torn write of a crash; otherwise it is damage.
                const bool torn = options.active && position >= options.durable_position;
                if (!torn) {
                    const Offset assigned = std::max(next, options.assigned_end);
                    damage_.push_back({position, file_size, next, assigned});
                    next = assigned;
                    since_index = kIndexIntervalBytes;  // the next append gets an entry
                }
                // A reader stops before the tail either way: it may be an append in progress.
                if (torn || options.read_only) end = position;
                break;
            }
            MILLRACE_ASSIGN_OR_RETURN(valid,
                                      valid_batch_at(*resume, file_size, next, header, batch));
            damage_.push_back({position, *resume, next, header.base_offset});
            position = *resume;
            next = header.base_offset;
            since_index = kIndexIntervalBytes;  // readers past the damage start after it
        }
        if (since_index >= kIndexIntervalBytes) {
            add_index_entries(header, position, ignored_index, ignored_time);
            since_index = 0;
        }
        since_index += batch.size();
        position += batch.size();
        next = header.last_offset() + 1;
        max_timestamp = std::max(max_timestamp, header.max_timestamp);
        max_timestamp_.store(max_timestamp, std::memory_order_relaxed);
    }
    if (options.active && options.durable_position > file_size && !options.read_only) {
        // The checkpoint says more was durable than the file holds: the file lost data.
        damage_.push_back({file_size, file_size, next, std::max(next, options.assigned_end)});
        next = std::max(next, options.assigned_end);
    } else if (next < options.assigned_end && !options.read_only) {
        // Offsets were assigned beyond what the file holds (a lost tail the checkpoint knows
        // of): never hand them out again.
        damage_.push_back({end, end, next, options.assigned_end});
        next = options.assigned_end;
    }
    if (end < file_size && !options.read_only) {
        truncated_bytes_ = file_size - end;
        if (::ftruncate(log_fd_, static_cast<off_t>(end)) != 0) {
            return io_error("truncating " + prefix_ + ".log");
        }
        if (::fdatasync(log_fd_) != 0) return io_error("syncing " + prefix_ + ".log");
    }
    bytes_since_index_ = since_index;
    next_offset_.store(next, std::memory_order_release);
    size_.store(end, std::memory_order_release);
    if (options.read_only) return {};
    return rewrite_indexes();
}

const SegmentDamage* Segment::damage_at(uint64_t position, Offset from) const {
    for (const SegmentDamage& damage : damage_) {
        if (damage.position == position && from < damage.end_offset) return &damage;
    }
    return nullptr;
}

uint64_t Segment::skip_damage(uint64_t position) const {
    for (const SegmentDamage& damage : damage_) {
        if (damage.position == position) return damage.end_position;
    }
    return position;
}

std::string Segment::describe(const SegmentDamage& damage) const {
    return prefix_ + ".log bytes [" + std::to_string(damage.position) + ", " +
           std::to_string(damage.end_position) + ") (offsets [" +
           std::to_string(damage.first_offset) + ", " + std::to_string(damage.end_offset) + "))";
}

Status Segment::rewrite_indexes() {
    std::string index_bytes;
    std::string time_bytes;
    {
        std::lock_guard lock(index_mutex_);
        for (const IndexEntry& entry : index_) {
            put_be32(index_bytes, entry.relative_offset);
            put_be32(index_bytes, entry.position);
        }
        for (const TimeEntry& entry : time_index_) {
            put_be64(time_bytes, static_cast<uint64_t>(entry.timestamp));
            put_be32(time_bytes, entry.relative_offset);
        }
    }
    if (::ftruncate(index_fd_, 0) != 0 || ::ftruncate(time_fd_, 0) != 0) {
        return io_error("truncating the indexes of " + prefix_);
    }
    MILLRACE_TRY(write_all(index_fd_, index_bytes.data(), index_bytes.size(), prefix_ + ".index"));
    return write_all(time_fd_, time_bytes.data(), time_bytes.size(), prefix_ + ".timeindex");
}

Status Segment::append(std::string_view batch, const record_batch::Header& header) {
    const uint64_t position = size_.load(std::memory_order_relaxed);
    std::string index_bytes;
    std::string time_bytes;
    if (bytes_since_index_ >= kIndexIntervalBytes || position == 0) {
        add_index_entries(header, position, index_bytes, time_bytes);
        bytes_since_index_ = 0;
    }
    std::size_t done = 0;
    while (done < batch.size()) {
        const ssize_t n = ::pwrite(log_fd_, batch.data() + done, batch.size() - done,
                                   static_cast<off_t>(position + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error("writing " + prefix_ + ".log");
        }
        done += static_cast<std::size_t>(n);
    }
    if (!index_bytes.empty()) {
        MILLRACE_TRY(write_all(index_fd_, index_bytes.data(), index_bytes.size(), prefix_));
        MILLRACE_TRY(write_all(time_fd_, time_bytes.data(), time_bytes.size(), prefix_));
    }
    bytes_since_index_ += batch.size();
    if (header.max_timestamp > max_timestamp_.load(std::memory_order_relaxed)) {
        max_timestamp_.store(header.max_timestamp, std::memory_order_release);
    }
    next_offset_.store(header.last_offset() + 1, std::memory_order_release);
    size_.store(position + batch.size(), std::memory_order_release);
    return {};
}

Status Segment::sync() {
    if (::fdatasync(log_fd_) != 0) return io_error("syncing " + prefix_ + ".log");
    return {};
}

Status Segment::seal() {
    std::string time_bytes;
    put_be64(time_bytes, static_cast<uint64_t>(max_timestamp()));
    put_be32(time_bytes, static_cast<uint32_t>(next_offset() - base_));
    MILLRACE_TRY(write_all(time_fd_, time_bytes.data(), time_bytes.size(), prefix_));
    if (::fdatasync(log_fd_) != 0 || ::fdatasync(index_fd_) != 0 || ::fdatasync(time_fd_) != 0) {
        return io_error("syncing " + prefix_);
    }
    return {};
}

uint64_t Segment::position_for(Offset offset) const {
    if (offset <= base_) return 0;
    const auto relative = static_cast<uint64_t>(offset - base_);
    std::lock_guard lock(index_mutex_);
    auto it = std::upper_bound(
        index_.begin(), index_.end(), relative,
        [](uint64_t value, const IndexEntry& entry) { return value < entry.relative_offset; });
    if (it == index_.begin()) return 0;
    return std::prev(it)->position;
}

Offset Segment::offset_before_time(int64_t timestamp_ms) const {
    std::lock_guard lock(index_mutex_);
    // Entries' timestamps never decrease; the last entry below the target bounds the scan start.
    auto it = std::lower_bound(
        time_index_.begin(), time_index_.end(), timestamp_ms,
        [](const TimeEntry& entry, int64_t value) { return entry.timestamp < value; });
    if (it == time_index_.begin()) return base_;
    return base_ + std::prev(it)->relative_offset;
}

Result<std::size_t> Segment::read(uint64_t position, char* out, std::size_t size) const {
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n =
            ::pread(log_fd_, out + done, size - done, static_cast<off_t>(position + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error("reading " + prefix_ + ".log");
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

Status Segment::remove_files() {
    for (const char* suffix : {".log", ".index", ".timeindex"}) {
        const std::string path = prefix_ + suffix;
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("removing " + path);
    }
    return {};
}

}  // namespace millrace
