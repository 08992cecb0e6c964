#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace millrace {

/// The schema languages of the registry.
enum class SchemaType { kAvro, kJson };

/// Compatibility levels (Confluent's names).
enum class SchemaCompatibility {
    kNone,
    kBackward,
    kBackwardTransitive,
    kForward,
    kForwardTransitive,
    kFull,
    kFullTransitive,
};

std::string_view schema_type_name(SchemaType type);
std::optional<SchemaType> parse_schema_type(std::string_view name);
std::string_view compatibility_name(SchemaCompatibility level);
std::optional<SchemaCompatibility> parse_compatibility(std::string_view name);

/// Reasons a `reader` schema cannot read data written with `writer` (empty: it can): Avro's
/// schema resolution, or the structural check of JSON Schema described at SchemaRegistry.
std::vector<std::string> schema_incompatibilities(SchemaType type, const std::string& reader,
                                                  const std::string& writer);

/// One version of a subject.
struct RegisteredSchema {
    int64_t id = 0;
    std::string subject;
    int32_t version = 0;
    SchemaType type = SchemaType::kAvro;
    std::string schema;  // minified JSON
    bool deleted = false;
};

/// A refusal, with Confluent's HTTP status and error code (40401 subject not found, 40402
/// version not found, 40403 schema not found, 409 incompatible, 42201 invalid schema, 42202
/// invalid version, 42203 invalid compatibility level, 50001 store error).
struct RegistryError {
    int status = 0;
    int code = 0;
    std::string message;
};

/// A schema registry (the model of Confluent's): subjects with numbered versions of Avro or JSON
/// schemas, global ids (the same schema text has one id wherever it is registered), and a
/// compatibility level, global (BACKWARD by default) or per subject, checked when a new version
/// is registered: BACKWARD, the new schema reads data written with the latest version; FORWARD,
/// the latest reads data written with the new one; FULL, both; the transitive forms against
/// every live version; NONE, no check. Avro compatibility is Avro's schema resolution
/// (avro_compatibility.h); JSON Schema's compares the two schemas' keywords with Confluent's
/// rules for content models, type widening and bounds (json_schema_compatibility.h).
///
/// Deleting a subject or version is soft (kept, not listed, its id still resolves) unless
/// permanent, which is allowed only after a soft delete, as in Confluent's registry.
///
/// Stored in `<dir>/schemas.ndjson`, rewritten atomically (fsynced) on every change before it
/// is acknowledged: one JSON object per line, `{"config":"<subject or empty>","compatibility":
/// "BACKWARD"}` or `{"id":1,"subject":"s","version":1,"type":"AVRO","deleted":false,
/// "schema":"..."}`.
///
/// Threads: safe from any thread (one mutex).
class SchemaRegistry {
public:
    /// `read_only`: changes fail with kUnavailable (a reader beside the serving process).
    explicit SchemaRegistry(std::string dir, bool read_only = false);

    /// Reads the store (a missing file is an empty registry); kCorruption naming the line.
    Status load();

    /// Registers `schema` under `subject` (the id of an identical live version when there is
    /// one) and returns its id.
    Result<int64_t> register_schema(const std::string& subject, SchemaType type,
                                    const std::string& schema, RegistryError& error);
    /// The live version of `subject` whose schema is `schema`.
    std::optional<RegisteredSchema> lookup(const std::string& subject, SchemaType type,
                                           const std::string& schema, RegistryError& error);
    /// A schema by global id (deleted versions too).
    std::optional<RegisteredSchema> by_id(int64_t id) const;
    std::vector<std::string> subjects() const;
    /// Live versions; error 40401 for an unknown subject.
    std::optional<std::vector<int32_t>> versions(const std::string& subject,
                                                 RegistryError& error) const;
    /// `version` is a number or "latest".
    std::optional<RegisteredSchema> version(const std::string& subject, const std::string& version,
                                            RegistryError& error) const;
    /// The versions deleted.
    std::optional<std::vector<int32_t>> delete_subject(const std::string& subject, bool permanent,
                                                       RegistryError& error);
    std::optional<int32_t> delete_version(const std::string& subject, const std::string& version,
                                          bool permanent, RegistryError& error);
    /// Whether `schema` is compatible with `version` of `subject` ("latest", a number) at the
    /// subject's level.
    std::optional<bool> test_compatibility(const std::string& subject, const std::string& version,
                                           SchemaType type, const std::string& schema,
                                           std::vector<std::string>& reasons, RegistryError& error);

    /// The level of `subject` ("" = the global one); nullopt for a subject without its own.
    std::optional<SchemaCompatibility> compatibility(const std::string& subject) const;
    Status set_compatibility(const std::string& subject, SchemaCompatibility level);

private:
    /// Checks and minifies a schema (error 42201 when it does not parse).
    std::optional<std::string> normalize(SchemaType type, const std::string& schema,
                                         RegistryError& error) const;
    /// Reasons `schema` may not follow the subject's live versions at its level (empty: fine).
    std::vector<std::string> incompatibilities(const std::string& subject, SchemaType type,
                                               const std::string& schema,
                                               const std::vector<const RegisteredSchema*>& against,
                                               SchemaCompatibility level) const;
    SchemaCompatibility level_locked(const std::string& subject) const;
    std::vector<const RegisteredSchema*> live_locked(const std::string& subject) const;
    const RegisteredSchema* find_version_locked(const std::string& subject,
                                                const std::string& version, bool include_deleted,
                                                RegistryError& error) const;
    Status save_locked();

    std::string path_;
    bool read_only_;
    mutable std::mutex mutex_;
    std::vector<RegisteredSchema> schemas_;              // in registration order
    std::map<std::string, SchemaCompatibility> config_;  // "" = global
    int64_t next_id_ = 1;
};

}  // namespace millrace
