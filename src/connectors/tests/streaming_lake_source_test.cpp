#include "connectors/streaming_lake_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "lake/lake_writer.h"
#include "types/batch.h"

namespace millrace {
namespace {

class StreamingLakeSourceTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-streaming-lake-source-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        schema_ = std::make_shared<const Schema>(std::vector<Field>{
            {"id", DataType::kInt64, false},
            {"name", DataType::kString, true},
        });
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    /// One commit of rows (id, name) through a writer (appending, or upserting by id). A table
    /// made by the first commit is partitioned by `partition_by` (identity: a file per value).
    void commit(const std::vector<std::pair<int64_t, std::string>>& rows, bool upsert = false,
                const std::vector<std::string>& partition_by = {}) {
        auto table = LakeTable::open(dir_, "orders");
        if (!table.ok()) table = LakeTable::create(dir_, "orders", *schema_, partition_by);
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

    void delete_id(int64_t id) {
        auto table = LakeTable::open(dir_, "orders");
        ASSERT_TRUE(table.ok());
        ASSERT_TRUE(table
                        ->delete_rows([id](const Batch& batch) -> Result<std::vector<uint32_t>> {
                            std::vector<uint32_t> out;
                            for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                                if (batch.column(0).value<int64_t>(r) == id) out.push_back(r);
                            }
                            return out;
                        })
                        .ok());
    }

    SourceSpec spec(bool incremental = false, bool changelog = false) {
        SourceSpec s;
        s.name = "orders";
        s.kind = SourceKind::kLake;
        s.table = "orders";
        s.table_location = SourceLocation{"p.yaml", 4, 14};
        s.incremental = incremental;
        s.changelog = changelog;
        s.poll_interval = std::chrono::microseconds(1);  // every poll looks for new snapshots
        return s;
    }

    static std::unique_ptr<StreamingLakeSource> open(const SourceSpec& s, const std::string& dir) {
        auto source = StreamingLakeSource::open(s, dir);
        EXPECT_TRUE(source.ok()) << source.error().to_string();
        return source.ok() ? std::move(source).value() : nullptr;
    }

    /// The rows of a sink as "id:name" (and ":change" for a changelog), in delivery order.
    static std::vector<std::string> rows_of(const CollectingSink& sink) {
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
        return out;
    }

    /// Polls until the source is idle (it never ends): everything it has now, sorted.
    static std::vector<std::string> drain(SourceReader& source, std::size_t* polls = nullptr) {
        CollectingSink sink;
        std::size_t data = 0;
        for (int i = 0; i < 1000; ++i) {
            auto result = source.poll(sink, 4096, nullptr);
            EXPECT_TRUE(result.ok()) << result.error().to_string();
            if (!result.ok() || *result == PollResult::kIdle) break;
            EXPECT_NE(*result, PollResult::kEnd);
            ++data;
        }
        if (polls != nullptr) *polls = data;
        std::vector<std::string> out = rows_of(sink);
        std::sort(out.begin(), out.end());
        return out;
    }

    std::string dir_;
    std::shared_ptr<const Schema> schema_;
};

TEST_F(StreamingLakeSourceTest, ReadsTheCurrentSnapshotWholeThenEachNewSnapshotsAppends) {
    commit({{1, "a"}, {2, "b"}});
    commit({{2, "B"}}, true);  // an upsert: the current snapshot shows 2:B only
    auto source = open(spec(), dir_);
    ASSERT_NE(source, nullptr);
    EXPECT_EQ(source->position(), (SourcePosition{2, 0, 1}));  // snapshot 2, to read whole
    std::size_t polls = 0;
    EXPECT_EQ(drain(*source, &polls), (std::vector<std::string>{"1:a", "2:B"}));
    EXPECT_EQ(polls, 2u);  // one data file per poll
    EXPECT_EQ(source->position(), (SourcePosition{2, 0, 0}));
    CollectingSink none;
    EXPECT_EQ(*source->poll(none, 4096, nullptr), PollResult::kIdle);
    // Commits while the source polls: each snapshot's appended rows, as appended.
    commit({{3, "c"}});
    EXPECT_EQ(drain(*source), (std::vector<std::string>{"3:c"}));
    commit({{4, "d"}});
    commit({{3, "C"}, {5, "e"}}, true);  // an upsert appends its new rows
    delete_id(1);                        // a delete appends nothing
    EXPECT_EQ(drain(*source), (std::vector<std::string>{"3:C", "4:d", "5:e"}));
    EXPECT_EQ(source->position(), (SourcePosition{6, 0, 0}));
    EXPECT_EQ(source->snapshot_id(), 6u);
    EXPECT_GT(source->bytes_read(), 0u);
}

TEST_F(StreamingLakeSourceTest, ACompactionEmitsNothing) {
    commit({{1, "a"}});
    commit({{2, "b"}});
    auto source = open(spec(), dir_);
    ASSERT_NE(source, nullptr);
    EXPECT_EQ(drain(*source), (std::vector<std::string>{"1:a", "2:b"}));
    auto compacted = LakeTable::open(dir_, "orders")->compact({});
    ASSERT_TRUE(compacted.ok());
    ASSERT_EQ(compacted->snapshot_id, 3u);
    EXPECT_TRUE(drain(*source).empty());
    EXPECT_EQ(source->position(), (SourcePosition{3, 0, 0}));
    commit({{3, "c"}});
    EXPECT_EQ(drain(*source), (std::vector<std::string>{"3:c"}));
    // A changelog sees no change in it either.
    SourceSpec changes = spec(true, true);
    changes.start_snapshot = 2;
    auto changelog = open(changes, dir_);
    ASSERT_NE(changelog, nullptr);
    EXPECT_EQ(drain(*changelog), (std::vector<std::string>{"3:c:insert"}));
}

TEST_F(StreamingLakeSourceTest, SeekingToASavedPositionResumesExactly) {
    // Snapshot 1 has three files (one per partition value), snapshot 2 two.
    commit({{1, "a"}, {2, "b"}, {3, "c"}}, false, {"name"});
    auto source = open(spec(), dir_);
    ASSERT_NE(source, nullptr);
    commit({{4, "a"}, {5, "d"}});
    // Every position the source passes through, and the rows delivered after each.
    std::vector<SourcePosition> positions = {source->position()};
    std::vector<std::vector<std::string>> delivered;
    for (int i = 0; i < 20; ++i) {
        CollectingSink sink;
        auto result = source->poll(sink, 4096, nullptr);
        ASSERT_TRUE(result.ok()) << result.error().to_string();
        if (*result == PollResult::kIdle) break;
        delivered.push_back(rows_of(sink));
        positions.push_back(source->position());
    }
    ASSERT_EQ(delivered.size(), 5u);  // 3 files of snapshot 1 read whole, 2 of snapshot 2
    EXPECT_EQ(positions[1], (SourcePosition{1, 1, 1}));
    EXPECT_EQ(positions[3], (SourcePosition{1, 0, 0}));
    EXPECT_EQ(positions[4], (SourcePosition{1, 1, 0}));
    EXPECT_EQ(positions[5], (SourcePosition{2, 0, 0}));
    // A source opened later (a restart) and sought to any of them delivers exactly the rest.
    commit({{6, "e"}});  // the current snapshot moved on: the saved one is still read
    for (std::size_t p = 0; p < positions.size(); ++p) {
        auto restarted = open(spec(), dir_);
        ASSERT_NE(restarted, nullptr);
        ASSERT_TRUE(restarted->seek(positions[p]).ok()) << positions[p].to_string();
        std::vector<std::string> expected = {"6:e"};
        for (std::size_t d = p; d < delivered.size(); ++d)
            expected.insert(expected.end(), delivered[d].begin(), delivered[d].end());
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(drain(*restarted), expected) << "from " << positions[p].to_string();
    }
    // Positions the source cannot have made.
    auto other = open(spec(), dir_);
    EXPECT_EQ(other->seek(SourcePosition{1, 0, 2}).error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(other->seek(SourcePosition{9, 0, 0}).error().code(), ErrorCode::kOutOfRange);
    ASSERT_TRUE(other->seek(SourcePosition{1, 7, 1}).ok());
    CollectingSink sink;
    EXPECT_EQ(other->poll(sink, 4096, nullptr).error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(StreamingLakeSourceTest, ChangelogDeliversDeletesAndUpsertsAsChangeRows) {
    commit({{1, "a"}, {2, "b"}});
    auto source = open(spec(false, true), dir_);
    ASSERT_NE(source, nullptr);
    EXPECT_EQ(source->schema()->to_string(),
              "{ id: int64 not null, name: string, _change: string not null }");
    // The current snapshot, read whole, comes as inserts.
    EXPECT_EQ(drain(*source), (std::vector<std::string>{"1:a:insert", "2:b:insert"}));
    commit({{2, "B"}, {5, "e"}}, true);
    delete_id(1);
    EXPECT_EQ(drain(*source),
              (std::vector<std::string>{"1:a:delete", "2:B:insert", "2:b:delete", "5:e:insert"}));
    EXPECT_EQ(source->position(), (SourcePosition{3, 0, 0}));
    // Part-way through a snapshot's changes: an upsert reads the older files its keys touch
    // (for the rows it deleted), then the file it added, one file per poll.
    commit({{2, "x"}, {5, "y"}}, true);
    std::vector<SourcePosition> positions = {source->position()};
    std::vector<std::vector<std::string>> delivered;
    for (int i = 0; i < 20; ++i) {
        CollectingSink sink;
        auto result = source->poll(sink, 4096, nullptr);
        ASSERT_TRUE(result.ok()) << result.error().to_string();
        if (*result == PollResult::kIdle) break;
        delivered.push_back(rows_of(sink));
        positions.push_back(source->position());
    }
    ASSERT_GE(delivered.size(), 2u);
    EXPECT_EQ(positions.back(), (SourcePosition{4, 0, 0}));
    EXPECT_EQ(positions[1], (SourcePosition{3, 1, 0}));
    for (std::size_t p = 0; p < positions.size(); ++p) {
        auto restarted = open(spec(false, true), dir_);
        ASSERT_NE(restarted, nullptr);
        ASSERT_TRUE(restarted->seek(positions[p]).ok());
        std::vector<std::string> expected;
        for (std::size_t d = p; d < delivered.size(); ++d)
            expected.insert(expected.end(), delivered[d].begin(), delivered[d].end());
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(drain(*restarted), expected) << "from " << positions[p].to_string();
    }
    std::vector<std::string> all;
    for (const auto& rows : delivered) all.insert(all.end(), rows.begin(), rows.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all,
              (std::vector<std::string>{"2:B:delete", "2:x:insert", "5:e:delete", "5:y:insert"}));
}

TEST_F(StreamingLakeSourceTest, StartsWhereTheSpecSays) {
    commit({{1, "a"}});
    commit({{2, "b"}});
    // incremental: every snapshot's appends (the rows as appended, from snapshot 0).
    EXPECT_EQ(drain(*open(spec(true), dir_)), (std::vector<std::string>{"1:a", "2:b"}));
    SourceSpec after_one = spec(true);
    after_one.start_snapshot = 1;
    EXPECT_EQ(drain(*open(after_one, dir_)), (std::vector<std::string>{"2:b"}));
    // start_from: latest: only what is committed from now on.
    SourceSpec latest = spec();
    latest.start_from = StartFrom::kLatest;
    auto source = open(latest, dir_);
    ASSERT_NE(source, nullptr);
    EXPECT_TRUE(drain(*source).empty());
    commit({{3, "c"}});
    EXPECT_EQ(drain(*source), (std::vector<std::string>{"3:c"}));
    // A start after the table's current snapshot is a config error.
    SourceSpec ahead = spec(true);
    ahead.start_snapshot = 9;
    auto refused = StreamingLakeSource::open(ahead, dir_);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kConfig);
    // An unknown table: at `table:` in the user's file.
    SourceSpec unknown = spec();
    unknown.table = "ordrs";
    auto missing = StreamingLakeSource::open(unknown, dir_);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), ErrorCode::kConfig);
    EXPECT_EQ(missing.error().location().line, 4);
}

TEST_F(StreamingLakeSourceTest, LooksForNewSnapshotsOncePerPollInterval) {
    commit({{1, "a"}});
    SourceSpec slow = spec();
    slow.poll_interval = std::chrono::hours(1);
    auto source = open(slow, dir_);
    ASSERT_NE(source, nullptr);
    EXPECT_EQ(drain(*source), (std::vector<std::string>{"1:a"}));
    commit({{2, "b"}});
    // Not looked for yet: the metadata was read when the source opened.
    EXPECT_TRUE(drain(*source).empty());
    // A seek (a restore) reads the metadata again.
    ASSERT_TRUE(source->seek(source->position()).ok());
    EXPECT_EQ(drain(*source), (std::vector<std::string>{"2:b"}));
}

TEST_F(StreamingLakeSourceTest, AnExpiredSnapshotIsAnErrorNotASkip) {
    commit({{1, "a"}});
    auto source = open(spec(), dir_);
    ASSERT_NE(source, nullptr);
    EXPECT_EQ(drain(*source), (std::vector<std::string>{"1:a"}));
    const SourcePosition saved = source->position();  // snapshot 1 delivered
    commit({{2, "b"}});
    commit({{3, "c"}});
    auto table = LakeTable::open(dir_, "orders");
    auto expired = table->expire_snapshots(std::numeric_limits<int64_t>::max(), 1);
    ASSERT_TRUE(expired.ok()) << expired.error().to_string();
    ASSERT_EQ(expired->snapshots_expired, 2u);
    // The running source, and a restart from the saved position, both stop and say why.
    CollectingSink sink;
    auto polled = source->poll(sink, 4096, nullptr);
    ASSERT_FALSE(polled.ok());
    EXPECT_EQ(polled.error().code(), ErrorCode::kNotFound);
    EXPECT_NE(polled.error().message().find("snapshot 1 of lake table `orders`"), std::string::npos)
        << polled.error().message();
    EXPECT_TRUE(sink.batches.empty());
    auto restarted = open(spec(), dir_);
    ASSERT_NE(restarted, nullptr);
    Status sought = restarted->seek(saved);
    ASSERT_FALSE(sought.ok());
    EXPECT_EQ(sought.error().code(), ErrorCode::kNotFound);
    EXPECT_NE(sought.error().message().find("remove the pipeline's checkpoints"),
              std::string::npos);
}

}  // namespace
}  // namespace millrace
