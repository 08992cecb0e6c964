#include "lineage/lineage_deliverer.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/logger.h"
#include "common/metrics_registry.h"

namespace millrace {

LineageDeliverer::LineageDeliverer(std::string data_dir, std::string url, MetricsRegistry& metrics,
                                   const Logger& logger, std::chrono::milliseconds interval,
                                   std::chrono::milliseconds max_backoff)
    : outbox_(std::move(data_dir)),
      url_(std::move(url)),
      logger_(logger),
      interval_(interval),
      max_backoff_(max_backoff),
      depth_(metrics.gauge("millrace_lineage_outbox_events",
                           "OpenLineage run events waiting in the outbox for delivery.")),
      delivered_(metrics.counter("millrace_lineage_events_delivered_total",
                                 "OpenLineage run events the collector acknowledged.")),
      rejected_(metrics.counter("millrace_lineage_events_rejected_total",
                                "OpenLineage run events the collector refused (4xx), kept in "
                                "lineage/rejected/.")),
      failures_(metrics.counter("millrace_lineage_delivery_failures_total",
                                "Delivery passes that stopped because the collector was "
                                "unreachable or failed.")) {}

LineageDeliverer::~LineageDeliverer() { stop(); }

void LineageDeliverer::start() {
    depth_.set(static_cast<double>(outbox_.depth()));
    thread_ = std::thread([this] { loop(); });
}

void LineageDeliverer::wake() {
    std::lock_guard lock(mutex_);
    woken_ = true;
    wake_.notify_one();
}

void LineageDeliverer::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

void LineageDeliverer::loop() {
    std::chrono::milliseconds wait = interval_;
    int failures_in_a_row = 0;
    while (true) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
            if (stopping_) return;
            woken_ = false;
        }
        wait = interval_;
        if (url_.empty()) {
            depth_.set(static_cast<double>(outbox_.depth()));
            continue;
        }
        // Small passes keep stop() prompt; the next pass follows at once while events wait.
        Result<LineageDelivery> pass = outbox_.deliver(url_, std::chrono::seconds(5), 100);
        if (pass.ok()) {
            delivered_.increment(pass->delivered);
            rejected_.increment(pass->rejected);
            depth_.set(static_cast<double>(pass->pending));
        }
        const std::string error = pass.ok() ? pass->error : pass.error().message();
        if (!error.empty()) {
            failures_.increment();
            ++failures_in_a_row;
            const int shift = std::min(failures_in_a_row - 1, 16);
            wait = std::min(max_backoff_, interval_ * (int64_t{1} << shift));
            // The first failure of a streak is worth a line; the rest would flood the log.
            if (failures_in_a_row == 1) {
                logger_.warn("lineage", "delivery failed; events wait in the outbox",
                             {{"url", url_}, {"error", error}});
            }
        } else {
            if (failures_in_a_row > 0) {
                logger_.info("lineage", "delivery resumed", {{"url", url_}});
            }
            failures_in_a_row = 0;
            if (pass.ok() && pass->pending > 0 && pass->delivered + pass->rejected > 0) {
                wait = std::chrono::milliseconds(0);
            }
        }
    }
}

}  // namespace millrace
