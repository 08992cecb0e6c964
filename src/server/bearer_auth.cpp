#include "server/bearer_auth.h"

#include <strings.h>

namespace millrace {

namespace {

bool constant_time_equal(std::string_view a, std::string_view b) {
    // The length is not secret (tokens are long random strings); the contents are.
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
}

uint8_t scope_of(std::string_view group) {
    if (group == "features") return static_cast<uint8_t>(RouteGroup::kFeatures);
    if (group == "ingest") return static_cast<uint8_t>(RouteGroup::kIngest);
    if (group == "admin") return static_cast<uint8_t>(RouteGroup::kAdmin);
    if (group == "catalog") return static_cast<uint8_t>(RouteGroup::kCatalog);
    return 0;
}

HttpResponse unauthorized(std::string_view message, std::string challenge) {
    HttpResponse response = json_error(401, message);
    response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
    return response;
}

}  // namespace

BearerAuth::BearerAuth(std::vector<ServingToken> tokens) : tokens_(std::move(tokens)) {}

std::optional<HttpResponse> BearerAuth::check(const HttpRequest& request,
                                              std::string_view group) const {
    if (tokens_.empty()) return std::nullopt;
    std::string_view header = request.header("Authorization");
    if (header.empty()) {
        return unauthorized("this route needs a bearer token (Authorization: Bearer <token>)",
                            "Bearer realm=\"millrace\"");
    }
    constexpr std::string_view kScheme = "bearer ";
    if (header.size() <= kScheme.size() ||
        ::strncasecmp(header.data(), kScheme.data(), kScheme.size()) != 0) {
        return unauthorized("malformed Authorization header; expected `Bearer <token>`",
                            "Bearer realm=\"millrace\", error=\"invalid_request\"");
    }
    std::string_view token = header.substr(kScheme.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (token.empty() || token.find(' ') != std::string_view::npos) {
        return unauthorized("malformed Authorization header; expected `Bearer <token>`",
                            "Bearer realm=\"millrace\", error=\"invalid_request\"");
    }
    const ServingToken* found = nullptr;
    for (const ServingToken& candidate : tokens_) {
        // Every token is compared, so the time does not tell which one matched.
        if (constant_time_equal(candidate.token, token)) found = &candidate;
    }
    if (found == nullptr) {
        return unauthorized("invalid bearer token",
                            "Bearer realm=\"millrace\", error=\"invalid_token\"");
    }
    const uint8_t needed = scope_of(group);
    if (needed == 0 || (found->scopes & needed) == 0) {
        HttpResponse response =
            json_error(403, "the token's scopes do not include `" + std::string(group) + "`");
        response.headers.emplace_back(
            "WWW-Authenticate",
            "Bearer realm=\"millrace\", error=\"insufficient_scope\", scope=\"" +
                std::string(group) + "\"");
        return response;
    }
    return std::nullopt;
}

}  // namespace millrace
