#include "pipeline/quality_check.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

#include "common/clock.h"
#include "pipeline/batch_runner.h"
#include "pipeline/lake_query.h"

namespace millrace {

namespace {

/// A scratch data directory for the checking run, removed with the object. Its `log` and
/// `lake` are links to the project's, so topic sources read the real records and referential
/// rules the real tables.
class ScratchDirectory {
public:
    static Result<ScratchDirectory> create(const std::string& data_dir) {
        std::error_code error;
        std::filesystem::create_directories(data_dir, error);
        std::string pattern = data_dir + "/.check-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
            return Error(ErrorCode::kIo, "cannot create a scratch folder in " + data_dir);
        }
        ScratchDirectory scratch(pattern);
        // Read-only here: the checking run has only scratch file sinks.
        for (const char* shared : {"log", "lake"}) {
            if (!std::filesystem::exists(data_dir + "/" + shared)) continue;
            std::filesystem::create_directory_symlink(data_dir + "/" + shared,
                                                      pattern + "/" + shared, error);
            if (error) {
                return Error(ErrorCode::kIo,
                             fmt::format("cannot link the {}: {}", shared, error.message()));
            }
        }
        return scratch;
    }
    ScratchDirectory(ScratchDirectory&& other) noexcept : path_(std::move(other.path_)) {
        other.path_.clear();
    }
    ScratchDirectory(const ScratchDirectory&) = delete;
    ~ScratchDirectory() {
        if (path_.empty()) return;
        std::error_code error;
        // The links, never the log and lake they point to.
        std::filesystem::remove(path_ + "/log", error);
        std::filesystem::remove(path_ + "/lake", error);
        std::filesystem::remove_all(path_, error);
    }
    const std::string& path() const { return path_; }

private:
    explicit ScratchDirectory(std::string path) : path_(std::move(path)) {}
    std::string path_;
};

CheckSeverity check_severity(const CheckSpec& check) {
    if (check.dataset_level()) return check.severity;
    return check.on_fail == CheckAction::kFail ? CheckSeverity::kError : CheckSeverity::kWarn;
}

/// Feeds every batch of a lake query to the rules.
class RulesInput final : public BatchSink {
public:
    explicit RulesInput(DatasetRules& rules) : rules_(rules) {}
    Status push(Batch batch) override {
        rules_.observe(batch);
        return {};
    }
    Status finish() override { return {}; }

private:
    DatasetRules& rules_;
};

// A rule as check judges it: on the whole dataset, a row-level one as "every row passes".
CheckSpec judged_rule(const CheckSpec& check) {
    CheckSpec judged = check;
    if (!judged.dataset_level()) judged.mostly = 1.0;
    judged.severity = check_severity(check);
    return judged;
}

}  // namespace

Result<PipelineCheckReport> check_lake_table_rules(const Project& project,
                                                   const PipelineSpec& pipeline,
                                                   const std::string& table, const Clock* clock) {
    PipelineCheckReport report;
    report.pipeline = pipeline.name;
    const int64_t now = clock != nullptr ? clock->now_micros() : SystemClock().now_micros();
    for (const SinkSpec& sink : pipeline.sinks) {
        if (sink.kind != SinkKind::kLake || sink.table != table) continue;
        PipelineSpec judging = pipeline;
        judging.checks.clear();
        for (const CheckSpec& check : pipeline.checks) {
            if (check.target == sink.from) judging.checks.push_back(judged_rule(check));
        }
        if (judging.checks.empty()) continue;
        // The table's columns are the view's as written (a lake sink writes them as they are).
        std::shared_ptr<const Schema> schema;
        class SchemaProbe final : public BatchSink {
        public:
            Status push(Batch) override { return {}; }
            Status finish() override { return {}; }
        } probe;
        MILLRACE_TRY(query_lake(
            project.data_dir, fmt::format("SELECT * FROM \"{}\" LIMIT 0", table),
            [&schema](const Schema& s) -> Status {
                schema = std::make_shared<const Schema>(s);
                return {};
            },
            probe));
        MILLRACE_ASSIGN_OR_RETURN(DatasetRules rules,
                                  DatasetRules::bind(judging, sink.from, *schema));
        MILLRACE_TRY(rules.load_references(project.data_dir));
        rules.fold(now);
        RulesInput input(rules);
        MILLRACE_TRY(query_lake(
            project.data_dir, fmt::format("SELECT * FROM \"{}\"", table),
            [](const Schema&) -> Status { return {}; }, input, kDefaultQueryMemoryLimit, clock));
        for (RuleResult result : rules.results(now)) {
            result.dataset = table;
            report.results.push_back(std::move(result));
        }
    }
    if (!report.results.empty()) {
        MILLRACE_TRY(record_rule_results(project.data_dir, pipeline.name, format_utc_timestamp(now),
                                         report.results));
    }
    return report;
}

bool check_failed(const std::vector<RuleResult>& results) {
    for (const RuleResult& result : results) {
        if (!result.passed && result.severity == CheckSeverity::kError) return true;
    }
    return false;
}

Result<PipelineCheckReport> check_pipeline_rules(const Project& project,
                                                 const PipelineSpec& pipeline,
                                                 const std::string& dataset, const Clock* clock) {
    PipelineCheckReport report;
    report.pipeline = pipeline.name;
    if (pipeline.mode == PipelineMode::kStreaming) {
        report.skipped = "a streaming pipeline: its checks run as it runs";
        return report;
    }
    for (const SourceSpec& source : pipeline.sources) {
        if (source.kind == SourceKind::kKafka) {
            report.skipped =
                fmt::format("source `{}` reads a Kafka consumer group, which a check must not move",
                            source.name);
            return report;
        }
    }
    // The same pipeline, judging instead of acting: every rule becomes a dataset rule of
    // severity warn (so the run reports them all instead of stopping at the first), its sinks
    // are scratch files of the checked datasets, and the real severities are kept aside, keyed
    // by the rule's position in the file.
    PipelineSpec checking = pipeline;
    checking.checks.clear();
    checking.sinks.clear();
    std::map<std::string, CheckSeverity> severities;
    std::vector<std::string> targets;
    for (const CheckSpec& check : pipeline.checks) {
        if (!dataset.empty() && check.target != dataset) continue;
        CheckSpec judged = judged_rule(check);
        judged.severity = CheckSeverity::kWarn;
        severities[check.location.to_string()] = check_severity(check);
        checking.checks.push_back(std::move(judged));
        if (std::find(targets.begin(), targets.end(), check.target) == targets.end()) {
            targets.push_back(check.target);
        }
    }
    if (checking.checks.empty()) return report;

    MILLRACE_ASSIGN_OR_RETURN(ScratchDirectory scratch, ScratchDirectory::create(project.data_dir));
    Project scratch_project = project;
    scratch_project.data_dir = scratch.path();
    for (const std::string& target : targets) {
        SinkSpec sink;
        sink.kind = SinkKind::kFile;
        sink.from = target;
        sink.format = DataFormat::kNdjson;
        sink.path = scratch.path() + "/" + target + ".ndjson";
        checking.sinks.push_back(std::move(sink));
    }
    SinkSpec dead_letters;
    dead_letters.kind = SinkKind::kFile;
    dead_letters.from = std::string(kDeadLetterName);
    dead_letters.format = DataFormat::kNdjson;
    dead_letters.path = scratch.path() + "/dead_letters.ndjson";
    checking.sinks.push_back(std::move(dead_letters));

    RunOptions options;
    options.clock = clock;
    Result<RunReport> run = run_batch_pipeline(scratch_project, checking, options);
    if (!run.ok()) return std::move(run).error();
    for (RuleResult result : run->rules) {
        auto severity = severities.find(result.location.to_string());
        if (severity != severities.end()) result.severity = severity->second;
        report.results.push_back(std::move(result));
    }
    const int64_t now = clock != nullptr ? clock->now_micros() : SystemClock().now_micros();
    MILLRACE_TRY(record_rule_results(project.data_dir, pipeline.name, format_utc_timestamp(now),
                                     report.results));
    return report;
}

}  // namespace millrace
