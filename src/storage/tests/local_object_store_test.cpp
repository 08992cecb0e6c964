#include "storage/local_object_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace millrace {
namespace {

class LocalObjectStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/local_object_store_test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string dir_;
};

TEST_F(LocalObjectStoreTest, PutGetListRemove) {
    LocalObjectStore store(dir_ + "/root");
    ASSERT_TRUE(store.put("t/metadata/a.json", "hello").ok());
    ASSERT_TRUE(store.put("t/day=1/b.parquet", "0123456789").ok());
    ASSERT_TRUE(store.put("u/c", "x").ok());
    EXPECT_EQ(*store.get("t/metadata/a.json"), "hello");
    EXPECT_EQ(*store.get_range("t/day=1/b.parquet", 2, 3), "234");
    EXPECT_EQ(*store.get_range("t/day=1/b.parquet", 8, 10), "89");
    EXPECT_EQ(store.get("nope").error().code(), ErrorCode::kNotFound);
    auto listed = store.list("t/");
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[0].key, "t/day=1/b.parquet");
    EXPECT_EQ((*listed)[0].size, 10u);
    EXPECT_EQ((*listed)[1].key, "t/metadata/a.json");
    auto head = store.head("u/c");
    ASSERT_TRUE(head.ok() && head->has_value());
    EXPECT_EQ((*head)->size, 1u);
    ASSERT_TRUE(store.remove("u/c").ok());
    ASSERT_TRUE(store.remove("u/c").ok());  // absent: fine
    EXPECT_FALSE(store.head("u/c")->has_value());
    EXPECT_EQ(store.url("t/x"), dir_ + "/root/t/x");
}

TEST_F(LocalObjectStoreTest, PutFileAndGetFileCopy) {
    LocalObjectStore store(dir_ + "/root");
    {
        std::ofstream out(dir_ + "/in.bin", std::ios::binary);
        out << std::string(100000, 'z');
    }
    ASSERT_TRUE(store.put_file("k/in.bin", dir_ + "/in.bin").ok());
    ASSERT_TRUE(store.get_file("k/in.bin", dir_ + "/out.bin").ok());
    EXPECT_EQ(std::filesystem::file_size(dir_ + "/out.bin"), 100000u);
    EXPECT_EQ(store.get_file("k/missing", dir_ + "/x").error().code(), ErrorCode::kNotFound);
}

TEST(ObjectStore, OpenChecksTheConfiguration) {
    ObjectStoreConfig config;
    config.storage = "s3://";
    config.endpoint = "http://127.0.0.1:9000";
    EXPECT_EQ(open_object_store(config).error().code(), ErrorCode::kConfig);
    config.storage = "s3://bucket/prefix";
    config.endpoint = "https://s3.amazonaws.com";
    EXPECT_EQ(open_object_store(config).error().code(), ErrorCode::kConfig);
    config.endpoint = "";
    EXPECT_EQ(open_object_store(config).error().code(), ErrorCode::kConfig);
    config.endpoint = "http://127.0.0.1:9000";
    ::setenv("AWS_ACCESS_KEY_ID", "id", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    auto store = open_object_store(config);
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->url("t/a"), "s3://bucket/prefix/t/a");
    ::unsetenv("AWS_SECRET_ACCESS_KEY");
    EXPECT_EQ(open_object_store(config).error().code(), ErrorCode::kConfig);
}

}  // namespace
}  // namespace millrace
