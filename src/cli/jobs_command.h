#pragma once

#include <string>

namespace millrace {

struct JobsCommandOptions {
    std::string action;  // list, show, run, backfill, history, logs, serve
    std::string project_dir;
    std::string job;   // show, run, backfill, history (optional)
    std::string run;   // logs: a run id
    std::string task;  // logs, run --task: one task
    std::string date;  // run: the interval containing this date/time (default: the latest)
    std::string from;  // backfill
    std::string to;    // backfill
    bool rerun = false;
    int concurrency = 1;  // backfill: active runs at once
    int limit = 20;       // history
};

/// `millrace jobs <action> <project> ...`: lists and shows jobs, runs one interval now and
/// waits (`run`), backfills a range of intervals with its own concurrency budget, prints run
/// history and task logs, and `serve` runs the cron schedules until SIGTERM or SIGINT.
/// Exit 0 on success, 1 when a run failed or on any error.
int run_jobs_command(const JobsCommandOptions& options);

}  // namespace millrace
