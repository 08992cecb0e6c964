// The SourceReader contract, run by every source implementation: read everything, save the
// position part-way, seek back to it and read the same records again.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "connectors/file_source.h"
#include "connectors/source.h"
#include "connectors/topic_source.h"
#include "log/log.h"
#include "log/topic.h"

namespace millrace {
namespace {

constexpr int kUnits = 3;
constexpr int kRowsPerUnit = 40;

/// One source implementation over kUnits units of kRowsPerUnit records with distinct ids; one
/// record in the middle does not decode.
class SourceHarness {
public:
    explicit SourceHarness(std::string dir) : dir_(std::move(dir)) {
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    virtual ~SourceHarness() { std::filesystem::remove_all(dir_); }
    virtual Result<std::unique_ptr<SourceReader>> open() = 0;

protected:
    static std::string record(int unit, int row, bool json) {
        const int id = unit * 1000 + row;
        if (unit == 1 && row == 7) return json ? "{\"id\":\"bad\"}" : "bad,row";
        return json ? "{\"id\":" + std::to_string(id) + "}" : std::to_string(id) + ",1.5";
    }
    std::string dir_;
};

class FileHarness final : public SourceHarness {
public:
    explicit FileHarness(std::string dir) : SourceHarness(std::move(dir)) {
        for (int unit = 0; unit < kUnits; ++unit) {
            std::ofstream out(dir_ + "/part_" + std::to_string(unit) + ".csv");
            out << "id,amount\n";
            for (int row = 0; row < kRowsPerUnit; ++row) out << record(unit, row, false) << "\n";
        }
    }
    Result<std::unique_ptr<SourceReader>> open() override {
        SourceSpec spec;
        spec.name = "parts";
        spec.kind = SourceKind::kFile;
        spec.format = DataFormat::kCsv;
        spec.path = dir_ + "/part_*.csv";
        spec.schema = parse_schema_spec("id: int64 not null, amount: double").value();
        MILLRACE_ASSIGN_OR_RETURN(auto source, FileSource::open(spec));
        return std::unique_ptr<SourceReader>(std::move(source));
    }
};

class TopicHarness final : public SourceHarness {
public:
    explicit TopicHarness(std::string dir) : SourceHarness(std::move(dir)) {
        auto log = Log::open(dir_, clock_);
        if (!log.ok()) return;
        log_ = std::move(log).value();
        TopicConfig config;
        config.partitions = kUnits;
        config.schema = "id: int64 not null";
        auto topic = log_->create_topic("events", config);
        if (!topic.ok()) return;
        // Each unit's records go to one partition, through a key of that partition.
        for (int unit = 0; unit < kUnits; ++unit) {
            std::string key;
            for (int k = 0; k < 1000; ++k) {
                key = "k" + std::to_string(k);
                if ((*topic)->partition_for_key(key) == unit) break;
            }
            std::vector<std::string> values;
            for (int row = 0; row < kRowsPerUnit; ++row) values.push_back(record(unit, row, true));
            std::vector<RecordInput> records;
            for (const std::string& value : values) {
                RecordInput input;
                input.key = std::string_view(key);
                input.value = value;
                records.push_back(input);
            }
            auto appends = (*topic)->append(records);
            if (appends.ok()) (void)(*topic)->wait_durable(*appends);
        }
    }
    ~TopicHarness() override { log_.reset(); }
    Result<std::unique_ptr<SourceReader>> open() override {
        if (!log_) return Error(ErrorCode::kIo, "the log did not open");
        SourceSpec spec;
        spec.name = "events";
        spec.kind = SourceKind::kTopic;
        spec.topic = "events";
        MILLRACE_ASSIGN_OR_RETURN(auto source, TopicSource::open(spec, *log_));
        return std::unique_ptr<SourceReader>(std::move(source));
    }

private:
    SystemClock clock_;
    std::unique_ptr<Log> log_;
};

/// The ids delivered, and the rejected records as "error@record_index".
struct Delivered {
    std::vector<int64_t> ids;
    std::vector<uint64_t> errors;
};

class RecordingSink final : public DecodeSink {
public:
    explicit RecordingSink(Delivered& out) : out_(out) {}
    Status on_batch(Batch batch) override {
        for (std::size_t r = 0; r < batch.num_rows(); ++r)
            out_.ids.push_back(batch.column(0).value<int64_t>(r));
        return {};
    }
    void on_error(RowError error) override { out_.errors.push_back(error.record_index); }

private:
    Delivered& out_;
};

struct SourceKindParam {
    std::string name;
    std::function<std::unique_ptr<SourceHarness>(std::string dir)> make;
};

class SourceConformance : public ::testing::TestWithParam<SourceKindParam> {
protected:
    void SetUp() override {
        harness_ = GetParam().make(
            (std::filesystem::temp_directory_path() /
             ("millrace-source-conformance-" + std::to_string(::getpid()) + "-" + GetParam().name))
                .string());
    }
    std::unique_ptr<SourceReader> open() {
        auto source = harness_->open();
        EXPECT_TRUE(source.ok()) << source.error().to_string();
        return source.ok() ? std::move(source).value() : nullptr;
    }
    /// Polls to the end, `max_records` at a time; counts the polls that delivered.
    static std::size_t poll_to_end(SourceReader& source, Delivered& out, std::size_t max_records) {
        RecordingSink sink(out);
        std::size_t polls = 0;
        for (int guard = 0; guard < 10'000; ++guard) {
            auto result = source.poll(sink, max_records, nullptr);
            EXPECT_TRUE(result.ok()) << result.error().to_string();
            if (!result.ok() || *result == PollResult::kEnd) return polls;
            EXPECT_EQ(*result, PollResult::kData) << "a bounded source never idles";
            ++polls;
        }
        ADD_FAILURE() << "no end of input";
        return polls;
    }

    std::unique_ptr<SourceHarness> harness_;
};

TEST_P(SourceConformance, ReadsEveryRecordOnceAndEnds) {
    auto source = open();
    ASSERT_TRUE(source);
    Delivered all;
    poll_to_end(*source, all, 16);
    EXPECT_EQ(all.ids.size(), std::size_t{kUnits * kRowsPerUnit - 1});
    EXPECT_EQ(all.errors.size(), 1u);
    EXPECT_EQ(source->units(), std::size_t{kUnits});
    EXPECT_GT(source->bytes_read(), 0u);
    // At the end it stays at the end.
    Delivered more;
    RecordingSink sink(more);
    auto again = source->poll(sink, 16, nullptr);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, PollResult::kEnd);
    EXPECT_TRUE(more.ids.empty());

    // read_to_end delivers what polling does, in the same order.
    auto fresh = open();
    Delivered whole;
    RecordingSink whole_sink(whole);
    ASSERT_TRUE(fresh->read_to_end(whole_sink, nullptr).ok());
    EXPECT_EQ(whole.ids, all.ids);
}

TEST_P(SourceConformance, SeekingBackToASavedPositionReadsTheSameRecords) {
    auto source = open();
    ASSERT_TRUE(source);
    Delivered head;
    RecordingSink head_sink(head);
    // Part-way: two polls in.
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(source->poll(head_sink, 16, nullptr).ok());
    const SourcePosition saved = source->position();
    // The position survives being written down (a checkpoint).
    auto parsed = SourcePosition::parse(saved.to_string());
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_EQ(*parsed, saved);

    Delivered tail;
    poll_to_end(*source, tail, 16);
    ASSERT_FALSE(tail.ids.empty());
    ASSERT_TRUE(source->seek(*parsed).ok());
    EXPECT_EQ(source->position(), saved);
    Delivered replay;
    poll_to_end(*source, replay, 16);
    EXPECT_EQ(replay.ids, tail.ids);
    EXPECT_EQ(replay.errors, tail.errors);

    // A new reader of the same source, sought to the position, reads the same tail.
    auto other = open();
    ASSERT_TRUE(other->seek(saved).ok());
    Delivered resumed;
    poll_to_end(*other, resumed, 16);
    EXPECT_EQ(resumed.ids, tail.ids);
    // Head and tail together are everything, once.
    Delivered all;
    poll_to_end(*open(), all, 16);
    std::vector<int64_t> joined = head.ids;
    joined.insert(joined.end(), tail.ids.begin(), tail.ids.end());
    EXPECT_EQ(joined, all.ids);
}

TEST_P(SourceConformance, RefusesPositionsOutsideItsBounds) {
    auto source = open();
    ASSERT_TRUE(source);
    EXPECT_EQ(source->seek(SourcePosition{kUnits + 1, 0, 0}).error().code(),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(source->seek(SourcePosition{0, 1'000'000, 0}).error().code(),
              ErrorCode::kInvalidArgument);
    EXPECT_FALSE(SourcePosition::parse("1:2").ok());
    EXPECT_FALSE(SourcePosition::parse("a:b:c").ok());
    EXPECT_FALSE(SourcePosition::parse("1:2::5").ok());
    EXPECT_FALSE(SourcePosition::parse("1:2:3:4:5").ok());
    EXPECT_FALSE(SourcePosition::parse("1:2:3:").ok());
    auto with_origin = SourcePosition::parse("1:2:0:-17");
    ASSERT_TRUE(with_origin.ok());
    EXPECT_EQ(with_origin->origin_micros, -17);
    EXPECT_EQ(with_origin->to_string(), "1:2:0:-17");
}

template <typename H>
SourceKindParam kind(std::string name) {
    return SourceKindParam{name, [](std::string dir) { return std::make_unique<H>(dir); }};
}

INSTANTIATE_TEST_SUITE_P(EverySource, SourceConformance,
                         ::testing::Values(kind<FileHarness>("file"), kind<TopicHarness>("topic")),
                         [](const ::testing::TestParamInfo<SourceKindParam>& info) {
                             return info.param.name;
                         });

}  // namespace
}  // namespace millrace
