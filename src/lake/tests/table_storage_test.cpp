#include "lake/table_storage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "common/mapped_file.h"
#include "lake/lake_table.h"
#include "lake/lake_writer.h"
#include "storage/local_object_store.h"

namespace millrace {
namespace {

// Lake tables whose files live in an object store. The store here is the local one (a folder
// standing for a bucket): the commit protocol (unique object names, the catalog pointer) is the
// same as for S3, which tests/integration/lake_s3_test.sh runs against s3rver.
class TableStorageTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-table-storage-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        schema_ = std::make_shared<const Schema>(std::vector<Field>{
            {"id", DataType::kInt64, false},
            {"store", DataType::kString, true},
        });
        config_.storage = dir_ + "/bucket";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    Batch rows(int64_t first, int64_t count) {
        BatchBuilder builder(schema_);
        for (int64_t i = first; i < first + count; ++i) {
            builder.column(0).append_int64(i);
            builder.column(1).append_string(i % 2 == 0 ? "a" : "b");
            builder.commit_row();
        }
        return builder.finish();
    }

    uint64_t count(const LakeTable& table) {
        auto stats = table.scan({}, [](Batch) { return Status(); });
        EXPECT_TRUE(stats.ok()) << stats.error().to_string();
        return stats.ok() ? stats->rows : 0;
    }

    Status write_commit(const LakeTable& table, int64_t first, int64_t n, uint64_t checkpoint,
                        const std::string& writer_id = "w") {
        LakeWriterOptions options;
        options.writer_id = writer_id;
        options.staging = LakeStaging::kPrivate;
        MILLRACE_ASSIGN_OR_RETURN(auto writer, LakeWriter::open(table, options));
        MILLRACE_TRY(writer->write(rows(first, n)));
        MILLRACE_TRY(writer->pre_commit(checkpoint));
        MILLRACE_ASSIGN_OR_RETURN(uint64_t snapshot, writer->commit(checkpoint));
        (void)snapshot;
        return {};
    }

    std::vector<std::string> files_under(const std::string& root, std::string_view suffix) {
        std::vector<std::string> out;
        std::error_code error;
        for (auto it = std::filesystem::recursive_directory_iterator(root, error);
             !error && it != std::filesystem::recursive_directory_iterator(); ++it) {
            const std::string path = it->path().string();
            if (path.size() >= suffix.size() &&
                path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0 &&
                path.find("/_staging/") == std::string::npos) {
                out.push_back(path);
            }
        }
        return out;
    }

    std::string dir_;
    std::shared_ptr<const Schema> schema_;
    ObjectStoreConfig config_;
};

TEST_F(TableStorageTest, TablesLiveInTheStoreAndTheirPointerInTheCatalog) {
    auto table = LakeTable::create(dir_, "orders", *schema_, {"store"}, &config_);
    ASSERT_TRUE(table.ok()) << table.error().to_string();
    EXPECT_TRUE(table->in_object_store());
    ASSERT_TRUE(write_commit(*table, 0, 100, 1).ok());
    ASSERT_TRUE(write_commit(*table, 100, 50, 2, "other").ok());
    EXPECT_EQ(count(*table), 150u);

    // Opened by name alone (as readers do), the table is found in the store.
    auto opened = LakeTable::open(dir_, "orders");
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    EXPECT_TRUE(opened->in_object_store());
    EXPECT_EQ(count(*opened), 150u);
    EXPECT_EQ(*opened->current_snapshot_id(), 2u);
    EXPECT_EQ(*LakeTable::list(dir_), std::vector<std::string>{"orders"});

    // Data and metadata are objects; locally only the catalog entry (and staging) remain.
    EXPECT_TRUE(files_under(dir_ + "/lake", ".parquet").empty());
    EXPECT_TRUE(files_under(dir_ + "/lake", ".avro").empty());
    EXPECT_EQ(files_under(dir_ + "/bucket/orders", ".parquet").size(), 4u);
    EXPECT_EQ(files_under(dir_ + "/bucket/orders/metadata", ".metadata.json").size(), 3u);
    auto catalog = read_file(dir_ + "/lake/orders/object-store.catalog");
    ASSERT_TRUE(catalog.ok());
    EXPECT_NE(catalog->find("version 3 " + dir_ + "/bucket/orders/metadata/v3-"),
              std::string::npos);

    // The REST catalog's view: the metadata URL the pointer names.
    auto current = opened->current_metadata_file();
    ASSERT_TRUE(current.ok());
    EXPECT_EQ(current->version, 3);
    EXPECT_NE(current->path.find("/bucket/orders/metadata/v3-"), std::string::npos);
}

TEST_F(TableStorageTest, ConcurrentCommittersEachGetTheirOwnVersion) {
    ASSERT_TRUE(LakeTable::create(dir_, "t", *schema_, {}, &config_).ok());
    constexpr int kWriters = 4;
    constexpr int kCommits = 4;
    std::vector<std::thread> threads;
    std::vector<std::string> failures(kWriters);
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            auto table = LakeTable::open(dir_, "t");
            if (!table.ok()) {
                failures[w] = table.error().to_string();
                return;
            }
            for (int c = 1; c <= kCommits; ++c) {
                Status status = write_commit(*table, (w * kCommits + c - 1) * 10, 10,
                                             static_cast<uint64_t>(c), "w" + std::to_string(w));
                if (!status.ok()) {
                    failures[w] = status.error().to_string();
                    return;
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    for (const std::string& failure : failures) EXPECT_EQ(failure, "");
    auto table = LakeTable::open(dir_, "t");
    ASSERT_TRUE(table.ok());
    EXPECT_EQ(*table->current_snapshot_id(), static_cast<uint64_t>(kWriters * kCommits));
    EXPECT_EQ(count(*table), static_cast<uint64_t>(kWriters * kCommits * 10));
    // Lost races deleted their metadata objects: one per version is left.
    EXPECT_EQ(files_under(dir_ + "/bucket/t/metadata", ".metadata.json").size(),
              static_cast<std::size_t>(kWriters * kCommits + 1));
}

TEST_F(TableStorageTest, AnUnfinishedCommitLeavesOnlyOrphansThatRemovalDeletes) {
    auto table = LakeTable::create(dir_, "t", *schema_, {"store"}, &config_);
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE(write_commit(*table, 0, 20, 1).ok());
    // What a committer killed before its pointer moved leaves: a data file, a manifest and a
    // metadata version that no catalog line names.
    LocalObjectStore store(dir_ + "/bucket");
    ASSERT_TRUE(store.put("t/store=a/part-dead-0.parquet", "not parquet").ok());
    ASSERT_TRUE(store.put("t/metadata/dead-m0.avro", "x").ok());
    ASSERT_TRUE(store.put("t/metadata/v3-dead.metadata.json", "{}").ok());
    EXPECT_EQ(count(*table), 20u);
    EXPECT_EQ(*table->current_snapshot_id(), 1u);
    auto removed = table->remove_orphan_files(0);
    ASSERT_TRUE(removed.ok()) << removed.error().to_string();
    EXPECT_EQ(*removed, 3u);
    EXPECT_EQ(count(*table), 20u);
    // Young objects are left alone (a commit may be writing them).
    ASSERT_TRUE(store.put("t/store=a/part-young-0.parquet", "x").ok());
    EXPECT_EQ(*table->remove_orphan_files(3'600'000), 0u);
}

TEST_F(TableStorageTest, MaintenanceAndDeletesWorkOnTheStore) {
    auto table = LakeTable::create(dir_, "t", *schema_, {"store"}, &config_);
    ASSERT_TRUE(table.ok());
    for (uint64_t c = 1; c <= 3; ++c) {
        ASSERT_TRUE(
            write_commit(*table, static_cast<int64_t>(c) * 100, 10, c, "w" + std::to_string(c))
                .ok());
    }
    auto deleted = table->delete_rows([](const Batch& batch) -> Result<std::vector<uint32_t>> {
        std::vector<uint32_t> out;
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            if (batch.column(0).value<int64_t>(r) % 10 == 0)
                out.push_back(static_cast<uint32_t>(r));
        }
        return out;
    });
    ASSERT_TRUE(deleted.ok()) << deleted.error().to_string();
    EXPECT_EQ(deleted->rows_deleted, 3u);
    EXPECT_EQ(count(*table), 27u);
    auto compacted = table->compact({});
    ASSERT_TRUE(compacted.ok()) << compacted.error().to_string();
    EXPECT_EQ(count(*table), 27u);
    auto expired = table->expire_snapshots(std::numeric_limits<int64_t>::max(), 1);
    ASSERT_TRUE(expired.ok()) << expired.error().to_string();
    EXPECT_GT(expired->files_deleted, 0u);
    EXPECT_EQ(count(*table), 27u);
    auto manifest = table->snapshot();
    ASSERT_TRUE(manifest.ok());
    EXPECT_EQ(files_under(dir_ + "/bucket/t", ".parquet").size(),
              manifest->files.size() + manifest->deletes.size());
}

TEST_F(TableStorageTest, APreparedTableIsCreatedByItsFirstCommitOnly) {
    auto prepared = LakeTable::prepare(dir_, "p", *schema_, {}, &config_);
    ASSERT_TRUE(prepared.ok());
    EXPECT_EQ(LakeTable::open(dir_, "p").error().code(), ErrorCode::kNotFound);
    ASSERT_TRUE(write_commit(*prepared, 0, 5, 1).ok());
    auto opened = LakeTable::open(dir_, "p");
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    EXPECT_EQ(count(*opened), 5u);
    EXPECT_EQ(*opened->current_snapshot_id(), 1u);
}

}  // namespace
}  // namespace millrace
