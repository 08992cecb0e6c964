#include "cli/check_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <set>
#include <vector>

#include "pipeline/quality_check.h"
#include "project/pipeline_variables.h"
#include "project/project_loader.h"

namespace millrace {

int run_check_command(const CheckCommandOptions& options) {
    std::vector<Error> errors;
    Result<Project> project = load_project(options.project_dir, &errors);
    if (!project.ok() && errors.empty()) errors.push_back(project.error());
    if (!errors.empty()) {
        for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        return 1;
    }
    std::set<std::string> checked;
    std::set<std::string> checked_tables;  // lake tables written from checked views
    for (const PipelineSpec& pipeline : project->pipelines) {
        for (const CheckSpec& check : pipeline.checks) checked.insert(check.target);
        for (const SinkSpec& sink : pipeline.sinks) {
            if (sink.kind != SinkKind::kLake || pipeline.find_view(sink.from) == nullptr) continue;
            for (const CheckSpec& check : pipeline.checks) {
                if (check.target == sink.from) checked_tables.insert(sink.table);
            }
        }
    }
    const bool table = !options.dataset.empty() && checked.count(options.dataset) == 0 &&
                       checked_tables.count(options.dataset) > 0;
    if (!options.dataset.empty() && checked.count(options.dataset) == 0 && !table) {
        std::string names;
        for (const std::string& name : checked) names += (names.empty() ? "" : ", ") + name;
        for (const std::string& name : checked_tables) {
            names += (names.empty() ? "" : ", ") + name + " (lake table)";
        }
        std::fprintf(stderr, "error: no pipeline of `%s` has checks on `%s` (checked: %s)\n",
                     project->name.c_str(), options.dataset.c_str(),
                     names.empty() ? "none" : names.c_str());
        return 1;
    }
    std::size_t passed = 0, warnings = 0, failed = 0;
    bool broken = false;
    for (const PipelineSpec& declared : project->pipelines) {
        bool has_checks = false;
        for (const CheckSpec& check : declared.checks) {
            has_checks = has_checks || options.dataset.empty() || check.target == options.dataset;
        }
        for (const SinkSpec& sink : declared.sinks) {
            has_checks = has_checks ||
                         (table && sink.kind == SinkKind::kLake && sink.table == options.dataset);
        }
        if (!has_checks) continue;
        Result<PipelineSpec> pipeline = bind_pipeline_variables(declared, {});
        Result<PipelineCheckReport> report = Result<PipelineCheckReport>(PipelineCheckReport{});
        if (!pipeline.ok()) {
            report = pipeline.error();
        } else if (table) {
            report = check_lake_table_rules(*project, *pipeline, options.dataset, options.clock);
        } else {
            report = check_pipeline_rules(*project, *pipeline, options.dataset, options.clock);
        }
        if (!report.ok()) {
            std::fprintf(stderr, "%s\n", report.error().to_string().c_str());
            std::fprintf(stderr, "pipeline `%s`: its rules could not be judged\n",
                         declared.name.c_str());
            broken = true;
            continue;
        }
        std::string out = fmt::format("pipeline {}\n", declared.name);
        if (!report->skipped.empty()) out += fmt::format("  skipped: {}\n", report->skipped);
        for (const RuleResult& r : report->results) {
            const char* verdict = r.passed                             ? "passed"
                                  : r.severity == CheckSeverity::kWarn ? "WARNING"
                                                                       : "FAILED";
            out += fmt::format("  rule   {:<16} {} {}: observed {}, bound {}\n", r.dataset, verdict,
                               r.rule, r.observed, r.bound);
            if (r.passed) {
                ++passed;
            } else if (r.severity == CheckSeverity::kWarn) {
                ++warnings;
            } else {
                ++failed;
            }
        }
        std::fputs(out.c_str(), stdout);
    }
    std::printf("%zu rule(s): %zu passed, %zu warning(s), %zu failed\n", passed + warnings + failed,
                passed, warnings, failed);
    return failed > 0 || broken ? 1 : 0;
}

}  // namespace millrace
