#include "cli/run_command.h"

#include <fmt/format.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "common/logger.h"
#include "exec/operator.h"
#include "lineage/lineage_recorder.h"
#include "pipeline/batch_runner.h"
#include "pipeline/stream_runner.h"
#include "project/duration.h"
#include "project/pipeline_variables.h"
#include "project/project_loader.h"

namespace millrace {

namespace {

/// Loads the project and returns the pipeline with the run's variables filled into its file
/// paths; nullopt after printing why not.
std::optional<PipelineSpec> load_pipeline(const RunCommandOptions& options, Project& project) {
    std::vector<Error> errors;
    Result<Project> loaded = load_project(options.project_dir, &errors);
    if (!loaded.ok() && errors.empty()) errors.push_back(loaded.error());
    if (!errors.empty()) {
        for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        return std::nullopt;
    }
    project = std::move(loaded).value();
    const PipelineSpec* pipeline = project.find_pipeline(options.pipeline);
    if (pipeline == nullptr) {
        std::string names;
        for (const auto& p : project.pipelines) names += (names.empty() ? "" : ", ") + p.name;
        std::fprintf(stderr, "error: project `%s` has no pipeline `%s` (pipelines: %s)\n",
                     project.name.c_str(), options.pipeline.c_str(),
                     names.empty() ? "none" : names.c_str());
        return std::nullopt;
    }
    Result<PipelineSpec> bound = [&]() -> Result<PipelineSpec> {
        MILLRACE_ASSIGN_OR_RETURN(auto given, parse_variable_assignments(options.vars));
        return bind_pipeline_variables(*pipeline, given);
    }();
    if (!bound.ok()) {
        std::fprintf(stderr, "%s\n", bound.error().to_string().c_str());
        return std::nullopt;
    }
    return std::move(bound).value();
}

std::optional<std::size_t> parse_size(const std::string& text) {
    if (text.empty()) return std::nullopt;
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    std::string unit = end;
    std::size_t scale = 1;
    if (unit == "K" || unit == "KB" || unit == "KiB")
        scale = 1u << 10;
    else if (unit == "M" || unit == "MB" || unit == "MiB")
        scale = 1u << 20;
    else if (unit == "G" || unit == "GB" || unit == "GiB")
        scale = std::size_t{1} << 30;
    else if (!unit.empty())
        return std::nullopt;
    if (value <= 0) return std::nullopt;
    return static_cast<std::size_t>(value * static_cast<double>(scale));
}

std::string source_line(const SourceReport& s) {
    std::string out = fmt::format("  source {:<16} {:>12} rows read, {} rejected", s.name,
                                  s.rows_read, s.rows_rejected);
    if (s.rows_late > 0) out += fmt::format(", {} late", s.rows_late);
    if (s.rows_failed_checks > 0) out += fmt::format(", {} failed checks", s.rows_failed_checks);
    if (s.rows_dropped_by_checks > 0)
        out += fmt::format(", {} dropped by checks", s.rows_dropped_by_checks);
    if (s.check_warnings > 0) out += fmt::format(", {} check warnings", s.check_warnings);
    out += fmt::format(" ({} {}{}", s.files, s.unit, s.files == 1 ? "" : "s");
    if (!s.bad_files.empty()) out += fmt::format(", {} set aside", s.bad_files.size());
    out += fmt::format(", {:.1f} MB)\n", static_cast<double>(s.bytes) / 1e6);
    out += fmt::format("    records {} in = {} out + {} filtered + {} dead-lettered + {} late{}\n",
                       s.records_in(), s.records_out(), s.records_filtered(),
                       s.records_dead_lettered(), s.records_late(),
                       s.balanced() ? "" : " (DOES NOT ADD UP)");
    for (const SourceReport::BadFile& bad : s.bad_files) {
        out += fmt::format("    set aside {}: {}\n", bad.path, bad.reason);
    }
    return out;
}

std::string sinks_and_dead_letters(const RunReport& report) {
    std::string out;
    for (const RuleResult& r : report.rules) {
        out += fmt::format(
            "  rule   {:<16} {} {}: observed {}, bound {}\n", r.dataset,
            r.passed ? "passed" : (r.severity == CheckSeverity::kWarn ? "WARNING" : "FAILED"),
            r.rule, r.observed, r.bound);
    }
    for (const ViewCheckReport& v : report.views) {
        out += fmt::format(
            "  view   {:<16} {:>12} failed checks, {} dropped by checks, {} check "
            "warnings\n",
            v.name, v.rows_failed_checks, v.rows_dropped_by_checks, v.check_warnings);
    }
    for (const SinkReport& s : report.sinks) {
        out += fmt::format("  sink   {:<16} {:>12} rows written to {}\n", s.from, s.rows_written,
                           s.target);
    }
    out +=
        fmt::format("  dead letters {:>22} -> {}\n", report.dead_letters, report.dead_letter_path);
    for (const auto& [reason, count] : report.dead_letter_reasons) {
        out += fmt::format("    {:>8}  {}\n", count, reason);
    }
    if (!report.dead_letter_topic.empty()) {
        out += fmt::format("  dead-letter topic {:>17} -> {} (millrace dlq inspect)\n",
                           report.dead_letters_published, report.dead_letter_topic);
    }
    if (!report.dead_letter_warning.empty())
        out += fmt::format("  warning: {}\n", report.dead_letter_warning);
    out += fmt::format("  took {:.3f} s\n", static_cast<double>(report.duration.count()) / 1e6);
    return out;
}

/// The run's report as JSON log lines (`--log-format json`): one line per source, rule, checked
/// view, sink and dead-letter reason, then `run finished`; every line carries the logger's
/// fields (pipeline, run_id).
void log_report(const Logger& log, const RunReport& report) {
    for (const SourceReport& s : report.sources) {
        log.info("run", "source",
                 {{"source", s.name},
                  {"rows_read", s.rows_read},
                  {"rows_rejected", s.rows_rejected},
                  {"rows_late", s.rows_late},
                  {"rows_failed_checks", s.rows_failed_checks},
                  {"rows_dropped_by_checks", s.rows_dropped_by_checks},
                  {"check_warnings", s.check_warnings},
                  {"units", s.files},
                  {"unit", s.unit},
                  {"bytes", s.bytes}});
        for (const SourceReport::BadFile& bad : s.bad_files) {
            log.warn("run", "file set aside",
                     {{"source", s.name}, {"file", bad.path}, {"reason", bad.reason}});
        }
    }
    for (const RuleResult& r : report.rules) {
        log.log(r.passed ? LogLevel::kInfo : LogLevel::kWarn, "run", "rule",
                {{"dataset", r.dataset},
                 {"rule", r.rule},
                 {"observed", r.observed},
                 {"bound", r.bound},
                 {"passed", r.passed},
                 {"severity", enum_name(r.severity)}});
    }
    for (const ViewCheckReport& v : report.views) {
        log.info("run", "view checks",
                 {{"view", v.name},
                  {"rows_failed_checks", v.rows_failed_checks},
                  {"rows_dropped_by_checks", v.rows_dropped_by_checks},
                  {"check_warnings", v.check_warnings}});
    }
    for (const SinkReport& s : report.sinks) {
        log.info("run", "sink", {{"from", s.from}, {"target", s.target}, {"rows", s.rows_written}});
    }
    log.info("run", "dead letters",
             {{"count", report.dead_letters}, {"path", report.dead_letter_path}});
    for (const auto& [reason, count] : report.dead_letter_reasons) {
        log.info("run", "dead letter reason", {{"reason", reason}, {"count", count}});
    }
    log.info("run", "run finished",
             {{"seconds", static_cast<double>(report.duration.count()) / 1e6}});
}

/// The stdout logger of `--log-format json`, with the fields that tie its lines to the run:
/// pipeline, run_id (the lineage run's UUID) and job_run when a job's task started it.
Logger run_logger(const std::string& pipeline, const std::string& run_id) {
    Logger log(stdout);
    const char* job_run = std::getenv("MILLRACE_RUN_ID");
    if (job_run != nullptr && *job_run != '\0') {
        return log.with_fields({{"pipeline", pipeline}, {"run_id", run_id}, {"job_run", job_run}});
    }
    return log.with_fields({{"pipeline", pipeline}, {"run_id", run_id}});
}

/// A duration flag: nullopt after printing why it is bad.
std::optional<std::chrono::milliseconds> duration_flag(const char* flag, const std::string& text) {
    auto parsed = parse_duration(text);
    if (!parsed.ok() || parsed->count() <= 0) {
        std::fprintf(stderr, "error: %s `%s`: expected a duration such as 30s, 5m or 500ms\n", flag,
                     text.c_str());
        return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
}

int run_streaming(const RunCommandOptions& options, const Project& project,
                  const PipelineSpec& pipeline, std::optional<std::size_t> memory_limit) {
    StreamOptions stream;
    stream.memory_limit_bytes = memory_limit;  // else the pipeline's state_limit
    stream.allow_state_drop = options.allow_state_drop;
    stream.until_idle = options.until_idle;
    stream.checkpoints_retained = options.keep_checkpoints;
    if (!options.savepoint.empty()) stream.savepoint_to = options.savepoint;
    if (!options.from_savepoint.empty()) stream.from_savepoint = options.from_savepoint;
    if (!options.duration.empty()) {
        stream.duration = duration_flag("--duration", options.duration);
        if (!stream.duration) return 1;
    }
    if (auto idle = duration_flag("--idle", options.idle)) {
        stream.idle_for = *idle;
    } else {
        return 1;
    }
    if (!options.commit_interval.empty()) {
        auto interval = duration_flag("--commit-interval", options.commit_interval);
        if (!interval) return 1;
        stream.commit_interval = *interval;
    }
    // SIGINT/SIGTERM stop the run gracefully (windows emitted, sinks committed): blocked here and
    // polled between source polls, so no handler runs inside the runtime.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    stream.should_stop = [&stop_signals]() {
        timespec zero{0, 0};
        return sigtimedwait(&stop_signals, nullptr, &zero) > 0;
    };
    LineageRecorder lineage(project);
    const std::string lineage_run = lineage.start_pipeline(pipeline);
    lineage.deliver_once();
    const bool json = options.log_format == "json";
    if (json) run_logger(pipeline.name, lineage_run).info("run", "run started");
    Result<StreamReport> report = run_streaming_pipeline(project, pipeline, stream);
    lineage.finish_pipeline(pipeline, lineage_run, report.ok() ? &report->run : nullptr,
                            report.ok() ? "" : report.error().to_string());
    lineage.deliver_once();
    if (json) {
        const Logger log = run_logger(pipeline.name, lineage_run);
        if (!report.ok()) {
            log.error("run", "run failed", {{"error", report.error().to_string()}});
            return 1;
        }
        log.info("run", "commits",
                 {{"commits", report->commits}, {"watermarks", report->watermarks}});
        log_report(log, report->run);
        return 0;
    }
    if (!report.ok()) {
        std::fprintf(stderr, "%s\n", report.error().to_string().c_str());
        std::fprintf(stderr,
                     "pipeline `%s` failed; what it committed before stays, the rest was not "
                     "written and its topic offsets were not committed (a re-run reads it again)\n",
                     pipeline.name.c_str());
        return 1;
    }
    std::string out = fmt::format("pipeline {} (streaming)\n", report->run.pipeline);
    if (report->restored_checkpoint)
        out += fmt::format(
            "  restored checkpoint {}{}\n", *report->restored_checkpoint,
            options.from_savepoint.empty() ? "" : " from savepoint " + options.from_savepoint);
    for (const SourceReport& s : report->run.sources) out += source_line(s);
    out += sinks_and_dead_letters(report->run);
    out += fmt::format("  {} commit{}, {} watermark advances\n", report->commits,
                       report->commits == 1 ? "" : "s", report->watermarks);
    if (report->early_fires > 0)
        out += fmt::format("  {} early firings (emit: every)\n", report->early_fires);
    if (report->lookup_reloads > 0)
        out += fmt::format("  {} lookup reload{} (reload: true)\n", report->lookup_reloads,
                           report->lookup_reloads == 1 ? "" : "s");
    for (const StageReport& stage : report->stages) {
        out += fmt::format(
            "  keyed stage {}: parallelism {}, {} key groups, {} rows in, {} rows out, queue "
            "peak {} of {} batches, backpressured {:.3f} s\n",
            stage.sink, stage.parallelism, stage.key_groups, stage.records_in, stage.records_out,
            stage.queue_peak, stage.queue_capacity,
            static_cast<double>(stage.backpressure_micros) / 1e6);
    }
    if (report->savepoint)
        out += fmt::format("  savepoint {} -> {}\n", *report->savepoint, options.savepoint);
    if (report->state_peak_bytes > 0 || report->state_keys_peak > 0) {
        out += fmt::format(
            "  state: peak {} ({} bytes) of the {} limit, {} keys at most, {} at the end\n",
            format_bytes(report->state_peak_bytes), report->state_peak_bytes,
            format_bytes(report->state_limit_bytes), report->state_keys_peak,
            report->state_keys_end);
    }
    if (report->checkpoints > 0) {
        out += fmt::format(
            "  last checkpoint: {:.1f} ms (reading paused {:.1f} ms), {} ({} bytes) "
            "of operator state\n",
            static_cast<double>(report->last_checkpoint_duration.count()) / 1000,
            static_cast<double>(report->last_checkpoint_pause.count()) / 1000,
            format_bytes(report->last_checkpoint_state_bytes), report->last_checkpoint_state_bytes);
    }
    for (const std::string& dropped : report->dropped_state)
        out += fmt::format("  dropped state of {}\n", dropped);
    std::fputs(out.c_str(), stdout);
    return 0;
}

}  // namespace

int run_pipeline_command(const RunCommandOptions& options) {
    if (options.log_format != "text" && options.log_format != "json") {
        std::fprintf(stderr, "error: --log-format `%s`: expected text or json\n",
                     options.log_format.c_str());
        return 1;
    }
    Project project;
    std::optional<PipelineSpec> pipeline = load_pipeline(options, project);
    if (!pipeline) return 1;
    RunOptions run_options;
    run_options.clock = options.clock;
    for (const std::string& assignment : options.vars) {
        if (assignment.rfind("run_id=", 0) == 0) run_options.run_tag = assignment.substr(7);
    }
    if (!options.memory_limit.empty()) {
        auto size = parse_size(options.memory_limit);
        if (!size) {
            std::fprintf(stderr, "error: --memory-limit `%s`: expected a size such as 512M or 4G\n",
                         options.memory_limit.c_str());
            return 1;
        }
        run_options.memory_limit_bytes = *size;
    }
    if (pipeline->mode == PipelineMode::kStreaming) {
        return run_streaming(options, project, *pipeline,
                             options.memory_limit.empty()
                                 ? std::nullopt
                                 : std::optional<std::size_t>(run_options.memory_limit_bytes));
    }
    if (options.until_idle || !options.duration.empty() || !options.commit_interval.empty() ||
        !options.savepoint.empty() || !options.from_savepoint.empty() || options.allow_state_drop) {
        std::fprintf(stderr,
                     "error: --duration, --until-idle, --commit-interval and the savepoint flags "
                     "are for mode: "
                     "streaming pipelines; `%s` is a batch pipeline\n",
                     pipeline->name.c_str());
        return 1;
    }
    LineageRecorder lineage(project);
    const std::string lineage_run = lineage.start_pipeline(*pipeline);
    const bool json = options.log_format == "json";
    if (json) run_logger(pipeline->name, lineage_run).info("run", "run started");
    Result<RunReport> report = run_batch_pipeline(project, *pipeline, run_options);
    lineage.finish_pipeline(*pipeline, lineage_run, report.ok() ? &*report : nullptr,
                            report.ok() ? "" : report.error().to_string());
    lineage.deliver_once();
    if (json) {
        const Logger log = run_logger(pipeline->name, lineage_run);
        if (!report.ok()) {
            log.error("run", "run failed", {{"error", report.error().to_string()}});
            return 1;
        }
        log_report(log, *report);
        return 0;
    }
    if (!report.ok()) {
        std::fprintf(stderr, "%s\n", report.error().to_string().c_str());
        std::fprintf(stderr,
                     "pipeline `%s` failed; no file, topic or lake sink was written (online "
                     "sinks keep what they upserted; a re-run converges)\n",
                     pipeline->name.c_str());
        return 1;
    }
    std::string out = fmt::format("pipeline {} (batch)\n", report->pipeline);
    for (const SourceReport& s : report->sources) out += source_line(s);
    out += sinks_and_dead_letters(*report);
    std::fputs(out.c_str(), stdout);
    return 0;
}

int run_explain_command(const RunCommandOptions& options) {
    Project project;
    std::optional<PipelineSpec> pipeline = load_pipeline(options, project);
    if (!pipeline) return 1;
    Result<std::string> plan = explain_pipeline(project, *pipeline);
    if (!plan.ok()) {
        std::fprintf(stderr, "%s\n", plan.error().to_string().c_str());
        return 1;
    }
    std::fputs(plan->c_str(), stdout);
    return 0;
}

}  // namespace millrace
