#include "exec/user_agent_parser.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace millrace {
namespace {

/// Runs one of uap-core's own test files (tests/test_ua.yaml, test_os.yaml, test_device.yaml:
/// a user_agent_string and the expected family) and returns the cases whose family differs.
std::vector<std::string> mismatches(const UserAgentParser& parser, const std::string& file,
                                    std::string UserAgentParser::Families::*field,
                                    std::size_t& cases) {
    std::vector<std::string> wrong;
    const YAML::Node root = YAML::LoadFile(file);
    for (const YAML::Node& test : root["test_cases"]) {
        const std::string ua = test["user_agent_string"].as<std::string>("");
        const std::string expected = test["family"].as<std::string>("");
        ++cases;
        const std::string got = parser.parse(ua).*field;
        if (got != expected)
            wrong.push_back(fmt::format("{}: expected [{}], got [{}]", ua, expected, got));
    }
    return wrong;
}

TEST(UserAgentParser, PassesTheUapCoreTestCases) {
    auto parser = UserAgentParser::shared();
    ASSERT_TRUE(parser.ok()) << parser.error().to_string();
    EXPECT_EQ((*parser)->skipped(), 0u) << "regexes RE2 could not compile";
    const std::string dir = "/usr/share/uap-core/tests/";
    struct Suite {
        const char* file;
        std::string UserAgentParser::Families::*field;
    };
    for (const Suite& suite : {Suite{"test_ua.yaml", &UserAgentParser::Families::browser},
                               Suite{"test_os.yaml", &UserAgentParser::Families::os},
                               Suite{"test_device.yaml", &UserAgentParser::Families::device}}) {
        std::size_t cases = 0;
        std::vector<std::string> wrong = mismatches(**parser, dir + suite.file, suite.field, cases);
        EXPECT_GT(cases, 400u) << suite.file;
        EXPECT_TRUE(wrong.empty()) << suite.file << ": " << wrong.size() << " of " << cases
                                   << " wrong, first: " << (wrong.empty() ? "" : wrong[0]);
    }
}

TEST(UserAgentParser, CommonBrowsers) {
    auto parser = UserAgentParser::shared();
    ASSERT_TRUE(parser.ok());
    auto chrome = (*parser)->parse(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36");
    EXPECT_EQ(chrome.browser, "Chrome");
    EXPECT_EQ(chrome.os, "Windows");
    EXPECT_EQ(chrome.device, "Other");
    auto iphone = (*parser)->parse(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.1 Mobile/15E148 Safari/604.1");
    EXPECT_EQ(iphone.browser, "Mobile Safari");
    EXPECT_EQ(iphone.os, "iOS");
    EXPECT_EQ(iphone.device, "iPhone");
    auto nothing = (*parser)->parse("");
    EXPECT_EQ(nothing.browser, "Other");
}

TEST(UserAgentParser, AMissingRegexFileIsAnErrorNotACrash) {
    auto parser = UserAgentParser::load("/nonexistent/regexes.yaml");
    EXPECT_FALSE(parser.ok());
}

}  // namespace
}  // namespace millrace
