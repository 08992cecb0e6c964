#include "net/http_response_parser.h"

#include <algorithm>
#include <charconv>

namespace millrace {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20);
           });
}

bool icontains_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

Error parse_error(std::string message) {
    return Error(ErrorCode::kParse, "bad HTTP response: " + std::move(message));
}

}  // namespace

void HttpResponseParser::reset(bool head_request) {
    head_request_ = head_request;
    state_ = State::kHeaders;
    status_ = 0;
    keep_alive_ = true;
    remaining_ = 0;
    body_.clear();
    headers_.clear();
    body_bytes_ = 0;
}

void HttpResponseParser::take_body(std::string_view bytes) {
    body_bytes_ += bytes.size();
    if (keep_body_) body_.append(bytes);
}

Result<std::size_t> HttpResponseParser::parse_headers(std::string_view input) {
    const std::size_t end = input.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (input.size() > kMaxHeaderBytes) return parse_error("headers over 64 KiB");
        return std::size_t{0};
    }
    if (end + 4 > kMaxHeaderBytes) return parse_error("headers over 64 KiB");
    std::string_view block = input.substr(0, end + 2);  // every line ends with \r\n
    const std::size_t line_end = block.find("\r\n");
    std::string_view status_line = block.substr(0, line_end);
    block.remove_prefix(line_end + 2);
    // "HTTP/1.1 200 OK"
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') {
        return parse_error("status line `" + std::string(status_line.substr(0, 64)) + "`");
    }
    const bool http10 = status_line[7] == '0';
    int status = 0;
    auto [ptr, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
    if (ec != std::errc() || ptr != status_line.data() + 12 || status < 100 || status > 999 ||
        (status_line.size() > 12 && status_line[12] != ' ')) {
        return parse_error("status code in `" + std::string(status_line.substr(0, 64)) + "`");
    }
    bool keep_alive = !http10;
    headers_.clear();
    bool chunked = false;
    bool has_length = false;
    uint64_t length = 0;
    while (!block.empty()) {
        const std::size_t eol = block.find("\r\n");
        std::string_view line = block.substr(0, eol);
        block.remove_prefix(eol + 2);
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            return parse_error("header line `" + std::string(line.substr(0, 64)) + "`");
        }
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        headers_.emplace_back(std::string(name), std::string(value));
        if (iequals(name, "content-length")) {
            uint64_t parsed = 0;
            auto [p, e] = std::from_chars(value.data(), value.data() + value.size(), parsed);
            if (e != std::errc() || p != value.data() + value.size() ||
                (has_length && parsed != length)) {
                return parse_error("Content-Length `" + std::string(value.substr(0, 32)) + "`");
            }
            has_length = true;
            length = parsed;
        } else if (iequals(name, "transfer-encoding")) {
            chunked = icontains_token(value, "chunked");
        } else if (iequals(name, "connection")) {
            if (icontains_token(value, "close")) keep_alive = false;
            if (icontains_token(value, "keep-alive")) keep_alive = true;
        }
    }
    status_ = status;
    keep_alive_ = keep_alive;
    if (status < 200 && status != 101) {  // interim response: the real one follows
        status_ = 0;
        return end + 4;
    }
    if (head_request_ || status == 204 || status == 304) {
        state_ = State::kDone;
    } else if (chunked) {
        state_ = State::kChunkSize;
    } else if (has_length) {
        remaining_ = length;
        state_ = length == 0 ? State::kDone : State::kBody;
    } else {
        state_ = State::kUntilClose;
        keep_alive_ = false;
    }
    return end + 4;
}

Result<std::size_t> HttpResponseParser::parse(std::string_view input) {
    std::size_t used = 0;
    while (used < input.size() || state_ == State::kDone) {
        std::string_view rest = input.substr(used);
        switch (state_) {
            case State::kDone:
                return used;
            case State::kHeaders: {
                MILLRACE_ASSIGN_OR_RETURN(std::size_t n, parse_headers(rest));
                if (n == 0) return used;
                used += n;
                break;
            }
            case State::kBody:
            case State::kChunkData: {
                const auto n =
                    static_cast<std::size_t>(std::min<uint64_t>(remaining_, rest.size()));
                take_body(rest.substr(0, n));
                used += n;
                remaining_ -= n;
                if (remaining_ == 0) {
                    state_ = state_ == State::kBody ? State::kDone : State::kChunkDataEnd;
                }
                break;
            }
            case State::kChunkDataEnd: {
                if (rest.size() < 2) return used;
                if (rest[0] != '\r' || rest[1] != '\n')
                    return parse_error("chunk not ended by CRLF");
                used += 2;
                state_ = State::kChunkSize;
                break;
            }
            case State::kChunkSize: {
                const std::size_t eol = rest.find("\r\n");
                if (eol == std::string_view::npos) {
                    if (rest.size() > 1024) return parse_error("chunk-size line over 1 KiB");
                    return used;
                }
                std::string_view line = rest.substr(0, eol);
                line = trim(line.substr(0, line.find(';')));
                uint64_t size = 0;
                auto [p, e] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
                if (line.empty() || e != std::errc() || p != line.data() + line.size()) {
                    return parse_error("chunk size `" + std::string(line.substr(0, 32)) + "`");
                }
                used += eol + 2;
                remaining_ = size;
                state_ = size == 0 ? State::kTrailers : State::kChunkData;
                break;
            }
            case State::kTrailers: {
                const std::size_t eol = rest.find("\r\n");
                if (eol == std::string_view::npos) {
                    if (rest.size() > kMaxHeaderBytes) return parse_error("trailers over 64 KiB");
                    return used;
                }
                used += eol + 2;
                if (eol == 0) state_ = State::kDone;
                break;
            }
            case State::kUntilClose:
                take_body(rest);
                used += rest.size();
                break;
        }
    }
    return used;
}

Status HttpResponseParser::finish_at_eof() {
    if (state_ == State::kDone) return {};
    if (state_ == State::kUntilClose) {
        state_ = State::kDone;
        return {};
    }
    if (state_ == State::kHeaders && status_ == 0) {
        return parse_error("the connection closed before a response");
    }
    return parse_error("the connection closed in the middle of a response");
}

}  // namespace millrace
