#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "lineage/lineage_graph.h"
#include "online/feature_view.h"
#include "project/project.h"
#include "server/router.h"

namespace millrace {

class Log;
class SchemaRegistry;

/// The project's data catalog, its lineage graph and its dead letters, read-only, in the
/// "admin" group (docs/dashboard.md, "The catalog"):
///
///   GET /v1/datasets?q=&kind=&limit=   {"datasets": [{"id", "kind", "name", "description",
///                                      "owner", "tags", "columns", "pipelines"}], "total"}:
///                                      topics, lake tables, feature views, files and views
///                                      whose name, kind, description, owner, tags or column
///                                      names contain every word of `q` (any case)
///   GET /v1/datasets/{dataset}         one of them (by id `<kind>:<name>`, or by name when
///                                      only one dataset has it) with "schema_history",
///                                      "freshness", "checks" (the newest result of each
///                                      rule on it) and "lineage" ({"upstream", "downstream"})
///   GET /v1/lineage?dataset=|pipeline= the graph ({"nodes", "edges"}), and for a dataset or a
///                                      pipeline what it reads from and feeds, transitively
///   GET /v1/dead-letters?pipeline=&stage=&source=&q=&limit=
///                                      the pipelines' dead-letter files, newest first, with
///                                      counts per reason and per stage (stage `file`: the
///                                      files a batch set aside whole)
///
/// Bad parameters are 400 and unknown names 404, each with a JSON body. Threads: the project
/// and graph are read-only after construction; the rest is read from disk per request.
class CatalogHandler {
public:
    /// `log` and `registry` may be null (no topics then).
    CatalogHandler(const Project& project, const Log* log, const SchemaRegistry* registry,
                   const Clock& clock);
    void add_routes(Router& router);

    HttpResponse search(const HttpRequest& request) const;
    HttpResponse describe(const HttpRequest& request) const;
    HttpResponse lineage(const HttpRequest& request) const;
    HttpResponse dead_letters(const HttpRequest& request) const;

    /// One dataset as the catalog lists it.
    struct Entry {
        std::string id;  // `<kind>:<name>`, as the lineage graph names it
        std::string kind;
        std::string name;
        DatasetDocs docs;
        std::vector<std::pair<std::string, std::string>> columns;  // name, type
        std::vector<std::string> pipelines;                        // that read or write it
        /// The (pipeline, source or view) names whose check results are about this dataset.
        std::vector<std::pair<std::string, std::string>> checked_as;
        std::vector<std::string> paths;  // kFile: the path (a source's glob) as resolved
    };
    /// Every dataset the project names or the data directory holds, in a stable order.
    std::vector<Entry> entries() const;

private:
    const Project& project_;
    const Log* log_;
    const SchemaRegistry* registry_;
    const Clock& clock_;
    Result<LineageGraph> graph_;
    std::vector<FeatureView> feature_views_;
};

}  // namespace millrace
