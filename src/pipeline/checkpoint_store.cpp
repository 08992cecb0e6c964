#include "pipeline/checkpoint_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <future>
#include <set>

#include "common/durable_file.h"
#include "common/mapped_file.h"

namespace millrace {

namespace {

constexpr std::string_view kMagic = "millrace-checkpoint 1";
constexpr std::string_view kMetadataFile = "_metadata";

std::string encode_name(std::string_view name) {
    std::string out;
    for (char c : name) {
        if (c == '%' || c == ' ' || c == '\n' || c == ',' || static_cast<unsigned char>(c) < 32) {
            out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        } else {
            out += c;
        }
    }
    return out.empty() ? std::string("%") : out;
}

std::optional<std::string> decode_name(std::string_view text) {
    if (text == "%") return std::string();
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        unsigned value = 0;
        auto [end, error] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
        if (error != std::errc() || end != text.data() + i + 3) return std::nullopt;
        out += static_cast<char>(value);
        i += 2;
    }
    return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(separator, start);
        out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string optional_text(const std::optional<int64_t>& value) {
    return value ? std::to_string(*value) : std::string("-");
}

bool parse_optional(std::string_view text, std::optional<int64_t>& value) {
    if (text == "-") {
        value.reset();
        return true;
    }
    int64_t parsed = 0;
    if (!parse_number(text, parsed)) return false;
    value = parsed;
    return true;
}

/// Checkpoint ids among the entries of `root` that are numbers (other entries, like `sinks`,
/// are not checkpoints).
std::vector<uint64_t> numbered_folders(const std::string& root) {
    std::vector<uint64_t> ids;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
        uint64_t id = 0;
        if (entry.is_directory(error) && parse_number(entry.path().filename().string(), id))
            ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace

std::string pipeline_folder_name(const std::string& pipeline) {
    std::string name;
    for (char c : pipeline) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        name += plain ? c : '-';
    }
    if (name.empty() || name == "." || name == "..") name = "-";
    return name;
}

const CheckpointSource* CheckpointMetadata::find_source(std::string_view name) const {
    for (const CheckpointSource& source : sources)
        if (source.name == name) return &source;
    return nullptr;
}

const CheckpointState* CheckpointMetadata::find_state(std::string_view identity) const {
    for (const CheckpointState& state : states)
        if (state.identity == identity && !state.key_group && !state.changes) return &state;
    return nullptr;
}

std::vector<const CheckpointState*> CheckpointMetadata::find_state_changes(
    std::string_view identity) const {
    std::vector<const CheckpointState*> out;
    for (const CheckpointState& state : states)
        if (state.identity == identity && state.changes) out.push_back(&state);
    return out;
}

std::vector<const CheckpointState*> CheckpointMetadata::find_key_groups(
    std::string_view identity) const {
    std::vector<const CheckpointState*> out;
    for (const CheckpointState& state : states)
        if (state.identity == identity && state.key_group) out.push_back(&state);
    return out;
}

std::string CheckpointMetadata::to_text() const {
    std::string out(kMagic);
    out += '\n';
    out += fmt::format("id {}\ncreated_micros {}\ndead_letter_bytes {}\nfinal {}\n", id,
                       created_micros, dead_letter_bytes, final ? 1 : 0);
    if (!decided_by.empty()) {
        out += fmt::format("decided_by {} {}\n", encode_name(decided_by.kind),
                           encode_name(decided_by.name));
    }
    for (const CheckpointSource& source : sources) {
        std::vector<std::string> maxima;
        for (const auto& value : source.max_events) maxima.push_back(optional_text(value));
        out += fmt::format(
            "source {} offsets {} watermark {} max_events {}", encode_name(source.name),
            source.offsets.empty() ? "-" : fmt::format("{}", fmt::join(source.offsets, ",")),
            optional_text(source.watermark),
            maxima.empty() ? "-" : fmt::format("{}", fmt::join(maxima, ",")));
        if (source.origin_micros) out += fmt::format(" origin {}", *source.origin_micros);
        out += '\n';
    }
    for (const CheckpointState& state : states) {
        out += fmt::format("state {} {}", encode_name(state.identity), encode_name(state.file));
        if (state.key_group) {
            out += fmt::format(" key_group {}/{} at {}:{}", *state.key_group, state.max_key_groups,
                               state.offset, state.length);
        } else if (state.changes) {
            out += " changes";
        }
        out += '\n';
    }
    out += "end\n";
    return out;
}

Result<CheckpointMetadata> CheckpointMetadata::parse(std::string_view text,
                                                     const std::string& path) {
    std::size_t line_number = 0;
    auto corrupt = [&](std::string_view why) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{}:{}: {}; the checkpoint cannot be restored (remove its "
                                 "folder to restore the one before it)",
                                 path, line_number, why));
    };
    std::vector<std::string_view> lines = split(text, '\n');
    if (lines.empty() || lines[0] != kMagic) return corrupt("not a checkpoint's metadata");
    CheckpointMetadata metadata;
    bool ended = false;
    bool has_id = false;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        line_number = i + 1;
        const std::string_view line = lines[i];
        if (ended) {
            if (!line.empty()) return corrupt("text after `end`");
            continue;
        }
        const std::vector<std::string_view> words = split(line, ' ');
        const std::string_view key = words[0];
        if (key == "end" && words.size() == 1) {
            ended = true;
        } else if (key == "id" && words.size() == 2) {
            if (!parse_number(words[1], metadata.id)) return corrupt("bad id");
            has_id = true;
        } else if (key == "created_micros" && words.size() == 2) {
            if (!parse_number(words[1], metadata.created_micros)) return corrupt("bad time");
        } else if (key == "dead_letter_bytes" && words.size() == 2) {
            if (!parse_number(words[1], metadata.dead_letter_bytes)) return corrupt("bad size");
        } else if (key == "final" && words.size() == 2) {
            metadata.final = words[1] == "1";
        } else if (key == "decided_by" && words.size() == 3) {
            std::optional<std::string> kind = decode_name(words[1]);
            std::optional<std::string> name = decode_name(words[2]);
            if (!kind || !name || kind->empty() || name->empty() || !metadata.decided_by.empty())
                return corrupt("bad decided_by");
            metadata.decided_by = CheckpointDecision{*kind, *name};
        } else if (key == "source" && (words.size() == 8 || words.size() == 10) &&
                   words[2] == "offsets" && words[4] == "watermark" && words[6] == "max_events" &&
                   (words.size() == 8 || words[8] == "origin")) {
            CheckpointSource source;
            std::optional<std::string> name = decode_name(words[1]);
            if (!name) return corrupt("bad source name");
            source.name = *name;
            if (words[3] != "-") {
                for (std::string_view offset : split(words[3], ',')) {
                    int64_t value = 0;
                    if (!parse_number(offset, value)) return corrupt("bad offset");
                    source.offsets.push_back(value);
                }
            }
            if (!parse_optional(words[5], source.watermark)) return corrupt("bad watermark");
            if (words[7] != "-") {
                for (std::string_view item : split(words[7], ',')) {
                    std::optional<int64_t> value;
                    if (!parse_optional(item, value)) return corrupt("bad event time");
                    source.max_events.push_back(value);
                }
            }
            if (words.size() == 10) {
                int64_t origin = 0;
                if (!parse_number(words[9], origin)) return corrupt("bad origin");
                source.origin_micros = origin;
            }
            metadata.sources.push_back(std::move(source));
        } else if (key == "state" &&
                   (words.size() == 3 || (words.size() == 4 && words[3] == "changes") ||
                    (words.size() == 7 && words[3] == "key_group" && words[5] == "at"))) {
            std::optional<std::string> identity = decode_name(words[1]);
            std::optional<std::string> file = decode_name(words[2]);
            if (!identity || !file || file->empty() || file->find('/') != std::string::npos ||
                (*file)[0] == '.') {
                return corrupt("bad state entry");
            }
            CheckpointState state{*identity, *file, std::nullopt, 0};
            state.changes = words.size() == 4;
            if (words.size() == 7) {
                const std::vector<std::string_view> parts = split(words[4], '/');
                const std::vector<std::string_view> section = split(words[6], ':');
                uint32_t group = 0;
                if (parts.size() != 2 || !parse_number(parts[0], group) ||
                    !parse_number(parts[1], state.max_key_groups) ||
                    group >= state.max_key_groups || section.size() != 2 ||
                    !parse_number(section[0], state.offset) ||
                    !parse_number(section[1], state.length)) {
                    return corrupt("bad key group");
                }
                state.key_group = group;
            }
            metadata.states.push_back(std::move(state));
        } else {
            return corrupt(fmt::format("unexpected line `{}`", line));
        }
    }
    if (!ended) return corrupt("truncated (no `end`)");
    if (!has_id) return corrupt("no id");
    return metadata;
}

CheckpointStore::CheckpointStore(const std::string& data_dir, const std::string& pipeline,
                                 std::size_t retain)
    : root_(fmt::format("{}/checkpoints/{}", data_dir, pipeline_folder_name(pipeline))),
      retain_(std::max<std::size_t>(retain, 1)) {}

std::string CheckpointStore::folder(uint64_t id) const { return fmt::format("{}/{}", root_, id); }

std::string CheckpointStore::sink_staging(std::string_view identity) const {
    // Readable, plus a hash of the exact identity so that two identities that read alike as
    // folder names never share one.
    uint64_t hash = 14695981039346656037ull;  // FNV-1a
    for (char c : identity) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ull;
    }
    return fmt::format("{}/sinks/{}-{:016x}", root_, pipeline_folder_name(std::string(identity)),
                       hash);
}

Result<std::vector<uint64_t>> CheckpointStore::complete_ids() const {
    std::vector<uint64_t> complete;
    std::error_code error;
    for (uint64_t id : numbered_folders(root_)) {
        if (std::filesystem::exists(folder(id) + "/" + std::string(kMetadataFile), error))
            complete.push_back(id);
    }
    return complete;
}

Result<std::optional<CheckpointMetadata>> CheckpointStore::latest() {
    std::error_code error;
    std::optional<uint64_t> newest;
    bool removed = false;
    for (uint64_t id : numbered_folders(root_)) {
        if (std::filesystem::exists(folder(id) + "/" + std::string(kMetadataFile), error)) {
            newest = id;
            continue;
        }
        // No metadata: the run died while writing this checkpoint; its state files are of no
        // use (the sinks it pre-committed are aborted by their recovery).
        std::filesystem::remove_all(folder(id), error);
        if (error) return io_error("cannot remove the incomplete checkpoint " + folder(id));
        removed = true;
    }
    if (removed) MILLRACE_TRY(sync_directory(root_));
    if (!newest) return std::optional<CheckpointMetadata>();
    const std::string path = folder(*newest) + "/" + std::string(kMetadataFile);
    MILLRACE_ASSIGN_OR_RETURN(std::string text, read_file(path));
    MILLRACE_ASSIGN_OR_RETURN(CheckpointMetadata metadata, CheckpointMetadata::parse(text, path));
    if (metadata.id != *newest) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{} holds checkpoint {}, not {}", path, metadata.id, *newest));
    }
    return std::optional<CheckpointMetadata>(std::move(metadata));
}

Status CheckpointStore::create_folder(uint64_t id) const {
    // The checkpoints' folder durably (once); the checkpoint's own folder without a sync of
    // its parent: complete() syncs the parent once the checkpoint is complete, and a folder a
    // crash loses before then was no checkpoint.
    MILLRACE_TRY(create_directories_durably(root_));
    const std::string path = folder(id);
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
        return io_error("cannot create folder " + path);
    return {};
}

Status CheckpointStore::write_state(uint64_t id, const std::string& file, std::string_view bytes) {
    return write_state(id, file, std::vector<std::string_view>{bytes});
}

Status CheckpointStore::write_state(uint64_t id, const std::string& file,
                                    const std::vector<std::string_view>& pieces) {
    MILLRACE_TRY(create_folder(id));
    // Written in place without a temporary file: the folder is no checkpoint until complete()
    // syncs every state file and the folder (and so every state file's entry) before the
    // metadata's own entry can be seen.
    const std::string path = folder(id) + "/" + file;
    // A name another checkpoint's file is hard-linked under must never be written through.
    ::unlink(path.c_str());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("cannot create " + path);
    for (std::string_view bytes : pieces) {
        std::size_t written = 0;
        while (written < bytes.size()) {
            const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                ::close(fd);
                return io_error("cannot write " + path);
            }
            written += static_cast<std::size_t>(n);
        }
    }
    if (::close(fd) != 0) return io_error("cannot close " + path);
    unsynced_.push_back(path);
    return {};
}

Status CheckpointStore::sync_state_files(uint64_t id) {
    // At once, from a thread each: the file system commits concurrent syncs together, so a
    // checkpoint of several state files waits for about one journal commit, not one each.
    // (Files of a checkpoint that failed before completing are no one's state.)
    std::vector<std::string> paths;
    const std::string prefix = folder(id) + "/";
    for (std::string& path : unsynced_)
        if (path.starts_with(prefix)) paths.push_back(std::move(path));
    unsynced_.clear();
    if (paths.empty()) return {};
    if (paths.size() == 1) return sync_file(paths.front());
    std::vector<std::future<Status>> syncs;
    syncs.reserve(paths.size());
    for (const std::string& path : paths)
        syncs.push_back(std::async(std::launch::async, [&path] { return sync_file(path); }));
    Status first;
    for (auto& sync : syncs) {
        Status status = sync.get();
        if (!status.ok() && first.ok()) first = std::move(status);
    }
    return first;
}

Status CheckpointStore::link_state(uint64_t previous, uint64_t id, const std::string& file) {
    MILLRACE_TRY(create_folder(id));
    const std::string from = folder(previous) + "/" + file;
    const std::string to = folder(id) + "/" + file;
    std::error_code error;
    std::filesystem::remove(to, error);
    std::filesystem::create_hard_link(from, to, error);
    if (!error) return {};
    MILLRACE_ASSIGN_OR_RETURN(std::string bytes, read_file(from));
    return write_file_durably(to, bytes);
}

Result<std::string> CheckpointStore::read_state(uint64_t id, const std::string& file) const {
    return read_file(folder(id) + "/" + file);
}

Status CheckpointStore::complete(const CheckpointMetadata& metadata, bool* completed) {
    MILLRACE_TRY(create_folder(metadata.id));
    MILLRACE_TRY(sync_state_files(metadata.id));
    // The state files' entries (written or linked without a sync of the folder) are durable
    // before the metadata's can be.
    MILLRACE_TRY(sync_directory(folder(metadata.id)));
    MILLRACE_TRY(write_file_durably(folder(metadata.id) + "/" + std::string(kMetadataFile),
                                    metadata.to_text()));
    if (completed != nullptr) *completed = true;
    // The checkpoint's folder entry, before any sink commits what it staged for it (and
    // before the retention removes an older checkpoint).
    MILLRACE_TRY(sync_directory(root_));
    return apply_retention(!metadata.decided_by.empty());
}

Status CheckpointStore::remove(uint64_t id) {
    std::error_code error;
    std::filesystem::remove(folder(id) + "/" + std::string(kMetadataFile), error);
    if (error) return io_error("cannot remove the metadata of checkpoint " + folder(id));
    MILLRACE_TRY(sync_directory(folder(id)));
    std::filesystem::remove_all(folder(id), error);
    if (error) return io_error("cannot remove the checkpoint " + folder(id));
    return sync_directory(root_);
}

Status CheckpointStore::copy_to(uint64_t id, const std::string& target) const {
    std::error_code error;
    const std::string metadata_path = target + "/" + std::string(kMetadataFile);
    if (std::filesystem::exists(metadata_path, error)) {
        return Error(ErrorCode::kAlreadyExists,
                     fmt::format("{} already holds a savepoint; name a new folder", target));
    }
    MILLRACE_ASSIGN_OR_RETURN(std::string text,
                              read_file(folder(id) + "/" + std::string(kMetadataFile)));
    MILLRACE_ASSIGN_OR_RETURN(CheckpointMetadata metadata,
                              CheckpointMetadata::parse(text, folder(id)));
    MILLRACE_TRY(create_directories_durably(target));
    std::set<std::string> copied;  // key groups share files
    for (const CheckpointState& state : metadata.states) {
        if (!copied.insert(state.file).second) continue;
        MILLRACE_ASSIGN_OR_RETURN(std::string bytes, read_state(id, state.file));
        MILLRACE_TRY(write_file_durably(target + "/" + state.file, bytes));
    }
    return write_file_durably(metadata_path, text);
}

Result<CheckpointMetadata> CheckpointStore::read_folder(const std::string& folder) {
    const std::string path = folder + "/" + std::string(kMetadataFile);
    std::error_code error;
    if (!std::filesystem::exists(path, error)) {
        return Error(ErrorCode::kNotFound,
                     fmt::format("{} is not a savepoint or checkpoint (it has no {})", folder,
                                 kMetadataFile));
    }
    MILLRACE_ASSIGN_OR_RETURN(std::string text, read_file(path));
    return CheckpointMetadata::parse(text, path);
}

Status CheckpointStore::apply_retention(bool keep_previous) {
    MILLRACE_ASSIGN_OR_RETURN(std::vector<uint64_t> complete, complete_ids());
    const std::size_t retain = keep_previous ? std::max<std::size_t>(retain_, 2) : retain_;
    if (complete.size() <= retain) return {};
    const uint64_t oldest_kept = complete[complete.size() - retain];
    std::error_code error;
    for (uint64_t id : numbered_folders(root_)) {
        if (id >= oldest_kept) continue;
        // Older than every kept checkpoint, complete or not: never restored again. The
        // metadata goes first, so a crash halfway leaves an incomplete folder, not a
        // checkpoint missing its state.
        std::filesystem::remove(folder(id) + "/" + std::string(kMetadataFile), error);
        std::filesystem::remove_all(folder(id), error);
        if (error) return io_error("cannot remove the old checkpoint " + folder(id));
    }
    // Not synced: a removal a crash undoes leaves an older checkpoint that the newest one
    // outranks, removed again by the next retention.
    return {};
}

}  // namespace millrace
