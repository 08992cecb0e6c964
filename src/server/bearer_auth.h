#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "server/http_message.h"
#include "server/serving_config.h"

namespace millrace {

/// Bearer-token auth scoped to route groups (docs/architecture.md §7), installed as the Router's
/// guard so every route of a group gets it, whoever registered the route:
///
///   no or malformed `Authorization: Bearer <token>`  401, WWW-Authenticate: Bearer
///   an unknown token                                 401, ... error="invalid_token"
///   a token without the route's group in its scopes  403, ... error="insufficient_scope"
///
/// Tokens are compared in constant time. With no tokens configured there is no auth (and
/// `millrace serve` installs no guard at all).
///
/// Threads: check() from any number of threads (immutable after construction).
class BearerAuth {
public:
    explicit BearerAuth(std::vector<ServingToken> tokens);

    bool enabled() const { return !tokens_.empty(); }

    /// nullopt when the request may call a route of `group` ("ingest", "features", "admin";
    /// an unknown group is refused to every token).
    std::optional<HttpResponse> check(const HttpRequest& request, std::string_view group) const;

private:
    std::vector<ServingToken> tokens_;
};

}  // namespace millrace
