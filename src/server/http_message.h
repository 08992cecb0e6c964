#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace millrace {

enum class HttpMethod { kGet, kPost, kPut, kDelete, kHead, kOther };

std::string_view enum_name(HttpMethod method);

/// A parsed HTTP request as handlers see it: no Boost types, so handlers and their tests do not
/// include Beast. Built by the server for each request; handlers may move the body out.
struct HttpRequest {
    HttpMethod method = HttpMethod::kGet;
    std::string path;                                          // decoded, without the query
    std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
    std::vector<std::pair<std::string, std::string>> headers;  // names as sent
    std::vector<std::pair<std::string, std::string>> params;   // path parameters ({topic})
    std::string body;
    std::string remote_address;  // the peer's IP address
    /// When the server had read the request's headers (time in queues counts against request
    /// timeouts); the epoch when unknown (a request built by a test), then handlers use the
    /// time they start.
    std::chrono::steady_clock::time_point received{};

    /// The first header named `name` (case-insensitive), or "".
    std::string_view header(std::string_view name) const;
    /// The first query parameter `name`, or nullptr.
    const std::string* query_param(std::string_view name) const;
    /// The path parameter `name` (always present for a matched route).
    const std::string& param(std::string_view name) const;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    /// Extra response headers (ETag, Cache-Control, Retry-After, WWW-Authenticate), written as
    /// given after Server and Content-Type.
    std::vector<std::pair<std::string, std::string>> headers;

    /// The first extra header named `name` (case-insensitive), or "".
    std::string_view header(std::string_view name) const;
};

/// Sends the response of one request. Call exactly once, from any thread.
using HttpResponder = std::function<void(HttpResponse)>;

/// `{"error": message}` with the given status: the shape of every error response, built here
/// and nowhere else. The message appears once: an "error: " prefix (Error::to_string()'s) is
/// dropped, since the key says it already.
HttpResponse json_error(int status, std::string_view message);

/// True when a Content-Type value (parameters ignored, any case) names JSON records:
/// application/json, application/x-ndjson, application/ndjson, application/jsonl or
/// application/x-jsonlines, and application/json-seq too when `json_seq` (the log's ingestion
/// reads RFC 7464 sequences; feature upserts do not).
bool is_json_media_type(std::string_view content_type, bool json_seq = false);

/// A record of a request body that was refused: its 0-based index in the body and why.
struct RecordError {
    std::size_t index;
    std::string reason;
};

/// Appends `[{"index":i,"error":"why"},...]`, the per-record errors of the record routes
/// (ingestion, feature upserts).
void append_record_errors(std::string& out, const std::vector<RecordError>& errors);
/// `{"error": "<file:line:column: >message"}` for an Error (its location when it has one).
HttpResponse json_error(int status, const class Error& error);

/// A JSON body (a trailing newline is added) with the given status.
HttpResponse json_response(std::string body, int status = 200);

/// The response for an Error: kNotFound 404, kAlreadyExists 409, bad input (kInvalidArgument,
/// kParse, kConfig, kOutOfRange) 400, kUnavailable 503, anything else 500; body
/// `{"error": message}`.
HttpResponse json_error_for(const class Error& error);

/// Decodes %XX and '+' (query strings); invalid escapes are kept as they are.
std::string url_decode(std::string_view text, bool plus_is_space);

}  // namespace millrace
