#include "cli/bench_command.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "pipeline/stream_runner.h"
#include "project/duration.h"
#include "project/project_loader.h"

namespace millrace {

namespace {

struct QueryText {
    std::string name;
    std::string sql;
    std::vector<std::string> relations;
    std::string key;        // an updating result: written to a topic keyed by this column
    std::string state_ttl;  // `-- state_ttl: 1h`: a join without a time bound keeps rows this long
};

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    std::string item;
    for (char c : text) {
        if (c == ',' || c == ' ' || c == '\t') {
            if (!item.empty()) out.push_back(std::move(item));
            item.clear();
        } else {
            item.push_back(c);
        }
    }
    if (!item.empty()) out.push_back(std::move(item));
    return out;
}

Result<QueryText> read_query(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) {
        return Error(ErrorCode::kNotFound, fmt::format("{}: cannot read the query", path.string()));
    }
    QueryText query;
    query.name = path.stem().string();
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("--", 0) == 0) {
            const std::string_view rest = std::string_view(line).substr(2);
            const std::size_t colon = rest.find(':');
            if (colon == std::string_view::npos) continue;
            const auto words = split_list(rest.substr(0, colon));
            const std::string key = words.size() == 1 ? words[0] : "";
            if (key == "relations") query.relations = split_list(rest.substr(colon + 1));
            if (key == "state_ttl") {
                const auto values = split_list(rest.substr(colon + 1));
                if (!values.empty()) query.state_ttl = values[0];
            }
            if (key == "key") {
                const auto keys = split_list(rest.substr(colon + 1));
                if (!keys.empty()) query.key = keys[0];
            }
            continue;
        }
        query.sql += line;
        query.sql += '\n';
    }
    if (query.relations.empty()) {
        return Error(ErrorCode::kConfig,
                     fmt::format("{}: no `-- relations: bid, ...` line", path.string()));
    }
    return query;
}

std::string indent(const std::string& text, std::string_view prefix) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) {
            out += prefix;
            out.append(text, start, end - start);
        }
        out += '\n';
        start = end + 1;
    }
    return out;
}

/// The pipeline of one query: a nexmark generator per relation it reads (one seed and limit, so
/// together they are one event sequence), unpaced, at Flink's default event-time rate; the
/// query as a view; a blackhole sink (as Flink's Nexmark), or a CSV file (a keyed topic for an
/// updating result).
std::string pipeline_yaml(const QueryText& query, const BenchNexmarkOptions& options) {
    std::string yaml = fmt::format("name: {}\nmode: streaming\nparallelism: {}\n", query.name,
                                   options.parallelism);
    if (!query.state_ttl.empty()) yaml += fmt::format("state_ttl: {}\n", query.state_ttl);
    if (!options.checkpoint_interval.empty())
        yaml += fmt::format("checkpoint_interval: {}\n", options.checkpoint_interval);
    yaml += "sources:\n";
    for (const std::string& relation : query.relations) {
        yaml += fmt::format(
            "  {}:\n"
            "    generator: {{ kind: nexmark, events: {}, rate: 10000000/s, paced: false, "
            "seed: {}, limit: {} }}\n"
            "    event_time: date_time\n"
            "    watermark_delay: 100ms\n",
            relation, relation, options.seed, options.events);
    }
    yaml += fmt::format("views:\n  {}: |\n{}", query.name, indent(query.sql, "    "));
    if (options.sink == "blackhole") {
        yaml += fmt::format("sinks:\n  - {{ from: {}, blackhole: {{}} }}\n", query.name);
    } else if (query.key.empty()) {
        yaml +=
            fmt::format("sinks:\n  - {{ from: {}, file: {{ path: out/{}.csv, format: csv }} }}\n",
                        query.name, query.name);
    } else {
        yaml += fmt::format("sinks:\n  - {{ from: {}, topic: nexmark_{}, key: {} }}\n", query.name,
                            query.name, query.key);
    }
    return yaml;
}

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\u{:04x}", static_cast<int>(static_cast<unsigned char>(c)));
        } else {
            out.push_back(c);
        }
    }
    return out + "\"";
}

struct QueryResult {
    std::string error;
    double wall_s = 0;
    double cpu_s = 0;
    uint64_t rows_out = 0;
    uint64_t checkpoints = 0;
    double longest_checkpoint_ms = 0;
    uint64_t checkpoint_state_bytes = 0;          // over the run
    uint64_t largest_checkpoint_state_bytes = 0;  // of one checkpoint
    double p99_ms = 0;
    double p50_ms = 0;
};

QueryResult run_query(const QueryText& query, const BenchNexmarkOptions& options,
                      const std::filesystem::path& dir) {
    QueryResult result;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::create_directories(dir / "pipelines", ec);
    {
        std::ofstream(dir / "millrace.yaml")
            << "name: nexmark\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n";
        std::ofstream(dir / "pipelines" / (query.name + ".yaml")) << pipeline_yaml(query, options);
    }
    std::vector<Error> errors;
    Result<Project> project = load_project(dir.string(), &errors);
    if (!project.ok() && errors.empty()) errors.push_back(project.error());
    if (!errors.empty()) {
        result.error = errors.front().to_string();
        return result;
    }
    const PipelineSpec* pipeline = project->find_pipeline(query.name);
    if (pipeline == nullptr) {
        result.error = "the generated project has no pipeline " + query.name;
        return result;
    }
    StreamOptions stream;
    if (options.checkpoint_interval.empty()) {
        stream.commit_interval = std::chrono::hours(24);  // none mid-run: one at start and stop
    }
    StreamProgress progress;
    stream.progress = &progress;
    // Latency: the runner polls every source once per round, pushes what it read through the
    // plans into the sinks, sends the watermarks (closing windows), then asks should_stop. A
    // round's events were generated at its start, so the time from one call to the next bounds
    // the end-to-end latency of every row the sinks took in that round: a sample per round
    // that wrote rows.
    using Clock = std::chrono::steady_clock;
    std::vector<double> samples;
    auto round_start = Clock::now();
    uint64_t last_out = 0;
    bool first = true;
    stream.should_stop = [&]() {
        const auto now = Clock::now();
        const uint64_t out = progress.records_out.load(std::memory_order_relaxed);
        if (out > last_out && !first) {
            samples.push_back(std::chrono::duration<double, std::milli>(now - round_start).count());
        }
        first = false;
        last_out = out;
        round_start = now;
        return false;
    };
    const double cpu_before = cpu_seconds();
    const auto started = Clock::now();
    Result<StreamReport> report = run_streaming_pipeline(*project, *pipeline, stream);
    result.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
    result.cpu_s = cpu_seconds() - cpu_before;
    if (!report.ok()) {
        result.error = report.error().to_string();
        return result;
    }
    for (const SinkReport& sink : report->run.sinks) result.rows_out += sink.rows_written;
    result.checkpoints = report->checkpoints;
    result.longest_checkpoint_ms =
        static_cast<double>(report->longest_checkpoint_duration.count()) / 1e3;
    result.checkpoint_state_bytes = report->checkpoint_state_bytes;
    result.largest_checkpoint_state_bytes = report->largest_checkpoint_state_bytes;
    if (!samples.empty()) {
        std::sort(samples.begin(), samples.end());
        auto at = [&](double q) {
            return samples[std::min(
                samples.size() - 1,
                static_cast<std::size_t>(q * static_cast<double>(samples.size())))];
        };
        result.p99_ms = at(0.99);
        result.p50_ms = at(0.5);
    }
    return result;
}

}  // namespace

int run_bench_nexmark(const BenchNexmarkOptions& options) {
    if (options.sink != "blackhole" && options.sink != "csv") {
        std::fprintf(stderr, "millrace bench nexmark: --sink is blackhole or csv\n");
        return 1;
    }
    if (options.events == 0 || options.parallelism < 1) {
        std::fprintf(stderr, "millrace bench nexmark: --events and --parallelism must be > 0\n");
        return 1;
    }
    if (!options.checkpoint_interval.empty() && !parse_duration(options.checkpoint_interval).ok()) {
        std::fprintf(stderr, "millrace bench nexmark: --checkpoint-interval `%s` is no duration\n",
                     options.checkpoint_interval.c_str());
        return 1;
    }
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(options.queries_dir, ec)) {
        if (entry.path().extension() != ".sql") continue;
        if (options.query == "all" || entry.path().stem() == options.query)
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::fprintf(stderr, "millrace bench nexmark: no %s.sql in %s\n",
                     options.query == "all" ? "*" : options.query.c_str(),
                     options.queries_dir.c_str());
        return 1;
    }
    std::filesystem::path work = options.work_dir;
    const bool temporary = work.empty();
    if (temporary) {
        work = std::filesystem::temp_directory_path() /
               fmt::format("millrace-nexmark-{}", static_cast<long>(getpid()));
    }
    std::FILE* json = nullptr;
    if (!options.json_out.empty()) json = std::fopen(options.json_out.c_str(), "a");
    std::printf("nexmark: %llu events, parallelism %d, checkpoints %s, sink %s\n",
                static_cast<unsigned long long>(options.events), options.parallelism,
                options.checkpoint_interval.empty() ? "none" : options.checkpoint_interval.c_str(),
                options.sink.c_str());
    std::printf("%-5s %10s %8s %8s %12s %14s %14s %9s %9s\n", "query", "rows_out", "wall_s",
                "cpu_s", "k_events/s", "k_ev/s/core", "k_ev/s/core", "p50_ms", "p99_ms");
    std::printf("%-5s %10s %8s %8s %12s %14s %14s %9s %9s\n", "", "", "", "", "(wall)", "(cpu)",
                "(wall/P)", "", "");
    int status = 0;
    for (const auto& file : files) {
        auto query = read_query(file);
        if (!query.ok()) {
            std::fprintf(stderr, "%s\n", query.error().to_string().c_str());
            status = 1;
            continue;
        }
        const QueryResult result = run_query(*query, options, work / query->name);
        const auto events = static_cast<double>(options.events);
        if (!result.error.empty()) {
            std::printf("%-5s not run: %s\n", query->name.c_str(), result.error.c_str());
        } else {
            std::printf(
                "%-5s %10llu %8.2f %8.2f %12.0f %14.0f %14.0f %9.2f %9.2f\n", query->name.c_str(),
                static_cast<unsigned long long>(result.rows_out), result.wall_s, result.cpu_s,
                events / result.wall_s / 1e3, events / result.cpu_s / 1e3,
                events / result.wall_s / 1e3 / options.parallelism, result.p50_ms, result.p99_ms);
        }
        std::fflush(stdout);
        if (json != nullptr) {
            std::string line = fmt::format(
                "{{\"query\":\"{}\",\"events\":{},\"parallelism\":{},\"checkpoint_interval\":{},"
                "\"sink\":\"{}\"",
                query->name, options.events, options.parallelism,
                json_string(options.checkpoint_interval), options.sink);
            if (!result.error.empty()) {
                line += fmt::format(",\"error\":{}}}\n", json_string(result.error));
            } else {
                line += fmt::format(
                    ",\"rows_out\":{},\"wall_s\":{:.4f},\"cpu_s\":{:.4f},\"k_events_s\":{:.1f},"
                    "\"k_events_s_core_cpu\":{:.1f},\"k_events_s_core_wall\":{:.1f},"
                    "\"p50_ms\":{:.3f},\"p99_ms\":{:.3f},\"checkpoints\":{},"
                    "\"longest_checkpoint_ms\":{:.1f},\"checkpoint_state_bytes\":{},"
                    "\"largest_checkpoint_state_bytes\":{}}}\n",
                    result.rows_out, result.wall_s, result.cpu_s, events / result.wall_s / 1e3,
                    events / result.cpu_s / 1e3, events / result.wall_s / 1e3 / options.parallelism,
                    result.p50_ms, result.p99_ms, result.checkpoints, result.longest_checkpoint_ms,
                    result.checkpoint_state_bytes, result.largest_checkpoint_state_bytes);
            }
            std::fputs(line.c_str(), json);
        }
    }
    if (json != nullptr) std::fclose(json);
    if (temporary) std::filesystem::remove_all(work, ec);
    return status;
}

}  // namespace millrace
