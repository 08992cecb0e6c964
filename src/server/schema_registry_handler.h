#pragma once

#include "log/schema_registry.h"
#include "server/http_message.h"
#include "server/router.h"

namespace millrace {

/// The Confluent Schema Registry REST API (the subset its serializers and tools use) over a
/// SchemaRegistry, at the server's root, so a client's `schema.registry.url` is the serve HTTP
/// address:
///
///   GET    /subjects                                   ["s", ...]
///   POST   /subjects/{s}/versions          {"schema", "schemaType"} → {"id"}
///   POST   /subjects/{s}                   {"schema", "schemaType"} → {"subject", "id",
///                                          "version", "schema"} (lookup)
///   GET    /subjects/{s}/versions                      [1, 2, ...]
///   GET    /subjects/{s}/versions/{v}                  {"subject", "id", "version", "schema",
///                                                       "schemaType" (not for AVRO)}
///   GET    /subjects/{s}/versions/{v}/schema           the schema itself
///   DELETE /subjects/{s}[?permanent=true]              [versions]
///   DELETE /subjects/{s}/versions/{v}[?permanent=true] version
///   GET    /schemas/ids/{id}                           {"schema", "schemaType"}
///   GET    /schemas/types                              ["AVRO", "JSON"]
///   GET    /config, PUT /config {"compatibility"}      {"compatibilityLevel"}
///   GET    /config/{s}, PUT /config/{s}               (a subject's own level)
///   POST   /compatibility/subjects/{s}/versions/{v}    {"is_compatible", "messages"}
///
/// Errors are Confluent's: the HTTP status and a body {"error_code", "message"} (40401 unknown
/// subject, 40402 unknown version, 40403 unknown schema, 409 incompatible, 42201 invalid schema,
/// 42202 invalid version, 42203 invalid compatibility level, 50001 store failure). Responses
/// are `application/vnd.schemaregistry.v1+json`. Routes are in the `admin` group.
/// Threads: any server thread.
class SchemaRegistryHandler {
public:
    explicit SchemaRegistryHandler(SchemaRegistry& registry);

    void add_routes(Router& router);

private:
    HttpResponse register_schema(const HttpRequest& request);
    HttpResponse lookup(const HttpRequest& request);
    HttpResponse version(const HttpRequest& request, bool schema_only) const;
    HttpResponse remove_subject(const HttpRequest& request);
    HttpResponse remove_version(const HttpRequest& request);
    HttpResponse by_id(const HttpRequest& request) const;
    HttpResponse get_config(const HttpRequest& request) const;
    HttpResponse put_config(const HttpRequest& request);
    HttpResponse compatibility(const HttpRequest& request);

    SchemaRegistry& registry_;
};

}  // namespace millrace
