// libFuzzer target: arbitrary bytes as a job file (jobs/*.yaml) through the YAML adapter and the
// job parser, then the cron expression of each line as a schedule and each line as a task
// template. Checks the contracts: parse errors name the file, and a cron expression that parses
// gives fire times strictly after the instant asked about.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/cron_expression.h"
#include "scheduler/job_parser.h"
#include "scheduler/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    millrace::Project project;
    project.root_dir = "/project";
    auto job = millrace::parse_job_text(text, "fuzz.yaml", project);
    if (!job.ok() && job.error().location().known() && job.error().location().file != "fuzz.yaml") {
        std::fprintf(stderr, "error without the file name: %s\n", job.error().to_string().c_str());
        std::abort();
    }
    std::size_t start = 0;
    while (start <= text.size() && start < 4096) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        auto cron = millrace::CronExpression::parse(line);
        if (cron.ok()) {
            const int64_t after = 1'795'000'000'000'000;
            auto next = cron->next_after(after, millrace::TimeZone::utc());
            if (next && *next <= after) std::abort();
        }
        (void)millrace::check_template(line);
        start = end + 1;
    }
    return 0;
}
