#include "server/http_message.h"

#include <strings.h>

#include <cctype>

#include "common/check.h"
#include "common/error.h"
#include "common/json_string.h"

namespace millrace {

std::string_view enum_name(HttpMethod method) {
    switch (method) {
        case HttpMethod::kGet:
            return "GET";
        case HttpMethod::kPost:
            return "POST";
        case HttpMethod::kPut:
            return "PUT";
        case HttpMethod::kDelete:
            return "DELETE";
        case HttpMethod::kHead:
            return "HEAD";
        case HttpMethod::kOther:
            return "OTHER";
    }
    return "OTHER";
}

std::string_view HttpRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) {
            return value;
        }
    }
    return {};
}

std::string_view HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) {
            return value;
        }
    }
    return {};
}

const std::string* HttpRequest::query_param(std::string_view name) const {
    for (const auto& [key, value] : query) {
        if (key == name) return &value;
    }
    return nullptr;
}

const std::string& HttpRequest::param(std::string_view name) const {
    for (const auto& [key, value] : params) {
        if (key == name) return value;
    }
    MILLRACE_CHECK(false, "no path parameter " + std::string(name));
    return params.front().second;
}

namespace {

// The message without the "error: " of Error::to_string() ("error: x" and "file:1:2: error: x"
// become "x" and "file:1:2: x"): the body's key already says it is an error, and a message
// that passed through to_string() somewhere upstream must not say it twice.
std::string_view strip_error_prefix(std::string_view message, std::string& scratch) {
    constexpr std::string_view kPrefix = "error: ";
    if (message.starts_with(kPrefix)) return message.substr(kPrefix.size());
    const std::size_t at = message.find(": error: ");
    if (at == std::string_view::npos) return message;
    // Only after a location (no spaces before it), not inside a sentence.
    if (message.substr(0, at).find(' ') != std::string_view::npos) return message;
    scratch.assign(message.substr(0, at + 2));
    scratch.append(message.substr(at + 2 + kPrefix.size()));
    return scratch;
}

}  // namespace

bool is_json_media_type(std::string_view content_type, bool json_seq) {
    std::string_view media = content_type.substr(0, content_type.find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    std::string lower(media);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == "application/json" || lower == "application/x-ndjson" ||
           lower == "application/ndjson" || lower == "application/jsonl" ||
           lower == "application/x-jsonlines" || (json_seq && lower == "application/json-seq");
}

void append_record_errors(std::string& out, const std::vector<RecordError>& errors) {
    out += '[';
    for (std::size_t i = 0; i < errors.size(); ++i) {
        if (i > 0) out += ',';
        out += "{\"index\":" + std::to_string(errors[i].index) + ",\"error\":";
        append_json_string(out, errors[i].reason);
        out += '}';
    }
    out += ']';
}

HttpResponse json_error(int status, std::string_view message) {
    HttpResponse response;
    response.status = status;
    response.body = "{\"error\":";
    std::string scratch;
    append_json_string(response.body, strip_error_prefix(message, scratch));
    response.body += "}\n";
    return response;
}

HttpResponse json_error(int status, const Error& error) {
    if (!error.location().known()) return json_error(status, error.message());
    return json_error(status, error.location().to_string() + ": " + error.message());
}

std::string url_decode(std::string_view text, bool plus_is_space) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

HttpResponse json_response(std::string body, int status) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    response.body += '\n';
    return response;
}

HttpResponse json_error_for(const Error& error) {
    switch (error.code()) {
        case ErrorCode::kNotFound:
            return json_error(404, error);
        case ErrorCode::kAlreadyExists:
            return json_error(409, error);
        case ErrorCode::kInvalidArgument:
        case ErrorCode::kParse:
        case ErrorCode::kConfig:
        case ErrorCode::kOutOfRange:
            return json_error(400, error);
        case ErrorCode::kUnavailable:
            return json_error(503, error);
        default:
            return json_error(500, error);
    }
}

}  // namespace millrace
