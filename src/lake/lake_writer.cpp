#include "lake/lake_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "common/durable_file.h"
#include "common/json_string.h"
#include "common/mapped_file.h"
#include "formats/parquet/parquet_reader.h"
#include "lake/iceberg_metadata.h"
#include "lake/staging_folder.h"
#include "types/column_builder.h"

namespace millrace {

namespace {

std::string join(const std::string& folder, const std::string& name) {
    return folder.empty() ? name : folder + "/" + name;
}

std::string folder_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

}  // namespace

class LakeWriter::Impl {
public:
    Impl(LakeTable table, LakeWriterOptions options, StagingFolder folder)
        : table_(std::move(table)), options_(std::move(options)), folder_(std::move(folder)) {
        options_.parquet.sync = true;
        options_.parquet.iceberg_schema = table_.iceberg_schema();
        options_.parquet.field_ids = table_.field_ids();
        // Iceberg `float` columns are written as FLOAT: values rounded to float precision.
        options_.parquet.float_columns = table_.float_columns();
        if (options_.max_file_rows == 0) options_.max_file_rows = 1;
        replaced_ = options_.replaced_partitions;
        staging_ = folder_.path();
        open_dir_ = staging_ + "/open";
    }

    ~Impl() {
        // Writers close their descriptors before the private folder goes with folder_.
        open_.clear();
    }

    /// Upsert: resolves the key columns (every partition source column must be one).
    Status init_upsert() {
        if (options_.upsert_key.empty()) return {};
        const Schema& schema = *table_.schema();
        for (const std::string& column : options_.upsert_key) {
            auto index = schema.index_of(column);
            if (!index) {
                return Error(ErrorCode::kInvalidArgument, "upsert key column `" + column +
                                                              "` is not a column of table `" +
                                                              table_.name() + "`");
            }
            if (is_float_id(table_.float_ids(), table_.field_ids()[*index])) {
                // Keys compare exactly; a value rounded to float on the way in would match
                // others. Iceberg's identifier fields exclude float columns too.
                return Error(ErrorCode::kInvalidArgument,
                             "upsert key column `" + column + "` of table `" + table_.name() +
                                 "` is a float column, which cannot be a key");
            }
            key_columns_.push_back(*index);
        }
        for (const PartitionSpec::Item& item : table_.partition_spec().items()) {
            if (std::find(key_columns_.begin(), key_columns_.end(), item.column) ==
                key_columns_.end()) {
                return Error(ErrorCode::kInvalidArgument,
                             "table `" + table_.name() + "` is partitioned by `" + item.text +
                                 "`, so an upsert key must include `" +
                                 schema.field(item.column).name +
                                 "` (the row a key replaces must be in the same partition)");
            }
        }
        return {};
    }

    Status write(const Batch& batch) {
        if (batch.num_rows() == 0) return {};
        if (!(batch.schema() == *table_.schema())) {
            return Error(ErrorCode::kTypeMismatch, "batch schema " + batch.schema().to_string() +
                                                       " differs from table `" + table_.name() +
                                                       "`'s " + table_.schema()->to_string());
        }
        // Rewrap so that every ParquetWriter sees the table's schema object.
        std::vector<std::shared_ptr<const Column>> columns;
        for (std::size_t c = 0; c < batch.num_columns(); ++c)
            columns.push_back(batch.column_ptr(c));
        Batch rows(table_.schema(), std::move(columns), batch.num_rows());
        pending_rows_ += rows.num_rows();
        if (!key_columns_.empty()) {
            // Held until pre_commit, where the last row of each key wins; past
            // upsert_spill_bytes, spilled to a run sorted by key (merged at pre_commit).
            upsert_bytes_ += rows.memory_bytes();
            upserts_.push_back(std::move(rows));
            if (upsert_bytes_ >= options_.upsert_spill_bytes) return spill_run();
            return {};
        }
        return write_rows(rows);
    }

    Status write_rows(const Batch& rows) {
        if (table_.partition_spec().empty()) return write_to("", rows);
        const std::vector<std::string> folders = table_.partition_spec().folders(rows);
        bool single = true;
        for (const std::string& f : folders) {
            if (f != folders[0]) {
                single = false;
                break;
            }
        }
        if (single) return write_to(folders[0], rows);
        std::map<std::string, std::vector<uint32_t>> groups;
        for (std::size_t r = 0; r < folders.size(); ++r) {
            groups[folders[r]].push_back(static_cast<uint32_t>(r));
        }
        for (const auto& [folder, indices] : groups) {
            MILLRACE_TRY(write_to(folder, rows.take(indices)));
        }
        return {};
    }

    /// Upsert: writes the last row of each key held (or spilled) since the last pre_commit,
    /// and an equality delete file of their keys per partition.
    Status flush_upserts() {
        if (upserts_.empty() && runs_.empty()) return {};
        const Schema& schema = *table_.schema();
        std::vector<Field> key_fields;
        std::vector<int32_t> ids;
        std::string iceberg = R"({"type": "struct", "schema-id": 0, "fields": [)";
        for (std::size_t k = 0; k < key_columns_.size(); ++k) {
            const Field& field = schema.field(key_columns_[k]);
            key_fields.push_back(field);
            ids.push_back(table_.field_ids()[key_columns_[k]]);
            iceberg += (k > 0 ? ", " : "") + std::string(R"({"id": )") +
                       std::to_string(ids.back()) + R"(, "name": )" + json_string(field.name) +
                       R"(, "required": )" + (field.nullable ? "false" : "true") +
                       R"(, "type": ")" + std::string(iceberg_type_name(field.type)) + "\"}";
        }
        iceberg += "]}";
        auto key_schema = std::make_shared<const Schema>(std::move(key_fields));
        std::map<std::string, std::unique_ptr<ParquetWriter>> deletes;  // per partition folder
        std::map<std::string, std::string> delete_names;
        ParquetWriterOptions parquet = options_.parquet;
        parquet.iceberg_schema = iceberg;
        parquet.field_ids = ids;
        parquet.float_columns.clear();  // no key column is a float column (init_upsert)
        // Rows that won for their key: into the data files, their keys into the deletes.
        auto write_upserted = [&](const Batch& rows) -> Status {
            MILLRACE_TRY(write_rows(rows));
            const Batch keys = rows.project(key_columns_);
            std::vector<std::string> folders = table_.partition_spec().empty()
                                                   ? std::vector<std::string>(rows.num_rows())
                                                   : table_.partition_spec().folders(rows);
            std::map<std::string, std::vector<uint32_t>> groups;
            for (std::size_t r = 0; r < folders.size(); ++r) {
                groups[folders[r]].push_back(static_cast<uint32_t>(r));
            }
            for (const auto& [folder, indices] : groups) {
                auto it = deletes.find(folder);
                if (it == deletes.end()) {
                    const std::string name = data_file_name(options_.writer_id + "-eqdeletes");
                    const std::string dir = folder.empty() ? open_dir_ : open_dir_ + "/" + folder;
                    MILLRACE_TRY(create_directories_durably(dir));
                    MILLRACE_ASSIGN_OR_RETURN(
                        auto writer, ParquetWriter::open(dir + "/" + name, key_schema, parquet));
                    it = deletes.emplace(folder, std::move(writer)).first;
                    delete_names[folder] = name;
                }
                std::vector<std::shared_ptr<const Column>> columns;
                const Batch group = indices.size() == keys.num_rows() ? keys : keys.take(indices);
                for (std::size_t c = 0; c < group.num_columns(); ++c) {
                    columns.push_back(group.column_ptr(c));
                }
                MILLRACE_TRY(
                    it->second->write(Batch(key_schema, std::move(columns), group.num_rows())));
            }
            return {};
        };
        if (runs_.empty()) {
            std::unordered_map<std::string, std::pair<std::size_t, uint32_t>> last;
            for (std::size_t b = 0; b < upserts_.size(); ++b) {
                for (std::size_t r = 0; r < upserts_[b].num_rows(); ++r) {
                    last[row_key(upserts_[b], key_columns_, r)] = {b, static_cast<uint32_t>(r)};
                }
            }
            std::vector<std::vector<uint32_t>> keep(upserts_.size());
            for (const auto& [key, at] : last) keep[at.first].push_back(at.second);
            for (std::size_t b = 0; b < upserts_.size(); ++b) {
                if (keep[b].empty()) continue;
                std::sort(keep[b].begin(), keep[b].end());
                MILLRACE_TRY(write_upserted(keep[b].size() == upserts_[b].num_rows()
                                                ? upserts_[b]
                                                : upserts_[b].take(keep[b])));
            }
            upserts_.clear();
            upsert_bytes_ = 0;
        } else {
            MILLRACE_TRY(spill_run());
            MILLRACE_TRY(merge_runs(write_upserted));
        }
        for (auto& [folder, writer] : deletes) {
            MILLRACE_TRY(writer->close());
            DataFile f;
            f.content = DataFile::Content::kEqualityDeletes;
            f.equality_ids = ids;
            f.path = join(folder, delete_names[folder]);
            f.partition = PartitionSpec::split_folder(folder);
            f.rows = writer->rows_written();
            f.bytes = writer->bytes_written();
            closed_.push_back(std::move(f));
        }
        return {};
    }

    /// Upsert past upsert_spill_bytes: the held rows, one per key (the last), sorted by key,
    /// into a run file of the staging folder, so a commit of any size holds bounded memory.
    Status spill_run() {
        if (upserts_.empty()) return {};
        std::unordered_map<std::string, std::pair<std::size_t, uint32_t>> last;
        for (std::size_t b = 0; b < upserts_.size(); ++b) {
            for (std::size_t r = 0; r < upserts_[b].num_rows(); ++r)
                last[row_key(upserts_[b], key_columns_, r)] = {b, static_cast<uint32_t>(r)};
        }
        std::vector<const std::pair<const std::string, std::pair<std::size_t, uint32_t>>*> order;
        order.reserve(last.size());
        for (const auto& entry : last) order.push_back(&entry);
        std::sort(order.begin(), order.end(),
                  [](const auto* a, const auto* b) { return a->first < b->first; });
        const std::string folder = staging_ + "/spill";
        MILLRACE_TRY(create_directories_durably(folder));
        const std::string path = fmt::format("{}/run-{}.parquet", folder, runs_.size());
        ParquetWriterOptions spill;  // a scratch file: no sync, no Iceberg metadata
        spill.row_group_rows = kSpillGroupRows;
        spill.codec = ParquetCodec::kUncompressed;
        spill.dictionary = false;
        MILLRACE_ASSIGN_OR_RETURN(auto writer, ParquetWriter::open(path, table_.schema(), spill));
        const Schema& schema = *table_.schema();
        for (std::size_t from = 0; from < order.size(); from += kSpillGroupRows) {
            const std::size_t to = std::min(order.size(), from + kSpillGroupRows);
            std::vector<ColumnBuilder> builders;
            for (std::size_t c = 0; c < schema.size(); ++c)
                builders.emplace_back(schema.field(c).type, to - from);
            for (std::size_t i = from; i < to; ++i) {
                const auto [b, r] = order[i]->second;
                for (std::size_t c = 0; c < schema.size(); ++c)
                    builders[c].append_from(upserts_[b].column(c), r);
            }
            std::vector<std::shared_ptr<const Column>> columns;
            for (auto& builder : builders)
                columns.push_back(std::make_shared<const Column>(builder.finish()));
            MILLRACE_TRY(writer->write(Batch(table_.schema(), std::move(columns), to - from)));
        }
        MILLRACE_TRY(writer->close());
        runs_.push_back(path);
        upserts_.clear();
        upsert_bytes_ = 0;
        return {};
    }

    /// Merges the spilled runs (each sorted by key, one row per key) a row group at a time:
    /// for each key the row of the newest run wins, and goes to `write_upserted` with the
    /// other winners of its row group. The runs are removed afterwards.
    Status merge_runs(const std::function<Status(const Batch&)>& write_upserted) {
        struct Cursor {
            std::unique_ptr<ParquetReader> reader;
            std::size_t group = 0;
            Batch batch;
            std::size_t row = 0;
            std::string key;
            std::vector<uint32_t> keep;
            bool done = false;
        };
        std::vector<std::size_t> all(table_.schema()->size());
        for (std::size_t c = 0; c < all.size(); ++c) all[c] = c;
        std::vector<Cursor> cursors(runs_.size());
        auto load = [&](Cursor& cursor) -> Status {
            while (cursor.group < cursor.reader->num_row_groups()) {
                MILLRACE_ASSIGN_OR_RETURN(Batch read,
                                          cursor.reader->read_row_group(cursor.group++, all));
                if (read.num_rows() == 0) continue;
                std::vector<std::shared_ptr<const Column>> columns;
                for (std::size_t c = 0; c < read.num_columns(); ++c)
                    columns.push_back(read.column_ptr(c));
                cursor.batch = Batch(table_.schema(), std::move(columns), read.num_rows());
                cursor.row = 0;
                cursor.key = row_key(cursor.batch, key_columns_, 0);
                return {};
            }
            cursor.done = true;
            return {};
        };
        auto advance = [&](Cursor& cursor) -> Status {
            if (++cursor.row < cursor.batch.num_rows()) {
                cursor.key = row_key(cursor.batch, key_columns_, cursor.row);
                return {};
            }
            if (!cursor.keep.empty()) {
                MILLRACE_TRY(write_upserted(cursor.keep.size() == cursor.batch.num_rows()
                                                ? cursor.batch
                                                : cursor.batch.take(cursor.keep)));
                cursor.keep.clear();
            }
            return load(cursor);
        };
        // A min-heap of cursors by key; among equal keys the newest run wins.
        auto later = [&](std::size_t a, std::size_t b) {
            if (cursors[a].key != cursors[b].key) return cursors[a].key > cursors[b].key;
            return a < b;
        };
        std::vector<std::size_t> heap;
        for (std::size_t i = 0; i < runs_.size(); ++i) {
            MILLRACE_ASSIGN_OR_RETURN(cursors[i].reader, ParquetReader::open(runs_[i]));
            MILLRACE_TRY(load(cursors[i]));
            if (!cursors[i].done) heap.push_back(i);
        }
        std::make_heap(heap.begin(), heap.end(), later);
        std::vector<std::size_t> same;
        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), later);
            same.assign(1, heap.back());
            heap.pop_back();
            while (!heap.empty() && cursors[heap.front()].key == cursors[same[0]].key) {
                std::pop_heap(heap.begin(), heap.end(), later);
                same.push_back(heap.back());
                heap.pop_back();
            }
            const std::size_t winner = *std::max_element(same.begin(), same.end());
            cursors[winner].keep.push_back(static_cast<uint32_t>(cursors[winner].row));
            for (std::size_t i : same) {
                MILLRACE_TRY(advance(cursors[i]));
                if (cursors[i].done) continue;
                heap.push_back(i);
                std::push_heap(heap.begin(), heap.end(), later);
            }
        }
        remove_runs();
        return {};
    }

    void remove_runs() {
        runs_.clear();
        std::error_code error;
        std::filesystem::remove_all(staging_ + "/spill", error);
    }

    Status pre_commit(uint64_t checkpoint) {
        MILLRACE_TRY(flush_upserts());
        for (auto& [folder, file] : open_) MILLRACE_TRY(close_file(folder, file));
        open_.clear();
        const std::string checkpoint_dir = staging_ + "/ckpt-" + std::to_string(checkpoint);
        std::error_code error;
        if (std::filesystem::exists(checkpoint_dir, error)) {
            return Error(ErrorCode::kAlreadyExists, "checkpoint " + std::to_string(checkpoint) +
                                                        " of writer `" + options_.writer_id +
                                                        "` is already pre-committed");
        }
        if (!closed_.empty()) {
            std::set<std::string> folders;
            for (const DataFile& f : closed_) {
                const std::size_t slash = f.path.rfind('/');
                folders.insert(slash == std::string::npos ? "" : f.path.substr(0, slash));
            }
            for (const std::string& folder : folders) {
                MILLRACE_TRY(sync_directory(folder.empty() ? open_dir_ : open_dir_ + "/" + folder));
            }
            MILLRACE_TRY(rename_durably(open_dir_, checkpoint_dir));
        }
        Manifest record;
        record.snapshot_id = checkpoint;
        record.operation = !key_columns_.empty()           ? "upsert"
                           : options_.overwrite_partitions ? "overwrite"
                                                           : "append";
        record.schema_text = schema_metadata_text(*table_.schema());
        record.files = std::move(closed_);
        closed_.clear();
        MILLRACE_TRY(create_directories_durably(staging_));
        MILLRACE_TRY(write_file_durably(record_path(checkpoint), record.to_json(*table_.schema())));
        pending_rows_ = 0;
        return {};
    }

    Result<uint64_t> commit(uint64_t checkpoint,
                            const std::map<std::string, std::optional<std::string>>& progress) {
        const bool named = options_.staging == LakeStaging::kNamed;
        const std::string record_file = record_path(checkpoint);
        std::error_code error;
        if (!std::filesystem::exists(record_file, error)) {
            MILLRACE_ASSIGN_OR_RETURN(Manifest current, table_.snapshot());
            auto it = current.writers.find(options_.writer_id);
            if (named && it != current.writers.end() && it->second >= checkpoint) {
                return current.snapshot_id;
            }
            if (std::filesystem::exists(done_path(checkpoint), error)) return current.snapshot_id;
            return Error(ErrorCode::kNotFound, "checkpoint " + std::to_string(checkpoint) +
                                                   " of writer `" + options_.writer_id +
                                                   "` was not pre-committed on table `" +
                                                   table_.name() + "`");
        }
        MILLRACE_ASSIGN_OR_RETURN(std::string text, read_file(record_file));
        MILLRACE_ASSIGN_OR_RETURN(Manifest record, Manifest::parse(text, record_file));
        if (record.schema_text != schema_metadata_text(*table_.schema())) {
            // Pre-committed by a run that wrote another schema (the table evolved since): the
            // files read by field id, but their statistics are in that schema's order, which
            // commit() would misplace. Committed without statistics (never skipped) instead.
            for (DataFile& f : record.files) f.columns.clear();
        }
        if (record.files.empty() && progress.empty()) {
            // Nothing was written in this checkpoint: no new snapshot (a streaming sink would
            // otherwise add one per checkpoint interval). The record becomes a `done-<id>`
            // marker so that replaying the commit stays a no-op; older markers go.
            MILLRACE_ASSIGN_OR_RETURN(uint64_t current, table_.current_snapshot_id());
            for (const auto& entry : std::filesystem::directory_iterator(staging_, error)) {
                const std::string name = entry.path().filename().string();
                if (name.rfind("done-", 0) == 0) std::filesystem::remove(entry.path(), error);
            }
            MILLRACE_TRY(rename_durably(record_file, done_path(checkpoint)));
            MILLRACE_TRY(remove_checkpoint(checkpoint));
            return current;
        }
        const std::string checkpoint_dir = staging_ + "/ckpt-" + std::to_string(checkpoint);
        // Files moved into the table by this call, put back if the commit does not happen.
        std::vector<std::pair<std::string, std::string>> moved;
        auto put_back = [&] {
            for (const auto& [from, to] : moved) (void)::rename(to.c_str(), from.c_str());
        };
        for (const DataFile& f : record.files) {
            const std::string from = checkpoint_dir + "/" + f.path;
            const std::string to = table_.path() + "/" + f.path;
            if (table_.in_object_store()) {
                // Uploaded, not moved: the staged file stays until the commit is done, so a
                // retried commit uploads it again (an object of the same name, same bytes).
                if (!std::filesystem::exists(from, error)) {
                    return Error(ErrorCode::kCorruption, "staged file " + from + " of checkpoint " +
                                                             std::to_string(checkpoint) +
                                                             " is missing");
                }
                MILLRACE_TRY(table_.place_file(from, f.path));
                continue;
            }
            if (std::filesystem::exists(from, error)) {
                const std::size_t slash = to.rfind('/');
                Status moved_one = create_directories_durably(to.substr(0, slash));
                if (moved_one.ok()) moved_one = rename_durably(from, to);
                if (!moved_one.ok()) {
                    put_back();
                    return std::move(moved_one).error();
                }
                moved.emplace_back(from, to);
            } else if (!std::filesystem::exists(to, error)) {
                put_back();
                return Error(ErrorCode::kCorruption, "staged file " + from + " of checkpoint " +
                                                         std::to_string(checkpoint) +
                                                         " is missing");
            }
        }
        LakeTable::Change change;
        for (const DataFile& f : record.files) {
            (f.content == DataFile::Content::kData ? change.added : change.added_deletes)
                .push_back(f);
        }
        change.operation = record.operation;
        if (record.operation == "overwrite") {
            for (const DataFile& f : record.files) {
                const std::string folder = folder_of(f.path);
                if (replaced_.count(folder) == 0) change.replaced_partitions.insert(folder);
            }
        }
        if (named) {
            change.writer = options_.writer_id;
            change.checkpoint = checkpoint;
        }
        change.progress = progress;
        auto snapshot = table_.commit(change);
        if (!snapshot.ok() && !record.files.empty()) {
            // The new metadata version may have been linked before the failure (an fsync of the
            // folder after the link): then the commit stands. Otherwise the table is unchanged and
            // the files go back to staging, for abort() to drop.
            auto now = table_.snapshot();
            bool committed = false;
            if (now.ok()) {
                for (const auto* files : {&now->files, &now->deletes}) {
                    for (const DataFile& f : *files) {
                        if (f.path == record.files.front().path) committed = true;
                    }
                }
            }
            if (!committed) {
                put_back();
                return std::move(snapshot).error();
            }
            snapshot = now->snapshot_id;
        }
        if (!snapshot.ok()) return std::move(snapshot).error();
        replaced_.insert(change.replaced_partitions.begin(), change.replaced_partitions.end());
        staged_.clear();
        MILLRACE_TRY(remove_checkpoint(checkpoint));
        return *snapshot;
    }

    Status abort() {
        open_.clear();  // ParquetWriters close their descriptors; the files are removed below
        closed_.clear();
        upserts_.clear();
        upsert_bytes_ = 0;
        remove_runs();
        staged_.clear();
        pending_rows_ = 0;
        std::error_code error;
        std::filesystem::remove_all(open_dir_, error);
        if (error)
            return Error(ErrorCode::kIo, "cannot remove " + open_dir_ + ": " + error.message());
        if (std::filesystem::is_directory(staging_, error)) {
            for (const auto& entry : std::filesystem::directory_iterator(staging_, error)) {
                const std::string name = entry.path().filename().string();
                if (name.rfind("ckpt-", 0) == 0) std::filesystem::remove_all(entry.path(), error);
            }
            MILLRACE_TRY(sync_directory(staging_));
        }
        return {};
    }

    Result<std::vector<uint64_t>> pending_checkpoints() const {
        std::vector<uint64_t> ids;
        std::error_code error;
        if (!std::filesystem::is_directory(staging_, error)) return ids;
        for (const auto& entry : std::filesystem::directory_iterator(staging_, error)) {
            const std::string name = entry.path().filename().string();
            if (name.rfind("ckpt-", 0) == 0 && name.size() > 10 &&
                name.compare(name.size() - 5, 5, ".json") == 0) {
                ids.push_back(std::stoull(name.substr(5, name.size() - 10)));
            }
        }
        std::sort(ids.begin(), ids.end());
        return ids;
    }

    uint64_t pending_rows() const { return pending_rows_; }
    const std::set<std::string>& replaced_partitions() const { return replaced_; }
    const std::set<std::string>& staged_partitions() const { return staged_; }

private:
    struct OpenFile {
        std::string name;
        std::unique_ptr<ParquetWriter> writer;
    };

    std::string record_path(uint64_t checkpoint) const {
        return staging_ + "/ckpt-" + std::to_string(checkpoint) + ".json";
    }

    std::string done_path(uint64_t checkpoint) const {
        return staging_ + "/done-" + std::to_string(checkpoint);
    }

    Status remove_checkpoint(uint64_t checkpoint) {
        std::error_code error;
        std::filesystem::remove_all(staging_ + "/ckpt-" + std::to_string(checkpoint), error);
        std::filesystem::remove(record_path(checkpoint), error);
        return sync_directory(staging_);
    }

    Status write_to(const std::string& folder, const Batch& rows) {
        staged_.insert(folder);
        auto it = open_.find(folder);
        if (it == open_.end()) {
            OpenFile file;
            file.name = data_file_name(options_.writer_id);
            const std::string dir = folder.empty() ? open_dir_ : open_dir_ + "/" + folder;
            MILLRACE_TRY(create_directories_durably(dir));
            MILLRACE_ASSIGN_OR_RETURN(
                file.writer,
                ParquetWriter::open(dir + "/" + file.name, table_.schema(), options_.parquet));
            it = open_.emplace(folder, std::move(file)).first;
        }
        MILLRACE_TRY(it->second.writer->write(rows));
        if (it->second.writer->rows_written() >= options_.max_file_rows) {
            MILLRACE_TRY(close_file(folder, it->second));
            open_.erase(it);
        }
        return {};
    }

    Status close_file(const std::string& folder, OpenFile& file) {
        MILLRACE_TRY(file.writer->close());
        DataFile f;
        f.path = join(folder, file.name);
        f.partition = PartitionSpec::split_folder(folder);
        f.rows = file.writer->rows_written();
        f.bytes = file.writer->bytes_written();
        f.columns = file.writer->statistics();
        closed_.push_back(std::move(f));
        return {};
    }

    LakeTable table_;
    LakeWriterOptions options_;
    StagingFolder folder_;
    std::set<std::string> replaced_;
    std::set<std::string> staged_;  // folders written since the last commit or abort
    std::string staging_;
    std::string open_dir_;
    std::map<std::string, OpenFile> open_;
    std::vector<DataFile> closed_;
    uint64_t pending_rows_ = 0;
    std::vector<std::size_t> key_columns_;  // upsert: the key columns' indices
    std::vector<Batch> upserts_;            // upsert: rows written since the last pre_commit
    std::size_t upsert_bytes_ = 0;          // upsert: their memory
    std::vector<std::string> runs_;         // upsert: spilled runs since the last pre_commit
    static constexpr std::size_t kSpillGroupRows = 16384;
};

Result<std::unique_ptr<LakeWriter>> LakeWriter::open(LakeTable table, LakeWriterOptions options) {
    if (options.writer_id.empty() || options.writer_id.find('/') != std::string::npos ||
        options.writer_id[0] == '.' || options.writer_id[0] == '_') {
        return Error(ErrorCode::kInvalidArgument, "bad writer id `" + options.writer_id + "`");
    }
    // Files of writers that died (crashed, killed, failed) before committing are dropped here,
    // never committed by this writer.
    MILLRACE_TRY(StagingFolder::sweep_abandoned(table.path()));
    std::optional<StagingFolder> folder;
    if (options.staging == LakeStaging::kNamed) {
        MILLRACE_ASSIGN_OR_RETURN(StagingFolder claimed,
                                  StagingFolder::claim_named(table.path(), options.writer_id));
        folder.emplace(std::move(claimed));
    } else {
        MILLRACE_ASSIGN_OR_RETURN(StagingFolder claimed,
                                  StagingFolder::claim_private(table.path(), options.writer_id));
        folder.emplace(std::move(claimed));
    }
    auto impl = std::make_unique<Impl>(std::move(table), std::move(options), std::move(*folder));
    MILLRACE_TRY(impl->init_upsert());
    return std::unique_ptr<LakeWriter>(new LakeWriter(std::move(impl)));
}

LakeWriter::LakeWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LakeWriter::~LakeWriter() = default;
Status LakeWriter::write(const Batch& batch) { return impl_->write(batch); }
Status LakeWriter::pre_commit(uint64_t checkpoint_id) { return impl_->pre_commit(checkpoint_id); }
Result<uint64_t> LakeWriter::commit(
    uint64_t checkpoint_id, const std::map<std::string, std::optional<std::string>>& progress) {
    return impl_->commit(checkpoint_id, progress);
}
Status LakeWriter::abort() { return impl_->abort(); }
Result<std::vector<uint64_t>> LakeWriter::pending_checkpoints() const {
    return impl_->pending_checkpoints();
}
uint64_t LakeWriter::pending_rows() const { return impl_->pending_rows(); }
const std::set<std::string>& LakeWriter::replaced_partitions() const {
    return impl_->replaced_partitions();
}
std::set<std::string> LakeWriter::staged_partitions() const { return impl_->staged_partitions(); }

}  // namespace millrace
