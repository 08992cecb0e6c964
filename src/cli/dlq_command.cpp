#include "cli/dlq_command.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <vector>

#include "common/clock.h"
#include "common/durable_file.h"
#include "common/json_string.h"
#include "common/mapped_file.h"
#include "formats/base64.h"
#include "formats/decode_sink.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/partition_reader.h"
#include "log/topic.h"
#include "pipeline/prepared_run.h"
#include "project/project_loader.h"

namespace millrace {

namespace {

int fail(const std::string& message) {
    std::fprintf(stderr, "millrace dlq: %s\n", message.c_str());
    return 1;
}

/// One dead-letter envelope and where it sits in the dead-letter topic (its identity).
struct Envelope {
    int32_t partition = 0;
    int64_t offset = 0;
    std::string json;  // the envelope as stored (or as edited in a --from file)
    std::string source;
    std::string stage;
    std::string reason;
};

std::string string_field(simdjson::dom::element& object, std::string_view key) {
    std::string_view value;
    if (object[key].get_string().get(value) != simdjson::SUCCESS) return "";
    return std::string(value);
}

/// `json` parsed into an Envelope; kInvalidArgument when it is not a JSON object.
Result<Envelope> parse_envelope(simdjson::dom::parser& parser, std::string json, int32_t partition,
                                int64_t offset) {
    simdjson::dom::element object;
    if (parser.parse(json).get(object) != simdjson::SUCCESS || !object.is_object()) {
        return Error(ErrorCode::kInvalidArgument, "not a JSON object");
    }
    Envelope envelope;
    envelope.partition = partition;
    envelope.offset = offset;
    envelope.source = string_field(object, "source");
    if (envelope.source.empty()) envelope.source = string_field(object, "view");
    envelope.stage = string_field(object, "stage");
    envelope.reason = string_field(object, "reason");
    envelope.json = std::move(json);
    return envelope;
}

bool selected(const Envelope& envelope, const DlqCommandOptions& options) {
    if (!options.reason.empty() && envelope.reason.find(options.reason) == std::string::npos)
        return false;
    if (!options.source.empty() && envelope.source != options.source) return false;
    if (!options.stage.empty() && envelope.stage != options.stage) return false;
    return true;
}

/// Every envelope of the dead-letter topic, in partition and offset order.
Result<std::vector<Envelope>> read_topic(Topic& topic) {
    std::vector<Envelope> out;
    simdjson::dom::parser parser;
    std::vector<RecordView> views;
    for (PartitionId id = 0; id < topic.partition_count(); ++id) {
        const auto& partition = topic.partition(id);
        PartitionReader reader(partition, partition->start_offset(), partition->end_offset());
        while (true) {
            MILLRACE_ASSIGN_OR_RETURN(bool more, reader.next(views));
            if (!more) break;
            for (const RecordView& view : views) {
                auto envelope = parse_envelope(parser, std::string(view.value), id, view.offset);
                if (!envelope.ok()) {
                    // Not one of ours (someone produced into the topic): shown, never replayed.
                    Envelope other;
                    other.partition = id;
                    other.offset = view.offset;
                    other.json = std::string(view.value);
                    other.reason = "(not an envelope)";
                    out.push_back(std::move(other));
                    continue;
                }
                out.push_back(std::move(envelope).value());
            }
        }
    }
    return out;
}

/// The envelopes of a `--from` file: one JSON object per line, as `inspect --json` prints them
/// (with `dlq_partition` and `dlq_offset`, which say which dead letter an edited line replaces).
Result<std::vector<Envelope>> read_edited(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Error(ErrorCode::kNotFound, "cannot open " + path);
    std::vector<Envelope> out;
    simdjson::dom::parser parser;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        simdjson::dom::element object;
        int64_t partition = 0;
        int64_t offset = 0;
        if (parser.parse(line).get(object) != simdjson::SUCCESS || !object.is_object() ||
            object["dlq_partition"].get_int64().get(partition) != simdjson::SUCCESS ||
            object["dlq_offset"].get_int64().get(offset) != simdjson::SUCCESS) {
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("{}:{}: expected an envelope as `millrace dlq inspect --json` "
                                     "prints it, with dlq_partition and dlq_offset",
                                     path, number));
        }
        MILLRACE_ASSIGN_OR_RETURN(
            Envelope envelope,
            parse_envelope(parser, line, static_cast<int32_t>(partition), offset));
        out.push_back(std::move(envelope));
    }
    return out;
}

std::string envelope_id(const Envelope& envelope) {
    return fmt::format("{}:{}", envelope.partition, envelope.offset);
}

/// The envelope with its place in the dead-letter topic first: what `inspect --json` prints
/// and `replay --from` reads back.
std::string json_with_id(const Envelope& envelope) {
    std::string out = fmt::format("{{\"dlq_partition\":{},\"dlq_offset\":{}", envelope.partition,
                                  envelope.offset);
    if (envelope.json.size() > 2 && envelope.json.front() == '{' &&
        envelope.json.find("\"dlq_partition\"") == std::string::npos) {
        out += ',';
        out += std::string_view(envelope.json).substr(1);
        return out;
    }
    if (envelope.json.find("\"dlq_partition\"") != std::string::npos) return envelope.json;
    return out + "}";
}

/// The bytes a replay sends: `raw_base64` (exact bytes), else `raw`, else the `row` object.
std::optional<std::string> payload(simdjson::dom::parser& parser, const Envelope& envelope) {
    simdjson::dom::element object;
    if (parser.parse(envelope.json).get(object) != simdjson::SUCCESS) return std::nullopt;
    std::string_view text;
    if (object["raw_base64"].get_string().get(text) == simdjson::SUCCESS) {
        std::string bytes;
        if (decode_base64(text, &bytes)) return bytes;
    }
    if (object["raw"].get_string().get(text) == simdjson::SUCCESS) return std::string(text);
    simdjson::dom::element row;
    if (object["row"].get(row) == simdjson::SUCCESS && row.is_object())
        return simdjson::minify(row);
    return std::nullopt;
}

std::string ledger_path(const std::string& data_dir, const std::string& pipeline) {
    return fmt::format("{}/dlq/{}.replayed", data_dir, pipeline);
}

/// The dead letters replayed before: one `partition:offset` per line.
Result<std::set<std::string>> read_ledger(const std::string& path) {
    std::set<std::string> ids;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return ids;
    MILLRACE_ASSIGN_OR_RETURN(std::string text, read_file(path));
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) ids.insert(text.substr(start, end - start));
        start = end + 1;
    }
    return ids;
}

void print_counts(const char* title, const std::map<std::string, uint64_t>& counts) {
    std::printf("by %s:\n", title);
    for (const auto& [key, count] : counts) {
        std::printf("  %8llu  %s\n", static_cast<unsigned long long>(count),
                    key.empty() ? "(none)" : key.c_str());
    }
}

void print_text(simdjson::dom::parser& parser, const Envelope& envelope) {
    std::printf("[%s] from %s, stage %s: %s\n", envelope_id(envelope).c_str(),
                envelope.source.c_str(), envelope.stage.c_str(), envelope.reason.c_str());
    simdjson::dom::element object;
    if (parser.parse(envelope.json).get(object) != simdjson::SUCCESS) {
        std::printf("  %s\n", envelope.json.c_str());
        return;
    }
    std::string_view text;
    int64_t number = 0;
    int64_t partition = 0;
    if (object["topic"].get_string().get(text) == simdjson::SUCCESS &&
        object["partition"].get_int64().get(partition) == simdjson::SUCCESS &&
        object["offset"].get_int64().get(number) == simdjson::SUCCESS) {
        std::printf("  at: topic %.*s partition %lld offset %lld\n", static_cast<int>(text.size()),
                    text.data(), static_cast<long long>(partition), static_cast<long long>(number));
    } else if (object["file"].get_string().get(text) == simdjson::SUCCESS) {
        std::string at(text);
        if (object["line"].get_int64().get(number) == simdjson::SUCCESS)
            at += fmt::format(":{}", number);
        std::printf("  at: %s\n", at.c_str());
    }
    if (object["time"].get_string().get(text) == simdjson::SUCCESS)
        std::printf("  time: %.*s\n", static_cast<int>(text.size()), text.data());
    if (object["check"].get_string().get(text) == simdjson::SUCCESS)
        std::printf("  check: %.*s\n", static_cast<int>(text.size()), text.data());
    if (object["raw"].get_string().get(text) == simdjson::SUCCESS)
        std::printf("  raw: %.*s\n", static_cast<int>(text.size()), text.data());
    simdjson::dom::element row;
    if (object["row"].get(row) == simdjson::SUCCESS)
        std::printf("  row: %s\n", simdjson::minify(row).c_str());
}

int replay(const DlqCommandOptions& options, const Project& project, const PipelineSpec& pipeline,
           Log& log, const std::vector<Envelope>& envelopes) {
    const std::string ledger = ledger_path(project.data_dir, pipeline.name);
    auto done = read_ledger(ledger);
    if (!done.ok()) return fail(done.error().to_string());
    simdjson::dom::parser parser;
    std::map<std::string, std::vector<std::string>> per_topic;  // topic -> payloads
    std::vector<std::string> replayed_ids;
    uint64_t already = 0;
    std::map<std::string, uint64_t> skipped;  // why -> count
    for (const Envelope& envelope : envelopes) {
        if (!selected(envelope, options)) continue;
        const std::string id = envelope_id(envelope);
        if (done->count(id) > 0) {
            ++already;
            continue;
        }
        std::string target = options.to;
        if (target.empty()) {
            const SourceSpec* source = pipeline.find_source(envelope.source);
            if (source == nullptr || source->kind != SourceKind::kTopic) {
                ++skipped[fmt::format("`{}` is not a topic source of the pipeline (use --to TOPIC)",
                                      envelope.source)];
                continue;
            }
            target = source->topic;
        }
        std::optional<std::string> bytes = payload(parser, envelope);
        if (!bytes) {
            ++skipped["no raw bytes or row to send (a file set aside whole)"];
            continue;
        }
        // Decoders keep at most this much of a bad record: a raw this long may be cut, and
        // sending it would replace the record with its beginning.
        if (options.from.empty() && envelope.stage == "decode" &&
            bytes->size() >= DecodeOptions{}.max_raw_bytes) {
            ++skipped[fmt::format(
                "original bytes may be cut at {} bytes (send the whole record "
                "with --from)",
                DecodeOptions{}.max_raw_bytes)];
            continue;
        }
        per_topic[target].push_back(std::move(*bytes));
        replayed_ids.push_back(id);
    }
    uint64_t sent = 0;
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    for (const auto& [name, payloads] : per_topic) {
        if (options.dry_run) {
            std::printf("would replay %zu records to topic `%s`\n", payloads.size(), name.c_str());
            continue;
        }
        std::shared_ptr<Topic> topic = log.find_topic(name);
        if (!topic) return fail("unknown topic `" + name + "`");
        std::vector<RecordInput> records;
        for (const std::string& value : payloads) {
            RecordInput record;
            record.value = value;
            record.timestamp_ms = now_ms;
            records.push_back(record);
        }
        auto appends = topic->append(records);
        if (!appends.ok()) return fail(appends.error().to_string());
        if (Status status = topic->wait_durable(*appends); !status.ok())
            return fail(status.error().to_string());
        std::printf("replayed %zu records to topic `%s`\n", payloads.size(), name.c_str());
        sent += payloads.size();
    }
    if (!options.dry_run && !replayed_ids.empty()) {
        // After the appends: a replay killed in between sends those records again next time
        // (at-least-once), never loses them.
        std::string text;
        if (auto old = read_file(ledger); old.ok()) text = std::move(old).value();
        for (const std::string& id : replayed_ids) text += id + "\n";
        Status status = create_parent_directories_durably(ledger);
        if (status.ok()) status = write_file_durably(ledger, text);
        if (!status.ok()) return fail(status.error().to_string());
    }
    if (sent == 0 && !options.dry_run) std::printf("replayed 0 records\n");
    if (already > 0) {
        std::printf("skipped %llu already replayed (%s)\n",
                    static_cast<unsigned long long>(already), ledger.c_str());
    }
    for (const auto& [why, count] : skipped)
        std::printf("skipped %llu: %s\n", static_cast<unsigned long long>(count), why.c_str());
    return 0;
}

}  // namespace

int run_dlq(const DlqCommandOptions& options) {
    if (options.action != "count" && options.action != "inspect" && options.action != "replay")
        return fail("unknown action `" + options.action + "` (count, inspect, replay)");
    std::vector<Error> errors;
    Result<Project> loaded = load_project(options.project_dir, &errors);
    if (!loaded.ok() && errors.empty()) errors.push_back(loaded.error());
    if (!errors.empty()) {
        for (const Error& error : errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        return 1;
    }
    const Project& project = *loaded;
    const PipelineSpec* pipeline = project.find_pipeline(options.pipeline);
    if (pipeline == nullptr) {
        std::string names;
        for (const auto& p : project.pipelines) names += (names.empty() ? "" : ", ") + p.name;
        return fail(fmt::format("project `{}` has no pipeline `{}` (pipelines: {})", project.name,
                                options.pipeline, names.empty() ? "none" : names));
    }
    SystemClock clock;
    LogOptions log_options;
    // Reading needs no lock (works beside `millrace serve`); a replay appends.
    const bool writes = options.action == "replay" && !options.dry_run;
    log_options.access = writes ? LogAccess::kReadWrite : LogAccess::kReadOnly;
    log_options.command = "millrace dlq " + options.action;
    auto log = Log::open(project.data_dir, clock, log_options);
    if (!log.ok()) return fail(log.error().to_string());
    const std::string topic_name = dead_letter_topic_name(*pipeline);
    std::vector<Envelope> envelopes;
    if (!options.from.empty()) {
        if (options.action != "replay") return fail("--from is a replay option");
        auto edited = read_edited(options.from);
        if (!edited.ok()) return fail(edited.error().to_string());
        envelopes = std::move(edited).value();
    } else if (std::shared_ptr<Topic> topic = (*log)->find_topic(topic_name)) {
        auto read = read_topic(*topic);
        if (!read.ok()) return fail(read.error().to_string());
        envelopes = std::move(read).value();
    }
    if (options.action == "replay") return replay(options, project, *pipeline, **log, envelopes);
    simdjson::dom::parser parser;
    if (options.action == "inspect") {
        int64_t shown = 0;
        for (const Envelope& envelope : envelopes) {
            if (!selected(envelope, options)) continue;
            if (options.limit >= 0 && shown >= options.limit) break;
            ++shown;
            if (options.json) {
                std::printf("%s\n", json_with_id(envelope).c_str());
            } else {
                print_text(parser, envelope);
            }
        }
        if (!options.json && shown == 0)
            std::printf("no dead letters in topic `%s`\n", topic_name.c_str());
        return 0;
    }
    std::map<std::string, uint64_t> by_reason, by_source, by_stage;
    uint64_t total = 0;
    for (const Envelope& envelope : envelopes) {
        if (!selected(envelope, options)) continue;
        ++total;
        ++by_reason[envelope.reason];
        ++by_source[envelope.source];
        ++by_stage[envelope.stage];
    }
    auto replayed = read_ledger(ledger_path(project.data_dir, pipeline->name));
    if (options.json) {
        auto object = [](const std::map<std::string, uint64_t>& counts) {
            std::string out = "{";
            for (const auto& [key, count] : counts) {
                if (out.size() > 1) out += ',';
                append_json_string(out, key);
                out += fmt::format(":{}", count);
            }
            return out + "}";
        };
        std::string out = "{\"topic\":";
        append_json_string(out, topic_name);
        out += fmt::format(
            ",\"total\":{},\"replayed\":{},\"by_reason\":{},\"by_source\":{},"
            "\"by_stage\":{}}}",
            total, replayed.ok() ? replayed->size() : 0, object(by_reason), object(by_source),
            object(by_stage));
        std::printf("%s\n", out.c_str());
        return 0;
    }
    std::printf("%llu dead letters in topic `%s`", static_cast<unsigned long long>(total),
                topic_name.c_str());
    if (replayed.ok() && !replayed->empty())
        std::printf(" (%zu replayed before)", replayed->size());
    std::printf("\n");
    if (total == 0) return 0;
    print_counts("reason", by_reason);
    print_counts("source", by_source);
    print_counts("stage", by_stage);
    return 0;
}

}  // namespace millrace
