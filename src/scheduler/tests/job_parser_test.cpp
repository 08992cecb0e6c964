#include "scheduler/job_parser.h"

#include <gtest/gtest.h>

#include "common/yaml_document.h"
#include "scheduler/template.h"

namespace millrace {
namespace {

Project project_with_pipeline() {
    Project project;
    project.name = "p";
    project.root_dir = "/proj";
    PipelineSpec pipeline;
    pipeline.name = "daily_sales";
    project.pipelines.push_back(pipeline);
    return project;
}

Result<JobDefinition> parse(const std::string& text, std::vector<Error>* all = nullptr) {
    static Project project = project_with_pipeline();
    auto doc = YamlDocument::parse(text, "jobs/j.yaml");
    EXPECT_TRUE(doc.ok()) << doc.error().to_string();
    std::vector<Error> errors;
    auto job = parse_job(doc->root(), "jobs/j.yaml", text, project, errors);
    if (all) *all = errors;
    return job;
}

TEST(JobParser, ParsesAJob) {
    auto job = parse(R"(name: daily
schedule: "0 2 * * *"
timezone: Europe/Paris
catchup: true
defaults: { retries: 2, retry_delay: 1s }
tasks:
  wait: { kind: wait_for_file, path: "incoming/sales_{{ ds_nodash }}.csv", poke_interval: 1s }
  run: { kind: pipeline, pipeline: daily_sales, depends_on: wait, timeout: 1h }
  report: { kind: shell, command: "echo {{ ds }}", depends_on: [run], env: { A: "1" }, retries: 0 }
  ping: { kind: http, url: "http://127.0.0.1:1/x", expected_status: 204, depends_on: [run] }
  compact: { kind: compact, table: daily, depends_on: [run] }
)");
    ASSERT_TRUE(job.ok()) << job.error().to_string();
    EXPECT_EQ(job->name, "daily");
    EXPECT_TRUE(job->catchup);
    ASSERT_EQ(job->tasks.size(), 5u);
    EXPECT_EQ(job->tasks[1].retry.retries, 2);
    EXPECT_EQ(job->tasks[2].retry.retries, 0);
    EXPECT_EQ(job->tasks[1].upstream, std::vector<std::size_t>{0});
    EXPECT_EQ(job->tasks[1].downstream.size(), 3u);
    EXPECT_EQ(job->tasks[2].cwd, "/proj");
    EXPECT_EQ(job->version.size(), 16u);
}

TEST(JobParser, CycleIsNamed) {
    auto job = parse(R"(name: j
tasks:
  a: { kind: shell, command: "true", depends_on: [c] }
  b: { kind: shell, command: "true", depends_on: [a] }
  c: { kind: shell, command: "true", depends_on: [b] }
)");
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().code(), ErrorCode::kConfig);
    EXPECT_NE(job.error().message().find("a -> b -> c -> a"), std::string::npos)
        << job.error().message();
}

TEST(JobParser, UnknownDependencyAndKindHaveLocationsAndHints) {
    std::vector<Error> errors;
    auto job = parse(R"(name: j
tasks:
  extract: { kind: shell, command: "true" }
  load: { kind: shell, command: "true", depends_on: [extrct] }
)",
                     &errors);
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(job.error().location().line, 4);
    EXPECT_EQ(job.error().location().column, 54);
    EXPECT_NE(job.error().message().find("did you mean `extract`"), std::string::npos);

    job = parse(R"(name: j
tasks:
  a: { kind: shel, command: "true" }
)");
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().location().line, 3);
    EXPECT_NE(job.error().message().find("`shell`"), std::string::npos) << job.error().message();
}

TEST(JobParser, MissingPipelineCronAndZoneErrors) {
    auto job = parse("name: j\ntasks:\n  a: { kind: pipeline, pipeline: daily_sale }\n");
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(job.error().location().to_string(), "jobs/j.yaml:3:34");
    EXPECT_NE(job.error().message().find("daily_sales"), std::string::npos);

    job = parse("name: j\nschedule: \"0 25 * * *\"\ntasks:\n  a: { kind: shell, command: x }\n");
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().code(), ErrorCode::kParse);
    EXPECT_EQ(job.error().location().to_string(), "jobs/j.yaml:2:14");
    EXPECT_NE(job.error().message().find("hour"), std::string::npos);

    job = parse("name: j\ntimezone: Europe/Pariss\ntasks:\n  a: { kind: shell, command: x }\n");
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().location().line, 2);

    job = parse("name: j\ntasks:\n  a: { kind: shell, command: \"echo {{ dss }}\" }\n");
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message().find("did you mean `ds`"), std::string::npos);

    job = parse(
        "name: j\ntriggers: [{ topic: sales, records: 0 }]\ntasks:\n  a: { kind: shell, command: x "
        "}\n");
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().code(), ErrorCode::kConfig);
}

TEST(JobParser, TopicTriggers) {
    auto job = parse(
        "name: j\ntriggers: [{ topic: sales, records: 500, poke_interval: 2s }]\ntasks:\n  a: { "
        "kind: shell, command: x }\n");
    ASSERT_TRUE(job.ok()) << job.error().to_string();
    ASSERT_EQ(job->topic_triggers.size(), 1u);
    EXPECT_EQ(job->topic_triggers[0].topic, "sales");
    EXPECT_EQ(job->topic_triggers[0].records, 500);
    EXPECT_EQ(job->topic_triggers[0].poke_interval, std::chrono::seconds(2));
}

TEST(JobParser, FileTriggers) {
    auto job = parse(
        "name: j\ntriggers: [{ file: \"in/*.csv\", poke_interval: 2s }]\ntasks:\n  a: { kind: "
        "shell, command: x }\n");
    ASSERT_TRUE(job.ok()) << job.error().to_string();
    ASSERT_EQ(job->file_triggers.size(), 1u);
    EXPECT_EQ(job->file_triggers[0].pattern, "/proj/in/*.csv");
    EXPECT_EQ(job->file_triggers[0].poke_interval, std::chrono::seconds(2));
}

TEST(Template, Renders) {
    auto paris = TimeZone::load("Europe/Paris");
    ASSERT_TRUE(paris.ok());
    TemplateContext context;
    context.interval_start_micros = int64_t{1795820400} * 1'000'000;  // 2026-11-27T23:00:00Z
    context.interval_end_micros = context.interval_start_micros + int64_t{86400} * 1'000'000;
    context.zone = &*paris;
    context.run_id = "r";
    auto text =
        render_template("{{ds}} {{ ds_nodash }} {{ data_interval_start }} {{run_id}}", context);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, "2026-11-28 20261128 2026-11-27T23:00:00Z r");
    EXPECT_FALSE(check_template("{{ ds").ok());
}

}  // namespace
}  // namespace millrace
