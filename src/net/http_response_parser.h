#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace millrace {

/// An incremental HTTP/1.1 response parser for a client that sends one request at a time.
///
///   status line    HTTP/1.1 200 OK\r\n
///   headers        Name: value\r\n ... \r\n       (at most kMaxHeaderBytes, all at once)
///   body           Content-Length: n bytes | Transfer-Encoding: chunked | until the peer closes
///
///   chunked        <hex size>[;ext]\r\n <size bytes> \r\n ... 0\r\n [trailers\r\n] \r\n
///
/// Feed bytes with parse() as they arrive; it consumes what it can and returns how many bytes it
/// used (an incomplete header block or chunk-size line is left for the next call, so the caller
/// keeps unconsumed bytes and appends to them). 1xx interim responses are skipped. Bodies are kept
/// only when asked for (otherwise only counted). Responses to HEAD and 204/304 have no body.
/// Malformed input is a kParse error, never a crash. Not thread-safe; reusable via reset().
class HttpResponseParser {
public:
    static constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

    explicit HttpResponseParser(bool keep_body = false) : keep_body_(keep_body) {}

    /// Starts a new response; `head_request`: the request was a HEAD (no body follows).
    void reset(bool head_request = false);
    void set_keep_body(bool keep_body) { keep_body_ = keep_body; }

    /// Parses from the start of `input` (bytes not consumed by an earlier call first). Stops at
    /// the end of the response: bytes after it are not consumed.
    Result<std::size_t> parse(std::string_view input);
    /// The peer closed the connection: completes a read-until-close body, or a kParse error when
    /// the response is incomplete.
    Status finish_at_eof();

    bool done() const { return state_ == State::kDone; }
    /// True once the status line and headers have been read.
    bool headers_done() const { return state_ != State::kHeaders; }
    int status() const { return status_; }
    /// Whether the connection may carry another request after this response.
    bool keep_alive() const { return keep_alive_; }
    const std::string& body() const { return body_; }
    /// The headers of the (final) response, names as sent.
    const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
    uint64_t body_bytes() const { return body_bytes_; }

private:
    enum class State {
        kHeaders,
        kBody,
        kChunkSize,
        kChunkData,
        kChunkDataEnd,
        kTrailers,
        kUntilClose,
        kDone
    };

    Result<std::size_t> parse_headers(std::string_view input);
    void take_body(std::string_view bytes);

    bool keep_body_;
    bool head_request_ = false;
    State state_ = State::kHeaders;
    int status_ = 0;
    bool keep_alive_ = true;
    uint64_t remaining_ = 0;  // kBody, kChunkData
    std::string body_;
    std::vector<std::pair<std::string, std::string>> headers_;
    uint64_t body_bytes_ = 0;
};

}  // namespace millrace
