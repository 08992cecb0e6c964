#include "server/traffic_capture.h"

#include <chrono>
#include <random>

#include "common/json_string.h"
#include "log/record_batch.h"
#include "log/topic.h"

namespace millrace {

namespace {

constexpr auto kFlushInterval = std::chrono::milliseconds(5);

}  // namespace

TrafficCapture::TrafficCapture(std::shared_ptr<Topic> topic, double sample,
                               MetricsRegistry& metrics, std::size_t max_queued,
                               WriteHealth* health)
    : topic_(std::move(topic)),
      sample_(sample),
      max_queued_(max_queued),
      captured_(metrics.counter("millrace_capture_records_total",
                                "Serving requests recorded for replay, by outcome.",
                                {{"outcome", "captured"}})),
      dropped_(metrics.counter("millrace_capture_records_total",
                               "Serving requests recorded for replay, by outcome.",
                               {{"outcome", "dropped"}})),
      failed_(metrics.counter("millrace_capture_records_total",
                              "Serving requests recorded for replay, by outcome.",
                              {{"outcome", "failed"}})),
      health_(health),
      worker_([this] { run(); }) {}

TrafficCapture::~TrafficCapture() { stop(); }

bool TrafficCapture::sampled() const {
    if (sample_ >= 1.0) return true;
    if (sample_ <= 0.0) return false;
    thread_local std::minstd_rand generator(std::random_device{}());
    return std::uniform_real_distribution<double>(0.0, 1.0)(generator) < sample_;
}

void TrafficCapture::record(int64_t ts_us, std::string_view method, std::string_view target,
                            std::string_view body, int status, std::string_view response,
                            int64_t latency_us) {
    std::string line;
    line.reserve(96 + target.size() + body.size() + response.size());
    line += "{\"ts_us\":";
    line += std::to_string(ts_us);
    line += ",\"method\":";
    append_json_string(line, method);
    line += ",\"target\":";
    append_json_string(line, target);
    line += ",\"body\":";
    append_json_string(line, body);
    line += ",\"status\":";
    line += std::to_string(status);
    line += ",\"response\":";
    append_json_string(line, response);
    line += ",\"latency_us\":";
    line += std::to_string(latency_us);
    line += '}';
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= max_queued_ || stopping_) {
            dropped_.increment();
            return;
        }
        queue_.push_back(std::move(line));
    }
}

void TrafficCapture::run() {
    std::vector<std::string> batch;
    std::vector<RecordInput> inputs;
    while (true) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, kFlushInterval, [this] { return stopping_; });
            batch.swap(queue_);
            if (batch.empty() && stopping_) return;
        }
        if (batch.empty()) continue;
        inputs.clear();
        const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        for (const std::string& line : batch) inputs.push_back({std::nullopt, line, now_ms});
        Result<std::vector<PartitionAppend>> appended = topic_->append(inputs);
        if (appended.ok()) {
            captured_.increment(batch.size());
            if (health_ != nullptr) health_->succeeded();
        } else {
            failed_.increment(batch.size());
            if (health_ != nullptr) health_->failed(appended.error().message());
        }
        batch.clear();
    }
}

void TrafficCapture::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !worker_.joinable()) return;
        stopping_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
}

}  // namespace millrace
