#pragma once

#include <map>
#include <mutex>
#include <string>

#include "common/result.h"
#include "server/router.h"

namespace millrace {

/// The Apache Iceberg REST catalog over the project's lake (docs/lake.md, "REST catalog"), so
/// engines that speak it (Spark, Trino, Flink, PyIceberg, DuckDB, iceberg-js) find the lake's
/// tables by name. The catalog is the lake folder itself: every table under
/// `<data_dir>/lake/` is a table of namespace `default`, pipelines' tables included, with no
/// registration step; load answers the newest `metadata/v<N>.metadata.json` as written.
///
/// Routes, under `/iceberg/v1/` and, identically, under `/iceberg/v1/lake/` (the prefix that
/// `GET /iceberg/v1/config` hands out; clients that ignore it use the short form):
///
///   GET  config                                  defaults, overrides (prefix), endpoints
///   GET|POST namespaces                          list; create (properties kept in
///                                                <data_dir>/lake/_catalog/namespaces.json)
///   GET|HEAD|DELETE namespaces/{ns}              load; exists; drop an empty one
///   POST namespaces/{ns}/properties              set and remove namespace properties
///   GET|POST namespaces/{ns}/tables              list; create (namespace `default` only)
///   GET|HEAD|POST|DELETE namespaces/{ns}/tables/{table}
///                                                load; exists; commit (catalog_requests.h);
///                                                drop (moved to lake/_dropped/, or deleted
///                                                with purgeRequested=true)
///   POST tables/rename                           406: lake paths are absolute in metadata
///
/// A commit re-reads the newest metadata, checks the requirements, applies the updates and
/// creates the next version with link(2), like every lake commit; when a writer took that
/// version first it starts over on the newer one (bounded), so a stale requirement is a 409.
/// Errors have the specification's shape: {"error": {"message", "type", "code"}}.
///
/// Every route is in the Router group "catalog" (bearer auth by scope). Threads: any number
/// of requests at once; namespace changes are serialized by a mutex.
class IcebergCatalogHandler {
public:
    explicit IcebergCatalogHandler(std::string data_dir);

    void add_routes(Router& router);

private:
    HttpResponse config() const;
    HttpResponse list_namespaces(const HttpRequest& request);
    HttpResponse create_namespace(const HttpRequest& request);
    HttpResponse load_namespace(const HttpRequest& request, bool head);
    HttpResponse drop_namespace(const HttpRequest& request);
    HttpResponse update_namespace_properties(const HttpRequest& request);
    HttpResponse list_tables(const HttpRequest& request);
    HttpResponse create_table(const HttpRequest& request);
    HttpResponse load_table(const HttpRequest& request, bool head);
    HttpResponse commit_table(const HttpRequest& request);
    HttpResponse drop_table(const HttpRequest& request);
    HttpResponse rename_table(const HttpRequest& request);

    /// Namespace -> properties; always has `default`. Callers hold mutex_.
    Result<std::map<std::string, std::map<std::string, std::string>>> read_namespaces() const;
    Status write_namespaces(
        const std::map<std::string, std::map<std::string, std::string>>& namespaces) const;

    std::string data_dir_;
    std::string lake_dir_;  // absolute
    std::mutex mutex_;
};

}  // namespace millrace
