#include "cli/pipeline_command.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <vector>

#include "common/file_lock.h"
#include "exec/operator.h"
#include "log/log.h"
#include "net/http_client.h"
#include "pipeline/state_plan.h"
#include "project/project_loader.h"

namespace millrace {

namespace {

int fail(const std::string& message) {
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return 1;
}

/// The running server of a project and how to ask it things.
struct ServerConnection {
    std::string url;
    std::unique_ptr<HttpClient> client;

    /// The reply when it is a 2xx; otherwise prints what went wrong and returns nullopt.
    std::optional<std::string> call(const char* method, const std::string& target) {
        Result<HttpReply> reply = client->request(method, target, "");
        if (!reply.ok()) {
            fail(
                fmt::format("no millrace serve answered at {} ({}); start it with `millrace "
                            "serve <project>`, or pass --url",
                            url, reply.error().message()));
            return std::nullopt;
        }
        if (reply->status / 100 != 2) {
            simdjson::dom::parser parser;
            std::string_view message;
            if (parser.parse(reply->body)["error"].get_string().get(message) != simdjson::SUCCESS) {
                message = reply->body;
            }
            fail(fmt::format("{} {}{} answered {}: {}", method, url, target, reply->status,
                             message));
            return std::nullopt;
        }
        return std::move(reply->body);
    }
};

Result<ServerConnection> connect(const PipelineControlOptions& options) {
    std::string url = options.url;
    if (url.empty()) {
        std::vector<Error> errors;
        Result<Project> project = load_project(options.project_dir, &errors);
        if (!project.ok()) return errors.empty() ? project.error() : errors.front();
        // The address the running server recorded beats the declared one (`serve --listen`).
        const std::optional<LockHolder> holder =
            FileLock::read_holder(Log::lock_path(project->data_dir));
        url = "http://" +
              (holder && !holder->address.empty() ? holder->address : project->listen_http);
    }
    MILLRACE_ASSIGN_OR_RETURN(HttpUrl endpoint, HttpUrl::parse(url));
    ServerConnection connection;
    connection.url = url;
    // Generous: a stop waits for the pipeline to close its windows and commit.
    connection.client = std::make_unique<HttpClient>(endpoint, std::chrono::minutes(5));
    return connection;
}

std::string text_of(simdjson::dom::element value) {
    if (value.is_null()) return "-";
    std::string_view text;
    if (value.get_string().get(text) == simdjson::SUCCESS)
        return text.empty() ? "-" : std::string(text);
    return simdjson::minify(value);
}

// "850 ms", "12.5 s", "42 min", "7 h", "3 d": a lag as people read it.
std::string human_duration(int64_t ms) {
    const char* sign = ms < 0 ? "-" : "";
    const double value = static_cast<double>(ms < 0 ? -ms : ms);
    if (value < 1000) return fmt::format("{}{:.0f} ms", sign, value);
    if (value < 120'000) return fmt::format("{}{:.1f} s", sign, value / 1000);
    if (value < 7'200'000) return fmt::format("{}{:.0f} min", sign, value / 60'000);
    if (value < 172'800'000) return fmt::format("{}{:.0f} h", sign, value / 3'600'000);
    return fmt::format("{}{:.0f} d", sign, value / 86'400'000);
}

void print_table(simdjson::dom::array pipelines) {
    std::printf("%-24s %-10s %12s %12s %10s %8s %8s  %s\n", "PIPELINE", "STATE", "IN", "OUT",
                "DEAD", "LATE", "RESTARTS", "LAST COMMIT");
    for (simdjson::dom::element p : pipelines) {
        std::printf("%-24s %-10s %12s %12s %10s %8s %8s  %s\n", text_of(p["name"]).c_str(),
                    text_of(p["state"]).c_str(), text_of(p["records"]["in"]).c_str(),
                    text_of(p["records"]["out"]).c_str(),
                    text_of(p["records"]["dead_lettered"]).c_str(),
                    text_of(p["records"]["late"]).c_str(), text_of(p["total_restarts"]).c_str(),
                    text_of(p["last_commit_at"]).c_str());
    }
}

void print_detail(simdjson::dom::element p) {
    std::printf("pipeline:       %s\n", text_of(p["name"]).c_str());
    std::printf("state:          %s (since %s)\n", text_of(p["state"]).c_str(),
                text_of(p["since"]).c_str());
    if (text_of(p["reason"]) != "-")
        std::printf("reason:         %s\n", text_of(p["reason"]).c_str());
    std::printf("last error:     %s", text_of(p["last_error"]).c_str());
    if (text_of(p["last_error_at"]) != "-")
        std::printf(" (at %s)", text_of(p["last_error_at"]).c_str());
    std::printf("\nrestarts:       %s of %s (total %s)", text_of(p["restarts"]).c_str(),
                text_of(p["restart_budget"]).c_str(), text_of(p["total_restarts"]).c_str());
    if (text_of(p["next_restart_at"]) != "-") {
        std::printf(", next at %s", text_of(p["next_restart_at"]).c_str());
    }
    std::printf("\nrecords:        in %s, out %s, dead-lettered %s, late %s, filtered %s\n",
                text_of(p["records"]["in"]).c_str(), text_of(p["records"]["out"]).c_str(),
                text_of(p["records"]["dead_lettered"]).c_str(),
                text_of(p["records"]["late"]).c_str(), text_of(p["records"]["filtered"]).c_str());
    uint64_t state_bytes = 0, state_keys = 0, state_limit = 0;
    if (p["operator_state"]["bytes"].get_uint64().get(state_bytes) == simdjson::SUCCESS &&
        p["operator_state"]["keys"].get_uint64().get(state_keys) == simdjson::SUCCESS &&
        p["operator_state"]["limit_bytes"].get_uint64().get(state_limit) == simdjson::SUCCESS) {
        std::printf("operator state: %s (%llu bytes), %llu keys; limit %s\n",
                    format_bytes(state_bytes).c_str(), static_cast<unsigned long long>(state_bytes),
                    static_cast<unsigned long long>(state_keys),
                    state_limit == 0 ? "-" : format_bytes(state_limit).c_str());
    }
    std::printf("commits:        %s (last %s)\n", text_of(p["commits"]).c_str(),
                text_of(p["last_commit_at"]).c_str());
    std::printf("watermark:      %s", text_of(p["watermark"]).c_str());
    int64_t lag_ms = 0;
    if (p["watermark_lag_ms"].get_int64().get(lag_ms) == simdjson::SUCCESS) {
        std::printf(" (%s behind the clock)", human_duration(lag_ms).c_str());
    }
    std::printf("\n");
}

/// Prints a reply: its JSON as is with --json, else `render` of the parsed document.
int show(const PipelineControlOptions& options, const std::string& body,
         const std::function<void(simdjson::dom::element)>& render) {
    if (options.json) {
        std::fputs(body.c_str(), stdout);
        return 0;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element document;
    if (parser.parse(body).get(document) != simdjson::SUCCESS) {
        return fail("the server's answer is not JSON: " + body);
    }
    render(document);
    return 0;
}

/// One action of `millrace pipeline`: whether it needs a pipeline name, and what it does. A new
/// action is one more entry (and its flags in app.cpp).
struct Action {
    const char* name;
    bool needs_pipeline;
    std::function<int(const PipelineControlOptions&, ServerConnection&)> run;
};

int control(const char* verb, const PipelineControlOptions& options, ServerConnection& server) {
    std::optional<std::string> body =
        server.call("POST", fmt::format("/v1/pipelines/{}/{}{}", options.pipeline, verb,
                                        options.allow_state_drop ? "?allow_state_drop=true" : ""));
    if (!body) return 1;
    return show(options, *body, print_detail);
}

const std::vector<Action>& actions() {
    static const std::vector<Action> kActions = {
        {"list", false,
         [](const PipelineControlOptions& options, ServerConnection& server) {
             std::optional<std::string> body = server.call("GET", "/v1/pipelines");
             if (!body) return 1;
             return show(options, *body, [](simdjson::dom::element document) {
                 simdjson::dom::array pipelines;
                 if (document["pipelines"].get_array().get(pipelines) == simdjson::SUCCESS) {
                     print_table(pipelines);
                 }
             });
         }},
        {"status", false,
         [](const PipelineControlOptions& options, ServerConnection& server) {
             const std::string target = options.pipeline.empty()
                                            ? std::string("/v1/pipelines")
                                            : "/v1/pipelines/" + options.pipeline;
             std::optional<std::string> body = server.call("GET", target);
             if (!body) return 1;
             return show(options, *body, [&](simdjson::dom::element document) {
                 simdjson::dom::array pipelines;
                 if (document["pipelines"].get_array().get(pipelines) != simdjson::SUCCESS) {
                     return print_detail(document);
                 }
                 bool first = true;
                 for (simdjson::dom::element p : pipelines) {
                     if (!first) std::printf("\n");
                     first = false;
                     print_detail(p);
                 }
             });
         }},
        {"stop", true,
         [](const PipelineControlOptions& options, ServerConnection& server) {
             return control("stop", options, server);
         }},
        {"start", true,
         [](const PipelineControlOptions& options, ServerConnection& server) {
             return control("start", options, server);
         }},
    };
    return kActions;
}

}  // namespace

/// `pipeline plan`: local, no server.
int plan(const PipelineControlOptions& options) {
    std::vector<Error> errors;
    Result<Project> project = load_project(options.project_dir, &errors);
    if (!project.ok() || !errors.empty()) {
        if (errors.empty()) errors.push_back(project.error());
        for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        return 1;
    }
    const PipelineSpec* pipeline = project->find_pipeline(options.pipeline);
    if (pipeline == nullptr) {
        return fail(
            fmt::format("project `{}` has no pipeline `{}`", project->name, options.pipeline));
    }
    Result<StatePlan> state = plan_pipeline_state(
        *project, *pipeline,
        options.from_savepoint.empty() ? std::nullopt
                                       : std::optional<std::string>(options.from_savepoint));
    if (!state.ok()) return fail(state.error().to_string());
    const std::string out =
        options.json ? state->to_json(options.allow_state_drop) : state->to_text();
    std::fputs(out.c_str(), stdout);
    if (state->drops_state() && !options.allow_state_drop) return 2;
    return 0;
}

int run_pipeline_control(const PipelineControlOptions& options) {
    if (options.action == "plan") {
        if (options.pipeline.empty()) return fail("millrace pipeline plan needs a pipeline name");
        return plan(options);
    }
    const Action* action = nullptr;
    for (const Action& candidate : actions()) {
        if (options.action == candidate.name) action = &candidate;
    }
    if (action == nullptr) return fail("unknown pipeline action `" + options.action + "`");
    if (action->needs_pipeline && options.pipeline.empty()) {
        return fail(fmt::format("millrace pipeline {} needs a pipeline name", options.action));
    }
    Result<ServerConnection> server = connect(options);
    if (!server.ok()) return fail(server.error().to_string());
    return action->run(options, *server);
}

}  // namespace millrace
