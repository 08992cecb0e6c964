#include "server/checks_handler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace millrace {
namespace {

class ChecksHandlerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-checks-handler-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void write(const std::string& pipeline, const std::string& text) {
        std::filesystem::create_directories(dir_ + "/checks");
        std::ofstream(dir_ + "/checks/" + pipeline + ".ndjson") << text;
    }

    HttpResponse get(std::vector<std::pair<std::string, std::string>> query = {}) {
        MetricsRegistry metrics;
        Router router(metrics);
        ChecksHandler handler(dir_);
        handler.add_routes(router);
        HttpRequest request;
        request.path = "/v1/checks";
        request.query = std::move(query);
        HttpResponse out;
        router.dispatch(request, [&](HttpResponse response) { out = std::move(response); });
        return out;
    }

    std::string dir_;
};

std::string line(int run, const char* at, const char* pipeline, const char* rule, bool passed) {
    return std::string("{\"run\":") + std::to_string(run) + ",\"at\":\"" + at +
           "\",\"pipeline\":\"" + pipeline + "\",\"dataset\":\"d\",\"rule\":\"" + rule +
           "\",\"observed\":\"1\",\"bound\":\"2\",\"passed\":" + (passed ? "true" : "false") +
           ",\"severity\":\"error\"}\n";
}

TEST_F(ChecksHandlerTest, NoResultsYet) {
    HttpResponse response = get();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "{\"results\":[],\"skipped_lines\":0}\n");
}

TEST_F(ChecksHandlerTest, NewestFirstAcrossPipelinesWithFilters) {
    write("daily", line(1, "2026-11-01T00:00:00.000000Z", "daily", "row_count", true) +
                       line(1, "2026-11-01T00:00:00.000000Z", "daily", "unique(id)", false) +
                       "{torn line\n" +
                       line(2, "2026-11-03T00:00:00.000000Z", "daily", "row_count", false));
    write("hourly", line(1, "2026-11-02T00:00:00.000000Z", "hourly", "freshness(ts)", true));
    write("notes", "not a results file\n");  // the extension decides, and this one has it
    std::ofstream(dir_ + "/checks/daily.ndjson.lock") << "";

    HttpResponse all = get();
    ASSERT_EQ(all.status, 200);
    const std::string& body = all.body;
    const std::size_t newest = body.find("\"run\":2,");
    const std::size_t hourly = body.find("\"pipeline\":\"hourly\"");
    const std::size_t unique = body.find("unique(id)");
    const std::size_t oldest = body.find(
        "\"run\":1,\"at\":\"2026-11-01T00:00:00.000000Z\",\"pipeline\":\"daily\",\"dataset\":\"d\","
        "\"rule\":\"row_count\"");
    ASSERT_NE(newest, std::string::npos) << body;
    EXPECT_LT(newest, hourly);
    EXPECT_LT(hourly, unique);
    EXPECT_LT(unique, oldest) << "lines of one run keep their order, newest first";
    EXPECT_NE(body.find("\"skipped_lines\":2"), std::string::npos) << body;

    HttpResponse failed = get({{"failed", "true"}});
    EXPECT_EQ(failed.body.find("\"passed\":true"), std::string::npos) << failed.body;
    EXPECT_NE(failed.body.find("unique(id)"), std::string::npos);

    HttpResponse one = get({{"pipeline", "hourly"}});
    EXPECT_EQ(one.body.find("\"pipeline\":\"daily\""), std::string::npos) << one.body;
    EXPECT_NE(one.body.find("freshness(ts)"), std::string::npos);

    HttpResponse limited = get({{"limit", "1"}});
    EXPECT_NE(limited.body.find("\"run\":2,"), std::string::npos);
    EXPECT_EQ(limited.body.find("hourly"), std::string::npos) << limited.body;

    EXPECT_EQ(get({{"limit", "0"}}).status, 400);
    EXPECT_EQ(get({{"failed", "yes"}}).status, 400);
}

}  // namespace
}  // namespace millrace
