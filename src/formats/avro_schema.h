#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace millrace {

/// The Avro types (Avro 1.11 specification, "Schema Declaration").
enum class AvroType {
    kNull,
    kBoolean,
    kInt,
    kLong,
    kFloat,
    kDouble,
    kBytes,
    kString,
    kRecord,
    kEnum,
    kArray,
    kMap,
    kUnion,
    kFixed,
};

std::string_view avro_type_name(AvroType type);

/// One node of a parsed Avro schema. Nodes are owned by their AvroSchema; children are plain
/// pointers into it, so a named type referenced twice (or recursively) is one node.
struct AvroNode {
    struct FieldDef {
        std::string name;
        const AvroNode* type = nullptr;
        /// Iceberg's "field-id" attribute, when present.
        std::optional<int32_t> field_id;
        /// Whether the field declares a "default" (schema resolution fills it in for a reader
        /// whose writer lacks the field).
        bool has_default = false;
    };
    AvroType type = AvroType::kNull;
    std::string name;                       // full name of a record, enum or fixed
    std::string logical_type;               // "date", "timestamp-micros", "map", ... ("" when none)
    std::vector<FieldDef> fields;           // record
    std::vector<std::string> symbols;       // enum
    const AvroNode* items = nullptr;        // array
    const AvroNode* values = nullptr;       // map
    std::vector<const AvroNode*> branches;  // union
    std::size_t fixed_size = 0;             // fixed

    /// Index of a record field by name.
    std::optional<std::size_t> field_index(std::string_view field) const;
};

/// A parsed Avro schema (the JSON form of the specification), e.g. the writer schema stored in
/// an object container file's `avro.schema` metadata. Immutable after parse; safe to share.
/// Named types may be referenced by name after their definition; nesting is bounded so that a
/// hostile schema cannot exhaust the stack.
class AvroSchema {
public:
    /// Parses schema JSON; `source` names it in errors (kParse).
    static Result<std::shared_ptr<const AvroSchema>> parse(std::string_view json,
                                                           const std::string& source = "schema");

    const AvroNode& root() const { return *root_; }
    /// The JSON the schema was parsed from (written back verbatim into files).
    const std::string& json() const { return json_; }

    AvroSchema() = default;
    AvroSchema(const AvroSchema&) = delete;
    AvroSchema& operator=(const AvroSchema&) = delete;

private:
    friend class AvroSchemaParser;
    std::vector<std::unique_ptr<AvroNode>> nodes_;
    const AvroNode* root_ = nullptr;
    std::string json_;
};

/// A decoded (or to-be-encoded) Avro datum. The kind says which member is meaningful:
///
///   kind      member        Avro types
///   kNull     -             null
///   kBool     boolean       boolean
///   kLong     integer       int, long (and enum: the symbol index)
///   kDouble   real          float, double
///   kBytes    bytes         bytes, string, fixed
///   kRecord   items         record (fields in schema order)
///   kArray    items         array
///   kMap      keys, items   map
///
/// A union value is the value of one of its branches; `branch` says which (the decoder sets it;
/// the encoder picks the first branch matching the kind when it is unset).
struct AvroValue {
    enum class Kind { kNull, kBool, kLong, kDouble, kBytes, kRecord, kArray, kMap };
    Kind kind = Kind::kNull;
    bool boolean = false;
    int64_t integer = 0;
    double real = 0;
    std::string bytes;
    std::vector<AvroValue> items;
    // kMap: the keys, in order; `items` holds their values. (Not a vector of pairs: a pair
    // cannot hold the still-incomplete AvroValue.)
    std::vector<std::string> keys;
    std::optional<std::size_t> branch;

    static AvroValue null() { return {}; }
    static AvroValue of_bool(bool v);
    static AvroValue of_long(int64_t v);
    static AvroValue of_double(double v);
    static AvroValue of_bytes(std::string v);
    static AvroValue record(std::vector<AvroValue> fields);
    static AvroValue array(std::vector<AvroValue> items);

    bool is_null() const { return kind == Kind::kNull; }
    /// The field of a record value by the record schema's field name, or nullptr.
    const AvroValue* field(const AvroNode& schema, std::string_view name) const;
};

}  // namespace millrace
