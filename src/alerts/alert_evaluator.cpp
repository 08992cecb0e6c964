#include "alerts/alert_evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "common/clock.h"
#include "common/json_string.h"
#include "common/logger.h"
#include "common/metrics_registry.h"

namespace millrace {

namespace {

constexpr std::string_view kFiringHelp = "1 while an alert rule is firing, by rule and severity.";

bool has_labels(const MetricSample& sample, const std::map<std::string, std::string>& wanted) {
    for (const auto& [name, value] : wanted) {
        auto it = sample.labels.find(name);
        if (it == sample.labels.end() || it->second != value) return false;
    }
    return true;
}

}  // namespace

std::vector<MetricSample> parse_metric_samples(const std::string& text) {
    std::vector<MetricSample> samples;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        if (line.empty() || line[0] == '#') continue;
        MetricSample sample;
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
        sample.name = std::string(line.substr(0, i));
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                const std::size_t equals = line.find('=', i);
                if (equals == std::string_view::npos || equals + 1 >= line.size()) break;
                std::string name(line.substr(i, equals - i));
                std::string value;
                i = equals + 2;  // past ="
                while (i < line.size() && line[i] != '"') {
                    if (line[i] == '\\' && i + 1 < line.size()) {
                        ++i;
                        value += line[i] == 'n' ? '\n' : line[i];
                    } else {
                        value += line[i];
                    }
                    ++i;
                }
                ++i;  // closing quote
                if (i < line.size() && line[i] == ',') ++i;
                sample.labels.emplace(std::move(name), std::move(value));
            }
            ++i;  // closing brace
        }
        while (i < line.size() && line[i] == ' ') ++i;
        const std::string number(line.substr(i));
        if (number == "+Inf") {
            sample.value = HUGE_VAL;
        } else {
            char* stop = nullptr;
            sample.value = std::strtod(number.c_str(), &stop);
            if (stop == number.c_str()) continue;
        }
        samples.push_back(std::move(sample));
    }
    return samples;
}

AlertEvaluator::AlertEvaluator(const Project& project, MetricsRegistry& metrics,
                               const Logger& logger, const Clock& clock)
    : project_(project),
      metrics_(metrics),
      logger_(logger),
      clock_(clock),
      outbox_(project.data_dir + "/alerts"),
      outbox_depth_(metrics.gauge("millrace_alert_outbox_messages",
                                  "Alert notifications waiting in the outbox for the webhook.")),
      states_(project.alerts.rules.size()) {
    for (const AlertRuleSpec& rule : project.alerts.rules) {
        metrics_.gauge("millrace_alerts_firing", kFiringHelp,
                       {{"alert", rule.name}, {"severity", rule.severity}});
    }
}

AlertEvaluator::~AlertEvaluator() { stop(); }

std::pair<bool, double> AlertEvaluator::condition(const AlertRuleSpec& rule, RuleState& state,
                                                  const std::vector<MetricSample>& samples) {
    switch (rule.condition) {
        case AlertCondition::kMetric: {
            bool seen = false;
            double sum = 0;
            for (const MetricSample& sample : samples) {
                if (sample.name != rule.metric || !has_labels(sample, rule.labels)) continue;
                seen = true;
                sum += sample.value;
            }
            // No series yet is no data, not zero: neither bound holds.
            if (!seen) return {false, 0};
            return {rule.above ? sum > *rule.above : sum < *rule.below, sum};
        }
        case AlertCondition::kCheckFailed: {
            double failing = 0;
            for (const MetricSample& sample : samples) {
                if (sample.name != "millrace_check_passing") continue;
                if (!rule.pipeline.empty() && sample.labels.count("pipeline") > 0 &&
                    sample.labels.at("pipeline") != rule.pipeline) {
                    continue;
                }
                if (sample.value < 1) ++failing;
            }
            return {failing > 0, failing};
        }
        case AlertCondition::kJobFailed: {
            double failed = 0, success = 0;
            for (const MetricSample& sample : samples) {
                if (sample.name != "millrace_job_runs_total") continue;
                auto job = sample.labels.find("job_name");
                if (!rule.job.empty() && (job == sample.labels.end() || job->second != rule.job))
                    continue;
                auto run_state = sample.labels.find("state");
                if (run_state == sample.labels.end()) continue;
                if (run_state->second == "failed") failed += sample.value;
                if (run_state->second == "success") success += sample.value;
            }
            if (!state.primed) {  // failures before this process started are not news
                state.primed = true;
            } else if (failed > state.failed_seen) {
                state.failed_unresolved = true;
            } else if (success > state.success_seen) {
                state.failed_unresolved = false;
            }
            const double new_failures = failed - state.failed_seen;
            state.failed_seen = failed;
            state.success_seen = success;
            return {state.failed_unresolved, std::max(new_failures, 0.0)};
        }
    }
    return {false, 0};
}

void AlertEvaluator::notify(const AlertRuleSpec& rule, const RuleState& state, bool firing,
                            int64_t now) {
    std::string body = "{\"alert\":";
    append_json_string(body, rule.name);
    body += ",\"status\":";
    body += firing ? "\"firing\"" : "\"resolved\"";
    body += ",\"severity\":";
    append_json_string(body, rule.severity);
    body += ",\"description\":";
    append_json_string(body, rule.description);
    body += fmt::format(",\"value\":{}", state.value);
    body += ",\"labels\":{";
    bool first = true;
    for (const auto& [name, value] : rule.labels) {
        if (!first) body += ',';
        first = false;
        append_json_string(body, name);
        body += ':';
        append_json_string(body, value);
    }
    if (!rule.pipeline.empty()) {
        body += first ? "" : ",";
        body += "\"pipeline\":" + json_string(rule.pipeline);
        first = false;
    }
    if (!rule.job.empty()) {
        body += first ? "" : ",";
        body += "\"job\":" + json_string(rule.job);
    }
    body += "},\"project\":";
    append_json_string(body, project_.name);
    body += ",\"starts_at\":";
    append_json_string(body, format_utc_timestamp(state.fired_at));
    if (!firing) {
        body += ",\"ends_at\":";
        append_json_string(body, format_utc_timestamp(now));
    }
    body += '}';
    if (Status added = outbox_.add(body, now); !added.ok()) {
        logger_.error("alerts", "notification not recorded",
                      {{"alert", rule.name}, {"error", added.error().message()}});
    }
    logger_.info("alerts", firing ? "alert firing" : "alert resolved",
                 {{"alert", rule.name}, {"value", state.value}});
}

std::size_t AlertEvaluator::evaluate() {
    const std::vector<MetricSample> samples = parse_metric_samples(metrics_.render_prometheus());
    const int64_t now = clock_.now_micros();
    std::size_t notifications = 0;
    for (std::size_t i = 0; i < project_.alerts.rules.size(); ++i) {
        const AlertRuleSpec& rule = project_.alerts.rules[i];
        RuleState& state = states_[i];
        const auto [holds, value] = condition(rule, state, samples);
        if (holds) {
            state.value = value;
            if (!state.pending_since) state.pending_since = now;
            if (!state.firing && now - *state.pending_since >= rule.for_duration.count()) {
                state.firing = true;
                state.fired_at = now;
                notify(rule, state, true, now);
                ++notifications;
            }
        } else {
            state.pending_since.reset();
            if (state.firing) {
                state.firing = false;
                notify(rule, state, false, now);
                ++notifications;
            }
        }
        metrics_
            .gauge("millrace_alerts_firing", kFiringHelp,
                   {{"alert", rule.name}, {"severity", rule.severity}})
            .set(state.firing ? 1.0 : 0.0);
    }
    return notifications;
}

std::string AlertEvaluator::deliver() {
    Result<OutboxDelivery> pass =
        outbox_.deliver(project_.alerts.webhook, std::chrono::seconds(2), 100);
    if (!pass.ok()) return pass.error().message();
    outbox_depth_.set(static_cast<double>(pass->pending));
    return pass->error;
}

void AlertEvaluator::start() {
    thread_ = std::thread([this] {
        const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(
            project_.alerts.evaluation_interval);
        int failures = 0;
        int skip = 0;  // evaluation turns to wait before the next delivery (backoff)
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            lock.unlock();
            evaluate();
            if (skip > 0) {
                --skip;
            } else if (std::string error = deliver(); !error.empty()) {
                if (failures++ == 0) {
                    logger_.warn("alerts", "webhook delivery failed; notifications wait",
                                 {{"url", project_.alerts.webhook}, {"error", error}});
                }
                skip = std::min(1 << std::min(failures, 6), 60) - 1;
            } else {
                failures = 0;
            }
            lock.lock();
            wake_.wait_for(lock, interval, [this] { return stopping_; });
        }
    });
}

void AlertEvaluator::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

}  // namespace millrace
