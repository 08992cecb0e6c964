#include "scheduler/http_tasks.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "common/event_loop.h"
#include "common/json_string.h"
#include "net/http_client.h"

namespace millrace {

namespace {

constexpr std::size_t kLogTailBytes = 2048;
constexpr std::chrono::seconds kWebhookTimeout{5};

/// One request to a URL of the job's (an `http` task or a webhook): a connection of its own, and
/// no Millrace token from the environment, since the receiver is usually not Millrace.
Result<HttpReply> send_http_request(const std::string& method, const std::string& url,
                                    const std::string& body, std::string_view content_type,
                                    std::chrono::milliseconds timeout) {
    MILLRACE_ASSIGN_OR_RETURN(HttpEndpoint endpoint, HttpEndpoint::parse(url));
    HttpClient client(std::move(endpoint.server), timeout, {}, /*send_environment_token=*/false);
    return client.request(method, endpoint.target, body, content_type);
}

}  // namespace

std::string log_tail(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return "";
    const std::streamoff size = in.tellg();
    const std::streamoff start = std::max<std::streamoff>(0, size - std::streamoff(kLogTailBytes));
    in.seekg(start);
    std::string text(static_cast<std::size_t>(size - start), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    return text;
}

void append_log(const std::string& path, const std::string& line) {
    std::ofstream out(path, std::ios::app);
    out << line << '\n';
}

// --- http tasks ------------------------------------------------------------------------------

void HttpTasks::start(Request request, std::function<void(const HttpTaskOutcome&)> on_done) {
    std::lock_guard lock(mutex_);
    const uint64_t id = next_id_++;
    threads_[id] =
        std::thread([this, request = std::move(request), on_done = std::move(on_done), id] {
            Result<HttpReply> response = send_http_request(
                request.method, request.url, request.body, "text/plain", request.timeout);
            HttpTaskOutcome outcome;
            if (!response.ok()) {
                outcome.exit_code = 1;
                outcome.message = response.error().message();
            } else if (response->status != request.expected_status) {
                outcome.exit_code = 1;
                outcome.message =
                    fmt::format("{} {} returned {}, expected {}", request.method, request.url,
                                response->status, request.expected_status);
            } else {
                outcome.message =
                    fmt::format("{} {} returned {}", request.method, request.url, response->status);
            }
            append_log(request.log_path, outcome.message);
            loop_.post([this, id, on_done, outcome] {
                std::thread finished;
                {
                    std::lock_guard lock(mutex_);
                    if (auto it = threads_.find(id); it != threads_.end()) {
                        finished = std::move(it->second);
                        threads_.erase(it);
                    }
                }
                if (finished.joinable()) finished.join();
                on_done(outcome);
            });
        });
}

void HttpTasks::stop() {
    std::map<uint64_t, std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        threads.swap(threads_);
    }
    for (auto& [id, thread] : threads) {
        if (thread.joinable()) thread.join();
    }
}

// --- webhooks --------------------------------------------------------------------------------

WebhookSender::WebhookSender(EventLoop& loop, std::function<void(const std::string&)> on_failure)
    : loop_(loop), on_failure_(std::move(on_failure)) {}

void WebhookSender::start() {
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void WebhookSender::send(const std::vector<std::string>& urls, const std::string& body) {
    if (urls.empty()) return;
    {
        std::lock_guard lock(mutex_);
        for (const std::string& url : urls) {
            if (queue_.size() >= kQueueLimit) queue_.pop_front();
            queue_.emplace_back(url, body);
        }
    }
    cv_.notify_one();
}

void WebhookSender::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void WebhookSender::run() {
    while (true) {
        std::pair<std::string, std::string> item;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            item = std::move(queue_.front());
            queue_.pop_front();
        }
        Result<HttpReply> response = send_http_request(
            "POST", item.first, item.second, "application/json",
            std::chrono::duration_cast<std::chrono::milliseconds>(kWebhookTimeout));
        if (!response.ok()) {
            loop_.post([this, url = item.first, message = response.error().message()] {
                if (on_failure_) on_failure_("webhook " + url + " failed: " + message);
            });
        }
    }
}

std::string webhook_body(std::string_view event, std::string_view job, std::string_view run,
                         std::string_view task, int attempt, std::string_view reason,
                         const std::string& log_path) {
    return "{\"event\":" + json_string(event) + ",\"job\":" + json_string(job) +
           ",\"run\":" + json_string(run) + ",\"task\":" + json_string(task) +
           ",\"attempt\":" + std::to_string(attempt) + ",\"reason\":" + json_string(reason) +
           ",\"log_path\":" + json_string(log_path) +
           ",\"log_tail\":" + json_string(log_tail(log_path)) + "}";
}

}  // namespace millrace
