#include "pipeline/check_results_exporter.h"

#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "common/metrics_registry.h"

namespace millrace {

CheckResultsExporter::CheckResultsExporter(std::string data_dir, MetricsRegistry& metrics,
                                           std::chrono::milliseconds interval)
    : folder_(std::move(data_dir) + "/checks"), metrics_(metrics), interval_(interval) {}

CheckResultsExporter::~CheckResultsExporter() { stop(); }

void CheckResultsExporter::consume(const std::string& line) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(line).get(root)) return;  // a line another version wrote differently
    std::string_view pipeline, dataset, rule, severity;
    bool passed = false;
    if (root["pipeline"].get(pipeline) || root["dataset"].get(dataset) || root["rule"].get(rule) ||
        root["passed"].get(passed)) {
        return;
    }
    if (root["severity"].get(severity)) severity = "error";
    const char* result = passed ? "passed" : severity == "warn" ? "warning" : "failed";
    metrics_
        .counter("millrace_check_results_total",
                 "Quality-rule results of runs and checks, by pipeline, dataset and result "
                 "(passed, warning, failed).",
                 {{"pipeline", std::string(pipeline)},
                  {"dataset", std::string(dataset)},
                  {"result", result}})
        .increment();
    metrics_
        .gauge("millrace_check_passing",
               "1 when the latest result of a quality rule passed, 0 when it failed.",
               {{"pipeline", std::string(pipeline)},
                {"dataset", std::string(dataset)},
                {"rule", std::string(rule)}})
        .set(passed ? 1.0 : 0.0);
}

std::size_t CheckResultsExporter::refresh() {
    std::size_t lines = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(folder_, error)) {
        const std::string path = entry.path().string();
        if (entry.path().extension() != ".ndjson") continue;
        uint64_t& offset = offsets_[path];
        const uint64_t size = std::filesystem::file_size(path, error);
        if (error || size <= offset) continue;
        std::FILE* file = std::fopen(path.c_str(), "rb");
        if (file == nullptr) continue;
        std::string text(size - offset, '\0');
        const bool read = std::fseek(file, static_cast<long>(offset), SEEK_SET) == 0 &&
                          std::fread(text.data(), 1, text.size(), file) == text.size();
        std::fclose(file);
        if (!read) continue;
        std::size_t start = 0;
        for (std::size_t end = text.find('\n'); end != std::string::npos;
             end = text.find('\n', start)) {
            consume(text.substr(start, end - start));
            ++lines;
            start = end + 1;
        }
        offset += start;  // an unfinished last line is read again next time
    }
    return lines;
}

void CheckResultsExporter::start() {
    refresh();
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
            lock.unlock();
            refresh();
            lock.lock();
        }
    });
}

void CheckResultsExporter::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

}  // namespace millrace
