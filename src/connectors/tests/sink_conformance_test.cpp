// The Sink contract, run by every sink implementation: write, pre-commit, crash before commit
// (destroyed without commit, then a reader looks), abort, commit, and a replayed commit id.
// What a reader may see before commit depends on the sink's declared delivery guarantee.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "connectors/dead_letter_topic.h"
#include "connectors/feature_writer.h"
#include "connectors/file_sink.h"
#include "connectors/kafka_sink.h"
#include "connectors/kafka_transaction.h"
#include "connectors/lake_sink.h"
#include "connectors/online_sink.h"
#include "connectors/sink.h"
#include "connectors/tests/kafka_test_listener.h"
#include "connectors/topic_sink.h"
#include "lake/lake_table.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/topic.h"
#include "online/online_store.h"
#include "types/batch.h"

namespace millrace {
namespace {

std::shared_ptr<const Schema> test_schema() {
    static const auto schema = std::make_shared<const Schema>(std::vector<Field>{
        {"id", DataType::kInt64, false},
        {"amount", DataType::kFloat64, true},
    });
    return schema;
}

/// Rows with ids [first, first + count).
Batch make_rows(int64_t first, int64_t count) {
    BatchBuilder builder(test_schema());
    for (int64_t i = first; i < first + count; ++i) {
        builder.column(0).append_int64(i);
        builder.column(1).append_double(static_cast<double>(i) * 1.5);
        builder.commit_row();
    }
    return builder.finish();
}

/// One sink implementation and a reader of its target, in a folder of its own.
class SinkHarness {
public:
    explicit SinkHarness(std::string dir) : dir_(std::move(dir)) {
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    virtual ~SinkHarness() { std::filesystem::remove_all(dir_); }
    /// A new sink on the same target (a restarted run).
    virtual Result<std::unique_ptr<Sink>> open() = 0;
    /// Rows a reader of the target sees now.
    virtual Result<uint64_t> visible_rows() = 0;

protected:
    std::string dir_;
};

class FileHarness final : public SinkHarness {
public:
    using SinkHarness::SinkHarness;
    Result<std::unique_ptr<Sink>> open() override {
        MILLRACE_ASSIGN_OR_RETURN(auto sink,
                                  FileSink::create(path(), DataFormat::kCsv, test_schema()));
        return std::unique_ptr<Sink>(std::move(sink));
    }
    Result<uint64_t> visible_rows() override {
        if (!std::filesystem::exists(path())) return uint64_t{0};
        std::ifstream in(path());
        std::string line;
        uint64_t lines = 0;
        while (std::getline(in, line)) ++lines;
        return lines == 0 ? 0 : lines - 1;  // the header
    }

private:
    std::string path() const { return dir_ + "/out/rows.csv"; }
};

class LakeHarness final : public SinkHarness {
public:
    using SinkHarness::SinkHarness;
    Result<std::unique_ptr<Sink>> open() override {
        MILLRACE_ASSIGN_OR_RETURN(auto sink,
                                  LakeSink::create(dir_, "rows", {}, test_schema(), "conformance"));
        return std::unique_ptr<Sink>(std::move(sink));
    }
    Result<uint64_t> visible_rows() override {
        auto table = LakeTable::open(dir_, "rows");
        if (!table.ok() && table.error().code() == ErrorCode::kNotFound) return uint64_t{0};
        if (!table.ok()) return std::move(table).error();
        uint64_t rows = 0;
        LakeTable::ScanOptions scan;
        MILLRACE_TRY(table->scan(scan, [&](Batch batch) {
            rows += batch.num_rows();
            return Status();
        }));
        return rows;
    }
};

class TopicHarness final : public SinkHarness {
public:
    explicit TopicHarness(std::string dir) : SinkHarness(std::move(dir)) {
        auto log = Log::open(dir_, clock_);
        if (log.ok()) log_ = std::move(log).value();
    }
    ~TopicHarness() override { log_.reset(); }
    Result<std::unique_ptr<Sink>> open() override {
        if (!log_) return Error(ErrorCode::kIo, "the log did not open");
        MILLRACE_ASSIGN_OR_RETURN(auto sink, TopicSink::create(*log_, "rows", "", *test_schema()));
        return std::unique_ptr<Sink>(std::move(sink));
    }
    Result<uint64_t> visible_rows() override {
        std::shared_ptr<Topic> topic = log_->find_topic("rows");
        if (!topic) return uint64_t{0};
        uint64_t rows = 0;
        for (int32_t p = 0; p < topic->partition_count(); ++p) {
            rows += static_cast<uint64_t>(topic->partition(p)->end_offset() -
                                          topic->partition(p)->start_offset());
        }
        return rows;
    }

private:
    SystemClock clock_;
    std::unique_ptr<Log> log_;
};

/// The dead-letter topic: rows written become envelopes in the topic on commit.
class DeadLetterTopicHarness final : public SinkHarness {
public:
    explicit DeadLetterTopicHarness(std::string dir) : SinkHarness(std::move(dir)) {
        auto log = Log::open(dir_, clock_);
        if (log.ok()) log_ = std::move(log).value();
    }
    ~DeadLetterTopicHarness() override { log_.reset(); }
    Result<std::unique_ptr<Sink>> open() override {
        if (!log_) return Error(ErrorCode::kIo, "the log did not open");
        Log* log = log_.get();
        MILLRACE_ASSIGN_OR_RETURN(
            auto sink, DeadLetterTopic::create("dlq.rows", [log]() { return Result<Log*>(log); }));
        return std::unique_ptr<Sink>(std::move(sink));
    }
    Result<uint64_t> visible_rows() override {
        std::shared_ptr<Topic> topic = log_->find_topic("dlq.rows");
        if (!topic) return uint64_t{0};
        return static_cast<uint64_t>(topic->partition(0)->end_offset() -
                                     topic->partition(0)->start_offset());
    }

private:
    SystemClock clock_;
    std::unique_ptr<Log> log_;
};

/// The kafka sink against an in-process Kafka listener over a log of its own: what a reader
/// sees is what the log's topic holds.
class KafkaHarness final : public SinkHarness {
public:
    explicit KafkaHarness(std::string dir) : SinkHarness(dir), kafka_(dir) {}
    Result<std::unique_ptr<Sink>> open() override {
        if (!kafka_.started()) return Error(ErrorCode::kIo, "the Kafka listener did not start");
        MILLRACE_ASSIGN_OR_RETURN(auto sink, KafkaSink::create(kafka_.spec(), *test_schema()));
        return std::unique_ptr<Sink>(std::move(sink));
    }
    Result<uint64_t> visible_rows() override {
        std::shared_ptr<Topic> topic = kafka_.log().find_topic("rows");
        uint64_t rows = 0;
        for (int32_t p = 0; p < topic->partition_count(); ++p) {
            rows += static_cast<uint64_t>(topic->partition(p)->end_offset() -
                                          topic->partition(p)->start_offset());
        }
        return rows;
    }

private:
    KafkaListener kafka_;
};

/// The kafka sink of a streaming run: through a KafkaTransaction, against the same in-process
/// listener. A reader is a read_committed consumer: the partitions' records up to the last
/// stable offset, without the aborted ones. open() is a restarted run: a new producer with the
/// same transactional.id, whose first transaction aborts what the last one left open.
class KafkaTransactionalHarness final : public SinkHarness {
public:
    explicit KafkaTransactionalHarness(std::string dir) : SinkHarness(dir), kafka_(dir) {}
    ~KafkaTransactionalHarness() override { transaction_.reset(); }
    Result<std::unique_ptr<Sink>> open() override {
        if (!kafka_.started()) return Error(ErrorCode::kIo, "the Kafka listener did not start");
        SinkSpec spec = kafka_.spec();
        transaction_.reset();
        MILLRACE_ASSIGN_OR_RETURN(transaction_,
                                  KafkaTransaction::create(spec, "millrace-conformance",
                                                           std::chrono::milliseconds(1000)));
        MILLRACE_ASSIGN_OR_RETURN(auto sink,
                                  KafkaSink::create(spec, *test_schema(), transaction_.get()));
        return std::unique_ptr<Sink>(std::move(sink));
    }
    Result<uint64_t> visible_rows() override {
        std::shared_ptr<Topic> topic = kafka_.log().find_topic("rows");
        uint64_t rows = 0;
        for (int32_t p = 0; p < topic->partition_count(); ++p) {
            const Partition& partition = *topic->partition(p);
            Offset at = partition.start_offset();
            const Offset end = partition.end_offset();
            while (at < end) {
                std::string buffer;
                std::vector<RecordView> records;
                MILLRACE_ASSIGN_OR_RETURN(Offset next,
                                          partition.read(at, end, 1000, 1 << 20, buffer, records));
                rows += records.size();
                if (next == at) break;  // the last stable offset
                at = next;
            }
        }
        return rows;
    }

private:
    KafkaListener kafka_;
    std::unique_ptr<KafkaTransaction> transaction_;
};

class OnlineHarness final : public SinkHarness {
public:
    explicit OnlineHarness(std::string dir) : SinkHarness(std::move(dir)) {
        view_.name = "rows";
        view_.entities = {{"id", DataType::kInt64}};
        view_.features = {{"amount", DataType::kFloat64, Value::float64(0), ""}};
        auto store = OnlineStore::open(dir_ + "/online", {view_}, OnlineStoreOptions{}, nullptr);
        if (store.ok()) {
            store_ = std::move(store).value();
            writer_ = make_store_feature_writer(*store_);
        }
    }
    ~OnlineHarness() override {
        writer_.reset();
        store_.reset();
    }
    Result<std::unique_ptr<Sink>> open() override {
        if (!store_) return Error(ErrorCode::kIo, "the online store did not open");
        MILLRACE_ASSIGN_OR_RETURN(
            auto sink, OnlineSink::create(*writer_, *store_->find_view("rows"), *test_schema(), {},
                                          "", nullptr));
        return std::unique_ptr<Sink>(std::move(sink));
    }
    Result<uint64_t> visible_rows() override {
        std::vector<std::vector<Value>> keys;
        for (int64_t id = 0; id < 1000; ++id) keys.push_back({Value::int64(id)});
        std::vector<FeatureLookup> found;
        store_->lookup(*store_->find_view("rows"), keys, SystemClock().now_micros(), std::nullopt,
                       found);
        uint64_t rows = 0;
        for (const FeatureLookup& lookup : found) rows += lookup.status != FeatureStatus::kNotFound;
        return rows;
    }

private:
    FeatureView view_;
    std::unique_ptr<OnlineStore> store_;
    std::unique_ptr<FeatureWriter> writer_;
};

struct SinkKindParam {
    std::string name;
    std::function<std::unique_ptr<SinkHarness>(std::string dir)> make;
};

class SinkConformance : public ::testing::TestWithParam<SinkKindParam> {
protected:
    void SetUp() override {
        const std::string dir =
            (std::filesystem::temp_directory_path() /
             ("millrace-sink-conformance-" + std::to_string(::getpid()) + "-" + GetParam().name))
                .string();
        harness_ = GetParam().make(dir);
        auto sink = harness_->open();
        ASSERT_TRUE(sink.ok()) << sink.error().to_string();
        sink_ = std::move(sink).value();
    }
    void TearDown() override {
        sink_.reset();
        harness_.reset();
    }

    uint64_t visible() {
        auto rows = harness_->visible_rows();
        EXPECT_TRUE(rows.ok()) << rows.error().to_string();
        return rows.ok() ? *rows : 0;
    }
    /// 15 rows in two batches.
    void write_rows(Sink& sink) {
        ASSERT_TRUE(sink.write(make_rows(0, 10)).ok());
        ASSERT_TRUE(sink.write(make_rows(10, 5)).ok());
    }
    bool transactional() const { return sink_->guarantee() == DeliveryGuarantee::kTransactional; }

    std::unique_ptr<SinkHarness> harness_;
    std::unique_ptr<Sink> sink_;
};

TEST_P(SinkConformance, CommitPublishesEveryRowWritten) {
    write_rows(*sink_);
    EXPECT_EQ(sink_->rows_written(), 15u);
    ASSERT_TRUE(sink_->pre_commit(1).ok());
    if (transactional()) {
        EXPECT_EQ(visible(), 0u) << "visible after pre_commit alone";
    }
    ASSERT_TRUE(sink_->commit(1).ok());
    EXPECT_EQ(visible(), 15u);
}

TEST_P(SinkConformance, RowsWrittenBetweenPreCommitAndCommitGoToTheNextCommit) {
    // Asynchronous checkpoints: the run writes the next checkpoint's rows before this one's
    // commit, into every sink that says it can take them.
    if (!sink_->overlaps_commits()) GTEST_SKIP() << "the runner waits for this sink's commits";
    ASSERT_TRUE(sink_->write(make_rows(0, 10)).ok());
    ASSERT_TRUE(sink_->pre_commit(1).ok());
    ASSERT_TRUE(sink_->write(make_rows(10, 5)).ok());
    ASSERT_TRUE(sink_->commit(1).ok());
    if (transactional()) {
        EXPECT_EQ(visible(), 10u) << "the next commit's rows are visible with this one";
    } else {
        EXPECT_GE(visible(), 10u);
    }
    ASSERT_TRUE(sink_->pre_commit(2).ok());
    ASSERT_TRUE(sink_->commit(2).ok());
    EXPECT_EQ(visible(), 15u) << "every row, once";
}

TEST_P(SinkConformance, CrashBeforeCommitPublishesNothingOfATransaction) {
    write_rows(*sink_);
    ASSERT_TRUE(sink_->pre_commit(1).ok());
    const bool was_transactional = transactional();
    sink_.reset();  // destroyed without commit: a killed or failed run
    if (was_transactional) {
        EXPECT_EQ(visible(), 0u);
    }
    // The re-run writes the same rows and commits them.
    auto again = harness_->open();
    ASSERT_TRUE(again.ok()) << again.error().to_string();
    write_rows(**again);
    ASSERT_TRUE((*again)->pre_commit(2).ok());
    ASSERT_TRUE((*again)->commit(2).ok());
    if ((*again)->guarantee() == DeliveryGuarantee::kAtLeastOnce) {
        EXPECT_GE(visible(), 15u);
    } else {
        EXPECT_EQ(visible(), 15u) << "a re-run must leave the target as one clean run would";
    }
}

TEST_P(SinkConformance, AbortDropsWhatWasNotCommitted) {
    write_rows(*sink_);
    ASSERT_TRUE(sink_->pre_commit(1).ok());
    sink_->abort();
    if (transactional()) {
        EXPECT_EQ(visible(), 0u);
    }
    // The aborted commit cannot be committed any more.
    EXPECT_FALSE(sink_->commit(1).ok());
    sink_.reset();
    if (GetParam().name != "topic" && GetParam().name != "online" && GetParam().name != "kafka") {
        EXPECT_EQ(visible(), 0u);
    }
}

TEST_P(SinkConformance, ReplayOfTheLastCommitIdIsANoOp) {
    write_rows(*sink_);
    ASSERT_TRUE(sink_->pre_commit(7).ok());
    ASSERT_TRUE(sink_->commit(7).ok());
    const uint64_t after_commit = visible();
    EXPECT_EQ(after_commit, 15u);
    EXPECT_TRUE(sink_->commit(7).ok()) << "a replayed commit is not an error";
    EXPECT_EQ(visible(), after_commit);
    EXPECT_EQ(sink_->rows_written(), 15u);
}

TEST_P(SinkConformance, CommitIdsAreCheckedNotTrusted) {
    write_rows(*sink_);
    EXPECT_EQ(sink_->commit(3).error().code(), ErrorCode::kInvalidArgument)
        << "committing what was never pre-committed";
    EXPECT_EQ(sink_->pre_commit(0).error().code(), ErrorCode::kInvalidArgument);
    ASSERT_TRUE(sink_->pre_commit(3).ok());
    ASSERT_TRUE(sink_->commit(3).ok());
    EXPECT_EQ(sink_->pre_commit(2).error().code(), ErrorCode::kInvalidArgument)
        << "commit ids only grow";
}

template <typename H>
SinkKindParam kind(std::string name) {
    return SinkKindParam{name, [](std::string dir) { return std::make_unique<H>(dir); }};
}

INSTANTIATE_TEST_SUITE_P(EverySink, SinkConformance,
                         ::testing::Values(kind<FileHarness>("file"), kind<LakeHarness>("lake"),
                                           kind<TopicHarness>("topic"),
                                           kind<OnlineHarness>("online"),
                                           kind<KafkaHarness>("kafka"),
                                           kind<KafkaTransactionalHarness>("kafka_transactional"),
                                           kind<DeadLetterTopicHarness>("dead_letter_topic")),
                         [](const ::testing::TestParamInfo<SinkKindParam>& info) {
                             return info.param.name;
                         });

TEST(SinkGuarantees, EachSinkDeclaresWhatItPromises) {
    const std::string dir = (std::filesystem::temp_directory_path() /
                             ("millrace-sink-guarantees-" + std::to_string(::getpid())))
                                .string();
    struct Expected {
        SinkKindParam kind;
        DeliveryGuarantee guarantee;
    };
    for (const Expected& expected :
         {Expected{kind<FileHarness>("file"), DeliveryGuarantee::kTransactional},
          Expected{kind<LakeHarness>("lake"), DeliveryGuarantee::kTransactional},
          Expected{kind<TopicHarness>("topic"), DeliveryGuarantee::kAtLeastOnce},
          Expected{kind<OnlineHarness>("online"), DeliveryGuarantee::kIdempotent},
          Expected{kind<KafkaHarness>("kafka"), DeliveryGuarantee::kAtLeastOnce},
          Expected{kind<KafkaTransactionalHarness>("kafka_transactional"),
                   DeliveryGuarantee::kTransactional},
          Expected{kind<DeadLetterTopicHarness>("dead_letter_topic"),
                   DeliveryGuarantee::kAtLeastOnce}}) {
        auto harness = expected.kind.make(dir);
        auto sink = harness->open();
        ASSERT_TRUE(sink.ok()) << sink.error().to_string();
        EXPECT_EQ(delivery_guarantee_name((*sink)->guarantee()),
                  delivery_guarantee_name(expected.guarantee))
            << expected.kind.name;
        // A Kafka sink's one open transaction would take the next rows into this commit; a
        // file is committed once, at the stop.
        const bool waits =
            expected.kind.name.rfind("kafka", 0) == 0 || expected.kind.name == "file";
        EXPECT_EQ((*sink)->overlaps_commits(), !waits) << expected.kind.name;
    }
}

}  // namespace
}  // namespace millrace
