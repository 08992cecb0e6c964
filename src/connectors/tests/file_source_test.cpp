#include "connectors/file_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "connectors/dead_letter_writer.h"
#include "connectors/file_sink.h"
#include "connectors/tests/sink_test_util.h"

namespace millrace {
namespace {

class FileSourceTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ =
            std::filesystem::temp_directory_path() / ("millrace-fs-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& text) {
        std::string path = (dir_ / name).string();
        std::ofstream(path) << text;
        return path;
    }
    SourceSpec spec(const std::string& pattern) {
        SourceSpec s;
        s.name = "sales";
        s.kind = SourceKind::kFile;
        s.format = DataFormat::kCsv;
        s.path = (dir_ / pattern).string();
        return s;
    }
    std::filesystem::path dir_;
};

TEST_F(FileSourceTest, GlobReadsFilesInOrderInParallel) {
    for (int day = 1; day <= 9; ++day) {
        std::string text = "id,amount\n";
        for (int i = 0; i < 100; ++i)
            text += std::to_string(day * 1000 + i) + "," + std::to_string(i) + ".5\n";
        if (day == 4) text += "bad,row,here\n";
        write("sales_0" + std::to_string(day) + ".csv", text);
    }
    write("other.csv", "id\n1\n");
    auto source = FileSource::open(spec("sales_*.csv"));
    ASSERT_TRUE(source.ok()) << source.error().to_string();
    EXPECT_EQ((*source)->files().size(), 9u);
    EXPECT_EQ((*source)->schema()->to_string(), "{ id: int64, amount: double }");
    CollectingSink sink;
    ASSERT_TRUE((*source)->read(sink, nullptr, 3).ok());
    EXPECT_EQ(sink.rows, 900u);
    ASSERT_EQ(sink.errors.size(), 1u);
    // File order is kept even when files are decoded in parallel.
    int64_t previous = 0;
    for (const Batch& b : sink.batches) {
        for (std::size_t r = 0; r < b.num_rows(); ++r) {
            int64_t id = b.column(0).value<int64_t>(r);
            EXPECT_GT(id, previous);
            previous = id;
        }
    }
}

TEST_F(FileSourceTest, NoMatchingFileIsNotFound) {
    auto source = FileSource::open(spec("nothing_*.csv"));
    ASSERT_FALSE(source.ok());
    EXPECT_EQ(source.error().code(), ErrorCode::kNotFound);
}

TEST_F(FileSourceTest, FileSinkAppearsOnlyOnCommit) {
    auto schema = std::make_shared<const Schema>(std::vector<Field>{{"x", DataType::kInt64, true}});
    std::string path = (dir_ / "out" / "result.csv").string();
    {
        auto sink = FileSink::create(path, DataFormat::kCsv, schema);
        ASSERT_TRUE(sink.ok());
        BatchBuilder b(schema);
        b.column(0).append_int64(7);
        b.commit_row();
        ASSERT_TRUE((*sink)->write(b.finish()).ok());
        EXPECT_FALSE(std::filesystem::exists(path));
        // destroyed without commit: a failed run leaves nothing behind
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_TRUE(std::filesystem::is_empty(dir_ / "out"));
    auto sink = FileSink::create(path, DataFormat::kCsv, schema);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE(commit_once(**sink).ok());
    std::ifstream in(path);
    std::string header;
    std::getline(in, header);
    EXPECT_EQ(header, "x");
}

TEST_F(FileSourceTest, DeadLetterWriterCountsReasons) {
    std::string path = (dir_ / "dlq.ndjson").string();
    auto writer = DeadLetterWriter::create(path, "p");
    ASSERT_TRUE(writer.ok());
    (*writer)->add_decode_error("sales", "a.csv", 3, 2,
                                "field `amount`: expected double, got \"x\"", "1,x");
    (*writer)->add_decode_error("sales", "a.csv", 4, 3,
                                "field `amount`: expected double, got \"y\"", "2,y");
    (*writer)->add_row("evaluate", "view", "v", "division by zero", "{\"a\":1}");
    ASSERT_TRUE((*writer)->finish().ok());
    EXPECT_EQ((*writer)->count(), 3u);
    EXPECT_EQ((*writer)->reasons().at("field `amount`: expected double"), 2u);
    std::ifstream in(path);
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) ++lines;
    EXPECT_EQ(lines, 3);
}

/// Records what a FileSource reports per file.
class RecordingListener final : public SourceReader::Listener {
public:
    void on_unit_start(const std::string& path) override { files.push_back(path); }
    void on_unit_set_aside(const std::string& path, const std::string& reason) override {
        bad.emplace_back(path, reason);
    }
    std::vector<std::string> files;
    std::vector<std::pair<std::string, std::string>> bad;
};

TEST_F(FileSourceTest, CorruptFileIsSetAsideWholeWithItsReason) {
    write("s_1.csv", "id,amount\n1,10\n2,20\n");
    const std::string bad = write("s_2.csv", "id,\"amount\n3,30\n");  // unterminated header
    write("s_3.csv", "id,amount\n4,40\n");
    SourceSpec s = spec("s_*.csv");
    s.schema = parse_schema_spec("id: int64 not null, amount: double").value();
    for (unsigned threads : {1u, 2u}) {
        auto source = FileSource::open(s);
        ASSERT_TRUE(source.ok()) << source.error().to_string();
        CollectingSink sink;
        RecordingListener listener;
        Status status = (*source)->read(sink, &listener, threads);
        ASSERT_TRUE(status.ok()) << status.error().to_string();
        EXPECT_EQ(sink.rows, 3u) << "threads " << threads;
        ASSERT_EQ(listener.bad.size(), 1u);
        EXPECT_EQ(listener.bad[0].first, bad);
        EXPECT_NE(listener.bad[0].second.find("malformed CSV header"), std::string::npos);
        EXPECT_EQ((*source)->bad_files(), 1u);
    }
}

TEST_F(FileSourceTest, MaxBadFilesBoundsWhatIsSetAside) {
    write("s_1.csv", "id,amount\n1,10\n");
    write("s_2.csv", "nothing,here\n1,2\n");  // no `id` column, which is not null
    SourceSpec s = spec("s_*.csv");
    s.schema = parse_schema_spec("id: int64 not null, amount: double").value();
    s.max_bad_files = 0;
    for (unsigned threads : {1u, 2u}) {
        auto source = FileSource::open(s);
        ASSERT_TRUE(source.ok());
        CollectingSink sink;
        RecordingListener listener;
        Status status = (*source)->read(sink, &listener, threads);
        ASSERT_FALSE(status.ok()) << "threads " << threads;
        EXPECT_NE(status.error().message().find("s_2.csv"), std::string::npos);
        EXPECT_TRUE(listener.bad.empty());
    }
    s.max_bad_files.reset();
    s.on_error = OnRecordError::kFail;  // no limit given: 0 with on_error: fail
    auto source = FileSource::open(s);
    ASSERT_TRUE(source.ok());
    CollectingSink sink;
    EXPECT_FALSE((*source)->read(sink, nullptr, 1).ok());
}

// Seeking back over a set-aside file reads it again without counting it twice against
// max_bad_files, and polling sets aside what reading to the end does.
TEST_F(FileSourceTest, SeekingBackRecountsSetAsideFiles) {
    write("s_1.csv", "id,amount\n1,10\n");
    write("s_2.csv", "nothing,here\n1,2\n");  // no `id` column, which is not null
    write("s_3.csv", "id,amount\n3,30\n");
    SourceSpec s = spec("s_*.csv");
    s.schema = parse_schema_spec("id: int64 not null, amount: double").value();
    s.max_bad_files = 1;
    auto source = FileSource::open(s);
    ASSERT_TRUE(source.ok());
    for (int pass = 0; pass < 3; ++pass) {
        CollectingSink sink;
        RecordingListener listener;
        PollResult result = PollResult::kData;
        while (result == PollResult::kData) {
            auto polled = (*source)->poll(sink, 1, &listener);
            ASSERT_TRUE(polled.ok()) << "pass " << pass << ": " << polled.error().to_string();
            result = *polled;
        }
        EXPECT_EQ(sink.rows, 2u);
        EXPECT_EQ(listener.files.size(), 3u);
        EXPECT_EQ(listener.bad.size(), 1u);
        EXPECT_EQ((*source)->bad_files(), 1u);
        ASSERT_TRUE((*source)->seek(SourcePosition{}).ok());
        EXPECT_EQ((*source)->bad_files(), 0u);
    }
}

}  // namespace
}  // namespace millrace
