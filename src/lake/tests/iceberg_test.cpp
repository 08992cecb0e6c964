#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "common/durable_file.h"
#include "common/mapped_file.h"
#include "formats/avro_reader.h"
#include "formats/parquet/parquet_reader.h"
#include "formats/parquet/parquet_writer.h"
#include "lake/iceberg_manifest.h"
#include "lake/iceberg_metadata.h"
#include "lake/lake_table.h"
#include "lake/lake_writer.h"

namespace millrace {
namespace {

Schema all_types() {
    return Schema({{"b", DataType::kBool, true},
                   {"i", DataType::kInt32, true},
                   {"l", DataType::kInt64, false},
                   {"f", DataType::kFloat64, true},
                   {"s", DataType::kString, true},
                   {"y", DataType::kBytes, true},
                   {"t", DataType::kTimestamp, true},
                   {"d", DataType::kDate, true}});
}

ColumnStatistics stats(Value lo, Value hi) {
    ColumnStatistics s;
    s.min = std::move(lo);
    s.max = std::move(hi);
    s.row_count = 10;
    s.null_count = 1;
    return s;
}

TEST(IcebergManifestCodec, RoundTripsFilesPartitionsAndStatisticsOfEveryType) {
    const Schema schema = all_types();
    auto spec =
        PartitionSpec::parse({"date(t)", "s", "month(d)", "year(t)", "hour(t) as h"}, schema);
    ASSERT_TRUE(spec.ok()) << spec.error().to_string();
    IcebergManifestCodec codec(schema, *spec, "/data/lake/x");
    DataFile f;
    f.path = "day=2026-11-23/s=a%2Fb/month=2026-11/year=2026/h=2026-11-23-05/part-1.parquet";
    f.rows = 10;
    f.bytes = 999;
    f.columns = {stats(Value::boolean(false), Value::boolean(true)),
                 stats(Value::int32(-5), Value::int32(5)),
                 stats(Value::int64(-9'007'199'254'740'993), Value::int64(INT64_MAX)),
                 stats(Value::float64(0.1), Value::float64(1e300)),
                 stats(Value::string("\"quoted\" é"), Value::string("z")),
                 stats(Value::bytes(std::string("\x00\xff", 2)), Value::bytes("b")),
                 stats(Value::timestamp(-1), Value::timestamp(1'795'404'600'000'001)),
                 stats(Value::date(-3), Value::date(20000))};
    DataFile existing = f;
    existing.path =
        "day=2026-11-22/s=__HIVE_DEFAULT_PARTITION__/month=2026-11/year=2026/"
        "h=2026-11-22-00/part-0.parquet";
    existing.added_snapshot_id = 3;
    existing.sequence_number = 3;
    auto bytes = codec.encode_manifest({{1, f}, {0, existing}}, 7);
    ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();

    // The Avro file carries the spec's metadata keys and field ids.
    auto reader = AvroReader::open(*bytes, "m.avro");
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(reader->metadata_value("format-version"), "2");
    EXPECT_EQ(reader->metadata_value("content"), "data");
    EXPECT_EQ(reader->metadata_value("partition-spec-id"), "0");
    EXPECT_NE(reader->metadata_value("schema").find("\"timestamptz\""), std::string::npos);
    EXPECT_NE(reader->metadata_value("partition-spec").find("\"transform\": \"month\""),
              std::string::npos);
    const AvroNode& root = reader->schema().root();
    EXPECT_EQ(root.fields[0].field_id, 0);
    const AvroNode& data_file = *root.fields[4].type;
    EXPECT_EQ(root.fields[4].field_id, 2);
    EXPECT_EQ(data_file.fields[data_file.field_index("lower_bounds").value()].field_id, 125);
    auto rows = reader->read_all();
    ASSERT_TRUE(rows.ok());
    // The partition tuple: day 2026-11-23 as days, s, months, years and hours since 1970.
    const AvroValue& partition = rows->at(0).items[4].items[3];
    ASSERT_EQ(partition.items.size(), 5u);
    EXPECT_EQ(partition.items[0].integer, 20780);  // 2026-11-23
    EXPECT_EQ(partition.items[1].bytes, "a/b");
    EXPECT_EQ(partition.items[2].integer, (2026 - 1970) * 12 + 10);
    EXPECT_EQ(partition.items[3].integer, 2026 - 1970);
    EXPECT_EQ(partition.items[4].integer, 20780 * 24 + 5);
    EXPECT_TRUE(rows->at(1).items[4].items[3].items[1].is_null());
    // ADDED entries inherit their sequence number; EXISTING ones carry theirs.
    EXPECT_TRUE(rows->at(0).items[2].is_null());
    EXPECT_EQ(rows->at(1).items[2].integer, 3);

    IcebergManifestFile manifest;
    manifest.path = "/data/lake/x/metadata/m.avro";
    manifest.sequence_number = 7;
    manifest.added_snapshot_id = 7;
    auto files = codec.decode_manifest(*bytes, manifest);
    ASSERT_TRUE(files.ok()) << files.error().to_string();
    ASSERT_EQ(files->size(), 2u);
    const DataFile& g = (*files)[0];
    EXPECT_EQ(g.path, f.path);
    EXPECT_EQ(g.rows, 10u);
    EXPECT_EQ(g.bytes, 999u);
    EXPECT_EQ(g.sequence_number, 7);
    EXPECT_EQ(g.added_snapshot_id, 7);
    EXPECT_EQ((*files)[1].sequence_number, 3);
    EXPECT_EQ((*files)[1].added_snapshot_id, 3);
    for (std::size_t c = 0; c < f.columns.size(); ++c) {
        EXPECT_EQ(g.columns[c].min, f.columns[c].min) << c;
        EXPECT_EQ(g.columns[c].max, f.columns[c].max) << c;
        EXPECT_EQ(g.columns[c].null_count, 1u);
    }
}

TEST(IcebergManifestCodec, PartitionFieldsGetAvroNames) {
    const Schema schema(
        {{"store-id", DataType::kInt32, true}, {"9lives", DataType::kString, true}});
    auto spec = PartitionSpec::parse({"store-id", "9lives"}, schema);
    ASSERT_TRUE(spec.ok()) << spec.error().to_string();
    IcebergManifestCodec codec(schema, *spec, "/t");
    DataFile f;
    f.path = "store-id=4/9lives=x/part-1.parquet";
    auto bytes = codec.encode_manifest({{1, f}}, 1);
    ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
    auto reader = AvroReader::open(*bytes, "m.avro");
    ASSERT_TRUE(reader.ok());
    const AvroNode& data_file = *reader->schema().root().fields[4].type;
    const AvroNode& partition = *data_file.fields[3].type;
    ASSERT_EQ(partition.fields.size(), 2u);
    EXPECT_EQ(partition.fields[0].name, "store_x2Did");
    EXPECT_EQ(partition.fields[0].field_id, 1000);
    EXPECT_EQ(partition.fields[1].name, "_9lives");
    auto files = codec.decode_manifest(*bytes, {});
    ASSERT_TRUE(files.ok());
    EXPECT_EQ((*files)[0].path, f.path);
}

TEST(IcebergManifestCodec, BoundsUseTheSpecsBinaryForm) {
    EXPECT_EQ(iceberg_bound(Value::int32(1)), std::string("\x01\x00\x00\x00", 4));
    EXPECT_EQ(iceberg_bound(Value::int64(-2)), std::string("\xfe\xff\xff\xff\xff\xff\xff\xff", 8));
    EXPECT_EQ(iceberg_bound(Value::date(1)), std::string("\x01\x00\x00\x00", 4));
    EXPECT_EQ(iceberg_bound(Value::boolean(true)), std::string("\x01", 1));
    EXPECT_EQ(iceberg_bound(Value::float64(1.0)),
              std::string("\x00\x00\x00\x00\x00\x00\xf0\x3f", 8));
    EXPECT_EQ(iceberg_bound(Value::string("ab")), "ab");
    EXPECT_TRUE(value_from_iceberg_bound(DataType::kInt64, "abc").is_null());
}

TEST(IcebergManifestCodec, FilesOutsideTheTableAreCorruption) {
    const Schema schema = all_types();
    IcebergManifestCodec codec(schema, PartitionSpec(), "/data/lake/x");
    IcebergManifestCodec other(schema, PartitionSpec(), "/elsewhere");
    for (const char* path : {"../../etc/passwd", "a/../../b.parquet"}) {
        DataFile f;
        f.path = path;
        auto bytes = codec.encode_manifest({{1, f}}, 1);
        ASSERT_TRUE(bytes.ok());
        EXPECT_EQ(codec.decode_manifest(*bytes, {}).error().code(), ErrorCode::kCorruption);
    }
    DataFile f;
    f.path = "part-1.parquet";
    auto bytes = other.encode_manifest({{1, f}}, 1);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(codec.decode_manifest(*bytes, {}).error().code(), ErrorCode::kCorruption);
    EXPECT_EQ(codec.decode_manifest("Obj\x01 truncated", {}).error().code(),
              ErrorCode::kCorruption);
}

TEST(TableMetadata, RoundTripsAndRejectsWhatItCannotRead) {
    TableMetadata m;
    m.table_uuid = random_uuid();
    EXPECT_EQ(m.table_uuid.size(), 36u);
    m.location = "/data/lake/x";
    m.last_sequence_number = 2;
    m.schema = all_types();
    m.partition_by = {"date(t)", "s", "hour(t) as h", "bucket(8, l)", "truncate(3, s) as s3"};
    m.properties["k"] = "v \"q\"";
    IcebergSnapshot s;
    s.snapshot_id = 2;
    s.parent_id = 1;
    s.sequence_number = 2;
    s.timestamp_ms = 1234;
    s.manifest_list = "/data/lake/x/metadata/snap-2-1-u.avro";
    s.summary = {{"operation", "append"}, {"millrace.writers", "{\"w\": \"3\"}"}};
    m.snapshots = {s};
    m.current_snapshot_id = 2;
    m.snapshot_log = {{1234, 2}};
    m.metadata_log = {{1000, "/data/lake/x/metadata/v1.metadata.json"}};
    const std::string json = m.to_json();
    EXPECT_NE(json.find("\"refs\": {\"main\": {\"snapshot-id\": 2, \"type\": \"branch\"}}"),
              std::string::npos);
    EXPECT_NE(json.find("\"last-partition-id\": 1004"), std::string::npos);
    EXPECT_NE(json.find("\"transform\": \"bucket[8]\""), std::string::npos);
    auto parsed = TableMetadata::parse(json, "v3.metadata.json");
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_EQ(parsed->table_uuid, m.table_uuid);
    EXPECT_EQ(parsed->schema, m.schema);
    EXPECT_EQ(parsed->partition_by, m.partition_by);
    EXPECT_EQ(parsed->properties, m.properties);
    EXPECT_EQ(parsed->current_snapshot_id, 2);
    ASSERT_EQ(parsed->snapshots.size(), 1u);
    EXPECT_EQ(parsed->snapshots[0].summary, s.summary);
    EXPECT_EQ(parsed->snapshots[0].parent_id, 1);
    EXPECT_EQ(parsed->metadata_log, m.metadata_log);

    EXPECT_EQ(TableMetadata::parse("{", "v").error().code(), ErrorCode::kCorruption);
    std::string v1 = json;
    v1.replace(v1.find("\"format-version\": 2"), 19, "\"format-version\": 1");
    EXPECT_EQ(TableMetadata::parse(v1, "v").error().code(), ErrorCode::kCorruption);
    std::string unknown = json;
    unknown.replace(unknown.find("\"transform\": \"identity\""), 23, "\"transform\": \"void\"");
    EXPECT_EQ(TableMetadata::parse(unknown, "v").error().code(), ErrorCode::kUnsupported);
    std::string nested = json;
    nested.replace(nested.find("\"type\": \"boolean\""), 17,
                   "\"type\": {\"type\": \"list\", \"element-id\": 9, \"element\": \"int\", "
                   "\"element-required\": false}");
    EXPECT_EQ(TableMetadata::parse(nested, "v").error().code(), ErrorCode::kUnsupported);
    std::string dangling = json;
    dangling.replace(dangling.find("\"current-snapshot-id\": 2"), 24, "\"current-snapshot-id\": 9");
    EXPECT_EQ(TableMetadata::parse(dangling, "v").error().code(), ErrorCode::kCorruption);
}

class LakeTableIcebergTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-iceberg-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        schema_ = std::make_shared<const Schema>(std::vector<Field>{
            {"id", DataType::kInt64, false},
            {"ts", DataType::kTimestamp, false},
        });
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    Batch rows(int64_t first, int64_t count) {
        BatchBuilder builder(schema_);
        for (int64_t i = first; i < first + count; ++i) {
            builder.column(0).append_int64(i);
            builder.column(1).append_timestamp(1'795'392'000'000'000 + (i % 5) * 86'400'000'000);
            builder.commit_row();
        }
        return builder.finish();
    }

    std::vector<int64_t> ids(const LakeTable& table) {
        std::vector<int64_t> out;
        LakeTable::ScanOptions options;
        options.columns = {"id"};
        auto stats = table.scan(options, [&](Batch batch) {
            for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                out.push_back(batch.column(0).value<int64_t>(r));
            }
            return Status();
        });
        EXPECT_TRUE(stats.ok()) << stats.error().to_string();
        std::sort(out.begin(), out.end());
        return out;
    }

    std::string dir_;
    std::shared_ptr<const Schema> schema_;
};

// Appends through a private LakeWriter: `commits` commits of `n` rows from `first`.
Status append(LakeTable table, int64_t first, int commits, int64_t n,
              const std::function<Batch(int64_t, int64_t)>& make) {
    LakeWriterOptions options;
    options.writer_id = "w";
    options.staging = LakeStaging::kPrivate;
    MILLRACE_ASSIGN_OR_RETURN(auto writer, LakeWriter::open(std::move(table), options));
    for (int c = 1; c <= commits; ++c) {
        MILLRACE_TRY(writer->write(make(first + (c - 1) * n, n)));
        MILLRACE_TRY(writer->pre_commit(static_cast<uint64_t>(c)));
        auto committed = writer->commit(static_cast<uint64_t>(c));
        if (!committed.ok()) return std::move(committed).error();
    }
    return {};
}

TEST_F(LakeTableIcebergTest, ConcurrentProcessesCommitEveryRowExactlyOnce) {
    ASSERT_TRUE(LakeTable::create(dir_, "t", *schema_, {"date(ts)"}).ok());
    constexpr int kProcesses = 6;
    constexpr int kCommits = 8;
    constexpr int64_t kRows = 25;
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            auto table = LakeTable::open(dir_, "t");
            Status status = table.ok()
                                ? append(*table, p * kCommits * kRows, kCommits, kRows,
                                         [&](int64_t first, int64_t n) { return rows(first, n); })
                                : Status(table.error());
            if (!status.ok()) std::fprintf(stderr, "%s\n", status.error().to_string().c_str());
            ::_exit(status.ok() ? 0 : 1);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    auto table = LakeTable::open(dir_, "t");
    ASSERT_TRUE(table.ok());
    std::vector<int64_t> expected(kProcesses * kCommits * kRows);
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<int64_t>(i);
    EXPECT_EQ(ids(*table), expected);
    // One snapshot per commit, ids 1..N, one metadata version each, none lost or doubled.
    EXPECT_EQ(*table->current_snapshot_id(), static_cast<uint64_t>(kProcesses * kCommits));
    auto history = table->history();
    ASSERT_TRUE(history.ok());
    ASSERT_EQ(history->size(), static_cast<std::size_t>(kProcesses * kCommits + 1));
    for (std::size_t i = 0; i < history->size(); ++i) {
        EXPECT_EQ((*history)[i].snapshot_id, i);
        EXPECT_EQ((*history)[i].total_rows(), i * kRows);
    }
    EXPECT_TRUE(std::filesystem::exists(table->path() + "/metadata/v" +
                                        std::to_string(kProcesses * kCommits + 1) +
                                        ".metadata.json"));
    // Losing attempts deleted their manifests: only the winners' are left.
    std::size_t avro = 0;
    for (const auto& e : std::filesystem::directory_iterator(table->path() + "/metadata")) {
        avro += e.path().extension() == ".avro";
    }
    EXPECT_EQ(avro, static_cast<std::size_t>(2 * kProcesses * kCommits));
}

TEST_F(LakeTableIcebergTest, ManyAppendsKeepTheManifestListBounded) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    ASSERT_TRUE(table.ok());
    // One commit per append, as a streaming sink's checkpoints: the list is merged into one
    // manifest when it reaches 64.
    ASSERT_TRUE(append(*table, 0, 70, 2, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    auto list_bytes = read_file(table->snapshot_file(70));
    ASSERT_TRUE(list_bytes.ok());
    auto list = IcebergManifestCodec::decode_manifest_list(*list_bytes, "list");
    ASSERT_TRUE(list.ok());
    EXPECT_LE(list->size(), 64u);
    EXPECT_EQ(ids(*table).size(), 140u);
    auto older = table->snapshot(63);
    ASSERT_TRUE(older.ok());
    EXPECT_EQ(older->total_rows(), 126u);
}

TEST_F(LakeTableIcebergTest, ConcurrentCreatorsMakeOneTable) {
    std::vector<pid_t> children;
    for (int p = 0; p < 4; ++p) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            auto table = LakeTable::create(dir_, "t", *schema_);
            if (!table.ok() && table.error().code() == ErrorCode::kAlreadyExists) {
                table = LakeTable::open(dir_, "t");
            }
            Status status = table.ok()
                                ? append(*table, p * 10, 1, 10,
                                         [&](int64_t first, int64_t n) { return rows(first, n); })
                                : Status(table.error());
            ::_exit(status.ok() ? 0 : 1);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    auto table = LakeTable::open(dir_, "t");
    ASSERT_TRUE(table.ok());
    EXPECT_EQ(ids(*table).size(), 40u);
}

TEST_F(LakeTableIcebergTest, DataFilesCarryFieldIdsAndTheIcebergSchema) {
    auto table = LakeTable::create(dir_, "t", *schema_, {"date(ts)"});
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE(append(*table, 0, 1, 10, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    auto snapshot = table->snapshot();
    ASSERT_TRUE(snapshot.ok());
    ASSERT_FALSE(snapshot->files.empty());
    auto text = read_file(table->path() + "/" + snapshot->files[0].path);
    ASSERT_TRUE(text.ok());
    // The footer holds the Iceberg schema, and each column's schema element its field id (9).
    EXPECT_NE(text->find("iceberg.schema"), std::string::npos);
    EXPECT_NE(text->find(table->iceberg_schema()), std::string::npos);
    auto reader = ParquetReader::open(table->path() + "/" + snapshot->files[0].path);
    ASSERT_TRUE(reader.ok());
}

TEST_F(LakeTableIcebergTest, OverwriteAndAppendConcurrentlyLoseNothing) {
    auto table = LakeTable::create(dir_, "t", *schema_, {"date(ts)"});
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE(append(*table, 0, 2, 50, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    // Compaction (a replace) races appends: either it wins and the appends re-apply on top, or
    // it loses and redoes the merge.
    std::thread appender([&] {
        EXPECT_TRUE(
            append(*table, 1000, 10, 5, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    });
    for (int i = 0; i < 3; ++i) {
        auto compacted = table->compact({});
        EXPECT_TRUE(compacted.ok()) << compacted.error().to_string();
    }
    appender.join();
    std::vector<int64_t> expected;
    for (int64_t i = 0; i < 100; ++i) expected.push_back(i);
    for (int64_t i = 1000; i < 1050; ++i) expected.push_back(i);
    EXPECT_EQ(ids(*table), expected);
}

TEST_F(LakeTableIcebergTest, ExpireAndRemoveOrphansLeaveOnlyLiveFiles) {
    auto table = LakeTable::create(dir_, "t", *schema_, {"date(ts)"});
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE(append(*table, 0, 3, 20, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    ASSERT_TRUE(table->compact({}).ok());
    // An orphan: a data file no snapshot lists (a commit that crashed after moving it).
    ASSERT_TRUE(
        write_file_durably(table->path() + "/day=2026-11-23/part-orphan.parquet", "x").ok());
    auto expired = table->expire_snapshots(INT64_MAX, 1);
    ASSERT_TRUE(expired.ok()) << expired.error().to_string();
    EXPECT_EQ(expired->snapshots_expired, 3u);
    EXPECT_GT(expired->files_deleted, 0u);
    auto removed = table->remove_orphan_files(0);
    ASSERT_TRUE(removed.ok()) << removed.error().to_string();
    EXPECT_EQ(*removed, 1u);
    auto snapshot = table->snapshot();
    ASSERT_TRUE(snapshot.ok());
    std::set<std::string> live;
    for (const DataFile& f : snapshot->files) live.insert(f.path);
    std::set<std::string> on_disk;
    for (const auto& e : std::filesystem::recursive_directory_iterator(table->path())) {
        const std::string rel = e.path().string().substr(table->path().size() + 1);
        if (e.path().extension() == ".parquet" && rel.rfind("_staging", 0) != 0)
            on_disk.insert(rel);
    }
    EXPECT_EQ(on_disk, live);
    EXPECT_EQ(ids(*table).size(), 60u);
    EXPECT_EQ(table->snapshot(2).error().code(), ErrorCode::kNotFound);  // expired
}

TEST_F(LakeTableIcebergTest, UpgradeConvertsAPreIcebergTableInPlace) {
    // A table as Millrace wrote it before Iceberg: a data file and _manifest/ with `current`.
    const std::string path = dir_ + "/lake/old";
    ASSERT_TRUE(create_directories_durably(path + "/_manifest").ok());
    ParquetWriterOptions parquet;
    auto writer = ParquetWriter::open(path + "/part-1.parquet", schema_, parquet);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->write(rows(0, 7)).ok());
    ASSERT_TRUE((*writer)->close().ok());
    Manifest m;
    m.snapshot_id = 1;
    m.operation = "append";
    m.schema_text = "id: int64 not null, ts: timestamp not null";
    m.writers["sink"] = 5;
    DataFile f;
    f.path = "part-1.parquet";
    f.rows = 7;
    f.bytes = (*writer)->bytes_written();
    f.columns = (*writer)->statistics();
    m.files = {f};
    ASSERT_TRUE(write_file_durably(path + "/_manifest/v0000000001.json", m.to_json(*schema_)).ok());
    ASSERT_TRUE(write_file_durably(path + "/_manifest/current", "1\n").ok());

    EXPECT_EQ(LakeTable::open(dir_, "old").error().code(), ErrorCode::kUnsupported);
    auto upgraded = LakeTable::upgrade(dir_, "old");
    ASSERT_TRUE(upgraded.ok()) << upgraded.error().to_string();
    EXPECT_EQ(ids(*upgraded), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
    auto snapshot = upgraded->snapshot();
    ASSERT_TRUE(snapshot.ok());
    EXPECT_EQ(snapshot->writers.at("sink"), 5u);
    EXPECT_FALSE(std::filesystem::exists(path + "/_manifest"));
    EXPECT_TRUE(LakeTable::open(dir_, "old").ok());
    EXPECT_EQ(LakeTable::upgrade(dir_, "old").error().code(), ErrorCode::kInvalidArgument);
}

// Deletes matching `id % divisor == 0`.
LakeTable::RowMatcher ids_divisible_by(int64_t divisor) {
    return [divisor](const Batch& batch) -> Result<std::vector<uint32_t>> {
        std::vector<uint32_t> rows;
        const auto index = batch.schema().index_of("id");
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            if (batch.column(*index).value<int64_t>(r) % divisor == 0) {
                rows.push_back(static_cast<uint32_t>(r));
            }
        }
        return rows;
    };
}

std::vector<int64_t> range_without(int64_t first, int64_t end, int64_t divisor) {
    std::vector<int64_t> out;
    for (int64_t i = first; i < end; ++i) {
        if (i % divisor != 0) out.push_back(i);
    }
    return out;
}

// Row-level deletes are position delete files in a `delete` snapshot: scans apply them, older
// snapshots still read every row, compaction rewrites the files without the deleted rows and
// drops the delete files, and a file that loses every row is dropped instead.
TEST_F(LakeTableIcebergTest, PositionDeletesAreAppliedByScansAndCompaction) {
    auto table = LakeTable::create(dir_, "t", *schema_, {"date(ts)"});
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE(append(*table, 0, 2, 50, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    auto deleted = table->delete_rows(ids_divisible_by(3));
    ASSERT_TRUE(deleted.ok()) << deleted.error().to_string();
    EXPECT_EQ(deleted->rows_deleted, 34u);
    EXPECT_EQ(deleted->snapshot_id, 3u);
    EXPECT_EQ(ids(*table), range_without(0, 100, 3));
    auto m = table->snapshot();
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->operation, "delete");
    EXPECT_EQ(m->total_rows(), 66u);
    ASSERT_FALSE(m->deletes.empty());
    for (const DataFile& d : m->deletes) {
        EXPECT_EQ(d.content, DataFile::Content::kPositionDeletes);
        EXPECT_FALSE(d.referenced_file.empty());
        // The delete file sits in the partition folder of the data file it deletes from.
        EXPECT_EQ(d.path.substr(0, d.path.rfind('/')),
                  d.referenced_file.substr(0, d.referenced_file.rfind('/')));
        auto reader = ParquetReader::open(table->path() + "/" + d.path);
        ASSERT_TRUE(reader.ok());
        EXPECT_EQ(reader->get()->schema()->to_string(),
                  "{ file_path: string not null, pos: int64 not null }");
    }
    // Time travel: snapshot 2 still has every row.
    LakeTable::ScanOptions older;
    older.snapshot_id = 2;
    uint64_t rows_at_2 = 0;
    ASSERT_TRUE(table
                    ->scan(older,
                           [&](Batch b) {
                               rows_at_2 += b.num_rows();
                               return Status();
                           })
                    .ok());
    EXPECT_EQ(rows_at_2, 100u);
    // A second delete adds to the first.
    ASSERT_TRUE(table->delete_rows(ids_divisible_by(2)).ok());
    std::vector<int64_t> expected;
    for (int64_t i = 0; i < 100; ++i) {
        if (i % 3 != 0 && i % 2 != 0) expected.push_back(i);
    }
    EXPECT_EQ(ids(*table), expected);
    // Predicates still skip row groups and files with deletes applied.
    LakeTable::ScanOptions filtered;
    filtered.predicates = {{"id", CompareOp::kLt, Value::int64(10)}};
    std::vector<int64_t> small;
    ASSERT_TRUE(table
                    ->scan(filtered,
                           [&](Batch b) {
                               for (std::size_t r = 0; r < b.num_rows(); ++r) {
                                   const int64_t id = b.column(0).value<int64_t>(r);
                                   if (id < 10) small.push_back(id);
                               }
                               return Status();
                           })
                    .ok());
    std::sort(small.begin(), small.end());
    EXPECT_EQ(small, (std::vector<int64_t>{1, 5, 7}));
    // Compaction applies the deletes: the same rows, no delete files left.
    auto compacted = table->compact({});
    ASSERT_TRUE(compacted.ok()) << compacted.error().to_string();
    EXPECT_EQ(ids(*table), expected);
    EXPECT_TRUE(table->snapshot()->deletes.empty());
    EXPECT_EQ(table->snapshot()->total_rows(), expected.size());
    // Deleting every row drops the files rather than writing delete files.
    auto all = table->delete_rows(ids_divisible_by(1));
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->delete_files, 0u);
    EXPECT_GT(all->files_removed, 0u);
    EXPECT_TRUE(table->snapshot()->files.empty());
    EXPECT_TRUE(ids(*table).empty());
    // Nothing matching makes no snapshot.
    const uint64_t before = *table->current_snapshot_id();
    EXPECT_EQ(table->delete_rows(ids_divisible_by(7))->snapshot_id, before);
}

// A compaction that drops the files a delete read (between its read and its commit) makes the
// delete conflict and start over on the compacted files: no deleted row comes back.
TEST_F(LakeTableIcebergTest, DeleteRacingACompactionIsRedoneOnTheNewFiles) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE(append(*table, 0, 3, 20, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    bool compacted = false;
    auto matcher = ids_divisible_by(4);
    auto deleted = table->delete_rows([&](const Batch& batch) {
        if (!compacted) {
            compacted = true;
            auto result = table->compact({});
            EXPECT_TRUE(result.ok() && result->files_added == 1);
        }
        return matcher(batch);
    });
    ASSERT_TRUE(deleted.ok()) << deleted.error().to_string();
    EXPECT_EQ(ids(*table), range_without(0, 60, 4));
    EXPECT_EQ(table->snapshot()->files.size(), 1u);
}

// An upsert commit larger than the writer's memory budget spills runs sorted by key and merges
// them at pre_commit: the same table as holding every row (the newest row per key, across
// batches and runs), with the spill files gone.
TEST_F(LakeTableIcebergTest, UpsertsPastTheMemoryBudgetSpillAndMerge) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    ASSERT_TRUE(table.ok());
    LakeWriterOptions options;
    options.writer_id = "u";
    options.staging = LakeStaging::kPrivate;
    options.upsert_key = {"id"};
    options.upsert_spill_bytes = 4096;  // a run every few batches
    auto writer = LakeWriter::open(*table, options);
    ASSERT_TRUE(writer.ok()) << writer.error().to_string();
    std::map<int64_t, int64_t> expected;
    auto write = [&](uint64_t commit, int64_t seed) {
        for (int64_t b = 0; b < 12; ++b) {
            BatchBuilder builder(schema_);
            for (int64_t i = 0; i < 200; ++i) {
                const int64_t id = (i * 37 + b * 11 + seed) % 900;  // keys repeat across batches
                const int64_t ts = commit * 100000 + b * 1000 + i;
                builder.column(0).append_int64(id);
                builder.column(1).append_timestamp(ts);
                builder.commit_row();
                expected[id] = ts;
            }
            ASSERT_TRUE((*writer)->write(builder.finish()).ok());
        }
        ASSERT_TRUE((*writer)->pre_commit(commit).ok());
        ASSERT_TRUE((*writer)->commit(commit).ok());
    };
    write(1, 0);
    write(2, 5);  // replaces keys of commit 1 through the equality deletes
    std::map<int64_t, int64_t> got;
    std::size_t rows_read = 0;
    ASSERT_TRUE(table
                    ->scan({},
                           [&](Batch b) {
                               for (std::size_t r = 0; r < b.num_rows(); ++r) {
                                   got[b.column(0).value<int64_t>(r)] =
                                       b.column(1).value<int64_t>(r);
                                   ++rows_read;
                               }
                               return Status();
                           })
                    .ok());
    EXPECT_EQ(rows_read, expected.size()) << "one row per key";
    EXPECT_EQ(got, expected);
    std::size_t spill_files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
        if (entry.path().filename().string().rfind("run-", 0) == 0) ++spill_files;
    }
    EXPECT_EQ(spill_files, 0u);
}

// Upsert: each commit writes its rows (the last one per key) and an equality delete file of
// their keys, so the table holds one row per key, the newest.
TEST_F(LakeTableIcebergTest, UpsertsKeepOneRowPerKey) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    ASSERT_TRUE(table.ok());
    LakeWriterOptions options;
    options.writer_id = "u";
    options.staging = LakeStaging::kPrivate;
    options.upsert_key = {"id"};
    auto writer = LakeWriter::open(*table, options);
    ASSERT_TRUE(writer.ok()) << writer.error().to_string();
    auto commit = [&](uint64_t c, int64_t first, int64_t n, int64_t ts_shift) {
        BatchBuilder builder(schema_);
        for (int64_t i = first; i < first + n; ++i) {
            builder.column(0).append_int64(i);
            builder.column(1).append_timestamp(ts_shift);
            builder.commit_row();
        }
        ASSERT_TRUE((*writer)->write(builder.finish()).ok());
        ASSERT_TRUE((*writer)->pre_commit(c).ok());
        ASSERT_TRUE((*writer)->commit(c).ok());
    };
    commit(1, 0, 10, 1);
    commit(2, 5, 10, 2);  // 5..9 replaced, 10..14 new
    // Within one commit the last row of a key wins.
    {
        BatchBuilder builder(schema_);
        for (int64_t ts : {3, 4}) {
            builder.column(0).append_int64(7);
            builder.column(1).append_timestamp(ts);
            builder.commit_row();
        }
        ASSERT_TRUE((*writer)->write(builder.finish()).ok());
        ASSERT_TRUE((*writer)->pre_commit(3).ok());
        ASSERT_TRUE((*writer)->commit(3).ok());
    }
    std::map<int64_t, int64_t> got;
    std::size_t rows_read = 0;
    ASSERT_TRUE(table
                    ->scan({},
                           [&](Batch b) {
                               for (std::size_t r = 0; r < b.num_rows(); ++r) {
                                   got[b.column(0).value<int64_t>(r)] =
                                       b.column(1).value<int64_t>(r);
                                   ++rows_read;
                               }
                               return Status();
                           })
                    .ok());
    EXPECT_EQ(rows_read, 15u);
    ASSERT_EQ(got.size(), 15u);
    for (int64_t i = 0; i < 15; ++i) {
        const int64_t expected = i == 7 ? 4 : i >= 5 ? 2 : 1;
        EXPECT_EQ(got[i], expected) << "id " << i;
    }
    auto m = table->snapshot();
    EXPECT_EQ(m->operation, "upsert");
    ASSERT_FALSE(m->deletes.empty());
    EXPECT_EQ(m->deletes.back().content, DataFile::Content::kEqualityDeletes);
    EXPECT_EQ(m->deletes.back().equality_ids, (std::vector<int32_t>{1}));
    // Compaction applies the equality deletes.
    ASSERT_TRUE(table->compact({}).ok());
    EXPECT_TRUE(table->snapshot()->deletes.empty());
    EXPECT_EQ(ids(*table).size(), 15u);

    // A partitioned table's upsert key must hold the partition columns.
    auto partitioned = LakeTable::create(dir_, "p", *schema_, {"date(ts)"});
    ASSERT_TRUE(partitioned.ok());
    auto refused = LakeWriter::open(*partitioned, options);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
}

// Schema evolution by field id: files written before a rename, reorder, widening, drop and add
// read by id (renamed and moved values stay theirs, a dropped column's id is never matched
// again, a re-added name is a new column of nulls), statistics prune by id, compaction
// rewrites old files into the new schema, and a writer opened before the change commits as
// long as its columns still exist.
TEST_F(LakeTableIcebergTest, SchemaEvolutionReadsOlderFilesByFieldId) {
    auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"id", DataType::kInt64, false},
                                                          {"n", DataType::kInt32, true},
                                                          {"s", DataType::kString, true}});
    auto created = LakeTable::create(dir_, "e", *schema);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    auto batch = [&](const std::shared_ptr<const Schema>& of, int64_t first) {
        BatchBuilder builder(of);
        for (int64_t i = first; i < first + 3; ++i) {
            builder.column(0).append_int64(i);
            builder.column(1).append_int32(static_cast<int32_t>(i * 10));
            builder.column(2).append_string("s" + std::to_string(i));
            builder.commit_row();
        }
        return builder.finish();
    };
    ASSERT_TRUE(
        append(*created, 0, 1, 3, [&](int64_t f, int64_t) { return batch(schema, f); }).ok());
    using Kind = LakeTable::SchemaChange::Kind;
    auto changed = created->alter({{Kind::kRenameColumn, "s", DataType::kString, "label"},
                                   {Kind::kWiden, "n", DataType::kInt64, ""},
                                   {Kind::kMoveColumn, "label", DataType::kString, ""},
                                   {Kind::kAddColumn, "extra", DataType::kString, ""}});
    ASSERT_TRUE(changed.ok()) << changed.error().to_string();
    EXPECT_EQ(*changed, 1);
    // A writer opened before the change still commits: its columns are all there (by id).
    ASSERT_TRUE(
        append(*created, 3, 1, 3, [&](int64_t f, int64_t) { return batch(schema, f); }).ok());
    auto table = LakeTable::open(dir_, "e");
    ASSERT_TRUE(table.ok());
    EXPECT_EQ(table->schema()->to_string(),
              "{ label: string, id: int64 not null, n: int64, extra: string }");
    EXPECT_EQ(table->field_ids(), (std::vector<int32_t>{3, 1, 2, 4}));
    auto read = [&](const LakeTable& t, std::vector<ColumnPredicate> predicates = {}) {
        std::map<int64_t, std::string> out;
        LakeTable::ScanOptions options;
        options.predicates = std::move(predicates);
        auto stats = t.scan(options, [&](Batch b) {
            EXPECT_EQ(b.schema().to_string(), t.schema()->to_string());
            for (std::size_t r = 0; r < b.num_rows(); ++r) {
                const int64_t id = b.column(1).value<int64_t>(r);
                out[id] = std::string(b.column(0).string_at(r)) + "/" +
                          std::to_string(b.column(2).value<int64_t>(r)) + "/" +
                          (b.column(3).is_null(r) ? "null" : "x");
            }
            return Status();
        });
        EXPECT_TRUE(stats.ok()) << stats.error().to_string();
        return out;
    };
    auto rows = read(*table);
    ASSERT_EQ(rows.size(), 6u);
    for (int64_t i = 0; i < 6; ++i) {
        EXPECT_EQ(rows[i], "s" + std::to_string(i) + "/" + std::to_string(i * 10) + "/null");
    }
    // Statistics are matched by id: a predicate on the renamed column keeps its file, one on the
    // widened column (int bounds in older manifests) too.
    EXPECT_EQ(read(*table, {{"label", CompareOp::kEq, Value::string("s4")}}).count(4), 1u);
    EXPECT_EQ(read(*table, {{"n", CompareOp::kGt, Value::int64(15)}}).count(2), 1u);
    // Drop, then re-add the name: a new column (new id) of nulls, not the old values.
    ASSERT_TRUE(table
                    ->alter({{Kind::kDropColumn, "extra", DataType::kString, ""},
                             {Kind::kDropColumn, "label", DataType::kString, ""}})
                    .ok());
    // The old writer writes `s` (now dropped): refused, never dropped silently.
    auto refused = append(*created, 9, 1, 3, [&](int64_t f, int64_t) { return batch(schema, f); });
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("no longer has column `s`"), std::string::npos);
    ASSERT_TRUE(table->alter({{Kind::kAddColumn, "label", DataType::kString, ""}}).ok());
    table = LakeTable::open(dir_, "e");
    EXPECT_EQ(table->field_ids(), (std::vector<int32_t>{1, 2, 5}));
    std::size_t nulls = 0;
    ASSERT_TRUE(table
                    ->scan({},
                           [&](Batch b) {
                               for (std::size_t r = 0; r < b.num_rows(); ++r)
                                   nulls += b.column(2).is_null(r) ? 1 : 0;
                               return Status();
                           })
                    .ok());
    EXPECT_EQ(nulls, 6u);
    // Compaction rewrites the older files in the current schema, with its field ids.
    ASSERT_TRUE(table->compact({}).ok());
    auto m = table->snapshot();
    ASSERT_EQ(m->files.size(), 1u);
    auto reader = ParquetReader::open(dir_ + "/lake/e/" + m->files[0].path);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ((*reader)->schema()->to_string(), "{ id: int64 not null, n: int64, label: string }");
    EXPECT_EQ((*reader)->field_id(2), 5);
    // Changes that do not apply name the column.
    auto bad = table->alter({{Kind::kWiden, "label", DataType::kInt64, ""}});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message().find("`label`"), std::string::npos);
    EXPECT_FALSE(table->alter({{Kind::kRenameColumn, "id", DataType::kString, "n"}}).ok());
    // The metadata keeps every schema; the current id is the newest.
    EXPECT_EQ(*table->schema_id(), 3);
}

// A column that partitions the table, or keys live equality deletes, stays.
TEST_F(LakeTableIcebergTest, SchemaEvolutionKeepsPartitionAndDeleteKeyColumns) {
    auto table = LakeTable::create(dir_, "p", *schema_, {"date(ts)"});
    ASSERT_TRUE(table.ok());
    using Kind = LakeTable::SchemaChange::Kind;
    auto refused = table->alter({{Kind::kDropColumn, "ts", DataType::kString, ""}});
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("partitions the table"), std::string::npos);
    auto upserted = LakeTable::create(dir_, "u", *schema_);
    LakeWriterOptions options;
    options.writer_id = "u";
    options.staging = LakeStaging::kPrivate;
    options.upsert_key = {"id"};
    auto writer = LakeWriter::open(*upserted, options);
    ASSERT_TRUE(writer.ok());
    for (uint64_t c = 1; c <= 2; ++c) {
        ASSERT_TRUE((*writer)->write(rows(0, 5)).ok());
        ASSERT_TRUE((*writer)->pre_commit(c).ok());
        ASSERT_TRUE((*writer)->commit(c).ok());
    }
    ASSERT_TRUE(upserted
                    ->alter({{Kind::kAddColumn, "note", DataType::kString, ""},
                             {Kind::kMoveColumn, "note", DataType::kString, ""}})
                    .ok());
    auto reopened = LakeTable::open(dir_, "u");
    EXPECT_EQ(ids(*reopened), (std::vector<int64_t>{0, 1, 2, 3, 4}));  // deletes still apply
    refused = reopened->alter({{Kind::kDropColumn, "id", DataType::kString, ""}});
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("equality deletes"), std::string::npos);
}

// A prepared table reads as empty and is created by its first commit (v1 holds the first
// snapshot); a writer preparing it with another schema is refused at commit.
// One change of a change scan, for comparing: (snapshot, 'i'/'d', id, ts).
using Change = std::tuple<uint64_t, char, int64_t, int64_t>;

std::vector<Change> changes(const LakeTable& table, uint64_t after, uint64_t upto,
                            LakeTable::ChangeStats* stats = nullptr) {
    std::vector<Change> out;
    auto scanned = table.scan_changes(
        after, upto, {}, [&](Batch batch, LakeTable::ChangeKind kind, uint64_t snapshot) -> Status {
            for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                out.emplace_back(snapshot, kind == LakeTable::ChangeKind::kInsert ? 'i' : 'd',
                                 batch.column(0).value<int64_t>(r),
                                 batch.column(1).value<int64_t>(r));
            }
            return {};
        });
    EXPECT_TRUE(scanned.ok()) << scanned.error().to_string();
    if (stats != nullptr && scanned.ok()) *stats = *scanned;
    // Within a snapshot, deletes come first; rows of one kind in any order.
    std::stable_sort(out.begin(), out.end(), [](const Change& a, const Change& b) {
        return std::tuple(std::get<0>(a), std::get<1>(a) == 'i', std::get<2>(a)) <
               std::tuple(std::get<0>(b), std::get<1>(b) == 'i', std::get<2>(b));
    });
    return out;
}

// The changelog of appends, an upsert (equality deletes), a position delete, a compaction and a
// delete after it: each snapshot's deleted rows with their values, then its appended rows, and
// nothing for the compaction.
TEST_F(LakeTableIcebergTest, ScanChangesDeliversEachSnapshotsDeletesAndAppends) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE(append(*table, 0, 1, 4, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    ASSERT_TRUE(append(*table, 10, 1, 2, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    {
        LakeWriterOptions options;
        options.writer_id = "u";
        options.staging = LakeStaging::kPrivate;
        options.upsert_key = {"id"};
        auto writer = LakeWriter::open(*table, options);
        ASSERT_TRUE(writer.ok()) << writer.error().to_string();
        BatchBuilder builder(schema_);
        for (int64_t id : {2, 20}) {
            builder.column(0).append_int64(id);
            builder.column(1).append_timestamp(99);
            builder.commit_row();
        }
        ASSERT_TRUE((*writer)->write(builder.finish()).ok());
        ASSERT_TRUE((*writer)->pre_commit(1).ok());
        ASSERT_TRUE((*writer)->commit(1).ok());
    }
    ASSERT_TRUE(table
                    ->delete_rows([](const Batch& batch) -> Result<std::vector<uint32_t>> {
                        std::vector<uint32_t> out;
                        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                            if (batch.column(0).value<int64_t>(r) == 11) out.push_back(r);
                        }
                        return out;
                    })
                    .ok());
    auto compacted = table->compact({});
    ASSERT_TRUE(compacted.ok()) << compacted.error().to_string();
    ASSERT_EQ(compacted->snapshot_id, 5u);
    ASSERT_TRUE(table->delete_rows(ids_divisible_by(3)).ok());  // 0 and 3
    ASSERT_EQ(*table->current_snapshot_id(), 6u);

    const int64_t t = 1'795'392'000'000'000;
    const int64_t day = 86'400'000'000;
    auto ts = [&](int64_t id) { return t + (id % 5) * day; };
    LakeTable::ChangeStats stats;
    const std::vector<Change>
        expected = {{1, 'i', 0, ts(0)}, {1, 'i', 1, ts(1)},   {1, 'i', 2, ts(2)},
                    {1, 'i', 3, ts(3)}, {2, 'i', 10, ts(10)}, {2, 'i', 11, ts(11)},
                    {3, 'd', 2, ts(2)},  // the upsert replaced key 2: its old row goes...
                    {3, 'i', 2, 99},     // ...and the new one comes; key 20 was new
                    {3, 'i', 20, 99},   {4, 'd', 11, ts(11)}, {6, 'd', 0, ts(0)},
                    {6, 'd', 3, ts(3)}};
    EXPECT_EQ(changes(*table, 0, 6, &stats), expected);
    EXPECT_EQ(stats.inserted, 8u);
    EXPECT_EQ(stats.deleted, 4u);
    EXPECT_EQ(stats.snapshots, 5u);  // not the compaction
    // A later range starts where it says.
    EXPECT_EQ(changes(*table, 3, 6),
              (std::vector<Change>{{4, 'd', 11, ts(11)}, {6, 'd', 0, ts(0)}, {6, 'd', 3, ts(3)}}));
    EXPECT_TRUE(changes(*table, 4, 5).empty());  // the compaction alone
    EXPECT_TRUE(changes(*table, 6, 6).empty());
    auto backwards = table->scan_changes(
        6, 5, {}, [](Batch, LakeTable::ChangeKind, uint64_t) { return Status(); });
    ASSERT_FALSE(backwards.ok());
    EXPECT_EQ(backwards.error().code(), ErrorCode::kInvalidArgument);
    auto unknown = table->scan_changes(
        0, 9, {}, [](Batch, LakeTable::ChangeKind, uint64_t) { return Status(); });
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

// An overwrite drops every live row of the partitions it replaces: each is a delete.
TEST_F(LakeTableIcebergTest, ScanChangesTurnsAnOverwriteIntoDeletesAndInserts) {
    auto table = LakeTable::create(dir_, "t", *schema_);
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE(append(*table, 0, 1, 2, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    LakeWriterOptions options;
    options.writer_id = "o";
    options.staging = LakeStaging::kPrivate;
    options.overwrite_partitions = true;
    auto writer = LakeWriter::open(*table, options);
    ASSERT_TRUE(writer.ok()) << writer.error().to_string();
    ASSERT_TRUE((*writer)->write(rows(5, 1)).ok());
    ASSERT_TRUE((*writer)->pre_commit(1).ok());
    ASSERT_TRUE((*writer)->commit(1).ok());
    std::vector<Change> got = changes(*table, 1, 2);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(std::get<1>(got[0]), 'd');
    EXPECT_EQ(std::get<1>(got[1]), 'd');
    EXPECT_EQ(std::get<1>(got[2]), 'i');
    EXPECT_EQ(std::get<2>(got[2]), 5);
}

// A rename moves the folder in one step and rewrites the metadata to name the new folder; every
// snapshot still reads, later commits work, and taken or missing names are refused.
TEST_F(LakeTableIcebergTest, RenameMovesTheTableAndRelocatesItsMetadata) {
    auto table = LakeTable::create(dir_, "a", *schema_, {"date(ts)"});
    ASSERT_TRUE(table.ok());
    ASSERT_TRUE(append(*table, 0, 2, 20, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    ASSERT_TRUE(table->delete_rows(ids_divisible_by(4)).ok());
    const std::vector<int64_t> before = ids(*table);

    auto renamed = LakeTable::rename(dir_, "a", "b");
    ASSERT_TRUE(renamed.ok()) << renamed.error().to_string();
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/lake/a"));
    EXPECT_EQ(LakeTable::open(dir_, "a").error().code(), ErrorCode::kNotFound);
    auto b = LakeTable::open(dir_, "b");
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    EXPECT_EQ(ids(*b), before);
    auto file = b->current_metadata_file();
    ASSERT_TRUE(file.ok());
    const std::string old_folder = std::filesystem::absolute(dir_ + "/lake/a").string();
    const std::string new_folder = std::filesystem::absolute(dir_ + "/lake/b").string();
    EXPECT_EQ(file->json.find(old_folder + "/"), std::string::npos) << file->json;
    auto metadata = TableMetadata::parse(file->json, file->path);
    ASSERT_TRUE(metadata.ok());
    EXPECT_EQ(metadata->location, new_folder);
    for (const IcebergSnapshot& s : metadata->snapshots) {
        EXPECT_EQ(s.manifest_list.rfind(new_folder + "/metadata/", 0), 0u) << s.manifest_list;
        // Another engine follows the absolute paths: the manifests name data files there too.
        auto list = read_file(s.manifest_list);
        ASSERT_TRUE(list.ok()) << s.manifest_list;
        auto manifests = IcebergManifestCodec::decode_manifest_list(*list, s.manifest_list);
        ASSERT_TRUE(manifests.ok());
        for (const IcebergManifestFile& m : *manifests) {
            auto bytes = read_file(m.path);
            ASSERT_TRUE(bytes.ok()) << m.path;
            EXPECT_EQ(bytes->find(old_folder + "/"), std::string::npos) << m.path;
        }
    }
    // Older snapshots read, and writers go on.
    LakeTable::ScanOptions first;
    first.snapshot_id = 1;
    uint64_t rows_at_1 = 0;
    ASSERT_TRUE(b->scan(first, [&](Batch batch) {
                     rows_at_1 += batch.num_rows();
                     return Status();
                 }).ok());
    EXPECT_EQ(rows_at_1, 20u);
    ASSERT_TRUE(append(*b, 100, 1, 3, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    EXPECT_EQ(ids(*b).size(), before.size() + 3);

    // Refusals: a taken name, a missing table, a bad name.
    ASSERT_TRUE(LakeTable::create(dir_, "c", *schema_).ok());
    auto taken = LakeTable::rename(dir_, "b", "c");
    ASSERT_FALSE(taken.ok());
    EXPECT_EQ(taken.error().code(), ErrorCode::kAlreadyExists);
    EXPECT_EQ(ids(*LakeTable::open(dir_, "b")).size(), before.size() + 3);
    EXPECT_EQ(LakeTable::rename(dir_, "nope", "d").error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(LakeTable::rename(dir_, "b", "../x").error().code(), ErrorCode::kInvalidArgument);

    // A folder moved by hand still reads; renaming it to itself relocates its metadata.
    std::filesystem::rename(dir_ + "/lake/b", dir_ + "/lake/moved");
    auto moved = LakeTable::open(dir_, "moved");
    ASSERT_TRUE(moved.ok()) << moved.error().to_string();
    EXPECT_EQ(ids(*moved).size(), before.size() + 3);
    ASSERT_TRUE(LakeTable::rename(dir_, "moved", "moved").ok());
    auto relocated = TableMetadata::parse(moved->current_metadata_file()->json, "v");
    ASSERT_TRUE(relocated.ok());
    EXPECT_EQ(relocated->location, std::filesystem::absolute(dir_ + "/lake/moved").string());
    EXPECT_EQ(ids(*moved).size(), before.size() + 3);
}

TEST_F(LakeTableIcebergTest, PreparedTableIsCreatedByItsFirstCommit) {
    auto prepared = LakeTable::prepare(dir_, "t", *schema_, {"date(ts)"});
    ASSERT_TRUE(prepared.ok());
    EXPECT_EQ(*prepared->current_snapshot_id(), 0u);
    EXPECT_FALSE(LakeTable::open(dir_, "t").ok());
    auto other_schema = Schema({{"id", DataType::kString, false}});
    auto other = LakeTable::prepare(dir_, "t", other_schema);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(append(*prepared, 0, 1, 10, [&](int64_t f, int64_t n) { return rows(f, n); }).ok());
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/lake/t/metadata/v1.metadata.json"));
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/lake/t/metadata/v2.metadata.json"));
    auto opened = LakeTable::open(dir_, "t");
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(ids(*opened).size(), 10u);
    LakeTable::Change change;
    change.operation = "append";
    auto refused = other->commit(change);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kTypeMismatch);
    EXPECT_EQ(LakeTable::prepare(dir_, "t", *schema_).error().code(), ErrorCode::kAlreadyExists);
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

// The raw lower and upper bound bytes of column `id` per data file (by file name) in the
// current snapshot's manifests.
std::map<std::string, std::pair<std::string, std::string>> raw_bounds(const LakeTable& table,
                                                                      int64_t id) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    auto file = table.current_metadata_file();
    EXPECT_TRUE(file.ok());
    auto metadata = TableMetadata::parse(file->json, file->path);
    EXPECT_TRUE(metadata.ok());
    const IcebergSnapshot* s = metadata->find(*metadata->current_snapshot_id);
    auto list_bytes = read_file(s->manifest_list);
    if (!list_bytes.ok()) return out;
    auto list = IcebergManifestCodec::decode_manifest_list(std::move(list_bytes).value(), "list");
    if (!list.ok()) return out;
    for (const IcebergManifestFile& manifest : list.value()) {
        auto bytes = read_file(manifest.path);
        if (!bytes.ok()) continue;
        auto reader = AvroReader::open(std::move(bytes).value(), manifest.path);
        if (!reader.ok()) continue;
        auto entries = reader->read_all();
        if (!entries.ok()) continue;
        const std::vector<AvroValue> all = std::move(entries).value();
        for (const AvroValue& entry : all) {
            const AvroValue& data_file = entry.items[4];
            const std::string path = data_file.items[1].bytes;
            auto bound = [&](const AvroValue& map) {
                for (const AvroValue& pair : map.items) {
                    if (pair.items[0].integer == id) return pair.items[1].bytes;
                }
                return std::string("none");
            };
            out[path.substr(path.rfind('/') + 1)] = {bound(data_file.items[8]),
                                                     bound(data_file.items[9])};
        }
    }
    return out;
}

float as_float(const std::string& bytes) {
    float v = 0;
    EXPECT_EQ(bytes.size(), 4u);
    std::memcpy(&v, bytes.data(), 4);
    return v;
}

TEST(IcebergBounds, FloatBoundsRoundOutwards) {
    // 0.1 is no float: the lower bound rounds down, the upper one up; floats stay exact.
    EXPECT_LE(as_float(iceberg_float_bound(Value::float64(0.1), false)), 0.1);
    EXPECT_GE(as_float(iceberg_float_bound(Value::float64(0.1), true)), 0.1);
    EXPECT_EQ(as_float(iceberg_float_bound(Value::float64(0.5), false)), 0.5f);
    EXPECT_EQ(as_float(iceberg_float_bound(Value::float64(0.5), true)), 0.5f);
    EXPECT_EQ(as_float(iceberg_float_bound(Value::float64(-1e300), false)),
              -std::numeric_limits<float>::infinity());
    // A double column reads 4-byte bounds (files written before it was widened from float).
    EXPECT_EQ(value_from_iceberg_bound(DataType::kFloat64,
                                       iceberg_float_bound(Value::float64(2.5), false)),
              Value::float64(2.5));
    EXPECT_TRUE(value_from_iceberg_bound(DataType::kFloat64, "abc").is_null());
}

// Another engine's metadata with float columns parses (float_ids by field id) and writes back
// the same types; one partitioned by a float column is refused as unsupported, not corrupt.
TEST(IcebergMetadata, ReadsFloatColumnsAndRefusesFloatPartitions) {
    TableMetadata m;
    m.table_uuid = "11111111-2222-4333-8444-555555555555";
    m.location = "/lake/f";
    m.schema = Schema({{"a", DataType::kFloat64, true}, {"b", DataType::kFloat64, false}});
    m.field_ids = {7, 9};
    m.float_ids = {9};
    auto parsed = TableMetadata::parse(m.to_json(), "v1");
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_EQ(parsed->float_ids, std::vector<int32_t>{9});
    EXPECT_EQ(parsed->schema.field(1).type, DataType::kFloat64);
    EXPECT_EQ(parsed->to_json(), m.to_json());
    std::string json = m.to_json();
    const std::string no_spec = R"("partition-specs": [{"spec-id": 0, "fields": []}])";
    ASSERT_NE(json.find(no_spec), std::string::npos);
    json.replace(json.find(no_spec), no_spec.size(),
                 R"("partition-specs": [{"spec-id": 0, "fields": [{"source-id": 9, )"
                 R"("field-id": 1000, "name": "b", "transform": "identity"}]}])");
    auto refused = TableMetadata::parse(json, "v1");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kUnsupported);
    EXPECT_NE(refused.error().message().find("cannot partition by"), std::string::npos)
        << refused.error().message();
}

class LakeFloatTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-lake-float-test-" + std::to_string(::getpid())))
                   .string();
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // Rows id, x = id + 0.1 (id 3: NaN, id 4: null).
    static Batch rows(const std::shared_ptr<const Schema>& schema, int64_t first, int64_t n) {
        BatchBuilder builder(schema);
        for (int64_t i = first; i < first + n; ++i) {
            builder.column(0).append_int64(i);
            if (i == 4) {
                builder.column(1).append_null();
            } else {
                builder.column(1).append_double(i == 3 ? std::nan("") : i + 0.1);
            }
            builder.commit_row();
        }
        return builder.finish();
    }

    // id -> x as read (NaN as -1, null as -2).
    static std::map<int64_t, double> read(const LakeTable& table,
                                          std::vector<ColumnPredicate> predicates = {},
                                          std::size_t* skipped = nullptr) {
        std::map<int64_t, double> out;
        LakeTable::ScanOptions options;
        options.predicates = std::move(predicates);
        auto stats = table.scan(options, [&](Batch b) {
            EXPECT_EQ(b.schema().field(1).type, DataType::kFloat64);
            for (std::size_t r = 0; r < b.num_rows(); ++r) {
                const double x = b.column(1).is_null(r) ? -2 : b.column(1).value<double>(r);
                out[b.column(0).value<int64_t>(r)] = std::isnan(x) ? -1 : x;
            }
            return Status();
        });
        EXPECT_TRUE(stats.ok()) << stats.error().to_string();
        if (skipped && stats.ok()) *skipped = stats->files_skipped;
        return out;
    }

    std::string dir_;
};

// A table with an Iceberg `float` column (as the REST catalog creates for other engines):
// Millrace writes FLOAT data files with 4-byte bounds (values rounded to float, NaN out of the
// bounds), reads them as doubles, prunes by them, widens the column to double (older FLOAT
// files and newer DOUBLE ones read together, their bounds prune alike), and a writer opened
// before the widening still commits.
TEST_F(LakeFloatTest, FloatColumnsWriteFloatReadAsDoubleAndWidenToDouble) {
    auto schema = std::make_shared<const Schema>(
        std::vector<Field>{{"id", DataType::kInt64, false}, {"x", DataType::kFloat64, true}});
    EXPECT_FALSE(LakeTable::create(dir_, "bad", *schema, {}, nullptr, {"id"}).ok());
    auto created = LakeTable::create(dir_, "fl", *schema, {}, nullptr, {"x"});
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    EXPECT_EQ(created->float_ids(), std::vector<int32_t>{2});
    EXPECT_EQ(created->float_columns(), std::vector<std::size_t>{1});
    auto metadata = created->current_metadata_file();
    EXPECT_NE(metadata->json.find(R"("name": "x", "required": false, "type": "float")"),
              std::string::npos);
    ASSERT_TRUE(
        append(*created, 0, 1, 10, [&](int64_t f, int64_t n) { return rows(schema, f, n); }).ok());

    // The data file: FLOAT values (read back as the doubles of the floats), the Iceberg schema
    // with `float` in its footer.
    auto m = created->snapshot();
    ASSERT_EQ(m->files.size(), 1u);
    const std::string old_file = m->files[0].path;
    auto reader = ParquetReader::open(dir_ + "/lake/fl/" + old_file);
    ASSERT_TRUE(reader.ok());
    EXPECT_NE(reader.value()->metadata("iceberg.schema")->find(R"("type": "float")"),
              std::string::npos);
    auto before = read(*created);
    ASSERT_EQ(before.size(), 10u);
    EXPECT_EQ(before[1], static_cast<double>(1.1f));
    EXPECT_NE(before[1], 1.1);
    EXPECT_EQ(before[3], -1);  // NaN
    EXPECT_EQ(before[4], -2);  // null
    // Bounds: 4-byte floats, NaN left out.
    auto bounds = raw_bounds(*created, 2);
    ASSERT_EQ(bounds.count(old_file), 1u);
    EXPECT_EQ(as_float(bounds[old_file].first), 0.1f);
    EXPECT_EQ(as_float(bounds[old_file].second), 9.1f);
    // Pruning by them: below the lower bound skips the file, the rounded value keeps it.
    std::size_t skipped = 0;
    EXPECT_TRUE(read(*created, {{"x", CompareOp::kLt, Value::float64(0.05)}}, &skipped).empty());
    EXPECT_EQ(skipped, 1u);
    EXPECT_EQ(read(*created, {{"x", CompareOp::kGe, Value::float64(9.1f)}}, &skipped).size(), 10u);
    EXPECT_EQ(skipped, 0u);
    // A float column cannot key an upsert.
    LakeWriterOptions upsert;
    upsert.writer_id = "u";
    upsert.staging = LakeStaging::kPrivate;
    upsert.upsert_key = {"x"};
    auto refused = LakeWriter::open(*created, upsert);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("float column"), std::string::npos);

    // Widen float to double.
    using Kind = LakeTable::SchemaChange::Kind;
    auto bad = created->alter({{Kind::kWiden, "id", DataType::kFloat64, ""}});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message().find("float to double"), std::string::npos);
    auto widened = created->alter({{Kind::kWiden, "x", DataType::kFloat64, ""}});
    ASSERT_TRUE(widened.ok()) << widened.error().to_string();
    auto table = LakeTable::open(dir_, "fl");
    ASSERT_TRUE(table.ok());
    EXPECT_TRUE(table->float_ids().empty());
    metadata = table->current_metadata_file();
    EXPECT_NE(metadata->json.find(R"("name": "x", "required": false, "type": "double")"),
              std::string::npos);
    EXPECT_NE(metadata->json.find(R"("type": "float")"), std::string::npos);  // schema 0 kept
    // A writer opened before the widening commits FLOAT files; a new one DOUBLE files.
    ASSERT_TRUE(
        append(*created, 10, 1, 5, [&](int64_t f, int64_t n) { return rows(schema, f, n); }).ok());
    ASSERT_TRUE(
        append(*table, 20, 1, 5, [&](int64_t f, int64_t n) { return rows(schema, f, n); }).ok());
    auto after = read(*table);
    ASSERT_EQ(after.size(), 20u);
    EXPECT_EQ(after[1], static_cast<double>(1.1f));
    EXPECT_EQ(after[11], static_cast<double>(11.1f));
    EXPECT_EQ(after[21], 21.1);
    EXPECT_EQ(after[3], -1);
    bounds = raw_bounds(*table, 2);
    ASSERT_EQ(bounds.size(), 3u);
    std::size_t four = 0, eight = 0;
    for (const auto& [file, bound] : bounds) {
        (bound.first.size() == 4 ? four : eight) += 1;
        EXPECT_EQ(bound.first.size(), bound.second.size()) << file;
    }
    // The older files' manifest entries are carried over as written (4 bytes); the new file has
    // 8-byte bounds. Every kind prunes.
    EXPECT_GE(four, 1u);
    EXPECT_GE(eight, 1u);
    // (Scans skip files and row groups only; the rows of a kept file all come out.)
    auto high = read(*table, {{"x", CompareOp::kGt, Value::float64(20)}}, &skipped);
    EXPECT_EQ(high.size(), 5u);
    EXPECT_EQ(skipped, 2u);
    auto low = read(*table, {{"x", CompareOp::kLt, Value::float64(1)}}, &skipped);
    EXPECT_EQ(low.size(), 10u);  // the first file's rows: scans skip, callers filter
    EXPECT_EQ(skipped, 2u);
    // Compaction rewrites every file as DOUBLE, values as they read.
    LakeTable::CompactOptions compact;
    ASSERT_TRUE(table->compact(compact).ok());
    EXPECT_EQ(read(*table), after);
    m = table->snapshot();
    ASSERT_EQ(m->files.size(), 1u);
    bounds = raw_bounds(*table, 2);
    EXPECT_EQ(bounds.begin()->second.first.size(), 8u);
}

}  // namespace
}  // namespace millrace
