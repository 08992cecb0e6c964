#include "server/schema_registry_handler.h"

#include <simdjson.h>

#include <charconv>

#include "common/json_string.h"

namespace millrace {

namespace {

constexpr std::string_view kMediaType = "application/vnd.schemaregistry.v1+json";

HttpResponse answer(int status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.content_type = std::string(kMediaType);
    response.body = std::move(body);
    return response;
}

HttpResponse refused(const RegistryError& error) {
    std::string body = "{\"error_code\":" + std::to_string(error.code) + ",\"message\":";
    append_json_string(body, error.message);
    body += "}";
    return answer(error.status, std::move(body));
}

HttpResponse refused(int status, int code, std::string message) {
    return refused(RegistryError{status, code, std::move(message)});
}

/// The {"schema", "schemaType"} of a register, lookup or compatibility request.
struct SchemaBody {
    std::string schema;
    SchemaType type = SchemaType::kAvro;
};

std::optional<SchemaBody> read_schema_body(const HttpRequest& request, HttpResponse& error) {
    simdjson::dom::parser parser;
    simdjson::dom::element body;
    std::string_view schema;
    if (parser.parse(request.body).get(body) != simdjson::SUCCESS ||
        body["schema"].get(schema) != simdjson::SUCCESS) {
        error = refused(422, 42201, "the body must be a JSON object with a string `schema`");
        return std::nullopt;
    }
    std::string_view type_name;
    if (body["schemaType"].get(type_name) != simdjson::SUCCESS) type_name = "AVRO";
    const std::optional<SchemaType> type = parse_schema_type(type_name);
    if (!type) {
        error = refused(422, 42201,
                        "unsupported schemaType `" + std::string(type_name) + "` (AVRO, JSON)");
        return std::nullopt;
    }
    return SchemaBody{std::string(schema), *type};
}

bool permanent(const HttpRequest& request) {
    const std::string* value = request.query_param("permanent");
    return value != nullptr && *value == "true";
}

std::string version_json(const RegisteredSchema& schema) {
    std::string body = "{\"subject\":";
    append_json_string(body, schema.subject);
    body +=
        ",\"version\":" + std::to_string(schema.version) + ",\"id\":" + std::to_string(schema.id);
    if (schema.type != SchemaType::kAvro)
        body += ",\"schemaType\":\"" + std::string(schema_type_name(schema.type)) + "\"";
    body += ",\"schema\":";
    append_json_string(body, schema.schema);
    body += "}";
    return body;
}

template <typename Numbers>
std::string number_list(const Numbers& numbers) {
    std::string body = "[";
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        if (i > 0) body += ",";
        body += std::to_string(numbers[i]);
    }
    return body + "]";
}

}  // namespace

SchemaRegistryHandler::SchemaRegistryHandler(SchemaRegistry& registry) : registry_(registry) {}

void SchemaRegistryHandler::add_routes(Router& router) {
    auto add = [&](HttpMethod method, std::string_view pattern, std::string name, auto member) {
        router.add(
            method, pattern, std::move(name),
            [this, member](HttpRequest& request, HttpResponder respond) {
                respond(member(*this, request));
            },
            "admin");
    };
    add(HttpMethod::kGet, "/subjects", "schema_subjects",
        [](SchemaRegistryHandler& self, const HttpRequest&) {
            std::string body = "[";
            bool first = true;
            for (const std::string& subject : self.registry_.subjects()) {
                if (!first) body += ",";
                first = false;
                append_json_string(body, subject);
            }
            return answer(200, body + "]");
        });
    add(HttpMethod::kPost, "/subjects/{subject}/versions", "schema_register",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.register_schema(r); });
    add(HttpMethod::kPost, "/subjects/{subject}", "schema_lookup",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.lookup(r); });
    add(HttpMethod::kDelete, "/subjects/{subject}", "schema_delete_subject",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.remove_subject(r); });
    add(HttpMethod::kGet, "/subjects/{subject}/versions", "schema_versions",
        [](SchemaRegistryHandler& self, const HttpRequest& request) {
            RegistryError error;
            auto versions = self.registry_.versions(request.param("subject"), error);
            return versions ? answer(200, number_list(*versions)) : refused(error);
        });
    add(HttpMethod::kGet, "/subjects/{subject}/versions/{version}", "schema_version",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.version(r, false); });
    add(HttpMethod::kGet, "/subjects/{subject}/versions/{version}/schema", "schema_version_text",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.version(r, true); });
    add(HttpMethod::kDelete, "/subjects/{subject}/versions/{version}", "schema_delete_version",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.remove_version(r); });
    add(HttpMethod::kGet, "/schemas/ids/{id}", "schema_by_id",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.by_id(r); });
    add(HttpMethod::kGet, "/schemas/types", "schema_types",
        [](SchemaRegistryHandler&, const HttpRequest&) {
            return answer(200, "[\"AVRO\",\"JSON\"]");
        });
    add(HttpMethod::kGet, "/config", "schema_config",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.get_config(r); });
    add(HttpMethod::kPut, "/config", "schema_config_set",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.put_config(r); });
    add(HttpMethod::kGet, "/config/{subject}", "schema_subject_config",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.get_config(r); });
    add(HttpMethod::kPut, "/config/{subject}", "schema_subject_config_set",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.put_config(r); });
    add(HttpMethod::kPost, "/compatibility/subjects/{subject}/versions/{version}",
        "schema_compatibility",
        [](SchemaRegistryHandler& self, const HttpRequest& r) { return self.compatibility(r); });
}

HttpResponse SchemaRegistryHandler::register_schema(const HttpRequest& request) {
    HttpResponse bad;
    std::optional<SchemaBody> body = read_schema_body(request, bad);
    if (!body) return bad;
    RegistryError error;
    auto id = registry_.register_schema(request.param("subject"), body->type, body->schema, error);
    if (!id.ok()) return refused(error);
    return answer(200, "{\"id\":" + std::to_string(*id) + "}");
}

HttpResponse SchemaRegistryHandler::lookup(const HttpRequest& request) {
    HttpResponse bad;
    std::optional<SchemaBody> body = read_schema_body(request, bad);
    if (!body) return bad;
    RegistryError error;
    auto found = registry_.lookup(request.param("subject"), body->type, body->schema, error);
    return found ? answer(200, version_json(*found)) : refused(error);
}

HttpResponse SchemaRegistryHandler::version(const HttpRequest& request, bool schema_only) const {
    RegistryError error;
    auto found = registry_.version(request.param("subject"), request.param("version"), error);
    if (!found) return refused(error);
    return answer(200, schema_only ? found->schema : version_json(*found));
}

HttpResponse SchemaRegistryHandler::remove_subject(const HttpRequest& request) {
    RegistryError error;
    auto versions = registry_.delete_subject(request.param("subject"), permanent(request), error);
    return versions ? answer(200, number_list(*versions)) : refused(error);
}

HttpResponse SchemaRegistryHandler::remove_version(const HttpRequest& request) {
    RegistryError error;
    auto version = registry_.delete_version(request.param("subject"), request.param("version"),
                                            permanent(request), error);
    return version ? answer(200, std::to_string(*version)) : refused(error);
}

HttpResponse SchemaRegistryHandler::by_id(const HttpRequest& request) const {
    const std::string& text = request.param("id");
    int64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    std::optional<RegisteredSchema> found;
    if (ec == std::errc() && end == text.data() + text.size()) found = registry_.by_id(id);
    if (!found) return refused(404, 40403, "Schema " + text + " not found");
    std::string body = "{";
    if (found->type != SchemaType::kAvro)
        body += "\"schemaType\":\"" + std::string(schema_type_name(found->type)) + "\",";
    body += "\"schema\":";
    append_json_string(body, found->schema);
    return answer(200, body + "}");
}

HttpResponse SchemaRegistryHandler::get_config(const HttpRequest& request) const {
    const bool global = request.params.empty();
    const std::string subject = global ? std::string() : request.param("subject");
    std::optional<SchemaCompatibility> level = registry_.compatibility(subject);
    if (!level) {
        return refused(404, 40408,
                       "Subject '" + subject +
                           "' does not have subject-level "
                           "compatibility configured");
    }
    return answer(200,
                  "{\"compatibilityLevel\":\"" + std::string(compatibility_name(*level)) + "\"}");
}

HttpResponse SchemaRegistryHandler::put_config(const HttpRequest& request) {
    const bool global = request.params.empty();
    simdjson::dom::parser parser;
    simdjson::dom::element body;
    std::string_view name;
    if (parser.parse(request.body).get(body) != simdjson::SUCCESS ||
        body["compatibility"].get(name) != simdjson::SUCCESS) {
        return refused(422, 42203, "the body must be a JSON object with a string `compatibility`");
    }
    const std::optional<SchemaCompatibility> level = parse_compatibility(name);
    if (!level) {
        return refused(422, 42203,
                       "Invalid compatibility level `" + std::string(name) +
                           "` (NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, "
                           "FULL, FULL_TRANSITIVE)");
    }
    Status set =
        registry_.set_compatibility(global ? std::string() : request.param("subject"), *level);
    if (!set.ok())
        return refused(500, 50001, "Error in the backend datastore: " + set.error().message());
    return answer(200, "{\"compatibility\":\"" + std::string(name) + "\"}");
}

HttpResponse SchemaRegistryHandler::compatibility(const HttpRequest& request) {
    HttpResponse bad;
    std::optional<SchemaBody> body = read_schema_body(request, bad);
    if (!body) return bad;
    RegistryError error;
    std::vector<std::string> reasons;
    auto compatible =
        registry_.test_compatibility(request.param("subject"), request.param("version"), body->type,
                                     body->schema, reasons, error);
    if (!compatible) return refused(error);
    std::string out = std::string("{\"is_compatible\":") + (*compatible ? "true" : "false");
    if (!reasons.empty()) {
        out += ",\"messages\":[";
        for (std::size_t i = 0; i < reasons.size(); ++i) {
            if (i > 0) out += ",";
            append_json_string(out, reasons[i]);
        }
        out += "]";
    }
    return answer(200, out + "}");
}

}  // namespace millrace
