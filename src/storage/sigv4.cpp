#include "storage/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace millrace {

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Leading and trailing blanks dropped, inner runs of blanks made one space (SigV4 "Trimall").
std::string trim_all(std::string_view value) {
    std::string out;
    bool blank = false;
    for (char c : value) {
        if (c == ' ' || c == '\t') {
            blank = !out.empty();
            continue;
        }
        if (blank) out.push_back(' ');
        blank = false;
        out.push_back(c);
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> sorted_headers(const SigV4Request& request) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [name, value] : request.headers) {
        headers.emplace_back(lowercase(name), trim_all(value));
    }
    std::stable_sort(headers.begin(), headers.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    // Repeated headers are one line, their values joined by commas.
    std::vector<std::pair<std::string, std::string>> merged;
    for (auto& header : headers) {
        if (!merged.empty() && merged.back().first == header.first) {
            merged.back().second += "," + header.second;
        } else {
            merged.push_back(std::move(header));
        }
    }
    return merged;
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' ||
            (c == '/' && keep_slash)) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        }
    }
    return out;
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
    std::vector<std::pair<std::string, std::string>> encoded;
    for (const auto& [name, value] : query) {
        encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
    }
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [name, value] : encoded) {
        if (!out.empty()) out.push_back('&');
        out += name + "=" + value;
    }
    return out;
}

std::string hex_encode(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 15]);
    }
    return out;
}

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string amz_date(std::chrono::system_clock::time_point time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[20];
    std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &utc);
    return buffer;
}

SigV4Signer::SigV4Signer(SigV4Credentials credentials, std::string region, std::string service)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)) {}

std::string SigV4Signer::signed_headers(const SigV4Request& request) const {
    std::string out;
    for (const auto& header : sorted_headers(request)) {
        if (!out.empty()) out.push_back(';');
        out += header.first;
    }
    return out;
}

std::string SigV4Signer::canonical_request(const SigV4Request& request) const {
    std::string out = request.method + "\n" + canonical_uri(request.path) + "\n" +
                      canonical_query(request.query) + "\n";
    for (const auto& [name, value] : sorted_headers(request)) out += name + ":" + value + "\n";
    out += "\n" + signed_headers(request) + "\n" + request.payload_sha256;
    return out;
}

std::string SigV4Signer::string_to_sign(const SigV4Request& request,
                                        std::string_view amz_date) const {
    const std::string date(amz_date.substr(0, 8));
    return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + date + "/" + region_ + "/" +
           service_ + "/aws4_request\n" + sha256_hex(canonical_request(request));
}

std::string SigV4Signer::signature(const SigV4Request& request, std::string_view amz_date) const {
    const std::string date(amz_date.substr(0, 8));
    std::string key = hmac_sha256("AWS4" + credentials_.secret_access_key, date);
    key = hmac_sha256(key, region_);
    key = hmac_sha256(key, service_);
    key = hmac_sha256(key, "aws4_request");
    return hex_encode(hmac_sha256(key, string_to_sign(request, amz_date)));
}

std::string SigV4Signer::authorization(const SigV4Request& request,
                                       std::string_view amz_date) const {
    const std::string date(amz_date.substr(0, 8));
    return "AWS4-HMAC-SHA256 Credential=" + credentials_.access_key_id + "/" + date + "/" +
           region_ + "/" + service_ + "/aws4_request, SignedHeaders=" + signed_headers(request) +
           ", Signature=" + signature(request, amz_date);
}

}  // namespace millrace
