#include "lake/catalog_requests.h"

#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <set>

#include "common/json_string.h"
#include "lake/iceberg_metadata.h"

namespace millrace {

namespace {

using simdjson::dom::element;

Error bad_request(const std::string& what) { return Error(ErrorCode::kParse, what); }

Error stale(const std::string& what) {
    return Error(ErrorCode::kUnavailable, "requirement failed: " + what);
}

std::string minify(element value) { return simdjson::minify(value); }

std::optional<int64_t> int_field(element object, std::string_view key) {
    int64_t value = 0;
    if (object[key].get(value) != simdjson::SUCCESS) return std::nullopt;
    return value;
}

Result<int64_t> required_int(element object, std::string_view key, std::string_view what) {
    auto value = int_field(object, key);
    if (!value) {
        return bad_request(std::string(what) + " needs an integer `" + std::string(key) + "`");
    }
    return *value;
}

Result<std::string_view> required_string(element object, std::string_view key,
                                         std::string_view what) {
    std::string_view value;
    if (object[key].get(value) != simdjson::SUCCESS) {
        return bad_request(std::string(what) + " needs a string `" + std::string(key) + "`");
    }
    return value;
}

// What the requirements check and the updates change, read from the current metadata.
struct TableState {
    std::string table_uuid;
    std::string location;
    int64_t current_schema_id = 0;
    int64_t last_column_id = 0;
    int64_t last_partition_id = 999;
    int64_t default_spec_id = 0;
    int64_t default_sort_order_id = 0;
    int64_t last_updated_ms = 0;
    std::map<std::string, int64_t> refs;                   // ref name -> snapshot id
    std::vector<std::pair<int64_t, std::string>> schemas;  // schema-id, schema JSON
    std::map<std::string, std::string> properties;
};

Result<TableState> read_state(element root) {
    TableState state;
    std::string_view text;
    if (root["table-uuid"].get(text) == simdjson::SUCCESS) state.table_uuid = std::string(text);
    if (root["location"].get(text) == simdjson::SUCCESS) state.location = std::string(text);
    state.current_schema_id = int_field(root, "current-schema-id").value_or(0);
    state.last_column_id = int_field(root, "last-column-id").value_or(0);
    state.last_partition_id = int_field(root, "last-partition-id").value_or(999);
    state.default_spec_id = int_field(root, "default-spec-id").value_or(0);
    state.default_sort_order_id = int_field(root, "default-sort-order-id").value_or(0);
    state.last_updated_ms = int_field(root, "last-updated-ms").value_or(0);
    simdjson::dom::object object;
    if (root["refs"].get(object) == simdjson::SUCCESS) {
        for (auto field : object) {
            if (auto id = int_field(field.value, "snapshot-id")) {
                state.refs[std::string(field.key)] = *id;
            }
        }
    }
    // Millrace writes no refs for the empty table but "main" for the current snapshot; older
    // writers may have only current-snapshot-id.
    if (!state.refs.count("main")) {
        auto current = int_field(root, "current-snapshot-id");
        if (current && *current >= 0) state.refs["main"] = *current;
    }
    simdjson::dom::array schemas;
    if (root["schemas"].get(schemas) == simdjson::SUCCESS) {
        for (element schema : schemas) {
            state.schemas.emplace_back(int_field(schema, "schema-id").value_or(0), minify(schema));
        }
    }
    if (root["properties"].get(object) == simdjson::SUCCESS) {
        for (auto field : object) {
            if (field.value.get(text) == simdjson::SUCCESS) {
                state.properties[std::string(field.key)] = std::string(text);
            }
        }
    }
    return state;
}

Status check_requirement(const TableState& state, element requirement) {
    MILLRACE_ASSIGN_OR_RETURN(std::string_view type,
                              required_string(requirement, "type", "a requirement"));
    auto expect_int = [&](std::string_view key, int64_t actual) -> Status {
        MILLRACE_ASSIGN_OR_RETURN(
            int64_t expected, required_int(requirement, key, "requirement " + std::string(type)));
        if (expected != actual) {
            return stale(std::string(key) + " is " + std::to_string(actual) + ", not " +
                         std::to_string(expected));
        }
        return Status();
    };
    if (type == "assert-create") return stale("the table already exists");
    if (type == "assert-table-uuid") {
        MILLRACE_ASSIGN_OR_RETURN(std::string_view uuid,
                                  required_string(requirement, "uuid", "assert-table-uuid"));
        if (uuid != state.table_uuid) {
            return stale("table-uuid is " + state.table_uuid + ", not " + std::string(uuid));
        }
        return Status();
    }
    if (type == "assert-ref-snapshot-id") {
        MILLRACE_ASSIGN_OR_RETURN(std::string_view ref,
                                  required_string(requirement, "ref", "assert-ref-snapshot-id"));
        auto found = state.refs.find(std::string(ref));
        element expected;
        if (requirement["snapshot-id"].get(expected) != simdjson::SUCCESS || expected.is_null()) {
            if (found != state.refs.end()) {
                return stale("ref `" + std::string(ref) + "` exists (snapshot " +
                             std::to_string(found->second) + ")");
            }
            return Status();
        }
        int64_t id = 0;
        if (expected.get(id) != simdjson::SUCCESS) {
            return bad_request("assert-ref-snapshot-id needs an integer or null `snapshot-id`");
        }
        if (found == state.refs.end()) {
            return stale("ref `" + std::string(ref) + "` does not exist");
        }
        if (found->second != id) {
            return stale("ref `" + std::string(ref) + "` is at snapshot " +
                         std::to_string(found->second) + ", not " + std::to_string(id));
        }
        return Status();
    }
    if (type == "assert-last-assigned-field-id") {
        return expect_int("last-assigned-field-id", state.last_column_id);
    }
    if (type == "assert-current-schema-id") {
        return expect_int("current-schema-id", state.current_schema_id);
    }
    if (type == "assert-last-assigned-partition-id") {
        return expect_int("last-assigned-partition-id", state.last_partition_id);
    }
    if (type == "assert-default-spec-id") {
        return expect_int("default-spec-id", state.default_spec_id);
    }
    if (type == "assert-default-sort-order-id") {
        return expect_int("default-sort-order-id", state.default_sort_order_id);
    }
    return bad_request("unknown requirement type `" + std::string(type) + "`");
}

// The schema as it is stored: the client's fields, under the schema id the table assigns.
Result<std::string> stored_schema(element schema, int64_t schema_id, int64_t* max_field_id) {
    simdjson::dom::array fields;
    if (!schema.is_object() || schema["fields"].get(fields) != simdjson::SUCCESS) {
        return bad_request("add-schema needs a `schema` object with `fields`");
    }
    for (element field : fields) {
        auto id = int_field(field, "id");
        if (!id) return bad_request("add-schema: every field needs an integer `id`");
        *max_field_id = std::max(*max_field_id, *id);
    }
    std::string out = "{\"type\": \"struct\", \"schema-id\": " + std::to_string(schema_id);
    element identifiers;
    if (schema["identifier-field-ids"].get(identifiers) == simdjson::SUCCESS) {
        out += ", \"identifier-field-ids\": " + minify(identifiers);
    }
    out += ", \"fields\": " + minify(schema["fields"].value_unsafe()) + "}";
    return out;
}

// Applies one update to `state`; `last_added` is the schema id of the latest add-schema.
Status apply_update(TableState& state, element update, std::optional<int64_t>& last_added) {
    MILLRACE_ASSIGN_OR_RETURN(std::string_view action,
                              required_string(update, "action", "an update"));
    if (action == "add-schema") {
        element schema;
        if (update["schema"].get(schema) != simdjson::SUCCESS) {
            return bad_request("add-schema needs a `schema`");
        }
        int64_t next_id = 0;
        for (const auto& [id, text] : state.schemas) next_id = std::max(next_id, id + 1);
        int64_t max_field_id = state.last_column_id;
        MILLRACE_ASSIGN_OR_RETURN(std::string text, stored_schema(schema, next_id, &max_field_id));
        state.last_column_id = std::max(
            {state.last_column_id, max_field_id, int_field(update, "last-column-id").value_or(0)});
        state.schemas.emplace_back(next_id, std::move(text));
        last_added = next_id;
        return Status();
    }
    if (action == "set-current-schema") {
        MILLRACE_ASSIGN_OR_RETURN(int64_t id,
                                  required_int(update, "schema-id", "set-current-schema"));
        if (id == -1) {
            if (!last_added) {
                return Error(ErrorCode::kInvalidArgument,
                             "set-current-schema -1 needs an add-schema before it");
            }
            id = *last_added;
        }
        const bool known = std::any_of(state.schemas.begin(), state.schemas.end(),
                                       [&](const auto& schema) { return schema.first == id; });
        if (!known) {
            return Error(ErrorCode::kInvalidArgument,
                         "set-current-schema: no schema with id " + std::to_string(id));
        }
        state.current_schema_id = id;
        return Status();
    }
    if (action == "set-properties") {
        simdjson::dom::object updates;
        if (update["updates"].get(updates) != simdjson::SUCCESS) {
            return bad_request("set-properties needs an `updates` object");
        }
        for (auto field : updates) {
            std::string_view value;
            if (field.value.get(value) != simdjson::SUCCESS) {
                return bad_request("set-properties: property `" + std::string(field.key) +
                                   "` must be a string");
            }
            state.properties[std::string(field.key)] = std::string(value);
        }
        return Status();
    }
    if (action == "remove-properties") {
        simdjson::dom::array removals;
        if (update["removals"].get(removals) != simdjson::SUCCESS) {
            return bad_request("remove-properties needs a `removals` array");
        }
        for (element key : removals) {
            std::string_view name;
            if (key.get(name) != simdjson::SUCCESS) {
                return bad_request("remove-properties: `removals` must hold strings");
            }
            state.properties.erase(std::string(name));
        }
        return Status();
    }
    if (action == "assign-uuid") {
        MILLRACE_ASSIGN_OR_RETURN(std::string_view uuid,
                                  required_string(update, "uuid", "assign-uuid"));
        if (uuid == state.table_uuid) return Status();
        return Error(ErrorCode::kUnsupported, "assign-uuid: a table's uuid never changes");
    }
    if (action == "upgrade-format-version") {
        MILLRACE_ASSIGN_OR_RETURN(int64_t version,
                                  required_int(update, "format-version", "upgrade-format-version"));
        if (version == 2) return Status();
        return Error(ErrorCode::kUnsupported,
                     "upgrade-format-version: lake tables are format version 2");
    }
    if (action == "set-location") {
        MILLRACE_ASSIGN_OR_RETURN(std::string_view location,
                                  required_string(update, "location", "set-location"));
        if (location == state.location) return Status();
        return Error(ErrorCode::kUnsupported,
                     "set-location: a lake table stays in its folder under the data directory");
    }
    return Error(ErrorCode::kUnsupported,
                 "update `" + std::string(action) +
                     "` is not supported by Millrace's catalog (snapshots, refs, partition specs "
                     "and sort orders change through Millrace's own writers)");
}

std::string properties_json(const std::map<std::string, std::string>& properties) {
    std::string out = "{";
    for (const auto& [key, value] : properties) {
        if (out.size() > 1) out += ", ";
        append_json_string(out, key);
        out += ": ";
        append_json_string(out, value);
    }
    return out + "}";
}

// The metadata with the changed keys replaced and every other key kept as it was, in order.
std::string render(element root, const TableState& state, const std::string& metadata_path,
                   int64_t now_ms) {
    std::string out = "{";
    bool first = true;
    auto key = [&](std::string_view name) {
        out += first ? "\n  " : ",\n  ";
        first = false;
        append_json_string(out, name);
        out += ": ";
    };
    simdjson::dom::object object = root.get_object().value_unsafe();
    for (auto field : object) {
        const std::string_view name = field.key;
        key(name);
        if (name == "current-schema-id") {
            out += std::to_string(state.current_schema_id);
        } else if (name == "last-column-id") {
            out += std::to_string(state.last_column_id);
        } else if (name == "last-updated-ms") {
            out += std::to_string(now_ms);
        } else if (name == "properties") {
            out += properties_json(state.properties);
        } else if (name == "schemas") {
            out += "[";
            for (std::size_t i = 0; i < state.schemas.size(); ++i) {
                out += (i > 0 ? ",\n    " : "\n    ") + state.schemas[i].second;
            }
            out += "]";
        } else if (name == "metadata-log") {
            std::string log = minify(field.value);
            log.pop_back();  // the closing ]
            if (log.size() > 1) log += ",";
            log += "{\"timestamp-ms\": " + std::to_string(state.last_updated_ms) +
                   ", \"metadata-file\": " + json_string(metadata_path) + "}]";
            out += log;
        } else {
            out += minify(field.value);
        }
    }
    if (object["metadata-log"].error() != simdjson::SUCCESS) {
        // Every writer of lake tables writes a metadata-log; one without it gets one.
        key("metadata-log");
        out += "[{\"timestamp-ms\": " + std::to_string(state.last_updated_ms) +
               ", \"metadata-file\": " + json_string(metadata_path) + "}]";
    }
    if (object["properties"].error() != simdjson::SUCCESS) {
        key("properties");
        out += properties_json(state.properties);
    }
    out += "\n}\n";
    return out;
}

std::optional<DataType> primitive_type(std::string_view name) {
    if (name == "boolean") return DataType::kBool;
    if (name == "int") return DataType::kInt32;
    if (name == "long") return DataType::kInt64;
    if (name == "double" || name == "float") return DataType::kFloat64;  // float: float_columns
    if (name == "string") return DataType::kString;
    if (name == "binary") return DataType::kBytes;
    if (name == "timestamptz" || name == "timestamp") return DataType::kTimestamp;
    if (name == "date") return DataType::kDate;
    return std::nullopt;
}

// The partition_by item of one PartitionField of a CreateTableRequest.
Result<std::string> partition_item(const std::map<int64_t, std::string>& columns, element field) {
    auto source = int_field(field, "source-id");
    std::string_view transform;
    if (!source || field["transform"].get(transform) != simdjson::SUCCESS) {
        return bad_request("a partition field needs `source-id` and `transform`");
    }
    auto column = columns.find(*source);
    if (column == columns.end()) {
        return Error(ErrorCode::kInvalidArgument,
                     "partition field source-id " + std::to_string(*source) + " is not a column");
    }
    std::string item;
    if (transform == "identity") {
        item = column->second;
    } else if (transform == "day") {
        item = "date(" + column->second + ")";
    } else if (transform == "hour" || transform == "month" || transform == "year") {
        item = std::string(transform) + "(" + column->second + ")";
    } else if ((transform.rfind("bucket[", 0) == 0 || transform.rfind("truncate[", 0) == 0) &&
               transform.back() == ']') {
        const std::size_t open = transform.find('[');
        const std::string width(transform.substr(open + 1, transform.size() - open - 2));
        if (width.empty() || width.find_first_not_of("0123456789") != std::string::npos) {
            return Error(ErrorCode::kInvalidArgument,
                         "bad partition transform `" + std::string(transform) + "`");
        }
        item = (transform.front() == 'b' ? "bucket(" : "truncate(") + width + ", " +
               column->second + ")";
    } else {
        return Error(ErrorCode::kUnsupported,
                     "partition transform `" + std::string(transform) + "` is not supported");
    }
    std::string_view name;
    if (field["name"].get(name) == simdjson::SUCCESS && !name.empty()) {
        item += " as " + std::string(name);
    }
    return item;
}

}  // namespace

Result<TableCommitResult> apply_table_commit(std::string_view metadata_json,
                                             std::string_view request_json,
                                             const std::string& metadata_path, int64_t now_ms) {
    simdjson::dom::parser request_parser;
    simdjson::padded_string request_text(request_json);
    element request;
    if (request_parser.parse(request_text).get(request) != simdjson::SUCCESS ||
        !request.is_object()) {
        return bad_request("the body is not a JSON object (a CommitTableRequest)");
    }
    simdjson::dom::parser metadata_parser;
    simdjson::padded_string metadata_text(metadata_json);
    element root;
    if (metadata_parser.parse(metadata_text).get(root) != simdjson::SUCCESS || !root.is_object()) {
        return Error(ErrorCode::kCorruption, metadata_path + ": not a JSON table metadata file");
    }
    MILLRACE_ASSIGN_OR_RETURN(TableState state, read_state(root));
    const TableState before = state;

    element list;
    simdjson::dom::array items;
    if (request["requirements"].get(list) == simdjson::SUCCESS && !list.is_null()) {
        if (list.get(items) != simdjson::SUCCESS) {
            return bad_request("`requirements` must be an array");
        }
        for (element requirement : items) {
            MILLRACE_TRY(check_requirement(state, requirement));
        }
    }
    std::optional<int64_t> last_added;
    if (request["updates"].get(list) == simdjson::SUCCESS && !list.is_null()) {
        if (list.get(items) != simdjson::SUCCESS) return bad_request("`updates` must be an array");
        for (element update : items) {
            MILLRACE_TRY(apply_update(state, update, last_added));
        }
    }
    TableCommitResult result;
    result.changed = state.current_schema_id != before.current_schema_id ||
                     state.schemas != before.schemas || state.properties != before.properties ||
                     state.last_column_id != before.last_column_id;
    if (!result.changed) {
        result.metadata_json = std::string(metadata_json);
        return result;
    }
    result.metadata_json = render(root, state, metadata_path, now_ms);
    // Millrace must still read the table it commits: a schema with a type or field numbering
    // it cannot read is refused here rather than left for every later read to trip over.
    auto readable = TableMetadata::parse(result.metadata_json, metadata_path);
    if (!readable.ok()) {
        std::string why = readable.error().message();
        const std::string prefix = metadata_path + ": ";
        if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
        return Error(ErrorCode::kInvalidArgument,
                     "the change would leave a table Millrace cannot read: " + why);
    }
    // Schema evolution is by field id: a column that keeps its id keeps its type (or widens it),
    // and a new column takes an id no column ever had, so older data files never read as
    // another column's values.
    auto previous = TableMetadata::parse(metadata_json, metadata_path);
    if (previous.ok() && readable->schema_id != previous->schema_id) {
        const std::vector<int32_t> old_ids = previous->column_ids();
        const std::vector<int32_t> new_ids = readable->column_ids();
        for (std::size_t i = 0; i < new_ids.size(); ++i) {
            const Field& field = readable->schema.field(i);
            auto it = std::find(old_ids.begin(), old_ids.end(), new_ids[i]);
            if (it == old_ids.end()) {
                if (new_ids[i] <= previous->last_column_id) {
                    return Error(ErrorCode::kInvalidArgument,
                                 "column `" + field.name + "` reuses field id " +
                                     std::to_string(new_ids[i]) +
                                     ", which the table assigned before (a new column needs an "
                                     "id above last-column-id " +
                                     std::to_string(previous->last_column_id) + ")");
                }
                continue;
            }
            const DataType was =
                previous->schema.field(static_cast<std::size_t>(it - old_ids.begin())).type;
            // float and double are both kFloat64: float_ids tells them apart.
            const bool was_float = is_float_id(previous->float_ids, new_ids[i]);
            const bool now_float = is_float_id(readable->float_ids, new_ids[i]);
            if ((was != field.type &&
                 !(was == DataType::kInt32 && field.type == DataType::kInt64)) ||
                (now_float && !was_float)) {
                return Error(ErrorCode::kInvalidArgument,
                             "column `" + field.name + "` (field id " + std::to_string(new_ids[i]) +
                                 ") changes type from " +
                                 std::string(iceberg_type_name(was, was_float)) + " to " +
                                 std::string(iceberg_type_name(field.type, now_float)) +
                                 ": only int to long and float to double widen");
            }
        }
    }
    return result;
}

Result<CreateTableRequest> parse_create_table_request(std::string_view body) {
    simdjson::dom::parser parser;
    simdjson::padded_string text(body);
    element root;
    if (parser.parse(text).get(root) != simdjson::SUCCESS || !root.is_object()) {
        return bad_request("the body is not a JSON object (a CreateTableRequest)");
    }
    CreateTableRequest out;
    MILLRACE_ASSIGN_OR_RETURN(std::string_view name,
                              required_string(root, "name", "a CreateTableRequest"));
    if (name.empty()) return bad_request("a CreateTableRequest needs a non-empty `name`");
    out.name = std::string(name);
    element schema;
    simdjson::dom::array fields;
    if (root["schema"].get(schema) != simdjson::SUCCESS ||
        schema["fields"].get(fields) != simdjson::SUCCESS) {
        return bad_request("a CreateTableRequest needs a `schema` with `fields`");
    }
    std::vector<Field> columns;
    std::map<int64_t, std::string> by_id;
    for (element field : fields) {
        std::string_view column, type;
        bool required = false;
        if (field["name"].get(column) != simdjson::SUCCESS) {
            return bad_request("every schema field needs a `name`");
        }
        if (field["type"].get(type) != simdjson::SUCCESS) {
            return Error(ErrorCode::kUnsupported,
                         "column `" + std::string(column) + "`: nested types are not supported");
        }
        auto data_type = primitive_type(type);
        if (!data_type) {
            return Error(ErrorCode::kUnsupported, "column `" + std::string(column) + "`: type `" +
                                                      std::string(type) + "` is not supported");
        }
        if (field["required"].get(required) != simdjson::SUCCESS) required = false;
        if (auto id = int_field(field, "id")) by_id[*id] = std::string(column);
        if (type == "float") out.float_columns.push_back(std::string(column));
        columns.push_back(Field{std::string(column), *data_type, !required});
    }
    auto made = Schema::make(std::move(columns));
    if (!made.ok()) return Error(ErrorCode::kInvalidArgument, made.error().message());
    out.schema = std::move(made).value();
    element spec;
    simdjson::dom::array spec_fields;
    if (root["partition-spec"].get(spec) == simdjson::SUCCESS && !spec.is_null()) {
        if (spec["fields"].get(spec_fields) != simdjson::SUCCESS) {
            return bad_request("`partition-spec` needs `fields`");
        }
        for (element field : spec_fields) {
            MILLRACE_ASSIGN_OR_RETURN(std::string item, partition_item(by_id, field));
            out.partition_by.push_back(std::move(item));
        }
    }
    element order;
    simdjson::dom::array order_fields;
    if (root["write-order"].get(order) == simdjson::SUCCESS && !order.is_null() &&
        order["fields"].get(order_fields) == simdjson::SUCCESS && order_fields.size() > 0) {
        return Error(ErrorCode::kUnsupported,
                     "lake tables are unsorted (`write-order` has fields)");
    }
    simdjson::dom::object properties;
    if (root["properties"].get(properties) == simdjson::SUCCESS) {
        for (auto field : properties) {
            std::string_view value;
            if (field.value.get(value) != simdjson::SUCCESS) {
                return bad_request("property `" + std::string(field.key) + "` must be a string");
            }
            out.properties[std::string(field.key)] = std::string(value);
        }
    }
    std::string_view location;
    if (root["location"].get(location) == simdjson::SUCCESS) out.location = std::string(location);
    if (root["stage-create"].get(out.stage_create) != simdjson::SUCCESS) out.stage_create = false;
    return out;
}

}  // namespace millrace
