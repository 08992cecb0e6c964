#include "server/lake_handler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lake/lake_table.h"

namespace millrace {
namespace {

class LakeHandlerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-lake-handler-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    HttpResponse get(std::string path,
                     std::vector<std::pair<std::string, std::string>> query = {}) {
        MetricsRegistry metrics;
        Router router(metrics);
        LakeHandler handler(dir_);
        handler.add_routes(router);
        HttpRequest request;
        request.path = std::move(path);
        request.query = std::move(query);
        HttpResponse out;
        router.dispatch(request, [&](HttpResponse response) { out = std::move(response); });
        return out;
    }

    std::string dir_;
};

TEST_F(LakeHandlerTest, NoLakeYetIsAnEmptyList) {
    HttpResponse response = get("/v1/lake/tables");
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.body, "{\"tables\":[]}\n");
}

TEST_F(LakeHandlerTest, ListsTablesAndDescribesTheirHistory) {
    Schema schema({{"city", DataType::kString, true}, {"orders", DataType::kInt64, true}});
    ASSERT_TRUE(LakeTable::create(dir_, "city_minute", schema, {"city"}).ok());
    // A folder that is not a readable table is listed with its error; the others still are.
    std::filesystem::create_directories(dir_ + "/lake/broken/metadata");
    std::ofstream(dir_ + "/lake/broken/metadata/v1.metadata.json") << "{not json";

    HttpResponse list = get("/v1/lake/tables");
    EXPECT_EQ(list.status, 200);
    EXPECT_NE(list.body.find("{\"name\":\"broken\",\"error\":"), std::string::npos) << list.body;
    EXPECT_NE(list.body.find("{\"name\":\"city_minute\",\"snapshot_id\":0,\"parent_id\":0,"
                             "\"operation\":\"create\""),
              std::string::npos)
        << list.body;

    HttpResponse table = get("/v1/lake/tables/city_minute");
    EXPECT_EQ(table.status, 200);
    EXPECT_TRUE(table.body.starts_with(
        "{\"name\":\"city_minute\",\"schema\":[{\"name\":\"city\",\"type\":\"string\"},"
        "{\"name\":\"orders\",\"type\":\"int64\"}],\"partition_by\":[\"city\"],\"snapshot_id\":0,"
        "\"snapshots\":[{\"snapshot_id\":0,"))
        << table.body;

    EXPECT_EQ(get("/v1/lake/tables/nope").status, 404);
    EXPECT_EQ(get("/v1/lake/tables/city_minute", {{"limit", "0"}}).status, 400);
    EXPECT_EQ(get("/v1/lake/tables/city_minute", {{"limit", "x"}}).status, 400);
}

}  // namespace
}  // namespace millrace
