#include "lake/iceberg_manifest.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/json_string.h"
#include "formats/avro_reader.h"
#include "formats/avro_writer.h"
#include "formats/parquet/column_statistics.h"
#include "lake/iceberg_metadata.h"

namespace millrace {

namespace {

// The reserved field ids of a position delete file's columns (Iceberg spec, "Position Delete
// Files").
constexpr int64_t kDeleteFilePathId = 2147483546;

constexpr const char* kManifestListSchema =
    R"({"type": "record", "name": "manifest_file", "fields": [
  {"name": "manifest_path", "type": "string", "field-id": 500},
  {"name": "manifest_length", "type": "long", "field-id": 501},
  {"name": "partition_spec_id", "type": "int", "field-id": 502},
  {"name": "content", "type": "int", "field-id": 517},
  {"name": "sequence_number", "type": "long", "field-id": 515},
  {"name": "min_sequence_number", "type": "long", "field-id": 516},
  {"name": "added_snapshot_id", "type": "long", "field-id": 503},
  {"name": "added_files_count", "type": "int", "field-id": 504},
  {"name": "existing_files_count", "type": "int", "field-id": 505},
  {"name": "deleted_files_count", "type": "int", "field-id": 506},
  {"name": "added_rows_count", "type": "long", "field-id": 512},
  {"name": "existing_rows_count", "type": "long", "field-id": 513},
  {"name": "deleted_rows_count", "type": "long", "field-id": 514},
  {"name": "partitions", "type": ["null", {"type": "array", "element-id": 508, "items":
    {"type": "record", "name": "r508", "fields": [
      {"name": "contains_null", "type": "boolean", "field-id": 509},
      {"name": "contains_nan", "type": ["null", "boolean"], "default": null, "field-id": 518},
      {"name": "lower_bound", "type": ["null", "bytes"], "default": null, "field-id": 510},
      {"name": "upper_bound", "type": ["null", "bytes"], "default": null, "field-id": 511}]}}],
   "default": null, "field-id": 507}]})";

std::string count_map(const char* name, int id, int key_id, int value_id, const char* value_type) {
    const std::string record = "k" + std::to_string(key_id) + "_v" + std::to_string(value_id);
    return std::string(R"({"name": ")") + name +
           R"(", "type": ["null", {"type": "array", "logicalType": "map", "items": {"type": "record", "name": ")" +
           record + R"(", "fields": [{"name": "key", "type": "int", "field-id": )" +
           std::to_string(key_id) + R"(}, {"name": "value", "type": ")" + value_type +
           R"(", "field-id": )" + std::to_string(value_id) +
           R"(}]}}], "default": null, "field-id": )" + std::to_string(id) + "}";
}

std::string partition_avro_type(const PartitionSpec::Item& item, const Schema& schema) {
    switch (item.kind) {
        case PartitionSpec::Item::Kind::kDay:
            return R"({"type": "int", "logicalType": "date"})";
        case PartitionSpec::Item::Kind::kHour:
        case PartitionSpec::Item::Kind::kMonth:
        case PartitionSpec::Item::Kind::kYear:
        case PartitionSpec::Item::Kind::kBucket:
            return R"("int")";
        case PartitionSpec::Item::Kind::kColumn:
        case PartitionSpec::Item::Kind::kTruncate:
            switch (schema.field(item.column).type) {
                case DataType::kBool:
                    return R"("boolean")";
                case DataType::kInt32:
                    return R"("int")";
                case DataType::kInt64:
                    return R"("long")";
                case DataType::kDate:
                    return R"({"type": "int", "logicalType": "date"})";
                default:
                    return R"("string")";
            }
    }
    return R"("string")";
}

// An Avro name for a partition field ([A-Za-z_][A-Za-z0-9_]*): other characters become _x<hex>,
// as Iceberg's own writers do; readers find the field by its field-id, not its name.
std::string avro_name(const std::string& name) {
    std::string out;
    static const char* hex = "0123456789ABCDEF";
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (std::isalpha(c) || c == '_' || (std::isdigit(c) && i > 0)) {
            out.push_back(static_cast<char>(c));
        } else if (std::isdigit(c)) {
            out += "_" + std::string(1, static_cast<char>(c));
        } else {
            out += "_x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out.empty() ? "_" : out;
}

std::string manifest_schema_json(const Schema& schema, const PartitionSpec& spec) {
    std::string partition = R"({"type": "record", "name": "r102", "fields": [)";
    for (std::size_t i = 0; i < spec.items().size(); ++i) {
        const PartitionSpec::Item& item = spec.items()[i];
        if (i > 0) partition += ", ";
        partition += R"({"name": )" + json_string(avro_name(item.name)) + R"(, "type": ["null", )" +
                     partition_avro_type(item, schema) + R"(], "default": null, "field-id": )" +
                     std::to_string(1000 + i) + "}";
    }
    partition += "]}";
    return std::string(R"({"type": "record", "name": "manifest_entry", "fields": [
  {"name": "status", "type": "int", "field-id": 0},
  {"name": "snapshot_id", "type": ["null", "long"], "default": null, "field-id": 1},
  {"name": "sequence_number", "type": ["null", "long"], "default": null, "field-id": 3},
  {"name": "file_sequence_number", "type": ["null", "long"], "default": null, "field-id": 4},
  {"name": "data_file", "type": {"type": "record", "name": "r2", "fields": [
    {"name": "content", "type": "int", "field-id": 134},
    {"name": "file_path", "type": "string", "field-id": 100},
    {"name": "file_format", "type": "string", "field-id": 101},
    {"name": "partition", "type": )") +
           partition + R"(, "field-id": 102},
    {"name": "record_count", "type": "long", "field-id": 103},
    {"name": "file_size_in_bytes", "type": "long", "field-id": 104},
    )" + count_map("value_counts", 109, 119, 120, "long") +
           ",\n    " + count_map("null_value_counts", 110, 121, 122, "long") + ",\n    " +
           count_map("lower_bounds", 125, 126, 127, "bytes") + ",\n    " +
           count_map("upper_bounds", 128, 129, 130, "bytes") + R"(,
    {"name": "equality_ids", "type": ["null", {"type": "array", "items": "int", "element-id": 136}],
     "default": null, "field-id": 135}]}, "field-id": 2}]})";
}

AvroValue partition_avro_value(const Value& v) {
    if (v.is_null()) return AvroValue::null();
    switch (v.type()) {
        case DataType::kBool:
            return AvroValue::of_bool(v.as_bool());
        case DataType::kInt32:
        case DataType::kDate:
            return AvroValue::of_long(v.as_int32());
        case DataType::kInt64:
        case DataType::kTimestamp:
            return AvroValue::of_long(v.as_int64());
        case DataType::kFloat64:
            return AvroValue::of_double(v.as_double());
        default:
            return AvroValue::of_bytes(v.as_string());
    }
}

AvroValue key_values(const std::vector<std::pair<int64_t, AvroValue>>& pairs) {
    if (pairs.empty()) return AvroValue::null();
    std::vector<AvroValue> items;
    for (const auto& [key, value] : pairs) {
        items.push_back(AvroValue::record({AvroValue::of_long(key), value}));
    }
    return AvroValue::array(std::move(items));
}

const AvroValue& field_or_null(const AvroValue& record, const AvroNode& schema,
                               std::string_view name) {
    static const AvroValue kNull;
    const AvroValue* v = record.field(schema, name);
    return v ? *v : kNull;
}

// The record schema of a field whose type may be a ["null", record] union.
const AvroNode* record_schema(const AvroNode& parent, std::string_view name) {
    auto index = parent.field_index(name);
    if (!index) return nullptr;
    const AvroNode* node = parent.fields[*index].type;
    if (node->type == AvroType::kUnion) {
        for (const AvroNode* branch : node->branches) {
            if (branch->type != AvroType::kNull) return branch;
        }
    }
    return node;
}

}  // namespace

std::string iceberg_bound(const Value& value) {
    char buffer[8];
    switch (value.type()) {
        case DataType::kBool:
            return std::string(1, value.as_bool() ? '\x01' : '\x00');
        case DataType::kInt32:
        case DataType::kDate: {
            const int32_t v = value.as_int32();
            std::memcpy(buffer, &v, 4);
            return std::string(buffer, 4);
        }
        case DataType::kInt64:
        case DataType::kTimestamp: {
            const int64_t v = value.as_int64();
            std::memcpy(buffer, &v, 8);
            return std::string(buffer, 8);
        }
        case DataType::kFloat64: {
            const double v = value.as_double();
            std::memcpy(buffer, &v, 8);
            return std::string(buffer, 8);
        }
        case DataType::kString:
        case DataType::kBytes:
            return value.as_string();
    }
    return "";
}

std::string iceberg_float_bound(const Value& value, bool upper) {
    const double v = value.as_double();
    float narrow = static_cast<float>(v);
    if (!std::isnan(v)) {
        if (upper && static_cast<double>(narrow) < v) {
            narrow = std::nextafter(narrow, std::numeric_limits<float>::infinity());
        } else if (!upper && static_cast<double>(narrow) > v) {
            narrow = std::nextafter(narrow, -std::numeric_limits<float>::infinity());
        }
    }
    char buffer[4];
    std::memcpy(buffer, &narrow, 4);
    return std::string(buffer, 4);
}

Value value_from_iceberg_bound(DataType type, std::string_view bytes) {
    switch (type) {
        case DataType::kBool:
            if (bytes.size() != 1) return Value();
            return Value::boolean(bytes[0] != 0);
        case DataType::kInt32:
        case DataType::kDate: {
            if (bytes.size() != 4) return Value();
            int32_t v;
            std::memcpy(&v, bytes.data(), 4);
            return type == DataType::kDate ? Value::date(v) : Value::int32(v);
        }
        case DataType::kInt64:
        case DataType::kTimestamp: {
            if (type == DataType::kInt64 && bytes.size() == 4) {
                // A column widened from int keeps the bounds its older files were written with.
                int32_t narrow;
                std::memcpy(&narrow, bytes.data(), 4);
                return Value::int64(narrow);
            }
            if (bytes.size() != 8) return Value();
            int64_t v;
            std::memcpy(&v, bytes.data(), 8);
            return type == DataType::kTimestamp ? Value::timestamp(v) : Value::int64(v);
        }
        case DataType::kFloat64: {
            if (bytes.size() == 4) {
                // A column widened from float.
                float narrow;
                std::memcpy(&narrow, bytes.data(), 4);
                return Value::float64(narrow);
            }
            if (bytes.size() != 8) return Value();
            double v;
            std::memcpy(&v, bytes.data(), 8);
            return Value::float64(v);
        }
        case DataType::kString:
            return Value::string(std::string(bytes));
        case DataType::kBytes:
            return Value::bytes(std::string(bytes));
    }
    return Value();
}

IcebergManifestCodec::IcebergManifestCodec(Schema schema, PartitionSpec spec, std::string location,
                                           std::vector<int32_t> field_ids,
                                           std::vector<int32_t> float_ids)
    : schema_(std::move(schema)),
      spec_(std::move(spec)),
      location_(std::move(location)),
      field_ids_(std::move(field_ids)),
      float_ids_(std::move(float_ids)) {
    if (field_ids_.size() != schema_.size()) {
        field_ids_.resize(schema_.size());
        for (std::size_t i = 0; i < field_ids_.size(); ++i) {
            field_ids_[i] = static_cast<int32_t>(i + 1);
        }
    }
    auto parsed = AvroSchema::parse(manifest_schema_json(schema_, spec_), "manifest schema");
    MILLRACE_CHECK(parsed.ok(), parsed.error().to_string());
    manifest_schema_ = std::move(parsed).value();
}

Result<std::string> IcebergManifestCodec::encode_manifest(
    const std::vector<IcebergManifestEntry>& entries, int64_t snapshot_id, bool deletes) const {
    std::string partition_fields = iceberg_partition_spec_json(spec_, field_ids_);
    // The `partition-spec` key holds the fields array alone.
    const std::size_t open = partition_fields.find('[');
    partition_fields = partition_fields.substr(open, partition_fields.rfind(']') - open + 1);
    AvroWriter writer(manifest_schema_, AvroCodec::kDeflate,
                      {{"schema", iceberg_schema_json(schema_, 0, field_ids_, float_ids_)},
                       {"schema-id", "0"},
                       {"partition-spec", partition_fields},
                       {"partition-spec-id", "0"},
                       {"format-version", "2"},
                       {"content", deletes ? "deletes" : "data"}});
    for (const IcebergManifestEntry& entry : entries) {
        const DataFile& f = entry.file;
        const std::size_t slash = f.path.rfind('/');
        const std::string folder = slash == std::string::npos ? "" : f.path.substr(0, slash);
        std::vector<AvroValue> partition;
        if (!spec_.empty()) {
            MILLRACE_ASSIGN_OR_RETURN(std::vector<Value> values,
                                      spec_.partition_values(folder, schema_));
            for (const Value& v : values) partition.push_back(partition_avro_value(v));
        }
        std::vector<std::pair<int64_t, AvroValue>> value_counts, null_counts, lower, upper;
        if (f.content == DataFile::Content::kPositionDeletes && !f.referenced_file.empty()) {
            const std::string target = location_ + "/" + f.referenced_file;
            value_counts.emplace_back(kDeleteFilePathId,
                                      AvroValue::of_long(static_cast<int64_t>(f.rows)));
            null_counts.emplace_back(kDeleteFilePathId, AvroValue::of_long(0));
            lower.emplace_back(kDeleteFilePathId, AvroValue::of_bytes(target));
            upper.emplace_back(kDeleteFilePathId, AvroValue::of_bytes(target));
        }
        for (std::size_t c = 0; c < f.columns.size() && c < schema_.size(); ++c) {
            const ColumnStatistics& s = f.columns[c];
            const int64_t id = field_ids_[c];
            value_counts.emplace_back(id, AvroValue::of_long(static_cast<int64_t>(f.rows)));
            null_counts.emplace_back(id, AvroValue::of_long(static_cast<int64_t>(s.null_count)));
            if (s.has_min_max() && s.min.type() == DataType::kFloat64 &&
                is_float_id(float_ids_, static_cast<int32_t>(id))) {
                lower.emplace_back(id, AvroValue::of_bytes(iceberg_float_bound(s.min, false)));
                upper.emplace_back(id, AvroValue::of_bytes(iceberg_float_bound(s.max, true)));
            } else if (s.has_min_max()) {
                lower.emplace_back(id, AvroValue::of_bytes(iceberg_bound(s.min)));
                upper.emplace_back(id, AvroValue::of_bytes(iceberg_bound(s.max)));
            }
        }
        AvroValue equality_ids = AvroValue::null();
        if (f.content == DataFile::Content::kEqualityDeletes) {
            std::vector<AvroValue> ids;
            for (int32_t id : f.equality_ids) ids.push_back(AvroValue::of_long(id));
            equality_ids = AvroValue::array(std::move(ids));
        }
        AvroValue data_file = AvroValue::record({
            AvroValue::of_long(static_cast<int64_t>(f.content)),
            AvroValue::of_bytes(location_ + "/" + f.path),
            AvroValue::of_bytes("PARQUET"),
            AvroValue::record(std::move(partition)),
            AvroValue::of_long(static_cast<int64_t>(f.rows)),
            AvroValue::of_long(static_cast<int64_t>(f.bytes)),
            key_values(value_counts),
            key_values(null_counts),
            key_values(lower),
            key_values(upper),
            std::move(equality_ids),
        });
        const bool added = entry.status == 1;
        MILLRACE_TRY(writer.append(AvroValue::record({
            AvroValue::of_long(entry.status),
            AvroValue::of_long(added ? snapshot_id : f.added_snapshot_id),
            added ? AvroValue::null() : AvroValue::of_long(f.sequence_number),
            added ? AvroValue::null() : AvroValue::of_long(f.sequence_number),
            std::move(data_file),
        })));
    }
    return writer.finish();
}

Result<std::vector<DataFile>> IcebergManifestCodec::decode_manifest(
    std::string bytes, const IcebergManifestFile& manifest) const {
    const std::string& source = manifest.path;
    MILLRACE_ASSIGN_OR_RETURN(AvroReader reader, AvroReader::open(std::move(bytes), source));
    MILLRACE_ASSIGN_OR_RETURN(std::vector<AvroValue> rows, reader.read_all());
    auto corrupt = [&](const std::string& what) {
        return Error(ErrorCode::kCorruption, source + ": " + what);
    };
    const AvroNode& root = reader.schema().root();
    const AvroNode* file_schema = record_schema(root, "data_file");
    if (root.type != AvroType::kRecord || !file_schema || file_schema->type != AvroType::kRecord) {
        return corrupt("not an Iceberg manifest");
    }
    std::vector<DataFile> out;
    for (const AvroValue& row : rows) {
        const AvroValue& status = field_or_null(row, root, "status");
        if (status.kind != AvroValue::Kind::kLong) return corrupt("entry without status");
        if (status.integer == 2) continue;  // deleted: informational only
        const AvroValue& file = field_or_null(row, root, "data_file");
        const AvroValue& content = field_or_null(file, *file_schema, "content");
        DataFile f;
        if (content.kind == AvroValue::Kind::kLong) {
            if (content.integer < 0 || content.integer > 2) {
                return Error(ErrorCode::kUnsupported, source + ": unknown data_file content " +
                                                          std::to_string(content.integer));
            }
            f.content = static_cast<DataFile::Content>(content.integer);
        }
        if (f.content == DataFile::Content::kEqualityDeletes) {
            const AvroValue& ids = field_or_null(file, *file_schema, "equality_ids");
            if (ids.kind == AvroValue::Kind::kArray) {
                for (const AvroValue& id : ids.items) {
                    if (id.kind == AvroValue::Kind::kLong) {
                        f.equality_ids.push_back(static_cast<int32_t>(id.integer));
                    }
                }
            }
            if (f.equality_ids.empty()) return corrupt("equality delete file without equality_ids");
        }
        const AvroValue& path = field_or_null(file, *file_schema, "file_path");
        const AvroValue& rows_count = field_or_null(file, *file_schema, "record_count");
        const AvroValue& size = field_or_null(file, *file_schema, "file_size_in_bytes");
        if (path.kind != AvroValue::Kind::kBytes || rows_count.kind != AvroValue::Kind::kLong ||
            size.kind != AvroValue::Kind::kLong || rows_count.integer < 0 || size.integer < 0) {
            return corrupt("bad data_file entry");
        }
        std::string relative = path.bytes;
        for (const std::string& prefix : {location_ + "/", "file://" + location_ + "/"}) {
            if (relative.rfind(prefix, 0) == 0) {
                relative = relative.substr(prefix.size());
                break;
            }
        }
        if (relative.empty() || relative.front() == '/' ||
            relative.find("://") != std::string::npos || relative == ".." ||
            relative.rfind("../", 0) == 0 || relative.find("/../") != std::string::npos ||
            (relative.size() >= 3 && relative.compare(relative.size() - 3, 3, "/..") == 0)) {
            return corrupt("data file `" + path.bytes + "` is outside the table at " + location_);
        }
        f.path = std::move(relative);
        const std::size_t slash = f.path.rfind('/');
        f.partition =
            PartitionSpec::split_folder(slash == std::string::npos ? "" : f.path.substr(0, slash));
        f.rows = static_cast<uint64_t>(rows_count.integer);
        f.bytes = static_cast<uint64_t>(size.integer);
        const AvroValue& snapshot = field_or_null(row, root, "snapshot_id");
        f.added_snapshot_id =
            snapshot.kind == AvroValue::Kind::kLong ? snapshot.integer : manifest.added_snapshot_id;
        const AvroValue& sequence = field_or_null(row, root, "sequence_number");
        f.sequence_number =
            sequence.kind == AvroValue::Kind::kLong ? sequence.integer : manifest.sequence_number;
        if (f.content == DataFile::Content::kPositionDeletes) {
            // The data file it deletes from: lower == upper bound of its file_path column.
            std::string lower_path, upper_path;
            for (const char* name : {"lower_bounds", "upper_bounds"}) {
                const AvroValue& map = field_or_null(file, *file_schema, name);
                if (map.kind != AvroValue::Kind::kArray) continue;
                for (const AvroValue& pair : map.items) {
                    if (pair.kind == AvroValue::Kind::kRecord && pair.items.size() == 2 &&
                        pair.items[0].kind == AvroValue::Kind::kLong &&
                        pair.items[0].integer == kDeleteFilePathId &&
                        pair.items[1].kind == AvroValue::Kind::kBytes) {
                        (name[0] == 'l' ? lower_path : upper_path) = pair.items[1].bytes;
                    }
                }
            }
            if (!lower_path.empty() && lower_path == upper_path) {
                f.referenced_file = lower_path;
                for (const std::string& prefix : {location_ + "/", "file://" + location_ + "/"}) {
                    if (f.referenced_file.rfind(prefix, 0) == 0) {
                        f.referenced_file = f.referenced_file.substr(prefix.size());
                        break;
                    }
                }
            }
            out.push_back(std::move(f));
            continue;
        }
        if (f.content == DataFile::Content::kEqualityDeletes) {
            out.push_back(std::move(f));
            continue;
        }
        // Column statistics by column id.
        f.columns.resize(schema_.size());
        for (ColumnStatistics& s : f.columns) s.row_count = f.rows;
        auto each = [&](std::string_view name, auto&& apply) -> Status {
            const AvroValue& map = field_or_null(file, *file_schema, name);
            if (map.kind != AvroValue::Kind::kArray) return {};
            for (const AvroValue& pair : map.items) {
                if (pair.kind != AvroValue::Kind::kRecord || pair.items.size() != 2 ||
                    pair.items[0].kind != AvroValue::Kind::kLong) {
                    return corrupt("bad " + std::string(name));
                }
                // By column id: statistics of dropped columns are left out, those of renamed,
                // reordered or widened ones land on the column as it is now.
                const int64_t id = pair.items[0].integer;
                auto position = std::find(field_ids_.begin(), field_ids_.end(), id);
                if (position == field_ids_.end()) continue;
                const auto c = static_cast<std::size_t>(position - field_ids_.begin());
                apply(f.columns[c], schema_.field(c).type, pair.items[1]);
            }
            return {};
        };
        MILLRACE_TRY(
            each("null_value_counts", [](ColumnStatistics& s, DataType, const AvroValue& v) {
                if (v.kind == AvroValue::Kind::kLong && v.integer >= 0) {
                    s.null_count = static_cast<uint64_t>(v.integer);
                }
            }));
        MILLRACE_TRY(
            each("lower_bounds", [](ColumnStatistics& s, DataType type, const AvroValue& v) {
                if (v.kind == AvroValue::Kind::kBytes)
                    s.min = value_from_iceberg_bound(type, v.bytes);
            }));
        MILLRACE_TRY(
            each("upper_bounds", [](ColumnStatistics& s, DataType type, const AvroValue& v) {
                if (v.kind == AvroValue::Kind::kBytes)
                    s.max = value_from_iceberg_bound(type, v.bytes);
            }));
        out.push_back(std::move(f));
    }
    return out;
}

AvroValue IcebergManifestCodec::partition_summaries(const std::vector<DataFile>& files) const {
    if (spec_.empty()) return AvroValue::array({});
    const std::size_t n = spec_.items().size();
    std::vector<bool> contains_null(n, false);
    std::vector<Value> lower(n), upper(n);
    for (const DataFile& f : files) {
        const std::size_t slash = f.path.rfind('/');
        auto values = spec_.partition_values(
            slash == std::string::npos ? "" : f.path.substr(0, slash), schema_);
        if (!values.ok()) continue;
        for (std::size_t i = 0; i < n; ++i) {
            const Value& v = (*values)[i];
            if (v.is_null()) {
                contains_null[i] = true;
                continue;
            }
            if (lower[i].is_null() || compare_values(v, lower[i]) < 0) lower[i] = v;
            if (upper[i].is_null() || compare_values(v, upper[i]) > 0) upper[i] = v;
        }
    }
    std::vector<AvroValue> out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(AvroValue::record({
            AvroValue::of_bool(contains_null[i]),
            AvroValue::null(),
            lower[i].is_null() ? AvroValue::null() : AvroValue::of_bytes(iceberg_bound(lower[i])),
            upper[i].is_null() ? AvroValue::null() : AvroValue::of_bytes(iceberg_bound(upper[i])),
        }));
    }
    return AvroValue::array(std::move(out));
}

Result<std::string> IcebergManifestCodec::encode_manifest_list(
    const std::vector<IcebergManifestFile>& list, int64_t snapshot_id,
    std::optional<int64_t> parent_id, int64_t sequence_number) {
    static const std::shared_ptr<const AvroSchema> schema =
        std::move(AvroSchema::parse(kManifestListSchema, "manifest list schema")).value();
    std::map<std::string, std::string> metadata = {
        {"snapshot-id", std::to_string(snapshot_id)},
        {"sequence-number", std::to_string(sequence_number)},
        {"format-version", "2"}};
    metadata["parent-snapshot-id"] = parent_id ? std::to_string(*parent_id) : "null";
    AvroWriter writer(schema, AvroCodec::kDeflate, std::move(metadata));
    for (const IcebergManifestFile& m : list) {
        MILLRACE_TRY(writer.append(AvroValue::record({
            AvroValue::of_bytes(m.path),
            AvroValue::of_long(m.length),
            AvroValue::of_long(0),
            AvroValue::of_long(m.content),
            AvroValue::of_long(m.sequence_number),
            AvroValue::of_long(m.min_sequence_number),
            AvroValue::of_long(m.added_snapshot_id),
            AvroValue::of_long(m.added_files),
            AvroValue::of_long(m.existing_files),
            AvroValue::of_long(m.deleted_files),
            AvroValue::of_long(m.added_rows),
            AvroValue::of_long(m.existing_rows),
            AvroValue::of_long(m.deleted_rows),
            m.partitions.kind == AvroValue::Kind::kArray ? m.partitions : AvroValue::null(),
        })));
    }
    return writer.finish();
}

Result<std::vector<IcebergManifestFile>> IcebergManifestCodec::decode_manifest_list(
    std::string bytes, const std::string& source) {
    MILLRACE_ASSIGN_OR_RETURN(AvroReader reader, AvroReader::open(std::move(bytes), source));
    MILLRACE_ASSIGN_OR_RETURN(std::vector<AvroValue> rows, reader.read_all());
    const AvroNode& root = reader.schema().root();
    std::vector<IcebergManifestFile> out;
    for (const AvroValue& row : rows) {
        auto get = [&](std::string_view name) -> std::optional<int64_t> {
            const AvroValue& v = field_or_null(row, root, name);
            if (v.kind != AvroValue::Kind::kLong) return std::nullopt;
            return v.integer;
        };
        IcebergManifestFile m;
        const AvroValue& path = field_or_null(row, root, "manifest_path");
        auto length = get("manifest_length");
        if (path.kind != AvroValue::Kind::kBytes || !length) {
            return Error(ErrorCode::kCorruption, source + ": not an Iceberg manifest list");
        }
        m.content = static_cast<int>(get("content").value_or(0));
        if (m.content != 0 && m.content != 1) {
            return Error(ErrorCode::kCorruption,
                         source + ": unknown manifest content " + std::to_string(m.content));
        }
        m.path = path.bytes;
        m.length = *length;
        m.sequence_number = get("sequence_number").value_or(0);
        m.min_sequence_number = get("min_sequence_number").value_or(m.sequence_number);
        m.added_snapshot_id = get("added_snapshot_id").value_or(0);
        m.added_files = static_cast<int32_t>(get("added_files_count").value_or(0));
        m.existing_files = static_cast<int32_t>(get("existing_files_count").value_or(0));
        m.deleted_files = static_cast<int32_t>(get("deleted_files_count").value_or(0));
        m.added_rows = get("added_rows_count").value_or(0);
        m.existing_rows = get("existing_rows_count").value_or(0);
        m.deleted_rows = get("deleted_rows_count").value_or(0);
        m.partitions = field_or_null(row, root, "partitions");
        m.partitions.branch.reset();
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace millrace
