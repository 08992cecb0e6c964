#include "pipeline/check_results_exporter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/metrics_registry.h"

namespace millrace {
namespace {

// Lines as record_rule_results writes them (the fields the exporter reads).
std::string line(const std::string& rule, bool passed, const std::string& severity) {
    return "{\"run\":1,\"pipeline\":\"orders\",\"dataset\":\"o\",\"rule\":\"" + rule +
           "\",\"passed\":" + (passed ? "true" : "false") + ",\"severity\":\"" + severity + "\"}";
}

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

TEST(CheckResultsExporter, ReadsWhatWasAppendedSinceTheLastRefresh) {
    const std::string dir =
        testing::TempDir() + "check_results_exporter_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir + "/checks");
    const std::string file = dir + "/checks/orders.ndjson";
    MetricsRegistry registry;
    CheckResultsExporter exporter(dir, registry);
    EXPECT_EQ(exporter.refresh(), 0u);
    const std::string last = line("row_count", false, "error");
    {
        std::ofstream out(file);
        out << line("row_count", true, "error") << "\n"
            << line("unique(id)", false, "warn") << "\n"
            << last.substr(0, 20);  // a line still being written
    }
    EXPECT_EQ(exporter.refresh(), 2u);
    {
        std::ofstream out(file, std::ios::app);
        out << last.substr(20) << "\n";
    }
    EXPECT_EQ(exporter.refresh(), 1u);
    EXPECT_EQ(exporter.refresh(), 0u);
    const std::string text = registry.render_prometheus();
    const std::string labels = "{pipeline=\"orders\",dataset=\"o\",";
    EXPECT_TRUE(contains(text, "millrace_check_results_total" + labels + "result=\"passed\"} 1"))
        << text;
    EXPECT_TRUE(contains(text, "millrace_check_results_total" + labels + "result=\"warning\"} 1"));
    EXPECT_TRUE(contains(text, "millrace_check_results_total" + labels + "result=\"failed\"} 1"));
    EXPECT_TRUE(contains(text, "millrace_check_passing" + labels + "rule=\"row_count\"} 0"));
    EXPECT_TRUE(contains(text, "millrace_check_passing" + labels + "rule=\"unique(id)\"} 0"));
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace millrace
