#include "cli/topic_command.h"

#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "common/clock.h"
#include "common/file_lock.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/partition_reader.h"
#include "net/http_client.h"
#include "net/http_url.h"
#include "project/project_loader.h"

namespace millrace {

namespace {

int fail(const std::string& message) {
    std::fprintf(stderr, "millrace topic: %s\n", message.c_str());
    return 1;
}

Result<std::string> resolve_data_dir(const TopicCommandOptions& options) {
    if (!options.data_dir.empty()) return options.data_dir;
    const std::string dir = options.project.empty() ? "." : options.project;
    std::vector<Error> errors;
    auto project = load_project(dir, &errors);
    if (!project.ok()) {
        return Error(ErrorCode::kInvalidArgument,
                     "no --data-dir, and " + dir +
                         " is not a valid project: " + project.error().to_string());
    }
    return project->data_dir;
}

/// Sends the records to the process that holds the log, through its ingest API, in requests
/// of at most 1,000 records or 1 MiB.
int produce_through_server(const std::string& topic, const TopicCommandOptions& options,
                           const LockHolder& holder, std::istream& in) {
    if (!options.key_field.empty() && options.key_field != "key") {
        return fail("the log is held by " + FileLock::describe_holder(holder) +
                    ", whose ingest API takes keys from the `key` field only; stop it to "
                    "produce with --key-field " +
                    options.key_field);
    }
    const std::string url = "http://" + holder.address;
    Result<HttpUrl> endpoint = HttpUrl::parse(url);
    if (!endpoint.ok()) return fail(endpoint.error().to_string());
    HttpClient client(*endpoint, std::chrono::minutes(5));
    std::fprintf(stderr, "the log is held by %s; producing through %s\n",
                 FileLock::describe_holder(holder).c_str(), url.c_str());
    const std::string target = "/v1/ingest/" + topic;
    simdjson::dom::parser parser;
    std::string body;
    std::size_t lines = 0;
    uint64_t accepted = 0;
    uint64_t rejected = 0;
    auto send = [&]() -> bool {
        Result<HttpReply> reply = client.request("POST", target, body, "application/x-ndjson");
        if (!reply.ok()) {
            fail("sending records to " + url + ": " + reply.error().message() +
                 " (the log is held by " + FileLock::describe_holder(holder) + ")");
            return false;
        }
        simdjson::dom::element result;
        int64_t ok_count = 0;
        int64_t bad_count = 0;
        const bool parsed = parser.parse(reply->body).get(result) == simdjson::SUCCESS &&
                            result["accepted"].get_int64().get(ok_count) == simdjson::SUCCESS;
        if (parsed && result["rejected"].get_int64().get(bad_count) != simdjson::SUCCESS) {
            bad_count = 0;
        }
        if (reply->status != 200 && !(reply->status == 400 && parsed)) {
            fail(url + target + " answered " + std::to_string(reply->status) + ": " + reply->body);
            return false;
        }
        accepted += static_cast<uint64_t>(ok_count);
        rejected += static_cast<uint64_t>(bad_count);
        if (bad_count > 0) std::fprintf(stderr, "rejected records: %s\n", reply->body.c_str());
        body.clear();
        lines = 0;
        return true;
    };
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        body += line;
        body += '\n';
        if ((++lines == 1000 || body.size() >= (std::size_t{1} << 20)) && !send()) return 1;
    }
    if (lines > 0 && !send()) return 1;
    std::fprintf(stderr, "produced %llu records to `%s` through %s\n",
                 static_cast<unsigned long long>(accepted), topic.c_str(), url.c_str());
    if (rejected > 0) {
        return fail(std::to_string(rejected) + " records were rejected by the server");
    }
    return 0;
}

int produce(Topic& topic, const TopicCommandOptions& options, std::istream* in) {
    SystemClock clock;
    simdjson::dom::parser parser;
    std::vector<std::string> lines;
    std::vector<std::string> keys;
    std::string line;
    uint64_t total = 0;
    auto flush = [&]() -> bool {
        std::vector<RecordInput> records;
        records.reserve(lines.size());
        const int64_t now_ms = clock.now_micros() / 1000;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            RecordInput record{std::nullopt, lines[i], now_ms};
            if (!keys[i].empty()) record.key = keys[i];
            records.push_back(record);
        }
        auto appends = topic.append(records);
        if (!appends.ok()) {
            fail(appends.error().to_string());
            return false;
        }
        total += records.size();
        lines.clear();
        keys.clear();
        return true;
    };
    while (std::getline(*in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        std::string key;
        if (!options.key_field.empty()) {
            simdjson::dom::element element;
            std::string_view text;
            if (parser.parse(line).get(element) == simdjson::SUCCESS &&
                element[options.key_field].get_string().get(text) == simdjson::SUCCESS) {
                key = std::string(text);
            }
        }
        lines.push_back(std::move(line));
        keys.push_back(std::move(key));
        if (lines.size() == 1000 && !flush()) return 1;
    }
    if (!lines.empty() && !flush()) return 1;
    if (Status status = topic.sync_all(); !status.ok()) return fail(status.error().to_string());
    std::fprintf(stderr, "produced %llu records to `%s`\n", static_cast<unsigned long long>(total),
                 topic.name().c_str());
    return 0;
}

int consume(Log& log, Topic& topic, const TopicCommandOptions& options) {
    std::vector<PartitionId> partitions;
    if (options.partition >= 0) {
        if (options.partition >= topic.partition_count()) return fail("no such partition");
        partitions.push_back(options.partition);
    } else {
        for (PartitionId p = 0; p < topic.partition_count(); ++p) partitions.push_back(p);
    }
    std::vector<RecordView> views;
    for (PartitionId id : partitions) {
        const auto& partition = topic.partition(id);
        Offset from = std::max<Offset>(options.offset, partition->start_offset());
        if (!options.consumer.empty()) {
            auto committed = log.consumer_offsets().fetch(options.consumer, topic.name(), id);
            if (!committed.ok()) return fail(committed.error().to_string());
            if (committed->has_value()) from = std::max(from, **committed);
        }
        Offset bound = partition->end_offset();
        if (options.max >= 0) bound = std::min(bound, from + options.max);
        PartitionReader reader(partition, from, bound);
        while (true) {
            auto more = reader.next(views);
            if (!more.ok()) return fail(more.error().to_string());
            if (!*more) break;
            for (const RecordView& view : views) {
                std::fwrite(view.value.data(), 1, view.value.size(), stdout);
                std::fputc('\n', stdout);
            }
        }
        if (!options.consumer.empty()) {
            Status status = log.consumer_offsets().commit(options.consumer, topic.name(), id,
                                                          reader.position());
            if (!status.ok()) return fail(status.error().to_string());
        }
    }
    std::fflush(stdout);
    return 0;
}

}  // namespace

int run_topic(const TopicCommandOptions& options) {
    auto data_dir = resolve_data_dir(options);
    if (!data_dir.ok()) return fail(data_dir.error().message());
    SystemClock clock;
    // Reading needs no lock, so it works beside `millrace serve`; anything that writes (records,
    // topics, a consumer's committed offsets) takes the writer lock.
    const bool reads = options.action == "list" || options.action == "describe" ||
                       (options.action == "consume" && options.consumer.empty());
    LogOptions log_options;
    log_options.access = reads ? LogAccess::kReadOnly : LogAccess::kReadWrite;
    log_options.command = "millrace topic " + options.action;
    std::istream* in = &std::cin;
    std::ifstream file;
    if (options.action == "produce" && options.input != "-") {
        file.open(options.input);
        if (!file) return fail("cannot open " + options.input);
        in = &file;
    }
    auto log = Log::open(*data_dir, clock, log_options);
    if (!log.ok() && log.error().code() == ErrorCode::kUnavailable && options.action == "produce" &&
        !options.name.empty()) {
        const std::optional<LockHolder> holder = FileLock::read_holder(Log::lock_path(*data_dir));
        if (holder && !holder->address.empty()) {
            return produce_through_server(options.name, options, *holder, *in);
        }
    }
    if (!log.ok()) {
        if (log.error().code() == ErrorCode::kUnavailable && options.action == "consume") {
            return fail(log.error().message() +
                        " (committing the offsets of --consumer writes to the log; consume "
                        "without --consumer to read beside it)");
        }
        return fail(log.error().to_string());
    }
    for (const std::string& damage : (*log)->damage()) {
        std::fprintf(stderr, "millrace topic: warning: damaged log data kept: %s\n",
                     damage.c_str());
    }
    if (options.action == "list") {
        for (const std::string& name : (*log)->list_topics()) std::printf("%s\n", name.c_str());
        return 0;
    }
    if (options.name.empty()) return fail(options.action + " needs a topic name");
    if (options.action == "create") {
        TopicConfig config;
        config.partitions = options.partitions;
        if (options.fsync == "always") {
            config.fsync = FsyncPolicy::kAlways;
        } else if (options.fsync == "never") {
            config.fsync = FsyncPolicy::kNever;
        } else if (options.fsync != "interval") {
            return fail("--fsync must be always, interval or never");
        }
        config.fsync_interval = std::chrono::milliseconds(options.fsync_interval_ms);
        config.schema = options.schema;
        if (options.on_error == "dead_letter") {
            config.on_error = OnIngestError::kDeadLetter;
        } else if (options.on_error != "reject") {
            return fail("--on-error must be reject or dead_letter");
        }
        auto topic = (*log)->create_topic(options.name, config);
        if (!topic.ok()) return fail(topic.error().message());
        std::printf("created topic `%s` with %d partition%s\n", options.name.c_str(),
                    config.partitions, config.partitions == 1 ? "" : "s");
        return 0;
    }
    if (options.action == "delete") {
        if (Status status = (*log)->delete_topic(options.name); !status.ok()) {
            return fail(status.error().message());
        }
        std::printf("deleted topic `%s`\n", options.name.c_str());
        return 0;
    }
    auto topic = (*log)->find_topic(options.name);
    if (!topic) return fail("unknown topic `" + options.name + "`");
    if (options.action == "describe") {
        std::printf("%s\n", topic->describe_json(&(*log)->consumer_offsets()).c_str());
        return 0;
    }
    if (options.action == "produce") return produce(*topic, options, in);
    if (options.action == "consume") return consume(**log, *topic, options);
    return fail("unknown action `" + options.action +
                "` (create, list, describe, produce, consume, delete)");
}

}  // namespace millrace
