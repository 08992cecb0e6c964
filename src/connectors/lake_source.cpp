#include "connectors/lake_source.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>

#include "common/durable_file.h"
#include "common/mapped_file.h"
#include "lake/iceberg_metadata.h"
#include "types/column_builder.h"

namespace millrace {

namespace {

constexpr std::string_view kChangeColumn = "_change";

/// Errors about the table point at `table:` in the user's file.
Error at_table(const SourceSpec& spec, Error error) {
    return Error(error.code() == ErrorCode::kNotFound ? ErrorCode::kConfig : error.code(),
                 fmt::format("source `{}`: {}", spec.name, error.message()),
                 spec.table_location.known() ? spec.table_location : spec.location);
}

}  // namespace

Result<LakeTable> LakeSource::open_table(const SourceSpec& spec, const std::string& data_dir) {
    auto table = LakeTable::open(data_dir, spec.table);
    if (table.ok()) return table;
    if (table.error().code() != ErrorCode::kNotFound)
        return at_table(spec, std::move(table).error());
    std::string message = fmt::format("unknown lake table `{}`", spec.table);
    auto names = LakeTable::list(data_dir);
    if (names.ok() && !names->empty()) {
        message += " (tables:";
        for (const std::string& name : *names) message += " " + name;
        message += ")";
    }
    return Error(ErrorCode::kConfig, fmt::format("source `{}`: {}", spec.name, message),
                 spec.table_location.known() ? spec.table_location : spec.location);
}

Result<std::shared_ptr<const Schema>> LakeSource::schema_of(const SourceSpec& spec,
                                                            const LakeTable& table) {
    if (!spec.changelog) return table.schema();
    if (table.schema()->index_of(std::string(kChangeColumn))) {
        return Error(ErrorCode::kConfig,
                     fmt::format("source `{}`: table `{}` has a column `{}`, the column a "
                                 "changelog adds; rename it (`millrace lake alter`)",
                                 spec.name, spec.table, kChangeColumn),
                     spec.table_location);
    }
    std::vector<Field> fields = table.schema()->fields();
    fields.push_back(Field{std::string(kChangeColumn), DataType::kString, false});
    MILLRACE_ASSIGN_OR_RETURN(Schema schema, Schema::make(std::move(fields)));
    return std::make_shared<const Schema>(std::move(schema));
}

Batch LakeSource::as_delivered(const std::shared_ptr<const Schema>& schema, const Batch& batch,
                               std::optional<LakeTable::ChangeKind> change) {
    std::vector<std::shared_ptr<const Column>> columns;
    for (std::size_t c = 0; c < batch.num_columns(); ++c) columns.push_back(batch.column_ptr(c));
    if (change) {
        const std::string_view text =
            *change == LakeTable::ChangeKind::kInsert ? "insert" : "delete";
        ColumnBuilder builder(DataType::kString, batch.num_rows());
        for (std::size_t r = 0; r < batch.num_rows(); ++r) builder.append_string(text);
        columns.push_back(std::make_shared<const Column>(builder.finish()));
    }
    return Batch(schema, std::move(columns), batch.num_rows());
}

Result<std::optional<LakeSource::Progress>> LakeSource::read_progress(const std::string& path) {
    std::error_code error;
    if (!std::filesystem::exists(path, error)) return std::optional<Progress>();
    MILLRACE_ASSIGN_OR_RETURN(std::string text, read_file(path));
    Progress progress;
    bool has_snapshot = false;
    bool bad = false;
    std::size_t start = 0;
    while (start < text.size() && !bad) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string_view line(text.data() + start, end - start);
        start = end + 1;
        if (line.empty()) continue;
        constexpr std::string_view kSnapshot = "snapshot ";
        constexpr std::string_view kUuid = "table-uuid ";
        if (line.substr(0, kSnapshot.size()) == kSnapshot) {
            const std::string_view digits = line.substr(kSnapshot.size());
            auto [stop, parsed] =
                std::from_chars(digits.data(), digits.data() + digits.size(), progress.snapshot);
            bad = parsed != std::errc() || stop != digits.data() + digits.size();
            has_snapshot = true;
        } else if (line.substr(0, kUuid.size()) == kUuid) {
            progress.table_uuid = std::string(line.substr(kUuid.size()));
        } else {
            bad = true;
        }
    }
    if (bad || !has_snapshot) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("{} does not hold a processed snapshot (`snapshot <id>`, got "
                                 "`{}`); remove it to read the table from `start_snapshot`",
                                 path, text));
    }
    return std::optional<Progress>(std::move(progress));
}

Result<std::shared_ptr<const Schema>> LakeSource::schema_of(const SourceSpec& spec,
                                                            const std::string& data_dir) {
    MILLRACE_ASSIGN_OR_RETURN(LakeTable table, open_table(spec, data_dir));
    return schema_of(spec, table);
}

Result<std::unique_ptr<LakeSource>> LakeSource::open(const SourceSpec& spec,
                                                     const std::string& data_dir,
                                                     const std::string& progress_path) {
    MILLRACE_ASSIGN_OR_RETURN(LakeTable table, open_table(spec, data_dir));
    std::unique_ptr<LakeSource> source(new LakeSource(spec.name, std::move(table)));
    MILLRACE_ASSIGN_OR_RETURN(source->schema_, schema_of(spec, source->table_));
    source->changelog_ = spec.changelog;
    auto current = source->table_.current_snapshot_id();
    if (!current.ok()) return at_table(spec, std::move(current).error());
    source->upto_ = *current;
    if (!spec.incremental) return source;
    source->progress_path_ = progress_path;
    {
        auto metadata = source->table_.current_metadata_file();
        if (!metadata.ok()) return at_table(spec, std::move(metadata).error());
        auto parsed = TableMetadata::parse(metadata->json, metadata->path);
        if (!parsed.ok()) return at_table(spec, std::move(parsed).error());
        source->table_uuid_ = parsed->table_uuid;
    }
    std::optional<uint64_t> processed;
    if (!progress_path.empty()) {
        auto read = read_progress(progress_path);
        if (!read.ok()) return Error(read.error().code(), read.error().message(), spec.location);
        if (*read) {
            if (!(*read)->table_uuid.empty() && (*read)->table_uuid != source->table_uuid_) {
                return Error(ErrorCode::kConfig,
                             fmt::format("source `{}`: the pipeline processed another table "
                                         "(uuid {}) up to snapshot {}; `{}` is uuid {} (made "
                                         "anew, or another table renamed to it): remove {} to "
                                         "read it from `start_snapshot`",
                                         spec.name, (*read)->table_uuid, (*read)->snapshot,
                                         spec.table, source->table_uuid_, progress_path),
                             spec.table_location);
            }
            processed = (*read)->snapshot;
        }
    }
    const uint64_t after = processed.value_or(spec.start_snapshot.value_or(0));
    if (after > source->upto_) {
        return Error(ErrorCode::kConfig,
                     processed
                         ? fmt::format("source `{}`: the pipeline processed table `{}` up to "
                                       "snapshot {}, but the table's current snapshot is {} (was "
                                       "it rolled back?); remove {} to read it from "
                                       "`start_snapshot`",
                                       spec.name, spec.table, after, source->upto_, progress_path)
                         : fmt::format("source `{}`: start_snapshot {} is after table `{}`'s "
                                       "current snapshot, {}",
                                       spec.name, after, spec.table, source->upto_),
                     processed ? spec.table_location : spec.location);
    }
    source->after_ = after;
    return source;
}

Result<PollResult> LakeSource::poll(DecodeSink& sink, std::size_t /*max_records*/,
                                    Listener* listener) {
    if (done_) return PollResult::kEnd;
    rows_ = 0;
    if (listener != nullptr) {
        listener->on_unit_start(
            after_ ? fmt::format("lake table {} snapshots {}..{}", table_.name(), *after_, upto_)
                   : fmt::format("lake table {} snapshot {}", table_.name(), upto_));
    }
    if (changelog_) {
        auto changes = table_.scan_changes(
            *after_, upto_, {}, [&](Batch batch, LakeTable::ChangeKind kind, uint64_t) -> Status {
                rows_ += batch.num_rows();
                return sink.on_batch(as_delivered(schema_, batch, kind));
            });
        if (!changes.ok()) return std::move(changes).error().with_context("reading " + name_);
    } else {
        LakeTable::ScanOptions options;
        options.snapshot_id = upto_;
        options.appended_after = after_;
        auto scanned = table_.scan(options, [&](Batch batch) -> Status {
            rows_ += batch.num_rows();
            return sink.on_batch(as_delivered(schema_, batch, std::nullopt));
        });
        if (!scanned.ok()) return std::move(scanned).error().with_context("reading " + name_);
    }
    done_ = true;
    return PollResult::kData;
}

Status LakeSource::seek(const SourcePosition& position) {
    if (position.unit > 1 || position.offset != 0 || position.line != 0) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: position {} is not 0:0:0 or 1:0:0", name_,
                                 position.to_string()));
    }
    done_ = position.unit == 1;
    return {};
}

Status LakeSource::commit_progress() const {
    if (!after_ || progress_path_.empty()) return {};
    MILLRACE_TRY(
        create_directories_durably(std::filesystem::path(progress_path_).parent_path().string()));
    return write_file_durably(progress_path_,
                              fmt::format("snapshot {}\ntable-uuid {}\n", upto_, table_uuid_));
}

}  // namespace millrace
