#include "cli/validate_command.h"

#include <cstdio>
#include <vector>

#include "online/feature_view.h"
#include "pipeline/batch_runner.h"
#include "pipeline/pipeline_catalog.h"
#include "project/pipeline_variables.h"
#include "project/project_loader.h"
#include "scheduler/job_parser.h"
#include "server/feature_route.h"
#include "server/serving_config.h"

namespace millrace {

int run_validate(const std::string& project_dir, const std::vector<std::string>& vars) {
    std::vector<Error> errors;
    Result<std::map<std::string, std::string>> given = parse_variable_assignments(vars);
    if (!given.ok()) {
        std::fprintf(stderr, "%s\n", given.error().to_string().c_str());
        return 1;
    }
    Result<Project> project = load_project(project_dir, &errors);
    if (!project.ok() && errors.empty()) errors.push_back(project.error());
    if (project.ok()) {
        for (const Error& warning : project->warnings) {
            std::string text = warning.to_string();
            const std::size_t at = text.find(": error: ");
            if (at != std::string::npos) text.replace(at, 9, ": warning: ");
            std::fprintf(stderr, "%s\n", text.c_str());
        }
    }
    std::vector<std::string> notes;
    if (project.ok()) {
        // Feature views: entities, features, types, defaults, TTL, source.
        Result<std::vector<FeatureView>> views = load_feature_views(*project, &errors);
        // SQL binding: every view and check against its sources' schemas; online sinks
        // against their feature views.
        for (const auto& [name, value] : *given) {
            bool known = is_builtin_pipeline_variable(name);
            for (const PipelineSpec& pipeline : project->pipelines) {
                known = known || pipeline.variables.count(name) > 0;
            }
            if (!known) {
                errors.emplace_back(ErrorCode::kInvalidArgument,
                                    "--var " + name + ": no pipeline declares a variable `" + name +
                                        "` under `vars:`");
            }
        }
        // The GeoIP database of ip_country(), when set, must open.
        if (Status geo = check_function_resources(*project); !geo.ok())
            errors.push_back(std::move(geo).error());
        const sql::FunctionResources resources = function_resources(*project);
        for (const PipelineSpec& declared : project->pipelines) {
            // What `run` refuses whatever the data.
            std::vector<Error> unsupported;
            if (declared.mode == PipelineMode::kStreaming) {
                check_streaming_support(declared, unsupported);
            } else {
                check_batch_support(declared, unsupported);
            }
            for (Error& error : unsupported) errors.push_back(std::move(error));
            // File paths with {{ variables }}: the given values, the pipeline's defaults, else
            // any file (said in a note).
            std::map<std::string, std::string> mine;
            for (const auto& [name, value] : *given) {
                if (is_builtin_pipeline_variable(name) || declared.variables.count(name) > 0) {
                    mine[name] = value;
                }
            }
            Result<PipelineSpec> pipeline = bind_pipeline_variables(declared, mine, &notes);
            if (!pipeline.ok()) {
                errors.push_back(std::move(pipeline).error());
                continue;
            }
            Status status = check_pipeline_sql(*pipeline, notes, views.ok() ? &*views : nullptr,
                                               &resources, &*project);
            if (!status.ok()) errors.push_back(std::move(status).error());
        }
        for (const std::string& note : notes) std::fprintf(stderr, "note: %s\n", note.c_str());
        // Jobs: task kinds, dependencies (cycles), cron schedules, time zones, templates.
        for (const JobSpec& job : project->jobs) (void)load_job(job, *project, errors);
        // Serving: the `serving:` block (token_env variables are the server's secrets and need
        // not be set here) and the YAML routes against the feature views.
        const ServingConfig serving = parse_serving_config(
            *project, errors,
            [](const std::string&) { return std::optional<std::string>("set at serve time"); });
        // `serve` refuses to listen beyond loopback without auth (unless `auth: none`).
        const std::string& listen = project->listen_http;
        std::string host = listen.substr(0, listen.rfind(':'));
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
        }
        if (auto refused = check_listen_auth(serving, host, "`listen.http` " + listen,
                                             project->listen_location)) {
            errors.push_back(std::move(*refused));
        }
        if (views.ok()) (void)parse_feature_routes(*project, *views, errors);
    }
    if (!errors.empty()) {
        for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        std::fprintf(stderr, "%zu error%s in %s\n", errors.size(), errors.size() == 1 ? "" : "s",
                     project_dir.c_str());
        return 1;
    }
    std::printf("project `%s` is valid: %zu pipeline%s, %zu feature view%s, %zu job%s\n",
                project->name.c_str(), project->pipelines.size(),
                project->pipelines.size() == 1 ? "" : "s", project->feature_views.size(),
                project->feature_views.size() == 1 ? "" : "s", project->jobs.size(),
                project->jobs.size() == 1 ? "" : "s");
    return 0;
}

}  // namespace millrace
