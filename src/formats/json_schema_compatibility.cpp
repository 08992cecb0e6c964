#include "formats/json_schema_compatibility.h"

#include <re2/re2.h>
#include <simdjson.h>

#include <cmath>
#include <optional>
#include <set>
#include <string_view>

namespace millrace {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

/// A subschema, nullopt standing for one that allows anything (an absent keyword).
using Sub = std::optional<element>;

constexpr int kMaxDepth = 64;

/// Keywords that say nothing about which documents are valid.
constexpr std::string_view kAnnotations[] = {
    "$schema",  "$id",      "id",        "$comment",   "title",       "description", "default",
    "examples", "readOnly", "writeOnly", "deprecated", "definitions", "$defs"};

/// Keywords compared as written (no reasoning about what they allow).
constexpr std::string_view kAsWritten[] = {"$ref",
                                           "allOf",
                                           "anyOf",
                                           "oneOf",
                                           "not",
                                           "if",
                                           "then",
                                           "else",
                                           "const",
                                           "dependentRequired",
                                           "dependentSchemas",
                                           "dependencies",
                                           "prefixItems",
                                           "contains",
                                           "propertyNames"};

/// Lower bounds (the writer's must be at least the reader's) and upper bounds (at most).
constexpr std::string_view kLowerBounds[] = {"minimum", "exclusiveMinimum", "minLength", "minItems",
                                             "minProperties"};
constexpr std::string_view kUpperBounds[] = {"maximum", "exclusiveMaximum", "maxLength", "maxItems",
                                             "maxProperties"};

bool allows_anything(const Sub& schema) {
    if (!schema) return true;
    bool flag = false;
    if (schema->get(flag) == simdjson::SUCCESS) return flag;
    object keys;
    if (schema->get(keys) != simdjson::SUCCESS) return false;
    for (auto [key, value] : keys) {
        bool annotation = false;
        for (std::string_view known : kAnnotations) annotation = annotation || key == known;
        if (!annotation) return false;
    }
    return true;
}

bool allows_nothing(const Sub& schema) {
    bool flag = true;
    return schema && schema->get(flag) == simdjson::SUCCESS && !flag;
}

Sub keyword(const Sub& schema, std::string_view name) {
    element value;
    if (!schema || !schema->is_object() || (*schema)[name].get(value) != simdjson::SUCCESS)
        return std::nullopt;
    return value;
}

std::string text(const element& value) { return simdjson::minify(value); }

/// The types a schema admits (nullopt: any).
std::optional<std::set<std::string>> types_of(const Sub& schema) {
    Sub type = keyword(schema, "type");
    if (!type) return std::nullopt;
    std::set<std::string> out;
    std::string_view one;
    array many;
    if (type->get(one) == simdjson::SUCCESS) {
        out.emplace(one);
    } else if (type->get(many) == simdjson::SUCCESS) {
        for (auto item : many) {
            if (item.get(one) == simdjson::SUCCESS) out.emplace(one);
        }
    }
    return out;
}

std::string type_list(const std::set<std::string>& types) {
    std::string out;
    for (const std::string& type : types) out += (out.empty() ? "\"" : ", \"") + type + "\"";
    return out;
}

bool may_be(const std::optional<std::set<std::string>>& types, std::string_view type) {
    return !types || types->contains(std::string(type));
}

/// What `schema` says about a property it does not declare (a matching patternProperties
/// subschema, else additionalProperties; nullopt: anything).
Sub undeclared_property(const Sub& schema, std::string_view name) {
    object patterns;
    if (Sub found = keyword(schema, "patternProperties");
        found && found->get(patterns) == simdjson::SUCCESS) {
        for (auto [pattern, sub] : patterns) {
            // RE2: linear time, so a hostile pattern cannot stall the registry. A pattern it
            // cannot compile (look-arounds, back-references) matches nothing here.
            const re2::RE2 compiled(re2::StringPiece(pattern.data(), pattern.size()),
                                    re2::RE2::Quiet);
            if (compiled.ok() &&
                re2::RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), compiled))
                return sub;
        }
    }
    return keyword(schema, "additionalProperties");
}

std::set<std::string> required_of(const Sub& schema) {
    std::set<std::string> out;
    array names;
    if (Sub found = keyword(schema, "required"); found && found->get(names) == simdjson::SUCCESS) {
        for (auto item : names) {
            std::string_view name;
            if (item.get(name) == simdjson::SUCCESS) out.emplace(name);
        }
    }
    return out;
}

class Checker {
public:
    std::vector<std::string> reasons;

    void compare(const Sub& reader, const Sub& writer, const std::string& path, int depth) {
        if (depth > kMaxDepth) return fail(path, "schemas nested too deeply to compare");
        if (allows_nothing(writer) || allows_anything(reader)) return;
        if (writer && text(*reader) == text(*writer)) return;  // the same subschema
        if (allows_nothing(reader)) return fail(path, "the reader allows nothing");
        if (!reader->is_object()) return fail(path, "the reader is not a schema");
        if (allows_anything(writer))
            return fail(path, "the writer allows any value, the reader does not");
        if (!writer->is_object()) return fail(path, "the writer is not a schema");

        for (std::string_view name : kAsWritten) {
            Sub r = keyword(reader, name);
            Sub w = keyword(writer, name);
            if ((r || w) && (!r || !w || text(*r) != text(*w)))
                fail(path, "`" + std::string(name) + "` differs (compared as written)");
        }
        if (!compare_types(reader, writer, path)) return;
        compare_enums(reader, writer, path);
        compare_bounds(reader, writer, path);
        const auto reader_types = types_of(reader);
        const auto writer_types = types_of(writer);
        if (may_be(reader_types, "object") && may_be(writer_types, "object"))
            compare_objects(reader, writer, path, depth);
        if (may_be(reader_types, "array") && may_be(writer_types, "array")) {
            Sub r_items = keyword(reader, "items");
            if (r_items && !r_items->is_array()) {
                Sub w_items = keyword(writer, "items");
                if (w_items && w_items->is_array())
                    fail(path + "/items", "the writer's tuple items are compared as written");
                else
                    compare(r_items, w_items, path + "/items", depth + 1);
            }
        }
    }

private:
    void fail(const std::string& path, std::string why) {
        reasons.push_back(path + ": " + std::move(why));
    }

    /// false when the types do not match (nothing below is worth comparing).
    bool compare_types(const Sub& reader, const Sub& writer, const std::string& path) {
        const auto reader_types = types_of(reader);
        if (!reader_types) return true;
        const auto writer_types = types_of(writer);
        if (!writer_types) {
            fail(path, "the writer allows any type, the reader only " + type_list(*reader_types));
            return false;
        }
        bool ok = true;
        for (const std::string& type : *writer_types) {
            const bool widened = type == "integer" && reader_types->contains("number");
            if (!reader_types->contains(type) && !widened) {
                fail(path, "type \"" + type + "\" cannot be read as " + type_list(*reader_types));
                ok = false;
            }
        }
        return ok;
    }

    void compare_enums(const Sub& reader, const Sub& writer, const std::string& path) {
        array reader_values;
        Sub r = keyword(reader, "enum");
        if (!r || r->get(reader_values) != simdjson::SUCCESS) return;
        std::set<std::string> known;
        for (auto value : reader_values) known.insert(text(value));
        array writer_values;
        Sub w = keyword(writer, "enum");
        if (!w || w->get(writer_values) != simdjson::SUCCESS)
            return fail(path, "the reader allows only an enum's values, the writer any");
        for (auto value : writer_values) {
            if (!known.contains(text(value)))
                fail(path, "enum value " + text(value) + " is not allowed by the reader");
        }
    }

    void compare_bounds(const Sub& reader, const Sub& writer, const std::string& path) {
        auto bound = [&](std::string_view name, bool lower) {
            Sub r = keyword(reader, name);
            if (!r) return;
            Sub w = keyword(writer, name);
            double r_value = 0;
            double w_value = 0;
            if (!w) {
                return fail(path, "`" + std::string(name) + ": " + text(*r) +
                                      "` added (the writer has no such bound)");
            }
            if (r->get(r_value) != simdjson::SUCCESS || w->get(w_value) != simdjson::SUCCESS) {
                if (text(*r) != text(*w))
                    fail(path, "`" + std::string(name) + "` differs (compared as written)");
                return;
            }
            if (lower ? w_value < r_value : w_value > r_value) {
                fail(path,
                     "`" + std::string(name) + "` tightened from " + text(*w) + " to " + text(*r));
            }
        };
        for (std::string_view name : kLowerBounds) bound(name, true);
        for (std::string_view name : kUpperBounds) bound(name, false);
        if (Sub r = keyword(reader, "multipleOf")) {
            Sub w = keyword(writer, "multipleOf");
            double r_value = 0;
            double w_value = 0;
            if (!w || r->get(r_value) != simdjson::SUCCESS ||
                w->get(w_value) != simdjson::SUCCESS || r_value == 0 ||
                std::fmod(w_value, r_value) != 0) {
                fail(path, "`multipleOf: " + text(*r) + "` added or not a divisor of the writer's");
            }
        }
        for (std::string_view name : {std::string_view("pattern"), std::string_view("format")}) {
            Sub r = keyword(reader, name);
            Sub w = keyword(writer, name);
            if (r && (!w || text(*r) != text(*w)))
                fail(path, "`" + std::string(name) + "` added or changed");
        }
    }

    void compare_objects(const Sub& reader, const Sub& writer, const std::string& path, int depth) {
        object reader_properties;
        object writer_properties;
        Sub r_props = keyword(reader, "properties");
        Sub w_props = keyword(writer, "properties");
        const bool r_has = r_props && r_props->get(reader_properties) == simdjson::SUCCESS;
        const bool w_has = w_props && w_props->get(writer_properties) == simdjson::SUCCESS;
        if (w_has) {
            for (auto [name, schema] : writer_properties) {
                const std::string where = path + "/properties/" + std::string(name);
                element declared;
                if (r_has && reader_properties[name].get(declared) == simdjson::SUCCESS) {
                    compare(declared, schema, where, depth + 1);
                    continue;
                }
                Sub allowed = undeclared_property(reader, name);
                if (allows_nothing(allowed) && !allows_nothing(schema)) {
                    fail(where,
                         "the writer has this property, the reader's closed content model "
                         "(additionalProperties: false) does not allow it");
                } else {
                    compare(allowed, schema, where, depth + 1);
                }
            }
        }
        if (r_has) {
            for (auto [name, schema] : reader_properties) {
                element declared;
                if (w_has && writer_properties[name].get(declared) == simdjson::SUCCESS) continue;
                const std::string where = path + "/properties/" + std::string(name);
                Sub written = undeclared_property(writer, name);
                if (!allows_anything(schema) && allows_anything(written)) {
                    fail(where,
                         "added to an open content model: the writer may have written any value "
                         "here (close the writer with additionalProperties: false, or declare "
                         "the property in it)");
                } else {
                    compare(schema, written, where, depth + 1);
                }
            }
        }
        if (Sub r_extra = keyword(reader, "additionalProperties"); !allows_anything(r_extra)) {
            Sub w_extra = keyword(writer, "additionalProperties");
            if (allows_nothing(r_extra) && !allows_nothing(w_extra)) {
                fail(path,
                     "the reader's content model is closed (additionalProperties: false), the "
                     "writer's is not");
            } else {
                compare(r_extra, w_extra, path + "/additionalProperties", depth + 1);
            }
        }
        const std::set<std::string> writer_required = required_of(writer);
        for (const std::string& name : required_of(reader)) {
            if (!writer_required.contains(name))
                fail(path + "/properties/" + name,
                     "required by the reader, but the writer may omit it");
        }
    }
};

}  // namespace

std::vector<std::string> json_schema_incompatibilities(const std::string& reader,
                                                       const std::string& writer) {
    simdjson::dom::parser reader_parser;
    simdjson::dom::parser writer_parser;
    element r;
    element w;
    if (reader_parser.parse(reader).get(r) != simdjson::SUCCESS ||
        writer_parser.parse(writer).get(w) != simdjson::SUCCESS) {
        return {"schema does not parse"};
    }
    Checker checker;
    checker.compare(r, w, "#", 0);
    return std::move(checker.reasons);
}

}  // namespace millrace
