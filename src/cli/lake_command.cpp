#include "cli/lake_command.h"

#include <cstdio>
#include <memory>

#include "common/mapped_file.h"
#include "formats/csv_decoder.h"
#include "formats/file_format.h"
#include "formats/json_decoder.h"
#include "formats/parquet/parquet_reader.h"
#include "lake/lake_table.h"
#include "lake/lake_writer.h"
#include "project/project_loader.h"
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

std::string stat_text(const Value& v) { return v.is_null() ? "-" : v.to_string(); }

std::string when(int64_t micros) {
    std::string out;
    append_timestamp(out, micros);
    return out;
}

// Commits to a LakeWriter every `commit_rows` rows, as checkpoints would.
class ImportSink final : public DecodeSink {
public:
    ImportSink(LakeWriter& writer, uint64_t commit_rows, uint64_t first_checkpoint)
        : writer_(writer), commit_rows_(commit_rows), checkpoint_(first_checkpoint) {}

    Status on_batch(Batch batch) override {
        MILLRACE_TRY(writer_.write(batch));
        rows_ += batch.num_rows();
        if (commit_rows_ > 0 && writer_.pending_rows() >= commit_rows_) return commit();
        return {};
    }
    void on_error(RowError error) override {
        ++rejected_;
        if (rejected_ <= 5)
            std::fprintf(stderr, "rejected line %llu: %s\n",
                         static_cast<unsigned long long>(error.line), error.reason.c_str());
    }
    Status commit() {
        MILLRACE_TRY(writer_.pre_commit(checkpoint_));
        MILLRACE_ASSIGN_OR_RETURN(uint64_t snapshot, writer_.commit(checkpoint_));
        std::fprintf(stderr, "lake import: checkpoint %llu committed as snapshot %llu\n",
                     static_cast<unsigned long long>(checkpoint_),
                     static_cast<unsigned long long>(snapshot));
        ++checkpoint_;
        ++commits_;
        return {};
    }
    uint64_t rows() const { return rows_; }
    uint64_t rejected() const { return rejected_; }

private:
    LakeWriter& writer_;
    uint64_t commit_rows_;
    uint64_t checkpoint_;
    uint64_t rows_ = 0;
    uint64_t rejected_ = 0;
    uint64_t commits_ = 0;
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
        auto created = LakeTable::create(data_dir, options.table, *schema, options.partition_by);
        if (created.ok()) {
            table.emplace(std::move(created).value());
        } else if (created.error().code() != ErrorCode::kAlreadyExists) {
            return std::move(created).error();
        }
    }
    if (!table) {
        MILLRACE_ASSIGN_OR_RETURN(LakeTable opened, LakeTable::open(data_dir, options.table));
        table.emplace(std::move(opened));
    }
    LakeWriterOptions writer_options;
    writer_options.writer_id = options.writer_id;
    writer_options.overwrite_partitions = options.overwrite;
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
    // Recovery: finish what a crashed import pre-committed, drop the rest.
    MILLRACE_ASSIGN_OR_RETURN(std::vector<uint64_t> pending, writer->pending_checkpoints());
    for (uint64_t checkpoint : pending) {
        auto committed = writer->commit(checkpoint);
        if (!committed.ok()) return std::move(committed).error();
    }
    MILLRACE_TRY(writer->abort());
    MILLRACE_ASSIGN_OR_RETURN(Manifest current, table->snapshot());
    const auto last = current.writers.find(options.writer_id);
    ImportSink sink(*writer, options.commit_rows,
                    last == current.writers.end() ? 1 : last->second + 1);
    if (parquet) {
        auto scanned =
            parquet->scan({}, [&](Batch batch) { return sink.on_batch(std::move(batch)); });
        if (!scanned.ok()) return std::move(scanned).error();
    } else {
        MILLRACE_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(options.input));
        if (*format == FileFormat::kJson) {
            JsonDecoder decoder(table->schema());
            MILLRACE_TRY(decoder.decode(file.bytes(), sink));
        } else {
            CsvDecoder decoder(table->schema(), CsvOptions{});
            MILLRACE_TRY(decoder.decode(file.bytes(), sink));
        }
    }
    if (writer->pending_rows() > 0 || options.commit_rows == 0) MILLRACE_TRY(sink.commit());
    std::fprintf(stderr, "lake import: %llu rows into `%s` (%llu rejected)\n",
                 static_cast<unsigned long long>(sink.rows()), options.table.c_str(),
                 static_cast<unsigned long long>(sink.rejected()));
    return {};
}

Status run(const LakeOptions& options) {
    MILLRACE_ASSIGN_OR_RETURN(std::string data_dir, data_dir_of(options));
    if (options.action == "list") {
        MILLRACE_ASSIGN_OR_RETURN(std::vector<std::string> names, LakeTable::list(data_dir));
        for (const std::string& name : names) {
            MILLRACE_ASSIGN_OR_RETURN(LakeTable table, LakeTable::open(data_dir, name));
            MILLRACE_ASSIGN_OR_RETURN(Manifest m, table.snapshot());
            std::printf("%s\tsnapshot %llu\t%zu files\t%llu rows\t%llu bytes\n", name.c_str(),
                        static_cast<unsigned long long>(m.snapshot_id), m.files.size(),
                        static_cast<unsigned long long>(m.total_rows()),
                        static_cast<unsigned long long>(m.total_bytes()));
        }
        return {};
    }
    if (options.table.empty()) {
        return Error(ErrorCode::kInvalidArgument, "lake " + options.action + " needs a table name");
    }
    if (options.action == "import") return import(options, data_dir);
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
            std::printf("  %-20s %-10s min %s  max %s  nulls %llu\n",
                        table.schema()->field(c).name.c_str(),
                        std::string(type_name(table.schema()->field(c).type)).c_str(),
                        stat_text(total.min).c_str(), stat_text(total.max).c_str(),
                        static_cast<unsigned long long>(total.null_count));
        }
        return {};
    }
    if (options.action == "files") {
        MILLRACE_ASSIGN_OR_RETURN(Manifest m, table.snapshot(options.snapshot));
        for (const DataFile& f : m.files) {
            std::printf("%s\t%llu rows\t%llu bytes\n", f.path.c_str(),
                        static_cast<unsigned long long>(f.rows),
                        static_cast<unsigned long long>(f.bytes));
        }
        return {};
    }
    if (options.action == "history") {
        MILLRACE_ASSIGN_OR_RETURN(std::vector<Manifest> history, table.history());
        for (const Manifest& m : history) {
            std::printf("%llu\tparent %llu\t%s\t%s\t%zu files\t%llu rows\n",
                        static_cast<unsigned long long>(m.snapshot_id),
                        static_cast<unsigned long long>(m.parent_id),
                        when(m.committed_at_micros).c_str(), m.operation.c_str(), m.files.size(),
                        static_cast<unsigned long long>(m.total_rows()));
        }
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
    return Error(ErrorCode::kInvalidArgument,
                 "unknown lake action `" + options.action +
                     "` (expected list, describe, files, history, compact or import)");
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
