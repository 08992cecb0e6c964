#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace millrace {

struct Project;

/// The route groups bearer tokens are scoped to (docs/architecture.md §7). Router routes name their
/// group as text ("ingest", "features", "admin", "catalog": the Iceberg REST catalog); these are
/// the bits of a token's scopes.
enum class RouteGroup : uint8_t { kIngest = 1, kFeatures = 2, kAdmin = 4, kCatalog = 8 };

/// One accepted bearer token and the groups it may call (a bit set of RouteGroup).
struct ServingToken {
    std::string token;
    uint8_t scopes = 0;
};

/// Where sampled serving requests are recorded (`millrace replay` reads the topic).
struct CaptureConfig {
    std::string topic = "feature_requests";
    double sample = 1.0;  // fraction of requests recorded, in [0, 1]
};

/// The `serving:` block of millrace.yaml:
///
///   serving:
///     max_batch_keys: 1000        # keys in one batch / Feast request; more is 413
///     request_timeout: 1s         # a lookup slower than this answers 503 (routes may override)
///     cache_rows: 100000          # rows of the online store's row cache (default: the store's)
///     auth:                       # no tokens: no auth (on a loopback address only)
///       tokens:
///         - { token: "s3cret", scopes: [features] }
///         - { token_env: MILLRACE_ADMIN_TOKEN, scopes: [ingest, features, admin] }
///     # auth: none                # instead: no auth on purpose, on any address
///     capture: { topic: feature_requests, sample: 1.0 }   # or `capture: true`
///     readiness: { min_free_bytes: 67108864 }   # /readyz: free space each store needs
struct ServingConfig {
    std::size_t max_batch_keys = 1000;
    std::chrono::microseconds request_timeout{1'000'000};
    std::optional<std::size_t> cache_rows;
    std::vector<ServingToken> tokens;
    /// `auth: none`: the project says it runs without auth, also where others can reach it.
    bool auth_none = false;
    SourceLocation auth_location;  // of `auth`, when given
    std::optional<CaptureConfig> capture;
    /// /readyz reports a storage directory whose file system has less free space as failing.
    int64_t min_free_bytes = int64_t{64} << 20;
};

/// True for an address only this machine can reach: 127.0.0.0/8, ::1, `localhost`.
bool is_loopback_host(std::string_view host);

/// `millrace serve` refuses to listen where other machines reach it (`host` is not loopback)
/// with no bearer tokens, unless the project says `serving: { auth: none }`: the API can
/// trigger jobs (which run shell commands), delete topics and ingest. kConfig at
/// `listen_location` (millrace.yaml's `listen.http`; unknown for a --listen flag), naming
/// the fixes; nullopt when serving is allowed.
std::optional<Error> check_listen_auth(const ServingConfig& config, std::string_view host,
                                       std::string_view listen, const SourceLocation& location);

/// Reads the environment variable a `token_env` names (tests pass their own).
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment (getenv).
std::optional<std::string> process_environment(const std::string& name);

/// Reads `project.serving` (defaults when absent). Every problem is appended to `errors` with
/// file:line:column (unknown keys with did-you-mean, wrong kinds, bad durations, a scope that
/// is not a group, a token_env that is unset or empty, a sample outside [0, 1]).
ServingConfig parse_serving_config(const Project& project, std::vector<Error>& errors,
                                   const EnvironmentLookup& environment = process_environment);

}  // namespace millrace
