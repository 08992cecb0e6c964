#include "server/iceberg_catalog_handler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "lake/lake_table.h"
#include "server/bearer_auth.h"

namespace millrace {
namespace {

class IcebergCatalogHandlerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("iceberg_catalog_" + std::to_string(getpid()) + "_" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        handler_ = std::make_unique<IcebergCatalogHandler>(dir_);
        handler_->add_routes(router_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    HttpResponse call(HttpMethod method, std::string path, std::string body = "") {
        HttpRequest request;
        request.method = method;
        const std::size_t question = path.find('?');
        if (question != std::string::npos) {
            const std::string query = path.substr(question + 1);
            const std::size_t equals = query.find('=');
            request.query.emplace_back(query.substr(0, equals), query.substr(equals + 1));
            path.resize(question);
        }
        request.path = std::move(path);
        request.body = std::move(body);
        HttpResponse out;
        router_.dispatch(request, [&](HttpResponse response) { out = std::move(response); });
        return out;
    }

    std::string dir_;
    MetricsRegistry metrics_;
    Router router_{metrics_};
    std::unique_ptr<IcebergCatalogHandler> handler_;
};

constexpr const char* kBase = "/iceberg/v1/lake/namespaces/default/tables";

TEST_F(IcebergCatalogHandlerTest, ListsLoadsAndCommitsTablesTheLakeHas) {
    ASSERT_TRUE(LakeTable::create(dir_, "orders", Schema({{"id", DataType::kInt64, false}})).ok());
    EXPECT_NE(call(HttpMethod::kGet, "/iceberg/v1/config").body.find("\"prefix\": \"lake\""),
              std::string::npos);
    EXPECT_EQ(call(HttpMethod::kGet, "/iceberg/v1/namespaces").body,
              "{\"namespaces\": [[\"default\"]]}\n");
    EXPECT_EQ(call(HttpMethod::kGet, kBase).body,
              "{\"identifiers\": [{\"namespace\": [\"default\"], \"name\": \"orders\"}]}\n");
    // The unprefixed form answers the same.
    EXPECT_EQ(call(HttpMethod::kGet, "/iceberg/v1/namespaces/default/tables").status, 200);
    EXPECT_EQ(call(HttpMethod::kHead, std::string(kBase) + "/orders").status, 204);
    const HttpResponse loaded = call(HttpMethod::kGet, std::string(kBase) + "/orders");
    ASSERT_EQ(loaded.status, 200);
    EXPECT_NE(loaded.body.find("\"metadata-location\": \"" + dir_), std::string::npos);
    EXPECT_NE(loaded.body.find("v1.metadata.json"), std::string::npos);
    EXPECT_NE(loaded.body.find("\"format-version\": 2"), std::string::npos);

    const std::string add = R"({"requirements": [{"type": "assert-current-schema-id",
        "current-schema-id": 0}], "updates": [{"action": "add-schema", "schema": {"type":
        "struct", "fields": [{"id": 1, "name": "id", "required": true, "type": "long"},
        {"id": 2, "name": "note", "required": false, "type": "string"}]}},
        {"action": "set-current-schema", "schema-id": -1}]})";
    const HttpResponse committed = call(HttpMethod::kPost, std::string(kBase) + "/orders", add);
    ASSERT_EQ(committed.status, 200) << committed.body;
    EXPECT_NE(committed.body.find("v2.metadata.json"), std::string::npos);
    EXPECT_NE(committed.body.find("\"current-schema-id\": 1"), std::string::npos);
    auto table = LakeTable::open(dir_, "orders");
    ASSERT_TRUE(table.ok());
    EXPECT_EQ(table->schema()->size(), 2u);

    // The same request again: its requirement is stale.
    const HttpResponse stale = call(HttpMethod::kPost, std::string(kBase) + "/orders", add);
    EXPECT_EQ(stale.status, 409);
    EXPECT_NE(stale.body.find("\"type\": \"CommitFailedException\""), std::string::npos);
    EXPECT_NE(stale.body.find("\"code\": 409"), std::string::npos);
}

TEST_F(IcebergCatalogHandlerTest, ErrorsHaveTheSpecificationsShape) {
    ASSERT_TRUE(LakeTable::create(dir_, "orders", Schema({{"id", DataType::kInt64, false}})).ok());
    HttpResponse missing = call(HttpMethod::kGet, std::string(kBase) + "/nope");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.body.rfind("{\"error\": {\"message\": ", 0), 0u) << missing.body;
    EXPECT_NE(missing.body.find("\"type\": \"NoSuchTableException\", \"code\": 404}}"),
              std::string::npos);
    EXPECT_EQ(call(HttpMethod::kHead, std::string(kBase) + "/nope").status, 404);
    EXPECT_EQ(call(HttpMethod::kGet, std::string(kBase) + "/..").status, 404);
    EXPECT_EQ(call(HttpMethod::kGet, "/iceberg/v1/namespaces/other/tables").status, 404);
    const HttpResponse bad = call(HttpMethod::kPost, std::string(kBase) + "/orders", "{bad");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("BadRequestException"), std::string::npos);
    const HttpResponse unsupported =
        call(HttpMethod::kPost, std::string(kBase) + "/orders",
             R"({"updates": [{"action": "remove-snapshots", "snapshot-ids": [1]}]})");
    EXPECT_EQ(unsupported.status, 400);
    EXPECT_NE(unsupported.body.find("remove-snapshots"), std::string::npos);
    EXPECT_EQ(call(HttpMethod::kPost, std::string(kBase) + "/nope", "{}").status, 404);
    EXPECT_EQ(call(HttpMethod::kPost, "/iceberg/v1/tables/rename", "{}").status, 400);
    auto rename_body = [](const std::string& from, const std::string& to) {
        return R"({"source": {"namespace": ["default"], "name": ")" + from +
               R"("}, "destination": {"namespace": ["default"], "name": ")" + to + R"("}})";
    };
    EXPECT_EQ(call(HttpMethod::kPost, "/iceberg/v1/tables/rename", rename_body("nope", "x")).status,
              404);
    EXPECT_EQ(call(HttpMethod::kPost, "/iceberg/v1/tables/rename", rename_body("orders", "orders"))
                  .status,
              409);
    // Tables live in `default`: another namespace on either side is refused.
    EXPECT_EQ(call(HttpMethod::kPost, "/iceberg/v1/tables/rename",
                   R"({"source": {"namespace": ["default"], "name": "orders"},
                       "destination": {"namespace": ["other"], "name": "o2"}})")
                  .status,
              404);
    EXPECT_EQ(call(HttpMethod::kPost, "/iceberg/v1/tables/rename",
                   R"({"source": {"namespace": [7], "name": "orders"},
                       "destination": {"name": "o2"}})")
                  .status,
              400);
    // A rename moves the table: the new name loads, the old one is gone.
    const HttpResponse rename =
        call(HttpMethod::kPost, "/iceberg/v1/lake/tables/rename", rename_body("orders", "o2"));
    EXPECT_EQ(rename.status, 204) << rename.body;
    const HttpResponse moved = call(HttpMethod::kGet, std::string(kBase) + "/o2");
    EXPECT_EQ(moved.status, 200);
    EXPECT_NE(moved.body.find("/lake/o2/metadata/"), std::string::npos) << moved.body;
    EXPECT_EQ(call(HttpMethod::kGet, std::string(kBase) + "/orders").status, 404);
}

TEST_F(IcebergCatalogHandlerTest, NamespacesAreCreatedPersistedAndDropped) {
    const std::string created = R"({"namespace": ["staging"], "properties": {"owner": "ana"}})";
    ASSERT_EQ(call(HttpMethod::kPost, "/iceberg/v1/namespaces", created).status, 200);
    EXPECT_EQ(call(HttpMethod::kPost, "/iceberg/v1/namespaces", created).status, 409);
    EXPECT_EQ(
        call(HttpMethod::kPost, "/iceberg/v1/namespaces", R"({"namespace": ["a", "b"]})").status,
        400);
    EXPECT_EQ(call(HttpMethod::kPost, "/iceberg/v1/namespaces", R"({"namespace": ["_x"]})").status,
              400);
    EXPECT_EQ(call(HttpMethod::kPost, "/iceberg/v1/namespaces", "[").status, 400);
    EXPECT_EQ(call(HttpMethod::kHead, "/iceberg/v1/namespaces/staging").status, 204);
    EXPECT_EQ(call(HttpMethod::kHead, "/iceberg/v1/namespaces/nope").status, 404);
    // Kept on disk: a new handler (a restarted server) knows it.
    IcebergCatalogHandler restarted(dir_);
    MetricsRegistry metrics;
    Router router(metrics);
    restarted.add_routes(router);
    HttpRequest request;
    request.path = "/iceberg/v1/namespaces/staging";
    HttpResponse loaded;
    router.dispatch(request, [&](HttpResponse response) { loaded = std::move(response); });
    EXPECT_EQ(loaded.body,
              "{\"namespace\": [\"staging\"], \"properties\": {\"owner\": \"ana\"}}\n");
    EXPECT_EQ(call(HttpMethod::kPost, "/iceberg/v1/namespaces/staging/properties",
                   R"({"removals": ["owner", "absent"], "updates": {"team": "data"}})")
                  .body,
              "{\"updated\": [\"team\"], \"removed\": [\"owner\"], \"missing\": [\"absent\"]}\n");
    EXPECT_EQ(call(HttpMethod::kGet, "/iceberg/v1/namespaces?parent=staging").body,
              "{\"namespaces\": []}\n");
    EXPECT_EQ(call(HttpMethod::kGet, "/iceberg/v1/namespaces").body,
              "{\"namespaces\": [[\"default\"], [\"staging\"]]}\n");
    EXPECT_EQ(call(HttpMethod::kDelete, "/iceberg/v1/namespaces/staging").status, 204);
    EXPECT_EQ(call(HttpMethod::kDelete, "/iceberg/v1/namespaces/staging").status, 404);
    ASSERT_TRUE(LakeTable::create(dir_, "t", Schema({{"id", DataType::kInt64, false}})).ok());
    const HttpResponse not_empty = call(HttpMethod::kDelete, "/iceberg/v1/namespaces/default");
    EXPECT_EQ(not_empty.status, 409);
    EXPECT_NE(not_empty.body.find("NamespaceNotEmptyException"), std::string::npos);
}

TEST_F(IcebergCatalogHandlerTest, CreatesAndDropsTables) {
    const std::string create = R"({"name": "events", "schema": {"type": "struct", "fields": [
        {"id": 1, "name": "user", "required": false, "type": "string"}]},
        "partition-spec": {"fields": [{"source-id": 1, "field-id": 1000, "name": "user",
        "transform": "identity"}]}, "properties": {"owner": "ana"}})";
    const HttpResponse created = call(HttpMethod::kPost, kBase, create);
    ASSERT_EQ(created.status, 200) << created.body;
    EXPECT_NE(created.body.find("\"owner\": \"ana\""), std::string::npos);
    EXPECT_EQ(call(HttpMethod::kPost, kBase, create).status, 409);
    auto table = LakeTable::open(dir_, "events");
    ASSERT_TRUE(table.ok());
    EXPECT_EQ(table->partition_spec().items().size(), 1u);
    EXPECT_EQ(call(HttpMethod::kPost, "/iceberg/v1/namespaces/default/tables",
                   R"({"name": "x", "schema": {"fields": []}, "stage-create": true})")
                  .status,
              400);

    EXPECT_EQ(call(HttpMethod::kDelete, std::string(kBase) + "/events").status, 204);
    EXPECT_EQ(call(HttpMethod::kHead, std::string(kBase) + "/events").status, 404);
    // Without purgeRequested the files are kept aside.
    EXPECT_FALSE(std::filesystem::is_empty(dir_ + "/lake/_dropped"));
    ASSERT_EQ(call(HttpMethod::kPost, kBase, create).status, 200);
    EXPECT_EQ(call(HttpMethod::kDelete, std::string(kBase) + "/events?purgeRequested=true").status,
              204);
    std::size_t kept = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/lake/_dropped")) {
        (void)entry;
        ++kept;
    }
    EXPECT_EQ(kept, 1u);
    EXPECT_EQ(call(HttpMethod::kDelete, std::string(kBase) + "/events").status, 404);
}

// Commits racing for the same metadata version: the losers re-check on the newer version and
// commit after it, so every change lands, each in its own version.
TEST_F(IcebergCatalogHandlerTest, ConcurrentCommitsAllLand) {
    ASSERT_TRUE(LakeTable::create(dir_, "orders", Schema({{"id", DataType::kInt64, false}})).ok());
    constexpr int kWriters = 4;
    constexpr int kCommits = 5;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            for (int c = 0; c < kCommits; ++c) {
                const std::string body =
                    R"({"updates": [{"action": "set-properties", "updates": {"k)" +
                    std::to_string(w) + "-" + std::to_string(c) + R"(": "v"}}]})";
                if (call(HttpMethod::kPost, std::string(kBase) + "/orders", body).status == 200) {
                    ++ok;
                }
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(ok.load(), kWriters * kCommits);
    auto table = LakeTable::open(dir_, "orders");
    ASSERT_TRUE(table.ok());
    auto file = table->current_metadata_file();
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(file->version, 1 + kWriters * kCommits);
    for (int w = 0; w < kWriters; ++w) {
        for (int c = 0; c < kCommits; ++c) {
            const std::string key = "\"k" + std::to_string(w) + "-" + std::to_string(c) + "\"";
            EXPECT_NE(file->json.find(key), std::string::npos) << key;
        }
    }
}

TEST_F(IcebergCatalogHandlerTest, RoutesAreInTheCatalogAuthGroup) {
    BearerAuth auth({ServingToken{"cat", static_cast<uint8_t>(RouteGroup::kCatalog)},
                     ServingToken{"adm", static_cast<uint8_t>(RouteGroup::kAdmin)}});
    router_.set_guard([&auth](const HttpRequest& request, std::string_view group) {
        return auth.check(request, group);
    });
    auto with_token = [&](const std::string& token) {
        HttpRequest request;
        request.path = "/iceberg/v1/namespaces";
        request.headers = {{"Authorization", "Bearer " + token}};
        HttpResponse out;
        router_.dispatch(request, [&](HttpResponse response) { out = std::move(response); });
        return out.status;
    };
    EXPECT_EQ(with_token("cat"), 200);
    EXPECT_EQ(with_token("adm"), 403);
    EXPECT_EQ(with_token("nope"), 401);
}

}  // namespace
}  // namespace millrace
