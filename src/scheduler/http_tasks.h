#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.h"

namespace millrace {

class EventLoop;

/// What an `http` task's request came to: exit code 0 when the status was the expected one,
/// 1 otherwise (or when it could not be sent), and a line for the attempt's log.
struct HttpTaskOutcome {
    int exit_code = 0;
    std::string message;
};

/// The requests of `http` tasks: one thread per request (the number is bounded by the
/// running-task limits), each joined on the loop thread when its outcome arrives there.
/// start() and the outcome callback run on the loop thread; stop() after the loop stopped.
class HttpTasks {
public:
    struct Request {
        std::string method;
        std::string url;
        std::string body;
        int expected_status = 200;
        std::chrono::milliseconds timeout{60000};
        std::string log_path;  // the outcome line is appended here
    };

    explicit HttpTasks(EventLoop& loop) : loop_(loop) {}
    ~HttpTasks() { stop(); }
    HttpTasks(const HttpTasks&) = delete;
    HttpTasks& operator=(const HttpTasks&) = delete;

    void start(Request request, std::function<void(const HttpTaskOutcome&)> on_done);
    /// Joins the requests still in flight (each ends within its timeout).
    void stop();

private:
    EventLoop& loop_;
    std::mutex mutex_;  // guards threads_: stop() may run while a request thread posts
    std::map<uint64_t, std::thread> threads_;
    uint64_t next_id_ = 0;
};

/// Sends webhooks (a job's `webhooks:` URLs, on task failure, recovery and SLA misses) from a
/// thread of its own, so a slow receiver never holds up the scheduler. The queue keeps the
/// newest kQueueLimit notifications; older ones are dropped. A failed delivery is reported
/// through `on_failure` on the loop thread.
class WebhookSender {
public:
    static constexpr std::size_t kQueueLimit = 1000;

    WebhookSender(EventLoop& loop, std::function<void(const std::string&)> on_failure);
    ~WebhookSender() { stop(); }
    WebhookSender(const WebhookSender&) = delete;
    WebhookSender& operator=(const WebhookSender&) = delete;

    void start();
    /// POSTs `body` (JSON) to each of `urls`. Any thread.
    void send(const std::vector<std::string>& urls, const std::string& body);
    /// Delivers what is queued, then joins the thread.
    void stop();

private:
    void run();

    EventLoop& loop_;
    std::function<void(const std::string&)> on_failure_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::pair<std::string, std::string>> queue_;  // (url, body), bounded
    bool stopping_ = false;
    std::thread thread_;
};

/// The JSON body of a webhook: {"event","job","run","task","attempt","reason","log_path",
/// "log_tail"} with the last 2 KiB of the attempt's log.
std::string webhook_body(std::string_view event, std::string_view job, std::string_view run,
                         std::string_view task, int attempt, std::string_view reason,
                         const std::string& log_path);

/// The last 2 KiB of a log file ("" when it cannot be read).
std::string log_tail(const std::string& path);
/// Appends one line to a log file (best effort: a task's log is not the state of record).
void append_log(const std::string& path, const std::string& line);

}  // namespace millrace
