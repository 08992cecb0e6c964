#include "server/pipelines_handler.h"

#include <fmt/format.h>

#include "common/clock.h"
#include "common/json_string.h"
#include "pipeline/pipeline_supervisor.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

// An RFC 3339 string, or null for 0 (never happened).
std::string time_or_null(int64_t micros) {
    return micros == 0 ? "null" : "\"" + format_timestamp(micros) + "\"";
}

}  // namespace

constexpr std::size_t kMaxQueued = 64;

PipelinesHandler::PipelinesHandler(PipelineSupervisor& supervisor, const Clock& clock)
    : supervisor_(supervisor), clock_(clock) {
    worker_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (true) {
            wake_.wait(lock, [this] { return finishing_ || !queue_.empty(); });
            if (queue_.empty()) return;  // finishing, and nothing left to answer
            std::function<void()> action = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            action();
            lock.lock();
        }
    });
}

PipelinesHandler::~PipelinesHandler() { finish(); }

void PipelinesHandler::finish() {
    {
        std::lock_guard lock(mutex_);
        finishing_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
}

void PipelinesHandler::enqueue(std::function<HttpResponse()> action, HttpResponder respond) {
    std::unique_lock lock(mutex_);
    if (finishing_) {
        lock.unlock();
        return respond(json_error(503, "the server is stopping"));
    }
    if (queue_.size() >= kMaxQueued) {
        lock.unlock();
        return respond(json_error(503, "too many pipeline stops and starts waiting; try again"));
    }
    queue_.push_back(
        [action = std::move(action), respond = std::move(respond)] { respond(action()); });
    lock.unlock();
    wake_.notify_one();
}

std::string PipelinesHandler::to_json(const PipelineStatus& s) const {
    std::string out = "{\"name\":";
    append_json_string(out, s.name);
    out += ",\"state\":";
    append_json_string(out, enum_name(s.state));
    out += ",\"since\":" + time_or_null(s.state_since_micros);
    out += ",\"reason\":";
    append_json_string(out, s.reason);
    out += ",\"last_error\":";
    append_json_string(out, s.last_error);
    out += fmt::format(
        ",\"last_error_at\":{},\"restarts\":{},\"restart_budget\":{},\"total_restarts\":{},"
        "\"next_restart_at\":{},\"run_started_at\":{},\"records\":{{\"in\":{},\"out\":{},"
        "\"dead_lettered\":{},\"late\":{},\"filtered\":{}}},\"commits\":{},\"last_commit_at\":{}",
        time_or_null(s.last_error_micros), s.restarts, s.restart_budget, s.total_restarts,
        time_or_null(s.next_restart_micros), time_or_null(s.run_started_micros), s.records_in,
        s.records_out, s.dead_lettered, s.late, s.filtered, s.commits,
        time_or_null(s.last_commit_micros));
    out += fmt::format(",\"operator_state\":{{\"bytes\":{},\"keys\":{},\"limit_bytes\":{}}}",
                       s.state_bytes, s.state_keys, s.state_limit_bytes);
    if (s.watermark_micros) {
        out += fmt::format(",\"watermark\":\"{}\",\"watermark_lag_ms\":{}}}",
                           format_timestamp(*s.watermark_micros),
                           (clock_.now_micros() - *s.watermark_micros) / 1000);
    } else {
        out += ",\"watermark\":null,\"watermark_lag_ms\":null}";
    }
    return out;
}

void PipelinesHandler::add_routes(Router& router) {
    router.add(
        HttpMethod::kGet, "/v1/pipelines", "pipelines_list",
        [this](HttpRequest&, HttpResponder respond) {
            std::string out = "{\"pipelines\":[";
            bool first = true;
            for (const PipelineStatus& status : supervisor_.list()) {
                if (!first) out += ",";
                first = false;
                out += to_json(status);
            }
            out += "]}";
            respond(json_response(std::move(out)));
        },
        "admin");
    auto answer = [this](const Result<PipelineStatus>& status) {
        if (!status.ok()) return json_error_for(status.error());
        return json_response(to_json(*status));
    };
    router.add(
        HttpMethod::kGet, "/v1/pipelines/{pipeline}", "pipelines_status",
        [this, answer](HttpRequest& request, HttpResponder respond) {
            respond(answer(supervisor_.status(request.param("pipeline"))));
        },
        "admin");
    router.add(
        HttpMethod::kPost, "/v1/pipelines/{pipeline}/stop", "pipelines_stop",
        [this, answer](HttpRequest& request, HttpResponder respond) {
            enqueue([this, answer,
                     name = request.param("pipeline")] { return answer(supervisor_.stop(name)); },
                    std::move(respond));
        },
        "admin");
    router.add(
        HttpMethod::kPost, "/v1/pipelines/{pipeline}/start", "pipelines_start",
        [this, answer](HttpRequest& request, HttpResponder respond) {
            const std::string* drop = request.query_param("allow_state_drop");
            const bool allow_state_drop = drop != nullptr && (*drop == "true" || *drop == "1");
            enqueue(
                [this, answer, allow_state_drop, name = request.param("pipeline")] {
                    return answer(supervisor_.start(name, allow_state_drop));
                },
                std::move(respond));
        },
        "admin");
}

}  // namespace millrace
