#include "formats/avro_compatibility.h"

#include <map>
#include <utility>

namespace millrace {

namespace {

std::string_view unqualified(const std::string& name) {
    const std::size_t dot = name.rfind('.');
    return dot == std::string::npos ? std::string_view(name)
                                    : std::string_view(name).substr(dot + 1);
}

bool promotes(AvroType writer, AvroType reader) {
    using enum AvroType;
    switch (writer) {
        case kInt:
            return reader == kLong || reader == kFloat || reader == kDouble;
        case kLong:
            return reader == kFloat || reader == kDouble;
        case kFloat:
            return reader == kDouble;
        case kString:
            return reader == kBytes;
        case kBytes:
            return reader == kString;
        default:
            return false;
    }
}

class Checker {
public:
    std::optional<std::string> check(const AvroNode& reader, const AvroNode& writer) {
        // Each pair once: a named type referenced many times is not checked again (no
        // exponential walk), and a pair still under check (a recursive type) is assumed to
        // resolve.
        const std::pair<const AvroNode*, const AvroNode*> key{&reader, &writer};
        if (auto found = done_.find(key); found != done_.end()) return found->second;
        done_[key] = std::nullopt;
        std::optional<std::string> result = check_node(reader, writer);
        done_[key] = result;
        return result;
    }

private:
    std::optional<std::string> check_node(const AvroNode& reader, const AvroNode& writer) {
        using enum AvroType;
        if (writer.type == kUnion) {
            for (const AvroNode* branch : writer.branches) {
                if (auto why = check(reader, *branch)) return "union branch: " + *why;
            }
            return std::nullopt;
        }
        if (reader.type == kUnion) {
            for (const AvroNode* branch : reader.branches) {
                if (!check(*branch, writer)) return std::nullopt;
            }
            return std::string(avro_type_name(writer.type)) + " matches no branch of the union";
        }
        if (reader.type != writer.type) {
            if (promotes(writer.type, reader.type)) return std::nullopt;
            return std::string(avro_type_name(writer.type)) + " cannot be read as " +
                   std::string(avro_type_name(reader.type));
        }
        switch (reader.type) {
            case kRecord:
                return check_record(reader, writer);
            case kEnum: {
                if (unqualified(reader.name) != unqualified(writer.name))
                    return "enum `" + writer.name + "` cannot be read as `" + reader.name + "`";
                for (const std::string& symbol : writer.symbols) {
                    bool known = false;
                    for (const std::string& r : reader.symbols) known = known || r == symbol;
                    if (!known) return "enum symbol `" + symbol + "` is unknown to the reader";
                }
                return std::nullopt;
            }
            case kArray:
                if (auto why = check(*reader.items, *writer.items)) return "array items: " + *why;
                return std::nullopt;
            case kMap:
                if (auto why = check(*reader.values, *writer.values)) return "map values: " + *why;
                return std::nullopt;
            case kFixed:
                if (unqualified(reader.name) != unqualified(writer.name) ||
                    reader.fixed_size != writer.fixed_size) {
                    return "fixed `" + writer.name + "` cannot be read as `" + reader.name + "`";
                }
                return std::nullopt;
            default:
                return std::nullopt;
        }
    }

    std::optional<std::string> check_record(const AvroNode& reader, const AvroNode& writer) {
        if (unqualified(reader.name) != unqualified(writer.name))
            return "record `" + writer.name + "` cannot be read as `" + reader.name + "`";
        for (const AvroNode::FieldDef& field : reader.fields) {
            const std::optional<std::size_t> index = writer.field_index(field.name);
            if (!index) {
                if (field.has_default) continue;
                return "field `" + field.name + "` is missing from the writer and has no default";
            }
            if (auto why = check(*field.type, *writer.fields[*index].type))
                return "field `" + field.name + "`: " + *why;
        }
        return std::nullopt;  // writer fields the reader lacks are skipped
    }

    std::map<std::pair<const AvroNode*, const AvroNode*>, std::optional<std::string>> done_;
};

}  // namespace

std::optional<std::string> avro_incompatibility(const AvroNode& reader, const AvroNode& writer) {
    return Checker().check(reader, writer);
}

}  // namespace millrace
