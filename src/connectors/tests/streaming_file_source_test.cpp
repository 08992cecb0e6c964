#include "connectors/streaming_file_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "types/batch.h"

namespace millrace {
namespace {

/// Records which files were started and set aside.
class RecordingListener final : public SourceReader::Listener {
public:
    void on_unit_start(const std::string& where) override { started.push_back(where); }
    void on_unit_set_aside(const std::string& where, const std::string& reason) override {
        set_aside.push_back(where + ": " + reason);
    }
    std::vector<std::string> started;
    std::vector<std::string> set_aside;
};

class StreamingFileSourceTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("millrace-sfs-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_ / "in");
        spec_.name = "events";
        spec_.kind = SourceKind::kFile;
        spec_.format = DataFormat::kCsv;
        spec_.watch = true;
        spec_.path = (dir_ / "in").string();
        spec_.poll_interval = std::chrono::microseconds(1);  // every poll scans
        spec_.schema = Schema(std::vector<Field>{{"id", DataType::kInt64, false}});
        progress_ = (dir_ / "state" / "files-events.progress").string();
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    /// Writes `name` in the watched folder with modification time `mtime` (seconds).
    std::string write(const std::string& name, const std::string& text, int64_t mtime) {
        std::string path = (dir_ / "in" / name).string();
        std::ofstream(path) << text;
        struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
        ::utimensat(AT_FDCWD, path.c_str(), times, 0);
        return path;
    }

    std::unique_ptr<StreamingFileSource> open() {
        auto source = StreamingFileSource::open(spec_, progress_);
        EXPECT_TRUE(source.ok()) << source.error().to_string();
        return source.ok() ? std::move(source).value() : nullptr;
    }

    /// Polls until idle (at most `limit` polls), returning the ids read in order.
    std::vector<int64_t> drain(StreamingFileSource& source, int limit = 20) {
        std::vector<int64_t> ids;
        int idle = 0;
        for (int i = 0; i < limit && idle < 2; ++i) {
            CollectingSink sink;
            auto result = source.poll(sink, 1000, &listener_);
            EXPECT_TRUE(result.ok()) << result.error().to_string();
            if (!result.ok() || *result == PollResult::kEnd) break;
            idle = *result == PollResult::kIdle ? idle + 1 : 0;
            for (const Batch& batch : sink.batches) {
                auto values = batch.column(0).values<int64_t>();
                ids.insert(ids.end(), values.begin(), values.begin() + batch.num_rows());
            }
        }
        return ids;
    }

    std::filesystem::path dir_;
    SourceSpec spec_;
    std::string progress_;
    RecordingListener listener_;
};

TEST_F(StreamingFileSourceTest, NewFilesArePickedUpInMtimeThenNameOrder) {
    write("b.csv", "id\n2\n", 1000);
    write("a.csv", "id\n3\n", 2000);
    write("c.csv", "id\n21\n22\n", 1000);  // same mtime as b: by name
    auto source = open();
    ASSERT_TRUE(source);
    CollectingSink sink;
    // The first scan only sees the files: they are read once unchanged for one more scan.
    EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kIdle);
    EXPECT_EQ(drain(*source), (std::vector<int64_t>{2, 21, 22, 3}));
    write("d.csv", "id\n4\n", 500);  // arrives later: read after the others, whatever its mtime
    EXPECT_EQ(drain(*source), (std::vector<int64_t>{4}));
    EXPECT_EQ(source->units(), 4u);
    EXPECT_EQ(source->position(), (SourcePosition{4, 0, 0}));
    EXPECT_EQ(listener_.started.size(), 4u);
}

TEST_F(StreamingFileSourceTest, DotfilesTempFilesAndFoldersAreIgnoredUntilRenamed) {
    write(".hidden.csv", "id\n100\n", 1000);
    const std::string tmp = write("x.csv.tmp", "id\n101\n", 1000);
    write("y.csv.partial", "id\n102\n", 1000);
    std::filesystem::create_directories(dir_ / "in" / "sub");
    write("z.csv", "id\n1\n", 1000);
    auto source = open();
    ASSERT_TRUE(source);
    EXPECT_EQ(drain(*source), (std::vector<int64_t>{1}));
    // The writer renames its finished file: now it is read.
    std::filesystem::rename(tmp, dir_ / "in" / "x.csv");
    EXPECT_EQ(drain(*source), (std::vector<int64_t>{101}));
}

TEST_F(StreamingFileSourceTest, AFileStillGrowingWaitsUntilItIsUnchangedForOneScan) {
    const std::string path = write("a.csv", "id\n1\n", 1000);
    auto source = open();
    ASSERT_TRUE(source);
    CollectingSink sink;
    EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kIdle);
    std::ofstream(path, std::ios::app) << "2\n";  // the writer appends between two scans
    EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kIdle);
    EXPECT_EQ(sink.rows, 0u);
    EXPECT_EQ(drain(*source), (std::vector<int64_t>{1, 2}));
}

TEST_F(StreamingFileSourceTest, ARestartReadsOnlyFilesNotReadBeforeAndNeverRereadsChangedOnes) {
    const std::string a = write("a.csv", "id\n1\n", 1000);
    write("b.csv", "id\n2\n", 2000);
    {
        auto source = open();
        ASSERT_TRUE(source);
        EXPECT_EQ(drain(*source), (std::vector<int64_t>{1, 2}));
        ASSERT_TRUE(source->commit_progress().ok());
    }
    write("c.csv", "id\n3\n", 3000);
    std::ofstream(a, std::ios::app) << "9\n";  // changed after it was read
    auto source = open();
    ASSERT_TRUE(source);
    EXPECT_EQ(source->position(), (SourcePosition{2, 0, 0}));
    EXPECT_EQ(drain(*source), (std::vector<int64_t>{3}));
    ASSERT_EQ(source->warnings().size(), 1u);  // once, not at every scan
    EXPECT_NE(source->warnings()[0].find("changed after it was read"), std::string::npos);
    ASSERT_EQ(source->files_read().size(), 3u);
    EXPECT_EQ(source->files_read()[2].path, (dir_ / "in" / "c.csv").string());
}

TEST_F(StreamingFileSourceTest, PositionsRoundTripThroughSeek) {
    write("a.csv", "id\n1\n", 1000);
    write("b.csv", "id\n2\n", 2000);
    write("c.csv", "id\n3\n", 3000);
    auto source = open();
    ASSERT_TRUE(source);
    EXPECT_EQ(drain(*source), (std::vector<int64_t>{1, 2, 3}));
    const SourcePosition end = source->position();
    auto parsed = SourcePosition::parse(SourcePosition{1, 0, 0}.to_string());
    ASSERT_TRUE(parsed.ok());
    ASSERT_TRUE(source->seek(*parsed).ok());
    EXPECT_EQ(source->position(), (SourcePosition{1, 0, 0}));
    // The files after the position are read again, in the same order.
    EXPECT_EQ(drain(*source), (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(source->position(), end);
    EXPECT_FALSE(source->seek(SourcePosition{4, 0, 0}).ok());
    EXPECT_FALSE(source->seek(SourcePosition{1, 10, 0}).ok());
}

TEST_F(StreamingFileSourceTest, AFileRemovedBeforeItIsReadIsSkippedWithAWarning) {
    write("a.csv", "id\n1\n", 1000);
    const std::string b = write("b.csv", "id\n2\n", 2000);
    auto source = open();
    ASSERT_TRUE(source);
    CollectingSink sink;
    EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kIdle);
    EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kData);  // a
    std::filesystem::remove(b);
    EXPECT_EQ(drain(*source), std::vector<int64_t>{});
    ASSERT_EQ(source->warnings().size(), 1u);
    EXPECT_NE(source->warnings()[0].find("removed before it was read"), std::string::npos);
    EXPECT_EQ(source->units(), 1u);
}

TEST_F(StreamingFileSourceTest, AnUnreadableFileIsSetAsideAndNotRetried) {
    write("a.csv", "other\n1\n", 1000);  // lacks the declared column
    write("b.csv", "id\n2\n", 2000);
    auto source = open();
    ASSERT_TRUE(source);
    EXPECT_EQ(drain(*source), (std::vector<int64_t>{2}));
    ASSERT_EQ(listener_.set_aside.size(), 1u);
    EXPECT_NE(listener_.set_aside[0].find("a.csv"), std::string::npos);
    EXPECT_EQ(source->bad_files(), 1u);
    EXPECT_EQ(source->units(), 2u);
}

TEST_F(StreamingFileSourceTest, SchemaIsInferredFromTheOldestFileOrMustBeDeclared) {
    spec_.schema.reset();
    EXPECT_EQ(StreamingFileSource::open(spec_, progress_).error().code(), ErrorCode::kNotFound);
    write("new.csv", "id,name\n1,x\n", 2000);
    write("old.csv", "id\n1\n", 1000);
    auto source = StreamingFileSource::open(spec_, progress_);
    ASSERT_TRUE(source.ok()) << source.error().to_string();
    EXPECT_EQ((*source)->schema()->to_string(), "{ id: int64 }");
}

TEST_F(StreamingFileSourceTest, ProgressTextRoundTripsAndCorruptTextIsRefused) {
    StreamingFileSource::Progress progress{
        {{"/d/a b.csv", 12, 1700000000123456789}, {"/d/c.csv", 0, 5}}, 1};
    const std::string text = StreamingFileSource::format_progress(progress);
    auto parsed = StreamingFileSource::parse_progress(text, "p");
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_EQ(*parsed, progress);
    // A last line cut short by a crash is not there.
    parsed = StreamingFileSource::parse_progress(text + "file 3 4 /d/e.c", "p");
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_EQ(*parsed, progress);
    EXPECT_EQ(StreamingFileSource::parse_progress("junk", "p").error().code(),
              ErrorCode::kCorruption);
    EXPECT_EQ(StreamingFileSource::parse_progress(text + "file 12 x\n", "p").error().code(),
              ErrorCode::kCorruption);
    EXPECT_EQ(StreamingFileSource::parse_progress(text + "commit 3\n", "p").error().code(),
              ErrorCode::kCorruption);
}

TEST_F(StreamingFileSourceTest, AReaderOpenedLaterSeeksToAPositionAndReadsTheSameTail) {
    write("a.csv", "id\n1\n", 1000);
    write("b.csv", "id\n2\n", 2000);
    write("c.csv", "id\n3\n", 3000);
    SourcePosition saved;
    {
        auto source = open();
        ASSERT_TRUE(source);
        CollectingSink sink;
        EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kIdle);
        EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kData);  // a
        saved = source->position();                                        // a checkpoint
        EXPECT_EQ(drain(*source), (std::vector<int64_t>{2, 3}));
        ASSERT_TRUE(source->commit_progress().ok());
    }
    // A file with an older mtime arrives: a reader sought back still reads b and c first, in
    // the order the first reader did, then the new file.
    write("d.csv", "id\n4\n", 500);
    auto source = open();
    ASSERT_TRUE(source);
    ASSERT_TRUE(source->seek(saved).ok());
    EXPECT_EQ(drain(*source), (std::vector<int64_t>{2, 3, 4}));
}

TEST_F(StreamingFileSourceTest, FilesDeliveredButNotCommittedAreReadAgainInTheSameOrder) {
    write("a.csv", "id\n1\n", 1000);
    write("b.csv", "id\n2\n", 2000);
    {
        auto source = open();
        ASSERT_TRUE(source);
        CollectingSink sink;
        EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kIdle);
        EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kData);  // a
        ASSERT_TRUE(source->commit_progress().ok());
        EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kData);  // b, not committed
        // The run stops here without committing (a crash).
    }
    auto source = open();
    ASSERT_TRUE(source);
    EXPECT_EQ(source->position(), (SourcePosition{1, 0, 0}));
    // b is read again before the scan has even seen it: it is in the ledger.
    CollectingSink sink;
    EXPECT_EQ(*source->poll(sink, 1000, nullptr), PollResult::kData);
    EXPECT_EQ(sink.rows, 1u);
    EXPECT_EQ(drain(*source), std::vector<int64_t>{});
    EXPECT_EQ(source->position(), (SourcePosition{2, 0, 0}));
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(StreamingFileSourceWatches, NamesTheFilesItWouldRead) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("millrace-sfs-watch-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "in");
    SourceSpec spec;
    spec.kind = SourceKind::kFile;
    spec.watch = true;
    spec.path = (dir / "in").string();
    EXPECT_TRUE(watched_folder_holds(spec, (dir / "in" / "out.csv").string()));
    EXPECT_FALSE(watched_folder_holds(spec, (dir / "in" / "out.csv.tmp").string()));
    EXPECT_FALSE(watched_folder_holds(spec, (dir / "in" / "sub" / "out.csv").string()));
    EXPECT_FALSE(watched_folder_holds(spec, (dir / "out.csv").string()));
    spec.path = (dir / "in" / "*.ndjson").string();
    EXPECT_FALSE(watched_folder_holds(spec, (dir / "in" / "out.csv").string()));
    EXPECT_TRUE(watched_folder_holds(spec, (dir / "in" / "x.ndjson").string()));
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace millrace
