// Scheduler overhead with real `shell` tasks (/bin/sh -c true), the full state store (SQLite)
// and log files: what a job pays per task beyond the task's own work.
//   BM_TriggerToStart    submit_run() called -> the first task's process started: p50/p99
//   BM_HandOff           upstream task exit seen -> downstream task's process started, along a
//                        chain of 100 tasks: p50/p99
//   BM_FanOutFanIn10k    start -> 10,000 `true` tasks -> end: tasks started per second
//   BM_SpawnCeiling      the same 10,000 processes started by 2 plain threads (ChildProcess,
//                        log file each, no scheduler, no state): what the machine allows
// Both throughput figures also report `cpu_us_per_task`: this process's CPU time (every
// thread, not the children) per task, which other jobs on the machine move far less than the
// wall-clock rate. `make bench` interleaves the repetitions of the two at random.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/yaml_document.h"
#include "scheduler/child_process.h"
#include "scheduler/job_parser.h"
#include "scheduler/scheduler.h"

namespace millrace {
namespace {

constexpr int64_t kDay = int64_t{86400} * 1'000'000;

struct BenchProject {
    Project project;
    explicit BenchProject(const std::string& name) {
        const std::string dir =
            (std::filesystem::temp_directory_path() /
             ("millrace-sched-bench-" + std::to_string(::getpid()) + "-" + name))
                .string();
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        project.name = "bench";
        project.root_dir = dir;
        project.data_dir = dir + "/data";
    }
    ~BenchProject() { std::filesystem::remove_all(project.root_dir); }

    JobDefinition job(const std::string& text) const {
        auto doc = YamlDocument::parse(text, "jobs/bench.yaml");
        std::vector<Error> errors;
        auto job = parse_job(doc->root(), "jobs/bench.yaml", text, project, errors);
        if (!job.ok()) std::abort();
        return *job;
    }
};

/// CPU time (user + system) of every thread of this process so far, in microseconds.
double process_cpu_us() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 +
           double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const std::size_t index = std::min(
        values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())));
    return values[index];
}

void BM_TriggerToStart(benchmark::State& state) {
    BenchProject bench("trigger");
    SystemClock clock;
    Scheduler scheduler(bench.project,
                        {bench.job("name: one\ntasks:\n  t: { kind: shell, command: \"true\" }\n")},
                        SchedulerOptions{}, clock);
    if (!scheduler.start().ok()) std::abort();
    static std::atomic<int64_t> interval{0};
    std::vector<double> latencies_us;
    for (auto _ : state) {
        for (int i = 0; i < 200; ++i) {
            const int64_t start = ++interval * kDay;
            const int64_t triggered = clock.now_micros();
            auto id = scheduler.submit_run("one", start, start + kDay, Scheduler::Lane::kManual);
            auto summary = scheduler.wait_run(*id);
            latencies_us.push_back(double(summary->tasks[0].started_at - triggered));
        }
    }
    state.counters["p50_us"] = percentile(latencies_us, 0.50);
    state.counters["p99_us"] = percentile(latencies_us, 0.99);
}
BENCHMARK(BM_TriggerToStart)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_HandOff(benchmark::State& state) {
    BenchProject bench("handoff");
    std::string text = "name: chain\ntasks:\n  t0: { kind: shell, command: \"true\" }\n";
    for (int i = 1; i < 100; ++i) {
        text += "  t" + std::to_string(i) + ": { kind: shell, command: \"true\", depends_on: [t" +
                std::to_string(i - 1) + "] }\n";
    }
    SystemClock clock;
    Scheduler scheduler(bench.project, {bench.job(text)}, SchedulerOptions{}, clock);
    if (!scheduler.start().ok()) std::abort();
    static std::atomic<int64_t> interval{0};
    std::vector<double> latencies_us;
    for (auto _ : state) {
        const int64_t start = ++interval * kDay;
        auto id = scheduler.submit_run("chain", start, start + kDay, Scheduler::Lane::kManual);
        auto summary = scheduler.wait_run(*id);
        for (std::size_t i = 1; i < summary->tasks.size(); ++i) {
            latencies_us.push_back(
                double(summary->tasks[i].started_at - summary->tasks[i - 1].finished_at));
        }
    }
    state.counters["p50_us"] = percentile(latencies_us, 0.50);
    state.counters["p99_us"] = percentile(latencies_us, 0.99);
}
BENCHMARK(BM_HandOff)->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_FanOutFanIn10k(benchmark::State& state) {
    BenchProject bench("fanout");
    constexpr int kTasks = 10000;
    std::string text = "name: wide\nmax_active_tasks: " + std::to_string(state.range(0)) +
                       "\ntasks:\n  start: { kind: shell, command: \"true\" }\n";
    std::string all;
    for (int i = 0; i < kTasks; ++i) {
        text +=
            "  t" + std::to_string(i) + ": { kind: shell, command: \"true\", depends_on: start }\n";
        all += (all.empty() ? "" : ", ") + std::string("t") + std::to_string(i);
    }
    text += "  end: { kind: shell, command: \"true\", depends_on: [" + all + "] }\n";
    const JobDefinition job = bench.job(text);
    SystemClock clock;
    Scheduler scheduler(bench.project, {job}, SchedulerOptions{}, clock);
    if (!scheduler.start().ok()) std::abort();
    static std::atomic<int64_t> interval{0};
    double seconds = 0;
    double cpu_us = 0;
    for (auto _ : state) {
        const int64_t start = ++interval * kDay;
        const int64_t t0 = clock.now_micros();
        const double cpu0 = process_cpu_us();
        auto id = scheduler.submit_run("wide", start, start + kDay, Scheduler::Lane::kManual);
        auto summary = scheduler.wait_run(*id);
        if (summary->run.state != RunState::kSuccess) state.SkipWithError("run failed");
        seconds += double(clock.now_micros() - t0) / 1e6;
        cpu_us += process_cpu_us() - cpu0;
    }
    state.counters["tasks_per_s"] =
        double(kTasks + 2) * double(state.iterations()) / std::max(seconds, 1e-9);
    state.counters["cpu_us_per_task"] = cpu_us / double(kTasks + 2) / double(state.iterations());
}
BENCHMARK(BM_FanOutFanIn10k)->Arg(64)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_SpawnCeiling(benchmark::State& state) {
    BenchProject bench("ceiling");
    constexpr int kTasks = 10000;
    constexpr int kThreads = 2;
    double seconds = 0;
    double cpu_us = 0;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        const double cpu0 = process_cpu_us();
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = t; i < kTasks; i += kThreads) {
                    ChildProcess::Options options;
                    options.argv = {"/bin/sh", "-c", "true"};
                    options.log_path = bench.project.root_dir + "/" + std::to_string(i) + ".log";
                    auto child = ChildProcess::spawn(options);
                    if (child.ok()) child->reap();
                }
            });
        }
        for (std::thread& thread : threads) thread.join();
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        cpu_us += process_cpu_us() - cpu0;
    }
    state.counters["tasks_per_s"] = double(kTasks) * double(state.iterations()) / seconds;
    state.counters["cpu_us_per_task"] = cpu_us / double(kTasks) / double(state.iterations());
}
BENCHMARK(BM_SpawnCeiling)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace millrace

BENCHMARK_MAIN();
