// loadgen: an open-loop HTTP/1.1 load generator (src/replay/load_engine.h) for the online
// serving benchmarks (bench/online/run.sh). Requests go out on a fixed schedule whatever the
// server does; latency runs from each request's intended send time (no coordinated omission).
//
//   loadgen --target http://127.0.0.1:8080 --rate 20000 --duration 10s --connections 32
//     --path-template '/v1/features/user_features?key={rand:0:999999}'
//   loadgen --target ... --method POST --path-template /v1/features/user_features/batch
//     --body '{"keys": {keys:100:0:999999}}'
//
// Prints one JSON object on stdout and a human line on stderr; exit code 1 when the target
// cannot be reached or an option is bad.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "replay/load_engine.h"
#include "replay/request_template.h"

namespace {

/// "10s", "500ms", "2m", "1.5" (seconds) -> nanoseconds; -1 when malformed.
int64_t parse_duration_ns(const std::string& text) {
    std::size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (...) {
        return -1;
    }
    const std::string unit = text.substr(used);
    double scale = 1e9;
    if (unit == "ms") {
        scale = 1e6;
    } else if (unit == "us") {
        scale = 1e3;
    } else if (unit == "m") {
        scale = 60e9;
    } else if (!unit.empty() && unit != "s") {
        return -1;
    }
    return value < 0 ? -1 : static_cast<int64_t>(value * scale);
}

int fail(const std::string& message) {
    std::fprintf(stderr, "loadgen: %s\n", message.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Open-loop HTTP/1.1 load generator (no coordinated omission)", "loadgen"};
    std::string target;
    double rate = 1000;
    std::string duration = "10s";
    std::string warmup = "0s";
    int connections = 32;
    std::string path_template = "/";
    std::string method;
    std::string body_file;
    std::string body;
    std::vector<std::string> headers;
    int64_t timeout_ms = 5000;
    uint64_t seed = 1;
    app.add_option("--target", target, "http://host:port")->required();
    app.add_option("--rate", rate, "Requests per second (0: closed loop, as fast as possible)");
    app.add_option("--duration", duration, "How long to send, e.g. 10s, 500ms, 1m");
    app.add_option("--warmup", warmup, "A first run at the same rate whose figures are dropped");
    app.add_option("--connections,-c", connections, "Keep-alive connections");
    app.add_option("--path-template", path_template,
                   "Request target; {rand:LO:HI} is a random integer");
    app.add_option("--method", method, "GET (default) or POST (default with a body)");
    app.add_option("--body-file", body_file,
                   "Request body template; {keys:N:LO:HI} is a JSON array of N random integers");
    app.add_option("--body", body, "Request body template, inline");
    app.add_option("--header,-H", headers, "\"Name: value\", repeatable");
    app.add_option("--timeout-ms", timeout_ms, "Per-request timeout");
    app.add_option("--seed", seed, "Random seed for the templates");
    CLI11_PARSE(app, argc, argv);

    auto url = millrace::HttpUrl::parse(target);
    if (!url.ok()) return fail(url.error().message());
    if (rate < 0) return fail("--rate must be >= 0");
    if (connections < 1 || connections > 100000) return fail("--connections must be >= 1");
    if (timeout_ms <= 0) return fail("--timeout-ms must be positive");
    const int64_t duration_ns = parse_duration_ns(duration);
    const int64_t warmup_ns = parse_duration_ns(warmup);
    if (duration_ns <= 0) return fail("bad --duration `" + duration + "`");
    if (warmup_ns < 0) return fail("bad --warmup `" + warmup + "`");
    if (!body_file.empty()) {
        std::ifstream in(body_file, std::ios::binary);
        if (!in) return fail("cannot read " + body_file);
        std::ostringstream text;
        text << in.rdbuf();
        body = text.str();
    }
    if (method.empty()) method = body.empty() ? "GET" : "POST";
    auto path = millrace::RequestTemplate::parse(path_template);
    if (!path.ok()) return fail("--path-template: " + path.error().message());
    auto body_template = millrace::RequestTemplate::parse(body);
    if (!body_template.ok()) return fail("body: " + body_template.error().message());
    std::vector<std::pair<std::string, std::string>> header_pairs;
    for (const std::string& header : headers) {
        const std::size_t colon = header.find(':');
        if (colon == std::string::npos || colon == 0) return fail("bad --header `" + header + "`");
        std::string value = header.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        header_pairs.emplace_back(header.substr(0, colon), value);
    }
    if (!body.empty()) {
        bool has_type = false;
        for (const auto& [name, value] : header_pairs) {
            std::string lower = name;
            for (char& c : lower)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            has_type = has_type || lower == "content-type";
        }
        if (!has_type) header_pairs.emplace_back("Content-Type", "application/json");
    }

    millrace::RequestTemplate::Rng rng(seed);
    auto generate = [&](uint64_t, millrace::HttpRequestSpec& request) {
        request.method = method;
        request.target.clear();
        path->expand(rng, request.target);
        request.headers = header_pairs;
        body_template->expand(rng, request.body);
        return true;
    };
    millrace::LoadOptions options;
    options.target = *url;
    options.schedule = rate > 0 ? millrace::LoadSchedule::fixed_rate(rate)
                                : millrace::LoadSchedule::as_fast_as_possible();
    options.connections = connections;
    options.request_timeout = std::chrono::milliseconds(timeout_ms);
    if (warmup_ns > 0) {
        options.duration = std::chrono::nanoseconds(warmup_ns);
        auto warm = millrace::LoadEngine(options).run(generate);
        if (!warm.ok()) return fail(warm.error().message());
        std::fprintf(stderr, "warmup: %s\n", warm->summary().c_str());
    }
    options.duration = std::chrono::nanoseconds(duration_ns);
    auto report = millrace::LoadEngine(options).run(generate);
    if (!report.ok()) return fail(report.error().message());
    std::printf("%s\n", report->to_json().c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", report->summary().c_str());
    return 0;
}
