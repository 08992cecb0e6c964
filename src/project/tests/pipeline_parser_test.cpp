#include "project/pipeline_parser.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

using Strings = std::vector<std::string>;

// The pipeline of docs/architecture.md §3.
constexpr std::string_view kOrderMetrics = R"(name: order_metrics
mode: streaming                    # or batch
sources:
  orders:
    topic: orders                  # embedded log
    format: json
    schema: { order_id: string not null, user_id: string, restaurant_id: string,
              timestamp: timestamp, status: string, amount: double }
    event_time: timestamp
    watermark_delay: 5s
    on_error: dead_letter          # undecodable records go to the DLQ with a reason
  restaurants:
    file: { path: ref/restaurants.csv, format: csv }   # bounded reference table
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
      on_fail: dead_letter         # or: drop, warn, fail
sinks:
  - { from: city_minute, lake: { table: order_metrics, partition_by: [date(window_start)] } }
  - { from: city_minute, online: { feature_view: city_orders, key: [city] } }
  - { from: dead_letter, topic: orders_dlq }
  - { from: city_minute, file: { path: out/city_minute.csv, format: csv } }
)";

// "code@line:column" per error, in order.
Strings summarize(const std::vector<Error>& errors) {
    Strings out;
    for (const Error& error : errors) {
        out.push_back(std::string(error_code_name(error.code())) + "@" +
                      std::to_string(error.location().line) + ":" +
                      std::to_string(error.location().column));
    }
    return out;
}

Strings errors_of(std::string_view text) {
    std::vector<Error> errors;
    auto pipeline = parse_pipeline(text, "p.yaml", "/project", &errors);
    EXPECT_FALSE(pipeline.ok());
    for (const Error& error : errors) EXPECT_EQ(error.location().file, "p.yaml");
    if (!pipeline.ok() && !errors.empty()) {
        EXPECT_EQ(pipeline.error().to_string(), errors.front().to_string());
    }
    return summarize(errors);
}

// The message of the only error, for the few tests that check a hint is given.
std::string only_message(std::string_view text) {
    std::vector<Error> errors;
    (void)parse_pipeline(text, "p.yaml", "/project", &errors);
    EXPECT_EQ(errors.size(), 1u);
    return errors.empty() ? "" : errors[0].message();
}

PipelineSpec parse_ok(std::string_view text) {
    std::vector<Error> errors;
    auto pipeline = parse_pipeline(text, "p.yaml", "/project", &errors);
    EXPECT_TRUE(pipeline.ok()) << pipeline.error().to_string();
    EXPECT_TRUE(errors.empty());
    return pipeline.ok() ? std::move(pipeline).value() : PipelineSpec{};
}

TEST(PipelineParser, ParsesTheReferencePipeline) {
    const PipelineSpec spec = parse_ok(kOrderMetrics);
    EXPECT_EQ(spec.name, "order_metrics");
    EXPECT_EQ(spec.file, "p.yaml");
    EXPECT_EQ(spec.location.to_string(), "p.yaml:1:1");
    EXPECT_EQ(spec.mode, PipelineMode::kStreaming);
    EXPECT_FALSE(spec.parallelism);
    EXPECT_FALSE(spec.checkpoint_interval);

    ASSERT_EQ(spec.sources.size(), 2u);
    const SourceSpec& orders = spec.sources[0];
    EXPECT_EQ(orders.name, "orders");
    EXPECT_EQ(orders.location.to_string(), "p.yaml:4:3");
    EXPECT_EQ(orders.kind, SourceKind::kTopic);
    EXPECT_EQ(orders.topic, "orders");
    EXPECT_EQ(orders.format, DataFormat::kJson);
    ASSERT_TRUE(orders.schema);
    EXPECT_EQ(orders.schema->to_string(),
              "{ order_id: string not null, user_id: string, restaurant_id: string, "
              "timestamp: timestamp, status: string, amount: double }");
    EXPECT_EQ(orders.schema_location.to_string(), "p.yaml:7:13");
    EXPECT_EQ(orders.event_time, "timestamp");
    EXPECT_EQ(orders.watermark_delay, std::chrono::seconds(5));
    EXPECT_EQ(orders.on_error, OnRecordError::kDeadLetter);

    const SourceSpec& restaurants = spec.sources[1];
    EXPECT_EQ(restaurants.kind, SourceKind::kFile);
    EXPECT_EQ(restaurants.path, "/project/ref/restaurants.csv");
    EXPECT_EQ(restaurants.format, DataFormat::kCsv);
    EXPECT_FALSE(restaurants.schema);
    EXPECT_FALSE(restaurants.event_time);

    ASSERT_EQ(spec.views.size(), 2u);
    EXPECT_EQ(spec.views[0].name, "enriched");
    EXPECT_EQ(spec.views[0].location.to_string(), "p.yaml:15:3");
    EXPECT_EQ(spec.views[1].sql.text,
              "SELECT city, window_start, window_end, count(*) AS orders, sum(amount) AS revenue\n"
              "FROM tumble(enriched, timestamp, INTERVAL '1 minute')\n"
              "GROUP BY city, window_start, window_end\n");
    // `tumble` on the view's second SQL line is at line 19, column 10 of the file.
    EXPECT_EQ(spec.views[1].sql.location_of(2, 6).to_string(), "p.yaml:19:10");

    ASSERT_EQ(spec.checks.size(), 2u);
    EXPECT_EQ(spec.checks[0].target, "orders");
    EXPECT_EQ(spec.checks[0].kind, CheckKind::kNotNull);
    EXPECT_EQ(spec.checks[0].columns, (Strings{"order_id", "amount"}));
    EXPECT_EQ(spec.checks[0].on_fail, CheckAction::kDeadLetter);  // the default
    EXPECT_EQ(spec.checks[1].kind, CheckKind::kExpect);
    EXPECT_EQ(spec.checks[1].expression.text, "amount >= 0");
    EXPECT_EQ(spec.checks[1].expression.location_of(1, 8).to_string(), "p.yaml:24:23");
    EXPECT_EQ(spec.checks[1].location.to_string(), "p.yaml:24:7");

    ASSERT_EQ(spec.sinks.size(), 4u);
    EXPECT_EQ(spec.sinks[0].kind, SinkKind::kLake);
    EXPECT_EQ(spec.sinks[0].from, "city_minute");
    EXPECT_EQ(spec.sinks[0].from_location.to_string(), "p.yaml:27:13");
    EXPECT_EQ(spec.sinks[0].table, "order_metrics");
    EXPECT_EQ(spec.sinks[0].partition_by, (Strings{"date(window_start)"}));
    EXPECT_EQ(spec.sinks[1].kind, SinkKind::kOnline);
    EXPECT_EQ(spec.sinks[1].feature_view, "city_orders");
    EXPECT_EQ(spec.sinks[1].key, (Strings{"city"}));
    EXPECT_EQ(spec.sinks[2].kind, SinkKind::kTopic);
    EXPECT_EQ(spec.sinks[2].from, "dead_letter");
    EXPECT_EQ(spec.sinks[2].topic, "orders_dlq");
    EXPECT_EQ(spec.sinks[3].kind, SinkKind::kFile);
    EXPECT_EQ(spec.sinks[3].path, "/project/out/city_minute.csv");
    EXPECT_EQ(spec.sinks[3].format, DataFormat::kCsv);
    EXPECT_EQ(spec.sinks[3].location.to_string(), "p.yaml:30:5");
}

TEST(PipelineParser, AcceptsOtherForms) {
    const PipelineSpec spec = parse_ok(R"(kind: pipeline
name: other.forms-1
description: every alternative spelling
parallelism: 4
max_parallelism: 64
checkpoint_interval: 1m30s
sources:
  clicks:
    kafka:
      brokers: "k1:9092, k2:9092"
      topic: clicks
      group: millrace-clicks
      properties: { security.protocol: SASL_SSL, fetch.min.bytes: 1 }
    schema: "id: int64 not null, at: timestamp"
    event_time: at
    on_error: drop
  events:
    kafka: { brokers: [k1:9092], topic: events }
    format: ndjson
  archive:
    file: /abs/archive.jsonl
  table:
    file: tables/t.data
    format: parquet
  empty_opts:
    topic: e
    schema:
    event_time:
views:
  v: SELECT * FROM clicks
checks:
  clicks:
    - not_null: id
      on_fail: warn
      name: id_present
  v:
    - expect: id > 0
      on_fail: fail
sinks:
  - from: v
    file: ../common/out.ndjson
  - from: clicks
    lake: { table: clicks }
  - from: clicks
    online: { feature_view: clicks_fv, key: id }
    )");
    EXPECT_EQ(spec.name, "other.forms-1");
    EXPECT_EQ(spec.description, "every alternative spelling");
    EXPECT_EQ(spec.mode, PipelineMode::kBatch);  // the default
    EXPECT_EQ(spec.parallelism, 4);
    EXPECT_EQ(spec.max_parallelism, 64);
    EXPECT_EQ(spec.checkpoint_interval, std::chrono::seconds(90));
    ASSERT_EQ(spec.sources.size(), 5u);
    const SourceSpec& clicks = spec.sources[0];
    EXPECT_EQ(clicks.kind, SourceKind::kKafka);
    EXPECT_EQ(clicks.brokers, (Strings{"k1:9092", "k2:9092"}));
    EXPECT_EQ(clicks.topic, "clicks");
    EXPECT_EQ(clicks.group, "millrace-clicks");
    EXPECT_EQ(clicks.properties.at("security.protocol"), "SASL_SSL");
    EXPECT_EQ(clicks.properties.at("fetch.min.bytes"), "1");
    ASSERT_TRUE(clicks.schema);
    EXPECT_EQ(clicks.schema->to_string(), "{ id: int64 not null, at: timestamp }");
    EXPECT_EQ(clicks.on_error, OnRecordError::kDrop);
    EXPECT_EQ(spec.sources[1].brokers, (Strings{"k1:9092"}));
    EXPECT_EQ(spec.sources[1].format, DataFormat::kNdjson);
    EXPECT_EQ(spec.sources[2].path, "/abs/archive.jsonl");
    EXPECT_EQ(spec.sources[2].format, DataFormat::kNdjson);
    EXPECT_EQ(spec.sources[3].format, DataFormat::kParquet);
    EXPECT_FALSE(spec.sources[4].schema);
    EXPECT_FALSE(spec.sources[4].event_time);
    ASSERT_EQ(spec.checks.size(), 2u);
    EXPECT_EQ(spec.checks[0].columns, (Strings{"id"}));
    EXPECT_EQ(spec.checks[0].on_fail, CheckAction::kWarn);
    EXPECT_EQ(spec.checks[0].name, "id_present");
    EXPECT_EQ(spec.checks[1].target, "v");
    EXPECT_EQ(spec.checks[1].on_fail, CheckAction::kFail);
    EXPECT_EQ(spec.sinks[0].path, "/common/out.ndjson");
    EXPECT_EQ(spec.sinks[0].format, DataFormat::kNdjson);
    EXPECT_TRUE(spec.sinks[1].partition_by.empty());
    EXPECT_EQ(spec.sinks[2].key, (Strings{"id"}));
}

TEST(PipelineParser, CollectsEveryErrorWithItsLocation) {
    constexpr std::string_view kBroken = R"(name: broken
mode: bach
sorces: {}
sources:
  orders:
    topic: orders
    schema: { id: string not null, amount: dubble not null, ts: timestamp, note: text nul }
    event_time: ts
  clicks:
    topic: clicks
    schema: { id: string, at: timestamp }
    event_time: id
    watermark_delay: 5sec
    on_error: ignore
  bad-name:
    file: data/x.unknown
  both:
    topic: t
    file: f.csv
views:
  clicks: SELECT 1
  v1: [not, sql]
checks:
  clickz:
    - not_null: [id]
  clicks:
    - not_null: [id, ate]
    - expect: "x > 0"
      not_null: id
    - on_fail: warn
sinks:
  - { from: v2, topic: out }
  - from: v1
    lake: { partition_by: [a] }
  - { from: dead_letter }
  - { from: clicks, file: out/x }
)";
    EXPECT_EQ(errors_of(kBroken), (Strings{
                                      "config@2:7",           // mode: bach
                                      "parse@7:44",           // dubble
                                      "parse@7:87",           // text nul
                                      "type_mismatch@12:17",  // event_time id is a string
                                      "parse@13:23",          // 5sec
                                      "config@14:15",         // on_error: ignore
                                      "config@15:3",          // bad-name is not a SQL name
                                      "config@16:11",         // x.unknown: which format?
                                      "config@19:5",          // topic and file
                                      "config@21:3",          // view named like a source
                                      "config@22:7",          // view is not SQL text
                                      "config@24:3",          // checks on clickz
                                      "config@27:22",         // column ate
                                      "config@29:7",          // expect and not_null
                                      "config@30:7",          // neither
                                      "config@32:13",         // from v2
                                      "config@34:11",         // lake without table
                                      "config@35:5",          // sink of no kind
                                      "config@36:27",         // out/x: which format?
                                      "config@3:1",           // sorces
                                  }));
}

TEST(PipelineParser, HintsAtWhatWasMeant) {
    EXPECT_NE(only_message("name: p\nsorces: {s: {topic: t}}\nsources: {s: {topic: t}}\n"
                           "sinks: [{from: s, topic: o}]\n")
                  .find("did you mean `sources`?"),
              std::string::npos);
    EXPECT_NE(only_message("name: p\nsources: {s: {topic: t, schema: {a: dubble}}}\n"
                           "sinks: [{from: s, topic: o}]\n")
                  .find("did you mean `double`?"),
              std::string::npos);
    EXPECT_NE(only_message("name: p\nsources: {orders: {topic: t}}\n"
                           "sinks: [{from: order, topic: o}]\n")
                  .find("did you mean `orders`?"),
              std::string::npos);
    EXPECT_NE(only_message("name: p\nsources: {s: {topic: t, schema: {amount: double},"
                           " event_time: amont}}\nsinks: [{from: s, topic: o}]\n")
                  .find("did you mean `amount`?"),
              std::string::npos);
}

TEST(PipelineParser, RequiredPartsAreMissing) {
    EXPECT_EQ(errors_of("mode: batch\n"),
              (Strings{"config@1:1", "config@1:1", "config@1:1"}));  // name, sources, sinks
    EXPECT_EQ(errors_of("name: p\nsources: {}\nsinks: []\n"),
              (Strings{"config@2:10", "config@3:8"}));
    EXPECT_EQ(errors_of("name:\nsources:\nsinks:\n"),
              (Strings{"config@1:1", "config@2:1", "config@3:1"}));
    EXPECT_EQ(errors_of("name: p\nsources:\n  s:\nsinks: [{from: s, topic: o}]\n"),
              (Strings{"config@3:3"}));  // a source that is null, not a map
}

TEST(PipelineParser, WrongKindsOfValues) {
    EXPECT_EQ(errors_of("- a\n- b\n"), (Strings{"config@1:1"}));
    EXPECT_EQ(errors_of(""), (Strings{"config@1:1"}));
    EXPECT_EQ(errors_of("name: p\nsources: [a]\nsinks: {from: s}\n"),
              (Strings{"config@2:10", "config@3:8"}));
    EXPECT_EQ(errors_of("name: [p]\nsources: {s: {topic: {x: 1}}}\n"
                        "views: [a]\nchecks: {s: {not_null: a}}\nsinks: [x]\n"),
              (Strings{"config@1:7", "config@2:22", "config@3:8", "config@4:13", "config@5:9"}));
}

TEST(PipelineParser, BadSettingsOfThePipeline) {
    EXPECT_EQ(errors_of("kind: job\nname: p/q\nparallelism: 0\ncheckpoint_interval: 0\n"
                        "sources: {s: {topic: t}}\nsinks: [{from: s, topic: o}]\n"),
              (Strings{"config@1:7", "config@2:7", "out_of_range@3:14", "config@4:22"}));
    // Every subtask owns at least one key group.
    EXPECT_EQ(errors_of("name: p\nparallelism: 8\nmax_parallelism: 4\n"
                        "sources: {s: {topic: t}}\nsinks: [{from: s, topic: o}]\n"),
              (Strings{"config@3:18"}));
    EXPECT_EQ(errors_of("name: p\nmax_parallelism: 0\n"
                        "sources: {s: {topic: t}}\nsinks: [{from: s, topic: o}]\n"),
              (Strings{"out_of_range@2:18"}));
}

TEST(PipelineParser, BadSourceSettings) {
    EXPECT_EQ(errors_of(R"(name: p
sources:
  dead_letter: {topic: t}
  a: {kafka: {topic: t}}
  b: {kafka: {brokers: ' , ', topic: t, properties: [x]}}
  c: {file: {path: x.csv, format: json}, format: csv}
  d: {file: {format: csv}}
  e: {file: [x]}
  f: {topic: t, format: parquet}
  g: {topic: t, schema: {}}
  h: {topic: t, schema: [a]}
  i: {topic: t, schema: 'a: int, b: wat'}
  j: {topic: t, schema: {a: {type: int}, b: }}
  k: {topic: t, watermark_delay: 1s}
  l: {topic: t, schema: {"": int}}
sinks: [{from: a, topic: o}]
)"),
              (Strings{
                  "config@3:3",    // dead_letter is reserved
                  "config@4:14",   // kafka without brokers
                  "config@5:24",   // empty brokers
                  "config@5:53",   // properties not a map
                  "config@6:50",   // two formats
                  "config@7:13",   // file without path
                  "config@8:13",   // file is a sequence
                  "config@9:25",   // parquet on a topic
                  "config@10:25",  // empty schema
                  "config@11:25",  // schema is a sequence
                  "parse@12:37",   // wat
                  "config@13:29",  // column type is a map
                  "config@13:42",  // column type is null, at its key
                  "config@14:17",  // watermark_delay without event_time
                  "config@15:25",  // empty column name
              }));
}

TEST(PipelineParser, StreamingSourceSettings) {
    EXPECT_EQ(errors_of(R"(name: p
mode: streaming
sources:
  a: {topic: t, schema: 'ts: timestamp', event_time: ts, allowed_lateness: 2s, idle_timeout: 1m,
      start_from: latest}
  b: {topic: t, allowed_lateness: 1s}
  c: {topic: t, start_from: beginning}
  d: {topic: t, idle_timeout: soon}
  e: {generator: {kind: orders, rate: 1000/s, seed: 7, limit: 10, bad_fraction: 0.5}}
  f: {generator: {kind: bids, rate: fast, limit: 0, bad_fraction: 2}}
sinks: [{from: a, topic: o}]
)"),
              (Strings{
                  "config@6:17",         // allowed_lateness without event_time
                  "config@7:29",         // start_from is earliest or latest
                  "parse@8:31",          // not a duration
                  "config@10:25",        // unknown generator kind
                  "config@10:37",        // rate
                  "out_of_range@10:50",  // limit
                  "config@10:67",        // bad_fraction
              }));
}

TEST(PipelineParser, NexmarkGeneratorsAndBlackholeSinks) {
    EXPECT_EQ(errors_of(R"(name: p
mode: streaming
sources:
  a: {generator: {kind: nexmark, events: bid, rate: 10000000/s, paced: false, limit: 100}}
  b: {generator: {kind: nexmark}}
  c: {generator: {kind: nexmark, events: bids, paced: maybe}}
  d: {generator: {kind: orders, events: bid}}
  e: {generator: {kind: transactions}}
  f: {generator: {kind: activity}}
sinks:
  - {from: a, blackhole: {}}
  - {from: a, blackhole: {path: x}}
)"),
              (Strings{
                  "config@5:18",   // nexmark without events
                  "config@6:42",   // events: bids
                  "config@6:55",   // paced: maybe
                  "config@7:41",   // events on orders
                  "config@12:27",  // blackhole takes no settings
              }));
}

TEST(PipelineParser, GeneratorStartFixesTheEventTimeOrigin) {
    EXPECT_EQ(errors_of(R"(name: p
mode: streaming
sources:
  a: {generator: {kind: orders, start: 2026-11-23T10:30:00Z}}
  b: {generator: {kind: orders, start: yesterday}}
  c: {generator: {kind: nexmark, events: bid, start: 2026-11-23T10:30:00Z}}
sinks: [{from: a, blackhole: {}}]
)"),
              (Strings{
                  "config@5:40",  // not a timestamp
                  "config@6:54",  // nexmark's times are fixed
              }));
}

TEST(PipelineParser, BadSinkSettings) {
    EXPECT_EQ(errors_of(R"(name: p
sources: {s: {topic: t}}
sinks:
  - {from: s, online: {key: [a]}}
  - {from: s, online: {feature_view: f, event_time: '1x'}}
  - {from: s, topic: 'bad topic'}
  - {from: s, lake: {table: t, zone: x}}
  - {from: '', topic: t}
  - {from: s, topic: t, file: x.csv}
  - {from: s, file: {path: x.csv, format: xml}}
)"),
              (Strings{
                  "config@4:23",   // online without feature_view
                  "config@5:53",   // event_time not a column name
                  "config@6:22",   // topic name
                  "config@7:32",   // unknown key in lake
                  "config@8:12",   // empty from
                  "config@9:25",   // topic and file
                  "config@10:43",  // format xml
              }));
}

TEST(PipelineParser, MoreBadValues) {
    EXPECT_EQ(errors_of(R"(name: p
description: {a: b}
sources:
  k: {kafka: {brokers: [b:1], topic: t, group: '', properties: {a: {b: c}}}}
  s: {topic: t, schema: {id: int}}
views:
  empty: ''
  missing:
checks:
  s:
    - {not_null: [id], name: '', on_fail: explode}
  k: {not_null: [x]}
sinks:
  - {from: s, lake: {table: t, partition_by: {a: b}}}
  - {from: s, online: {feature_view: f, key: {a: b}}}
  - {from: s, file: {path: out.csv, compression: zstd}}
  - {from: s, file: {path: out}}
)"),
              (Strings{
                  "config@2:14",   // description is a map
                  "config@4:48",   // empty group
                  "config@4:68",   // property value is a map
                  "config@7:10",   // view with empty SQL
                  "config@8:3",    // view with no SQL
                  "config@11:43",  // on_fail: explode
                  "config@11:30",  // empty check name
                  "config@12:6",   // checks of k are not a sequence
                  "config@14:46",  // partition_by is a map
                  "config@15:46",  // key is a map
                  "config@16:37",  // unknown key in file
                  "config@17:21",  // out: which format?
              }));
}

TEST(PipelineParser, YamlErrorsComeThrough) {
    std::vector<Error> errors;
    auto pipeline = parse_pipeline("name: p\nsources: [\n", "p.yaml", "/project", &errors);
    ASSERT_FALSE(pipeline.ok());
    EXPECT_EQ(pipeline.error().code(), ErrorCode::kParse);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].location().file, "p.yaml");
}

TEST(PipelineParser, ErrorListIsOptional) {
    auto pipeline = parse_pipeline("name: p\n", "p.yaml", "/project", nullptr);
    ASSERT_FALSE(pipeline.ok());
    EXPECT_EQ(pipeline.error().code(), ErrorCode::kConfig);
    EXPECT_FALSE(parse_pipeline("[", "p.yaml", "/project", nullptr).ok());
}

TEST(PipelineParser, ResolvesPaths) {
    EXPECT_EQ(resolve_path("/p", "a/b.csv"), "/p/a/b.csv");
    EXPECT_EQ(resolve_path("/p", "./a/../b.csv"), "/p/b.csv");
    EXPECT_EQ(resolve_path("/p", "/abs/x"), "/abs/x");
    EXPECT_EQ(resolve_path("rel", "x"), "rel/x");
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(PipelineParser, KafkaSourcesAndSinks) {
    const PipelineSpec spec = parse_ok(R"(name: p
sources:
  orders:
    kafka: { brokers: 'h1:9092, h2:9092', topic: orders, group: g, start_from: latest, format: ndjson }
sinks:
  - { from: orders, kafka: { brokers: [h1:9092], topic: out, key: [customer, id],
                             properties: { linger.ms: 20 } } }
  - { from: orders, kafka: { brokers: h1:9092, topic: out2, key: customer } }
)");
    ASSERT_EQ(spec.sources.size(), 1u);
    EXPECT_EQ(spec.sources[0].brokers, (Strings{"h1:9092", "h2:9092"}));
    EXPECT_EQ(spec.sources[0].group, "g");
    EXPECT_EQ(spec.sources[0].start_from, StartFrom::kLatest);
    EXPECT_EQ(spec.sources[0].format, DataFormat::kNdjson);
    ASSERT_EQ(spec.sinks.size(), 2u);
    EXPECT_EQ(spec.sinks[0].kind, SinkKind::kKafka);
    EXPECT_EQ(spec.sinks[0].brokers, (Strings{"h1:9092"}));
    EXPECT_EQ(spec.sinks[0].topic, "out");
    EXPECT_EQ(spec.sinks[0].key, (Strings{"customer", "id"}));
    EXPECT_EQ(spec.sinks[0].properties.at("linger.ms"), "20");
    EXPECT_EQ(spec.sinks[1].key, (Strings{"customer"}));
    EXPECT_EQ(enum_name(SinkKind::kKafka), "kafka");
}

TEST(PipelineParser, BadKafkaSettings) {
    EXPECT_EQ(errors_of(R"(name: p
sources:
  s: { kafka: { topic: t, start_from: first, group: g } }
sinks:
  - { from: s, kafka: { brokers: h:1 } }
  - { from: s, kafka: { brokers: h:1, topic: t, group: g } }
  - { from: s, kafka: { brokers: '', topic: t } }
)"),
              (Strings{
                  "config@3:15",  // source without brokers
                  "config@3:39",  // start_from
                  "config@5:23",  // sink without topic
                  "config@6:49",  // group is a source setting
                  "config@7:34",  // empty brokers
              }));
}

TEST(PipelineParser, RestartPolicy) {
    const PipelineSpec defaults = parse_ok(R"(name: p
mode: streaming
sources: { s: { topic: t } }
sinks: [ { from: s, topic: u } ]
)");
    EXPECT_EQ(defaults.restart.attempts, 5);
    EXPECT_EQ(defaults.restart.initial, std::chrono::seconds(1));
    EXPECT_EQ(defaults.restart.max, std::chrono::seconds(60));
    const PipelineSpec spec = parse_ok(R"(name: p
mode: streaming
restart: { attempts: 3, initial: 250ms, max: 10s, reset_after: 1m }
sources: { s: { topic: t } }
sinks: [ { from: s, topic: u } ]
)");
    EXPECT_EQ(spec.restart.attempts, 3);
    EXPECT_EQ(spec.restart.initial, std::chrono::milliseconds(250));
    EXPECT_EQ(spec.restart.max, std::chrono::seconds(10));
    EXPECT_EQ(spec.restart.reset_after, std::chrono::minutes(1));
}

TEST(PipelineParser, BadRestartPolicy) {
    EXPECT_EQ(errors_of(R"(name: p
mode: streaming
restart: { attempts: -1, initial: 0s, max: 5x, retries: 2 }
sources: { s: { topic: t } }
sinks: [ { from: s, topic: u } ]
)"),
              (Strings{
                  "out_of_range@3:22",  // attempts
                  "config@3:35",        // initial 0
                  "parse@3:45",         // max: not a duration (points at the unit)
                  "config@3:48",        // unknown key
              }));
    EXPECT_EQ(errors_of(R"(name: p
mode: streaming
restart: { initial: 30s, max: 10s }
sources: { s: { topic: t } }
sinks: [ { from: s, topic: u } ]
)"),
              (Strings{"config@3:31"}));  // max below initial
    EXPECT_EQ(errors_of(R"(name: p
mode: streaming
restart: 5
sources: { s: { topic: t } }
sinks: [ { from: s, topic: u } ]
)"),
              (Strings{"config@3:10"}));
    EXPECT_EQ(errors_of(R"(name: p
restart: { attempts: 1 }
sources: { s: { topic: t } }
sinks: [ { from: s, topic: u } ]
)"),
              (Strings{"config@2:10"}));  // a batch pipeline
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(PipelineParser, WatchedFileSourcesNeedAStreamingPipeline) {
    const PipelineSpec spec = parse_ok(R"(name: p
mode: streaming
sources:
  events:
    file: { path: inbox, format: csv }
    watch: true
    poll_interval: 250ms
sinks:
  - { from: events, lake: { table: t } }
)");
    ASSERT_EQ(spec.sources.size(), 1u);
    EXPECT_TRUE(spec.sources[0].watch);
    EXPECT_EQ(spec.sources[0].poll_interval, std::chrono::milliseconds(250));
    EXPECT_EQ(spec.sources[0].path, "/project/inbox");

    // Batch: the files are those there at the start; `watch: false` is accepted anywhere.
    EXPECT_EQ(errors_of(R"(name: p
mode: batch
sources:
  events:
    file: { path: inbox, format: csv }
    watch: true
sinks:
  - { from: events, lake: { table: t } }
)"),
              (Strings{"config@6:5"}));
    EXPECT_FALSE(parse_ok(R"(name: p
sources:
  events:
    file: { path: in.csv }
    watch: false
sinks:
  - { from: events, lake: { table: t } }
)")
                     .sources[0]
                     .watch);
    // A topic, a poll interval without watch, and a zero interval.
    EXPECT_EQ(errors_of(R"(name: p
mode: streaming
sources:
  a:
    topic: t
    watch: true
  b:
    file: { path: in.csv }
    poll_interval: 1s
  c:
    file: { path: in.csv }
    watch: true
    poll_interval: 0s
sinks:
  - { from: a, lake: { table: t } }
)"),
              (Strings{"config@6:5", "config@9:5", "config@13:20"}));
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(PipelineParser, DocumentsDatasetsForTheCatalog) {
    const PipelineSpec spec = parse_ok(R"(name: p
owner: analytics
tags: [orders, realtime]
sources:
  raw:
    file: { path: in.csv }
    description: Orders as exported
    owner: shop
    tags: pii
views:
  daily:
    sql: SELECT * FROM raw
    description: One row per day
    tags: [daily, finance]
  plain: SELECT * FROM daily
sinks:
  - { from: daily, lake: { table: t }, description: Days, owner: finance, tags: [gold] }
)");
    EXPECT_EQ(spec.owner, "analytics");
    EXPECT_EQ(spec.tags, (Strings{"orders", "realtime"}));
    ASSERT_EQ(spec.sources.size(), 1u);
    EXPECT_EQ(spec.sources[0].docs.description, "Orders as exported");
    EXPECT_EQ(spec.sources[0].docs.owner, "shop");
    EXPECT_EQ(spec.sources[0].docs.tags, Strings{"pii"});
    ASSERT_EQ(spec.views.size(), 2u);
    EXPECT_EQ(spec.views[0].sql.text, "SELECT * FROM raw");
    EXPECT_EQ(spec.views[0].docs.description, "One row per day");
    EXPECT_EQ(spec.views[0].docs.tags, (Strings{"daily", "finance"}));
    EXPECT_EQ(spec.views[1].sql.text, "SELECT * FROM daily");
    EXPECT_TRUE(spec.views[1].docs.description.empty());
    ASSERT_EQ(spec.sinks.size(), 1u);
    EXPECT_EQ(spec.sinks[0].docs.description, "Days");
    EXPECT_EQ(spec.sinks[0].docs.owner, "finance");
    EXPECT_EQ(spec.sinks[0].docs.tags, Strings{"gold"});

    // The map form needs its SQL; other keys are errors as anywhere.
    EXPECT_EQ(errors_of(R"(name: p
sources:
  raw: { file: { path: in.csv } }
views:
  daily: { description: x }
  other: { sql: SELECT 1, owner: y, colour: red }
sinks:
  - { from: raw, lake: { table: t } }
)"),
              (Strings{"config@5:10", "config@6:37"}));
}

TEST(PipelineParser, MaxBadFilesAsAShareOfTheFiles) {
    const PipelineSpec spec = parse_ok(R"(name: p
sources:
  raw:
    file: { path: "in/*.csv", format: csv }
    max_bad_files: 2.5%
sinks:
  - { from: raw, lake: { table: t } }
)");
    ASSERT_TRUE(spec.sources[0].max_bad_fraction.has_value());
    EXPECT_DOUBLE_EQ(*spec.sources[0].max_bad_fraction, 0.025);
    EXPECT_FALSE(spec.sources[0].max_bad_files.has_value());
    for (const char* bad : {"101%", "-1%", "x%", "%"}) {
        EXPECT_EQ(errors_of(std::string(R"(name: p
sources:
  raw:
    file: { path: "in/*.csv", format: csv }
    max_bad_files: ")") + bad +
                            R"("
sinks:
  - { from: raw, lake: { table: t } }
)"),
                  (Strings{"config@5:20"}))
            << bad;
    }
    // Streaming sources' files arrive one by one: a count only.
    EXPECT_NE(only_message(R"(name: p
mode: streaming
sources:
  raw:
    file: { path: inbox, format: csv }
    watch: true
    max_bad_files: 5%
sinks:
  - { from: raw, lake: { table: t } }
)")
                  .find("applies to batch pipelines"),
              std::string::npos);
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(PipelineParser, EmitEveryIsASinkOptionOfStreamingPipelines) {
    const PipelineSpec spec = parse_ok(R"(name: p
mode: streaming
sources: { s: { topic: t } }
sinks:
  - { from: s, topic: u, key: k, emit: { every: 5s } }
  - { from: s, topic: v }
)");
    ASSERT_EQ(spec.sinks.size(), 2u);
    ASSERT_TRUE(spec.sinks[0].emit_every.has_value());
    EXPECT_EQ(*spec.sinks[0].emit_every, std::chrono::seconds(5));
    EXPECT_EQ(spec.sinks[0].emit_location.line, 5);
    EXPECT_FALSE(spec.sinks[1].emit_every.has_value());
    // Zero, no `every`, an unknown key, and a batch pipeline.
    EXPECT_EQ(errors_of(R"(name: p
mode: streaming
sources: { s: { topic: t } }
sinks:
  - { from: s, topic: u, key: k, emit: { every: 0s } }
  - { from: s, topic: u, key: k, emit: {} }
  - { from: s, topic: u, key: k, emit: { every: 1s, after: 2s } }
)"),
              (Strings{"config@5:49", "config@6:40", "config@7:53"}));
    EXPECT_EQ(errors_of(R"(name: p
sources: { s: { file: { path: in.csv } } }
sinks:
  - { from: s, lake: { table: t }, emit: { every: 1s } }
)"),
              (Strings{"config@4:42"}));
}

TEST(PipelineParser, ReloadIsForFileSourcesReadWholeInStreamingPipelines) {
    const PipelineSpec spec = parse_ok(R"(name: p
mode: streaming
sources:
  events: { topic: t }
  cities:
    file: { path: cities.csv }
    reload: true
    poll_interval: 200ms
sinks:
  - { from: events, topic: u }
)");
    ASSERT_EQ(spec.sources.size(), 2u);
    EXPECT_FALSE(spec.sources[0].reload);
    EXPECT_TRUE(spec.sources[1].reload);
    EXPECT_EQ(spec.sources[1].poll_interval, std::chrono::milliseconds(200));
    // A topic, a watched folder, and a batch pipeline.
    EXPECT_EQ(errors_of(R"(name: p
mode: streaming
sources:
  a:
    topic: t
    reload: true
  b:
    file: { path: inbox, format: csv }
    watch: true
    reload: true
sinks:
  - { from: a, topic: u }
)"),
              (Strings{"config@6:13", "config@10:13"}));
    EXPECT_EQ(errors_of(R"(name: p
sources:
  a:
    file: { path: in.csv }
    reload: true
sinks:
  - { from: a, lake: { table: t } }
)"),
              (Strings{"config@5:13"}));
}

TEST(PipelineParser, LakeSources) {
    const PipelineSpec spec = parse_ok(R"(name: p
sources:
  all: { lake: { table: orders } }
  new: { lake: { table: orders, incremental: true, changelog: true, start_snapshot: 3 } }
sinks:
  - { from: new, file: { path: out.csv } }
)");
    ASSERT_EQ(spec.sources.size(), 2u);
    EXPECT_EQ(spec.sources[0].kind, SourceKind::kLake);
    EXPECT_EQ(spec.sources[0].table, "orders");
    EXPECT_EQ(spec.sources[0].table_location.line, 3);
    EXPECT_EQ(spec.sources[0].table_location.column, 25);
    EXPECT_FALSE(spec.sources[0].incremental);
    EXPECT_TRUE(spec.sources[1].incremental);
    EXPECT_TRUE(spec.sources[1].changelog);
    EXPECT_EQ(spec.sources[1].start_snapshot, std::optional<uint64_t>(3));
    EXPECT_EQ(enum_name(SourceKind::kLake), "lake");
}

TEST(PipelineParser, BadLakeSourceSettings) {
    EXPECT_EQ(errors_of(R"(name: p
sources:
  a: { lake: { incremental: true } }
  b: { lake: { table: t, changelog: true } }
  c: { lake: { table: t, start_snapshot: 2 } }
  d: { lake: { table: t, incremental: yes } }
  e: { lake: { table: t }, format: csv }
  f: { lake: { table: 'a/b' } }
  g: { lake: { table: t, snapshot: 2 } }
sinks:
  - { from: a, file: { path: out.csv } }
)"),
              (Strings{
                  "config@3:14",  // no table
                  "config@4:26",  // changelog without incremental
                  "config@5:26",  // start_snapshot without incremental
                  "config@6:39",  // not a boolean
                  "config@7:28",  // format
                  "config@8:23",  // a table name
                  "config@9:26",  // unknown key
              }));
    // The streaming settings of a lake source do not apply to a batch run.
    EXPECT_EQ(errors_of(R"(name: p
sources:
  a: { lake: { table: t }, poll_interval: 1s }
  b: { lake: { table: t }, start_from: latest }
sinks:
  - { from: a, file: { path: out.csv } }
)"),
              (Strings{
                  "config@3:28",  // poll_interval
                  "config@4:28",  // start_from
              }));
}

TEST(PipelineParser, StreamingLakeSources) {
    const PipelineSpec spec = parse_ok(R"(name: p
mode: streaming
sources:
  all: { lake: { table: orders } }
  changes: { lake: { table: orders, changelog: true }, poll_interval: 250ms }
  new:
    lake: { table: orders }
    start_from: latest
    event_time: at
    watermark_delay: 5s
  after: { lake: { table: orders, incremental: true, start_snapshot: 3 } }
sinks:
  - { from: all, file: { path: out.csv } }
)");
    ASSERT_EQ(spec.sources.size(), 4u);
    EXPECT_EQ(spec.sources[0].kind, SourceKind::kLake);
    EXPECT_EQ(spec.sources[0].poll_interval, std::chrono::seconds(1));  // the default
    EXPECT_EQ(spec.sources[0].start_from, StartFrom::kEarliest);
    // A streaming changelog may start with the current snapshot (as inserts).
    EXPECT_TRUE(spec.sources[1].changelog);
    EXPECT_FALSE(spec.sources[1].incremental);
    EXPECT_EQ(spec.sources[1].poll_interval, std::chrono::milliseconds(250));
    EXPECT_EQ(spec.sources[2].start_from, StartFrom::kLatest);
    EXPECT_EQ(spec.sources[2].event_time, std::optional<std::string>("at"));
    EXPECT_EQ(spec.sources[2].watermark_delay, std::chrono::seconds(5));
    EXPECT_EQ(spec.sources[3].start_snapshot, std::optional<uint64_t>(3));

    EXPECT_EQ(errors_of(R"(name: p
mode: streaming
sources:
  a: { lake: { table: t }, poll_interval: 0s }
  b: { lake: { table: t }, poll_interval: often }
  c: { lake: { table: t, incremental: true, start_snapshot: 2 }, start_from: latest }
  d: { lake: { table: t }, start_from: newest }
  e: { lake: { table: t, start_snapshot: 2 } }
  f: { lake: { table: t }, watermark_delay: 5s }
sinks:
  - { from: a, file: { path: out.csv } }
)"),
              (Strings{
                  "config@4:43",  // poll_interval must be longer than 0
                  "parse@5:43",   // not a duration
                  "config@6:66",  // start_from latest and start_snapshot
                  "config@7:40",  // not earliest or latest
                  "config@8:26",  // start_snapshot without incremental
                  "config@9:28",  // watermark_delay without event_time
              }));
}

}  // namespace
}  // namespace millrace
