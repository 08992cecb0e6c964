#include "server/topic_handler.h"

#include <simdjson.h>

#include <charconv>

#include "common/json_string.h"
#include "log/log.h"
#include "log/partition.h"

namespace millrace {

namespace {

/// Reads an optional non-negative integer query parameter; false when present and invalid.
bool query_integer(const HttpRequest& request, std::string_view name, int64_t& value) {
    const std::string* text = request.query_param(name);
    if (text == nullptr) return true;
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, value);
    return ec == std::errc() && ptr == end && value >= 0;
}

}  // namespace

TopicHandler::TopicHandler(Log& log) : log_(log) {}

void TopicHandler::add_routes(Router& router) {
    router.add(
        HttpMethod::kGet, "/v1/topics", "topics_list",
        [this](HttpRequest&, HttpResponder respond) { respond(list()); }, "admin");
    router.add(
        HttpMethod::kPost, "/v1/topics", "topics_create",
        [this](HttpRequest& request, HttpResponder respond) { respond(create(request)); }, "admin");
    router.add(
        HttpMethod::kGet, "/v1/topics/{topic}", "topics_describe",
        [this](HttpRequest& request, HttpResponder respond) { respond(describe(request)); },
        "admin");
    router.add(
        HttpMethod::kDelete, "/v1/topics/{topic}", "topics_delete",
        [this](HttpRequest& request, HttpResponder respond) { respond(remove(request)); }, "admin");
    router.add(
        HttpMethod::kGet, "/v1/topics/{topic}/records", "topic_records",
        [this](HttpRequest& request, HttpResponder respond) { respond(records(request)); },
        "admin");
}

HttpResponse TopicHandler::list() const {
    std::string body = "{\"topics\":[";
    bool first = true;
    for (const std::string& name : log_.list_topics()) {
        auto topic = log_.find_topic(name);
        if (!topic) continue;
        if (!first) body += ',';
        first = false;
        body += topic->describe_json();
    }
    body += "]}";
    return json_response(std::move(body));
}

HttpResponse TopicHandler::create(const HttpRequest& request) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::string_view name;
    if (parser.parse(request.body).get(root) != simdjson::SUCCESS ||
        root["name"].get_string().get(name) != simdjson::SUCCESS) {
        return json_error(400, "the body must be a JSON object with a string `name`");
    }
    const std::string topic_name(name);
    auto config = topic_config_from_json(request.body);
    if (!config.ok()) return json_error_for(config.error());
    auto topic = log_.create_topic(topic_name, *config);
    if (!topic.ok()) return json_error_for(topic.error());
    return json_response((*topic)->describe_json(), 201);
}

HttpResponse TopicHandler::describe(const HttpRequest& request) const {
    auto topic = log_.find_topic(request.param("topic"));
    if (!topic) return json_error(404, "unknown topic `" + request.param("topic") + "`");
    return json_response(topic->describe_json(&log_.consumer_offsets()));
}

HttpResponse TopicHandler::remove(const HttpRequest& request) {
    const std::string& name = request.param("topic");
    if (Status status = log_.delete_topic(name); !status.ok())
        return json_error_for(status.error());
    std::string body = "{\"deleted\":";
    append_json_string(body, name);
    body += '}';
    return json_response(std::move(body));
}

HttpResponse TopicHandler::records(const HttpRequest& request) const {
    const std::string& name = request.param("topic");
    auto topic = log_.find_topic(name);
    if (!topic) return json_error(404, "unknown topic `" + name + "`");
    int64_t partition_id = 0;
    int64_t offset = -1;
    int64_t max = 100;
    if (!query_integer(request, "partition", partition_id) ||
        !query_integer(request, "offset", offset) || !query_integer(request, "max", max)) {
        return json_error(400, "partition, offset and max must be non-negative integers");
    }
    if (request.query_param("offset") == nullptr) offset = -1;
    if (partition_id >= topic->partition_count()) {
        return json_error(400, "topic `" + name + "` has " +
                                   std::to_string(topic->partition_count()) + " partitions");
    }
    max = std::min<int64_t>(std::max<int64_t>(max, 1), 10000);
    const auto& partition = topic->partition(static_cast<PartitionId>(partition_id));
    const Offset start = partition->start_offset();
    const Offset end = partition->end_offset();
    if (offset < start) offset = start;
    if (offset > end) {
        return json_error(400, "offset " + std::to_string(offset) + " is past the end offset " +
                                   std::to_string(end));
    }
    std::string buffer;
    std::vector<RecordView> views;
    auto next = partition->read(offset, end, static_cast<std::size_t>(max), std::size_t{16} << 20,
                                buffer, views);
    if (!next.ok()) return json_error_for(next.error());
    std::string body = "{\"topic\":";
    append_json_string(body, name);
    body += ",\"partition\":" + std::to_string(partition_id) +
            ",\"start_offset\":" + std::to_string(start) +
            ",\"end_offset\":" + std::to_string(end) + ",\"next_offset\":" + std::to_string(*next) +
            ",\"records\":[";
    simdjson::dom::parser parser;
    for (std::size_t i = 0; i < views.size(); ++i) {
        const RecordView& view = views[i];
        if (i > 0) body += ',';
        body += "{\"offset\":" + std::to_string(view.offset) +
                ",\"timestamp\":" + std::to_string(view.timestamp_ms) + ",\"key\":";
        if (view.key) {
            append_json_string(body, *view.key);
        } else {
            body += "null";
        }
        body += ",\"value\":";
        simdjson::dom::element element;
        if (parser.parse(view.value.data(), view.value.size()).get(element) == simdjson::SUCCESS) {
            body += view.value;
        } else {
            append_json_string(body, view.value);
        }
        body += '}';
    }
    body += "]}";
    return json_response(std::move(body));
}

void add_status_routes(Router& router, const MetricsRegistry& metrics) {
    router.add(HttpMethod::kGet, "/healthz", "healthz", [](HttpRequest&, HttpResponder respond) {
        respond(json_response("{\"status\":\"ok\"}"));
    });
    router.add(HttpMethod::kGet, "/metrics", "metrics",
               [&metrics](HttpRequest&, HttpResponder respond) {
                   HttpResponse response;
                   response.content_type = "text/plain; version=0.0.4";
                   response.body = metrics.render_prometheus();
                   respond(std::move(response));
               });
}

}  // namespace millrace
