#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace millrace {

class MetricsRegistry;

/// Exports the quality-rule results every run and `millrace check` append to
/// `<data_dir>/checks/<pipeline>.ndjson` (pipeline/dataset_rules.h) as metrics of the process
/// serving /metrics, whichever process judged them:
///
///   millrace_check_results_total{pipeline,dataset,result}  counter; result passed, warning
///                                                          (a failed warn rule) or failed
///   millrace_check_passing{pipeline,dataset,rule}          gauge; 1 when the rule's latest
///                                                          result passed, else 0
///
/// The files are read from where the last refresh stopped (only complete lines), so a refresh
/// costs what was appended since. Threads: refresh() from one thread at a time; start() runs it
/// every `interval` on a thread of its own until stop() (or the destructor).
class CheckResultsExporter {
public:
    CheckResultsExporter(std::string data_dir, MetricsRegistry& metrics,
                         std::chrono::milliseconds interval = std::chrono::seconds(2));
    ~CheckResultsExporter();
    CheckResultsExporter(const CheckResultsExporter&) = delete;
    CheckResultsExporter& operator=(const CheckResultsExporter&) = delete;

    /// Reads what was appended since the last call; returns the result lines read.
    std::size_t refresh();
    void start();
    void stop();

private:
    void consume(const std::string& line);

    std::string folder_;
    MetricsRegistry& metrics_;
    std::chrono::milliseconds interval_;
    std::map<std::string, uint64_t> offsets_;  // file -> bytes consumed
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace millrace
