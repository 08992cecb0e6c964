#include "log/schema_registry.h"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "common/durable_file.h"
#include "common/json_string.h"
#include "formats/avro_compatibility.h"
#include "formats/avro_schema.h"
#include "formats/json_schema_compatibility.h"

namespace millrace {

namespace {

constexpr std::string_view kLevelNames[] = {
    "NONE", "BACKWARD",       "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
    "FULL", "FULL_TRANSITIVE"};

RegistryError refuse(int status, int code, std::string message) {
    return RegistryError{status, code, std::move(message)};
}

RegistryError subject_not_found(const std::string& subject) {
    return refuse(404, 40401, "Subject '" + subject + "' not found.");
}

}  // namespace

std::vector<std::string> schema_incompatibilities(SchemaType type, const std::string& reader,
                                                  const std::string& writer) {
    if (type == SchemaType::kJson) return json_schema_incompatibilities(reader, writer);
    auto r = AvroSchema::parse(reader);
    auto w = AvroSchema::parse(writer);
    if (!r.ok() || !w.ok()) return {"schema does not parse"};
    if (auto why = avro_incompatibility((*r)->root(), (*w)->root())) return {*why};
    return {};
}

std::string_view schema_type_name(SchemaType type) {
    return type == SchemaType::kAvro ? "AVRO" : "JSON";
}

std::optional<SchemaType> parse_schema_type(std::string_view name) {
    if (name == "AVRO" || name.empty()) return SchemaType::kAvro;
    if (name == "JSON") return SchemaType::kJson;
    return std::nullopt;
}

std::string_view compatibility_name(SchemaCompatibility level) {
    return kLevelNames[static_cast<int>(level)];
}

std::optional<SchemaCompatibility> parse_compatibility(std::string_view name) {
    for (int i = 0; i < 7; ++i) {
        if (kLevelNames[i] == name) return static_cast<SchemaCompatibility>(i);
    }
    return std::nullopt;
}

SchemaRegistry::SchemaRegistry(std::string dir, bool read_only)
    : path_(std::move(dir) + "/schemas.ndjson"), read_only_(read_only) {}

Status SchemaRegistry::load() {
    std::lock_guard lock(mutex_);
    std::ifstream in(path_);
    if (!in) return {};
    simdjson::dom::parser parser;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) continue;
        auto damaged = [&] {
            return Error(ErrorCode::kCorruption,
                         path_ + ":" + std::to_string(number) + " is damaged: " + line);
        };
        simdjson::dom::element entry;
        if (parser.parse(line).get(entry) != simdjson::SUCCESS) return damaged();
        std::string_view text;
        if (entry["config"].get(text) == simdjson::SUCCESS) {
            std::string_view level;
            if (entry["compatibility"].get(level) != simdjson::SUCCESS) return damaged();
            auto parsed = parse_compatibility(level);
            if (!parsed) return damaged();
            config_[std::string(text)] = *parsed;
            continue;
        }
        RegisteredSchema schema;
        int64_t version = 0;
        std::string_view subject;
        std::string_view type;
        std::string_view body;
        if (entry["id"].get(schema.id) != simdjson::SUCCESS ||
            entry["subject"].get(subject) != simdjson::SUCCESS ||
            entry["version"].get(version) != simdjson::SUCCESS ||
            entry["type"].get(type) != simdjson::SUCCESS ||
            entry["deleted"].get(schema.deleted) != simdjson::SUCCESS ||
            entry["schema"].get(body) != simdjson::SUCCESS || !parse_schema_type(type)) {
            return damaged();
        }
        schema.subject = subject;
        schema.version = static_cast<int32_t>(version);
        schema.type = *parse_schema_type(type);
        schema.schema = body;
        next_id_ = std::max(next_id_, schema.id + 1);
        schemas_.push_back(std::move(schema));
    }
    return {};
}

Status SchemaRegistry::save_locked() {
    if (read_only_) return Error(ErrorCode::kUnavailable, "the schema registry is read-only here");
    std::string text;
    for (const auto& [subject, level] : config_) {
        text += "{\"config\":";
        append_json_string(text, subject);
        text += ",\"compatibility\":\"" + std::string(compatibility_name(level)) + "\"}\n";
    }
    for (const RegisteredSchema& schema : schemas_) {
        text += "{\"id\":" + std::to_string(schema.id) + ",\"subject\":";
        append_json_string(text, schema.subject);
        text += ",\"version\":" + std::to_string(schema.version) + ",\"type\":\"" +
                std::string(schema_type_name(schema.type)) +
                "\",\"deleted\":" + (schema.deleted ? "true" : "false") + ",\"schema\":";
        append_json_string(text, schema.schema);
        text += "}\n";
    }
    MILLRACE_TRY(create_parent_directories_durably(path_));
    return write_file_durably(path_, text);
}

std::optional<std::string> SchemaRegistry::normalize(SchemaType type, const std::string& schema,
                                                     RegistryError& error) const {
    simdjson::dom::parser parser;
    simdjson::dom::element element;
    if (parser.parse(schema).get(element) != simdjson::SUCCESS) {
        error = refuse(422, 42201, "Invalid schema: not JSON");
        return std::nullopt;
    }
    if (type == SchemaType::kAvro) {
        auto parsed = AvroSchema::parse(schema);
        if (!parsed.ok()) {
            error = refuse(422, 42201, "Invalid schema: " + parsed.error().message());
            return std::nullopt;
        }
    } else if (!element.is_object() && !element.is_bool()) {
        error = refuse(422, 42201, "Invalid schema: a JSON Schema is an object or a boolean");
        return std::nullopt;
    }
    return simdjson::minify(element);
}

SchemaCompatibility SchemaRegistry::level_locked(const std::string& subject) const {
    if (auto found = config_.find(subject); found != config_.end()) return found->second;
    if (auto global = config_.find(""); global != config_.end()) return global->second;
    return SchemaCompatibility::kBackward;
}

std::vector<const RegisteredSchema*> SchemaRegistry::live_locked(const std::string& subject) const {
    std::vector<const RegisteredSchema*> out;
    for (const RegisteredSchema& schema : schemas_) {
        if (schema.subject == subject && !schema.deleted) out.push_back(&schema);
    }
    return out;
}

std::vector<std::string> SchemaRegistry::incompatibilities(
    const std::string& subject, SchemaType type, const std::string& schema,
    const std::vector<const RegisteredSchema*>& against, SchemaCompatibility level) const {
    (void)subject;
    using enum SchemaCompatibility;
    if (level == kNone || against.empty()) return {};
    const bool transitive =
        level == kBackwardTransitive || level == kForwardTransitive || level == kFullTransitive;
    const bool backward = level != kForward && level != kForwardTransitive;
    const bool forward = level != kBackward && level != kBackwardTransitive;
    std::vector<const RegisteredSchema*> checked =
        transitive ? against : std::vector<const RegisteredSchema*>{against.back()};
    std::vector<std::string> out;
    for (const RegisteredSchema* old : checked) {
        if (old->type != type) {
            out.push_back("version " + std::to_string(old->version) + " is " +
                          std::string(schema_type_name(old->type)));
            continue;
        }
        if (backward) {
            for (std::string& why : schema_incompatibilities(type, schema, old->schema))
                out.push_back("reading data of version " + std::to_string(old->version) + ": " +
                              why);
        }
        if (forward) {
            for (std::string& why : schema_incompatibilities(type, old->schema, schema))
                out.push_back("version " + std::to_string(old->version) +
                              " reading the new data: " + why);
        }
    }
    return out;
}

Result<int64_t> SchemaRegistry::register_schema(const std::string& subject, SchemaType type,
                                                const std::string& schema, RegistryError& error) {
    std::optional<std::string> text = normalize(type, schema, error);
    if (!text) return Error(ErrorCode::kInvalidArgument, error.message);
    std::lock_guard lock(mutex_);
    const std::vector<const RegisteredSchema*> live = live_locked(subject);
    for (const RegisteredSchema* existing : live) {
        if (existing->type == type && existing->schema == *text) return existing->id;
    }
    std::vector<std::string> reasons =
        incompatibilities(subject, type, *text, live, level_locked(subject));
    if (!reasons.empty()) {
        std::string message =
            "Schema being registered is incompatible with an earlier schema for "
            "subject \"" +
            subject + "\"";
        for (const std::string& reason : reasons) message += "; " + reason;
        error = refuse(409, 409, message);
        return Error(ErrorCode::kTypeMismatch, message);
    }
    RegisteredSchema added;
    added.subject = subject;
    added.type = type;
    added.schema = *text;
    added.id = next_id_;
    for (const RegisteredSchema& other : schemas_) {
        if (other.type == type && other.schema == *text) added.id = other.id;  // one id per text
        if (other.subject == subject) added.version = std::max(added.version, other.version);
    }
    ++added.version;
    const bool new_id = added.id == next_id_;
    schemas_.push_back(added);
    if (Status saved = save_locked(); !saved.ok()) {
        schemas_.pop_back();
        error = refuse(500, 50001, "Error in the backend datastore: " + saved.error().message());
        return saved.error();
    }
    if (new_id) ++next_id_;
    return added.id;
}

std::optional<RegisteredSchema> SchemaRegistry::lookup(const std::string& subject, SchemaType type,
                                                       const std::string& schema,
                                                       RegistryError& error) {
    std::optional<std::string> text = normalize(type, schema, error);
    if (!text) return std::nullopt;
    std::lock_guard lock(mutex_);
    const std::vector<const RegisteredSchema*> live = live_locked(subject);
    if (live.empty()) {
        error = subject_not_found(subject);
        return std::nullopt;
    }
    for (const RegisteredSchema* existing : live) {
        if (existing->type == type && existing->schema == *text) return *existing;
    }
    error = refuse(404, 40403, "Schema not found");
    return std::nullopt;
}

std::optional<RegisteredSchema> SchemaRegistry::by_id(int64_t id) const {
    std::lock_guard lock(mutex_);
    for (const RegisteredSchema& schema : schemas_) {
        if (schema.id == id) return schema;
    }
    return std::nullopt;
}

std::vector<std::string> SchemaRegistry::subjects() const {
    std::lock_guard lock(mutex_);
    std::set<std::string> out;
    for (const RegisteredSchema& schema : schemas_) {
        if (!schema.deleted) out.insert(schema.subject);
    }
    return {out.begin(), out.end()};
}

std::optional<std::vector<int32_t>> SchemaRegistry::versions(const std::string& subject,
                                                             RegistryError& error) const {
    std::lock_guard lock(mutex_);
    std::vector<int32_t> out;
    for (const RegisteredSchema* schema : live_locked(subject)) out.push_back(schema->version);
    if (out.empty()) {
        error = subject_not_found(subject);
        return std::nullopt;
    }
    return out;
}

const RegisteredSchema* SchemaRegistry::find_version_locked(const std::string& subject,
                                                            const std::string& version,
                                                            bool include_deleted,
                                                            RegistryError& error) const {
    const RegisteredSchema* found = nullptr;
    const bool latest = version == "latest" || version == "-1";
    int64_t wanted = 0;
    if (!latest) {
        std::istringstream in(version);
        if (!(in >> wanted) || !in.eof() || wanted <= 0 || wanted > INT32_MAX) {
            error = refuse(422, 42202,
                           "The specified version '" + version +
                               "' is not a valid version id. Allowed values are between [1, "
                               "2^31-1] and the string \"latest\"");
            return nullptr;
        }
    }
    bool known = false;
    for (const RegisteredSchema& schema : schemas_) {
        if (schema.subject != subject || (schema.deleted && !include_deleted)) continue;
        known = true;
        if (latest ? (found == nullptr || schema.version > found->version)
                   : schema.version == wanted) {
            found = &schema;
        }
    }
    if (!known) {
        error = subject_not_found(subject);
        return nullptr;
    }
    if (found == nullptr) {
        error = refuse(404, 40402, "Version " + version + " not found.");
        return nullptr;
    }
    return found;
}

std::optional<RegisteredSchema> SchemaRegistry::version(const std::string& subject,
                                                        const std::string& version,
                                                        RegistryError& error) const {
    std::lock_guard lock(mutex_);
    const RegisteredSchema* found = find_version_locked(subject, version, false, error);
    if (found == nullptr) return std::nullopt;
    return *found;
}

std::optional<std::vector<int32_t>> SchemaRegistry::delete_subject(const std::string& subject,
                                                                   bool permanent,
                                                                   RegistryError& error) {
    std::lock_guard lock(mutex_);
    std::vector<int32_t> out;
    const std::vector<RegisteredSchema> before = schemas_;
    if (permanent) {
        if (!live_locked(subject).empty()) {
            error = refuse(
                409, 40405,
                "Subject '" + subject + "' was not deleted first before being permanently deleted");
            return std::nullopt;
        }
        std::erase_if(schemas_, [&](const RegisteredSchema& schema) {
            if (schema.subject != subject) return false;
            out.push_back(schema.version);
            return true;
        });
    } else {
        for (RegisteredSchema& schema : schemas_) {
            if (schema.subject == subject && !schema.deleted) {
                schema.deleted = true;
                out.push_back(schema.version);
            }
        }
    }
    if (out.empty()) {
        error = subject_not_found(subject);
        return std::nullopt;
    }
    if (Status saved = save_locked(); !saved.ok()) {
        schemas_ = before;
        error = refuse(500, 50001, "Error in the backend datastore: " + saved.error().message());
        return std::nullopt;
    }
    return out;
}

std::optional<int32_t> SchemaRegistry::delete_version(const std::string& subject,
                                                      const std::string& version, bool permanent,
                                                      RegistryError& error) {
    std::lock_guard lock(mutex_);
    const RegisteredSchema* found = find_version_locked(subject, version, permanent, error);
    if (found == nullptr) return std::nullopt;
    const int32_t number = found->version;
    const std::vector<RegisteredSchema> before = schemas_;
    if (permanent) {
        if (!found->deleted) {
            error = refuse(409, 40407,
                           "Subject '" + subject + "' Version " + std::to_string(number) +
                               " was not deleted first before being permanently deleted");
            return std::nullopt;
        }
        std::erase_if(schemas_, [&](const RegisteredSchema& schema) { return &schema == found; });
    } else {
        const_cast<RegisteredSchema*>(found)->deleted = true;
    }
    if (Status saved = save_locked(); !saved.ok()) {
        schemas_ = before;
        error = refuse(500, 50001, "Error in the backend datastore: " + saved.error().message());
        return std::nullopt;
    }
    return number;
}

std::optional<bool> SchemaRegistry::test_compatibility(const std::string& subject,
                                                       const std::string& version, SchemaType type,
                                                       const std::string& schema,
                                                       std::vector<std::string>& reasons,
                                                       RegistryError& error) {
    std::optional<std::string> text = normalize(type, schema, error);
    if (!text) return std::nullopt;
    std::lock_guard lock(mutex_);
    const RegisteredSchema* found = find_version_locked(subject, version, false, error);
    if (found == nullptr) return std::nullopt;
    SchemaCompatibility level = level_locked(subject);
    // One version named: the transitive forms check just it.
    if (level == SchemaCompatibility::kBackwardTransitive) level = SchemaCompatibility::kBackward;
    if (level == SchemaCompatibility::kForwardTransitive) level = SchemaCompatibility::kForward;
    if (level == SchemaCompatibility::kFullTransitive) level = SchemaCompatibility::kFull;
    reasons = incompatibilities(subject, type, *text, {found}, level);
    return reasons.empty();
}

std::optional<SchemaCompatibility> SchemaRegistry::compatibility(const std::string& subject) const {
    std::lock_guard lock(mutex_);
    if (subject.empty()) return level_locked("");
    if (auto found = config_.find(subject); found != config_.end()) return found->second;
    return std::nullopt;
}

Status SchemaRegistry::set_compatibility(const std::string& subject, SchemaCompatibility level) {
    std::lock_guard lock(mutex_);
    const auto before = config_;
    config_[subject] = level;
    if (Status saved = save_locked(); !saved.ok()) {
        config_ = before;
        return saved;
    }
    return {};
}

}  // namespace millrace
