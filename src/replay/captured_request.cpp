#include "replay/captured_request.h"

#include <simdjson.h>

namespace millrace {

namespace {

using simdjson::dom::element;

Error parse_error(std::string message) { return Error(ErrorCode::kParse, std::move(message)); }

bool valid_method(std::string_view method) {
    if (method.empty() || method.size() > 16) return false;
    for (char c : method) {
        if (c < 'A' || c > 'Z') return false;
    }
    return true;
}

bool valid_target(std::string_view target) {
    if (target.empty() || target.front() != '/') return false;
    for (unsigned char c : target) {
        if (c <= ' ' || c == 0x7f) return false;  // would break the request line
    }
    return true;
}

/// An optional string field: default when absent, an error when of another type.
Result<std::string> optional_string(element object, const char* name) {
    element value;
    if (object[name].get(value) != simdjson::SUCCESS || value.is_null()) return std::string();
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) {
        return parse_error(std::string("`") + name + "` must be a string");
    }
    return std::string(text);
}

Result<int64_t> optional_int(element object, const char* name, bool required) {
    element value;
    if (object[name].get(value) != simdjson::SUCCESS || value.is_null()) {
        if (required) return parse_error(std::string("`") + name + "` is missing");
        return int64_t{0};
    }
    int64_t number = 0;
    if (value.get_int64().get(number) != simdjson::SUCCESS) {
        return parse_error(std::string("`") + name + "` must be an integer");
    }
    return number;
}

Result<CapturedRequest> from_element(element value) {
    if (!value.is_object()) return parse_error("the value is not a JSON object");
    CapturedRequest request;
    MILLRACE_ASSIGN_OR_RETURN(request.ts_us, optional_int(value, "ts_us", false));
    MILLRACE_ASSIGN_OR_RETURN(request.method, optional_string(value, "method"));
    if (!valid_method(request.method)) {
        return parse_error("`method` must be an HTTP method such as GET (got `" +
                           request.method.substr(0, 16) + "`)");
    }
    MILLRACE_ASSIGN_OR_RETURN(request.target, optional_string(value, "target"));
    if (!valid_target(request.target)) {
        return parse_error("`target` must start with / and hold no spaces or control characters");
    }
    MILLRACE_ASSIGN_OR_RETURN(request.body, optional_string(value, "body"));
    MILLRACE_ASSIGN_OR_RETURN(int64_t status, optional_int(value, "status", true));
    if (status < 100 || status > 599) return parse_error("`status` must be in 100..599");
    request.status = static_cast<int>(status);
    MILLRACE_ASSIGN_OR_RETURN(request.response, optional_string(value, "response"));
    MILLRACE_ASSIGN_OR_RETURN(request.latency_us, optional_int(value, "latency_us", false));
    return request;
}

}  // namespace

Result<CapturedRequest> parse_captured_request(std::string_view json) {
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
        return parse_error("not valid JSON");
    }
    return from_element(root);
}

Result<TopicRecordsPage> parse_topic_records_page(std::string_view json) {
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS ||
        !root.is_object()) {
        return parse_error("the records page is not a JSON object");
    }
    TopicRecordsPage page;
    MILLRACE_ASSIGN_OR_RETURN(int64_t partition, optional_int(root, "partition", true));
    page.partition = static_cast<int>(partition);
    MILLRACE_ASSIGN_OR_RETURN(page.start_offset, optional_int(root, "start_offset", false));
    MILLRACE_ASSIGN_OR_RETURN(page.end_offset, optional_int(root, "end_offset", true));
    MILLRACE_ASSIGN_OR_RETURN(page.next_offset, optional_int(root, "next_offset", true));
    simdjson::dom::array records;
    if (root["records"].get_array().get(records) != simdjson::SUCCESS) {
        return parse_error("the records page has no `records` array");
    }
    for (element record : records) {
        CapturedRecord entry;
        entry.partition = page.partition;
        MILLRACE_ASSIGN_OR_RETURN(entry.offset, optional_int(record, "offset", true));
        element value;
        if (record["value"].get(value) != simdjson::SUCCESS) {
            entry.error = "the record has no value";
        } else {
            auto request = from_element(value);
            if (request.ok()) {
                entry.request = std::move(request).value();
            } else {
                entry.error = request.error().message();
            }
        }
        page.records.push_back(std::move(entry));
    }
    return page;
}

Result<std::vector<TopicPartitionRange>> parse_topic_description(std::string_view json) {
    simdjson::dom::parser parser;
    element root;
    simdjson::dom::array partitions;
    if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS ||
        root["partitions"].get_array().get(partitions) != simdjson::SUCCESS) {
        return parse_error("the topic description has no `partitions` array");
    }
    std::vector<TopicPartitionRange> ranges;
    for (element partition : partitions) {
        TopicPartitionRange range;
        MILLRACE_ASSIGN_OR_RETURN(int64_t id, optional_int(partition, "partition", true));
        range.partition = static_cast<int>(id);
        MILLRACE_ASSIGN_OR_RETURN(range.start_offset,
                                  optional_int(partition, "start_offset", false));
        MILLRACE_ASSIGN_OR_RETURN(range.end_offset, optional_int(partition, "end_offset", true));
        ranges.push_back(range);
    }
    return ranges;
}

}  // namespace millrace
