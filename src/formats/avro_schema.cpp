#include "formats/avro_schema.h"

#include <simdjson.h>

namespace millrace {

namespace {

// Deeper schemas are refused: parsing recurses once per level.
constexpr int kMaxDepth = 64;

std::optional<AvroType> primitive_type(std::string_view name) {
    if (name == "null") return AvroType::kNull;
    if (name == "boolean") return AvroType::kBoolean;
    if (name == "int") return AvroType::kInt;
    if (name == "long") return AvroType::kLong;
    if (name == "float") return AvroType::kFloat;
    if (name == "double") return AvroType::kDouble;
    if (name == "bytes") return AvroType::kBytes;
    if (name == "string") return AvroType::kString;
    return std::nullopt;
}

}  // namespace

std::string_view avro_type_name(AvroType type) {
    switch (type) {
        case AvroType::kNull:
            return "null";
        case AvroType::kBoolean:
            return "boolean";
        case AvroType::kInt:
            return "int";
        case AvroType::kLong:
            return "long";
        case AvroType::kFloat:
            return "float";
        case AvroType::kDouble:
            return "double";
        case AvroType::kBytes:
            return "bytes";
        case AvroType::kString:
            return "string";
        case AvroType::kRecord:
            return "record";
        case AvroType::kEnum:
            return "enum";
        case AvroType::kArray:
            return "array";
        case AvroType::kMap:
            return "map";
        case AvroType::kUnion:
            return "union";
        case AvroType::kFixed:
            return "fixed";
    }
    return "?";
}

std::optional<std::size_t> AvroNode::field_index(std::string_view field) const {
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].name == field) return i;
    }
    return std::nullopt;
}

/// Builds the nodes of one AvroSchema from its JSON DOM.
class AvroSchemaParser {
public:
    AvroSchemaParser(AvroSchema& schema, const std::string& source)
        : schema_(schema), source_(source) {}

    Result<const AvroNode*> parse(simdjson::dom::element element, const std::string& space,
                                  int depth) {
        if (depth > kMaxDepth) return error("nested too deeply");
        std::string_view text;
        if (element.get(text) == simdjson::SUCCESS) {
            if (auto primitive = primitive_type(text)) return add(*primitive);
            auto named = named_.find(full_name(std::string(text), space));
            if (named == named_.end()) named = named_.find(std::string(text));
            if (named == named_.end()) return error("unknown type `" + std::string(text) + "`");
            return named->second;
        }
        simdjson::dom::array array;
        if (element.get(array) == simdjson::SUCCESS) {
            AvroNode* node = add(AvroType::kUnion);
            for (auto branch : array) {
                MILLRACE_ASSIGN_OR_RETURN(const AvroNode* child, parse(branch, space, depth + 1));
                node->branches.push_back(child);
            }
            if (node->branches.empty()) return error("empty union");
            return static_cast<const AvroNode*>(node);
        }
        simdjson::dom::object object;
        if (element.get(object) != simdjson::SUCCESS)
            return error("a type must be a name, list or object");
        if (object["type"].get(text) != simdjson::SUCCESS) {
            // {"type": {...}} wraps another type.
            simdjson::dom::element inner;
            if (object["type"].get(inner) != simdjson::SUCCESS)
                return error("a type without `type`");
            return parse(inner, space, depth + 1);
        }
        std::string_view logical;
        const std::string logical_type =
            object["logicalType"].get(logical) == simdjson::SUCCESS ? std::string(logical) : "";
        if (auto primitive = primitive_type(text)) {
            AvroNode* node = add(*primitive);
            node->logical_type = logical_type;
            return static_cast<const AvroNode*>(node);
        }
        if (text == "array") {
            AvroNode* node = add(AvroType::kArray);
            node->logical_type = logical_type;
            simdjson::dom::element items;
            if (object["items"].get(items) != simdjson::SUCCESS)
                return error("array without items");
            MILLRACE_ASSIGN_OR_RETURN(node->items, parse(items, space, depth + 1));
            return static_cast<const AvroNode*>(node);
        }
        if (text == "map") {
            AvroNode* node = add(AvroType::kMap);
            simdjson::dom::element values;
            if (object["values"].get(values) != simdjson::SUCCESS)
                return error("map without values");
            MILLRACE_ASSIGN_OR_RETURN(node->values, parse(values, space, depth + 1));
            return static_cast<const AvroNode*>(node);
        }
        AvroType type;
        if (text == "record" || text == "error") {
            type = AvroType::kRecord;
        } else if (text == "enum") {
            type = AvroType::kEnum;
        } else if (text == "fixed") {
            type = AvroType::kFixed;
        } else {
            return error("unknown type `" + std::string(text) + "`");
        }
        std::string_view name;
        if (object["name"].get(name) != simdjson::SUCCESS || name.empty()) {
            return error(std::string(avro_type_name(type)) + " without a name");
        }
        std::string_view name_space;
        std::string inner_space = space;
        if (object["namespace"].get(name_space) == simdjson::SUCCESS) {
            inner_space = std::string(name_space);
        }
        AvroNode* node = add(type);
        node->logical_type = logical_type;
        node->name = full_name(std::string(name), inner_space);
        if (const std::size_t dot = node->name.rfind('.'); dot != std::string::npos) {
            inner_space = node->name.substr(0, dot);
        }
        if (!named_.emplace(node->name, node).second) {
            return error("type `" + node->name + "` defined twice");
        }
        if (type == AvroType::kFixed) {
            uint64_t size = 0;
            if (object["size"].get(size) != simdjson::SUCCESS || size > (1u << 20)) {
                return error("fixed `" + node->name + "` without a valid size");
            }
            node->fixed_size = size;
        } else if (type == AvroType::kEnum) {
            simdjson::dom::array symbols;
            if (object["symbols"].get(symbols) != simdjson::SUCCESS)
                return error("enum without symbols");
            for (auto symbol : symbols) {
                std::string_view s;
                if (symbol.get(s) != simdjson::SUCCESS) return error("enum symbol not a string");
                node->symbols.emplace_back(s);
            }
        } else {
            simdjson::dom::array fields;
            if (object["fields"].get(fields) != simdjson::SUCCESS)
                return error("record without fields");
            for (auto field : fields) {
                simdjson::dom::object f;
                std::string_view field_name;
                simdjson::dom::element field_type;
                if (field.get(f) != simdjson::SUCCESS ||
                    f["name"].get(field_name) != simdjson::SUCCESS ||
                    f["type"].get(field_type) != simdjson::SUCCESS) {
                    return error("bad field in record `" + node->name + "`");
                }
                // Field names are unique within a record (Avro specification): resolution,
                // defaults and lookups by name all depend on it.
                if (node->field_index(field_name)) {
                    return error("duplicate field `" + std::string(field_name) + "` in record `" +
                                 node->name + "`");
                }
                AvroNode::FieldDef def;
                def.name = std::string(field_name);
                MILLRACE_ASSIGN_OR_RETURN(def.type, parse(field_type, inner_space, depth + 1));
                int64_t id = 0;
                if (f["field-id"].get(id) == simdjson::SUCCESS)
                    def.field_id = static_cast<int32_t>(id);
                def.has_default = f["default"].error() == simdjson::SUCCESS;
                node->fields.push_back(std::move(def));
            }
        }
        return static_cast<const AvroNode*>(node);
    }

private:
    static std::string full_name(const std::string& name, const std::string& space) {
        if (name.find('.') != std::string::npos || space.empty()) return name;
        return space + "." + name;
    }
    AvroNode* add(AvroType type) {
        schema_.nodes_.push_back(std::make_unique<AvroNode>());
        schema_.nodes_.back()->type = type;
        return schema_.nodes_.back().get();
    }
    Error error(const std::string& what) const {
        return Error(ErrorCode::kParse, source_ + ": Avro schema: " + what);
    }

    AvroSchema& schema_;
    const std::string& source_;
    std::map<std::string, const AvroNode*> named_;
};

Result<std::shared_ptr<const AvroSchema>> AvroSchema::parse(std::string_view json,
                                                            const std::string& source) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS) {
        return Error(ErrorCode::kParse, source + ": Avro schema is not JSON");
    }
    auto schema = std::make_shared<AvroSchema>();
    schema->json_ = std::string(json);
    AvroSchemaParser builder(*schema, source);
    MILLRACE_ASSIGN_OR_RETURN(schema->root_, builder.parse(root, "", 0));
    return std::shared_ptr<const AvroSchema>(std::move(schema));
}

AvroValue AvroValue::of_bool(bool v) {
    AvroValue value;
    value.kind = Kind::kBool;
    value.boolean = v;
    return value;
}

AvroValue AvroValue::of_long(int64_t v) {
    AvroValue value;
    value.kind = Kind::kLong;
    value.integer = v;
    return value;
}

AvroValue AvroValue::of_double(double v) {
    AvroValue value;
    value.kind = Kind::kDouble;
    value.real = v;
    return value;
}

AvroValue AvroValue::of_bytes(std::string v) {
    AvroValue value;
    value.kind = Kind::kBytes;
    value.bytes = std::move(v);
    return value;
}

AvroValue AvroValue::record(std::vector<AvroValue> fields) {
    AvroValue value;
    value.kind = Kind::kRecord;
    value.items = std::move(fields);
    return value;
}

AvroValue AvroValue::array(std::vector<AvroValue> items) {
    AvroValue value;
    value.kind = Kind::kArray;
    value.items = std::move(items);
    return value;
}

const AvroValue* AvroValue::field(const AvroNode& schema, std::string_view name) const {
    if (kind != Kind::kRecord) return nullptr;
    auto index = schema.field_index(name);
    if (!index || *index >= items.size()) return nullptr;
    return &items[*index];
}

}  // namespace millrace
