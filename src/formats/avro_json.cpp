#include "formats/avro_json.h"

#include <charconv>
#include <cmath>

#include "common/json_string.h"

namespace millrace {

void avro_to_json(const AvroNode& node, const AvroValue& value, std::string& out) {
    using enum AvroType;
    switch (node.type) {
        case kUnion: {
            const std::size_t branch = value.branch.value_or(0);
            if (branch >= node.branches.size()) {
                out += "null";
                return;
            }
            avro_to_json(*node.branches[branch], value, out);
            return;
        }
        case kNull:
            out += "null";
            return;
        case kBoolean:
            out += value.boolean ? "true" : "false";
            return;
        case kInt:
        case kLong:
            out += std::to_string(value.integer);
            return;
        case kFloat:
        case kDouble:
            if (!std::isfinite(value.real)) {
                out += "null";
            } else {
                char text[32];
                const auto written = std::to_chars(text, text + sizeof(text), value.real);
                out.append(text, written.ptr);
            }
            return;
        case kBytes:
        case kString:
        case kFixed:
            append_json_string(out, value.bytes);
            return;
        case kEnum:
            if (value.integer >= 0 &&
                static_cast<std::size_t>(value.integer) < node.symbols.size()) {
                append_json_string(out, node.symbols[static_cast<std::size_t>(value.integer)]);
            } else {
                out += "null";
            }
            return;
        case kRecord:
            out += '{';
            for (std::size_t i = 0; i < node.fields.size() && i < value.items.size(); ++i) {
                if (i > 0) out += ',';
                append_json_string(out, node.fields[i].name);
                out += ':';
                avro_to_json(*node.fields[i].type, value.items[i], out);
            }
            out += '}';
            return;
        case kArray:
            out += '[';
            for (std::size_t i = 0; i < value.items.size(); ++i) {
                if (i > 0) out += ',';
                avro_to_json(*node.items, value.items[i], out);
            }
            out += ']';
            return;
        case kMap:
            out += '{';
            for (std::size_t i = 0; i < value.items.size() && i < value.keys.size(); ++i) {
                if (i > 0) out += ',';
                append_json_string(out, value.keys[i]);
                out += ':';
                avro_to_json(*node.values, value.items[i], out);
            }
            out += '}';
            return;
    }
}

}  // namespace millrace
