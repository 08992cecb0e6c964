#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/alert_rules_command.h"
#include "cli/bench_command.h"
#include "cli/check_command.h"
#include "cli/command_clock.h"
#include "cli/convert_command.h"
#include "cli/dlq_command.h"
#include "cli/generate_command.h"
#include "cli/jobs_command.h"
#include "cli/lake_command.h"
#include "cli/lineage_command.h"
#include "cli/materialize_command.h"
#include "cli/pipeline_command.h"
#include "cli/query_command.h"
#include "cli/replay_command.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/topic_command.h"
#include "cli/validate_command.h"

namespace millrace {

namespace {
constexpr const char* kVersion = "0.1.0";
}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{
        "Millrace: one binary for ingesting, transforming, checking, landing and serving "
        "data.",
        "millrace"};
    app.set_version_flag("--version,-V", std::string("millrace ") + kVersion);
    app.require_subcommand(0, 1);
    app.fallthrough(false);

    auto* help = app.add_subcommand("help", "Show help for millrace or one of its commands");
    std::vector<std::string> help_topic;
    help->add_option("command", help_topic, "The command to explain, e.g. `run` or `jobs run`");

    auto* validate = app.add_subcommand(
        "validate", "Check a project and every file it includes, without running it");
    std::string project_dir;
    std::vector<std::string> validate_vars;
    validate->add_option("project-dir", project_dir, "The project directory")->required();
    validate->add_option("--var", validate_vars,
                         "name=value for {{ name }} in pipeline file paths (repeatable; "
                         "default: the pipeline's vars, else any file)");

    auto* convert = app.add_subcommand(
        "convert", "Convert a file between JSON, CSV and Parquet through a schema");
    ConvertOptions convert_options;
    convert->add_option("input", convert_options.input, "Input file, or - for stdin")->required();
    convert->add_option("output", convert_options.output, "Output file, or - for stdout")
        ->required();
    convert->add_option("--schema", convert_options.schema,
                        "Columns, e.g. \"id: int64 not null, amount: double\" (default: infer)");
    convert->add_option("--from", convert_options.from, "Input format: json, csv or parquet");
    convert->add_option("--to", convert_options.to, "Output format: json, csv or parquet");
    convert->add_option("--compression", convert_options.compression,
                        "Parquet output codec: zstd (default), snappy or none");
    convert->add_option("--row-group-rows", convert_options.row_group_rows,
                        "Parquet output: rows per row group");
    convert->add_option("--errors", convert_options.errors,
                        "Write rejected records with their reasons to this NDJSON file");
    convert->add_option("--max-errors", convert_options.max_errors,
                        "Exit with 1 when more records than this are rejected");
    convert->add_option("--delimiter", convert_options.delimiter, "CSV delimiter (or `tab`)");
    convert->add_flag("--no-header", convert_options.no_header, "CSV files have no header line");
    convert->add_option("--null", convert_options.null_marker, "CSV text that means null");
    convert->add_option("--epoch-unit", convert_options.epoch_unit,
                        "JSON numbers in timestamp columns: auto, s, ms or us");
    convert->add_option("--batch-rows", convert_options.batch_rows, "Rows per batch");

    auto* generate = app.add_subcommand("generate", "Write deterministic test data");
    GenerateOptions generate_options;
    generate->add_option("dataset", generate_options.dataset,
                         "Dataset: orders (events), sales (retail POS, one CSV per day) or "
                         "activity (user events for features, one CSV per day) or nexmark "
                         "(person, auction and bid NDJSON files of the Nexmark benchmark)");
    generate->add_option("--rows,-n", generate_options.rows, "Number of records");
    generate->add_option("--format,-f", generate_options.format, "ndjson or csv");
    generate->add_option("--bad-fraction", generate_options.bad_fraction,
                         "Share of deliberately bad records (0..1)");
    generate->add_option("--seed", generate_options.seed, "Random seed");
    generate->add_option("--output,-o", generate_options.output, "Output file, or - for stdout");
    generate->add_option("--days", generate_options.days,
                         "sales, activity: number of days (files)");
    generate->add_option("--stores", generate_options.stores, "sales: number of stores");
    generate->add_option("--users", generate_options.users, "activity: number of users");
    generate->add_option("--rows-per-day", generate_options.rows_per_day,
                         "sales, activity: rows per file");
    generate->add_option(
        "--start", generate_options.start,
        "sales, activity: first day, YYYY-MM-DD (activity: default the last --days days)");
    generate->add_option("--target-bytes", generate_options.target_bytes,
                         "sales: total size of all files (e.g. 1G); sets --rows-per-day");
    generate->add_option("--output-dir", generate_options.output_dir,
                         "sales, activity, nexmark: directory for the files");
    generate->add_option("--rate", generate_options.rate,
                         "nexmark: event-time rate, events per second (default 10000000)");

    auto* bench = app.add_subcommand("bench", "Run a built-in benchmark");
    auto* bench_nexmark = bench->add_subcommand(
        "nexmark", "Nexmark queries as streaming pipelines over the nexmark generator");
    BenchNexmarkOptions bench_options;
    bench_nexmark->add_option("--query", bench_options.query, "q0, q1, ... or all (default)");
    bench_nexmark->add_option("--events", bench_options.events,
                              "Events of all three relations (default 10000000)");
    bench_nexmark->add_option("--parallelism", bench_options.parallelism,
                              "Written into the pipeline's parallelism: (default 1)");
    bench_nexmark->add_option("--checkpoint-interval", bench_options.checkpoint_interval,
                              "Take a checkpoint this often, e.g. 1s (default: none mid-run)");
    bench_nexmark->add_option("--queries", bench_options.queries_dir,
                              "Folder of <query>.sql files (default bench/nexmark)");
    bench_nexmark->add_option("--work-dir", bench_options.work_dir,
                              "Where the generated projects go (default: a temporary folder)");
    bench_nexmark->add_option("--seed", bench_options.seed, "Generator seed (default 42)");
    bench_nexmark->add_option("--sink", bench_options.sink,
                              "blackhole (default: rows counted, not kept) or csv (a file each)");
    bench_nexmark->add_option("--json", bench_options.json_out,
                              "Append one JSON line of figures per query to this file");
    bench->require_subcommand(1);

    auto* run = app.add_subcommand(
        "run", "Run a pipeline (batch: to completion; streaming: until stopped)");
    RunCommandOptions run_options;
    run->add_option("project-dir", run_options.project_dir, "The project directory")->required();
    run->add_option("pipeline", run_options.pipeline, "The pipeline's name")->required();
    run->add_option("--memory-limit", run_options.memory_limit,
                    "Memory a join build side or sort may hold, e.g. 512M, 4G (default 4G)");
    run->add_option("--var", run_options.vars,
                    "name=value for {{ name }} in the pipeline's file paths, e.g. ds=2026-11-03 "
                    "(repeatable; ds also sets ds_nodash)");
    run->add_option("--duration", run_options.duration,
                    "Streaming: stop after this long, e.g. 30s, 5m (open windows are emitted)");
    run->add_flag("--until-idle", run_options.until_idle,
                  "Streaming: stop once no source has delivered a record for --idle");
    run->add_option(
        "--idle", run_options.idle,
        "Streaming, with --until-idle: how long the sources must be silent (default 2s)");
    run->add_option("--log-format", run_options.log_format,
                    "text (default): the report for people; json: the report as JSON log lines");
    run->add_option("--commit-interval", run_options.commit_interval,
                    "Streaming: how often to take a checkpoint, which commits the lake, topic "
                    "and online sinks (default: the pipeline's checkpoint_interval, else 10s)");
    run->add_option("--keep-checkpoints", run_options.keep_checkpoints,
                    "Streaming: how many complete checkpoints to keep (default 3)")
        ->check(CLI::PositiveNumber);
    run->add_option("--savepoint", run_options.savepoint,
                    "Streaming: stop with a savepoint in this folder (open windows stay open)");
    run->add_option("--from-savepoint", run_options.from_savepoint,
                    "Streaming: start from this savepoint instead of the latest checkpoint");
    run->add_flag("--allow-state-drop", run_options.allow_state_drop,
                  "Streaming: start even if saved state of an edited or removed view is dropped "
                  "(see `millrace pipeline plan`)");

    auto* explain =
        app.add_subcommand("explain", "Print the optimized plan of every sink of a pipeline");
    RunCommandOptions explain_options;
    explain->add_option("project-dir", explain_options.project_dir, "The project directory")
        ->required();
    explain->add_option("pipeline", explain_options.pipeline, "The pipeline's name")->required();
    explain->add_option("--var", explain_options.vars,
                        "name=value for {{ name }} in the pipeline's file paths (repeatable)");

    auto* check = app.add_subcommand(
        "check", "Judge a project's quality rules on the data its sources hold now");
    CheckCommandOptions check_options;
    check->add_option("project-dir", check_options.project_dir, "The project directory")
        ->required();
    check->add_option("dataset", check_options.dataset,
                      "Only the rules on this source or view (default: every checked dataset)");

    auto* alert_rules = app.add_subcommand(
        "alert-rules", "Print the project's alert rules as a Prometheus alerting-rules file");
    std::string alert_rules_project;
    alert_rules->add_option("project-dir", alert_rules_project, "The project directory")
        ->required();

    auto* lineage = app.add_subcommand(
        "lineage", "Print the lineage graph of a project and the runs its events record");
    LineageCommandOptions lineage_options;
    lineage->add_option("project-dir", lineage_options.project_dir, "The project directory")
        ->required();
    lineage->add_flag("--deliver", lineage_options.deliver,
                      "First send the waiting run events to the project's lineage url");

    auto* materialize = app.add_subcommand(
        "materialize", "Load feature views from their lake tables into the online store");
    MaterializeCommandOptions materialize_options;
    materialize->add_option("project-dir", materialize_options.project_dir, "The project directory")
        ->required();
    materialize->add_option("views", materialize_options.views,
                            "Feature views to load (default: every view with a lake source)");
    materialize->add_option("--since", materialize_options.since,
                            "Only rows with an event time from then on: a timestamp "
                            "(2026-11-01T00:00:00Z) or a duration back from now (7d)");
    materialize->add_flag("--rebuild", materialize_options.rebuild,
                          "Drop the views' rows first (after a feature change); moves a corrupt "
                          "store aside and builds a new one");

    auto* serve =
        app.add_subcommand("serve", "Serve a project over HTTP: ingest, topics, features, jobs");
    ServeOptions serve_options;
    serve->add_option("project-dir", serve_options.project_dir, "The project directory")
        ->required();
    serve->add_option("--listen", serve_options.listen, "host:port (default: listen.http)");
    serve->add_option("--log-format", serve_options.log_format,
                      "json (default): one JSON object per log line; text: lines for people");
    serve->add_option("--threads", serve_options.threads, "Server threads (default: cores)");
    serve->add_flag("--allow-state-drop", serve_options.allow_state_drop,
                    "Streaming pipelines start even if saved state of an edited or removed view "
                    "is dropped (see `millrace pipeline plan`)");
    serve->add_option("--max-body-bytes", serve_options.max_body_bytes,
                      "Larger request bodies get 413 (default 16 MiB)");
    serve->add_option("--header-timeout-ms", serve_options.header_timeout_ms,
                      "Time allowed for a request's headers (default 10000)");
    serve->add_option("--body-timeout-ms", serve_options.body_timeout_ms,
                      "Time allowed for a request's body (default 30000)");

    auto* topic = app.add_subcommand(
        "topic", "Manage topics: create, list, describe, produce, consume, delete");
    TopicCommandOptions topic_options;
    topic
        ->add_option("action", topic_options.action,
                     "create, list, describe, produce, consume or delete")
        ->required();
    topic->add_option("name", topic_options.name, "The topic");
    topic->add_option("--data-dir,-d", topic_options.data_dir, "The data directory");
    topic->add_option("--project,-p", topic_options.project,
                      "A project directory whose data_dir to use (default: .)");
    topic->add_option("--partitions", topic_options.partitions, "create: partitions");
    topic->add_option("--fsync", topic_options.fsync, "create: always, interval or never");
    topic->add_option("--fsync-interval-ms", topic_options.fsync_interval_ms,
                      "create: interval between fsyncs");
    topic->add_option("--schema", topic_options.schema, "create: column spec checked at ingest");
    topic->add_option("--on-error", topic_options.on_error, "create: reject or dead_letter");
    topic->add_option("--key-field", topic_options.key_field, "produce: JSON field used as key");
    topic->add_option("--input,-i", topic_options.input, "produce: NDJSON file (- = stdin)");
    topic->add_option("--partition", topic_options.partition, "consume: one partition");
    topic->add_option("--offset", topic_options.offset, "consume: first offset");
    topic->add_option("--max", topic_options.max, "consume: records per partition");
    topic->add_option("--consumer", topic_options.consumer,
                      "consume: resume from and commit this consumer's offsets");
    auto* jobs = app.add_subcommand("jobs",
                                    "Scheduled jobs: list, show, run, backfill, history, "
                                    "logs, serve");
    jobs->require_subcommand(1, 1);
    JobsCommandOptions jobs_options;
    auto* jobs_list = jobs->add_subcommand("list", "List the jobs of a project and their last run");
    jobs_list->add_option("project-dir", jobs_options.project_dir, "The project directory")
        ->required();
    auto* jobs_show = jobs->add_subcommand("show", "Show a job's DAG, schedule and policies");
    jobs_show->add_option("project-dir", jobs_options.project_dir, "The project directory")
        ->required();
    jobs_show->add_option("job", jobs_options.job, "The job's name")->required();
    auto* jobs_run = jobs->add_subcommand(
        "run", "Run one interval of a job now and wait (default: the latest complete interval)");
    jobs_run->add_option("project-dir", jobs_options.project_dir, "The project directory")
        ->required();
    jobs_run->add_option("job", jobs_options.job, "The job's name")->required();
    jobs_run->add_option("--date", jobs_options.date,
                         "The interval starting at or after this date (YYYY-MM-DD in the job's "
                         "time zone, or YYYY-MM-DDTHH:MM:SSZ)");
    jobs_run->add_flag("--rerun", jobs_options.rerun,
                       "Re-run the failed tasks of that interval's run and their downstream");
    jobs_run->add_option("--task", jobs_options.task,
                         "With --rerun: re-run this task and its downstream");
    auto* jobs_backfill = jobs->add_subcommand(
        "backfill", "Run every interval of a scheduled job starting between two dates");
    jobs_backfill->add_option("project-dir", jobs_options.project_dir, "The project directory")
        ->required();
    jobs_backfill->add_option("job", jobs_options.job, "The job's name")->required();
    jobs_backfill
        ->add_option("--from", jobs_options.from, "First interval start, inclusive (YYYY-MM-DD)")
        ->required();
    jobs_backfill
        ->add_option("--to", jobs_options.to, "Last interval start, inclusive (YYYY-MM-DD)")
        ->required();
    jobs_backfill->add_option("--concurrency", jobs_options.concurrency,
                              "Backfill runs active at once (its own budget; default 1)");
    auto* jobs_history = jobs->add_subcommand("history", "Runs, newest first, with attempts");
    jobs_history->add_option("project-dir", jobs_options.project_dir, "The project directory")
        ->required();
    jobs_history->add_option("job", jobs_options.job, "Only this job");
    jobs_history->add_option("--limit", jobs_options.limit, "Runs to show (default 20)");
    auto* jobs_logs = jobs->add_subcommand("logs", "Print the task logs of a run");
    jobs_logs->add_option("project-dir", jobs_options.project_dir, "The project directory")
        ->required();
    jobs_logs->add_option("run", jobs_options.run, "The run id (see jobs history)")->required();
    jobs_logs->add_option("task", jobs_options.task, "Only this task");
    auto* jobs_serve = jobs->add_subcommand(
        "serve", "Run the jobs' cron schedules (with catchup) until SIGTERM or Ctrl-C");
    jobs_serve->add_option("project-dir", jobs_options.project_dir, "The project directory")
        ->required();

    auto* pipeline =
        app.add_subcommand("pipeline", "Streaming pipelines: list, status, stop, start, plan");
    pipeline->require_subcommand(1, 1);
    PipelineControlOptions pipeline_options;
    // Every action takes the project, an optional or required pipeline, --url and --json.
    auto add_pipeline_action = [&](const char* name, const char* help, bool needs_pipeline) {
        auto* action = pipeline->add_subcommand(name, help);
        action->add_option("project-dir", pipeline_options.project_dir, "The project directory")
            ->required();
        auto* name_option =
            action->add_option("pipeline", pipeline_options.pipeline, "The pipeline's name");
        if (needs_pipeline) name_option->required();
        action->add_option("--url", pipeline_options.url,
                           "The server (default: the address `millrace serve` recorded, else "
                           "listen.http)");
        action->add_flag("--json", pipeline_options.json, "Print the API's JSON");
        return action;
    };
    add_pipeline_action("list", "List the streaming pipelines with their state and counts", false);
    add_pipeline_action("status", "Show a pipeline's state, last error, restarts and watermark",
                        false);
    add_pipeline_action("stop", "Stop a pipeline (it commits what it has first)", true);
    add_pipeline_action("start", "Start a stopped or failed pipeline with a fresh restart budget",
                        true)
        ->add_flag("--allow-state-drop", pipeline_options.allow_state_drop,
                   "Let it drop saved state of edited or removed views (see `pipeline plan`)");
    auto* plan_action = add_pipeline_action(
        "plan",
        "Before a deploy: which saved state the project keeps, drops (and why) or starts "
        "empty; exit 2 if state would be dropped",
        true);
    plan_action->add_option("--from-savepoint", pipeline_options.from_savepoint,
                            "Compare with this savepoint instead of the latest checkpoint");
    plan_action->add_flag("--allow-state-drop", pipeline_options.allow_state_drop,
                          "Exit 0 even when state would be dropped");

    auto* lake = app.add_subcommand(
        "lake", "Iceberg lake tables: list, describe, history, compact, import...");
    LakeOptions lake_options;
    lake->add_option("action", lake_options.action,
                     "list | describe | files | history | compact | import | delete | alter | "
                     "rename | expire-snapshots | remove-orphan-files | upgrade")
        ->required();
    lake->add_option("table", lake_options.table, "The table (all but list)");
    lake->add_option("to", lake_options.to, "rename: the table's new name");
    lake->add_option("--data-dir,-d", lake_options.data_dir, "The data directory (holds lake/)");
    lake->add_option("--project,-p", lake_options.project,
                     "A project directory whose data_dir to use (default: .)");
    lake->add_option("--snapshot", lake_options.snapshot, "describe/files AS OF this snapshot id");
    lake->add_flag("--deletes", lake_options.deletes,
                   "files: list the delete files (row-level deletes) instead of the data files");
    lake->add_option("--where", lake_options.where,
                     "delete: the rows to delete, a SQL predicate over the table's columns");
    lake->add_option("--input,-i", lake_options.input, "import: a .parquet, .ndjson or .csv file");
    lake->add_option("--schema", lake_options.schema, "import: the schema of NDJSON/CSV input");
    lake->add_flag("--create", lake_options.create, "import: create the table if missing");
    lake->add_option("--partition-by", lake_options.partition_by,
                     "import --create: column, date(col), hour(col), month(col), year(col), "
                     "bucket(N, col), truncate(W, col); repeatable");
    lake->add_flag("--overwrite", lake_options.overwrite,
                   "import: replace each partition the import writes, once (its first commit "
                   "into a partition replaces it, later commits append): re-runs are idempotent");
    lake->add_option("--commit-rows", lake_options.commit_rows,
                     "import: commit every N rows (default: once at the end). An interrupted "
                     "import re-run on the same unchanged file resumes after the rows it "
                     "committed; a failed commit is dropped, never adopted by a later import");
    lake->add_option("--writer-id", lake_options.writer_id,
                     "import: with the input file, names the import's resume record (default "
                     "`import`)");
    lake->add_option("--compression", lake_options.compression,
                     "import: data file codec, zstd (default), snappy or none");
    lake->add_option("--add-column", lake_options.add_columns,
                     "alter: add a nullable column, 'name: type' (older files read it as null); "
                     "repeatable");
    lake->add_option("--rename-column", lake_options.rename_columns,
                     "alter: rename a column, 'old=new'; repeatable");
    lake->add_option("--drop-column", lake_options.drop_columns,
                     "alter: drop a column; repeatable");
    lake->add_option("--move-column", lake_options.move_columns,
                     "alter: reorder, 'col first' or 'col after other'; repeatable");
    lake->add_option("--widen-column", lake_options.widen_columns,
                     "alter: widen a column's type, 'col: int64' (from int32) or 'col: double' "
                     "(from an Iceberg float); repeatable");
    lake->add_option("--small-file-bytes", lake_options.small_file_bytes,
                     "compact: merge files smaller than this");
    lake->add_option("--older-than-seconds", lake_options.older_than_seconds,
                     "expire-snapshots: expire snapshots older than this (default 0: all but "
                     "the retained ones); remove-orphan-files: leave files younger than this "
                     "alone (default 3600, since a commit in progress may own them)");
    lake->add_option("--retain-last", lake_options.retain_last,
                     "expire-snapshots: always keep this many newest snapshots (default 1)");

    auto* query =
        app.add_subcommand("query", "Run one SQL query over the lake tables of a project");
    QueryOptions query_options;
    query
        ->add_option("sql", query_options.sql,
                     "A SELECT; a table AS OF a snapshot is \"table@<id>\"")
        ->required();
    query->add_option("-d,--data-dir", query_options.data_dir, "The data directory");
    query->add_option("-p,--project", query_options.project,
                      "A project directory whose data_dir to use (default: .)");
    query->add_option("-f,--format", query_options.format, "table (default), csv or json");
    query->add_option("--memory-limit", query_options.memory_limit,
                      "Memory the query's joins, sorts and aggregates may hold together, e.g. "
                      "512M (default 4G)");

    auto* dlq = app.add_subcommand("dlq", "A pipeline's dead letters: count, inspect, replay");
    DlqCommandOptions dlq_options;
    dlq->add_option("action", dlq_options.action, "count, inspect or replay")->required();
    dlq->add_option("project", dlq_options.project_dir, "The project folder")->required();
    dlq->add_option("pipeline", dlq_options.pipeline, "The pipeline")->required();
    dlq->add_option("--reason", dlq_options.reason, "Only dead letters whose reason contains this");
    dlq->add_option("--source", dlq_options.source, "Only dead letters of this source (or view)");
    dlq->add_option("--stage", dlq_options.stage,
                    "Only dead letters of this stage (decode, file, check, late, evaluate, sink)");
    dlq->add_option("--limit", dlq_options.limit, "inspect: at most this many");
    dlq->add_flag("--json", dlq_options.json,
                  "count: one JSON object; inspect: one envelope per line (what replay --from "
                  "reads)");
    dlq->add_option("--from", dlq_options.from,
                    "replay: edited envelopes (NDJSON from inspect --json) to send instead");
    dlq->add_option("--to", dlq_options.to, "replay: this topic instead of the source's topic");
    dlq->add_flag("--dry-run", dlq_options.dry_run, "replay: say what would be sent, send nothing");

    auto* replay = app.add_subcommand(
        "replay", "Replay captured requests against an instance; latency, mismatches");
    ReplayCommandOptions replay_options;
    replay
        ->add_option("--from", replay_options.from,
                     "The instance holding the topic, http://host:port")
        ->required();
    replay->add_option("--topic", replay_options.topic, "The topic of captured requests")
        ->required();
    replay->add_option("--target", replay_options.target, "The instance to replay against")
        ->required();
    replay->add_option("--rate", replay_options.rate,
                       "Requests per second, open loop (0 = as fast as the connections allow)");
    replay->add_option("--speedup", replay_options.speedup,
                       "Instead of --rate: keep the recorded spacing, divided by this");
    replay->add_option("--limit", replay_options.limit, "Replay at most this many requests");
    replay->add_option("--partition", replay_options.partition, "Only this partition");
    replay->add_option("--connections,-c", replay_options.connections,
                       "Keep-alive connections to the target (default 8)");
    replay->add_option("--timeout-ms", replay_options.timeout_ms,
                       "Per-request timeout (default 5000)");
    replay->add_option("--header,-H", replay_options.headers,
                       "\"Name: value\" added to every replayed request (repeatable), e.g. a "
                       "bearer token");
    replay->add_option("--from-header", replay_options.source_headers,
                       "\"Name: value\" added to the reads of the source's topic API");
    replay->add_flag("--compare", replay_options.compare,
                     "A different response body is a mismatch too (not only the status)");
    replay->add_option("--ignore-field", replay_options.ignored_fields,
                       "With --compare: a JSON field left out of the comparison (repeatable); a "
                       "bare key matches at any depth (event_timestamp), a dotted path from the "
                       "top (metadata.event_timestamp)");
    replay->add_flag("--fail-on-mismatch", replay_options.fail_on_mismatch,
                     "Exit with 2 when any response mismatched");
    replay->add_flag("--json", replay_options.json, "Also print the report as one JSON line");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error);
    }

    if (*help) {
        if (help_topic.empty()) {
            // CLI11's App::help() describes the parsed subcommand (here `help` itself, a usage
            // line); the list of commands is the top-level app's own help.
            std::fputs(app.get_formatter()
                           ->make_help(&app, "millrace", CLI::AppFormatMode::Normal)
                           .c_str(),
                       stdout);
            return 0;
        }
        // `millrace help jobs run`: down the command tree, one word at a time.
        CLI::App* command = &app;
        std::string prefix = "millrace";
        std::string path;
        for (const std::string& word : help_topic) {
            CLI::App* next = nullptr;
            for (CLI::App* sub : command->get_subcommands({})) {
                if (sub->get_name() == word) next = sub;
            }
            path += (path.empty() ? "" : " ") + word;
            if (next == nullptr) {
                std::fprintf(stderr,
                             "millrace help: unknown command `%s`; `millrace help` lists them\n",
                             path.c_str());
                return 1;
            }
            if (command != &app) prefix += " " + command->get_name();
            command = next;
        }
        std::fputs(command->help(prefix).c_str(), stdout);
        return 0;
    }
    // The one clock of the commands that evaluate SQL (now(), current_date): the system clock
    // unless MILLRACE_NOW fixes it; a bad MILLRACE_NOW stops them before anything runs.
    std::unique_ptr<Clock> clock;
    if (*validate || *run || *query || *explain || *check) {
        auto made = make_command_clock();
        if (!made.ok()) {
            std::fprintf(stderr, "error: %s\n", made.error().message().c_str());
            return 1;
        }
        clock = std::move(made).value();
        run_options.clock = clock.get();
        query_options.clock = clock.get();
        check_options.clock = clock.get();
    }
    if (*validate) return run_validate(project_dir, validate_vars);
    if (*convert) return run_convert(convert_options);
    if (*generate) return run_generate(generate_options);
    if (*bench_nexmark) return run_bench_nexmark(bench_options);
    if (*lake) return run_lake(lake_options);
    if (*run) return run_pipeline_command(run_options);
    if (*query) return run_query(query_options);
    if (*explain) return run_explain_command(explain_options);
    if (*materialize) return run_materialize_command(materialize_options);
    if (*lineage) return run_lineage_command(lineage_options);
    if (*alert_rules) return run_alert_rules_command(alert_rules_project);
    if (*check) return run_check_command(check_options);
    if (*serve) return run_serve(serve_options);
    if (*topic) return run_topic(topic_options);
    if (*replay) return run_replay(replay_options);
    if (*dlq) return run_dlq(dlq_options);
    if (*pipeline) {
        for (CLI::App* action : pipeline->get_subcommands()) {
            pipeline_options.action = action->get_name();
        }
        return run_pipeline_control(pipeline_options);
    }
    if (*jobs) {
        for (CLI::App* action : jobs->get_subcommands()) jobs_options.action = action->get_name();
        return run_jobs_command(jobs_options);
    }
    std::fputs(app.help().c_str(), stdout);
    return 0;
}

}  // namespace millrace
