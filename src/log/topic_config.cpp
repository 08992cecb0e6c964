#include "log/topic_config.h"

#include <simdjson.h>

#include "common/json_string.h"
#include "types/schema.h"

namespace millrace {

std::string_view enum_name(FsyncPolicy policy) {
    switch (policy) {
        case FsyncPolicy::kAlways:
            return "always";
        case FsyncPolicy::kInterval:
            return "interval";
        case FsyncPolicy::kNever:
            return "never";
    }
    return "?";
}

std::string_view enum_name(OnIngestError action) {
    return action == OnIngestError::kReject ? "reject" : "dead_letter";
}

Status TopicConfig::validate() const {
    auto invalid = [](std::string message) {
        return Error(ErrorCode::kInvalidArgument, std::move(message));
    };
    if (partitions < 1 || partitions > 1024) return invalid("partitions must be 1..1024");
    if (fsync_interval.count() < 1 || fsync_interval.count() > 3'600'000) {
        return invalid("fsync interval must be 1ms..1h");
    }
    if (segment_bytes < 4096 || segment_bytes > (int64_t{1} << 30)) {
        return invalid("segment_bytes must be 4 KiB..1 GiB");
    }
    if (!schema.empty()) {
        auto parsed = parse_schema_spec(schema);
        if (!parsed.ok()) return invalid("schema: " + parsed.error().message());
    }
    for (const auto& [field, source] : capture) {
        if (field.empty()) return invalid("capture: empty field name");
        if (source != "remote_addr" && (!source.starts_with("header:") || source.size() == 7)) {
            return invalid("capture `" + field + "`: source must be remote_addr or header:<Name>");
        }
    }
    return {};
}

std::string topic_config_to_json(const TopicConfig& config) {
    std::string out = "{\"partitions\":" + std::to_string(config.partitions);
    out += ",\"fsync\":";
    append_json_string(out, enum_name(config.fsync));
    out += ",\"fsync_interval_ms\":" + std::to_string(config.fsync_interval.count());
    out += ",\"segment_bytes\":" + std::to_string(config.segment_bytes);
    out += ",\"retention_bytes\":" + std::to_string(config.retention_bytes);
    out += ",\"retention_ms\":" + std::to_string(config.retention_ms);
    out += ",\"schema\":";
    append_json_string(out, config.schema);
    out += ",\"on_error\":";
    append_json_string(out, enum_name(config.on_error));
    out += ",\"capture\":{";
    bool first = true;
    for (const auto& [field, source] : config.capture) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, field);
        out += ':';
        append_json_string(out, source);
    }
    out += "}";
    if (config.require_schema) out += ",\"require_schema\":true";
    out += "}";
    return out;
}

Result<TopicConfig> topic_config_from_json(std::string_view json) {
    auto parse_error = [](std::string message) {
        return Error(ErrorCode::kParse, "topic config: " + std::move(message));
    };
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS) return parse_error("not JSON");
    simdjson::dom::object object;
    if (root.get_object().get(object) != simdjson::SUCCESS) return parse_error("not an object");
    TopicConfig config;
    for (auto field : object) {
        const std::string_view key = field.key;
        auto integer = [&](int64_t& out) -> Status {
            int64_t value = 0;
            if (field.value.get_int64().get(value) != simdjson::SUCCESS) {
                return parse_error("`" + std::string(key) + "` must be an integer");
            }
            out = value;
            return {};
        };
        auto text = [&](std::string& out) -> Status {
            std::string_view value;
            if (field.value.get_string().get(value) != simdjson::SUCCESS) {
                return parse_error("`" + std::string(key) + "` must be a string");
            }
            out = std::string(value);
            return {};
        };
        if (key == "partitions") {
            int64_t value = 0;
            MILLRACE_TRY(integer(value));
            if (value < 1 || value > 1024) return parse_error("partitions must be 1..1024");
            config.partitions = static_cast<int32_t>(value);
        } else if (key == "fsync") {
            std::string value;
            MILLRACE_TRY(text(value));
            if (value == "always") {
                config.fsync = FsyncPolicy::kAlways;
            } else if (value == "interval") {
                config.fsync = FsyncPolicy::kInterval;
            } else if (value == "never") {
                config.fsync = FsyncPolicy::kNever;
            } else {
                return parse_error("fsync must be always, interval or never");
            }
        } else if (key == "fsync_interval_ms") {
            int64_t value = 0;
            MILLRACE_TRY(integer(value));
            config.fsync_interval = std::chrono::milliseconds(value);
        } else if (key == "segment_bytes") {
            MILLRACE_TRY(integer(config.segment_bytes));
        } else if (key == "retention_bytes") {
            MILLRACE_TRY(integer(config.retention_bytes));
        } else if (key == "retention_ms") {
            MILLRACE_TRY(integer(config.retention_ms));
        } else if (key == "schema") {
            MILLRACE_TRY(text(config.schema));
        } else if (key == "on_error") {
            std::string value;
            MILLRACE_TRY(text(value));
            if (value == "reject") {
                config.on_error = OnIngestError::kReject;
            } else if (value == "dead_letter") {
                config.on_error = OnIngestError::kDeadLetter;
            } else {
                return parse_error("on_error must be reject or dead_letter");
            }
        } else if (key == "capture") {
            simdjson::dom::object captures;
            if (field.value.get_object().get(captures) != simdjson::SUCCESS) {
                return parse_error("capture must be an object {field: source}");
            }
            for (auto capture : captures) {
                std::string_view source;
                if (capture.value.get_string().get(source) != simdjson::SUCCESS) {
                    return parse_error("capture sources must be strings");
                }
                config.capture.emplace_back(std::string(capture.key), std::string(source));
            }
        } else if (key == "require_schema") {
            if (field.value.get_bool().get(config.require_schema) != simdjson::SUCCESS) {
                return parse_error("require_schema must be true or false");
            }
        } else if (key != "name") {
            return parse_error("unknown key `" + std::string(key) + "`");
        }
    }
    if (auto status = config.validate(); !status.ok()) {
        return parse_error(std::move(status).error().message());
    }
    return config;
}

bool is_valid_topic_name(std::string_view name) {
    if (name.empty() || name.size() > 200 || name[0] == '.' || name[0] == '_') return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) return false;
    }
    return true;
}

}  // namespace millrace
