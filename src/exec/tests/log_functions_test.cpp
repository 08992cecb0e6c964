#include "exec/log_functions.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "exec/geoip_database.h"
#include "exec/tests/query_fixture.h"

namespace millrace {
namespace {

/// A tiny GeoIP database written by examples/log-collection/make_geo_db.pl (Debian's
/// libmaxmind-db-writer-perl), once per test binary.
const std::string& test_database() {
    static const std::string path = [] {
        const std::string out = (std::filesystem::temp_directory_path() /
                                 fmt::format("millrace-test-{}.mmdb", ::getpid()))
                                    .string();
        const std::string command = fmt::format("perl {}/examples/log-collection/make_geo_db.pl {}",
                                                MILLRACE_SOURCE_DIR, out);
        EXPECT_EQ(std::system(command.c_str()), 0) << command;
        return out;
    }();
    return path;
}

class LogFunctionsTest : public ::testing::Test, public millrace::testing::QueryFixture {
protected:
    void SetUp() override {
        add_table(
            "hits",
            {{"ip", DataType::kString, true},
             {"ua", DataType::kString, true},
             {"url", DataType::kString, true}},
            {
                {Value::string("5.9.1.2"),
                 Value::string("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 "
                               "Firefox/121.0"),
                 Value::string("https://shop.example.com:8443/cart/view?item=42&q=red+shoes"
                               "&empty#top")},
                {Value::string("2001:db8::7"), Value::string("curl/8.4.0"),
                 Value::string("http://user@[::1]/")},
                {Value::string("198.51.100.9"), Value::string(""), Value::string("not a url")},
                {Value::string("10.0.0.1"), Value::null(), Value::null()},
            });
    }
    const sql::FunctionResources* function_resources() const override { return &resources_; }

    std::vector<std::string> rows(const std::string& sql, ExecContext& context) {
        testing::RowCollector out;
        Status status = run(sql, out, context);
        if (!status.ok()) return {"ERROR: " + status.error().message()};
        return out.rows;
    }

    sql::FunctionResources resources_;
};

TEST_F(LogFunctionsTest, UserAgentFamilies) {
    ExecContext context;
    EXPECT_EQ(rows("SELECT ua_browser(ua), ua_os(ua), ua_device(ua), parse_user_agent(ua, 'os') "
                   "FROM hits",
                   context),
              (std::vector<std::string>{"Firefox|Linux|Other|Linux", "curl|Other|Other|Other",
                                        "Other|Other|Other|Other", "NULL|NULL|NULL|NULL"}));
    EXPECT_NE(rows("SELECT parse_user_agent(ua, 'browsr') FROM hits", context)[0].find(
                  "'browser', 'os' or 'device'"),
              std::string::npos);
}

TEST_F(LogFunctionsTest, UrlParts) {
    ExecContext context;
    EXPECT_EQ(rows("SELECT url_host(url), url_path(url), url_param(url, 'q'), "
                   "url_query_param(url, 'empty'), url_param(url, 'none'), "
                   "parse_url(url, 'PROTOCOL'), parse_url(url, 'QUERY', 'item'), "
                   "parse_url(url, 'ref') FROM hits",
                   context),
              (std::vector<std::string>{"shop.example.com|/cart/view|red shoes||NULL|https|42|top",
                                        "::1|/|NULL|NULL|NULL|http|NULL|NULL",
                                        "NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
                                        "NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL"}));
}

TEST_F(LogFunctionsTest, IpCountryAndCityFromTheConfiguredDatabase) {
    resources_.geoip_database = test_database();
    ExecContext context;
    std::vector<std::string> reasons;
    context.dead_letter = [&](DeadLetterRow row) { reasons.push_back(row.reason); };
    EXPECT_EQ(rows("SELECT ip_country(ip), ip_city(ip) FROM hits", context),
              (std::vector<std::string>{"DE|Berlin", "NL|Amsterdam", "BR|NULL", "NULL|NULL"}));
    EXPECT_TRUE(reasons.empty());
    // Text that is not an IP address is a row error (a dead letter), not a null or a crash.
    add_table("bad", {{"ip", DataType::kString, false}}, {{Value::string("999.1.1.1")}});
    EXPECT_EQ(rows("SELECT ip_country(ip) FROM bad", context), std::vector<std::string>{});
    ASSERT_EQ(reasons.size(), 1u);
    EXPECT_NE(reasons[0].find("invalid IP address"), std::string::npos);
}

TEST_F(LogFunctionsTest, IpCountryWithoutADatabaseIsAPlanningErrorAtTheCall) {
    ExecContext context;
    auto out = rows("SELECT ip, ip_country(ip) FROM hits", context);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NE(out[0].find("needs a MaxMind GeoIP database"), std::string::npos) << out[0];
    // A configured path that is not a database: every row says why, the run goes on.
    resources_.geoip_database = "/nonexistent/geo.mmdb";
    std::vector<std::string> reasons;
    context.dead_letter = [&](DeadLetterRow row) { reasons.push_back(row.reason); };
    EXPECT_EQ(rows("SELECT ip_country(ip) FROM hits", context), std::vector<std::string>{});
    ASSERT_EQ(reasons.size(), 4u);
    EXPECT_NE(reasons[0].find("does not exist"), std::string::npos);
}

TEST(GeoIpDatabase, OpenRefusesWhatIsNotADatabase) {
    EXPECT_EQ(GeoIpDatabase::open("/nonexistent.mmdb").error().code(), ErrorCode::kNotFound);
    const std::string text =
        (std::filesystem::temp_directory_path() / "millrace-not.mmdb").string();
    {
        std::FILE* f = std::fopen(text.c_str(), "w");
        std::fputs("hello", f);
        std::fclose(f);
    }
    EXPECT_EQ(GeoIpDatabase::open(text).error().code(), ErrorCode::kInvalidArgument);
    std::filesystem::remove(text);
}

TEST(SplitUrl, EdgeCases) {
    EXPECT_FALSE(split_url("example.com/path").has_value());
    EXPECT_FALSE(split_url("://x").has_value());
    EXPECT_FALSE(split_url("http:///path").has_value());
    auto parts = split_url("HTTP://a:b@Host.example:80?x=1");
    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ(parts->host, "Host.example");
    EXPECT_EQ(parts->port, "80");
    EXPECT_EQ(parts->userinfo, "a:b");
    EXPECT_EQ(parts->path, "");
    EXPECT_EQ(query_param("a=1&b=%41%zz&c", "b"), std::optional<std::string>("A%zz"));
    EXPECT_EQ(query_param("a=1&b=2", "c"), std::nullopt);
}

}  // namespace
}  // namespace millrace
