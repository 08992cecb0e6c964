#include "server/serving_config.h"

#include <algorithm>
#include <cstdlib>

#include "common/config_node.h"
#include "project/config_reader.h"
#include "project/project.h"
#include "types/value_cast.h"

namespace millrace {

namespace {

void parse_tokens(ConfigReader& reader, const ConfigNode& node, ServingConfig& config,
                  const EnvironmentLookup& environment) {
    if (!reader.expect_sequence(node, "`tokens` of `auth` of `serving`")) return;
    int index = 0;
    for (const ConfigNode& item : node.items()) {
        const std::string what = "token " + std::to_string(index++) + " of `serving.auth`";
        MapReader map(reader, item, what);
        if (!map.is_map()) continue;
        ServingToken token;
        bool ok = true;
        const ConfigNode* literal = map.optional("token");
        const ConfigNode* env = map.optional("token_env");
        if (present(literal) == present(env)) {
            reader.error(ErrorCode::kConfig, what + " needs exactly one of `token` or `token_env`",
                         map.location());
            ok = false;
        } else if (present(literal)) {
            if (auto text = reader.non_empty(*literal, key_of("token", what))) {
                token.token = *text;
            } else {
                ok = false;
            }
        } else if (auto name = reader.non_empty(*env, key_of("token_env", what))) {
            std::optional<std::string> value = environment(*name);
            if (!value || value->empty()) {
                reader.error(ErrorCode::kConfig,
                             "environment variable `" + *name + "` (" + key_of("token_env", what) +
                                 ") is not set or empty",
                             env->location());
                ok = false;
            } else {
                token.token = *value;
            }
        } else {
            ok = false;
        }
        if (const ConfigNode* scopes = map.required("scopes")) {
            auto read_scope = [&](const ConfigNode& scope) {
                if (auto group = reader.choice<RouteGroup>(scope, "a scope of " + what,
                                                           {{"ingest", RouteGroup::kIngest},
                                                            {"features", RouteGroup::kFeatures},
                                                            {"admin", RouteGroup::kAdmin},
                                                            {"catalog", RouteGroup::kCatalog}})) {
                    token.scopes |= static_cast<uint8_t>(*group);
                } else {
                    ok = false;
                }
            };
            if (scopes->is_scalar()) {
                read_scope(*scopes);
            } else if (reader.expect_sequence(*scopes, key_of("scopes", what))) {
                for (const ConfigNode& scope : scopes->items()) read_scope(scope);
            } else {
                ok = false;
            }
        } else {
            ok = false;
        }
        map.finish();
        if (ok) config.tokens.push_back(std::move(token));
    }
}

}  // namespace

std::optional<std::string> process_environment(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

ServingConfig parse_serving_config(const Project& project, std::vector<Error>& errors,
                                   const EnvironmentLookup& environment) {
    ServingConfig config;
    if (!project.serving) return config;
    ConfigReader reader(errors);
    const std::string what = "`serving` of the project";
    MapReader map(reader, *project.serving, what);
    if (!map.is_map()) return config;
    if (const ConfigNode* value = map.optional("max_batch_keys"); present(value)) {
        if (auto n = reader.integer(*value, key_of("max_batch_keys", what), 1, 1'000'000)) {
            config.max_batch_keys = static_cast<std::size_t>(*n);
        }
    }
    if (const ConfigNode* value = map.optional("request_timeout"); present(value)) {
        if (auto timeout = reader.duration(*value, key_of("request_timeout", what))) {
            if (timeout->count() <= 0) {
                reader.error(ErrorCode::kConfig,
                             key_of("request_timeout", what) + " must be greater than 0",
                             value->location());
            } else {
                config.request_timeout = *timeout;
            }
        }
    }
    if (const ConfigNode* value = map.optional("cache_rows"); present(value)) {
        if (auto n = reader.integer(*value, key_of("cache_rows", what), 0, int64_t{1} << 32)) {
            config.cache_rows = static_cast<std::size_t>(*n);
        }
    }
    if (const ConfigNode* auth = map.optional("auth"); present(auth)) {
        config.auth_location = auth->location();
        if (auth->is_scalar()) {
            if (auth->scalar() == "none") {
                config.auth_none = true;
            } else {
                reader.error(ErrorCode::kConfig,
                             key_of("auth", what) +
                                 " must be `none` or a map with `tokens`, got `" + auth->scalar() +
                                 "`",
                             auth->location());
            }
        } else {
            MapReader auth_map(reader, *auth, key_of("auth", what));
            if (const ConfigNode* tokens = auth_map.optional("tokens"); present(tokens)) {
                parse_tokens(reader, *tokens, config, environment);
            }
            auth_map.finish();
        }
    }
    if (const ConfigNode* readiness = map.optional("readiness"); present(readiness)) {
        MapReader readiness_map(reader, *readiness, key_of("readiness", what));
        if (const ConfigNode* value = readiness_map.optional("min_free_bytes"); present(value)) {
            if (auto n = reader.integer(*value, key_of("min_free_bytes", readiness_map.what()), 0,
                                        int64_t{1} << 50)) {
                config.min_free_bytes = *n;
            }
        }
        readiness_map.finish();
    }
    if (const ConfigNode* capture = map.optional("capture"); present(capture)) {
        const std::string capture_what = key_of("capture", what);
        if (capture->is_scalar() && (capture->scalar() == "true" || capture->scalar() == "false")) {
            if (capture->scalar() == "true") config.capture.emplace();
        } else {
            MapReader capture_map(reader, *capture, capture_what);
            if (capture_map.is_map()) {
                CaptureConfig settings;
                if (const ConfigNode* topic = capture_map.optional("topic"); present(topic)) {
                    if (auto name = reader.non_empty(*topic, key_of("topic", capture_what));
                        name && reader.resource_name(*name, topic->location(), "a topic")) {
                        settings.topic = *name;
                    }
                }
                if (const ConfigNode* sample = capture_map.optional("sample"); present(sample)) {
                    std::optional<double> fraction;
                    if (sample->is_scalar()) fraction = parse_double_text(sample->scalar());
                    if (!fraction || !(*fraction >= 0.0 && *fraction <= 1.0)) {
                        reader.error(ErrorCode::kConfig,
                                     key_of("sample", capture_what) +
                                         " must be a number from 0 to 1 (the fraction of "
                                         "requests recorded)",
                                     sample->location());
                    } else {
                        settings.sample = *fraction;
                    }
                }
                capture_map.finish();
                config.capture = std::move(settings);
            }
        }
    }
    map.finish();
    return config;
}

bool is_loopback_host(std::string_view host) {
    if (host == "localhost" || host == "::1" || host == "[::1]") return true;
    // 127.0.0.0/8 as a dotted quad.
    if (!host.starts_with("127.")) return false;
    int parts = 0;
    std::size_t start = 0;
    while (start <= host.size()) {
        const std::size_t dot = std::min(host.find('.', start), host.size());
        const std::string_view part = host.substr(start, dot - start);
        if (part.empty() || part.size() > 3) return false;
        int value = 0;
        for (char c : part) {
            if (c < '0' || c > '9') return false;
            value = value * 10 + (c - '0');
        }
        if (value > 255) return false;
        ++parts;
        start = dot + 1;
    }
    return parts == 4;
}

std::optional<Error> check_listen_auth(const ServingConfig& config, std::string_view host,
                                       std::string_view listen, const SourceLocation& location) {
    if (is_loopback_host(host) || !config.tokens.empty() || config.auth_none) return std::nullopt;
    return Error(ErrorCode::kConfig,
                 "refusing to serve on " + std::string(listen) +
                     " without auth: other machines can reach it, and the API triggers jobs "
                     "(which run shell commands), deletes topics and ingests. Add bearer tokens "
                     "(`serving: { auth: { tokens: [{ token_env: MILLRACE_TOKEN, scopes: [ingest, "
                     "features, admin] }] } }`), listen on 127.0.0.1, or, to run without auth on "
                     "purpose, set `serving: { auth: none }`",
                 location);
}

}  // namespace millrace
