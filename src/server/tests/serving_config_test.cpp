#include "server/serving_config.h"

#include <gtest/gtest.h>

#include "common/yaml_document.h"
#include "project/project.h"

namespace millrace {
namespace {

Project with_serving(std::string_view yaml) {
    auto document = YamlDocument::parse(yaml, "millrace.yaml");
    EXPECT_TRUE(document.ok());
    Project project;
    if (const ConfigNode* serving = document->root().find("serving")) project.serving = *serving;
    return project;
}

std::optional<std::string> fake_env(const std::string& name) {
    if (name == "ADMIN_TOKEN") return std::string("from-env");
    if (name == "EMPTY") return std::string();
    return std::nullopt;
}

std::vector<std::string> positions(std::string_view yaml) {
    std::vector<Error> errors;
    parse_serving_config(with_serving(yaml), errors, fake_env);
    std::vector<std::string> out;
    for (const Error& error : errors) {
        out.push_back(std::to_string(error.location().line) + ":" +
                      std::to_string(error.location().column));
    }
    return out;
}

TEST(ServingConfig, DefaultsWithoutABlock) {
    std::vector<Error> errors;
    ServingConfig config = parse_serving_config(Project{}, errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(config.max_batch_keys, 1000u);
    EXPECT_EQ(config.request_timeout, std::chrono::seconds(1));
    EXPECT_FALSE(config.cache_rows.has_value());
    EXPECT_TRUE(config.tokens.empty());
    EXPECT_FALSE(config.capture.has_value());
}

TEST(ServingConfig, ReadsEverything) {
    std::vector<Error> errors;
    ServingConfig config = parse_serving_config(with_serving(R"(serving:
  max_batch_keys: 50
  request_timeout: 200ms
  cache_rows: 1000
  auth:
    tokens:
      - { token: "abc", scopes: [features] }
      - { token_env: ADMIN_TOKEN, scopes: [ingest, features, admin] }
  capture: { topic: reqs, sample: 0.25 }
)"),
                                                errors, fake_env);
    EXPECT_TRUE(errors.empty()) << errors.front().to_string();
    EXPECT_EQ(config.max_batch_keys, 50u);
    EXPECT_EQ(config.request_timeout, std::chrono::milliseconds(200));
    EXPECT_EQ(config.cache_rows, 1000u);
    ASSERT_EQ(config.tokens.size(), 2u);
    EXPECT_EQ(config.tokens[0].token, "abc");
    EXPECT_EQ(config.tokens[0].scopes, static_cast<uint8_t>(RouteGroup::kFeatures));
    EXPECT_EQ(config.tokens[1].token, "from-env");
    EXPECT_EQ(config.tokens[1].scopes, 7);
    ASSERT_TRUE(config.capture.has_value());
    EXPECT_EQ(config.capture->topic, "reqs");
    EXPECT_EQ(config.capture->sample, 0.25);
    config = parse_serving_config(with_serving("serving: { capture: true }\n"), errors, fake_env);
    ASSERT_TRUE(config.capture.has_value());
    EXPECT_EQ(config.capture->topic, "feature_requests");
}

TEST(ServingConfig, ErrorsWithPositions) {
    EXPECT_EQ(positions("serving:\n  max_batch_keys: 0\n"), std::vector<std::string>{"2:19"});
    EXPECT_EQ(positions("serving:\n  request_timeout: 1 s\n"), std::vector<std::string>{"2:21"});
    EXPECT_EQ(positions("serving:\n  max_batch_key: 5\n"), std::vector<std::string>{"2:3"});
    EXPECT_EQ(positions("serving:\n  auth: { tokens: [ { token: a, scopes: [feature] } ] }\n"),
              std::vector<std::string>{"2:42"});
    EXPECT_EQ(positions("serving:\n  auth: { tokens: [ { token_env: NOPE, scopes: admin } ] }\n"),
              std::vector<std::string>{"2:34"});
    EXPECT_EQ(positions("serving:\n  auth: { tokens: [ { token_env: EMPTY, scopes: admin } ] }\n"),
              std::vector<std::string>{"2:34"});
    EXPECT_EQ(positions("serving:\n  auth: { tokens: [ { scopes: admin } ] }\n"),
              std::vector<std::string>{"2:21"});
    EXPECT_EQ(positions("serving:\n  capture: { sample: 2 }\n"), std::vector<std::string>{"2:22"});
    // All of them at once.
    EXPECT_EQ(positions("serving:\n  max_batch_keys: x\n  request_timeout: 0\n  cache: 1\n").size(),
              3u);
}

TEST(ServingConfig, AuthNoneAndReadiness) {
    std::vector<Error> errors;
    ServingConfig config = parse_serving_config(
        with_serving("serving:\n  auth: none\n  readiness: { min_free_bytes: 1024 }\n"), errors,
        fake_env);
    EXPECT_TRUE(errors.empty()) << errors.front().to_string();
    EXPECT_TRUE(config.auth_none);
    EXPECT_EQ(config.auth_location.line, 2);
    EXPECT_EQ(config.min_free_bytes, 1024);
    EXPECT_EQ(parse_serving_config(Project{}, errors).min_free_bytes, int64_t{64} << 20);
    EXPECT_EQ(positions("serving:\n  auth: nobody\n"), std::vector<std::string>{"2:9"});
    EXPECT_EQ(positions("serving:\n  readiness: { min_free: 1 }\n"),
              std::vector<std::string>{"2:16"});
}

TEST(ServingConfig, LoopbackHosts) {
    for (std::string_view host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) {
        EXPECT_TRUE(is_loopback_host(host)) << host;
    }
    for (std::string_view host : {"0.0.0.0", "::", "", "10.0.0.1", "127.0.0", "127.0.0.1.5",
                                  "127.0.0.256", "example.com", "1270.0.0.1"}) {
        EXPECT_FALSE(is_loopback_host(host)) << host;
    }
}

TEST(ServingConfig, NoAuthBeyondLoopbackOnlyWhenSaid) {
    const SourceLocation at{"millrace.yaml", 4, 11};
    ServingConfig open;
    EXPECT_FALSE(check_listen_auth(open, "127.0.0.1", "127.0.0.1:8080", at).has_value());
    std::optional<Error> refused = check_listen_auth(open, "0.0.0.0", "0.0.0.0:8080", at);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code(), ErrorCode::kConfig);
    EXPECT_EQ(refused->location().line, 4);
    EXPECT_NE(refused->message().find("auth: none"), std::string::npos);
    EXPECT_NE(refused->message().find("tokens"), std::string::npos);
    ServingConfig with_tokens;
    with_tokens.tokens.push_back({"t", 7});
    EXPECT_FALSE(check_listen_auth(with_tokens, "0.0.0.0", "0.0.0.0:8080", at).has_value());
    ServingConfig none;
    none.auth_none = true;
    EXPECT_FALSE(check_listen_auth(none, "0.0.0.0", "0.0.0.0:8080", at).has_value());
}

}  // namespace
}  // namespace millrace
