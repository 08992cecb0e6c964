#include "server/catalog_handler.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/clock.h"
#include "project/project_loader.h"

namespace millrace {
namespace {

class CatalogHandlerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-catalog-handler-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::create_directories(dir_ + "/pipelines");
        std::filesystem::create_directories(dir_ + "/in");
        write("millrace.yaml", "name: shop\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n");
        write("pipelines/orders.yaml", R"(name: orders
owner: sales-eng
tags: [revenue]
sources:
  raw:
    file: { path: in/*.csv, format: csv }
    schema: { id: int64 not null, amount: double, city: string }
    description: Orders as the shops export them
    owner: shop-integrations
    tags: [pii, raw]
views:
  by_city:
    sql: SELECT city, sum(amount) AS revenue FROM raw GROUP BY city
    description: Revenue per city
    tags: [daily]
  top: SELECT * FROM by_city WHERE revenue > 10
sinks:
  - { from: top, lake: { table: city_revenue }, description: Cities above 10, owner: finance }
  - { from: dead_letter, file: out/rejected.ndjson }
)");
        write("in/a.csv", "id,amount,city\n1,10,Oslo\n");
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void write(const std::string& path, const std::string& text) {
        std::filesystem::create_directories(std::filesystem::path(dir_ + "/" + path).parent_path());
        std::ofstream(dir_ + "/" + path) << text;
    }

    HttpResponse get(const std::string& path,
                     std::vector<std::pair<std::string, std::string>> query = {}) {
        std::vector<Error> errors;
        Result<Project> project = load_project(dir_, &errors);
        EXPECT_TRUE(project.ok()) << (project.ok() ? "" : project.error().to_string());
        if (!project.ok()) return {};
        MetricsRegistry metrics;
        Router router(metrics);
        SystemClock clock;
        CatalogHandler handler(*project, nullptr, nullptr, clock);
        handler.add_routes(router);
        HttpRequest request;
        request.path = path;
        request.query = std::move(query);
        HttpResponse out;
        router.dispatch(request, [&](HttpResponse response) { out = std::move(response); });
        return out;
    }

    std::string dir_;
};

std::vector<std::string> ids(const std::string& body, const char* array, const char* field) {
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(body);
    std::vector<std::string> out;
    for (simdjson::dom::element item : root[array].get_array()) {
        out.emplace_back(std::string_view(item[field].get_string()));
    }
    return out;
}

TEST_F(CatalogHandlerTest, SearchesNamesDescriptionsOwnersTagsAndColumns) {
    const std::string file = "file:" + std::filesystem::weakly_canonical(dir_).string();
    HttpResponse all = get("/v1/datasets");
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_EQ(
        ids(all.body, "datasets", "id"),
        (std::vector<std::string>{file + "/in/*.csv", file + "/out/rejected.ndjson",
                                  "lake:city_revenue", "view:orders.by_city", "view:orders.top"}));
    EXPECT_NE(all.body.find("\"description\":\"Orders as the shops export them\","
                            "\"owner\":\"shop-integrations\",\"tags\":[\"pii\",\"raw\"],"
                            "\"columns\":[{\"name\":\"id\",\"type\":\"int64 not null\"}"),
              std::string::npos)
        << all.body;
    // The lake table is documented by its sink and by the view it writes.
    EXPECT_NE(all.body.find("\"description\":\"Cities above 10\",\"owner\":\"finance\""),
              std::string::npos);

    EXPECT_EQ(ids(get("/v1/datasets", {{"q", "PII"}}).body, "datasets", "id"),
              std::vector<std::string>{file + "/in/*.csv"});
    // Every word must match; datasets whose names hold them all come first.
    EXPECT_EQ(ids(get("/v1/datasets", {{"q", "revenue city"}}).body, "datasets", "id"),
              (std::vector<std::string>{"lake:city_revenue", "view:orders.by_city"}));
    EXPECT_EQ(ids(get("/v1/datasets", {{"q", "amount"}}).body, "datasets", "id"),
              std::vector<std::string>{file + "/in/*.csv"});
    EXPECT_EQ(ids(get("/v1/datasets", {{"q", "finance"}}).body, "datasets", "id"),
              std::vector<std::string>{"lake:city_revenue"});
    // A view has its pipeline's owner and tags.
    EXPECT_EQ(ids(get("/v1/datasets", {{"q", "sales-eng daily revenue"}}).body, "datasets", "id"),
              (std::vector<std::string>{"view:orders.by_city"}));
    EXPECT_EQ(ids(get("/v1/datasets", {{"kind", "view"}}).body, "datasets", "id"),
              (std::vector<std::string>{"view:orders.by_city", "view:orders.top"}));
    EXPECT_EQ(get("/v1/datasets", {{"q", "nothing-like-this"}}).body,
              "{\"datasets\":[],\"total\":0}\n");
}

TEST_F(CatalogHandlerTest, BadInputIsA4xxWithAJsonBody) {
    HttpResponse kind = get("/v1/datasets", {{"kind", "table"}});
    EXPECT_EQ(kind.status, 400);
    EXPECT_NE(kind.body.find("{\"error\":\"kind must be one of"), std::string::npos);
    EXPECT_EQ(get("/v1/datasets", {{"limit", "0"}}).status, 400);
    EXPECT_EQ(get("/v1/datasets", {{"limit", "x"}}).status, 400);
    HttpResponse missing = get("/v1/datasets/lake:city_revenu");
    EXPECT_EQ(missing.status, 404);
    EXPECT_NE(missing.body.find("did you mean `lake:city_revenue`"), std::string::npos)
        << missing.body;
    EXPECT_EQ(get("/v1/lineage", {{"dataset", "nope"}}).status, 404);
    EXPECT_EQ(get("/v1/lineage", {{"pipeline", "ordrs"}}).status, 404);
    EXPECT_EQ(get("/v1/lineage", {{"pipeline", "orders"}, {"dataset", "x"}}).status, 400);
    EXPECT_EQ(get("/v1/dead-letters", {{"pipeline", "nope"}}).status, 404);
    EXPECT_EQ(get("/v1/dead-letters", {{"limit", "-1"}}).status, 400);
}

TEST_F(CatalogHandlerTest, ADatasetWithItsFreshnessChecksAndLineage) {
    write("data/checks/orders.ndjson",
          "{\"run\":1,\"at\":\"2026-11-01T00:00:00.000000Z\",\"pipeline\":\"orders\","
          "\"dataset\":\"raw\",\"rule\":\"row_count\",\"passed\":false}\n"
          "{\"run\":2,\"at\":\"2026-11-02T00:00:00.000000Z\",\"pipeline\":\"orders\","
          "\"dataset\":\"raw\",\"rule\":\"row_count\",\"passed\":true}\n"
          "{\"run\":2,\"at\":\"2026-11-02T00:00:00.000000Z\",\"pipeline\":\"orders\","
          "\"dataset\":\"top\",\"rule\":\"unique(city)\",\"passed\":true}\n");
    const std::string file = "file:" + std::filesystem::weakly_canonical(dir_).string();
    // An id holding slashes travels percent-encoded in the path.
    std::string encoded = file + "/in/*.csv";
    for (std::size_t at = encoded.find('/'); at != std::string::npos; at = encoded.find('/', at)) {
        encoded.replace(at, 1, "%2F");
    }
    HttpResponse raw = get("/v1/datasets/" + encoded);
    ASSERT_EQ(raw.status, 200) << raw.body;
    // The newest result of each rule on it, only its own.
    EXPECT_NE(raw.body.find("\"checks\":[{\"run\":2,\"at\":\"2026-11-02T00:00:00.000000Z\","
                            "\"pipeline\":\"orders\",\"dataset\":\"raw\",\"rule\":\"row_count\","
                            "\"passed\":true}]"),
              std::string::npos)
        << raw.body;
    EXPECT_NE(raw.body.find("\"freshness\":{\"last_write_at\":"), std::string::npos);
    EXPECT_NE(raw.body.find("\"lineage\":{\"upstream\":[],\"downstream\":["
                            "\"view:orders.by_city\",\"view:orders.top\",\"lake:city_revenue\"]}"),
              std::string::npos)
        << raw.body;

    // By its name alone, when only one dataset has it.
    HttpResponse table = get("/v1/datasets/city_revenue");
    ASSERT_EQ(table.status, 200) << table.body;
    EXPECT_NE(table.body.find("\"freshness\":null"), std::string::npos);  // not written yet
    EXPECT_NE(table.body.find("\"rule\":\"unique(city)\""), std::string::npos) << table.body;
    EXPECT_NE(table.body.find("\"upstream\":[\"view:orders.top\",\"view:orders.by_city\",\"" +
                              file + "/in/*.csv\"]"),
              std::string::npos)
        << table.body;
}

TEST_F(CatalogHandlerTest, LineageOfAPipelineAndOfADataset) {
    const std::string file = "file:" + std::filesystem::weakly_canonical(dir_).string();
    HttpResponse graph = get("/v1/lineage");
    ASSERT_EQ(graph.status, 200) << graph.body;
    EXPECT_NE(graph.body.find("{\"from\":\"view:orders.by_city\",\"to\":\"view:orders.top\","
                              "\"kind\":\"data\"}"),
              std::string::npos)
        << graph.body;
    EXPECT_NE(graph.body.find("{\"from\":\"pipeline:orders\",\"to\":\"" + file +
                              "/out/rejected.ndjson\",\"kind\":\"data\"}"),
              std::string::npos);
    EXPECT_EQ(graph.body.find("\"focus\""), std::string::npos);

    HttpResponse pipeline = get("/v1/lineage", {{"pipeline", "orders"}});
    ASSERT_EQ(pipeline.status, 200) << pipeline.body;
    EXPECT_NE(pipeline.body.find("\"focus\":\"pipeline:orders\",\"upstream\":[\"" + file +
                                 "/in/*.csv\"],\"downstream\":[\"" + file +
                                 "/out/rejected.ndjson\",\"lake:city_revenue\"]"),
              std::string::npos)
        << pipeline.body;

    HttpResponse view = get("/v1/lineage", {{"dataset", "orders.top"}});
    ASSERT_EQ(view.status, 200) << view.body;
    EXPECT_NE(view.body.find("\"focus\":\"view:orders.top\",\"upstream\":[\"view:orders.by_city\","
                             "\"" +
                             file + "/in/*.csv\"],\"downstream\":[\"lake:city_revenue\"]"),
              std::string::npos)
        << view.body;
}

TEST_F(CatalogHandlerTest, DeadLettersNewestFirstFilteredWithCounts) {
    write("out/rejected.ndjson",
          "{\"pipeline\":\"orders\",\"source\":\"raw\",\"file\":\"/x/a.csv\",\"line\":3,"
          "\"stage\":\"decode\",\"reason\":\"field `amount`: expected double\",\"raw\":\"3,x\","
          "\"time\":\"2026-11-01T00:00:01.000000Z\"}\n"
          "{\"pipeline\":\"orders\",\"source\":\"raw\",\"file\":\"/x/b.csv\",\"stage\":\"file\","
          "\"reason\":\"malformed CSV header\",\"time\":\"2026-11-01T00:00:02.000000Z\"}\n"
          "not json\n"
          "{\"pipeline\":\"orders\",\"source\":\"raw\",\"file\":\"/x/c.csv\",\"line\":9,"
          "\"stage\":\"decode\",\"reason\":\"field `amount`: expected double\",\"raw\":\"9,y\","
          "\"time\":\"2026-11-01T00:00:02.000000Z\"}\n");
    HttpResponse all = get("/v1/dead-letters");
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_EQ(ids(all.body, "dead_letters", "file"),
              (std::vector<std::string>{"/x/c.csv", "/x/b.csv", "/x/a.csv"}));
    EXPECT_NE(all.body.find("\"matched\":3,\"reasons\":[{\"reason\":\"field `amount`: expected "
                            "double\",\"count\":2},{\"reason\":\"malformed CSV header\","
                            "\"count\":1}],\"stages\":{\"decode\":2,\"file\":1}"),
              std::string::npos)
        << all.body;
    EXPECT_NE(all.body.find("\"skipped_lines\":1"), std::string::npos);

    EXPECT_EQ(ids(get("/v1/dead-letters", {{"stage", "file"}}).body, "dead_letters", "file"),
              std::vector<std::string>{"/x/b.csv"});
    EXPECT_EQ(ids(get("/v1/dead-letters", {{"q", "9,Y"}}).body, "dead_letters", "file"),
              std::vector<std::string>{"/x/c.csv"});
    EXPECT_EQ(ids(get("/v1/dead-letters", {{"limit", "1"}}).body, "dead_letters", "file"),
              std::vector<std::string>{"/x/c.csv"});
}

}  // namespace
}  // namespace millrace
