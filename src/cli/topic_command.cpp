#include "cli/topic_command.h"

#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "common/clock.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/partition_reader.h"
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

int produce(Topic& topic, const TopicCommandOptions& options) {
    std::istream* in = &std::cin;
    std::ifstream file;
    if (options.input != "-") {
        file.open(options.input);
        if (!file) return fail("cannot open " + options.input);
        in = &file;
    }
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
    auto log = Log::open(*data_dir, clock);
    if (!log.ok()) return fail(log.error().to_string());
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
        std::printf("%s\n", topic->describe_json().c_str());
        return 0;
    }
    if (options.action == "produce") return produce(*topic, options);
    if (options.action == "consume") return consume(**log, *topic, options);
    return fail("unknown action `" + options.action +
                "` (create, list, describe, produce, consume, delete)");
}

}  // namespace millrace
