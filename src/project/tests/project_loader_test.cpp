#include "project/project_loader.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace millrace {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

// A project directory in the test's temp dir, removed at the end of the test.
class TempProject {
public:
    explicit TempProject(const std::string& suffix = "") {
        std::string pattern = testing::TempDir() + "project_loader_test_XXXXXX";
        const char* made = ::mkdtemp(pattern.data());
        EXPECT_NE(made, nullptr);
        base_ = pattern;
        dir_ = base_ + suffix;
        fs::create_directories(dir_);
    }
    ~TempProject() {
        std::error_code ignored;
        fs::remove_all(base_, ignored);
    }

    const std::string& dir() const { return dir_; }
    std::string path(const std::string& relative) const { return dir_ + "/" + relative; }

    void write(const std::string& relative, std::string_view text) const {
        const fs::path file = path(relative);
        fs::create_directories(file.parent_path());
        std::ofstream(file) << text;
    }

private:
    std::string base_;
    std::string dir_;
};

constexpr std::string_view kProjectFile = R"(name: food-delivery
data_dir: ./data            # log segments, state, lake, online store, catalog db
listen: { http: 127.0.0.1:8080 }
include: [pipelines/*.yaml, features/*.yaml, jobs/*.yaml]
)";

constexpr std::string_view kOrderMetrics = R"(name: order_metrics
mode: streaming
sources:
  orders:
    topic: orders
    format: json
    schema: { order_id: string not null, user_id: string, restaurant_id: string,
              timestamp: timestamp, status: string, amount: double }
    event_time: timestamp
    watermark_delay: 5s
    on_error: dead_letter
  restaurants:
    file: { path: ref/restaurants.csv, format: csv }
views:
  enriched: |
    SELECT o.*, r.city FROM orders o LEFT JOIN restaurants r ON o.restaurant_id = r.restaurant_id
  city_minute: |
    SELECT city, window_start, window_end, count(*) AS orders, sum(amount) AS revenue
    FROM tumble(enriched, timestamp, INTERVAL '1 minute')
    GROUP BY city, window_start, window_end
checks:
  orders:
    - not_null: [order_id, amount]
    - expect: "amount >= 0"
      on_fail: dead_letter
sinks:
  - { from: city_minute, lake: { table: order_metrics, partition_by: [date(window_start)] } }
  - { from: city_minute, online: { feature_view: city_orders, key: [city] } }
  - { from: dead_letter, topic: orders_dlq }
  - { from: city_minute, file: { path: out/city_minute.csv, format: csv } }
)";

// "code file:line:column" per error, in order, with the project dir shortened to "$".
Strings summarize(const std::vector<Error>& errors, const std::string& dir) {
    Strings out;
    for (const Error& error : errors) {
        std::string where = error.location().to_string();
        if (where.rfind(dir, 0) == 0) where = "$" + where.substr(dir.size());
        out.push_back(std::string(error_code_name(error.code())) + " " + where);
    }
    return out;
}

Project load_ok(const TempProject& project) {
    std::vector<Error> errors;
    auto loaded = load_project(project.dir(), &errors);
    EXPECT_TRUE(loaded.ok()) << loaded.error().to_string();
    for (const Error& error : errors) ADD_FAILURE() << error.to_string();
    return loaded.ok() ? std::move(loaded).value() : Project{};
}

Strings load_errors(const TempProject& project) {
    std::vector<Error> errors;
    auto loaded = load_project(project.dir(), &errors);
    EXPECT_FALSE(loaded.ok());
    if (!loaded.ok() && !errors.empty()) {
        EXPECT_EQ(loaded.error().to_string(), errors.front().to_string());
    }
    return summarize(errors, project.dir());
}

TEST(ProjectLoader, LoadsTheReferenceProject) {
    TempProject project;
    project.write("millrace.yaml", kProjectFile);
    project.write("pipelines/order_metrics.yaml", kOrderMetrics);
    project.write("pipelines/a_first.yaml",
                  "name: a_first\nsources: {s: {topic: t}}\nsinks: [{from: s, topic: u}]\n");
    project.write("pipelines/notes.txt", "not yaml: [");  // not matched by *.yaml
    project.write("features/city_orders.yaml",
                  "name: city_orders\nentity: city\nttl: 1h\nfeatures: [orders, revenue]\n");
    project.write("jobs/daily_sales.yaml", "name: daily_sales\nschedule: '0 2 * * *'\n");

    const Project loaded = load_ok(project);
    EXPECT_EQ(loaded.name, "food-delivery");
    EXPECT_EQ(loaded.root_dir, fs::path(project.dir()).lexically_normal().string());
    EXPECT_EQ(loaded.data_dir, loaded.root_dir + "/data");
    EXPECT_EQ(loaded.listen_http, "127.0.0.1:8080");
    EXPECT_TRUE(loaded.warnings.empty());

    ASSERT_EQ(loaded.pipelines.size(), 2u);
    EXPECT_EQ(loaded.pipelines[0].name, "a_first");  // sorted within the pattern
    const PipelineSpec* orders = loaded.find_pipeline("order_metrics");
    ASSERT_NE(orders, nullptr);
    EXPECT_EQ(orders->file, project.path("pipelines/order_metrics.yaml"));
    EXPECT_EQ(orders->mode, PipelineMode::kStreaming);
    EXPECT_EQ(orders->sources.size(), 2u);
    EXPECT_EQ(orders->sources[1].path, loaded.root_dir + "/ref/restaurants.csv");
    EXPECT_EQ(orders->sinks[3].path, loaded.root_dir + "/out/city_minute.csv");
    EXPECT_EQ(orders->views[1].sql.location_of(2, 6).to_string(),
              project.path("pipelines/order_metrics.yaml") + ":19:10");

    ASSERT_EQ(loaded.feature_views.size(), 1u);
    EXPECT_EQ(loaded.feature_views[0].name, "city_orders");
    EXPECT_EQ(loaded.feature_views[0].file, project.path("features/city_orders.yaml"));
    EXPECT_EQ(loaded.feature_views[0].config.find("ttl")->scalar(), "1h");
    ASSERT_EQ(loaded.jobs.size(), 1u);
    EXPECT_EQ(loaded.jobs[0].name, "daily_sales");
    EXPECT_EQ(loaded.jobs[0].location.to_string(), project.path("jobs/daily_sales.yaml") + ":1:1");
    EXPECT_EQ(loaded.jobs[0].config.find("schedule")->scalar(), "0 2 * * *");
}

TEST(ProjectLoader, AppliesDefaults) {
    TempProject project;
    project.write("millrace.yaml", "name: tiny\n");
    const Project loaded = load_ok(project);
    EXPECT_EQ(loaded.name, "tiny");
    EXPECT_EQ(loaded.data_dir, loaded.root_dir + "/data");
    EXPECT_EQ(loaded.listen_http, "127.0.0.1:8080");
    EXPECT_TRUE(loaded.pipelines.empty());
}

TEST(ProjectLoader, ResolvesSettings) {
    TempProject project;
    project.write("millrace.yaml",
                  "name: p\ndescription: d\ndata_dir: ../state\nlisten: {http: '[::1]:9000'}\n"
                  "include: jobs/only.yaml\n");
    project.write("jobs/only.yaml", "name: only\n");
    const Project loaded = load_ok(project);
    EXPECT_EQ(loaded.description, "d");
    EXPECT_EQ(loaded.data_dir, fs::path(loaded.root_dir).parent_path().string() + "/state");
    EXPECT_EQ(loaded.listen_http, "[::1]:9000");
    ASSERT_EQ(loaded.jobs.size(), 1u);
}

TEST(ProjectLoader, ReportsEveryErrorWithItsLocation) {
    TempProject project;
    project.write("millrace.yaml", R"(name: broken
listen: { http: localhost }
include:
  - pipelines/*.yaml
  - jobs/missing.yaml
  - features/*.yaml
  - extra/*.yaml
)");
    project.write("pipelines/a.yaml",
                  "name: dup\nsources: {s: {topic: t}}\nsinks: [{from: s, topic: u}]\n");
    project.write("pipelines/b.yaml",
                  "name: dup\nsorces: {}\nsources: {s: {topic: t}}\nsinks: [{from: s, topic: "
                  "u}]\n");
    project.write("pipelines/c.yaml", "name: c\nsources: [\n");
    project.write("pipelines/d.yaml", R"(name: d
sources:
  orders:
    topic: orders
    schema: { id: string, amount: dubble not null }
    watermark_delay: 5 s
    event_time: ts
sinks:
  - { from: order, topic: out }
)");
    project.write("extra/thing.yaml", "name: thing\nfoo: 1\n");

    std::vector<Error> errors;
    auto loaded = load_project(project.dir(), &errors);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code(), ErrorCode::kConfig);
    EXPECT_EQ(summarize(errors, project.dir()),
              (Strings{
                  "config $/millrace.yaml:2:17",     // listen address has no port
                  "not_found $/millrace.yaml:5:5",   // jobs/missing.yaml
                  "config $/pipelines/b.yaml:1:7",   // dup, already in a.yaml
                  "config $/pipelines/b.yaml:2:1",   // sorces
                  "parse $/pipelines/c.yaml:3:1",    // YAML syntax
                  "parse $/pipelines/d.yaml:5:35",   // dubble
                  "parse $/pipelines/d.yaml:6:23",   // "5 s": the space
                  "config $/pipelines/d.yaml:9:13",  // from: order
                  "config $/extra/thing.yaml:1:1",   // cannot tell the kind
              }));
    EXPECT_NE(errors[2].message().find(project.path("pipelines/a.yaml") + ":1:7"),
              std::string::npos);
    EXPECT_NE(errors[3].message().find("did you mean `sources`?"), std::string::npos);
    EXPECT_NE(errors[5].message().find("did you mean `double`?"), std::string::npos);
    EXPECT_NE(errors[7].message().find("did you mean `orders`?"), std::string::npos);
}

TEST(ProjectLoader, GlobThatMatchesNothingIsAWarning) {
    TempProject project;
    project.write("millrace.yaml", "name: p\ninclude: [pipelines/*.yaml, jobs/*.yaml]\n");
    project.write("jobs/j.yaml", "name: j\n");
    const Project loaded = load_ok(project);
    ASSERT_EQ(loaded.warnings.size(), 1u);
    EXPECT_EQ(loaded.warnings[0].code(), ErrorCode::kNotFound);
    EXPECT_EQ(loaded.warnings[0].location().to_string(), project.path("millrace.yaml") + ":2:11");
    EXPECT_EQ(loaded.jobs.size(), 1u);
}

TEST(ProjectLoader, IncludingADirectoryIsAnError) {
    TempProject project;
    project.write("millrace.yaml", "name: p\ninclude: [pipelines]\n");
    project.write("pipelines/p.yaml",
                  "name: p\nsources: {s: {topic: t}}\nsinks: [{from: s, topic: u}]\n");
    std::vector<Error> errors;
    auto loaded = load_project(project.dir(), &errors);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(summarize(errors, project.dir()), (Strings{"config $/millrace.yaml:2:11"}));
    EXPECT_NE(errors[0].message().find("`pipelines/*.yaml`"), std::string::npos);
}

TEST(ProjectLoader, MissingProjectFile) {
    TempProject project;
    std::vector<Error> errors;
    auto loaded = load_project(project.dir(), &errors);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(loaded.error().location().file, project.path("millrace.yaml"));
    EXPECT_EQ(errors.size(), 1u);
    EXPECT_EQ(load_project(project.path("nope"), nullptr).error().code(), ErrorCode::kNotFound);
}

TEST(ProjectLoader, BrokenProjectFile) {
    TempProject project;
    project.write("millrace.yaml", "- name: p\n");
    EXPECT_EQ(load_errors(project), (Strings{"config $/millrace.yaml:1:1"}));
    project.write("millrace.yaml", "name: [p]\ninclde: x\ninclude: {a: b}\ndata_dir: ''\n");
    EXPECT_EQ(load_errors(project),
              (Strings{"config $/millrace.yaml:1:7", "config $/millrace.yaml:4:11",
                       "config $/millrace.yaml:3:10", "config $/millrace.yaml:2:1"}));
    project.write("millrace.yaml", "name: p\nlisten: {http: 'h:0', grpc: x}\n");
    EXPECT_EQ(load_errors(project),
              (Strings{"config $/millrace.yaml:2:16", "config $/millrace.yaml:2:23"}));
    project.write("millrace.yaml", "name: p\ninclude: [a.yaml, '']\nx: [\n");
    EXPECT_EQ(load_errors(project), (Strings{"parse $/millrace.yaml:4:1"}));
}

TEST(ProjectLoader, ReadsTheKafkaListener) {
    TempProject project;
    project.write("millrace.yaml", "name: p\n");
    EXPECT_TRUE(load_ok(project).kafka.listen.empty());
    project.write(
        "millrace.yaml",
        "name: p\nlisten: {kafka: 127.0.0.1:9092}\nkafka: {advertised: 'kafka.lan:19092', "
        "auto_create_topics: true, partitions: 4, max_request_bytes: 2048, "
        "initial_rebalance_delay: 250ms}\n");
    const KafkaSpec kafka = load_ok(project).kafka;
    EXPECT_EQ(kafka.listen, "127.0.0.1:9092");
    EXPECT_EQ(kafka.advertised, "kafka.lan:19092");
    EXPECT_TRUE(kafka.auto_create_topics);
    EXPECT_EQ(kafka.default_partitions, 4);
    EXPECT_EQ(kafka.max_request_bytes, 2048);
    EXPECT_EQ(kafka.initial_rebalance_delay, std::chrono::milliseconds(250));
    project.write("millrace.yaml",
                  "name: p\nlisten: {kafka: nohost}\nkafka: {auto_create_topics: maybe, "
                  "partitons: 3}\n");
    EXPECT_EQ(load_errors(project),
              (Strings{"config $/millrace.yaml:2:17", "config $/millrace.yaml:3:29",
                       "config $/millrace.yaml:3:36"}));
}

TEST(ProjectLoader, ValidatesTheListenAddress) {
    TempProject project;
    for (const char* good : {"0.0.0.0:80", "localhost:8080", "[::1]:65535", "[fe80::1]:1"}) {
        project.write("millrace.yaml", std::string("name: p\nlisten: {http: '") + good + "'}\n");
        EXPECT_EQ(load_ok(project).listen_http, good);
    }
    for (const char* bad : {"localhost", ":8080", "h:", "h:65536", "h:80x", "h:123456", "::1:80",
                            "[::1]80", "[]:80", "[::1:80"}) {
        project.write("millrace.yaml", std::string("name: p\nlisten: {http: '") + bad + "'}\n");
        EXPECT_EQ(load_errors(project), (Strings{"config $/millrace.yaml:2:16"})) << bad;
    }
    project.write("millrace.yaml", "name: p\nlisten: 127.0.0.1:8080\n");
    EXPECT_EQ(load_errors(project), (Strings{"config $/millrace.yaml:2:9"}));
}

TEST(ProjectLoader, ReadsTheLakeStorage) {
    TempProject project;
    project.write("millrace.yaml", R"(name: p
lake: { storage: "s3://bucket/warehouse", endpoint: "http://127.0.0.1:9000", region: eu-west-1 }
)");
    const Project loaded = load_ok(project);
    ASSERT_TRUE(loaded.lake_storage.has_value());
    EXPECT_EQ(loaded.lake_storage->storage, "s3://bucket/warehouse");
    EXPECT_EQ(loaded.lake_storage->endpoint, "http://127.0.0.1:9000");
    EXPECT_EQ(loaded.lake_storage->region, "eu-west-1");
    project.write("millrace.yaml", "name: p\n");
    EXPECT_FALSE(load_ok(project).lake_storage.has_value());
    project.write("millrace.yaml", R"(name: p
lake: { storage: "s3://b/p", endpoint: "http://h:1" }
)");
    EXPECT_EQ(load_ok(project).lake_storage->region, "us-east-1");

    // Each mistake at its line and column.
    project.write("millrace.yaml", R"(name: p
lake:
  storage: /local/folder
  endpoint: https://s3.amazonaws.com
  regoin: x
)");
    EXPECT_EQ(load_errors(project),
              (Strings{"config $/millrace.yaml:3:12", "config $/millrace.yaml:4:13",
                       "config $/millrace.yaml:5:3"}));
    project.write("millrace.yaml", "name: p\nlake: { storage: \"s3://b\" }\n");
    EXPECT_EQ(load_errors(project), (Strings{"config $/millrace.yaml:2:7"}));  // no endpoint
}

TEST(ProjectLoader, ReadsTopics) {
    TempProject project;
    project.write("millrace.yaml", R"(name: p
topics:
  plain:
  events:
    partitions: 4
    fsync: always
    retention: 24h
    retention_bytes: 1000000
    segment_bytes: 65536
    schema: { id: string not null, n: int64 }
    on_error: dead_letter
    capture: { ip: remote_addr, ua: "header:User-Agent" }
  ticks: { fsync: 20ms }
)");
    const Project loaded = load_ok(project);
    ASSERT_EQ(loaded.topics.size(), 3u);
    EXPECT_EQ(loaded.topics[0].name, "plain");
    EXPECT_EQ(loaded.topics[0].fsync, TopicFsync::kInterval);
    const TopicSpec& events = loaded.topics[1];
    EXPECT_EQ(events.partitions, 4);
    EXPECT_EQ(events.fsync, TopicFsync::kAlways);
    EXPECT_EQ(events.retention, std::chrono::hours(24));
    EXPECT_EQ(events.retention_bytes, 1000000);
    EXPECT_EQ(events.segment_bytes, 65536);
    EXPECT_EQ(events.schema, "id: string not null, n: int64");
    EXPECT_EQ(events.on_error, TopicOnError::kDeadLetter);
    ASSERT_EQ(events.capture.size(), 2u);
    EXPECT_EQ(events.capture[1].second, "header:User-Agent");
    EXPECT_EQ(loaded.topics[2].fsync_interval, std::chrono::milliseconds(20));
}

TEST(ProjectLoader, ReportsTopicErrors) {
    TempProject project;
    project.write("millrace.yaml", R"(name: p
topics:
  t:
    partitions: 0
    fsync: sometimes
    schema: "id: strin"
    on_error: ignore
    capture: { ip: cookie }
    colour: red
)");
    EXPECT_EQ(load_errors(project).size(), 6u);
}

TEST(ProjectLoader, DecidesWhatAFileDefines) {
    TempProject project;
    project.write("millrace.yaml", "name: p\ninclude: ['misc/*.yaml']\n");
    project.write("misc/1_by_kind.yaml", "kind: job\nname: by_kind\nsources: {}\n");
    project.write("misc/2_pipeline_by_keys.yaml",
                  "name: by_keys\nsources: {s: {topic: t}}\nsinks: [{from: s, topic: u}]\n");
    project.write("misc/3_feature_by_keys.yaml", "name: fv\nentity: user\n");
    project.write("misc/4_job_by_keys.yaml", "name: nightly\nschedule: '@daily'\n");
    project.write("misc/5_pipeline_by_kind.yaml",
                  "kind: pipeline\nname: explicit\nsources: {s: {topic: t}}\n"
                  "sinks: [{from: s, topic: u}]\n");
    const Project loaded = load_ok(project);
    ASSERT_EQ(loaded.jobs.size(), 2u);
    EXPECT_EQ(loaded.jobs[0].name, "by_kind");
    EXPECT_EQ(loaded.jobs[1].name, "nightly");
    ASSERT_EQ(loaded.pipelines.size(), 2u);
    EXPECT_EQ(loaded.pipelines[0].name, "by_keys");
    EXPECT_EQ(loaded.pipelines[1].name, "explicit");
    ASSERT_EQ(loaded.feature_views.size(), 1u);
}

TEST(ProjectLoader, RoutesAndServingBlock) {
    TempProject project;
    project.write("millrace.yaml", R"(name: p
include: [routes/*.yaml, misc/*.yaml]
serving:
  max_batch_keys: 10
  auth: { tokens: [ { token: abc, scopes: [features] } ] }
)");
    project.write("routes/user.yaml",
                  "name: user\npath: /feature/user\nview: user_features\nkey: {uid: user_id}\n");
    project.write("misc/by_keys.yaml",
                  "name: item\npath: /feature/item\nview: items\nfeatures: [a]\n");
    project.write("misc/by_kind.yaml", "kind: route\nname: third\n");
    const Project loaded = load_ok(project);
    ASSERT_EQ(loaded.routes.size(), 3u);
    EXPECT_EQ(loaded.routes[0].name, "user");   // by folder
    EXPECT_EQ(loaded.routes[1].name, "item");   // by keys: path + view, despite `features`
    EXPECT_EQ(loaded.routes[2].name, "third");  // by kind
    EXPECT_TRUE(loaded.feature_views.empty());
    ASSERT_TRUE(loaded.serving.has_value());
    ASSERT_NE(loaded.serving->find("max_batch_keys"), nullptr);
    EXPECT_EQ(loaded.serving->find("max_batch_keys")->scalar(), "10");
    EXPECT_EQ(loaded.routes[0].config.find("path")->scalar(), "/feature/user");
}

TEST(ProjectLoader, BadRoutesAndServing) {
    TempProject project;
    project.write("millrace.yaml", "name: p\nserving: [1]\ninclude: [routes/*.yaml]\n");
    project.write("routes/a.yaml", "name: r\npath: /a\n");
    project.write("routes/b.yaml", "name: r\npath: /b\n");
    EXPECT_EQ(load_errors(project), (Strings{
                                        "config $/millrace.yaml:2:10",  // serving not a map
                                        "config $/routes/b.yaml:1:7",   // duplicate route
                                    }));
}

TEST(ProjectLoader, BadDefinitions) {
    TempProject project;
    project.write("millrace.yaml",
                  "name: p\ninclude: [features/*.yaml, jobs/*.yaml, misc/*.yaml]\n");
    project.write("features/a.yaml", "name: fv\n");
    project.write("features/b.yaml", "name: fv\n");
    project.write("jobs/a.yaml", "schedule: x\n");
    project.write("jobs/b.yaml", "name: 'bad name'\n");
    project.write("jobs/c.yaml", "[1]\n");
    project.write("misc/a.yaml", "kind: pipline\nname: x\n");
    EXPECT_EQ(load_errors(project),
              (Strings{
                  "config $/features/b.yaml:1:7",  // duplicate feature view
                  "config $/jobs/a.yaml:1:1",      // job without a name
                  "config $/jobs/b.yaml:1:7",      // bad name
                  "config $/jobs/c.yaml:1:1",      // not a map
                  "config $/misc/a.yaml:1:7",      // kind: pipline
              }));
}

TEST(ProjectLoader, EachFileLoadsOnce) {
    TempProject project;
    project.write("millrace.yaml",
                  "name: p\ninclude: ['*.yaml', 'jobs/*.yaml', 'jobs/j.yaml', 'jobs/*']\n");
    project.write("jobs/j.yaml", "name: j\n");
    project.write("jobs/sub/k.yaml", "name: k\n");  // `jobs/*` matches the folder: skipped
    const Project loaded = load_ok(project);
    ASSERT_EQ(loaded.jobs.size(), 1u);  // millrace.yaml itself is not included again
    EXPECT_EQ(loaded.jobs[0].name, "j");
}

TEST(ProjectLoader, DirectoryNameWithGlobCharacters) {
    TempProject project("/proj[1]*");
    project.write("millrace.yaml", "name: p\ninclude: [jobs/*.yaml]\n");
    project.write("jobs/j.yaml", "name: j\n");
    const Project loaded = load_ok(project);
    EXPECT_EQ(loaded.jobs.size(), 1u);
}

TEST(ProjectLoader, TrailingSlashAndDotsInTheDirectory) {
    TempProject project;
    project.write("millrace.yaml", "name: p\n");
    auto loaded = load_project(project.dir() + "/./", nullptr);
    ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
    EXPECT_EQ(loaded->root_dir, fs::path(project.dir()).lexically_normal().string());
}

TEST(ProjectLoader, IncludesOutsideTheProject) {
    TempProject project("/inner");
    project.write("millrace.yaml", "name: p\ninclude: ['../common/*.yaml']\n");
    project.write("../common/j.yaml", "kind: job\nname: shared\n");
    const Project loaded = load_ok(project);
    ASSERT_EQ(loaded.jobs.size(), 1u);
    EXPECT_EQ(loaded.jobs[0].file,
              fs::path(project.dir()).parent_path().string() + "/common/j.yaml");
}

}  // namespace
}  // namespace millrace
