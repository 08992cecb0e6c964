#include "storage/s3_object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <random>
#include <thread>

#include "common/durable_file.h"

namespace millrace {

namespace {

constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string decode_entities(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '&') {
            out.push_back(text[i]);
            continue;
        }
        const std::size_t end = text.find(';', i);
        if (end == std::string_view::npos) {
            out.push_back('&');
            continue;
        }
        const std::string_view entity = text.substr(i + 1, end - i - 1);
        if (entity == "amp") {
            out.push_back('&');
        } else if (entity == "lt") {
            out.push_back('<');
        } else if (entity == "gt") {
            out.push_back('>');
        } else if (entity == "quot") {
            out.push_back('"');
        } else if (entity == "apos") {
            out.push_back('\'');
        } else if (!entity.empty() && entity[0] == '#') {
            const bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
            const long code = std::strtol(std::string(entity.substr(hex ? 2 : 1)).c_str(), nullptr,
                                          hex ? 16 : 10);
            if (code > 0 && code < 128) {
                out.push_back(static_cast<char>(code));
            } else {
                out.append(text.substr(i, end - i + 1));
            }
        } else {
            out.append(text.substr(i, end - i + 1));
        }
        i = end;
    }
    return out;
}

int64_t parse_iso8601_ms(std::string_view text) {
    std::tm tm{};
    const std::string copy(text);
    if (strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return 0;
    return static_cast<int64_t>(timegm(&tm)) * 1000;
}

int64_t parse_http_date_ms(const std::string& text) {
    std::tm tm{};
    if (strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) return 0;
    return static_cast<int64_t>(timegm(&tm)) * 1000;
}

bool retryable(int status) { return status >= 500 || status == 429; }

Result<std::string> read_file_range(const std::string& path, uint64_t offset, uint64_t length) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open " + path);
    std::string out(length, '\0');
    std::size_t done = 0;
    while (done < length) {
        const ssize_t n =
            ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            Error error = n < 0 ? io_error("cannot read " + path)
                                : Error(ErrorCode::kIo, path + ": shorter than expected");
            ::close(fd);
            return error;
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return out;
}

}  // namespace

std::vector<std::pair<uint64_t, uint64_t>> multipart_ranges(uint64_t size, uint64_t part_bytes) {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    if (part_bytes == 0) part_bytes = 1;
    for (uint64_t offset = 0; offset < size; offset += part_bytes) {
        out.emplace_back(offset, std::min(part_bytes, size - offset));
    }
    if (out.empty()) out.emplace_back(0, 0);
    return out;
}

std::string complete_multipart_body(const std::vector<std::string>& etags) {
    std::string out = "<CompleteMultipartUpload>";
    for (std::size_t i = 0; i < etags.size(); ++i) {
        out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] +
               "</ETag></Part>";
    }
    return out + "</CompleteMultipartUpload>";
}

std::vector<std::string> xml_values(std::string_view xml, std::string_view tag) {
    std::vector<std::string> out;
    const std::string open = "<" + std::string(tag) + ">";
    const std::string close = "</" + std::string(tag) + ">";
    std::size_t at = 0;
    while ((at = xml.find(open, at)) != std::string_view::npos) {
        const std::size_t start = at + open.size();
        const std::size_t end = xml.find(close, start);
        if (end == std::string_view::npos) break;
        out.push_back(decode_entities(xml.substr(start, end - start)));
        at = end + close.size();
    }
    return out;
}

Error s3_error(std::string_view what, int status, std::string_view body) {
    const auto codes = xml_values(body, "Code");
    const auto messages = xml_values(body, "Message");
    std::string message = std::string(what) + ": HTTP " + std::to_string(status);
    if (!codes.empty()) message += " " + codes.front();
    if (!messages.empty()) message += ": " + messages.front();
    ErrorCode code = ErrorCode::kIo;
    if (status == 404) code = ErrorCode::kNotFound;
    if (status == 403 || status == 401) code = ErrorCode::kConfig;
    if (retryable(status)) code = ErrorCode::kUnavailable;
    return Error(code, message);
}

S3ObjectStore::S3ObjectStore(S3Options options)
    : options_(std::move(options)),
      signer_(options_.credentials, options_.region, "s3"),
      client_(std::make_unique<HttpClient>(options_.endpoint, options_.timeout,
                                           std::vector<std::string>{}, false)) {}

std::string S3ObjectStore::url(std::string_view key) const {
    return "s3://" + options_.bucket + "/" +
           (options_.prefix.empty() ? "" : options_.prefix + "/") + std::string(key);
}

std::string S3ObjectStore::object_path(std::string_view key) const {
    return "/" + options_.bucket + "/" + (options_.prefix.empty() ? "" : options_.prefix + "/") +
           std::string(key);
}

uint64_t S3ObjectStore::requests_sent() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

Result<HttpReply> S3ObjectStore::send(std::string_view method, const std::string& path,
                                      const Query& query,
                                      std::vector<std::pair<std::string, std::string>> headers,
                                      std::string_view body) {
    const std::string payload = body.empty() ? kEmptySha256 : sha256_hex(body);
    std::string target = options_.endpoint.path_prefix + canonical_uri(path);
    const std::string query_text = canonical_query(query);
    if (!query_text.empty()) target += "?" + query_text;
    std::mt19937_64 random(std::random_device{}());
    std::lock_guard lock(mutex_);
    for (int attempt = 1;; ++attempt) {
        SigV4Request request;
        request.method = std::string(method);
        request.path = options_.endpoint.path_prefix + path;
        request.query = query;
        request.payload_sha256 = payload;
        const std::string date = amz_date(std::chrono::system_clock::now());
        request.headers = headers;
        request.headers.emplace_back("Host", options_.endpoint.authority());
        request.headers.emplace_back("x-amz-date", date);
        request.headers.emplace_back("x-amz-content-sha256", payload);
        if (!options_.credentials.session_token.empty()) {
            request.headers.emplace_back("x-amz-security-token",
                                         options_.credentials.session_token);
        }
        std::vector<std::string> lines;
        for (const auto& [name, value] : request.headers) {
            if (name != "Host") lines.push_back(name + ": " + value);
        }
        lines.push_back("Authorization: " + signer_.authorization(request, date));
        ++requests_;
        // The target is sent exactly as signed: HttpClient adds only the endpoint's path prefix,
        // which `target` holds already, so it is given without it.
        auto reply = client_->request_with_headers(
            method, target.substr(options_.endpoint.path_prefix.size()), lines, body);
        const bool again = reply.ok() ? retryable(reply->status)
                                      : reply.error().code() == ErrorCode::kUnavailable ||
                                            reply.error().code() == ErrorCode::kIo ||
                                            reply.error().code() == ErrorCode::kParse;
        if (!again || attempt >= options_.max_attempts) {
            if (!reply.ok()) {
                return Error(reply.error().code() == ErrorCode::kParse ? ErrorCode::kIo
                                                                       : ErrorCode::kUnavailable,
                             "S3 " + std::string(method) + " " + path + " failed after " +
                                 std::to_string(attempt) + " attempts: " + reply.error().message());
            }
            return reply;
        }
        auto wait = options_.first_backoff * (1LL << std::min(attempt - 1, 20));
        wait = std::min<std::chrono::milliseconds>(wait, options_.max_backoff);
        const auto half = wait.count() / 2;
        std::this_thread::sleep_for(std::chrono::milliseconds(
            half + static_cast<int64_t>(random() % static_cast<uint64_t>(half + 1))));
    }
}

Status S3ObjectStore::put(std::string_view key, std::string_view bytes) {
    const std::string path = object_path(key);
    MILLRACE_ASSIGN_OR_RETURN(HttpReply reply, send("PUT", path, {}, {}, bytes));
    if (reply.status != 200) return s3_error("S3 PUT " + url(key), reply.status, reply.body);
    return {};
}

Status S3ObjectStore::put_file(std::string_view key, const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return io_error("cannot read " + path);
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size > options_.part_bytes) return upload_in_parts(key, path, size);
    MILLRACE_ASSIGN_OR_RETURN(std::string bytes, read_file_range(path, 0, size));
    return put(key, bytes);
}

Status S3ObjectStore::upload_in_parts(std::string_view key, const std::string& path,
                                      uint64_t size) {
    const std::string object = object_path(key);
    const std::string what = "S3 multipart upload of " + url(key);
    MILLRACE_ASSIGN_OR_RETURN(HttpReply started, send("POST", object, {{"uploads", ""}}, {}, {}));
    if (started.status != 200) return s3_error(what, started.status, started.body);
    const auto ids = xml_values(started.body, "UploadId");
    if (ids.empty() || ids.front().empty()) {
        return Error(ErrorCode::kIo, what + ": the answer to initiate names no UploadId");
    }
    const std::string upload_id = ids.front();
    auto upload = [&]() -> Status {
        std::vector<std::string> etags;
        const auto ranges = multipart_ranges(size, options_.part_bytes);
        for (std::size_t i = 0; i < ranges.size(); ++i) {
            MILLRACE_ASSIGN_OR_RETURN(std::string bytes,
                                      read_file_range(path, ranges[i].first, ranges[i].second));
            MILLRACE_ASSIGN_OR_RETURN(
                HttpReply part,
                send("PUT", object,
                     {{"partNumber", std::to_string(i + 1)}, {"uploadId", upload_id}}, {}, bytes));
            if (part.status != 200) {
                return s3_error(what + " (part " + std::to_string(i + 1) + ")", part.status,
                                part.body);
            }
            std::string etag = part.header("ETag");
            if (etag.empty()) {
                return Error(ErrorCode::kIo, what + ": part " + std::to_string(i + 1) +
                                                 " was stored without an ETag");
            }
            etags.push_back(std::move(etag));
        }
        MILLRACE_ASSIGN_OR_RETURN(HttpReply done, send("POST", object, {{"uploadId", upload_id}},
                                                       {}, complete_multipart_body(etags)));
        // S3 may answer 200 and still fail the completion: the body is then an <Error>.
        if (done.status != 200 || done.body.find("<Error>") != std::string::npos) {
            return s3_error(what + " (complete)", done.status == 200 ? 500 : done.status,
                            done.body);
        }
        return {};
    };
    Status uploaded = upload();
    if (!uploaded.ok()) {
        // Parts of an upload that is neither completed nor aborted are kept (and billed) by S3.
        (void)send("DELETE", object, {{"uploadId", upload_id}}, {}, {});
    }
    return uploaded;
}

Result<std::string> S3ObjectStore::get(std::string_view key) {
    MILLRACE_ASSIGN_OR_RETURN(HttpReply reply, send("GET", object_path(key), {}, {}, {}));
    if (reply.status != 200) return s3_error("S3 GET " + url(key), reply.status, reply.body);
    return std::move(reply.body);
}

Result<std::string> S3ObjectStore::get_range(std::string_view key, uint64_t offset,
                                             uint64_t length) {
    if (length == 0) return std::string();
    MILLRACE_ASSIGN_OR_RETURN(HttpReply reply,
                              send("GET", object_path(key), {},
                                   {{"Range", "bytes=" + std::to_string(offset) + "-" +
                                                  std::to_string(offset + length - 1)}},
                                   {}));
    if (reply.status == 416) return std::string();  // the range starts past the end
    if (reply.status == 200) {
        // A server that ignores Range sends the whole object.
        return reply.body.size() <= offset ? std::string() : reply.body.substr(offset, length);
    }
    if (reply.status != 206) {
        return s3_error("S3 GET " + url(key) + " (range)", reply.status, reply.body);
    }
    return std::move(reply.body);
}

Status S3ObjectStore::get_file(std::string_view key, const std::string& path) {
    MILLRACE_ASSIGN_OR_RETURN(std::optional<ObjectInfo> info, head(key));
    if (!info) return Error(ErrorCode::kNotFound, "S3 GET " + url(key) + ": no such object");
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("cannot create " + path);
    Status status;
    for (const auto& [offset, length] : multipart_ranges(info->size, options_.part_bytes)) {
        auto bytes = get_range(key, offset, length);
        if (!bytes.ok()) {
            status = std::move(bytes).error();
            break;
        }
        if (bytes->size() != length) {
            status = Error(ErrorCode::kIo, "S3 GET " + url(key) + ": the object changed size");
            break;
        }
        std::size_t done = 0;
        while (done < bytes->size()) {
            const ssize_t n = ::write(fd, bytes->data() + done, bytes->size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                status = io_error("cannot write " + path);
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        if (!status.ok()) break;
    }
    ::close(fd);
    if (!status.ok()) ::unlink(path.c_str());
    return status;
}

Result<std::vector<ObjectInfo>> S3ObjectStore::list(std::string_view prefix) {
    std::vector<ObjectInfo> out;
    const std::string root = options_.prefix.empty() ? "" : options_.prefix + "/";
    std::string token;
    for (int page = 0; page < 100000; ++page) {
        Query query = {{"list-type", "2"}, {"prefix", root + std::string(prefix)}};
        if (!token.empty()) query.emplace_back("continuation-token", token);
        MILLRACE_ASSIGN_OR_RETURN(HttpReply reply,
                                  send("GET", "/" + options_.bucket, query, {}, {}));
        if (reply.status != 200) {
            return s3_error("S3 list " + url(prefix), reply.status, reply.body);
        }
        for (const std::string& contents : xml_values(reply.body, "Contents")) {
            const auto keys = xml_values(contents, "Key");
            if (keys.empty() || keys.front().compare(0, root.size(), root) != 0) continue;
            ObjectInfo info;
            info.key = keys.front().substr(root.size());
            const auto sizes = xml_values(contents, "Size");
            if (!sizes.empty()) info.size = std::strtoull(sizes.front().c_str(), nullptr, 10);
            const auto modified = xml_values(contents, "LastModified");
            if (!modified.empty()) info.modified_ms = parse_iso8601_ms(modified.front());
            out.push_back(std::move(info));
        }
        const auto truncated = xml_values(reply.body, "IsTruncated");
        const auto next = xml_values(reply.body, "NextContinuationToken");
        if (truncated.empty() || truncated.front() != "true" || next.empty()) break;
        token = next.front();
    }
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
}

Status S3ObjectStore::remove(std::string_view key) {
    MILLRACE_ASSIGN_OR_RETURN(HttpReply reply, send("DELETE", object_path(key), {}, {}, {}));
    if (reply.status != 204 && reply.status != 200 && reply.status != 404) {
        return s3_error("S3 DELETE " + url(key), reply.status, reply.body);
    }
    return {};
}

Result<std::optional<ObjectInfo>> S3ObjectStore::head(std::string_view key) {
    MILLRACE_ASSIGN_OR_RETURN(HttpReply reply, send("HEAD", object_path(key), {}, {}, {}));
    if (reply.status == 404) return std::optional<ObjectInfo>();
    if (reply.status != 200) return s3_error("S3 HEAD " + url(key), reply.status, reply.body);
    ObjectInfo info;
    info.key = std::string(key);
    info.size = std::strtoull(reply.header("Content-Length").c_str(), nullptr, 10);
    info.modified_ms = parse_http_date_ms(reply.header("Last-Modified"));
    return std::optional<ObjectInfo>(std::move(info));
}

}  // namespace millrace
