#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "project/project.h"
#include "sql/binder.h"

namespace millrace {

/// The names a pipeline's SQL may read: its sources (as scans of their settled schemas) and
/// its views (parsed and bound on first use, so views may read views; a cycle is an error
/// naming the chain). Errors point into the pipeline file: the SQL's line:column is mapped to
/// the YAML scalar the view was written in.
class PipelineCatalog final : public sql::Catalog {
public:
    PipelineCatalog(const PipelineSpec& spec,
                    std::map<std::string, std::shared_ptr<const Schema>> source_schemas);

    Result<sql::LogicalPlan> relation(std::string_view name) override;
    std::vector<std::string> relation_names() const override;

    /// Binds every view (validation), returning the first error.
    Status bind_all_views();

private:
    Result<sql::LogicalPlan> bind_view(const ViewSpec& view);

    const PipelineSpec& spec_;
    std::map<std::string, std::shared_ptr<const Schema>> source_schemas_;
    std::map<std::string, sql::LogicalPlan> views_;
    std::vector<std::string> binding_;  // views being bound, outermost first (cycle detection)
};

}  // namespace millrace
