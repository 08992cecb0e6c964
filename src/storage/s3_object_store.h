#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "net/http_client.h"
#include "net/http_url.h"
#include "storage/object_store.h"
#include "storage/sigv4.h"

namespace millrace {

/// Where an S3 store is and how it talks to it.
struct S3Options {
    HttpUrl endpoint;    // http://host:port (path-style: /<bucket>/<key>)
    std::string bucket;  // from s3://<bucket>/<prefix>
    std::string prefix;  // "" or without leading and trailing '/'
    std::string region = "us-east-1";
    SigV4Credentials credentials;
    /// Files above this size are uploaded in parts of this size (S3's minimum part is 5 MiB).
    uint64_t part_bytes = 8ull << 20;
    /// Attempts per request on connection errors and 5xx answers, with exponential back-off
    /// from `first_backoff`, capped at `max_backoff`, each wait drawn at random in [half, whole]
    /// (jitter, so that clients that failed together do not retry together).
    int max_attempts = 8;
    std::chrono::milliseconds first_backoff{100};
    std::chrono::milliseconds max_backoff{4000};
    std::chrono::milliseconds timeout{30000};
};

/// Objects in an S3-compatible service, over plain HTTP/1.1 (net/http_client.h, one kept-alive
/// connection), every request signed with AWS Signature Version 4 (sigv4.h) and carrying
/// x-amz-content-sha256. Keys are under `s3://bucket/prefix/`.
///
///   put        PUT /bucket/prefix/key                       (one request, atomic by S3)
///   put_file   POST ?uploads → PUT ?partNumber=N&uploadId=… ×N → POST ?uploadId=… (complete);
///              on any failure DELETE ?uploadId=… (abort), so no parts linger
///   get        GET (Range: bytes=a-b for get_range; get_file reads in part-sized ranges)
///   list       GET /bucket?list-type=2&prefix=…&continuation-token=…
///   head       HEAD; remove: DELETE
///
/// Failures: connection errors and 5xx answers are retried (S3Options); an S3 XML error body
/// (<Error><Code>…</Code><Message>…</Message></Error>) becomes the Error's message, 404 is
/// kNotFound, 403 kConfig (credentials), other 4xx kIo. Thread-safe (requests are serialized).
class S3ObjectStore final : public ObjectStore {
public:
    explicit S3ObjectStore(S3Options options);

    std::string url(std::string_view key) const override;
    Status put(std::string_view key, std::string_view bytes) override;
    Status put_file(std::string_view key, const std::string& path) override;
    Result<std::string> get(std::string_view key) override;
    Result<std::string> get_range(std::string_view key, uint64_t offset, uint64_t length) override;
    Status get_file(std::string_view key, const std::string& path) override;
    Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
    Status remove(std::string_view key) override;
    Result<std::optional<ObjectInfo>> head(std::string_view key) override;

    /// Requests sent (retries included), for tests and metrics.
    uint64_t requests_sent() const;

private:
    using Query = std::vector<std::pair<std::string, std::string>>;
    /// Signs and sends one request, retrying connection errors and 5xx; any other complete
    /// answer is returned as it is.
    Result<HttpReply> send(std::string_view method, const std::string& path, const Query& query,
                           std::vector<std::pair<std::string, std::string>> headers,
                           std::string_view body);
    std::string object_path(std::string_view key) const;
    Status upload_in_parts(std::string_view key, const std::string& path, uint64_t size);

    S3Options options_;
    SigV4Signer signer_;
    mutable std::mutex mutex_;
    std::unique_ptr<HttpClient> client_;
    uint64_t requests_ = 0;
};

/// The (offset, length) of each part of a `size`-byte upload in parts of `part_bytes`.
std::vector<std::pair<uint64_t, uint64_t>> multipart_ranges(uint64_t size, uint64_t part_bytes);
/// The CompleteMultipartUpload request body for parts 1..N with these ETags.
std::string complete_multipart_body(const std::vector<std::string>& etags);
/// The text of every <tag>…</tag> element of `xml`, entities decoded.
std::vector<std::string> xml_values(std::string_view xml, std::string_view tag);
/// The Error for an S3 error answer: its XML <Code> and <Message> (or the status alone).
Error s3_error(std::string_view what, int status, std::string_view body);

}  // namespace millrace
