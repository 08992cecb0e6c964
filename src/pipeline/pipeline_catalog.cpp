#include "pipeline/pipeline_catalog.h"

#include <fmt/format.h>

#include <algorithm>

#include "exec/geoip_database.h"
#include "sql/parser.h"

namespace millrace {

sql::FunctionResources function_resources(const Project& project) {
    sql::FunctionResources out;
    out.geoip_database = project.geoip_database;
    return out;
}

Status check_function_resources(const Project& project) {
    if (project.geoip_database.empty()) return {};
    auto db = GeoIpDatabase::open_shared(project.geoip_database);
    if (!db.ok()) {
        return Error(db.error().code(), fmt::format("`geoip.database`: {}", db.error().message()),
                     project.geoip_location);
    }
    return {};
}

PipelineCatalog::PipelineCatalog(
    const PipelineSpec& spec, std::map<std::string, std::shared_ptr<const Schema>> source_schemas,
    sql::FunctionResources resources)
    : spec_(spec), source_schemas_(std::move(source_schemas)), resources_(std::move(resources)) {}

std::vector<std::string> PipelineCatalog::relation_names() const {
    std::vector<std::string> names;
    for (const auto& source : spec_.sources) names.push_back(source.name);
    for (const auto& view : spec_.views) names.push_back(view.name);
    return names;
}

Result<sql::LogicalPlan> PipelineCatalog::relation(std::string_view name) {
    if (auto it = source_schemas_.find(std::string(name)); it != source_schemas_.end()) {
        auto scan = std::make_unique<sql::LogicalNode>();
        scan->kind = sql::LogicalNode::Kind::kScan;
        scan->source = std::string(name);
        scan->source_schema = it->second;
        scan->schema = it->second;
        for (std::size_t i = 0; i < it->second->size(); ++i) scan->columns.push_back(i);
        return scan;
    }
    if (spec_.find_source(name) != nullptr) {
        return Error(ErrorCode::kUnsupported,
                     fmt::format("source `{}` cannot be read in this run", name));
    }
    const ViewSpec* view = spec_.find_view(name);
    if (view == nullptr)
        return Error(ErrorCode::kNotFound, fmt::format("unknown source or view `{}`", name));
    if (auto it = views_.find(view->name); it != views_.end()) return it->second->clone();
    MILLRACE_ASSIGN_OR_RETURN(sql::LogicalPlan plan, bind_view(*view));
    views_[view->name] = plan->clone();
    return plan;
}

Result<sql::LogicalPlan> PipelineCatalog::bind_view(const ViewSpec& view) {
    if (std::find(binding_.begin(), binding_.end(), view.name) != binding_.end()) {
        std::string chain;
        bool in_cycle = false;
        for (const auto& name : binding_) {
            in_cycle = in_cycle || name == view.name;
            if (in_cycle) chain += name + " -> ";
        }
        chain += view.name;
        return Error(ErrorCode::kConfig,
                     fmt::format("views refer to each other in a cycle: {}", chain), view.location);
    }
    binding_.push_back(view.name);
    auto map_error = [&](Error error) {
        SourceLocation location = error.location();
        std::string message = error.message();
        if (location.file.empty() && location.line > 0) {
            const SourceLocation in_sql = location;
            location = view.sql.location_of(in_sql.line, in_sql.column);
            // A view whose text has no file position still names where in the SQL.
            if (location.file.empty()) {
                message += fmt::format(" (line {}, column {} of the view's SQL)", in_sql.line,
                                       in_sql.column);
                location = view.location;
            }
        }
        if (!location.known()) location = view.location;
        if (message.rfind("view `", 0) != 0)
            message = fmt::format("view `{}`: {}", view.name, message);
        return Error(error.code(), message, location);
    };
    auto parsed = sql::parse_select(view.sql.text);
    if (!parsed.ok()) {
        binding_.pop_back();
        return map_error(std::move(parsed).error());
    }
    auto bound = sql::bind_select(*parsed.value(), view.sql.text, *this);
    binding_.pop_back();
    if (!bound.ok()) return map_error(std::move(bound).error());
    return std::move(bound).value();
}

Status PipelineCatalog::bind_all_views() {
    for (const auto& view : spec_.views) {
        MILLRACE_TRY(relation(view.name));
    }
    return {};
}

}  // namespace millrace
