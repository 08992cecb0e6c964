#include "server/iceberg_catalog_handler.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "common/durable_file.h"
#include "common/json_string.h"
#include "common/mapped_file.h"
#include "lake/catalog_requests.h"
#include "lake/iceberg_metadata.h"
#include "lake/lake_table.h"

namespace millrace {

namespace {

constexpr const char* kDefaultNamespace = "default";
// The prefix GET /v1/config hands out: clients then call /iceberg/v1/lake/namespaces/...
constexpr const char* kPrefix = "lake";
// A commit that keeps losing the race for the next metadata version (to other catalog commits
// or to pipelines) gives up after this many tries with a 409, which Iceberg clients answer by
// reloading the table and retrying. Between tries a random back-off, growing with the tries,
// keeps committers from colliding in lockstep.
constexpr int kCommitAttempts = 100;

using NamespaceMap = std::map<std::string, std::map<std::string, std::string>>;

// The specification's error model: {"error": {"message", "type", "code"}}.
HttpResponse iceberg_error(int code, std::string_view type, std::string_view message) {
    std::string body = "{\"error\": {\"message\": ";
    append_json_string(body, message);
    body += ", \"type\": ";
    append_json_string(body, type);
    body += ", \"code\": " + std::to_string(code) + "}}";
    return json_response(std::move(body), code);
}

// An Error from the lake or a request parser as the specification's error response;
// `not_found` names the exception of a kNotFound (NoSuchTableException, ...).
HttpResponse error_response(const Error& error, std::string_view not_found) {
    const std::string& message = error.message();
    switch (error.code()) {
        case ErrorCode::kNotFound:
            return iceberg_error(404, not_found, message);
        case ErrorCode::kAlreadyExists:
            return iceberg_error(409, "AlreadyExistsException", message);
        case ErrorCode::kInvalidArgument:
        case ErrorCode::kParse:
        case ErrorCode::kConfig:
        case ErrorCode::kTypeMismatch:
        case ErrorCode::kOutOfRange:
        case ErrorCode::kUnsupported:
            return iceberg_error(400, "BadRequestException", message);
        case ErrorCode::kUnavailable:
            return iceberg_error(503, "ServiceUnavailableException", message);
        default:
            return iceberg_error(500, "InternalServerError", message);
    }
}

HttpResponse no_content() { return HttpResponse{204, "application/json", "", {}}; }

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool valid_namespace(std::string_view name) {
    if (name.empty() || name.size() > 200 || name[0] == '.' || name[0] == '_') return false;
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
            return false;
        }
    }
    return true;
}

std::string namespace_json(std::string_view name) {
    std::string out = "[";
    append_json_string(out, name);
    return out + "]";
}

std::string string_map_json(const std::map<std::string, std::string>& map) {
    std::string out = "{";
    for (const auto& [key, value] : map) {
        if (out.size() > 1) out += ", ";
        append_json_string(out, key);
        out += ": ";
        append_json_string(out, value);
    }
    return out + "}";
}

// The one-level namespace a request names: a path parameter or a JSON array of one string.
// Multi-level names (parts joined by 0x1F in paths) never exist in this catalog.
std::string_view path_namespace(const HttpRequest& request) { return request.param("namespace"); }

// {"metadata-location": ..., "metadata": {...}, "config": {}}: LoadTableResult and
// CommitTableResponse. The metadata file must be JSON: a corrupt file is a 500, never a
// malformed response.
HttpResponse table_result(const LakeTable::MetadataFile& file) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(file.json);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
        return iceberg_error(500, "InternalServerError", file.path + ": not a JSON metadata file");
    }
    std::string body = "{\"metadata-location\": ";
    append_json_string(body, file.path);
    body += ", \"metadata\": ";
    std::string_view json = file.json;
    while (!json.empty() && (json.back() == '\n' || json.back() == ' ')) json.remove_suffix(1);
    body += json;
    body += ", \"config\": {}}";
    return json_response(std::move(body));
}

}  // namespace

IcebergCatalogHandler::IcebergCatalogHandler(std::string data_dir)
    : data_dir_(std::move(data_dir)) {
    std::error_code error;
    auto absolute = std::filesystem::absolute(data_dir_ + "/lake", error);
    lake_dir_ = error ? data_dir_ + "/lake" : absolute.lexically_normal().string();
    while (lake_dir_.size() > 1 && lake_dir_.back() == '/') lake_dir_.pop_back();
}

void IcebergCatalogHandler::add_routes(Router& router) {
    using Method = HttpMethod;
    auto add = [&](Method method, const std::string& path, const std::string& name,
                   std::function<HttpResponse(HttpRequest&)> handle) {
        for (const std::string& base :
             {std::string("/iceberg/v1"), std::string("/iceberg/v1/") + kPrefix}) {
            router.add(
                method, base + path, name,
                [handle](HttpRequest& request, HttpResponder respond) { respond(handle(request)); },
                "catalog");
        }
    };
    router.add(
        Method::kGet, "/iceberg/v1/config", "iceberg_config",
        [this](HttpRequest&, HttpResponder respond) { respond(config()); }, "catalog");
    add(Method::kGet, "/namespaces", "iceberg_namespaces_list",
        [this](HttpRequest& r) { return list_namespaces(r); });
    add(Method::kPost, "/namespaces", "iceberg_namespaces_create",
        [this](HttpRequest& r) { return create_namespace(r); });
    add(Method::kGet, "/namespaces/{namespace}", "iceberg_namespace_load",
        [this](HttpRequest& r) { return load_namespace(r, false); });
    add(Method::kHead, "/namespaces/{namespace}", "iceberg_namespace_exists",
        [this](HttpRequest& r) { return load_namespace(r, true); });
    add(Method::kDelete, "/namespaces/{namespace}", "iceberg_namespace_drop",
        [this](HttpRequest& r) { return drop_namespace(r); });
    add(Method::kPost, "/namespaces/{namespace}/properties", "iceberg_namespace_properties",
        [this](HttpRequest& r) { return update_namespace_properties(r); });
    add(Method::kGet, "/namespaces/{namespace}/tables", "iceberg_tables_list",
        [this](HttpRequest& r) { return list_tables(r); });
    add(Method::kPost, "/namespaces/{namespace}/tables", "iceberg_table_create",
        [this](HttpRequest& r) { return create_table(r); });
    add(Method::kGet, "/namespaces/{namespace}/tables/{table}", "iceberg_table_load",
        [this](HttpRequest& r) { return load_table(r, false); });
    add(Method::kHead, "/namespaces/{namespace}/tables/{table}", "iceberg_table_exists",
        [this](HttpRequest& r) { return load_table(r, true); });
    add(Method::kPost, "/namespaces/{namespace}/tables/{table}", "iceberg_table_commit",
        [this](HttpRequest& r) { return commit_table(r); });
    add(Method::kDelete, "/namespaces/{namespace}/tables/{table}", "iceberg_table_drop",
        [this](HttpRequest& r) { return drop_table(r); });
    add(Method::kPost, "/tables/rename", "iceberg_table_rename",
        [this](HttpRequest& r) { return rename_table(r); });
}

HttpResponse IcebergCatalogHandler::config() const {
    std::string body = "{\"defaults\": {}, \"overrides\": {\"prefix\": \"";
    body += kPrefix;
    body += "\"}, \"endpoints\": [";
    const char* endpoints[] = {
        "GET /v1/{prefix}/namespaces",
        "POST /v1/{prefix}/namespaces",
        "GET /v1/{prefix}/namespaces/{namespace}",
        "HEAD /v1/{prefix}/namespaces/{namespace}",
        "DELETE /v1/{prefix}/namespaces/{namespace}",
        "POST /v1/{prefix}/namespaces/{namespace}/properties",
        "GET /v1/{prefix}/namespaces/{namespace}/tables",
        "POST /v1/{prefix}/namespaces/{namespace}/tables",
        "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
        "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    };
    bool first = true;
    for (const char* endpoint : endpoints) {
        if (!first) body += ", ";
        first = false;
        append_json_string(body, endpoint);
    }
    body += "]}";
    return json_response(std::move(body));
}

Result<NamespaceMap> IcebergCatalogHandler::read_namespaces() const {
    NamespaceMap out;
    out[kDefaultNamespace];
    auto bytes = read_file(lake_dir_ + "/_catalog/namespaces.json");
    if (!bytes.ok()) {
        if (bytes.error().code() == ErrorCode::kNotFound) return out;
        return std::move(bytes).error();
    }
    simdjson::dom::parser parser;
    simdjson::dom::object root;
    if (parser.parse(*bytes).get(root) != simdjson::SUCCESS) {
        return Error(ErrorCode::kCorruption,
                     lake_dir_ + "/_catalog/namespaces.json: not a JSON object");
    }
    for (auto entry : root) {
        auto& properties = out[std::string(entry.key)];
        simdjson::dom::object object;
        if (entry.value.get(object) != simdjson::SUCCESS) continue;
        for (auto field : object) {
            std::string_view value;
            if (field.value.get(value) == simdjson::SUCCESS) {
                properties[std::string(field.key)] = std::string(value);
            }
        }
    }
    return out;
}

Status IcebergCatalogHandler::write_namespaces(const NamespaceMap& namespaces) const {
    std::error_code error;
    std::filesystem::create_directories(lake_dir_ + "/_catalog", error);
    if (error) {
        return Error(ErrorCode::kIo,
                     "cannot create " + lake_dir_ + "/_catalog: " + error.message());
    }
    std::string body = "{";
    for (const auto& [name, properties] : namespaces) {
        if (body.size() > 1) body += ",\n ";
        append_json_string(body, name);
        body += ": " + string_map_json(properties);
    }
    body += "}\n";
    return write_file_durably(lake_dir_ + "/_catalog/namespaces.json", body);
}

HttpResponse IcebergCatalogHandler::list_namespaces(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    auto namespaces = read_namespaces();
    if (!namespaces.ok()) return error_response(namespaces.error(), "NoSuchNamespaceException");
    // Namespaces have one level: under any existing parent there is nothing.
    if (const std::string* parent = request.query_param("parent"); parent && !parent->empty()) {
        if (!namespaces->count(*parent)) {
            return iceberg_error(404, "NoSuchNamespaceException",
                                 "namespace `" + *parent + "` does not exist");
        }
        return json_response("{\"namespaces\": []}");
    }
    std::string body = "{\"namespaces\": [";
    bool first = true;
    for (const auto& [name, properties] : *namespaces) {
        if (!first) body += ", ";
        first = false;
        body += namespace_json(name);
    }
    body += "]}";
    return json_response(std::move(body));
}

HttpResponse IcebergCatalogHandler::create_namespace(const HttpRequest& request) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(request.body);
    simdjson::dom::element root;
    simdjson::dom::array parts;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS ||
        root["namespace"].get(parts) != simdjson::SUCCESS) {
        return iceberg_error(
            400, "BadRequestException",
            "the body must be a CreateNamespaceRequest: {\"namespace\": [\"name\"]}");
    }
    std::string_view name;
    if (parts.size() != 1 || parts.at(0).get(name) != simdjson::SUCCESS) {
        return iceberg_error(400, "BadRequestException",
                             "namespaces have one level: `namespace` must be one string");
    }
    if (!valid_namespace(name)) {
        return iceberg_error(400, "BadRequestException",
                             "bad namespace name `" + std::string(name) +
                                 "`: letters, digits, '_', '-', '.'; not starting with '_' or '.'");
    }
    std::map<std::string, std::string> properties;
    simdjson::dom::object object;
    if (root["properties"].get(object) == simdjson::SUCCESS) {
        for (auto field : object) {
            std::string_view value;
            if (field.value.get(value) != simdjson::SUCCESS) {
                return iceberg_error(400, "BadRequestException",
                                     "property `" + std::string(field.key) + "` must be a string");
            }
            properties[std::string(field.key)] = std::string(value);
        }
    }
    std::lock_guard lock(mutex_);
    auto namespaces = read_namespaces();
    if (!namespaces.ok()) return error_response(namespaces.error(), "NoSuchNamespaceException");
    if (namespaces->count(std::string(name))) {
        return iceberg_error(409, "AlreadyExistsException",
                             "namespace `" + std::string(name) + "` already exists");
    }
    (*namespaces)[std::string(name)] = properties;
    Status wrote = write_namespaces(*namespaces);
    if (!wrote.ok()) return error_response(wrote.error(), "NoSuchNamespaceException");
    return json_response("{\"namespace\": " + namespace_json(name) +
                         ", \"properties\": " + string_map_json(properties) + "}");
}

HttpResponse IcebergCatalogHandler::load_namespace(const HttpRequest& request, bool head) {
    const std::string name(path_namespace(request));
    std::lock_guard lock(mutex_);
    auto namespaces = read_namespaces();
    if (!namespaces.ok()) return error_response(namespaces.error(), "NoSuchNamespaceException");
    auto found = namespaces->find(name);
    if (found == namespaces->end()) {
        return iceberg_error(404, "NoSuchNamespaceException",
                             "namespace `" + name + "` does not exist");
    }
    if (head) return no_content();
    std::map<std::string, std::string> properties = found->second;
    if (name == kDefaultNamespace) properties.emplace("location", lake_dir_);
    return json_response("{\"namespace\": " + namespace_json(name) +
                         ", \"properties\": " + string_map_json(properties) + "}");
}

HttpResponse IcebergCatalogHandler::drop_namespace(const HttpRequest& request) {
    const std::string name(path_namespace(request));
    std::lock_guard lock(mutex_);
    auto namespaces = read_namespaces();
    if (!namespaces.ok()) return error_response(namespaces.error(), "NoSuchNamespaceException");
    if (!namespaces->count(name)) {
        return iceberg_error(404, "NoSuchNamespaceException",
                             "namespace `" + name + "` does not exist");
    }
    if (name == kDefaultNamespace) {
        auto tables = LakeTable::list(data_dir_);
        if (tables.ok() && !tables->empty()) {
            return iceberg_error(409, "NamespaceNotEmptyException",
                                 "namespace `default` holds the lake's " +
                                     std::to_string(tables->size()) + " table(s)");
        }
        return iceberg_error(406, "UnsupportedOperationException",
                             "namespace `default` is the lake itself and cannot be dropped");
    }
    namespaces->erase(name);
    Status wrote = write_namespaces(*namespaces);
    if (!wrote.ok()) return error_response(wrote.error(), "NoSuchNamespaceException");
    return no_content();
}

HttpResponse IcebergCatalogHandler::update_namespace_properties(const HttpRequest& request) {
    const std::string name(path_namespace(request));
    simdjson::dom::parser parser;
    simdjson::padded_string padded(request.body);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
        return iceberg_error(400, "BadRequestException",
                             "the body must be an UpdateNamespacePropertiesRequest");
    }
    std::vector<std::string> removals;
    std::map<std::string, std::string> updates;
    simdjson::dom::array array;
    if (root["removals"].get(array) == simdjson::SUCCESS) {
        for (auto item : array) {
            std::string_view key;
            if (item.get(key) != simdjson::SUCCESS) {
                return iceberg_error(400, "BadRequestException", "`removals` must hold strings");
            }
            removals.emplace_back(key);
        }
    }
    simdjson::dom::object object;
    if (root["updates"].get(object) == simdjson::SUCCESS) {
        for (auto field : object) {
            std::string_view value;
            if (field.value.get(value) != simdjson::SUCCESS) {
                return iceberg_error(400, "BadRequestException",
                                     "property `" + std::string(field.key) + "` must be a string");
            }
            updates[std::string(field.key)] = std::string(value);
        }
    }
    for (const std::string& key : removals) {
        if (updates.count(key)) {
            return iceberg_error(422, "UnprocessableEntityException",
                                 "property `" + key + "` is both updated and removed");
        }
    }
    std::lock_guard lock(mutex_);
    auto namespaces = read_namespaces();
    if (!namespaces.ok()) return error_response(namespaces.error(), "NoSuchNamespaceException");
    auto found = namespaces->find(name);
    if (found == namespaces->end()) {
        return iceberg_error(404, "NoSuchNamespaceException",
                             "namespace `" + name + "` does not exist");
    }
    std::string removed = "[", missing = "[", updated = "[";
    for (const std::string& key : removals) {
        std::string& list = found->second.erase(key) ? removed : missing;
        if (list.size() > 1) list += ", ";
        append_json_string(list, key);
    }
    for (const auto& [key, value] : updates) {
        found->second[key] = value;
        if (updated.size() > 1) updated += ", ";
        append_json_string(updated, key);
    }
    Status wrote = write_namespaces(*namespaces);
    if (!wrote.ok()) return error_response(wrote.error(), "NoSuchNamespaceException");
    return json_response("{\"updated\": " + updated + "], \"removed\": " + removed +
                         "], \"missing\": " + missing + "]}");
}

HttpResponse IcebergCatalogHandler::list_tables(const HttpRequest& request) {
    const std::string name(path_namespace(request));
    {
        std::lock_guard lock(mutex_);
        auto namespaces = read_namespaces();
        if (!namespaces.ok()) return error_response(namespaces.error(), "NoSuchNamespaceException");
        if (!namespaces->count(name)) {
            return iceberg_error(404, "NoSuchNamespaceException",
                                 "namespace `" + name + "` does not exist");
        }
    }
    std::string body = "{\"identifiers\": [";
    if (name == kDefaultNamespace) {
        auto tables = LakeTable::list(data_dir_);
        if (!tables.ok()) return error_response(tables.error(), "NoSuchNamespaceException");
        bool first = true;
        for (const std::string& table : *tables) {
            if (!first) body += ", ";
            first = false;
            body += "{\"namespace\": " + namespace_json(name) + ", \"name\": ";
            append_json_string(body, table);
            body += "}";
        }
    }
    body += "]}";
    return json_response(std::move(body));
}

HttpResponse IcebergCatalogHandler::create_table(const HttpRequest& request) {
    const std::string name(path_namespace(request));
    if (name != kDefaultNamespace) {
        std::lock_guard lock(mutex_);
        auto namespaces = read_namespaces();
        if (namespaces.ok() && !namespaces->count(name)) {
            return iceberg_error(404, "NoSuchNamespaceException",
                                 "namespace `" + name + "` does not exist");
        }
        return iceberg_error(400, "BadRequestException",
                             "lake tables live in namespace `default`, not `" + name + "`");
    }
    auto parsed = parse_create_table_request(request.body);
    if (!parsed.ok()) return error_response(parsed.error(), "NoSuchTableException");
    CreateTableRequest& create = *parsed;
    if (create.stage_create) {
        return iceberg_error(400, "BadRequestException",
                             "stage-create is not supported: create the table, then commit");
    }
    const std::string location = lake_dir_ + "/" + create.name;
    if (!create.location.empty() && create.location != location &&
        create.location != "file://" + location) {
        return iceberg_error(400, "BadRequestException",
                             "a lake table's location is its folder " + location);
    }
    auto table = LakeTable::create(data_dir_, create.name, create.schema, create.partition_by,
                                   nullptr, create.float_columns);
    if (!table.ok()) return error_response(table.error(), "NoSuchTableException");
    if (!create.properties.empty()) {
        // The properties are the table's first commit; a failure leaves the created table.
        std::string commit = "{\"updates\": [{\"action\": \"set-properties\", \"updates\": " +
                             string_map_json(create.properties) + "}]}";
        HttpRequest inner;
        inner.body = std::move(commit);
        inner.params = {{"namespace", name}, {"table", create.name}};
        HttpResponse committed = commit_table(inner);
        if (committed.status != 200) return committed;
    }
    auto file = table->current_metadata_file();
    if (!file.ok()) return error_response(file.error(), "NoSuchTableException");
    return table_result(*file);
}

HttpResponse IcebergCatalogHandler::load_table(const HttpRequest& request, bool head) {
    const std::string name(path_namespace(request));
    const std::string& table_name = request.param("table");
    if (name != kDefaultNamespace) {
        return iceberg_error(404, "NoSuchTableException",
                             "no table `" + name + "." + table_name + "`");
    }
    auto table = LakeTable::open(data_dir_, table_name);
    if (!table.ok()) {
        if (table.error().code() == ErrorCode::kInvalidArgument) {
            return iceberg_error(404, "NoSuchTableException", table.error().message());
        }
        return error_response(table.error(), "NoSuchTableException");
    }
    if (head) return no_content();
    auto file = table->current_metadata_file();
    if (!file.ok()) return error_response(file.error(), "NoSuchTableException");
    return table_result(*file);
}

HttpResponse IcebergCatalogHandler::commit_table(const HttpRequest& request) {
    const std::string name(path_namespace(request));
    const std::string& table_name = request.param("table");
    if (name != kDefaultNamespace) {
        return iceberg_error(404, "NoSuchTableException",
                             "no table `" + name + "." + table_name + "`");
    }
    auto table = LakeTable::open(data_dir_, table_name);
    if (!table.ok()) {
        if (table.error().code() == ErrorCode::kInvalidArgument) {
            return iceberg_error(404, "NoSuchTableException", table.error().message());
        }
        return error_response(table.error(), "NoSuchTableException");
    }
    for (int attempt = 0; attempt < kCommitAttempts; ++attempt) {
        auto base = table->current_metadata_file();
        if (!base.ok()) return error_response(base.error(), "NoSuchTableException");
        auto applied = apply_table_commit(base->json, request.body, base->path, now_ms());
        if (!applied.ok()) {
            if (applied.error().code() == ErrorCode::kUnavailable) {
                return iceberg_error(409, "CommitFailedException", applied.error().message());
            }
            return error_response(applied.error(), "NoSuchTableException");
        }
        if (!applied->changed) return table_result(*base);
        auto created = table->commit_metadata_file(base->version + 1, applied->metadata_json);
        if (!created.ok()) return error_response(created.error(), "NoSuchTableException");
        if (*created) {
            LakeTable::MetadataFile file;
            file.version = base->version + 1;
            const std::string suffix = "/v" + std::to_string(base->version) + ".metadata.json";
            file.path = base->path.substr(0, base->path.size() - suffix.size()) + "/v" +
                        std::to_string(file.version) + ".metadata.json";
            file.json = std::move(applied->metadata_json);
            return table_result(file);
        }
        // Another writer took that version: check the requirements again on the newer one.
        thread_local std::mt19937_64 random(std::random_device{}());
        std::this_thread::sleep_for(
            std::chrono::microseconds(random() % (1000 * std::min(attempt + 1, 20) + 1)));
    }
    return iceberg_error(409, "CommitFailedException",
                         "the table kept changing under the commit; reload it and retry");
}

HttpResponse IcebergCatalogHandler::drop_table(const HttpRequest& request) {
    const std::string name(path_namespace(request));
    const std::string& table_name = request.param("table");
    if (name != kDefaultNamespace) {
        return iceberg_error(404, "NoSuchTableException",
                             "no table `" + name + "." + table_name + "`");
    }
    auto table = LakeTable::open(data_dir_, table_name);
    if (!table.ok()) {
        if (table.error().code() == ErrorCode::kInvalidArgument) {
            return iceberg_error(404, "NoSuchTableException", table.error().message());
        }
        return error_response(table.error(), "NoSuchTableException");
    }
    const std::string* purge = request.query_param("purgeRequested");
    const bool purge_requested = purge && *purge == "true";
    // Out of the lake in one rename, so no reader or writer sees half a table; without purge
    // the files stay in _dropped/ (the lake lists no folder starting with '_').
    const std::string dropped = lake_dir_ + "/_dropped/" + table_name + "-" +
                                std::to_string(now_ms()) + "-" + random_uuid().substr(0, 8);
    std::error_code error;
    std::filesystem::create_directories(lake_dir_ + "/_dropped", error);
    if (!error) std::filesystem::rename(table->path(), dropped, error);
    if (error) {
        return iceberg_error(
            500, "InternalServerError",
            "cannot move " + table->path() + " to " + dropped + ": " + error.message());
    }
    if (purge_requested) std::filesystem::remove_all(dropped, error);
    return no_content();
}

HttpResponse IcebergCatalogHandler::rename_table(const HttpRequest& request) {
    // A RenameTableRequest: {"source": {"namespace": ["default"], "name": "a"},
    //                        "destination": {"namespace": ["default"], "name": "b"}}.
    simdjson::dom::parser parser;
    simdjson::padded_string padded(request.body);
    simdjson::dom::element root;
    std::string_view source, destination;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS ||
        root["source"]["name"].get(source) != simdjson::SUCCESS ||
        root["destination"]["name"].get(destination) != simdjson::SUCCESS) {
        return iceberg_error(400, "BadRequestException",
                             "the body must be a RenameTableRequest: {\"source\": {\"namespace\", "
                             "\"name\"}, \"destination\": {...}}");
    }
    // Tables live in the `default` namespace only; a namespace, when given, must say so.
    auto namespace_of = [&](const char* side) -> std::optional<std::string> {
        simdjson::dom::array levels;
        if (root[side]["namespace"].get(levels) != simdjson::SUCCESS) return std::string();
        std::string joined;
        for (simdjson::dom::element level : levels) {
            std::string_view text;
            if (level.get(text) != simdjson::SUCCESS) return std::nullopt;
            if (!joined.empty()) joined += '.';
            joined += text;
        }
        return joined;
    };
    const std::optional<std::string> from_namespace = namespace_of("source");
    const std::optional<std::string> to_namespace = namespace_of("destination");
    if (!from_namespace || !to_namespace) {
        return iceberg_error(400, "BadRequestException",
                             "a namespace is an array of strings, e.g. [\"default\"]");
    }
    if (!from_namespace->empty() && *from_namespace != kDefaultNamespace) {
        return iceberg_error(404, "NoSuchTableException",
                             "no table `" + *from_namespace + "." + std::string(source) + "`");
    }
    if (!to_namespace->empty() && *to_namespace != kDefaultNamespace) {
        return iceberg_error(404, "NoSuchNamespaceException",
                             "tables live in namespace `" + std::string(kDefaultNamespace) +
                                 "`; there is no namespace `" + *to_namespace + "` to move to");
    }
    if (source == destination) {
        return iceberg_error(409, "AlreadyExistsException",
                             "table `" + std::string(destination) + "` already exists");
    }
    auto renamed = LakeTable::rename(data_dir_, std::string(source), std::string(destination));
    if (!renamed.ok()) return error_response(renamed.error(), "NoSuchTableException");
    return no_content();
}

}  // namespace millrace
