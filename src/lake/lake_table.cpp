#include "lake/lake_table.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <thread>
#include <unordered_set>

#include "common/durable_file.h"
#include "common/json_string.h"
#include "common/mapped_file.h"
#include "formats/parquet/parquet_reader.h"
#include "lake/iceberg_manifest.h"
#include "lake/iceberg_metadata.h"
#include "lake/staging_folder.h"
#include "lake/table_storage.h"
#include "types/column_builder.h"

namespace millrace {

namespace {

// The commit pointer of tables written before the lake became Iceberg (see upgrade()).
constexpr const char* kLegacyCurrent = "/_manifest/current";

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

// The local file of a path the metadata holds (absolute, under the table's location as it was
// written): the table folder may have moved since.
std::string local_file(const std::string& table_path, const std::string& location,
                       const std::string& path) {
    if (path.rfind(location + "/", 0) == 0) return table_path + path.substr(location.size());
    return path;
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

// Runs `once` again, up to 5 times in all, while it fails with kUnavailable: a concurrent commit
// changed the files it read, and it must be worked out again on the newer snapshot.
template <typename Once>
auto redo_on_conflict(Once once) -> decltype(once()) {
    constexpr int kAttempts = 5;
    for (int attempt = 1;; ++attempt) {
        auto result = once();
        if (result.ok() || result.error().code() != ErrorCode::kUnavailable ||
            attempt == kAttempts) {
            return result;
        }
    }
}

// The table's columns (schema and field ids) as one data file holds them: which file column
// holds each table column, matched by field id (Iceberg's rule, so renamed, dropped and
// reordered columns read right), or by name in a file without field ids.
struct ColumnMap {
    std::vector<std::optional<std::size_t>> file_column;  // per table column; nullopt: missing
    bool identity = true;  // every column there, same name, same type: batches pass as read
};

ColumnMap map_columns(const ParquetReader& reader, const Schema& table_schema,
                      const std::vector<int32_t>& table_ids) {
    const Schema& file_schema = *reader.schema();
    bool by_id = file_schema.size() > 0;
    std::map<int32_t, std::size_t> file_ids;
    for (std::size_t c = 0; c < file_schema.size(); ++c) {
        auto id = reader.field_id(c);
        if (!id) {
            by_id = false;
            break;
        }
        file_ids.emplace(*id, c);
    }
    ColumnMap map;
    for (std::size_t t = 0; t < table_schema.size(); ++t) {
        std::optional<std::size_t> found;
        if (by_id) {
            auto it = file_ids.find(table_ids[t]);
            if (it != file_ids.end()) found = it->second;
        } else {
            found = file_schema.index_of(table_schema.field(t).name);
        }
        if (!found || file_schema.field(*found).name != table_schema.field(t).name ||
            file_schema.field(*found).type != table_schema.field(t).type) {
            map.identity = false;
        }
        map.file_column.push_back(found);
    }
    return map;
}

// Column statistics in the order of columns `from` (field ids) rearranged to the order of `to`;
// a column `from` lacks gets empty statistics (none known).
std::vector<ColumnStatistics> statistics_by_id(const std::vector<ColumnStatistics>& statistics,
                                               const std::vector<int32_t>& from,
                                               const std::vector<int32_t>& to) {
    if (from == to || statistics.size() != from.size()) return statistics;
    std::vector<ColumnStatistics> out(to.size());
    for (std::size_t i = 0; i < to.size(); ++i) {
        auto it = std::find(from.begin(), from.end(), to[i]);
        if (it != from.end()) {
            out[i] = statistics[static_cast<std::size_t>(it - from.begin())];
        } else if (!statistics.empty()) {
            out[i].row_count = statistics.front().row_count;
            out[i].null_count = statistics.front().row_count;
        }
    }
    return out;
}

// A column read from a file as the table's type: the same column, or widened (int to long).
Result<std::shared_ptr<const Column>> as_table_type(const std::shared_ptr<const Column>& column,
                                                    DataType type, const std::string& file,
                                                    const std::string& name) {
    if (column->type() == type) return column;
    if (column->type() == DataType::kInt32 && type == DataType::kInt64) {
        ColumnBuilder builder(type, column->size());
        for (std::size_t r = 0; r < column->size(); ++r) {
            if (column->is_null(r)) {
                builder.append_null();
            } else {
                builder.append_int64(column->value<int32_t>(r));
            }
        }
        return std::make_shared<const Column>(builder.finish());
    }
    return Error(ErrorCode::kTypeMismatch,
                 file + ": column `" + name + "` is " + std::string(type_name(column->type())) +
                     ", which does not widen to the table's " + std::string(type_name(type)));
}

// The rows of one data file that its snapshot's delete files delete: positions (sorted) and
// the key sets of the equality delete files that apply to it.
struct EqualityKeys {
    std::vector<std::string> columns;      // key column names, in equality_ids order
    std::unordered_set<std::string> keys;  // row_key() of each deleted key
};
struct DeleteFilter {
    std::vector<uint64_t> positions;
    std::vector<std::shared_ptr<const EqualityKeys>> equality;
};
// Equality delete files read once per scan (they apply to many data files).
using EqualityCache = std::map<std::string, std::shared_ptr<const EqualityKeys>>;

// A table file for reading: local, or fetched from the table's object store.
Result<std::unique_ptr<ParquetReader>> open_table_parquet(const TableStorage* storage,
                                                          const std::string& path) {
    if (storage != nullptr) return storage->open_parquet(path);
    return ParquetReader::open(path);
}

// Reads the row groups of a data file that `predicates` do not rule out, without the rows
// `deleted` deletes. With `want_positions`, on_batch also gets the file position of each row it
// is handed (what a position delete file records). Returns the row groups skipped.
//
// `wanted` names columns of the table (`table_schema`, `table_ids`); batches come out with the
// table's names and types in that order, whatever the file calls them: the file's columns are
// matched by field id (map_columns), a column the file lacks (added after the file was written)
// reads as nulls and an int column widened to long is widened, as Iceberg's schema evolution
// says.
Result<std::size_t> read_live_rows(
    const std::string& file, const DeleteFilter& deleted, const std::vector<std::string>& wanted,
    const std::vector<ColumnPredicate>& wanted_predicates, bool want_positions,
    const std::function<Status(Batch, const std::vector<uint64_t>&)>& on_batch,
    const Schema& table_schema, const std::vector<int32_t>& table_ids,
    const TableStorage* storage = nullptr) {
    MILLRACE_ASSIGN_OR_RETURN(auto reader, open_table_parquet(storage, file));
    const ColumnMap map = map_columns(*reader, table_schema, table_ids);
    auto table_index = [&](const std::string& name) -> Result<std::size_t> {
        auto index = table_schema.index_of(name);
        if (!index) return Error(ErrorCode::kNotFound, "the table has no column `" + name + "`");
        return *index;
    };
    // Table columns to read: the wanted ones, then key columns of equality deletes (projected
    // away after the match).
    std::vector<std::size_t> read;
    for (const std::string& name : wanted) {
        MILLRACE_ASSIGN_OR_RETURN(std::size_t index, table_index(name));
        read.push_back(index);
    }
    const std::size_t output_columns = read.size();
    std::vector<std::vector<std::size_t>> key_columns;
    for (const auto& equality : deleted.equality) {
        std::vector<std::size_t> indices;
        for (const std::string& name : equality->columns) {
            MILLRACE_ASSIGN_OR_RETURN(std::size_t index, table_index(name));
            auto it = std::find(read.begin(), read.end(), index);
            if (it == read.end()) it = read.insert(read.end(), index);
            indices.push_back(static_cast<std::size_t>(it - read.begin()));
        }
        key_columns.push_back(std::move(indices));
    }
    std::vector<Field> read_fields;
    std::vector<std::size_t> file_columns;              // what the reader reads, in order
    std::vector<std::optional<std::size_t>> from_file;  // per read column: its place in those
    for (std::size_t t : read) {
        read_fields.push_back(table_schema.field(t));
        if (!map.file_column[t]) {
            from_file.push_back(std::nullopt);
            continue;
        }
        from_file.push_back(file_columns.size());
        file_columns.push_back(*map.file_column[t]);
    }
    MILLRACE_ASSIGN_OR_RETURN(Schema made, Schema::make(std::move(read_fields)));
    const auto read_schema = std::make_shared<const Schema>(std::move(made));
    // Predicates skip row groups by the file's statistics: only on columns the file has with the
    // table's type (a widened column's statistics are of the narrower type).
    std::vector<ColumnPredicate> predicates;
    for (const ColumnPredicate& predicate : wanted_predicates) {
        auto index = table_schema.index_of(predicate.column);
        if (!index || !map.file_column[*index]) continue;
        const Field& in_file = reader->schema()->field(*map.file_column[*index]);
        if (in_file.type != table_schema.field(*index).type) continue;
        ColumnPredicate translated = predicate;
        translated.column = in_file.name;
        predicates.push_back(std::move(translated));
    }
    std::vector<std::size_t> output(output_columns);
    for (std::size_t i = 0; i < output.size(); ++i) output[i] = i;
    const std::vector<uint64_t>& positions_deleted = deleted.positions;
    std::size_t skipped = 0;
    uint64_t start = 0;
    std::vector<uint64_t> positions;
    std::string key;  // reused: one allocation per scan, not per row
    for (std::size_t group = 0; group < reader->num_row_groups(); ++group) {
        const uint64_t rows = reader->row_group_rows(group);
        const uint64_t first = start;
        start += rows;
        if (!predicates.empty()) {
            MILLRACE_ASSIGN_OR_RETURN(bool may_match,
                                      reader->row_group_may_match(group, predicates));
            if (!may_match) {
                ++skipped;
                continue;
            }
        }
        MILLRACE_ASSIGN_OR_RETURN(Batch raw, reader->read_row_group(group, file_columns));
        std::vector<std::shared_ptr<const Column>> columns;
        for (std::size_t i = 0; i < read.size(); ++i) {
            const Field& field = read_schema->field(i);
            if (!from_file[i]) {
                ColumnBuilder builder(field.type, rows);
                for (uint64_t row = 0; row < rows; ++row) builder.append_null();
                columns.push_back(std::make_shared<const Column>(builder.finish()));
                continue;
            }
            MILLRACE_ASSIGN_OR_RETURN(
                auto column,
                as_table_type(raw.column_ptr(*from_file[i]), field.type, file,
                              reader->schema()->field(file_columns[*from_file[i]]).name));
            columns.push_back(std::move(column));
        }
        Batch batch(read_schema, std::move(columns), raw.num_rows());
        auto lo = std::lower_bound(positions_deleted.begin(), positions_deleted.end(), first);
        auto hi = std::lower_bound(lo, positions_deleted.end(), first + rows);
        positions.clear();
        if (lo != hi || !key_columns.empty()) {
            std::vector<uint32_t> keep;
            keep.reserve(rows);
            for (uint64_t r = 0; r < rows; ++r) {
                if (lo != hi && *lo == first + r) {
                    ++lo;
                    continue;
                }
                bool live = true;
                for (std::size_t e = 0; e < key_columns.size() && live; ++e) {
                    key.clear();
                    append_row_key(key, batch, key_columns[e], r);
                    live = deleted.equality[e]->keys.count(key) == 0;
                }
                if (!live) continue;
                keep.push_back(static_cast<uint32_t>(r));
                if (want_positions) positions.push_back(first + r);
            }
            if (keep.empty()) continue;
            if (keep.size() < rows) batch = batch.take(keep);
        } else if (want_positions) {
            for (uint64_t r = 0; r < rows; ++r) positions.push_back(first + r);
        }
        if (read.size() > output_columns) batch = batch.project(output);
        MILLRACE_TRY(on_batch(std::move(batch), positions));
    }
    return skipped;
}

// What the delete files of a snapshot delete from `file` (Iceberg spec, "Scan Planning"): a
// position delete file applies to data files of its sequence number or older, an equality delete
// file to older data files of its partition (or of every partition when the table has none).
Result<DeleteFilter> delete_filter(const std::string& table_path, const Schema& schema,
                                   const std::vector<int32_t>& ids, bool partitioned,
                                   const DataFile& file, const std::vector<DataFile>& deletes,
                                   EqualityCache& cache, const TableStorage* storage) {
    DeleteFilter filter;
    for (const DataFile& d : deletes) {
        if (d.content == DataFile::Content::kEqualityDeletes) {
            if (d.sequence_number <= file.sequence_number) continue;
            if (partitioned && folder_of(d.path) != folder_of(file.path)) continue;
            auto cached = cache.find(d.path);
            if (cached == cache.end()) {
                auto keys = std::make_shared<EqualityKeys>();
                std::vector<std::size_t> key_indices;  // table columns
                for (int32_t id : d.equality_ids) {
                    auto position = std::find(ids.begin(), ids.end(), id);
                    if (position == ids.end()) {
                        return Error(ErrorCode::kUnsupported,
                                     table_path + "/" + d.path + ": equality field id " +
                                         std::to_string(id) + " is not a column of the table");
                    }
                    key_indices.push_back(static_cast<std::size_t>(position - ids.begin()));
                    keys->columns.push_back(schema.field(key_indices.back()).name);
                }
                const std::string path = table_path + "/" + d.path;
                MILLRACE_ASSIGN_OR_RETURN(auto reader, open_table_parquet(storage, path));
                const ColumnMap map = map_columns(*reader, schema, ids);
                std::vector<std::size_t> indices;
                for (std::size_t k = 0; k < key_indices.size(); ++k) {
                    if (!map.file_column[key_indices[k]]) {
                        return Error(ErrorCode::kCorruption,
                                     path + ": has no key column `" + keys->columns[k] + "`");
                    }
                    indices.push_back(*map.file_column[key_indices[k]]);
                }
                std::vector<std::size_t> all(indices.size());
                for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
                ParquetScanOptions scan;
                scan.columns = indices;
                MILLRACE_TRY(reader->scan(scan, [&](Batch batch) -> Status {
                    // Keys compare as the table's types (a key column may have been widened).
                    std::vector<std::shared_ptr<const Column>> columns;
                    std::vector<Field> fields;
                    for (std::size_t k = 0; k < indices.size(); ++k) {
                        const Field& field = schema.field(key_indices[k]);
                        MILLRACE_ASSIGN_OR_RETURN(
                            auto column,
                            as_table_type(batch.column_ptr(k), field.type, path, field.name));
                        columns.push_back(std::move(column));
                        fields.push_back(field);
                    }
                    Batch typed(std::make_shared<const Schema>(std::move(fields)),
                                std::move(columns), batch.num_rows());
                    for (std::size_t r = 0; r < typed.num_rows(); ++r) {
                        keys->keys.insert(row_key(typed, all, r));
                    }
                    return {};
                }));
                cached = cache.emplace(d.path, std::move(keys)).first;
            }
            filter.equality.push_back(cached->second);
            continue;
        }
        // A position delete applies to data files of its own sequence number or older.
        if (d.sequence_number < file.sequence_number) continue;
        if (!d.referenced_file.empty() && d.referenced_file != file.path) continue;
        const bool whole = d.referenced_file == file.path;
        const std::string suffix = "/" + file.path;
        MILLRACE_ASSIGN_OR_RETURN(auto reader,
                                  open_table_parquet(storage, table_path + "/" + d.path));
        const std::vector<std::string> names = {"file_path", "pos"};
        MILLRACE_ASSIGN_OR_RETURN(std::vector<std::size_t> indices, reader->column_indices(names));
        ParquetScanOptions scan;
        scan.columns = indices;
        MILLRACE_TRY(reader->scan(scan, [&](Batch batch) -> Status {
            const Column& paths = batch.column(0);
            const Column& pos = batch.column(1);
            if (paths.type() != DataType::kString || pos.type() != DataType::kInt64) {
                return Error(ErrorCode::kCorruption,
                             table_path + "/" + d.path + ": not a position delete file");
            }
            for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                if (paths.is_null(r) || pos.is_null(r)) continue;
                if (!whole) {
                    std::string_view p = paths.string_at(r);
                    if (p.size() < suffix.size() ||
                        p.compare(p.size() - suffix.size(), suffix.size(), suffix) != 0) {
                        continue;
                    }
                }
                const int64_t v = pos.value<int64_t>(r);
                if (v >= 0) filter.positions.push_back(static_cast<uint64_t>(v));
            }
            return {};
        }));
    }
    std::sort(filter.positions.begin(), filter.positions.end());
    filter.positions.erase(std::unique(filter.positions.begin(), filter.positions.end()),
                           filter.positions.end());
    return filter;
}

// The schema of a position delete file (Iceberg spec, "Position Delete Files": reserved field
// ids 2147483546 and 2147483545).
const std::shared_ptr<const Schema>& position_delete_schema() {
    static const std::shared_ptr<const Schema> schema =
        std::make_shared<const Schema>(std::vector<Field>{{"file_path", DataType::kString, false},
                                                          {"pos", DataType::kInt64, false}});
    return schema;
}
constexpr const char* kPositionDeleteIcebergSchema =
    R"({"type": "struct", "schema-id": 0, "fields": [)"
    R"({"id": 2147483546, "name": "file_path", "required": true, "type": "string"}, )"
    R"({"id": 2147483545, "name": "pos", "required": true, "type": "long"}]})";

}  // namespace

std::string data_file_name(std::string_view suffix) {
    return "part-" + random_hex() + "-" + std::string(suffix) + ".parquet";
}

std::string row_key(const Batch& batch, const std::vector<std::size_t>& columns, std::size_t row) {
    std::string key;
    append_row_key(key, batch, columns, row);
    return key;
}

void append_row_key(std::string& key, const Batch& batch, const std::vector<std::size_t>& columns,
                    std::size_t row) {
    for (std::size_t c : columns) {
        const Column& column = batch.column(c);
        if (column.is_null(row)) {
            key.push_back('\0');
            continue;
        }
        key.push_back('\1');
        switch (column.type()) {
            case DataType::kBool:
                key.push_back(static_cast<char>(column.value<uint8_t>(row)));
                break;
            case DataType::kInt32:
            case DataType::kDate: {
                const int32_t v = column.value<int32_t>(row);
                key.append(reinterpret_cast<const char*>(&v), sizeof(v));
                break;
            }
            case DataType::kInt64:
            case DataType::kTimestamp: {
                const int64_t v = column.value<int64_t>(row);
                key.append(reinterpret_cast<const char*>(&v), sizeof(v));
                break;
            }
            case DataType::kFloat64: {
                const double v = column.value<double>(row);
                key.append(reinterpret_cast<const char*>(&v), sizeof(v));
                break;
            }
            case DataType::kString:
            case DataType::kBytes: {
                const std::string_view v = column.string_at(row);
                const uint32_t size = static_cast<uint32_t>(v.size());
                key.append(reinterpret_cast<const char*>(&size), sizeof(size));
                key.append(v);
                break;
            }
        }
    }
}

struct LakeTable::Metadata {
    int64_t version = 0;
    std::string file;
    TableMetadata table;
};

namespace {

std::string metadata_dir(const std::string& table_path) { return table_path + "/metadata"; }

std::string metadata_file(const std::string& table_path, int64_t version) {
    return metadata_dir(table_path) + "/v" + std::to_string(version) + ".metadata.json";
}

bool is_regular_file(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The newest metadata version on disk: from the hint up while the next version exists (a
// committer may have died between its commit and the hint), or by listing the folder when the
// hint is missing or names no file. 0 when the table has none.
int64_t latest_version(const std::string& table_path) {
    if (TableStorage::has_catalog(table_path)) return TableStorage::latest_version(table_path);
    int64_t version = 0;
    auto hint = read_file(metadata_dir(table_path) + "/version-hint.text");
    if (hint.ok()) {
        char* end = nullptr;
        const long long v = std::strtoll(hint->c_str(), &end, 10);
        if (end != hint->c_str() && v > 0 && is_regular_file(metadata_file(table_path, v))) {
            version = v;
        }
    }
    if (version == 0) {
        std::error_code error;
        for (const auto& entry :
             std::filesystem::directory_iterator(metadata_dir(table_path), error)) {
            const std::string name = entry.path().filename().string();
            if (name.size() < 16 || name[0] != 'v' ||
                name.compare(name.size() - 14, 14, ".metadata.json") != 0) {
                continue;
            }
            char* end = nullptr;
            const long long v = std::strtoll(name.c_str() + 1, &end, 10);
            if (end != name.c_str() + name.size() - 14 || v <= 0) continue;
            if (v > version && is_regular_file(entry.path().string())) version = v;
        }
    }
    while (version > 0 && is_regular_file(metadata_file(table_path, version + 1))) ++version;
    return version;
}

// Points version-hint.text at `version` unless a newer version exists already (a faster
// committer's hint must not go backwards). A hint only: a committer that dies before it, or a
// race between two updates, leaves readers to find the newest version by looking past the hint,
// and a failed update changes nothing committed, so its error is dropped.
void update_version_hint(const std::string& table_path, int64_t version) {
    if (is_regular_file(metadata_file(table_path, version + 1))) return;
    (void)write_file_durably(metadata_dir(table_path) + "/version-hint.text",
                             std::to_string(version) + "\n");
}

// Creates `path` holding `bytes`, or returns false when `path` exists (a file, or anything else
// in the way): written to a temporary file, fsynced, then link(2)ed, which never replaces.
Result<bool> create_exclusively(const std::string& path, std::string_view bytes) {
    const std::string temporary = unique_temporary_path(path);
    MILLRACE_TRY(write_file_durably(temporary, bytes));
    const int rc = ::link(temporary.c_str(), path.c_str());
    const int saved = errno;
    ::unlink(temporary.c_str());
    if (rc != 0) {
        if (saved == EEXIST) return false;
        errno = saved;
        return io_error("cannot create " + path);
    }
    MILLRACE_TRY(sync_directory(parent_directory(path)));
    return true;
}

std::string json_object_text(const std::map<std::string, std::string>& map) {
    std::string out = "{";
    for (const auto& [key, value] : map) {
        if (out.size() > 1) out += ", ";
        append_json_string(out, key);
        out += ": ";
        append_json_string(out, value);
    }
    return out + "}";
}

std::map<std::string, std::string> parse_json_object(const std::string& text) {
    std::map<std::string, std::string> out;
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    if (parser.parse(text).get(object) != simdjson::SUCCESS) return out;
    for (auto field : object) {
        std::string_view value;
        if (field.value.get(value) == simdjson::SUCCESS) {
            out[std::string(field.key)] = std::string(value);
        }
    }
    return out;
}

std::string iceberg_operation(const std::string& operation) {
    if (operation == "compact") return "replace";
    if (operation == "overwrite" || operation == "upsert") return "overwrite";
    if (operation == "delete") return "delete";
    return "append";
}

std::string absolute_path(const std::string& path) {
    std::error_code error;
    auto absolute = std::filesystem::absolute(path, error);
    if (error) return path;
    std::string out = absolute.lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

Result<std::string> read_metadata_file(const std::string& path) {
    auto bytes = read_file(path);
    if (!bytes.ok() && bytes.error().code() == ErrorCode::kNotFound) {
        return Error(ErrorCode::kCorruption, path + ": missing");
    }
    return bytes;
}

}  // namespace

Result<LakeTable::MetadataFile> LakeTable::current_metadata_file() const {
    MetadataFile out;
    out.version = latest_version(path_);
    if (out.version == 0) {
        return Error(ErrorCode::kNotFound, "no lake table `" + name_ + "` in " + path_);
    }
    out.path = storage_ ? version_file(out.version) : absolute_path(version_file(out.version));
    MILLRACE_ASSIGN_OR_RETURN(out.json, read_metadata(version_file(out.version)));
    return out;
}

Result<bool> LakeTable::commit_metadata_file(int64_t version, std::string_view json) const {
    return create_version(version, json);
}

std::string LakeTable::version_file(int64_t version) const {
    return storage_ ? storage_->metadata_url(version) : metadata_file(path_, version);
}

Result<std::string> LakeTable::read_metadata(const std::string& path) const {
    if (!storage_) return read_metadata_file(path);
    auto bytes = storage_->read(path);
    if (!bytes.ok() && bytes.error().code() == ErrorCode::kNotFound) {
        return Error(ErrorCode::kCorruption, path + ": missing");
    }
    return bytes;
}

Result<std::string> LakeTable::read_metadata_at(const std::string& path,
                                                const std::string& location) const {
    return read_metadata(storage_ ? path : local_file(path_, location, path));
}

Result<bool> LakeTable::create_version(int64_t version, std::string_view json) const {
    if (!storage_) {
        MILLRACE_ASSIGN_OR_RETURN(bool created,
                                  create_exclusively(metadata_file(path_, version), json));
        if (created) update_version_hint(path_, version);
        return created;
    }
    // An object store cannot create-if-absent: the version gets a name of its own, and the
    // catalog pointer (table_storage.h) decides which committer made version `version`.
    const std::string url = storage_->new_metadata_url(version);
    MILLRACE_TRY(storage_->write(url, json));
    auto moved = storage_->commit_version(version, url);
    if (!moved.ok() || !*moved) (void)storage_->remove(url);
    return moved;
}

Status LakeTable::write_table_file(const std::string& path, std::string_view bytes) const {
    return storage_ ? storage_->write(path, bytes) : write_file_durably(path, bytes);
}

void LakeTable::remove_table_file(const std::string& path) const {
    if (storage_) {
        (void)storage_->remove(path);
    } else {
        ::unlink(path.c_str());
    }
}

Status LakeTable::place_file(const std::string& staged, const std::string& relative) const {
    if (storage_) return storage_->upload(staged, path_ + "/" + relative);
    const std::string to = path_ + "/" + relative;
    MILLRACE_TRY(create_parent_directories_durably(to));
    return rename_durably(staged, to);
}

Result<LakeTable::Metadata> LakeTable::load() const {
    Metadata m;
    m.version = latest_version(path_);
    if (m.version == 0) {
        if (pending_) {
            // Not created yet (prepare()): the empty table its first commit creates.
            m.file = metadata_file(path_, 1);
            m.table = *pending_;
            return m;
        }
        return Error(ErrorCode::kNotFound, "no lake table `" + name_ + "` in " + path_);
    }
    m.file = version_file(m.version);
    MILLRACE_ASSIGN_OR_RETURN(std::string text, read_metadata(m.file));
    MILLRACE_ASSIGN_OR_RETURN(m.table, TableMetadata::parse(text, m.file));
    return m;
}

std::string LakeTable::iceberg_schema() const {
    return iceberg_schema_json(*schema_, 0, *field_ids_, *float_ids_);
}

std::vector<std::size_t> LakeTable::float_columns() const {
    return float_positions(*field_ids_, *float_ids_);
}

namespace {

// The metadata of a new, empty table (snapshot 0), after the checks every new table passes.
Result<TableMetadata> new_table_metadata(const std::string& path, const std::string& name,
                                         const Schema& schema,
                                         const std::vector<std::string>& partition_by,
                                         PartitionSpec& spec) {
    if (!valid_table_name(name)) {
        return Error(
            ErrorCode::kInvalidArgument,
            "bad table name `" + name + "` (letters, digits, _ - .; not starting with _ or .)");
    }
    if (schema.empty()) return Error(ErrorCode::kInvalidArgument, "a table needs columns");
    MILLRACE_ASSIGN_OR_RETURN(spec, PartitionSpec::parse(partition_by, schema));
    // Writers' pre-commit records carry the schema in its one-line text form.
    auto reparsed = parse_schema_spec(schema_metadata_text(schema));
    if (!reparsed.ok() || !(*reparsed == schema)) {
        return Error(ErrorCode::kInvalidArgument,
                     "column names of a lake table must not contain `,` or `:`");
    }
    std::error_code error;
    if (std::filesystem::exists(path + kLegacyCurrent, error)) {
        return Error(ErrorCode::kAlreadyExists,
                     "lake table `" + name + "` exists in " + path +
                         " in the format before Iceberg (run `millrace lake upgrade " + name +
                         "`)");
    }
    if (latest_version(path) > 0) {
        return Error(ErrorCode::kAlreadyExists, "lake table `" + name + "` exists in " + path);
    }
    TableMetadata m;
    m.table_uuid = random_uuid();
    m.location = absolute_path(path);
    m.last_updated_ms = now_micros() / 1000;
    m.schema = schema;
    m.partition_by = spec.items().empty() ? std::vector<std::string>{} : partition_by;
    m.properties["millrace.created-at-micros"] = std::to_string(now_micros());
    return m;
}

}  // namespace

Result<LakeTable> LakeTable::create(const std::string& data_dir, const std::string& name,
                                    const Schema& schema,
                                    const std::vector<std::string>& partition_by,
                                    const ObjectStoreConfig* storage,
                                    const std::vector<std::string>& float_columns) {
    const std::string path = data_dir + "/lake/" + name;
    PartitionSpec spec;
    MILLRACE_ASSIGN_OR_RETURN(TableMetadata m,
                              new_table_metadata(path, name, schema, partition_by, spec));
    for (const std::string& column : float_columns) {
        auto index = schema.index_of(column);
        if (!index || schema.field(*index).type != DataType::kFloat64) {
            return Error(ErrorCode::kInvalidArgument,
                         "float column `" + column + "` is not a double column of the table");
        }
        m.float_ids.push_back(static_cast<int32_t>(*index + 1));  // a new table's ids: 1, 2...
    }
    if (storage != nullptr) {
        MILLRACE_ASSIGN_OR_RETURN(auto remote, TableStorage::create(path, name, *storage));
        m.location = remote->location();
        LakeTable table(name, path, std::make_shared<const Schema>(schema), std::move(spec));
        table.storage_ = std::move(remote);
        MILLRACE_ASSIGN_OR_RETURN(bool created, table.create_version(1, m.to_json()));
        if (!created) {
            return Error(ErrorCode::kAlreadyExists, "lake table `" + name + "` exists in " + path);
        }
        return open(data_dir, name);
    }
    MILLRACE_TRY(create_directories_durably(metadata_dir(path)));
    // Two processes may create one table at once (the first runs of two writers): link(2)
    // makes one the creator and the other see kAlreadyExists.
    MILLRACE_ASSIGN_OR_RETURN(bool created,
                              create_exclusively(metadata_file(path, 1), m.to_json()));
    if (!created) {
        return Error(ErrorCode::kAlreadyExists, "lake table `" + name + "` exists in " + path);
    }
    MILLRACE_TRY(write_file_durably(metadata_dir(path) + "/version-hint.text", "1\n"));
    return open(data_dir, name);
}

Result<LakeTable> LakeTable::prepare(const std::string& data_dir, const std::string& name,
                                     const Schema& schema,
                                     const std::vector<std::string>& partition_by,
                                     const ObjectStoreConfig* storage) {
    const std::string path = data_dir + "/lake/" + name;
    PartitionSpec spec;
    MILLRACE_ASSIGN_OR_RETURN(TableMetadata m,
                              new_table_metadata(path, name, schema, partition_by, spec));
    std::shared_ptr<const TableStorage> remote;
    if (storage != nullptr) {
        MILLRACE_ASSIGN_OR_RETURN(remote, TableStorage::create(path, name, *storage));
        m.location = remote->location();
    }
    LakeTable table(name, path, std::make_shared<const Schema>(schema), std::move(spec));
    table.storage_ = std::move(remote);
    table.pending_ = std::make_shared<const TableMetadata>(std::move(m));
    return table;
}

Status LakeTable::ensure_created() const {
    if (!pending_ || latest_version(path_) > 0) return {};
    if (!storage_) MILLRACE_TRY(create_directories_durably(metadata_dir(path_)));
    MILLRACE_ASSIGN_OR_RETURN(bool created, create_version(1, pending_->to_json()));
    (void)created;  // false: a concurrent writer created it, the same table
    return {};
}

void LakeTable::remove_if_uncreated() const {
    if (!pending_ || latest_version(path_) > 0) return;
    // rmdir removes empty folders only: a concurrent writer's staging or files stay.
    ::rmdir((path_ + "/_staging").c_str());
    ::rmdir(metadata_dir(path_).c_str());
    ::rmdir(path_.c_str());
}

Result<LakeTable> LakeTable::open(const std::string& data_dir, const std::string& name) {
    if (!valid_table_name(name)) {
        return Error(ErrorCode::kInvalidArgument, "bad table name `" + name + "`");
    }
    const std::string path = data_dir + "/lake/" + name;
    LakeTable probe(name, path, nullptr, PartitionSpec());
    MILLRACE_ASSIGN_OR_RETURN(probe.storage_, TableStorage::open(path, name));
    const int64_t latest = latest_version(path);
    if (latest == 0) {
        std::error_code error;
        if (std::filesystem::exists(path + kLegacyCurrent, error)) {
            return Error(ErrorCode::kUnsupported,
                         "lake table `" + name + "` in " + path +
                             " is in the format before Iceberg: run `millrace lake upgrade " +
                             name + " -d " + data_dir + "` once to convert it");
        }
        return Error(ErrorCode::kNotFound, "no lake table `" + name + "` in " + data_dir + "/lake");
    }
    auto loaded = probe.load();
    // The schema and partitioning never change, so any intact version has them: the table still
    // opens, and reads of its corrupt metadata report it.
    // (A store that cannot be reached is no corruption: no older version reads better.)
    for (int64_t v = latest - 1;
         !loaded.ok() && loaded.error().code() != ErrorCode::kUnavailable && v >= 1; --v) {
        auto text = probe.read_metadata(probe.version_file(v));
        if (!text.ok()) continue;
        auto parsed = TableMetadata::parse(*text, probe.version_file(v));
        if (parsed.ok()) loaded = Metadata{v, probe.version_file(v), std::move(parsed).value()};
    }
    if (!loaded.ok()) return std::move(loaded).error();
    const TableMetadata& m = loaded->table;
    MILLRACE_ASSIGN_OR_RETURN(PartitionSpec spec, PartitionSpec::parse(m.partition_by, m.schema));
    LakeTable table(name, path, std::make_shared<const Schema>(m.schema), std::move(spec),
                    m.column_ids());
    table.float_ids_ = std::make_shared<const std::vector<int32_t>>(m.float_ids);
    table.storage_ = probe.storage_;
    return table;
}

Result<std::vector<std::string>> LakeTable::list(const std::string& data_dir) {
    std::vector<std::string> names;
    std::error_code error;
    const std::string root = data_dir + "/lake";
    if (!std::filesystem::is_directory(root, error)) return names;
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
        const std::string name = entry.path().filename().string();
        if (valid_table_name(name) &&
            (latest_version(entry.path().string()) > 0 ||
             std::filesystem::exists(entry.path().string() + kLegacyCurrent, error))) {
            names.push_back(name);
        }
    }
    if (error) return Error(ErrorCode::kIo, "cannot list " + root + ": " + error.message());
    std::sort(names.begin(), names.end());
    return names;
}

Result<LakeTable> LakeTable::upgrade(const std::string& data_dir, const std::string& name) {
    const std::string path = data_dir + "/lake/" + name;
    const std::string legacy = path + "/_manifest";
    std::error_code error;
    if (!std::filesystem::exists(path + kLegacyCurrent, error)) {
        if (latest_version(path) > 0) {
            return Error(ErrorCode::kInvalidArgument,
                         "lake table `" + name + "` is an Iceberg table already");
        }
        return Error(ErrorCode::kNotFound, "no lake table `" + name + "` in " + data_dir + "/lake");
    }
    MILLRACE_ASSIGN_OR_RETURN(std::string current_text, read_file(path + kLegacyCurrent));
    char* end = nullptr;
    const unsigned long long current = std::strtoull(current_text.c_str(), &end, 10);
    if (end == current_text.c_str()) {
        return Error(ErrorCode::kCorruption, path + kLegacyCurrent + ": not a snapshot id");
    }
    char file[32];
    std::snprintf(file, sizeof(file), "/v%010llu.json", current);
    MILLRACE_ASSIGN_OR_RETURN(std::string text, read_file(legacy + file));
    MILLRACE_ASSIGN_OR_RETURN(Manifest old, Manifest::parse(text, legacy + file));
    MILLRACE_ASSIGN_OR_RETURN(Schema schema, manifest_schema(old));
    // A crashed upgrade may have created the metadata already: then only the commit (if it did
    // not happen) and the rename remain.
    if (latest_version(path) == 0) {
        MILLRACE_TRY(create_directories_durably(metadata_dir(path)));
        TableMetadata m;
        m.table_uuid = random_uuid();
        m.location = absolute_path(path);
        m.last_updated_ms = now_micros() / 1000;
        m.schema = schema;
        m.partition_by = old.partition_by;
        auto spec = PartitionSpec::parse(m.partition_by, schema);
        if (!spec.ok()) return std::move(spec).error();
        m.properties["millrace.created-at-micros"] = std::to_string(old.committed_at_micros);
        m.properties["millrace.upgraded-from-snapshot"] = std::to_string(current);
        // Not created: a concurrent upgrade made it, the same table either way.
        auto created = create_exclusively(metadata_file(path, 1), m.to_json());
        if (!created.ok()) return std::move(created).error();
    }
    MILLRACE_ASSIGN_OR_RETURN(LakeTable table, open(data_dir, name));
    MILLRACE_ASSIGN_OR_RETURN(uint64_t iceberg_current, table.current_snapshot_id());
    if (iceberg_current == 0 &&
        (!old.files.empty() || !old.writers.empty() || !old.progress.empty())) {
        Change change;
        change.added = old.files;
        change.operation = "append";
        change.writers = old.writers;
        for (const auto& [writer, state] : old.progress) change.progress[writer] = state;
        auto committed = table.commit(change);
        if (!committed.ok()) return std::move(committed).error();
    }
    MILLRACE_TRY(rename_durably(legacy, path + "/_manifest.pre-iceberg"));
    return table;
}

Result<uint64_t> LakeTable::current_snapshot_id() const {
    auto m = load();
    if (!m.ok()) {
        if (m.error().code() != ErrorCode::kCorruption) return std::move(m).error();
        return Error(ErrorCode::kCorruption, m.error().message() + intact_hint(nullptr, 0));
    }
    return static_cast<uint64_t>(m->table.current_snapshot_id.value_or(0));
}

std::string LakeTable::snapshot_file(uint64_t snapshot_id) const {
    auto m = load();
    if (!m.ok()) return version_file(latest_version(path_));
    if (const IcebergSnapshot* s = m->table.find(static_cast<int64_t>(snapshot_id))) {
        return s->manifest_list;
    }
    return m->file;
}

std::string LakeTable::intact_hint(const Metadata* metadata, uint64_t below) const {
    std::optional<Result<Manifest>> intact;
    if (metadata) {
        intact = newest_intact_snapshot(*metadata, below);
    } else {
        // The newest metadata does not read: the current snapshot of the newest older version
        // that does.
        for (int64_t v = latest_version(path_) - 1; v >= 1 && !intact; --v) {
            auto text = read_metadata(version_file(v));
            if (!text.ok()) continue;
            auto parsed = TableMetadata::parse(*text, version_file(v));
            if (!parsed.ok()) continue;
            Metadata older{v, version_file(v), std::move(parsed).value()};
            const uint64_t current = older.table.current_snapshot_id.value_or(0);
            auto m = read_snapshot(older, current);
            if (m.ok()) intact = std::move(m);
        }
    }
    if (!intact) return "; no older snapshot is intact";
    const std::string older = std::to_string((*intact)->snapshot_id);
    return "; the newest intact snapshot is " + older + ": read it explicitly as \"" + name_ + "@" +
           older + "\" (`millrace lake history " + name_ + "` lists the readable snapshots)";
}

Result<Manifest> LakeTable::snapshot(std::optional<uint64_t> snapshot_id) const {
    auto loaded = load();
    if (!loaded.ok()) {
        if (loaded.error().code() != ErrorCode::kCorruption) return std::move(loaded).error();
        if (snapshot_id) {
            // The newest metadata is unreadable but an explicit snapshot was asked for: any
            // older metadata version that lists it will do.
            for (int64_t v = latest_version(path_) - 1; v >= 1; --v) {
                auto text = read_metadata(version_file(v));
                if (!text.ok()) continue;
                auto parsed = TableMetadata::parse(*text, version_file(v));
                if (!parsed.ok()) continue;
                Metadata older{v, version_file(v), std::move(parsed).value()};
                if (*snapshot_id == 0 || older.table.find(static_cast<int64_t>(*snapshot_id))) {
                    return read_snapshot(older, *snapshot_id);
                }
            }
        }
        return Error(ErrorCode::kCorruption, "lake table `" + name_ +
                                                 "` is corrupt: " + loaded.error().message() +
                                                 intact_hint(nullptr, 0));
    }
    const uint64_t current = static_cast<uint64_t>(loaded->table.current_snapshot_id.value_or(0));
    const uint64_t id = snapshot_id.value_or(current);
    if (id > current) {
        return Error(ErrorCode::kNotFound, "table `" + name_ + "` has no snapshot " +
                                               std::to_string(id) + " (current is " +
                                               std::to_string(current) + ")");
    }
    auto m = read_snapshot(*loaded, id);
    if (m.ok() || m.error().code() != ErrorCode::kCorruption) return m;
    return Error(ErrorCode::kCorruption, "snapshot " + std::to_string(id) + " of lake table `" +
                                             name_ + "` is corrupt: " + m.error().message() +
                                             intact_hint(&*loaded, id));
}

Result<Manifest> LakeTable::read_snapshot(const Metadata& metadata, uint64_t id,
                                          bool metadata_columns) const {
    const TableMetadata& t = metadata.table;
    Manifest m;
    m.schema_text = schema_metadata_text(t.schema);
    m.partition_by = t.partition_by;
    if (id == 0) {
        m.operation = "create";
        if (auto it = t.properties.find("millrace.created-at-micros"); it != t.properties.end()) {
            m.committed_at_micros = std::strtoll(it->second.c_str(), nullptr, 10);
        }
        return m;
    }
    const IcebergSnapshot* s = t.find(static_cast<int64_t>(id));
    if (!s) {
        return Error(ErrorCode::kNotFound, "table `" + name_ + "` has no snapshot " +
                                               std::to_string(id) + " (expired, or never made)");
    }
    m.snapshot_id = id;
    m.parent_id = static_cast<uint64_t>(s->parent_id.value_or(0));
    m.committed_at_micros = s->timestamp_ms * 1000;
    auto summary = [&](const std::string& key) {
        auto it = s->summary.find(key);
        return it == s->summary.end() ? std::string() : it->second;
    };
    m.operation = summary("millrace.operation");
    if (m.operation.empty()) m.operation = summary("operation");
    for (const auto& [writer, checkpoint] : parse_json_object(summary("millrace.writers"))) {
        m.writers[writer] = std::strtoull(checkpoint.c_str(), nullptr, 10);
    }
    m.progress = parse_json_object(summary("millrace.progress"));
    MILLRACE_ASSIGN_OR_RETURN(std::string list_bytes,
                              read_metadata_at(s->manifest_list, t.location));
    MILLRACE_ASSIGN_OR_RETURN(
        std::vector<IcebergManifestFile> manifests,
        IcebergManifestCodec::decode_manifest_list(std::move(list_bytes), s->manifest_list));
    // Statistics come back keyed to this handle's columns (by field id), or to the metadata's.
    std::optional<IcebergManifestCodec> codec;
    if (metadata_columns) {
        MILLRACE_ASSIGN_OR_RETURN(PartitionSpec spec,
                                  PartitionSpec::parse(t.partition_by, t.schema));
        codec.emplace(t.schema, std::move(spec), t.location, t.column_ids(), t.float_ids);
    } else {
        codec.emplace(*schema_, spec_, t.location, *field_ids_, *float_ids_);
    }
    for (const IcebergManifestFile& manifest : manifests) {
        MILLRACE_ASSIGN_OR_RETURN(std::string bytes, read_metadata_at(manifest.path, t.location));
        MILLRACE_ASSIGN_OR_RETURN(std::vector<DataFile> files,
                                  codec->decode_manifest(std::move(bytes), manifest));
        for (DataFile& f : files) {
            (f.content == DataFile::Content::kData ? m.files : m.deletes).push_back(std::move(f));
        }
    }
    return m;
}

std::optional<Result<Manifest>> LakeTable::newest_intact_snapshot(const Metadata& metadata,
                                                                  uint64_t below) const {
    for (uint64_t id = below; id-- > 0;) {
        if (id > 0 && !metadata.table.find(static_cast<int64_t>(id))) continue;
        auto m = read_snapshot(metadata, id);
        if (m.ok()) return m;
    }
    return std::nullopt;
}

Result<std::vector<Manifest>> LakeTable::history() const {
    MILLRACE_ASSIGN_OR_RETURN(Metadata loaded, load());
    std::vector<uint64_t> ids = {0};
    for (const IcebergSnapshot& s : loaded.table.snapshots) {
        ids.push_back(static_cast<uint64_t>(s.snapshot_id));
    }
    std::sort(ids.begin(), ids.end());
    std::vector<Manifest> out;
    for (uint64_t id : ids) {
        auto m = read_snapshot(loaded, id);
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

Result<LakeTable::ScanPlan> LakeTable::plan(const ScanOptions& options) const {
    MILLRACE_ASSIGN_OR_RETURN(Manifest m, snapshot(options.snapshot_id));
    ScanPlan plan;
    plan.snapshot_id = m.snapshot_id;
    std::vector<std::size_t> predicate_columns;
    for (const ColumnPredicate& p : options.predicates) {
        auto index = schema_->index_of(p.column);
        if (!index) {
            return Error(ErrorCode::kNotFound,
                         "table `" + name_ + "` has no column `" + p.column + "`");
        }
        predicate_columns.push_back(*index);
    }
    // Incremental: the files each snapshot of the range added, read without deletes.
    std::vector<DataFile> appended;
    if (options.appended_after) {
        if (*options.appended_after > m.snapshot_id) {
            return Error(ErrorCode::kInvalidArgument,
                         "table `" + name_ + "`: the range's first snapshot " +
                             std::to_string(*options.appended_after) + " is after its last, " +
                             std::to_string(m.snapshot_id));
        }
        if (*options.appended_after < m.snapshot_id) {
            // The start must still be known: rows appended since an expired snapshot cannot be
            // told apart from older ones.
            auto start = snapshot(*options.appended_after);
            if (!start.ok()) return std::move(start).error();
        }
        for (uint64_t id = *options.appended_after + 1; id <= m.snapshot_id; ++id) {
            MILLRACE_ASSIGN_OR_RETURN(Manifest s, id == m.snapshot_id ? m : snapshot(id));
            if (s.operation == "compact") continue;
            for (DataFile& f : s.files) {
                if (static_cast<uint64_t>(f.added_snapshot_id) == id) appended.push_back(f);
            }
        }
    } else {
        plan.deletes = std::move(m.deletes);
    }
    std::vector<DataFile>& files = options.appended_after ? appended : m.files;
    plan.files_total = files.size();
    for (DataFile& file : files) {
        bool may_match = true;
        for (std::size_t i = 0; i < options.predicates.size() && may_match; ++i) {
            const std::size_t c = predicate_columns[i];
            if (options.use_statistics && c < file.columns.size()) {
                may_match = statistics_may_match(file.columns[c], options.predicates[i].op,
                                                 options.predicates[i].value);
            }
        }
        if (!may_match) {
            ++plan.files_skipped;
            continue;
        }
        plan.files.push_back(std::move(file));
    }
    return plan;
}

Result<LakeTable::ScanStats> LakeTable::scan(const ScanOptions& options,
                                             const std::function<Status(Batch)>& on_batch) const {
    MILLRACE_ASSIGN_OR_RETURN(ScanPlan plan, this->plan(options));
    return read(plan, options, on_batch);
}

Result<LakeTable::ScanStats> LakeTable::read(const ScanPlan& plan, const ScanOptions& options,
                                             const std::function<Status(Batch)>& on_batch) const {
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
    ScanStats stats;
    stats.snapshot_id = plan.snapshot_id;
    stats.files = plan.files_total;
    stats.files_skipped = plan.files_skipped;
    EqualityCache equality_cache;
    for (const DataFile& file : plan.files) {
        MILLRACE_ASSIGN_OR_RETURN(DeleteFilter deleted,
                                  delete_filter(path_, *schema_, *field_ids_, !spec_.empty(), file,
                                                plan.deletes, equality_cache, storage_.get()));
        MILLRACE_ASSIGN_OR_RETURN(
            std::size_t skipped,
            read_live_rows(
                path_ + "/" + file.path, deleted, columns, options.predicates, false,
                [&](Batch batch, const std::vector<uint64_t>&) {
                    stats.rows += batch.num_rows();
                    return on_batch(std::move(batch));
                },
                *schema_, *field_ids_, storage_.get()));
        stats.row_groups_skipped += skipped;
    }
    return stats;
}

Result<LakeTable::ChangeStats> LakeTable::scan_changes(uint64_t after, uint64_t upto,
                                                       const std::vector<std::string>& columns,
                                                       const ChangeConsumer& on_batch) const {
    return scan_changes(after, upto, columns, on_batch, ChangeWindow{});
}

Result<LakeTable::ChangeStats> LakeTable::scan_changes(uint64_t after, uint64_t upto,
                                                       const std::vector<std::string>& wanted,
                                                       const ChangeConsumer& on_batch,
                                                       const ChangeWindow& window) const {
    if (after > upto) {
        return Error(ErrorCode::kInvalidArgument,
                     "table `" + name_ + "`: the range's first snapshot " + std::to_string(after) +
                         " is after its last, " + std::to_string(upto));
    }
    std::vector<std::string> columns = wanted;
    if (columns.empty()) {
        for (const Field& field : schema_->fields()) columns.push_back(field.name);
    }
    for (const std::string& column : columns) {
        if (!schema_->index_of(column)) {
            return Error(ErrorCode::kNotFound,
                         "table `" + name_ + "` has no column `" + column + "`");
        }
    }
    ChangeStats stats;
    if (after == upto) return stats;
    // Both ends must still be known: changes since an expired snapshot cannot be told.
    MILLRACE_ASSIGN_OR_RETURN(Manifest parent, snapshot(after));
    MILLRACE_TRY(snapshot(upto));
    const bool partitioned = !spec_.empty();
    const DeleteFilter nothing_deleted;
    EqualityCache equality_cache;
    // The window: files passed over unread, and the stop once max_files were read.
    std::size_t files_seen = 0;
    auto take_file = [&]() {
        if (files_seen++ < window.skip_files) return false;
        if (stats.files == window.max_files) {
            stats.more = true;
            return false;
        }
        ++stats.files;
        return true;
    };
    for (uint64_t id = after + 1; id <= upto && !stats.more; ++id) {
        MILLRACE_ASSIGN_OR_RETURN(Manifest s, snapshot(id));
        if (s.parent_id != parent.snapshot_id) {
            MILLRACE_ASSIGN_OR_RETURN(parent, snapshot(s.parent_id));
        }
        if (s.operation == "compact") {
            parent = std::move(s);
            continue;
        }
        bool changed = false;
        // Deleted rows: the parent's data files this snapshot dropped or added deletes to.
        std::set<std::string> live_now;
        for (const DataFile& f : s.files) live_now.insert(f.path);
        std::set<std::string> old_deletes;
        for (const DataFile& d : parent.deletes) old_deletes.insert(d.path);
        std::vector<const DataFile*> new_deletes;
        for (const DataFile& d : s.deletes) {
            if (old_deletes.count(d.path) == 0) new_deletes.push_back(&d);
        }
        for (const DataFile& f : parent.files) {
            const bool removed = live_now.count(f.path) == 0;
            bool touched = removed;
            for (std::size_t i = 0; i < new_deletes.size() && !touched; ++i) {
                const DataFile& d = *new_deletes[i];
                if (d.content == DataFile::Content::kEqualityDeletes) {
                    touched = d.sequence_number > f.sequence_number &&
                              (!partitioned || folder_of(d.path) == folder_of(f.path));
                } else {
                    touched = d.sequence_number >= f.sequence_number &&
                              (d.referenced_file.empty() || d.referenced_file == f.path);
                }
            }
            if (!touched || !take_file()) continue;
            const std::string path = path_ + "/" + f.path;
            // The positions still live in this snapshot (none when the file was dropped).
            std::vector<uint64_t> live_after;
            if (!removed) {
                MILLRACE_ASSIGN_OR_RETURN(
                    DeleteFilter now, delete_filter(path_, *schema_, *field_ids_, partitioned, f,
                                                    s.deletes, equality_cache, storage_.get()));
                MILLRACE_TRY(read_live_rows(
                    path, now, {columns.front()}, {}, true,
                    [&](Batch, const std::vector<uint64_t>& positions) -> Status {
                        live_after.insert(live_after.end(), positions.begin(), positions.end());
                        return {};
                    },
                    *schema_, *field_ids_, storage_.get()));
            }
            MILLRACE_ASSIGN_OR_RETURN(
                DeleteFilter before, delete_filter(path_, *schema_, *field_ids_, partitioned, f,
                                                   parent.deletes, equality_cache, storage_.get()));
            MILLRACE_TRY(read_live_rows(
                path, before, columns, {}, true,
                [&](Batch batch, const std::vector<uint64_t>& positions) -> Status {
                    std::vector<uint32_t> gone;
                    for (std::size_t r = 0; r < positions.size(); ++r) {
                        if (removed || !std::binary_search(live_after.begin(), live_after.end(),
                                                           positions[r])) {
                            gone.push_back(static_cast<uint32_t>(r));
                        }
                    }
                    if (gone.empty()) return {};
                    if (gone.size() < batch.num_rows()) batch = batch.take(gone);
                    stats.deleted += batch.num_rows();
                    changed = true;
                    return on_batch(std::move(batch), ChangeKind::kDelete, id);
                },
                *schema_, *field_ids_, storage_.get()));
        }
        // Appended rows: the data files this snapshot added, as written.
        for (const DataFile& f : s.files) {
            if (static_cast<uint64_t>(f.added_snapshot_id) != id || !take_file()) continue;
            MILLRACE_TRY(read_live_rows(
                path_ + "/" + f.path, nothing_deleted, columns, {}, false,
                [&](Batch batch, const std::vector<uint64_t>&) -> Status {
                    if (batch.num_rows() == 0) return {};
                    stats.inserted += batch.num_rows();
                    changed = true;
                    return on_batch(std::move(batch), ChangeKind::kInsert, id);
                },
                *schema_, *field_ids_, storage_.get()));
        }
        if (changed) ++stats.snapshots;
        parent = std::move(s);
    }
    return stats;
}

Result<uint64_t> LakeTable::commit(const Change& change) const {
    // Conflicts are retried: each attempt re-reads the newest snapshot and re-applies the
    // change. The bound is generous (dozens of concurrent committers still get through); the
    // back-off is random so that two committers do not collide in lockstep.
    constexpr int kMaxAttempts = 200;
    constexpr std::size_t kMaxManifests = 64;
    std::mt19937_64 random(std::random_device{}() ^ static_cast<uint64_t>(now_micros()));
    const std::string location_dir = metadata_dir(path_);
    for (int attempt = 1;; ++attempt) {
        MILLRACE_ASSIGN_OR_RETURN(Metadata loaded, load());
        const TableMetadata& base = loaded.table;
        const uint64_t current_id = static_cast<uint64_t>(base.current_snapshot_id.value_or(0));
        // Read with the metadata's own schema: the manifests written below use it.
        auto current_result = read_snapshot(loaded, current_id, true);
        if (!current_result.ok()) {
            if (current_result.error().code() != ErrorCode::kCorruption) {
                return std::move(current_result).error();
            }
            return Error(ErrorCode::kCorruption,
                         "snapshot " + std::to_string(current_id) + " of lake table `" + name_ +
                             "` is corrupt, nothing is committed on top of it: " +
                             current_result.error().message());
        }
        Manifest current = std::move(current_result).value();
        const std::vector<int32_t> base_ids = base.column_ids();
        if (!(base.schema == *schema_) || base_ids != *field_ids_ ||
            base.float_ids != *float_ids_) {
            if (pending_ || loaded.version == 0) {
                // A prepared table that another writer created first, with another schema.
                return Error(ErrorCode::kTypeMismatch,
                             "lake table `" + name_ + "` has schema " + base.schema.to_string() +
                                 ", but this writer writes " + schema_->to_string());
            }
            // The schema evolved since this handle was opened: its files still read right (by
            // field id) as long as every column it writes is still there, with its type or one
            // it widens to. A dropped column would lose its values: refused.
            MILLRACE_TRY(check_still_writable(base, base_ids));
        }
        if (loaded.version == 0 && !storage_) {
            // The first commit of a prepared table creates it (v1 holds its first snapshot).
            MILLRACE_TRY(create_directories_durably(location_dir));
        }
        if (!change.writer.empty() && change.checkpoint) {
            auto it = current.writers.find(change.writer);
            if (it != current.writers.end() && it->second >= *change.checkpoint) {
                return current.snapshot_id;
            }
        }
        const int64_t sequence = base.last_sequence_number + 1;
        const int64_t snapshot_id = sequence;
        std::set<std::string> drop(change.removed.begin(), change.removed.end());
        std::vector<DataFile> kept;
        std::size_t dropped = 0;
        uint64_t deleted_rows = 0;
        std::size_t deleted_files = 0;
        for (DataFile& f : current.files) {
            if (drop.count(f.path) > 0) {
                ++dropped;
                deleted_rows += f.rows;
                ++deleted_files;
                continue;
            }
            if (change.replaced_partitions.count(folder_of(f.path)) > 0) {
                deleted_rows += f.rows;
                ++deleted_files;
                continue;
            }
            kept.push_back(std::move(f));
        }
        if (dropped != drop.size()) {
            return Error(ErrorCode::kUnavailable,
                         "commit conflict on `" + name_ + "`: files to replace are no longer live");
        }
        std::vector<DataFile> added = change.added;
        for (DataFile& f : added) {
            f.added_snapshot_id = snapshot_id;
            f.sequence_number = sequence;
            f.columns = statistics_by_id(f.columns, *field_ids_, base_ids);
        }
        uint64_t added_rows = 0, total_rows = 0;
        for (const DataFile& f : added) added_rows += f.rows;

        // Delete files: a position delete file goes with the data file it deletes from, an
        // equality delete file when no live data file is old enough for it to apply (a
        // compaction rewrote them), and every delete file of a replaced partition goes with the
        // partition.
        std::set<std::string> live_data;
        std::map<std::string, int64_t> oldest_in_folder;
        int64_t oldest = std::numeric_limits<int64_t>::max();
        for (const std::vector<DataFile>* files : {&kept, &added}) {
            for (const DataFile& f : *files) {
                live_data.insert(f.path);
                auto [it, inserted] =
                    oldest_in_folder.emplace(folder_of(f.path), f.sequence_number);
                if (!inserted) it->second = std::min(it->second, f.sequence_number);
                oldest = std::min(oldest, f.sequence_number);
            }
        }
        std::vector<DataFile> kept_deletes;
        std::size_t dropped_deletes = 0;
        for (DataFile& f : current.deletes) {
            bool orphaned = f.content == DataFile::Content::kPositionDeletes &&
                            !f.referenced_file.empty() && live_data.count(f.referenced_file) == 0;
            if (f.content == DataFile::Content::kEqualityDeletes) {
                int64_t applies_above = oldest;
                if (!spec_.empty()) {
                    auto it = oldest_in_folder.find(folder_of(f.path));
                    applies_above = it == oldest_in_folder.end()
                                        ? std::numeric_limits<int64_t>::max()
                                        : it->second;
                }
                orphaned = applies_above >= f.sequence_number;
            }
            if (orphaned || change.replaced_partitions.count(folder_of(f.path)) > 0) {
                ++dropped_deletes;
                continue;
            }
            kept_deletes.push_back(std::move(f));
        }
        std::vector<DataFile> added_deletes = change.added_deletes;
        uint64_t added_position_deletes = 0, added_equality_deletes = 0;
        for (DataFile& f : added_deletes) {
            if (f.content == DataFile::Content::kPositionDeletes &&
                live_data.count(f.referenced_file) == 0) {
                return Error(ErrorCode::kUnavailable,
                             "commit conflict on `" + name_ + "`: rows were deleted from " +
                                 f.referenced_file + ", which is no longer live");
            }
            (f.content == DataFile::Content::kPositionDeletes ? added_position_deletes
                                                              : added_equality_deletes) += f.rows;
            f.added_snapshot_id = snapshot_id;
            f.sequence_number = sequence;
        }

        // Manifests: an append reuses the current snapshot's manifests and adds one of its new
        // files; a commit that drops files, or whose list has grown to kMaxManifests (a
        // streaming sink appends one per checkpoint), writes one manifest of every live file.
        // Data files and delete files have manifests of their own (Iceberg's content 0 and 1).
        MILLRACE_ASSIGN_OR_RETURN(PartitionSpec base_spec,
                                  PartitionSpec::parse(base.partition_by, base.schema));
        IcebergManifestCodec codec(base.schema, std::move(base_spec), base.location, base_ids,
                                   base.float_ids);
        std::vector<IcebergManifestFile> list;
        std::vector<std::string> written;  // deleted again when this attempt loses
        auto cleanup = [&] {
            for (const std::string& file : written) remove_table_file(file);
        };
        const IcebergSnapshot* parent =
            base.current_snapshot_id ? base.find(*base.current_snapshot_id) : nullptr;
        std::vector<IcebergManifestFile> old_data, old_deletes;
        if (parent) {
            auto bytes = read_metadata_at(parent->manifest_list, base.location);
            if (!bytes.ok()) return std::move(bytes).error();
            auto old = IcebergManifestCodec::decode_manifest_list(std::move(bytes).value(),
                                                                  parent->manifest_list);
            if (!old.ok()) return std::move(old).error();
            for (IcebergManifestFile& m : *old) {
                (m.content == 0 ? old_data : old_deletes).push_back(std::move(m));
            }
        }
        auto write_manifest = [&](const std::vector<IcebergManifestEntry>& entries,
                                  bool deletes) -> Status {
            if (entries.empty()) return {};
            MILLRACE_ASSIGN_OR_RETURN(std::string bytes,
                                      codec.encode_manifest(entries, snapshot_id, deletes));
            IcebergManifestFile manifest;
            manifest.content = deletes ? 1 : 0;
            manifest.path = base.location + "/metadata/" + random_uuid() + "-m0.avro";
            manifest.length = static_cast<int64_t>(bytes.size());
            manifest.sequence_number = sequence;
            manifest.min_sequence_number = sequence;
            manifest.added_snapshot_id = snapshot_id;
            std::vector<DataFile> files;
            for (const IcebergManifestEntry& e : entries) {
                files.push_back(e.file);
                if (e.status == 1) {
                    ++manifest.added_files;
                    manifest.added_rows += static_cast<int64_t>(e.file.rows);
                } else {
                    ++manifest.existing_files;
                    manifest.existing_rows += static_cast<int64_t>(e.file.rows);
                    manifest.min_sequence_number =
                        std::min(manifest.min_sequence_number, e.file.sequence_number);
                }
            }
            manifest.partitions = codec.partition_summaries(files);
            const std::string local = location_dir + manifest.path.substr(manifest.path.rfind('/'));
            MILLRACE_TRY(write_table_file(local, bytes));
            written.push_back(local);
            list.push_back(std::move(manifest));
            return {};
        };
        std::vector<IcebergManifestEntry> entries;
        if (deleted_files == 0 && parent && old_data.size() < kMaxManifests) {
            list = old_data;
            for (const DataFile& f : added) entries.push_back({1, f});
        } else {
            for (const DataFile& f : kept) entries.push_back({0, f});
            for (const DataFile& f : added) entries.push_back({1, f});
        }
        if (Status wrote = write_manifest(entries, false); !wrote.ok()) {
            cleanup();
            return std::move(wrote).error();
        }
        entries.clear();
        if (dropped_deletes == 0 && parent && old_deletes.size() < kMaxManifests) {
            list.insert(list.end(), old_deletes.begin(), old_deletes.end());
            for (const DataFile& f : added_deletes) entries.push_back({1, f});
        } else {
            for (const DataFile& f : kept_deletes) entries.push_back({0, f});
            for (const DataFile& f : added_deletes) entries.push_back({1, f});
        }
        if (Status wrote = write_manifest(entries, true); !wrote.ok()) {
            cleanup();
            return std::move(wrote).error();
        }
        for (const DataFile& f : kept) total_rows += f.rows;
        total_rows += added_rows;

        IcebergSnapshot snapshot;
        snapshot.snapshot_id = snapshot_id;
        snapshot.parent_id = base.current_snapshot_id;
        snapshot.sequence_number = sequence;
        snapshot.schema_id = base.schema_id;
        snapshot.timestamp_ms = std::max<int64_t>(now_micros() / 1000, base.last_updated_ms);
        const std::string list_name = "/snap-" + std::to_string(snapshot_id) + "-" +
                                      std::to_string(attempt) + "-" + random_uuid() + ".avro";
        snapshot.manifest_list = base.location + "/metadata" + list_name;
        auto list_bytes = IcebergManifestCodec::encode_manifest_list(
            list, snapshot_id, base.current_snapshot_id, sequence);
        if (!list_bytes.ok()) {
            cleanup();
            return std::move(list_bytes).error();
        }
        Status wrote_list = write_table_file(location_dir + list_name, *list_bytes);
        if (!wrote_list.ok()) {
            cleanup();
            return std::move(wrote_list).error();
        }
        written.push_back(location_dir + list_name);
        std::map<std::string, std::string> writers;
        for (const auto& [writer, checkpoint] : current.writers) {
            writers[writer] = std::to_string(checkpoint);
        }
        for (const auto& [writer, checkpoint] : change.writers) {
            writers[writer] = std::to_string(checkpoint);
        }
        if (!change.writer.empty() && change.checkpoint) {
            writers[change.writer] = std::to_string(*change.checkpoint);
        }
        std::map<std::string, std::string> progress = current.progress;
        for (const auto& [writer, state] : change.progress) {
            if (state) {
                progress[writer] = *state;
            } else {
                progress.erase(writer);
            }
        }
        snapshot.summary = {
            {"operation", iceberg_operation(change.operation)},
            {"millrace.operation", change.operation},
            {"added-data-files", std::to_string(added.size())},
            {"added-records", std::to_string(added_rows)},
            {"deleted-data-files", std::to_string(deleted_files)},
            {"deleted-records", std::to_string(deleted_rows)},
            {"total-data-files", std::to_string(kept.size() + added.size())},
            {"total-records", std::to_string(total_rows)},
            {"total-delete-files", std::to_string(kept_deletes.size() + added_deletes.size())},
        };
        if (!added_deletes.empty()) {
            snapshot.summary["added-delete-files"] = std::to_string(added_deletes.size());
            snapshot.summary["added-position-deletes"] = std::to_string(added_position_deletes);
            snapshot.summary["added-equality-deletes"] = std::to_string(added_equality_deletes);
        }
        if (dropped_deletes > 0) {
            snapshot.summary["removed-delete-files"] = std::to_string(dropped_deletes);
        }
        if (!writers.empty()) snapshot.summary["millrace.writers"] = json_object_text(writers);
        if (!progress.empty()) snapshot.summary["millrace.progress"] = json_object_text(progress);

        TableMetadata next = base;
        next.last_sequence_number = sequence;
        next.last_updated_ms = snapshot.timestamp_ms;
        next.current_snapshot_id = snapshot_id;
        next.snapshot_log.emplace_back(snapshot.timestamp_ms, snapshot_id);
        if (loaded.version > 0) {
            next.metadata_log.emplace_back(
                base.last_updated_ms, storage_
                                          ? loaded.file
                                          : base.location + "/metadata/v" +
                                                std::to_string(loaded.version) + ".metadata.json");
        }
        next.snapshots.push_back(std::move(snapshot));
        auto created = create_version(loaded.version + 1, next.to_json());
        if (!created.ok()) {
            cleanup();
            return std::move(created).error();
        }
        if (*created) return static_cast<uint64_t>(snapshot_id);
        cleanup();
        if (latest_version(path_) == loaded.version) {
            // The name is taken, yet no newer version reads: something that is not a metadata
            // file is in the way (no retry can succeed).
            return Error(ErrorCode::kIo, "cannot commit to lake table `" + name_ +
                                             "`: " + version_file(loaded.version + 1) +
                                             " exists and is not a metadata file");
        }
        if (attempt >= kMaxAttempts) {
            return Error(ErrorCode::kUnavailable,
                         "commit to lake table `" + name_ + "` lost " + std::to_string(attempt) +
                             " times in a row to concurrent commits; nothing was committed");
        }
        std::this_thread::sleep_for(
            std::chrono::microseconds(random() % (1000 * std::min(attempt, 20) + 1)));
    }
}

Status LakeTable::check_still_writable(const TableMetadata& metadata,
                                       const std::vector<int32_t>& ids) const {
    for (std::size_t i = 0; i < schema_->size(); ++i) {
        const Field& mine = schema_->field(i);
        auto it = std::find(ids.begin(), ids.end(), (*field_ids_)[i]);
        if (it == ids.end()) {
            return Error(ErrorCode::kTypeMismatch,
                         "lake table `" + name_ + "` no longer has column `" + mine.name +
                             "` (dropped since this writer opened the table), which this writer "
                             "writes: restart it to write the table's schema " +
                             metadata.schema.to_string());
        }
        const Field& now = metadata.schema.field(static_cast<std::size_t>(it - ids.begin()));
        // A float column widened to double takes this writer's FLOAT files as they are; a
        // column that became float (only another engine could do that) would lose precision.
        const bool mine_float = is_float_id(*float_ids_, *it);
        const bool now_float = is_float_id(metadata.float_ids, *it);
        if ((now.type != mine.type &&
             !(mine.type == DataType::kInt32 && now.type == DataType::kInt64)) ||
            (now_float && !mine_float)) {
            return Error(ErrorCode::kTypeMismatch,
                         "lake table `" + name_ + "` column `" + now.name + "` is now " +
                             std::string(iceberg_type_name(now.type, now_float)) +
                             ", but this writer writes " +
                             std::string(iceberg_type_name(mine.type, mine_float)));
        }
    }
    return {};
}

Result<int64_t> LakeTable::schema_id() const {
    MILLRACE_ASSIGN_OR_RETURN(Metadata loaded, load());
    return loaded.table.schema_id;
}

namespace {

// The highest schema id among the metadata's schemas.
int64_t highest_schema_id(const TableMetadata& m) {
    int64_t highest = m.schema_id;
    for (const std::string& other : m.other_schemas) {
        const std::size_t key = other.find("\"schema-id\"");
        if (key == std::string::npos) continue;
        const std::size_t colon = other.find(':', key);
        if (colon == std::string::npos) continue;
        highest = std::max<int64_t>(highest, std::strtoll(other.c_str() + colon + 1, nullptr, 10));
    }
    return highest;
}

// Applies one schema change to `fields` and `ids`; `next_id` is the next unused column id.
Status apply_schema_change(const LakeTable::SchemaChange& change, const PartitionSpec& spec,
                           const Schema& before, std::vector<Field>& fields,
                           std::vector<int32_t>& ids, std::vector<int32_t>& float_ids,
                           int64_t& next_id) {
    using Kind = LakeTable::SchemaChange::Kind;
    auto find = [&](const std::string& name) -> std::optional<std::size_t> {
        for (std::size_t i = 0; i < fields.size(); ++i) {
            if (fields[i].name == name) return i;
        }
        return std::nullopt;
    };
    auto valid_name = [](const std::string& name) {
        return !name.empty() && name.find_first_of(",:`") == std::string::npos &&
               name.find_first_not_of(' ') != std::string::npos;
    };
    auto partitions = [&](std::size_t index) {
        // Partition items refer to columns of the schema the table was partitioned with.
        auto original = before.index_of(fields[index].name);
        if (!original) return false;
        for (const PartitionSpec::Item& item : spec.items()) {
            if (item.column == *original) return true;
        }
        return false;
    };
    if (change.kind == Kind::kAddColumn) {
        if (!valid_name(change.column)) {
            return Error(ErrorCode::kInvalidArgument,
                         "bad column name `" + change.column + "` (no `,`, `:` or backquote)");
        }
        if (find(change.column)) {
            return Error(ErrorCode::kInvalidArgument,
                         "column `" + change.column + "` exists already");
        }
        if (next_id > std::numeric_limits<int32_t>::max()) {
            return Error(ErrorCode::kInvalidArgument, "no column ids left");
        }
        fields.push_back(Field{change.column, change.type, true});
        ids.push_back(static_cast<int32_t>(next_id++));
        return {};
    }
    auto index = find(change.column);
    if (!index) {
        return Error(ErrorCode::kInvalidArgument, "no column `" + change.column + "`");
    }
    switch (change.kind) {
        case Kind::kAddColumn:
            break;
        case Kind::kRenameColumn:
            if (!valid_name(change.to)) {
                return Error(ErrorCode::kInvalidArgument,
                             "bad column name `" + change.to + "` (no `,`, `:` or backquote)");
            }
            if (find(change.to)) {
                return Error(ErrorCode::kInvalidArgument, "column `" + change.to + "` exists");
            }
            if (partitions(*index)) {
                return Error(
                    ErrorCode::kInvalidArgument,
                    "column `" + change.column + "` partitions the table and cannot be renamed");
            }
            fields[*index].name = change.to;
            break;
        case Kind::kDropColumn:
            if (fields.size() == 1) {
                return Error(ErrorCode::kInvalidArgument,
                             "column `" + change.column + "` is the table's last column");
            }
            if (partitions(*index)) {
                return Error(
                    ErrorCode::kInvalidArgument,
                    "column `" + change.column + "` partitions the table and cannot be dropped");
            }
            fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(*index));
            ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(*index));
            break;
        case Kind::kMoveColumn: {
            if (change.to == change.column) {
                return Error(ErrorCode::kInvalidArgument,
                             "column `" + change.column + "` cannot follow itself");
            }
            if (!change.to.empty() && !find(change.to)) {
                return Error(ErrorCode::kInvalidArgument, "no column `" + change.to + "`");
            }
            const Field field = fields[*index];
            const int32_t id = ids[*index];
            fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(*index));
            ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(*index));
            const std::size_t at = change.to.empty() ? 0 : *find(change.to) + 1;
            fields.insert(fields.begin() + static_cast<std::ptrdiff_t>(at), field);
            ids.insert(ids.begin() + static_cast<std::ptrdiff_t>(at), id);
            break;
        }
        case Kind::kWiden: {
            const bool is_float = is_float_id(float_ids, ids[*index]);
            if (fields[*index].type == change.type && !is_float) break;
            if (is_float && change.type == DataType::kFloat64) {
                // float to double: the type stays kFloat64, the column stops being float.
                float_ids.erase(std::find(float_ids.begin(), float_ids.end(), ids[*index]));
                break;
            }
            if (!(fields[*index].type == DataType::kInt32 && change.type == DataType::kInt64)) {
                return Error(ErrorCode::kInvalidArgument,
                             "column `" + change.column + "` is " +
                                 std::string(is_float ? "float" : type_name(fields[*index].type)) +
                                 ", which does not widen to " +
                                 std::string(type_name(change.type)) +
                                 " (widening: int32 to int64, float to double)");
            }
            if (partitions(*index)) {
                return Error(
                    ErrorCode::kInvalidArgument,
                    "column `" + change.column + "` partitions the table and cannot be widened");
            }
            fields[*index].type = change.type;
            break;
        }
    }
    return {};
}

}  // namespace

Result<int64_t> LakeTable::alter(const std::vector<SchemaChange>& changes) const {
    if (changes.empty()) return Error(ErrorCode::kInvalidArgument, "no schema change given");
    constexpr int kMaxAttempts = 200;
    std::mt19937_64 random(std::random_device{}() ^ static_cast<uint64_t>(now_micros()));
    for (int attempt = 1;; ++attempt) {
        MILLRACE_ASSIGN_OR_RETURN(Metadata loaded, load());
        if (loaded.version == 0) {
            return Error(ErrorCode::kNotFound, "no lake table `" + name_ + "` in " + path_);
        }
        const TableMetadata& base = loaded.table;
        MILLRACE_ASSIGN_OR_RETURN(PartitionSpec spec,
                                  PartitionSpec::parse(base.partition_by, base.schema));
        std::vector<Field> fields = base.schema.fields();
        std::vector<int32_t> ids = base.column_ids();
        std::vector<int32_t> float_ids = base.float_ids;
        int64_t next_id = base.last_column_id;
        for (int32_t id : ids) next_id = std::max<int64_t>(next_id, id);
        ++next_id;
        for (const SchemaChange& change : changes) {
            Status applied =
                apply_schema_change(change, spec, base.schema, fields, ids, float_ids, next_id);
            if (!applied.ok()) {
                return Error(applied.error().code(),
                             "lake table `" + name_ + "`: " + applied.error().message());
            }
        }
        // Equality delete files match rows by their key columns: those must stay.
        MILLRACE_ASSIGN_OR_RETURN(
            Manifest current,
            read_snapshot(loaded, static_cast<uint64_t>(base.current_snapshot_id.value_or(0)),
                          true));
        for (const DataFile& d : current.deletes) {
            for (int32_t id : d.equality_ids) {
                if (std::find(ids.begin(), ids.end(), id) != ids.end()) continue;
                const std::vector<int32_t> base_ids = base.column_ids();
                auto it = std::find(base_ids.begin(), base_ids.end(), id);
                const std::string column =
                    it == base_ids.end()
                        ? std::to_string(id)
                        : base.schema.field(static_cast<std::size_t>(it - base_ids.begin())).name;
                return Error(ErrorCode::kInvalidArgument,
                             "lake table `" + name_ + "`: column `" + column +
                                 "` is the key of live equality deletes (an upsert): run `millrace "
                                 "lake compact " +
                                 name_ + "` first");
            }
        }
        MILLRACE_ASSIGN_OR_RETURN(Schema schema, Schema::make(fields));
        TableMetadata next = base;
        next.other_schemas.push_back(
            iceberg_schema_json(base.schema, base.schema_id, base.column_ids(), base.float_ids));
        next.schema = std::move(schema);
        next.field_ids = ids;
        // A dropped float column leaves the list with its column.
        next.float_ids.clear();
        for (int32_t id : float_ids) {
            if (std::find(ids.begin(), ids.end(), id) != ids.end()) next.float_ids.push_back(id);
        }
        next.schema_id = highest_schema_id(base) + 1;
        next.last_column_id = next_id - 1;
        next.last_updated_ms = std::max<int64_t>(now_micros() / 1000, base.last_updated_ms);
        next.metadata_log.emplace_back(
            base.last_updated_ms,
            base.location + "/metadata/v" + std::to_string(loaded.version) + ".metadata.json");
        MILLRACE_ASSIGN_OR_RETURN(
            bool created,
            create_exclusively(metadata_file(path_, loaded.version + 1), next.to_json()));
        if (created) {
            update_version_hint(path_, loaded.version + 1);
            return next.schema_id;
        }
        if (attempt >= kMaxAttempts) {
            return Error(ErrorCode::kUnavailable, "schema change of lake table `" + name_ +
                                                      "` lost to concurrent commits " +
                                                      std::to_string(attempt) + " times");
        }
        std::this_thread::sleep_for(
            std::chrono::microseconds(random() % (1000 * std::min(attempt, 20) + 1)));
    }
}

Result<LakeTable::ExpireResult> LakeTable::expire_snapshots(int64_t older_than_ms,
                                                            std::size_t retain_last) const {
    constexpr int kMaxAttempts = 100;
    retain_last = std::max<std::size_t>(retain_last, 1);
    for (int attempt = 1;; ++attempt) {
        MILLRACE_ASSIGN_OR_RETURN(Metadata loaded, load());
        const TableMetadata& base = loaded.table;
        std::vector<IcebergSnapshot> snapshots = base.snapshots;
        std::sort(snapshots.begin(), snapshots.end(),
                  [](const IcebergSnapshot& a, const IcebergSnapshot& b) {
                      return a.snapshot_id < b.snapshot_id;
                  });
        std::vector<IcebergSnapshot> kept, expired;
        for (std::size_t i = 0; i < snapshots.size(); ++i) {
            const IcebergSnapshot& s = snapshots[i];
            const bool keep =
                s.timestamp_ms >= older_than_ms || i + retain_last >= snapshots.size() ||
                (base.current_snapshot_id && s.snapshot_id == *base.current_snapshot_id);
            (keep ? kept : expired).push_back(s);
        }
        ExpireResult result;
        if (expired.empty()) return result;
        // Files of the kept snapshots stay; those of expired snapshots that no kept one uses go.
        auto files_of = [&](const IcebergSnapshot& s, std::set<std::string>& out) -> Status {
            out.insert(local_file(path_, base.location, s.manifest_list));
            MILLRACE_ASSIGN_OR_RETURN(std::string bytes,
                                      read_metadata_at(s.manifest_list, base.location));
            MILLRACE_ASSIGN_OR_RETURN(auto manifests, IcebergManifestCodec::decode_manifest_list(
                                                          std::move(bytes), s.manifest_list));
            IcebergManifestCodec codec(*schema_, spec_, base.location, *field_ids_, *float_ids_);
            for (const IcebergManifestFile& manifest : manifests) {
                out.insert(local_file(path_, base.location, manifest.path));
                MILLRACE_ASSIGN_OR_RETURN(std::string m,
                                          read_metadata_at(manifest.path, base.location));
                MILLRACE_ASSIGN_OR_RETURN(auto files,
                                          codec.decode_manifest(std::move(m), manifest));
                for (const DataFile& f : files) out.insert(path_ + "/" + f.path);
            }
            return {};
        };
        std::set<std::string> live, candidates;
        for (const IcebergSnapshot& s : kept) MILLRACE_TRY(files_of(s, live));
        for (const IcebergSnapshot& s : expired) (void)files_of(s, candidates);
        TableMetadata next = base;
        next.snapshots.clear();
        std::set<int64_t> kept_ids;
        for (const IcebergSnapshot& s : base.snapshots) {
            for (const IcebergSnapshot& k : kept) {
                if (k.snapshot_id == s.snapshot_id) {
                    next.snapshots.push_back(s);
                    kept_ids.insert(s.snapshot_id);
                }
            }
        }
        next.snapshot_log.clear();
        for (const auto& entry : base.snapshot_log) {
            if (kept_ids.count(entry.second) > 0) next.snapshot_log.push_back(entry);
        }
        next.last_updated_ms = std::max<int64_t>(now_micros() / 1000, base.last_updated_ms);
        next.metadata_log.emplace_back(
            base.last_updated_ms, storage_ ? loaded.file
                                           : base.location + "/metadata/v" +
                                                 std::to_string(loaded.version) + ".metadata.json");
        MILLRACE_ASSIGN_OR_RETURN(bool created, create_version(loaded.version + 1, next.to_json()));
        if (created) {
            result.snapshots_expired = expired.size();
            for (const std::string& file : candidates) {
                if (live.count(file) > 0) continue;
                if (storage_) {
                    if (storage_->remove(file).ok()) ++result.files_deleted;
                } else if (::unlink(file.c_str()) == 0) {
                    ++result.files_deleted;
                }
            }
            return result;
        }
        if (latest_version(path_) == loaded.version) {
            return Error(ErrorCode::kIo,
                         version_file(loaded.version + 1) + " exists and is not a metadata file");
        }
        if (attempt >= kMaxAttempts) {
            return Error(ErrorCode::kUnavailable, "expire_snapshots lost to concurrent commits");
        }
    }
}

Result<std::size_t> LakeTable::remove_orphan_files(int64_t min_age_ms) const {
    MILLRACE_ASSIGN_OR_RETURN(Metadata loaded, load());
    const TableMetadata& base = loaded.table;
    std::set<std::string> live;
    IcebergManifestCodec codec(*schema_, spec_, base.location, *field_ids_, *float_ids_);
    for (const IcebergSnapshot& s : base.snapshots) {
        live.insert(local_file(path_, base.location, s.manifest_list));
        MILLRACE_ASSIGN_OR_RETURN(std::string bytes,
                                  read_metadata_at(s.manifest_list, base.location));
        MILLRACE_ASSIGN_OR_RETURN(auto manifests, IcebergManifestCodec::decode_manifest_list(
                                                      std::move(bytes), s.manifest_list));
        for (const IcebergManifestFile& manifest : manifests) {
            live.insert(local_file(path_, base.location, manifest.path));
            MILLRACE_ASSIGN_OR_RETURN(std::string m,
                                      read_metadata_at(manifest.path, base.location));
            MILLRACE_ASSIGN_OR_RETURN(auto files, codec.decode_manifest(std::move(m), manifest));
            for (const DataFile& f : files) live.insert(path_ + "/" + f.path);
        }
    }
    if (storage_) return remove_orphan_objects(live, min_age_ms);
    const auto now = std::filesystem::file_time_type::clock::now();
    std::size_t removed = 0;
    std::vector<std::string> folders;
    std::error_code error;
    auto it = std::filesystem::recursive_directory_iterator(path_, error);
    for (; !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
        const std::string file = it->path().string();
        const std::string relative = file.substr(path_.size() + 1);
        if (it.depth() == 0 && (relative == "_staging" || relative.rfind("_manifest", 0) == 0)) {
            it.disable_recursion_pending();  // writers' staging; the pre-Iceberg manifests
            continue;
        }
        if (it->is_directory(error)) {
            folders.push_back(file);
            continue;
        }
        if (!it->is_regular_file(error) || live.count(file) > 0) continue;
        const std::string name = it->path().filename().string();
        if (it.depth() == 1 && relative.rfind("metadata/", 0) == 0 &&
            (name == "version-hint.text" || name.find(".metadata.json") != std::string::npos ||
             name.find(".tmp-") != std::string::npos)) {
            continue;  // metadata versions and files being written
        }
        if (name.find(".tmp-") != std::string::npos) continue;
        const auto age = now - it->last_write_time(error);
        if (error ||
            std::chrono::duration_cast<std::chrono::milliseconds>(age).count() < min_age_ms) {
            continue;
        }
        if (::unlink(file.c_str()) == 0) ++removed;
    }
    if (error) return Error(ErrorCode::kIo, "cannot list " + path_ + ": " + error.message());
    // Partition folders left empty, deepest first (rmdir fails on the others, which is fine).
    std::sort(folders.rbegin(), folders.rend());
    for (const std::string& folder : folders) {
        if (folder != metadata_dir(path_)) ::rmdir(folder.c_str());
    }
    return removed;
}

Result<std::size_t> LakeTable::remove_orphan_objects(const std::set<std::string>& live,
                                                     int64_t min_age_ms) const {
    std::set<std::string> live_keys;
    for (const std::string& file : live) live_keys.insert(storage_->key_of(file));
    // Every metadata version the catalog lists stays; one no version names is a committer's
    // that lost or died before its pointer moved.
    for (int64_t v = latest_version(path_); v >= 1; --v) {
        const std::string url = version_file(v);
        if (!url.empty()) live_keys.insert(storage_->key_of(url));
    }
    MILLRACE_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, storage_->store().list(name_ + "/"));
    const int64_t now_ms = now_micros() / 1000;
    std::size_t removed = 0;
    for (const ObjectInfo& object : objects) {
        if (live_keys.count(object.key) > 0 || now_ms - object.modified_ms < min_age_ms) continue;
        MILLRACE_TRY(storage_->store().remove(object.key));
        ++removed;
    }
    return removed;
}

Result<LakeTable::CompactResult> LakeTable::compact(const CompactOptions& options) const {
    // A writer may replace the files being merged meanwhile (an overwrite of the same day):
    // the merge is redone on the newer snapshot, a few times at most.
    return redo_on_conflict([&] { return compact_once(options); });
}

Result<LakeTable::CompactResult> LakeTable::compact_once(const CompactOptions& options) const {
    MILLRACE_ASSIGN_OR_RETURN(Manifest m, snapshot());
    CompactResult result;
    result.snapshot_id = m.snapshot_id;
    // Per partition: the small files, and the files that have deletes (rewritten without the
    // deleted rows, which drops their position delete files).
    std::map<std::string, std::vector<const DataFile*>> small;
    std::map<const DataFile*, DeleteFilter> deleted;
    std::set<std::string> with_deletes;
    EqualityCache equality_cache;
    for (const DataFile& f : m.files) {
        MILLRACE_ASSIGN_OR_RETURN(DeleteFilter filter,
                                  delete_filter(path_, *schema_, *field_ids_, !spec_.empty(), f,
                                                m.deletes, equality_cache, storage_.get()));
        const bool has_deletes = !filter.positions.empty() || !filter.equality.empty();
        if (has_deletes) with_deletes.insert(folder_of(f.path));
        if (f.bytes < options.small_file_bytes || has_deletes) {
            small[folder_of(f.path)].push_back(&f);
            deleted[&f] = std::move(filter);
        }
    }
    std::vector<std::string> removed;
    std::vector<DataFile> added;
    std::optional<StagingFolder> staging_folder;
    for (const auto& [folder, files] : small) {
        if (files.size() < std::max<std::size_t>(2, options.min_files) &&
            with_deletes.count(folder) == 0) {
            continue;
        }
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
        parquet.iceberg_schema = iceberg_schema();
        parquet.field_ids = *field_ids_;
        parquet.float_columns = float_columns();
        MILLRACE_ASSIGN_OR_RETURN(auto writer, ParquetWriter::open(staged, schema_, parquet));
        for (const DataFile* f : files) {
            // Files written before a schema change come out in the table's schema (by id).
            std::vector<std::string> names;
            for (const Field& field : schema_->fields()) names.push_back(field.name);
            auto scanned = read_live_rows(
                path_ + "/" + f->path, deleted[f], names, {}, false,
                [&](Batch batch, const std::vector<uint64_t>&) {
                    // Batches read back carry the file's schema object: rewrap with the table's.
                    std::vector<std::shared_ptr<const Column>> columns;
                    for (std::size_t c = 0; c < batch.num_columns(); ++c) {
                        columns.push_back(batch.column_ptr(c));
                    }
                    return writer->write(Batch(schema_, std::move(columns), batch.num_rows()));
                },
                *schema_, *field_ids_, storage_.get());
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
        MILLRACE_TRY(place_file(staged, out.path));
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
        for (const DataFile& f : change.added) remove_table_file(path_ + "/" + f.path);
        return std::move(committed).error();
    }
    result.snapshot_id = *committed;
    return result;
}

Result<LakeTable::DeleteResult> LakeTable::delete_rows(const RowMatcher& matches) const {
    // A concurrent commit may drop a file this delete read (a compaction, an overwrite): the
    // delete is then worked out again on the newer snapshot.
    return redo_on_conflict([&] { return delete_once(matches); });
}

Result<LakeTable::DeleteResult> LakeTable::delete_once(const RowMatcher& matches) const {
    MILLRACE_ASSIGN_OR_RETURN(Manifest m, snapshot());
    DeleteResult result;
    result.snapshot_id = m.snapshot_id;
    std::vector<std::string> columns;
    for (const Field& field : schema_->fields()) columns.push_back(field.name);
    Change change;
    change.operation = "delete";
    std::optional<StagingFolder> staging_folder;
    std::vector<std::pair<std::string, std::string>> staged;  // staged path, table path
    EqualityCache equality_cache;
    for (const DataFile& file : m.files) {
        MILLRACE_ASSIGN_OR_RETURN(DeleteFilter deleted,
                                  delete_filter(path_, *schema_, *field_ids_, !spec_.empty(), file,
                                                m.deletes, equality_cache, storage_.get()));
        std::vector<uint64_t> hits;
        MILLRACE_TRY(read_live_rows(
            path_ + "/" + file.path, deleted, columns, {}, true,
            [&](Batch batch, const std::vector<uint64_t>& positions) -> Status {
                MILLRACE_ASSIGN_OR_RETURN(std::vector<uint32_t> rows, matches(batch));
                for (uint32_t r : rows) {
                    if (r < positions.size()) {
                        hits.push_back(positions[r]);
                    }
                }
                return {};
            },
            *schema_, *field_ids_, storage_.get()));
        if (hits.empty()) continue;
        std::sort(hits.begin(), hits.end());
        hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
        result.rows_deleted += hits.size();
        if (deleted.equality.empty() && hits.size() + deleted.positions.size() >= file.rows) {
            // Nothing of the file is left: drop it rather than delete every row.
            change.removed.push_back(file.path);
            ++result.files_removed;
            continue;
        }
        if (!staging_folder) {
            MILLRACE_ASSIGN_OR_RETURN(StagingFolder claimed,
                                      StagingFolder::claim_private(path_, "delete"));
            staging_folder.emplace(std::move(claimed));
        }
        const std::string name = data_file_name("deletes");
        const std::string staged_path = staging_folder->path() + "/" + name;
        ParquetWriterOptions parquet;
        parquet.sync = true;
        parquet.iceberg_schema = kPositionDeleteIcebergSchema;
        parquet.field_ids = {2147483546, 2147483545};
        MILLRACE_ASSIGN_OR_RETURN(
            auto writer, ParquetWriter::open(staged_path, position_delete_schema(), parquet));
        // The table's location as the metadata records it, which readers match paths against.
        MILLRACE_ASSIGN_OR_RETURN(Metadata loaded, load());
        const std::string target = loaded.table.location + "/" + file.path;
        BatchBuilder builder(position_delete_schema(), hits.size());
        for (uint64_t position : hits) {
            builder.column(0).append_string(target);
            builder.column(1).append_int64(static_cast<int64_t>(position));
            builder.commit_row();
        }
        MILLRACE_TRY(writer->write(builder.finish()));
        MILLRACE_TRY(writer->close());
        DataFile d;
        d.content = DataFile::Content::kPositionDeletes;
        const std::string folder = folder_of(file.path);
        d.path = folder.empty() ? name : folder + "/" + name;
        d.partition = file.partition;
        d.referenced_file = file.path;
        d.rows = hits.size();
        d.bytes = writer->bytes_written();
        staged.emplace_back(staged_path, d.path);
        change.added_deletes.push_back(std::move(d));
        ++result.delete_files;
    }
    if (change.removed.empty() && change.added_deletes.empty()) return result;
    std::vector<std::string> moved;
    for (const auto& [from, to] : staged) {
        Status ok = place_file(from, to);
        if (!ok.ok()) {
            for (const std::string& file : moved) remove_table_file(file);
            return std::move(ok).error();
        }
        moved.push_back(path_ + "/" + to);
    }
    auto committed = commit(change);
    if (!committed.ok()) {
        // Not committed: the delete files are referenced by no manifest.
        for (const std::string& file : moved) remove_table_file(file);
        return std::move(committed).error();
    }
    result.snapshot_id = *committed;
    return result;
}

Result<LakeTable> LakeTable::rename(const std::string& data_dir, const std::string& from,
                                    const std::string& to) {
    if (!valid_table_name(to)) {
        return Error(ErrorCode::kInvalidArgument,
                     "bad table name `" + to +
                         "`: letters, digits, `_`, `-` and `.`, not starting with `.` or `_`");
    }
    auto table = open(data_dir, from);
    if (!table.ok()) {
        if (table.error().code() != ErrorCode::kNotFound) return std::move(table).error();
        return Error(ErrorCode::kNotFound, "no lake table `" + from + "` in " + data_dir + "/lake");
    }
    if (table->in_object_store()) {
        return Error(ErrorCode::kUnsupported,
                     "lake table `" + from +
                         "` lives in an object store, whose files are named after the table; "
                         "renaming it is not supported");
    }
    if (from != to) {
        const std::string target = data_dir + "/lake/" + to;
        // RENAME_NOREPLACE: of two renames to one name, or a create racing a rename, one wins.
        if (::syscall(SYS_renameat2, AT_FDCWD, table->path().c_str(), AT_FDCWD, target.c_str(),
                      RENAME_NOREPLACE) != 0) {
            const int error = errno;
            if (error == EEXIST || error == ENOTEMPTY) {
                return Error(ErrorCode::kAlreadyExists,
                             "lake table `" + to + "` already exists in " + data_dir + "/lake");
            }
            if (error == ENOENT) {
                return Error(ErrorCode::kNotFound,
                             "no lake table `" + from + "` in " + data_dir + "/lake");
            }
            return Error(ErrorCode::kIo, "renaming " + table->path() + " to " + target + ": " +
                                             std::strerror(error));
        }
        MILLRACE_TRY(sync_directory(data_dir + "/lake"));
    }
    MILLRACE_ASSIGN_OR_RETURN(LakeTable moved, open(data_dir, to));
    if (Status relocated = moved.relocate(); !relocated.ok()) {
        return std::move(relocated).error().with_context(
            "table `" + from + "` is now `" + to +
            "` and reads in Millrace, but its metadata still names the old folder for other "
            "engines; run `millrace lake rename " +
            to + " " + to + "` to finish");
    }
    return moved;
}

Status LakeTable::relocate() const {
    if (storage_) return {};
    const std::string location = absolute_path(path_);
    constexpr int kMaxAttempts = 20;
    for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
        MILLRACE_ASSIGN_OR_RETURN(Metadata loaded, load());
        TableMetadata next = loaded.table;
        if (next.location == location) return {};
        const std::string old = next.location;
        MILLRACE_ASSIGN_OR_RETURN(PartitionSpec spec,
                                  PartitionSpec::parse(next.partition_by, next.schema));
        const IcebergManifestCodec read_codec(next.schema, spec, old, next.column_ids(),
                                              next.float_ids);
        const IcebergManifestCodec write_codec(next.schema, spec, location, next.column_ids(),
                                               next.float_ids);
        const std::string folder = metadata_dir(path_);
        std::vector<std::string> written;  // deleted again when this attempt loses
        auto cleanup = [&] {
            for (const std::string& file : written) remove_table_file(file);
        };
        // A manifest may be listed by many snapshots: rewritten once.
        std::map<std::string, std::pair<std::string, int64_t>> moved;  // old path -> new, length
        auto rewrite = [&](IcebergSnapshot& snapshot) -> Status {
            MILLRACE_ASSIGN_OR_RETURN(std::string bytes,
                                      read_metadata_at(snapshot.manifest_list, old));
            MILLRACE_ASSIGN_OR_RETURN(
                auto manifests, IcebergManifestCodec::decode_manifest_list(std::move(bytes),
                                                                           snapshot.manifest_list));
            for (IcebergManifestFile& manifest : manifests) {
                auto it = moved.find(manifest.path);
                if (it == moved.end()) {
                    MILLRACE_ASSIGN_OR_RETURN(std::string m, read_metadata_at(manifest.path, old));
                    MILLRACE_ASSIGN_OR_RETURN(auto files,
                                              read_codec.decode_manifest(std::move(m), manifest));
                    std::vector<IcebergManifestEntry> entries;
                    for (DataFile& f : files) {
                        // ADDED entries inherit the manifest's sequence number; others carry it.
                        const int status = f.added_snapshot_id == manifest.added_snapshot_id &&
                                                   f.sequence_number == manifest.sequence_number
                                               ? 1
                                               : 0;
                        entries.push_back({status, std::move(f)});
                    }
                    MILLRACE_ASSIGN_OR_RETURN(
                        std::string encoded,
                        write_codec.encode_manifest(entries, manifest.added_snapshot_id,
                                                    manifest.content == 1));
                    const std::string name = "/" + random_uuid() + "-m0.avro";
                    MILLRACE_TRY(write_table_file(folder + name, encoded));
                    written.push_back(folder + name);
                    it =
                        moved
                            .emplace(manifest.path, std::pair(location + "/metadata" + name,
                                                              static_cast<int64_t>(encoded.size())))
                            .first;
                }
                manifest.path = it->second.first;
                manifest.length = it->second.second;
            }
            MILLRACE_ASSIGN_OR_RETURN(
                std::string list,
                IcebergManifestCodec::encode_manifest_list(
                    manifests, snapshot.snapshot_id, snapshot.parent_id, snapshot.sequence_number));
            const std::string name = "/snap-" + std::to_string(snapshot.snapshot_id) + "-r" +
                                     std::to_string(attempt) + "-" + random_uuid() + ".avro";
            MILLRACE_TRY(write_table_file(folder + name, list));
            written.push_back(folder + name);
            snapshot.manifest_list = location + "/metadata" + name;
            return {};
        };
        for (IcebergSnapshot& snapshot : next.snapshots) {
            if (Status done = rewrite(snapshot); !done.ok()) {
                cleanup();
                return std::move(done).error();
            }
        }
        // The old metadata versions moved with the folder.
        for (auto& [when, file] : next.metadata_log) file = local_file(location, old, file);
        next.metadata_log.emplace_back(
            next.last_updated_ms,
            location + "/metadata/v" + std::to_string(loaded.version) + ".metadata.json");
        next.location = location;
        next.last_updated_ms = std::max<int64_t>(now_micros() / 1000, next.last_updated_ms);
        auto created = create_version(loaded.version + 1, next.to_json());
        if (!created.ok()) {
            cleanup();
            return std::move(created).error();
        }
        if (*created) return {};
        cleanup();  // a writer committed meanwhile: redo on its version
    }
    return Error(ErrorCode::kUnavailable,
                 "table `" + name_ + "` kept changing while its metadata was relocated; retry");
}

}  // namespace millrace
