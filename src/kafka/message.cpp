#include "kafka/message.h"

#include "common/check.h"

namespace millrace::kafka {

namespace {

// Arrays of structs nest only a few levels in Kafka's schemas; a deeper nesting can only come
// from a schema bug, never from input, but the bound keeps the recursion finite regardless.
constexpr int kMaxDepth = 8;

bool is_string_like(FieldType type) {
    return type == FieldType::kString || type == FieldType::kBytes || type == FieldType::kRecords;
}

}  // namespace

Struct::Struct(const Schema& schema) : schema_(&schema), values_(schema.size()) {
    for (std::size_t i = 0; i < schema.size(); ++i) {
        const Field& field = schema[i];
        values_[i].number = field.default_value;
        // Nullable strings and arrays that a version lacks read as null (their JSON default).
        if (field.nullable.min != kNoVersion && (is_string_like(field.type))) {
            values_[i].null = true;
        }
    }
}

std::size_t Struct::index(std::string_view name) const {
    for (std::size_t i = 0; i < schema_->size(); ++i) {
        if ((*schema_)[i].name == name) return i;
    }
    MILLRACE_CHECK(false, "no field " + std::string(name) + " in this Kafka schema");
    return 0;
}

int64_t Struct::integer(std::string_view name) const { return values_[index(name)].number; }
const std::string& Struct::string(std::string_view name) const { return values_[index(name)].text; }
bool Struct::is_null(std::string_view name) const { return values_[index(name)].null; }
const std::vector<Struct>& Struct::array(std::string_view name) const {
    return values_[index(name)].items;
}
std::vector<Struct>& Struct::array(std::string_view name) { return values_[index(name)].items; }
const std::vector<int64_t>& Struct::integers(std::string_view name) const {
    return values_[index(name)].numbers;
}
const std::vector<std::string>& Struct::strings(std::string_view name) const {
    return values_[index(name)].texts;
}

Struct& Struct::set(std::string_view name, int64_t value) {
    Value& slot = values_[index(name)];
    slot.number = value;
    slot.null = false;
    return *this;
}
Struct& Struct::set(std::string_view name, std::string value) {
    Value& slot = values_[index(name)];
    slot.text = std::move(value);
    slot.null = false;
    return *this;
}
Struct& Struct::set_null(std::string_view name) {
    values_[index(name)].null = true;
    return *this;
}
Struct& Struct::set(std::string_view name, std::vector<int64_t> values) {
    Value& slot = values_[index(name)];
    slot.numbers = std::move(values);
    slot.null = false;
    return *this;
}
Struct& Struct::set(std::string_view name, std::vector<std::string> values) {
    Value& slot = values_[index(name)];
    slot.texts = std::move(values);
    slot.null = false;
    return *this;
}
Struct& Struct::add(std::string_view name) {
    const std::size_t at = index(name);
    MILLRACE_CHECK((*schema_)[at].type == FieldType::kStructArray, std::string(name));
    values_[at].null = false;
    return values_[at].items.emplace_back((*schema_)[at].fields);
}

Result<Struct> MessageCodec::decode(const Schema& schema, int16_t version, bool flexible,
                                    WireReader& reader) {
    Struct out(schema);
    decode_fields(schema, version, flexible, reader, out, 0);
    if (!reader.ok()) {
        return Error(
            ErrorCode::kInvalidArgument,
            "truncated or malformed Kafka message body (version " + std::to_string(version) + ")");
    }
    return out;
}

void MessageCodec::decode_fields(const Schema& schema, int16_t version, bool flexible,
                                 WireReader& reader, Struct& out, int depth) {
    if (depth > kMaxDepth) {
        reader.fail();
        return;
    }
    for (std::size_t i = 0; i < schema.size() && reader.ok(); ++i) {
        const Field& field = schema[i];
        if (!field.versions.contains(version)) continue;
        Struct::Value& value = out.values_[i];
        value.null = false;
        switch (field.type) {
            case FieldType::kBool:
                value.number = reader.int8() != 0;
                break;
            case FieldType::kInt8:
                value.number = reader.int8();
                break;
            case FieldType::kInt16:
                value.number = reader.int16();
                break;
            case FieldType::kInt32:
                value.number = reader.int32();
                break;
            case FieldType::kInt64:
                value.number = reader.int64();
                break;
            case FieldType::kFloat64:
                value.real = reader.float64();
                break;
            case FieldType::kUuid:
                value.text = std::string(reader.take(16));
                break;
            case FieldType::kString: {
                auto text = reader.string(flexible);
                value.null = !text.has_value();
                if (text) value.text = std::string(*text);
                break;
            }
            case FieldType::kBytes:
            case FieldType::kRecords: {
                auto bytes = reader.bytes(flexible);
                value.null = !bytes.has_value();
                if (bytes) value.text = std::string(*bytes);
                break;
            }
            case FieldType::kStructArray: {
                auto count = reader.array_length(flexible);
                value.null = !count.has_value();
                for (std::size_t n = 0; count && n < *count && reader.ok(); ++n) {
                    Struct& item = value.items.emplace_back(field.fields);
                    decode_fields(field.fields, version, flexible, reader, item, depth + 1);
                }
                break;
            }
            case FieldType::kInt32Array: {
                auto count = reader.array_length(flexible);
                value.null = !count.has_value();
                for (std::size_t n = 0; count && n < *count && reader.ok(); ++n)
                    value.numbers.push_back(reader.int32());
                break;
            }
            case FieldType::kStringArray: {
                auto count = reader.array_length(flexible);
                value.null = !count.has_value();
                for (std::size_t n = 0; count && n < *count && reader.ok(); ++n) {
                    auto text = reader.string(flexible);
                    value.texts.emplace_back(text.value_or(std::string_view()));
                }
                break;
            }
        }
        if (value.null && !field.nullable.contains(version)) reader.fail();
    }
    if (flexible) reader.skip_tagged_fields();
}

void MessageCodec::encode(const Struct& message, int16_t version, bool flexible,
                          WireWriter& writer) {
    encode_fields(message, version, flexible, writer);
}

void MessageCodec::encode_fields(const Struct& message, int16_t version, bool flexible,
                                 WireWriter& writer) {
    const Schema& schema = *message.schema_;
    for (std::size_t i = 0; i < schema.size(); ++i) {
        const Field& field = schema[i];
        if (!field.versions.contains(version)) continue;
        const Struct::Value& value = message.values_[i];
        // A null where the version cannot say null is sent as empty.
        const bool null = value.null && field.nullable.contains(version);
        switch (field.type) {
            case FieldType::kBool:
            case FieldType::kInt8:
                writer.int8(static_cast<int8_t>(value.number));
                break;
            case FieldType::kInt16:
                writer.int16(static_cast<int16_t>(value.number));
                break;
            case FieldType::kInt32:
                writer.int32(static_cast<int32_t>(value.number));
                break;
            case FieldType::kInt64:
                writer.int64(value.number);
                break;
            case FieldType::kFloat64:
                writer.float64(value.real);
                break;
            case FieldType::kUuid: {
                std::string uuid = value.text;
                uuid.resize(16, '\0');
                writer.raw(uuid);
                break;
            }
            case FieldType::kString:
                writer.string(null ? std::nullopt : std::optional<std::string_view>(value.text),
                              flexible);
                break;
            case FieldType::kBytes:
            case FieldType::kRecords:
                writer.bytes(null ? std::nullopt : std::optional<std::string_view>(value.text),
                             flexible);
                break;
            case FieldType::kStructArray:
                writer.array_length(null ? std::nullopt : std::optional(value.items.size()),
                                    flexible);
                if (!null) {
                    for (const Struct& item : value.items)
                        encode_fields(item, version, flexible, writer);
                }
                break;
            case FieldType::kInt32Array:
                writer.array_length(null ? std::nullopt : std::optional(value.numbers.size()),
                                    flexible);
                if (!null) {
                    for (int64_t number : value.numbers) writer.int32(static_cast<int32_t>(number));
                }
                break;
            case FieldType::kStringArray:
                writer.array_length(null ? std::nullopt : std::optional(value.texts.size()),
                                    flexible);
                if (!null) {
                    for (const std::string& text : value.texts) writer.string(text, flexible);
                }
                break;
        }
    }
    if (flexible) writer.empty_tagged_fields();
}

}  // namespace millrace::kafka
