#include "server/ingest_handler.h"

#include <simdjson.h>

#include <map>
#include <memory>

#include "common/json_string.h"
#include "formats/json_decoder.h"
#include "log/log.h"
#include "server/record_splitter.h"
#include "types/schema.h"

namespace millrace {

namespace {

/// Collects the reasons of rejected records; the rows themselves are not needed.
class ErrorOnlySink final : public DecodeSink {
public:
    Status on_batch(Batch) override { return {}; }
    void on_error(RowError error) override { last_reason = std::move(error.reason); }
    std::string last_reason;
};

/// A schema decoder per thread and topic schema, made on first use.
JsonDecoder& decoder_for(const std::string& schema_spec) {
    thread_local std::map<std::string, std::unique_ptr<JsonDecoder>> decoders;
    auto it = decoders.find(schema_spec);
    if (it == decoders.end()) {
        auto schema = parse_schema_spec(schema_spec);  // validated when the topic was created
        auto shared =
            std::make_shared<const Schema>(schema.ok() ? std::move(schema).value() : Schema{});
        it = decoders.emplace(schema_spec, std::make_unique<JsonDecoder>(shared)).first;
    }
    return *it->second;
}

/// Bounds the per-request bookkeeping (a 16 MiB body of `{}` lines would be 5 M records).
constexpr std::size_t kMaxRecordsPerRequest = 100'000;

}  // namespace

IngestHandler::IngestHandler(Log& log, const Clock& clock, MetricsRegistry& metrics,
                             WriteHealth* health)
    : log_(log),
      clock_(clock),
      health_(health),
      accepted_(metrics.counter("millrace_ingest_records_total", "Records received over HTTP.",
                                {{"outcome", "accepted"}})),
      rejected_(metrics.counter("millrace_ingest_records_total", "Records received over HTTP.",
                                {{"outcome", "rejected"}})),
      dead_lettered_(metrics.counter("millrace_ingest_records_total", "Records received over HTTP.",
                                     {{"outcome", "dead_letter"}})),
      bytes_(metrics.counter("millrace_ingest_bytes_total", "Request body bytes ingested.")) {}

namespace {

// A failed append or fsync: 500 with the log's message, remembered for /readyz.
HttpResponse write_failed(WriteHealth* health, const Error& error) {
    if (health != nullptr) health->failed(error.message());
    return json_error(500, error);
}

}  // namespace

void IngestHandler::add_routes(Router& router) {
    router.add(
        HttpMethod::kPost, "/v1/ingest/{topic}", "ingest",
        [this](HttpRequest& request, HttpResponder responder) {
            handle(request, std::move(responder));
        },
        "ingest");
}

void IngestHandler::handle(HttpRequest& request, HttpResponder responder) {
    const std::string& topic_name = request.param("topic");
    std::shared_ptr<Topic> topic = log_.find_topic(topic_name);
    if (!topic) return responder(json_error(404, "unknown topic `" + topic_name + "`"));
    if (topic->config().require_schema) {
        // Records here are plain JSON, never framed with a schema id.
        return responder(json_error(
            422, "topic `" + topic_name +
                     "` requires records in the schema registry's wire format (require_schema: "
                     "true); produce them over Kafka with a schema-registry serializer"));
    }
    if (!is_json_media_type(request.header("Content-Type"), true)) {
        return responder(
            json_error(415, "Content-Type must be application/json or application/x-ndjson, got `" +
                                std::string(request.header("Content-Type")) + "`"));
    }
    bytes_.increment(request.body.size());
    auto split = split_json_records(request.body);
    if (!split.ok()) return responder(json_error(400, split.error().message()));
    const std::vector<std::string_view>& raw_records = *split;
    if (raw_records.empty()) return responder(json_error(400, "the request has no records"));
    if (raw_records.size() > kMaxRecordsPerRequest) {
        return responder(json_error(
            413, "more than " + std::to_string(kMaxRecordsPerRequest) + " records in one request"));
    }

    const TopicConfig& config = topic->config();
    // Captured request data, as `"field":value,` text put in front of each object's fields.
    std::string capture_prefix;
    for (const auto& [field, source] : config.capture) {
        append_json_string(capture_prefix, field);
        capture_prefix += ':';
        std::string_view value;
        bool present = true;
        if (source == "remote_addr") {
            value = request.remote_address;
        } else {
            value = request.header(std::string_view(source).substr(7));
            present = !value.empty();
        }
        if (present) {
            append_json_string(capture_prefix, value);
        } else {
            capture_prefix += "null";
        }
        capture_prefix += ',';
    }

    thread_local simdjson::dom::parser parser;
    std::vector<std::string> captured;  // owns records with captured fields (never reallocated)
    if (!capture_prefix.empty()) captured.reserve(raw_records.size());
    std::vector<std::string> keys;  // key texts of non-string keys
    keys.reserve(raw_records.size());
    std::vector<RecordInput> good;
    good.reserve(raw_records.size());
    std::vector<RecordError> errors;
    const int64_t now_ms = clock_.now_micros() / 1000;
    JsonDecoder* decoder = config.schema.empty() ? nullptr : &decoder_for(config.schema);
    ErrorOnlySink sink;

    for (std::size_t index = 0; index < raw_records.size(); ++index) {
        std::string_view record = raw_records[index];
        simdjson::dom::element element;
        if (auto error = parser.parse(record.data(), record.size()).get(element); error) {
            errors.push_back(
                {index, std::string("invalid JSON: ") + simdjson::error_message(error)});
            continue;
        }
        simdjson::dom::object object;
        if (element.get_object().get(object) != simdjson::SUCCESS) {
            errors.push_back({index, "the record is not a JSON object"});
            continue;
        }
        if (!capture_prefix.empty()) {
            std::string& with = captured.emplace_back();
            with.reserve(record.size() + capture_prefix.size());
            with += '{';
            with += capture_prefix;
            std::string_view rest = record.substr(1);
            std::size_t first = rest.find_first_not_of(" \t\r\n");
            if (first != std::string_view::npos && rest[first] == '}') with.pop_back();  // {}
            with += rest;
            record = with;
        }
        if (decoder != nullptr) {
            auto ok = decoder->decode_record(record, index, 0, sink);
            if (!ok.ok() || !*ok) {
                errors.push_back({index, ok.ok() ? sink.last_reason : ok.error().message()});
                continue;
            }
        }
        RecordInput input{std::nullopt, record, now_ms};
        simdjson::dom::element key;
        if (object["key"].get(key) == simdjson::SUCCESS) {
            std::string_view text;
            if (key.get_string().get(text) == simdjson::SUCCESS) {
                // The view points into the parser's buffer: keep a copy.
                input.key = keys.emplace_back(text);
            } else if (!key.is_null()) {
                input.key = keys.emplace_back(simdjson::minify(key));
            }
        }
        good.push_back(input);
    }
    if (decoder != nullptr) (void)decoder->flush(sink);

    std::vector<PartitionAppend> appends;
    if (!good.empty()) {
        auto appended = topic->append(good);
        if (!appended.ok()) return responder(write_failed(health_, appended.error()));
        appends = std::move(appended).value();
    }
    accepted_.increment(good.size());

    std::shared_ptr<Topic> dlq;
    std::vector<PartitionAppend> dlq_appends;
    if (!errors.empty() && config.on_error == OnIngestError::kDeadLetter) {
        TopicConfig dlq_config;
        dlq_config.fsync = config.fsync;
        dlq_config.fsync_interval = config.fsync_interval;
        auto made = log_.ensure_topic(topic_name + "_dlq", dlq_config);
        if (!made.ok()) return responder(write_failed(health_, made.error()));
        dlq = std::move(made).value();
        std::vector<std::string> letters;
        letters.reserve(errors.size());
        std::vector<RecordInput> inputs;
        for (const RecordError& error : errors) {
            std::string& letter = letters.emplace_back("{\"topic\":");
            append_json_string(letter, topic_name);
            letter += ",\"index\":" + std::to_string(error.index) + ",\"reason\":";
            append_json_string(letter, error.reason);
            letter += ",\"raw\":";
            append_json_string(letter, raw_records[error.index]);
            letter += '}';
            inputs.push_back({std::nullopt, letter, now_ms});
        }
        auto appended = dlq->append(inputs);
        if (!appended.ok()) return responder(write_failed(health_, appended.error()));
        dlq_appends = std::move(appended).value();
        dead_lettered_.increment(errors.size());
    } else {
        rejected_.increment(errors.size());
    }

    std::string body = "{\"accepted\":" + std::to_string(good.size()) +
                       ",\"rejected\":" + std::to_string(errors.size()) +
                       ",\"dead_lettered\":" + std::to_string(dlq ? errors.size() : 0) +
                       ",\"partitions\":[";
    for (std::size_t i = 0; i < appends.size(); ++i) {
        if (i > 0) body += ',';
        body += "{\"partition\":" + std::to_string(appends[i].partition) +
                ",\"first\":" + std::to_string(appends[i].first) +
                ",\"last\":" + std::to_string(appends[i].last) + "}";
    }
    body += "],\"errors\":";
    append_record_errors(body, errors);
    int status = 200;
    if (good.empty() && !dlq) {
        status = 400;
        body += ",\"error\":\"no record of the request is valid\"";
    }
    body += "}\n";

    auto respond = [health = health_, responder = std::move(responder), status,
                    body = std::move(body)](Status durable) mutable {
        if (!durable.ok()) return responder(write_failed(health, durable.error()));
        if (health != nullptr) health->succeeded();
        HttpResponse response;
        response.status = status;
        response.body = std::move(body);
        responder(std::move(response));
    };
    if (dlq) {
        topic->when_durable(appends, [dlq, dlq_appends = std::move(dlq_appends),
                                      respond = std::move(respond)](Status status) mutable {
            if (!status.ok()) return respond(std::move(status));
            dlq->when_durable(dlq_appends, std::move(respond));
        });
    } else {
        topic->when_durable(appends, std::move(respond));
    }
}

}  // namespace millrace
