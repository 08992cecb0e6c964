#include "replay/traffic_replayer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/json_string.h"
#include "net/http_client.h"
#include "replay/body_comparator.h"

namespace millrace {

namespace {

constexpr std::size_t kShownBodyBytes = 160;
constexpr int64_t kPageRecords = 1000;

std::string percent_encode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

/// Up to kShownBodyBytes of `body` from a little before byte `from`, with "..." where it was
/// cut and control characters escaped (\n, \xNN), so a report stays one line per body.
std::string excerpt(const std::string& body, int64_t from) {
    const std::size_t start = from > 40 ? static_cast<std::size_t>(from) - 40 : 0;
    std::string out = start > 0 ? "..." : "";
    for (std::size_t i = start; i < body.size() && i < start + kShownBodyBytes; ++i) {
        const auto c = static_cast<unsigned char>(body[i]);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    if (start + kShownBodyBytes < body.size()) out += "...";
    return out;
}

int64_t first_difference(const std::string& a, const std::string& b) {
    const auto mismatch = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    if (mismatch.first == a.end() && mismatch.second == b.end()) return -1;
    return mismatch.first - a.begin();
}

}  // namespace

Result<std::vector<TrafficReplayer::Replayable>> TrafficReplayer::fetch(ReplayReport& report) {
    MILLRACE_ASSIGN_OR_RETURN(HttpUrl source, HttpUrl::parse(options_.from));
    for (const std::string& header : options_.source_headers) MILLRACE_TRY(parse_header(header));
    HttpClient client(source, options_.timeout, options_.source_headers);
    const std::string topic_path = "/v1/topics/" + percent_encode(options_.topic);
    MILLRACE_ASSIGN_OR_RETURN(HttpReply described, client.get(topic_path));
    if (described.status == 404) {
        return Error(ErrorCode::kNotFound,
                     "unknown topic `" + options_.topic + "` on " + source.authority());
    }
    if (described.status != 200) {
        return Error(ErrorCode::kIo,
                     fmt::format("GET {} on {}: status {}: {}", topic_path, source.authority(),
                                 described.status, described.body.substr(0, 200)));
    }
    auto ranges = parse_topic_description(described.body);
    if (!ranges.ok()) {
        return Error(ErrorCode::kParse, "GET " + topic_path + " on " + source.authority() + ": " +
                                            ranges.error().message());
    }
    if (options_.partition >= 0 && options_.partition >= static_cast<int>(ranges->size())) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("topic `{}` has {} partition(s); there is no partition {}",
                                 options_.topic, ranges->size(), options_.partition));
    }
    std::vector<Replayable> records;
    for (const TopicPartitionRange& range : *ranges) {
        if (options_.partition >= 0 && range.partition != options_.partition) continue;
        int64_t offset = range.start_offset;
        uint64_t taken = 0;
        while (offset < range.end_offset && taken < options_.limit) {
            const int64_t max =
                static_cast<int64_t>(std::min<uint64_t>(kPageRecords, options_.limit - taken));
            const std::string path = fmt::format("{}/records?partition={}&offset={}&max={}",
                                                 topic_path, range.partition, offset, max);
            MILLRACE_ASSIGN_OR_RETURN(HttpReply reply, client.get(path));
            if (reply.status != 200) {
                return Error(ErrorCode::kIo,
                             fmt::format("GET {} on {}: status {}: {}", path, source.authority(),
                                         reply.status, reply.body.substr(0, 200)));
            }
            auto page = parse_topic_records_page(reply.body);
            if (!page.ok()) {
                return Error(ErrorCode::kParse, "GET " + path + ": " + page.error().message());
            }
            if (page->records.empty() || page->next_offset <= offset) break;  // nothing more
            for (CapturedRecord& record : page->records) {
                if (record.offset >= range.end_offset || taken >= options_.limit) break;
                ++taken;
                ++report.records_read;
                if (!record.request) {
                    ++report.malformed;
                    if (report.malformed_examples.size() < options_.examples) {
                        report.malformed_examples.push_back(
                            fmt::format("partition {} offset {}: {}", record.partition,
                                        record.offset, record.error));
                    }
                    continue;
                }
                records.push_back({record.partition, record.offset, std::move(*record.request)});
            }
            offset = page->next_offset;
        }
    }
    // Oldest first across partitions; ties keep partition and offset order.
    std::stable_sort(records.begin(), records.end(), [](const Replayable& a, const Replayable& b) {
        return a.request.ts_us < b.request.ts_us;
    });
    if (records.size() > options_.limit) records.resize(options_.limit);
    return records;
}

Result<ReplayReport> TrafficReplayer::run() {
    if (options_.topic.empty()) return Error(ErrorCode::kInvalidArgument, "no topic given");
    if (options_.rate < 0) return Error(ErrorCode::kInvalidArgument, "the rate must be >= 0");
    if (options_.speedup && !(*options_.speedup > 0)) {
        return Error(ErrorCode::kInvalidArgument, "the speedup must be > 0");
    }
    if (options_.speedup && options_.rate > 0) {
        return Error(ErrorCode::kInvalidArgument, "give a rate or a speedup, not both");
    }
    if (options_.connections < 1 || options_.connections > 10000) {
        return Error(ErrorCode::kInvalidArgument, "connections must be in 1..10000");
    }
    MILLRACE_ASSIGN_OR_RETURN(HttpUrl target, HttpUrl::parse(options_.target));
    std::vector<std::pair<std::string, std::string>> extra_headers;
    for (const std::string& header : options_.headers) {
        MILLRACE_ASSIGN_OR_RETURN(auto pair, parse_header(header));
        extra_headers.push_back(std::move(pair));
    }
    if (!options_.ignored_fields.empty() && !options_.compare_bodies) {
        return Error(ErrorCode::kInvalidArgument, "--ignore-field needs --compare");
    }
    MILLRACE_ASSIGN_OR_RETURN(BodyComparator bodies,
                              BodyComparator::create(options_.ignored_fields));
    ReplayReport report;
    report.from = options_.from;
    report.topic = options_.topic;
    MILLRACE_ASSIGN_OR_RETURN(std::vector<Replayable> records, fetch(report));
    report.load.target = "http://" + target.authority() + target.path_prefix;
    if (records.empty()) return report;

    LoadOptions load;
    load.target = target;
    load.connections = options_.connections;
    load.request_timeout = options_.timeout;
    load.keep_bodies = options_.compare_bodies;
    load.max_requests = records.size();
    if (options_.rate > 0) {
        load.schedule = LoadSchedule::fixed_rate(options_.rate);
    } else if (options_.speedup) {
        load.schedule = LoadSchedule::recorded_offsets(*options_.speedup);
    } else {
        load.schedule = LoadSchedule::as_fast_as_possible();
    }
    const int64_t first_ts = records.front().request.ts_us;
    auto generate = [&](uint64_t index, HttpRequestSpec& spec) {
        if (index >= records.size()) return false;
        const CapturedRequest& request = records[index].request;
        spec.method = request.method;
        spec.target = request.target;
        spec.body = request.body;
        spec.headers.emplace_back("X-Millrace-Replay", "1");
        spec.headers.insert(spec.headers.end(), extra_headers.begin(), extra_headers.end());
        if (!request.body.empty()) spec.headers.emplace_back("Content-Type", "application/json");
        spec.recorded_offset_ns = (request.ts_us - first_ts) * 1000;
        return true;
    };
    auto compare = [&](const RequestResult& result) {
        const Replayable& record = records[result.index];
        const CapturedRequest& expected = record.request;
        const bool got_response = result.outcome == RequestOutcome::kResponse;
        const bool status_differs = !got_response || result.status != expected.status;
        const bool body_differs = !status_differs && options_.compare_bodies &&
                                  !bodies.equal(expected.response, result.body);
        if (!status_differs && !body_differs) {
            ++report.matched;
            return;
        }
        ++(status_differs ? report.status_mismatches : report.body_mismatches);
        if (report.examples.size() >= options_.examples) return;
        ReplayMismatch mismatch;
        mismatch.partition = record.partition;
        mismatch.offset = record.offset;
        mismatch.method = expected.method;
        mismatch.target = expected.target;
        mismatch.expected_status = expected.status;
        mismatch.got_status = got_response ? result.status : 0;
        mismatch.error = std::string(result.error);
        const std::string got(result.body);
        mismatch.first_difference = body_differs ? first_difference(expected.response, got) : -1;
        const int64_t around = std::max<int64_t>(mismatch.first_difference, 0);
        if (options_.compare_bodies) {
            mismatch.expected_body = excerpt(expected.response, around);
            mismatch.got_body = excerpt(got, around);
        }
        report.examples.push_back(std::move(mismatch));
    };
    LoadEngine engine(load);
    auto result = engine.run(generate, compare);
    if (!result.ok()) {
        return Error(result.error().code(),
                     "replaying against " + target.authority() + ": " + result.error().message());
    }
    report.load = std::move(result).value();
    return report;
}

Result<std::pair<std::string, std::string>> TrafficReplayer::parse_header(std::string_view header) {
    const std::size_t colon = header.find(':');
    if (colon == 0 || colon == std::string_view::npos ||
        header.find_first_of("\r\n") != std::string_view::npos ||
        header.substr(0, colon).find_first_of(" \t") != std::string_view::npos) {
        return Error(ErrorCode::kInvalidArgument,
                     "bad header `" + std::string(header) + "`: expected \"Name: value\"");
    }
    std::string_view value = header.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    return std::pair<std::string, std::string>(std::string(header.substr(0, colon)),
                                               std::string(value));
}

std::string ReplayReport::to_text() const {
    std::string out =
        fmt::format("read {} captured request(s) from topic `{}` on {}", records_read, topic, from);
    if (malformed > 0) out += fmt::format(", {} malformed (skipped)", malformed);
    out += '\n';
    for (const std::string& example : malformed_examples) out += "  malformed: " + example + '\n';
    out += fmt::format("replayed against {}: {}\n", load.target, load.summary());
    out += fmt::format("matched {}, mismatches {} (status {}, body {})\n", matched, mismatches(),
                       status_mismatches, body_mismatches);
    for (const ReplayMismatch& mismatch : examples) {
        out += fmt::format("  mismatch: {} {} (partition {} offset {}): ", mismatch.method,
                           mismatch.target, mismatch.partition, mismatch.offset);
        if (mismatch.got_status == 0) {
            out += fmt::format("expected status {}, got no response ({})\n",
                               mismatch.expected_status, mismatch.error);
            continue;
        }
        if (mismatch.got_status != mismatch.expected_status) {
            out += fmt::format("expected status {}, got {}\n", mismatch.expected_status,
                               mismatch.got_status);
        } else {
            out += fmt::format("status {}, bodies differ at byte {}\n", mismatch.got_status,
                               mismatch.first_difference);
        }
        if (!mismatch.expected_body.empty() || !mismatch.got_body.empty()) {
            out += "    expected: " + mismatch.expected_body + "\n";
            out += "    got:      " + mismatch.got_body + "\n";
        }
    }
    return out;
}

std::string ReplayReport::to_json() const {
    std::string out = "{\"from\":";
    append_json_string(out, from);
    out += ",\"topic\":";
    append_json_string(out, topic);
    out += fmt::format(
        ",\"records_read\":{},\"malformed\":{},\"matched\":{},\"mismatches\":{},"
        "\"status_mismatches\":{},\"body_mismatches\":{},\"load\":",
        records_read, malformed, matched, mismatches(), status_mismatches, body_mismatches);
    out += load.to_json();
    out += '}';
    return out;
}

}  // namespace millrace
