#include "cli/lake_command.h"

#include <limits.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "connectors/input_file.h"
#include "formats/csv_decoder.h"
#include "formats/file_format.h"
#include "formats/json_decoder.h"
#include "formats/parquet/parquet_reader.h"
#include "lake/iceberg_metadata.h"
#include "lake/lake_table.h"
#include "lake/lake_writer.h"
#include "pipeline/lake_delete.h"
#include "project/project_loader.h"
#include "storage/object_store.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

Result<std::string> data_dir_of(const LakeOptions& options) {
    if (!options.data_dir.empty()) return options.data_dir;
    std::vector<Error> errors;
    auto project = load_project(options.project.empty() ? "." : options.project, &errors);
    if (!project.ok()) {
        return Error(ErrorCode::kInvalidArgument,
                     "no --data-dir and no loadable project in `" +
                         (options.project.empty() ? std::string(".") : options.project) +
                         "`: " + project.error().message());
    }
    return project->data_dir;
}

// The project's `lake: { storage: }` for tables an import creates: only when the data dir is
// the project's (no --data-dir), so `-d dir` keeps meaning a local lake.
Result<std::optional<ObjectStoreConfig>> storage_of(const LakeOptions& options) {
    if (!options.data_dir.empty()) return std::optional<ObjectStoreConfig>();
    std::vector<Error> errors;
    MILLRACE_ASSIGN_OR_RETURN(
        Project project, load_project(options.project.empty() ? "." : options.project, &errors));
    if (!project.lake_storage) return std::optional<ObjectStoreConfig>();
    return std::optional<ObjectStoreConfig>(ObjectStoreConfig{project.lake_storage->storage,
                                                              project.lake_storage->endpoint,
                                                              project.lake_storage->region});
}

std::string stat_text(const Value& v) { return v.is_null() ? "-" : v.to_string(); }

std::string when(int64_t micros) {
    std::string out;
    append_timestamp(out, micros);
    return out;
}

// What an unfinished import committed so far, kept in the manifest's `progress` under
// "<writer id>:<resolved input path>" and updated atomically with each of its commits:
//
//   input /abs/path/orders.csv      the input, identified by resolved path, size and mtime
//   size 1234567
//   mtime 1764962400123456789
//   rows 200000                     rows (in input order, rejected records not counted) committed
//   replaced day=2026-11-23         --overwrite: partitions already replaced by this import
struct ImportProgress {
    std::string input;
    uint64_t size = 0;
    uint64_t mtime = 0;
    uint64_t rows = 0;
    std::set<std::string> replaced;

    bool same_input(const ImportProgress& other) const {
        return input == other.input && size == other.size && mtime == other.mtime;
    }

    std::string to_text() const {
        std::string out = "input " + input + "\nsize " + std::to_string(size) + "\nmtime " +
                          std::to_string(mtime) + "\nrows " + std::to_string(rows) + "\n";
        for (const std::string& folder : replaced) out += "replaced " + folder + "\n";
        return out;
    }

    static std::optional<ImportProgress> parse(const std::string& text) {
        ImportProgress p;
        std::size_t start = 0;
        while (start < text.size()) {
            std::size_t end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            const std::string line = text.substr(start, end - start);
            start = end + 1;
            const std::size_t space = line.find(' ');
            if (space == std::string::npos) return std::nullopt;
            const std::string key = line.substr(0, space);
            const std::string value = line.substr(space + 1);
            if (key == "input") {
                p.input = value;
            } else if (key == "replaced") {
                p.replaced.insert(value);
            } else if (key == "size" || key == "mtime" || key == "rows") {
                char* stop = nullptr;
                const uint64_t number = std::strtoull(value.c_str(), &stop, 10);
                if (stop == value.c_str() || *stop != '\0') return std::nullopt;
                (key == "size" ? p.size : key == "mtime" ? p.mtime : p.rows) = number;
            }
        }
        if (p.input.empty()) return std::nullopt;
        return p;
    }
};

Result<ImportProgress> identify_input(const std::string& path) {
    ImportProgress p;
    char resolved[PATH_MAX];
    struct stat info {};
    if (::realpath(path.c_str(), resolved) == nullptr || ::stat(resolved, &info) != 0) {
        return Error(ErrorCode::kNotFound, "cannot open " + path + ": " + std::strerror(errno));
    }
    p.input = resolved;
    p.size = static_cast<uint64_t>(info.st_size);
    p.mtime = static_cast<uint64_t>(info.st_mtim.tv_sec) * 1'000'000'000ull +
              static_cast<uint64_t>(info.st_mtim.tv_nsec);
    return p;
}

// Commits to a LakeWriter every `commit_rows` rows, as checkpoints would, recording the import's
// progress with each intermediate commit. The first `skip` rows were committed by an interrupted
// run of the same import and are not written again.
class ImportSink final : public DecodeSink {
public:
    ImportSink(LakeWriter& writer, uint64_t commit_rows, bool overwrite, std::string progress_key,
               ImportProgress progress, bool progress_recorded)
        : writer_(writer),
          commit_rows_(commit_rows),
          overwrite_(overwrite),
          progress_key_(std::move(progress_key)),
          progress_(std::move(progress)),
          skip_(progress_.rows),
          progress_recorded_(progress_recorded) {}

    Status on_batch(Batch batch) override {
        if (skip_ >= batch.num_rows()) {
            skip_ -= batch.num_rows();
            return {};
        }
        if (skip_ > 0) {
            std::vector<uint32_t> rest;
            for (std::size_t r = skip_; r < batch.num_rows(); ++r) {
                rest.push_back(static_cast<uint32_t>(r));
            }
            skip_ = 0;
            batch = batch.take(rest);
        }
        MILLRACE_TRY(writer_.write(batch));
        rows_ += batch.num_rows();
        if (commit_rows_ > 0 && writer_.pending_rows() >= commit_rows_) return commit(false);
        return {};
    }
    void on_error(RowError error) override {
        ++rejected_;
        if (rejected_ <= 5)
            std::fprintf(stderr, "rejected line %llu: %s\n",
                         static_cast<unsigned long long>(error.line), error.reason.c_str());
    }
    /// `last`: the import is complete, so its progress entry goes.
    Status commit(bool last) {
        ImportProgress next = progress_;
        next.rows += writer_.pending_rows();
        if (overwrite_) {
            // Recorded with the commit that replaces them, so a resumed run appends to them.
            next.replaced = writer_.replaced_partitions();
            const std::set<std::string> staged = writer_.staged_partitions();
            next.replaced.insert(staged.begin(), staged.end());
        }
        MILLRACE_TRY(writer_.pre_commit(checkpoint_));
        std::map<std::string, std::optional<std::string>> progress;
        if (!last) {
            progress[progress_key_] = next.to_text();
        } else if (progress_recorded_) {
            progress[progress_key_] = std::nullopt;
        }
        MILLRACE_ASSIGN_OR_RETURN(uint64_t snapshot, writer_.commit(checkpoint_, progress));
        progress_ = std::move(next);
        progress_recorded_ = !last;
        std::fprintf(stderr, "lake import: checkpoint %llu committed as snapshot %llu\n",
                     static_cast<unsigned long long>(checkpoint_),
                     static_cast<unsigned long long>(snapshot));
        ++checkpoint_;
        return {};
    }
    uint64_t rows() const { return rows_; }
    uint64_t rejected() const { return rejected_; }
    bool progress_recorded() const { return progress_recorded_; }

private:
    LakeWriter& writer_;
    uint64_t commit_rows_;
    bool overwrite_;
    std::string progress_key_;
    ImportProgress progress_;
    uint64_t skip_;
    bool progress_recorded_;
    uint64_t checkpoint_ = 1;
    uint64_t rows_ = 0;
    uint64_t rejected_ = 0;
};

Status import(const LakeOptions& options, const std::string& data_dir) {
    if (options.input.empty()) return Error(ErrorCode::kInvalidArgument, "import needs --input");
    auto format = file_format_from_path(options.input);
    if (!format)
        return Error(ErrorCode::kInvalidArgument, "cannot tell the format of " + options.input);
    std::unique_ptr<ParquetReader> parquet;
    std::shared_ptr<const Schema> schema;
    if (*format == FileFormat::kParquet) {
        MILLRACE_ASSIGN_OR_RETURN(parquet, ParquetReader::open(options.input));
        schema = parquet->schema();
    } else {
        if (options.schema.empty()) {
            return Error(ErrorCode::kInvalidArgument, "NDJSON and CSV input need --schema");
        }
        MILLRACE_ASSIGN_OR_RETURN(Schema parsed, parse_schema_spec(options.schema));
        schema = std::make_shared<const Schema>(std::move(parsed));
    }
    std::optional<LakeTable> table;
    if (options.create) {
        // A new table is created by the import's first commit, so an import that fails
        // before it leaves no table behind.
        MILLRACE_ASSIGN_OR_RETURN(std::optional<ObjectStoreConfig> storage, storage_of(options));
        auto prepared = LakeTable::prepare(data_dir, options.table, *schema, options.partition_by,
                                           storage ? &*storage : nullptr);
        if (prepared.ok()) {
            table.emplace(std::move(prepared).value());
        } else if (prepared.error().code() != ErrorCode::kAlreadyExists) {
            return std::move(prepared).error();
        }
    }
    if (!table) {
        MILLRACE_ASSIGN_OR_RETURN(LakeTable opened, LakeTable::open(data_dir, options.table));
        table.emplace(std::move(opened));
    }
    // A prepared table that no commit created goes when the import fails (a no-op once the
    // table exists). Declared before the writer, so the writer's staging is gone by then.
    struct DropUncreated {
        const LakeTable& table;
        ~DropUncreated() { table.remove_if_uncreated(); }
    } drop_uncreated{*table};
    // Checked before a pipe is read (reading it consumes it); a missing file is reported when
    // it is opened.
    struct stat info {};
    const bool exists = parquet || ::stat(options.input.c_str(), &info) == 0;
    const bool regular = parquet || (exists && S_ISREG(info.st_mode));
    if (options.commit_rows > 0 && exists && !regular) {
        return Error(ErrorCode::kInvalidArgument,
                     "--commit-rows needs a regular file as --input (an interrupted import "
                     "resumes at a position in the file, and " +
                         options.input + " cannot be read twice)");
    }
    // Input before staging, so that what cannot be read fails before anything is staged.
    std::optional<InputFile> input_bytes;
    if (!parquet) {
        MILLRACE_ASSIGN_OR_RETURN(InputFile opened, InputFile::open(options.input));
        input_bytes.emplace(std::move(opened));
    }
    ImportProgress progress;
    if (regular) {
        MILLRACE_ASSIGN_OR_RETURN(progress, identify_input(options.input));
    }

    // An interrupted import of the same file by the same writer id resumes after the rows it
    // committed, if the file is unchanged (size and mtime); a changed file starts over. Keyed by
    // writer id and file, so concurrent imports of different files never touch each other's.
    const std::string progress_key = options.writer_id + ":" + progress.input;
    MILLRACE_ASSIGN_OR_RETURN(Manifest current, table->snapshot());
    bool progress_recorded = false;
    if (auto it = current.progress.find(progress_key); regular && it != current.progress.end()) {
        progress_recorded = true;
        auto earlier = ImportProgress::parse(it->second);
        if (earlier && earlier->same_input(progress)) {
            progress.rows = earlier->rows;
            if (options.overwrite) progress.replaced = earlier->replaced;
            std::fprintf(stderr,
                         "lake import: resuming an interrupted import of %s after the %llu rows "
                         "it committed\n",
                         progress.input.c_str(), static_cast<unsigned long long>(progress.rows));
        } else {
            std::fprintf(stderr,
                         "lake import: %s changed since an interrupted import of it (%llu rows "
                         "committed, which stay); importing it from the start\n",
                         progress.input.c_str(),
                         static_cast<unsigned long long>(earlier ? earlier->rows : 0));
        }
    }

    LakeWriterOptions writer_options;
    writer_options.writer_id = options.writer_id;
    // Private staging: what a failed or killed import staged is dropped, never committed by the
    // next import; an interrupted import resumes from its recorded progress instead.
    writer_options.staging = LakeStaging::kPrivate;
    writer_options.overwrite_partitions = options.overwrite;
    writer_options.replaced_partitions = progress.replaced;
    if (options.compression == "zstd") {
        writer_options.parquet.codec = ParquetCodec::kZstd;
    } else if (options.compression == "snappy") {
        writer_options.parquet.codec = ParquetCodec::kSnappy;
    } else if (options.compression == "none") {
        writer_options.parquet.codec = ParquetCodec::kUncompressed;
    } else {
        return Error(ErrorCode::kInvalidArgument, "unknown --compression `" + options.compression +
                                                      "` (expected zstd, snappy or none)");
    }
    MILLRACE_ASSIGN_OR_RETURN(auto writer, LakeWriter::open(*table, writer_options));
    const uint64_t resumed_rows = progress.rows;
    ImportSink sink(*writer, options.commit_rows, options.overwrite, progress_key,
                    std::move(progress), progress_recorded);
    if (parquet) {
        auto scanned =
            parquet->scan({}, [&](Batch batch) { return sink.on_batch(std::move(batch)); });
        if (!scanned.ok()) return std::move(scanned).error();
    } else if (*format == FileFormat::kJson) {
        JsonDecoder decoder(table->schema());
        MILLRACE_TRY(decoder.decode(input_bytes->bytes(), sink));
    } else {
        CsvDecoder decoder(table->schema(), CsvOptions{});
        MILLRACE_TRY(decoder.decode(input_bytes->bytes(), sink));
    }
    if (writer->pending_rows() > 0 || options.commit_rows == 0 || sink.progress_recorded()) {
        MILLRACE_TRY(sink.commit(true));
    }
    MILLRACE_TRY(table->ensure_created());  // an import of no rows still makes its table
    const std::string resumed = resumed_rows > 0 ? ", " + std::to_string(resumed_rows) +
                                                       " committed before the interruption"
                                                 : "";
    std::fprintf(stderr, "lake import: %llu rows into `%s` (%llu rejected%s)\n",
                 static_cast<unsigned long long>(sink.rows()), options.table.c_str(),
                 static_cast<unsigned long long>(sink.rejected()), resumed.c_str());
    return {};
}

std::string trimmed(std::string_view text) {
    const std::size_t first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return "";
    const std::size_t last = text.find_last_not_of(" \t");
    return std::string(text.substr(first, last - first + 1));
}

// The schema changes `lake alter` asks for, in the order adds, renames, widenings, moves,
// drops.
Result<std::vector<LakeTable::SchemaChange>> schema_changes(const LakeOptions& options) {
    using Kind = LakeTable::SchemaChange::Kind;
    std::vector<LakeTable::SchemaChange> changes;
    auto typed = [&](const std::string& spec, Kind kind, const char* option) -> Status {
        const std::size_t colon = spec.find(':');
        if (colon == std::string::npos) {
            return Error(ErrorCode::kInvalidArgument,
                         std::string(option) + " `" + spec + "`: expected 'name: type'");
        }
        LakeTable::SchemaChange change;
        change.kind = kind;
        change.column = trimmed(std::string_view(spec).substr(0, colon));
        const std::string type = trimmed(std::string_view(spec).substr(colon + 1));
        auto parsed = parse_type_name(type);
        if (!parsed) {
            return Error(ErrorCode::kInvalidArgument,
                         std::string(option) + " `" + spec + "`: unknown type `" + type + "`");
        }
        std::string lower = type;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (kind == Kind::kWiden && (lower == "float" || lower == "real")) {
            // Millrace reads `float` as double; widening an Iceberg float column names double.
            return Error(ErrorCode::kInvalidArgument, std::string(option) + " `" + spec +
                                                          "`: widen a float column to double: '" +
                                                          change.column + ": double'");
        }
        change.type = *parsed;
        changes.push_back(std::move(change));
        return {};
    };
    for (const std::string& spec : options.add_columns) {
        MILLRACE_TRY(typed(spec, Kind::kAddColumn, "--add-column"));
    }
    for (const std::string& spec : options.rename_columns) {
        const std::size_t eq = spec.find('=');
        if (eq == std::string::npos) {
            return Error(ErrorCode::kInvalidArgument,
                         "--rename-column `" + spec + "`: expected 'old=new'");
        }
        LakeTable::SchemaChange change;
        change.kind = Kind::kRenameColumn;
        change.column = trimmed(std::string_view(spec).substr(0, eq));
        change.to = trimmed(std::string_view(spec).substr(eq + 1));
        changes.push_back(std::move(change));
    }
    for (const std::string& spec : options.widen_columns) {
        MILLRACE_TRY(typed(spec, Kind::kWiden, "--widen-column"));
    }
    for (const std::string& spec : options.move_columns) {
        LakeTable::SchemaChange change;
        change.kind = Kind::kMoveColumn;
        const std::string text = trimmed(spec);
        const std::size_t after = text.find(" after ");
        if (after != std::string::npos) {
            change.column = trimmed(std::string_view(text).substr(0, after));
            change.to = trimmed(std::string_view(text).substr(after + 7));
        } else if (text.size() > 6 && text.compare(text.size() - 6, 6, " first") == 0) {
            change.column = trimmed(std::string_view(text).substr(0, text.size() - 6));
        } else {
            return Error(ErrorCode::kInvalidArgument,
                         "--move-column `" + spec + "`: expected 'col first' or 'col after other'");
        }
        changes.push_back(std::move(change));
    }
    for (const std::string& column : options.drop_columns) {
        LakeTable::SchemaChange change;
        change.kind = Kind::kDropColumn;
        change.column = trimmed(column);
        changes.push_back(std::move(change));
    }
    if (changes.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     "lake alter needs a change: --add-column 'name: type', --rename-column "
                     "old=new, --drop-column name, --move-column 'name first|after other', "
                     "--widen-column 'name: int64|double'");
    }
    return changes;
}

Status run(const LakeOptions& options) {
    MILLRACE_ASSIGN_OR_RETURN(std::string data_dir, data_dir_of(options));
    if (options.action == "list") {
        MILLRACE_ASSIGN_OR_RETURN(std::vector<std::string> names, LakeTable::list(data_dir));
        // A corrupt table is reported in its line and at the end; the others are still listed.
        std::optional<Error> corrupt;
        for (const std::string& name : names) {
            auto table = LakeTable::open(data_dir, name);
            Result<Manifest> m =
                table.ok() ? table->snapshot() : Result<Manifest>(std::move(table).error());
            if (!m.ok()) {
                std::printf("%s\tunreadable\n", name.c_str());
                if (!corrupt) corrupt = std::move(m).error();
                continue;
            }
            std::printf("%s\tsnapshot %llu\t%zu files\t%llu rows\t%llu bytes\n", name.c_str(),
                        static_cast<unsigned long long>(m->snapshot_id), m->files.size(),
                        static_cast<unsigned long long>(m->total_rows()),
                        static_cast<unsigned long long>(m->total_bytes()));
        }
        if (corrupt) return std::move(*corrupt);
        return {};
    }
    if (options.table.empty()) {
        return Error(ErrorCode::kInvalidArgument, "lake " + options.action + " needs a table name");
    }
    if (options.action == "import") return import(options, data_dir);
    if (options.action == "rename") {
        if (options.to.empty()) {
            return Error(ErrorCode::kInvalidArgument,
                         "lake rename needs the new name: millrace lake rename <table> <new-name>");
        }
        MILLRACE_ASSIGN_OR_RETURN(LakeTable renamed,
                                  LakeTable::rename(data_dir, options.table, options.to));
        std::printf("renamed `%s` to `%s` (%s)\n", options.table.c_str(), renamed.name().c_str(),
                    renamed.path().c_str());
        return {};
    }
    if (!options.to.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     "lake " + options.action + " takes one table; a second name is for rename");
    }
    if (options.action == "upgrade") {
        MILLRACE_ASSIGN_OR_RETURN(LakeTable upgraded, LakeTable::upgrade(data_dir, options.table));
        MILLRACE_ASSIGN_OR_RETURN(Manifest m, upgraded.snapshot());
        std::printf("upgraded `%s` to Iceberg: snapshot %llu, %zu files, %llu rows\n",
                    options.table.c_str(), static_cast<unsigned long long>(m.snapshot_id),
                    m.files.size(), static_cast<unsigned long long>(m.total_rows()));
        return {};
    }
    MILLRACE_ASSIGN_OR_RETURN(LakeTable table, LakeTable::open(data_dir, options.table));
    if (options.action == "describe") {
        MILLRACE_ASSIGN_OR_RETURN(Manifest m, table.snapshot(options.snapshot));
        std::printf("table:        %s\npath:         %s\nschema:       %s\n", table.name().c_str(),
                    table.path().c_str(), table.schema()->to_string().c_str());
        std::string partitions;
        for (const std::string& p : m.partition_by)
            partitions += (partitions.empty() ? "" : ", ") + p;
        std::printf(
            "partition_by: %s\nsnapshot:     %llu (%s, %s)\nfiles:        %zu\nrows:         "
            "%llu\nbytes:        %llu\n",
            partitions.empty() ? "-" : partitions.c_str(),
            static_cast<unsigned long long>(m.snapshot_id), m.operation.c_str(),
            when(m.committed_at_micros).c_str(), m.files.size(),
            static_cast<unsigned long long>(m.total_rows()),
            static_cast<unsigned long long>(m.total_bytes()));
        std::printf("columns:\n");
        for (std::size_t c = 0; c < table.schema()->size(); ++c) {
            ColumnStatistics total;
            for (const DataFile& f : m.files) {
                if (c < f.columns.size()) total.merge(f.columns[c]);
            }
            const bool is_float = is_float_id(table.float_ids(), table.field_ids()[c]);
            std::printf(
                "  %-20s %-10s min %s  max %s  nulls %llu\n", table.schema()->field(c).name.c_str(),
                is_float ? "float" : std::string(type_name(table.schema()->field(c).type)).c_str(),
                stat_text(total.min).c_str(), stat_text(total.max).c_str(),
                static_cast<unsigned long long>(total.null_count));
        }
        return {};
    }
    if (options.action == "files") {
        MILLRACE_ASSIGN_OR_RETURN(Manifest m, table.snapshot(options.snapshot));
        for (const DataFile& f : (options.deletes ? m.deletes : m.files)) {
            std::printf("%s\t%llu rows\t%llu bytes\n", f.path.c_str(),
                        static_cast<unsigned long long>(f.rows),
                        static_cast<unsigned long long>(f.bytes));
        }
        return {};
    }
    if (options.action == "history") {
        MILLRACE_ASSIGN_OR_RETURN(std::vector<Manifest> history, table.history());
        MILLRACE_ASSIGN_OR_RETURN(uint64_t current, table.current_snapshot_id());
        // Corrupt snapshots are shown where they belong, with what is wrong; the intact ones
        // stay listed (and readable AS OF their ids).
        std::optional<Error> corrupt;
        std::size_t next = 0;
        for (uint64_t id = 0; id <= current; ++id) {
            if (next < history.size() && history[next].snapshot_id == id) {
                const Manifest& m = history[next++];
                std::printf("%llu\tparent %llu\t%s\t%s\t%zu files\t%llu rows\n",
                            static_cast<unsigned long long>(m.snapshot_id),
                            static_cast<unsigned long long>(m.parent_id),
                            when(m.committed_at_micros).c_str(), m.operation.c_str(),
                            m.files.size(), static_cast<unsigned long long>(m.total_rows()));
                continue;
            }
            auto m = table.snapshot(id);
            if (m.ok() || m.error().code() != ErrorCode::kCorruption) continue;
            std::printf("%llu\tcorrupt\t%s\n", static_cast<unsigned long long>(id),
                        table.snapshot_file(id).c_str());
            if (!corrupt) corrupt = std::move(m).error();
        }
        if (corrupt) return std::move(*corrupt);
        return {};
    }
    if (options.action == "compact") {
        LakeTable::CompactOptions compact;
        compact.small_file_bytes = options.small_file_bytes;
        MILLRACE_ASSIGN_OR_RETURN(LakeTable::CompactResult result, table.compact(compact));
        std::printf("compacted %zu files into %zu; snapshot %llu\n", result.files_removed,
                    result.files_added, static_cast<unsigned long long>(result.snapshot_id));
        return {};
    }
    if (options.action == "delete") {
        if (options.where.empty()) {
            return Error(ErrorCode::kInvalidArgument,
                         "lake delete needs --where \"<SQL predicate>\" (e.g. --where "
                         "\"status = 'cancelled'\"; --where true deletes every row)");
        }
        MILLRACE_ASSIGN_OR_RETURN(LakeTable::DeleteResult result,
                                  delete_lake_rows(table, options.where));
        std::printf("deleted %llu rows (%zu delete files, %zu data files dropped); snapshot %llu\n",
                    static_cast<unsigned long long>(result.rows_deleted), result.delete_files,
                    result.files_removed, static_cast<unsigned long long>(result.snapshot_id));
        return {};
    }
    if (options.action == "alter") {
        MILLRACE_ASSIGN_OR_RETURN(std::vector<LakeTable::SchemaChange> changes,
                                  schema_changes(options));
        MILLRACE_ASSIGN_OR_RETURN(int64_t schema_id, table.alter(changes));
        MILLRACE_ASSIGN_OR_RETURN(LakeTable reopened, LakeTable::open(data_dir, options.table));
        std::printf("schema %lld: %s\n", static_cast<long long>(schema_id),
                    reopened.schema()->to_string().c_str());
        return {};
    }
    if (options.action == "expire-snapshots") {
        const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        const int64_t older_than_ms = now_ms - options.older_than_seconds.value_or(0) * 1000;
        MILLRACE_ASSIGN_OR_RETURN(LakeTable::ExpireResult result,
                                  table.expire_snapshots(older_than_ms + 1, options.retain_last));
        std::printf("expired %zu snapshots; deleted %zu files\n", result.snapshots_expired,
                    result.files_deleted);
        return {};
    }
    if (options.action == "remove-orphan-files") {
        MILLRACE_ASSIGN_OR_RETURN(
            std::size_t removed,
            table.remove_orphan_files(options.older_than_seconds.value_or(3600) * 1000));
        std::printf("removed %zu orphan files\n", removed);
        return {};
    }
    return Error(ErrorCode::kInvalidArgument,
                 "unknown lake action `" + options.action +
                     "` (expected list, describe, files, history, compact, import, delete, alter, "
                     "rename, expire-snapshots, remove-orphan-files or upgrade)");
}

}  // namespace

int run_lake(const LakeOptions& options) {
    Status status = run(options);
    if (!status.ok()) {
        std::fprintf(stderr, "millrace lake: %s\n", status.error().to_string().c_str());
        return 1;
    }
    return 0;
}

}  // namespace millrace
