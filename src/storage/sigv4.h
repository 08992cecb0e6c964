#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace millrace {

/// Access keys for AWS Signature Version 4. `session_token` is empty for long-term keys; with
/// temporary credentials it goes out as `x-amz-security-token` (a signed header).
struct SigV4Credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;
};

/// One request to sign. `path` is the decoded path ("/bucket/a b.parquet"): the signer and the
/// sender both encode it with canonical_uri(), so what is signed is what is sent. `headers` are
/// every header the request carries that should be signed (Host and x-amz-date included);
/// `payload_sha256` is the hex SHA-256 of the body (or "UNSIGNED-PAYLOAD").
struct SigV4Request {
    std::string method;
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;  // decoded names and values
    std::vector<std::pair<std::string, std::string>> headers;
    std::string payload_sha256;
};

/// AWS Signature Version 4 (the "AWS4-HMAC-SHA256" scheme), as the AWS General Reference
/// describes it:
///
///   canonical request  METHOD \n canonical URI \n canonical query \n
///                      lowercase-name:trimmed value \n ... \n (sorted by name)
///                      \n signed header names joined by ';' \n payload hash
///   string to sign     AWS4-HMAC-SHA256 \n <amz date> \n <date>/<region>/<service>/aws4_request
///                      \n hex(SHA-256(canonical request))
///   signing key        HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
///                      "aws4_request")
///   signature          hex(HMAC(signing key, string to sign))
///
/// Stateless apart from the credentials; safe to share between threads.
class SigV4Signer {
public:
    SigV4Signer(SigV4Credentials credentials, std::string region, std::string service);

    std::string canonical_request(const SigV4Request& request) const;
    /// `amz_date` is the request's x-amz-date, "YYYYMMDDTHHMMSSZ".
    std::string string_to_sign(const SigV4Request& request, std::string_view amz_date) const;
    /// The hex signature of the request.
    std::string signature(const SigV4Request& request, std::string_view amz_date) const;
    /// The value of the Authorization header.
    std::string authorization(const SigV4Request& request, std::string_view amz_date) const;

    const SigV4Credentials& credentials() const { return credentials_; }

private:
    std::string signed_headers(const SigV4Request& request) const;

    SigV4Credentials credentials_;
    std::string region_;
    std::string service_;
};

/// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~) as
/// they are, everything else %XX in upper case; '/' kept when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);
/// The path as it is sent and signed (S3 encodes each segment once).
inline std::string canonical_uri(std::string_view path) { return uri_encode(path, true); }
/// The sorted, encoded query string ("a=1&b=").
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query);

/// Lowercase hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);
/// Raw (32-byte) HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);
/// Lowercase hex of raw bytes.
std::string hex_encode(std::string_view bytes);
/// Base64 of raw bytes (Content-MD5 and the like).
std::string base64_encode(std::string_view bytes);
/// "YYYYMMDDTHHMMSSZ" in UTC.
std::string amz_date(std::chrono::system_clock::time_point time);

}  // namespace millrace
