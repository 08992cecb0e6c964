#include "connectors/streaming_file_source.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
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

int64_t mtime_nanos(const struct stat& info) {
    return static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
}

}  // namespace

std::string StreamingFileSource::format_progress(const std::vector<FileRecord>& files) {
    // One file per line: size, mtime in nanoseconds, path (paths never hold a newline: such
    // names are not read).
    std::string out(kProgressMagic);
    for (const FileRecord& file : files)
        out += fmt::format("{} {} {}\n", file.size, file.mtime_nanos, file.path);
    return out;
}

Result<std::vector<StreamingFileSource::FileRecord>> StreamingFileSource::parse_progress(
    const std::string& text, const std::string& path) {
    auto corrupt = [&](std::string_view why) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{}: {}; it lists the files a streaming file source has read "
                                 "(delete it to read every file of the folder again)",
                                 path, why));
    };
    if (text.compare(0, kProgressMagic.size(), kProgressMagic) != 0)
        return corrupt("not a progress file");
    std::vector<FileRecord> files;
    std::size_t at = kProgressMagic.size();
    while (at < text.size()) {
        const std::size_t end = text.find('\n', at);
        if (end == std::string::npos) return corrupt("truncated");
        const std::string line = text.substr(at, end - at);
        at = end + 1;
        FileRecord record;
        unsigned long long size = 0;
        long long mtime = 0;
        int consumed = 0;
        if (std::sscanf(line.c_str(), "%llu %lld %n", &size, &mtime, &consumed) != 2 ||
            consumed <= 0 || static_cast<std::size_t>(consumed) >= line.size()) {
            return corrupt(fmt::format("malformed line `{}`", line));
        }
        record.size = size;
        record.mtime_nanos = mtime;
        record.path = line.substr(static_cast<std::size_t>(consumed));
        files.push_back(std::move(record));
    }
    return files;
}

Result<std::unique_ptr<StreamingFileSource>> StreamingFileSource::open(
    const SourceSpec& spec, const std::string& progress_path) {
    auto source = std::make_unique<StreamingFileSource>();
    source->name_ = spec.name;
    source->format_ = spec.format;
    source->progress_path_ = progress_path;
    source->poll_interval_micros_ = std::max<int64_t>(1, spec.poll_interval.count());
    source->bad_file_budget_ = spec.bad_file_budget();
    struct stat info {};
    std::string pattern = spec.path;
    if (::stat(spec.path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
        pattern = escape_glob(spec.path);
        if (pattern.empty() || pattern.back() != '/') pattern += '/';
        pattern += '*';
    }
    source->pattern_ = pattern;
    if (!progress_path.empty()) {
        std::ifstream in(progress_path, std::ios::binary);
        if (in) {
            std::stringstream buffer;
            buffer << in.rdbuf();
            MILLRACE_ASSIGN_OR_RETURN(source->done_, parse_progress(buffer.str(), progress_path));
            for (std::size_t i = 0; i < source->done_.size(); ++i)
                source->done_index_[source->done_[i].path] = i;
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
        if (auto done = done_index_.find(path); done != done_index_.end()) {
            const FileRecord& record = done_[done->second];
            if ((record.size != seen.size || record.mtime_nanos != seen.mtime_nanos) &&
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
        if (listener) listener->on_unit_start(path);
        bool can_set_aside = false;
        Status status =
            deliver_source_file(name_, path, format_, schema_, sink, bytes_read_, can_set_aside);
        if (!status.ok()) {
            if (!can_set_aside) return std::move(status).error();
            Error error = std::move(status).error();
            if (static_cast<int64_t>(bad_files_) >= bad_file_budget_) {
                return std::move(error).with_context(fmt::format(
                    "source `{}`, file {} (max_bad_files: {})", name_, path, bad_file_budget_));
            }
            ++bad_files_;
            if (listener) listener->on_unit_set_aside(path, error.message());
        }
        done_index_[path] = done_.size();
        done_.push_back(std::move(record));
        return PollResult::kData;
    }
}

Status StreamingFileSource::seek(const SourcePosition& position) {
    if (position.unit > done_.size() || position.offset != 0 || position.line != 0) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: cannot seek to {} ({} files read; positions are "
                                 "between files)",
                                 name_, position.to_string(), done_.size()));
    }
    // The files after the position are read again: they are ready (they were read whole).
    while (done_.size() > position.unit) {
        FileRecord record = std::move(done_.back());
        done_.pop_back();
        done_index_.erase(record.path);
        warned_changed_.erase(record.path);
        seen_[record.path] = Seen{record.size, record.mtime_nanos, true};
    }
    return {};
}

bool StreamingFileSource::watches(const std::string& path) const {
    return !ignored_name(path) && ::fnmatch(pattern_.c_str(), path.c_str(), FNM_PATHNAME) == 0;
}

Status StreamingFileSource::commit_progress() const {
    if (progress_path_.empty()) return {};
    MILLRACE_TRY(create_parent_directories_durably(progress_path_));
    return write_file_durably(progress_path_, format_progress(done_));
}

}  // namespace millrace
