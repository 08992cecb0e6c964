#include "cli/serve_command.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "alerts/alert_evaluator.h"
#include "common/clock.h"
#include "common/cpu_count.h"
#include "common/logger.h"
#include "common/metrics_registry.h"
#include "common/write_health.h"
#include "kafka/broker.h"
#include "kafka/kafka_server.h"
#include "lineage/lineage_deliverer.h"
#include "lineage/lineage_recorder.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/topic.h"
#include "online/online_store.h"
#include "pipeline/check_results_exporter.h"
#include "pipeline/pipeline_supervisor.h"
#include "pipeline/stream_runner.h"
#include "project/pipeline_variables.h"
#include "project/project_loader.h"
#include "scheduler/job_parser.h"
#include "scheduler/run_metrics.h"
#include "scheduler/scheduler.h"
#include "scheduler/state_store.h"
#include "server/bearer_auth.h"
#include "server/catalog_handler.h"
#include "server/checks_handler.h"
#include "server/dashboard_handler.h"
#include "server/feature_handler.h"
#include "server/feature_route.h"
#include "server/feature_views_handler.h"
#include "server/http_server.h"
#include "server/iceberg_catalog_handler.h"
#include "server/ingest_handler.h"
#include "server/jobs_handler.h"
#include "server/lake_handler.h"
#include "server/materialize_handler.h"
#include "server/pipelines_handler.h"
#include "server/readiness.h"
#include "server/schema_registry_handler.h"
#include "server/serving_config.h"
#include "server/topic_handler.h"
#include "server/traffic_capture.h"

namespace millrace {

namespace {

TopicConfig to_topic_config(const TopicSpec& spec) {
    TopicConfig config;
    config.partitions = spec.partitions;
    config.fsync = spec.fsync == TopicFsync::kAlways  ? FsyncPolicy::kAlways
                   : spec.fsync == TopicFsync::kNever ? FsyncPolicy::kNever
                                                      : FsyncPolicy::kInterval;
    config.fsync_interval =
        std::chrono::duration_cast<std::chrono::milliseconds>(spec.fsync_interval);
    if (config.fsync_interval.count() < 1) config.fsync_interval = std::chrono::milliseconds(1);
    if (spec.segment_bytes) config.segment_bytes = *spec.segment_bytes;
    if (spec.retention_bytes) config.retention_bytes = *spec.retention_bytes;
    if (spec.retention) {
        config.retention_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(*spec.retention).count();
    }
    config.schema = spec.schema;
    config.on_error = spec.on_error == TopicOnError::kDeadLetter ? OnIngestError::kDeadLetter
                                                                 : OnIngestError::kReject;
    config.capture = spec.capture;
    config.require_schema = spec.require_schema;
    return config;
}

bool split_listen(const std::string& listen, std::string& host, uint16_t& port) {
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return false;
    host = listen.substr(0, colon);
    if (host == "localhost") host = "127.0.0.1";
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);  // [::1]
    }
    try {
        const int value = std::stoi(listen.substr(colon + 1));
        if (value < 0 || value > 65535) return false;
        port = static_cast<uint16_t>(value);
    } catch (...) {
        return false;
    }
    return true;
}

}  // namespace

int run_serve(const ServeOptions& options) {
    std::vector<Error> errors;
    Result<Project> project = load_project(options.project_dir, &errors);
    if (!project.ok()) {
        if (errors.empty()) errors.push_back(project.error());
        for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        return 1;
    }
    SystemClock clock;
    Logger logger(stderr, LogLevel::kInfo, &clock);
    if (std::optional<LogFormat> format = parse_log_format(options.log_format)) {
        logger.set_format(*format);
    } else {
        std::fprintf(stderr, "error: --log-format `%s`: expected json or text\n",
                     options.log_format.c_str());
        return 1;
    }
    MetricsRegistry metrics;
    // Run events of the scheduler's job runs, the streaming pipelines and materializations go
    // to the outbox; the deliverer sends what any process recorded there.
    LineageRecorder lineage(*project,
                            [&logger](const std::string& line) { logger.warn("lineage", line); });
    LineageDeliverer lineage_deliverer(project->data_dir, project->lineage.url, metrics, logger);
    lineage_deliverer.start();
    // Quality-rule results, judged by runs in other processes too, as metrics.
    CheckResultsExporter check_results(project->data_dir, metrics);
    check_results.start();
    // Alert rules over these metrics, notifying the webhook through an outbox.
    std::unique_ptr<AlertEvaluator> alerts;
    if (!project->alerts.rules.empty()) {
        alerts = std::make_unique<AlertEvaluator>(*project, metrics, logger, clock);
    }
    LogOptions log_options;
    log_options.command = "millrace serve";
    auto log = Log::open(project->data_dir, clock, log_options);
    if (!log.ok()) {
        std::fprintf(stderr, "millrace serve: %s\n", log.error().to_string().c_str());
        return 1;
    }
    {
        const std::vector<std::string> damage = (*log)->damage();
        for (const std::string& range : damage) {
            logger.error("log", "damaged log data kept; readers get an error for its offsets",
                         {{"range", range}});
        }
        metrics
            .gauge("millrace_log_damaged_ranges",
                   "Damaged ranges of log segments found by recovery (kept, not read)")
            .set(static_cast<double>(damage.size()));
    }
    for (const TopicSpec& spec : project->topics) {
        auto topic = (*log)->ensure_topic(spec.name, to_topic_config(spec));
        if (!topic.ok()) {
            std::fprintf(stderr, "%s: error: topic `%s`: %s\n", spec.location.to_string().c_str(),
                         spec.name.c_str(), topic.error().message().c_str());
            return 1;
        }
        const TopicConfig wanted = to_topic_config(spec);
        if (topic_config_to_json((*topic)->config()) != topic_config_to_json(wanted)) {
            logger.warn("serve", "topic exists with other settings; the stored ones are used",
                        {{"topic", spec.name},
                         {"stored", topic_config_to_json((*topic)->config())},
                         {"declared", topic_config_to_json(wanted)}});
        }
    }
    HttpServerOptions server_options;
    if (!split_listen(options.listen.empty() ? project->listen_http : options.listen,
                      server_options.address, server_options.port)) {
        std::fprintf(stderr, "millrace serve: invalid listen address (expected host:port)\n");
        return 1;
    }
    server_options.threads = options.threads;
    server_options.max_body_bytes = options.max_body_bytes;
    server_options.header_timeout = std::chrono::milliseconds(options.header_timeout_ms);
    server_options.body_timeout = std::chrono::milliseconds(options.body_timeout_ms);
    // Feature serving: the project's feature views from the online store, its
    // YAML routes, and the `serving:` block (auth, limits, capture).
    ServingConfig serving = parse_serving_config(*project, errors);
    std::vector<FeatureView> views;
    if (!project->feature_views.empty()) {
        auto loaded = load_feature_views(*project, &errors);
        if (loaded.ok()) {
            views = std::move(loaded).value();
        } else if (errors.empty()) {
            errors.push_back(loaded.error());
        }
    }
    std::vector<FeatureRoute> routes = parse_feature_routes(*project, views, errors);
    // No auth where other machines can reach the server only when the project says so.
    const std::string listen = options.listen.empty() ? project->listen_http : options.listen;
    if (auto refused = check_listen_auth(
            serving, server_options.address,
            options.listen.empty() ? "`listen.http` " + listen : "--listen " + listen,
            options.listen.empty() ? project->listen_location : SourceLocation{})) {
        errors.push_back(std::move(*refused));
    }
    if (!errors.empty()) {
        for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        return 1;
    }
    if (serving.auth_none && !is_loopback_host(server_options.address)) {
        std::fprintf(stderr,
                     "WARNING: millrace serve listens on %s with NO AUTH (`serving: { auth: none "
                     "}`): anyone who reaches it can trigger jobs, delete topics and ingest\n",
                     listen.c_str());
        logger.warn("serve", "serving without auth on a non-loopback address",
                    {{"listen", listen}, {"auth", "none"}});
    }
    WriteHealth log_health;  // failed appends and fsyncs (ingestion, capture), for /readyz
    std::unique_ptr<OnlineStore> store;
    std::unique_ptr<TrafficCapture> capture;
    std::unique_ptr<FeatureHandler> features;
    std::unique_ptr<MaterializeHandler> materialize;
    if (!views.empty()) {
        OnlineStoreOptions store_options;
        if (serving.cache_rows) store_options.cache_rows = *serving.cache_rows;
        auto opened = OnlineStore::open(OnlineStore::directory(project->data_dir), std::move(views),
                                        store_options, &metrics);
        if (!opened.ok()) {
            std::fprintf(stderr, "millrace serve: %s\n", opened.error().to_string().c_str());
            return 1;
        }
        store = std::move(opened).value();
        if (serving.capture) {
            // Bounded by default (a week, 1 GiB); declare the topic under `topics:` to keep
            // more or less.
            TopicConfig capture_config;
            capture_config.fsync = FsyncPolicy::kInterval;
            capture_config.retention_bytes = int64_t{1} << 30;
            capture_config.retention_ms = int64_t{7} * 24 * 3600 * 1000;
            auto topic = (*log)->ensure_topic(serving.capture->topic, capture_config);
            if (!topic.ok()) {
                std::fprintf(stderr, "millrace serve: capture topic `%s`: %s\n",
                             serving.capture->topic.c_str(), topic.error().to_string().c_str());
                return 1;
            }
            capture = std::make_unique<TrafficCapture>(
                std::move(topic).value(), serving.capture->sample, metrics, 10'000, &log_health);
        }
    }
    Router router(metrics);
    BearerAuth auth(serving.tokens);
    if (auth.enabled()) {
        router.set_guard([&auth](const HttpRequest& request, std::string_view group) {
            return auth.check(request, group);
        });
    }
    if (store) {
        features = std::make_unique<FeatureHandler>(*store, serving, std::move(routes), clock,
                                                    metrics, capture.get());
        features->add_routes(router);
        // `millrace materialize` asks the server holding the store to load a view.
        materialize = std::make_unique<MaterializeHandler>(*project, *store, &clock, &lineage);
        materialize->add_routes(router);
    }
    IngestHandler ingest(**log, clock, metrics, &log_health);
    ingest.add_routes(router);
    TopicHandler topics(**log);
    topics.add_routes(router);
    // The schema registry (Confluent's REST API at the root), stored beside the log.
    SchemaRegistry schemas((*log)->dir() + "/_schemas");
    if (Status loaded = schemas.load(); !loaded.ok()) {
        std::fprintf(stderr, "millrace serve: %s\n", loaded.error().to_string().c_str());
        return 1;
    }
    SchemaRegistryHandler registry(schemas);
    registry.add_routes(router);
    add_status_routes(router, metrics);
    // The Iceberg REST catalog over the lake (/iceberg/v1/...): engines find its tables by name.
    IcebergCatalogHandler catalog(project->data_dir);
    catalog.add_routes(router);
    // /readyz: the log, the lake and the online store can write (/healthz stays liveness).
    std::vector<ReadinessComponent> storage;
    storage.push_back({"log", project->data_dir + "/log", &log_health, {}, {}});
    storage.push_back({"lake", project->data_dir + "/lake", nullptr, {}, {}});
    if (store) {
        OnlineStore* online = store.get();
        storage.push_back({"online_store", OnlineStore::directory(project->data_dir), nullptr,
                           [online] { return online->probe_write(); },
                           [online] { return online->last_write_failure(); }});
    }
    // A scheduler whose state store failed a write stops scheduling and is not ready.
    std::unique_ptr<RunMetrics> run_metrics;  // outlives the scheduler that feeds it
    std::unique_ptr<Scheduler> scheduler;
    if (!project->jobs.empty()) {
        storage.push_back({"scheduler",
                           project->data_dir,
                           nullptr,
                           {},
                           [&scheduler]() -> std::optional<std::string> {
                               if (!scheduler) return std::nullopt;
                               Status health = scheduler->health();
                               if (health.ok()) return std::nullopt;
                               return health.error().message();
                           }});
    }
    ReadinessOptions readiness_options;
    readiness_options.min_free_bytes = serving.min_free_bytes;
    Readiness readiness(std::move(storage), readiness_options, clock);
    readiness.add_routes(router);
    // The scheduler runs alongside the server when the project has jobs: cron schedules and
    // file triggers fire, and /v1/jobs, /v1/runs and POST /v1/jobs/{job}/trigger drive it.
    std::vector<JobDefinition> jobs;
    for (const JobSpec& spec : project->jobs) {
        Result<JobDefinition> job = load_job(spec, *project, errors);
        if (job.ok()) jobs.push_back(std::move(job).value());
    }
    if (!errors.empty()) {
        for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        return 1;
    }
    std::unique_ptr<JobsHandler> jobs_handler;
    if (!jobs.empty()) {
        SchedulerOptions scheduler_options;
        scheduler_options.on_event = [&logger](const std::string& line) {
            logger.info("scheduler", line);
        };
        Log* log_ptr = log->get();
        scheduler_options.topic_records =
            [log_ptr](const std::string& name) -> std::optional<int64_t> {
            std::shared_ptr<Topic> topic = log_ptr->find_topic(name);
            if (!topic) return std::nullopt;
            int64_t total = 0;
            for (int32_t p = 0; p < topic->partition_count(); ++p)
                total += topic->partition(p)->end_offset();
            return total;
        };
        scheduler_options.process_command = "millrace serve";
        run_metrics = std::make_unique<RunMetrics>(metrics, jobs);
        scheduler_options.on_run_started = [&](const RunRecord& run) {
            lineage.job_run_started(run);
            lineage_deliverer.wake();
            run_metrics->run_started(run);
        };
        scheduler_options.on_run_finished = [&](const RunSummary& summary) {
            lineage.job_run_finished(summary);
            lineage_deliverer.wake();
            run_metrics->run_finished(summary);
        };
        scheduler = std::make_unique<Scheduler>(*project, jobs, scheduler_options, clock);
        if (Status claimed = scheduler->claim_schedules(); !claimed.ok()) {
            std::fprintf(stderr, "millrace serve: scheduler: %s\n",
                         claimed.error().message().c_str());
            return 1;
        }
        if (Status started = scheduler->start(); !started.ok()) {
            std::fprintf(stderr, "millrace serve: scheduler: %s\n",
                         started.error().to_string().c_str());
            return 1;
        }
        if (Status enabled = scheduler->enable_schedules(); !enabled.ok()) {
            std::fprintf(stderr, "millrace serve: scheduler: %s\n",
                         enabled.error().to_string().c_str());
            return 1;
        }
        auto store = StateStore::open(project->data_dir + "/scheduler.db");
        if (!store.ok()) {
            std::fprintf(stderr, "millrace serve: %s\n", store.error().to_string().c_str());
            return 1;
        }
        jobs_handler = std::make_unique<JobsHandler>(
            *scheduler, std::make_unique<StateStore>(std::move(store).value()), clock);
        jobs_handler->add_routes(router);
    }
    // The Kafka listener (`listen.kafka`), on the same log; up before /healthz answers.
    // The broker goes first: what it still holds (waiting fetches, joins) refers to the
    // server's connections, which must outlive it.
    std::unique_ptr<kafka::KafkaServer> kafka_server;
    std::unique_ptr<kafka::Broker> kafka_broker;
    if (!project->kafka.listen.empty()) {
        const KafkaSpec& spec = project->kafka;
        kafka::KafkaServerOptions kafka_options;
        kafka::BrokerOptions broker_options;
        std::string advertised_host;
        uint16_t advertised_port = 0;
        if (!split_listen(spec.listen, kafka_options.address, kafka_options.port) ||
            !split_listen(spec.advertised.empty() ? spec.listen : spec.advertised, advertised_host,
                          advertised_port)) {
            std::fprintf(stderr, "millrace serve: invalid kafka address (expected host:port)\n");
            return 1;
        }
        if (advertised_host == "0.0.0.0" || advertised_host == "::") advertised_host = "127.0.0.1";
        if (!is_loopback_host(kafka_options.address)) {
            // The Kafka protocol has no auth here yet: say so where it cannot be missed.
            std::fprintf(stderr,
                         "WARNING: the Kafka listener on %s has no authentication or TLS: anyone "
                         "who reaches it can read, write, create and delete topics\n",
                         spec.listen.c_str());
            logger.warn("serve", "Kafka listener without authentication on a non-loopback address",
                        {{"listen", spec.listen}});
        }
        broker_options.advertised_host = advertised_host;
        broker_options.advertised_port = advertised_port;
        broker_options.auto_create_topics = spec.auto_create_topics;
        broker_options.default_partitions = spec.default_partitions;
        broker_options.schema_exists = [&schemas](int64_t id) {
            return schemas.by_id(id).has_value();
        };
        broker_options.initial_rebalance_delay =
            std::chrono::duration_cast<std::chrono::milliseconds>(spec.initial_rebalance_delay);
        kafka_options.max_request_bytes = static_cast<std::size_t>(spec.max_request_bytes);
        // `--threads` sizes both listeners (0: one per core).
        kafka_options.threads =
            options.threads > 0 ? options.threads : static_cast<int>(usable_cores());
        kafka_broker =
            std::make_unique<kafka::Broker>(**log, clock, logger, broker_options, &metrics);
        kafka_server = std::make_unique<kafka::KafkaServer>(kafka_options, *kafka_broker, logger);
        Status started = kafka_broker->start();
        if (started.ok()) started = kafka_server->start();
        if (!started.ok()) {
            std::fprintf(stderr, "%s: millrace serve: kafka: %s\n",
                         spec.listen_location.to_string().c_str(),
                         started.error().to_string().c_str());
            return 1;
        }
    }
    // Streaming pipelines run beside the server, one thread each, on the server's log (records
    // ingested over HTTP reach them as they are appended) and online store, restarted after a
    // failure by their `restart:` policy; batch ones are run by `millrace run` or a job.
    std::vector<PipelineSpec> streaming;
    for (const PipelineSpec& declared : project->pipelines) {
        if (declared.mode != PipelineMode::kStreaming) continue;
        Result<PipelineSpec> pipeline = bind_pipeline_variables(declared, {});
        if (!pipeline.ok()) {
            logger.error("stream", "streaming pipeline not started",
                         {{"pipeline", declared.name}, {"error", pipeline.error().to_string()}});
            continue;
        }
        streaming.push_back(std::move(pipeline).value());
    }
    PipelineSupervisor::Options supervisor_options;
    supervisor_options.stream.shared = SharedServices{log->get(), store.get(), &metrics};
    supervisor_options.stream.allow_state_drop = options.allow_state_drop;
    // Each run (a restart is a new run) records its OpenLineage START and COMPLETE/FAIL.
    supervisor_options.runner = [&](const PipelineSpec& pipeline, const StreamOptions& stream) {
        const std::string lineage_run = lineage.start_pipeline(pipeline);
        lineage_deliverer.wake();
        Result<StreamReport> report = run_streaming_pipeline(*project, pipeline, stream);
        lineage.finish_pipeline(pipeline, lineage_run, report.ok() ? &report->run : nullptr,
                                report.ok() ? "" : report.error().to_string());
        lineage_deliverer.wake();
        return report;
    };
    PipelineSupervisor supervisor(*project, std::move(streaming), clock, logger, &metrics,
                                  std::move(supervisor_options));
    PipelinesHandler pipelines_handler(supervisor, clock);
    pipelines_handler.add_routes(router);
    // What the dashboard shows beside the pipelines: lake tables, check results, feature views.
    LakeHandler lake_handler(project->data_dir);
    lake_handler.add_routes(router);
    ChecksHandler checks_handler(project->data_dir);
    checks_handler.add_routes(router);
    // The catalog (/v1/datasets), the lineage graph and the dead letters.
    CatalogHandler catalog_handler(*project, log->get(), &schemas, clock);
    catalog_handler.add_routes(router);
    std::unique_ptr<FeatureViewsHandler> feature_views;
    if (store) {
        feature_views = std::make_unique<FeatureViewsHandler>(store->views());
        feature_views->add_routes(router);
    }
    std::vector<std::string> pipeline_names;
    for (const PipelineSpec& pipeline : project->pipelines) pipeline_names.push_back(pipeline.name);
    DashboardHandler dashboard(
        {project->name, jobs_handler != nullptr, store != nullptr, std::move(pipeline_names)});
    dashboard.add_routes(router);
    HttpServer server(server_options, router, logger);
    if (Status status = server.start(); !status.ok()) {
        std::fprintf(stderr, "millrace serve: %s\n", status.error().to_string().c_str());
        return 1;
    }
    {
        // `millrace topic produce` finds this in the log's lock file and sends its records here.
        std::string host = server_options.address;
        if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
        if (host == "::") host = "::1";
        if (host.find(':') != std::string::npos) host = "[" + host + "]";
        if (Status recorded = (*log)->set_address(host + ":" + std::to_string(server.port()));
            !recorded.ok()) {
            logger.warn("serve", "cannot record the address in the log's lock file",
                        {{"error", recorded.error().to_string()}});
        }
    }
    if (alerts) alerts->start();  // once every metric it watches is registered
    logger.info("serve", "ready",
                {{"project", project->name},
                 {"data_dir", project->data_dir},
                 {"port", static_cast<int64_t>(server.port())},
                 {"topics", static_cast<int64_t>((*log)->list_topics().size())},
                 {"jobs", static_cast<int64_t>(jobs.size())},
                 {"feature_views", static_cast<int64_t>(store ? store->views().size() : 0)},
                 {"auth", auth.enabled()}});
    supervisor.start_all();
    server.wait_for_signal();
    logger.info("serve", "stopping");
    // Streams first, while the stores they commit into are still open; then the stop and start
    // requests still waiting are answered while the server can still send the answers.
    supervisor.stop_all();
    pipelines_handler.finish();
    server.stop();
    if (kafka_server) kafka_server->stop();
    kafka_broker.reset();
    kafka_server.reset();
    if (scheduler) scheduler->stop();
    if (alerts) alerts->stop();
    lineage_deliverer.stop();
    check_results.stop();
    if (capture) capture->stop();
    (*log)->stop();
    logger.info("serve", "stopped");
    return 0;
}

}  // namespace millrace
