#include "lake/lake_table.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>

#include "common/durable_file.h"
#include "common/file_lock.h"
#include "common/mapped_file.h"
#include "formats/parquet/parquet_reader.h"
#include "lake/staging_folder.h"

namespace millrace {

namespace {

constexpr const char* kCurrent = "/_manifest/current";

bool valid_table_name(const std::string& name) {
    if (name.empty() || name[0] == '.' || name[0] == '_' || name.size() > 200) return false;
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
            return false;
        }
    }
    return true;
}

int64_t now_micros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string folder_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string random_hex() {
    std::random_device device;
    std::mt19937_64 random((static_cast<uint64_t>(device()) << 32) ^ device() ^
                           static_cast<uint64_t>(now_micros()));
    char buffer[20];
    std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(random()));
    return buffer;
}

}  // namespace

std::string data_file_name(std::string_view suffix) {
    return "part-" + random_hex() + "-" + std::string(suffix) + ".parquet";
}

std::string LakeTable::manifest_path(uint64_t snapshot_id) const {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "/_manifest/v%010llu.json",
                  static_cast<unsigned long long>(snapshot_id));
    return path_ + buffer;
}

Result<LakeTable> LakeTable::create(const std::string& data_dir, const std::string& name,
                                    const Schema& schema,
                                    const std::vector<std::string>& partition_by) {
    if (!valid_table_name(name)) {
        return Error(
            ErrorCode::kInvalidArgument,
            "bad table name `" + name + "` (letters, digits, _ - .; not starting with _ or .)");
    }
    if (schema.empty()) return Error(ErrorCode::kInvalidArgument, "a table needs columns");
    MILLRACE_ASSIGN_OR_RETURN(PartitionSpec spec, PartitionSpec::parse(partition_by, schema));
    const std::string path = data_dir + "/lake/" + name;
    MILLRACE_TRY(create_directories_durably(path + "/_manifest"));
    // Two processes may create one table at once (the first runs of two writers): the lock
    // makes one the creator and the other see kAlreadyExists.
    // Held for the duration of a create or commit: concurrent writers take turns.
    MILLRACE_ASSIGN_OR_RETURN(FileLock lock,
                              FileLock::acquire_waiting(path + "/_manifest/.lock", "lake commit"));
    std::error_code error;
    if (std::filesystem::exists(path + kCurrent, error)) {
        return Error(ErrorCode::kAlreadyExists, "lake table `" + name + "` exists in " + path);
    }
    auto shared = std::make_shared<const Schema>(schema);
    LakeTable table(name, path, shared, std::move(spec));
    Manifest m;
    m.snapshot_id = 0;
    m.committed_at_micros = now_micros();
    m.operation = "create";
    m.schema_text = schema_metadata_text(schema);
    m.partition_by = partition_by;
    // The schema must survive its text form (column names with `,` or `:` would not).
    auto reparsed = parse_schema_spec(m.schema_text);
    if (!reparsed.ok() || !(*reparsed == schema)) {
        return Error(ErrorCode::kInvalidArgument,
                     "column names of a lake table must not contain `,` or `:`");
    }
    MILLRACE_TRY(write_file_durably(table.manifest_path(0), m.to_json(schema)));
    MILLRACE_TRY(write_file_durably(path + kCurrent, "0\n"));
    return table;
}

Result<LakeTable> LakeTable::open(const std::string& data_dir, const std::string& name) {
    if (!valid_table_name(name)) {
        return Error(ErrorCode::kInvalidArgument, "bad table name `" + name + "`");
    }
    const std::string path = data_dir + "/lake/" + name;
    std::error_code error;
    if (!std::filesystem::exists(path + kCurrent, error)) {
        return Error(ErrorCode::kNotFound, "no lake table `" + name + "` in " + data_dir + "/lake");
    }
    LakeTable probe(name, path, nullptr, PartitionSpec());
    auto current = probe.snapshot();
    if (!current.ok() && current.error().code() == ErrorCode::kCorruption) {
        // The schema and partitioning never change, so any intact snapshot has them: the table
        // still opens, its older snapshots stay readable AS OF their ids, and reads of the
        // corrupt one report it.
        auto current_id = probe.current_snapshot_id();
        auto intact =
            probe.newest_intact_snapshot(current_id.ok() ? *current_id : probe.manifests_end());
        if (intact) current = std::move(*intact);
    }
    if (!current.ok()) return std::move(current).error();
    const Manifest& m = *current;
    MILLRACE_ASSIGN_OR_RETURN(Schema schema, manifest_schema(m));
    MILLRACE_ASSIGN_OR_RETURN(PartitionSpec spec, PartitionSpec::parse(m.partition_by, schema));
    return LakeTable(name, path, std::make_shared<const Schema>(std::move(schema)),
                     std::move(spec));
}

Result<std::vector<std::string>> LakeTable::list(const std::string& data_dir) {
    std::vector<std::string> names;
    std::error_code error;
    const std::string root = data_dir + "/lake";
    if (!std::filesystem::is_directory(root, error)) return names;
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
        const std::string name = entry.path().filename().string();
        if (valid_table_name(name) &&
            std::filesystem::exists(entry.path() / "_manifest" / "current", error)) {
            names.push_back(name);
        }
    }
    if (error) return Error(ErrorCode::kIo, "cannot list " + root + ": " + error.message());
    std::sort(names.begin(), names.end());
    return names;
}

Result<uint64_t> LakeTable::current_snapshot_id() const {
    MILLRACE_ASSIGN_OR_RETURN(std::string text, read_file(path_ + kCurrent));
    char* end = nullptr;
    const unsigned long long id = std::strtoull(text.c_str(), &end, 10);
    if (end == text.c_str() || (*end != '\n' && *end != '\0')) {
        std::string hint = "; no snapshot manifest is intact";
        if (auto intact = newest_intact_snapshot(manifests_end())) {
            const std::string older = std::to_string((*intact)->snapshot_id);
            hint = "; the newest intact snapshot manifest is " + older +
                   ": read it explicitly as \"" + name_ + "@" + older + "\"";
        }
        return Error(
            ErrorCode::kCorruption,
            path_ + kCurrent + ": not a snapshot id (the commit pointer is corrupt)" + hint);
    }
    return static_cast<uint64_t>(id);
}

uint64_t LakeTable::manifests_end() const {
    uint64_t end = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(path_ + "/_manifest", error)) {
        const std::string name = entry.path().filename().string();
        if (name.size() != 16 || name[0] != 'v' || name.compare(11, 5, ".json") != 0) continue;
        end = std::max<uint64_t>(end, std::strtoull(name.c_str() + 1, nullptr, 10) + 1);
    }
    return end;
}

Result<Manifest> LakeTable::snapshot(std::optional<uint64_t> snapshot_id) const {
    auto current_id = current_snapshot_id();
    if (!current_id.ok() && snapshot_id && current_id.error().code() == ErrorCode::kCorruption) {
        // The commit pointer is unreadable but an explicit snapshot was asked for: its manifest
        // says for itself whether it is intact.
        return read_snapshot(*snapshot_id);
    }
    if (!current_id.ok()) return std::move(current_id).error();
    const uint64_t current = *current_id;
    const uint64_t id = snapshot_id.value_or(current);
    if (id > current) {
        return Error(ErrorCode::kNotFound, "table `" + name_ + "` has no snapshot " +
                                               std::to_string(id) + " (current is " +
                                               std::to_string(current) + ")");
    }
    auto m = read_snapshot(id);
    if (m.ok() || m.error().code() != ErrorCode::kCorruption) return m;
    std::string hint;
    if (auto intact = newest_intact_snapshot(id)) {
        const uint64_t older = (*intact)->snapshot_id;
        hint = "; the newest intact snapshot is " + std::to_string(older) +
               ": read it explicitly as \"" + name_ + "@" + std::to_string(older) +
               "\" (`millrace lake history " + name_ + "` lists the readable snapshots)";
    } else {
        hint = "; no older snapshot is intact";
    }
    return Error(ErrorCode::kCorruption, "snapshot " + std::to_string(id) + " of lake table `" +
                                             name_ + "` is corrupt: " + m.error().message() + hint);
}

Result<Manifest> LakeTable::read_snapshot(uint64_t id) const {
    const std::string file = manifest_path(id);
    auto text = read_file(file);
    if (!text.ok()) {
        if (text.error().code() == ErrorCode::kNotFound) {
            return Error(ErrorCode::kNotFound,
                         "table `" + name_ + "` has no snapshot " + std::to_string(id));
        }
        return std::move(text).error();
    }
    MILLRACE_ASSIGN_OR_RETURN(Manifest m, Manifest::parse(*text, file));
    if (m.snapshot_id != id) return Error(ErrorCode::kCorruption, file + ": wrong snapshot id");
    return m;
}

std::optional<Result<Manifest>> LakeTable::newest_intact_snapshot(uint64_t below) const {
    // Manifests above `current` are leftovers of crashed commits, never committed: callers pass
    // `current` (or, when it is unreadable, the end of the manifests on disk).
    for (uint64_t id = below; id-- > 0;) {
        auto m = read_snapshot(id);
        if (m.ok()) return m;
    }
    return std::nullopt;
}

Result<std::vector<Manifest>> LakeTable::history() const {
    MILLRACE_ASSIGN_OR_RETURN(uint64_t current, current_snapshot_id());
    std::vector<Manifest> out;
    for (uint64_t id = 0; id <= current; ++id) {
        auto m = read_snapshot(id);
        if (!m.ok()) {
            if (m.error().code() == ErrorCode::kNotFound ||
                m.error().code() == ErrorCode::kCorruption) {
                continue;
            }
            return std::move(m).error();
        }
        out.push_back(std::move(m).value());
    }
    return out;
}

Result<LakeTable::ScanStats> LakeTable::scan(const ScanOptions& options,
                                             const std::function<Status(Batch)>& on_batch) const {
    MILLRACE_ASSIGN_OR_RETURN(Manifest m, snapshot(options.snapshot_id));
    ScanStats stats;
    stats.snapshot_id = m.snapshot_id;
    std::vector<std::string> columns = options.columns;
    if (columns.empty()) {
        for (const Field& field : schema_->fields()) columns.push_back(field.name);
    }
    for (const std::string& column : columns) {
        if (!schema_->index_of(column)) {
            return Error(ErrorCode::kNotFound,
                         "table `" + name_ + "` has no column `" + column + "`");
        }
    }
    std::vector<std::size_t> predicate_columns;
    for (const ColumnPredicate& p : options.predicates) {
        auto index = schema_->index_of(p.column);
        if (!index) {
            return Error(ErrorCode::kNotFound,
                         "table `" + name_ + "` has no column `" + p.column + "`");
        }
        predicate_columns.push_back(*index);
    }
    for (const DataFile& file : m.files) {
        ++stats.files;
        bool may_match = true;
        for (std::size_t i = 0; i < options.predicates.size() && may_match; ++i) {
            const std::size_t c = predicate_columns[i];
            if (c < file.columns.size()) {
                may_match = statistics_may_match(file.columns[c], options.predicates[i].op,
                                                 options.predicates[i].value);
            }
        }
        if (!may_match) {
            ++stats.files_skipped;
            continue;
        }
        MILLRACE_ASSIGN_OR_RETURN(auto reader, ParquetReader::open(path_ + "/" + file.path));
        ParquetScanOptions scan;
        MILLRACE_ASSIGN_OR_RETURN(scan.columns, reader->column_indices(columns));
        scan.predicates = options.predicates;
        MILLRACE_ASSIGN_OR_RETURN(std::size_t skipped, reader->scan(scan, [&](Batch batch) {
            stats.rows += batch.num_rows();
            return on_batch(std::move(batch));
        }));
        stats.row_groups_skipped += skipped;
    }
    return stats;
}

Result<uint64_t> LakeTable::commit(const Change& change) const {
    MILLRACE_ASSIGN_OR_RETURN(FileLock lock,
                              FileLock::acquire_waiting(path_ + "/_manifest/.lock", "lake commit"));
    MILLRACE_ASSIGN_OR_RETURN(Manifest current, snapshot());
    if (!change.writer.empty() && change.checkpoint) {
        auto it = current.writers.find(change.writer);
        if (it != current.writers.end() && it->second >= *change.checkpoint) {
            return current.snapshot_id;
        }
    }
    std::set<std::string> drop(change.removed.begin(), change.removed.end());
    Manifest next;
    next.snapshot_id = current.snapshot_id + 1;
    next.parent_id = current.snapshot_id;
    next.committed_at_micros = now_micros();
    next.operation = change.operation;
    next.schema_text = current.schema_text;
    next.partition_by = current.partition_by;
    next.writers = current.writers;
    if (!change.writer.empty() && change.checkpoint) {
        next.writers[change.writer] = *change.checkpoint;
    }
    next.progress = current.progress;
    for (const auto& [writer, state] : change.progress) {
        if (state) {
            next.progress[writer] = *state;
        } else {
            next.progress.erase(writer);
        }
    }
    std::size_t dropped = 0;
    for (DataFile& f : current.files) {
        if (drop.count(f.path) > 0) {
            ++dropped;
            continue;
        }
        if (change.replaced_partitions.count(folder_of(f.path)) > 0) continue;
        next.files.push_back(std::move(f));
    }
    if (dropped != drop.size()) {
        return Error(ErrorCode::kUnavailable,
                     "commit conflict on `" + name_ + "`: files to replace are no longer live");
    }
    next.files.insert(next.files.end(), change.added.begin(), change.added.end());
    MILLRACE_TRY(write_file_durably(manifest_path(next.snapshot_id), next.to_json(*schema_)));
    // The commit point: `current` names the new manifest.
    MILLRACE_TRY(write_file_durably(path_ + kCurrent, std::to_string(next.snapshot_id) + "\n"));
    return next.snapshot_id;
}

Result<LakeTable::CompactResult> LakeTable::compact(const CompactOptions& options) const {
    // A writer may replace the files being merged meanwhile (an overwrite of the same day):
    // the merge is redone on the newer snapshot, a few times at most.
    constexpr int kAttempts = 5;
    for (int attempt = 1;; ++attempt) {
        auto result = compact_once(options);
        if (result.ok() || result.error().code() != ErrorCode::kUnavailable ||
            attempt == kAttempts) {
            return result;
        }
    }
}

Result<LakeTable::CompactResult> LakeTable::compact_once(const CompactOptions& options) const {
    MILLRACE_ASSIGN_OR_RETURN(Manifest m, snapshot());
    CompactResult result;
    result.snapshot_id = m.snapshot_id;
    std::map<std::string, std::vector<const DataFile*>> small;
    for (const DataFile& f : m.files) {
        if (f.bytes < options.small_file_bytes) small[folder_of(f.path)].push_back(&f);
    }
    std::vector<std::string> removed;
    std::vector<DataFile> added;
    std::optional<StagingFolder> staging_folder;
    for (const auto& [folder, files] : small) {
        if (files.size() < std::max<std::size_t>(2, options.min_files)) continue;
        if (!staging_folder) {
            MILLRACE_ASSIGN_OR_RETURN(StagingFolder claimed,
                                      StagingFolder::claim_private(path_, "compact"));
            staging_folder.emplace(std::move(claimed));
        }
        const std::string& staging = staging_folder->path();
        const std::string name = data_file_name("compact");
        const std::string staged = staging + "/" + name;
        ParquetWriterOptions parquet = options.parquet;
        parquet.sync = true;
        MILLRACE_ASSIGN_OR_RETURN(auto writer, ParquetWriter::open(staged, schema_, parquet));
        for (const DataFile* f : files) {
            MILLRACE_ASSIGN_OR_RETURN(auto reader, ParquetReader::open(path_ + "/" + f->path));
            if (!(*reader->schema() == *schema_)) {
                return Error(ErrorCode::kCorruption,
                             path_ + "/" + f->path + ": schema differs from the table's");
            }
            auto scanned = reader->scan({}, [&](Batch batch) {
                // Batches read back carry the file's schema object: rewrap with the table's.
                std::vector<std::shared_ptr<const Column>> columns;
                for (std::size_t c = 0; c < batch.num_columns(); ++c) {
                    columns.push_back(batch.column_ptr(c));
                }
                return writer->write(Batch(schema_, std::move(columns), batch.num_rows()));
            });
            if (!scanned.ok()) return std::move(scanned).error();
            removed.push_back(f->path);
        }
        MILLRACE_TRY(writer->close());
        DataFile out;
        out.path = folder.empty() ? name : folder + "/" + name;
        out.partition = PartitionSpec::split_folder(folder);
        out.rows = writer->rows_written();
        out.bytes = writer->bytes_written();
        out.columns = writer->statistics();
        MILLRACE_TRY(create_directories_durably(folder.empty() ? path_ : path_ + "/" + folder));
        MILLRACE_TRY(rename_durably(staged, path_ + "/" + out.path));
        added.push_back(std::move(out));
        result.files_removed += files.size();
        ++result.files_added;
    }
    if (added.empty()) return result;
    Change change;
    change.removed = std::move(removed);
    change.added = std::move(added);
    change.operation = "compact";
    auto committed = commit(change);
    if (!committed.ok()) {
        // Not committed: the merged files are referenced by no manifest.
        for (const DataFile& f : change.added) ::unlink((path_ + "/" + f.path).c_str());
        return std::move(committed).error();
    }
    result.snapshot_id = *committed;
    return result;
}

}  // namespace millrace
