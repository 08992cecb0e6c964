#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "project/project.h"
#include "sql/binder.h"

namespace millrace {

/// What the project configures for functions that read outside data (ip_country()).
sql::FunctionResources function_resources(const Project& project);
/// Opens what function_resources() names (the GeoIP database), so that a bad path is a config
/// error at its line in millrace.yaml before any run.
Status check_function_resources(const Project& project);

/// The names a pipeline's SQL may read: its sources (as scans of their settled schemas) and
/// its views (parsed and bound on first use, so views may read views; a cycle is an error
/// naming the chain). Errors point into the pipeline file: the SQL's line:column is mapped to
/// the YAML scalar the view was written in.
class PipelineCatalog final : public sql::Catalog {
public:
    PipelineCatalog(const PipelineSpec& spec,
                    std::map<std::string, std::shared_ptr<const Schema>> source_schemas,
                    sql::FunctionResources resources = {});

    Result<sql::LogicalPlan> relation(std::string_view name) override;
    std::vector<std::string> relation_names() const override;
    const sql::FunctionResources* function_resources() const override { return &resources_; }

    /// Binds every view (validation), returning the first error.
    Status bind_all_views();

private:
    Result<sql::LogicalPlan> bind_view(const ViewSpec& view);

    const PipelineSpec& spec_;
    std::map<std::string, std::shared_ptr<const Schema>> source_schemas_;
    sql::FunctionResources resources_;
    std::map<std::string, sql::LogicalPlan> views_;
    std::vector<std::string> binding_;  // views being bound, outermost first (cycle detection)
};

}  // namespace millrace
