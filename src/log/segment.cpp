#include "log/segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "log/atomic_file.h"

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

Status Segment::open_files(bool truncate) {
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
    MILLRACE_TRY(segment->open_files(true));
    return segment;
}

Result<std::shared_ptr<Segment>> Segment::open(const std::string& dir, Offset base, bool recover) {
    std::shared_ptr<Segment> segment(new Segment(segment_path_prefix(dir, base), base));
    MILLRACE_TRY(segment->open_files(false));
    bool indexes_ok = false;
    if (!recover) MILLRACE_TRY(segment->load_indexes(indexes_ok));
    if (!indexes_ok) MILLRACE_TRY(segment->recover());
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

Status Segment::recover() {
    {
        std::lock_guard lock(index_mutex_);
        index_.clear();
        time_index_.clear();
    }
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
    while (file_size - position >= record_batch::kHeaderSize) {
        char header_bytes[record_batch::kHeaderSize];
        MILLRACE_ASSIGN_OR_RETURN(std::size_t got,
                                  read(position, header_bytes, sizeof(header_bytes)));
        if (got != sizeof(header_bytes)) break;
        const record_batch::Header header = record_batch::read_header(header_bytes);
        if (header.batch_length < 0 || header.total_size() < record_batch::kHeaderSize ||
            header.total_size() > record_batch::kMaxBatchSize ||
            header.total_size() > file_size - position || header.base_offset != next ||
            header.last_offset_delta < 0 ||
            header.last_offset() - base_ > std::numeric_limits<uint32_t>::max() - 1) {
            break;
        }
        batch.resize(header.total_size());
        MILLRACE_ASSIGN_OR_RETURN(got, read(position, batch.data(), batch.size()));
        if (got != batch.size() || !record_batch::validate(batch).ok()) break;
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
    if (position < file_size) {
        truncated_bytes_ = file_size - position;
        if (::ftruncate(log_fd_, static_cast<off_t>(position)) != 0) {
            return io_error("truncating " + prefix_ + ".log");
        }
        if (::fdatasync(log_fd_) != 0) return io_error("syncing " + prefix_ + ".log");
    }
    bytes_since_index_ = since_index;
    next_offset_.store(next, std::memory_order_release);
    size_.store(position, std::memory_order_release);
    return rewrite_indexes();
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
