#include "connectors/streaming_file_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "common/durable_file.h"
#include "connectors/file_source.h"

namespace millrace {

namespace {

constexpr std::string_view kProgressMagic = "millrace-file-progress 1\n";

int64_t steady_micros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Names a writer uses while a file is incomplete (it renames the file when done).
bool ignored_name(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    const std::string_view base =
        std::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1);
    auto ends_with = [&](std::string_view suffix) {
        return base.size() >= suffix.size() &&
               base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return base.empty() || base.front() == '.' || ends_with(".tmp") || ends_with(".partial") ||
           path.find('\n') != std::string::npos;
}

/// `path` as a glob pattern that matches only itself.
std::string escape_glob(const std::string& path) {
    std::string out;
    for (char c : path) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

/// The glob a watched path stands for: a folder's files, or the path itself.
std::string watch_pattern(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) return path;
    std::string pattern = escape_glob(path);
    if (pattern.empty() || pattern.back() != '/') pattern += '/';
    return pattern + '*';
}

int64_t mtime_nanos(const struct stat& info) {
    return static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
}

std::string file_line(const StreamingFileSource::FileRecord& file) {
    return fmt::format("file {} {} {}\n", file.size, file.mtime_nanos, file.path);
}

}  // namespace

std::string StreamingFileSource::format_progress(const Progress& progress) {
    // One line per file delivered: size, mtime in nanoseconds, path (paths never hold a
    // newline: such names are not read); `commit <n>` lines say how many are done.
    std::string out(kProgressMagic);
    for (const FileRecord& file : progress.files) out += file_line(file);
    out += fmt::format("commit {}\n", progress.committed);
    return out;
}

Result<StreamingFileSource::Progress> StreamingFileSource::parse_progress(const std::string& text,
                                                                          const std::string& path) {
    auto corrupt = [&](std::string_view why) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{}: {}; it lists the files a streaming file source has read "
                                 "(delete it to read every file of the folder again)",
                                 path, why));
    };
    if (text.compare(0, kProgressMagic.size(), kProgressMagic) != 0)
        return corrupt("not a progress file");
    Progress progress;
    std::size_t at = kProgressMagic.size();
    while (at < text.size()) {
        const std::size_t end = text.find('\n', at);
        if (end == std::string::npos) break;  // an append cut short by a crash
        const std::string line = text.substr(at, end - at);
        at = end + 1;
        unsigned long long first = 0;
        long long second = 0;
        int consumed = 0;
        if (std::sscanf(line.c_str(), "commit %llu%n", &first, &consumed) == 1 &&
            static_cast<std::size_t>(consumed) == line.size()) {
            if (first > progress.files.size())
                return corrupt(fmt::format("`{}` is not within the files listed", line));
            progress.committed = first;
            continue;
        }
        consumed = 0;
        if (std::sscanf(line.c_str(), "file %llu %lld %n", &first, &second, &consumed) != 2 ||
            consumed <= 0 || static_cast<std::size_t>(consumed) >= line.size()) {
            return corrupt(fmt::format("malformed line `{}`", line));
        }
        progress.files.push_back(FileRecord{line.substr(static_cast<std::size_t>(consumed)),
                                            static_cast<uint64_t>(first),
                                            static_cast<int64_t>(second)});
    }
    return progress;
}

Result<std::unique_ptr<StreamingFileSource>> StreamingFileSource::open(
    const SourceSpec& spec, const std::string& progress_path) {
    auto source = std::make_unique<StreamingFileSource>();
    source->name_ = spec.name;
    source->format_ = spec.format;
    source->progress_path_ = progress_path;
    source->poll_interval_micros_ = std::max<int64_t>(1, spec.poll_interval.count());
    source->bad_file_budget_ = spec.bad_file_budget();
    source->pattern_ = watch_pattern(spec.path);
    if (!progress_path.empty()) {
        std::ifstream in(progress_path, std::ios::binary);
        if (in) {
            std::stringstream buffer;
            buffer << in.rdbuf();
            MILLRACE_ASSIGN_OR_RETURN(Progress progress,
                                      parse_progress(buffer.str(), progress_path));
            source->ledger_ = std::move(progress.files);
            for (std::size_t i = 0; i < source->ledger_.size(); ++i)
                source->ledger_index_[source->ledger_[i].path] = i;
            // Files delivered after the last commit are read again first, in the same order.
            source->next_ = source->committed_ = progress.committed;
        }
    }
    if (spec.schema) {
        source->schema_ = std::make_shared<const Schema>(*spec.schema);
        return source;
    }
    // Inferred from the oldest file there now, as a FileSource would from that one file.
    std::map<std::string, Seen> files = source->list_files();
    if (files.empty()) {
        return Error(ErrorCode::kNotFound,
                     fmt::format("source `{}`: no file in `{}` to infer a schema from yet; "
                                 "declare `schema:` for a watched folder that starts empty",
                                 spec.name, spec.path),
                     spec.location);
    }
    auto oldest = std::min_element(files.begin(), files.end(), [](const auto& a, const auto& b) {
        return std::tie(a.second.mtime_nanos, a.first) < std::tie(b.second.mtime_nanos, b.first);
    });
    SourceSpec one = spec;
    one.path = escape_glob(oldest->first);
    MILLRACE_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> file, FileSource::open(one));
    source->schema_ = file->schema();
    return source;
}

std::map<std::string, StreamingFileSource::Seen> StreamingFileSource::list_files() const {
    std::map<std::string, Seen> files;
    glob_t matches{};
    if (::glob(pattern_.c_str(), GLOB_MARK, nullptr, &matches) == 0) {
        for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
            std::string path = matches.gl_pathv[i];
            if (path.empty() || path.back() == '/' || ignored_name(path)) continue;
            struct stat info {};
            if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
            files[path] = Seen{static_cast<uint64_t>(info.st_size), mtime_nanos(info), false};
        }
    }
    ::globfree(&matches);
    return files;
}

void StreamingFileSource::warn(std::string message) {
    std::fprintf(stderr, "warning: %s\n", message.c_str());
    warnings_.push_back(std::move(message));
}

void StreamingFileSource::scan() {
    std::map<std::string, Seen> now = list_files();
    for (const auto& [path, seen] : seen_) {
        if (!now.count(path)) {
            warn(fmt::format("source `{}`: {} was removed before it was read; skipped", name_,
                             path));
        }
    }
    std::map<std::string, Seen> next;
    for (auto& [path, seen] : now) {
        if (auto known = ledger_index_.find(path); known != ledger_index_.end()) {
            // Done, or pending a read again in ledger order.
            const FileRecord& record = ledger_[known->second];
            if (known->second < next_ &&
                (record.size != seen.size || record.mtime_nanos != seen.mtime_nanos) &&
                warned_changed_.insert(path).second) {
                warn(
                    fmt::format("source `{}`: {} changed after it was read; it is not read "
                                "again (write a new file instead)",
                                name_, path));
            }
            continue;
        }
        // Ready once a whole poll interval passed without it changing.
        auto before = seen_.find(path);
        seen.stable = before != seen_.end() && before->second.size == seen.size &&
                      before->second.mtime_nanos == seen.mtime_nanos;
        next.emplace(path, seen);
    }
    seen_ = std::move(next);
}

Result<PollResult> StreamingFileSource::poll(DecodeSink& sink, std::size_t /*max_records*/,
                                             Listener* listener) {
    // Delivers `record` (read whole, or set aside) and marks it done.
    auto deliver = [&](const FileRecord& record) -> Status {
        if (listener) listener->on_unit_start(record.path);
        bool can_set_aside = false;
        Status status = deliver_source_file(name_, record.path, format_, schema_, sink, bytes_read_,
                                            can_set_aside);
        if (status.ok()) return {};
        if (!can_set_aside) return status;
        Error error = std::move(status).error();
        if (static_cast<int64_t>(bad_files_) >= bad_file_budget_) {
            return std::move(error).with_context(fmt::format(
                "source `{}`, file {} (max_bad_files: {})", name_, record.path, bad_file_budget_));
        }
        ++bad_files_;
        if (listener) listener->on_unit_set_aside(record.path, error.message());
        return {};
    };
    // First the files delivered before and not done: a seek back, or a run that did not commit.
    while (next_ < ledger_.size()) {
        const FileRecord record = ledger_[next_];
        struct stat info {};
        if (::stat(record.path.c_str(), &info) != 0) {
            warn(fmt::format("source `{}`: {} was removed before it was read again; skipped", name_,
                             record.path));
            ++next_;
            continue;
        }
        MILLRACE_TRY(deliver(record));
        ++next_;
        return PollResult::kData;
    }
    const int64_t now = steady_micros();
    if (!scanned_ || now - last_scan_micros_ >= poll_interval_micros_) {
        scan();
        scanned_ = true;
        last_scan_micros_ = now;
    }
    while (true) {
        auto oldest = seen_.end();
        for (auto it = seen_.begin(); it != seen_.end(); ++it) {
            if (!it->second.stable) continue;
            if (oldest == seen_.end() || std::tie(it->second.mtime_nanos, it->first) <
                                             std::tie(oldest->second.mtime_nanos, oldest->first)) {
                oldest = it;
            }
        }
        if (oldest == seen_.end()) return PollResult::kIdle;
        const std::string path = oldest->first;
        FileRecord record{path, oldest->second.size, oldest->second.mtime_nanos};
        seen_.erase(oldest);
        struct stat info {};
        if (::stat(path.c_str(), &info) != 0) {
            warn(fmt::format("source `{}`: {} was removed before it was read; skipped", name_,
                             path));
            continue;
        }
        if (static_cast<uint64_t>(info.st_size) != record.size ||
            mtime_nanos(info) != record.mtime_nanos) {
            // Written to again since the last scan: wait for it to settle.
            seen_[path] = Seen{static_cast<uint64_t>(info.st_size), mtime_nanos(info), false};
            continue;
        }
        MILLRACE_TRY(deliver(record));
        // In the ledger once delivered: a reader opened later replays it in this place.
        if (!progress_path_.empty()) MILLRACE_TRY(append_progress(file_line(record)));
        ledger_index_[path] = ledger_.size();
        ledger_.push_back(std::move(record));
        next_ = ledger_.size();
        return PollResult::kData;
    }
}

Status StreamingFileSource::seek(const SourcePosition& position) {
    if (position.unit > ledger_.size() || position.offset != 0 || position.line != 0) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: cannot seek to {} ({} files delivered; positions "
                                 "are between files)",
                                 name_, position.to_string(), ledger_.size()));
    }
    // The files after the position are pending: the next polls read them again, in order.
    next_ = position.unit;
    for (std::size_t i = next_; i < ledger_.size(); ++i) warned_changed_.erase(ledger_[i].path);
    return {};
}

Status StreamingFileSource::append_progress(const std::string& text) {
    std::error_code ec;
    const bool fresh = !std::filesystem::exists(progress_path_, ec);
    if (fresh) MILLRACE_TRY(create_parent_directories_durably(progress_path_));
    const int fd = ::open(progress_path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return Error(ErrorCode::kIo, fmt::format("source `{}`: cannot open {}: {}", name_,
                                                 progress_path_, std::strerror(errno)));
    }
    std::string bytes = fresh ? std::string(kProgressMagic) + text : text;
    std::string_view rest = bytes;
    while (!rest.empty()) {
        const ssize_t wrote = ::write(fd, rest.data(), rest.size());
        if (wrote < 0 && errno == EINTR) continue;
        if (wrote <= 0) {
            const int saved = errno;
            ::close(fd);
            return Error(ErrorCode::kIo, fmt::format("source `{}`: cannot write {}: {}", name_,
                                                     progress_path_, std::strerror(saved)));
        }
        rest.remove_prefix(static_cast<std::size_t>(wrote));
    }
    const bool synced = ::fdatasync(fd) == 0;
    ::close(fd);
    if (!synced)
        return Error(ErrorCode::kIo,
                     fmt::format("source `{}`: cannot sync {}", name_, progress_path_));
    if (fresh) MILLRACE_TRY(sync_directory(std::filesystem::path(progress_path_).parent_path()));
    return {};
}

bool watched_folder_holds(const SourceSpec& source, const std::string& path) {
    const std::string pattern = watch_pattern(source.path);
    return !ignored_name(path) && ::fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0;
}

Status StreamingFileSource::commit_progress() {
    if (progress_path_.empty() || (next_ == committed_ && std::filesystem::exists(progress_path_)))
        return {};
    MILLRACE_TRY(append_progress(fmt::format("commit {}\n", next_)));
    committed_ = next_;
    return {};
}

}  // namespace millrace
