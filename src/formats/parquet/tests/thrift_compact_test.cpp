#include "formats/parquet/thrift_compact.h"

#include <gtest/gtest.h>

#include "formats/parquet/file_metadata.h"

namespace millrace::parquet {
namespace {

TEST(CompactProtocol, FileMetadataRoundTrips) {
    FileMetaData m;
    m.num_rows = 1234567890123;
    SchemaElement root;
    root.name = "schema";
    root.num_children = 1;
    SchemaElement ts;
    ts.name = "ts";
    ts.type = PhysicalType::kInt64;
    ts.repetition = Repetition::kOptional;
    ts.logical.kind = LogicalType::Kind::kTimestamp;
    ts.logical.adjusted_to_utc = true;
    ts.logical.unit = TimeUnit::kMicros;
    m.schema = {root, ts};
    RowGroup group;
    group.num_rows = m.num_rows;
    ColumnChunk chunk;
    chunk.has_meta = true;
    chunk.meta.type = PhysicalType::kInt64;
    chunk.meta.path = {"ts"};
    chunk.meta.encodings = {0, 3};
    chunk.meta.data_page_offset = 4;
    chunk.meta.statistics = Statistics{};
    chunk.meta.statistics->min_value = std::string(8, '\x01');
    chunk.meta.statistics->null_count = 3;
    group.columns = {chunk};
    m.row_groups = {group};
    m.key_value = {{"k", "v"}};
    m.created_by = "test";
    std::string bytes;
    serialize_file_metadata(m, bytes);
    auto parsed = parse_file_metadata(bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_EQ(parsed->num_rows, m.num_rows);
    ASSERT_EQ(parsed->schema.size(), 2u);
    EXPECT_EQ(parsed->schema[1].logical.kind, LogicalType::Kind::kTimestamp);
    EXPECT_EQ(parsed->schema[1].logical.unit, TimeUnit::kMicros);
    EXPECT_TRUE(parsed->schema[1].logical.adjusted_to_utc);
    EXPECT_EQ(parsed->row_groups[0].columns[0].meta.statistics->min_value, std::string(8, '\x01'));
    EXPECT_EQ(parsed->row_groups[0].columns[0].meta.encodings, (std::vector<int32_t>{0, 3}));
    EXPECT_EQ(parsed->key_value[0].value, "v");

    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        EXPECT_FALSE(parse_file_metadata(std::string_view(bytes).substr(0, cut)).ok()) << cut;
    }
}

TEST(CompactProtocol, HostileListSizesAndNestingFail) {
    // Field 2 (list of 2^31 structs) in a few bytes: must fail, not allocate.
    const std::string huge_list = "\x19\xfc\xff\xff\xff\xff\x07";
    EXPECT_FALSE(parse_file_metadata(huge_list).ok());
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += "\x1c";  // struct field inside struct field ...
    CompactReader reader(deep);
    reader.begin_struct();
    CompactType type;
    int16_t id;
    ASSERT_TRUE(reader.next_field(type, id));
    reader.skip(type);
    EXPECT_TRUE(reader.failed());
}

}  // namespace
}  // namespace millrace::parquet
