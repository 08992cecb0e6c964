#include "connectors/lake_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/durable_file.h"
#include "lake/lake_writer.h"
#include "types/batch.h"

namespace millrace {
namespace {

class LakeSourceTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-lake-source-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        schema_ = std::make_shared<const Schema>(std::vector<Field>{
            {"id", DataType::kInt64, false},
            {"name", DataType::kString, true},
        });
        progress_ = dir_ + "/pipelines/p/lake-orders.snapshot";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    /// One commit of rows (id, name) through a writer (appending, or upserting by id).
    void commit(const std::vector<std::pair<int64_t, std::string>>& rows, bool upsert = false) {
        auto table = LakeTable::open(dir_, "orders");
        if (!table.ok()) table = LakeTable::create(dir_, "orders", *schema_);
        ASSERT_TRUE(table.ok()) << table.error().to_string();
        LakeWriterOptions options;
        options.writer_id = "w";
        options.staging = LakeStaging::kPrivate;
        if (upsert) options.upsert_key = {"id"};
        auto writer = LakeWriter::open(*table, options);
        ASSERT_TRUE(writer.ok()) << writer.error().to_string();
        BatchBuilder builder(schema_);
        for (const auto& [id, name] : rows) {
            builder.column(0).append_int64(id);
            builder.column(1).append_string(name);
            builder.commit_row();
        }
        ASSERT_TRUE((*writer)->write(builder.finish()).ok());
        ASSERT_TRUE((*writer)->pre_commit(1).ok());
        ASSERT_TRUE((*writer)->commit(1).ok());
    }

    SourceSpec spec(bool incremental = false, bool changelog = false) {
        SourceSpec s;
        s.name = "orders";
        s.kind = SourceKind::kLake;
        s.table = "orders";
        s.table_location = SourceLocation{"p.yaml", 4, 14};
        s.incremental = incremental;
        s.changelog = changelog;
        return s;
    }

    /// Everything a source delivers, as "id:name" (and ":change" for a changelog), sorted.
    static std::vector<std::string> read(SourceReader& source) {
        CollectingSink sink;
        EXPECT_TRUE(source.read_to_end(sink, nullptr).ok());
        std::vector<std::string> out;
        for (const Batch& batch : sink.batches) {
            for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                std::string row = std::to_string(batch.column(0).value<int64_t>(r)) + ":" +
                                  std::string(batch.column(1).string_at(r));
                if (batch.num_columns() == 3)
                    row += ":" + std::string(batch.column(2).string_at(r));
                out.push_back(std::move(row));
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    std::string dir_;
    std::string progress_;
    std::shared_ptr<const Schema> schema_;
};

TEST_F(LakeSourceTest, ReadsTheCurrentSnapshotWithDeletesApplied) {
    commit({{1, "a"}, {2, "b"}, {3, "c"}});
    commit({{2, "B"}}, true);  // an upsert: equality delete of the old row
    auto table = LakeTable::open(dir_, "orders");
    ASSERT_TRUE(table
                    ->delete_rows([](const Batch& batch) -> Result<std::vector<uint32_t>> {
                        std::vector<uint32_t> out;
                        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                            if (batch.column(0).value<int64_t>(r) == 3) out.push_back(r);
                        }
                        return out;
                    })
                    .ok());
    auto source = LakeSource::open(spec(), dir_, "");
    ASSERT_TRUE(source.ok()) << source.error().to_string();
    EXPECT_EQ((*source)->schema()->to_string(), schema_->to_string());
    EXPECT_EQ((*source)->snapshot_id(), 3u);
    EXPECT_EQ(read(**source), (std::vector<std::string>{"1:a", "2:B"}));
    // At the end it stays there; seeking to the start reads again.
    CollectingSink more;
    EXPECT_EQ(*(*source)->poll(more, 100, nullptr), PollResult::kEnd);
    EXPECT_EQ((*source)->position(), (SourcePosition{1, 0, 0}));
    ASSERT_TRUE((*source)->seek(SourcePosition{0, 0, 0}).ok());
    EXPECT_EQ(read(**source).size(), 2u);
    EXPECT_EQ((*source)->seek(SourcePosition{2, 0, 0}).error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LakeSourceTest, IncrementalReadsWhatWasAppendedSinceTheCommittedSnapshot) {
    commit({{1, "a"}, {2, "b"}});
    {
        auto first = LakeSource::open(spec(true), dir_, progress_);
        ASSERT_TRUE(first.ok()) << first.error().to_string();
        EXPECT_EQ((*first)->read_after(), std::optional<uint64_t>(0));
        EXPECT_EQ(read(**first), (std::vector<std::string>{"1:a", "2:b"}));
        ASSERT_TRUE((*first)->commit_progress().ok());
    }
    EXPECT_EQ((*LakeSource::read_progress(progress_))->snapshot, 1u);
    EXPECT_EQ((*LakeSource::read_progress(progress_))->table_uuid.size(), 36u);
    commit({{3, "c"}});
    {
        // A run that does not commit moves nothing: the next one reads the same rows.
        auto failed = LakeSource::open(spec(true), dir_, progress_);
        ASSERT_TRUE(failed.ok());
        EXPECT_EQ(read(**failed), (std::vector<std::string>{"3:c"}));
    }
    auto retried = LakeSource::open(spec(true), dir_, progress_);
    ASSERT_TRUE(retried.ok());
    EXPECT_EQ(read(**retried), (std::vector<std::string>{"3:c"}));
    // A commit made while the run reads is left for the next run.
    commit({{4, "d"}});
    ASSERT_TRUE((*retried)->commit_progress().ok());
    EXPECT_EQ((*LakeSource::read_progress(progress_))->snapshot, 2u);
    auto next = LakeSource::open(spec(true), dir_, progress_);
    EXPECT_EQ(read(**next), (std::vector<std::string>{"4:d"}));
    ASSERT_TRUE((*next)->commit_progress().ok());
    // A compaction adds no rows.
    ASSERT_TRUE(LakeTable::open(dir_, "orders")->compact({}).ok());
    auto after_compaction = LakeSource::open(spec(true), dir_, progress_);
    EXPECT_TRUE(read(**after_compaction).empty());
    // start_snapshot: where a pipeline without progress starts.
    SourceSpec from_two = spec(true);
    from_two.start_snapshot = 2;
    auto started = LakeSource::open(from_two, dir_, "");
    EXPECT_EQ(read(**started), (std::vector<std::string>{"4:d"}));
}

TEST_F(LakeSourceTest, ChangelogDeliversDeletesAndInsertsWithAChangeColumn) {
    commit({{1, "a"}, {2, "b"}});
    auto first = LakeSource::open(spec(true, true), dir_, progress_);
    ASSERT_TRUE(first.ok()) << first.error().to_string();
    EXPECT_EQ((*first)->schema()->to_string(),
              "{ id: int64 not null, name: string, _change: string not null }");
    EXPECT_EQ(read(**first), (std::vector<std::string>{"1:a:insert", "2:b:insert"}));
    ASSERT_TRUE((*first)->commit_progress().ok());
    commit({{2, "B"}, {5, "e"}}, true);
    auto table = LakeTable::open(dir_, "orders");
    ASSERT_TRUE(table
                    ->delete_rows([](const Batch& batch) -> Result<std::vector<uint32_t>> {
                        std::vector<uint32_t> out;
                        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                            if (batch.column(0).value<int64_t>(r) == 1) out.push_back(r);
                        }
                        return out;
                    })
                    .ok());
    auto second = LakeSource::open(spec(true, true), dir_, progress_);
    EXPECT_EQ(read(**second),
              (std::vector<std::string>{"1:a:delete", "2:B:insert", "2:b:delete", "5:e:insert"}));
}

TEST_F(LakeSourceTest, RefusesWhatItCannotRead) {
    // An unknown table is a config error at `table:` in the user's file.
    auto unknown = LakeSource::open(spec(), dir_, "");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code(), ErrorCode::kConfig);
    EXPECT_EQ(unknown.error().location().file, "p.yaml");
    EXPECT_EQ(unknown.error().location().line, 4);
    EXPECT_EQ(LakeSource::schema_of(spec(), dir_).error().code(), ErrorCode::kConfig);
    commit({{1, "a"}});
    // Progress beyond the table (a table dropped and made again).
    ASSERT_TRUE(create_directories_durably(dir_ + "/pipelines/p").ok());
    ASSERT_TRUE(write_file_durably(progress_, "snapshot 9\n").ok());
    auto ahead = LakeSource::open(spec(true), dir_, progress_);
    ASSERT_FALSE(ahead.ok());
    EXPECT_EQ(ahead.error().code(), ErrorCode::kConfig);
    ASSERT_TRUE(write_file_durably(progress_,
                                   "snapshot 1\ntable-uuid 00000000-0000-4000-8000-000000000000\n")
                    .ok());
    auto other = LakeSource::open(spec(true), dir_, progress_);
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().code(), ErrorCode::kConfig);  // the progress of another table
    ASSERT_TRUE(write_file_durably(progress_, "snapshot x\n").ok());
    EXPECT_EQ(LakeSource::open(spec(true), dir_, progress_).error().code(), ErrorCode::kCorruption);
    // A table with a `_change` column cannot take a changelog's.
    auto clash = LakeTable::create(
        dir_, "clash",
        Schema({{"id", DataType::kInt64, false}, {"_change", DataType::kString, true}}));
    ASSERT_TRUE(clash.ok());
    SourceSpec changes = spec(true, true);
    changes.table = "clash";
    EXPECT_EQ(LakeSource::open(changes, dir_, "").error().code(), ErrorCode::kConfig);
}

}  // namespace
}  // namespace millrace
