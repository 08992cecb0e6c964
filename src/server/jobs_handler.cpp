#include "server/jobs_handler.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <mutex>
#include <tuple>

#include "common/clock.h"
#include "common/json_string.h"
#include "scheduler/scheduler.h"
#include "scheduler/state_store.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

// A time that is always present (interval bounds): 0 is 1970-01-01T00:00:00Z like any other.
std::string time_text(int64_t micros) { return "\"" + format_timestamp(micros) + "\""; }

// A time the state store keeps as 0 until it happens (started_at, finished_at): null then.
std::string optional_time_text(int64_t micros) { return micros == 0 ? "null" : time_text(micros); }

void append_run(std::string& out, const RunRecord& run) {
    out += "{\"run_id\":";
    append_json_string(out, run.run_id);
    out += ",\"job\":";
    append_json_string(out, run.job);
    out += ",\"version\":";
    append_json_string(out, run.version);
    out += ",\"state\":";
    append_json_string(out, to_string(run.state));
    out += ",\"lane\":";
    append_json_string(out, run.lane);
    out += fmt::format(
        ",\"interval_start\":{},\"interval_end\":{},\"started_at\":{},\"finished_at\":{}}}",
        time_text(run.interval_start), time_text(run.interval_end),
        optional_time_text(run.started_at), optional_time_text(run.finished_at));
}

}  // namespace

struct JobsHandler::Impl {
    Impl(Scheduler& s, std::unique_ptr<StateStore> st, const Clock& c)
        : scheduler(s), store(std::move(st)), clock(c) {}
    Scheduler& scheduler;
    std::unique_ptr<StateStore> store;
    const Clock& clock;
    std::mutex store_mutex;

    HttpResponse list_jobs() {
        std::string out = "{\"jobs\":[";
        bool first = true;
        for (const JobDefinition& job : scheduler.jobs()) {
            if (!first) out += ",";
            first = false;
            out += "{\"name\":";
            append_json_string(out, job.name);
            out += ",\"schedule\":";
            append_json_string(out, job.schedule);
            out += ",\"timezone\":";
            append_json_string(out, job.timezone);
            out += ",\"version\":";
            append_json_string(out, job.version);
            out += ",\"tasks\":[";
            for (std::size_t t = 0; t < job.tasks.size(); ++t) {
                if (t > 0) out += ",";
                append_json_string(out, job.tasks[t].name);
            }
            out += "]}";
        }
        // Why scheduling stopped, when a state-store write failed.
        out += "],\"scheduler\":{\"status\":";
        if (Status health = scheduler.health(); health.ok()) {
            out += "\"ok\"}}";
        } else {
            out += "\"failed\",\"reason\":";
            append_json_string(out, health.error().message());
            out += "}}";
        }
        return json_response(std::move(out));
    }

    HttpResponse trigger(const HttpRequest& request) {
        const std::string& name = request.param("job");
        const JobDefinition* job = nullptr;
        for (const JobDefinition& j : scheduler.jobs()) {
            if (j.name == name) job = &j;
        }
        if (job == nullptr) return json_error(404, fmt::format("unknown job `{}`", name));
        const int64_t now = clock.now_micros();
        int64_t start = now, end = now;
        if (!job->schedule.empty()) {
            auto latest = scheduler.latest_interval(job->name, now);
            if (latest.ok()) std::tie(start, end) = *latest;
        }
        if (!request.body.empty()) {
            simdjson::dom::parser parser;
            simdjson::dom::object body;
            if (parser.parse(request.body).get_object().get(body)) {
                return json_error(400,
                                  "the body must be a JSON object, e.g. {\"interval_start\": "
                                  "\"2026-11-01T00:00:00Z\"}");
            }
            bool start_given = false;
            bool end_given = false;
            for (auto [key, target, given] : {std::tuple<std::string_view, int64_t*, bool*>{
                                                  "interval_start", &start, &start_given},
                                              std::tuple<std::string_view, int64_t*, bool*>{
                                                  "interval_end", &end, &end_given}}) {
                simdjson::dom::element value;
                if (body[key].get(value) != simdjson::SUCCESS || value.is_null()) continue;
                std::string_view text;
                if (value.get_string().get(text) != simdjson::SUCCESS) {
                    return json_error(
                        400, fmt::format("`{}` must be an RFC 3339 timestamp string, got {}", key,
                                         simdjson::minify(value)));
                }
                auto micros = parse_timestamp(text);
                if (!micros)
                    return json_error(400, fmt::format("`{}`: not a timestamp: {}", key, text));
                *target = *micros;
                *given = true;
            }
            if (end < start) {
                // Both given: the caller's interval is backwards. One given: the other bound
                // was the latest interval's, which the given one passed; the run covers [start,
                // start].
                if (start_given && end_given) {
                    return json_error(
                        400, fmt::format("`interval_start` ({}) is after `interval_end` ({})",
                                         format_timestamp(start), format_timestamp(end)));
                }
                if (end_given) {
                    start = end;
                } else {
                    end = start;
                }
            }
        }
        Result<std::string> run =
            scheduler.submit_run(job->name, start, end, Scheduler::Lane::kManual);
        if (!run.ok()) return json_error_for(run.error());
        std::string out = "{\"run_id\":";
        append_json_string(out, *run);
        out += ",\"job\":";
        append_json_string(out, job->name);
        out += fmt::format(",\"interval_start\":{},\"interval_end\":{}}}", time_text(start),
                           time_text(end));
        return json_response(std::move(out), 202);
    }

    HttpResponse list_runs(const HttpRequest& request) {
        std::string job;
        if (const std::string* j = request.query_param("job")) job = *j;
        int64_t limit = 50;
        if (const std::string* l = request.query_param("limit")) {
            auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
            if (ec != std::errc() || ptr != l->data() + l->size() || limit <= 0 || limit > 10000) {
                return json_error(400, "limit must be an integer from 1 to 10000");
            }
        }
        std::vector<RunRecord> runs;
        {
            std::lock_guard lock(store_mutex);
            if (job.empty()) {
                for (const JobDefinition& j : scheduler.jobs()) {
                    auto some = store->list_runs(j.name, static_cast<int>(limit));
                    if (!some.ok()) return json_error_for(some.error());
                    runs.insert(runs.end(), some->begin(), some->end());
                }
            } else {
                auto some = store->list_runs(job, static_cast<int>(limit));
                if (!some.ok()) return json_error_for(some.error());
                runs = std::move(some).value();
            }
        }
        std::sort(runs.begin(), runs.end(), [](const RunRecord& a, const RunRecord& b) {
            return a.created_at > b.created_at;
        });
        if (runs.size() > static_cast<std::size_t>(limit))
            runs.resize(static_cast<std::size_t>(limit));
        std::string out = "{\"runs\":[";
        for (std::size_t i = 0; i < runs.size(); ++i) {
            if (i > 0) out += ",";
            append_run(out, runs[i]);
        }
        out += "]}";
        return json_response(std::move(out));
    }

    HttpResponse task_log(const HttpRequest& request);

    HttpResponse rerun(const HttpRequest& request) {
        const std::string& run_id = request.param("run");
        std::string task;
        if (const std::string* t = request.query_param("task")) task = *t;
        if (Status status = scheduler.rerun(run_id, task); !status.ok()) {
            return json_error_for(status.error());
        }
        std::string out = "{\"run_id\":";
        append_json_string(out, run_id);
        out += ",\"task\":";
        append_json_string(out, task);
        out += "}";
        return json_response(std::move(out), 202);
    }

    HttpResponse describe_run(const HttpRequest& request) {
        const std::string& run_id = request.param("run");
        std::lock_guard lock(store_mutex);
        std::string job = run_id.substr(0, run_id.find('@'));
        auto runs = store->list_runs(job, 100000);
        if (!runs.ok()) return json_error_for(runs.error());
        for (const RunRecord& run : *runs) {
            if (run.run_id != run_id) continue;
            auto tasks = store->tasks_of_run(run_id);
            if (!tasks.ok()) return json_error_for(tasks.error());
            std::string out;
            append_run(out, run);
            out.pop_back();  // reopen the object for the tasks
            out += ",\"tasks\":[";
            for (std::size_t t = 0; t < tasks->size(); ++t) {
                const TaskRecord& task = (*tasks)[t];
                if (t > 0) out += ",";
                out += "{\"task\":";
                append_json_string(out, task.task);
                out += ",\"state\":";
                append_json_string(out, to_string(task.state));
                out += fmt::format(
                    ",\"attempts\":{},\"started_at\":{},\"finished_at\":{},\"log\":", task.attempts,
                    optional_time_text(task.started_at), optional_time_text(task.finished_at));
                append_json_string(out, task.log_path);
                out += ",\"message\":";
                append_json_string(out, task.message);
                out += "}";
            }
            out += "]}";
            return json_response(std::move(out));
        }
        return json_error(404, fmt::format("unknown run `{}`", run_id));
    }
};

HttpResponse JobsHandler::Impl::task_log(const HttpRequest& request) {
    const std::string& run_id = request.param("run");
    const std::string& task_name = request.param("task");
    int64_t tail = 65536;
    if (const std::string* t = request.query_param("tail_bytes")) {
        auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), tail);
        if (ec != std::errc() || ptr != t->data() + t->size() || tail < 1 || tail > (1 << 20)) {
            return json_error(400, "tail_bytes must be an integer from 1 to 1048576");
        }
    }
    std::string path;
    {
        std::lock_guard lock(store_mutex);
        auto tasks = store->tasks_of_run(run_id);
        if (!tasks.ok()) return json_error_for(tasks.error());
        bool found = false;
        for (const TaskRecord& task : *tasks) {
            if (task.task != task_name) continue;
            found = true;
            path = task.log_path;  // only a path the scheduler recorded is ever read
        }
        if (!found) {
            return json_error(404, fmt::format("run `{}` has no task `{}`", run_id, task_name));
        }
    }
    if (path.empty()) return json_error(404, fmt::format("task `{}` has no log yet", task_name));
    std::ifstream in(path, std::ios::binary);
    if (!in) return json_error(404, fmt::format("task `{}`: its log {} is gone", task_name, path));
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    const std::streamoff start = std::max<std::streamoff>(0, size - tail);
    in.seekg(start);
    std::string text(static_cast<std::size_t>(size - start), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    HttpResponse response;
    response.content_type = "text/plain; charset=utf-8";
    response.body = std::move(text);
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

JobsHandler::JobsHandler(Scheduler& scheduler, std::unique_ptr<StateStore> store,
                         const Clock& clock)
    : impl_(std::make_unique<Impl>(scheduler, std::move(store), clock)) {}

JobsHandler::~JobsHandler() = default;

void JobsHandler::add_routes(Router& router) {
    Impl* impl = impl_.get();
    router.add(
        HttpMethod::kGet, "/v1/jobs", "jobs_list",
        [impl](HttpRequest&, HttpResponder respond) { respond(impl->list_jobs()); }, "admin");
    router.add(
        HttpMethod::kPost, "/v1/jobs/{job}/trigger", "jobs_trigger",
        [impl](HttpRequest& request, HttpResponder respond) { respond(impl->trigger(request)); },
        "admin");
    router.add(
        HttpMethod::kGet, "/v1/runs", "runs_list",
        [impl](HttpRequest& request, HttpResponder respond) { respond(impl->list_runs(request)); },
        "admin");
    router.add(
        HttpMethod::kGet, "/v1/runs/{run}", "runs_describe",
        [impl](HttpRequest& request, HttpResponder respond) {
            respond(impl->describe_run(request));
        },
        "admin");
    router.add(
        HttpMethod::kGet, "/v1/runs/{run}/tasks/{task}/log", "runs_task_log",
        [impl](HttpRequest& request, HttpResponder respond) { respond(impl->task_log(request)); },
        "admin");
    router.add(
        HttpMethod::kPost, "/v1/runs/{run}/rerun", "runs_rerun",
        [impl](HttpRequest& request, HttpResponder respond) { respond(impl->rerun(request)); },
        "admin");
}

}  // namespace millrace
